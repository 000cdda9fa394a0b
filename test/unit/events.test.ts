// sim/events.ts: the --json stream's lines, from a scripted board.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { EventStream, parseEvent, type SimEvent } from '../../sim/events.ts';

/** Enough of a board: a clock, events, and GPIOs whose listeners the test calls. */
function fakeBoard() {
  const listeners = new Map<number, ((state: number, old: number) => void)[]>();
  const mcu = {
    gpio: Array.from({ length: 30 }, (_, n) => ({
      addListener: (cb: (state: number, old: number) => void) => {
        listeners.set(n, [...(listeners.get(n) ?? []), cb]);
        return () => true;
      },
    })),
  };
  const board = Object.assign(new EventEmitter(), { simClock: { nanos: 0 }, mcu });
  const drive = (pin: number, state: number): void => {
    for (const cb of listeners.get(pin) ?? []) cb(state, 2);
  };
  return { board, drive, listeners };
}

function collect(): { stream: EventStream; events: SimEvent[] } {
  const events: SimEvent[] = [];
  const stream = new EventStream((line) => {
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    events.push(parseEvent(line.trimEnd())!);
  });
  return { stream, events };
}

describe('EventStream', () => {
  it('stamps each event with the board time in seconds, t first', () => {
    const { stream, events } = collect();
    const { board } = fakeBoard();
    stream.attach({ board: board as unknown as PicoWBoard });
    board.simClock.nanos = 1_234_567_891;
    stream.emit({ type: 'status', message: 'hi' });
    expect(events).toEqual([{ t: 1.234568, type: 'status', message: 'hi' }]);
  });

  it('GPIO outputs once per change; inputs and the Wi-Fi chip bus pins are not reported', () => {
    const { stream, events } = collect();
    const { board, drive, listeners } = fakeBoard();
    stream.attach({ board: board as unknown as PicoWBoard });
    for (const wl of [23, 24, 25, 29]) expect(listeners.has(wl)).toBe(false);
    drive(15, 1);
    drive(15, 1); // no change
    drive(15, 2); // an input: not an output level
    drive(15, 0);
    drive(2, 1);
    expect(events.map((e) => (e.type === 'pin' ? [e.pin, e.value] : e.type))).toEqual([
      [15, 1],
      [15, 0],
      [2, 1],
    ]);
  });

  it('the LED from board events; UTF-8 split across console chunks arrives whole', () => {
    const { stream, events } = collect();
    const { board } = fakeBoard();
    stream.attach({ board: board as unknown as PicoWBoard });
    board.emit('event', { type: 'led', on: true, nanos: 0 });
    const bytes = new TextEncoder().encode('°C\n');
    stream.console(bytes.subarray(0, 1), 'usb');
    stream.console(bytes.subarray(1), 'usb');
    expect(events).toEqual([
      { t: 0, type: 'led', on: true },
      { t: 0, type: 'console', source: 'usb', text: '°C\n' },
    ]);
  });

  it('nothing after close; parseEvent refuses what is not an event', () => {
    const { stream, events } = collect();
    stream.close();
    stream.emit({ type: 'status', message: 'late' });
    expect(events).toEqual([]);
    expect(parseEvent('hello')).toBeNull();
    expect(parseEvent('{"type":"x"}')).toBeNull();
    expect(parseEvent('{"t":1,"type":"x"')).toBeNull();
  });
});
