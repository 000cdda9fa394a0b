/**
 * Scenario files: YAML parsed with line numbers, checked key by key. Every problem is reported as a
 * `ScenarioError` naming the file, the key path and its line (the CLI exits 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseWireSpec } from '../board/wires.ts';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { PicowSimError } from '../errors.ts';
import type { LinkFaults } from '../net/policy.ts';
import { parseApSpec, parseForwardSpec, parseHostSpec, parseMapSpec } from '../session/specs.ts';
import { parseIp } from '../net/wire/ipv4.ts';
import { DEFAULT_ONEWIRE_PIN } from '../sensors/onewire-bus.ts';
import { parseRom, type Resolution } from '../sensors/ds18b20.ts';
import { buildTimeline, TIMELINE_KINDS, type TimePoint, type TimelineSpec } from '../sensors/timeline.ts';
import {
  DEFAULT_AP,
  DEFAULT_LAG_SECONDS,
  DEFAULT_SERVER_PORT,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_TOLERANCE,
  MAX_DURATION_SECONDS,
  parseDuration,
  ScenarioError,
  TOP_LEVEL_KEYS,
  AP_SECURITY_WORDS,
  type ApSpec,
  type Ds18b20Spec,
  type Expectation,
  type Fault,
  type FaultAction,
  type Scenario,
  type SensorTimeline,
  type SensorsSpec,
  type ServerSpec,
  type Where,
  type Window,
} from './schema.ts';

/** Bound on plain numbers in a scenario: larger ones are typos or attacks, and overflow sums. */
const MAX_PLAIN_NUMBER = 1e9;
/** Link faults: the same ranges as --latency and --bandwidth. */
const MAX_LINK_DELAY_SECONDS = 60;
const MAX_BANDWIDTH_KBPS = 10_000_000;

/** Alias expansions a scenario may use (the yaml package's own default for toJS). */
const MAX_ALIAS_COUNT = 100;

/** A value in the file: its node, dotted key path and line. */
interface Val {
  node: YamlNode | null;
  key: string;
  line: number;
}

interface Entry {
  name: string;
  val: Val;
}

class Checker {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  lineOf(node: YamlNode | null | undefined, fallback: number): number {
    const r = node?.range;
    return r ? this.lines.linePos(r[0]).line : fallback;
  }

  fail(v: Val, reason: string): never {
    throw new ScenarioError(this.file, v.key, v.line, reason);
  }

  where(v: Val): Where {
    return { key: v.key, line: v.line };
  }

  private deref(node: YamlNode | null): YamlNode | null {
    if (node && isAlias(node)) return (node.resolve(this.doc) as YamlNode | undefined) ?? null;
    return node;
  }

  isMap(v: Val): boolean {
    return !!v.node && isMap(v.node);
  }
  isSeq(v: Val): boolean {
    return !!v.node && isSeq(v.node);
  }
  isNull(v: Val): boolean {
    return v.node === null || (isScalar(v.node) && v.node.value === null);
  }

  /** The entries of a mapping, rejecting keys not in `allowed`. */
  map(v: Val, allowed?: readonly string[]): Entry[] {
    const node = v.node;
    if (!node || !isMap(node)) this.fail(v, `expected a mapping (key: value lines), got ${this.kind(v)}`);
    const out: Entry[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const keyLine = this.lineOf(keyNode, v.line);
      const name = keyNode && isScalar(keyNode) ? String(keyNode.value) : null;
      const path = (n: string) => (v.key ? `${v.key}.${n}` : n);
      if (name === null) throw new ScenarioError(this.file, v.key, keyLine, 'keys must be plain text');
      if (allowed && !allowed.includes(name)) {
        throw new ScenarioError(this.file, path(name), keyLine, `unknown key (expected one of: ${allowed.join(', ')})`);
      }
      const valNode = this.deref((pair.value as YamlNode | null) ?? null);
      out.push({ name, val: { node: valNode, key: path(name), line: this.lineOf(valNode, keyLine) } });
    }
    return out;
  }

  /** Mapping entries as a record (for optional lookups). */
  fields(v: Val, allowed: readonly string[]): Record<string, Val> {
    const r: Record<string, Val> = {};
    for (const e of this.map(v, allowed)) r[e.name] = e.val;
    return r;
  }

  list(v: Val): Val[] {
    const node = v.node;
    if (!node || !isSeq(node)) this.fail(v, `expected a list (lines starting with "- "), got ${this.kind(v)}`);
    return node.items.map((item, i) => {
      const n = this.deref((item as YamlNode | null) ?? null);
      return { node: n, key: `${v.key}[${i}]`, line: this.lineOf(n, v.line) };
    });
  }

  /** A list, or a single item taken as a list of one. */
  listOrOne(v: Val): Val[] {
    return this.isSeq(v) ? this.list(v) : [v];
  }

  private kind(v: Val): string {
    const n = v.node;
    if (!n) return 'nothing';
    if (isMap(n)) return 'a mapping';
    if (isSeq(n)) return 'a list';
    if (isScalar(n)) return n.value === null ? 'nothing' : `${typeof n.value} ${JSON.stringify(n.value)}`;
    return 'something else';
  }

  scalar(v: Val): unknown {
    const n = v.node;
    if (!n || !isScalar(n)) this.fail(v, `expected a single value, got ${this.kind(v)}`);
    return n.value;
  }

  str(v: Val): string {
    const x = this.scalar(v);
    if (typeof x === 'string') return x;
    if (typeof x === 'number') return String(x);
    this.fail(v, `expected text, got ${this.kind(v)}`);
  }

  nonEmpty(v: Val): string {
    const s = this.str(v);
    if (s.trim() === '') this.fail(v, 'must not be empty');
    return s;
  }

  /** A finite number in [min, max]; without bounds, within ±1e9 (nothing in a scenario is larger). */
  num(v: Val, min = -MAX_PLAIN_NUMBER, max = MAX_PLAIN_NUMBER): number {
    const x = this.scalar(v);
    if (typeof x === 'number' && !Number.isFinite(x)) this.fail(v, `expected a finite number, got ${x}`);
    if (typeof x !== 'number') this.fail(v, `expected a number, got ${this.kind(v)}`);
    if (x < min || x > max) this.fail(v, `must be from ${min} to ${max} (got ${x})`);
    return x;
  }

  int(v: Val, min: number, max: number): number {
    const x = this.num(v, min, max);
    if (!Number.isInteger(x)) this.fail(v, `must be a whole number (got ${x})`);
    return x;
  }

  bool(v: Val): boolean {
    const x = this.scalar(v);
    if (typeof x !== 'boolean') this.fail(v, `expected true or false, got ${this.kind(v)}`);
    return x;
  }

  duration(v: Val): number {
    const x = this.scalar(v);
    const s = parseDuration(x);
    if (s === null) this.fail(v, `expected a duration such as 30, 500ms, 2s, 1.5min, 1h or 1m30s (got ${JSON.stringify(x)})`);
    if (s > MAX_DURATION_SECONDS) this.fail(v, `must be at most 30 days of simulated time (got ${s} s)`);
    return s;
  }

  /** A duration no longer than `maxSeconds`. */
  durationUpTo(v: Val, maxSeconds: number, what: string): number {
    const s = this.duration(v);
    if (s > maxSeconds) this.fail(v, `must be at most ${what} (got ${s} s)`);
    return s;
  }

  oneOf<T extends string>(v: Val, options: readonly T[]): T {
    const s = this.str(v);
    if (!(options as readonly string[]).includes(s)) this.fail(v, `must be one of ${options.join(', ')} (got "${s}")`);
    return s as T;
  }

  /** Run a parser from elsewhere (net policy, ROM codes...) and re-throw its error at this key. */
  wrap<T>(v: Val, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof ScenarioError) throw e;
      if (e instanceof PicowSimError || e instanceof RangeError) this.fail(v, e.message);
      throw e;
    }
  }
}

export interface ParseOptions {
  /** Folder relative paths are resolved against (default: the scenario file's folder). */
  baseDir?: string;
  /** File reader for CSV timelines (tests). */
  readFile?: (path: string) => string;
  /** Whether a local file or folder exists (tests); default: the file system. */
  exists?: (path: string) => boolean;
}

/** Read and parse a scenario file. */
export function loadScenario(file: string, opts: ParseOptions = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, '', 0, `cannot read the scenario file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseScenario(text, file, { baseDir: opts.baseDir ?? dirname(resolve(file)), ...opts });
}

/** Parse scenario text; `file` names it in errors. */
export function parseScenario(text: string, file = 'scenario.yaml', opts: ParseOptions = {}): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line;
    throw new ScenarioError(file, '', line, `not valid YAML: ${err.message.split('\n')[0]}`);
  }
  // Aliases may repeat a node, and nested aliases multiply ("billion laughs"): let the yaml
  // package count them with its resource-exhaustion guard before anything walks the tree.
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw new ScenarioError(file, '', 1, `not valid YAML: ${(e as Error).message}`);
    throw new ScenarioError(file, '', 1, `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}; nested aliases multiply)`);
  }
  const c = new Checker(file, doc, lines);
  const root: Val = { node: (doc.contents as YamlNode | null) ?? null, key: '', line: 1 };
  if (c.isNull(root)) throw new ScenarioError(file, '', 1, 'the scenario is empty');
  const baseDir = opts.baseDir ?? process.cwd();
  const exists = opts.exists ?? existsSync;
  const path = (v: Val): string => {
    const p = c.nonEmpty(v);
    const full = isAbsolute(p) ? p : resolve(baseDir, p);
    if (!exists(full)) c.fail(v, `${p}: no such file or folder`);
    return full;
  };
  const top = c.fields(root, TOP_LEVEL_KEYS);

  const sensors = parseSensors(c, top['sensors'], { baseDir, readFile: opts.readFile });
  const servers = parseServers(c, top['servers']);
  const aps = top['aps'] ? c.list(top['aps']).map((v) => parseAp(c, v)) : [];
  const scenario: Scenario = {
    file,
    baseDir,
    name: top['name'] ? c.nonEmpty(top['name']) : file,
    firmware: top['firmware'] ? path(top['firmware']) : undefined,
    script: top['script'] ? path(top['script']) : undefined,
    files: top['files']
      ? c.map(top['files']).map((e) => {
          const board = e.name.replace(/^\/+/, '');
          if (board === '' || board.split('/').some((part) => part === '..' || part === '')) {
            throw new ScenarioError(file, e.val.key, e.val.line, 'a board path must be relative, like lib/helper.py');
          }
          return { board, local: path(e.val) };
        })
      : [],
    lib: top['lib'] ? c.listOrOne(top['lib']).map(path) : [],
    timeout: top['timeout'] ? c.duration(top['timeout']) : DEFAULT_TIMEOUT_SECONDS,
    aps,
    maps: top['maps'] ? c.listOrOne(top['maps']).map((v) => c.wrap(v, () => parseMapSpec(c.str(v), ''))) : [],
    hosts: top['hosts'] ? c.listOrOne(top['hosts']).map((v) => c.wrap(v, () => parseHostSpec(c.str(v), ''))) : [],
    forwards: top['forwards'] ? c.listOrOne(top['forwards']).map((v) => c.wrap(v, () => parseForwardSpec(c.str(v), ''))) : [],
    allowInternet: top['allow-internet'] ? c.bool(top['allow-internet']) : false,
    restrict: top['restrict'] ? c.bool(top['restrict']) : false,
    servers,
    sensors,
    wires: top['wires'] ? c.listOrOne(top['wires']).map((v) => c.wrap(v, () => parseWireSpec(c.str(v), ''))) : [],
    faults: top['faults'] ? c.list(top['faults']).map((v) => parseFault(c, v, aps, servers)) : [],
    expect: [],
  };
  if (scenario.timeout <= 0) c.fail(top['timeout']!, 'must be more than 0');
  if (scenario.restrict && scenario.allowInternet) c.fail(top['restrict']!, 'cannot be used together with allow-internet');
  scenario.expect = top['expect'] ? c.list(top['expect']).map((v, i) => parseExpectation(c, v, i, scenario)) : [];
  scenario.faults.sort((a, b) => a.at - b.at);
  return scenario;
}

// ---------------------------------------------------------------------------------------------

function parseAp(c: Checker, v: Val): ApSpec {
  if (!c.isMap(v)) {
    // Shorthand: "SSID" or "SSID:PASSWORD", like --ap (the same grammar).
    const ap = c.wrap(v, () => parseApSpec(c.nonEmpty(v), ''));
    return checkAp(c, v, { ssid: ap.ssid, password: ap.password ?? '', security: ap.security ?? 'open', channel: DEFAULT_AP.channel, rssi: DEFAULT_AP.rssi, up: true });
  }
  const f = c.fields(v, ['ssid', 'password', 'security', 'channel', 'rssi', 'up']);
  if (!f['ssid']) c.fail(v, 'an access point needs an ssid');
  const password = f['password'] ? c.str(f['password']) : '';
  const ap: ApSpec = {
    ssid: c.nonEmpty(f['ssid']),
    password,
    security: f['security'] ? AP_SECURITY_WORDS[c.oneOf(f['security'], Object.keys(AP_SECURITY_WORDS))]! : password ? DEFAULT_AP.security : 'open',
    channel: f['channel'] ? c.int(f['channel'], 1, 13) : DEFAULT_AP.channel,
    rssi: f['rssi'] ? c.int(f['rssi'], -100, 0) : DEFAULT_AP.rssi,
    up: f['up'] ? c.bool(f['up']) : true,
  };
  return checkAp(c, f['password'] ?? v, ap);
}

function checkAp(c: Checker, v: Val, ap: ApSpec): ApSpec {
  if (Buffer.byteLength(ap.ssid) > 32) c.fail(v, `SSID "${ap.ssid}" is longer than 32 bytes`);
  if (ap.security === 'open' && ap.password) c.fail(v, 'an open access point has no password');
  if (ap.security !== 'open' && (ap.password.length < 8 || ap.password.length > 63)) {
    c.fail(v, `a ${ap.security === 'wpa3-sae' ? 'WPA3' : 'WPA2'} password has 8 to 63 characters`);
  }
  return ap;
}

function parseServers(c: Checker, v: Val | undefined): ServerSpec[] {
  if (!v) return [{ name: 'server', port: DEFAULT_SERVER_PORT, collector: true, methods: [], where: { key: 'servers', line: 0 } }];
  if (c.isNull(v)) return [];
  const out: ServerSpec[] = [];
  for (const item of c.list(v)) {
    const f = c.fields(item, ['name', 'port', 'collector', 'methods', 'address']);
    const name = f['name'] ? c.nonEmpty(f['name']) : out.length === 0 ? 'server' : `server-${out.length + 1}`;
    if (out.some((s) => s.name === name)) c.fail(f['name'] ?? item, `a server named "${name}" is already defined`);
    let address: ServerSpec['address'];
    if (f['address']) {
      const a = f['address'];
      const m = /^([0-9.]+):(\d{1,5})$/.exec(c.str(a));
      const ip = m ? parseIp(m[1]!) : null;
      const port = m ? Number(m[2]) : 0;
      if (!m || ip === null || port < 1 || port > 65535) c.fail(a, 'expected ADDR:PORT, e.g. 192.168.253.45:8080');
      address = { addr: ip, port };
    }
    out.push({
      name,
      port: f['port'] ? c.int(f['port'], 0, 65535) : DEFAULT_SERVER_PORT,
      collector: f['collector'] ? c.bool(f['collector']) : true,
      methods: f['methods'] ? c.listOrOne(f['methods']).map((m) => {
        const s = c.nonEmpty(m);
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s)) c.fail(m, `"${s}" is not an HTTP method token`);
        return s.toUpperCase();
      }) : [],
      address,
      where: c.where(item),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sensors and timelines

interface TimelineCtx {
  baseDir: string;
  readFile?: (path: string) => string;
}

function parsePoints(c: Checker, v: Val): TimePoint[] {
  return c.list(v).map((p) => {
    if (c.isSeq(p)) {
      const pair = c.list(p);
      if (pair.length !== 2) c.fail(p, 'a point is [time, value]');
      return { t: c.duration(pair[0]!), value: c.num(pair[1]!) };
    }
    const f = c.fields(p, ['t', 'at', 'value']);
    const t = f['t'] ?? f['at'];
    if (!t || !f['value']) c.fail(p, 'a point is [time, value] or {at: time, value: number}');
    return { t: c.duration(t), value: c.num(f['value']) };
  });
}

function timelineSpec(c: Checker, v: Val): TimelineSpec {
  if (!c.isMap(v)) return c.num(v);
  const f = c.fields(v, [...TIMELINE_KINDS, 'offset', 'noise']);
  const spec: Exclude<TimelineSpec, number> = {};
  const kinds = TIMELINE_KINDS.filter((k) => f[k]);
  if (kinds.length !== 1) {
    c.fail(v, kinds.length === 0 ? `a timeline needs one of: ${TIMELINE_KINDS.join(', ')}` : `a timeline takes only one of ${kinds.join(', ')}`);
  }
  if (f['constant']) spec.constant = c.num(f['constant']);
  if (f['steps']) spec.steps = parsePoints(c, f['steps']);
  if (f['points']) spec.points = parsePoints(c, f['points']);
  if (f['ramp']) {
    const r = c.fields(f['ramp'], ['from', 'to', 'start', 'end']);
    if (!r['from'] || !r['to'] || !r['end']) c.fail(f['ramp'], 'a ramp needs from, to and end (start defaults to 0)');
    spec.ramp = { from: c.num(r['from']), to: c.num(r['to']), start: r['start'] ? c.duration(r['start']) : 0, end: c.duration(r['end']) };
  }
  if (f['sine']) {
    const s = c.fields(f['sine'], ['mean', 'amplitude', 'period', 'phase']);
    if (!s['mean'] || !s['amplitude'] || !s['period']) c.fail(f['sine'], 'a sine needs mean, amplitude and period');
    spec.sine = {
      mean: c.num(s['mean']),
      amplitude: c.num(s['amplitude']),
      period: c.duration(s['period']),
      phase: s['phase'] ? c.duration(s['phase']) : 0,
    };
  }
  if (f['csv']) spec.csv = c.nonEmpty(f['csv']);
  if (f['sum']) spec.sum = c.list(f['sum']).map((p) => timelineSpec(c, p));
  if (f['offset']) spec.offset = c.num(f['offset']);
  if (f['noise']) {
    const n = c.fields(f['noise'], ['sigma', 'seed', 'kind', 'interval']);
    if (!n['sigma']) c.fail(f['noise'], 'noise needs sigma (and optionally seed, kind, interval)');
    spec.noise = {
      sigma: c.num(n['sigma'], 0),
      seed: n['seed'] ? c.int(n['seed'], 0, 0xffffffff) : 1,
      kind: n['kind'] ? c.oneOf(n['kind'], ['gaussian', 'uniform'] as const) : 'gaussian',
      interval: n['interval'] ? c.duration(n['interval']) : undefined,
    };
  }
  return spec;
}

function parseTimeline(c: Checker, v: Val, ctx: TimelineCtx): SensorTimeline {
  const spec = timelineSpec(c, v);
  return { spec, timeline: c.wrap(v, () => buildTimeline(spec, ctx)) };
}

function parseSensors(c: Checker, v: Val | undefined, ctx: TimelineCtx): SensorsSpec {
  const out: SensorsSpec = { adc: [undefined, undefined, undefined, undefined], ds18b20: [] };
  if (!v || c.isNull(v)) return out;
  const f = c.fields(v, ['adc0', 'adc1', 'adc2', 'adc3', 'adc4', 'ds18b20']);
  if (f['adc4']) {
    const t = c.fields(f['adc4'], ['temperature']);
    if (!t['temperature']) c.fail(f['adc4'], 'adc4 needs a temperature timeline (°C)');
    out.adc4 = parseTimeline(c, t['temperature'], ctx);
  }
  for (let i = 0; i < 4; i++) {
    const a = f[`adc${i}`];
    if (!a) continue;
    const t = c.fields(a, ['voltage']);
    if (!t['voltage']) c.fail(a, `adc${i} needs a voltage timeline (volts)`);
    out.adc[i] = parseTimeline(c, t['voltage'], ctx);
  }
  if (f['ds18b20']) {
    const items = c.list(f['ds18b20']);
    items.forEach((item, i) => {
      const d = c.fields(item, ['name', 'pin', 'rom', 'serial', 'resolution', 'parasite', 'temperature']);
      if (!d['temperature']) c.fail(item, 'a DS18B20 needs a temperature timeline (°C)');
      if (d['rom'] && d['serial']) c.fail(d['serial'], 'give either rom or serial, not both');
      const rom = d['rom'] ? c.wrap(d['rom'], () => parseRom(c.str(d['rom']!))) : undefined;
      if (rom && rom[0] !== 0x28) c.fail(d['rom']!, `family code ${rom[0]!.toString(16)} is not a DS18B20 (28)`);
      const spec: Ds18b20Spec = {
        name: d['name'] ? c.nonEmpty(d['name']) : `ds18b20-${i + 1}`,
        pin: d['pin'] ? c.int(d['pin'], 0, 22) : DEFAULT_ONEWIRE_PIN,
        rom,
        serial: d['serial'] ? c.int(d['serial'], 0, 2 ** 48 - 1) : i + 1,
        resolution: (d['resolution'] ? c.int(d['resolution'], 9, 12) : 12) as Resolution,
        parasite: d['parasite'] ? c.bool(d['parasite']) : false,
        temperature: parseTimeline(c, d['temperature'], ctx),
        where: c.where(item),
      };
      if (out.ds18b20.some((o) => o.name === spec.name)) c.fail(d['name'] ?? item, `a sensor named "${spec.name}" is already defined`);
      out.ds18b20.push(spec);
    });
    // Distinct ROM codes on each bus.
    const seen = new Map<string, string>();
    for (const [i, d] of out.ds18b20.entries()) {
      const id = `${d.pin}:${d.rom ? Buffer.from(d.rom).toString('hex') : `serial ${d.serial}`}`;
      if (seen.has(id)) c.fail(items[i]!, `same ROM code as ${seen.get(id)} on GP${d.pin}`);
      seen.set(id, d.name);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Faults

const FAULT_KINDS = ['ap-down', 'ap-up', 'link', 'server-down', 'server-up'] as const;

function parseFault(c: Checker, v: Val, aps: ApSpec[], servers: ServerSpec[]): Fault {
  const f = c.fields(v, ['at', 'name', ...FAULT_KINDS]);
  if (!f['at']) c.fail(v, 'a fault needs at: (a simulated time)');
  const kinds = FAULT_KINDS.filter((k) => f[k]);
  if (kinds.length !== 1) c.fail(v, `a fault needs exactly one of ${FAULT_KINDS.join(', ')}`);
  const kind = kinds[0]!;
  const arg = f[kind]!;
  let action: FaultAction;
  switch (kind) {
    case 'ap-down':
    case 'ap-up': {
      const ssid = c.nonEmpty(arg);
      if (!aps.some((a) => a.ssid === ssid)) c.fail(arg, `no access point "${ssid}" in aps`);
      action = { kind, ssid };
      break;
    }
    case 'server-down':
    case 'server-up': {
      const server = c.nonEmpty(arg);
      if (!servers.some((s) => s.name === server)) c.fail(arg, `no server named "${server}" in servers`);
      action = { kind, server };
      break;
    }
    case 'link': {
      if (!c.isMap(arg)) {
        action = { kind: c.oneOf(arg, ['down', 'up'] as const) === 'down' ? 'link-down' : 'link-up' };
        break;
      }
      const l = c.fields(arg, ['latency', 'jitter', 'loss', 'bandwidth', 'seed']);
      const faults: LinkFaults = {};
      if (l['latency']) faults.latencyMs = c.durationUpTo(l['latency'], MAX_LINK_DELAY_SECONDS, '60 s') * 1000;
      if (l['jitter']) faults.jitterMs = c.durationUpTo(l['jitter'], MAX_LINK_DELAY_SECONDS, '60 s') * 1000;
      if (l['loss']) faults.lossPercent = c.num(l['loss'], 0, 100);
      if (l['bandwidth']) {
        const b = c.num(l['bandwidth'], 0, MAX_BANDWIDTH_KBPS);
        if (b > 0 && b < 1) c.fail(l['bandwidth'], `must be 0 (unlimited) or from 1 to ${MAX_BANDWIDTH_KBPS} kbit/s (got ${b})`);
        faults.bandwidthKbps = b;
      }
      if (l['seed']) faults.seed = c.int(l['seed'], 0, 0xffffffff);
      action = { kind: 'link', faults };
      break;
    }
  }
  return { at: c.duration(f['at']), action, where: c.where(v) };
}

// ---------------------------------------------------------------------------------------------
// Expectations

const EXPECT_KINDS = ['serial', 'serial-matches', 'collector', 'led'] as const;

function parseWindow(c: Checker, f: Record<string, Val>): Window {
  const from = f['after'] ? c.duration(f['after']) : 0;
  const until = f['before'] ? c.duration(f['before']) : undefined;
  if (until !== undefined && until < from) c.fail(f['before']!, `the window ends (${until} s) before it starts (${from} s)`);
  return { from, until };
}

function parseExpectation(c: Checker, v: Val, index: number, s: Scenario): Expectation {
  const f = c.fields(v, ['name', 'after', 'before', 'absent', 'at', ...EXPECT_KINDS]);
  const kinds = EXPECT_KINDS.filter((k) => f[k]);
  if (kinds.length !== 1) c.fail(v, `an expectation needs exactly one of ${EXPECT_KINDS.join(', ')}`);
  const kind = kinds[0]!;
  const arg = f[kind]!;
  const name = f['name'] ? c.nonEmpty(f['name']) : `${kind} #${index + 1}`;
  const where = c.where(v);
  const onlyFor = (key: string, kinds: readonly string[]) => {
    if (f[key] && !kinds.includes(kind)) c.fail(f[key], `does not apply to a ${kind} expectation`);
  };
  onlyFor('absent', ['serial', 'serial-matches']);
  onlyFor('at', ['led']);
  onlyFor('after', ['serial', 'serial-matches', 'collector']);
  onlyFor('before', ['serial', 'serial-matches', 'collector']);
  switch (kind) {
    case 'serial':
    case 'serial-matches': {
      const text = c.nonEmpty(arg);
      let regex: RegExp | undefined;
      if (kind === 'serial-matches') {
        try {
          regex = new RegExp(text, 'm');
        } catch (e) {
          c.fail(arg, `not a regular expression: ${(e as Error).message}`);
        }
      }
      return {
        kind: 'serial',
        name,
        text: regex ? undefined : text,
        regex,
        window: parseWindow(c, f),
        absent: f['absent'] ? c.bool(f['absent']) : false,
        where,
      };
    }
    case 'collector': {
      const o = c.fields(arg, ['server', 'readings', 'against', 'tolerance', 'lag', 'sensor-id']);
      const collectors = s.servers.filter((x) => x.collector);
      let server: string;
      if (o['server']) {
        server = c.nonEmpty(o['server']);
        const found = s.servers.find((x) => x.name === server);
        if (!found) c.fail(o['server'], `no server named "${server}" in servers`);
        if (!found.collector) c.fail(o['server'], `server "${server}" runs without the collector`);
      } else {
        if (collectors.length === 0) c.fail(arg, 'no server with a collector in servers');
        if (collectors.length > 1) c.fail(arg, 'several servers run a collector: say which with server:');
        server = collectors[0]!.name;
      }
      let against: string | undefined;
      if (o['against']) {
        against = c.nonEmpty(o['against']);
        if (!sensorTimeline(s, against)) {
          c.fail(o['against'], `no sensor "${against}" (expected adc4, adc0…adc3 with a timeline, or a DS18B20 name)`);
        }
      }
      return {
        kind: 'collector',
        name,
        server,
        readings: o['readings'] ? c.int(o['readings'], 1, Number.MAX_SAFE_INTEGER) : 1,
        against,
        tolerance: o['tolerance'] ? c.num(o['tolerance'], 0) : DEFAULT_TOLERANCE,
        lag: o['lag'] ? c.duration(o['lag']) : DEFAULT_LAG_SECONDS,
        sensorId: o['sensor-id'] ? c.nonEmpty(o['sensor-id']) : undefined,
        window: parseWindow(c, f),
        where,
      };
    }
    case 'led': {
      const x = c.scalar(arg);
      const on = x === true || x === 'on' || x === 1 ? true : x === false || x === 'off' || x === 0 ? false : null;
      if (on === null) c.fail(arg, `expected on or off (got ${JSON.stringify(x)})`);
      if (!f['at']) c.fail(v, 'an led expectation needs at: (a simulated time)');
      return { kind: 'led', name, on, at: c.duration(f['at']), where };
    }
  }
}

/** The timeline a sensor name refers to: `adc4`, `adc0`…`adc3`, or a DS18B20's name. */
export function sensorTimeline(s: Scenario, name: string): SensorTimeline | undefined {
  if (name === 'adc4' || name === 'temperature') return s.sensors.adc4;
  const m = /^adc([0-3])$/.exec(name);
  if (m) return s.sensors.adc[Number(m[1])];
  return s.sensors.ds18b20.find((d) => d.name === name)?.temperature;
}
