/**
 * Thumb (ARMv6-M) instruction classification and disassembly.
 *
 * `classify` answers "which instruction does the rp2040js interpreter execute for this opcode":
 * the interpreter tests encodings one after another and the first match wins, so the tests below
 * are made in that same order. The translator only ever emits code for an opcode after
 * classifying it here, which keeps the two decoders in agreement by construction (and the
 * exhaustive opcode test in test/unit/cpu-instructions.test.ts checks it).
 */

export const enum Op {
  ADCS = 1,
  ADD_RD_SP_IMM,
  ADD_SP_IMM,
  ADDS_T1,
  ADDS_T2,
  ADDS_REG,
  ADD_REG,
  ADR,
  ANDS,
  ASRS_IMM,
  ASRS_REG,
  B_COND,
  B,
  BICS,
  BKPT,
  BL,
  BLX,
  BX,
  CMN,
  CMP_IMM,
  CMP_REG,
  CMP_HI,
  CPSID,
  CPSIE,
  DMB,
  DSB,
  EORS,
  ISB,
  LDMIA,
  LDR_IMM,
  LDR_SP,
  LDR_LIT,
  LDR_REG,
  LDRB_IMM,
  LDRB_REG,
  LDRH_IMM,
  LDRH_REG,
  LDRSB,
  LDRSH,
  LSLS_IMM,
  LSLS_REG,
  LSRS_IMM,
  LSRS_REG,
  MOV,
  MOVS,
  MRS,
  MSR,
  MULS,
  MVNS,
  ORRS,
  POP,
  PUSH,
  REV,
  REV16,
  REVSH,
  ROR,
  NEGS,
  NOP,
  SBCS,
  SEV,
  STMIA,
  STR_IMM,
  STR_SP,
  STR_REG,
  STRB_IMM,
  STRB_REG,
  STRH_IMM,
  STRH_REG,
  SUB_SP,
  SUBS_T1,
  SUBS_T2,
  SUBS_REG,
  SVC,
  SXTB,
  SXTH,
  TST,
  UDF,
  UDF_W,
  UXTB,
  UXTH,
  WFE,
  WFI,
  YIELD,
  UNKNOWN,
}

/** Whether the interpreter fetches a second halfword for this first halfword. */
export function isWide(op: number): boolean {
  return op >> 12 === 0b1111 || op >> 11 === 0b11101;
}

/** The instruction the interpreter runs for `op` (and `op2`, the next halfword when wide). */
export function classify(op: number, op2: number): Op {
  const s6 = op >> 6;
  const s7 = op >> 7;
  const s8 = op >> 8;
  const s9 = op >> 9;
  const s11 = op >> 11;
  if (s6 === 0x105) return Op.ADCS;
  if (s11 === 0x15) return Op.ADD_RD_SP_IMM;
  if (s7 === 0x160) return Op.ADD_SP_IMM;
  if (s9 === 0x0e) return Op.ADDS_T1;
  if (s11 === 0x06) return Op.ADDS_T2;
  if (s9 === 0x0c) return Op.ADDS_REG;
  if (s8 === 0x44) return Op.ADD_REG;
  if (s11 === 0x14) return Op.ADR;
  if (s6 === 0x100) return Op.ANDS;
  if (s11 === 0x02) return Op.ASRS_IMM;
  if (s6 === 0x104) return Op.ASRS_REG;
  if (op >> 12 === 0xd && ((op >> 9) & 7) !== 7) return Op.B_COND;
  if (s11 === 0x1c) return Op.B;
  if (s6 === 0x10e) return Op.BICS;
  if (s8 === 0xbe) return Op.BKPT;
  if (s11 === 0x1e && op2 >> 14 === 3 && ((op2 >> 12) & 1) === 1) return Op.BL;
  if (s7 === 0x8f && (op & 7) === 0) return Op.BLX;
  if (s7 === 0x8e && (op & 7) === 0) return Op.BX;
  if (s6 === 0x10b) return Op.CMN;
  if (s11 === 0x05) return Op.CMP_IMM;
  if (s6 === 0x10a) return Op.CMP_REG;
  if (s8 === 0x45) return Op.CMP_HI;
  if (op === 0xb672) return Op.CPSID;
  if (op === 0xb662) return Op.CPSIE;
  if (op === 0xf3bf && (op2 & 0xfff0) === 0x8f50) return Op.DMB;
  if (op === 0xf3bf && (op2 & 0xfff0) === 0x8f40) return Op.DSB;
  if (s6 === 0x101) return Op.EORS;
  if (op === 0xf3bf && (op2 & 0xfff0) === 0x8f60) return Op.ISB;
  if (s11 === 0x19) return Op.LDMIA;
  if (s11 === 0x0d) return Op.LDR_IMM;
  if (s11 === 0x13) return Op.LDR_SP;
  if (s11 === 0x09) return Op.LDR_LIT;
  if (s9 === 0x2c) return Op.LDR_REG;
  if (s11 === 0x0f) return Op.LDRB_IMM;
  if (s9 === 0x2e) return Op.LDRB_REG;
  if (s11 === 0x11) return Op.LDRH_IMM;
  if (s9 === 0x2d) return Op.LDRH_REG;
  if (s9 === 0x2b) return Op.LDRSB;
  if (s9 === 0x2f) return Op.LDRSH;
  if (s11 === 0x00) return Op.LSLS_IMM;
  if (s6 === 0x102) return Op.LSLS_REG;
  if (s11 === 0x01) return Op.LSRS_IMM;
  if (s6 === 0x103) return Op.LSRS_REG;
  if (s8 === 0x46) return Op.MOV;
  if (s11 === 0x04) return Op.MOVS;
  if (op === 0xf3ef && op2 >> 12 === 8) return Op.MRS;
  if (op >> 4 === 0xf38 && op2 >> 8 === 0x88) return Op.MSR;
  if (s6 === 0x10d) return Op.MULS;
  if (s6 === 0x10f) return Op.MVNS;
  if (s6 === 0x10c) return Op.ORRS;
  if (s9 === 0x5e) return Op.POP;
  if (s9 === 0x5a) return Op.PUSH;
  if (s6 === 0x2e8) return Op.REV;
  if (s6 === 0x2e9) return Op.REV16;
  if (s6 === 0x2eb) return Op.REVSH;
  if (s6 === 0x107) return Op.ROR;
  if (s6 === 0x109) return Op.NEGS;
  if (op === 0xbf00) return Op.NOP;
  if (s6 === 0x106) return Op.SBCS;
  if (op === 0xbf40) return Op.SEV;
  if (s11 === 0x18) return Op.STMIA;
  if (s11 === 0x0c) return Op.STR_IMM;
  if (s11 === 0x12) return Op.STR_SP;
  if (s9 === 0x28) return Op.STR_REG;
  if (s11 === 0x0e) return Op.STRB_IMM;
  if (s9 === 0x2a) return Op.STRB_REG;
  if (s11 === 0x10) return Op.STRH_IMM;
  if (s9 === 0x29) return Op.STRH_REG;
  if (s7 === 0x161) return Op.SUB_SP;
  if (s9 === 0x0f) return Op.SUBS_T1;
  if (s11 === 0x07) return Op.SUBS_T2;
  if (s9 === 0x0d) return Op.SUBS_REG;
  if (s8 === 0xdf) return Op.SVC;
  if (s6 === 0x2c9) return Op.SXTB;
  if (s6 === 0x2c8) return Op.SXTH;
  if (s6 === 0x108) return Op.TST;
  if (s8 === 0xde) return Op.UDF;
  if (op >> 4 === 0xf7f && op2 >> 12 === 0xa) return Op.UDF_W;
  if (s6 === 0x2cb) return Op.UXTB;
  if (s6 === 0x2ca) return Op.UXTH;
  if (op === 0xbf20) return Op.WFE;
  if (op === 0xbf30) return Op.WFI;
  if (op === 0xbf10) return Op.YIELD;
  return Op.UNKNOWN;
}

/** Instructions that need a second halfword in their encoding (PC advances by 4). */
export function opSize(kind: Op): 2 | 4 {
  switch (kind) {
    case Op.BL:
    case Op.DMB:
    case Op.DSB:
    case Op.ISB:
    case Op.MRS:
    case Op.MSR:
    case Op.UDF_W:
      return 4;
    default:
      return 2;
  }
}

const COND = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const hex = (n: number): string => '0x' + (n >>> 0).toString(16);
const reg = (n: number): string => (n === 13 ? 'sp' : n === 14 ? 'lr' : n === 15 ? 'pc' : `r${n}`);
function regList(mask: number, extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) if (mask & (1 << i)) parts.push(`r${i}`);
  if (extra) parts.push(extra);
  return `{${parts.join(', ')}}`;
}

/** One line of disassembly for the instruction at `pc` (for divergence reports and traces). */
export function disassemble(pc: number, op: number, op2: number): string {
  const kind = classify(op, op2);
  const rd = op & 7;
  const rn3 = (op >> 3) & 7;
  const rm6 = (op >> 6) & 7;
  const imm5 = (op >> 6) & 0x1f;
  const imm8 = op & 0xff;
  const r8 = (op >> 8) & 7;
  const base = (pc & ~1) >>> 0;
  switch (kind) {
    case Op.ADCS: return `adcs ${reg(rd)}, ${reg(rn3)}`;
    case Op.ADD_RD_SP_IMM: return `add ${reg(r8)}, sp, #${imm8 << 2}`;
    case Op.ADD_SP_IMM: return `add sp, #${(op & 0x7f) << 2}`;
    case Op.ADDS_T1: return `adds ${reg(rd)}, ${reg(rn3)}, #${rm6}`;
    case Op.ADDS_T2: return `adds ${reg(r8)}, #${imm8}`;
    case Op.ADDS_REG: return `adds ${reg(rd)}, ${reg(rn3)}, ${reg(rm6)}`;
    case Op.ADD_REG: return `add ${reg(((op & 0x80) >> 4) | rd)}, ${reg((op >> 3) & 0xf)}`;
    case Op.ADR: return `adr ${reg(r8)}, ${hex((base & ~3) + 4 + (imm8 << 2))}`;
    case Op.ANDS: return `ands ${reg(rd)}, ${reg(rn3)}`;
    case Op.ASRS_IMM: return `asrs ${reg(rd)}, ${reg(rn3)}, #${imm5 || 32}`;
    case Op.ASRS_REG: return `asrs ${reg(rd)}, ${reg(rn3)}`;
    case Op.B_COND: {
      const off = ((imm8 << 24) >> 23);
      return `b${COND[(op >> 8) & 0xf]} ${hex(base + 4 + off)}`;
    }
    case Op.B: return `b ${hex(base + 4 + (((op & 0x7ff) << 21) >> 20))}`;
    case Op.BICS: return `bics ${reg(rd)}, ${reg(rn3)}`;
    case Op.BKPT: return `bkpt #${imm8}`;
    case Op.BL: return `bl ${hex(base + 4 + blOffset(op, op2))}`;
    case Op.BLX: return `blx ${reg((op >> 3) & 0xf)}`;
    case Op.BX: return `bx ${reg((op >> 3) & 0xf)}`;
    case Op.CMN: return `cmn ${reg(rd)}, ${reg(rn3)}`;
    case Op.CMP_IMM: return `cmp ${reg(r8)}, #${imm8}`;
    case Op.CMP_REG: return `cmp ${reg(rd)}, ${reg(rn3)}`;
    case Op.CMP_HI: return `cmp ${reg(((op >> 4) & 8) | rd)}, ${reg((op >> 3) & 0xf)}`;
    case Op.CPSID: return 'cpsid i';
    case Op.CPSIE: return 'cpsie i';
    case Op.DMB: return 'dmb sy';
    case Op.DSB: return 'dsb sy';
    case Op.ISB: return 'isb sy';
    case Op.EORS: return `eors ${reg(rd)}, ${reg(rn3)}`;
    case Op.LDMIA: return `ldmia ${reg(r8)}!, ${regList(imm8)}`;
    case Op.LDR_IMM: return `ldr ${reg(rd)}, [${reg(rn3)}, #${imm5 << 2}]`;
    case Op.LDR_SP: return `ldr ${reg(r8)}, [sp, #${imm8 << 2}]`;
    case Op.LDR_LIT: return `ldr ${reg(r8)}, [pc, #${imm8 << 2}] ; ${hex(((base + 4) & ~3) + (imm8 << 2))}`;
    case Op.LDR_REG: return `ldr ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.LDRB_IMM: return `ldrb ${reg(rd)}, [${reg(rn3)}, #${imm5}]`;
    case Op.LDRB_REG: return `ldrb ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.LDRH_IMM: return `ldrh ${reg(rd)}, [${reg(rn3)}, #${imm5 << 1}]`;
    case Op.LDRH_REG: return `ldrh ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.LDRSB: return `ldrsb ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.LDRSH: return `ldrsh ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.LSLS_IMM: return imm5 ? `lsls ${reg(rd)}, ${reg(rn3)}, #${imm5}` : `movs ${reg(rd)}, ${reg(rn3)}`;
    case Op.LSLS_REG: return `lsls ${reg(rd)}, ${reg(rn3)}`;
    case Op.LSRS_IMM: return `lsrs ${reg(rd)}, ${reg(rn3)}, #${imm5 || 32}`;
    case Op.LSRS_REG: return `lsrs ${reg(rd)}, ${reg(rn3)}`;
    case Op.MOV: return `mov ${reg(((op >> 4) & 8) | rd)}, ${reg((op >> 3) & 0xf)}`;
    case Op.MOVS: return `movs ${reg(r8)}, #${imm8}`;
    case Op.MRS: return `mrs ${reg((op2 >> 8) & 0xf)}, sysm${op2 & 0xff}`;
    case Op.MSR: return `msr sysm${op2 & 0xff}, ${reg(op & 0xf)}`;
    case Op.MULS: return `muls ${reg(rd)}, ${reg(rn3)}`;
    case Op.MVNS: return `mvns ${reg(rd)}, ${reg(rn3)}`;
    case Op.ORRS: return `orrs ${reg(rd)}, ${reg(rn3)}`;
    case Op.POP: return `pop ${regList(imm8, op & 0x100 ? 'pc' : undefined)}`;
    case Op.PUSH: return `push ${regList(imm8, op & 0x100 ? 'lr' : undefined)}`;
    case Op.REV: return `rev ${reg(rd)}, ${reg(rn3)}`;
    case Op.REV16: return `rev16 ${reg(rd)}, ${reg(rn3)}`;
    case Op.REVSH: return `revsh ${reg(rd)}, ${reg(rn3)}`;
    case Op.ROR: return `rors ${reg(rd)}, ${reg(rn3)}`;
    case Op.NEGS: return `negs ${reg(rd)}, ${reg(rn3)}`;
    case Op.NOP: return 'nop';
    case Op.SBCS: return `sbcs ${reg(rd)}, ${reg(rn3)}`;
    case Op.SEV: return 'sev';
    case Op.STMIA: return `stmia ${reg(r8)}!, ${regList(imm8)}`;
    case Op.STR_IMM: return `str ${reg(rd)}, [${reg(rn3)}, #${imm5 << 2}]`;
    case Op.STR_SP: return `str ${reg(r8)}, [sp, #${imm8 << 2}]`;
    case Op.STR_REG: return `str ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.STRB_IMM: return `strb ${reg(rd)}, [${reg(rn3)}, #${imm5}]`;
    case Op.STRB_REG: return `strb ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.STRH_IMM: return `strh ${reg(rd)}, [${reg(rn3)}, #${imm5 << 1}]`;
    case Op.STRH_REG: return `strh ${reg(rd)}, [${reg(rn3)}, ${reg(rm6)}]`;
    case Op.SUB_SP: return `sub sp, #${(op & 0x7f) << 2}`;
    case Op.SUBS_T1: return `subs ${reg(rd)}, ${reg(rn3)}, #${rm6}`;
    case Op.SUBS_T2: return `subs ${reg(r8)}, #${imm8}`;
    case Op.SUBS_REG: return `subs ${reg(rd)}, ${reg(rn3)}, ${reg(rm6)}`;
    case Op.SVC: return `svc #${imm8}`;
    case Op.SXTB: return `sxtb ${reg(rd)}, ${reg(rn3)}`;
    case Op.SXTH: return `sxth ${reg(rd)}, ${reg(rn3)}`;
    case Op.TST: return `tst ${reg(rd)}, ${reg(rn3)}`;
    case Op.UDF: return `udf #${imm8}`;
    case Op.UDF_W: return `udf.w #${((op & 0xf) << 12) | (op2 & 0xfff)}`;
    case Op.UXTB: return `uxtb ${reg(rd)}, ${reg(rn3)}`;
    case Op.UXTH: return `uxth ${reg(rd)}, ${reg(rn3)}`;
    case Op.WFE: return 'wfe';
    case Op.WFI: return 'wfi';
    case Op.YIELD: return 'yield';
    default:
      return isWide(op) ? `.inst.w 0x${op.toString(16)}${op2.toString(16).padStart(4, '0')}` : `.inst.n 0x${op.toString(16)}`;
  }
}

/** Signed byte offset of a BL (relative to the BL's address + 4). */
export function blOffset(op: number, op2: number): number {
  const S = (op >> 10) & 1;
  const I1 = 1 - (S ^ ((op2 >> 13) & 1));
  const I2 = 1 - (S ^ ((op2 >> 11) & 1));
  return ((S ? 0xff : 0) << 24) | (I1 << 23) | (I2 << 22) | ((op & 0x3ff) << 12) | ((op2 & 0x7ff) << 1);
}
