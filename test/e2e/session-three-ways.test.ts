/**
 * One script, started the three ways a user can (the command line, `--scenario`, the test API's
 * `PicoW.boot`), sees the same board: the same Wi-Fi MAC, DHCP address, sensor readings and
 * output — all three build their world through the session layer (sim/session).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoW } from '../../sim/index.ts';
import { JOIN_PICOW_SIM } from '../helpers/board.ts';
import { runCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

/** Joins the default AP, then prints what identifies the board and what its sensors read. */
const SCRIPT = `${JOIN_PICOW_SIM}import machine, onewire, ds18x20
print('MAC', ':'.join('%02x' % b for b in w.config('mac')))
print('IP', w.ifconfig()[0])
print('ADC4', machine.ADC(4).read_u16() >> 4)
ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(22)))
roms = ds.scan()
print('ROMS', ' '.join(bytes(r).hex() for r in roms))
ds.convert_temp()
time.sleep_ms(750)
print('DS', ' '.join(str(ds.read_temp(r)) for r in roms))
print('DONE')
`;

const SCENARIO = `name: three ways
script: three.py
timeout: 2min
servers:
  - port: 0
expect:
  - name: done
    serial: DONE
`;

/** The lines the script prints, in order (other console text, and a prompt before the first, left out). */
function report(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^(>>> )+/, ''))
    .filter((l) => /^(MAC|IP|ADC4|ROMS|DS) /.test(l))
    .map((l) => l.trimEnd());
}

describe.skipIf(!fw)('one script, three ways to start it', () => {
  let dir = '';
  let script = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'picow-three-'));
    script = join(dir, 'three.py');
    writeFileSync(script, SCRIPT);
    writeFileSync(join(dir, 'three.yaml'), SCENARIO);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same MAC, address, sensor readings and output', async () => {
    const byCli = await runCli([script, '--expect', 'DONE', '--timeout', '120', '--server-port', '0', '--quiet'], 150_000, {
      env: { PICOW_FIRMWARE: fw! },
    });
    expect(byCli.stderr).toBe('');
    expect(byCli.code).toBe(0);

    const byScenario = await runCli(['--scenario', join(dir, 'three.yaml'), '--quiet'], 150_000, { env: { PICOW_FIRMWARE: fw! } });
    expect(byScenario.code, byScenario.stderr).toBe(0);

    const pico = await PicoW.boot({ firmware: fw!, server: 0 });
    let byApi: string;
    try {
      await pico.runMain(script);
      byApi = await pico.waitForOutput('DONE', { timeout: 120_000 });
    } finally {
      await pico.dispose();
    }

    const cli = report(byCli.stdout);
    expect(cli.map((l) => l.split(' ')[0])).toEqual(['MAC', 'IP', 'ADC4', 'ROMS', 'DS']);
    // The board identity `picow`: a locally administered MAC, the first DHCP address.
    expect(cli[0]).toMatch(/^MAC ([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(parseInt(cli[0]!.slice(4, 6), 16) & 0x02).toBe(0x02);
    expect(cli[1]).toBe('IP 10.0.2.15');
    expect(cli[3]).toMatch(/^ROMS 28[0-9a-f]{14}$/);
    expect(report(byScenario.stdout)).toEqual(cli);
    expect(report(byApi), JSON.stringify(byApi)).toEqual(cli);
  }, 480_000);
});
