/**
 * Bus transport: finds the PIO state machine that drives the CYW43 gSPI bus (side-set on the clock
 * pin, OUT and IN on the data pin) in either PIO block, and runs that state machine itself in
 * simulated time, instruction by instruction, following PIO semantics (RP2040 datasheet §3.4):
 * every `out pins` bit while the data pin is an output is a bit to the chip, every `in pins` reads
 * the chip's next bit, FIFOs, autopull/autopush, stalls and the FDEBUG stall flags behave as in
 * hardware, and DREQs go to the DMA. Nothing about the PIO index, SM number, program offset or
 * program variant is assumed.
 *
 * Work happens when the CPU or DMA touches the PIO block (reads and writes are intercepted to
 * bring the state machine up to the current simulated time first) and on clock alarms while the
 * state machine runs; a stalled state machine costs nothing until its FIFOs change.
 */
import type { RP2040 } from 'rp2040js';
import type { Logger } from '../log.ts';
import type { SimClock, SimTimer } from '../time.ts';

/** Pico W wiring (CYW43439 datasheet / Pico W schematic). */
export const PIN_WL_REG_ON = 23;
export const PIN_WL_DATA = 24;
export const PIN_WL_CS = 25;
export const PIN_WL_CLK = 29;

// PIO register offsets and bits (RP2040 datasheet §3.7)
const CTRL = 0x000;
const SM0_SHIFTCTRL = 0x0d0;
const SM_STRIDE = 0x18;
const FDEBUG_TXSTALL_LSB = 24;
const FDEBUG_RXSTALL_LSB = 0;
const SHIFTCTRL_AUTOPUSH = 1 << 16;
const SHIFTCTRL_AUTOPULL = 1 << 17;
const SHIFTCTRL_IN_SHIFTDIR = 1 << 18;
const SHIFTCTRL_OUT_SHIFTDIR = 1 << 19;
const SHIFTCTRL_FJOIN = 0xc0000000;
const EXECCTRL_SIDE_EN = 1 << 30;
const EXECCTRL_STATUS_SEL = 1 << 4;
/** State-machine cycles between two runs of a running state machine, at least (about one 32-bit word)... */
const RUN_QUANTUM_CYCLES = 96;
/** ...and at most, when it is in a shift loop whose end is known from its X/Y counter. */
const RUN_HORIZON_MAX_CYCLES = 8192;
/** DREQ numbers of the PIO FIFOs (RP2040 datasheet §2.5.3.1): PIOn TXm = 8n + m, RXm = 8n + 4 + m. */
const DREQ_PIO_STRIDE = 8;
const DREQ_PIO_RX0 = 4;
/** Zero-delay DMA transfers run at once per FIFO change, at most (a FIFO holds at most 8 words). */
const DMA_PUMP_LIMIT = 16;

/** The fields of rp2040js's StateMachine this transport drives (public at run time). */
interface Fifo {
  readonly empty: boolean;
  readonly full: boolean;
  readonly itemCount: number;
  push(v: number): void;
  pull(): number;
  reset(): void;
}
interface Sm {
  readonly index: number;
  enabled: boolean;
  x: number;
  y: number;
  pc: number;
  inputShiftReg: number;
  inputShiftCount: number;
  outputShiftReg: number;
  outputShiftCount: number;
  clockDivInt: number;
  clockDivFrac: number;
  execCtrl: number;
  shiftCtrl: number;
  pinCtrl: number;
  readonly rxFIFO: Fifo;
  readonly txFIFO: Fifo;
  step(): void;
  updateDMATx(): void;
  updateDMARx(): void;
}
/**
 * The fields of rp2040js's DMA channels this transport drives (public at run time). The alarm is
 * the board clock's: `scheduled` is false once it has fired.
 */
interface DmaChannel {
  readonly treq: number;
  readonly transferAlarm: { readonly scheduled: boolean; readonly nanos: number; cancel(): void };
  transfer(): void;
}

/** A two-instruction shift loop at the state machine's PC: `OUT/IN PINS, 1` then `JMP X--/Y--` back. */
interface ShiftLoop {
  /** 3 = OUT, 2 = IN. */
  readonly op: number;
  /** JMP condition: 2 = X--, 4 = Y--. */
  readonly cond: number;
  readonly nextPc: number;
  readonly wrapTop: number;
  readonly wrapBottom: number;
  readonly cyclesPerIter: number;
}

function shiftLoopAt(pio: Pio, sm: Sm): ShiftLoop | null {
  const pc = sm.pc;
  const wrapTop = (sm.execCtrl >>> 12) & 0x1f;
  const wrapBottom = (sm.execCtrl >>> 7) & 0x1f;
  const nextPc = pc === wrapTop ? wrapBottom : (pc + 1) & 0x1f;
  const a = pio.instructions[pc]! & 0xffff;
  const b = pio.instructions[nextPc]! & 0xffff;
  if (b >>> 13 !== 0 || (b & 0x1f) !== pc) return null; // b: JMP back to a
  if ((a & 0xff) !== 1) return null; // one bit to/from PINS
  const op = a >>> 13;
  const cond = (b >>> 5) & 7;
  if (!((op === 3 && cond === 2) || (op === 2 && cond === 4))) return null;
  const sidesetCount = (sm.pinCtrl >>> 29) & 7;
  const delayMask = (1 << (5 - sidesetCount)) - 1;
  const cyclesPerIter = 2 + (((a >>> 8) & 0x1f) & delayMask) + (((b >>> 8) & 0x1f) & delayMask);
  return { op, cond, nextPc, wrapTop, wrapBottom, cyclesPerIter };
}
interface Pio {
  readonly index: number;
  readonly machines: Sm[];
  readonly instructions: Uint32Array;
  fdebug: number;
  txStall: number;
  rxStall: number;
  irq: number;
  pinDirections: number;
  readUint32(offset: number): number;
  writeUint32(offset: number, value: number): void;
  checkInterrupts(): void;
  irqUpdated(): void;
  pinDirectionsChanged(value: number, firstPin: number, count: number): void;
}

/** The chip side of the wire. */
export interface SpiTarget {
  select(): void;
  deselect(): void;
  /** 32 bits from the host, first bit in bit 31. */
  mosiWord(wire: number): void;
  /** Next 32 bits to the host, first bit in bit 31. */
  misoWord(): number;
}

function bitReverse(x: number): number {
  x = ((x & 0x55555555) << 1) | ((x >>> 1) & 0x55555555);
  x = ((x & 0x33333333) << 2) | ((x >>> 2) & 0x33333333);
  x = ((x & 0x0f0f0f0f) << 4) | ((x >>> 4) & 0x0f0f0f0f);
  x = ((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff);
  return ((x << 16) | (x >>> 16)) >>> 0;
}

export class PioSpiTransport {
  private pios: Pio[] = [];
  private owned: { pio: Pio; sm: Sm } | null = null;
  private smTime = 0;
  private stalled = false;
  private running = false;
  private timer: SimTimer | null = null;
  private dataIsOutput = false;
  private mosiAcc = 0;
  private mosiBits = 0;
  private misoAcc = 0;
  private misoBits = 0;
  private csLow = false;
  private inSync = false;
  private readonly dmaChannels: DmaChannel[] | null;
  private disposers: (() => void)[] = [];
  private warnedOp = new Set<string>();
  /** Number of state-machine instructions executed (diagnostics). */
  instructions = 0;

  constructor(
    private readonly mcu: RP2040,
    private readonly clock: SimClock,
    private readonly target: SpiTarget,
    private readonly logger: Logger,
    private readonly pins = { data: PIN_WL_DATA, clk: PIN_WL_CLK, cs: PIN_WL_CS },
  ) {
    this.pios = (mcu as unknown as { pio: Pio[] }).pio;
    this.dmaChannels = (mcu as unknown as { dma?: { channels?: DmaChannel[] } }).dma?.channels ?? null;
    for (const pio of this.pios) this.hookPio(pio);
    const csPin = mcu.gpio[this.pins.cs]!;
    this.csLow = csPin.outputEnable && !csPin.outputValue;
    this.disposers.push(csPin.addListener(() => this.onCsChange()));
  }

  /** Whether a state machine is currently recognised as the gSPI bus. */
  get busStateMachine(): { pio: number; sm: number } | null {
    return this.owned ? { pio: this.owned.pio.index, sm: this.owned.sm.index } : null;
  }

  get chipSelected(): boolean {
    return this.csLow;
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
    this.timer?.cancel();
    this.timer = null;
    this.owned = null;
  }

  private hookPio(pio: Pio): void {
    const read = pio.readUint32;
    const write = pio.writeUint32;
    const self = this;
    pio.readUint32 = function (offset: number): number {
      self.safe(() => self.sync());
      const v = read.call(pio, offset);
      self.safe(() => self.afterAccess());
      return v;
    };
    pio.writeUint32 = function (offset: number, value: number): void {
      self.safe(() => self.sync());
      const smIdx = (offset - SM0_SHIFTCTRL) / SM_STRIDE;
      const sm = Number.isInteger(smIdx) && smIdx >= 0 && smIdx < 4 ? pio.machines[smIdx]! : null;
      const oldShift = sm ? sm.shiftCtrl : 0;
      // Claim the bus state machine before rp2040js's scheduler can start stepping it.
      if (offset === CTRL) self.claim(pio, value & 0xf);
      write.call(pio, offset, value);
      if (sm && (oldShift ^ sm.shiftCtrl) & SHIFTCTRL_FJOIN) {
        // Changing FJOIN clears both FIFOs (datasheet SHIFTCTRL.FJOIN_*); pio_sm_clear_fifos relies on it.
        sm.rxFIFO.reset();
        sm.txFIFO.reset();
        sm.updateDMARx();
        sm.updateDMATx();
      }
      if (offset === CTRL) self.safe(() => self.scan());
      self.safe(() => self.afterAccess());
    };
    // Keep rp2040js's own scheduler off the state machine this transport runs.
    for (const sm of pio.machines) {
      const step = sm.step;
      sm.step = function (): void {
        if (self.owned?.sm === sm || self.isBusConfig(sm)) return;
        step.call(sm);
      };
    }
    // rp2040js steps a PIO block from a wall-clock timer while any of its state machines is
    // enabled. When the only enabled one is the bus this transport runs, that loop has nothing to
    // do: stop it (a later CTRL write enabling another state machine starts it again).
    const pioRun = (pio as unknown as { run: () => void }).run;
    const runnable = pio as unknown as { run: () => void; stopped: boolean };
    runnable.run = function (): void {
      const others = pio.machines.some((m) => m.enabled && m !== self.owned?.sm && !self.isBusConfig(m));
      if (!others) {
        runnable.stopped = true;
        return;
      }
      pioRun.call(pio);
    };
    this.disposers.push(() => {
      pio.readUint32 = read;
      pio.writeUint32 = write;
      runnable.run = pioRun;
    });
  }

  /** Contain a fault of the transport: log it, never let it reach the CPU's memory access. */
  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.unsupported(`an internal fault (${(e as Error).message})`);
    }
  }

  /** Take over a state machine of `pio` about to be enabled (bit set in `enableMask`) that is wired as the bus. */
  private claim(pio: Pio, enableMask: number): void {
    for (const sm of pio.machines) {
      if ((enableMask >>> sm.index) & 1 && this.isBusConfig(sm) && this.owned?.sm !== sm) {
        this.owned = { pio, sm };
        this.running = false;
        this.logger.trace('cyw43', `gSPI bus found on PIO${pio.index} SM${sm.index}`);
      }
    }
  }

  /** Look for an enabled state machine wired as the gSPI bus. */
  private scan(): void {
    for (const pio of this.pios) {
      for (const sm of pio.machines) {
        if (!sm.enabled || !this.isBusConfig(sm)) continue;
        if (this.owned?.sm !== sm) {
          this.owned = { pio, sm };
          this.logger.trace('cyw43', `gSPI bus found on PIO${pio.index} SM${sm.index}`);
        }
        if (!this.running) {
          this.running = true;
          this.stalled = false;
          this.smTime = this.clock.nanos;
          this.dataIsOutput = ((pio.pinDirections >>> this.pins.data) & 1) === 1;
        }
        return;
      }
    }
    if (this.owned && !this.owned.sm.enabled) {
      this.running = false;
      this.timer?.cancel();
      this.timer = null;
    }
  }

  private isBusConfig(sm: Sm): boolean {
    const p = sm.pinCtrl;
    const sidesetCount = (p >>> 29) & 7;
    const sidesetBase = (p >>> 10) & 0x1f;
    const outBase = p & 0x1f;
    const inBase = (p >>> 15) & 0x1f;
    const optional = (sm.execCtrl & EXECCTRL_SIDE_EN) !== 0;
    return sidesetCount - (optional ? 1 : 0) >= 1 && sidesetBase === this.pins.clk && outBase === this.pins.data && inBase === this.pins.data;
  }

  private onCsChange(): void {
    const pin = this.mcu.gpio[this.pins.cs]!;
    const low = pin.outputEnable && !pin.outputValue;
    if (low === this.csLow) return;
    this.sync();
    this.csLow = low;
    if (low) {
      this.mosiAcc = 0;
      this.mosiBits = 0;
      this.misoBits = 0;
      this.target.select();
    } else {
      if (this.mosiBits > 0) {
        this.target.mosiWord((this.mosiAcc << (32 - this.mosiBits)) >>> 0);
        this.mosiBits = 0;
      }
      this.target.deselect();
    }
  }

  private afterAccess(): void {
    if (!this.running || this.inSync) return;
    if (this.stalled) this.sync();
    this.arm();
  }

  private arm(): void {
    if (!this.running || this.stalled || !this.owned) {
      this.timer?.cancel();
      this.timer = null;
      return;
    }
    if (this.timer) return;
    const delay = Math.max(0, this.smTime - this.clock.nanos) + this.horizonCycles() * this.cycleNanos();
    this.timer = this.clock.schedule(delay, () => {
      this.timer = null;
      this.safe(() => {
        this.sync();
        this.arm();
      });
    });
  }

  /**
   * How far the state machine may run before it is next brought up to date: to the end of the
   * shift loop it is in (the DMA keeps its FIFO fed meanwhile, see fifoChanged), so that a transfer's
   * end is seen on time; one word's worth elsewhere. Every access to the PIO block by the CPU or
   * the DMA brings it up to date first anyway.
   */
  private horizonCycles(): number {
    const { pio, sm } = this.owned!;
    const loop = shiftLoopAt(pio, sm);
    if (!loop) return RUN_QUANTUM_CYCLES;
    const counter = loop.cond === 2 ? sm.x : sm.y;
    const left = ((counter >>> 0) + 1) * loop.cyclesPerIter;
    return Math.max(RUN_QUANTUM_CYCLES, Math.min(RUN_HORIZON_MAX_CYCLES, left));
  }

  /**
   * A FIFO of the bus state machine changed inside `sync`: update its DREQs; a DMA channel paced
   * by one of them has a transfer due now (rp2040js schedules one at zero delay per DREQ). Do it at once, as the DMA
   * does within a few cycles on hardware, so the state machine can run on with a fed FIFO instead
   * of stopping at every word until the clock passes that zero-delay alarm.
   */
  private fifoChanged(sm: Sm): void {
    sm.updateDMATx();
    sm.updateDMARx();
    const channels = this.dmaChannels;
    if (!channels) return;
    const pio = this.owned!.pio;
    const tx = pio.index * DREQ_PIO_STRIDE + sm.index;
    const rx = tx + DREQ_PIO_RX0;
    const now = this.clock.nanos;
    for (const ch of channels) {
      if (ch.treq !== tx && ch.treq !== rx) continue;
      for (let i = 0; i < DMA_PUMP_LIMIT; i++) {
        const alarm = ch.transferAlarm;
        if (!alarm.scheduled || alarm.nanos > now) break;
        alarm.cancel();
        ch.transfer();
      }
    }
  }

  private cycleNanos(): number {
    const sm = this.owned!.sm;
    const div = (sm.clockDivInt || 65536) + sm.clockDivFrac / 256;
    const clkSys = (this.mcu as unknown as { clkSys: number }).clkSys || 125e6;
    return (1e9 * div) / clkSys;
  }

  /** Run the bus state machine up to the current simulated time. */
  sync(): void {
    // A DMA transfer made by fifoChanged reaches the PIO registers through the hooks: the outer
    // sync is already running the state machine.
    if (this.inSync || !this.running || !this.owned) return;
    this.inSync = true;
    try {
      this.syncNow();
    } finally {
      this.inSync = false;
    }
  }

  private syncNow(): void {
    const { sm } = this.owned!;
    if (!sm.enabled) {
      this.running = false;
      return;
    }
    const now = this.clock.nanos;
    const cyc = this.cycleNanos();
    let guard = 0;
    while (this.smTime <= now) {
      let c = this.burst(Math.floor((now - this.smTime) / cyc) + 1);
      if (c === 0) c = this.execOne();
      if (c < 0) {
        this.stalled = true;
        this.smTime = now;
        return;
      }
      this.stalled = false;
      this.smTime += c * cyc;
      if (++guard > 1_000_000) break;
    }
  }

  private mosiBit(bit: number): void {
    if (!this.csLow) return;
    this.mosiAcc = ((this.mosiAcc << 1) | bit) >>> 0;
    if (++this.mosiBits === 32) {
      this.target.mosiWord(this.mosiAcc >>> 0);
      this.mosiAcc = 0;
      this.mosiBits = 0;
    }
  }

  private misoBit(): number {
    if (!this.csLow) return 0;
    if (this.misoBits === 0) {
      this.misoAcc = this.target.misoWord() >>> 0;
      this.misoBits = 32;
    }
    const b = this.misoAcc >>> 31;
    this.misoAcc = (this.misoAcc << 1) >>> 0;
    this.misoBits--;
    return b;
  }

  /** `n` (≤ 32) bits out of the top of the OSR, as `n` mosiBit calls would do them. */
  private mosiBitsFrom(sm: Sm, n: number): void {
    let osr = sm.outputShiftReg >>> 0;
    while (n > 0) {
      const k = Math.min(n, 32 - this.mosiBits);
      if (this.csLow) {
        const bits = k === 32 ? osr : osr >>> (32 - k);
        this.mosiAcc = k === 32 ? bits : ((this.mosiAcc << k) | bits) >>> 0;
        this.mosiBits += k;
        if (this.mosiBits === 32) {
          this.target.mosiWord(this.mosiAcc >>> 0);
          this.mosiAcc = 0;
          this.mosiBits = 0;
        }
      }
      osr = k === 32 ? 0 : (osr << k) >>> 0;
      n -= k;
    }
    sm.outputShiftReg = osr;
  }

  /** `n` (≤ 32) bits from the chip shifted into the ISR, as `n` misoBit calls would. */
  private misoBitsInto(sm: Sm, n: number): void {
    let isr = sm.inputShiftReg >>> 0;
    while (n > 0) {
      let k: number;
      let bits: number;
      if (!this.csLow) {
        k = n;
        bits = 0;
      } else {
        if (this.misoBits === 0) {
          this.misoAcc = this.target.misoWord() >>> 0;
          this.misoBits = 32;
        }
        k = Math.min(n, this.misoBits);
        bits = k === 32 ? this.misoAcc : this.misoAcc >>> (32 - k);
        this.misoAcc = k === 32 ? 0 : (this.misoAcc << k) >>> 0;
        this.misoBits -= k;
      }
      isr = k === 32 ? bits : ((isr << k) | bits) >>> 0;
      n -= k;
    }
    sm.inputShiftReg = isr;
  }

  private unsupported(what: string): void {
    if (this.warnedOp.has(what)) return;
    this.warnedOp.add(what);
    this.logger.warn('cyw43', `bus state machine executed ${what}, which the gSPI model does not support`);
  }

  /**
   * Fast path for the two-instruction shift loops every gSPI program has — `OUT PINS, n` / `JMP
   * X-- back` and `IN PINS, n` / `JMP Y-- back` — run for as many iterations as the shift register
   * allows at once (exactly what stepping them would do, including cycle counts). Returns the
   * cycles taken, or 0 when the state machine is not at such a loop.
   */
  private burst(maxCycles: number): number {
    const { pio, sm } = this.owned!;
    const loop = shiftLoopAt(pio, sm);
    if (!loop) return 0;
    const { cyclesPerIter, nextPc, wrapTop, wrapBottom } = loop;
    const pc = sm.pc;
    let iters = Math.floor(maxCycles / cyclesPerIter);
    if (iters < 2) return 0;
    if (loop.op === 3) {
      // OUT PINS, 1 ; JMP X-- : bits already in the OSR (no autopull inside the burst)
      if (!(sm.shiftCtrl & SHIFTCTRL_AUTOPULL) || sm.shiftCtrl & SHIFTCTRL_OUT_SHIFTDIR || !this.dataIsOutput) return 0;
      if ((sm.pinCtrl & 0x1f) !== this.pins.data) return 0;
      const avail = this.pullThreshold(sm) - sm.outputShiftCount;
      iters = Math.min(iters, avail, sm.x >>> 0 === 0xffffffff ? iters : sm.x + 1);
      if (iters < 2) return 0;
      this.mosiBitsFrom(sm, iters);
      sm.outputShiftCount += iters;
      const xBefore = sm.x >>> 0;
      sm.x = (xBefore - iters) >>> 0;
      // the last JMP falls through when X was zero before it
      sm.pc = xBefore + 1 === iters ? this.after(nextPc, wrapTop, wrapBottom) : pc;
      this.instructions += 2 * iters;
      return iters * cyclesPerIter;
    }
    // IN PINS, 1 ; JMP Y-- : bits until the ISR is due for an autopush
    if (!(sm.shiftCtrl & SHIFTCTRL_AUTOPUSH) || sm.shiftCtrl & SHIFTCTRL_IN_SHIFTDIR) return 0;
    if (((sm.pinCtrl >>> 15) & 0x1f) !== this.pins.data) return 0;
    const room = this.pushThreshold(sm) - sm.inputShiftCount - 1; // leave the pushing bit to execOne
    iters = Math.min(iters, room, sm.y >>> 0 === 0xffffffff ? iters : sm.y + 1);
    if (iters < 2) return 0;
    this.misoBitsInto(sm, iters);
    sm.inputShiftCount += iters;
    const yBefore = sm.y >>> 0;
    sm.y = (yBefore - iters) >>> 0;
    sm.pc = yBefore + 1 === iters ? this.after(nextPc, wrapTop, wrapBottom) : pc;
    this.instructions += 2 * iters;
    return iters * cyclesPerIter;
  }

  private after(pc: number, wrapTop: number, wrapBottom: number): number {
    return pc === wrapTop ? wrapBottom : (pc + 1) & 0x1f;
  }

  /** Execute one instruction: cycles taken, or -1 if the state machine stalls. */
  private execOne(): number {
    const { pio, sm } = this.owned!;
    const instr = pio.instructions[sm.pc]! & 0xffff;
    const op = instr >>> 13;
    const sidesetCount = (sm.pinCtrl >>> 29) & 7;
    const delay = ((instr >>> 8) & 0x1f) & ((1 << (5 - sidesetCount)) - 1);
    const arg = instr & 0xff;
    let jumped = false;
    this.instructions++;
    switch (op) {
      case 0: {
        // JMP
        const cond = (arg >>> 5) & 7;
        let take = false;
        switch (cond) {
          case 0: take = true; break;
          case 1: take = sm.x === 0; break;
          case 2: take = sm.x !== 0; sm.x = (sm.x - 1) >>> 0; break;
          case 3: take = sm.y === 0; break;
          case 4: take = sm.y !== 0; sm.y = (sm.y - 1) >>> 0; break;
          case 5: take = sm.x >>> 0 !== sm.y >>> 0; break;
          case 6: take = this.mcu.gpio[(sm.execCtrl >>> 24) & 0x1f]?.inputValue ?? false; break;
          case 7: take = sm.outputShiftCount < this.pullThreshold(sm); break;
        }
        if (take) {
          sm.pc = arg & 0x1f;
          jumped = true;
        }
        break;
      }
      case 1: {
        // WAIT: not used by the bus programs; treat a satisfied condition as a no-op, else stall.
        const polarity = (arg & 0x80) !== 0;
        const source = (arg >>> 5) & 3;
        const index = arg & 0x1f;
        let level = false;
        if (source === 0) level = this.mcu.gpio[index]?.inputValue ?? false;
        else if (source === 1) level = this.mcu.gpio[(index + ((sm.pinCtrl >>> 15) & 0x1f)) % 32]?.inputValue ?? false;
        else if (source === 2) level = ((pio.irq >>> (index & 7)) & 1) === 1;
        if (level !== polarity) return -1;
        if (source === 2 && polarity) {
          pio.irq &= ~(1 << (index & 7));
          pio.irqUpdated();
        }
        break;
      }
      case 2: {
        // IN
        const n = arg & 0x1f || 32;
        const src = (arg >>> 5) & 7;
        if (sm.shiftCtrl & SHIFTCTRL_AUTOPUSH && sm.inputShiftCount + n >= this.pushThreshold(sm) && sm.rxFIFO.full) {
          pio.rxStall |= 1 << (FDEBUG_RXSTALL_LSB + sm.index);
          pio.fdebug |= 1 << (FDEBUG_RXSTALL_LSB + sm.index);
          return -1;
        }
        let v = 0;
        switch (src) {
          case 0: {
            const inBase = (sm.pinCtrl >>> 15) & 0x1f;
            const pos = (this.pins.data - inBase + 32) % 32;
            if (pos < n) v = this.misoBit() << pos;
            break;
          }
          case 1: v = sm.x; break;
          case 2: v = sm.y; break;
          case 6: v = sm.inputShiftReg; break;
          case 7: v = sm.outputShiftReg; break;
          default: v = 0;
        }
        if (n < 32) v &= (1 << n) - 1;
        if (n === 32) sm.inputShiftReg = v >>> 0;
        else if (sm.shiftCtrl & SHIFTCTRL_IN_SHIFTDIR) sm.inputShiftReg = ((sm.inputShiftReg >>> n) | (v << (32 - n))) >>> 0;
        else sm.inputShiftReg = ((sm.inputShiftReg << n) | v) >>> 0;
        sm.inputShiftCount = Math.min(32, sm.inputShiftCount + n);
        if (sm.shiftCtrl & SHIFTCTRL_AUTOPUSH && sm.inputShiftCount >= this.pushThreshold(sm)) {
          sm.rxFIFO.push(sm.inputShiftReg >>> 0);
          sm.inputShiftReg = 0;
          sm.inputShiftCount = 0;
          this.fifoChanged(sm);
          pio.checkInterrupts();
        }
        break;
      }
      case 3: {
        // OUT
        const n = arg & 0x1f || 32;
        const dst = (arg >>> 5) & 7;
        if (sm.shiftCtrl & SHIFTCTRL_AUTOPULL && sm.outputShiftCount >= this.pullThreshold(sm)) {
          if (sm.txFIFO.empty) {
            pio.txStall |= 1 << (FDEBUG_TXSTALL_LSB + sm.index);
            pio.fdebug |= 1 << (FDEBUG_TXSTALL_LSB + sm.index);
            return -1;
          }
          sm.outputShiftReg = sm.txFIFO.pull() >>> 0;
          sm.outputShiftCount = 0;
          this.fifoChanged(sm);
          pio.checkInterrupts();
        }
        let v: number;
        if (n === 32) {
          v = sm.outputShiftReg >>> 0;
          sm.outputShiftReg = 0;
        } else if (sm.shiftCtrl & SHIFTCTRL_OUT_SHIFTDIR) {
          v = sm.outputShiftReg & ((1 << n) - 1);
          sm.outputShiftReg = sm.outputShiftReg >>> n;
        } else {
          v = sm.outputShiftReg >>> (32 - n);
          sm.outputShiftReg = (sm.outputShiftReg << n) >>> 0;
        }
        sm.outputShiftCount = Math.min(32, sm.outputShiftCount + n);
        switch (dst) {
          case 0: {
            const outBase = sm.pinCtrl & 0x1f;
            const pos = (this.pins.data - outBase + 32) % 32;
            if (pos < n && this.dataIsOutput) this.mosiBit((v >>> pos) & 1);
            break;
          }
          case 1: sm.x = v >>> 0; break;
          case 2: sm.y = v >>> 0; break;
          case 3: break;
          case 4: this.setPindirs(sm, v, sm.pinCtrl & 0x1f, (sm.pinCtrl >>> 20) & 0x3f); break;
          case 5: sm.pc = v & 0x1f; jumped = true; break;
          case 6: sm.inputShiftReg = v >>> 0; sm.inputShiftCount = n; break;
          default: this.unsupported('OUT EXEC');
        }
        break;
      }
      case 4: {
        const ifFlag = (arg & 0x40) !== 0;
        const block = (arg & 0x20) !== 0;
        if (arg & 0x80) {
          // PULL
          if (ifFlag && sm.outputShiftCount < this.pullThreshold(sm)) break;
          if (sm.txFIFO.empty) {
            pio.txStall |= 1 << (FDEBUG_TXSTALL_LSB + sm.index);
            pio.fdebug |= 1 << (FDEBUG_TXSTALL_LSB + sm.index);
            if (block) return -1;
            sm.outputShiftReg = sm.x;
          } else {
            sm.outputShiftReg = sm.txFIFO.pull() >>> 0;
            this.fifoChanged(sm);
            pio.checkInterrupts();
          }
          sm.outputShiftCount = 0;
        } else {
          // PUSH
          if (ifFlag && sm.inputShiftCount < this.pushThreshold(sm)) break;
          if (sm.rxFIFO.full) {
            pio.rxStall |= 1 << (FDEBUG_RXSTALL_LSB + sm.index);
            pio.fdebug |= 1 << (FDEBUG_RXSTALL_LSB + sm.index);
            if (block) return -1;
          } else {
            sm.rxFIFO.push(sm.inputShiftReg >>> 0);
            this.fifoChanged(sm);
            pio.checkInterrupts();
          }
          sm.inputShiftReg = 0;
          sm.inputShiftCount = 0;
        }
        break;
      }
      case 5: {
        // MOV
        const src = arg & 7;
        const mop = (arg >>> 3) & 3;
        const dst = (arg >>> 5) & 7;
        let v = 0;
        switch (src) {
          case 0: {
            const inBase = (sm.pinCtrl >>> 15) & 0x1f;
            const pos = (this.pins.data - inBase + 32) % 32;
            v = this.misoBit() << pos;
            break;
          }
          case 1: v = sm.x; break;
          case 2: v = sm.y; break;
          case 3: v = 0; break;
          case 5: {
            const n = sm.execCtrl & 0xf;
            const level = sm.execCtrl & EXECCTRL_STATUS_SEL ? sm.rxFIFO.itemCount : sm.txFIFO.itemCount;
            v = level < n ? 0xffffffff : 0;
            break;
          }
          case 6: v = sm.inputShiftReg; break;
          case 7: v = sm.outputShiftReg; break;
        }
        if (mop === 1) v = ~v;
        else if (mop === 2) v = bitReverse(v >>> 0);
        v >>>= 0;
        switch (dst) {
          case 0: break; // pins: the data line value is only sampled through OUT
          case 1: sm.x = v; break;
          case 2: sm.y = v; break;
          case 5: sm.pc = v & 0x1f; jumped = true; break;
          case 6: sm.inputShiftReg = v; sm.inputShiftCount = 0; break;
          case 7: sm.outputShiftReg = v; sm.outputShiftCount = 0; break;
          default: this.unsupported('MOV EXEC');
        }
        break;
      }
      case 6: {
        // IRQ
        const clear = (arg & 0x40) !== 0;
        const idx = arg & 0x10 ? (arg & 4) | (((arg & 3) + sm.index) & 3) : arg & 7;
        if (clear) pio.irq &= ~(1 << idx);
        else pio.irq |= 1 << idx;
        pio.irqUpdated();
        break;
      }
      case 7: {
        // SET
        const dst = (arg >>> 5) & 7;
        const v = arg & 0x1f;
        if (dst === 1) sm.x = v;
        else if (dst === 2) sm.y = v;
        else if (dst === 4) this.setPindirs(sm, v, (sm.pinCtrl >>> 5) & 0x1f, (sm.pinCtrl >>> 26) & 7);
        break;
      }
    }
    if (!jumped) {
      const wrapTop = (sm.execCtrl >>> 12) & 0x1f;
      const wrapBottom = (sm.execCtrl >>> 7) & 0x1f;
      sm.pc = sm.pc === wrapTop ? wrapBottom : (sm.pc + 1) & 0x1f;
    }
    return 1 + delay;
  }

  private setPindirs(sm: Sm, value: number, base: number, count: number): void {
    const pos = (this.pins.data - base + 32) % 32;
    if (pos < count) this.dataIsOutput = ((value >>> pos) & 1) === 1;
    void sm;
    this.owned!.pio.pinDirectionsChanged(value, base, count);
  }

  private pullThreshold(sm: Sm): number {
    return (sm.shiftCtrl >>> 25) & 0x1f || 32;
  }

  private pushThreshold(sm: Sm): number {
    return (sm.shiftCtrl >>> 20) & 0x1f || 32;
  }
}
