/**
 * The byte stream a REPL client talks over, and the receive buffer it reads from.
 *
 * A `ByteStream` is the console link as a serial terminal sees it: bytes out to the board, bytes in
 * from the board. The board's USB CDC console, a child process's pipes and a scripted fake board
 * in the unit tests all fit it.
 */
import { ReplInterruptedError, ReplTimeoutError } from './errors.ts';

export interface ByteStream {
  /** Send bytes to the board (what a terminal types). */
  write(bytes: Uint8Array): void;
  /** Receive the board's output; returns a function that unsubscribes. */
  onData(cb: (bytes: Uint8Array) => void): () => void;
  /**
   * Optional: be told when the link breaks (the board resets, the process ends). Pending reads
   * then fail with ReplInterruptedError instead of waiting for their timeout.
   */
  onClose?(cb: (reason: string) => void): () => void;
}

const encoder = new TextEncoder();

export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** Printable form of bytes for error messages and traces: `OK\x04>` style, cut at `max`. */
export function showBytes(bytes: Uint8Array, max = 80): string {
  let s = '';
  for (let i = 0; i < bytes.length && s.length < max; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b >= 0x20 && b < 0x7f && b !== 0x5c) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s.length >= max ? s.slice(0, max) + '…' : s;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  if (needle.length === 0) return from;
  const first = needle[0]!;
  const last = hay.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

interface Waiter {
  /** Called whenever bytes arrive or the stream closes; returns true when satisfied. */
  check(): boolean;
  fail(err: Error): void;
}

export interface ReadOptions {
  /** Milliseconds of wall-clock time to wait; Infinity for no limit. */
  timeoutMs: number;
  /** What the caller was waiting for, for the timeout message. */
  what: string;
  /** Stream the bytes before the delimiter as they arrive (the delimiter itself is never passed). */
  onData?: (bytes: Uint8Array) => void;
  /** Abort the wait. */
  signal?: AbortSignal;
}

/**
 * Receive buffer with awaitable reads. Bytes arriving with nobody waiting are kept until read or
 * discarded with `discard()`.
 */
export class ByteReader {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private waiter: Waiter | null = null;
  private closedReason: string | null = null;
  private readonly unsub: (() => void)[] = [];
  /** Every byte received, for traces (set by the owner). */
  tap: ((bytes: Uint8Array) => void) | null = null;

  constructor(stream: ByteStream) {
    this.unsub.push(stream.onData((b) => this.push(b)));
    if (stream.onClose) this.unsub.push(stream.onClose((r) => this.close(r)));
  }

  get available(): number {
    return this.end - this.start;
  }

  /** The bytes received and not yet read (a copy). */
  peek(): Uint8Array {
    return this.buf.slice(this.start, this.end);
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.tap?.(bytes);
    if (this.end + bytes.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + bytes.length;
      if (need <= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length;
        while (size < need * 2) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
    this.poke();
  }

  /** The link broke: pending and later reads fail with ReplInterruptedError. */
  close(reason: string): void {
    this.closedReason ??= reason;
    this.poke();
  }

  /** Reopen after the link came back (the board restarted). */
  reopen(): void {
    this.closedReason = null;
  }

  get closed(): string | null {
    return this.closedReason;
  }

  /** Drop everything received so far. */
  discard(): Uint8Array {
    const dropped = this.buf.slice(this.start, this.end);
    this.start = this.end = 0;
    return dropped;
  }

  dispose(): void {
    for (const u of this.unsub.splice(0)) u();
    this.close('client disposed');
  }

  private poke(): void {
    const w = this.waiter;
    if (!w) return;
    if (w.check()) {
      if (this.waiter === w) this.waiter = null;
      return;
    }
    if (this.closedReason !== null) {
      this.waiter = null;
      w.fail(new ReplInterruptedError(this.closedReason, this.peek()));
    }
  }

  private wait<T>(opts: ReadOptions, attempt: () => T | undefined): Promise<T> {
    if (this.waiter) return Promise.reject(new Error('ByteReader: only one read at a time'));
    const immediate = attempt();
    if (immediate !== undefined) return Promise.resolve(immediate);
    if (this.closedReason !== null) {
      return Promise.reject(new ReplInterruptedError(this.closedReason, this.peek()));
    }
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (this.waiter === w) this.waiter = null;
      };
      const w: Waiter = {
        check: () => {
          const r = attempt();
          if (r === undefined) return false;
          cleanup();
          resolve(r);
          return true;
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const onAbort = (): void => w.fail(abortError(opts.signal!, opts.what));
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(opts.timeoutMs)) {
        timer = setTimeout(
          () => w.fail(new ReplTimeoutError(opts.what, opts.timeoutMs, this.peek())),
          opts.timeoutMs,
        );
      }
      this.waiter = w;
    });
  }

  /** Wait for one byte and return it. */
  readByte(opts: ReadOptions): Promise<number> {
    return this.wait(opts, () => {
      if (this.end === this.start) return undefined;
      return this.buf[this.start++]!;
    });
  }

  /** Wait for exactly `n` bytes. */
  readExactly(n: number, opts: ReadOptions): Promise<Uint8Array> {
    return this.wait(opts, () => {
      if (this.end - this.start < n) return undefined;
      const out = this.buf.slice(this.start, this.start + n);
      this.start += n;
      return out;
    });
  }

  /**
   * Wait for `delim` and return the bytes before it; the delimiter is consumed. With `onData`,
   * the bytes before the delimiter are handed over as they arrive and the result is empty.
   */
  readUntil(delim: string | Uint8Array, opts: ReadOptions): Promise<Uint8Array> {
    const d = toBytes(delim);
    const chunks: Uint8Array[] = [];
    return this.wait(opts, () => {
      const at = indexOf(this.buf.subarray(0, this.end), d, this.start);
      if (at >= 0) {
        const before = this.buf.slice(this.start, at);
        this.start = at + d.length;
        if (opts.onData) {
          if (before.length) opts.onData(before);
          return new Uint8Array(0);
        }
        chunks.push(before);
        return concat(chunks);
      }
      if (opts.onData) {
        // Hand over everything that cannot be the start of the delimiter.
        const keep = Math.min(d.length - 1, this.end - this.start);
        const upto = this.end - keep;
        if (upto > this.start) {
          opts.onData(this.buf.slice(this.start, upto));
          this.start = upto;
        }
      }
      return undefined;
    });
  }

  /** Wait until `re` matches the buffered text (latin1 view); consumes up to the match end. */
  readUntilMatch(re: RegExp, opts: ReadOptions): Promise<RegExpExecArray> {
    return this.wait(opts, () => {
      const text = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.end - this.start).toString(
        'latin1',
      );
      const m = re.exec(text);
      if (!m) return undefined;
      this.start += m.index + m[0].length;
      return m;
    });
  }
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function abortError(signal: AbortSignal, what: string): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new ReplInterruptedError(`aborted while waiting for ${what}`, new Uint8Array(0));
}
