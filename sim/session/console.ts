/**
 * Watching a board's console: bytes to text per source, `--expect` (every text of a set, in any
 * order), and waiters for a text or a RegExp after the previous match (the test API's
 * `waitForOutput`, on the board's `TextWaiters`), and the lines of several boards on one output
 * (`LinePrefixer`).
 */
import type { ConsoleSource } from '../board/picow.ts';
import { TextWaiters } from '../board/text-waiters.ts';
import { RunFailure } from '../errors.ts';

export { matchEnd } from '../board/text-waiters.ts';

/** UTF-8 decoding of each console source apart (a character split across chunks stays whole). */
export class ConsoleDecoder {
  private readonly decoders = new Map<ConsoleSource, TextDecoder>();

  decode(bytes: Uint8Array, source: ConsoleSource): string {
    let d = this.decoders.get(source);
    if (!d) this.decoders.set(source, (d = new TextDecoder()));
    return d.decode(bytes, { stream: true });
  }
}

/** Texts that must all show, in any order (`--expect`); each may span chunks. */
export class ExpectSet {
  private readonly pending: string[];
  private readonly keep: number;
  private seen = '';

  /** `onSeen`: told each text as it shows (`--json` expectation events). */
  constructor(
    texts: readonly string[],
    private readonly onSeen?: (text: string) => void,
  ) {
    this.pending = [...texts];
    this.keep = Math.max(1, Math.max(0, ...texts.map((t) => t.length)) - 1);
  }

  /** Whether every text has shown. */
  get met(): boolean {
    return this.pending.length === 0;
  }

  /** Feed shown text; true once every text has shown. */
  feed(text: string): boolean {
    if (!this.pending.length) return true;
    this.seen += text;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (!this.seen.includes(this.pending[i]!)) continue;
      this.onSeen?.(this.pending[i]!);
      this.pending.splice(i, 1);
    }
    this.seen = this.seen.slice(-this.keep);
    return this.pending.length === 0;
  }

  /** The texts not seen yet. */
  get unseen(): readonly string[] {
    return this.pending;
  }

  /** The texts not seen yet, quoted, for a message. */
  missing(): string {
    return this.pending.map((p) => JSON.stringify(p)).join(', ');
  }
}

export class OutputTimeout extends RunFailure {}

/**
 * The console text shown so far, and waiters that each resolve with the text from the previous
 * match (or the start) to the end of theirs.
 */
export class OutputLog {
  private text = '';
  private cursor = 0;
  private failure: Error | null = null;
  private readonly waiters = new TextWaiters(
    () => this.text,
    (test, timeoutMs) => new OutputTimeout(`timed out after ${timeoutMs} ms waiting for ${String(test)}; recent output: ${JSON.stringify(this.text.slice(-300))}`),
  );

  get output(): string {
    return this.text;
  }

  clear(): void {
    this.text = '';
    this.cursor = 0;
  }

  append(s: string): void {
    if (!s) return;
    this.text += s;
    this.waiters.check();
  }

  /** Wait for `test` after the previous match; rejects after `timeoutMs` or on `fail`. */
  waitFor(test: string | RegExp, timeoutMs: number): Promise<string> {
    const p = this.waiters.add(test, timeoutMs, () => this.cursor, (end) => (this.cursor += end));
    if (this.failure) this.waiters.failAll(this.failure);
    return p;
  }

  /** Reject every waiter, and (when `sticky`) every later one, with `e`. */
  fail(e: Error, sticky = true): void {
    if (sticky) this.failure = e;
    this.waiters.failAll(e);
  }
}

/**
 * A board's console lines on a shared output, each prefixed `[NAME] `: whole lines go out as they
 * end; a partial line (a prompt, a progress dot) after a short pause.
 */
export class LinePrefixer {
  private partial = '';
  private readonly decoder = new TextDecoder();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly prefix: string,
    private readonly out: { write(s: string): unknown },
    private readonly pauseMs = 200,
  ) {}

  write(chunk: string | Uint8Array): boolean {
    this.partial += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const nl = this.partial.lastIndexOf('\n');
    if (nl >= 0) {
      this.out.write(this.prefixed(this.partial.slice(0, nl + 1)));
      this.partial = this.partial.slice(nl + 1);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.partial ? setTimeout(() => this.flush(), this.pauseMs) : null;
    this.timer?.unref();
    return true;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.partial) return;
    this.out.write(this.prefixed(this.partial) + '\n');
    this.partial = '';
  }

  private prefixed(text: string): string {
    const lines = text.split('\n');
    return lines.map((l, i) => (i === lines.length - 1 && l === '' ? '' : this.prefix + l)).join('\n');
  }
}
