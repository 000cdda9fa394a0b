/**
 * A 1-Wire bus on one GPIO, decoded from the firmware's real bit-banged timing.
 *
 * The MCU is the bus master: it pulls the open-drain line low and releases it; a pull-up brings it
 * high otherwise. Every change of the master's drive is observed with the simulated time it
 * happened. From those edges the bus recognises
 *   - a reset pulse (low ≥ 480 µs): each device answers with a presence pulse shortly after the
 *     master releases the line;
 *   - a time slot (a short low pulse): at its falling edge a device that is sending a 0 holds the
 *     line low long enough for the master to sample it; when the master releases, the length of its
 *     low pulse says which bit it wrote (shorter than the device's sampling point → 1).
 * The line level the master reads is the wired-AND of everyone: low while the master or any device
 * pulls it low.
 */
import type { GPIOPin } from 'rp2040js';
import type { BoardContext, BoardDevice } from '../board/device.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { SimClock, SimTimer } from '../time.ts';

export type Bit = 0 | 1;

// Timing, DS18B20 datasheet "1-Wire Signaling" (and Maxim AN126, standard speed).
/** tRSTL: a reset pulse holds the line low for at least 480 µs. */
export const RESET_MIN_NANOS = 480_000;
/**
 * What the bus takes for a reset: 480 µs less 5 µs, because a master timing its pulse with a
 * microsecond timer can release up to one tick early (it starts counting from a truncated time).
 */
export const RESET_DETECT_NANOS = RESET_MIN_NANOS - 5_000;
/** tSLOT max 120 µs: a low pulse longer than this and shorter than a reset is malformed. */
export const SLOT_MAX_NANOS = 120_000;
/** tPDHIGH (15–60 µs): the device waits this long after the reset pulse before its presence pulse. */
export const PRESENCE_WAIT_NANOS = 30_000;
/** tPDLOW (60–240 µs): length of the presence pulse. */
export const PRESENCE_LOW_NANOS = 120_000;
/**
 * Where a write slot is decided: a master that released the line before this point after the
 * falling edge wrote a 1, otherwise a 0. A DS18B20 samples 15–60 µs after the edge (typically
 * 30 µs); any point in that window is right for a master within the datasheet's limits (a 1 is low
 * for at most 15 µs, a 0 for at least 60 µs). 45 µs also survives a board that reports the first
 * edge after an idle stretch up to one CPU batch (~33 µs) early.
 */
export const WRITE_SAMPLE_NANOS = 45_000;
/**
 * A device sending a 0 in a read slot holds the line low from the falling edge for at least this
 * long (tRDV: the master samples within 15 µs; 30 µs leaves margin) ...
 */
export const READ_ZERO_HOLD_NANOS = 30_000;
/**
 * ... and at least this long after the master releases the line, so a master that samples a few
 * µs after its release (MicroPython: 5 µs) reads the 0 even when the edge's time was coarse.
 * Both end well before the next slot (a slot lasts ≥ 60 µs plus ≥ 1 µs recovery).
 */
export const READ_ZERO_AFTER_RELEASE_NANOS = 15_000;

/** What a device on the bus sees, in bus order. */
export interface OneWireSlave {
  /** The master sent a reset pulse that ended at `nanos`. Return true to answer with presence. */
  busReset(nanos: number): boolean;
  /**
   * A time slot begins (the master pulled the line low). Return the bit this device sends in the
   * slot — 0 holds the line low — or null when it is listening or idle.
   */
  slotStart(nanos: number): Bit | null;
  /** The master released the line; `masterBit` is the bit it wrote (for write slots). */
  slotEnd(nanos: number, masterBit: Bit): void;
}

/** The electrical side of the bus: the master's drive and the level it reads. */
export interface OneWireLine {
  /** Whether the master drives the line low right now. */
  masterDrivesLow(): boolean;
  /** Subscribe to changes of the master's drive (called synchronously when they happen). */
  onMasterChange(cb: () => void): () => void;
  /** The level the master's input sees. */
  setLevel(high: boolean): void;
}

/** A 1-Wire line on an rp2040js GPIO: the master drives low when output is enabled with value 0. */
export function gpioLine(pin: GPIOPin): OneWireLine {
  return {
    masterDrivesLow: () => pin.outputEnable && !pin.outputValue,
    onMasterChange: (cb) => {
      const off = pin.addListener(() => cb());
      return () => void off();
    },
    setLevel: (high) => pin.setInputValue(high),
  };
}

export interface OneWireBusOptions {
  /** GPIO number for `attach` (default 22, the book's DS18B20 pin). */
  pin?: number;
  logger?: Logger;
  /**
   * Time resolution kept while the bus is active, in ns (default 1000; 0 turns it off). See
   * `FINE_TIME_NANOS`.
   */
  fineTimeNanos?: number;
}

/**
 * A board may run the CPU in batches of thousands of cycles and advance its clock per batch, so
 * the edges a bit-banging program makes (and the timer it reads for its delays) land on a coarse
 * grid — tens of µs, as long as a whole time slot. While the bus is in use, the bus keeps a timer
 * pending every microsecond: a board stops its batches at pending timers, so edges and the
 * program's delays are resolved to about 1 µs. The bus counts as in use from a master edge until
 * `ACTIVE_HOLD_NANOS` after the last one (1-Wire transactions begin with a reset, whose 480 µs
 * absorb the coarse first edge).
 */
export const FINE_TIME_NANOS = 1_000;
export const ACTIVE_HOLD_NANOS = 5_000_000;

export const DEFAULT_ONEWIRE_PIN = 22;

/** The bus: owns the line, decodes the master's pulses, and hands them to every device. */
export class OneWireBus implements BoardDevice {
  readonly pin: number;
  private readonly devices: OneWireSlave[] = [];
  private line: OneWireLine | null = null;
  private clock: SimClock | null = null;
  private logger: Logger;
  private unsubscribe: (() => void) | null = null;
  private masterLow = false;
  private fallNanos = 0;
  /** Devices currently pulling the line low. */
  private holds = 0;
  private level = true;
  private readZeroEnd = 0;
  private readZeroTimer: SimTimer | null = null;
  private readZeroHeld = false;
  private readonly holdTimers = new Set<SimTimer>();
  private readonly fineTimeNanos: number;
  private lastEdge = -Infinity;
  private fineTimer: SimTimer | null = null;
  /** Counters, for tests and traces. */
  readonly stats = { resets: 0, presences: 0, slots: 0, malformed: 0 };

  constructor(opts: OneWireBusOptions = {}) {
    this.pin = opts.pin ?? DEFAULT_ONEWIRE_PIN;
    this.logger = opts.logger ?? silentLogger();
    this.fineTimeNanos = opts.fineTimeNanos ?? FINE_TIME_NANOS;
  }

  /** Keep a timer pending every `fineTimeNanos` until the bus has been quiet for a while. */
  private keepFineTime(now: number): void {
    this.lastEdge = now;
    if (this.fineTimer || this.fineTimeNanos <= 0 || !this.clock) return;
    const clock = this.clock;
    const step = (): void => {
      if (this.clock !== clock || clock.nanos - this.lastEdge > ACTIVE_HOLD_NANOS) {
        this.fineTimer = null;
        return;
      }
      this.fineTimer = clock.schedule(this.fineTimeNanos, step);
    };
    this.fineTimer = clock.schedule(this.fineTimeNanos, step);
  }

  add(device: OneWireSlave): this {
    this.devices.push(device);
    return this;
  }

  remove(device: OneWireSlave): void {
    const i = this.devices.indexOf(device);
    if (i >= 0) this.devices.splice(i, 1);
  }

  get deviceCount(): number {
    return this.devices.length;
  }

  attach(ctx: BoardContext): void {
    const pin = ctx.mcu.gpio[this.pin];
    if (!pin) throw new RangeError(`1-Wire: GPIO ${this.pin} does not exist`);
    this.connect(gpioLine(pin), ctx.clock, ctx.logger);
  }

  /** Connect to a line and a clock (what `attach` does with a board's GPIO; tests pass their own). */
  connect(line: OneWireLine, clock: SimClock, logger?: Logger): void {
    this.disconnect();
    this.line = line;
    this.clock = clock;
    if (logger) this.logger = logger;
    this.masterLow = line.masterDrivesLow();
    this.fallNanos = clock.nanos;
    this.level = !this.masterLow;
    line.setLevel(this.level);
    this.unsubscribe = line.onMasterChange(() => this.masterChanged());
  }

  disconnect(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.line = null;
    this.fineTimer?.cancel();
    this.fineTimer = null;
    this.readZeroTimer?.cancel();
    this.readZeroTimer = null;
    this.readZeroHeld = false;
    for (const t of this.holdTimers) t.cancel();
    this.holdTimers.clear();
    this.holds = 0;
  }

  dispose(): void {
    this.disconnect();
  }

  /** The line level right now (what the master reads). */
  get lineHigh(): boolean {
    return this.level;
  }

  private updateLevel(): void {
    const high = !this.masterLow && this.holds === 0;
    if (high !== this.level) {
      this.level = high;
      this.line?.setLevel(high);
    }
  }

  /** A device pulls the line low from `delay` for `duration` nanoseconds (presence pulses). */
  private holdLow(delay: number, duration: number): void {
    const clock = this.clock!;
    const track = (t: SimTimer): SimTimer => (this.holdTimers.add(t), t);
    const start = clock.schedule(Math.max(0, delay), () => {
      this.holdTimers.delete(start);
      this.holds++;
      this.updateLevel();
      const end = track(
        clock.schedule(duration, () => {
          this.holdTimers.delete(end);
          this.holds--;
          this.updateLevel();
        }),
      );
    });
    track(start);
  }

  /** A device answers a read slot with 0: hold the line from the falling edge. */
  private startReadZero(now: number): void {
    this.readZeroEnd = now + READ_ZERO_HOLD_NANOS;
    if (!this.readZeroHeld) {
      this.readZeroHeld = true;
      this.holds++;
      this.updateLevel();
    }
    this.armReadZero();
  }

  /** The master released: keep the 0 on the line until a little after the release. */
  private extendReadZero(now: number): void {
    if (!this.readZeroHeld) return;
    this.readZeroEnd = Math.max(this.readZeroEnd, now + READ_ZERO_AFTER_RELEASE_NANOS);
    this.armReadZero();
  }

  private armReadZero(): void {
    const clock = this.clock!;
    this.readZeroTimer?.cancel();
    this.readZeroTimer = clock.schedule(Math.max(0, this.readZeroEnd - clock.nanos), () => {
      this.readZeroTimer = null;
      // While the master still pulls low, the slot is not over: the release re-arms the end.
      if (this.masterLow) return;
      this.readZeroHeld = false;
      this.holds--;
      this.updateLevel();
    });
  }

  private masterChanged(): void {
    if (!this.line || !this.clock) return;
    const low = this.line.masterDrivesLow();
    if (low === this.masterLow) return;
    const now = this.clock.nanos;
    this.masterLow = low;
    this.keepFineTime(now);
    if (low) {
      this.fallNanos = now;
      this.updateLevel();
      let sendsZero = false;
      for (const d of this.devices) if (d.slotStart(now) === 0) sendsZero = true;
      if (sendsZero) this.startReadZero(now);
      return;
    }
    const width = now - this.fallNanos;
    this.extendReadZero(now);
    this.updateLevel();
    if (width >= RESET_DETECT_NANOS) {
      this.stats.resets++;
      let present = 0;
      for (const d of this.devices) if (d.busReset(now)) present++;
      this.logger.trace('onewire', () => `reset ${(width / 1000).toFixed(1)} µs → ${present} present`);
      if (present > 0) {
        this.stats.presences++;
        this.holdLow(PRESENCE_WAIT_NANOS, PRESENCE_LOW_NANOS);
      }
      return;
    }
    if (width > SLOT_MAX_NANOS) {
      this.stats.malformed++;
      this.logger.warnOnce(
        'onewire',
        `malformed-${this.pin}`,
        `GP${this.pin}: low pulse of ${(width / 1000).toFixed(1)} µs is neither a time slot (≤ 120 µs) nor a reset (≥ 480 µs); taken as a 0`,
      );
    }
    this.stats.slots++;
    const bit: Bit = width < WRITE_SAMPLE_NANOS ? 1 : 0;
    for (const d of this.devices) d.slotEnd(now, bit);
  }
}
