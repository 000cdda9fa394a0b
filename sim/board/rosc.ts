import { BasePeripheral, type RP2040 } from 'rp2040js';

/** RP2040 datasheet §2.17.8 ROSC registers. */
const ROSC_CTRL = 0x00;
const ROSC_FREQA = 0x04;
const ROSC_FREQB = 0x08;
const ROSC_DORMANT = 0x0c;
const ROSC_DIV = 0x10;
const ROSC_PHASE = 0x14;
const ROSC_STATUS = 0x18;
const ROSC_RANDOMBIT = 0x1c;
const ROSC_COUNT = 0x20;
/** STATUS: STABLE (bit 31), ENABLED (bit 12). */
const STATUS_STABLE = 1 << 31;
const STATUS_ENABLED = 1 << 12;
const CTRL_RESET = 0x00000aa0;
const DIV_RESET = 0x00000aa0;

/**
 * The ring oscillator's registers. RANDOMBIT gives the jittery bit that pico_rand and
 * MicroPython seed from; here it comes from a PRNG seeded per board, so a run is reproducible.
 */
export class Rosc extends BasePeripheral {
  private ctrl = CTRL_RESET;
  private freqa = 0;
  private freqb = 0;
  private dormant = 0;
  private div = DIV_RESET;
  private phase = 0x8;
  private count = 0;
  private state: number;

  constructor(mcu: RP2040, seed: number) {
    super(mcu, 'ROSC');
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  private nextBit(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state & 1;
  }

  override readUint32(offset: number): number {
    switch (offset) {
      case ROSC_CTRL:
        return this.ctrl;
      case ROSC_FREQA:
        return this.freqa;
      case ROSC_FREQB:
        return this.freqb;
      case ROSC_DORMANT:
        return this.dormant;
      case ROSC_DIV:
        return this.div;
      case ROSC_PHASE:
        return this.phase;
      case ROSC_STATUS:
        return (STATUS_STABLE | STATUS_ENABLED) >>> 0;
      case ROSC_RANDOMBIT:
        return this.nextBit();
      case ROSC_COUNT:
        return this.count;
    }
    return 0;
  }

  override writeUint32(offset: number, value: number): void {
    switch (offset) {
      case ROSC_CTRL:
        this.ctrl = value & 0xffffff;
        return;
      case ROSC_FREQA:
        this.freqa = value;
        return;
      case ROSC_FREQB:
        this.freqb = value;
        return;
      case ROSC_DORMANT:
        this.dormant = value;
        return;
      case ROSC_DIV:
        this.div = value & 0xfff;
        return;
      case ROSC_PHASE:
        this.phase = value & 0xfff;
        return;
      case ROSC_COUNT:
        this.count = value & 0xff;
        return;
    }
  }
}
