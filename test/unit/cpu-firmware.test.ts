/**
 * The reference MicroPython firmware on the Pico W board with each CPU engine in the board's
 * quantum loop (`tickClock: false`): boot and a workload in check mode with no
 * divergence, and identical interrupt timing between `interp` and `jit`.
 * Needs a firmware (PICOW_FIRMWARE); skipped otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import { formatCpuStats } from '../../sim/cpu/engine.ts';
import { Cyw43439 } from '../../sim/cyw43/chip.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { JOIN_PICOW_SIM, backToPrompt, bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();


/** Record (nanos, return PC, exception number) at every exception entry of core 0. */
function recordExceptions(board: PicoWBoard, log: string[]): void {
  const core = board.mcu.core;
  const entry = core.exceptionEntry.bind(core);
  core.exceptionEntry = (n: number): void => {
    log.push(`${board.clock.nanos}:${(core.PC >>> 0).toString(16)}:${n}`);
    entry(n);
  };
}

describe.skipIf(!fw)('reference firmware on the CPU engines', () => {
  const boards: PicoWBoard[] = [];
  afterAll(() => boards.forEach((b) => b.dispose()));

  it('interp and jit take the same interrupts at the same simulated times during boot', async () => {
    const logs: Record<string, string[]> = {};
    const regs: Record<string, string> = {};
    // jit: translate early, so that much of boot runs translated; table: only the jit engine's
    // table interpreter runs (a warm-up longer than the run, before any board of this file has
    // translated anything: a warm-up takes the translations the process keeps, block-library.ts).
    const runs = [
      { name: 'interp', cpu: 'interp', warmupCycles: 0 },
      { name: 'table', cpu: 'jit', warmupCycles: 1e12 },
      { name: 'jit', cpu: 'jit', warmupCycles: 0 },
    ] as const;
    for (const run of runs) {
      const board = await PicoWBoard.create({ firmware: fw!, cpu: run.cpu, hotThreshold: 64, warmupCycles: run.warmupCycles });
      boards.push(board);
      const log: string[] = [];
      recordExceptions(board, log);
      await board.runFor(150_000_000); // 150 ms of simulated time: clocks, USB, timers
      logs[run.name] = log;
      const stats = board.cpuStats();
      const translated = stats.reduce((a, st) => a + st.translatedInstructions, 0);
      if (run.name === 'jit') expect(translated).toBeGreaterThan(100_000);
      if (run.name === 'table') expect(translated).toBe(0);
      regs[run.name] = Array.from(board.mcu.core.registers).join(',') + ` @${board.clock.nanos} cycles ${board.mcu.core.cycles}`;
      board.dispose();
    }
    expect(logs.interp.length).toBeGreaterThan(10);
    expect(logs.jit).toEqual(logs.interp);
    expect(regs.jit).toEqual(regs.interp);
    expect(logs.table).toEqual(logs.interp);
    expect(regs.table).toEqual(regs.interp);
  }, 180_000);

  it('boots to the REPL and runs a workload in check mode with zero divergences', async () => {
    const board = await PicoWBoard.create({ firmware: fw!, cpu: 'check' });
    boards.push(board);
    const b2 = await backToPrompt(board, 240_000);
    const out = await runPy(
      b2,
      [
        'import math, time, _thread',
        'from machine import Timer',
        's = 0',
        'for i in range(2000):',
        '    s += i * i % 7',
        'print(s)',
        'f = 0.0',
        'for i in range(300):',
        '    f += math.sin(i * 0.01) * 1.5',
        "print('%.4f' % f)",
        "print(','.join(str(x) for x in sorted([5, 3, 9, 1])) + 'abc'.upper() * 2)",
        'ticks = []',
        't = Timer(period=5, callback=lambda t: ticks.append(1))',
        'time.sleep_ms(60)',
        't.deinit()',
        'print(len(ticks) >= 8)',
        'done = []',
        'def worker(n, out):',
        '    out.append(sum(range(n)))',
        '_thread.start_new_thread(worker, (500, done))',
        'time.sleep_ms(50)',
        'print(done)',
      ].join('\n'),
      120_000,
    );
    const s = [...Array(2000).keys()].reduce((a, i) => a + ((i * i) % 7), 0);
    expect(out.split('\n')[0]).toBe(String(s));
    expect(out).toContain('1,3,5,9ABCABC');
    expect(out).toContain('True');
    expect(out).toContain('[124750]');
    const stats = board.cpuStats();
    for (const st of stats) console.log(formatCpuStats(st));
    expect(stats.reduce((a, s2) => a + s2.checkedBlocks, 0)).toBeGreaterThan(10_000);
  }, 300_000);

  it('joins Wi-Fi in check mode with zero divergences, a Timer blinking the LED and a thread computing', async () => {
    const chip = new Cyw43439({ identity: 'cpu-check-wifi' });
    const board = await PicoWBoard.create({ firmware: fw!, cpu: 'check', devices: [chip] });
    boards.push(board);
    const net = new VirtualNetwork({ clock: board.clock, hostIo: board.hostIo });
    net.attach(chip.port);
    try {
      await backToPrompt(board, 240_000);
      const out = await runPy(
        board,
        [
          'import _thread',
          'from machine import Pin, Timer',
          'led = Pin("LED", Pin.OUT)',
          't = Timer(period=20, callback=lambda t: led.toggle())',
          'done = []',
          'def worker(n, out):',
          '    out.append(sum(i * i for i in range(n)))',
          '_thread.start_new_thread(worker, (3000, done))',
          JOIN_PICOW_SIM,
          't.deinit()',
          'print(w.status(), w.ifconfig()[0], done)',
        ].join('\n'),
        240_000,
      );
      const sq = [...Array(3000).keys()].reduce((a, i) => a + i * i, 0);
      // (The driver may print a line of its own first.)
      expect(out).not.toContain('Traceback');
      expect(out.trim().split('\n').pop()).toBe(`3 10.0.2.15 [${sq}]`);
      const stats = board.cpuStats();
      for (const st of stats) console.log(formatCpuStats(st));
      expect(stats.reduce((a, s2) => a + s2.checkedBlocks, 0)).toBeGreaterThan(10_000);
    } finally {
      await net.close();
    }
  }, 400_000);
});

void bootToPrompt;
