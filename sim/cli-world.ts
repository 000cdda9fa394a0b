/**
 * The simulated world of one run, as the command and the test API build it: the board with its
 * CYW43439 on a virtual radio, the sensors (die temperature on ADC4, a DS18B20 on GP22), the
 * virtual network with its maps, names and forwards, and optionally the embedded echo server.
 */
import type { PicoW as Board } from './board/picow.ts';
import type { Cyw43439 } from './cyw43/chip.ts';
import type { VirtualNetwork } from './net/network.ts';
import type { Uf2Image } from './board/uf2.ts';
import type { CpuEngineKind } from './cpu/index.ts';
import type { ApConfig } from './cyw43/radio.ts';
import type { Logger } from './log.ts';
import type { ForwardRule, HostEntry, LinkFaults, MapRule } from './net/policy.ts';

export interface WorldOptions {
  firmware: string | Uint8Array | Uf2Image;
  logger: Logger;
  name?: string;
  uniqueId?: string | Uint8Array;
  /** CPU engine (default jit). */
  cpu?: CpuEngineKind;
  hotThreshold?: number;
  warmupCycles?: number;
  /** Access points added to the defaults PicoW-Sim (password picowsim) and Wokwi-GUEST (open); one with a default's SSID replaces it. */
  aps?: (string | ApConfig)[];
  maps?: (string | MapRule)[];
  hosts?: (string | HostEntry)[];
  forwards?: (string | ForwardRule)[];
  allowInternet?: boolean;
  pcapFile?: string;
  faults?: LinkFaults;
  /** Start the embedded echo server (and temperature collector) on this port; null: none. */
  serverPort?: number | null;
  /** Access log lines of the server go to the logger. */
  accessLog?: boolean;
  /**
   * When `serverPort` is taken, serve from a free port instead and map the board's
   * `10.0.2.2:<serverPort>` there (the demo, whose client asks for 10.0.2.2:8080).
   */
  serverFallback?: boolean;
  /** Told what was started (one line each). */
  status?: (line: string) => void;
}

export interface World {
  board: Board;
  /** The embedded server's port on 127.0.0.1 (the board reaches it at 10.0.2.2:port), if it runs. */
  serverPort: number | null;
  /** The board's Wi-Fi chip and the LAN it is on (for `--json` events). */
  chip: Cyw43439;
  net: VirtualNetwork;
  close(): Promise<void>;
}

export async function buildWorld(o: WorldOptions): Promise<World> {
  const [{ PicoW }, { Cyw43439 }, { VirtualRadio, parseApSpec }, { VirtualNetwork }, { createSensors }] = await Promise.all([
    import('./board/picow.ts'),
    import('./cyw43/chip.ts'),
    import('./cyw43/radio.ts'),
    import('./net/network.ts'),
    import('./sensors/index.ts'),
  ]);
  const logger = o.logger;
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  const maps = [...(o.maps ?? [])];
  try {
    let serverPort: number | null = null;
    if (o.serverPort !== undefined && o.serverPort !== null) {
      const { startEmbeddedServer } = await import('../server/index.ts');
      const accessLogger = o.accessLog ? logger : undefined;
      let started = await startEmbeddedServer({ port: o.serverPort, logger, accessLogger });
      o.status?.(started.message);
      if (!started.started && o.serverFallback) {
        started = await startEmbeddedServer({ port: 0, logger, accessLogger });
        if (started.started) {
          maps.push(`10.0.2.2:${o.serverPort}=127.0.0.1:${started.server.port}`);
          o.status?.(`${started.message} (the board's 10.0.2.2:${o.serverPort} goes there)`);
        }
      }
      if (started.started) {
        const server = started.server;
        closers.push(() => server.stop());
        serverPort = server.port;
      }
    }
    const aps = (o.aps ?? []).map((a) => (typeof a === 'string' ? parseApSpec(a) : a));
    const radio = new VirtualRadio({ aps });
    const chip = new Cyw43439({ radio, logger, identity: o.name ?? 'picow' });
    const sensors = createSensors({ ds18b20: [{ pin: 22 }], logger });
    const board = await PicoW.create({
      firmware: o.firmware,
      name: o.name,
      uniqueId: o.uniqueId,
      devices: [chip, ...sensors.devices],
      logger,
      cpu: o.cpu,
      hotThreshold: o.hotThreshold,
      warmupCycles: o.warmupCycles,
    });
    closers.push(() => board.dispose());
    const net = new VirtualNetwork({
      clock: board.simClock,
      hostIo: board.hostIo,
      logger,
      maps,
      hosts: o.hosts,
      forwards: o.forwards,
      allowInternet: o.allowInternet,
      pcapFile: o.pcapFile,
      faults: o.faults,
    });
    closers.push(() => net.close());
    const forwards = await net.start();
    net.attach(chip.port, board.name);
    for (const f of forwards) logger.info('net', `forward ${JSON.stringify(f)}`);
    return { board, serverPort, chip, net, close };
  } catch (e) {
    await close();
    throw e;
  }
}
