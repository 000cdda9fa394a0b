/**
 * A PIO state machine driving a one-data-line SPI bus (the CYW43439's gSPI on the Pico W: side-set
 * on the clock pin, OUT and IN on the data pin), run by the board's timed PIO (pio-timing.ts) with
 * this executor in place of rp2040js's `step`, so every `out pins` bit while the data pin is an
 * output is a bit to the chip and every `in pins` reads the chip's next bit. It follows PIO
 * semantics (RP2040 datasheet §3.4): FIFOs, autopull/autopush, stalls and the FDEBUG stall flags
 * as in hardware, DREQs to the DMA. Nothing about the PIO index, SM number, program offset or
 * program variant is assumed. The two-instruction shift loops every gSPI program has run as one
 * step per shift-register load (the fast path), exactly as stepping them would.
 *
 * The chip sees only the `SpiTarget` words; the transport is the board's, as embassy keeps
 * `cyw43-pio` apart from the `cyw43` chip driver.
 */
import type { RP2040 } from 'rp2040js';
import type { Logger } from '../log.ts';
import type { PioBlock as Pio, StateMachine as Sm } from './pio-shapes.ts';
import { TimedPio, type PioExecutor } from './pio-timing.ts';

// PIO register bits (RP2040 datasheet §3.7)
const FDEBUG_TXSTALL_LSB = 24;
const FDEBUG_RXSTALL_LSB = 0;
const SHIFTCTRL_AUTOPUSH = 1 << 16;
const SHIFTCTRL_AUTOPULL = 1 << 17;
const SHIFTCTRL_IN_SHIFTDIR = 1 << 18;
const SHIFTCTRL_OUT_SHIFTDIR = 1 << 19;
const EXECCTRL_SIDE_EN = 1 << 30;
const EXECCTRL_STATUS_SEL = 1 << 4;
/** State-machine cycles between two runs of a running state machine, at least (about one 32-bit word)... */
const RUN_QUANTUM_CYCLES = 96;
/** ...and at most, when it is in a shift loop whose end is known from its X/Y counter. */
const RUN_HORIZON_MAX_CYCLES = 8192;

/** The bus's pins: data (MOSI/MISO on one line), clock (side-set) and chip select (SIO). */
export interface SpiBusPins {
  data: number;
  clk: number;
  cs: number;
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

export class PioSpiBus implements PioExecutor {
  private owned: { pio: Pio; sm: Sm } | null = null;
  private dataIsOutput = false;
  private mosiAcc = 0;
  private mosiBits = 0;
  private misoAcc = 0;
  private misoBits = 0;
  private csLow = false;
  private readonly pio: TimedPio;
  private disposers: (() => void)[] = [];
  private warnedOp = new Set<string>();
  /** Number of state-machine instructions executed (diagnostics). */
  instructions = 0;

  constructor(
    private readonly mcu: RP2040,
    private readonly target: SpiTarget,
    private readonly logger: Logger,
    private readonly pins: SpiBusPins,
  ) {
    this.pio = TimedPio.of(mcu);
    this.disposers.push(this.pio.attach(this));
    const csPin = mcu.gpio[this.pins.cs]!;
    this.csLow = csPin.outputEnable && !csPin.outputValue;
    this.disposers.push(csPin.addListener(() => this.onCsChange()));
  }

  /** Whether a state machine is currently recognised as the bus. */
  get busStateMachine(): { pio: number; sm: number } | null {
    return this.owned ? { pio: this.owned.pio.index, sm: this.owned.sm.index } : null;
  }

  get chipSelected(): boolean {
    return this.csLow;
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
    this.owned = null;
  }

  claims(_pio: Pio, sm: Sm): boolean {
    const p = sm.pinCtrl;
    const sidesetCount = (p >>> 29) & 7;
    const sidesetBase = (p >>> 10) & 0x1f;
    const outBase = p & 0x1f;
    const inBase = (p >>> 15) & 0x1f;
    const optional = (sm.execCtrl & EXECCTRL_SIDE_EN) !== 0;
    return sidesetCount - (optional ? 1 : 0) >= 1 && sidesetBase === this.pins.clk && outBase === this.pins.data && inBase === this.pins.data;
  }

  started(pio: Pio, sm: Sm): void {
    if (this.owned?.sm !== sm) this.logger.trace('cyw43', `gSPI bus found on PIO${pio.index} SM${sm.index}`);
    this.owned = { pio, sm };
    this.dataIsOutput = ((pio.pinDirections >>> this.pins.data) & 1) === 1;
  }

  run(pio: Pio, sm: Sm, maxCycles: number): number {
    this.owned = { pio, sm };
    try {
      const c = this.burst(maxCycles);
      return c !== 0 ? c : this.execOne();
    } catch (e) {
      // Contain a fault of the transport: log it, never let it reach the CPU's memory access.
      this.unsupported(`an internal fault (${(e as Error).message})`);
      return -1;
    }
  }

  /**
   * How far the state machine may run before it is next brought up to date: to the end of the
   * shift loop it is in (the DMA keeps its FIFO fed meanwhile, see TimedPio.fifoChanged), so that a
   * transfer's end is seen on time; one word's worth elsewhere. Every access to the PIO block by
   * the CPU or the DMA brings it up to date first anyway.
   */
  horizonCycles(pio: Pio, sm: Sm): number {
    const loop = shiftLoopAt(pio, sm);
    if (!loop) return RUN_QUANTUM_CYCLES;
    const counter = loop.cond === 2 ? sm.x : sm.y;
    const left = ((counter >>> 0) + 1) * loop.cyclesPerIter;
    return Math.max(RUN_QUANTUM_CYCLES, Math.min(RUN_HORIZON_MAX_CYCLES, left));
  }

  private onCsChange(): void {
    const pin = this.mcu.gpio[this.pins.cs]!;
    const low = pin.outputEnable && !pin.outputValue;
    if (low === this.csLow) return;
    this.pio.sync();
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

  private fifoChanged(sm: Sm): void {
    this.pio.fifoChanged(this.owned!.pio, sm);
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
