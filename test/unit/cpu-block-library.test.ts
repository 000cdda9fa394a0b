/**
 * Translations kept for the process (sim/cpu/block-library.ts): a second chip running the same
 * code takes the first chip's translated blocks — compiled once — instead of
 * translating them again, and computes what the interpreter computes; a chip whose code differs
 * at the same addresses translates its own.
 */
import { describe, expect, it } from 'vitest';
import { sharedCodeState } from '../../sim/cpu/cache.ts';
import { createCpuEngine, type CpuEngineKind } from '../../sim/cpu/engine.ts';
import { chipWithCode } from './cpu-harness.ts';

const BASE = 0x20000600;

/** loop: adds r0, #imm; subs r3, #1; bne loop; b . */
const loop = (imm: number): number[] => [0x3000 | imm, 0x3b01, 0xd1fc, 0xe7fe];

function run(kind: CpuEngineKind, code: number[]) {
  const m = chipWithCode(BASE, code, { 0: 0, 3: 5000 });
  const r = m.core.registers;
  const e = createCpuEngine(kind, m, { hotThreshold: 64 });
  let n = 0;
  while (n < 40_000) n += e.run(997);
  const cache = [...sharedCodeState(m).caches][0];
  return { regs: [r[0]!, r[3]!, r[15]!, Number(m.clock.nanos)], stats: e.stats(), code: cache?.lookup(BASE)?.code };
}

describe('translations kept for the process', () => {
  it('a second chip with the same code recalls the first chip’s blocks and computes the same', () => {
    const oracle = run('interp', loop(3));
    const first = run('jit', loop(3));
    const second = run('jit', loop(3));
    expect(oracle.regs[0]).toBe(3 * 5000);
    expect(first.regs).toEqual(oracle.regs);
    expect(second.regs).toEqual(oracle.regs);
    expect(second.stats.recalled).toBeGreaterThan(0);
    expect(second.stats.translations).toBe(0);
    // The very translation the first chip made (compiled once: block-library.ts).
    expect(second.code).toBeDefined();
    expect(second.code).toBe(first.code);
  });

  it('a chip whose code differs at the same address translates its own', () => {
    const first = run('jit', loop(3));
    const oracle = run('interp', loop(5));
    const other = run('jit', loop(5));
    expect(other.regs).toEqual(oracle.regs);
    expect(oracle.regs[0]).toBe(5 * 5000);
    // The loop's block is its own; only blocks whose bytes are all the same (`b .`) may be shared.
    expect(other.stats.translations).toBeGreaterThan(0);
    expect(other.code).toBeDefined();
    expect(other.code).not.toBe(first.code);
  });
});
