/**
 * picow-sim as a library, for users' own test suites:
 *
 *   import { PicoW } from 'picow-sim';
 *   const pico = await PicoW.boot();
 *   expect(await pico.exec('print(1 + 1)')).toBe('2\n');
 *   await pico.dispose();
 *
 * A thin layer over the simulated board (sim/board) and the raw REPL client (sim/repl).
 */
import type { BoardEvent } from './board/device.ts';
import type { CpuEngineKind } from './cpu/index.ts';
import { PicoW as Board, type ConsoleSource, type ConsoleTarget } from './board/picow.ts';
import { PicowSimError, RunFailure } from './errors.ts';
import { findFirmware, FirmwareMissingError, missingFirmwareAdvice } from './firmware.ts';
import { silentLogger, type Logger } from './log.ts';
import { buildWorld, type World } from './cli-world.ts';
import type { Lan } from './lan.ts';
import type { ApConfig } from './cyw43/radio.ts';
import type { ForwardRule, HostEntry, LinkFaults, MapRule } from './net/policy.ts';
import { folderItems, readLocalFile, usbStream, waitForFirstPrompt } from './repl/board-link.ts';
import { ReplClient, type RemoteEntry } from './repl/client.ts';
import { MicroPythonError } from './repl/errors.ts';
import { MainRunMonitor, type MainEnd } from './repl/monitor.ts';

export { MicroPythonError, ReplInterruptedError, ReplProtocolError, ReplTimeoutError } from './repl/errors.ts';
export { ReplClient, type ExecResult, type RemoteEntry } from './repl/client.ts';
export type { ByteStream } from './repl/stream.ts';
export type { MainEnd } from './repl/monitor.ts';
export { FirmwareError, PicowSimError, RunFailure, UsageError } from './errors.ts';
export { Logger } from './log.ts';
/** Sensor models and timelines (ADC channels, DS18B20 on 1-Wire), for custom boards in tests. */
export * as sensors from './sensors/index.ts';
/** Scenario files: run one from a test, or parse and check one. */
export { runScenarioFile, loadScenario, ScenarioError, type RunResult as ScenarioResult } from './scenario/index.ts';
export type { ApConfig, ForwardRule, HostEntry, LinkFaults, MapRule };
export { Board as PicoWBoard };
/** Several boards on one radio and LAN: `const lan = new Lan(); await PicoW.boot({ lan, name: 'hub' })`. */
export { Lan, type LanOptions } from './lan.ts';
export type { BoardEvent, ConsoleSource };

export interface BootOptions {
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
  /** Virtual network: `--map`, `--host`, `--forward` specs (or parsed rules), as on the command line. */
  maps?: (string | MapRule)[];
  hosts?: (string | HostEntry)[];
  forwards?: (string | ForwardRule)[];
  allowInternet?: boolean;
  pcapFile?: string;
  faults?: LinkFaults;
  /**
   * Start the embedded echo server: a port, or 0 for any free one (see `serverPort`; the board
   * reaches it at 10.0.2.2:port). Default: none.
   */
  server?: number;
  /** Wait for MicroPython's REPL after power-on (default true; false for firmware without one). */
  repl?: boolean;
  /** Milliseconds to wait for the REPL after power-on. Default 60 000. */
  bootTimeout?: number;
  /**
   * A radio and LAN shared with other boards (`new Lan({ aps, maps, … })`): boards booted with the
   * same `lan` scan and join each other's APs and get 10.0.2.15, .16, … in the order they boot.
   * The network options above then come from the Lan.
   */
  lan?: Lan;
}

export interface TimeoutOption {
  /** Milliseconds of wall-clock time. */
  timeout?: number;
}

export class OutputTimeout extends RunFailure {}

interface OutputWaiter {
  test: string | RegExp;
  resolve: (text: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** A booted, running Pico W with MicroPython. */
export class PicoW {
  /** The simulated board underneath (events, console, power cycle). */
  readonly board: Board;
  private readonly client: ReplClient;
  private text = '';
  private cursor = 0;
  private busy = 0;
  private readonly decoders = new Map<ConsoleSource, TextDecoder>();
  private readonly waiters = new Set<OutputWaiter>();
  private monitor: MainRunMonitor | null = null;
  private mainEnd: Promise<MainEnd> | null = null;
  private disposed = false;
  private halted: Error | null = null;

  private readonly world: World;

  private constructor(world: World, logger: Logger) {
    this.world = world;
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
        for (const w of this.waiters) this.failWaiter(w, this.halted);
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
    const world = await buildWorld({
      firmware,
      logger,
      name: opts.name,
      uniqueId: opts.uniqueId,
      cpu: opts.cpu,
      hotThreshold: opts.hotThreshold,
      warmupCycles: opts.warmupCycles,
      aps: opts.aps,
      maps: opts.maps,
      hosts: opts.hosts,
      forwards: opts.forwards,
      allowInternet: opts.allowInternet,
      pcapFile: opts.pcapFile,
      faults: opts.faults,
      serverPort: opts.server ?? null,
      lan: opts.lan,
    });
    const board = world.board;
    const pico = new PicoW(world, logger);
    board.start();
    try {
      if (opts.repl ?? true) {
        const ok = await waitForFirstPrompt(board, opts.bootTimeout ?? 60_000);
        if (!ok) {
          throw new RunFailure(
            `no MicroPython REPL within ${(opts.bootTimeout ?? 60_000) / 1000} s of power-on; ` +
              `output so far: ${JSON.stringify(board.output.slice(-200))}`,
          );
        }
      }
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
    return this.text;
  }

  /** Forget the output so far (waitForOutput then only sees new output). */
  clearOutput(): void {
    this.text = '';
    this.cursor = 0;
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
    const timeout = opts.timeout ?? 30_000;
    return new Promise((resolve, reject) => {
      const w: OutputWaiter = {
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.failWaiter(
            w,
            new OutputTimeout(
              `timed out after ${timeout} ms waiting for ${String(test)}; recent output: ${JSON.stringify(this.text.slice(-300))}`,
            ),
          );
        }, timeout),
      };
      this.waiters.add(w);
      this.checkWaiters();
      if (this.waiters.has(w) && this.halted) this.failWaiter(w, this.halted);
    });
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
    let d = this.decoders.get(source);
    if (!d) this.decoders.set(source, (d = new TextDecoder()));
    const s = d.decode(bytes, { stream: true });
    if (!s) return;
    this.text += s;
    if (source === 'usb') this.monitor?.push(s);
    this.checkWaiters();
  }

  private checkWaiters(): void {
    for (const w of this.waiters) {
      const hay = this.text.slice(this.cursor);
      let end = -1;
      if (typeof w.test === 'string') {
        const i = hay.indexOf(w.test);
        if (i >= 0) end = i + w.test.length;
      } else {
        const m = new RegExp(w.test.source, w.test.flags.replace('g', '')).exec(hay);
        if (m) end = m.index + m[0].length;
      }
      if (end < 0) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      this.cursor += end;
      w.resolve(hay.slice(0, end));
    }
  }

  private failWaiter(w: OutputWaiter, e: Error): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.reject(e);
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
    const out = await this.withRepl(() => this.client.exec(code, { timeoutMs: opts.timeout ?? 30_000 }));
    return out.replace(/\r\n/g, '\n');
  }

  /** Like exec, but resolves with stdout and the exception text apart instead of throwing. */
  async execRaw(code: string, opts: TimeoutOption = {}): Promise<{ stdout: string; stderr: string }> {
    const r = await this.withRepl(() => this.client.execRaw(code, { timeoutMs: opts.timeout ?? 30_000 }));
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
    await this.withRepl(async () => {
      for (const [path, data] of Object.entries(opts.files ?? {})) await this.client.writeFile(path, data);
      await this.client.writeFile('/main.py', code);
      let end!: (e: MainEnd) => void;
      this.mainEnd = new Promise<MainEnd>((r) => (end = r));
      this.monitor = new MainRunMonitor(() => undefined, (e) => {
        this.monitor = null;
        end(e);
      });
      await this.client.resetToMain();
      // What arrived right after the reboot line is the program's: hand it to the log.
      this.busy--;
      try {
        const rest = this.client.reader.discard();
        if (rest.length) this.onConsole(rest, 'usb');
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
    const timeout = opts.timeout ?? 30_000;
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
    for (const w of this.waiters) this.failWaiter(w, new PicowSimError('the board was disposed', 1));
    this.client.dispose();
    await this.world.close();
  }
}
