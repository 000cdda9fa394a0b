import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { TimedDma } from '../../sim/board/dma-timing.ts';
import { i2cSclNanos, timeI2c } from '../../sim/board/i2c-timing.ts';
import { spiFrameNanos, timeSpi } from '../../sim/board/spi-timing.ts';

function chip() {
  const clock = new BoardClock();
  const mcu = new RP2040(clock as unknown as ConstructorParameters<typeof RP2040>[0]);
  const w = (a: number, v: number): void => mcu.writeUint32(a, v >>> 0);
  const r = (a: number): number => mcu.readUint32(a) >>> 0;
  /** Tick in steps of `step` ns until `done()`; the time it took. */
  const until = (done: () => boolean, step: number, limit = 1e9): number => {
    const t0 = clock.nanos;
    while (!done()) {
      if (clock.nanos - t0 > limit) throw new Error('never happened');
      clock.tick(step);
    }
    return clock.nanos - t0;
  };
  return { clock, mcu, w, r, until };
}

// SPI0 (PL022, RP2040 datasheet §4.4.4)
const SPI0 = 0x4003c000;
const SSPCR0 = 0x00;
const SSPCR1 = 0x04;
const SSPDR = 0x08;
const SSPSR = 0x0c;
const SSPCPSR = 0x10;
const SR_TNF = 1 << 1;
const SR_BSY = 1 << 4;

describe('SPI (PL022) at clk_peri / (CPSDVSR × (1 + SCR))', () => {
  it('a 4 KiB write at 1 MHz takes 32.8 ms of simulated time', () => {
    const { mcu, w, r, until, clock } = chip();
    timeSpi(mcu);
    (mcu as unknown as { clkPeri: number }).clkPeri = 48e6; // clk_peri 48 MHz: CPSDVSR 2, SCR 23 → 1 MHz
    w(SPI0 + SSPCPSR, 2);
    w(SPI0 + SSPCR0, (23 << 8) | 7); // SCR 23, Motorola SPI, 8-bit frames
    w(SPI0 + SSPCR1, 1 << 1); // SSE
    expect(mcu.spi[0]!.clockFrequency).toBe(1e6);
    const t0 = clock.nanos;
    for (let n = 0; n < 4096; n++) {
      until(() => (r(SPI0 + SSPSR) & SR_TNF) !== 0, 1000);
      w(SPI0 + SSPDR, n & 0xff);
      while (r(SPI0 + SSPSR) & (1 << 2)) r(SPI0 + SSPDR); // drain RX as the SDK does
    }
    until(() => (r(SPI0 + SSPSR) & SR_BSY) === 0, 100);
    const elapsed = clock.nanos - t0;
    expect(spiFrameNanos(8, 1e6)).toBe(8000);
    expect(elapsed).toBeGreaterThanOrEqual(4096 * 8000);
    expect(elapsed).toBeLessThan(4096 * 8000 + 2000);
  });
});

// DMA (RP2040 datasheet §2.5.7)
const DMA = 0x50000000;
const CH_STRIDE = 0x40;
const READ_ADDR = 0x00;
const WRITE_ADDR = 0x04;
const TRANS_COUNT = 0x08;
const CTRL_TRIG = 0x0c;
const CTRL_EN = 1 << 0;
const SIZE_WORD = 2 << 2;
const INCR_READ = 1 << 4;
const INCR_WRITE = 1 << 5;
const TREQ_PERMANENT = 0x3f << 15;
const BUSY = 1 << 24;

function startCopy(w: (a: number, v: number) => void, ch: number, from: number, to: number, words: number): void {
  const b = DMA + ch * CH_STRIDE;
  w(b + READ_ADDR, from);
  w(b + WRITE_ADDR, to);
  w(b + TRANS_COUNT, words);
  w(b + CTRL_TRIG, CTRL_EN | SIZE_WORD | INCR_READ | INCR_WRITE | TREQ_PERMANENT | (ch << 11));
}

describe('DMA paced by the bus: one transfer per system clock, shared by the channels', () => {
  it('a 16 KiB memory-to-memory copy in words takes about 33 µs at 125 MHz (4096 transfers)', () => {
    const { mcu, w, r, until } = chip();
    new TimedDma(mcu);
    for (let i = 0; i < 4096; i++) w(0x20000000 + 4 * i, i * 2654435761);
    startCopy(w, 0, 0x20000000, 0x20010000, 4096);
    const t = until(() => (r(DMA + CTRL_TRIG) & BUSY) === 0, 50);
    expect(t).toBeGreaterThanOrEqual(4096 * 8);
    expect(t).toBeLessThan(4096 * 8 + 400);
    expect(r(0x20010000 + 4 * 4095)).toBe((4095 * 2654435761) >>> 0);
  });

  it('CHAN_ABORT stops a copy half way and leaves TRANS_COUNT at 0', () => {
    const { mcu, w, r, clock } = chip();
    new TimedDma(mcu);
    startCopy(w, 0, 0x20000000, 0x20010000, 4096);
    clock.tick(4096 * 4); // about half
    expect(r(DMA + TRANS_COUNT)).toBeGreaterThan(1000);
    expect(r(DMA + TRANS_COUNT)).toBeLessThan(3000);
    w(DMA + 0x444, 1); // CHAN_ABORT channel 0
    expect(r(DMA + CTRL_TRIG) & BUSY).toBe(0);
    expect(r(DMA + TRANS_COUNT)).toBe(0);
    clock.tick(100_000);
    expect(r(0x20010000 + 4 * 4095)).toBe(0); // the rest never arrives
  });

  it('two channels copying at once share the bus: both end after the sum of their transfers', () => {
    const { mcu, w, r, until } = chip();
    new TimedDma(mcu);
    startCopy(w, 0, 0x20000000, 0x20010000, 2048);
    startCopy(w, 1, 0x20002000, 0x20012000, 2048);
    const first = until(() => (r(DMA + CTRL_TRIG) & BUSY) === 0 || (r(DMA + CH_STRIDE + CTRL_TRIG) & BUSY) === 0, 50);
    expect(first).toBeGreaterThan(2048 * 8 * 1.5); // not 16 µs each in parallel
    const t = first + until(() => (r(DMA + CTRL_TRIG) & BUSY) === 0 && (r(DMA + CH_STRIDE + CTRL_TRIG) & BUSY) === 0, 50);
    expect(t).toBeGreaterThanOrEqual(4096 * 8);
    expect(t).toBeLessThan(4096 * 8 + 400);
  });
});

// I2C0 (DW_apb_i2c, RP2040 datasheet §4.3.17)
const I2C0 = 0x40044000;
const IC_CON = 0x00;
const IC_TAR = 0x04;
const IC_DATA_CMD = 0x10;
const IC_FS_SCL_HCNT = 0x1c;
const IC_FS_SCL_LCNT = 0x20;
const IC_RAW_INTR_STAT = 0x34;
const IC_TX_ABRT_SOURCE = 0x80;
const IC_ENABLE = 0x6c;
const R_TX_EMPTY = 1 << 4;
const R_TX_ABRT = 1 << 6;
const R_STOP_DET = 1 << 9;
const ABRT_7B_ADDR_NOACK = 1 << 0;
const CMD_STOP = 1 << 9;

/** I2C0 as master at 400 kHz (HCNT 126, LCNT 187 from 125 MHz, as the SDK computes them) addressing 0x3c. */
function i2cTo3c(w: (a: number, v: number) => void): void {
  w(I2C0 + IC_ENABLE, 0);
  w(I2C0 + IC_CON, 0x65 | (1 << 8)); // master, fast mode, restart enabled, slave disabled, TX_EMPTY_CTRL
  w(I2C0 + IC_FS_SCL_HCNT, 126);
  w(I2C0 + IC_FS_SCL_LCNT, 187);
  w(I2C0 + IC_TAR, 0x3c);
  w(I2C0 + IC_ENABLE, 1);
}

describe('I2C (DW_apb_i2c) at its SCL rate', () => {
  it('an address nobody answers is NACKed after START and 9 SCL periods, with the abort source and TX_EMPTY the SDK waits for', () => {
    const { mcu, w, r, until } = chip();
    timeI2c(mcu);
    i2cTo3c(w);
    const scl = i2cSclNanos(126, 187, 125e6);
    expect(1e9 / scl).toBeCloseTo(399_361, -1);
    w(I2C0 + IC_DATA_CMD, CMD_STOP | 0x78);
    expect(r(I2C0 + IC_RAW_INTR_STAT) & R_TX_EMPTY).toBe(0);
    const t = until(() => (r(I2C0 + IC_RAW_INTR_STAT) & R_TX_ABRT) !== 0, 100);
    expect(t).toBeGreaterThanOrEqual(10 * scl);
    expect(t).toBeLessThan(10 * scl + 200);
    expect(r(I2C0 + IC_RAW_INTR_STAT) & R_TX_EMPTY).toBeTruthy();
    expect(r(I2C0 + IC_TX_ABRT_SOURCE) & ABRT_7B_ADDR_NOACK).toBeTruthy();
    const stop = until(() => (r(I2C0 + IC_RAW_INTR_STAT) & R_STOP_DET) !== 0, 100);
    expect(stop).toBeLessThan(scl + 200);
  });

  it('a target that holds SCL low (answers late) stretches the transfer by that long', () => {
    const { mcu, w, r, until, clock } = chip();
    timeI2c(mcu);
    i2cTo3c(w);
    const scl = i2cSclNanos(126, 187, 125e6);
    const written: number[] = [];
    const i2c = mcu.i2c[0]!;
    i2c.onConnect = () => i2c.completeConnect(true); // ACKs its address at once
    i2c.onWriteByte = (b) => {
      written.push(b);
      clock.schedule(50_000, () => i2c.completeWrite(true)); // stretches 50 µs before its ACK
    };
    w(I2C0 + IC_DATA_CMD, CMD_STOP | 0x42);
    const t = until(() => (r(I2C0 + IC_RAW_INTR_STAT) & R_STOP_DET) !== 0, 100);
    expect(written).toEqual([0x42]);
    expect(r(I2C0 + IC_RAW_INTR_STAT) & R_TX_ABRT).toBe(0);
    // START, address (9), the stretch, data byte (9), STOP
    expect(t).toBeGreaterThanOrEqual(50_000 + 20 * scl);
    expect(t).toBeLessThan(50_000 + 20 * scl + 300);
  });
});
