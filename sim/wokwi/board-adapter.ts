/**
 * The one place the Wokwi front end touches picow-sim's board and world: building the world from
 * the command's options, the serial monitor's stream, pausing between scenario steps, and copying
 * a MicroPython project's files onto the board, all through the session layer (sim/session).
 */
import type { PicoWBoard as Board, ConsoleSource } from '../board/picow.ts';
import type { BoardDevice, BoardEvent } from '../board/device.ts';
import type { Uf2Image } from '../board/uf2.ts';
import type { CliOptions } from '../cli-options.ts';
import { cliWorldOptions } from '../cli-world.ts';
import { RunFailure } from '../errors.ts';
import { networkSources, type EventSources } from '../events.ts';
import type { Logger } from '../log.ts';
import type { UploadItem } from '../repl/board-link.ts';
import { bootToPrompt, startMain } from '../session/program.ts';
import { buildWorld, type World } from '../session/world.ts';
import type { AdcSensors } from '../sensors/index.ts';
import type { SimClock } from '../time.ts';
import type { SerialUart } from './circuit.ts';

/** Wokwi's name for the host machine, resolved to the gateway (which reaches the host's loopback). */
export const WOKWI_HOST_ENTRY = 'host.wokwi.internal=10.0.2.2';

export interface WokwiWorldOptions {
  firmware: Uf2Image;
  /** picow-sim's own options (network, Wi-Fi, CPU, pcap, trace...). */
  cli: CliOptions;
  /** `[[net.forward]]` of wokwi.toml, as `--forward` specs. */
  forwards: string[];
  logger: Logger;
  status: (line: string) => void;
}

export class WokwiWorld {
  private closers: (() => Promise<void> | void)[] = [];
  private serialSinks: ((bytes: Uint8Array) => void)[] = [];
  private uploading = false;
  uart: SerialUart = 'uart0';

  private constructor(
    private readonly world: World,
    readonly logger: Logger,
  ) {
    const board = world.board;
    // The console (USB CDC when presented, else UART0), and the UART `$serialMonitor` is wired to.
    board.on('console', (bytes: Uint8Array, s: ConsoleSource) => {
      if (this.uploading && s === 'usb') return; // raw REPL traffic of the upload
      for (const sink of this.serialSinks) sink(bytes);
    });
    board.on('uart', (bytes: Uint8Array, s: ConsoleSource) => {
      if (s === this.uart && s !== board.consoleSource) for (const sink of this.serialSinks) sink(bytes);
    });
  }

  static async create(o: WokwiWorldOptions): Promise<WokwiWorld> {
    const c = o.cli;
    const base = cliWorldOptions(c, { image: o.firmware, logger: o.logger, demo: false, status: o.status });
    const world = await buildWorld({
      ...base,
      // The diagram is the whole circuit: no default DS18B20 on GP22.
      board: { ...base.board, sensors: { ds18b20: [] } },
      hosts: c.host.some((h) => h.trim().toLowerCase().startsWith('host.wokwi.internal=')) ? c.host : [WOKWI_HOST_ENTRY, ...c.host],
      forwards: [...o.forwards, ...c.forward],
      server: c.serverPort !== null && !c.noServer ? { port: c.serverPort, accessLog: c.verbose } : null,
    });
    return new WokwiWorld(world, o.logger);
  }

  get board(): Board {
    return this.world.board;
  }

  get clock(): SimClock {
    return this.world.board.simClock;
  }

  /** What `--json` events listen to: the board, its Wi-Fi chip and its network. */
  eventSources(): EventSources {
    return { board: this.world.board, ...networkSources(this.world.boards[0]!.chip, this.world.network) };
  }

  get adc(): AdcSensors | null {
    return this.world.boards[0]!.sensors.adc ?? null;
  }

  attach(device: BoardDevice): void {
    this.world.board.attach(device);
  }

  /** Bytes on the serial monitor: USB CDC (the MicroPython REPL) and the UART `$serialMonitor` is wired to. */
  onSerial(sink: (bytes: Uint8Array) => void): void {
    this.serialSinks.push(sink);
  }

  writeSerial(bytes: Uint8Array): void {
    this.world.board.writeConsole(bytes, this.world.board.usbReady ? 'usb' : this.uart);
  }

  /** The board stopped for good (halt, BOOTSEL, simulator fault). */
  onStop(cb: (code: number | null, message: string) => void): void {
    this.world.board.on('event', (e: BoardEvent) => {
      if (e.type === 'halt') cb(e.exitCode, e.reason);
      else if (e.type === 'bootsel') cb(1, 'the board rebooted into BOOTSEL mode');
      else if (e.type === 'fault') cb(1, `the board faulted: ${e.message}`);
    });
  }

  /** The on-board LED (CYW43439 GPIO 0) turned on or off. */
  onLed(cb: (on: boolean) => void): void {
    this.world.board.on('event', (e: BoardEvent) => {
      if (e.type === 'led') cb(e.on);
    });
  }

  start(): void {
    this.world.board.start();
  }

  /** Hold simulated time (between scenario steps); `resume` lets it run again. */
  pause(): void {
    this.world.board.stop();
  }

  resume(): void {
    this.world.board.start();
  }

  /** Wall-clock pacing while a person types (`--interactive`). */
  holdForHost(label: string): { release(): void } {
    return this.world.board.hostIo.begin(label);
  }

  /** Copy MicroPython files over the raw REPL (main.py last) and soft-reset into main.py. */
  async copyFilesAndReset(items: UploadItem[], status: (line: string) => void): Promise<void> {
    const board = this.world.board;
    this.uploading = true;
    let first: Uint8Array;
    try {
      const booted = await bootToPrompt(board, { usbTimeoutMs: 20_000, timeoutMs: 30_000 });
      if (!booted.usb) {
        throw new RunFailure("the firmware has no USB serial console within 20 s, so the project's .py files cannot be copied (is it MicroPython?)");
      }
      if (!booted.prompt) this.logger.info('wokwi', 'no MicroPython prompt after boot; trying the raw REPL anyway');
      first = await startMain(board, items, { logger: this.logger, status, holdName: 'raw REPL upload' });
    } finally {
      this.uploading = false;
    }
    // What main.py printed right after the reset belongs on the serial monitor.
    if (first.length) for (const sink of this.serialSinks) sink(first);
  }

  /** Start the servers wokwi.toml asks for (`rfc2217ServerPort`, `gdbServerPort`), from sim/ports. */
  async startToolPorts(ports: { rfc2217: number | null; gdb: number | null }, status: (line: string) => void): Promise<void> {
    const board = this.world.board;
    if (ports.rfc2217 !== null) {
      const { consoleLink } = await import('../ports/serial-link.ts');
      const { startSerialPortServer } = await import('../ports/rfc2217.ts');
      let hold: { release(): void } | null = null;
      const server = await startSerialPortServer(consoleLink(board), {
        port: ports.rfc2217,
        logger: this.logger,
        onClient: (connected) => {
          hold?.release();
          hold = connected ? board.hostIo.begin('serial port client') : null;
        },
      });
      this.closers.push(() => {
        hold?.release();
        return server.close();
      });
      status(`RFC 2217 server on rfc2217://localhost:${server.port}`);
    }
    if (ports.gdb !== null) {
      const { startGdbServer } = await import('../ports/gdb-server.ts');
      const server = await startGdbServer(board, { port: ports.gdb, logger: this.logger, wait: false });
      this.closers.push(() => server.close());
      status(`GDB server on localhost:${server.port}`);
    }
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await this.world.close();
  }
}
