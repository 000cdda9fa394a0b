/**
 * CPU engine benchmark: simulated time ÷ wall time (1.0 = a real 125 MHz Pico W) for each engine
 * side by side, the speed-up of `jit` over `interp`, and the translation cache's size.
 *  - synthetic: Thumb loops assembled into SRAM of a bare RP2040 (no firmware needed);
 *  - board (with a firmware): boot to `>>>`, the integer loop and the float loop of bench/board.ts.
 * Run alone: `npx tsx bench/cpu.ts [firmware.uf2]`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RP2040 } from 'rp2040js';
import type { PicoWBoard } from '../sim/board/picow.ts';
import { createCpuEngine, formatCpuStats, noteDefaultHooks, type CpuEngineKind, type CpuEngineStats } from '../sim/cpu/engine.ts';
import { pasteRun as runPy } from '../sim/repl/board-link.ts';
import { bootBoard } from '../sim/session/program.ts';
import { FLOAT_LOOP, INT_LOOP } from './board.ts';
import { median } from './median.ts';

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** Thumb programs (halfwords) placed at 0x20000000; each loops forever. */
const SYNTHETIC: Record<string, number[]> = {
  // movs r0, #0; ldr r1, =0x20001000; loop: ldr r2, [r1]; adds r2, r2, r0; str r2, [r1];
  // lsls r3, r2, #3; eors r0, r3; adds r0, #1; b loop; nop; .word 0x20001000
  'integer + memory loop': [0x2000, 0x4904, 0x680a, 0x1812, 0x600a, 0x00d3, 0x4058, 0x3001, 0xe7f8, 0xbf00, 0x1000, 0x2000],
  // loop: bl f; adds r4, #1; b loop; nop; f: push {r4, lr}; movs r4, #3; muls r4, r4; pop {r4, pc}
  'call/return loop': [0xf000, 0xf803, 0x3401, 0xe7fb, 0xbf00, 0xb510, 0x2403, 0x4364, 0xbd10],
};

function syntheticRatio(kind: CpuEngineKind, code: number[], cycles: number): { ratio: number; stats: CpuEngineStats } {
  const m = new RP2040();
  noteDefaultHooks(m.core);
  (m as unknown as { logger: typeof QUIET }).logger = QUIET;
  for (let i = 0; i < code.length; i++) {
    m.sram[2 * i] = code[i]! & 0xff;
    m.sram[2 * i + 1] = code[i]! >> 8;
  }
  m.core.registers[15] = 0x20000000;
  m.core.registers[13] = 0x20040000;
  const e = createCpuEngine(kind, m);
  const t0 = performance.now();
  let done = 0;
  while (done < cycles) done += e.run(100_000);
  const wall = performance.now() - t0;
  return { ratio: done / 125e6 / (wall / 1000), stats: e.stats() };
}

async function bootWith(firmware: string, kind: CpuEngineKind): Promise<{ board: PicoWBoard; wallMs: number; simMs: number }> {
  const wall0 = performance.now();
  const board = await bootBoard({ firmware, cpu: kind }, 600_000);
  return { board, wallMs: performance.now() - wall0, simMs: board.clock.nanos / 1e6 };
}

async function loopRatio(board: PicoWBoard, code: string): Promise<number> {
  const sim0 = board.clock.nanos;
  const wall0 = performance.now();
  await runPy(board, code, 900_000);
  return (board.clock.nanos - sim0) / 1e6 / (performance.now() - wall0);
}

/** What one fresh process measures for one engine (see engineRun). */
interface EngineRun {
  bootMs: number;
  bootSimMs: number;
  /** First run of each loop in the process, then (jit) a second run: translated and optimized. */
  int: number;
  flt: number;
  intAgain: number | null;
  fltAgain: number | null;
  /** The process's peak resident memory (MB): one board that booted and ran the loops. */
  maxRssMb: number;
  stats: CpuEngineStats[];
}

/**
 * In a child process: boot with `kind`, run the loops (the float loop first with `floatFirst`:
 * a loop's first run in a fresh process is what `picow-sim script.py` shows, and the loop run
 * before it would have warmed up the interpreter's common code), print the result as JSON.
 */
async function engineRun(firmware: string, kind: CpuEngineKind, floatFirst: boolean): Promise<EngineRun> {
  const { board, wallMs, simMs } = await bootWith(firmware, kind);
  const twice = async (code: string): Promise<[number, number | null]> => [await loopRatio(board, code), kind === 'interp' ? null : await loopRatio(board, code)];
  let int: [number, number | null];
  let flt: [number, number | null];
  if (floatFirst) {
    flt = await twice(FLOAT_LOOP);
    int = await twice(INT_LOOP);
  } else {
    int = await twice(INT_LOOP);
    flt = await twice(FLOAT_LOOP);
  }
  const stats = board.cpuStats();
  board.dispose();
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  return { bootMs: wallMs, bootSimMs: simMs, int: int[0], flt: flt[0], intAgain: int[1], fltAgain: flt[1], maxRssMb, stats };
}

/**
 * Each engine runs in fresh Node processes, as a user's `npm run sim --cpu …` does: in one process
 * the boards of both engines would share V8's compiled code and type feedback, which slowed
 * whichever ran second (the interpreter's integer loop came out at 0.21×, against 0.32–0.38× alone).
 */
function spawnEngineRun(firmware: string, kind: CpuEngineKind, floatFirst = false): EngineRun {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), firmware], {
    env: { ...process.env, [ENGINE_ENV]: kind, [FLOAT_FIRST_ENV]: floatFirst ? '1' : '' },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`bench cpu: the ${kind} run failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return JSON.parse(line) as EngineRun;
}

const FLOAT_FIRST_ENV = 'PICOW_BENCH_CPU_FLOAT_FIRST';
const ENGINE_ENV = 'PICOW_BENCH_CPU_ENGINE';
/** Fresh processes per engine (alternating): boot and loop figures are their medians. */
const ROUNDS = 3;

const x = (n: number): string => `${n.toFixed(2)}×`;
/** One row of issue #26's table: what a user does, now, before, target. */
const issueRow = (what: string, now: string, before: string, target: string, met: boolean): string =>
  `  ${what}: ${now} (before ${before}; target ${target}${met ? '' : ', MISSED'})`;

export async function benchCpu(firmware?: string): Promise<string[]> {
  const lines: string[] = [];
  const kinds: CpuEngineKind[] = ['interp', 'jit'];
  for (const [name, code] of Object.entries(SYNTHETIC)) {
    const r = kinds.map((k) => syntheticRatio(k, code, k === 'interp' ? 20e6 : 200e6));
    lines.push(`synthetic ${name}: interp ${x(r[0]!.ratio)} real time, jit ${x(r[1]!.ratio)}, speed-up ${x(r[1]!.ratio / r[0]!.ratio)}`);
  }
  if (!firmware) {
    lines.push('board sections skipped: no firmware');
    return lines;
  }
  // jit processes run the integer loop first; jitF the float loop first (for its first-run figure).
  const runs: Record<string, EngineRun[]> = { interp: [], jit: [], jitF: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.interp!.push(spawnEngineRun(firmware, 'interp'));
    runs.jit!.push(spawnEngineRun(firmware, 'jit'));
    runs.jitF!.push(spawnEngineRun(firmware, 'jit', true));
  }
  const med = (k: string, f: (r: EngineRun) => number | null): number => median(runs[k]!.map((r) => f(r) ?? NaN));
  const i = { boot: med('interp', (r) => r.bootMs), sim: med('interp', (r) => r.bootSimMs), int: med('interp', (r) => r.int), flt: med('interp', (r) => r.flt) };
  const j = {
    boot: median([...runs.jit!, ...runs.jitF!].map((r) => r.bootMs)),
    sim: med('jit', (r) => r.bootSimMs),
    int: med('jit', (r) => r.int),
    flt: med('jitF', (r) => r.flt),
    int2: med('jit', (r) => r.intAgain),
    flt2: med('jitF', (r) => r.fltAgain),
    rss: med('jit', (r) => r.maxRssMb),
    stats: runs.jit![runs.jit!.length - 1]!.stats,
  };
  lines.push(`(each engine in ${ROUNDS} fresh processes, alternating — jit twice, one with the integer loop first, one with the float loop first; medians)`);
  lines.push(`boot to >>>: interp ${i.boot.toFixed(0)} ms wall (${x(i.sim / i.boot)} real time), jit ${j.boot.toFixed(0)} ms wall (${x(j.sim / j.boot)}), speed-up ${x(i.boot / j.boot)}  [target: jit faster]`);
  lines.push(`integer loop: interp ${x(i.int)} real time, jit ${x(j.int)} first run, ${x(j.int2)} run again (translated), speed-up ${x(j.int / i.int)} / ${x(j.int2 / i.int)}`);
  lines.push(`float loop: interp ${x(i.flt)} real time, jit ${x(j.flt)} first run, ${x(j.flt2)} run again (translated), speed-up ${x(j.flt / i.flt)} / ${x(j.flt2 / i.flt)}`);
  lines.push(`issue #26 rows (now: this run; before: when #26 was filed, quiet machine):`);
  lines.push(issueRow('a CPU-bound loop run once in a fresh process, integer', x(j.int), '2.8–3.0×', '≥ 4×', j.int >= 4));
  lines.push(issueRow('a CPU-bound loop run once in a fresh process, float', x(j.flt), '4.2–4.5×', '≥ 4×', j.flt >= 4));
  lines.push(issueRow('steady state of the integer loop (translated)', x(j.int2), '4.43×', '≥ 8×', j.int2 >= 8));
  lines.push(issueRow('boot to >>>, first board of a process (jit)', `${j.boot.toFixed(0)} ms`, '143 ms', '≤ 100 ms', j.boot <= 100));
  lines.push(`memory of these bench processes (sources through tsx, both loops run twice): ${j.rss.toFixed(0)} MB max RSS — issue #26's memory row is measured on the compiled CLI: see the package section`);
  for (const s of j.stats) lines.push(formatCpuStats(s));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kind = process.env[ENGINE_ENV] as CpuEngineKind | undefined;
  if (kind) console.log(JSON.stringify(await engineRun(process.argv[2]!, kind, process.env[FLOAT_FIRST_ENV] === '1')));
  else for (const line of await benchCpu(process.argv[2])) console.log(line);
  process.exit(0);
}
