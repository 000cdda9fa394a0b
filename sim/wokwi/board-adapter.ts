/**
 * The one place the Wokwi front end touches picow-sim's board and world: building the world from
 * the command's options, the serial monitor's stream, pausing between scenario steps, and copying
 * a MicroPython project's files onto the board. When the session layer (sim/session) takes over
 * building worlds, only this file changes.
 */
import type { PicoW as Board, ConsoleSource } from '../board/picow.ts';
import type { BoardDevice, BoardEvent } from '../board/device.ts';
import type { Uf2Image } from '../board/uf2.ts';
import type { CliOptions } from '../cli-options.ts';
import { buildWorld, type World } from '../cli-world.ts';
import { RunFailure } from '../errors.ts';
import type { Logger } from '../log.ts';
import { uploadAll, usbStream, waitForFirstPrompt, waitForUsb, type UploadItem } from '../repl/board-link.ts';
import { ReplClient } from '../repl/client.ts';
import { AdcSensors, OneWireBus } from '../sensors/index.ts';
import type { SimClock } from '../time.ts';
import type { SerialUart } from './circuit.ts';

/** Wokwi's name for the host machine, resolved to the gateway (which reaches the host's loopback). */
export const WOKWI_HOST_ENTRY = 'host.wokwi.internal=10.0.2.2';

/**
 * Servers for tools that wokwi.toml can ask for (`rfc2217ServerPort`, `gdbServerPort`). They live
 * in sim/ports; until they are wired here the ports are accepted and reported as not served.
 */
export interface ToolPortHooks {
  rfc2217?: (board: Board, port: number, logger: Logger) => Promise<{ close(): Promise<void> | void }>;
  gdb?: (board: Board, port: number, logger: Logger) => Promise<{ close(): Promise<void> | void }>;
}
export const toolPorts: ToolPortHooks = {};

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
    world.board.on('console', (bytes: Uint8Array, s: ConsoleSource) => {
      if (this.uploading && s === 'usb') return; // raw REPL traffic of the upload
      if (s === 'usb' || s === this.uart) for (const sink of this.serialSinks) sink(bytes);
    });
  }

  static async create(o: WokwiWorldOptions): Promise<WokwiWorld> {
    const c = o.cli;
    const faults =
      c.latency !== null || c.loss !== null || c.bandwidth !== null
        ? { latencyMs: c.latency ?? undefined, lossPercent: c.loss ?? undefined, bandwidthKbps: c.bandwidth ?? undefined }
        : undefined;
    const world = await buildWorld({
      firmware: o.firmware,
      logger: o.logger,
      cpu: c.cpu ?? undefined,
      aps: c.ap,
      maps: c.map,
      hosts: c.host.some((h) => h.trim().toLowerCase().startsWith('host.wokwi.internal=')) ? c.host : [WOKWI_HOST_ENTRY, ...c.host],
      forwards: [...o.forwards, ...c.forward],
      allowInternet: c.allowInternet,
      pcapFile: c.pcap ?? undefined,
      faults,
      serverPort: c.serverPort ?? null,
      accessLog: c.verbose,
      status: o.status,
    });
    // The diagram is the whole circuit: drop the default DS18B20 the world puts on GP22.
    const board = world.board;
    for (let i = board.devices.length - 1; i >= 0; i--) {
      const d = board.devices[i];
      if (d instanceof OneWireBus) {
        d.dispose();
        board.devices.splice(i, 1);
      }
    }
    return new WokwiWorld(world, o.logger);
  }

  get board(): Board {
    return this.world.board;
  }

  get clock(): SimClock {
    return this.world.board.simClock;
  }

  get adc(): AdcSensors | null {
    return (this.world.board.devices.find((d) => d instanceof AdcSensors) as AdcSensors | undefined) ?? null;
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
    try {
      if (!(await waitForUsb(board, 20_000))) {
        throw new RunFailure('the firmware has no USB serial console within 20 s, so the project\'s .py files cannot be copied (is it MicroPython?)');
      }
      if (!(await waitForFirstPrompt(board, 30_000))) this.logger.info('wokwi', 'no MicroPython prompt after boot; trying the raw REPL anyway');
      const client = new ReplClient(usbStream(board), { logger: this.logger, timeoutMs: 15_000 });
      const hold = board.hostIo.begin('raw REPL upload');
      try {
        await client.enterRawRepl();
        status(`copying ${items.length} file${items.length === 1 ? '' : 's'} to the board`);
        await uploadAll(client, items, this.logger);
        await client.resetToMain();
      } finally {
        hold.release();
        client.reader.discard();
        client.dispose();
      }
    } finally {
      this.uploading = false;
    }
  }

  /** Start the servers wokwi.toml asks for, where sim/ports provides them. */
  async startToolPorts(ports: { rfc2217: number | null; gdb: number | null }, status: (line: string) => void): Promise<void> {
    const board = this.world.board;
    for (const [kind, port, hook] of [
      ['rfc2217ServerPort', ports.rfc2217, toolPorts.rfc2217],
      ['gdbServerPort', ports.gdb, toolPorts.gdb],
    ] as const) {
      if (port === null) continue;
      if (!hook) {
        status(`wokwi.toml ${kind} = ${port}: accepted, but this build has no such server yet (not served)`);
        continue;
      }
      const server = await hook(board, port, this.logger);
      this.closers.push(() => server.close());
      status(`${kind === 'rfc2217ServerPort' ? 'RFC 2217' : 'GDB'} server listening on port ${port}`);
    }
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await this.world.close();
  }
}
