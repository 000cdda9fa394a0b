import { describe, expect, it } from 'vitest';
import {
  CMD_ALARM_SEARCH,
  CMD_CONVERT_T,
  CMD_COPY_SCRATCHPAD,
  CMD_MATCH_ROM,
  CMD_READ_POWER_SUPPLY,
  CMD_READ_ROM,
  CMD_READ_SCRATCHPAD,
  CMD_RECALL_E2,
  CMD_SEARCH_ROM,
  CMD_SKIP_ROM,
  CMD_WRITE_SCRATCHPAD,
  Ds18b20,
  crc8,
  parseRom,
  romFromSerial,
  temperatureRegister,
} from '../../sim/sensors/ds18b20.ts';
import { OneWireBus, type OneWireLine } from '../../sim/sensors/onewire-bus.ts';
import { constant, ramp } from '../../sim/sensors/timeline.ts';
import { ManualClock } from '../../sim/time.ts';
import { bareBoard } from './sensors-board.ts';

const US = 1000;
const MS = 1_000_000;

/** Slot timings of a bus master, in µs. */
interface Timing {
  resetLow: number;
  presenceSample: number;
  resetRest: number;
  readLow: number;
  readSample: number;
  readRest: number;
  write1Low: number;
  write0Low: number;
  writeRest: number;
}
/** What MicroPython's 1-Wire C helpers do (480/70/410, 5/5/40, 10/50/10). */
const MICROPYTHON: Timing = {
  resetLow: 480, presenceSample: 70, resetRest: 410,
  readLow: 5, readSample: 5, readRest: 40,
  write1Low: 10, write0Low: 60, writeRest: 10,
};
/** Maxim AN126 "standard speed" values (A=6, B=64, C=60, D=10, E=9, F=55, H=480, I=70, J=410). */
const AN126: Timing = {
  resetLow: 480, presenceSample: 70, resetRest: 410,
  readLow: 6, readSample: 9, readRest: 55,
  write1Low: 6, write0Low: 60, writeRest: 10,
};

/** A bus master driven by the test: a line, a manual clock, and bit-level operations. */
class TestMaster implements OneWireLine {
  readonly clock = new ManualClock();
  private low = false;
  level = true;
  private listeners = new Set<() => void>();
  constructor(readonly t: Timing = MICROPYTHON) {}
  masterDrivesLow(): boolean {
    return this.low;
  }
  onMasterChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }
  setLevel(high: boolean): void {
    this.level = high;
  }
  drive(low: boolean): void {
    this.low = low;
    for (const l of this.listeners) l();
  }
  wait(us: number): void {
    this.clock.advance(us * US);
  }
  reset(): boolean {
    this.drive(true);
    this.wait(this.t.resetLow);
    this.drive(false);
    this.wait(this.t.presenceSample);
    const present = !this.level;
    this.wait(this.t.resetRest);
    return present;
  }
  writeBit(bit: number): void {
    this.drive(true);
    this.wait(bit ? this.t.write1Low : this.t.write0Low);
    this.drive(false);
    this.wait(this.t.writeRest);
  }
  readBit(): number {
    this.drive(true);
    this.wait(this.t.readLow);
    this.drive(false);
    this.wait(this.t.readSample);
    const bit = this.level ? 1 : 0;
    this.wait(this.t.readRest);
    return bit;
  }
  writeByte(b: number): void {
    for (let i = 0; i < 8; i++) this.writeBit((b >> i) & 1);
  }
  write(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.writeByte(bytes[i]!);
  }
  readByte(): number {
    let v = 0;
    for (let i = 0; i < 8; i++) v |= this.readBit() << i;
    return v;
  }
  read(n: number): number[] {
    return Array.from({ length: n }, () => this.readByte());
  }
  /**
   * The 1-Wire search (Maxim AN187), written for this test: returns every ROM on the bus, each as
   * 8 bytes in bus order.
   */
  search(cmd = CMD_SEARCH_ROM): number[][] {
    const found: number[][] = [];
    let lastDiscrepancy = -1;
    let last: number[] = [];
    for (;;) {
      if (!this.reset()) return found;
      this.writeByte(cmd);
      const rom = new Array<number>(8).fill(0);
      let discrepancy = -1;
      for (let i = 0; i < 64; i++) {
        const a = this.readBit();
        const b = this.readBit();
        if (a === 1 && b === 1) return found; // nobody answers
        let dir: number;
        if (a !== b) dir = a;
        else if (i < lastDiscrepancy) dir = (last[i >> 3]! >> (i & 7)) & 1;
        else dir = i === lastDiscrepancy ? 1 : 0;
        if (a === 0 && b === 0 && dir === 0) discrepancy = i;
        if (dir) rom[i >> 3]! |= 1 << (i & 7);
        this.writeBit(dir);
      }
      found.push(rom);
      last = rom;
      lastDiscrepancy = discrepancy;
      if (lastDiscrepancy < 0) return found;
    }
  }
}

function setup(devices: Ds18b20[], timing: Timing = MICROPYTHON): { m: TestMaster; bus: OneWireBus } {
  const m = new TestMaster(timing);
  const bus = new OneWireBus();
  for (const d of devices) bus.add(d);
  bus.connect(m, m.clock);
  return { m, bus };
}

/** Decode a DS18B20 temperature register the way drivers do (signed 1/16 °C). */
function decode(lsb: number, msb: number): number {
  let t = (msb << 8) | lsb;
  if (t & 0x8000) t -= 0x10000;
  return t / 16;
}

describe('CRC8 (Dallas/Maxim)', () => {
  it('matches published vectors', () => {
    // Maxim AN27 example ROM: 02 1C B8 01 00 00 00 → CRC A2.
    expect(crc8([0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00])).toBe(0xa2);
    // A DS18B20 scratchpad right after power-up: 85 °C, TH 75, TL 70, 12-bit → CRC 1C.
    expect(crc8([0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10])).toBe(0x1c);
    expect(crc8([0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xa2])).toBe(0);
  });

  it('builds and parses ROM codes', () => {
    const rom = romFromSerial(0x0000_01b8_1c02, 0x02);
    expect(Array.from(rom)).toEqual([0x02, 0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, crc8([0x02, 0x02, 0x1c, 0xb8, 0x01, 0, 0])]);
    expect(Array.from(parseRom('021cb801000000a2'))).toEqual([0x02, 0x1c, 0xb8, 0x01, 0, 0, 0, 0xa2]);
    expect(Array.from(parseRom('02-1cb8010000-00'))).toEqual([0x02, 0x1c, 0xb8, 0x01, 0, 0, 0, 0xa2]);
    expect(() => parseRom('021cb801000000a3')).toThrow(/CRC byte is a3, should be a2/);
    expect(() => parseRom('28ff')).toThrow(/14 or 16 hex digits/);
  });
});

describe('temperature register', () => {
  it('matches the datasheet table at 12 bits', () => {
    expect(temperatureRegister(125, 12)).toBe(0x07d0);
    expect(temperatureRegister(85, 12)).toBe(0x0550);
    expect(temperatureRegister(25.0625, 12)).toBe(0x0191);
    expect(temperatureRegister(10.125, 12)).toBe(0x00a2);
    expect(temperatureRegister(0.5, 12)).toBe(0x0008);
    expect(temperatureRegister(0, 12)).toBe(0x0000);
    expect(temperatureRegister(-0.5, 12)).toBe(0xfff8);
    expect(temperatureRegister(-10.125, 12)).toBe(0xff5e);
    expect(temperatureRegister(-25.0625, 12)).toBe(0xfe6f);
    expect(temperatureRegister(-55, 12)).toBe(0xfc90);
    expect(temperatureRegister(200, 12)).toBe(0x07d0); // clamped to the range
  });

  it('quantises to the resolution step', () => {
    expect(decode(temperatureRegister(21.3, 9) & 0xff, temperatureRegister(21.3, 9) >> 8)).toBe(21.5);
    expect(decode(temperatureRegister(21.3, 10) & 0xff, temperatureRegister(21.3, 10) >> 8)).toBe(21.25);
    expect(decode(temperatureRegister(21.3, 11) & 0xff, temperatureRegister(21.3, 11) >> 8)).toBe(21.25);
    expect(decode(temperatureRegister(21.3, 12) & 0xff, temperatureRegister(21.3, 12) >> 8)).toBe(21.3125);
  });
});

describe('1-Wire bit timing', () => {
  it('answers a reset with a presence pulse inside the sampling window, and nothing without devices', () => {
    const { m } = setup([new Ds18b20()]);
    const levels: [number, boolean][] = [];
    const origSet = m.setLevel.bind(m);
    m.setLevel = (h) => {
      levels.push([m.clock.nanos, h]);
      origSet(h);
    };
    expect(m.reset()).toBe(true);
    // Line: low from 0 (master) to 480 µs, high, device low at 510…630 µs, high again.
    expect(levels).toEqual([
      [0, false],
      [480 * US, true],
      [510 * US, false],
      [630 * US, true],
    ]);
    const empty = setup([]);
    expect(empty.m.reset()).toBe(false);
  });

  it('a re-attach (chip reset) mid-presence leaves the new line clean', () => {
    const dev = new Ds18b20();
    const { m, bus } = setup([dev]);
    m.drive(true);
    m.wait(480);
    m.drive(false);
    m.wait(60); // inside the presence pulse
    expect(m.level).toBe(false);
    const m2 = new TestMaster();
    m2.clock.advance(m.clock.nanos); // the board's clock carries on
    bus.connect(m2, m2.clock);
    m.wait(500); // the old chip's timers must not touch the new line
    m2.wait(500);
    expect(m2.level).toBe(true);
    expect(m2.reset()).toBe(true);
    m2.writeByte(CMD_READ_ROM);
    expect(m2.read(8)).toEqual(Array.from(dev.rom));
  });

  it('does not take a short low pulse for a reset', () => {
    const dev = new Ds18b20();
    const { m } = setup([dev]);
    m.reset();
    // 460 µs is not a reset: no presence pulse follows.
    const short: Timing = { ...MICROPYTHON, resetLow: 460 };
    const m2 = new TestMaster(short);
    const bus = new OneWireBus().add(new Ds18b20());
    bus.connect(m2, m2.clock);
    expect(m2.reset()).toBe(false);
    expect(bus.stats.resets).toBe(0);
    expect(bus.stats.malformed).toBe(1);
  });

  for (const [name, timing] of [['MicroPython', MICROPYTHON], ['AN126', AN126]] as const) {
    it(`reads the ROM with READ ROM (${name} timing)`, () => {
      const dev = new Ds18b20({ serial: 0x1234_5678_9abc });
      const { m } = setup([dev], timing);
      expect(m.reset()).toBe(true);
      m.writeByte(CMD_READ_ROM);
      expect(m.read(8)).toEqual([0x28, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, dev.rom[7]]);
      expect(crc8(dev.rom)).toBe(0);
      // READ ROM selects the device: a function command may follow directly.
      m.writeByte(CMD_READ_SCRATCHPAD);
      const sp = m.read(9);
      expect(crc8(sp)).toBe(0);
      expect(sp[0]).toBe(0x50);
    });
  }

  it('decodes write-1 and write-0 slots by the low pulse width', () => {
    const dev = new Ds18b20();
    const { m } = setup([dev]);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_WRITE_SCRATCHPAD);
    m.write([0xa5, 0x5a, 0x1f]); // alternating bits
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_SCRATCHPAD);
    const sp = m.read(9);
    expect(sp.slice(2, 5)).toEqual([0xa5, 0x5a, 0x1f]);
    expect(crc8(sp)).toBe(0);
    expect(dev.commands).toEqual([CMD_WRITE_SCRATCHPAD, CMD_READ_SCRATCHPAD]);
  });

  it('holds a 0 only long enough: a read of 1 after a 0 sees the line high', () => {
    const { m } = setup([new Ds18b20({ serial: 0 })]);
    m.reset();
    m.writeByte(CMD_READ_ROM);
    // Family 0x28 = 0b00101000: bits LSB first 0,0,0,1,0,1,0,0.
    expect([m.readBit(), m.readBit(), m.readBit(), m.readBit(), m.readBit(), m.readBit()]).toEqual([0, 0, 0, 1, 0, 1]);
    // Between slots the line is released.
    expect(m.level).toBe(true);
  });
});

describe('coarse edge times (a board that advances its clock per CPU batch)', () => {
  // The first edge after an idle stretch may be time-stamped up to one batch (4096 cycles at
  // 125 MHz = 32.768 µs) before the instruction that made it; the program's own delays count from
  // that same early time, so its pulse looks one batch longer.
  const Q = 32.768;

  it('a read slot still sees the device 0, and a stretched write 1 is still a 1', () => {
    const dev = new Ds18b20({ serial: 0 });
    const { m, bus } = setup([dev]);
    m.reset();
    m.writeByte(CMD_READ_ROM);
    // Family 0x28: bit 0 is 0. The master's view: low 5 µs, release, sample 5 µs later — all one
    // batch after the time the bus recorded for the falling edge.
    const fall = () => m.drive(true);
    const release = () => m.drive(false);
    fall();
    m.wait(Q + 5);
    release();
    m.wait(5);
    expect(m.level).toBe(false); // the device still holds its 0
    m.wait(40);
    expect(m.level).toBe(true);
    // The remaining 63 ROM bits read normally.
    const bits = [0];
    for (let i = 1; i < 64; i++) bits.push(m.readBit());
    const rom = Array.from({ length: 8 }, (_, i) => bits.slice(i * 8, i * 8 + 8).reduce((a, b, j) => a | (b << j), 0));
    expect(rom).toEqual(Array.from(dev.rom));
    // A write 1 stretched to one batch decodes as 1: select by MATCH ROM with the first bit coarse.
    m.reset();
    m.writeByte(CMD_MATCH_ROM);
    m.write(dev.rom);
    fall(); // READ SCRATCHPAD = 0xBE: first bit 0 → a normal write-0
    m.wait(60);
    release();
    m.wait(10);
    for (let i = 1; i < 8; i++) {
      const bit = (CMD_READ_SCRATCHPAD >> i) & 1;
      fall();
      m.wait(bit ? Q : 60); // a 1 stretched to a whole batch
      release();
      m.wait(10);
    }
    expect(dev.commands).toEqual([CMD_READ_SCRATCHPAD]);
    expect(crc8(m.read(9))).toBe(0);
    expect(bus.stats.malformed).toBe(0);
  });
});

describe('fine time while the bus is active', () => {
  it('keeps a timer pending every microsecond from an edge until 5 ms of quiet', () => {
    const m = new TestMaster();
    let scheduled = 0;
    const counting = {
      get nanos() {
        return m.clock.nanos;
      },
      schedule: (d: number, cb: () => void) => {
        scheduled++;
        return m.clock.schedule(d, cb);
      },
    };
    const bus = new OneWireBus().add(new Ds18b20());
    bus.connect(m, counting);
    m.clock.advance(10 * MS);
    expect(scheduled).toBe(0); // an idle bus costs nothing
    m.reset(); // 960 µs of reset and presence
    const afterReset = scheduled;
    expect(afterReset).toBeGreaterThanOrEqual(960); // one per µs (+ the presence pulse)
    m.clock.advance(20 * MS);
    const settled = scheduled;
    // The chain ran about 5 ms past the last edge (the master's release at 480 µs), then stopped.
    expect(settled - afterReset).toBeGreaterThan(4_000);
    expect(settled - afterReset).toBeLessThan(5_000);
    m.clock.advance(20 * MS);
    expect(scheduled).toBe(settled);
  });
});

describe('DS18B20 commands', () => {
  it('CONVERT T: reads 0 while converting, 1 after tCONV of the resolution; READ SCRATCHPAD gives the quantised temperature', () => {
    const cases: [9 | 10 | 11 | 12, number, number][] = [
      [9, 93.75, 21.5],
      [10, 187.5, 21.25],
      [11, 375, 21.25],
      [12, 750, 21.3125],
    ];
    for (const [res, convMs, expected] of cases) {
      const dev = new Ds18b20({ temperature: constant(21.3), resolution: res });
      const { m } = setup([dev]);
      m.reset();
      m.writeByte(CMD_SKIP_ROM);
      m.writeByte(CMD_CONVERT_T);
      // The conversion starts when the command's last bit ends, 10 µs (the write recovery) ago.
      const start = m.clock.nanos - 10 * US;
      expect(m.readBit()).toBe(0);
      m.clock.advance(start + (convMs - 1) * MS - m.clock.nanos);
      expect(m.readBit()).toBe(0);
      m.clock.advance(start + convMs * MS - m.clock.nanos);
      expect(m.readBit()).toBe(1);
      m.reset();
      m.writeByte(CMD_SKIP_ROM);
      m.writeByte(CMD_READ_SCRATCHPAD);
      const sp = m.read(9);
      expect(crc8(sp)).toBe(0);
      expect(decode(sp[0]!, sp[1]!)).toBe(expected);
      expect(sp[4]).toBe(0x1f | ((res - 9) << 5));
    }
  });

  it('power-up scratchpad reads 85 °C with the factory EEPROM values', () => {
    const { m } = setup([new Ds18b20()]);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_SCRATCHPAD);
    expect(m.read(9)).toEqual([0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c]);
    // After the 9 bytes the device leaves the line alone.
    expect(m.readByte()).toBe(0xff);
  });

  it('samples the timeline at the end of the conversion', () => {
    const dev = new Ds18b20({ temperature: ramp({ from: 0, to: 100, end: 100 }) });
    const { m } = setup([dev]);
    m.clock.advance(10_000 * MS); // 10 s
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_CONVERT_T);
    const convEnd = m.clock.nanos + 750 * MS;
    m.clock.advance(800 * MS);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_SCRATCHPAD);
    const sp = m.read(9);
    expect(decode(sp[0]!, sp[1]!)).toBeCloseTo(convEnd / 1e9, 1); // 1 °C per second
  });

  it('WRITE/COPY SCRATCHPAD, RECALL E2 and READ POWER SUPPLY', () => {
    const dev = new Ds18b20({ temperature: constant(30) });
    const { m } = setup([dev]);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_WRITE_SCRATCHPAD);
    m.write([0x20, 0xf6, 0x3f]); // TH 32, TL -10, 10-bit
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_COPY_SCRATCHPAD);
    expect(m.readBit()).toBe(0); // EEPROM write in progress (10 ms)
    m.clock.advance(10 * MS);
    expect(m.readBit()).toBe(1);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_WRITE_SCRATCHPAD);
    m.write([0x7f, 0x80, 0x7f]); // config bit 7 is read-only 0
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_SCRATCHPAD);
    expect(m.read(5).slice(2)).toEqual([0x7f, 0x80, 0x7f]);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_RECALL_E2);
    expect(m.readBit()).toBe(1);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_SCRATCHPAD);
    expect(m.read(5).slice(2)).toEqual([0x20, 0xf6, 0x3f]);
    // 10-bit → conversion done after 187.5 ms.
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_CONVERT_T);
    const t0 = m.clock.nanos;
    m.clock.advance(187 * MS);
    expect(m.readBit()).toBe(0);
    m.clock.advance(t0 + 187.5 * MS - m.clock.nanos);
    expect(m.readBit()).toBe(1);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_READ_POWER_SUPPLY);
    expect(m.readBit()).toBe(1); // externally powered

    const p = setup([new Ds18b20({ parasite: true })]).m;
    p.reset();
    p.writeByte(CMD_SKIP_ROM);
    p.writeByte(CMD_READ_POWER_SUPPLY);
    expect(p.readBit()).toBe(0);
  });
});

describe('several devices on one bus', () => {
  const two = () => [new Ds18b20({ serial: 0x0000_0000_0005 }), new Ds18b20({ serial: 0x0000_0000_0003 })];

  it('SEARCH ROM sees a collision where two ROMs differ', () => {
    const { m } = setup(two());
    m.reset();
    m.writeByte(CMD_SEARCH_ROM);
    // Family 0x28 is shared: first bit 0 for both → (0, 1).
    expect([m.readBit(), m.readBit()]).toEqual([0, 1]);
  });

  it('search finds two devices', () => {
    const devs = two();
    const { m } = setup(devs);
    const found = m.search();
    expect(found.map((r) => Buffer.from(r).toString('hex')).sort()).toEqual(
      devs.map((d) => Buffer.from(d.rom).toString('hex')).sort(),
    );
  });

  it('search finds three devices, and each is addressed by MATCH ROM', () => {
    const devs = [
      new Ds18b20({ serial: 0x0102_0304_0506, temperature: constant(10) }),
      new Ds18b20({ serial: 0x0102_0304_0507, temperature: constant(20) }),
      new Ds18b20({ serial: 0xa0b0_c0d0_e0f0, temperature: constant(-5.5) }),
    ];
    const { m } = setup(devs);
    const found = m.search();
    expect(found).toHaveLength(3);
    expect(new Set(found.map((r) => Buffer.from(r).toString('hex')))).toEqual(
      new Set(devs.map((d) => Buffer.from(d.rom).toString('hex'))),
    );
    for (const r of found) expect(crc8(r)).toBe(0);
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_CONVERT_T);
    m.clock.advance(750 * MS);
    for (const d of devs) {
      m.reset();
      m.writeByte(CMD_MATCH_ROM);
      m.write(d.rom);
      m.writeByte(CMD_READ_SCRATCHPAD);
      const sp = m.read(9);
      expect(crc8(sp)).toBe(0);
      expect(decode(sp[0]!, sp[1]!)).toBe(d === devs[0] ? 10 : d === devs[1] ? 20 : -5.5);
    }
  });

  it('ALARM SEARCH finds only alarmed devices, and may answer nothing', () => {
    const hot = new Ds18b20({ serial: 1, temperature: constant(30), th: 25, tl: 0 });
    const ok = new Ds18b20({ serial: 2, temperature: constant(20), th: 25, tl: 0 });
    const { m } = setup([hot, ok]);
    expect(m.search(CMD_ALARM_SEARCH)).toEqual([]); // no conversion yet: no alarm
    m.reset();
    m.writeByte(CMD_SKIP_ROM);
    m.writeByte(CMD_CONVERT_T);
    m.clock.advance(750 * MS);
    const found = m.search(CMD_ALARM_SEARCH);
    expect(found.map((r) => Buffer.from(r).toString('hex'))).toEqual([Buffer.from(hot.rom).toString('hex')]);
  });
});

describe('on an rp2040js GPIO', () => {
  // SIO registers (datasheet §2.3.1.7), offsets from SIO_BASE.
  const GPIO_IN = 0x004;
  const GPIO_OUT_CLR = 0x018;
  const GPIO_OE_SET = 0x024;
  const GPIO_OE_CLR = 0x028;

  it('sees the firmware drive the pin through SIO and answers on its input', () => {
    const b = bareBoard();
    const pin = b.mcu.gpio[22]!;
    pin.ctrl = 5; // FUNCSEL = SIO
    pin.padValue = 0x40 | 0x08; // input enable, pull-up
    const bus = new OneWireBus({ pin: 22 }).add(new Ds18b20({ serial: 0x42 }));
    bus.attach(b.ctx);
    const bit = 1 << 22;
    const sio = b.mcu.sio;
    const low = () => sio.writeUint32(GPIO_OE_SET, bit);
    const release = () => sio.writeUint32(GPIO_OE_CLR, bit);
    const input = () => (sio.readUint32(GPIO_IN) & bit ? 1 : 0);
    sio.writeUint32(GPIO_OUT_CLR, bit);
    expect(input()).toBe(1);
    low();
    expect(input()).toBe(0);
    b.advance(480 * US);
    release();
    b.advance(70 * US);
    expect(input()).toBe(0); // presence
    b.advance(410 * US);
    expect(input()).toBe(1);
    const writeByte = (v: number) => {
      for (let i = 0; i < 8; i++) {
        low();
        b.advance(((v >> i) & 1 ? 10 : 60) * US);
        release();
        b.advance(10 * US);
      }
    };
    const readBit = () => {
      low();
      b.advance(5 * US);
      release();
      b.advance(5 * US);
      const v = input();
      b.advance(40 * US);
      return v;
    };
    writeByte(CMD_READ_ROM);
    let family = 0;
    for (let i = 0; i < 8; i++) family |= readBit() << i;
    expect(family).toBe(0x28);
    let serial0 = 0;
    for (let i = 0; i < 8; i++) serial0 |= readBit() << i;
    expect(serial0).toBe(0x42);
  });
});
