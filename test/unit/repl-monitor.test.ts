import { describe, expect, it } from 'vitest';
import { MainRunMonitor, trailingTraceback, type MainEnd } from '../../sim/repl/monitor.ts';

const BANNER = 'MicroPython v1.28.0 on 2026-04-06; Raspberry Pi Pico W with RP2040\r\nType "help()" for more information.\r\n>>> ';

function feed(pieces: string[]): { out: string; end: MainEnd | null } {
  let out = '';
  let end: MainEnd | null = null;
  const m = new MainRunMonitor((t) => (out += t), (e) => (end = e));
  for (const p of pieces) m.push(p);
  return { out, end };
}

/** Split a string into pieces of every size from 1 to n. */
function chop(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0, k = 1; i < s.length; i += k, k = (k % n) + 1) out.push(s.slice(i, i + k));
  return out;
}

describe('end of main.py', () => {
  it('passes output through and ends at the REPL banner, which it drops', () => {
    const text = 'hello\r\nMicroPython is fun\r\nline 2\r\n';
    for (const n of [1, 3, 7, 1000]) {
      const r = feed(chop(text + BANNER, n));
      expect(r.out).toBe(text);
      expect(r.end).toEqual({ kind: 'returned' });
    }
  });

  it('passes on partial lines at once (prompts) unless they may start a banner', () => {
    let out = '';
    const m = new MainRunMonitor((t) => (out += t), () => undefined);
    m.push('Enter name: ');
    expect(out).toBe('Enter name: ');
    m.push('\r\nMicro');
    expect(out).toBe('Enter name: \r\n');
    m.push('wave oven\r\n');
    expect(out).toBe('Enter name: \r\nMicrowave oven\r\n');
  });

  it('reports an uncaught exception from the traceback before the banner', () => {
    const tb = 'Traceback (most recent call last):\r\n  File "main.py", line 4, in <module>\r\n  File "main.py", line 3, in f\r\nValueError: bad thing\r\n';
    const r = feed(chop('before\r\n' + tb + BANNER, 5));
    expect(r.out).toBe('before\r\n' + tb);
    expect(r.end).toEqual({ kind: 'exception', traceback: tb, summary: 'ValueError: bad thing' });
  });

  it('does not mistake a handled traceback followed by more output for a failure', () => {
    const tb = 'Traceback (most recent call last):\r\n  File "main.py", line 4, in <module>\r\nOSError: [Errno 110] ETIMEDOUT\r\n';
    const r = feed([tb + 'retrying\r\ndone\r\n' + BANNER]);
    expect(r.end).toEqual({ kind: 'returned' });
  });

  it('ends at a soft reboot (sys.exit, machine.soft_reset)', () => {
    const r = feed(chop('bye\r\nMPY: soft reboot\r\nmore', 2));
    expect(r.out).toBe('bye\r\n');
    expect(r.end).toEqual({ kind: 'soft-reboot' });
  });

  it('keeps a banner-like line that is not the banner', () => {
    const r = feed(['MicroPython v9 is great\r\nno\r\n']);
    expect(r.out).toBe('MicroPython v9 is great\r\nno\r\n');
    expect(r.end).toBeNull();
  });

  it('finds only a traceback that ends the text', () => {
    expect(trailingTraceback('x\nTraceback (most recent call last):\n  File "a", line 1\nKeyError: 3\n')?.summary).toBe('KeyError: 3');
    expect(trailingTraceback('Traceback (most recent call last):\n  File "a", line 1\nKeyError: 3\nafter\n')).toBeNull();
  });
});
