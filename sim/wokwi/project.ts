/**
 * A Wokwi project on disk: `wokwi.toml` (the `[wokwi]` table, `[[net.forward]]`) and
 * `diagram.json` (parts and connections), read as wokwi-cli reads them. An error names the file,
 * its line and the key, and ends the run with exit code 1 (wokwi-cli's code for a bad project).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PicowSimError } from '../errors.ts';
import { parseToml, TomlSyntaxError, type TomlTable, type TomlValue } from './toml.ts';

/** A mistake in a project file: `FILE:LINE: message`; exit 1 as wokwi-cli. */
export class WokwiFileError extends PicowSimError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`, 1);
  }
}

/** `[[net.forward]]`: a host port that reaches the board (picow-sim's `--forward` spec). */
export interface ProjectForward {
  spec: string;
  line: number | null;
}

export interface WokwiConfig {
  file: string;
  /** Absolute paths; null when the toml names none. */
  firmware: string | null;
  elf: string | null;
  rfc2217ServerPort: number | null;
  gdbServerPort: number | null;
  vcdFile: string | null;
  forwards: ProjectForward[];
}

/** Keys of the `[wokwi]` table wokwi-cli and the VS Code extension know. */
const WOKWI_KEYS = ['version', 'firmware', 'elf', 'gdbServerPort', 'rfc2217ServerPort', 'vcdFile'];

function unreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read it (${code ?? (e as Error).message})`;
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function port(file: string, line: number | null, key: string, v: TomlValue | undefined): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new WokwiFileError(file, line, `${key} must be a TCP port number (1-65535), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** `localhost:8180` → 8180; `target:80` → [null, 80]; `10.0.2.15:80` → ['10.0.2.15', 80]. */
function endpoint(text: string): { host: string; port: number } | null {
  const m = /^(?:(tcp|udp):)?([^:]+):(\d{1,5})$/i.exec(text.trim());
  if (!m) return null;
  const p = Number(m[3]);
  if (p < 1 || p > 65535) return null;
  if (m[1]?.toLowerCase() === 'udp') return { host: 'udp:' + m[2]!, port: p };
  return { host: m[2]!.toLowerCase(), port: p };
}

/** Read and check `wokwi.toml`, resolving paths against its folder. */
export function readWokwiToml(path: string): WokwiConfig {
  const file = resolve(path);
  const dir = resolve(file, '..');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WokwiFileError(file, null, unreadable(e));
  }
  let doc;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlSyntaxError) throw new WokwiFileError(file, e.line, e.reason);
    throw e;
  }
  const line = (key: string): number | null => doc.lines.get(key) ?? null;
  const w = doc.root.wokwi;
  if (!isTable(w)) throw new WokwiFileError(file, null, 'missing the [wokwi] section');
  if (w.version === undefined) throw new WokwiFileError(file, line('wokwi'), 'wokwi.version is missing (write version = 1)');
  if (w.version !== 1) throw new WokwiFileError(file, line('wokwi.version'), `unsupported wokwi.version ${JSON.stringify(w.version)} (only 1)`);
  for (const k of Object.keys(w)) {
    if (!WOKWI_KEYS.includes(k)) throw new WokwiFileError(file, line(`wokwi.${k}`), `unknown key wokwi.${k} (known: ${WOKWI_KEYS.join(', ')})`);
  }
  const path1 = (key: string): string | null => {
    const v = w[key];
    if (v === undefined) return null;
    if (typeof v !== 'string' || v === '') throw new WokwiFileError(file, line(`wokwi.${key}`), `wokwi.${key} must be a path (a string)`);
    const p = resolve(dir, v);
    if (!existsSync(p)) throw new WokwiFileError(file, line(`wokwi.${key}`), `wokwi.${key}: ${v} not found (looked for ${p})`);
    return p;
  };
  const firmware = path1('firmware');
  const elf = path1('elf');
  let vcdFile: string | null = null;
  if (w.vcdFile !== undefined) {
    if (typeof w.vcdFile !== 'string' || !w.vcdFile) throw new WokwiFileError(file, line('wokwi.vcdFile'), 'wokwi.vcdFile must be a path (a string)');
    vcdFile = resolve(dir, w.vcdFile);
  }
  const rfc2217ServerPort = port(file, line('wokwi.rfc2217ServerPort'), 'wokwi.rfc2217ServerPort', w.rfc2217ServerPort);
  const gdbServerPort = port(file, line('wokwi.gdbServerPort'), 'wokwi.gdbServerPort', w.gdbServerPort);
  if (doc.root.chip !== undefined) {
    throw new WokwiFileError(file, line('chip[0]') ?? line('chip'), 'custom chips ([[chip]], WASM) are not supported by picow-sim');
  }
  const forwards: ProjectForward[] = [];
  const net = doc.root.net;
  if (net !== undefined) {
    if (!isTable(net)) throw new WokwiFileError(file, line('net'), 'net must be a table');
    for (const k of Object.keys(net)) {
      if (k !== 'forward') throw new WokwiFileError(file, line(`net.${k}`), `unknown key net.${k} (known: forward)`);
    }
    const list = net.forward;
    if (list !== undefined) {
      if (!Array.isArray(list)) throw new WokwiFileError(file, line('net.forward'), 'net.forward must be written [[net.forward]]');
      list.forEach((f, i) => {
        const at = `net.forward[${i}]`;
        const ln = line(at);
        if (!isTable(f)) throw new WokwiFileError(file, ln, `${at} must be a table with from and to`);
        const from = typeof f.from === 'string' ? endpoint(f.from) : null;
        const to = typeof f.to === 'string' ? endpoint(f.to) : null;
        if (!from) throw new WokwiFileError(file, line(`${at}.from`) ?? ln, `${at}.from must be "localhost:PORT", got ${JSON.stringify(f.from)}`);
        if (!to) throw new WokwiFileError(file, line(`${at}.to`) ?? ln, `${at}.to must be "target:PORT" or "ADDRESS:PORT", got ${JSON.stringify(f.to)}`);
        if (from.host.startsWith('udp:') || to.host.startsWith('udp:')) {
          throw new WokwiFileError(file, line(`${at}.from`) ?? ln, `${at}: UDP forwards are not supported (TCP only)`);
        }
        if (!['localhost', '127.0.0.1', '0.0.0.0', ''].includes(from.host)) {
          throw new WokwiFileError(file, line(`${at}.from`) ?? ln, `${at}.from: forwards listen on localhost, not ${from.host}`);
        }
        const spec = to.host === 'target' ? `${from.port}:${to.port}` : `${from.port}:${to.host}:${to.port}`;
        forwards.push({ spec, line: line(`${at}.from`) ?? ln });
      });
    }
  }
  for (const k of Object.keys(doc.root)) {
    if (!['wokwi', 'net', 'chip'].includes(k)) throw new WokwiFileError(file, line(k), `unknown section [${k}] (known: [wokwi], [[net.forward]])`);
  }
  return { file, firmware, elf, rfc2217ServerPort, gdbServerPort, vcdFile, forwards };
}

// ---------------------------------------------------------------------------------------------
// diagram.json

export interface DiagramPart {
  id: string;
  type: string;
  attrs: Record<string, string>;
  line: number | null;
}

export interface PinRef {
  part: string;
  pin: string;
}

export interface DiagramConnection {
  a: PinRef;
  b: PinRef;
  line: number | null;
}

export interface Diagram {
  file: string;
  parts: DiagramPart[];
  connections: DiagramConnection[];
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** The line of the first occurrence of `needle` at or after `from` (null: not found). */
function lineOf(text: string, needle: string, from = 0): { line: number; at: number } | null {
  const i = text.indexOf(needle, from);
  return i < 0 ? null : { line: lineAt(text, i), at: i };
}

function pinRef(s: string): PinRef | null {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) return null;
  return { part: s.slice(0, i), pin: s.slice(i + 1) };
}

/** Read and check `diagram.json`: shape only (which parts and pins exist is the circuit's business). */
export function readDiagram(path: string): Diagram {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WokwiFileError(file, null, unreadable(e));
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const ln = /line (\d+)/.exec(msg);
    throw new WokwiFileError(file, ln ? Number(ln[1]) : pos ? lineAt(text, Number(pos[1])) : null, `not valid JSON (${msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+.*/, '')})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new WokwiFileError(file, 1, 'the diagram must be a JSON object');
  const d = data as Record<string, unknown>;
  if (d.version !== undefined && d.version !== 1) {
    throw new WokwiFileError(file, lineOf(text, '"version"')?.line ?? null, `unsupported diagram version ${JSON.stringify(d.version)} (only 1)`);
  }
  if (!Array.isArray(d.parts)) throw new WokwiFileError(file, lineOf(text, '"parts"')?.line ?? null, 'parts must be an array');
  const parts: DiagramPart[] = [];
  let cursor = 0;
  const seen = new Set<string>();
  d.parts.forEach((p: unknown, i) => {
    const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const at = typeof o.id === 'string' ? lineOf(text, JSON.stringify(o.id), cursor) : null;
    if (at) cursor = at.at;
    const ln = at?.line ?? lineOf(text, '"parts"')?.line ?? null;
    if (typeof o.type !== 'string' || !o.type) throw new WokwiFileError(file, ln, `parts[${i}].type is missing`);
    if (typeof o.id !== 'string' || !o.id) throw new WokwiFileError(file, ln, `parts[${i}].id is missing (a ${o.type})`);
    if (seen.has(o.id)) throw new WokwiFileError(file, ln, `part id '${o.id}' is used twice`);
    seen.add(o.id);
    const attrs: Record<string, string> = {};
    if (o.attrs !== undefined) {
      if (typeof o.attrs !== 'object' || o.attrs === null || Array.isArray(o.attrs)) throw new WokwiFileError(file, ln, `parts[${i}].attrs must be an object`);
      for (const [k, v] of Object.entries(o.attrs)) attrs[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    parts.push({ id: o.id, type: o.type, attrs, line: ln });
  });
  const connections: DiagramConnection[] = [];
  const conns = d.connections ?? [];
  if (!Array.isArray(conns)) throw new WokwiFileError(file, lineOf(text, '"connections"')?.line ?? null, 'connections must be an array');
  cursor = lineOf(text, '"connections"')?.at ?? 0;
  conns.forEach((c: unknown, i) => {
    const first = Array.isArray(c) && typeof c[0] === 'string' ? lineOf(text, JSON.stringify(c[0]), cursor) : null;
    if (first) cursor = first.at;
    const ln = first?.line ?? null;
    if (!Array.isArray(c) || c.length < 2 || typeof c[0] !== 'string' || typeof c[1] !== 'string') {
      throw new WokwiFileError(file, ln, `connections[${i}] must be ["part:pin", "part:pin", color, path]`);
    }
    const a = pinRef(c[0]);
    const b = pinRef(c[1]);
    for (const [s, r] of [[c[0], a], [c[1], b]] as const) {
      if (!r) throw new WokwiFileError(file, ln, `connections[${i}]: '${s}' is not "part:pin"`);
      if (!r.part.startsWith('$') && !seen.has(r.part)) throw new WokwiFileError(file, ln, `connections[${i}]: no part with id '${r.part}' (in '${s}')`);
    }
    connections.push({ a: a!, b: b!, line: ln });
  });
  return { file, parts, connections };
}

/** MicroPython files beside diagram.json, `main.py` last (as Wokwi runs MicroPython projects). */
export function projectPythonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const py = names.filter((n) => n.endsWith('.py') && !n.startsWith('.') && statSync(join(dir, n)).isFile()).sort();
  return [...py.filter((n) => n !== 'main.py'), ...py.filter((n) => n === 'main.py')].map((n) => join(dir, n));
}

