/**
 * The simulated world of a run, built in one place for every front end (CLI, test API, scenarios,
 * benchmarks): the virtual radio with its access points, a board with its CYW43439 (whose MAC
 * follows the board's identity) and its sensors, the virtual network with its maps, names and
 * forwards, and optionally the embedded echo server. The same options give the same MAC, DHCP
 * address and sensor readings whichever front end asked.
 *
 * To add an option: a field in `BoardSpec` (one board), `NetworkSpec` (the LAN) or `WorldOptions`
 * (the rest), read here; the front ends fill it from their own words (flags, scenario keys).
 */
import { PicoWBoard } from '../board/picow.ts';
import type { Uf2Image } from '../board/uf2.ts';
import { JumperWires, type Wire } from '../board/wires.ts';
import type { CpuEngineKind } from '../cpu/index.ts';
import { Cyw43439 } from '../cyw43/chip.ts';
import type { VirtualRadio } from '../cyw43/radio.ts';
import { PicowSimError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { VirtualNetwork } from '../net/network.ts';
import type { MapRule } from '../net/policy.ts';
import { Lan, type LanMember, type LanOptions } from './lan.ts';
import { parseAll, parseHostSpec, parseMapSpec } from './specs.ts';

export type { NetworkSpec } from './lan.ts';
import { createSensors, DEFAULT_ONEWIRE_PIN, type SensorRig, type SensorSetup } from '../sensors/index.ts';

/** One board of the world. */
export interface BoardSpec {
  /** A UF2 path, its bytes, or a parsed image. */
  firmware: string | Uint8Array | Uf2Image;
  /** Board name (default `picow`): seeds the flash unique ID, and so the Wi-Fi MAC and the DHCP address. */
  name?: string;
  /** 8-byte flash unique ID (bytes or 16 hex digits) instead of the one derived from the name. */
  uniqueId?: string | Uint8Array;
  /** CPU engine (default jit). */
  cpu?: CpuEngineKind;
  hotThreshold?: number;
  warmupCycles?: number;
  /** Jumper wires between GPIOs (`--wire`, scenario `wires:`). */
  wires?: Wire[];
  /**
   * Sensors on the board's pins. Default (and for each part left out): the die at 27 °C on ADC4,
   * and one DS18B20 on GP22 (`ds18b20: []` for none).
   */
  sensors?: Omit<SensorSetup, 'logger'>;
}

/** The embedded echo server (with the temperature collector). */
export interface EmbeddedServerSpec {
  /** Port on 127.0.0.1; 0 for any free one. The board reaches it at 10.0.2.2:port. */
  port: number;
  /**
   * When `port` is taken, serve from a free port instead and map the board's `10.0.2.2:<port>`
   * there (the demo, whose client asks for 10.0.2.2:8080).
   */
  fallback?: boolean;
  /** Access log lines of the server go to the logger. */
  accessLog?: boolean;
}

export interface WorldOptions extends Omit<LanOptions, 'logger'> {
  logger: Logger;
  board: BoardSpec;
  /**
   * Put the board on this shared radio and LAN (several boards, one world each) instead of a radio
   * and network of its own; the LAN's options then replace `aps`, `defaultAps` and the `NetworkSpec` fields.
   */
  lan?: Lan;
  server?: EmbeddedServerSpec | null;
  /** Told what was started (one line each). */
  status?: (line: string) => void;
}

/** A board in the world, with what is wired to it. */
export interface WorldBoard {
  board: PicoWBoard;
  chip: Cyw43439;
  sensors: SensorRig;
  /** Its place on the LAN: address, switch port (link faults, link up/down). */
  member: LanMember;
}

export interface World {
  lan: Lan;
  radio: VirtualRadio;
  network: VirtualNetwork;
  /** The boards on the LAN, in the order of their addresses (10.0.2.15, .16, …). */
  boards: WorldBoard[];
  /** The first board. */
  board: PicoWBoard;
  /** The embedded server's port on 127.0.0.1 (the board reaches it at 10.0.2.2:port), if it runs. */
  serverPort: number | null;
  /** Stop the boards, the network and the server (in the reverse order of their start). */
  close(): Promise<void>;
}

/** The default board name (`PicoWBoard`'s). */
export const DEFAULT_BOARD_NAME = 'picow';

/** The sensors a board gets: the spec's, with the default DS18B20 on GP22 when it names none. */
export function sensorSetup(spec: BoardSpec['sensors'], logger: Logger): SensorSetup {
  return { ...spec, ds18b20: spec?.ds18b20 ?? [{ pin: DEFAULT_ONEWIRE_PIN }], logger };
}

/** The LAN options a world's own LAN is built from (those a shared `lan` takes instead). */
const LAN_KEYS = ['aps', 'defaultAps', 'maps', 'hosts', 'forwards', 'allowInternet', 'restrict', 'netLimits', 'servers', 'pcapFile', 'pcapMaxBytes', 'faults'] as const;

/** Build the world, not yet running (the caller starts the board: see `program.ts`). */
export async function buildWorld(o: WorldOptions): Promise<World> {
  const logger = o.logger;
  if (o.lan) {
    const given = LAN_KEYS.filter((k) => o[k] !== undefined);
    if (given.length) throw new UsageError(`${given.join(', ')}: a board on a shared LAN takes these from the Lan, not from its own options`);
  }
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const maps = parseAll(o.maps, (s) => parseMapSpec(s));
    const hosts = parseAll(o.hosts, (s) => parseHostSpec(s));
    if (o.restrict && o.allowInternet) throw new UsageError('restrict and allowInternet cannot be used together');
    // The board may name the embedded server by the LAN's DNS names (the Host header it sends).
    const serverPort = await startServer(o, maps, o.lan ? o.lan.hostNames : hosts.map((h) => h.name), closers);
    let lan = o.lan;
    if (!lan) {
      // The embedded server stays reachable at 10.0.2.2:port when the network is restricted.
      const servers = [...(o.servers ?? []), ...(serverPort !== null ? [serverPort] : [])];
      const own = new Lan({ ...o, maps, hosts, servers, logger });
      closers.push(() => own.close());
      lan = own;
    } else if (serverPort !== null) lan.addServer(serverPort);
    const spec = o.board;
    const name = spec.name ?? DEFAULT_BOARD_NAME;
    const chip = new Cyw43439({ radio: lan.radio, logger, identity: name });
    const sensors = createSensors(sensorSetup(spec.sensors, logger));
    const board = await PicoWBoard.create({
      firmware: spec.firmware,
      name,
      uniqueId: spec.uniqueId,
      devices: [chip, ...sensors.devices, ...(spec.wires?.length ? [new JumperWires(spec.wires)] : [])],
      logger,
      cpu: spec.cpu,
      hotThreshold: spec.hotThreshold,
      warmupCycles: spec.warmupCycles,
    });
    closers.push(() => board.dispose());
    const member = await lan.join(board, chip.port);
    closers.push(() => member.leave());
    const boards: WorldBoard[] = [{ board, chip, sensors, member }];
    return { lan, radio: lan.radio, network: lan.network!, boards, board, serverPort, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Start the embedded server if asked; its port, or null. A port fallback adds a map rule. */
async function startServer(o: WorldOptions, maps: MapRule[], allowedHosts: string[], closers: (() => Promise<void> | void)[]): Promise<number | null> {
  const spec = o.server;
  if (!spec) return null;
  const { startEmbeddedServer } = await import('../../server/index.ts');
  const logger = o.logger;
  const accessLogger = spec.accessLog ? logger : undefined;
  const start = (port: number) => startEmbeddedServer({ port, logger, accessLogger, allowedHosts }).catch((e: unknown) => Promise.reject(asSimError(e)));
  let started = await start(spec.port);
  o.status?.(started.message);
  if (!started.started && spec.fallback && !o.lan) {
    started = await start(0);
    if (started.started) {
      maps.push(parseMapSpec(`10.0.2.2:${spec.port}=127.0.0.1:${started.server.port}`));
      o.status?.(`${started.message} (the board's 10.0.2.2:${spec.port} goes there)`);
    }
  }
  if (!started.started) return null;
  const server = started.server;
  closers.push(() => server.stop());
  return server.port;
}


/**
 * An error of the servers (server/ stands alone, with its own error base) as the simulator's own:
 * the same message and exit code, so the front ends print one line and exit as for any other.
 */
export function asSimError(e: unknown): unknown {
  if (!(e instanceof Error) || typeof (e as { exitCode?: unknown }).exitCode !== 'number' || e instanceof PicowSimError) return e;
  const code = (e as Error & { exitCode: number }).exitCode;
  return code === 2 ? new UsageError(e.message) : new PicowSimError(e.message, code);
}
