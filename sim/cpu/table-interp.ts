/**
 * A table-dispatched Thumb interpreter: the `jit` engine's interpreter for code that is not (yet)
 * translated — the boot, code that runs once, the first runs of every block.
 *
 * rp2040js's `executeInstruction()` finds an instruction by testing about eighty encodings one
 * after the other, in one large function that V8 takes long to optimize; until it has (the
 * whole boot of a board, in a fresh process) that chain costs far more than the instruction
 * itself. Here each opcode is classified once (`classify`: the same order of tests as rp2040js,
 * so the same instruction wins) into a 64 K table, and a small function per class runs it —
 * small functions V8 optimizes one by one, early. Each has exactly rp2040js's effect: registers,
 * flags, memory, cycles (the translator's `staticCycles`). Peripheral and unaligned accesses and
 * BKPT go through the core's and the chip's own methods, as rp2040js makes them; the rest —
 * exception return, system instructions, a pending interrupt check — is handed to
 * `executeInstruction()` before any state is touched. Conditional branches are counted for the
 * translator (BranchProfile). `test/unit/cpu-table-interp.test.ts` compares the two on every
 * opcode with random states.
 */
import type { RP2040 } from 'rp2040js';
import { Op, classify, isWide } from './thumb.ts';
import { ROM_SIZE, SRAM_BASE, staticCycles, type BlockEnv } from './translate.ts';
import { FLASH_MASK, FLASH_SIZE } from '../board/memory-map.ts';
import { SIO_BASE, isSioWord, type SioOwner } from './cache.ts';
import type { BranchProfile } from './branch-profile.ts';
import { interpretInstruction, sendEventHook, takeInterrupt } from './events.ts';

type CortexM0Core = RP2040['core'];

interface CoreState {
  registers: Uint32Array;
  N: boolean;
  Z: boolean;
  C: boolean;
  V: boolean;
  cycles: number;
  interruptsUpdated: boolean;
  waiting: boolean;
  currentMode: number;
  /** PRIMASK. */
  PM: boolean;
  readSpecialRegister(sysm: number): number;
  writeSpecialRegister(sysm: number, value: number): void;
  blTaken(core: unknown, blx: boolean): void;
  executeInstruction(): number;
  breakRewind: number;
  cyclesIO(addr: number, write?: boolean): number;
  rp2040: SioOwner & { onBreak(code: number): void };
  readUint32(address: number): number;
  readUint16(address: number): number;
  readUint8(address: number): number;
  writeUint32(address: number, value: number): void;
  writeUint16(address: number, value: number): void;
  writeUint8(address: number, value: number): void;
}

/** What a stretch of interpretation ended on. */
export const enum StretchEnd {
  /** The cycle budget is used up. */
  Budget = 0,
  /** A branch, exception entry or other non-sequential PC change (a block leader follows). */
  Leader = 1,
  /** An instruction run by rp2040js made the run end (the core waits, stop(), keepRunning). */
  Halted = 2,
}

/** What the engine says at a block leader reached while interpreting (see `run`). */
export const enum LeaderAction {
  /** Stop: the engine takes over here (a translated block, an interrupt to check). */
  Stop = 0,
  /** Go on interpreting. */
  GoOn = 1,
  /** Go on interpreting; the instruction here is left to the interpreter, the next is a leader. */
  Declined = 2,
}

/**
 * Runs one instruction (PC already advanced past it, as rp2040js does first): its cycles, or
 * -1 when rp2040js must run it (nothing changed but PC, which the caller puts back).
 */
type Handler = (m: TableInterpreter, op: number, pc: number) => number;

/** Table entries: 0 = not classified yet; first halves of 32-bit instructions get their own. */
const UNSEEN = 0;
const WIDE = 254;

export class TableInterpreter {
  private readonly table = new Uint8Array(0x10000);
  /** Instructions executed by the last `run`, and how many of them rp2040js ran. */
  count = 0;
  delegated = 0;
  // The state handlers work on, set by `run` (memory views: `env`, kept current by the cache).
  core: CoreState = null as unknown as CoreState;
  r: Uint32Array = new Uint32Array(16);
  /** Cycles before the running instruction (what `core.cycles` holds in rp2040js meanwhile). */
  cyc = 0;
  /** Set by a handler that went through the chip (a peripheral may have changed core.cycles or more). */
  io = false;

  constructor(
    readonly env: BlockEnv,
    /** Where conditional branches went (for the translator), or null. */
    readonly branches: BranchProfile | null = null,
  ) {}

  private classify(op: number): number {
    const k = isWide(op) ? WIDE : classify(op, 0);
    this.table[op] = k;
    return k;
  }

  /**
   * Run instructions of `core` while `core.cycles < end`. With `leaders`, also stop after an
   * instruction that did not simply go on to the next one (and after the first, with
   * `forceLeader`) — unless `atLeader` (asked there with the next PC and the cycles) says to go
   * on (GoOn, or Declined: the next instruction is a leader too). `halted` is asked after each
   * instruction that went through rp2040js or the chip (only those can make the core wait, stop
   * the engine or the board).
   */
  run(
    coreIn: CortexM0Core,
    end: number,
    leaders: boolean,
    forceLeader: boolean,
    halted: () => boolean,
    atLeader: ((pc: number, cycles: number) => LeaderAction) | null = null,
  ): StretchEnd {
    const core = coreIn as unknown as CoreState;
    this.core = core;
    const sev = sendEventHook(coreIn);
    const r = (this.r = core.registers);
    const { s16, f16, b32, s8 } = this.env;
    const table = this.table;
    const sramSize = s8.length;
    let cyc = core.cycles;
    let n = 0;
    let d = 0;
    let why = StretchEnd.Budget;
    while (cyc < end) {
      const pc = r[15];
      let c = -1; // cycles of an instruction run here; -1: rp2040js runs it
      let taken = false;
      if (core.interruptsUpdated) {
        // What executeInstruction() does first (events.ts): an interrupt taken there also runs
        // its handler's first instruction; none taken clears the flag, and the instruction at PC
        // runs here.
        core.cycles = cyc;
        taken = takeInterrupt(coreIn, sev) >= 0;
        if (taken) cyc = core.cycles;
      }
      if (!taken) {
        // After exception entry rp2040js runs with an odd PC (fetching at PC & ~1) until the
        // next BX/POP: handlers get PC as it is and compute with it as rp2040js does.
        const fa = pc - (pc & 1);
        let op = -1;
        const so = fa - SRAM_BASE;
        if (so >= 0 && so < sramSize) op = s16[so >>> 1];
        else if (fa >>> 26 === 4) op = f16[(fa & FLASH_MASK) >>> 1];
        else if (fa < ROM_SIZE) op = fa & 2 ? b32[fa >>> 2] >>> 16 : b32[fa >>> 2] & 0xffff;
        if (op >= 0) {
          let k = table[op];
          if (k === UNSEEN) k = this.classify(op);
          this.cyc = cyc;
          r[15] = pc + 2;
          c = HANDLERS[k](this, op, pc);
          if (c < 0) r[15] = pc;
        }
      }
      n++;
      if (c >= 0 && !this.io) cyc += c;
      else {
        if (taken) d++;
        else if (c < 0) {
          d++;
          core.cycles = cyc;
          // rp2040js runs it (SEV among them: reported to the core's send-event hook, events.ts).
          interpretInstruction(coreIn, sev);
          cyc = core.cycles;
        } else {
          // Through the chip: a peripheral (or a ROM routine) may have added cycles, made the
          // core wait, stopped the run.
          this.io = false;
          cyc = core.cycles + c;
        }
        if (halted()) {
          why = StretchEnd.Halted;
          break;
        }
      }
      if (leaders) {
        const step = r[15] - pc;
        if (forceLeader || (step !== 2 && step !== 4)) {
          // (at the end of the budget the engine's next run meets this leader itself)
          const a = atLeader === null || cyc >= end ? LeaderAction.Stop : atLeader(r[15], cyc);
          if (a === LeaderAction.Stop) {
            why = StretchEnd.Leader;
            break;
          }
          forceLeader = a === LeaderAction.Declined;
        }
      }
    }
    core.cycles = cyc;
    this.count = n;
    this.delegated = d;
    return why;
  }
}

// ---- shared parts of the handlers ----

/** rp2040js's addition with flags, on int32 operands; the int32 result. */
function addFlags(core: CoreState, x: number, y: number): number {
  const v = (x >>> 0) + (y >>> 0);
  const t = v | 0;
  core.N = t < 0;
  core.Z = t === 0;
  core.C = v > 4294967295;
  core.V = t !== x + y;
  return t;
}

/** rp2040js's subtraction with flags; the int32 result. */
function subFlags(core: CoreState, x: number, y: number): number {
  const v = x >>> 0;
  const a = y >>> 0;
  const t = (v - a) | 0;
  core.N = t < 0;
  core.Z = t === 0;
  core.C = v >= a;
  core.V = ((v ^ a) & (v ^ t)) < 0;
  return t;
}

// Loads and stores. Plain memory (SRAM, flash through XIP, ROM for words) directly; anything
// else (peripherals, unaligned) through the core's own methods exactly as rp2040js does, with
// `core.cycles` as it has it then and rp2040js's bus cycles (`cyclesIO`: RP2040 datasheet 2.1, SIO is
// single-cycle, APB adds wait states).
function ioLoad(m: TableInterpreter, addr: number, rt: number, size: 1 | 2 | 4, signed: boolean): number {
  const core = m.core;
  core.cycles = m.cyc;
  const c = 1 + core.cyclesIO(addr, false);
  let v: number;
  if (size === 4) v = isSioWord(addr) ? core.rp2040.sio.readUint32((addr >>> 0) - SIO_BASE) : core.readUint32(addr);
  else if (size === 2) v = signed ? (core.readUint16(addr) << 16) >> 16 : core.readUint16(addr);
  else v = signed ? (core.readUint8(addr) << 24) >> 24 : core.readUint8(addr);
  m.r[rt] = v;
  m.io = true;
  return c;
}
function ioStore(m: TableInterpreter, addr: number, value: number, size: 1 | 2 | 4): number {
  const core = m.core;
  core.cycles = m.cyc;
  const c = 1 + core.cyclesIO(addr, true);
  if (size === 4) {
    if (isSioWord(addr)) core.rp2040.sio.writeUint32((addr >>> 0) - SIO_BASE, value);
    else core.writeUint32(addr, value);
  } else if (size === 2) core.writeUint16(addr, value);
  else core.writeUint8(addr, value);
  m.io = true;
  return c;
}
function loadWord(m: TableInterpreter, addr: number, rt: number): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  if (a & 3) return ioLoad(m, addr, rt, 4, false);
  if (o >>> 0 < m.env.s8.length) m.r[rt] = m.env.s32[o >> 2];
  else if (a >>> 26 === 4) m.r[rt] = m.env.f32[(a & FLASH_MASK) >> 2];
  else if (a < ROM_SIZE) m.r[rt] = m.env.b32[a >> 2];
  else return ioLoad(m, addr, rt, 4, false);
  return 2;
}
function loadHalf(m: TableInterpreter, addr: number, rt: number, signed: boolean): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  let v: number;
  if (a & 1) return ioLoad(m, addr, rt, 2, signed);
  if (o >>> 0 < m.env.s8.length) v = m.env.s16[o >> 1];
  else if (a >>> 26 === 4) v = m.env.f16[(a & FLASH_MASK) >> 1];
  else return ioLoad(m, addr, rt, 2, signed);
  m.r[rt] = signed ? (v << 16) >> 16 : v;
  return 2;
}
function loadByte(m: TableInterpreter, addr: number, rt: number, signed: boolean): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  let v: number;
  if (o >>> 0 < m.env.s8.length) v = m.env.s8[o];
  else if (a >>> 26 === 4) v = m.env.f8[a & FLASH_MASK];
  else return ioLoad(m, addr, rt, 1, signed);
  m.r[rt] = signed ? (v << 24) >> 24 : v;
  return 2;
}
function storeWord(m: TableInterpreter, addr: number, value: number): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  if (a & 3 || o >>> 0 >= m.env.s8.length) return ioStore(m, addr, value, 4);
  m.env.s32[o >> 2] = value;
  if (m.env.cw[o >> 2]) m.env.codeWrite(a, 4);
  return 2;
}
function storeHalf(m: TableInterpreter, addr: number, value: number): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  if (a & 1 || o >>> 0 >= m.env.s8.length) return ioStore(m, addr, value, 2);
  m.env.s16[o >> 1] = value;
  if (m.env.cw[o >> 2]) m.env.codeWrite(a, 2);
  return 2;
}
function storeByte(m: TableInterpreter, addr: number, value: number): number {
  const a = addr >>> 0;
  const o = a - SRAM_BASE;
  if (o >>> 0 >= m.env.s8.length) return ioStore(m, addr, value, 1);
  m.env.s8[o] = value;
  if (m.env.cw[o >> 2]) m.env.codeWrite(a, 1);
  return 2;
}
/** After a block store of `words` words at SRAM word index `w`: invalidate translated code there. */
function storedWords(m: TableInterpreter, w: number, words: number, addr: number): void {
  for (let i = 0; i < words; i++) {
    if (m.env.cw[w + i]) {
      m.env.codeWrite(addr, 4 * words);
      return;
    }
  }
}

function condition(core: CoreState, cond: number): boolean {
  switch (cond) {
    case 0: return core.Z;
    case 1: return !core.Z;
    case 2: return core.C;
    case 3: return !core.C;
    case 4: return core.N;
    case 5: return !core.N;
    case 6: return core.V;
    case 7: return !core.V;
    case 8: return core.C && !core.Z;
    case 9: return !(core.C && !core.Z);
    case 10: return core.N === core.V;
    case 11: return core.N !== core.V;
    case 12: return core.N === core.V && !core.Z;
    default: return !(core.N === core.V && !core.Z);
  }
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];


// ---- one handler per instruction class ----

const delegate: Handler = () => -1;
const HANDLERS: Handler[] = new Array<Handler>(256).fill(delegate);
const on = (k: number, h: Handler): void => {
  HANDLERS[k] = h;
};

on(Op.ADCS, (m, op) => {
  const core = m.core;
  const r = m.r;
  const x = r[(op >> 3) & 7] | 0;
  const a = r[op & 7] + (core.C ? 1 : 0);
  const v = (x >>> 0) + a;
  const t = v | 0;
  core.N = t < 0;
  core.Z = t === 0;
  core.C = v > 4294967295;
  core.V = t !== x + (a | 0);
  r[op & 7] = t;
  return 1;
});
on(Op.ADD_RD_SP_IMM, (m, op) => {
  m.r[(op >> 8) & 7] = m.r[13] + ((op & 0xff) << 2);
  return 1;
});
on(Op.ADD_SP_IMM, (m, op) => {
  m.r[13] = (m.r[13] + ((op & 0x7f) << 2)) & -4;
  return 1;
});
on(Op.ADDS_T1, (m, op) => {
  m.r[op & 7] = addFlags(m.core, m.r[(op >> 3) & 7] | 0, (op >> 6) & 7);
  return 1;
});
on(Op.ADDS_T2, (m, op) => {
  m.r[(op >> 8) & 7] = addFlags(m.core, m.r[(op >> 8) & 7] | 0, op & 0xff);
  return 1;
});
on(Op.ADDS_REG, (m, op) => {
  m.r[op & 7] = addFlags(m.core, m.r[(op >> 3) & 7] | 0, m.r[(op >> 6) & 7] | 0);
  return 1;
});
on(Op.ADD_REG, (m, op, pc) => {
  const r = m.r;
  const Rm = (op >> 3) & 0xf;
  const Rdn = ((op & 0x80) >> 4) | (op & 7);
  const L = Rdn === 15 ? pc + 4 : r[Rdn];
  const R = Rm === 15 ? pc + 4 : r[Rm];
  if (Rdn === 15) {
    r[15] = (L + R) & -2;
    return 2;
  }
  r[Rdn] = Rdn === 13 ? (L + R) & -4 : L + R;
  return 1;
});
on(Op.ADR, (m, op, pc) => {
  m.r[(op >> 8) & 7] = (pc & ~3) + 4 + ((op & 0xff) << 2);
  return 1;
});
on(Op.ANDS, (m, op) => {
  const t = m.r[op & 7] & m.r[(op >> 3) & 7];
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.ASRS_IMM, (m, op) => {
  const sh = ((op >> 6) & 0x1f) || 32;
  const v = m.r[(op >> 3) & 7] | 0;
  const t = sh < 32 ? v >> sh : v >> 31;
  m.core.C = (v & (1 << (sh - 1))) !== 0;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.ASRS_REG, (m, op) => {
  let a = m.r[(op >> 3) & 7] & 255;
  if (a > 32) a = 32;
  const v = m.r[op & 7] | 0;
  const t = a < 32 ? v >> a : v >> 31;
  m.core.C = (v & (1 << (a - 1))) !== 0;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.B_COND, (m, op, pc) => {
  const taken = condition(m.core, (op >> 8) & 0xf);
  if (m.branches !== null) m.branches.record(pc, taken);
  if (!taken) return 1;
  m.r[15] = pc + 4 + (((op & 0xff) << 24) >> 23);
  return 2;
});
on(Op.B, (m, op, pc) => {
  m.r[15] = pc + 4 + (((op & 0x7ff) << 21) >> 20);
  return 2;
});
on(Op.BICS, (m, op) => {
  const t = m.r[op & 7] & ~m.r[(op >> 3) & 7];
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
// BKPT: the boot ROM's routines (our HLE bootrom) and debuggers answer it through the chip.
on(Op.BKPT, (m, op) => {
  const core = m.core;
  core.cycles = m.cyc;
  core.breakRewind = 2;
  core.rp2040.onBreak(op & 0xff);
  m.io = true;
  return 1;
});
on(Op.BLX, (m, op, pc) => {
  const r = m.r;
  r[14] = (pc + 2) | 1;
  r[15] = r[(op >> 3) & 0xf] & -2;
  if (m.core.blTaken !== m.env.bl0) {
    m.core.cycles = m.cyc;
    m.core.blTaken(m.core, true);
  }
  return 2;
});
on(Op.BX, (m, op) => {
  const a = m.r[(op >> 3) & 0xf];
  if (m.core.currentMode === 1 && a >>> 28 === 15) return -1; // exception return
  m.r[15] = a & -2;
  return 2;
});
on(Op.CMN, (m, op) => {
  addFlags(m.core, m.r[op & 7] | 0, m.r[(op >> 3) & 7] | 0);
  return 1;
});
on(Op.CMP_IMM, (m, op) => {
  subFlags(m.core, m.r[(op >> 8) & 7] | 0, op & 0xff);
  return 1;
});
on(Op.CMP_REG, (m, op) => {
  subFlags(m.core, m.r[op & 7] | 0, m.r[(op >> 3) & 7] | 0);
  return 1;
});
on(Op.CMP_HI, (m, op) => {
  subFlags(m.core, m.r[((op >> 4) & 8) | (op & 7)] | 0, m.r[(op >> 3) & 0xf] | 0);
  return 1;
});
on(Op.EORS, (m, op) => {
  const t = m.r[(op >> 3) & 7] ^ m.r[op & 7];
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.LDMIA, (m, op) => {
  const r = m.r;
  const list = op & 0xff;
  const b = (op >> 8) & 7;
  const cnt = POPCOUNT[list];
  const a = r[b];
  if (cnt > 0) {
    if (a & 3) return -1;
    let mem = m.env.s32;
    let o = a - SRAM_BASE;
    if (o >>> 0 <= m.env.s8.length - 4 * cnt) o >>= 2;
    else if (a >>> 26 === 4 && (a & FLASH_MASK) <= FLASH_SIZE - 4 * cnt) {
      mem = m.env.f32;
      o = (a & FLASH_MASK) >> 2;
    } else return -1;
    for (let i = 0; i < 8; i++) if (list & (1 << i)) r[i] = mem[o++];
  }
  if (!(list & (1 << b))) r[b] = a + 4 * cnt;
  return 1 + cnt;
});
on(Op.LDR_IMM, (m, op) => loadWord(m, m.r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 2), op & 7));
on(Op.LDR_SP, (m, op) => loadWord(m, m.r[13] + ((op & 0xff) << 2), (op >> 8) & 7));
on(Op.LDR_LIT, (m, op, pc) => loadWord(m, ((pc + 4) & ~3) + ((op & 0xff) << 2), (op >> 8) & 7));
on(Op.LDR_REG, (m, op) => loadWord(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], op & 7));
on(Op.LDRB_IMM, (m, op) => loadByte(m, m.r[(op >> 3) & 7] + ((op >> 6) & 0x1f), op & 7, false));
on(Op.LDRB_REG, (m, op) => loadByte(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], op & 7, false));
on(Op.LDRSB, (m, op) => loadByte(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], op & 7, true));
on(Op.LDRH_IMM, (m, op) => loadHalf(m, m.r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 1), op & 7, false));
on(Op.LDRH_REG, (m, op) => loadHalf(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], op & 7, false));
on(Op.LDRSH, (m, op) => loadHalf(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], op & 7, true));
on(Op.LSLS_IMM, (m, op) => {
  const sh = (op >> 6) & 0x1f;
  const v = m.r[(op >> 3) & 7] | 0;
  const t = v << sh;
  if (sh) m.core.C = (v & (1 << (32 - sh))) !== 0;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.LSLS_REG, (m, op) => {
  const a = m.r[(op >> 3) & 7] & 255;
  const v = m.r[op & 7] | 0;
  const t = a >= 32 ? 0 : v << a;
  if (a) m.core.C = (v & (1 << (32 - a))) !== 0;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.LSRS_IMM, (m, op) => {
  const sh = (op >> 6) & 0x1f;
  const v = m.r[(op >> 3) & 7] | 0;
  const t = sh ? (v >>> sh) | 0 : 0;
  m.core.C = ((v >>> (sh ? sh - 1 : 31)) & 1) !== 0;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.LSRS_REG, (m, op) => {
  const a = m.r[(op >> 3) & 7] & 255;
  const v = m.r[op & 7] | 0;
  const t = a < 32 ? (v >>> a) | 0 : 0;
  m.core.C = a <= 32 ? ((v >>> (a - 1)) & 1) !== 0 : false;
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.MOV, (m, op, pc) => {
  const Rm = (op >> 3) & 0xf;
  const Rd = ((op >> 4) & 8) | (op & 7);
  const v = Rm === 15 ? pc + 4 : m.r[Rm];
  if (Rd === 15) {
    m.r[15] = v & -2;
    return 2;
  }
  m.r[Rd] = Rd === 13 ? v & -4 : v;
  return 1;
});
on(Op.MOVS, (m, op) => {
  m.r[(op >> 8) & 7] = op & 0xff;
  m.core.N = false;
  m.core.Z = (op & 0xff) === 0;
  return 1;
});
on(Op.MULS, (m, op) => {
  const t = Math.imul(m.r[(op >> 3) & 7], m.r[op & 7]);
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.MVNS, (m, op) => {
  const t = ~m.r[(op >> 3) & 7];
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.NEGS, (m, op) => {
  m.r[op & 7] = subFlags(m.core, 0, m.r[(op >> 3) & 7] | 0);
  return 1;
});
on(Op.NOP, () => 1);
on(Op.ORRS, (m, op) => {
  const t = m.r[op & 7] | m.r[(op >> 3) & 7];
  m.r[op & 7] = t;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.POP, (m, op) => {
  const r = m.r;
  const list = op & 0xff;
  const P = (op >> 8) & 1;
  const cnt = POPCOUNT[list];
  const words = cnt + P;
  const a = r[13];
  let o = 0;
  if (words > 0) {
    if (a & 3 || (o = a - SRAM_BASE) >>> 0 > m.env.s8.length - 4 * words) return -1;
    o >>= 2;
  }
  const s32 = m.env.s32;
  let v = 0;
  if (P) {
    v = s32[o + cnt];
    if (m.core.currentMode === 1 && v >>> 28 === 15) return -1; // exception return
  }
  for (let i = 0; i < 8; i++) if (list & (1 << i)) r[i] = s32[o++];
  r[13] = (a + 4 * words) & -4;
  if (P) r[15] = v & -2;
  return staticCycles(Op.POP, op);
});
on(Op.PUSH, (m, op) => {
  const r = m.r;
  const list = op & 0xff;
  const words = POPCOUNT[list] + ((op >> 8) & 1);
  if (words === 0) return 1;
  const a = r[13] - 4 * words;
  let o = a - SRAM_BASE;
  if (a & 3 || o >>> 0 > m.env.s8.length - 4 * words) return -1;
  o >>= 2;
  const w = o;
  const s32 = m.env.s32;
  for (let i = 0; i < 8; i++) if (list & (1 << i)) s32[o++] = r[i];
  if (op & 0x100) s32[o] = r[14];
  r[13] = a & -4;
  storedWords(m, w, words, a);
  return staticCycles(Op.PUSH, op);
});
on(Op.REV, (m, op) => {
  const v = m.r[(op >> 3) & 7];
  m.r[op & 7] = ((v & 255) << 24) | (((v >> 8) & 255) << 16) | (((v >> 16) & 255) << 8) | ((v >> 24) & 255);
  return 1;
});
on(Op.REV16, (m, op) => {
  const v = m.r[(op >> 3) & 7];
  m.r[op & 7] = (((v >> 16) & 255) << 24) | (((v >> 24) & 255) << 16) | ((v & 255) << 8) | ((v >> 8) & 255);
  return 1;
});
on(Op.REVSH, (m, op) => {
  const v = m.r[(op >> 3) & 7];
  m.r[op & 7] = ((((v & 255) << 8) | ((v >> 8) & 255)) << 16) >> 16;
  return 1;
});
on(Op.ROR, (m, op) => {
  const a = (m.r[(op >> 3) & 7] & 255) % 32;
  const v = m.r[op & 7] | 0;
  const t = (v >>> a) | (v << (32 - a));
  m.r[op & 7] = t;
  m.core.C = t < 0;
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.SBCS, (m, op) => {
  const core = m.core;
  const v = m.r[op & 7];
  const a = m.r[(op >> 3) & 7] + (core.C ? 0 : 1);
  const t = (v - a) | 0;
  core.N = t < 0;
  core.Z = t === 0;
  core.C = v >= a;
  core.V = ((v ^ a) & (v ^ t)) < 0;
  m.r[op & 7] = t;
  return 1;
});
on(Op.STMIA, (m, op) => {
  const r = m.r;
  const list = op & 0xff;
  const b = (op >> 8) & 7;
  const cnt = POPCOUNT[list];
  if (cnt === 0) return 1;
  const a = r[b];
  let o = a - SRAM_BASE;
  if (a & 3 || o >>> 0 > m.env.s8.length - 4 * cnt) return -1;
  o >>= 2;
  const w = o;
  const s32 = m.env.s32;
  for (let i = 0; i < 8; i++) if (list & (1 << i)) s32[o++] = r[i];
  if (!(list & (1 << b))) r[b] = a + 4 * cnt;
  storedWords(m, w, cnt, a);
  return 1 + cnt;
});
on(Op.STR_IMM, (m, op) => storeWord(m, m.r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 2), m.r[op & 7]));
on(Op.STR_SP, (m, op) => storeWord(m, m.r[13] + ((op & 0xff) << 2), m.r[(op >> 8) & 7]));
on(Op.STR_REG, (m, op) => storeWord(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], m.r[op & 7]));
on(Op.STRB_IMM, (m, op) => storeByte(m, m.r[(op >> 3) & 7] + ((op >> 6) & 0x1f), m.r[op & 7]));
on(Op.STRB_REG, (m, op) => storeByte(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], m.r[op & 7]));
on(Op.STRH_IMM, (m, op) => storeHalf(m, m.r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 1), m.r[op & 7]));
on(Op.STRH_REG, (m, op) => storeHalf(m, m.r[(op >> 6) & 7] + m.r[(op >> 3) & 7], m.r[op & 7]));
on(Op.SUB_SP, (m, op) => {
  m.r[13] = (m.r[13] - ((op & 0x7f) << 2)) & -4;
  return 1;
});
on(Op.SUBS_T1, (m, op) => {
  m.r[op & 7] = subFlags(m.core, m.r[(op >> 3) & 7] | 0, (op >> 6) & 7);
  return 1;
});
on(Op.SUBS_T2, (m, op) => {
  m.r[(op >> 8) & 7] = subFlags(m.core, m.r[(op >> 8) & 7] | 0, op & 0xff);
  return 1;
});
on(Op.SUBS_REG, (m, op) => {
  m.r[op & 7] = subFlags(m.core, m.r[(op >> 3) & 7] | 0, m.r[(op >> 6) & 7] | 0);
  return 1;
});
on(Op.SXTB, (m, op) => {
  m.r[op & 7] = (m.r[(op >> 3) & 7] << 24) >> 24;
  return 1;
});
on(Op.SXTH, (m, op) => {
  m.r[op & 7] = (m.r[(op >> 3) & 7] << 16) >> 16;
  return 1;
});
on(Op.TST, (m, op) => {
  const t = m.r[op & 7] & m.r[(op >> 3) & 7];
  m.core.N = t < 0;
  m.core.Z = t === 0;
  return 1;
});
on(Op.UXTB, (m, op) => {
  m.r[op & 7] = m.r[(op >> 3) & 7] & 255;
  return 1;
});
on(Op.UXTH, (m, op) => {
  m.r[op & 7] = m.r[(op >> 3) & 7] & 65535;
  return 1;
});
// CPSID/CPSIE i as rp2040js runs them; after CPSIE the next instruction goes through rp2040js
// (interruptsUpdated), which takes a pending interrupt first.
on(Op.CPSID, (m) => {
  m.core.PM = true;
  return 1;
});
on(Op.CPSIE, (m) => {
  m.core.PM = false;
  m.core.interruptsUpdated = true;
  return 1;
});
// 32-bit instructions: BL, MRS, MSR and the barriers (no-ops taking 3 cycles) are run here.
on(WIDE, (m, op, pc) => {
  const a = pc - (pc & 1) + 2;
  const so = a - SRAM_BASE;
  let op2: number;
  if (so >= 0 && so < m.env.s8.length) op2 = m.env.s16[so >>> 1];
  else if (a >>> 26 === 4) op2 = m.env.f16[(a & FLASH_MASK) >>> 1];
  else return -1;
  // (the BL test is classify's: no test before it there matches a first halfword 0xf000-0xf7ff)
  if (op >> 11 !== 0x1e || op2 >> 14 !== 3 || ((op2 >> 12) & 1) !== 1) {
    const k = classify(op, op2);
    if (k === Op.MRS) {
      // rp2040js's own special-register read (flags and SP are the core's own here).
      const rd = (op2 >> 8) & 0xf;
      if (rd >= 13) return -1;
      m.r[rd] = m.core.readSpecialRegister(op2 & 0xff);
    } else if (k === Op.MSR) {
      // rp2040js's own special-register write: PRIMASK sets interruptsUpdated (the next
      // instruction goes through rp2040js, which takes a pending interrupt), CONTROL switches stacks.
      const rn = op & 0xf;
      if (rn >= 13) return -1;
      m.core.writeSpecialRegister(op2 & 0xff, m.r[rn]);
    } else if (k !== Op.DMB && k !== Op.DSB && k !== Op.ISB) return -1;
    m.r[15] = pc + 4;
    return 3;
  }
  const S = (op >> 10) & 1;
  const I1 = 1 - (S ^ ((op2 >> 13) & 1));
  const I2 = 1 - (S ^ ((op2 >> 11) & 1));
  const off = ((S ? 0xff : 0) << 24) | (I1 << 23) | (I2 << 22) | ((op & 0x3ff) << 12) | ((op2 & 0x7ff) << 1);
  const r = m.r;
  r[14] = (pc + 4) | 1;
  r[15] = pc + 4 + off;
  if (m.core.blTaken !== m.env.bl0) {
    m.core.cycles = m.cyc;
    m.core.blTaken(m.core, false);
  }
  return 3;
});
