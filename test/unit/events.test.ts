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

  it("a board's view: its name as `board`, its own clock; the run's events without a name", () => {
    const { stream, events } = collect();
    const a = fakeBoard();
    const b = fakeBoard();
    const va = stream.forBoard('a');
    const vb = stream.forBoard('b');
    va.attach({ board: a.board as unknown as PicoWBoard });
    vb.attach({ board: b.board as unknown as PicoWBoard });
    stream.followClock(a.board as unknown as PicoWBoard);
    a.board.simClock.nanos = 1e9;
    b.board.simClock.nanos = 2e9;
    a.drive(15, 1);
    b.board.emit('event', { type: 'led', on: true, nanos: 0 });
    vb.console('hi\n', 'usb');
    stream.emit({ type: 'status', message: 'run' });
    expect(events).toEqual([
      { t: 1, board: 'a', type: 'pin', pin: 15, value: 1 },
      { t: 2, board: 'b', type: 'led', on: true },
      { t: 2, board: 'b', type: 'console', source: 'usb', text: 'hi\n' },
      { t: 1, type: 'status', message: 'run' },
    ]);
    // One end for all: a view closes the stream and the others.
    va.close();
    vb.emit({ type: 'status', message: 'late' });
    stream.emit({ type: 'status', message: 'late' });
    expect(events).toHaveLength(4);
  });

  it("a LAN's leases and host connections go to the board at their address", () => {
    const { stream, events } = collect();
    const views = new Map([['10.0.2.15', stream.forBoard('a')], ['10.0.2.16', stream.forBoard('b')]]);
    let lease: ((ip: string, mac: string, state: 'bound' | 'released') => void) | undefined;
    let conn: ((c: { state: 'open' | 'refused' | 'closed'; board: string; host: string }) => void) | undefined;
    stream.attachLan({ dhcp: { onLease: (cb) => (lease = cb) }, tcp: { onConnection: (cb) => (conn = cb) } }, (ip) => views.get(ip));
    lease!('10.0.2.16', '02:00:00:00:00:02', 'bound');
    conn!({ state: 'open', board: '10.0.2.15:49152', host: '127.0.0.1:8080' });
    conn!({ state: 'refused', board: '10.0.2.99:4000', host: '127.0.0.1:1' });
    expect(events).toEqual([
      { t: 0, board: 'b', type: 'dhcp', state: 'bound', ip: '10.0.2.16', mac: '02:00:00:00:00:02' },
      { t: 0, board: 'a', type: 'tcp', state: 'open', local: '10.0.2.15:49152', host: '127.0.0.1:8080' },
      { t: 0, type: 'tcp', state: 'refused', local: '10.0.2.99:4000', host: '127.0.0.1:1' },
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
