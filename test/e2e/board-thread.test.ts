import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

/** Run the lines inside a function: no REPL echo of expression values, no globals shared with threads. */
function wrap(lines: string[]): string {
  return ['def __t():', ...lines.map((l) => '    ' + l), '__t()'].join('\n');
}

describe.skipIf(!fw)('_thread on core 1', () => {
  let board: PicoWBoard;
  beforeAll(async () => {
    board = await bootToPrompt(fw!);
  }, 120_000);
  afterAll(() => board?.dispose());

  it('runs a thread on core 1 that makes progress while core 0 sleeps and while it computes', async () => {
    const out = await runPy(
      board,
      wrap([
        'import _thread, time, machine',
        'state = {"n": 0, "core": None, "stop": False}',
        'def worker():',
        '    import machine',
        '    state["core"] = machine.mem32[0xd0000000]',
        '    while not state["stop"]:',
        '        state["n"] += 1',
        '_thread.start_new_thread(worker, ())',
        'time.sleep_ms(50)',
        'a = state["n"]',
        'time.sleep_ms(50)',
        'b = state["n"]',
        'x = 0',
        'for i in range(3000):',
        '    x += i * i',
        'c = state["n"]',
        'state["stop"] = True',
        'time.sleep_ms(20)',
        'print(state["core"], a > 0, b > a, c > b, x)',
      ]),
    );
    expect(out.trim()).toBe(`1 True True True ${Array.from({ length: 3000 }, (_, i) => i * i).reduce((s, v) => s + v, 0)}`);
    expect(board.multicore?.core1Active).toBe(true);
  });

  it('hands a lock back and forth between the cores', async () => {
    const out = await runPy(
      board,
      wrap([
        'import _thread, time',
        'lock = _thread.allocate_lock()',
        'log = []',
        'done = _thread.allocate_lock()',
        'done.acquire()',
        'def worker():',
        '    for i in range(5):',
        '        with lock:',
        '            log.append("c1")',
        '        time.sleep_ms(3)',
        '    done.release()',
        'lock.acquire()',
        '_thread.start_new_thread(worker, ())',
        'time.sleep_ms(10)',
        'log.append("c0-holding")',
        'lock.release()',
        'for i in range(5):',
        '    time.sleep_ms(2)',
        '    with lock:',
        '        log.append("c0")',
        'done.acquire()',
        'print(log[0], log.count("c1"), log.count("c0"))',
      ]),
    );
    expect(out.trim()).toBe('c0-holding 5 5');
  });

  it('keeps the filesystem intact when core 0 writes files while core 1 runs', async () => {
    const out = await runPy(
      board,
      wrap([
        'import _thread, time, os',
        'state = {"n": 0, "stop": False}',
        'def worker():',
        '    while not state["stop"]:',
        '        state["n"] += 1',
        '        time.sleep_ms(1)',
        '_thread.start_new_thread(worker, ())',
        'for i in range(4):',
        '    with open("t%d.txt" % i, "w") as f:',
        '        f.write("payload-%d-" % i * 50)',
        'state["stop"] = True',
        'time.sleep_ms(10)',
        'ok = all(open("t%d.txt" % i).read() == "payload-%d-" % i * 50 for i in range(4))',
        'for i in range(4):',
        '    os.remove("t%d.txt" % i)',
        'print(ok, state["n"] > 0)',
      ]),
    );
    expect(out.trim()).toBe('True True');
  });

  it('prints the traceback of a thread that raises and keeps running', async () => {
    const mark = board.output.length;
    const out = await runPy(
      board,
      wrap([
        'import _thread, time',
        'def bad():',
        '    raise ValueError("boom in thread")',
        '_thread.start_new_thread(bad, ())',
        'time.sleep_ms(50)',
        'print("still alive", 6 * 7)',
      ]),
    );
    expect(out).toContain('still alive 42');
    expect(board.output.slice(mark)).toMatch(/ValueError: boom in thread/);
  });

  it('soft-resets while a thread runs (core 1 is reset into the ROM pen) and starts threads again', async () => {
    await runPy(
      board,
      wrap(['import _thread, time', 'def spin():', '    while True:', '        time.sleep_ms(1)', '_ = _thread.start_new_thread(spin, ())']),
    );
    const mark = board.output.length;
    board.writeConsole('\x04');
    await board.waitForOutput('>>> ', { from: mark, timeoutMs: 20_000 });
    const out = await runPy(
      board,
      wrap(['import _thread, time', 'r = []', '_ = _thread.start_new_thread(lambda: r.append(7), ())', 'time.sleep_ms(20)', 'print(r)']),
    );
    expect(out.trim()).toBe('[7]');
  });
});
