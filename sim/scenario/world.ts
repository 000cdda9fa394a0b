/**
 * The real world of a scenario: the session layer's world (sim/session/world.ts) built from the
 * scenario's keys — its access points, maps/hosts/forwards and sensor timelines — plus the
 * scenario's own servers, its clock (time 0 when main.py starts), what the run records, and the
 * faults the runner applies.
 */
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { HostServer, type StoredReading } from '../../server/index.ts';
import type { BoardEvent } from '../board/device.ts';
import { describeHalt, type ConsoleSource, type PicoWBoard } from '../board/picow.ts';
import type { ApConfig } from '../cyw43/radio.ts';
import { UsageError } from '../errors.ts';
import type { EventStream } from '../events.ts';
import { resolveFirmware } from '../firmware.ts';
import type { Logger } from '../log.ts';
import { GATEWAY_IP } from '../net/addressing.ts';
import type { MapRule } from '../net/policy.ts';
import { folderItems, type UploadItem } from '../repl/board-link.ts';
import type { Timeline } from '../sensors/index.ts';
import { ConsoleDecoder, LinePrefixer } from '../session/console.ts';
import { Lan } from '../session/lan.ts';
import { bootToPrompt, startMain } from '../session/program.ts';
import { asSimError, buildWorld, DEFAULT_BOARD_NAME, type BoardSpec, type World } from '../session/world.ts';
import type { ScenarioWorld, WorldFactory, WorldHooks, WorldTimer } from './runner.ts';
import type { ApSpec, BoardScenario, FaultAction, Scenario, SensorsSpec, ServerSpec } from './schema.ts';

export interface BoardWorldOptions {
  /** `--firmware`; the scenario's own `firmware:` key wins. */
  firmware?: string;
  env?: Record<string, string | undefined>;
  offline?: boolean;
  /** Echo the board's output as it arrives (the CLI passes stdout). */
  onSerial?: (text: string) => void;
  /** Wall-clock limit for boot and upload (default 120 s). */
  setupTimeoutMs?: number;
  /** `--json`: the stream that reports what the board and its network do. */
  events?: EventStream;
  /**
   * Servers on free host ports, each reached by the board at 10.0.2.2 and its scenario port
   * (`picow-sim test` runs many scenarios at once).
   */
  isolatePorts?: boolean;
}

const NANOS = 1e9;

/** The radio's configuration of a scenario AP (without the scenario's `up`). */
function apConfig(a: ApSpec): ApConfig {
  const { up: _up, ...config } = a;
  return config;
}

/** The scenario's boards: its `boards:`, or the one board of the top-level keys. */
export function scenarioBoards(s: Scenario): BoardScenario[] {
  return s.boards ?? [{ name: DEFAULT_BOARD_NAME, firmware: s.firmware, script: s.script, files: s.files, lib: s.lib, sensors: s.sensors, wires: s.wires, where: { key: '', line: 0 } }];
}

/** Local files and folders of a board as upload items (checked before booting). */
export function scenarioUploads(s: Pick<BoardScenario, 'lib' | 'files' | 'script'>): UploadItem[] {
  const items: UploadItem[] = [];
  for (const lib of s.lib) {
    if (statSync(lib).isDirectory()) items.push(...folderItems(lib, '/lib'));
    else items.push({ local: lib, remote: `/lib/${basename(lib)}` });
  }
  for (const f of s.files) items.push({ local: f.local, remote: `/${f.board}` });
  if (s.script) items.push({ local: s.script, remote: '/main.py' });
  return items;
}

interface RunningServer {
  spec: ServerSpec;
  port: number;
  server: HostServer | null;
}

/** The scenario's servers: started before the board (their ports feed the map rules), switched by faults. */
class ScenarioServers {
  private readonly servers = new Map<string, RunningServer>();

  constructor(
    private readonly logger: Logger,
    /** The scenario's `hosts:` names: the board may name a server by them (its Host header). */
    private readonly allowedHosts: string[],
    private readonly onReading: (reading: StoredReading, server: string) => void,
    /** Each server on a free port, mapped from 10.0.2.2 and its scenario port (`isolatePorts`). */
    private readonly isolate = false,
  ) {}

  async startAll(specs: ServerSpec[]): Promise<void> {
    try {
      for (const spec of specs) {
        const r: RunningServer = { spec, port: this.isolate ? 0 : spec.port, server: null };
        this.servers.set(spec.name, r);
        await this.start(r);
        this.logger.info('scenario', `server ${spec.name} on 127.0.0.1:${r.port}${spec.collector ? ' (with the collector)' : ''}`);
      }
    } catch (e) {
      await this.stopAll();
      throw e;
    }
  }

  /** The servers' ports on 127.0.0.1: the board reaches them at 10.0.2.2:port, restricted or not. */
  ports(): number[] {
    return [...this.servers.values()].map((r) => r.port);
  }

  /** Map rules for the servers reached at an address of their own. */
  maps(): MapRule[] {
    const out: MapRule[] = [];
    for (const r of this.servers.values()) {
      if (r.spec.address) out.push({ addr: r.spec.address.addr, port: r.spec.address.port, host: '127.0.0.1', hostPort: r.port });
      if (this.isolate && r.spec.port !== 0) out.push({ addr: GATEWAY_IP, port: r.spec.port, host: '127.0.0.1', hostPort: r.port });
    }
    return out;
  }

  async up(name: string): Promise<void> {
    const r = this.servers.get(name)!;
    if (!r.server) await this.start(r);
  }

  async down(name: string): Promise<void> {
    const r = this.servers.get(name)!;
    const sv = r.server;
    r.server = null;
    await sv?.stop();
  }

  async stopAll(): Promise<void> {
    for (const name of this.servers.keys()) await this.down(name).catch(() => undefined);
  }

  private async start(r: RunningServer): Promise<void> {
    const server = new HostServer({
      port: r.port,
      db: ':memory:',
      collectorPrefix: r.spec.collector ? undefined : false,
      methods: r.spec.methods,
      logger: this.logger,
      accessLogger: this.logger,
      allowedHosts: this.allowedHosts,
    });
    server.on('reading', (reading) => this.onReading(reading, r.spec.name));
    await server.start().catch((e: unknown) => Promise.reject(asSimError(e)));
    r.server = server;
    r.port = server.port;
  }
}

/**
 * Scenario time 0 is when the program starts: power-on without a script, otherwise the moment
 * main.py starts after the upload (whose length depends on the host, not on the scenario).
 * Timers asked for before that are scheduled once it is known.
 */
class ScenarioClock {
  originNanos: number | null;
  private board: PicoWBoard | null = null;
  private readonly deferred: { seconds: number; cb: () => void; timer: WorldTimer | null; cancelled: boolean }[] = [];

  constructor(hasScript: boolean) {
    this.originNanos = hasScript ? null : 0;
  }

  attach(board: PicoWBoard): void {
    this.board = board;
  }

  /** Simulated seconds since the program started. */
  now(): number {
    return this.board && this.originNanos !== null ? (this.board.simClock.nanos - this.originNanos) / NANOS : 0;
  }

  /** A timeline in scenario time, read in board time. */
  shifted(tl: Timeline): Timeline {
    return {
      valueAt: (sec) => tl.valueAt(sec - (this.originNanos ?? 0) / NANOS),
      meanAt: (sec) => tl.meanAt(sec - (this.originNanos ?? 0) / NANOS),
      description: tl.description,
    };
  }

  at(seconds: number, cb: () => void): WorldTimer {
    const b = this.board!;
    if (this.originNanos !== null) return b.simClock.schedule(Math.max(0, this.originNanos + seconds * NANOS - b.simClock.nanos), cb);
    const d = { seconds, cb, timer: null as WorldTimer | null, cancelled: false };
    this.deferred.push(d);
    return { cancel: () => ((d.cancelled = true), d.timer?.cancel()) };
  }

  /** The program starts now. */
  startNow(): void {
    const b = this.board!;
    const origin = b.simClock.nanos;
    this.originNanos = origin;
    for (const d of this.deferred.splice(0)) {
      if (!d.cancelled) d.timer = b.simClock.schedule(Math.max(0, origin + d.seconds * NANOS - b.simClock.nanos), d.cb);
    }
  }
}

/** The sensors of the scenario, in scenario time; without DS18B20s, the session's default one on GP22. */
function scenarioSensors(sensors: SensorsSpec, clock: ScenarioClock): BoardSpec['sensors'] {
  return {
    temperature: sensors.adc4 ? clock.shifted(sensors.adc4.timeline) : undefined,
    adc: sensors.adc.map((a) => (a ? clock.shifted(a.timeline) : undefined)),
    ds18b20: sensors.ds18b20.length
      ? sensors.ds18b20.map((d) => ({
          pin: d.pin,
          rom: d.rom,
          serial: d.serial,
          resolution: d.resolution,
          parasite: d.parasite,
          temperature: clock.shifted(d.temperature.timeline),
          name: d.name,
        }))
      : undefined,
  };
}

/** A `WorldFactory` that builds the real simulation through the session layer: one world per board, on one LAN. */
export function boardWorld(opts: BoardWorldOptions = {}): WorldFactory {
  return async (s, hooks) => {
    const { logger, obs } = hooks;
    const specs = scenarioBoards(s);
    for (const b of specs) scenarioUploads(b);
    let shared: string | undefined;
    const firmwareOf = async (b: BoardScenario): Promise<string> =>
      b.firmware ?? (shared ??= (await resolveFirmware({ option: opts.firmware, env: opts.env ?? process.env, offline: opts.offline, logger })).path);
    const firmwares: string[] = [];
    for (const b of specs) firmwares.push(await firmwareOf(b));
    const clock = new ScenarioClock(specs.some((b) => b.script));
    const servers = new ScenarioServers(logger, s.hosts.map((h) => h.name), (reading, server) =>
      obs.addReading({ t: clock.now(), celsius: reading.celsius, sensor: reading.sensor, server }),
      opts.isolatePorts ?? false,
    );
    await servers.startAll(s.servers);
    const lan = new Lan({
      logger,
      defaultAps: s.aps.length === 0,
      aps: s.aps.filter((a) => a.up).map(apConfig),
      maps: [...s.maps, ...servers.maps()],
      hosts: s.hosts,
      forwards: s.forwards,
      allowInternet: s.allowInternet,
      restrict: s.restrict,
      servers: servers.ports(),
    });
    const units: BoardUnit[] = [];
    try {
      for (const [i, b] of specs.entries()) {
        const world = await buildWorld({
          logger,
          lan,
          board: { name: b.name, firmware: firmwares[i]!, sensors: scenarioSensors(b.sensors, clock), wires: b.wires },
        });
        units.push({ spec: b, world, board: world.board, recordUsb: !b.script, decoder: new ConsoleDecoder() });
      }
    } catch (e) {
      for (const u of units.reverse()) await u.world.close();
      await lan.close();
      await servers.stopAll();
      throw e;
    }
    clock.attach(units[0]!.board);
    const first = units[0]!.world;
    const events = opts.events;
    if (events && s.boards) {
      // --json with `boards:`: each board's events carry its name; the run's, the first board's clock.
      const named = units.map((u) => ({ view: (u.events = events.forBoard(u.spec.name)), world: u.world }));
      for (const n of named) n.view.attachNamedBoard(n.world);
      events.attachNamedLan(named);
    } else events?.attachWorld(first);
    return new BoardScenarioWorld(s, units, lan, servers, clock, hooks, opts);
  };
}

/** A board of the scenario's world, and how its console is recorded. */
interface BoardUnit {
  spec: BoardScenario;
  world: World;
  board: PicoWBoard;
  /** With a script, USB is raw-REPL traffic until main.py starts. */
  recordUsb: boolean;
  decoder: ConsoleDecoder;
  /** `--json` with `boards:`: this board's view of the stream (its console goes there). */
  events?: EventStream;
}

/** A scenario's run on the session's worlds: what it records, when the programs start, the faults. */
class BoardScenarioWorld implements ScenarioWorld {
  private disposed = false;
  /** Several boards: their serial and LED are recorded under their names too, and echoed `[NAME] …`. */
  private readonly multi: boolean;
  private readonly echo: Map<string, LinePrefixer>;

  constructor(
    private readonly s: Scenario,
    private readonly units: BoardUnit[],
    private readonly lan: Lan,
    private readonly servers: ScenarioServers,
    private readonly clock: ScenarioClock,
    private readonly hooks: WorldHooks,
    private readonly opts: BoardWorldOptions,
  ) {
    this.multi = !!s.boards;
    const onSerial = opts.onSerial;
    this.echo = new Map(onSerial && this.multi ? units.map((u) => [u.spec.name, new LinePrefixer(`[${u.spec.name}] `, { write: onSerial })]) : []);
    for (const u of units) {
      const b = u.board;
      const label = this.multi ? `board ${u.spec.name}` : 'the board';
      b.on('console', (bytes: Uint8Array, source: ConsoleSource) => {
        if (source !== 'usb' || u.recordUsb) this.record(u, bytes, source);
      });
      b.on('event', (e: BoardEvent) => {
        if (e.type === 'led') {
          const t = (e.nanos - (clock.originNanos ?? b.simClock.nanos)) / NANOS;
          (this.multi ? hooks.obs.board(u.spec.name) : hooks.obs).addLed(t, e.on);
        } else if (e.type === 'halt' || e.type === 'bootsel') hooks.fail(`${label} stopped: ${describeHalt(e)}`);
        else if (e.type === 'fault') hooks.fail(`${label} faulted: ${e.message}`);
      });
    }
  }

  now(): number {
    return this.clock.now();
  }

  at(seconds: number, cb: () => void): WorldTimer {
    return this.clock.at(seconds, cb);
  }

  pause(): void {
    for (const u of this.units) u.board.stop();
  }

  async start(): Promise<void> {
    await Promise.all(this.units.map((u) => this.load(u)));
    if (this.units.some((u) => u.spec.script)) {
      this.clock.startNow();
      this.hooks.logger.info('scenario', `main.py started ${((this.clock.originNanos ?? 0) / NANOS).toFixed(3)} s after power-on; scenario time counts from here`);
    }
  }

  /** Power a board on; with a script, boot to the prompt, upload, and start main.py. */
  private async load(u: BoardUnit): Promise<void> {
    const b = u.board;
    if (!u.spec.script) {
      b.start();
      return;
    }
    const logger = this.hooks.logger;
    // The upload is host I/O: simulated time follows the wall clock meanwhile instead of racing
    // ahead while the board idles at the REPL.
    const hold = b.hostIo.begin('scenario upload');
    try {
      const booted = await bootToPrompt(b, { timeoutMs: this.opts.setupTimeoutMs ?? 120_000 });
      if (!booted.prompt) logger.info('scenario', 'no MicroPython prompt seen after boot; trying the raw REPL anyway');
      const first = await startMain(b, scenarioUploads(u.spec), { logger, holdName: 'scenario upload' });
      u.recordUsb = true;
      if (first.length) this.record(u, first, 'usb');
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new Error(`could not load the program${this.multi ? ` of board ${u.spec.name}` : ''}: ${(e as Error).message}`);
    } finally {
      hold.release();
    }
  }

  async apply(a: FaultAction, board?: string): Promise<void> {
    const unit = this.units.find((u) => u.spec.name === board) ?? this.units[0]!;
    const link = unit.world.boards[0]!.member.link;
    switch (a.kind) {
      case 'ap-down':
        this.lan.radio.removeAp(a.ssid);
        return;
      case 'ap-up':
        this.lan.radio.addAp(apConfig(this.s.aps.find((x) => x.ssid === a.ssid)!));
        return;
      case 'link':
        link.setFaults(a.faults);
        return;
      case 'link-down':
        link.setLinkUp(false);
        return;
      case 'link-up':
        link.setLinkUp(true);
        return;
      case 'server-down':
        await this.servers.down(a.server);
        return;
      case 'server-up':
        await this.servers.up(a.server);
        return;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.echo.values()) e.flush();
    // The LAN's services run on the first board's clock: close the boards in reverse order.
    for (const u of [...this.units].reverse()) await u.world.close();
    await this.lan.close();
    await this.servers.stopAll();
  }

  private record(u: BoardUnit, bytes: Uint8Array, source: ConsoleSource): void {
    const text = u.decoder.decode(bytes, source);
    this.hooks.obs.addSerial(this.clock.now(), text, this.multi ? u.spec.name : undefined);
    if (u.events) u.events.console(text, source);
    else if (this.multi) this.echo.get(u.spec.name)?.write(text);
    else this.opts.onSerial?.(text);
  }
}
