/** The test API users import in their own suites, on one booted board. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroPythonError, PicoW } from '../../sim/index.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { DEFAULT_TRANSLATIONS_PER_WINDOW } from '../../sim/cpu/cache.ts';

const fw = e2eFirmware();

describe.skipIf(!fw)('PicoW test API', () => {
  let pico: PicoW;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'picow-api-'));
    pico = await PicoW.boot({
      firmware: fw!,
      files: { '/lib/helper.py': 'def twice(x):\n    return 2 * x\n' },
      aps: ['ApiNet:password1'],
      server: 0,
    });
  }, 120_000);
  afterAll(async () => {
    await pico?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('boots to the REPL and runs code', async () => {
    expect(pico.output).toMatch(/MicroPython v1\.28\.0 on .*; Raspberry Pi Pico W with RP2040/);
    expect(await pico.exec('from helper import twice\nprint(twice(21))')).toBe('42\n');
    expect(await pico.eval('len("héllo")')).toBe('5');
  });

  it('returns exceptions as MicroPythonError with the traceback', async () => {
    const err = await pico.exec('print("partial")\nimport json\njson.loads("{bad")').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroPythonError);
    const e = err as MicroPythonError;
    expect(e.type).toBe('ValueError');
    expect(e.traceback).toMatch(/^Traceback \(most recent call last\):\r\n  File "<stdin>", line 3, in <module>\r\nValueError: syntax error in JSON\r\n$/);
    expect(e.stdout).toBe('partial\r\n');
    const raw = await pico.execRaw('print(1)\nraise OSError(5)');
    expect(raw).toEqual({ stdout: '1\n', stderr: expect.stringMatching(/\nOSError: \[Errno 5\] EIO\n$/) as unknown as string });
  });

  it('uploads, lists, reads back and removes files (binary, subfolders)', async () => {
    const blob = new Uint8Array(1500).map((_, i) => (i * 97) & 0xff);
    writeFileSync(join(dir, 'blob.bin'), blob);
    await pico.upload(join(dir, 'blob.bin'), '/data/deep/blob.bin');
    expect(await pico.readFile('/data/deep/blob.bin')).toEqual(blob);
    expect(await pico.listFiles('/data', { recursive: true })).toEqual([
      { path: '/data/deep', name: 'deep', type: 'dir', size: 0 },
      { path: '/data/deep/blob.bin', name: 'blob.bin', type: 'file', size: 1500 },
    ]);
    await pico.remove('/data', { recursive: true });
    expect((await pico.listFiles('/')).map((f) => f.name)).not.toContain('data');
  });

  it('runs a file, and a main.py whose output it waits for', async () => {
    const script = join(dir, 'count.py');
    writeFileSync(script, 'for i in range(3):\n    print("n", i)\n');
    expect(await pico.run(script)).toBe('n 0\nn 1\nn 2\n');

    const main = join(dir, 'main.py');
    writeFileSync(main, 'import time\nfor i in range(3):\n    print("step", i)\n    time.sleep_ms(10)\nraise RuntimeError("finished badly")\n');
    await pico.runMain(main);
    expect(await pico.waitForOutput('step 1', { timeout: 30_000 })).toMatch(/step 0\r\nstep 1$/);
    expect(await pico.waitForOutput(/step \d/, { timeout: 30_000 })).toMatch(/step 2$/);
    const end = await pico.waitForMainEnd({ timeout: 30_000 }).catch((e: unknown) => e);
    expect(end).toBeInstanceOf(MicroPythonError);
    expect((end as MicroPythonError).type).toBe('RuntimeError');
    // the console log has the program's output but not the raw REPL traffic
    expect(pico.output).toContain('step 2\r\n');
    expect(pico.output).not.toContain('raw REPL');
    // and the REPL is usable again afterwards
    expect(await pico.exec('print("back")')).toBe('back\n');
  });

  it('joins the configured access point and reaches the embedded echo server', async () => {
    const port = pico.serverPort;
    expect(port).toBeGreaterThan(0);
    const out = await pico.exec(
      [
        'import network, time, urequests',
        'w = network.WLAN(network.STA_IF)',
        'w.active(True)',
        'w.connect("ApiNet", "password1")',
        'while w.status() not in (3, -1, -2, -3):',
        '    time.sleep_ms(50)',
        'print(w.status())',
        `print(urequests.post("http://10.0.2.2:${port}/", data="from the test").text)`,
      ].join('\n'),
      { timeout: 60_000 },
    );
    expect(out).toBe('3\nThis is a POST request. Received: from the test\n');
  });

  it('fails waitForOutput with a clear timeout', async () => {
    const err = await pico.waitForOutput('never printed', { timeout: 300 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out after 300 ms waiting for never printed/);
  });

  it('passes hotThreshold and warmupCycles to the jit: translated at once with 1, never with a threshold no block reaches or before the warm-up ends', async () => {
    const translations = async (hotThreshold: number, warmupCycles = 0): Promise<number> => {
      const p = await PicoW.boot({ firmware: fw!, hotThreshold, warmupCycles });
      try {
        return p.board.cpuStats().reduce((a, st) => a + st.translations, 0);
      } finally {
        await p.dispose();
      }
    };
    expect(await translations(2 ** 30)).toBe(0);
    // The boot takes about 12 M cycles: a warm-up longer than that leaves all of it to the interpreter.
    expect(await translations(1, 40_000_000)).toBe(0);
    // With 1, every block is hot at once: the translation budget of each window is used up.
    expect(await translations(1)).toBeGreaterThanOrEqual(2 * DEFAULT_TRANSLATIONS_PER_WINDOW);
  }, 120_000);
});
