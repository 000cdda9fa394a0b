/**
 * I2C target (slave) mode of the DW_apb_i2c (RP2040 datasheet §4.3.5 "Slave Mode Operation"): with
 * IC_CON.MASTER_MODE = 0 and IC_CON.IC_SLAVE_DISABLE = 0 the block listens on the pins muxed to it
 * (GPIO function 3; pin p carries I2C ((p >> 1) & 1), SDA when p is even, SCL when odd, §1.4.3)
 * and answers a controller on the bus, as the hardware does, only through the two lines:
 *
 * - START (SDA falls while SCL is high) raises START_DET (and RESTART_DET when already addressed);
 *   STOP (SDA rises while SCL is high) raises STOP_DET (only if addressed, with STOP_DET_IFADDRESSED).
 * - Bits are sampled on SCL rising edges and driven after falling edges, MSB first.
 * - An address byte equal to IC_SAR is ACKed (SDA held low through the ninth clock). A read request
 *   that finds stale bytes in the TX FIFO flushes them (TX_ABRT, ABRT_SLVFLUSH_TXFIFO).
 * - Written bytes go to the RX FIFO (IC_DATA_CMD bit 11 FIRST_DATA_BYTE on the first after an
 *   address) and are ACKed; RX_FULL when the level exceeds IC_RX_TL. With the FIFO full and
 *   IC_CON.RX_FIFO_FULL_HLD_CTRL the block holds SCL low before the ACK until a byte is read.
 * - On a read, each byte comes from the TX FIFO; when it is empty the block raises RD_REQ and holds
 *   SCL low (clock stretching) until the firmware writes IC_DATA_CMD. A NACK from the controller
 *   ends the read (RX_DONE).
 *
 * The lines are open drain: the block only ever pulls a pin low (its output enable, read by the
 * pads and the jumper wires); released, the line is high through its pull-up.
 *
 * rp2040js models the controller only; this wraps its RPI2C: register accesses that mean something
 * else in target mode (IC_DATA_CMD writes, IC_STATUS activity, IC_INTR_MASK writes, which rp2040js
 * drops, IC_CLR_RESTART_DET) and the pins' output enable and input.
 */
import type { GPIOPin, RP2040 } from 'rp2040js';

/** IO_BANK0 GPIOn_CTRL.FUNCSEL for I2C (§2.19.2). */
export const FUNCSEL_I2C = 3;

// Register offsets (§4.3.17).
const IC_CON = 0x00;
const IC_DATA_CMD = 0x10;
const IC_INTR_MASK = 0x30;
const IC_CLR_INTR = 0x40;
const IC_ENABLE = 0x6c;
const IC_STATUS = 0x70;
const IC_CLR_RESTART_DET = 0xa8;
// IC_CON bits.
const MASTER_MODE = 1 << 0;
const IC_10BITADDR_SLAVE = 1 << 3;
const IC_SLAVE_DISABLE = 1 << 6;
const STOP_DET_IFADDRESSED = 1 << 7;
const RX_FIFO_FULL_HLD_CTRL = 1 << 9;
// IC_STATUS bits.
const SLV_ACTIVITY = 1 << 6;
const ACTIVITY = 1 << 0;
// IC_RAW_INTR_STAT bits.
const R_RESTART_DET = 1 << 12;
const R_START_DET = 1 << 10;
const R_STOP_DET = 1 << 9;
const R_RX_DONE = 1 << 7;
const R_RD_REQ = 1 << 5;
const R_TX_OVER = 1 << 3;
const R_RX_FULL = 1 << 2;
const R_RX_OVER = 1 << 1;
const INTR_BITS = 0x1fff;
/** IC_TX_ABRT_SOURCE.ABRT_SLVFLUSH_TXFIFO. */
const ABRT_SLVFLUSH_TXFIFO = 1 << 13;
/** IC_DATA_CMD.FIRST_DATA_BYTE (read, target mode). */
const FIRST_DATA_BYTE = 1 << 11;
/** IC_ENABLE.ENABLE. */
const ENABLE = 1 << 0;

interface Fifo {
  readonly itemCount: number;
  readonly empty: boolean;
  readonly full: boolean;
  push(v: number): void;
  pull(): number;
  reset(): void;
}
/** The fields of rp2040js's RPI2C used here. */
interface RpI2c {
  control: number;
  enable: number;
  slaveAddress: number;
  rxThreshold: number;
  intEnable: number;
  intRaw: number;
  rxFIFO: Fifo;
  txFIFO: Fifo;
  setInterrupts(mask: number): void;
  clearInterrupts(mask: number): number;
  checkInterrupts(): void;
  abort(reason: number): void;
  nextCommand(): void;
  readUint32(offset: number): number;
  writeUint32(offset: number, value: number): void;
}

type Phase = 'idle' | 'address' | 'rx' | 'tx' | 'ignore';
const SDA = 0;
const SCL = 1;

/** One DW_apb_i2c block's target-mode bus interface. */
export class I2cTarget {
  private phase: Phase = 'idle';
  /** SCL rising edges in the current byte (the ninth is the ACK bit). */
  private bits = 0;
  private shift = 0;
  private addressed = false;
  private reading = false;
  private firstByte = false;
  private txByte = 0;
  /** Stretching: SCL held low until IC_DATA_CMD is written (RD_REQ). */
  private waiting = false;
  /** A received byte held (SCL low, not yet ACKed) while the RX FIFO is full (RX_FIFO_FULL_HLD_CTRL). */
  private heldRx: number | null = null;
  /** Whether the block pulls SDA / SCL low. */
  readonly holding = [false, false];
  /** The last level seen on SDA / SCL. */
  private readonly level = [true, true];

  constructor(
    private readonly mcu: RP2040,
    private readonly index: number,
    private readonly i2c: RpI2c,
  ) {}

  /** Target mode is on: enabled, MASTER_MODE = 0, IC_SLAVE_DISABLE = 0. */
  get active(): boolean {
    const con = this.i2c.control;
    return (this.i2c.enable & ENABLE) !== 0 && !(con & MASTER_MODE) && !(con & IC_SLAVE_DISABLE);
  }

  /** In a transfer addressed to this block (IC_STATUS.SLV_ACTIVITY). */
  get busy(): boolean {
    return this.phase !== 'idle' && this.phase !== 'ignore';
  }

  /** The pins muxed to this block in the given role. */
  private pins(role: number): GPIOPin[] {
    return this.mcu.gpio.filter((p) => p.functionSelect === FUNCSEL_I2C && ((p.index >> 1) & 1) === this.index && (p.index & 1) === role);
  }

  /** The bus level of a line as the block's input sees it (wired-AND of its pins). */
  private read(role: number): boolean {
    const pins = this.pins(role);
    return pins.length === 0 ? true : pins.every((p) => p.inputValue);
  }

  private drive(role: number, low: boolean): void {
    if (this.holding[role] === low) return;
    this.holding[role] = low;
    for (const p of this.pins(role)) p.checkForUpdates();
  }

  /** A pin muxed to this block changed level. */
  onInput(role: number): void {
    const now = this.read(role);
    if (now === this.level[role]) return;
    this.level[role] = now;
    if (!this.active) return;
    if (role === SDA) {
      if (!this.level[SCL]) return; // data changing while SCL is low
      if (now) this.stop();
      else this.start();
    } else if (now) this.sclRise();
    else this.sclFall();
  }

  private start(): void {
    const repeated = this.phase !== 'idle';
    this.i2c.setInterrupts(R_START_DET | (repeated && this.addressed ? R_RESTART_DET : 0));
    if (!repeated) this.addressed = false;
    this.phase = 'address';
    this.bits = 0;
    this.shift = 0;
    this.waiting = false;
    this.heldRx = null;
    this.drive(SDA, false);
  }

  private stop(): void {
    if (this.phase === 'idle') return;
    if (this.addressed || !(this.i2c.control & STOP_DET_IFADDRESSED)) this.i2c.setInterrupts(R_STOP_DET);
    this.reset();
  }

  /** Back to idle with both lines released. */
  reset(): void {
    this.phase = 'idle';
    this.addressed = false;
    this.waiting = false;
    this.heldRx = null;
    this.bits = 0;
    this.drive(SDA, false);
    this.drive(SCL, false);
  }

  private sclRise(): void {
    if (this.phase === 'idle' || this.phase === 'ignore') return;
    const sda = this.level[SDA] ? 1 : 0;
    this.bits++;
    if (this.bits <= 8) {
      if (this.phase !== 'tx') this.shift = ((this.shift << 1) | sda) & 0xff;
      return;
    }
    if (this.phase === 'tx' && sda) {
      // The controller NACKed the byte: the read is over (§4.3.17 RX_DONE).
      this.i2c.setInterrupts(R_RX_DONE);
      this.phase = 'ignore';
      this.drive(SDA, false);
    }
  }

  private sclFall(): void {
    if (this.phase === 'idle' || this.phase === 'ignore') return;
    if (this.bits === 8) {
      this.byteDone();
      return;
    }
    if (this.bits === 9) {
      this.bits = 0;
      this.shift = 0;
      if (this.phase === 'address') this.phase = this.reading ? 'tx' : 'rx';
      if (this.phase === 'tx') this.loadTx();
      else this.drive(SDA, false);
      return;
    }
    if (this.phase === 'tx' && this.bits > 0) this.drive(SDA, !((this.txByte >> (7 - this.bits)) & 1));
  }

  /** The eighth bit has gone by: ACK an address or a written byte, or let the controller ACK ours. */
  private byteDone(): void {
    const i2c = this.i2c;
    if (this.phase === 'address') {
      const tenBit = (i2c.control & IC_10BITADDR_SLAVE) !== 0;
      if (tenBit || this.shift >> 1 !== (i2c.slaveAddress & 0x7f)) {
        this.phase = 'ignore';
        return;
      }
      this.addressed = true;
      this.reading = (this.shift & 1) === 1;
      this.firstByte = true;
      if (this.reading && !i2c.txFIFO.empty) i2c.abort(ABRT_SLVFLUSH_TXFIFO); // stale data from an earlier read
      this.drive(SDA, true);
      return;
    }
    if (this.phase === 'rx') {
      const byte = this.shift | (this.firstByte ? FIRST_DATA_BYTE : 0);
      this.firstByte = false;
      if (i2c.rxFIFO.full && i2c.control & RX_FIFO_FULL_HLD_CTRL) {
        // Hold the bus (SCL low, before the ACK) until the firmware makes room (§4.3.17 IC_CON).
        this.heldRx = byte;
        this.drive(SCL, true);
        return;
      }
      this.receive(byte);
      return;
    }
    this.drive(SDA, false); // tx: the controller's ACK bit
  }

  /** A byte into the RX FIFO (RX_OVER, dropped, when it is full), ACKed. */
  private receive(byte: number): void {
    const i2c = this.i2c;
    if (i2c.rxFIFO.full) {
      i2c.setInterrupts(R_RX_OVER);
    } else {
      i2c.rxFIFO.push(byte);
      if (i2c.rxFIFO.itemCount > i2c.rxThreshold) i2c.setInterrupts(R_RX_FULL);
    }
    this.drive(SDA, true);
  }

  /** IC_DATA_CMD was read: a byte held for want of room goes in, and the bus moves on. */
  rxRead(): void {
    if (this.heldRx === null || this.i2c.rxFIFO.full) return;
    const byte = this.heldRx;
    this.heldRx = null;
    this.receive(byte);
    this.drive(SCL, false);
  }

  /** SCL is low after an ACK: put the next byte's MSB on SDA, or ask for one and stretch. */
  private loadTx(): void {
    const fifo = this.i2c.txFIFO;
    if (fifo.empty) {
      this.drive(SDA, false);
      this.waiting = true;
      this.drive(SCL, true);
      this.i2c.setInterrupts(R_RD_REQ);
      return;
    }
    this.txByte = fifo.pull() & 0xff;
    this.drive(SDA, !(this.txByte & 0x80));
  }

  /** IC_DATA_CMD written in target mode: a byte for the TX FIFO; ends a stretch. */
  writeData(value: number): void {
    const fifo = this.i2c.txFIFO;
    if (fifo.full) {
      this.i2c.setInterrupts(R_TX_OVER);
      return;
    }
    fifo.push(value & 0xff);
    if (!this.waiting || this.phase !== 'tx') return;
    this.waiting = false;
    this.loadTx();
    this.drive(SCL, false);
  }
}

/** The target-mode interfaces of each chip, for the pins' output enable. */
const TARGETS = new WeakMap<RP2040, I2cTarget[]>();
const PATCHED = Symbol('i2c-target-pins');

/**
 * rp2040js's GPIOPin drives nothing for function 3 (its rawOutputEnable / rawOutputValue cover SIO,
 * PWM and PIO): here function 3 enables the output, low, while the I2C block pulls that line low.
 * Patched once on the class (one getter for every pin keeps pin accesses monomorphic); a chip
 * with no target installed reads false, as before.
 */
function driveI2cPins(proto: object): void {
  const p = proto as Record<symbol, boolean>;
  if (p[PATCHED]) return;
  p[PATCHED] = true;
  const oe = Object.getOwnPropertyDescriptor(proto, 'rawOutputEnable')!.get!;
  const out = Object.getOwnPropertyDescriptor(proto, 'rawOutputValue')!.get!;
  Object.defineProperty(proto, 'rawOutputEnable', {
    configurable: true,
    get(this: GPIOPin & { rp2040: RP2040 }): boolean {
      if (this.functionSelect !== FUNCSEL_I2C) return oe.call(this) as boolean;
      return TARGETS.get(this.rp2040)?.[(this.index >> 1) & 1]?.holding[this.index & 1] ?? false;
    },
  });
  Object.defineProperty(proto, 'rawOutputValue', {
    configurable: true,
    get(this: GPIOPin): boolean {
      return this.functionSelect === FUNCSEL_I2C ? false : (out.call(this) as boolean);
    },
  });
}

/**
 * Install target mode on both I2C blocks of a fresh rp2040js `RP2040`: the register accesses and
 * the pins' output enable (function 3 drives a pin only to pull it low) and input.
 */
export function installI2cTargets(mcu: RP2040): I2cTarget[] {
  const blocks = mcu.i2c as unknown as RpI2c[];
  const targets = blocks.map((i2c, index) => new I2cTarget(mcu, index, i2c));
  blocks.forEach((i2c, index) => {
    const t = targets[index]!;
    const { readUint32, writeUint32, nextCommand } = i2c;
    i2c.nextCommand = function (): void {
      if (!t.active) nextCommand.call(this);
    };
    i2c.readUint32 = function (offset: number): number {
      switch (offset) {
        case IC_STATUS:
          return readUint32.call(this, offset) | (t.busy ? SLV_ACTIVITY | ACTIVITY : 0);
        case IC_CLR_RESTART_DET:
          return i2c.clearInterrupts(R_RESTART_DET);
        case IC_CLR_INTR: {
          const v = readUint32.call(this, offset);
          return i2c.clearInterrupts(R_RESTART_DET) | v;
        }
        case IC_DATA_CMD: {
          const v = readUint32.call(this, offset);
          // RX_FULL stays while the level is above IC_RX_TL (rp2040js clears it on every read).
          if (i2c.rxFIFO.itemCount > i2c.rxThreshold) i2c.setInterrupts(R_RX_FULL);
          t.rxRead();
          return v;
        }
      }
      return readUint32.call(this, offset);
    };
    i2c.writeUint32 = function (offset: number, value: number): void {
      switch (offset) {
        case IC_DATA_CMD:
          if (t.active) {
            t.writeData(value);
            return;
          }
          break;
        case IC_INTR_MASK:
          i2c.intEnable = value & INTR_BITS;
          i2c.checkInterrupts();
          return;
        case IC_CON:
        case IC_ENABLE:
          writeUint32.call(this, offset, value);
          if (!t.active) t.reset();
          return;
      }
      writeUint32.call(this, offset, value);
    };
  });
  TARGETS.set(mcu, targets);
  driveI2cPins(Object.getPrototypeOf(mcu.gpio[0]) as object);
  for (const pin of mcu.gpio) {
    const target = targets[(pin.index >> 1) & 1]!;
    const role = pin.index & 1;
    const set = pin.setInputValue;
    pin.setInputValue = function (this: GPIOPin, value: boolean): void {
      set.call(this, value);
      if (this.functionSelect === FUNCSEL_I2C) target.onInput(role);
    };
  }
  return targets;
}
