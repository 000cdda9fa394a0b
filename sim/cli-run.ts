/**
 * The command's run on a board (loaded by cli.ts once the arguments and the firmware are good):
 * the world built by the session layer from the flags (cli-world.ts), then one of three modes —
 * a script run as main.py, the console on a pty for tools, or the interactive terminal — until
 * `--expect`, `--timeout`, the script's end, a halt or a signal.
 */
import { isAbsolute, relative } from 'node:path';
import type { BoardEvent } from './board/device.ts';
import { describeHalt, type PicoWBoard as Board, type ConsoleSource, type ConsoleTarget } from './board/picow.ts';
import { loadUf2File } from './board/uf2.ts';
import type { CliIo } from './cli.ts';
import type { CliOptions } from './cli-options.ts';
import { cliWorldOptions } from './cli-world.ts';
import { PicowSimError, RunFailure } from './errors.ts';
import type { EventStream } from './events.ts';
import type { Logger } from './log.ts';
import type { GdbServer } from './ports/gdb-server.ts';
import type { SerialPortServer } from './ports/rfc2217.ts';
import { openUartPort, type UartPort } from './ports/uart-port.ts';
import { uartView } from './ports/uart-view.ts';
import { openPty, type PtyBridge } from './pty.ts';
import type { UploadItem } from './repl/board-link.ts';
import type { MainEnd } from './repl/monitor.ts';
import { ConsoleDecoder, ExpectSet } from './session/console.ts';
import { bootToPrompt, startMain, watchMain } from './session/program.ts';
import { buildWorld } from './session/world.ts';

const CTRL_X = 0x18;

export interface Ending {
  code: number;
  message: string | null;
  /** The board's script ended (returned, raised, rebooted): the board has nothing more to do. */
  scriptDone?: boolean;
}

/** What a run waits for on the console (`--expect`): an `ExpectSet`, or a board's view of several boards' expectations. */
export interface ConsoleExpect {
  readonly met: boolean;
  /** Feed shown text; true once everything expected has shown. */
  feed(text: string): boolean;
  /** What has not shown yet, for a message. */
  missing(): string;
  /** The texts not shown yet (`--json` reports them as failed expectations). */
  readonly unseen: readonly string[];
}

export interface BoardRunContext {
  /** The resolved UF2. */
  firmware: string;
  /** Files to copy besides the script (checked already). */
  uploads: UploadItem[];
  demo: boolean;
  logger: Logger;
  status: (line: string) => void;
  /** `--json`: the stream the run reports to instead of text. */
  events: EventStream | null;
}

/** Build the world, run the mode the flags ask for, and return the exit code. */
export async function runOnBoard(opts: CliOptions, io: CliIo, c: BoardRunContext): Promise<number> {
  const { logger, status } = c;
  const image = loadUf2File(c.firmware); // a bad UF2 ends the run here, before anything starts
  const world = await buildWorld(cliWorldOptions(opts, { image, logger, demo: c.demo, status }));
  const events = c.events;
  events?.attachWorld(world);
  const wallStart = performance.now();
  const run = new ConsoleRun(opts, io, world.board, logger, undefined, events);
  try {
    if (opts.gdb !== null) await startGdb(run, opts.gdb, opts.gdbWait, status);
    await openUartPorts(run, status);
    if (opts.script) {
      status(`booting (firmware ${c.firmware})`);
      runScriptMode(run, opts.script, c.uploads, status);
    } else if (opts.pty || opts.serialPort !== null) await toolPortsMode(run, status);
    else terminalMode(run, status);
    const end = await run.ended;
    if (events) {
      for (const p of run.expect.unseen) events.emit({ type: 'expect', name: '--expect', status: 'fail', summary: `printed ${JSON.stringify(p)}` });
      events.emit({ type: 'result', exitCode: end.code, message: end.message, simSeconds: events.time(), wallSeconds: (performance.now() - wallStart) / 1000 });
      events.close();
    }
    if (c.demo && end.code === 0) {
      status("next: 'npm run sim -- my_script.py' runs your script, 'npm run sim -- --repl' opens the REPL");
    }
    if (end.message) {
      if (end.code === 0) status(end.message);
      else io.stderr.write(`${run.rawTty ? '\r\n' : '\n'}picow-sim: ${end.message}\n`);
    } else if (run.rawTty) io.stderr.write('\r\n');
    return end.code;
  } finally {
    await run.cleanup();
    await world.close();
  }
}

/**
 * One run of the command on a board: where its console goes (`sink`), `--expect` and
 * `--timeout`, how it ends (halt, fault, signal), and what to undo at the end. With several
 * boards (cli-boards.ts) each board has one, with its own `opts` (its pty), a view of the shared
 * expectations, and its console lines written through a `[NAME] ` prefix.
 */
export class ConsoleRun {
  readonly ended: Promise<Ending>;
  over = false;
  rawTty = false;
  /** Where shown console bytes go (terminal, or the pty); null: nowhere yet. */
  sink: ((bytes: Uint8Array, source: ConsoleSource) => void) | null;
  /** Held while a person or a tool is at the console: the board's time follows the wall clock. */
  readonly holds: { release(): void }[] = [];
  pty: PtyBridge | null = null;
  serialPort: SerialPortServer | null = null;
  gdb: GdbServer | null = null;
  readonly uartPorts: UartPort[] = [];
  /** UARTs that are not the console, shown beside it, marked (`[uart0] …`). */
  private readonly uarts: ReturnType<typeof uartView>;
  readonly expect: ConsoleExpect;
  readonly inputTarget: ConsoleTarget;
  private readonly decoder = new ConsoleDecoder();
  private finishRun!: (e: Ending) => void;
  private timer: NodeJS.Timeout | null = null;
  private readonly onSignal: () => void;

  constructor(
    readonly opts: CliOptions,
    readonly io: CliIo,
    readonly board: Board,
    readonly logger: Logger,
    expect?: ConsoleExpect,
    readonly events: EventStream | null = null,
  ) {
    this.ended = new Promise<Ending>((r) => (this.finishRun = r));
    this.expect =
      expect ??
      new ExpectSet(opts.expect, (text) =>
        events?.emit({ type: 'expect', name: '--expect', status: 'pass', summary: `printed ${JSON.stringify(text)}` }),
      );
    // The board sends only its console on 'console' (USB CDC when presented, else UART0, or the
    // one --console names); the other UARTs are shown beside it, marked, and on their own ports.
    board.consoleChoice = opts.console;
    this.inputTarget = 'auto';
    this.sink = (bytes, s) => this.toTerminal(bytes, s);
    board.on('console', (bytes: Uint8Array, s: ConsoleSource) => this.sink?.(bytes, s));
    this.uarts = uartView(
      (text) => {
        io.stdout.write(text);
        this.check(text);
      },
      io.stdin.isTTY && !opts.script && !opts.pty ? '\r\n' : '\n',
    );
    board.on('uart', (bytes: Uint8Array, s: ConsoleSource) => {
      if (s === board.consoleSource) return;
      if (events) this.toTerminal(bytes, s); // --json: each UART's events carry its name
      else this.uarts.push(bytes, s);
    });
    board.on('event', (e: BoardEvent) => this.onBoardEvent(e));
    if (opts.timeout !== null) {
      const secs = opts.timeout;
      this.timer = setTimeout(
        () => this.finish(1, `timed out after ${secs} s${this.expect.met ? '' : ` without seeing ${this.expect.missing()}`}`),
        secs * 1000,
      );
    }
    this.onSignal = () => this.finish(opts.pty ? 0 : 130, opts.pty ? null : 'interrupted');
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  finish(code: number, message: string | null = null, scriptDone = false): void {
    if (this.over) return;
    this.over = true;
    this.finishRun({ code, message, scriptDone });
  }

  /** Shown text, checked against `--expect`. */
  check(text: string): void {
    if (!this.over && !this.expect.met && this.expect.feed(text)) this.finish(0, null);
  }

  toTerminal(bytes: Uint8Array, s: ConsoleSource): void {
    const text = this.decoder.decode(bytes, s);
    if (this.events) this.events.console(text, s);
    else this.io.stdout.write(bytes);
    this.check(text);
  }

  /** Console text shown (the script's output through the end-of-run monitor). */
  show(text: string, s: ConsoleSource): void {
    if (this.events) this.events.console(text, s);
    else this.io.stdout.write(text);
    this.check(text);
  }

  decode(bytes: Uint8Array, s: ConsoleSource): string {
    return this.decoder.decode(bytes, s);
  }

  private onBoardEvent(e: BoardEvent): void {
    if (e.type === 'halt') {
      this.finish(e.exitCode ?? 0, `the program halted: ${describeHalt(e)}${e.exitCode !== null ? ` (exit code ${e.exitCode})` : ''}`);
    } else if (e.type === 'bootsel' || e.type === 'fault') {
      this.finish(1, e.type === 'fault' ? `the board faulted: ${e.message}` : describeHalt(e));
    } else if (e.type === 'reset' && e.reason !== 'power-on') {
      this.logger.info('board', `reset (${e.reason})`);
    }
  }

  async cleanup(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    const stdin = this.io.stdin;
    if (this.rawTty) stdin.setRawMode(false);
    stdin.pause();
    stdin.removeAllListeners('data');
    for (const h of this.holds.splice(0)) h.release();
    this.uarts.flush();
    for (const p of this.uartPorts.splice(0)) await p.close();
    if (this.pty) await this.pty.close();
    if (this.serialPort) await this.serialPort.close();
    if (this.gdb) await this.gdb.close();
  }
}

/** Script mode: boot, copy the files and the script as main.py, run it, end with it. */
export function runScriptMode(run: ConsoleRun, script: string, uploads: UploadItem[], status: (m: string) => void): void {
  // USB output is raw-REPL traffic until main.py runs (then the monitor shows it): show here
  // only a console on a UART (--console uart0).
  run.sink = (bytes, s) => {
    if (s !== 'usb') run.toTerminal(bytes, s);
  };
  const out = (text: string): void => {
    if (run.board.consoleSource !== 'usb') return;
    run.show(text, 'usb');
  };
  const onEnd = (end: MainEnd): void => {
    if (end.kind === 'exception') run.finish(1, `${script} raised an uncaught exception: ${end.summary}`);
    else if (!run.expect.met) run.finish(1, `${script} finished without printing ${run.expect.missing()}`, true);
    else run.finish(0, end.kind === 'soft-reboot' ? `${script} ended with a soft reboot` : null, true);
  };
  loadScript(run.board, script, uploads, run.logger, status, out, onEnd).catch((e: unknown) => {
    if (e instanceof PicowSimError) run.finish(e.exitCode, e.message);
    else run.finish(1, `internal error: ${e instanceof Error ? e.message : String(e)}`);
  });
}

/** Boot to the prompt, upload, reset, watch main.py. Resolves when main.py is running. */
async function loadScript(
  board: Board,
  script: string,
  uploads: UploadItem[],
  logger: Logger,
  status: (m: string) => void,
  out: (text: string) => void,
  onEnd: (end: MainEnd) => void,
): Promise<void> {
  const booted = await bootToPrompt(board, { usbTimeoutMs: 20_000, timeoutMs: 30_000 });
  if (!booted.usb) {
    throw new RunFailure(
      'the firmware has no USB serial console within 20 s, so there is no MicroPython REPL to copy the script through ' +
        '(for a program without MicroPython, leave out the script)',
    );
  }
  if (!booted.prompt) logger.info('repl', 'no MicroPython prompt seen after boot; trying the raw REPL anyway');
  const items = [...uploads, { local: script, remote: '/main.py' }];
  const first = await startMain(board, items, { logger, status, label: displayPath(script), holdName: 'raw REPL upload' });
  // From here the USB console belongs to the program: pass it through the end-of-run monitor.
  watchMain(board, first, out, onEnd);
}

/** `--uart0`/`--uart1 pty:PATH|tcp:PORT`: each UART's pins as a port of their own. */
async function openUartPorts(run: ConsoleRun, status: (m: string) => void): Promise<void> {
  for (const [name, spec] of [['uart0', run.opts.uart0], ['uart1', run.opts.uart1]] as const) {
    if (!spec) continue;
    const port = await openUartPort(run.board, name, spec, run.logger);
    run.uartPorts.push(port);
    status(`${name} at ${port.where}`);
  }
}

/** `--gdb PORT` (`--gdb-wait`): the GDB remote server for both cores, before the board starts. */
async function startGdb(run: ConsoleRun, port: number, wait: boolean, status: (m: string) => void): Promise<void> {
  const { startGdbServer } = await import('./ports/gdb-server.ts');
  run.gdb = await startGdbServer(run.board, { port, logger: run.logger, wait });
  // A port the system picked is printed even with --quiet: nothing else tells it.
  (port === 0 ? (m: string) => run.io.stderr.write(`picow-sim: ${m}\n`) : status)(
    `GDB server on localhost:${run.gdb.port}${wait ? ', the board held at reset until the debugger continues' : ''} — ` +
      `connect with: gdb-multiarch PROGRAM.elf -ex 'target remote localhost:${run.gdb.port}'`,
  );
}

/**
 * `--pty PATH` and `--serial-port PORT`: like a real board's /dev/ttyACM0, the console ports appear
 * once the firmware is up (a tool that connects while MicroPython is still booting would lose its
 * Ctrl-C/Ctrl-A).
 */
export async function toolPortsMode(run: ConsoleRun, status: (m: string) => void): Promise<void> {
  const board = run.board;
  const { pty: ptyPath, serialPort } = run.opts;
  run.sink = null;
  const booted = await bootToPrompt(board, { timeoutMs: 15_000 });
  if (!booted.prompt) run.logger.info('cli', 'no MicroPython prompt after boot; opening the console ports anyway');
  if (run.over) return;
  const outputs: ((bytes: Uint8Array) => void)[] = [];
  if (ptyPath) {
    run.holds.push(board.hostIo.begin('pty console'));
    const bridge = (run.pty = await openPty(ptyPath, {
      logger: run.logger,
      onData: (bytes) => board.writeConsole(bytes, run.inputTarget),
      onExit: (why) => run.finish(1, `the pty bridge ended: ${why}`),
    }));
    outputs.push((bytes) => bridge.write(bytes));
    status(`console at ${bridge.path} — connect with: mpremote connect ${bridge.path} (Ctrl-C stops the simulator)`);
  }
  if (serialPort !== null) {
    const { consoleLink } = await import('./ports/serial-link.ts');
    const { startSerialPortServer } = await import('./ports/rfc2217.ts');
    let hold: { release(): void } | null = null;
    const server = (run.serialPort = await startSerialPortServer(consoleLink(board), {
      port: serialPort,
      logger: run.logger,
      // A connected tool is host I/O: the board's waits then take their wall time.
      onClient: (connected) => {
        hold?.release();
        hold = connected ? board.hostIo.begin('serial port client') : null;
      },
    }));
    run.holds.push({ release: () => hold?.release() });
    (serialPort === 0 ? (m: string) => run.io.stderr.write(`picow-sim: ${m}\n`) : status)(
      `console at rfc2217://localhost:${server.port} — connect with: mpremote connect port:rfc2217://localhost:${server.port} (Ctrl-C stops the simulator)`,
    );
  }
  run.sink = (bytes, s) => {
    for (const out of outputs) out(bytes);
    const text = run.decode(bytes, s);
    run.events?.console(text, s);
    run.check(text);
  };
}

/** The interactive console in the terminal (or stdin piped in). */
function terminalMode(run: ConsoleRun, status: (m: string) => void): void {
  const board = run.board;
  const stdin = run.io.stdin;
  board.start();
  const stdinHold = board.hostIo.begin(stdin.isTTY ? 'terminal' : 'stdin');
  run.holds.push(stdinHold);
  stdin.on('end', () => stdinHold.release()); // CI gives no stdin: then time may run ahead
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    run.rawTty = true;
    status('MicroPython REPL on a simulated Pico W — Ctrl-X exits; Ctrl-C, Ctrl-D, Ctrl-E go to MicroPython');
    // If no prompt shows soon after USB is up, press Enter for the user (as one does after
    // opening a serial terminal on a real board). Cosmetic only: nothing waits on it.
    if (run.inputTarget === 'auto' || run.inputTarget === 'usb') pressEnterIfSilent(run);
  }
  stdin.on('data', (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (run.rawTty) {
      const x = bytes.indexOf(CTRL_X);
      if (x >= 0) {
        if (x > 0) board.writeConsole(bytes.subarray(0, x), run.inputTarget);
        run.finish(0, null);
        return;
      }
    }
    board.writeConsole(bytes, run.inputTarget);
  });
  stdin.resume();
}

/** 1.5 s after the board's USB port opened, press Enter unless a prompt showed. */
function pressEnterIfSilent(run: ConsoleRun): void {
  const board = run.board;
  const later = (): void => {
    const t = setTimeout(() => {
      if (!run.over && !board.output.includes('>>> ')) board.writeConsole('\r', 'usb');
    }, 1500);
    t.unref();
  };
  if (board.usbReady) later();
  else board.once('usb-ready', later);
}

/** A path as the user would type it: relative to the working folder when inside it. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

