/**
 * Branch profiles from the table interpreter steer trace formation: a conditional branch that
 * went one way while interpreted is followed that way by the translator.
 */
import { describe, expect, it } from 'vitest';
import { BranchProfile } from '../../sim/cpu/branch-profile.ts';
import { DEFAULT_CACHE_OPTIONS, TranslationCache, sharedCodeState } from '../../sim/cpu/cache.ts';
import { TableInterpreter } from '../../sim/cpu/table-interp.ts';
import { BIAS_FOLLOW, translateBlock } from '../../sim/cpu/translate.ts';
import { quietChip, writeHalfwords } from './cpu-harness.ts';

describe('branch profile', () => {
  it('counts taken minus not taken per halfword, saturating, for SRAM and every flash alias; not the ROM', () => {
    const p = new BranchProfile(264 * 1024);
    for (let i = 0; i < 300; i++) p.record(0x20000100, true);
    expect(p.bias(0x20000100)).toBe(127);
    for (let i = 0; i < 10; i++) p.record(0x20000100, false);
    expect(p.bias(0x20000100)).toBe(117);
    expect(p.bias(0x20000102)).toBe(0);
    // An odd PC (after exception entry) is the same instruction.
    expect(p.bias(0x20000101)).toBe(117);
    for (let i = 0; i < 5; i++) p.record(0x13000400, false); // XIP no-cache alias of 0x10000400
    expect(p.bias(0x10000400)).toBe(-5);
    p.record(0x100, true);
    expect(p.bias(0x100)).toBe(0);
    p.record(0x10200000, true); // beyond the 2 MB flash
    expect(p.bias(0x10200000)).toBe(0);
  });

  it('the table interpreter records every conditional branch it runs', () => {
    const chip = quietChip();
    const PC = 0x20000400;
    writeHalfwords(chip, PC, [0x3801, 0xd1fd, 0xe7fe]); // subs r0, #1; bne PC; b .
    const shared = sharedCodeState(chip);
    const interp = new TableInterpreter(new TranslationCache(chip, DEFAULT_CACHE_OPTIONS, shared).env, shared.branches);
    chip.core.registers[0] = 10;
    chip.core.registers[15] = PC;
    interp.run(chip.core, 10 * 4 - 1, false, false, () => false); // 9 taken (3 cycles), 1 not (2)
    expect(chip.core.registers[15]).toBe(PC + 4);
    expect(shared.branches.bias(PC + 2)).toBe(9 - 1);
  });

  it('the translator follows a conditional branch the way its profile says, else by the likely heuristic', () => {
    const chip = quietChip();
    const PC = 0x20000400;
    // cmp r0, #0; beq PC+8; adds r1, #1; b .; [PC+8:] adds r2, #1; b .
    writeHalfwords(chip, PC, [0x2800, 0xd001, 0x3101, 0xe7fe, 0x3201, 0xe7fe]);
    const views = sharedCodeState(chip).views;
    const pcs = (bias: number, likely: boolean): string[] => {
      const code = translateBlock(views, PC, { maxInstructions: 8, journal: false, likely: () => likely, bias: () => bias })!;
      return code.instrs.map((i) => (i.pc - PC).toString(16));
    };
    expect(pcs(BIAS_FOLLOW, false)).toEqual(['0', '2', '8', 'a']);
    expect(pcs(127, false)).toEqual(['0', '2', '8', 'a']);
    expect(pcs(-BIAS_FOLLOW, true)).toEqual(['0', '2', '4', '6']);
    expect(pcs(0, true)).toEqual(['0', '2', '8', 'a']);
    expect(pcs(0, false)).toEqual(['0', '2', '4', '6']);
  });
});
