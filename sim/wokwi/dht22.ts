/**
 * A DHT22 (AM2302) humidity and temperature sensor on its single-wire bus, in simulated time.
 *
 * AM2302 datasheet, "single-bus communication": the host pulls the line low for at least 800 µs
 * (Tbe, typically 1 ms) and releases it; the sensor waits Tgo (20–200 µs, typically 30 µs), pulls
 * low for Trel (80 µs), releases for Treh (80 µs), then sends 40 bits — each a low of Tlow (50 µs)
 * followed by a high of 26 µs (TH0, a 0) or 70 µs (TH1, a 1) — and ends with a low of Ten (50 µs)
 * before releasing the line to its pull-up. The bits are humidity ×10 (16 bits), temperature ×10
 * (16 bits, bit 15 the sign) and a checksum (the low byte of the sum of the four data bytes), most
 * significant bit first.
 */
import type { OneWireLine } from '../sensors/onewire-bus.ts';
import type { SimClock, SimTimer } from '../time.ts';

export const DHT_START_MIN_NANOS = 800_000;
export const DHT_TGO_NANOS = 30_000;
export const DHT_TREL_NANOS = 80_000;
export const DHT_TREH_NANOS = 80_000;
export const DHT_TLOW_NANOS = 50_000;
export const DHT_TH0_NANOS = 26_000;
export const DHT_TH1_NANOS = 70_000;
export const DHT_TEN_NANOS = 50_000;
/** Measurement range (datasheet): −40…80 °C, 0…100 %RH. */
export const DHT_MIN_C = -40;
export const DHT_MAX_C = 80;

/** The five bytes a DHT22 sends for a reading. */
export function dht22Frame(celsius: number, humidity: number): Uint8Array {
  const h = Math.round(Math.min(100, Math.max(0, humidity)) * 10);
  const tAbs = Math.round(Math.abs(Math.min(DHT_MAX_C, Math.max(DHT_MIN_C, celsius))) * 10);
  const t = (celsius < 0 && tAbs > 0 ? 0x8000 : 0) | tAbs;
  const b = [h >> 8, h & 0xff, t >> 8, t & 0xff];
  return Uint8Array.of(...b, (b[0]! + b[1]! + b[2]! + b[3]!) & 0xff);
}

/** The sensor's answer as (level, duration) pieces after the host releases the line. */
export function dht22Waveform(frame: Uint8Array): { low: boolean; nanos: number }[] {
  const w: { low: boolean; nanos: number }[] = [
    { low: false, nanos: DHT_TGO_NANOS },
    { low: true, nanos: DHT_TREL_NANOS },
    { low: false, nanos: DHT_TREH_NANOS },
  ];
  for (const byte of frame) {
    for (let bit = 7; bit >= 0; bit--) {
      w.push({ low: true, nanos: DHT_TLOW_NANOS });
      w.push({ low: false, nanos: (byte >> bit) & 1 ? DHT_TH1_NANOS : DHT_TH0_NANOS });
    }
  }
  w.push({ low: true, nanos: DHT_TEN_NANOS });
  return w;
}

export class Dht22 {
  temperature: number;
  humidity: number;
  private line: OneWireLine | null = null;
  private clock: SimClock | null = null;
  private off: (() => void) | null = null;
  private masterLow = false;
  private fall = 0;
  private sensorLow = false;
  private timers: SimTimer[] = [];
  /** Readings sent (tests). */
  readings = 0;

  constructor(temperature = 24, humidity = 40) {
    this.temperature = temperature;
    this.humidity = humidity;
  }

  connect(line: OneWireLine, clock: SimClock): void {
    this.disconnect();
    this.line = line;
    this.clock = clock;
    this.masterLow = line.masterDrivesLow();
    this.fall = clock.nanos;
    this.update();
    this.off = line.onMasterChange(() => this.masterChanged());
  }

  disconnect(): void {
    this.off?.();
    this.off = null;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.sensorLow = false;
    this.line = null;
  }

  /** The level on the line (the module's pull-up unless someone pulls low). */
  get lineHigh(): boolean {
    return !this.masterLow && !this.sensorLow;
  }

  private update(): void {
    this.line?.setLevel(this.lineHigh);
  }

  private masterChanged(): void {
    if (!this.line || !this.clock) return;
    const low = this.line.masterDrivesLow();
    if (low === this.masterLow) return;
    this.masterLow = low;
    const now = this.clock.nanos;
    if (low) this.fall = now;
    else if (now - this.fall >= DHT_START_MIN_NANOS && this.timers.length === 0) this.respond();
    this.update();
  }

  private respond(): void {
    const clock = this.clock!;
    this.readings++;
    let at = 0;
    const pieces = dht22Waveform(dht22Frame(this.temperature, this.humidity));
    pieces.push({ low: false, nanos: 0 });
    for (const p of pieces) {
      const t = clock.schedule(at, () => {
        this.sensorLow = p.low;
        this.update();
        if (p.nanos === 0) this.timers = [];
      });
      this.timers.push(t);
      at += p.nanos;
    }
  }
}
