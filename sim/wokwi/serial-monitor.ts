/**
 * The serial monitor as wokwi-cli sees it: the bytes the board sends, matched two ways.
 *   - `--expect-text` / `--fail-text` (wokwi-cli's ExpectEngine): a text matches when a complete
 *     line (ended by `\n`) contains it; lines are capped at 10 000 characters.
 *   - `wait-serial`: a byte sequence anywhere in the output since the previous step ended (the
 *     simulation is paused between steps, so nothing is missed or matched twice).
 */

/** wokwi-cli's ExpectEngine cap on one line. */
export const MAX_LINE_CHARS = 10_000;
/** Output kept for a `wait-serial` that has not started yet (older bytes are dropped). */
export const MAX_PENDING_BYTES = 1 << 20;

interface SerialWaiter {
  needle: string;
  resolve: () => void;
  onMatch?: () => void;
}

export class SerialMonitor {
  /** Output since the cursor, one char per byte (latin1). */
  private buffer = '';
  private line = '';
  private readonly lineTexts: { text: string; cb: () => void; once: boolean }[] = [];
  private waiter: SerialWaiter | null = null;
  /** Bytes seen in total. */
  total = 0;

  feed(bytes: Uint8Array): void {
    this.total += bytes.length;
    const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    this.buffer += s;
    for (const ch of s) {
      if (ch === '\n') {
        const done = this.line;
        this.line = '';
        for (const w of [...this.lineTexts]) {
          if (done.includes(w.text)) {
            if (w.once) this.lineTexts.splice(this.lineTexts.indexOf(w), 1);
            w.cb();
          }
        }
      } else if (this.line.length < MAX_LINE_CHARS) this.line += ch;
    }
    this.check();
    if (!this.waiter && this.buffer.length > MAX_PENDING_BYTES) this.buffer = this.buffer.slice(-MAX_PENDING_BYTES);
  }

  /** Call `cb` when a complete line contains `text` (texts compared as bytes, UTF-8). */
  onLineContaining(text: string, cb: () => void, once = true): void {
    this.lineTexts.push({ text: Buffer.from(text, 'utf8').toString('latin1'), cb, once });
  }

  /** Forget the output so far: a following wait-serial looks only at what comes next. */
  mark(): void {
    this.buffer = '';
  }

  /**
   * Resolve when `text` (UTF-8 bytes) has been sent since the last mark; the mark moves past it.
   * `onMatch` runs synchronously at the match (to pause the simulation on that very byte).
   */
  waitFor(text: string, onMatch?: () => void): Promise<void> {
    if (this.waiter) throw new Error('one wait-serial at a time');
    const needle = Buffer.from(text, 'utf8').toString('latin1');
    return new Promise((resolve) => {
      this.waiter = { needle, resolve, onMatch };
      this.check();
    });
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const i = this.buffer.indexOf(w.needle);
    if (i < 0) {
      // Keep only what could still begin a match.
      if (this.buffer.length > w.needle.length) this.buffer = this.buffer.slice(this.buffer.length - w.needle.length + 1);
      return;
    }
    this.buffer = this.buffer.slice(i + w.needle.length);
    this.waiter = null;
    w.onMatch?.();
    w.resolve();
  }
}
