import { PicowSimError } from '../errors.ts';
import type { SimClock, SimTimer } from '../time.ts';

/** Alarms firing at one instant beyond this mean a timer re-arms itself at zero delay forever. */
const ALARM_LIVELOCK_LIMIT = 1_000_000;
/** Board-level timers (network, devices) survive chip resets; chip alarms belong to one chip. */
const BOARD_LEVEL = -1;

class Alarm implements SimTimer {
  next: Alarm | null = null;
  nanos = 0;
  scheduled = false;
  constructor(
    private readonly clock: BoardClock,
    readonly callback: () => void,
    readonly generation: number,
  ) {}
  schedule(deltaNanos: number): void {
    if (this.scheduled) this.clock.unlink(this);
    this.clock.link(this, deltaNanos);
  }
  cancel(): void {
    if (this.scheduled) this.clock.unlink(this);
  }
}

/**
 * The board's simulated clock, in nanoseconds since power-on. It is the `IClock` the RP2040's
 * peripherals run on and the `SimClock` the network and devices schedule on. It outlives the
 * RP2040 instance: after a chip reset, alarms of the old chip's peripherals are dropped and
 * board-level timers carry over.
 */
export class BoardClock implements SimClock {
  private now = 0;
  /** The core running right now, and its cycle count when its run began (not yet ticked). */
  private runningCore: { cycles: number } | null = null;
  private runStart = 0;
  private runCycleNanos = 0;
  private runEnd = 0;
  /**
   * An alarm was set during the running stretch that falls due before the stretch's end: the
   * run loop must stop the core early so the alarm fires on time.
   */
  alarmDueInRun = false;
  private head: Alarm | null = null;
  private generation = 0;

  /**
   * Simulated now. While a core runs a stretch of instructions the clock is ticked at its end,
   * but a peripheral read in the middle sees the time of that instruction: the cycles the core
   * has executed since the stretch began count.
   */
  get nanos(): number {
    const c = this.runningCore;
    return c ? this.now + (c.cycles - this.runStart) * this.runCycleNanos : this.now;
  }

  /** A core starts executing a stretch of up to `budget` cycles, ticked when it ends (`endRun`). */
  beginRun(core: { cycles: number }, cycleNanos: number, budget: number): void {
    this.runningCore = core;
    this.runStart = core.cycles;
    this.runCycleNanos = cycleNanos;
    this.runEnd = this.now + budget * cycleNanos;
    this.alarmDueInRun = false;
  }

  endRun(): void {
    this.runningCore = null;
  }

  /** rp2040js IClock: peripherals' alarms. */
  createAlarm(callback: () => void): Alarm {
    return new Alarm(this, callback, this.generation);
  }

  schedule(delayNanos: number, cb: () => void): SimTimer {
    const a = new Alarm(this, cb, BOARD_LEVEL);
    a.schedule(Math.max(0, delayNanos));
    return a;
  }

  /** A new chip takes over: forget every alarm the previous chip's peripherals had set. */
  newChip(): void {
    this.generation++;
    let prev: Alarm | null = null;
    for (let a = this.head; a; a = a.next) {
      if (a.generation !== BOARD_LEVEL) {
        a.scheduled = false;
        if (prev) prev.next = a.next;
        else this.head = a.next;
      } else prev = a;
    }
  }

  link(alarm: Alarm, deltaNanos: number): void {
    alarm.nanos = this.nanos + deltaNanos;
    if (this.runningCore && alarm.nanos < this.runEnd) this.alarmDueInRun = true;
    let prev: Alarm | null = null;
    let cur = this.head;
    while (cur && cur.nanos <= alarm.nanos) {
      prev = cur;
      cur = cur.next;
    }
    alarm.next = cur;
    if (prev) prev.next = alarm;
    else this.head = alarm;
    alarm.scheduled = true;
  }

  unlink(alarm: Alarm): void {
    let prev: Alarm | null = null;
    for (let a = this.head; a; prev = a, a = a.next) {
      if (a === alarm) {
        if (prev) prev.next = a.next;
        else this.head = a.next;
        break;
      }
    }
    alarm.scheduled = false;
  }

  /** Advance simulated time, firing due alarms in order. */
  tick(deltaNanos: number): void {
    const target = this.now + deltaNanos;
    let a = this.head;
    let sameInstant = 0;
    while (a && a.nanos <= target) {
      this.head = a.next;
      a.scheduled = false;
      if (a.nanos === this.now) {
        if (++sameInstant > ALARM_LIVELOCK_LIMIT) {
          throw new PicowSimError(
            `a peripheral timer fired ${ALARM_LIVELOCK_LIMIT} times at the same instant (${this.now} ns): the model livelocked`,
            1,
          );
        }
      } else sameInstant = 0;
      this.now = a.nanos;
      a.callback();
      a = this.head;
    }
    this.now = target;
  }

  /** The earliest alarm (rp2040js SimulationClock shape, read by the CPU engines). */
  get nextAlarm(): { readonly nanos: number } | null {
    return this.head;
  }

  /** Nanoseconds to the next alarm, or null when none is set. */
  get nanosToNextAlarm(): number | null {
    return this.head ? Math.max(0, this.head.nanos - this.now) : null;
  }
}
