import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { CATCH_UP_NANOS, ClockPolicy } from '../../sim/board/clock-policy.ts';

describe('BoardClock', () => {
  it('fires chip alarms and board timers in time order', () => {
    const c = new BoardClock();
    const seen: string[] = [];
    c.createAlarm(() => seen.push(`chip@${c.nanos}`)).schedule(300);
    c.schedule(100, () => seen.push(`board@${c.nanos}`));
    const t = c.schedule(200, () => seen.push('cancelled'));
    t.cancel();
    expect(c.nanosToNextAlarm).toBe(100);
    c.tick(1000);
    expect(seen).toEqual(['board@100', 'chip@300']);
    expect(c.nanos).toBe(1000);
    expect(c.nanosToNextAlarm).toBeNull();
  });

  it('drops the old chip alarms on a chip reset but keeps board timers', () => {
    const c = new BoardClock();
    const seen: string[] = [];
    c.createAlarm(() => seen.push('old chip')).schedule(50);
    c.schedule(60, () => seen.push('board'));
    c.newChip();
    c.createAlarm(() => seen.push('new chip')).schedule(70);
    c.tick(100);
    expect(seen).toEqual(['board', 'new chip']);
  });

  it('lets an alarm callback schedule another alarm inside the same tick', () => {
    const c = new BoardClock();
    const seen: number[] = [];
    const a = c.createAlarm(() => {
      seen.push(c.nanos);
      if (seen.length < 3) a.schedule(10);
    });
    a.schedule(10);
    c.tick(100);
    expect(seen).toEqual([10, 20, 30]);
  });
});

describe('BoardClock livelock guard', () => {
  it('stops a timer that re-arms itself at zero delay forever with a clear error', () => {
    const c = new BoardClock();
    const a = c.createAlarm(() => a.schedule(0));
    a.schedule(5);
    expect(() => c.tick(10)).toThrow(/fired 1000000 times at the same instant \(5 ns\)/);
  });
});

describe('ClockPolicy', () => {
  it('puts no limit on simulated time while no host I/O is pending', () => {
    let sim = 5e9;
    const p = new ClockPolicy(() => sim, () => 1000);
    expect(p.limitNanos()).toBe(Infinity);
    expect(p.wallMsUntil(1e12)).toBe(0);
    sim = 6e9;
  });

  it('holds simulated time to wall time from the moment host I/O began', () => {
    let sim = 2e9;
    let wall = 10_000;
    const p = new ClockPolicy(() => sim, () => wall);
    const tok = p.begin('tcp 127.0.0.1:8080');
    expect(p.hostIoPending).toBe(true);
    expect(p.pendingLabels).toEqual(['tcp 127.0.0.1:8080']);
    expect(p.limitNanos()).toBe(2e9);
    wall += 250;
    expect(p.limitNanos()).toBe(2e9 + 250e6);
    // A second token does not move the anchor.
    const tok2 = p.begin('dns');
    sim = 2.1e9;
    expect(p.limitNanos()).toBe(2e9 + 250e6);
    expect(p.wallMsUntil(2.5e9)).toBeCloseTo(250, 6);
    let woke = 0;
    p.onWake = () => woke++;
    tok.release();
    expect(p.hostIoPending).toBe(true);
    tok2.release();
    tok2.release();
    expect(p.hostIoPending).toBe(false);
    expect(woke).toBe(1);
    expect(p.limitNanos()).toBe(Infinity);
  });
});

describe('ClockPolicy idle anchor', () => {
  it('lets a wait that follows slow CPU work run at wall pace instead of jumping by the lag', () => {
    let sim = 0;
    let wall = 0;
    const p = new ClockPolicy(() => sim, () => wall);
    p.begin('tcp');
    wall = 1000; // one wall second passes while the CPU simulates only 300 ms
    sim = 300e6;
    expect(p.limitNanos()).toBe(1000e6);
    p.waitBegins();
    expect(p.limitNanos()).toBe(300e6);
    wall = 1010;
    expect(p.limitNanos()).toBe(310e6);
  });

  it('paces a wait after computation that ran ahead of the wall clock for its own duration', () => {
    let sim = 0;
    let wall = 0;
    const p = new ClockPolicy(() => sim, () => wall);
    p.begin('pty');
    wall = 10; // the CPU computed 50 ms of simulated time in 10 wall ms: not held back
    sim = 50e6;
    p.waitBegins();
    expect(p.limitNanos()).toBe(50e6);
    wall = 110; // a 100 ms sleep lasts 100 wall ms
    expect(p.limitNanos()).toBe(150e6);
    expect(p.wallMsUntil(150e6)).toBe(0);
  });

  it('catches up a small lag (a late wake-up inside a long sleep) instead of dropping it', () => {
    let sim = 0;
    let wall = 0;
    const p = new ClockPolicy(() => sim, () => wall);
    p.begin('pty');
    p.waitBegins();
    wall = 13; // the 10 ms alarm was served 3 wall ms late; the handler ran, the core sleeps again
    sim = 10e6;
    p.waitBegins();
    expect(p.limitNanos()).toBe(13e6);
    wall = 13 + (CATCH_UP_NANOS + 5e6) / 1e6; // a lag beyond CATCH_UP_NANOS is slow computation
    p.waitBegins();
    expect(p.limitNanos()).toBe(10e6);
  });
});
