/**
 * The table interpreter (the jit engine's interpreter for untranslated code) against rp2040js's
 * `executeInstruction()`: every 16-bit opcode class and a spread of 32-bit ones, random
 * registers, flags, modes and memory, over a million cases with a fixed seed.
 */
import { describe, expect, it, vi } from 'vitest';
import { TranslationCache, sharedCodeState, DEFAULT_CACHE_OPTIONS } from '../../sim/cpu/cache.ts';
import { TableInterpreter, StretchEnd } from '../../sim/cpu/table-interp.ts';
import { Op } from '../../sim/cpu/thumb.ts';
import { Rng, quietChip } from './cpu-harness.ts';
import { expectAgreement, fuzzAgainstInterpreter } from './cpu-fuzz.ts';

describe('table interpreter matches rp2040js', () => {
  it('every instruction class, random operands, flags, modes and memory (> 1 000 000 cases)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rng = new Rng(0x7ab1e);
    const A = quietChip();
    const B = quietChip();
    const shared = sharedCodeState(B);
    const cache = new TranslationCache(B, DEFAULT_CACHE_OPTIONS, shared);
    shared.caches.add(cache);
    const interp = new TableInterpreter(cache.env);
    const report = fuzzAgainstInterpreter(rng, A, B, {
      install() {},
      step(b) {
        const c0 = b.cycles;
        const end = interp.run(b, c0 + 1, true, true, () => false);
        expect(interp.count).toBe(1);
        expect(end).toBe(StretchEnd.Leader);
        return interp.delegated === 0;
      },
    });
    warn.mockRestore();
    expectAgreement(report, A, B, 0.5, [Op.ADCS, Op.ADDS_REG, Op.SUBS_REG, Op.SBCS, Op.LSLS_REG, Op.LSRS_REG, Op.ASRS_REG, Op.ROR,
      Op.MULS, Op.LDR_IMM, Op.LDRB_REG, Op.LDRSH, Op.STR_IMM, Op.STRH_REG, Op.LDMIA, Op.STMIA, Op.PUSH, Op.POP, Op.B_COND, Op.BL,
      Op.BX, Op.BLX, Op.MOV, Op.ADD_REG, Op.CMP_HI, Op.LDR_LIT, Op.REVSH, Op.ADR, Op.CMN, Op.NEGS, Op.BKPT, Op.CPSID, Op.CPSIE,
      Op.MRS, Op.MSR]);
  }, 600_000);
});
