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
import { networkSources, type EventStream } from '../events.ts';
import { resolveFirmware } from '../firmware.ts';
import type { Logger } from '../log.ts';
import { GATEWAY_IP } from '../net/addressing.ts';
import type { MapRule } from '../net/policy.ts';
import { folderItems, type UploadItem } from '../repl/board-link.ts';
import type { Timeline } from '../sensors/index.ts';
import { ConsoleDecoder } from '../session/console.ts';
import { bootToPrompt, startMain } from '../session/program.ts';
import { asSimError, buildWorld, type BoardSpec, type World } from '../session/world.ts';
import type { ScenarioWorld, WorldFactory, WorldHooks, WorldTimer } from './runner.ts';
import type { ApSpec, FaultAction, Scenario, ServerSpec } from './schema.ts';

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

/** Local files and folders of the scenario as upload items (checked before booting). */
export function scenarioUploads(s: Scenario): UploadItem[] {
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
function scenarioSensors(s: Scenario, clock: ScenarioClock): BoardSpec['sensors'] {
  return {
    temperature: s.sensors.adc4 ? clock.shifted(s.sensors.adc4.timeline) : undefined,
    adc: s.sensors.adc.map((a) => (a ? clock.shifted(a.timeline) : undefined)),
    ds18b20: s.sensors.ds18b20.length
      ? s.sensors.ds18b20.map((d) => ({
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

/** A `WorldFactory` that builds the real simulation through the session layer. */
export function boardWorld(opts: BoardWorldOptions = {}): WorldFactory {
  return async (s, hooks) => {
    const { logger, obs } = hooks;
    const uploads = scenarioUploads(s);
    const firmware = s.firmware ?? (await resolveFirmware({ option: opts.firmware, env: opts.env ?? process.env, offline: opts.offline, logger })).path;
    const clock = new ScenarioClock(!!s.script);
    const servers = new ScenarioServers(logger, s.hosts.map((h) => h.name), (reading, server) =>
      obs.addReading({ t: clock.now(), celsius: reading.celsius, sensor: reading.sensor, server }),
      opts.isolatePorts ?? false,
    );
    await servers.startAll(s.servers);
    let world: World;
    try {
      world = await buildWorld({
        logger,
        board: { firmware, sensors: scenarioSensors(s, clock), wires: s.wires },
        defaultAps: s.aps.length === 0,
        aps: s.aps.filter((a) => a.up).map(apConfig),
        maps: [...s.maps, ...servers.maps()],
        hosts: s.hosts,
        forwards: s.forwards,
        allowInternet: s.allowInternet,
        restrict: s.restrict,
        servers: servers.ports(),
      });
    } catch (e) {
      await servers.stopAll();
      throw e;
    }
    clock.attach(world.board);
    opts.events?.attach({ board: world.board, ...networkSources(world.boards[0]!.chip, world.network) });
    return new BoardScenarioWorld(s, world, servers, clock, hooks, opts);
  };
}

/** A scenario's run on the session's world: what it records, when the program starts, the faults. */
class BoardScenarioWorld implements ScenarioWorld {
  /** With a script, USB is raw-REPL traffic until main.py starts. */
  private recordUsb: boolean;
  private readonly decoder = new ConsoleDecoder();
  private disposed = false;
  private readonly board: PicoWBoard;

  constructor(
    private readonly s: Scenario,
    private readonly world: World,
    private readonly servers: ScenarioServers,
    private readonly clock: ScenarioClock,
    private readonly hooks: WorldHooks,
    private readonly opts: BoardWorldOptions,
  ) {
    this.recordUsb = !s.script;
    const b = (this.board = world.board);
    b.on('console', (bytes: Uint8Array, source: ConsoleSource) => {
      if (source !== 'usb' || this.recordUsb) this.record(bytes, source);
    });
    b.on('event', (e: BoardEvent) => {
      if (e.type === 'led') hooks.obs.addLed((e.nanos - (clock.originNanos ?? b.simClock.nanos)) / NANOS, e.on);
      else if (e.type === 'halt' || e.type === 'bootsel') hooks.fail(`the board stopped: ${describeHalt(e)}`);
      else if (e.type === 'fault') hooks.fail(`the board faulted: ${e.message}`);
    });
  }

  now(): number {
    return this.clock.now();
  }

  at(seconds: number, cb: () => void): WorldTimer {
    return this.clock.at(seconds, cb);
  }

  pause(): void {
    this.board.stop();
  }

  async start(): Promise<void> {
    const b = this.board;
    if (!this.s.script) {
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
      const first = await startMain(b, scenarioUploads(this.s), { logger, holdName: 'scenario upload' });
      this.clock.startNow();
      this.recordUsb = true;
      if (first.length) this.record(first, 'usb');
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new Error(`could not load the program: ${(e as Error).message}`);
    } finally {
      hold.release();
    }
    logger.info('scenario', `main.py started ${((this.clock.originNanos ?? 0) / NANOS).toFixed(3)} s after power-on; scenario time counts from here`);
  }

  async apply(a: FaultAction): Promise<void> {
    const link = this.world.boards[0]!.member.link;
    switch (a.kind) {
      case 'ap-down':
        this.world.radio.removeAp(a.ssid);
        return;
      case 'ap-up':
        this.world.radio.addAp(apConfig(this.s.aps.find((x) => x.ssid === a.ssid)!));
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
    await this.world.close();
    await this.servers.stopAll();
  }

  private record(bytes: Uint8Array, source: ConsoleSource): void {
    const text = this.decoder.decode(bytes, source);
    this.hooks.obs.addSerial(this.clock.now(), text);
    this.opts.onSerial?.(text);
  }
}
