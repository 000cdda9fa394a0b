/**
 * A scripted stand-in for MicroPython's REPL (pyexec.c as documented in docs/reference/repl.rst):
 * friendly REPL, raw REPL, raw-paste with a real stdin buffer of limited size and window grants,
 * Ctrl-C/Ctrl-D handling. Code is not interpreted: each test supplies a handler that answers it.
 *
 * The board works asynchronously, a few bytes per tick, like a device reading its USB FIFO, so
 * a host that ignores flow control overflows `stdinMax` and the overflow is counted.
 */
import type { ByteStream } from '../../sim/repl/stream.ts';

export interface CodeResult {
  stdout?: string | Uint8Array;
  stderr?: string;
}

export type CodeHandler = (code: Uint8Array, board: FakeMicroPython) => CodeResult | Promise<CodeResult>;

export interface FakeOptions {
  /** 'yes' answers R\x01, 'no' answers R\x00, 'old' answers like firmware before raw-paste (ra...). */
  rawPaste?: 'yes' | 'no' | 'old';
  /** Size of the board's stdin buffer (MICROPY_REPL_STDIN_BUFFER_MAX); the window is half of it. */
  stdinMax?: number;
  /** Bytes the board consumes per tick. */
  bytesPerTick?: number;
  /** In raw-paste, stop the transfer after this many bytes with a SyntaxError (like a parse error). */
  syntaxErrorAfter?: number;
  /** In raw-paste, print this text after this many bytes and stop answering (a reset mid-transfer). */
  resetAfter?: { bytes: number; text: string };
  /** In raw-paste, never grant another window (a stuck board). */
  stopGranting?: boolean;
  /** A program is running at start (prints every tick until Ctrl-C). */
  runningAtStart?: boolean;
  /** A board that never shows a MicroPython prompt (a C program). */
  mute?: boolean;
}

const BANNER = 'MicroPython v1.28.0 on 2026-04-06; Raspberry Pi Pico W with RP2040\r\nType "help()" for more information.\r\n>>> ';

type State = 'friendly' | 'raw' | 'paste' | 'running' | 'draining' | 'dead' | 'program';

export class FakeMicroPython implements ByteStream {
  /** Bytes the host sent that did not fit in the stdin buffer. */
  overflow = 0;
  /** Largest number of bytes waiting in the stdin buffer at once. */
  maxBuffered = 0;
  /** Every code block the board received, in order. */
  readonly codes: Uint8Array[] = [];
  /** Every byte the host sent. */
  readonly received: number[] = [];
  softResets = 0;
  mainRuns = 0;
  /** Output of main.py after a soft reset in the friendly REPL. */
  mainOutput = '';

  private readonly opts: Required<Omit<FakeOptions, 'resetAfter' | 'syntaxErrorAfter'>> &
    Pick<FakeOptions, 'resetAfter' | 'syntaxErrorAfter'>;
  private rx: number[] = [];
  private listeners = new Set<(b: Uint8Array) => void>();
  private state: State;
  private line: number[] = [];
  private window = 0;
  private windowRemain = 0;
  private pasted = 0;
  private timer: NodeJS.Immediate | null = null;
  private programTimer: NodeJS.Timeout | null = null;
  private running: { cancelled: boolean; cancel: () => void; whenCancelled: Promise<void> } | null = null;

  constructor(
    private handler: CodeHandler = () => ({}),
    opts: FakeOptions = {},
  ) {
    this.opts = {
      rawPaste: opts.rawPaste ?? 'yes',
      stdinMax: opts.stdinMax ?? 256,
      bytesPerTick: opts.bytesPerTick ?? 16,
      syntaxErrorAfter: opts.syntaxErrorAfter,
      resetAfter: opts.resetAfter,
      stopGranting: opts.stopGranting ?? false,
      runningAtStart: opts.runningAtStart ?? false,
      mute: opts.mute ?? false,
    };
    this.state = this.opts.mute ? 'dead' : this.opts.runningAtStart ? 'program' : 'friendly';
    if (this.state === 'program') this.startProgram();
  }

  /** After a simulated reset: back at the friendly REPL with an empty input buffer. */
  revive(): void {
    this.rx = [];
    this.line = [];
    this.state = 'friendly';
  }

  setHandler(h: CodeHandler): void {
    this.handler = h;
  }

  dispose(): void {
    if (this.timer) clearImmediate(this.timer);
    if (this.txTimer) clearImmediate(this.txTimer);
    if (this.programTimer) clearInterval(this.programTimer);
    this.state = 'dead';
  }

  // ByteStream -----------------------------------------------------------------------------------
  write(bytes: Uint8Array): void {
    for (const b of bytes) {
      this.received.push(b);
      if (this.state === 'program' && b === 0x03) {
        // Ctrl-C is caught by the USB driver immediately, not queued.
        this.stopProgram();
        continue;
      }
      if (this.state === 'running' && b === 0x03 && this.running) {
        this.running.cancel();
        continue;
      }
      if (this.rx.length >= this.opts.stdinMax) {
        this.overflow++;
        continue;
      }
      this.rx.push(b);
    }
    this.maxBuffered = Math.max(this.maxBuffered, this.rx.length);
    this.kick();
  }

  onData(cb: (b: Uint8Array) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  // Board side -----------------------------------------------------------------------------------
  private out(data: string | Uint8Array | number[]): void {
    const bytes =
      typeof data === 'string' ? Buffer.from(data, 'latin1') : data instanceof Uint8Array ? data : Uint8Array.from(data);
    if (bytes.length === 0) return;
    const copy = Uint8Array.from(bytes);
    // Deliver asynchronously and in order, in two pieces when possible, as a USB link would.
    const cut = copy.length > 3 ? Math.floor(copy.length / 2) : copy.length;
    this.txQueue.push(copy.subarray(0, cut));
    if (cut < copy.length) this.txQueue.push(copy.subarray(cut));
    this.pumpTx();
  }

  private txQueue: Uint8Array[] = [];
  private txTimer: NodeJS.Immediate | null = null;
  private pumpTx(): void {
    if (this.txTimer) return;
    this.txTimer = setImmediate(() => {
      this.txTimer = null;
      const piece = this.txQueue.shift();
      if (piece) for (const l of this.listeners) l(piece);
      if (this.txQueue.length) this.pumpTx();
    });
  }

  private startProgram(): void {
    let n = 0;
    this.programTimer = setInterval(() => this.out(`tick ${n++}\r\n`), 1);
  }

  private stopProgram(): void {
    if (this.programTimer) clearInterval(this.programTimer);
    this.programTimer = null;
    this.state = 'friendly';
    this.out('Traceback (most recent call last):\r\n  File "main.py", line 3, in <module>\r\nKeyboardInterrupt: \r\n' + BANNER);
  }

  private kick(): void {
    if (this.timer || this.state === 'dead') return;
    this.timer = setImmediate(() => {
      this.timer = null;
      this.tick();
    });
  }

  private tick(): void {
    let budget = this.opts.bytesPerTick;
    while (budget-- > 0 && this.rx.length > 0) {
      if (this.state === 'running' || this.state === 'dead' || this.state === 'program') return;
      this.consume(this.rx.shift()!);
    }
    if (this.rx.length > 0) this.kick();
  }

  private consume(c: number): void {
    switch (this.state) {
      case 'friendly':
        return this.friendly(c);
      case 'raw':
        return this.raw(c);
      case 'paste':
        return this.paste(c);
      case 'draining':
        if (c === 0x03 || c === 0x04) {
          this.state = 'raw';
          this.out('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>');
        }
        return;
      default:
        return;
    }
  }

  private friendly(c: number): void {
    if (c === 0x01) {
      this.state = 'raw';
      this.line = [];
      this.out('\r\nraw REPL; CTRL-B to exit\r\n>');
    } else if (c === 0x03) {
      this.line = [];
      this.out('\r\n>>> ');
    } else if (c === 0x04 && this.line.length === 0) {
      this.softResets++;
      this.mainRuns++;
      this.out('\r\nMPY: soft reboot\r\n' + this.mainOutput + BANNER);
    } else if (c === 0x0d) {
      this.line = [];
      this.out('\r\n>>> ');
    } else {
      this.line.push(c);
      this.out([c]);
    }
  }

  private raw(c: number): void {
    if (c === 0x01) {
      if (this.line.length === 2 && this.line[0] === 0x05) {
        const cmd = this.line[1]!;
        this.line = [];
        return this.startPaste(cmd);
      }
      this.line = [];
      this.out('raw REPL; CTRL-B to exit\r\n>');
    } else if (c === 0x02) {
      this.line = [];
      this.state = 'friendly';
      this.out('\r\n' + BANNER);
    } else if (c === 0x03) {
      this.line = [];
    } else if (c === 0x04) {
      this.out('OK');
      const code = Uint8Array.from(this.line);
      this.line = [];
      if (code.length === 0) {
        this.softResets++;
        this.out('\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>');
        return;
      }
      this.run(code);
    } else {
      this.line.push(c);
    }
  }

  private startPaste(cmd: number): void {
    if (cmd !== 0x41 || this.opts.rawPaste === 'no') {
      this.out('R\x00>');
      return;
    }
    if (this.opts.rawPaste === 'old') {
      // Old firmware: the Ctrl-A restarts the raw REPL.
      this.out('raw REPL; CTRL-B to exit\r\n>');
      return;
    }
    this.window = this.opts.stdinMax / 2;
    this.windowRemain = this.window;
    this.pasted = 0;
    this.state = 'paste';
    this.out(['R'.charCodeAt(0), 0x01, this.window & 0xff, this.window >> 8, 0x01]);
  }

  private paste(c: number): void {
    if (c === 0x03 || c === 0x04) {
      this.out('\x04');
      this.state = 'raw';
      if (c === 0x03) {
        this.out('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nKeyboardInterrupt: \r\n\x04>');
        return;
      }
      const code = Uint8Array.from(this.line);
      this.line = [];
      this.run(code, true);
      return;
    }
    this.line.push(c);
    this.pasted++;
    if (this.opts.resetAfter && this.pasted >= this.opts.resetAfter.bytes) {
      this.state = 'dead';
      this.out(this.opts.resetAfter.text);
      this.opts.resetAfter = undefined; // once
      return;
    }
    if (this.opts.syntaxErrorAfter !== undefined && this.pasted >= this.opts.syntaxErrorAfter) {
      this.opts.syntaxErrorAfter = undefined; // once
      this.codes.push(Uint8Array.from(this.line));
      this.line = [];
      this.out('\x04');
      this.state = 'draining';
      return;
    }
    if (--this.windowRemain === 0) {
      this.windowRemain = this.window;
      if (!this.opts.stopGranting) this.out('\x01');
    }
  }

  private run(code: Uint8Array, _paste = false): void {
    this.codes.push(code);
    this.state = 'running';
    let cancel = (): void => undefined;
    const whenCancelled = new Promise<void>((r) => (cancel = r));
    const token = { cancelled: false, whenCancelled, cancel: () => { token.cancelled = true; cancel(); } };
    this.running = token;
    void Promise.resolve()
      .then(() => this.handler(code, this))
      .then(
        (r) => {
          if (token.cancelled) {
            this.out('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>');
          } else {
            this.out(r.stdout ?? '');
            this.out('\x04');
            this.out(r.stderr ?? '');
            this.out('\x04>');
          }
        },
        (e: unknown) => this.out(`\x04\x04Traceback:\r\nFakeBoardError: ${String(e)}\r\n\x04>`),
      )
      .finally(() => {
        this.running = null;
        if (this.state === 'running') this.state = 'raw';
        this.kick();
      });
  }

  /** Wait until a running handler is cancelled by Ctrl-C (for handlers that "run forever"). */
  untilCancelled(): Promise<void> {
    return this.running ? this.running.whenCancelled : Promise.resolve();
  }
}
