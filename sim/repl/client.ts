/**
 * A raw REPL client for MicroPython over any byte stream (docs/reference/repl.rst, "Raw mode and
 * raw-paste mode"). It speaks the protocol the way host tools do: interrupt, enter the raw REPL,
 * send code in raw-paste mode with the board's flow control (falling back to plain raw mode), and
 * read stdout and the exception text apart.
 */
import { silentLogger, type Logger } from '../log.ts';
import {
  MicroPythonError,
  ReplInterruptedError,
  ReplProtocolError,
  ReplTimeoutError,
} from './errors.ts';
import { ByteReader, concat, showBytes, toBytes, type ByteStream } from './stream.ts';

export const CTRL_A = 0x01;
export const CTRL_B = 0x02;
export const CTRL_C = 0x03;
export const CTRL_D = 0x04;
export const CTRL_E = 0x05;

/** What the raw REPL prints when entered (pyexec.c). */
export const RAW_REPL_BANNER = 'raw REPL; CTRL-B to exit\r\n>';
/** What a soft reset prints (`MPY: soft reboot` in current releases, `soft reboot` in old ones). */
export const SOFT_REBOOT = 'soft reboot\r\n';

export type ReplMode = 'unknown' | 'raw' | 'friendly';

export interface ReplClientOptions {
  logger?: Logger;
  /** Wall-clock limit for each protocol step (entering the raw REPL, a prompt, a window grant). Default 10 s. */
  timeoutMs?: number;
  /** Use raw-paste mode when the board supports it (default true). */
  rawPaste?: boolean;
  /** Chunk size and pause for plain raw mode, where the board has no flow control. */
  rawChunk?: number;
  rawChunkDelayMs?: number;
}

export interface ExecOptions {
  /** Wall-clock limit for running the code, after it was sent. Default 60 s; Infinity for none. */
  timeoutMs?: number;
  /** Output as it arrives (bytes the code printed). */
  onStdout?: (bytes: Uint8Array) => void;
  /** Exception text as it arrives. */
  onStderr?: (bytes: Uint8Array) => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
}

export interface RemoteEntry {
  /** Absolute path on the board, e.g. `/lib/util.py`. */
  path: string;
  name: string;
  type: 'file' | 'dir';
  /** Size in bytes for files; 0 for folders. */
  size: number;
}

const decoder = new TextDecoder();
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A Python string literal for `s` (JSON's escapes are valid Python). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** Normalise a board path: absolute, no `.`/`..`/empty parts, no trailing slash. */
export function remotePath(p: string): string {
  if (p.includes('\0')) throw new ReplProtocolError(`bad board path ${JSON.stringify(p)}`);
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) throw new ReplProtocolError(`board path must not contain '..': ${p}`);
  return '/' + parts.join('/');
}

/** A Python bytes literal: printable ASCII as is, everything else escaped. */
export function pyBytes(data: Uint8Array): string {
  let s = "b'";
  for (const b of data) {
    if (b === 0x27) s += "\\'";
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + "'";
}

/** The cheaper Python expression for `data`: a bytes literal for text, base64 for binary. */
function pyData(data: Uint8Array): { expr: string; needsB64: boolean } {
  const literal = pyBytes(data);
  const b64 = Buffer.from(data).toString('base64');
  if (literal.length <= b64.length + 10) return { expr: literal, needsB64: false };
  return { expr: `d(${pyStr(b64)})`, needsB64: true };
}

/** Python that creates folder `p` (absolute) and its parents; existing ones are fine. */
function mkdirsCode(p: string): string {
  return `import os\np=''\nfor n in ${pyStr(p)}.split('/')[1:]:\n p+='/'+n\n try:os.mkdir(p)\n except OSError as e:\n  if e.args[0]!=17:raise\n`;
}

export class ReplClient {
  mode: ReplMode = 'unknown';
  /** Whether the board accepted raw-paste mode (null until tried). */
  rawPasteSupported: boolean | null = null;
  readonly reader: ByteReader;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly useRawPaste: boolean;
  private readonly rawChunk: number;
  private readonly rawChunkDelayMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stream: ByteStream,
    opts: ReplClientOptions = {},
  ) {
    this.reader = new ByteReader(stream);
    this.logger = opts.logger ?? silentLogger();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.useRawPaste = opts.rawPaste ?? true;
    this.rawChunk = opts.rawChunk ?? 256;
    this.rawChunkDelayMs = opts.rawChunkDelayMs ?? 10;
    if (this.logger.tracing('repl')) {
      this.reader.tap = (b) => this.logger.trace('repl', `<- ${showBytes(b, 200)}`);
    }
  }

  dispose(): void {
    this.reader.dispose();
  }

  /** Send bytes to the board as they are (outside any exchange). */
  write(data: string | Uint8Array): void {
    const bytes = toBytes(data);
    this.logger.trace('repl', () => `-> ${showBytes(bytes, 200)}`);
    this.stream.write(bytes);
  }

  /** Interrupt whatever runs on the board (Ctrl-C). */
  interrupt(): void {
    this.write(new Uint8Array([CTRL_C]));
    this.mode = 'unknown';
  }

  /** Run operations one at a time, in call order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** After a failed exchange the board's state is unknown: the next call starts over. */
  private async guarded<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof MicroPythonError)) this.mode = 'unknown';
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Modes

  /**
   * Interrupt any running program and enter the raw REPL (Ctrl-C twice, then Ctrl-A). Output
   * before the raw REPL banner is discarded. Tries three times within `timeoutMs`.
   */
  enterRawRepl(opts: { softReset?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.serial(() => this.guarded(() => this.doEnterRaw(opts)));
  }

  private async doEnterRaw(opts: { softReset?: boolean; timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
    const total = opts.timeoutMs ?? this.timeoutMs;
    const attempts = 3;
    this.reader.reopen();
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      this.reader.discard();
      this.write('\r\x03\x03');
      this.write('\r\x01');
      try {
        await this.reader.readUntil(RAW_REPL_BANNER, {
          timeoutMs: total / attempts,
          what: 'the raw REPL banner (is MicroPython running on this board?)',
          signal: opts.signal,
        });
        lastErr = undefined;
        break;
      } catch (e) {
        if (!(e instanceof ReplTimeoutError)) throw e;
        lastErr = e;
      }
    }
    if (lastErr) {
      const received = (lastErr as ReplTimeoutError).received;
      throw new ReplTimeoutError(
        'a MicroPython prompt: the firmware never answered the raw REPL request (Ctrl-C, Ctrl-A)',
        total,
        received,
      );
    }
    this.mode = 'raw';
    if (opts.softReset) await this.doSoftReset();
  }

  /** Soft reset from the raw REPL: a fresh interpreter, still in the raw REPL. */
  softReset(): Promise<void> {
    return this.serial(() =>
      this.guarded(async () => {
        await this.ensureRaw();
        await this.doSoftReset();
      }),
    );
  }

  private async doSoftReset(): Promise<void> {
    this.write(new Uint8Array([CTRL_D]));
    await this.reader.readUntil(SOFT_REBOOT, { timeoutMs: this.timeoutMs, what: "'soft reboot' after Ctrl-D" });
    // boot.py runs, then the raw REPL comes back.
    await this.reader.readUntil(RAW_REPL_BANNER, {
      timeoutMs: this.timeoutMs,
      what: 'the raw REPL banner after the soft reset',
    });
    this.mode = 'raw';
  }

  /** Leave the raw REPL for the friendly REPL (Ctrl-B) and wait for its `>>> ` prompt. */
  exitRawRepl(): Promise<void> {
    return this.serial(() =>
      this.guarded(async () => {
        this.write(new Uint8Array([CTRL_B]));
        await this.reader.readUntil('>>> ', { timeoutMs: this.timeoutMs, what: "the '>>> ' prompt after Ctrl-B" });
        this.mode = 'friendly';
      }),
    );
  }

  /**
   * Soft-reset at the friendly REPL so that `boot.py` and `main.py` run, as after power-on. Resolves
   * once the board printed `soft reboot`; what follows is the program's output (read it from the
   * stream). Leaves the mode unknown.
   */
  resetToMain(): Promise<void> {
    return this.serial(() =>
      this.guarded(async () => {
        if (this.mode !== 'friendly') {
          if (this.mode !== 'raw') await this.doEnterRaw({});
          this.write(new Uint8Array([CTRL_B]));
          await this.reader.readUntil('>>> ', { timeoutMs: this.timeoutMs, what: "the '>>> ' prompt after Ctrl-B" });
        }
        this.write(new Uint8Array([CTRL_D]));
        await this.reader.readUntil(SOFT_REBOOT, { timeoutMs: this.timeoutMs, what: "'soft reboot' after Ctrl-D" });
        this.mode = 'unknown';
      }),
    );
  }

  private async ensureRaw(): Promise<void> {
    if (this.mode !== 'raw') await this.doEnterRaw({});
  }

  // ---------------------------------------------------------------------------------------------
  // Executing code

  /** Run code in the raw REPL; resolves with its stdout and exception text (never throws for a Python exception). */
  execRaw(code: string | Uint8Array, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.serial(() =>
      this.guarded(async () => {
        await this.ensureRaw();
        return this.doExec(toBytes(code), opts);
      }),
    );
  }

  /** Run code; resolves with its stdout as text, or throws MicroPythonError carrying the traceback. */
  async exec(code: string | Uint8Array, opts: ExecOptions = {}): Promise<string> {
    const r = await this.execRaw(code, opts);
    const out = text(r.stdout);
    if (r.stderr.length) throw new MicroPythonError(text(r.stderr), out);
    return out;
  }

  /** Evaluate one expression and return what `print` shows for it. */
  async eval(expr: string, opts: ExecOptions = {}): Promise<string> {
    const out = await this.exec(`print(${expr})`, opts);
    return out.replace(/\r?\n$/, '');
  }

  private async doExec(code: Uint8Array, opts: ExecOptions): Promise<ExecResult> {
    await this.sendCode(code, opts.signal);
    const runLimit = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + runLimit;
    const left = (): number => (Number.isFinite(runLimit) ? Math.max(1, deadline - Date.now()) : Infinity);
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    try {
      await this.reader.readUntil(new Uint8Array([CTRL_D]), {
        timeoutMs: left(),
        what: 'the code to finish',
        onData: (b) => {
          out.push(b);
          opts.onStdout?.(b);
        },
        signal: opts.signal,
      });
      await this.reader.readUntil(new Uint8Array([CTRL_D]), {
        timeoutMs: left(),
        what: 'the end of the exception text',
        onData: (b) => {
          err.push(b);
          opts.onStderr?.(b);
        },
        signal: opts.signal,
      });
      await this.reader.readUntil('>', { timeoutMs: this.timeoutMs, what: "the raw REPL prompt '>'" });
      return { stdout: concat(out), stderr: concat(err) };
    } catch (e) {
      if (e instanceof ReplTimeoutError || (opts.signal?.aborted ?? false)) {
        // Stop the code so the board is usable again; the next call re-enters the raw REPL.
        this.interrupt();
      }
      throw e;
    }
  }

  /** Send code and end-of-code; afterwards the board runs it and replies as in raw mode. */
  private async sendCode(code: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.useRawPaste && this.rawPasteSupported !== false) {
      const done = await this.tryRawPaste(code, signal);
      if (done) return;
    }
    await this.sendRaw(code, signal);
  }

  /** Raw-paste mode; returns false when the board does not support it (then we are back at `>`). */
  private async tryRawPaste(code: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    this.write(new Uint8Array([CTRL_E, 0x41, CTRL_A]));
    const step = (what: string) => ({ timeoutMs: this.timeoutMs, what, signal });
    const reply = await this.reader.readExactly(2, step('the raw-paste reply'));
    if (reply[0] === 0x52 && reply[1] === 0x00) {
      // Understood but not supported: the board prints the prompt again.
      this.rawPasteSupported = false;
      await this.reader.readUntil('>', step("the raw REPL prompt '>'"));
      return false;
    }
    if (reply[0] === 0x72 && reply[1] === 0x61) {
      // Old firmware took Ctrl-A as "restart the raw REPL": skip the rest of its banner.
      this.rawPasteSupported = false;
      await this.reader.readUntil(RAW_REPL_BANNER.slice(2), step('the rest of the raw REPL banner'));
      return false;
    }
    if (reply[0] !== 0x52 || reply[1] !== 0x01) {
      throw new ReplProtocolError(`unexpected reply to raw-paste request: ${showBytes(reply)}`);
    }
    this.rawPasteSupported = true;
    const hdr = await this.reader.readExactly(2, step('the raw-paste window size'));
    const window = hdr[0]! | (hdr[1]! << 8);
    if (window === 0) throw new ReplProtocolError('raw-paste window size 0');
    this.logger.trace('repl', `raw-paste window ${window} bytes`);
    let credit = window;
    let at = 0;
    // Handle one byte of flow control from the board. Returns true when the board asked to stop.
    const control = (b: number): boolean => {
      if (b === CTRL_A) {
        credit += window;
        return false;
      }
      if (b === CTRL_D) return true;
      throw new ReplInterruptedError(
        `the board sent ${showBytes(new Uint8Array([b, ...this.reader.peek()]))} during a raw-paste transfer ` +
          `(${at} of ${code.length} bytes sent); it may have reset`,
        this.reader.peek(),
      );
    };
    while (at < code.length) {
      let stop = false;
      while (!stop && this.reader.available > 0) stop = control(await this.reader.readByte(step('flow control')));
      while (!stop && credit === 0) {
        stop = control(await this.reader.readByte(step(`a raw-paste window grant (${at} of ${code.length} bytes sent)`)));
      }
      if (stop) {
        // The board ended the transfer early (a syntax error, Ctrl-C): acknowledge and stop sending.
        this.logger.trace('repl', `board ended raw-paste early after ${at} bytes`);
        this.write(new Uint8Array([CTRL_D]));
        return true;
      }
      const n = Math.min(credit, code.length - at);
      this.write(code.subarray(at, at + n));
      at += n;
      credit -= n;
    }
    this.write(new Uint8Array([CTRL_D]));
    // Wait for the board's end-of-data acknowledgement, skipping late window grants.
    for (;;) {
      const b = await this.reader.readByte(step('the end-of-code acknowledgement'));
      if (b === CTRL_D) return true;
      if (b !== CTRL_A) control(b);
    }
  }

  /** Plain raw mode: code then Ctrl-D; the board answers `OK`. No flow control, so pace the chunks. */
  private async sendRaw(code: Uint8Array, signal?: AbortSignal): Promise<void> {
    for (let at = 0; at < code.length; at += this.rawChunk) {
      this.write(code.subarray(at, at + this.rawChunk));
      if (at + this.rawChunk < code.length) await new Promise((r) => setTimeout(r, this.rawChunkDelayMs));
    }
    this.write(new Uint8Array([CTRL_D]));
    const ok = await this.reader.readExactly(2, { timeoutMs: this.timeoutMs, what: "'OK' after the code", signal });
    if (ok[0] !== 0x4f || ok[1] !== 0x4b) {
      throw new ReplProtocolError(`expected 'OK' after the code, got ${showBytes(ok)}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Files

  /** Create a folder and its parents (like `mkdir -p`). */
  async mkdirs(path: string): Promise<void> {
    const p = remotePath(path);
    if (p === '/') return;
    await this.exec(mkdirsCode(p));
  }

  /**
   * Write a file on the board, creating its folders. Large files go in several exchanges. The size
   * is checked on the board afterwards.
   */
  async writeFile(path: string, data: string | Uint8Array, opts: { chunk?: number } = {}): Promise<void> {
    const p = remotePath(path);
    if (p === '/') throw new ReplProtocolError('cannot write a file at /');
    const bytes = toBytes(data);
    const dir = p.slice(0, p.lastIndexOf('/'));
    // Folders are made in the same exchange as the first chunk.
    const mkdir = dir ? mkdirsCode(dir) : '';
    const perExec = opts.chunk ?? 4096;
    const piece = 512;
    let at = 0;
    let first = true;
    do {
      const end = Math.min(bytes.length, at + perExec);
      const lines: string[] = [];
      let b64 = false;
      for (let i = at; i < end; i += piece) {
        const d = pyData(bytes.subarray(i, Math.min(end, i + piece)));
        b64 ||= d.needsB64;
        lines.push(`w(${d.expr})`);
      }
      const head = [
        first ? mkdir : '',
        b64 ? 'from binascii import a2b_base64 as d' : '',
        `f=open(${pyStr(p)},'${first ? 'wb' : 'ab'}')`,
        'w=f.write',
      ];
      const last = end >= bytes.length;
      const tail = ['f.close()'];
      if (last) tail.push('import os', `print(os.stat(${pyStr(p)})[6])`);
      const out = await this.exec([...head.filter(Boolean), ...lines, ...tail].join('\n') + '\n');
      if (last) {
        const size = Number(out.trim());
        if (size !== bytes.length) {
          throw new ReplProtocolError(`after writing ${p} the board reports ${out.trim()} bytes, expected ${bytes.length}`);
        }
      }
      at = end;
      first = false;
    } while (at < bytes.length);
  }

  /** Read a file from the board. */
  async readFile(path: string): Promise<Uint8Array> {
    const p = remotePath(path);
    const out = await this.exec(
      `from binascii import b2a_base64 as e\nf=open(${pyStr(p)},'rb')\nwhile 1:\n b=f.read(384)\n if not b:break\n print(e(b)[:-1].decode())\nf.close()\n`,
    );
    return new Uint8Array(Buffer.from(out.replace(/\s+/g, ''), 'base64'));
  }

  /** List a folder; with `recursive`, every file and folder below it too (depth first). */
  async list(path = '/', opts: { recursive?: boolean } = {}): Promise<RemoteEntry[]> {
    const p = remotePath(path);
    const out = await this.exec(
      `import os\ndef _w(d):\n for e in os.ilistdir(d):\n  q=(d if d!='/' else '')+'/'+e[0]\n  print(e[1],e[3] if len(e)>3 else 0,q)\n` +
        (opts.recursive ? `  if e[1]==0x4000:_w(q)\n` : '') +
        `_w(${pyStr(p)})\ndel _w\n`,
    );
    const entries: RemoteEntry[] = [];
    for (const line of out.split(/\r?\n/)) {
      const m = /^(\d+) (-?\d+) (\/.*)$/.exec(line);
      if (!m) continue;
      const full = m[3]!;
      const isDir = (Number(m[1]) & 0x4000) !== 0;
      entries.push({
        path: full,
        name: full.slice(full.lastIndexOf('/') + 1),
        type: isDir ? 'dir' : 'file',
        size: isDir ? 0 : Math.max(0, Number(m[2])),
      });
    }
    return entries;
  }

  /** Whether a path exists on the board, and what it is. */
  async stat(path: string): Promise<{ type: 'file' | 'dir'; size: number } | null> {
    const p = remotePath(path);
    const out = await this.exec(
      `import os\ntry:\n s=os.stat(${pyStr(p)})\n print(s[0],s[6])\nexcept OSError:\n print('none')\n`,
    );
    const m = /^(\d+) (\d+)/.exec(out.trim());
    if (!m) return null;
    const isDir = (Number(m[1]) & 0x4000) !== 0;
    return { type: isDir ? 'dir' : 'file', size: isDir ? 0 : Number(m[2]) };
  }

  /** Remove a file, or a folder (with `recursive`, including what is in it). */
  async remove(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const p = remotePath(path);
    if (p === '/') throw new ReplProtocolError('refusing to remove /');
    await this.exec(
      opts.recursive
        ? `import os\ndef _r(p):\n if os.stat(p)[0]&0x4000:\n  for e in list(os.ilistdir(p)):_r(p+'/'+e[0])\n  os.rmdir(p)\n else:os.remove(p)\n_r(${pyStr(p)})\ndel _r\n`
        : `import os\np=${pyStr(p)}\nif os.stat(p)[0]&0x4000:os.rmdir(p)\nelse:os.remove(p)\n`,
    );
  }
}
