/** The pieces of a several-board run that need no firmware: whose --expect is whose, and the [NAME] line prefixes. */
import { describe, expect, it } from 'vitest';
import { BoardsExpect, splitExpectations } from '../../sim/cli-boards.ts';
import { LinePrefixer } from '../../sim/session/console.ts';

describe('--expect with several boards', () => {
  it('NAME:TEXT is for board NAME when NAME is a board; anything else for any board', () => {
    expect(splitExpectations(['hub:ready', 'other:x', 'plain', 'hub:'], ['hub', 'node'])).toEqual([
      { board: 'hub', text: 'ready' },
      { board: null, text: 'other:x' },
      { board: null, text: 'plain' },
      { board: null, text: 'hub:' },
    ]);
  });

  it('a named text is met only on its board, a plain one on the first board that shows it', () => {
    const e = new BoardsExpect(['hub:ready', 'done'], ['hub', 'node']);
    const hub = e.view('hub');
    const node = e.view('node');
    expect(node.feed('ready\n')).toBe(false);
    expect(e.pendingFor('hub')).toBe(true);
    expect(e.missing()).toBe('hub:"ready", "done"');
    expect(node.feed('do')).toBe(false);
    expect(hub.feed('ne')).toBe(false); // "done" split across two boards is not "done"
    expect(node.feed('ne\n')).toBe(false);
    expect(e.missing()).toBe('hub:"ready"');
    expect(hub.feed('rea')).toBe(false);
    expect(hub.feed('dy')).toBe(true);
    expect(hub.met && node.met).toBe(true);
  });
});

describe('LinePrefixer', () => {
  it('prefixes whole lines as they end and a partial line on flush', () => {
    const out: string[] = [];
    const p = new LinePrefixer('[a] ', { write: (s) => out.push(s) }, 10_000);
    p.write('one\r\ntw');
    p.write(new TextEncoder().encode('o\n\nthree'));
    expect(out.join('')).toBe('[a] one\r\n[a] two\n[a] \n');
    p.flush();
    expect(out.join('')).toBe('[a] one\r\n[a] two\n[a] \n[a] three\n');
  });
});
