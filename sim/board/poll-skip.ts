import type { RP2040 } from 'rp2040js';
import { DMA_BASE, IO_BANK0_BASE, PIO0_BASE, PIO1_BASE, isPioRxFifo } from './memory-map.ts';
import type { Core } from './multicore.ts';

/** RP2040 datasheet §4.6.5: TIMER registers that read the free-running microsecond counter. */
const TIMER_KEY = 0x40054;
const TIMER_READS = new Set([0x08 /* TIMEHR */, 0x0c /* TIMELR */, 0x24 /* TIMERAWH */, 0x28 /* TIMERAWL */]);
/** Of those, the ones that read the low 32 bits of the microsecond count: TIMELR, TIMERAWL. */
const TIMELR = 0x0c;
const TIMERAWL = 0x28;
/** Instructions between two timer reads of one polling loop, at most (in cycles). */
const POLL_WINDOW_CYCLES = 96;
/** Consecutive timer polls from one PC before time is skipped. */
const TIMER_POLLS_BEFORE_SKIP = 32;
/** Skips grow from this, doubling per poll, up to the cap (simulated nanoseconds). */
const TIMER_SKIP_START = 2_000;
const TIMER_SKIP_MAX = 500_000;
/**
 * A skip is at most this part of the time the poll has already waited (as the timer it reads
 * says), so a wait ends little late whatever its length: 1000 waits of 100 µs take ~119 ms
 * (with steps doubling regardless of the wait, ~257 ms).
 */
const TIMER_SKIP_OF_WAITED = 1 / 8;
/** Identical loop states in a row before a no-progress loop is skipped to the next alarm. */
const SAME_STATE_BEFORE_SKIP = 3;

/**
 * Peripheral registers whose reads have no side effect (RP2040 datasheet), so the board may read
 * them again on the waiting core's behalf: the DMA block (§2.5.7), IO_BANK0 (§2.19.6) and PIO
 * (§3.7) except the RX FIFO registers RXF0..RXF3, whose reads pop the FIFO.
 */
function rereadable(addr: number): boolean {
  const block = addr & ~0x3fff;
  if (block === DMA_BASE || block === IO_BANK0_BASE) return true;
  if (block === PIO0_BASE || block === PIO1_BASE) {
    return !isPioRxFifo(addr & 0xfff);
  }
  return false;
}

/** The register a no-progress loop waits on, and the value it keeps reading. */
export interface PollWatch {
  readonly core: Core;
  readonly addr: number;
  readonly value: number;
  /** Read the register now, as the core's next pass would (no side effect). */
  read(): number;
}

/** A PollWatch on a register read through its peripheral's own (unwrapped) read method. */
class RegisterWatch implements PollWatch {
  constructor(
    readonly core: Core,
    readonly addr: number,
    readonly value: number,
    private readonly readRaw: (offset: number) => number,
  ) {}

  read(): number {
    return this.readRaw(this.addr & 0x3fff);
  }
}

interface ReadRecord {
  pc: number;
  addr: number;
  value: number;
  cycles: number;
  apsr: number;
  regs: Uint32Array;
  same: number;
}

/**
 * Finds cores that only wait, so the clock policy can skip the wait instead of executing it:
 *
 * - a **no-progress loop**: a core reads the same peripheral register from the same instruction
 *   and gets the same value, with every register and flag as on the previous pass. Nothing in
 *   the core changed, so until a peripheral changes — which happens only when a clock alarm fires
 *   or the host delivers something — every further pass is the same: time can move to the next
 *   alarm at once (DMA/PIO busy-waits, status-register polls);
 * - a **timer poll**: a short loop reads the microsecond timer from one instruction again and
 *   again (busy-wait delays such as `sleep_ms` in builds without an alarm pool). Time is moved
 *   forward in growing steps, never past the next alarm and never more than an eighth of what
 *   the poll has waited so far, so the wait ends at most one step late — as if the core had been
 *   busy elsewhere for that long.
 *
 * The board skips only while the other core sleeps. While host I/O is pending it holds skips
 * to the wall clock (ClockPolicy), and declines a timer poll's first millisecond (`holdTimer`:
 * the loop runs on as code for a while before it asks again).
 */
export class PollSkipper {
  /** The core executing now (set by the run loop). */
  core: Core | null = null;
  /** A skip was requested: nanoseconds to move forward (Infinity: to the next alarm). 0 = none. */
  request = 0;
  private readonly records = new Map<Core, ReadRecord>();
  private timerPc = -1;
  private timerCycles = 0;
  private timerPolls = 0;
  private timerStep = TIMER_SKIP_START;
  /** core.cycles at the first read of the current timer poll, and before which it asks nothing. */
  private timerSince = 0;
  private timerQuietUntil = 0;
  /** The microsecond count the poll first read (null: it reads the high word). */
  private timerFirstUs: number | null = null;
  /** Skips granted so far, for diagnostics and benchmarks. */
  skips = 0;
  /**
   * Set with a no-progress request when the polled register can be read again without side
   * effects: until its value changes, the core's next passes would be the same again, so the
   * board may keep moving time from alarm to alarm without running the core.
   */
  watch: PollWatch | null = null;
  private readonly raw = new Map<number, (offset: number) => number>();

  constructor(private readonly enabled: () => boolean) {}

  /** Wrap every APB/AHB peripheral's register reads of `mcu` (not memory, not SIO). */
  install(mcu: RP2040): void {
    const peripherals = mcu.peripherals as unknown as Record<number, { readUint32(offset: number): number }>;
    for (const key of Object.keys(peripherals)) {
      const k = Number(key);
      const p = peripherals[k]!;
      const read = p.readUint32.bind(p);
      const base = k << 12; // peripherals are keyed by address >> 12 (16 KB apart)
      if (k === TIMER_KEY) {
        p.readUint32 = (offset: number) => {
          const v = read(offset);
          if (TIMER_READS.has(offset)) this.onTimerRead(offset === TIMELR || offset === TIMERAWL ? v : null);
          return v;
        };
      } else {
        this.raw.set(base, read);
        p.readUint32 = (offset: number) => {
          const v = read(offset);
          this.onRead(base + offset, v);
          return v;
        };
      }
    }
  }

  private onRead(addr: number, value: number): void {
    const core = this.core;
    if (!core) return;
    const pc = core.PC;
    const regs = core.registers;
    let r = this.records.get(core);
    if (!r) {
      r = { pc: -1, addr: 0, value: 0, cycles: 0, apsr: 0, regs: new Uint32Array(16), same: 0 };
      this.records.set(core, r);
    }
    // (APSR is computed from the flags: only read when everything cheaper already matches.)
    let same = r.pc === pc && r.addr === addr && r.value === value && core.cycles - r.cycles < 10_000 && r.apsr === core.APSR;
    if (same) {
      for (let i = 0; i < 15; i++) {
        if (regs[i] !== r.regs[i]) {
          same = false;
          break;
        }
      }
    }
    if (same) {
      if (++r.same >= SAME_STATE_BEFORE_SKIP && this.enabled()) {
        this.request = Infinity;
        const read = this.raw.get(addr & ~0x3fff);
        this.watch = read && rereadable(addr) ? new RegisterWatch(core, addr, value, read) : null;
      }
    } else {
      r.same = 0;
      r.pc = pc;
      r.addr = addr;
      r.value = value;
      r.apsr = core.APSR;
      r.regs.set(regs);
    }
    r.cycles = core.cycles;
  }

  /** Cycles the current timer poll has executed since its first read. */
  get timerPollCycles(): number {
    return this.timerCycles - this.timerSince;
  }

  /** The board declined a timer skip: the poll runs on as code for `cycles` before asking again. */
  holdTimer(cycles: number): void {
    this.timerQuietUntil = this.timerCycles + cycles;
  }

  /** A read of the timer; `lowUs`: the low word of the microsecond count it returned (else null). */
  private onTimerRead(lowUs: number | null): void {
    const core = this.core;
    if (!core) return;
    const pc = core.PC;
    if (pc === this.timerPc && core.cycles - this.timerCycles <= POLL_WINDOW_CYCLES) {
      if (++this.timerPolls >= TIMER_POLLS_BEFORE_SKIP && core.cycles >= this.timerQuietUntil && this.enabled()) {
        let step = this.timerStep;
        if (this.timerFirstUs !== null && lowUs !== null) {
          const waitedNanos = ((lowUs - this.timerFirstUs) >>> 0) * 1000;
          step = Math.min(step, Math.max(TIMER_SKIP_START, waitedNanos * TIMER_SKIP_OF_WAITED));
        }
        if (this.request !== Infinity) this.request = Math.max(this.request, step);
        this.timerStep = Math.min(this.timerStep * 2, TIMER_SKIP_MAX);
      }
    } else {
      this.timerPc = pc;
      this.timerPolls = 0;
      this.timerStep = TIMER_SKIP_START;
      this.timerSince = core.cycles;
      this.timerQuietUntil = 0;
      this.timerFirstUs = lowUs;
    }
    this.timerCycles = core.cycles;
  }
}
