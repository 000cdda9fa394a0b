/**
 * The level on each user GPIO pad (RP2040 datasheet §2.19.1, §2.19.4): a pin the chip drives reads
 * back what it drives (SIO, PIO, PWM, I2C open-drain low), an undriven pin with its pull-up
 * enabled reads 1, with its pull-down 0, with both (bus keeper) or neither it keeps its level.
 * rp2040js leaves a pin's input to whoever calls `setInputValue`, so without this a program that
 * reads a pin a PIO state machine drives, or an I2C bus with only its pull-ups, sees 0.
 *
 * A pin that something outside the chip drives (a device model calling `setInputValue`: the
 * CYW43439's host-wake line, a 1-Wire bus) is that device's: the pad leaves it alone from then on.
 */
import type { GPIOPin, RP2040 } from 'rp2040js';

export class GpioPads {
  private readonly external = new Set<number>();
  private setting = false;
  private readonly disposers: (() => void)[] = [];

  constructor(mcu: RP2040) {
    for (const pin of mcu.gpio) {
      const set = pin.setInputValue;
      const self = this;
      pin.setInputValue = function (this: GPIOPin, value: boolean): void {
        if (!self.setting) self.external.add(pin.index);
        set.call(this, value);
      };
      // rp2040js re-applies the input level after a pad write (refreshInput): not a device driving it.
      const refresh = pin.refreshInput;
      pin.refreshInput = function (this: GPIOPin): void {
        const was = self.setting;
        self.setting = true;
        try {
          refresh.call(this);
        } finally {
          self.setting = was;
        }
      };
      this.disposers.push(pin.addListener(() => this.update(pin)));
      this.disposers.push(() => {
        pin.setInputValue = set;
        pin.refreshInput = refresh;
      });
    }
  }

  /** Whether a device outside the chip drives this pin (the pad model leaves it alone). */
  drivenOutside(index: number): boolean {
    return this.external.has(index);
  }

  private update(pin: GPIOPin): void {
    if (this.external.has(pin.index)) return;
    const raw = (pin as unknown as { rawInputValue: boolean }).rawInputValue;
    let level = raw;
    if (pin.outputEnable) level = pin.outputValue;
    else if (pin.pullupEnabled && !pin.pulldownEnabled) level = true;
    else if (pin.pulldownEnabled && !pin.pullupEnabled) level = false;
    if (level === raw) return;
    this.setting = true;
    try {
      pin.setInputValue(level);
    } finally {
      this.setting = false;
    }
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
  }
}
