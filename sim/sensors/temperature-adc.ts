/**
 * The RP2040 ADC inputs: the internal temperature sensor on channel 4 and the voltages on ADC0–ADC3
 * (GP26–GP29), each driven by a timeline over simulated time. Wired into rp2040js's ADC through its
 * `onADCRead` hook: a conversion samples the timeline at the simulated time it starts and completes
 * after the ADC's sample time.
 */
import type { BoardContext, BoardDevice } from '../board/device.ts';
import type { Logger } from '../log.ts';
import type { SimTimer } from '../time.ts';
import { constant, nanosToSeconds, type Timeline } from './timeline.ts';

// RP2040 datasheet §4.9.5 (Temperature Sensor): V_BE = 0.706 V at 27 °C, slope −1.721 mV/°C.
export const TEMP_SENSOR_VOLTS_AT_27C = 0.706;
export const TEMP_SENSOR_SLOPE_VOLTS_PER_C = -0.001721;
export const TEMP_SENSOR_REFERENCE_C = 27;
// RP2040 datasheet §4.9 (ADC): 12-bit SAR ADC; on the Pico W ADC_VREF is the 3.3 V rail.
export const ADC_VREF_VOLTS = 3.3;
export const ADC_BITS = 12;
export const ADC_MAX_CODE = (1 << ADC_BITS) - 1;
// RP2040 datasheet §4.9.1: AINSEL 0–3 are GPIO26–29, 4 is the temperature sensor.
export const ADC_TEMPERATURE_CHANNEL = 4;
export const ADC_FIRST_GPIO = 26;
/** Sample time of one conversion: 96 cycles of the 48 MHz ADC clock (datasheet §4.9.2) = 2 µs. */
export const ADC_SAMPLE_NANOS = 2000;

/** Sensor voltage for a temperature (°C), per the datasheet line. */
export function temperatureToVolts(celsius: number): number {
  return TEMP_SENSOR_VOLTS_AT_27C + TEMP_SENSOR_SLOPE_VOLTS_PER_C * (celsius - TEMP_SENSOR_REFERENCE_C);
}

/**
 * 12-bit code for an input voltage: round(V / VREF × 4095), clamped to 0…4095 — the inverse of the
 * decode MicroPython users write (`raw * 3.3 / 4095`, or `read_u16() * 3.3 / 65535`).
 */
export function voltsToCode(volts: number): number {
  if (!Number.isFinite(volts)) return 0;
  const code = Math.round((volts / ADC_VREF_VOLTS) * ADC_MAX_CODE);
  return Math.min(ADC_MAX_CODE, Math.max(0, code));
}

export function temperatureToCode(celsius: number): number {
  return voltsToCode(temperatureToVolts(celsius));
}

export interface AdcSensorsOptions {
  /** Die temperature in °C over simulated seconds (default: constant 27 °C). */
  temperature?: Timeline;
  /** Volts on ADC0–ADC3 (GP26–GP29); missing channels read 0 V. */
  channels?: readonly (Timeline | undefined)[];
  logger?: Logger;
}

/** A conversion as the firmware saw it: for tests and `--trace sensors`. */
export interface AdcSample {
  channel: number;
  nanos: number;
  code: number;
}

/** The ADC inputs as one board device. */
export class AdcSensors implements BoardDevice {
  private temperature: Timeline;
  private readonly channels: (Timeline | undefined)[];
  private ctx: BoardContext | null = null;
  private pending: SimTimer | null = null;
  /** Called after each conversion (tests, traces). */
  onSample: ((s: AdcSample) => void) | null = null;

  constructor(opts: AdcSensorsOptions = {}) {
    this.temperature = opts.temperature ?? constant(TEMP_SENSOR_REFERENCE_C);
    this.channels = [0, 1, 2, 3].map((i) => opts.channels?.[i]);
  }

  /** Replace the temperature timeline (e.g. from a scenario step). */
  setTemperature(tl: Timeline): void {
    this.temperature = tl;
  }

  /** Replace the voltage timeline of ADC0–ADC3. */
  setChannel(channel: number, tl: Timeline | undefined): void {
    if (!(channel >= 0 && channel < 4)) throw new RangeError(`ADC channel ${channel} is not 0–3`);
    this.channels[channel] = tl;
  }

  /** The code a conversion on `channel` returns at `nanos`. */
  codeAt(channel: number, nanos: number, sensorEnabled = true): number {
    const s = nanosToSeconds(nanos);
    if (channel === ADC_TEMPERATURE_CHANNEL) {
      // With TS_EN clear the sensor's bias is off and the channel reads (close to) zero.
      return sensorEnabled ? temperatureToCode(this.temperature.valueAt(s)) : 0;
    }
    if (channel >= 0 && channel < 4) {
      const tl = this.channels[channel];
      return tl ? voltsToCode(tl.valueAt(s)) : 0;
    }
    return 0;
  }

  /** Called again with a fresh RP2040 after every chip reset: hooks the new ADC. */
  attach(ctx: BoardContext): void {
    this.pending?.cancel();
    this.pending = null;
    this.ctx = ctx;
    const adc = ctx.mcu.adc;
    adc.onADCRead = (channel: number) => {
      const nanos = ctx.clock.nanos;
      const code = this.codeAt(channel, nanos, !!adc.temperatueEnable);
      const invalid = channel > ADC_TEMPERATURE_CHANNEL;
      ctx.logger.trace('sensors', () => `ADC${channel} at ${(nanos / 1e9).toFixed(6)} s → ${code}`);
      this.pending = ctx.clock.schedule(ADC_SAMPLE_NANOS, () => {
        this.pending = null;
        adc.completeADCRead(code, invalid);
        this.onSample?.({ channel, nanos, code });
      });
    };
  }

  dispose(): void {
    this.pending?.cancel();
    this.pending = null;
    this.ctx = null;
  }
}
