import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { installI2cTargets } from '../../sim/board/i2c-target.ts';
import { GpioPads } from '../../sim/board/pads.ts';
import { Pl011Uart } from '../../sim/board/uart.ts';
import { JumperWires, parseWireSpec } from '../../sim/board/wires.ts';
import { silentLogger } from '../../sim/log.ts';

// RP2040 datasheet §2.19.6 (IO_BANK0), §2.19.6.3 (PADS_BANK0), §2.3.1.7 (SIO), §4.3.17 (I2C registers).
const IO_BANK0 = 0x40014000;
const PADS_BANK0 = 0x4001c000;
const SIO = 0xd0000000;
const GPIO_IN = 0x004;
const GPIO_OUT_CLR = 0x018;
const GPIO_OE_SET = 0x024;
const GPIO_OE_CLR = 0x028;
const F_I2C = 3;
const F_SIO = 5;
const PAD_IE = 0x40;
const PAD_PUE = 0x08;
const I2C1 = 0x40048000;
const IC_CON = 0x00;
const IC_SAR = 0x08;
const IC_DATA_CMD = 0x10;
const IC_INTR_STAT = 0x2c;
const IC_INTR_MASK = 0x30;
const IC_RAW_INTR_STAT = 0x34;
const IC_RX_TL = 0x38;
const IC_CLR_INTR = 0x40;
const IC_CLR_RD_REQ = 0x50;
const IC_CLR_TX_ABRT = 0x54;
const IC_ENABLE = 0x6c;
const IC_STATUS = 0x70;
const IC_RXFLR = 0x78;
const IC_TX_ABRT_SOURCE = 0x80;
const RX_FIFO_FULL_HLD_CTRL = 1 << 9;
const STOP_DET_IFADDRESSED = 1 << 7;
const R_RESTART_DET = 1 << 12;
const R_START_DET = 1 << 10;
const R_STOP_DET = 1 << 9;
const R_RX_DONE = 1 << 7;
const R_TX_ABRT = 1 << 6;
const R_RD_REQ = 1 << 5;
const R_RX_FULL = 1 << 2;
const SLV_ACTIVITY = 1 << 6;
const RFNE = 1 << 3;
const FIRST_DATA_BYTE = 1 << 11;
const ABRT_SLVFLUSH_TXFIFO = 1 << 13;
const ADDR = 0x43;

/**
 * I2C1 as a target at 0x43 on GP6 (SDA) / GP7 (SCL), jumpered to GP4 / GP5, which the test drives
 * open drain through SIO as a bit-banged controller would (UM10204 §3.1: output low or released).
 */
function rig() {
  const clock = new BoardClock();
  const mcu = new RP2040(clock as unknown as ConstructorParameters<typeof RP2040>[0]);
  new GpioPads(mcu);
  installI2cTargets(mcu);
  [0, 1].forEach((i) => {
    (mcu.uart as unknown as Pl011Uart[])[i] = new Pl011Uart(mcu, `UART${i}`, 20 + i, { tx: 20 + 2 * i, rx: 21 + 2 * i }, clock);
  });
  const wires = new JumperWires(['GP4:GP6', 'GP5:GP7'].map((s) => parseWireSpec(s)));
  wires.attach({ mcu, clock, hostIo: { begin: () => ({ release() {} }), notify() {} }, logger: silentLogger(), emit: () => undefined });
  const w = (a: number, v: number): void => mcu.writeUint32(a, v >>> 0);
  const r = (a: number): number => mcu.readUint32(a) >>> 0;
  for (const [pin, f] of [[4, F_SIO], [5, F_SIO], [6, F_I2C], [7, F_I2C]] as const) {
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PUE);
    w(IO_BANK0 + 8 * pin + 4, f);
  }
  w(SIO + GPIO_OUT_CLR, (1 << 4) | (1 << 5));
  // As MicroPython's rp2 I2CTarget and the SDK's i2c_set_slave_mode set it up.
  w(I2C1 + IC_ENABLE, 0);
  w(I2C1 + IC_CON, RX_FIFO_FULL_HLD_CTRL | STOP_DET_IFADDRESSED);
  w(I2C1 + IC_SAR, ADDR);
  w(I2C1 + IC_RX_TL, 0);
  r(I2C1 + IC_CLR_INTR);
  w(I2C1 + IC_INTR_MASK, R_START_DET | R_STOP_DET | R_RX_DONE | R_TX_ABRT | R_RD_REQ | R_RX_FULL);
  w(I2C1 + IC_ENABLE, 1);

  const level = (pin: number): boolean => ((r(SIO + GPIO_IN) >>> pin) & 1) === 1;
  const line = (pin: number, high: boolean): void => w(SIO + (high ? GPIO_OE_CLR : GPIO_OE_SET), 1 << pin);
  const sda = (high: boolean): void => line(4, high);
  const scl = (high: boolean): void => line(5, high);
  /** What the firmware does while the target stretches SCL (its interrupt handler), if anything. */
  const firmware: { serve: (() => void) | null; stretches: number } = { serve: null, stretches: 0 };
  /** One clock pulse; the SDA level sampled while SCL is high. A controller waits while the target holds SCL low. */
  const clockBit = (): boolean => {
    scl(true);
    if (!level(5)) {
      firmware.stretches++;
      firmware.serve?.();
      if (!level(5)) throw new Error('SCL held low');
    }
    const bit = level(4);
    scl(false);
    return bit;
  };
  const start = (): void => {
    sda(true);
    scl(true);
    sda(false);
    scl(false);
  };
  const stop = (): void => {
    sda(false);
    scl(true);
    sda(true);
  };
  /** Eight bits MSB first, then the ninth clock: true when the target ACKed (held SDA low). */
  const writeByte = (b: number): boolean => {
    for (let i = 7; i >= 0; i--) {
      sda(((b >> i) & 1) === 1);
      clockBit();
    }
    sda(true);
    return !clockBit();
  };
  /** Eight bits in, then ACK (more wanted) or NACK (the last). */
  const readByte = (ack: boolean): number => {
    sda(true);
    let v = 0;
    for (let i = 0; i < 8; i++) v = (v << 1) | (clockBit() ? 1 : 0);
    sda(!ack);
    clockBit();
    sda(true);
    return v;
  };
  return { mcu, w, r, level, sda, scl, start, stop, writeByte, readByte, clockBit, firmware };
}

describe('I2C target mode (DW_apb_i2c, RP2040 datasheet §4.3.5)', () => {
  it('ACKs its own address by pulling SDA low on both ends of the wire; NACKs others', () => {
    const { r, start, stop, writeByte, level, sda, scl } = rig();
    start();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_START_DET).toBeTruthy();
    // Another address: not ACKed, and with STOP_DET_IFADDRESSED its STOP is not reported.
    expect(writeByte(0x42 << 1)).toBe(false);
    stop();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_STOP_DET).toBe(0);
    start();
    // Its address: after the eighth clock the target holds SDA low through the ninth.
    for (let i = 7; i >= 0; i--) {
      sda((((ADDR << 1) >> i) & 1) === 1);
      scl(true);
      scl(false);
    }
    sda(true);
    expect(level(4)).toBe(false);
    expect(level(6)).toBe(false);
    expect(r(I2C1 + IC_STATUS) & SLV_ACTIVITY).toBeTruthy();
    scl(true);
    scl(false);
    expect(level(4)).toBe(true); // released after the ninth clock
    stop();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_STOP_DET).toBeTruthy();
    expect(r(I2C1 + IC_STATUS) & SLV_ACTIVITY).toBe(0);
  });

  it('receives written bytes into the RX FIFO with ACK, FIRST_DATA_BYTE on the first, RX_FULL', () => {
    const { mcu, r, start, stop, writeByte } = rig();
    start();
    expect(writeByte(ADDR << 1)).toBe(true);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RX_FULL).toBe(0);
    expect(writeByte(0x12)).toBe(true);
    expect(r(I2C1 + IC_INTR_STAT) & R_RX_FULL).toBeTruthy();
    expect(mcu.core.pendingInterrupts & (1 << 24)).toBeTruthy(); // I2C1_IRQ
    expect(writeByte(0xa5)).toBe(true);
    stop();
    expect(r(I2C1 + IC_RXFLR)).toBe(2);
    expect(r(I2C1 + IC_DATA_CMD)).toBe(FIRST_DATA_BYTE | 0x12);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RX_FULL).toBeTruthy(); // one left, above IC_RX_TL = 0
    expect(r(I2C1 + IC_DATA_CMD)).toBe(0xa5);
    expect(r(I2C1 + IC_STATUS) & RFNE).toBe(0);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RX_FULL).toBe(0);
  });

  it('on a read raises RD_REQ and stretches SCL until IC_DATA_CMD is written; a NACK ends it (RX_DONE)', () => {
    const { w, r, level, start, stop, writeByte, readByte, scl, firmware } = rig();
    start();
    expect(writeByte((ADDR << 1) | 1)).toBe(true);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RD_REQ).toBeTruthy();
    scl(true); // released by the controller, held low by the target
    expect(level(5)).toBe(false);
    expect(level(7)).toBe(false);
    scl(false);
    const sent = [0xc3, 0x5a];
    firmware.serve = () => {
      expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RD_REQ).toBeTruthy();
      r(I2C1 + IC_CLR_RD_REQ);
      w(I2C1 + IC_DATA_CMD, sent.shift()!);
    };
    expect(readByte(true)).toBe(0xc3);
    expect(readByte(false)).toBe(0x5a);
    expect(firmware.stretches).toBe(2); // one RD_REQ per byte: the TX FIFO was empty each time
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RX_DONE).toBeTruthy();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_RD_REQ).toBe(0);
    stop();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_STOP_DET).toBeTruthy();
  });

  it('sends queued bytes without RD_REQ; bytes left from an earlier read are flushed (TX_ABRT)', () => {
    const { w, r, start, stop, writeByte, readByte, firmware } = rig();
    w(I2C1 + IC_DATA_CMD, 0x77); // left over
    start();
    expect(writeByte((ADDR << 1) | 1)).toBe(true);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & R_TX_ABRT).toBeTruthy();
    expect(r(I2C1 + IC_TX_ABRT_SOURCE) & ABRT_SLVFLUSH_TXFIFO).toBeTruthy();
    r(I2C1 + IC_CLR_TX_ABRT);
    firmware.serve = () => {
      r(I2C1 + IC_CLR_RD_REQ);
      w(I2C1 + IC_DATA_CMD, 0x31);
      w(I2C1 + IC_DATA_CMD, 0x32);
      w(I2C1 + IC_DATA_CMD, 0x33);
    };
    expect([readByte(true), readByte(true), readByte(false)]).toEqual([0x31, 0x32, 0x33]);
    expect(firmware.stretches).toBe(1);
    stop();
  });

  it('a repeated START while addressed raises RESTART_DET: a register write then read in one transfer', () => {
    const { w, r, start, stop, writeByte, readByte, firmware } = rig();
    start();
    expect(writeByte(ADDR << 1)).toBe(true);
    expect(writeByte(0x02)).toBe(true);
    r(I2C1 + IC_CLR_INTR);
    start();
    expect(r(I2C1 + IC_RAW_INTR_STAT) & (R_START_DET | R_RESTART_DET)).toBe(R_START_DET | R_RESTART_DET);
    expect(writeByte((ADDR << 1) | 1)).toBe(true);
    firmware.serve = () => {
      r(I2C1 + IC_CLR_RD_REQ);
      w(I2C1 + IC_DATA_CMD, 0x44);
    };
    expect(readByte(false)).toBe(0x44);
    stop();
    expect(r(I2C1 + IC_DATA_CMD)).toBe(FIRST_DATA_BYTE | 0x02);
  });

  it('with the RX FIFO full (RX_FIFO_FULL_HLD_CTRL) holds SCL low before the ACK until a byte is read', () => {
    const { r, start, stop, writeByte, level, firmware } = rig();
    start();
    expect(writeByte(ADDR << 1)).toBe(true);
    for (let i = 0; i < 16; i++) expect(writeByte(0x40 + i)).toBe(true);
    expect(r(I2C1 + IC_RXFLR)).toBe(16);
    firmware.serve = () => {
      expect(level(5)).toBe(false); // held through the ninth clock
      expect(r(I2C1 + IC_DATA_CMD)).toBe(FIRST_DATA_BYTE | 0x40);
    };
    expect(writeByte(0x50)).toBe(true); // ACKed once there was room
    expect(firmware.stretches).toBe(1);
    expect(r(I2C1 + IC_RAW_INTR_STAT) & (1 << 1)).toBe(0); // no RX_OVER: nothing lost
    stop();
    const got = Array.from({ length: 16 }, () => r(I2C1 + IC_DATA_CMD));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 0x41 + i));
  });

  it('disabling the block releases both lines', () => {
    const { w, start, writeByte, level, scl } = rig();
    start();
    expect(writeByte((ADDR << 1) | 1)).toBe(true);
    scl(true);
    expect(level(5)).toBe(false); // stretched
    w(I2C1 + IC_ENABLE, 0);
    expect(level(5)).toBe(true);
    expect(level(4)).toBe(true);
  });
});
