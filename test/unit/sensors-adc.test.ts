import { describe, expect, it } from 'vitest';
import { AdcSensors, temperatureToCode, voltsToCode } from '../../sim/sensors/temperature-adc.ts';
import { constant, points, ramp, withNoise } from '../../sim/sensors/timeline.ts';
import { bareBoard } from './sensors-board.ts';

// RP2040 ADC registers (datasheet §4.9.6), offsets from ADC_BASE.
const CS = 0x00;
const RESULT = 0x04;
const CS_EN = 1 << 0;
const CS_TS_EN = 1 << 1;
const CS_START_ONE = 1 << 2;
const CS_READY = 1 << 8;

/** What MicroPython's machine.ADC.read_u16() returns for a 12-bit code: left-justified, top bits repeated. */
function readU16(raw: number): number {
  return (raw << 4) | (raw >> 8);
}
/** The conversion users write (and the issue states). */
function decodeCelsius(u16: number): number {
  const v = (u16 * 3.3) / 65535;
  return 27 - (v - 0.706) / 0.001721;
}
/** One ADC step, in °C. */
const STEP_C = 3.3 / 4095 / 0.001721;

/** Start one conversion through the ADC registers, wait the sample time, read RESULT. */
function convert(b: ReturnType<typeof bareBoard>, channel: number): number {
  b.mcu.adc.writeUint32(CS, CS_EN | CS_TS_EN | (channel << 12) | CS_START_ONE);
  expect(b.mcu.adc.readUint32(CS) & CS_READY).toBe(0); // busy during the sample time
  b.advance(2_000);
  expect(b.mcu.adc.readUint32(CS) & CS_READY).toBe(CS_READY);
  return b.mcu.adc.readUint32(RESULT);
}

describe('internal temperature sensor (ADC channel 4)', () => {
  it('matches codes computed by hand from the datasheet line', () => {
    // V = 0.706 - 0.001721 (T - 27); code = round(V / 3.3 * 4095)
    expect(temperatureToCode(27)).toBe(876); // 0.706 V → 876.08
    expect(temperatureToCode(0)).toBe(934); // 0.752467 V → 933.74
    expect(temperatureToCode(-20)).toBe(976); // 0.786887 V → 976.46
    expect(temperatureToCode(50)).toBe(827); // 0.666417 V → 826.96
    expect(temperatureToCode(80)).toBe(763); // 0.614787 V → 762.89
    expect(voltsToCode(3.3)).toBe(4095);
    expect(voltsToCode(5)).toBe(4095);
    expect(voltsToCode(-1)).toBe(0);
  });

  it('decodes with the usual formula within one ADC step from -20 to +80 °C (through the ADC registers)', () => {
    const b = bareBoard();
    const sensors = new AdcSensors({ temperature: constant(0) });
    sensors.attach(b.ctx);
    let worst = 0;
    for (let t10 = -200; t10 <= 800; t10 += 5) {
      const t = t10 / 10;
      sensors.setTemperature(constant(t));
      const raw = convert(b, 4);
      expect(raw).toBeGreaterThanOrEqual(0);
      expect(raw).toBeLessThanOrEqual(4095);
      const viaU16 = decodeCelsius(readU16(raw));
      const viaRaw = 27 - ((raw * 3.3) / 4095 - 0.706) / 0.001721;
      worst = Math.max(worst, Math.abs(viaU16 - t));
      expect(Math.abs(viaU16 - t)).toBeLessThanOrEqual(STEP_C);
      expect(Math.abs(viaRaw - t)).toBeLessThanOrEqual(STEP_C / 2 + 1e-9);
    }
    expect(worst).toBeGreaterThan(0); // the table is quantised, not exact
  });

  it('follows a timeline over simulated time', () => {
    const b = bareBoard();
    const sensors = new AdcSensors({ temperature: ramp({ from: 10, to: 40, start: 0, end: 1 }) });
    sensors.attach(b.ctx);
    const first = decodeCelsius(readU16(convert(b, 4)));
    expect(Math.abs(first - 10)).toBeLessThanOrEqual(STEP_C);
    b.advance(500_000_000 - 2_000); // now at 0.5 s
    const mid = decodeCelsius(readU16(convert(b, 4)));
    expect(Math.abs(mid - 25)).toBeLessThanOrEqual(STEP_C);
    b.advance(2_000_000_000);
    const end = decodeCelsius(readU16(convert(b, 4)));
    expect(Math.abs(end - 40)).toBeLessThanOrEqual(STEP_C);
  });

  it('reads zero when the firmware left the sensor bias off (TS_EN clear)', () => {
    const b = bareBoard();
    new AdcSensors({ temperature: constant(27) }).attach(b.ctx);
    b.mcu.adc.writeUint32(CS, CS_EN | (4 << 12) | CS_START_ONE);
    b.advance(2_000);
    expect(b.mcu.adc.readUint32(RESULT)).toBe(0);
  });
});

describe('ADC0–ADC3 voltages', () => {
  it('converts each channel from its own timeline', () => {
    const b = bareBoard();
    const sensors = new AdcSensors({
      channels: [constant(0), constant(1.65), points([{ t: 0, value: 0 }, { t: 1, value: 3.3 }]), undefined],
    });
    sensors.attach(b.ctx);
    expect(convert(b, 0)).toBe(0);
    expect(convert(b, 1)).toBe(2048); // 1.65 / 3.3 × 4095 = 2047.5 → 2048
    expect(convert(b, 3)).toBe(0); // nothing connected
    b.advance(250_000_000);
    // 3.3 × 0.25 = 0.825 V at 0.25 s (+ the few µs of earlier conversions) → 1023.75…
    expect(convert(b, 2)).toBe(1024);
  });
});

describe('noise', () => {
  function codes(seed: number): number[] {
    const b = bareBoard();
    const sensors = new AdcSensors({ temperature: withNoise(constant(25), { sigma: 2, seed }) });
    sensors.attach(b.ctx);
    const out: number[] = [];
    for (let i = 0; i < 200; i++) {
      out.push(convert(b, 4));
      b.advance(10_000_000);
    }
    return out;
  }

  it('is reproducible for a seed and differs between seeds', () => {
    const a = codes(42);
    const again = codes(42);
    const other = codes(43);
    expect(again).toEqual(a);
    expect(other).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(5); // it is noisy
  });

  it('has the configured spread around the timeline', () => {
    const tl = withNoise(constant(25), { sigma: 2, seed: 7 });
    const xs: number[] = [];
    for (let i = 0; i < 20000; i++) xs.push(tl.valueAt(i * 0.01));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 25)).toBeLessThan(0.1);
    expect(Math.abs(sd - 2)).toBeLessThan(0.1);
    expect(tl.meanAt(3)).toBe(25);
  });
});
