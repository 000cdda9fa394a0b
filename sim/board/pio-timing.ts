/**
 * The RP2040's two PIO blocks in simulated time (RP2040 datasheet §3.2.1, §3.5.5): every enabled
 * state machine executes one instruction (plus its delay cycles) per clk_sys / CLKDIV, on the
 * board clock, instead of rp2040js's wall-clock loop (which runs 1000 instructions per Node
 * timer tick, whatever the divider).
 *
 * State machines run lazily: each keeps the simulated time of its next instruction, and is brought
 * up to the current time whenever the CPU or the DMA touches its PIO block, on an alarm while it
 * runs (at least every RUN_QUANTUM_NANOS: pins it drives and the IRQs it raises reach the CPU at
 * most that late; FIFOs, read by the CPU or the DMA, are always current), and when something
 * outside ends a stall (a GPIO or IRQ a WAIT watches). A stalled state machine costs nothing until
 * then. Instructions are rp2040js's `StateMachine.step`; a state machine a bus model claims (the
 * CYW43 gSPI bus, see pio-spi-bus.ts) is run by that model's executor instead, which sees its
 * bits as they leave and enter the pins.
 */
import type { RP2040 } from 'rp2040js';
import { clkSysHz, dmaBlock, pioBlocks, type DmaChannel, type PioBlock, type StateMachine } from './pio-shapes.ts';
import { isPioRxFifo } from './memory-map.ts';

/** PIO register offsets (RP2040 datasheet §3.7). */
const CTRL = 0x000;
const SM0_SHIFTCTRL = 0x0d0;
const SM_STRIDE = 0x18;
const SHIFTCTRL_FJOIN = 0xc0000000;
/** A running state machine is brought up to date at least this often (10 µs: its pins and IRQs lag by no more). */
export const RUN_QUANTUM_NANOS = 10_000;
/** DREQ numbers of the PIO FIFOs (RP2040 datasheet §2.5.3.1): PIOn TXm = 8n + m, RXm = 8n + 4 + m. */
const DREQ_PIO_STRIDE = 8;
const DREQ_PIO_RX0 = 4;
/** Zero-delay DMA transfers run at once per FIFO change, at most (a FIFO holds at most 8 words). */
const DMA_PUMP_LIMIT = 16;
/** Instructions one bring-up-to-date may execute before it gives the CPU a turn. */
const SYNC_GUARD = 4_000_000;

/** Runs a state machine claimed by a bus model, in place of rp2040js's `step`. */
export interface PioExecutor {
  /** Whether this executor runs `sm` (asked when its block's CTRL is written). */
  claims(pio: PioBlock, sm: StateMachine): boolean;
  /** The state machine starts (or restarts) running under this executor. */
  started(pio: PioBlock, sm: StateMachine): void;
  /** Execute at least one instruction and at most about `maxCycles`: cycles taken, or -1 if it stalls. */
  run(pio: PioBlock, sm: StateMachine, maxCycles: number): number;
  /** State-machine cycles it may run before it must be brought up to date again. */
  horizonCycles(pio: PioBlock, sm: StateMachine): number;
}

interface Runner {
  readonly pio: PioBlock;
  readonly sm: StateMachine;
  /** Simulated time of its next instruction. */
  time: number;
  stalled: boolean;
  active: boolean;
  executor: PioExecutor | null;
}

interface Clock {
  readonly nanos: number;
  createAlarm(cb: () => void): { schedule(delayNanos: number): void; cancel(): void; readonly scheduled: boolean; readonly nanos: number };
}

const engines = new WeakMap<RP2040, TimedPio>();

export class TimedPio {
  /** The timed PIO of a chip, installed on first use (the board installs it when it builds the chip). */
  static of(mcu: RP2040): TimedPio {
    let e = engines.get(mcu);
    if (!e) {
      e = new TimedPio(mcu);
      engines.set(mcu, e);
    }
    return e;
  }

  readonly blocks: PioBlock[];
  private readonly runners: Runner[] = [];
  private readonly clock: Clock;
  private readonly alarm: ReturnType<Clock['createAlarm']>;
  private readonly dmaChannels: DmaChannel[];
  private readonly executors = new Set<PioExecutor>();
  private inSync = false;
  /** The time of the instruction being executed (the clock's time outside a bring-up-to-date). */
  private instant = 0;
  /** Instructions executed by rp2040js's `step` (diagnostics, tests). */
  steps = 0;

  private constructor(private readonly mcu: RP2040) {
    this.clock = mcu.clock as unknown as Clock;
    this.alarm = this.clock.createAlarm(() => {
      this.sync();
      this.arm();
    });
    this.blocks = pioBlocks(mcu);
    this.dmaChannels = dmaBlock(mcu).channels;
    for (const pio of this.blocks) {
      for (const sm of pio.machines) {
        this.runners.push({ pio, sm, time: 0, stalled: false, active: false, executor: null });
      }
      this.hookBlock(pio);
    }
    for (const r of this.runners) this.hookWait(r);
  }

  /** Let a bus model run the state machines it recognises; returns the function that detaches it. */
  attach(executor: PioExecutor): () => void {
    this.executors.add(executor);
    return () => {
      this.executors.delete(executor);
      for (const r of this.runners) if (r.executor === executor) r.executor = null;
    };
  }

  /** Bring every running state machine up to the current simulated time. */
  sync(): void {
    if (this.inSync) return;
    this.inSync = true;
    try {
      this.syncNow();
    } finally {
      this.inSync = false;
      this.instant = this.clock.nanos;
    }
  }

  /** Set the alarm for the next time a running state machine must be brought up to date. */
  arm(): void {
    const now = this.clock.nanos;
    let wake = Infinity;
    for (const r of this.runners) {
      if (!r.active || r.stalled) continue;
      const horizon = r.executor ? r.executor.horizonCycles(r.pio, r.sm) * this.cycleNanos(r.sm) : 0;
      const at = Math.max(r.time + horizon, now + (r.executor ? 0 : RUN_QUANTUM_NANOS));
      if (at < wake) wake = at;
    }
    if (wake === Infinity) {
      this.alarm.cancel();
      return;
    }
    if (this.alarm.scheduled && this.alarm.nanos <= wake) return;
    this.alarm.schedule(wake - now);
  }

  /** Nanoseconds per state-machine cycle: clk_sys / CLKDIV (INT 0 means 65536, §3.5.5). */
  cycleNanos(sm: StateMachine): number {
    const div = (sm.clockDivInt || 65536) + sm.clockDivFrac / 256;
    return (1e9 * div) / clkSysHz(this.mcu);
  }

  /** The simulated time of the instruction a state machine is executing now. */
  get now(): number {
    return this.inSync ? this.instant : this.clock.nanos;
  }

  /**
   * A FIFO of `sm` changed: update its DREQs and run the DMA transfers they make due now (rp2040js
   * schedules each at zero delay), as the DMA does within a few cycles on hardware, so a state
   * machine running behind the clock sees its FIFO fed at the instant it drained it.
   */
  fifoChanged(pio: PioBlock, sm: StateMachine): void {
    sm.updateDMATx();
    sm.updateDMARx();
    const tx = pio.index * DREQ_PIO_STRIDE + sm.index;
    const rx = tx + DREQ_PIO_RX0;
    const now = this.clock.nanos;
    for (const ch of this.dmaChannels) {
      if (ch.treq !== tx && ch.treq !== rx) continue;
      for (let i = 0; i < DMA_PUMP_LIMIT; i++) {
        const alarm = ch.transferAlarm;
        if (!alarm.scheduled || alarm.nanos > now) break;
        alarm.cancel();
        ch.transfer();
      }
    }
  }

  private syncNow(): void {
    const now = this.clock.nanos;
    let live = 0;
    for (const r of this.runners) {
      if (!r.active) continue;
      if (!r.sm.enabled) {
        r.active = false;
        continue;
      }
      live++;
      if (r.stalled) {
        r.stalled = false;
        r.time = now;
      }
    }
    if (live === 0) return;
    if (live === 1) {
      // One state machine: no interleaving to keep, run it straight to now.
      const r = this.runners.find((c) => c.active)!;
      const cyc = this.cycleNanos(r.sm);
      for (let guard = 0; guard < SYNC_GUARD && r.active && !r.stalled && r.time <= now; guard++) {
        if (!r.sm.enabled) {
          r.active = false;
          break;
        }
        this.instant = r.time;
        const c = r.executor ? r.executor.run(r.pio, r.sm, Math.floor((now - r.time) / cyc) + 1) : this.step(r);
        if (c < 0) r.stalled = true;
        else r.time += c * cyc;
      }
      return;
    }
    for (let guard = 0; guard < SYNC_GUARD; guard++) {
      let r: Runner | null = null;
      for (const c of this.runners) {
        if (c.active && !c.stalled && c.time <= now && (r === null || c.time < r.time)) r = c;
      }
      if (!r) return;
      if (!r.sm.enabled) {
        r.active = false;
        continue;
      }
      this.instant = r.time;
      const cyc = this.cycleNanos(r.sm);
      const c = r.executor ? r.executor.run(r.pio, r.sm, Math.floor((now - r.time) / cyc) + 1) : this.step(r);
      if (c < 0) r.stalled = true;
      else r.time += c * cyc;
    }
  }

  /** One instruction of an unclaimed state machine, by rp2040js: cycles taken, or -1 if it stalls. */
  private step(r: Runner): number {
    const sm = r.sm;
    const before = sm.cycles;
    const tx = sm.txFIFO.itemCount;
    const rx = sm.rxFIFO.itemCount;
    sm.step();
    this.steps++;
    r.pio.checkChangedPins();
    if (tx !== sm.txFIFO.itemCount || rx !== sm.rxFIFO.itemCount) this.fifoChanged(r.pio, sm);
    if (sm.waiting) return -1;
    return Math.max(1, sm.cycles - before);
  }

  private start(r: Runner): void {
    r.active = true;
    r.stalled = false;
    r.time = this.clock.nanos;
    r.executor = null;
    for (const e of this.executors) {
      if (e.claims(r.pio, r.sm)) {
        r.executor = e;
        e.started(r.pio, r.sm);
        break;
      }
    }
  }

  private hookBlock(pio: PioBlock): void {
    const read = pio.readUint32;
    const write = pio.writeUint32;
    const self = this;
    const runners = this.runners.filter((r) => r.pio === pio);
    pio.readUint32 = function (offset: number): number {
      self.sync();
      const v = read.call(pio, offset);
      // Only a read of an RX FIFO changes anything (it pops a word, which may end a stall);
      // the other registers read as they are, and the machines are already up to date.
      if (isPioRxFifo(offset)) self.afterAccess();
      return v;
    };
    const wasEnabled = runners.map(() => false);
    pio.writeUint32 = function (offset: number, value: number): void {
      self.sync();
      const rel = offset - SM0_SHIFTCTRL;
      const sm = rel >= 0 && rel < 4 * SM_STRIDE && rel % SM_STRIDE === 0 ? pio.machines[rel / SM_STRIDE]! : null;
      const oldShift = sm ? sm.shiftCtrl : 0;
      if (offset === CTRL) for (let i = 0; i < runners.length; i++) wasEnabled[i] = runners[i]!.sm.enabled;
      write.call(pio, offset, value);
      if (sm && (oldShift ^ sm.shiftCtrl) & SHIFTCTRL_FJOIN) {
        // Changing FJOIN clears both FIFOs (datasheet SHIFTCTRL.FJOIN_*); pio_sm_clear_fifos relies on it.
        sm.rxFIFO.reset();
        sm.txFIFO.reset();
        sm.updateDMARx();
        sm.updateDMATx();
      }
      if (offset === CTRL) {
        runners.forEach((r, i) => {
          const restart = (value >>> (4 + i)) & 1;
          if (r.sm.enabled && (!wasEnabled[i] || restart || !r.active)) self.start(r);
          if (!r.sm.enabled) r.active = false;
        });
      }
      self.afterAccess();
    };
    // rp2040js's wall-clock loop never runs: this engine steps the state machines.
    pio.run = function (): void {
      pio.stopped = true;
    };
  }

  /** Something outside (a GPIO, an IRQ, a FIFO) ended a WAIT: run that state machine from now. */
  private hookWait(r: Runner): void {
    const checkWait = r.sm.checkWait;
    const self = this;
    r.sm.checkWait = function (this: StateMachine): void {
      const was = this.waiting;
      checkWait.call(this);
      if (was && !this.waiting && r.active && r.stalled) {
        r.stalled = false;
        r.time = self.now;
        if (!self.inSync) self.arm();
      }
    };
  }

  private afterAccess(): void {
    if (this.inSync) return;
    this.sync();
    this.arm();
  }
}
