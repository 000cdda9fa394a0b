/**
 * CPU engine benchmark: simulated time ÷ wall time (1.0 = a real 125 MHz Pico W) for each engine
 * side by side, the speed-up of `jit` over `interp`, and the translation cache's size.
 *  - synthetic: Thumb loops assembled into SRAM of a bare RP2040 (no firmware needed);
 *  - board (with a firmware): boot to `>>>`, the integer loop and the float loop of bench/board.ts.
 * Run alone: `npx tsx bench/cpu.ts [firmware.uf2]`.
 */
import { RP2040 } from 'rp2040js';
import { PicoW } from '../sim/board/picow.ts';
import { createCpuEngine, formatCpuStats, type CpuEngineKind, type CpuEngineStats } from '../sim/cpu/engine.ts';
import { runPy } from '../test/helpers/board.ts';
import { FLOAT_LOOP, INT_LOOP } from './board.ts';

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

async function bootWith(firmware: string, kind: CpuEngineKind): Promise<{ board: PicoW; wallMs: number; simMs: number; stats: () => CpuEngineStats[] }> {
  const wall0 = performance.now();
  const board = await PicoW.create({ firmware, cpu: kind });
  board.start();
  while (!board.usbReady) await new Promise((r) => setTimeout(r, 2));
  const mark = board.output.length;
  board.writeConsole('\r');
  await board.waitForOutput('>>> ', { from: mark, timeoutMs: 600_000 });
  return { board, wallMs: performance.now() - wall0, simMs: board.clock.nanos / 1e6, stats: () => board.cpuStats() };
}

async function loopRatio(board: PicoW, code: string): Promise<number> {
  const sim0 = board.clock.nanos;
  const wall0 = performance.now();
  await runPy(board, code, 900_000);
  return (board.clock.nanos - sim0) / 1e6 / (performance.now() - wall0);
}

const x = (n: number): string => `${n.toFixed(2)}×`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

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
  // Boot: the first boot of a process mostly measures V8 compiling the simulator, so each engine
  // boots three times, alternating, and the medians are compared.
  const boots: Record<string, number[]> = { interp: [], jit: [] };
  for (let round = 0; round < 3; round++) {
    for (const k of kinds) {
      const b = await bootWith(firmware, k);
      boots[k]!.push(b.wallMs);
      b.board.dispose();
    }
  }
  const res: Record<string, { boot: number; bootSim: number; int: number; flt: number; stats: CpuEngineStats[] }> = {};
  for (const k of kinds) {
    const { board, simMs, stats } = await bootWith(firmware, k);
    const wallMs = median(boots[k]!);
    const int = await loopRatio(board, INT_LOOP);
    const flt = await loopRatio(board, FLOAT_LOOP);
    res[k] = { boot: wallMs, bootSim: simMs, int, flt, stats: stats() };
    board.dispose();
  }
  const i = res.interp!;
  const j = res.jit!;
  lines.push(`boot to >>> (median of 3 each, alternating): interp ${i.boot.toFixed(0)} ms wall (${x(i.bootSim / i.boot)} real time), jit ${j.boot.toFixed(0)} ms wall (${x(j.bootSim / j.boot)}), speed-up ${x(i.boot / j.boot)}`);
  lines.push(`integer loop: interp ${x(i.int)} real time, jit ${x(j.int)}, speed-up ${x(j.int / i.int)}  [target jit ≥ 4×]`);
  lines.push(`float loop: interp ${x(i.flt)} real time, jit ${x(j.flt)}, speed-up ${x(j.flt / i.flt)}  [target jit ≥ 3×]`);
  for (const s of j.stats) lines.push(formatCpuStats(s));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchCpu(process.argv[2])) console.log(line);
}
