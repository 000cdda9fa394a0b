/**
 * The sensor models under the unmodified MicroPython firmware: machine.ADC(4) with the usual
 * conversion, ADC0 voltages, and the onewire/ds18x20 modules against DS18B20 devices on GP22.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { Ds18b20 } from '../../sim/sensors/ds18b20.ts';
import { OneWireBus } from '../../sim/sensors/onewire-bus.ts';
import { AdcSensors } from '../../sim/sensors/temperature-adc.ts';
import { constant, ramp } from '../../sim/sensors/timeline.ts';
import { bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
/** One ADC step in °C with the usual decode. */
const STEP_C = 3.3 / 4095 / 0.001721;

describe.skipIf(!fw)('sensors under the reference firmware', () => {
  let board: PicoWBoard;
  const adc = new AdcSensors({ temperature: constant(23.5), channels: [constant(1.2)] });
  const devices = [
    new Ds18b20({ serial: 0x0000_1122_3344, temperature: constant(21.3), resolution: 12 }),
    new Ds18b20({ serial: 0x0000_1122_3345, temperature: constant(-7.8), resolution: 9 }),
    new Ds18b20({ serial: 0x00a0_0000_0001, temperature: ramp({ from: 0, to: 100, end: 10_000 }), resolution: 11 }),
  ];
  const bus = new OneWireBus({ pin: 22 });
  for (const d of devices) bus.add(d);

  beforeAll(async () => {
    board = await bootToPrompt(fw!, { devices: [adc, bus] });
  }, 120_000);
  afterAll(() => board?.dispose());

  it('machine.ADC(4) decodes to the scenario temperature within one ADC step', async () => {
    const out = await runPy(
      board,
      'import machine\na=machine.ADC(4)\nv=a.read_u16()*3.3/65535\nprint(27-(v-0.706)/0.001721)\nprint(machine.ADC(0).read_u16())',
    );
    const [t, u16] = out.trim().split('\n').map(Number);
    expect(Math.abs(t! - 23.5)).toBeLessThanOrEqual(STEP_C);
    // 1.2 V → code round(1.2/3.3*4095) = 1489 → read_u16 = 1489<<4 | 1489>>8 = 23829
    expect(u16).toBe(23829);
  });

  it('onewire scan() finds every device and ds18x20 read_temp() gives the quantised temperatures', async () => {
    const out = await runPy(
      board,
      [
        'import machine, onewire, ds18x20, time, binascii',
        'ow=onewire.OneWire(machine.Pin(22))',
        'ds=ds18x20.DS18X20(ow)',
        'roms=ds.scan()',
        "print(sorted(binascii.hexlify(r).decode() for r in roms))",
        'ds.convert_temp()',
        'time.sleep_ms(750)',
        "for r in roms: print(binascii.hexlify(r).decode(), ds.read_temp(r))",
      ].join('\n'),
      120_000,
    );
    const lines = out.trim().split('\n');
    const hex = (d: Ds18b20) => Buffer.from(d.rom).toString('hex');
    expect(lines[0]).toBe(`[${devices.map((d) => `'${hex(d)}'`).sort().join(', ')}]`);
    const temps = new Map(lines.slice(1).map((l) => l.split(' ') as [string, string]));
    expect(Number(temps.get(hex(devices[0]!)))).toBe(21.3125); // 12-bit: 341/16
    expect(Number(temps.get(hex(devices[1]!)))).toBe(-8); // 9-bit: nearest 0.5 °C
    const rampNow = Number(temps.get(hex(devices[2]!)));
    expect(rampNow % 0.125).toBe(0); // 11-bit steps
    expect(rampNow).toBeGreaterThanOrEqual(0);
    expect(rampNow).toBeLessThan(5); // 1 °C per 100 s; the run is far below 500 s
  });
});
