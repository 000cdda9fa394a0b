/**
 * Watches the console while `main.py` runs after a soft reset at the friendly REPL, and tells
 * when it is over: MicroPython prints the REPL banner (`MicroPython v… ; <machine>` then
 * `Type "help()" …` and `>>> `) when the script returns or raises, and `soft reboot` when it
 * called `sys.exit()` or `machine.soft_reset()`. An uncaught exception is the traceback printed
 * right before the banner.
 *
 * Output passes through as it comes, except the closing banner, which is held back until it is
 * known to be one (then dropped) or known not to be (then passed on).
 */

export type MainEnd =
  | { kind: 'returned' }
  | { kind: 'exception'; traceback: string; summary: string }
  | { kind: 'soft-reboot' };

const BANNER_START = 'MicroPython v';
const HELP_LINE = 'Type "help()" for more information.\r\n';
const PROMPT = '>>> ';
const REBOOT_LINE = /^(?:MPY: )?soft reboot\r?\n/;
const REBOOT_PREFIXES = ['MPY: soft reboot\r\n', 'soft reboot\r\n'];

/** The last uncaught-exception report at the end of `text`, or null. */
export function trailingTraceback(text: string): { traceback: string; summary: string } | null {
  const at = text.lastIndexOf('Traceback (most recent call last):');
  if (at < 0 || (at > 0 && text[at - 1] !== '\n')) return null;
  const tb = text.slice(at);
  const lines = tb.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) return null;
  // Frames are indented; the last line names the exception.
  for (let i = 1; i < lines.length - 1; i++) if (!/^\s/.test(lines[i]!)) return null;
  const last = lines[lines.length - 1]!;
  if (!/^[A-Za-z_][\w.]*(:.*)?$/.test(last)) return null;
  return { traceback: tb, summary: last.trim() };
}

export class MainRunMonitor {
  private pending = '';
  private atLineStart = true;
  /** The tail of the output, to find a traceback at the end. */
  private tail = '';
  private finished = false;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly onEnd: (end: MainEnd) => void,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  push(text: string): void {
    if (this.finished || !text) return;
    this.pending += text;
    this.scan();
  }

  /** Pass on anything held back (at the end of a run). */
  flush(): void {
    if (this.pending) this.out(this.pending);
    this.pending = '';
  }

  private out(s: string): void {
    if (!s) return;
    this.emit(s);
    this.tail = (this.tail + s).slice(-8192);
    this.atLineStart = s.endsWith('\n');
  }

  private scan(): void {
    for (;;) {
      if (this.finished) return;
      const p = this.pending;
      // Find the first line start in `pending` where a banner or a reboot line could begin.
      let cut = -1;
      for (let i = 0; i <= p.length; i++) {
        const lineStart = i === 0 ? this.atLineStart : p[i - 1] === '\n';
        if (!lineStart) continue;
        const rest = p.slice(i);
        if (rest === '') break;
        if (couldBe(rest, BANNER_START) || REBOOT_PREFIXES.some((r) => couldBe(rest, r))) {
          cut = i;
          break;
        }
      }
      if (cut < 0) {
        // Nothing special: pass it all on (a partial last line too, so prompts like input() show).
        this.out(p);
        this.pending = '';
        return;
      }
      if (cut > 0) {
        this.out(p.slice(0, cut));
        this.pending = p.slice(cut);
        continue;
      }
      const verdict = this.classify(p);
      if (verdict === 'wait') return;
      if (verdict === 'no') {
        // Not special after all: pass on this line and go on.
        const nl = p.indexOf('\n');
        const upto = nl < 0 ? p.length : nl + 1;
        this.out(p.slice(0, upto));
        this.pending = p.slice(upto);
        continue;
      }
      this.finished = true;
      this.pending = '';
      if (verdict === 'reboot') {
        this.onEnd({ kind: 'soft-reboot' });
        return;
      }
      const tb = trailingTraceback(this.tail);
      this.onEnd(tb ? { kind: 'exception', ...tb } : { kind: 'returned' });
      return;
    }
  }

  /** For text starting at a line start: a banner, a reboot line, not one, or not known yet. */
  private classify(p: string): 'banner' | 'reboot' | 'no' | 'wait' {
    if (REBOOT_LINE.test(p)) return 'reboot';
    if (REBOOT_PREFIXES.some((r) => r.startsWith(p))) return 'wait';
    if (!p.startsWith(BANNER_START)) return BANNER_START.startsWith(p) ? 'wait' : 'no';
    const nl = p.indexOf('\n');
    if (nl < 0) return p.length > 300 ? 'no' : 'wait';
    if (!/^MicroPython v\S+ on [^\r\n]*; [^\r\n]*\r?$/.test(p.slice(0, nl))) return 'no';
    let rest = p.slice(nl + 1);
    if (rest.startsWith(HELP_LINE)) rest = rest.slice(HELP_LINE.length);
    else if (HELP_LINE.startsWith(rest)) return 'wait';
    if (rest.startsWith(PROMPT)) return 'banner';
    if (PROMPT.startsWith(rest)) return 'wait';
    return 'no';
  }
}

function couldBe(text: string, prefix: string): boolean {
  return text.startsWith(prefix) || prefix.startsWith(text);
}
