/**
 * Random Thumb programs (ALU, shifts, loads/stores, stack, peripheral reads, forward and
 * backward conditional branches, calls) run by the interpreter, the translator and check mode
 * on three identical chips, in random run() slices: after every slice the registers, flags,
 * cycles, simulated time and memory must agree.
 */
import { describe, expect, it, vi } from 'vitest';
import { invalidateTranslations, sharedCodeState } from '../../sim/cpu/cache.ts';
import { CpuDivergenceError } from '../../sim/cpu/check.ts';
import { createCpuEngine, type CpuEngine } from '../../sim/cpu/engine.ts';
import { Rng, diffCores, quietChip, writeHalfwords } from './cpu-harness.ts';

const BASE = 0x20000400;
const DATA = 0x20002000;
const STACK = 0x20003000;

function program(rng: Rng, n: number): number[] {
  const lo = (): number => rng.below(6); // r0-r5: data; r6 = data pointer, r7 = SIO pointer
  const code: number[] = [];
  const branches: { at: number; cond: boolean }[] = [];
  while (code.length < n) {
    switch (rng.below(15)) {
      case 0: case 1: { // register ALU: 0x4000 | op << 6 | rm << 3 | rdn
        const op = rng.below(16);
        if (op === 9 && rng.bool()) break;
        code.push(0x4000 | (op << 6) | (lo() << 3) | lo());
        break;
      }
      case 2: case 3: { // immediates: movs/cmp/adds/subs #imm8
        code.push(((4 + rng.below(4)) << 11) | (lo() << 8) | rng.below(256));
        break;
      }
      case 4: // shifts by immediate
        code.push((rng.below(3) << 11) | (rng.below(32) << 6) | (lo() << 3) | lo());
        break;
      case 5: // adds/subs register or 3-bit immediate
        code.push(((0x0c + rng.below(4)) << 9) | (rng.below(8) << 6) | (lo() << 3) | lo());
        break;
      case 6: case 7: { // word/byte/half loads and stores off r6
        const kinds = [0x6000, 0x6800, 0x7000, 0x7800, 0x8000, 0x8800];
        code.push(kinds[rng.below(kinds.length)] | (rng.below(32) << 6) | (6 << 3) | lo());
        break;
      }
      case 8: // SIO through r7: word/byte reads of CPUID / GPIO_IN, writes of GPIO_OUT_SET/CLR/XOR
        if (rng.below(3) === 0) {
          const k = rng.below(3);
          if (k === 0) code.push(0x6800 | (rng.below(2) << 6) | (7 << 3) | lo());
          else if (k === 1) code.push(0x7800 | (rng.below(8) << 6) | (7 << 3) | lo());
          else code.push(0x6000 | ((5 + rng.below(3)) << 6) | (7 << 3) | lo());
        }
        break;
      case 9: { // balanced push/pop of two low registers
        const a = rng.below(4);
        code.push(0xb400 | (3 << a), 0xbc00 | (3 << rng.below(4)));
        break;
      }
      case 10: // hi register moves / adds / compares
        code.push([0x4680, 0x4640, 0x4480, 0x4540][rng.below(4)] | (rng.below(2) << 3) | lo());
        break;
      case 11: case 12: // conditional branch (patched below)
        branches.push({ at: code.length, cond: true });
        code.push(0xd000 | (rng.below(14) << 8));
        break;
      case 13: // extension, reverse
        code.push(0xb200 | (rng.below(4) << 6) | (lo() << 3) | lo(), 0xba00 | ([0, 1, 3][rng.below(3)] << 6) | (lo() << 3) | lo());
        break;
      case 14: // BKPT: the chip's onBreak (set below) changes registers, flags and cycles
        if (rng.below(3) === 0) code.push(0xbe00 | rng.below(256));
        break;
    }
  }
  code.length = n;
  code.push(0xe000 | ((-(n + 2) & 0x7ff))); // b BASE
  for (const b of branches) {
    if (b.at >= n) continue;
    const target = rng.below(n);
    const off = target - (b.at + 2);
    if (off < -128 || off > 127) continue;
    code[b.at] = (code[b.at]! & 0xff00) | (off & 0xff);
  }
  return code;
}

describe('translated traces match the interpreter in random programs', () => {
  it('120 random programs, run in random slices by interp, jit and check, with either clock contract', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rng = new Rng(0x5eed1234);
    let translated = 0;
    let compared = 0;
    const failures: string[] = [];
    const chips: ReturnType<typeof quietChip>[] = [];
    const alarms: { cancel(): void }[] = [];
    for (let p = 0; p < 120 && failures.length === 0; p++) {
      const code = program(rng, 16 + rng.below(96));
      // Fresh chips are costly (16 MB of flash each): reuse three, telling the translators the code changed.
      // Chips 0-2: the engines tick the clock (Simulator style); 3-5: the caller ticks it after
      // each run() (the board's quantum loop).
      if (p === 0) {
        for (let i = 0; i < 6; i++) {
          const m = quietChip();
          // Like the HLE ROM: results in registers, flags, extra cycles (PC goes on after it).
          m.onBreak = (imm: number): void => {
            const c = m.core;
            c.registers[imm % 6] = (c.registers[(imm + 1) % 6]! * 7 + imm) >>> 0;
            c.Z = !c.Z;
            c.C = (imm & 1) === 1;
            c.cycles += imm & 7;
          };
          chips.push(m);
        }
      }
      const data = new Uint8Array(0x200);
      for (let i = 0; i < data.length; i++) data[i] = rng.u32() & 0xff;
      const regs = Array.from({ length: 6 }, () => rng.u32());
      for (const m of chips) {
        writeHalfwords(m, BASE, code);
        invalidateTranslations(m, BASE, 0x400);
        const c = m.core;
        c.N = c.Z = c.C = c.V = false;
        c.PM = false;
        c.cycles = 0;
        m.sram.set(data, DATA - 0x20000000);
        for (let i = 0; i < 6; i++) m.core.registers[i] = regs[i]!;
        m.core.registers[6] = DATA;
        m.core.registers[7] = 0xd0000000;
        m.core.registers[13] = STACK;
        m.core.registers[15] = BASE;
      }
      // A clock alarm that changes memory the program reads (like a DMA transfer would), every
      // few dozen to hundreds of nanoseconds: a block that ran across it would see it too early.
      const period = 40 + rng.below(rng.bool() ? 400 : 4000);
      for (const m of chips) {
        let count = 0;
        const alarm = m.clock.createAlarm(() => {
          m.sram[DATA - 0x20000000 + (count & 63)] ^= 0x5a;
          count++;
          alarm.schedule(period + (count % 7) * 8);
        });
        alarm.schedule(period);
        alarms.push(alarm);
      }
      const engines: CpuEngine[] = [
        createCpuEngine('interp', chips[0]!),
        createCpuEngine('jit', chips[1]!, { hotThreshold: 2 }),
        createCpuEngine('check', chips[2]!, { hotThreshold: 2 }),
        createCpuEngine('interp', chips[3]!, { tickClock: false }),
        createCpuEngine('jit', chips[4]!, { hotThreshold: 2, tickClock: false }),
        createCpuEngine('check', chips[5]!, { hotThreshold: 2, tickClock: false }),
      ];
      for (let slice = 0; slice < 60; slice++) {
        const budget = 1 + rng.below(rng.bool() ? 40 : 2000);
        const used = engines.map((e) => e.run(budget));
        for (let k = 3; k < 6; k++) (chips[k]!.clock as unknown as { tick(n: number): void }).tick(used[k]! * 8);
        for (const k of [1, 2, 4, 5]) {
          const ref = k < 3 ? 0 : 3;
          const d = diffCores(chips[ref]!.core, chips[k]!.core);
          if (used[k] !== used[ref]) d.push(`run() returned ${used[ref]} vs ${used[k]}`);
          if (chips[k]!.clock.nanos !== chips[ref]!.clock.nanos) d.push(`clock ${chips[ref]!.clock.nanos} vs ${chips[k]!.clock.nanos}`);
          const win = (m: (typeof chips)[0]): Buffer => Buffer.from(m.sram.buffer, DATA - 0x20000000 - 0x100, 0x1200);
          if (Buffer.compare(win(chips[ref]!), win(chips[k]!)) !== 0) d.push('data/stack memory differs');
          if (slice === 59 && Buffer.compare(Buffer.from(chips[ref]!.sram), Buffer.from(chips[k]!.sram)) !== 0) d.push('SRAM differs');
          if (d.length) failures.push(`program ${p} slice ${slice} engine ${engines[k]!.kind}: ${d.join('; ')}`);
          compared++;
        }
      }
      translated += engines[1]!.stats().translatedInstructions + engines[4]!.stats().translatedInstructions;
      for (const a of alarms.splice(0)) a.cancel();
    }
    warn.mockRestore();
    expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
    expect(compared).toBe(120 * 60 * 4);
    expect(translated).toBeGreaterThan(150_000);
  }, 600_000);
});

describe('check mode', () => {
  it('stops at a wrong translation with a report naming the block, its code and both register files', () => {
    const m = quietChip();
    // movs r0, #0; loop: adds r0, #3; lsls r1, r0, #2; b loop
    writeHalfwords(m, BASE, [0x2000, 0x3003, 0x0081, 0xe7fc]);
    m.core.registers[15] = BASE;
    m.core.registers[13] = STACK;
    const e = createCpuEngine('check', m, { hotThreshold: 1 });
    e.run(200);
    expect(e.stats().checkedBlocks).toBeGreaterThan(0);
    const cache = [...sharedCodeState(m).caches].find((c) => c.blocks.size > 0)!;
    const blk = cache.blocks.get(BASE + 2)!;
    expect(blk).toBeDefined();
    const good = blk.fn;
    // A translation that gets r1 wrong.
    (blk as { fn: typeof good }).fn = (core, budget, env) => {
      const c = good(core, budget, env);
      (core as typeof m.core).registers[1] ^= 4;
      return c;
    };
    let err: unknown;
    try {
      e.run(200);
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(CpuDivergenceError);
    const report = (err as CpuDivergenceError).report;
    expect(report).toContain('block at 0x20000402');
    expect(report).toContain('adds r0, #3');
    expect(report).toContain('lsls r1, r0, #2');
    expect(report).toMatch(/r1: translated 0x[0-9a-f]+, interpreter 0x[0-9a-f]+/);
    expect(report).toMatch(/r1 +0x[0-9a-f]{8} +0x[0-9a-f]{8} +0x[0-9a-f]{8} +<--/);
  });
});


describe('blTaken hook', () => {
  it('translated BL/BLX call an installed hook with the same LR/PC as the interpreter', () => {
    // 400: bl 40e; 404: adds r4, #1; 406: blx r5 (= 40c|1); 408: b 400; 40a: nop; 40c: bx lr; 40e: bx lr
    const code = [0xf000, 0xf805, 0x3401, 0x47a8, 0xe7fa, 0xbf00, 0x4770, 0x4770];
    const logs: string[][] = [];
    for (const kind of ['interp', 'jit'] as const) {
      const m = quietChip();
      writeHalfwords(m, BASE, code);
      const r = m.core.registers;
      r[5] = BASE + 0xc + 1;
      r[13] = STACK;
      r[15] = BASE;
      const log: string[] = [];
      m.core.blTaken = (core, blx) => log.push(`${blx ? 'blx' : 'bl'} ${core.registers[14]!.toString(16)}->${core.registers[15]!.toString(16)} r4=${core.registers[4]}`);
      const e = createCpuEngine(kind, m, { hotThreshold: 1 });
      for (let i = 0; i < 50; i++) e.run(37);
      logs.push(log);
      if (kind === 'jit') expect(e.stats().translatedInstructions).toBeGreaterThan(100);
    }
    expect(logs[0]!.length).toBeGreaterThan(100);
    expect(logs[1]).toEqual(logs[0]);
  });
});

/** Thumb encodings for the hand-written traces below (addresses are absolute). */
const bl = (from: number, to: number): number[] => {
  const off = to - (from + 4);
  return [0xf000 | ((off >> 12) & 0x7ff), 0xf800 | ((off >> 1) & 0x7ff)];
};
const b = (from: number, to: number): number => 0xe000 | (((to - (from + 4)) >> 1) & 0x7ff);
const bcond = (cond: number, from: number, to: number): number => 0xd000 | (cond << 8) | (((to - (from + 4)) >> 1) & 0xff);
const COND_NE = 1;

describe('traces through calls, returns, veneers, hot branches and PRIMASK writes', () => {
  // 400: adds r0, #1        402: bl f            406: ldr r3, [pc, #56] (= g|1)
  // 408: mov r12, r3        40a: bx r12 (veneer) 40c: adds r1, #1      40e: cmp r0, r5
  // 410: bne 416            412: movs r0, #0     414: nop
  // 416: msr PRIMASK, r4    41a: b 400
  // f 420: push {r4, lr}; adds r2, r0, r1; str r7, [sp, #4] when r0 = 7 (a corrupted return);
  //        pop {r4, pc}      g 430: adds r6, #1; b 40c          440: .word g|1
  const F = BASE + 0x20;
  const G = BASE + 0x30;
  function image(): number[] {
    const hw = new Array<number>(0x22).fill(0xbf00);
    const put = (addr: number, ...h: number[]): void => h.forEach((x, i) => (hw[(addr - BASE) / 2 + i] = x));
    put(BASE, 0x3001, ...bl(BASE + 2, F), 0x4b0e, 0x469c, 0x4760, 0x3101, 0x42a8, bcond(COND_NE, BASE + 0x10, BASE + 0x16), 0x2000, 0xbf00);
    put(BASE + 0x16, 0xf384, 0x8810, b(BASE + 0x1a, BASE));
    // f: push {r4, lr}; adds r2, r0, r1; cmp r0, #7; bne +2; str r7, [sp, #4]; pop {r4, pc}
    put(F, 0xb510, 0x1842, 0x2807, 0xd100, 0x9701, 0xbd10);
    put(G, 0x3601, b(G + 2, BASE + 0xc));
    put(BASE + 0x40, (G | 1) & 0xffff, G >>> 16);
    return hw;
  }

  function chip(): ReturnType<typeof quietChip> {
    const m = quietChip();
    writeHalfwords(m, BASE, image());
    const r = m.core.registers;
    r[4] = 1; // PRIMASK stays set
    r[5] = 40;
    r[7] = BASE + 0xc + 1; // what f's corrupted return goes to: past the veneer and g
    r[13] = STACK;
    r[15] = BASE;
    return m;
  }

  it('one block follows the call, the predicted return, the veneer, the hot branch and goes on after MSR', () => {
    const m = chip();
    const e = createCpuEngine('jit', m, { hotThreshold: 4, tickClock: false });
    for (let i = 0; i < 200; i++) e.run(50);
    const cache = [...sharedCodeState(m).caches][0]!;
    const blk = cache.blocks.get(BASE)!;
    expect(blk).toBeDefined();
    const pcs = blk.code.instrs.map((i) => i.pc - BASE);
    // 400 → f → back at 406 (predicted return) → veneer → g → 40c … 410 bne taken (hot) → 416 msr → 41a
    expect(pcs.slice(0, 9)).toEqual([0x0, 0x2, 0x20, 0x22, 0x24, 0x26, 0x28, 0x2a, 0x6]);
    expect(pcs).toContain(0x30);
    expect(pcs).toContain(0x16);
    expect(pcs[pcs.length - 1]).toBe(0x1a);
    expect(blk.code.instrs.find((i) => i.pc === F + 0xa)!.predicted).toBe(BASE + 0x7);
    expect(blk.code.instrs.find((i) => i.pc === BASE + 0xa)!.predicted).toBe(G | 1);
    expect(blk.code.instrs.find((i) => i.pc === BASE + 0x10)!.takenFollowed).toBe(true);
  });

  it('a trace that follows a branch into an instruction left to the interpreter covers only its own code', () => {
    const m = quietChip();
    // 400: bkpt #0 … 480: adds r0, #1; 482: b 400 (a target below the code, like a call into the ROM)
    writeHalfwords(m, BASE, [0xbe00]);
    writeHalfwords(m, BASE + 0x80, [0x3001, b(BASE + 0x82, BASE)]);
    createCpuEngine('jit', m, { hotThreshold: 1 });
    const blk = [...sharedCodeState(m).caches][0]!.translate(BASE + 0x80)!;
    expect(blk.code.instrs.map((i) => i.pc)).toEqual([BASE + 0x80, BASE + 0x82]);
    expect(blk.ranges).toEqual([[BASE + 0x80, BASE + 0x84]]);
  });

  it('match the interpreter (and check mode) in random slices, including a mispredicted return and a pending interrupt', () => {
    const rng = new Rng(0xc0ffee);
    const chips = [chip(), chip(), chip()];
    const engines = [
      createCpuEngine('interp', chips[0]!, { tickClock: false }),
      createCpuEngine('jit', chips[1]!, { hotThreshold: 3, tickClock: false }),
      createCpuEngine('check', chips[2]!, { hotThreshold: 3, tickClock: false }),
    ];
    const failures: string[] = [];
    for (let slice = 0; slice < 3000 && failures.length === 0; slice++) {
      if (slice === 1500) {
        // An enabled, pending (masked) interrupt: the PRIMASK write must now end the block.
        for (const m of chips) {
          m.core.enabledInterrupts |= 1 << 5;
          m.core.pendingInterrupts |= 1 << 5;
        }
      }
      const budget = 1 + rng.below(rng.bool() ? 30 : 600);
      const used = engines.map((e) => e.run(budget));
      for (const m of chips) (m.clock as unknown as { tick(n: number): void }).tick(used[0]! * 8);
      for (const k of [1, 2]) {
        const d = diffCores(chips[0]!.core, chips[k]!.core);
        if (used[k] !== used[0]) d.push(`run() returned ${used[0]} vs ${used[k]}`);
        if (Buffer.compare(Buffer.from(chips[0]!.sram.subarray(0x2000, 0x3100)), Buffer.from(chips[k]!.sram.subarray(0x2000, 0x3100))) !== 0) d.push('stack differs');
        if (d.length) failures.push(`slice ${slice} ${engines[k]!.kind}: ${d.join('; ')}`);
      }
    }
    expect(failures, failures.slice(0, 3).join('\n')).toEqual([]);
    // Every pass counts r1; only passes through the veneer and g count r6: the corrupted
    // returns (r0 = 7) skipped them.
    const r = chips[0]!.core.registers;
    expect(r[1]).toBeGreaterThan(100);
    expect(r[6]).toBeLessThan(r[1]);
    expect(r[6]).toBeGreaterThan(r[1] / 2);
    const s = engines[1]!.stats();
    expect(s.translatedInstructions).toBeGreaterThan(10 * s.interpretedInstructions);
    expect(engines[2]!.stats().checkedBlocks).toBeGreaterThan(100);
  });
});
