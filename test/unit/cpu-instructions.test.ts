/**
 * Every 16-bit Thumb opcode (and a spread of 32-bit ones) run once by rp2040js's interpreter
 * and once by translated code, from identical random states (registers, flags, mode, memory),
 * comparing registers, flags, core state, cycles and memory. Over a million cases, fixed seed.
 */
import { describe, expect, it, vi } from 'vitest';
import { TranslationCache, sharedCodeState, DEFAULT_CACHE_OPTIONS, type Block } from '../../sim/cpu/cache.ts';
import { Op } from '../../sim/cpu/thumb.ts';
import { Rng, quietChip } from './cpu-harness.ts';
import { FUZZ_PC, expectAgreement, fuzzAgainstInterpreter } from './cpu-fuzz.ts';

describe('translated instructions match the interpreter', () => {
  // inlineIO: the board's mode (peripheral accesses and BKPT made from translated code).
  it.each([false, true])('every instruction class, random operands, flags, modes and memory (> 1 000 000 cases), inlineIO %s', (inlineIO) => {
    // rp2040js reports accesses to unknown SIO registers on the console; random addresses make many.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rng = new Rng(0x13c0ffee);
    const A = quietChip();
    const B = quietChip();
    const shared = sharedCodeState(B);
    const cache = new TranslationCache(B, { ...DEFAULT_CACHE_OPTIONS, maxBlockInstructions: 1, hotThreshold: 1, inlineIO }, shared);
    shared.caches.add(cache);
    let blocks: { even: Block | undefined; odd: Block | undefined } = { even: undefined, odd: undefined };
    const report = fuzzAgainstInterpreter(rng, A, B, {
      install(op) {
        cache.invalidateRange(FUZZ_PC, 4);
        blocks = { even: cache.translate(FUZZ_PC), odd: (op & 3) === 0 ? cache.translate(FUZZ_PC + 1) : undefined };
      },
      step(b, odd) {
        const blk = odd ? blocks.odd : blocks.even;
        const c = blk ? blk.fn(b, 1, cache.env) : 0;
        if (c === 0) {
          b.executeInstruction();
          return false;
        }
        b.cycles += c;
        return true;
      },
    });
    warn.mockRestore();
    // Most cases must run translated code.
    expectAgreement(report, A, B, 0.6, [Op.ADCS, Op.ADDS_REG, Op.SUBS_REG, Op.SBCS, Op.LSLS_REG, Op.LSRS_REG, Op.ASRS_REG, Op.ROR,
      Op.MULS, Op.LDR_IMM, Op.LDRB_REG, Op.LDRSH, Op.STR_IMM, Op.STRH_REG, Op.LDMIA, Op.STMIA, Op.PUSH, Op.POP, Op.B_COND, Op.BL,
      Op.BX, Op.BLX, Op.MOV, Op.ADD_REG, Op.CMP_HI, Op.MRS, Op.LDR_LIT, Op.REVSH, ...(inlineIO ? [Op.BKPT] : [])]);
  }, 600_000);
});
