/**
 * A DS18B20 digital thermometer as a 1-Wire slave: ROM commands (SEARCH ROM, READ ROM, MATCH ROM,
 * SKIP ROM, ALARM SEARCH) and function commands (CONVERT T, READ/WRITE/COPY SCRATCHPAD, RECALL E²,
 * READ POWER SUPPLY), with the conversion time of the configured resolution. The temperature comes
 * from a timeline over simulated time and is quantised to the resolution.
 */
import { UsageError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { Bit, OneWireSlave } from './onewire-bus.ts';
import { constant, nanosToSeconds, type Timeline } from './timeline.ts';

// DS18B20 datasheet, "ROM Commands" and "DS18B20 Function Commands".
export const CMD_SEARCH_ROM = 0xf0;
export const CMD_READ_ROM = 0x33;
export const CMD_MATCH_ROM = 0x55;
export const CMD_SKIP_ROM = 0xcc;
export const CMD_ALARM_SEARCH = 0xec;
export const CMD_CONVERT_T = 0x44;
export const CMD_WRITE_SCRATCHPAD = 0x4e;
export const CMD_READ_SCRATCHPAD = 0xbe;
export const CMD_COPY_SCRATCHPAD = 0x48;
export const CMD_RECALL_E2 = 0xb8;
export const CMD_READ_POWER_SUPPLY = 0xb4;

/** Family code of the DS18B20 (datasheet "64-Bit Lasered ROM Code"). */
export const DS18B20_FAMILY = 0x28;
/** Temperature register at power-up: +85 °C (datasheet "Operation—Measuring Temperature"). */
export const POWER_ON_TEMPERATURE_REGISTER = 0x0550;
/** tCONV max per resolution, datasheet Table 2 / "AC Electrical Characteristics". */
export const CONVERSION_NANOS: Record<Resolution, number> = {
  9: 93_750_000,
  10: 187_500_000,
  11: 375_000_000,
  12: 750_000_000,
};
/** tWR: EEPROM write time of COPY SCRATCHPAD, 10 ms max. */
export const EEPROM_WRITE_NANOS = 10_000_000;
/** Measurement range of the DS18B20: −55 °C to +125 °C. */
export const MIN_CELSIUS = -55;
export const MAX_CELSIUS = 125;
/** Scratchpad bytes 5–7 are reserved; the values a real part returns. */
export const SCRATCHPAD_RESERVED = [0xff, 0x0c, 0x10] as const;
/** EEPROM factory contents: TH = 75 °C, TL = 70 °C, 12-bit resolution. */
export const FACTORY_TH = 0x4b;
export const FACTORY_TL = 0x46;

export type Resolution = 9 | 10 | 11 | 12;

/**
 * CRC-8 of the Dallas/Maxim 1-Wire bus: polynomial x⁸ + x⁵ + x⁴ + 1 (0x31), processed LSB first
 * (0x8C reflected), initial value 0. A block followed by its CRC checks to 0.
 */
export function crc8(data: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    let byte = data[i]! & 0xff;
    for (let b = 0; b < 8; b++) {
      const mix = (crc ^ byte) & 1;
      crc >>= 1;
      if (mix) crc ^= 0x8c;
      byte >>= 1;
    }
  }
  return crc;
}

/** A ROM code in bus order: family, 48-bit serial (least significant byte first), CRC. */
export function romFromSerial(serial: number | bigint, family = DS18B20_FAMILY): Uint8Array {
  let s = BigInt(serial);
  if (s < 0n || s >= 1n << 48n) throw new UsageError(`DS18B20 serial ${serial} does not fit in 48 bits`);
  const rom = new Uint8Array(8);
  rom[0] = family;
  for (let i = 1; i <= 6; i++) {
    rom[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  rom[7] = crc8(rom.subarray(0, 7));
  return rom;
}

/**
 * A ROM code from hex in bus order, as MicroPython prints `binascii.hexlify(rom)`: 16 digits (the
 * CRC is checked) or 14 (the CRC is appended). Separators `-`, `:` and spaces are ignored.
 */
export function parseRom(text: string): Uint8Array {
  const hex = text.replace(/[-:\s]/g, '');
  if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== 14 && hex.length !== 16)) {
    throw new UsageError(`ROM code "${text}": expected 14 or 16 hex digits in bus order (family byte first)`);
  }
  const rom = new Uint8Array(8);
  for (let i = 0; i < hex.length / 2; i++) rom[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const crc = crc8(rom.subarray(0, 7));
  if (hex.length === 14) rom[7] = crc;
  else if (rom[7] !== crc) {
    throw new UsageError(`ROM code "${text}": CRC byte is ${hex.slice(14)}, should be ${crc.toString(16).padStart(2, '0')}`);
  }
  return rom;
}

export function romToHex(rom: ArrayLike<number>): string {
  return Array.from(rom, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolution encoded in the configuration register (bits R1:R0 = 6:5). */
export function configForResolution(res: Resolution): number {
  return 0x1f | ((res - 9) << 5);
}

export function resolutionOfConfig(config: number): Resolution {
  return (9 + ((config >> 5) & 3)) as Resolution;
}

/**
 * Temperature register for a temperature: two's complement in 1/16 °C, rounded to the resolution's
 * step (0.5, 0.25, 0.125, 0.0625 °C) with the undefined low bits 0; clamped to the sensor's range.
 */
export function temperatureRegister(celsius: number, res: Resolution): number {
  const c = Math.min(MAX_CELSIUS, Math.max(MIN_CELSIUS, celsius));
  const step = 1 << (12 - res); // in 1/16 °C
  const sixteenths = Math.round((c * 16) / step) * step;
  return sixteenths & 0xffff;
}

/** The temperature a driver decodes from a register value (signed 1/16 °C). */
export function registerToCelsius(reg: number): number {
  const signed = reg & 0x8000 ? reg - 0x10000 : reg;
  return signed / 16;
}

export interface Ds18b20Options {
  /** ROM code (bus order). Default: family 0x28 with `serial`. */
  rom?: Uint8Array;
  /** 48-bit serial number, used when `rom` is not given (default 1). */
  serial?: number | bigint;
  /** Temperature over simulated seconds (default 20 °C). */
  temperature?: Timeline;
  /** Resolution held in EEPROM at power-up (default 12). */
  resolution?: Resolution;
  /** Alarm thresholds held in EEPROM (signed °C; default 75 and 70). */
  th?: number;
  tl?: number;
  /** Parasite power (READ POWER SUPPLY answers 0). Default: external supply. */
  parasite?: boolean;
  logger?: Logger;
  /** Name for traces (default the ROM in hex). */
  name?: string;
}

type Mode =
  | { kind: 'idle' }
  | { kind: 'rom-command' }
  | { kind: 'function-command' }
  | { kind: 'receive'; bits: number; count: number; bytes: number[]; need: number; done: (bytes: number[]) => void }
  | { kind: 'send'; bits: Bit[]; pos: number; after: Mode }
  | { kind: 'search'; index: number; phase: 0 | 1 | 2 }
  | { kind: 'busy'; until: number };

function toBits(bytes: ArrayLike<number>): Bit[] {
  const bits: Bit[] = [];
  for (let i = 0; i < bytes.length; i++) for (let b = 0; b < 8; b++) bits.push(((bytes[i]! >> b) & 1) as Bit);
  return bits;
}

function int8(v: number): number {
  return v & 0x80 ? v - 0x100 : v;
}

export class Ds18b20 implements OneWireSlave {
  readonly rom: Uint8Array;
  readonly name: string;
  private temperature: Timeline;
  readonly parasite: boolean;
  private readonly logger: Logger;
  /** Scratchpad bytes 0–4: temperature LSB, MSB, TH, TL, configuration. */
  private readonly scratch = new Uint8Array(5);
  private readonly eeprom: { th: number; tl: number; config: number };
  private mode: Mode = { kind: 'idle' };
  private conversionEnd: number | null = null;
  private alarm = false;
  /** For tests and traces: function commands seen, in order. */
  readonly commands: number[] = [];

  constructor(opts: Ds18b20Options = {}) {
    this.rom = opts.rom ? Uint8Array.from(opts.rom) : romFromSerial(opts.serial ?? 1);
    if (this.rom.length !== 8 || crc8(this.rom) !== 0) throw new UsageError(`DS18B20 ROM ${romToHex(this.rom)} has a bad CRC`);
    this.name = opts.name ?? romToHex(this.rom);
    this.temperature = opts.temperature ?? constant(20);
    this.parasite = opts.parasite ?? false;
    this.logger = opts.logger ?? silentLogger();
    const res = opts.resolution ?? 12;
    if (![9, 10, 11, 12].includes(res)) throw new UsageError(`DS18B20 resolution must be 9–12 bits (got ${res})`);
    const th = opts.th ?? int8(FACTORY_TH);
    const tl = opts.tl ?? int8(FACTORY_TL);
    for (const [k, v] of [['th', th], ['tl', tl]] as const) {
      if (!Number.isInteger(v) || v < -128 || v > 127) throw new UsageError(`DS18B20 ${k} must be an integer −128…127 (got ${v})`);
    }
    this.eeprom = { th: th & 0xff, tl: tl & 0xff, config: configForResolution(res) };
    this.powerOn();
  }

  /** Power-up state: +85 °C in the temperature register, EEPROM recalled into the scratchpad. */
  powerOn(): void {
    this.scratch[0] = POWER_ON_TEMPERATURE_REGISTER & 0xff;
    this.scratch[1] = POWER_ON_TEMPERATURE_REGISTER >> 8;
    this.recall();
    this.mode = { kind: 'idle' };
    this.conversionEnd = null;
    this.alarm = false;
  }

  setTemperature(tl: Timeline): void {
    this.temperature = tl;
  }

  get resolution(): Resolution {
    return resolutionOfConfig(this.scratch[4]!);
  }

  /** The 9 scratchpad bytes as READ SCRATCHPAD sends them (CRC last). */
  scratchpad(nanos: number): Uint8Array {
    this.settle(nanos);
    const out = new Uint8Array(9);
    out.set(this.scratch, 0);
    out.set(SCRATCHPAD_RESERVED, 5);
    out[8] = crc8(out.subarray(0, 8));
    return out;
  }

  /** Whether the last conversion set the alarm flag (T ≥ TH or T ≤ TL). */
  alarmed(nanos: number): boolean {
    this.settle(nanos);
    return this.alarm;
  }

  private recall(): void {
    this.scratch[2] = this.eeprom.th;
    this.scratch[3] = this.eeprom.tl;
    this.scratch[4] = this.eeprom.config;
  }

  /** Complete a conversion whose time has come: latch the temperature and the alarm flag. */
  private settle(nanos: number): void {
    if (this.conversionEnd === null || nanos < this.conversionEnd) return;
    const at = this.conversionEnd;
    this.conversionEnd = null;
    const celsius = this.temperature.valueAt(nanosToSeconds(at));
    const reg = temperatureRegister(celsius, this.resolution);
    this.scratch[0] = reg & 0xff;
    this.scratch[1] = reg >> 8;
    // Alarm: the integer part of the temperature compared with TH/TL (datasheet "Alarm Signaling").
    const whole = Math.floor(registerToCelsius(reg));
    this.alarm = whole >= int8(this.scratch[2]!) || whole <= int8(this.scratch[3]!);
    this.logger.trace('onewire', () => `${this.name}: converted ${celsius.toFixed(4)} °C → ${registerToCelsius(reg)} °C`);
  }

  private receive(need: number, done: (bytes: number[]) => void): Mode {
    return { kind: 'receive', bits: 0, count: 0, bytes: [], need, done };
  }

  private send(bytes: ArrayLike<number>, after: Mode): Mode {
    return { kind: 'send', bits: toBits(bytes), pos: 0, after };
  }

  private romBit(i: number): Bit {
    return ((this.rom[i >> 3]! >> (i & 7)) & 1) as Bit;
  }

  busReset(nanos: number): boolean {
    this.settle(nanos);
    this.mode = { kind: 'rom-command' };
    return true;
  }

  slotStart(nanos: number): Bit | null {
    // The bit goes out at the falling edge; the state moves on at the slot's end (slotEnd), so a
    // read slot is never mistaken for the next write slot.
    const m = this.mode;
    switch (m.kind) {
      case 'send':
        return m.bits[m.pos]!;
      case 'search':
        if (m.phase === 2) return null;
        return m.phase === 0 ? this.romBit(m.index) : ((1 - this.romBit(m.index)) as Bit);
      case 'busy':
        return nanos >= m.until ? 1 : 0;
      default:
        return null;
    }
  }

  slotEnd(nanos: number, masterBit: Bit): void {
    const m = this.mode;
    switch (m.kind) {
      case 'send':
        m.pos++;
        if (m.pos >= m.bits.length) this.mode = m.after;
        return;
      case 'search':
        if (m.phase !== 2) {
          m.phase = m.phase === 0 ? 1 : 2;
          return;
        }
        if (masterBit !== this.romBit(m.index)) {
          this.mode = { kind: 'idle' };
          return;
        }
        m.index++;
        m.phase = 0;
        if (m.index === 64) this.mode = { kind: 'function-command' };
        return;
      case 'rom-command':
      case 'function-command': {
        const isRom = m.kind === 'rom-command';
        this.mode = this.receive(1, ([cmd]) => (isRom ? this.romCommand(cmd!, nanos) : this.functionCommand(cmd!, nanos)));
        break;
      }
      case 'receive':
        break;
      default:
        return;
    }
    const r = this.mode;
    if (r.kind !== 'receive') return;
    r.bits |= masterBit << r.count;
    r.count++;
    if (r.count === 8) {
      r.bytes.push(r.bits);
      r.bits = 0;
      r.count = 0;
      if (r.bytes.length === r.need) {
        this.mode = { kind: 'idle' };
        r.done(r.bytes);
      }
    }
  }

  private romCommand(cmd: number, nanos: number): void {
    this.logger.trace('onewire', () => `${this.name}: ROM command ${cmd.toString(16)}`);
    switch (cmd) {
      case CMD_READ_ROM:
        this.mode = this.send(this.rom, { kind: 'function-command' });
        return;
      case CMD_SKIP_ROM:
        this.mode = { kind: 'function-command' };
        return;
      case CMD_MATCH_ROM:
        this.mode = this.receive(8, (bytes) => {
          const match = bytes.every((b, i) => b === this.rom[i]);
          this.mode = match ? { kind: 'function-command' } : { kind: 'idle' };
        });
        return;
      case CMD_SEARCH_ROM:
        this.mode = { kind: 'search', index: 0, phase: 0 };
        return;
      case CMD_ALARM_SEARCH:
        this.mode = this.alarmed(nanos) ? { kind: 'search', index: 0, phase: 0 } : { kind: 'idle' };
        return;
      default:
        this.logger.warnOnce('onewire', `rom-${cmd}`, `${this.name}: unknown ROM command 0x${cmd.toString(16)}; ignored until the next reset`);
        this.mode = { kind: 'idle' };
    }
  }

  private functionCommand(cmd: number, nanos: number): void {
    this.commands.push(cmd);
    this.logger.trace('onewire', () => `${this.name}: function command ${cmd.toString(16)}`);
    this.settle(nanos);
    switch (cmd) {
      case CMD_CONVERT_T: {
        const end = nanos + CONVERSION_NANOS[this.resolution];
        this.conversionEnd = end;
        this.mode = { kind: 'busy', until: end };
        return;
      }
      case CMD_READ_SCRATCHPAD:
        // After the 9 bytes the device sends 1s (leaves the line alone) until the next reset.
        this.mode = this.send(this.scratchpad(nanos), { kind: 'idle' });
        return;
      case CMD_WRITE_SCRATCHPAD:
        this.mode = this.receive(3, ([th, tl, config]) => {
          this.scratch[2] = th!;
          this.scratch[3] = tl!;
          // Only R1:R0 are writable; bit 7 reads 0 and bits 4–0 read 1.
          this.scratch[4] = 0x1f | (config! & 0x60);
        });
        return;
      case CMD_COPY_SCRATCHPAD:
        this.eeprom.th = this.scratch[2]!;
        this.eeprom.tl = this.scratch[3]!;
        this.eeprom.config = this.scratch[4]!;
        this.mode = { kind: 'busy', until: nanos + EEPROM_WRITE_NANOS };
        return;
      case CMD_RECALL_E2:
        this.recall();
        this.mode = { kind: 'busy', until: nanos };
        return;
      case CMD_READ_POWER_SUPPLY:
        this.mode = this.send([this.parasite ? 0x00 : 0xff], { kind: 'idle' });
        return;
      default:
        this.logger.warnOnce('onewire', `fn-${cmd}`, `${this.name}: unknown function command 0x${cmd.toString(16)}; ignored until the next reset`);
        this.mode = { kind: 'idle' };
    }
  }
}
