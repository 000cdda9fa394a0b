/**
 * The test API's board: `PicoW.boot()` builds a world through the session layer (sim/session),
 * boots to MicroPython's prompt, and offers the raw REPL (exec, run, files), the console
 * (output, waitForOutput) and `runMain` for users' own test suites.
 */
import type { BoardEvent } from './board/device.ts';
import type { CpuEngineKind } from './cpu/index.ts';
import type { PicoWBoard as Board, ConsoleSource, ConsoleTarget } from './board/picow.ts';
import { PicowSimError, RunFailure, UsageError } from './errors.ts';
import { findFirmware, FirmwareMissingError, missingFirmwareAdvice } from './firmware.ts';
import { silentLogger, type Logger } from './log.ts';
import type { ApConfig } from './cyw43/radio.ts';
import { folderItems, readLocalFile, usbStream } from './repl/board-link.ts';
import { ReplClient, type RemoteEntry } from './repl/client.ts';
import { MicroPythonError } from './repl/errors.ts';
import { MainRunMonitor, type MainEnd } from './repl/monitor.ts';
import { ConsoleDecoder, OutputLog, OutputTimeout } from './session/console.ts';
import { bootToPrompt, startMain } from './session/program.ts';
import type { Lan } from './session/lan.ts';
import { parseWireSpec, type Wire } from './board/wires.ts';
import { buildWorld, type BoardSpec, type NetworkSpec, type World } from './session/world.ts';

export { OutputTimeout };

/**
 * Virtual network (`NetworkSpec`): `maps`, `hosts`, `forwards` as `--map`, `--host`, `--forward`
 * specs or parsed rules, `allowInternet`, `restrict`, `netLimits`, `pcapFile`, `pcapMaxBytes`, `faults`.
 */
export interface BootOptions extends NetworkSpec {
  /** UF2 path or bytes. Default: env PICOW_FIRMWARE, then the cache folder (never downloads). */
  firmware?: string | Uint8Array;
  /** Board name; seeds the unique ID and so the MAC address. */
  name?: string;
  uniqueId?: string | Uint8Array;
  logger?: Logger;
  /** Files to put on the board after boot: board path → content. */
  files?: Record<string, string | Uint8Array>;
  /** CPU engine: 'jit' (default), 'interp' or 'check'. */
  cpu?: CpuEngineKind;
  /** Entries of a code block before the jit translates it (default 1024). */
  hotThreshold?: number;
  /** Cycles the jit only interprets before it starts counting and translating (default 32 M: the boot and driver bring-up). */
  warmupCycles?: number;
  /** Access points as `SSID[:PASSWORD]` or objects, added to PicoW-Sim (picowsim) and Wokwi-GUEST (open). */
  aps?: (string | ApConfig)[];
  /**
   * Start the embedded echo server: a port, or 0 for any free one (see `serverPort`; the board
   * reaches it at 10.0.2.2:port). Default: none.
   */
  server?: number;
  /** Join this shared radio and LAN (several boards; each with its own `name`) instead of one of the board's own. */
  lan?: Lan;
  /** Wait for MicroPython's REPL after power-on (default true; false for firmware without one). */
  repl?: boolean;
  /** Milliseconds to wait for the REPL after power-on. Default 60 000. */
  bootTimeout?: number;
  /** Jumper wires between GPIOs, as `'GP0:GP1'` or `{ a: 0, b: 1 }` (UART loopback, pin tests). */
  wires?: (string | Wire)[];
}

export interface TimeoutOption {
  /** Milliseconds of wall-clock time. */
  timeout?: number;
}

/** Longest wait a Node timer holds (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A `timeout` option in ms (default 30 s), refused when no timer can hold it. */
function timeoutMs(opts: TimeoutOption): number {
  const t = opts.timeout ?? 30_000;
  if (!Number.isFinite(t) || t < 0 || t > MAX_TIMER_MS) throw new UsageError(`timeout ${t} ms: must be from 0 to ${MAX_TIMER_MS} ms (about 24.8 days)`);
  return t;
}

/** A booted, running Pico W with MicroPython. */
export class PicoW {
  /** The simulated board underneath (events, console, power cycle). */
  readonly board: Board;
  private readonly client: ReplClient;
  private readonly log = new OutputLog();
  private readonly decoder = new ConsoleDecoder();
  private busy = 0;
  private monitor: MainRunMonitor | null = null;
  private mainEnd: Promise<MainEnd> | null = null;
  private disposed = false;
  private halted: Error | null = null;

  private readonly world: World;
  private readonly logger: Logger;

  private constructor(world: World, logger: Logger) {
    this.world = world;
    this.logger = logger;
    const board = world.board;
    this.board = board;
    // The client subscribes first, so the log below can drop what the client has no use for.
    this.client = new ReplClient(usbStream(board), { logger, timeoutMs: 15_000 });
    board.on('console', (bytes: Uint8Array, source: ConsoleSource) => this.onConsole(bytes, source));
    board.on('event', (e: BoardEvent) => {
      if (e.type === 'halt' || e.type === 'bootsel' || e.type === 'fault') {
        this.halted = new RunFailure(
          e.type === 'halt' ? `the board halted: ${e.reason}` : e.type === 'fault' ? `the board faulted: ${e.message}` : 'the board entered BOOTSEL mode',
        );
        this.log.fail(this.halted);
      }
    });
  }

  /** Create a board, power it on and wait for the MicroPython REPL; then copy `files`. */
  static async boot(opts: BootOptions = {}): Promise<PicoW> {
    const logger = opts.logger ?? silentLogger();
    let firmware = opts.firmware;
    if (firmware === undefined) {
      const found = findFirmware();
      if (!found) throw new FirmwareMissingError(`no firmware configured: ${missingFirmwareAdvice()}`);
      firmware = found.path;
    }
    const board: BoardSpec = {
      firmware,
      name: opts.name,
      uniqueId: opts.uniqueId,
      cpu: opts.cpu,
      hotThreshold: opts.hotThreshold,
      warmupCycles: opts.warmupCycles,
      wires: opts.wires?.map((w) => (typeof w === 'string' ? parseWireSpec(w) : w)),
    };
    const world = await buildWorld({
      logger,
      board,
      aps: opts.aps,
      maps: opts.maps,
      hosts: opts.hosts,
      forwards: opts.forwards,
      allowInternet: opts.allowInternet,
      restrict: opts.restrict,
      netLimits: opts.netLimits,
      pcapFile: opts.pcapFile,
      pcapMaxBytes: opts.pcapMaxBytes,
      faults: opts.faults,
      server: opts.server === undefined ? null : { port: opts.server },
      lan: opts.lan,
    });
    const pico = new PicoW(world, logger);
    try {
      if (opts.repl ?? true) {
        const timeoutMs = opts.bootTimeout ?? 60_000;
        const booted = await bootToPrompt(world.board, { timeoutMs });
        if (!booted.prompt) {
          throw new RunFailure(
            `no MicroPython REPL within ${timeoutMs / 1000} s of power-on${booted.usb ? '' : ' (no USB serial port)'}; ` +
              `output so far: ${JSON.stringify(world.board.output.slice(-200))}`,
          );
        }
      } else world.board.start();
      for (const [path, data] of Object.entries(opts.files ?? {})) await pico.writeFile(path, data);
    } catch (e) {
      await pico.dispose();
      throw e;
    }
    return pico;
  }

  // Console ---------------------------------------------------------------------------------------

  /** Port of the embedded echo server on 127.0.0.1 (the board reaches it at 10.0.2.2:port), or null. */
  get serverPort(): number | null {
    return this.world.serverPort;
  }

  /** Everything the board printed on its consoles, except the traffic of exec/run/file calls. */
  get output(): string {
    return this.log.output;
  }

  /** Forget the output so far (waitForOutput then only sees new output). */
  clearOutput(): void {
    this.log.clear();
  }

  /** Type into the console (USB CDC, or UART0 for firmware without USB). */
  write(data: string | Uint8Array, target: ConsoleTarget = 'auto'): void {
    this.board.writeConsole(data, target);
  }

  /**
   * Wait until the console shows `test` (text or RegExp) after the previous match (or after boot
   * for the first call). Resolves with the output from there up to the end of the match.
   */
  waitForOutput(test: string | RegExp, opts: TimeoutOption = {}): Promise<string> {
    return this.log.waitFor(test, timeoutMs(opts));
  }

  /** Subscribe to board events (LED, reset, halt…); returns an unsubscribe function. */
  onEvent(cb: (e: BoardEvent) => void): () => void {
    this.board.on('event', cb);
    return () => void this.board.off('event', cb);
  }

  private onConsole(bytes: Uint8Array, source: ConsoleSource): void {
    if (source === 'usb') {
      if (this.busy > 0) return; // REPL traffic: the client reads it
      this.client.reader.discard();
    }
    const s = this.decoder.decode(bytes, source);
    if (!s) return;
    if (source === 'usb') this.monitor?.push(s);
    this.log.append(s);
  }

  // Running code ----------------------------------------------------------------------------------

  private async withRepl<T>(op: () => Promise<T>): Promise<T> {
    if (this.disposed) throw new PicowSimError('this PicoW was disposed', 1);
    if (this.halted) throw this.halted;
    // Not held as host I/O: code run by exec may sleep, and idle time fast-forwards as in a script.
    this.busy++;
    try {
      return await op();
    } finally {
      this.busy--;
    }
  }

  /**
   * Run Python code in the raw REPL and return what it printed (`\r\n` turned into `\n`).
   * A Python exception rejects with MicroPythonError (`.traceback`, `.type`, `.detail`).
   * A program started with runMain is interrupted first.
   */
  async exec(code: string, opts: TimeoutOption = {}): Promise<string> {
    const out = await this.withRepl(() => this.client.exec(code, { timeoutMs: timeoutMs(opts) }));
    return out.replace(/\r\n/g, '\n');
  }

  /** Like exec, but resolves with stdout and the exception text apart instead of throwing. */
  async execRaw(code: string, opts: TimeoutOption = {}): Promise<{ stdout: string; stderr: string }> {
    const r = await this.withRepl(() => this.client.execRaw(code, { timeoutMs: timeoutMs(opts) }));
    const dec = (b: Uint8Array): string => new TextDecoder().decode(b).replace(/\r\n/g, '\n');
    return { stdout: dec(r.stdout), stderr: dec(r.stderr) };
  }

  /** The value of a Python expression, as `print` shows it. */
  async eval(expr: string, opts: TimeoutOption = {}): Promise<string> {
    return (await this.exec(`print(${expr})`, opts)).replace(/\n$/, '');
  }

  /** Run a local .py file in the raw REPL (like `mpremote run`) and return what it printed. */
  async run(file: string, opts: TimeoutOption = {}): Promise<string> {
    const code = readLocalFile(file, 'script');
    return this.exec(new TextDecoder().decode(code), opts);
  }

  /**
   * Copy a local file to the board as /main.py (plus `files`), soft-reset so it runs as after
   * power-on, and return once it started. Its output goes to `output` / waitForOutput;
   * waitForMainEnd tells when it finished.
   */
  async runMain(file: string, opts: { files?: Record<string, string | Uint8Array> } = {}): Promise<void> {
    const code = readLocalFile(file, 'script');
    const items = [...Object.entries(opts.files ?? {}).map(([remote, data]) => ({ remote, data })), { remote: '/main.py', data: code }];
    await this.withRepl(async () => {
      let end!: (e: MainEnd) => void;
      this.mainEnd = new Promise<MainEnd>((r) => (end = r));
      this.monitor = new MainRunMonitor(() => undefined, (e) => {
        this.monitor = null;
        end(e);
      });
      const first = await startMain(this.board, items, { logger: this.logger, client: this.client });
      // What arrived right after the reboot line is the program's: hand it to the log.
      this.busy--;
      try {
        if (first.length) this.onConsole(first, 'usb');
      } finally {
        this.busy++;
      }
    });
  }

  /**
   * Wait until the program started by runMain finishes. Rejects with MicroPythonError when it
   * raised, and on timeout.
   */
  async waitForMainEnd(opts: TimeoutOption = {}): Promise<MainEnd> {
    if (!this.mainEnd) throw new PicowSimError('no program was started with runMain', 1);
    const timeout = timeoutMs(opts);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([
      this.mainEnd,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new OutputTimeout(`main.py still running after ${timeout} ms`)), timeout);
      }),
    ]).finally(() => clearTimeout(timer));
    if (end.kind === 'exception') throw new MicroPythonError(end.traceback.replace(/\r\n/g, '\n'));
    return end;
  }

  /** Soft reset (a fresh interpreter; main.py does not run). */
  softReset(): Promise<void> {
    return this.withRepl(() => this.client.softReset());
  }

  // Files -----------------------------------------------------------------------------------------

  /** Write a file on the board (folders are created). */
  writeFile(path: string, data: string | Uint8Array): Promise<void> {
    return this.withRepl(() => this.client.writeFile(path, data));
  }

  /** Copy a local file to the board; `remote` defaults to /NAME. */
  async upload(local: string, remote?: string): Promise<void> {
    const data = readLocalFile(local, 'file');
    await this.writeFile(remote ?? '/' + local.slice(local.lastIndexOf('/') + 1), data);
  }

  /** Copy a local folder's contents below `remote` (e.g. `uploadDir('lib', '/lib')`). */
  async uploadDir(local: string, remote = '/'): Promise<void> {
    for (const it of folderItems(local, remote)) await this.upload(it.local, it.remote);
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.withRepl(() => this.client.readFile(path));
  }

  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readFile(path));
  }

  listFiles(path = '/', opts: { recursive?: boolean } = {}): Promise<RemoteEntry[]> {
    return this.withRepl(() => this.client.list(path, opts));
  }

  remove(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.withRepl(() => this.client.remove(path, opts));
  }

  /** Stop the board, the network and the server. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.log.fail(new PicowSimError('the board was disposed', 1), false);
    this.client.dispose();
    await this.world.close();
  }
}
