/**
 * pico-examples' `picow_blink` (a C SDK program, `pico_cyw43_arch_none`): `cyw43_arch_init`, then
 * the LED on CYW43 GPIO 0 on for 250 ms, off for 250 ms, forever. Checked through the board's
 * event emitter and through `picow-sim --trace led`.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import type { BoardEvent } from '../../sim/board/device.ts';
import { Cyw43439 } from '../../sim/cyw43/chip.ts';
import { VirtualRadio } from '../../sim/cyw43/radio.ts';
import { cSdkProgram, e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const blink = fw ? cSdkProgram('picow_blink.uf2') : null;
const ROOT = resolve(import.meta.dirname, '../..');

interface Led {
  on: boolean;
  nanos: number;
}

let board: PicoWBoard | null = null;
afterEach(() => {
  board?.dispose();
  board = null;
});

describe.skipIf(!blink)('picow_blink (C SDK) on the simulated Pico W', () => {
  it('toggles the LED at least 4 times in one simulated second, every 250 ms', async () => {
    const chip = new Cyw43439({ radio: new VirtualRadio() });
    board = await PicoWBoard.create({ firmware: blink!, devices: [chip] });
    const leds: Led[] = [];
    const b = board;
    const eightChanges = new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`only ${leds.length} LED changes after 90 s of wall time: ${JSON.stringify(leds)}; console ${JSON.stringify(b.output)}`)), 90_000);
      b.on('event', (e: BoardEvent) => {
        if (e.type === 'led') {
          leds.push({ on: e.on, nanos: e.nanos });
          if (leds.length === 8) {
            clearTimeout(t);
            b.stop();
            res();
          }
        } else if (e.type === 'halt' || e.type === 'fault' || e.type === 'bootsel') {
          clearTimeout(t);
          rej(new Error(`the board stopped: ${JSON.stringify(e)}`));
        }
      });
    });
    board.start();
    await eightChanges;
    // The program writes 1, then 0, then 1, ...: each write is a change.
    expect(leds.map((l) => l.on)).toEqual([true, false, true, false, true, false, true, false]);
    const first = leds[0]!.nanos;
    const inOneSecond = leds.filter((l) => l.nanos >= first && l.nanos < first + 1e9);
    expect(inOneSecond.length).toBeGreaterThanOrEqual(4);
    // sleep_ms(250) between the writes; a gSPI write of the GPIO iovar takes well under 10 ms.
    for (let i = 1; i < leds.length; i++) {
      const ms = (leds[i]!.nanos - leds[i - 1]!.nanos) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(260);
    }
    // cyw43_arch_init (firmware download, clocks) comes first, in simulated time.
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(5e9);
    // The chip keeps the same history.
    expect(chip.ledHistory.slice(0, 8)).toEqual(leds);
  }, 120_000);

  it('picow-sim --trace led shows the changes with simulated times; --timeout ends the run with exit 1', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sim/cli.ts'), '--firmware', blink!, '--trace', 'led', '--no-server', '--timeout', '25'],
      { cwd: ROOT, env: { ...process.env, PICOW_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((res, rej) => {
      const t = setTimeout(() => {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
        rej(new Error(`picow-sim did not stop on --timeout 25; stderr ${JSON.stringify(stderr)}`));
      }, 70_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        res(c);
      });
    });
    expect(code).toBe(1);
    // picow_blink prints nothing when cyw43_arch_init succeeds.
    expect(stdout).toBe('');
    expect(stderr).toMatch(/\npicow-sim: timed out after 25 s\n$/);
    // Each change is traced once, with its simulated time, on and off in turn 250 ms apart.
    const changes = [...stderr.matchAll(/^\[led\] .*?(\d+\.\d{6}) ?s.*?\b(on|off)\b.*$/gm)].map((m) => ({ s: Number(m[1]), on: m[2] === 'on', line: m[0] }));
    expect(changes.length, stderr).toBeGreaterThanOrEqual(2);
    const times = changes.map((c) => c.s);
    expect(new Set(times).size, `each LED change should be traced once:\n${changes.map((c) => c.line).join('\n')}`).toBe(times.length);
    for (let i = 0; i < changes.length; i++) {
      expect(changes[i]!.on).toBe(i % 2 === 0);
      if (i > 0) expect(changes[i]!.s - changes[i - 1]!.s).toBeCloseTo(0.25, 1);
    }
  }, 90_000);
});
