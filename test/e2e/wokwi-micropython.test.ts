/**
 * `picow-sim wokwi` on a MicroPython project written in Wokwi's formats (test/e2e/wokwi-fixtures/
 * mpy-project: diagram.json with an LED, buttons, a potentiometer, an NTC, a DHT22, a DS18B20, a
 * slide switch and a part we do not model; main.py; a scenario with every step kind). No
 * wokwi.toml: the firmware is PICOW_FIRMWARE, the .py files are copied to the board.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, freePort, runCli, startCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { parseVcd } from '../helpers/vcd.ts';

const firmware = e2eFirmware();
const PROJECT = join(import.meta.dirname, 'wokwi-fixtures/mpy-project');
const out = mkdtempSync(join(tmpdir(), 'wokwi-mp-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!firmware)('picow-sim wokwi: a MicroPython project', () => {
  it('runs the scenario with every step kind to the end (exit 0), and the VCD shows the pins', async () => {
    const vcdFile = join(out, 'run.vcd');
    const logFile = join(out, 'serial.log');
    const r = await runCli(
      ['wokwi', PROJECT, '--scenario', 'scenario.yaml', '--timeout', '120000', '--vcd-file', vcdFile, '--serial-log-file', logFile],
      240_000,
      { env: { PICOW_FIRMWARE: firmware! } },
    );
    expect(r.stderr).toContain('part servo1 (wokwi-servo) is not simulated');
    expect(r.stderr).toContain('copying 1 file to the board');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('[every step kind] Executing step: LED starts off');
    expect(r.stdout).toContain('[every step kind] delay 20ms');
    expect(r.stdout).toContain('[every step kind] expect-pin led1:A == 1');
    expect(r.stdout).toContain('[every step kind] Scenario completed successfully');
    // The bouncing button gave several falling edges, the one with bounce "0" exactly one.
    const edges = /edges (\d+) (\d+)/.exec(r.stdout);
    expect(Number(edges![1])).toBeGreaterThan(1);
    expect(Number(edges![2])).toBe(1);
    // Sensors as the firmware read them: potentiometer at 0.5 and NTC at 25 °C are mid-scale.
    expect(r.stdout).toContain('pot 2048 ntc 2048');
    expect(r.stdout).toContain('dht 21.5 60.5');
    expect(r.stdout).toContain('ds 1 31.25');
    expect(r.stdout).toContain('net 3 10.0.2.2');
    // The serial log has the program's bytes, without the scenario's lines.
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('project ready');
    expect(log).toContain('pot 2048 ntc 2048');
    expect(log).not.toContain('[every step kind]');

    const vcd = parseVcd(readFileSync(vcdFile, 'utf8'));
    expect(vcd.timescale).toBe('1ns');
    const gp14 = vcd.signals.get('pico.GP14')!;
    const gp13 = vcd.signals.get('pico.GP13')!;
    const led = vcd.signals.get('led1.A')!;
    const gp15 = vcd.signals.get('pico.GP15')!;
    // btn2 (no bounce): pulled up, pressed for 5 ms, released.
    const lows13 = gp13.filter((c) => c.value === '0' && c.time > 0);
    expect(lows13).toHaveLength(1);
    const up13 = gp13.find((c) => c.time > lows13[0]!.time)!;
    expect(up13.value).toBe('1');
    expect(up13.time - lows13[0]!.time).toBe(5_000_000);
    // btn1 bounced within 1 ms of its press; the LED behind the resistor follows GP15.
    const press = gp14.find((c) => c.value === '0' && c.time > 0)!;
    const bounce = gp14.filter((c) => c.time >= press.time && c.time <= press.time + 1_000_000);
    expect(bounce.length).toBeGreaterThan(4);
    const at = (sig: { time: number; value: string }[], t: number) => sig.filter((c) => c.time <= t).at(-1)!.value;
    const lit = led.filter((c) => c.value !== 'z');
    expect(lit.length).toBeGreaterThan(3);
    for (const c of lit) expect(at(gp15, c.time)).toBe(c.value);
    for (const c of gp15.filter((x) => x.time > lit[0]!.time)) expect(at(led, c.time)).toBe(c.value);
    expect(vcd.signals.get('dht1.SDA')!.length).toBeGreaterThan(80); // start pulse, response and 40 bits
    expect(vcd.signals.get('pico.LED')!.at(-1)!.value).toBe('1');
  });

  it('--interactive sends stdin to the REPL; --expect-text ends the run with exit 0', async () => {
    const r = await runCli(['wokwi', PROJECT, '--interactive', '--expect-text', 'answer 42', '--timeout', '60000', '-q'], 120_000, {
      env: { PICOW_FIRMWARE: firmware! },
      input: 'print("answer", 6 * 7)\r\n',
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('project ready');
    expect(r.stdout).toMatch(/\nanswer 42\r\n/);
    expect(r.stderr).toBe(''); // -q: warnings too are left out
  });

  it('wokwi.toml without a firmware: [[net.forward]] reaches a server on the board; rfc2217ServerPort is served', async () => {
    const dir = join(out, 'forward');
    cpSync(PROJECT, dir, { recursive: true });
    const port = await freePort();
    const serialPort = await freePort();
    writeFileSync(join(dir, 'wokwi.toml'), `[wokwi]\nversion = 1\nrfc2217ServerPort = ${serialPort}\n\n[[net.forward]]\nfrom = "localhost:${port}"\nto = "target:80"\n`);
    const child = startCli(['wokwi', dir, '--interactive', '--expect-text', 'served', '--timeout', '120000'], {
      env: { PICOW_FIRMWARE: firmware! },
      stdin: 'pipe',
    });
    child.stdin!.write('serve()\r\n');
    const run = collect(child, 'picow-sim wokwi (forward)', 180_000);
    let shown = '';
    await new Promise<void>((res) => child.stdout!.on('data', (b: Buffer) => ((shown += b.toString()), shown.includes('listening') && res())));
    const reply = await new Promise<string>((res, rej) => {
      let got = '';
      const s = connect(port, '127.0.0.1');
      s.on('data', (b) => (got += b.toString()));
      s.on('end', () => res(got));
      s.on('error', rej);
    });
    expect(reply).toBe('hello from the board\n');
    child.stdin!.end();
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`RFC 2217 server on rfc2217://localhost:${serialPort}`);
    expect(r.stdout).toContain('TEST PASSED.');
  });
});
