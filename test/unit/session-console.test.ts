/** Console watching of the session layer: --expect sets and the output log's waiters. */
import { describe, expect, it } from 'vitest';
import { ExpectSet, OutputLog, OutputTimeout, matchEnd } from '../../sim/session/console.ts';

describe('ExpectSet', () => {
  it('is met once every text showed, in any order, split across chunks', () => {
    const e = new ExpectSet(['Hello, world!', 'done']);
    expect(e.feed('do')).toBe(false);
    expect(e.feed('ne\r\nHello, ')).toBe(false);
    expect(e.missing()).toBe('"Hello, world!"');
    expect(e.feed('world!')).toBe(true);
    expect(e.met).toBe(true);
  });

  it('with no texts is met at once', () => {
    expect(new ExpectSet([]).met).toBe(true);
  });
});

describe('OutputLog', () => {
  it('resolves each waiter with the text after the previous match', async () => {
    const log = new OutputLog();
    const first = log.waitFor('one', 1000);
    log.append('zero one tw');
    expect(await first).toBe('zero one');
    const second = log.waitFor(/t\w+ /, 1000);
    log.append('o three');
    expect(await second).toBe(' two ');
    // A global RegExp matches the same way every time.
    expect(await log.waitFor(/th\w+/g, 1000)).toBe('three');
    expect(log.output).toBe('zero one two three');
  });

  it('rejects on timeout with the recent output, and after a failure', async () => {
    const log = new OutputLog();
    log.append('booted');
    await expect(log.waitFor('never', 20)).rejects.toBeInstanceOf(OutputTimeout);
    const pending = log.waitFor('never', 1000);
    log.fail(new Error('halted'));
    await expect(pending).rejects.toThrow('halted');
    await expect(log.waitFor('later', 1000)).rejects.toThrow('halted');
    // Text already shown still resolves (what the board printed before it halted).
    expect(await log.waitFor('boot', 1000)).toBe('boot');
  });

  it('finds where a text or a pattern ends', () => {
    expect(matchEnd('abc>>> ', '>>> ')).toBe(7);
    expect(matchEnd('abc', 'x')).toBe(-1);
    expect(matchEnd('a12b', /\d+/y)).toBe(3);
  });
});
