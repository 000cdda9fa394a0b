import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { BoardClock } from '../../sim/board/board-clock.ts';
import { GpioPads } from '../../sim/board/pads.ts';

// RP2040 datasheet §2.19.6 (IO_BANK0 GPIOn_CTRL FUNCSEL), §2.19.6.3 (PADS_BANK0 GPIOn), §2.3.1.7 (SIO GPIO).
const IO_BANK0 = 0x40014000;
const PADS_BANK0 = 0x4001c000;
const SIO = 0xd0000000;
const GPIO_IN = 0x004;
const GPIO_OUT_SET = 0x014;
const GPIO_OUT_CLR = 0x018;
const GPIO_OE_SET = 0x024;
const GPIO_OE_CLR = 0x028;
const FUNCSEL_SIO = 5;
const PAD_IE = 0x40;
const PAD_PUE = 0x08;
const PAD_PDE = 0x04;

function rig(pin: number) {
  const mcu = new RP2040(new BoardClock() as unknown as ConstructorParameters<typeof RP2040>[0]);
  const pads = new GpioPads(mcu);
  const w = (a: number, v: number): void => mcu.writeUint32(a, v >>> 0);
  w(IO_BANK0 + 8 * pin + 4, FUNCSEL_SIO);
  const level = (): boolean => ((mcu.readUint32(SIO + GPIO_IN) >>> pin) & 1) === 1;
  return { mcu, pads, w, level };
}

describe('GPIO pads (RP2040 datasheet §2.19.4)', () => {
  it('a driven pin reads back what it drives; released, it reads its pull-up or pull-down', () => {
    const pin = 4;
    const { w, level } = rig(pin);
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PUE);
    expect(level()).toBe(true); // input with its pull-up
    w(SIO + GPIO_OUT_CLR, 1 << pin);
    w(SIO + GPIO_OE_SET, 1 << pin);
    expect(level()).toBe(false); // driven low (I2C open drain)
    w(SIO + GPIO_OUT_SET, 1 << pin);
    expect(level()).toBe(true);
    w(SIO + GPIO_OUT_CLR, 1 << pin);
    w(SIO + GPIO_OE_CLR, 1 << pin);
    expect(level()).toBe(true); // released: pulled up again
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PDE);
    expect(level()).toBe(false); // pull-down
  });

  it('leaves a pin that a device outside the chip drives to that device', () => {
    const pin = 22;
    const { mcu, pads, w, level } = rig(pin);
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PDE);
    expect(level()).toBe(false);
    mcu.gpio[pin]!.setInputValue(true); // a device drives the line high
    expect(pads.drivenOutside(pin)).toBe(true);
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PUE);
    w(PADS_BANK0 + 4 + 4 * pin, PAD_IE | PAD_PDE);
    expect(level()).toBe(true);
  });
});
