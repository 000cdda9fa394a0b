/**
 * Instruction fuzzing against rp2040js's interpreter: every 16-bit Thumb opcode class (and a
 * spread of 32-bit ones) run once by `executeInstruction()` on chip A and once by a subject
 * (translated code, the table interpreter) on chip B, from identical random states — registers,
 * flags, mode, memory — comparing registers, flags, core state, cycles and memory.
 */
import type { RP2040 } from 'rp2040js';
import { expect } from 'vitest';
import { Op, classify, disassemble, isWide } from '../../sim/cpu/thumb.ts';
import { Rng, copyCore, diffCores, writeHalfwords, type Core } from './cpu-harness.ts';

export const FUZZ_PC = 0x20000100;
const SCRATCH = 0x1000; // SRAM offset of the data area registers point into
const SCRATCH_LEN = 0x400;
const EDGE = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0x80000001, 0xfffffffe, 0xffffffff, 0xfffffff0, 0xfffffff9, 0xfffffff1, 0xfffffffd, 0x3f, 0x40, 0xff00,
];
const IO = [0xd0000000, 0xd0000004, 0xd0000010, 0x40054008, 0x40054028, 0x30000000, 0x50100000, 0xe000ed00];
const STORES = new Set<Op>([
  Op.STR_IMM, Op.STR_SP, Op.STR_REG, Op.STRB_IMM, Op.STRB_REG, Op.STRH_IMM, Op.STRH_REG, Op.STMIA, Op.PUSH,
]);

function value(rng: Rng): number {
  switch (rng.below(16)) {
    case 0: case 1: case 2: case 3: case 4:
      return EDGE[rng.below(EDGE.length)] >>> 0;
    case 5: case 6: case 7: case 8:
      return rng.u32();
    case 9: case 10: case 11:
      return 0x20000000 + SCRATCH + (rng.below(SCRATCH_LEN) & (rng.below(4) ? ~3 : ~0));
    case 12: case 13:
      return 0x20000000 + SCRATCH + (rng.below(SCRATCH_LEN >> 2) << 2) - (rng.below(4) << 2);
    case 14:
      return (0x10000000 + (rng.below(4) << 24) + rng.below(0x1000)) >>> 0;
    default:
      return IO[rng.below(IO.length)] >>> 0;
  }
}

export interface FuzzSubject {
  /** The instruction at FUZZ_PC changed (both chips hold the new one). */
  install(op: number, op2: number): void;
  /** Run one instruction on `core` (its cycles added to core.cycles); whether the subject ran it itself (not rp2040js). */
  step(core: Core, odd: boolean): boolean;
}

export interface FuzzReport {
  cases: number;
  ownCases: number;
  perClass: Map<Op, { cases: number; own: number }>;
  failures: string[];
}

export function fuzzAgainstInterpreter(rng: Rng, A: RP2040, B: RP2040, subject: FuzzSubject): FuzzReport {
  const PC = FUZZ_PC;
  // Same random memory on both chips: data area, the code page (literal pools), some flash.
  const master = new Uint8Array(SCRATCH_LEN + 0x200);
  for (let i = 0; i < master.length; i++) master[i] = rng.u32() & 0xff;
  const codePage = new Uint8Array(0x500);
  for (let i = 0; i < codePage.length; i++) codePage[i] = rng.u32() & 0xff;
  const flash = new Uint8Array(0x2000);
  for (let i = 0; i < flash.length; i++) flash[i] = rng.u32() & 0xff;
  for (const m of [A, B]) {
    m.sram.set(codePage, PC - 0x20000000);
    m.flash.set(flash, 0);
    // A BKPT handler like the HLE ROM's: results in registers, a return to LR, cycles, a flag.
    m.onBreak = (code: number): void => {
      const c = m.core;
      c.registers[0] = (code * 3 + c.registers[1]) >>> 0;
      c.registers[15] = c.registers[14] & ~1;
      c.cycles += 5;
      c.N = !c.N;
    };
  }
  const aw = new Int32Array(A.sram.buffer, SCRATCH - 0x100, (SCRATCH_LEN + 0x200) >> 2);
  const bw = new Int32Array(B.sram.buffer, SCRATCH - 0x100, (SCRATCH_LEN + 0x200) >> 2);
  const report: FuzzReport = { cases: 0, ownCases: 0, perClass: new Map(), failures: [] };

  const runOpcode = (op: number, op2: number, states: number): void => {
    const kind = classify(op, op2);
    let stat = report.perClass.get(kind);
    if (!stat) report.perClass.set(kind, (stat = { cases: 0, own: 0 }));
    const install = (): void => {
      for (const m of [A, B]) writeHalfwords(m, PC, [op, op2]);
      subject.install(op, op2);
    };
    install();
    for (let s = 0; s < states; s++) {
      const a = A.core;
      const b = B.core;
      for (let i = 0; i < 13; i++) a.registers[i] = value(rng);
      a.registers[13] = rng.below(4) ? 0x20000000 + SCRATCH + 0x200 + (rng.below(0x40) << 2) - 0x80 : value(rng) & ~3;
      a.registers[14] = value(rng);
      // After an exception entry rp2040js runs with an odd PC until the next BX/POP: cover it.
      const odd = (op & 3) === 0 && s >= states - Math.max(1, states >> 3);
      a.registers[15] = odd ? PC + 1 : PC;
      const f = rng.u32();
      a.N = !!(f & 1);
      a.Z = !!(f & 2);
      a.C = !!(f & 4);
      a.V = !!(f & 8);
      a.PM = !!(f & 16);
      a.currentMode = ((f >> 5) & 7) === 0 ? 1 : 0;
      a.IPSR = a.currentMode ? 3 + ((f >> 8) & 15) : 0;
      a.interruptsUpdated = false;
      a.waiting = false;
      a.cycles = 0;
      copyCore(a, b);
      A.sram.set(master, SCRATCH - 0x100);
      B.sram.set(master, SCRATCH - 0x100);

      a.executeInstruction();
      const own = subject.step(b, odd);
      if (own) {
        stat.own++;
        report.ownCases++;
      }
      stat.cases++;
      report.cases++;

      const d = diffCores(a, b);
      if (STORES.has(kind) || (report.cases & 63) === 0) {
        for (let i = 0; i < aw.length; i++) {
          if (aw[i] !== bw[i]) {
            d.push(`memory 0x${(0x20000000 + SCRATCH - 0x100 + 4 * i).toString(16)}: interp 0x${(aw[i] >>> 0).toString(16)} subject 0x${(bw[i] >>> 0).toString(16)}`);
            break;
          }
        }
      }
      if (d.length && report.failures.length < 20) {
        report.failures.push(`${disassemble(odd ? PC + 1 : PC, op, op2)} [${op.toString(16)} ${op2.toString(16)}] state ${s}: ${d.join('; ')}`);
      }
      // A random store may have hit the instruction itself: put it back on both chips.
      const o = PC - 0x20000000;
      if (A.sram[o] !== (op & 0xff) || A.sram[o + 1] !== op >> 8 || A.sram[o + 2] !== (op2 & 0xff) || A.sram[o + 3] !== op2 >> 8 ||
          B.sram[o] !== A.sram[o] || B.sram[o + 2] !== A.sram[o + 2]) {
        install();
      }
    }
  };

  // 16-bit encodings: three opcodes from every group of 16 consecutive ones (so every
  // register/immediate field pattern of every class is hit), 80 states each.
  for (let group = 0; group < 0x10000; group += 16) {
    for (let j = 0; j < 3; j++) {
      const op = group + rng.below(16);
      if (!isWide(op)) runOpcode(op, rng.u32() & 0xffff, 80);
    }
  }
  // 32-bit encodings: second halfwords shaped like the instructions that exist, plus random ones.
  for (let i = 0; i < 2048; i++) {
    const op = 0xe800 + rng.below(0x1800);
    let op2 = rng.u32() & 0xffff;
    if (op >> 11 === 0x1e && rng.below(4)) op2 = 0xd000 | (rng.u32() & 0x2fff) | 0x1000; // BL
    runOpcode(op, op2, 64);
  }
  for (const sysm of [0, 1, 2, 3, 5, 6, 7, 8, 9, 16, 20]) for (let rd = 0; rd < 15; rd++) runOpcode(0xf3ef, 0x8000 | (rd << 8) | sysm, 64);
  for (const op2 of [0x8f5f, 0x8f4f, 0x8f6f, 0x8f50, 0x8f40, 0x8f60]) runOpcode(0xf3bf, op2, 64);
  for (const sysm of [0, 8, 9, 16, 20]) for (let rn = 0; rn < 15; rn++) runOpcode(0xf380 | rn, 0x8800 | sysm, 64);
  for (let i = 0; i < 64; i++) runOpcode(0xf7f0 | (i & 15), 0xa000 | (rng.u32() & 0xfff), 16);
  // CPSID i / CPSIE i: one encoding each, which the sampling of 16-bit groups above may miss.
  for (const op of [0xb672, 0xb662]) runOpcode(op, rng.u32() & 0xffff, 80);
  return report;
}

/**
 * What both fuzz tests require: no difference at all (untouched memory outside the data area
 * included), over a million cases, the subject running at least `minOwn` of them itself and a
 * share of every class in `classes`.
 */
export function expectAgreement(report: FuzzReport, A: RP2040, B: RP2040, minOwn: number, classes: Op[]): void {
  expect(Buffer.compare(Buffer.from(A.sram), Buffer.from(B.sram))).toBe(0);
  expect(report.failures, report.failures.join('\n')).toEqual([]);
  expect(report.cases).toBeGreaterThanOrEqual(1_000_000);
  expect(report.ownCases / report.cases).toBeGreaterThan(minOwn);
  for (const k of classes) {
    const st = report.perClass.get(k)!;
    expect(st.own / st.cases, `class ${k} (${st.own}/${st.cases} run by the subject)`).toBeGreaterThan(0.05);
  }
}
