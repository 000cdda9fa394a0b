/**
 * Waiting for console text: promises that resolve when a growing text shows a string or matches
 * a RegExp at or after a position, reject after a wall-clock timeout or when failed. The board's
 * `waitForOutput` and the session layer's output log (sim/session/console.ts) share it.
 */

/** Where `test` ends in `hay` (-1: not there). A RegExp's `g` and `y` flags are ignored. */
export function matchEnd(hay: string, test: string | RegExp): number {
  if (typeof test === 'string') {
    const i = hay.indexOf(test);
    return i < 0 ? -1 : i + test.length;
  }
  const m = (test.global || test.sticky ? new RegExp(test.source, test.flags.replace(/[gy]/g, '')) : test).exec(hay);
  return m ? m.index + m[0].length : -1;
}

interface Waiter {
  test: string | RegExp;
  from: () => number;
  matched?: (end: number) => void;
  resolve: (text: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class TextWaiters {
  private readonly waiters = new Set<Waiter>();

  /**
   * @param text the text so far
   * @param timedOut the error for a waiter whose time ran out
   */
  constructor(
    private readonly text: () => string,
    private readonly timedOut: (test: string | RegExp, timeoutMs: number) => Error,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves with the text from `from()` (read at each check) to the end of the first match;
   * `matched` is told the match's end relative to `from()` before the next waiter is checked.
   */
  add(test: string | RegExp, timeoutMs: number, from: () => number, matched?: (end: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        test,
        from,
        matched,
        resolve,
        reject,
        timer: setTimeout(() => this.reject(w, this.timedOut(test, timeoutMs)), timeoutMs),
      };
      this.waiters.add(w);
      this.check();
    });
  }

  /** Resolve every waiter whose text has shown (call when the text grew). */
  check(): void {
    for (const w of this.waiters) {
      const from = w.from();
      const hay = this.text().slice(from);
      const end = matchEnd(hay, w.test);
      if (end < 0) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.matched?.(end);
      w.resolve(hay.slice(0, end));
    }
  }

  /** Reject every waiter with `e`. */
  failAll(e: Error): void {
    for (const w of this.waiters) this.reject(w, e);
  }

  private reject(w: Waiter, e: Error): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.reject(e);
  }
}
