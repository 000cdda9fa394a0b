import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { backToPrompt, bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

/** Evaluate Python expressions with CPython, rounded to IEEE single precision as a board has them. */
function cpythonF32(exprs: string[]): string[] {
  const script = `
import math, struct, sys
def f32(x):
    try:
        b = struct.pack('<f', x)
    except OverflowError:
        b = struct.pack('<f', math.copysign(math.inf, x))
    v = struct.unpack('<f', b)[0]
    if v != 0 and abs(v) < 2**-126:   # the RP2040 ROM flushes denormal results to signed zero
        v = math.copysign(0.0, v)
    return struct.pack('<f', v).hex()
for e in sys.stdin.read().split('\\n'):
    if e:
        print(f32(eval(e)))
`;
  return execFileSync('python3', ['-c', script], { input: exprs.join('\n') }).toString().trim().split('\n');
}

function ulpDiff(a: string, b: string): number {
  const fa = Buffer.from(a, 'hex').readInt32LE(0);
  const fb = Buffer.from(b, 'hex').readInt32LE(0);
  return Math.abs(fa - fb);
}

describe.skipIf(!fw)('reference firmware boots and computes', () => {
  let board: PicoWBoard;
  beforeAll(async () => {
    board = await bootToPrompt(fw!);
  }, 120_000);
  afterAll(() => board?.dispose());

  it('reaches the REPL of the RPI_PICO_W build', async () => {
    expect(board.output).toMatch(/MicroPython v\d+\.\d+/);
    expect(await runPy(board, 'import sys\nprint(sys.implementation._build)')).toBe('RPI_PICO_W\n');
  });

  it('does basic float arithmetic and math exactly as single precision (CPython as the reference)', async () => {
    // [python expression for CPython, micropython expression, allowed ulps]
    const cases: [string, string, number][] = [
      ['f(1.5)*f(2.25)', '1.5*2.25', 0],
      ['f(0.1)+f(0.2)', '0.1+0.2', 0],
      ['f(1.0)/f(3.0)', '1.0/3.0', 0],
      ['f(2.0)-f(0.7)', '2.0-0.7', 0],
      ['f(123456.789)*f(0.001)', '123456.789*0.001', 0],
      ['math.sin(f(0.5))', 'math.sin(0.5)', 1],
      ['math.cos(f(1.25))', 'math.cos(1.25)', 1],
      ['math.exp(f(2.5))', 'math.exp(2.5)', 1],
      ['math.log(f(10.0))', 'math.log(10.0)', 1],
      ['math.sqrt(f(2.0))', 'math.sqrt(2.0)', 0],
      ['math.pow(f(1.5), f(3.5))', 'math.pow(1.5, 3.5)', 1],
      ['math.atan2(f(1.0), f(-2.0))', 'math.atan2(1.0, -2.0)', 1],
      ['f(3.14159)', "float('3.14159')", 0],
      ['f(-2.5e-3)', "float('-2.5e-3')", 0],
      ['f(1e38)*f(10.0)', '1e38*10.0', 0],
      ['f(1e-30)*f(1e-10)', '1e-30*1e-10', 0],
      ['-f(1e38)*f(1e38)', '-1e38*1e38', 0],
      ['float(16777217)', 'float(16777217)', 0],
      ['float(-123456789)', 'float(-123456789)', 0],
    ];
    const expected = cpythonF32(cases.map(([py]) => py.replace(/f\(([^()]*)\)/g, 'struct.unpack("<f", struct.pack("<f", $1))[0]')));
    const code = ['import math, struct'].concat(cases.map(([, mp]) => `print(struct.pack('<f', ${mp}).hex())`)).join('\n');
    const got = (await runPy(board, code)).trim().split('\n');
    expect(got).toHaveLength(cases.length);
    cases.forEach(([, mp, ulps], i) => {
      expect({ expr: mp, ulps: ulpDiff(got[i]!, expected[i]!) <= ulps ? 'ok' : `${got[i]} vs ${expected[i]}` }).toEqual({
        expr: mp,
        ulps: 'ok',
      });
    });
  });

  it('formats and converts like CPython does for the same single-precision values', async () => {
    const got = (
      await runPy(
        board,
        [
          "print('%.6f' % 3.14159)",
          "print('%.3f' % -0.0627)",
          'print(repr(0.5), repr(-2.0), repr(1e10))',
          'print(int(3.7), int(-3.7), int(1e10), round(2.5), round(3.5))',
          'print(float(7) / 2, 7 // 2, -7 // 2)',
          "print(float('inf'), -float('inf'), float('1e39'))",
        ].join('\n'),
      )
    ).split('\n');
    const py = execFileSync('python3', [
      '-c',
      [
        'import struct',
        "f = lambda x: struct.unpack('<f', struct.pack('<f', x))[0]",
        "print('%.6f' % f(3.14159))",
        "print('%.3f' % f(-0.0627))",
        'print(repr(0.5), repr(-2.0), repr(1e10))',
        'print(int(f(3.7)), int(f(-3.7)), int(f(1e10)), round(2.5), round(3.5))',
        'print(float(7) / 2, 7 // 2, -7 // 2)',
        "print(float('inf'), -float('inf'), float('inf'))",
      ].join('\n'),
    ])
      .toString()
      .split('\n');
    expect(got.slice(0, 6)).toEqual(py.slice(0, 6));
  });

  it('has a stable unique_id, a running tick counter, sleep and Timer callbacks', async () => {
    const out = await runPy(
      board,
      [
        'import machine, time',
        'print(machine.unique_id().hex())',
        't0 = time.ticks_ms()',
        'time.sleep_ms(250)',
        'dt = time.ticks_diff(time.ticks_ms(), t0)',
        'print(250 <= dt < 300)',
        'n = [0]',
        'def tick(t):',
        '    n[0] += 1',
        'tim = machine.Timer(period=10, mode=machine.Timer.PERIODIC, callback=tick)',
        'time.sleep_ms(105)',
        'tim.deinit()',
        'print(9 <= n[0] <= 11)',
      ].join('\n'),
    );
    const [id, sleepOk, timerOk] = out.trim().split('\n');
    expect(id).toBe(Buffer.from(board.uniqueId).toString('hex'));
    expect(sleepOk).toBe('True');
    expect(timerOk).toBe('True');
  });

  it('fast-forwards a long sleep when no host I/O is pending', async () => {
    const wall0 = performance.now();
    const sim0 = board.clock.nanos;
    expect(await runPy(board, 'import time\ntime.sleep_ms(10000)\nprint("slept")')).toBe('slept\n');
    expect(board.clock.nanos - sim0).toBeGreaterThanOrEqual(10e9);
    expect(performance.now() - wall0).toBeLessThan(1000);
  });

  it('keeps simulated time to wall time while host I/O is pending', async () => {
    const token = board.hostIo.begin('test');
    try {
      const wall0 = performance.now();
      const sim0 = board.clock.nanos;
      expect(await runPy(board, 'import time\ntime.sleep_ms(300)\nprint("ok")')).toBe('ok\n');
      const simMs = (board.clock.nanos - sim0) / 1e6;
      const wallMs = performance.now() - wall0;
      expect(simMs).toBeGreaterThanOrEqual(300);
      expect(simMs).toBeLessThanOrEqual(wallMs + 5);
    } finally {
      token.release();
    }
  });

  it('keeps a file on the flash filesystem across soft reset and machine.reset()', async () => {
    await runPy(board, "f = open('keep.txt', 'w')\nf.write('persist 42')\nf.close()");
    const mark = board.output.length;
    board.writeConsole('\x04'); // soft reset at the friendly REPL
    await board.waitForOutput('>>> ', { from: mark });
    expect(await runPy(board, "print(open('keep.txt').read())")).toBe('persist 42\n');
    const resets: string[] = [];
    board.on('event', (e) => e.type === 'reset' && resets.push(e.reason));
    board.writeConsole("import machine; machine.reset()\r");
    const t0 = Date.now();
    while (!resets.length && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    expect(resets).toEqual(['watchdog']);
    await backToPrompt(board, 30_000);
    expect(await runPy(board, "import machine\nprint(open('keep.txt').read(), machine.reset_cause() == machine.WDT_RESET)")).toBe(
      'persist 42 True\n',
    );
  });
});
