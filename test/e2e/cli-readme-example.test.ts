// The README's test API example, verbatim except for the skip when no firmware is configured.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroPythonError, PicoW } from 'picow-sim';
import { e2eFirmware } from '../helpers/firmware.ts';

const mainPy = join(tmpdir(), `readme-main-${process.pid}.py`);
writeFileSync(mainPy, 'import time\nfor i in range(3):\n    print("blink", i)\n    time.sleep(0.5)\nprint("done")\n');

describe.skipIf(!e2eFirmware())('my board code', () => {
  let pico: PicoW;
  beforeAll(async () => {
    pico = await PicoW.boot(); // firmware from PICOW_FIRMWARE or the cache
  }, 120_000);
  afterAll(async () => {
    await pico?.dispose();
    rmSync(mainPy, { force: true });
  });

  it('computes on the board', async () => {
    expect(await pico.exec('print(6 * 7)')).toBe('42\n');
  });

  it('reports exceptions with their traceback', async () => {
    const err = await pico.exec('1 / 0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroPythonError);
    expect((err as MicroPythonError).type).toBe('ZeroDivisionError');
  });

  it('runs main.py and waits for its output', async () => {
    await pico.runMain(mainPy);
    await pico.waitForOutput('blink 2', { timeout: 30_000 });
    await pico.waitForMainEnd({ timeout: 30_000 });
    expect(pico.output).toContain('done');
  });
});
