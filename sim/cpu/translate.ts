/**
 * Thumb → JavaScript translation of one block.
 *
 * A block is a trace: Thumb code from an entry PC along one path, up to (and including) a
 * control-flow instruction it cannot follow, or up to (excluding) the first instruction the
 * translator leaves to the interpreter, capped at `maxInstructions`. The trace follows B and BL;
 * a conditional branch whose target already runs often (see `likely`) when taken, else its
 * fall-through; and an indirect branch (`bx lr`, `pop {pc}`, a veneer's `bx r12`) to the target
 * it predicts — the return address of a call followed in the trace, or a value loaded from a
 * literal — with a run-time check that leaves the block when the real target differs. A write
 * to PRIMASK (CPSIE, MSR) goes on when no exception is pending at all. The generated function mirrors, instruction by
 * instruction, what rp2040js's `CortexM0Core.executeInstruction()` does: the same register and
 * flag results (including the interpreter's own corner cases, which the exhaustive tests pin
 * down), the same cycle count per instruction.
 *
 * Memory: loads from SRAM, flash (any XIP alias) and the ROM, and stores to SRAM, are done
 * directly on the byte arrays — none of them has side effects or depends on the clock. Any other
 * address (peripherals, SIO, PPB, USB RAM, unaligned accesses) makes the block exit *before*
 * that instruction, with every earlier instruction complete, so the engine can tick the clock up
 * to that point and let the interpreter perform the access at exactly the time it would have.
 *
 * Generated function: `(core, budget, E) => cycles`. It keeps registers and flags in locals, writes
 * them back on exit, sets `core.registers[15]` to the next PC and `E.n` to the number of
 * instructions executed, and returns the cycles they took. A block whose last instruction
 * branches back to its own entry loops inside the function while the cycles of the next pass
 * (up to its last instruction) stay below `budget`.
 */
import { FLASH_BASE, FLASH_MASK, FLASH_SIZE, ROM_SIZE, SRAM_BASE } from '../board/memory-map.ts';
import { Op, classify, disassemble, isWide, opSize, blOffset } from './thumb.ts';

export { FLASH_BASE, ROM_SIZE, SRAM_BASE };

/** Memory views a translated block works on. Rebuilt when the chip's arrays are replaced. */
export interface MemoryViews {
  s32: Int32Array;
  s16: Uint16Array;
  s8: Uint8Array;
  f32: Int32Array;
  f16: Uint16Array;
  f8: Uint8Array;
  b32: Uint32Array;
  /** Per SRAM word: how many translated blocks cover it (non-zero = stores must invalidate). */
  cw: Uint8Array;
}

/** The object a generated block closes over. */
export interface BlockEnv extends MemoryViews {
  /** Instructions executed by the last block call. */
  n: number;
  /** A store hit SRAM covered by translated code: invalidate it (the block then exits). */
  codeWrite(addr: number, len: number): void;
  /** Check mode only: record the old bytes of an SRAM range about to be stored to. */
  jw(offset: number, len: number): void;
  /** Set to 1 by a block that left after a peripheral access (inlineIO). */
  io: number;
  /**
   * Blocks removed from this cache so far: a block that calls out to code that may change
   * memory (BKPT: the ROM's memcpy) leaves when it changed, as it may be one of them.
   */
  removals: number;
  /** After a peripheral access (inlineIO): whether the engine's run must end (stop(), keepRunning). */
  halt(): boolean;
  /**
   * Peripheral accesses of translated code (inlineIO), with registers and flags already written
   * back: `(core, address, [value,] pcAfter, cyclesBefore)`. Each makes the core look as the
   * interpreter leaves it in the middle of that load/store — PC past it, `core.cycles` counting
   * the instructions before it — so peripherals, the board's clock and its poll detection see
   * the same state under both engines; then restores `core.cycles` and leaves in `xc` the
   * cycles beyond the 2 counted statically (bus wait states, whatever the peripheral charged).
   */
  rd32(core: unknown, addr: number, pc: number, d: number): number;
  rd16(core: unknown, addr: number, pc: number, d: number): number;
  rd8(core: unknown, addr: number, pc: number, d: number): number;
  wr32(core: unknown, addr: number, value: number, pc: number, d: number): void;
  wr16(core: unknown, addr: number, value: number, pc: number, d: number): void;
  wr8(core: unknown, addr: number, value: number, pc: number, d: number): void;
  xc: number;
  /** The core's blTaken hook as rp2040js sets it (a no-op): calls to it are skipped. */
  bl0: unknown;
}

/**
 * A translated block: `(core, budget, env) => cycles`. It depends on nothing but its source, so
 * one function serves every board and core of the process whose code translates to the same
 * source (see block-library.ts).
 */
export type BlockFn = (core: unknown, budget: number, env: BlockEnv) => number;

/** The memory views a block may use (MemoryViews' fields), destructured from its env per call. */
const VIEW_NAMES = ['s32', 's16', 's8', 'f32', 'f16', 'f8', 'b32', 'cw'] as const;
const VIEW_USE = VIEW_NAMES.map((name) => new RegExp(`\\b${name}\\b`));

export interface TranslatedInstr {
  pc: number;
  op: number;
  op2: number;
  size: number;
  cycles: number;
  /** A B/BL in the middle of a trace: execution continues with the next entry (its target). */
  followed?: boolean;
  /**
   * An indirect branch (BX, MOV PC, POP {PC}) in the middle of a trace: the target the trace
   * predicted (an odd Thumb address). The generated code compares the real target with it and
   * leaves the block when they differ; when they agree execution continues with the next entry.
   */
  predicted?: number;
  /** A conditional branch the trace follows when taken (it leaves the block when not taken). */
  takenFollowed?: boolean;
}

export interface BlockCode {
  /** Entry PC (exact register value, may be odd after exception entry: see engine.ts). */
  pc: number;
  /** Instructions in the block (one pass). */
  instrs: TranslatedInstr[];
  /** Static cycles of all instructions but the last (the last may add a taken-branch cycle). */
  cyclesBeforeLast: number;
  /** Byte ranges [start, end) the block was translated from: its code (one range per straight
   *  run of the trace) and literal-pool words it loads. */
  ranges: [number, number][];
  loops: boolean;
  source: string;
}

export interface TranslateOptions {
  maxInstructions: number;
  /** Emit journal calls before SRAM stores (check mode). */
  journal: boolean;
  /**
   * Perform other memory accesses (peripherals, SIO, unaligned) inside the block through the
   * core's own read/write methods (E.rd32...), then leave the block unless the engine would go on
   * anyway (see ioCheck). Only valid when the clock does not
   * move during `run` (the caller ticks it): the access then sees the same time as in the
   * interpreter. Not with `journal` (check mode replays instructions; side effects would double).
   */
  inlineIO?: boolean;
  /**
   * Whether code at `pc` runs often (a translated block, or an entry counted at least half as
   * often as a block's threshold): a conditional branch to it is then followed when taken, and
   * its fall-through leaves the block.
   */
  likely?: (pc: number) => boolean;
  /**
   * How consistently the conditional branch at `pc` went one way while interpreted (−127 never
   * taken … 127 always taken; see BranchProfile): beyond ±BIAS_FOLLOW the trace follows that
   * way, whatever `likely` says.
   */
  bias?: (pc: number) => number;
}

/** A branch profile this strong decides which way a trace goes at a conditional branch. */
export const BIAS_FOLLOW = 32;

type Region = 'sram' | 'flash' | 'rom';

/** Which memory a fetch address lies in, for the translator (null = not translatable). */
export function codeRegion(addr: number, sramSize: number): Region | null {
  addr = addr >>> 0;
  if (addr - SRAM_BASE >= 0 && addr - SRAM_BASE < sramSize) return 'sram';
  if (addr >>> 26 === 4) return 'flash';
  if (addr < ROM_SIZE) return 'rom';
  return null;
}

/** Read a code halfword the way the interpreter's fetch would see it. */
export function fetch16(v: MemoryViews, addr: number): number {
  addr = addr >>> 0;
  const so = addr - SRAM_BASE;
  if (so >= 0 && so < v.s8.length - 1) return v.s8[so] | (v.s8[so + 1] << 8);
  if (addr >>> 26 === 4) {
    const fo = addr & FLASH_MASK;
    return v.f8[fo] | (v.f8[(fo + 1) & FLASH_MASK] << 8);
  }
  if (addr < ROM_SIZE) {
    const w = v.b32[addr >>> 2];
    return addr & 2 ? w >>> 16 : w & 0xffff;
  }
  return -1;
}

const BRANCHES = new Set<Op>([Op.B, Op.B_COND, Op.BL, Op.BLX, Op.BX, Op.POP]);

/** Base cycles the interpreter charges, for instructions the translator handles. */
export function staticCycles(kind: Op, op: number): number {
  switch (kind) {
    case Op.B:
    case Op.BLX:
    case Op.BX:
      return 2;
    case Op.BL:
      return 3;
    case Op.DMB:
    case Op.DSB:
    case Op.ISB:
    case Op.MRS:
    case Op.MSR:
      return 3;
    case Op.LDR_IMM:
    case Op.LDR_SP:
    case Op.LDR_LIT:
    case Op.LDR_REG:
    case Op.LDRB_IMM:
    case Op.LDRB_REG:
    case Op.LDRH_IMM:
    case Op.LDRH_REG:
    case Op.LDRSB:
    case Op.LDRSH:
    case Op.STR_IMM:
    case Op.STR_SP:
    case Op.STR_REG:
    case Op.STRB_IMM:
    case Op.STRB_REG:
    case Op.STRH_IMM:
    case Op.STRH_REG:
      return 2; // 1 + cyclesIO() for SRAM/flash/ROM; other addresses leave the block
    case Op.LDMIA:
    case Op.STMIA:
      return 1 + popcount(op & 0xff);
    case Op.PUSH:
      return 1 + popcount(op & 0xff);
    case Op.POP:
      return 1 + popcount(op & 0xff) + (op & 0x100 ? 2 : 0);
    case Op.ADD_REG:
      return (((op & 0x80) >> 4) | (op & 7)) === 15 ? 2 : 1;
    case Op.MOV:
      return (((op >> 4) & 8) | (op & 7)) === 15 ? 2 : 1;
    default:
      return 1;
  }
}

function popcount(x: number): number {
  let n = 0;
  while (x) {
    n += x & 1;
    x >>>= 1;
  }
  return n;
}

/** Whether the translator emits code for this instruction (else the block stops before it). */
function translatable(kind: Op, op: number, op2: number, pc: number, sramSize: number, inlineIO: boolean): boolean {
  switch (kind) {
    case Op.BKPT:
      // The chip's onBreak (the HLE ROM's routines) is called like a peripheral access.
      return inlineIO;
    case Op.MSR:
      // PRIMASK only (the other special registers switch stacks or modes): see the emitter.
      return (op2 & 0xff) === 16 && (op & 0xf) < 15;
    case Op.SEV:
    case Op.SVC:
    case Op.UDF:
    case Op.UDF_W:
    case Op.WFE:
    case Op.WFI:
    case Op.YIELD:
    case Op.UNKNOWN:
      return false;
    case Op.MRS:
      return ((op2 >> 8) & 0xf) < 13;
    case Op.LDR_LIT: {
      const addr = (((pc & ~1) + 4) & ~3) + ((op & 0xff) << 2);
      const r = codeRegion(addr, sramSize);
      return r === 'sram' || r === 'flash' || r === 'rom';
    }
    default:
      return true;
  }
}

function isTerminator(kind: Op, op: number): boolean {
  if (BRANCHES.has(kind)) return kind !== Op.POP || (op & 0x100) !== 0;
  if (kind === Op.ADD_REG) return (((op & 0x80) >> 4) | (op & 7)) === 15;
  if (kind === Op.MOV) return (((op >> 4) & 8) | (op & 7)) === 15;
  return false;
}

const u32 = (n: number): number => n >>> 0;
/** Placeholder line after a call out that may change registers: every local is reloaded there. */
const RELOAD = '/* reload */';
/**
 * Placeholder before a call out, filled in by emit(): every register and flag the block writes is
 * written back there — in a block that loops, a later instruction of the body wrote them in the
 * pass before; otherwise those written so far.
 */
const SYNC = /\/\* sync (\d+) \*\//g;
const i32 = (n: number): string => String(n | 0);

/**
 * Translate the block at `pc`. Returns null when the first instruction is one the translator
 * leaves to the interpreter (or the PC is not in translatable memory).
 */
export function translateBlock(views: MemoryViews, pc: number, opts: TranslateOptions): BlockCode | null {
  const sramSize = views.s8.length;
  // The memory of the current straight run (a followed branch may lead into another one).
  let region = codeRegion(pc & ~1, sramSize);
  if (!region) return null;
  const instrs: TranslatedInstr[] = [];
  const entry = pc >>> 0;
  let cur = entry;
  let lastTerminator = false;
  const ranges: [number, number][] = [];
  let runStart = (cur & ~1) >>> 0;
  let runFirst = 0; // index of the current run's first instruction
  const visited = new Set<number>();
  // Indirect-branch prediction (checked at run time, so a wrong guess only ends the block):
  // return addresses of the calls followed in this trace, and registers holding a value known
  // at translation time (literal loads and copies of them: the long-branch veneer
  // `ldr r0, =f; mov r12, r0; bx r12`).
  const returns: number[] = [];
  const known = new Map<number, number>();
  /** The trace goes on at `target` after the instruction at `fa` (a followed branch). */
  const follow = (target: number, fa: number, size: number): void => {
    ranges.push([runStart, (fa + size) >>> 0]);
    region = codeRegion(target & ~1, sramSize)!;
    cur = target;
    runStart = (target & ~1) >>> 0;
    runFirst = instrs.length;
    known.clear();
  };
  while (instrs.length < opts.maxInstructions) {
    const fa = (cur & ~1) >>> 0;
    if (codeRegion(fa, sramSize) !== region || codeRegion(fa + 1, sramSize) !== region) break;
    const op = fetch16(views, fa);
    let op2 = 0;
    if (isWide(op)) {
      if (codeRegion(fa + 3, sramSize) !== region) break;
      op2 = fetch16(views, fa + 2);
    }
    const kind = classify(op, op2);
    if (!translatable(kind, op, op2, cur, sramSize, opts.inlineIO === true)) break;
    if (kind === Op.LDR_LIT) {
      const la = u32((((cur & ~1) + 4) & ~3) + ((op & 0xff) << 2));
      if (codeRegion(la, sramSize) === region) ranges.push([la, la + 4]);
    }
    const size = opSize(kind);
    instrs.push({ pc: cur, op, op2, size, cycles: staticCycles(kind, op) });
    visited.add(cur);
    const next = u32(cur + size);
    const guess = indirectTarget(kind, op, returns, known);
    if (guess !== null) {
      const target = u32(guess & ~1);
      const followable =
        (guess & 1) === 1 && target !== entry && !visited.has(target) && codeRegion(target, sramSize) !== null && instrs.length < opts.maxInstructions;
      if (followable) {
        instrs[instrs.length - 1].predicted = u32(guess);
        follow(target, fa, size);
        continue;
      }
    }
    if (kind === Op.B_COND && opts.likely) {
      const target = u32(cur + 4 + branchOffset(kind, op));
      const tr = codeRegion(target, sramSize);
      const b = opts.bias ? opts.bias(cur) : 0;
      const taken = b >= BIAS_FOLLOW || (b > -BIAS_FOLLOW && opts.likely(target));
      if (target !== entry && !visited.has(target) && tr !== null && instrs.length < opts.maxInstructions && taken) {
        const ins = instrs[instrs.length - 1];
        ins.takenFollowed = true;
        ins.cycles = 2;
        follow(target, fa, size);
        continue;
      }
    }
    trackKnown(views, kind, op, cur, sramSize, region, known);
    // Unconditional direct branches and calls are followed: the trace goes on at the target.
    if (kind === Op.B || kind === Op.BL) {
      const target = u32(cur + 4 + (kind === Op.B ? branchOffset(kind, op) : blOffset(op, op2)));
      const followable =
        target !== entry && !visited.has(target) && codeRegion(target & ~1, sramSize) !== null && instrs.length < opts.maxInstructions;
      if (!followable) {
        lastTerminator = true;
        cur = next;
        break;
      }
      instrs[instrs.length - 1].followed = true;
      if (kind === Op.BL) returns.push(u32((cur + 4) | 1));
      follow(target, fa, size);
      continue;
    }
    cur = next;
    if (kind !== Op.B_COND && isTerminator(kind, op)) {
      lastTerminator = true;
      break;
    }
    if (kind === Op.B_COND && instrs.length >= opts.maxInstructions) {
      lastTerminator = true;
      break;
    }
  }
  if (instrs.length === 0) return null;
  const lastI = instrs[instrs.length - 1];
  // (A followed branch whose target turned out untranslatable ends the trace with an empty run.)
  if (runFirst < instrs.length) ranges.push([runStart, ((lastI.pc & ~1) + lastI.size) >>> 0]);
  let cbl = 0;
  for (let i = 0; i < instrs.length - 1; i++) cbl += instrs[i].cycles;
  const g = new Gen(views, instrs, entry, lastTerminator ? null : cur, opts, cbl);
  const source = g.emit();
  return { pc: entry, instrs, cyclesBeforeLast: cbl, ranges: mergeRanges(ranges), loops: g.loops, source };
}

/**
 * The target the trace predicts for an indirect branch, or null: `bx lr` and `pop {…, pc}`
 * return to the innermost call followed in the trace; `bx Rm` / `mov pc, Rm` go where a known
 * value of Rm points.
 */
function indirectTarget(kind: Op, op: number, returns: number[], known: Map<number, number>): number | null {
  if (kind === Op.POP) return op & 0x100 ? (returns.pop() ?? null) : null;
  if (kind === Op.BX) {
    const Rm = (op >> 3) & 0xf;
    if (Rm === 14 && returns.length > 0) return returns.pop()!;
    return known.get(Rm) ?? null;
  }
  if (kind === Op.MOV && (((op >> 4) & 8) | (op & 7)) === 15) return known.get((op >> 3) & 0xf) ?? null;
  return null;
}

/**
 * Follow register values known at translation time through one instruction: a literal load
 * from the code's own memory region, a word loaded through a known pointer, a move of an
 * immediate or of a known register; any other
 * instruction may write any register and forgets them all, except that PUSH writes none and
 * POP only its list. (Only a prediction: the generated code checks it.)
 */
function trackKnown(views: MemoryViews, kind: Op, op: number, pc: number, sramSize: number, region: Region, known: Map<number, number>): void {
  switch (kind) {
    case Op.LDR_LIT: {
      const la = u32((((pc & ~1) + 4) & ~3) + ((op & 0xff) << 2));
      const lo = codeRegion(la, sramSize) === region && codeRegion(la + 3, sramSize) === region ? fetch16(views, la) : -1;
      const hi = lo >= 0 ? fetch16(views, la + 2) : -1;
      if (lo >= 0 && hi >= 0) known.set((op >> 8) & 7, u32(lo | (hi << 16)));
      else known.delete((op >> 8) & 7);
      return;
    }
    case Op.MOV: {
      const Rm = (op >> 3) & 0xf;
      const Rd = ((op >> 4) & 8) | (op & 7);
      const v = known.get(Rm);
      if (v !== undefined && Rm !== 15) known.set(Rd, v);
      else known.delete(Rd);
      return;
    }
    case Op.MOVS:
      known.set((op >> 8) & 7, op & 0xff);
      return;
    case Op.LDR_IMM: {
      // A word loaded through a known pointer (a function-pointer table: the ROM's float table
      // copied to RAM, a veneer's target): its value now, a guess the branch checks.
      const base = known.get((op >> 3) & 7);
      const la = base === undefined ? -1 : u32(base + (((op >> 6) & 0x1f) << 2));
      const lo = la >= 0 && (la & 3) === 0 && codeRegion(la, sramSize) !== null && codeRegion(la + 3, sramSize) !== null ? fetch16(views, la) : -1;
      const hi = lo >= 0 ? fetch16(views, la + 2) : -1;
      known.clear();
      if (lo >= 0 && hi >= 0) known.set(op & 7, u32(lo | (hi << 16)));
      return;
    }
    case Op.PUSH:
      return;
    case Op.POP:
      for (let i = 0; i < 8; i++) if (op & (1 << i)) known.delete(i);
      return;
    default:
      known.clear();
  }
}

const FLAG_NAMES = ['N', 'Z', 'C', 'V'] as const;
const FLAG_WRITE = FLAG_NAMES.map((f) => new RegExp(`(?<![\\w.])${f} = `));
const FLAG_COND_WRITE = FLAG_NAMES.map((f) => new RegExp(`if \\([^)]*\\) ${f} = `));
const FLAG_READ = FLAG_NAMES.map((f) => new RegExp(`(?<![\\w.])${f}(?![\\w])(?! = )`));
const FLAG_ASSIGN = FLAG_NAMES.map((f) => new RegExp(`(?<![\\w.])${f} = [^;]*;`, 'g'));
/** Text that may leave the block or let other code see the flags (then all flags are live). */
const OBSERVES_ALL = /break out|continue;|\bcore\.|\bE\./;

/**
 * Drop flag computations nothing can observe: a flag an instruction sets is dead when every
 * path from there sets it again before any instruction reads it and before any point where the
 * block may leave or call out (those write all flags back to the core). `spans[k]` are the lines
 * of instruction k; an instruction's own reads come before its writes.
 */
function pruneDeadFlags(lines: string[], spans: [number, number][]): void {
  let live = 15;
  for (let k = spans.length - 1; k >= 0; k--) {
    const [from, to] = spans[k];
    const text = lines.slice(from, to).join('\n');
    if (OBSERVES_ALL.test(text)) {
      live = 15;
      continue;
    }
    let writes = 0;
    let reads = 0;
    for (let f = 0; f < 4; f++) {
      if (FLAG_WRITE[f].test(text)) writes |= 1 << f;
      if (FLAG_READ[f].test(text) || FLAG_COND_WRITE[f].test(text)) reads |= 1 << f;
    }
    const dead = writes & ~live;
    if (dead) {
      for (let i = from; i < to; i++) {
        let l = lines[i];
        for (let f = 0; f < 4; f++) if (dead & (1 << f)) l = l.replace(FLAG_ASSIGN[f], ';');
        lines[i] = l;
      }
    }
    live = (live & ~writes) | reads;
  }
}

function mergeRanges(rs: [number, number][]): [number, number][] {
  const sorted = rs.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Human-readable listing of a block (for divergence reports). */
export function listBlock(code: BlockCode): string[] {
  return code.instrs.map((ins) => {
    const raw = ins.size === 4 ? `${hex4(ins.op)} ${hex4(ins.op2)}` : `${hex4(ins.op)}     `;
    return `  ${(ins.pc >>> 0).toString(16).padStart(8, '0')}: ${raw}  ${disassemble(ins.pc, ins.op, ins.op2)}`;
  });
}
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

const COND_EXPR = [
  'Z',
  '!Z',
  'C',
  '!C',
  'N',
  '!N',
  'V',
  '!V',
  '(C && !Z)',
  '!(C && !Z)',
  '(N === V)',
  '(N !== V)',
  '(N === V && !Z)',
  '!(N === V && !Z)',
];

class Gen {
  private readonly lines: string[] = [];
  private readonly readRegs = new Set<number>();
  private readonly writtenRegs = new Set<number>();
  private flagsRead = false;
  private readonly flagsWritten = new Set<string>();
  loops = false;
  private ioPending = false;
  private k = 0; // index of the instruction being emitted
  private S = 0; // static cycles before it
  private readonly sramSize: number;

  constructor(
    private readonly views: MemoryViews,
    private readonly instrs: TranslatedInstr[],
    private readonly entry: number,
    /** Next PC when the block ends without a branch (cap reached / untranslatable next). */
    private readonly fallPC: number | null,
    private readonly opts: TranslateOptions,
    private readonly cbl: number,
  ) {
    this.sramSize = views.s8.length;
  }

  private R(n: number, pcv: number): string {
    if (n === 15) return i32(pcv + 2);
    this.readRegs.add(n);
    return `r${n}`;
  }
  private W(n: number): string {
    this.writtenRegs.add(n);
    return `r${n}`;
  }
  private setFlags(...f: string[]): void {
    for (const x of f) this.flagsWritten.add(x);
  }
  private out(s: string): void {
    this.lines.push(s);
  }
  /** Leave the block before the current instruction. */
  /** Exit table: next PC (-1: computed, in `xpc`), cycles and instructions since `cyc`/`ic`. */
  private readonly exits: [number, number, number][] = [];
  private exitId(pc: number, c: number, n: number): number {
    const i = this.exits.findIndex((e) => e[0] === pc && e[1] === c && e[2] === n);
    if (i >= 0) return i;
    this.exits.push([pc, c, n]);
    return this.exits.length - 1;
  }
  private bail(pcv: number): string {
    return `{ x = ${this.exitId(u32(pcv), this.S, this.k)}; break out; }`;
  }
  /** Leave the block after the current instruction (it took `c` cycles) with next PC `next`. */
  private leave(next: string | number, c: number): string {
    if (typeof next === 'number') return `{ x = ${this.exitId(u32(next), this.S + c, this.k + 1)}; break out; }`;
    return `{ xpc = ${next}; x = ${this.exitId(-1, this.S + c, this.k + 1)}; break out; }`;
  }

  /**
   * Write every register and flag the block changes back to the core (before calling out). A
   * placeholder, filled in by emit() once the whole block is known: in a block that loops, a
   * register written after this point in the body was written by the pass before.
   */
  private syncAll(): string {
    // In a block that does not loop, registers written after this point still hold their entry
    // values here: what was written so far is enough (and keeps the code short).
    const parts: string[] = [];
    for (const i of this.writtenRegs) parts.push(`r[${i}] = r${i};`);
    for (const f of this.flagsWritten) parts.push(`core.${f} = ${f};`);
    this.syncSoFar.push(parts.join(' '));
    return `/* sync ${this.syncSoFar.length - 1} */`;
  }
  private readonly syncSoFar: string[] = [];

  private flagsNZ(t: string): void {
    this.out(`N = ${t} < 0; Z = ${t} === 0;`);
    this.setFlags('N', 'Z');
  }
  private addFlags(dst: number | null, x: string, y: string): void {
    // x, y: int32 expressions
    this.out(`v = (${x} >>> 0) + (${y} >>> 0); t = v | 0;`);
    this.out(`N = t < 0; Z = t === 0; C = v > 4294967295; V = t !== (${x}) + (${y});`);
    this.setFlags('N', 'Z', 'C', 'V');
    if (dst !== null) this.out(`${this.W(dst)} = t;`);
  }
  private subFlags(dst: number | null, x: string, y: string): void {
    this.out(`v = ${x} >>> 0; a = ${y} >>> 0; t = (v - a) | 0;`);
    this.out(`N = t < 0; Z = t === 0; C = v >= a; V = ((v ^ a) & (v ^ t)) < 0;`);
    this.setFlags('N', 'Z', 'C', 'V');
    if (dst !== null) this.out(`${this.W(dst)} = t;`);
  }

  private storeHit(idx: string, addr: string, len: number, size: number): string {
    return `if (cw[${idx}]) { E.codeWrite(${addr}, ${len}); ${this.leave(this.instrs[this.k].pc + size, this.instrs[this.k].cycles)} }`;
  }

  /**
   * After an instruction that made a peripheral access: the block goes on only when the engine
   * would run the next instructions without doing anything else in between — no interrupt to
   * check, the core not waiting, no translated code dropped meanwhile (`E.removals`: this block
   * may be one), the run not stopped (`E.halt`), and the block's remaining
   * instructions up to its last one still starting before `budget` with the cycles the access
   * added. Otherwise it leaves, as before, right after the instruction.
   */
  private ioCheck(ins: TranslatedInstr): string {
    return (
      `if (io) { io = 0; if (core.interruptsUpdated || core.waiting || E.removals !== g || cyc + ${this.cbl} >= budget || E.halt()) ` +
      `{ E.io = 1; ${this.leave(u32(ins.pc + ins.size), ins.cycles)} } }`
    );
  }

  /**
   * After CPSIE or MSR PRIMASK (which set `interruptsUpdated`): the interpreter's next
   * instruction first runs `checkForInterrupts()`. When no exception is pending at all, that
   * check takes nothing and only clears the flag, so the block does the same and goes on;
   * otherwise it leaves and the engine makes the check.
   */
  private interruptCheck(next: number, c: number): string {
    // As the block's last instruction it simply leaves (the flag stays set for the engine).
    if (this.k === this.instrs.length - 1) return this.leave(next, c);
    return (
      'if (core.pendingNMI || core.pendingSVCall || core.pendingPendSV || core.pendingSystick || ' +
      `(core.pendingInterrupts & core.enabledInterrupts) !== 0) ${this.leave(next, c)} else core.interruptsUpdated = false;`
    );
  }

  /** Load `size` bytes at the uint32 address in local `a` into local `v`, or bail. */
  private load(size: 1 | 2 | 4, pcv: number): void {
    const Z = this.sramSize;
    if (this.opts.inlineIO) {
      // Same as below, but anything else is read through the core like the interpreter does.
      const io = `{ ${this.syncAll()} g = E.removals; v = E.rd${size * 8}(core, ra, ${u32(pcv + 2)}, ${this.S} + cyc); cyc += E.xc; io = 1; }`;
      this.ioPending = true;
      // One copy of the peripheral path per instruction (generated code size matters).
      if (size === 4) {
        this.out(`if ((a & 3) === 0 && (o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s32[o >> 2];`);
        this.out(`else if ((a & 3) === 0 && (a >>> 26) === 4) v = f32[(a & ${FLASH_MASK}) >> 2];`);
        this.out(`else if ((a & 3) === 0 && a < ${ROM_SIZE}) v = b32[a >> 2] | 0;`);
        this.out(`else ${io}`);
      } else if (size === 2) {
        this.out(`if ((a & 1) === 0 && (o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s16[o >> 1];`);
        this.out(`else if ((a & 1) === 0 && (a >>> 26) === 4) v = f16[(a & ${FLASH_MASK}) >> 1];`);
        this.out(`else ${io}`);
      } else {
        this.out(`if ((o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s8[o];`);
        this.out(`else if ((a >>> 26) === 4) v = f8[a & ${FLASH_MASK}];`);
        this.out(`else ${io}`);
      }
      return;
    }
    if (size === 4) {
      this.out(`if (a & 3) ${this.bail(pcv)}`);
      this.out(`if ((o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s32[o >> 2];`);
      this.out(`else if ((a >>> 26) === 4) v = f32[(a & ${FLASH_MASK}) >> 2];`);
      this.out(`else if (a < ${ROM_SIZE}) v = b32[a >> 2] | 0;`);
      this.out(`else ${this.bail(pcv)}`);
    } else if (size === 2) {
      this.out(`if (a & 1) ${this.bail(pcv)}`);
      this.out(`if ((o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s16[o >> 1];`);
      this.out(`else if ((a >>> 26) === 4) v = f16[(a & ${FLASH_MASK}) >> 1];`);
      this.out(`else ${this.bail(pcv)}`);
    } else {
      this.out(`if ((o = a - ${SRAM_BASE}) >>> 0 < ${Z}) v = s8[o];`);
      this.out(`else if ((a >>> 26) === 4) v = f8[a & ${FLASH_MASK}];`);
      this.out(`else ${this.bail(pcv)}`);
    }
  }
  /** Store `val` (int32 expr) of `size` bytes at the uint32 address in local `a`, or bail. */
  private store(size: 1 | 2 | 4, val: string, pcv: number): void {
    const Z = this.sramSize;
    const align = size === 4 ? 'a & 3' : size === 2 ? 'a & 1' : '0';
    if (this.opts.inlineIO) {
      this.ioPending = true;
      this.out(`if (${align} || (o = a - ${SRAM_BASE}) >>> 0 >= ${Z}) { ${this.syncAll()} g = E.removals; E.wr${size * 8}(core, ra, (${val}) >>> 0, ${u32(pcv + 2)}, ${this.S} + cyc); cyc += E.xc; io = 1; } else {`);
    } else {
      this.out(`if (${align} || (o = a - ${SRAM_BASE}) >>> 0 >= ${Z}) ${this.bail(pcv)}`);
    }
    if (this.opts.journal) this.out(`E.jw(o, ${size});`);
    if (size === 4) this.out(`s32[o >> 2] = ${val};`);
    else if (size === 2) this.out(`s16[o >> 1] = ${val};`);
    else this.out(`s8[o] = ${val};`);
    this.out(this.storeHit('o >> 2', 'a', size, this.instrs[this.k].size));
    if (this.opts.inlineIO) this.out('}');
  }

  emit(): string {
    const body: string[] = [];
    const n = this.instrs.length;
    const last = this.instrs[n - 1];
    const lastKind = classify(last.op, last.op2);
    // A block ending in a branch back to its entry loops inside the function.
    void lastKind;
    for (const ins of this.instrs) {
      const k = classify(ins.op, ins.op2);
      if ((k === Op.B || k === Op.B_COND) && u32(ins.pc + 4 + branchOffset(k, ins.op)) === this.entry) this.loops = true;
    }
    const spans: [number, number][] = [];
    for (this.k = 0, this.S = 0; this.k < n; this.k++) {
      const ins = this.instrs[this.k];
      const from = this.lines.length;
      this.emitInstr(ins);
      if (this.ioPending) {
        this.ioPending = false;
        this.out(this.ioCheck(ins));
      }
      spans.push([from, this.lines.length]);
      this.S += ins.cycles;
    }
    pruneDeadFlags(this.lines, spans);
    const regs = [...new Set([...this.readRegs, ...this.writtenRegs])].sort((a, b) => a - b);
    const flagsUsed = this.flagsRead || this.flagsWritten.size > 0;
    const reload = regs.map((i) => `r${i} = r[${i}] | 0;`).join(' ') + (flagsUsed ? ' N = core.N; Z = core.Z; C = core.C; V = core.V;' : '');
    const sync = [...[...this.writtenRegs].map((i) => `r[${i}] = r${i};`), ...[...this.flagsWritten].map((f) => `core.${f} = ${f};`)].join(' ');
    for (let i = 0; i < this.lines.length; i++) {
      if (this.lines[i] === RELOAD) this.lines[i] = reload;
      else this.lines[i] = this.lines[i].replace(SYNC, (_m, k: string) => (this.loops ? sync : this.syncSoFar[+k]!));
    }
    if (this.fallPC !== null) {
      // Ran off the end without a branch: continue at the next instruction.
      this.k = n - 1;
      this.S -= last.cycles;
      this.out(this.leave(this.fallPC, last.cycles));
    }
    body.push(...this.lines);

    const head: string[] = [];
    head.push(`const XP = [${this.exits.map((e) => e[0]).join(',')}], XC = [${this.exits.map((e) => e[1]).join(',')}], XN = [${this.exits.map((e) => e[2]).join(',')}];`);
    head.push(`return function blk_${(this.entry >>> 0).toString(16)}(core, budget, E) {`);
    const text = body.join('\n');
    const views = VIEW_NAMES.filter((name, i) => name === 's32' || VIEW_USE[i].test(text));
    head.push(`const { ${views.join(', ')} } = E;`);
    head.push('const r = core.registers;');
    for (const i of regs) head.push(`let r${i} = r[${i}] | 0;`);
    if (flagsUsed) head.push('let N = core.N, Z = core.Z, C = core.C, V = core.V;');
    head.push('let a = 0, ra = 0, o = 0, v = 0, t = 0, cyc = 0, ic = 0, xpc = 0, x = 0, io = 0, d = 0, g = 0, m = s32;');
    head.push('out: {');
    if (this.loops) head.push('for (;;) {');
    const tail: string[] = [];
    if (this.loops) tail.push('}');
    tail.push('}');
    for (const i of [...this.writtenRegs].sort((a, b) => a - b)) tail.push(`r[${i}] = r${i};`);
    for (const f of ['N', 'Z', 'C', 'V']) if (this.flagsWritten.has(f)) tail.push(`core.${f} = ${f};`);
    tail.push('if (XP[x] >= 0) xpc = XP[x];');
    tail.push('r[15] = xpc; E.n = ic + XN[x]; return cyc + XC[x];');
    tail.push('};');
    return [...head, ...body, ...tail].join('\n');
  }

  /** The value of an aligned literal word in the same memory region as the code at `pcv`. */
  private literal(la: number, pcv: number): number | null {
    const region = codeRegion(pcv & ~1, this.sramSize);
    if (region === null || codeRegion(la, this.sramSize) !== region || (la & 3) !== 0) return null;
    const lo = fetch16(this.views, la);
    const hi = fetch16(this.views, la + 2);
    if (lo < 0 || hi < 0 || codeRegion(la + 3, this.sramSize) !== region) return null;
    return (lo | (hi << 16)) | 0;
  }

  private cond(c: number): string {
    this.flagsRead = true;
    return COND_EXPR[c];
  }

  /** Branch to a constant target as the last instruction (`taken` cycles include the branch). */
  private branchTo(target: number, cycles: number): void {
    if (this.loops && target === this.entry) {
      // Next pass: its instructions up to the last one must start before `budget`.
      this.out(`cyc += ${this.S + cycles}; ic += ${this.k + 1};`);
      this.out(`if (cyc + ${this.cbl} >= budget) { x = ${this.exitId(target, 0, 0)}; break out; }`);
      this.out('continue;');
    } else {
      this.out(this.leave(target, cycles));
    }
  }

  private emitInstr(ins: TranslatedInstr): void {
    const { op, op2 } = ins;
    const pcv = ins.pc >>> 0;
    const kind = classify(op, op2);
    const rd = op & 7;
    const rn = (op >> 3) & 7;
    const rm = (op >> 6) & 7;
    const imm5 = (op >> 6) & 0x1f;
    const imm8 = op & 0xff;
    const r8 = (op >> 8) & 7;
    const next = u32(pcv + ins.size);
    switch (kind) {
      case Op.ADCS: {
        this.flagsRead = true;
        const x = this.R(rn, pcv);
        const y = this.R(rd, pcv);
        this.out(`a = (${y} >>> 0) + (C ? 1 : 0); v = (${x} >>> 0) + a; t = v | 0;`);
        this.out(`N = t < 0; Z = t === 0; C = v > 4294967295; V = t !== (${x}) + (a | 0);`);
        this.setFlags('N', 'Z', 'C', 'V');
        this.out(`${this.W(rd)} = t;`);
        return;
      }
      case Op.ADD_RD_SP_IMM:
        this.out(`${this.W(r8)} = (${this.R(13, pcv)} + ${imm8 << 2}) | 0;`);
        return;
      case Op.ADD_SP_IMM:
        this.out(`${this.W(13)} = (${this.R(13, pcv)} + ${(op & 0x7f) << 2}) & -4;`);
        return;
      case Op.ADDS_T1:
        this.addFlags(rd, this.R(rn, pcv), String(rm));
        return;
      case Op.ADDS_T2:
        this.addFlags(r8, this.R(r8, pcv), String(imm8));
        return;
      case Op.ADDS_REG:
        this.addFlags(rd, this.R(rn, pcv), this.R(rm, pcv));
        return;
      case Op.ADD_REG: {
        const Rm = (op >> 3) & 0xf;
        const Rdn = ((op & 0x80) >> 4) | rd;
        const L = Rdn === 15 ? String(u32(pcv + 4)) : `(${this.R(Rdn, pcv)} >>> 0)`;
        const Rv = Rm === 15 ? String(u32(pcv + 4)) : `(${this.R(Rm, pcv)} >>> 0)`;
        if (Rdn === 15) {
          this.out(`a = ((${L} + ${Rv}) & -2) >>> 0;`);
          this.out(this.leave('a', 2));
        } else if (Rdn === 13) {
          this.out(`${this.W(13)} = (${L} + ${Rv}) & -4;`);
        } else {
          this.out(`${this.W(Rdn)} = (${L} + ${Rv}) | 0;`);
        }
        return;
      }
      case Op.ADR:
        this.out(`${this.W(r8)} = ${i32((((pcv & ~1) & ~3) + 4 + (imm8 << 2)) | 0)};`);
        return;
      case Op.ANDS:
        this.out(`t = ${this.R(rd, pcv)} & ${this.R(rn, pcv)}; ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.ASRS_IMM: {
        const sh = imm5 || 32;
        const x = this.R(rn, pcv);
        this.out(`v = ${x}; t = ${sh < 32 ? `v >> ${sh}` : 'v >> 31'};`);
        this.out(`C = (v & ${1 << (sh - 1)}) !== 0; ${this.W(rd)} = t;`);
        this.setFlags('C');
        this.flagsNZ('t');
        return;
      }
      case Op.ASRS_REG: {
        const x = this.R(rd, pcv);
        this.out(`a = ${this.R(rn, pcv)} & 255; if (a > 32) a = 32; v = ${x};`);
        this.out(`t = a < 32 ? v >> a : v >> 31; C = (v & (1 << (a - 1))) !== 0; ${this.W(rd)} = t;`);
        this.setFlags('C');
        this.flagsNZ('t');
        return;
      }
      case Op.B_COND: {
        const c = (op >> 8) & 0xf;
        const target = u32(pcv + 4 + branchOffset(kind, op));
        if (ins.takenFollowed) {
          // The trace goes on at the target (its next entry); not taken leaves the block.
          this.out(`if (!${this.cond(c)}) ${this.leave(next, 1)}`);
          return;
        }
        this.out(`if (${this.cond(c)}) {`);
        this.branchTo(target, 2);
        this.out('}');
        // Not taken: the trace goes on (the fall-through is the next entry), or ends here.
        if (this.k === this.instrs.length - 1) this.out(this.leave(next, 1));
        return;
      }
      case Op.B:
        if (ins.followed) return;
        this.branchTo(u32(pcv + 4 + branchOffset(kind, op)), 2);
        return;
      case Op.BICS:
        this.out(`t = ${this.R(rd, pcv)} & ~${this.R(rn, pcv)}; ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.BL: {
        const target = u32(pcv + 4 + blOffset(op, op2));
        this.out(`${this.W(14)} = ${i32((pcv + 4) | 1)};`);
        // The interpreter calls the blTaken hook with LR/PC already set.
        // The interpreter calls the blTaken hook with LR/PC set; skipped while it is the no-op default.
        this.out(`if (core.blTaken !== E.bl0) { ${this.syncAll()} r[15] = ${target}; core.blTaken(core, false); }`);
        if (!ins.followed) this.out(this.leave(target, 3));
        return;
      }
      case Op.BKPT: {
        // As the interpreter: PC past it, core.cycles counting the instructions before it, then
        // the chip's onBreak, which may change any register, PC, the cycles, the core's state.
        // The block reloads every register and flag it keeps in locals (RELOAD, filled in by
        // emit()), leaves if PC was changed or translated code was dropped meanwhile (the
        // routine wrote memory holding code: maybe this block's own), and goes on after it only
        // as after a peripheral access (see ioCheck); when it leaves, E.io tells the engine to
        // look at the core.
        this.out(`${this.syncAll()} r[15] = ${u32(pcv + 2)}; d = ${this.S} + cyc; a = core.cycles; core.cycles = a + d; g = E.removals;`);
        this.out(`core.breakRewind = 2; core.rp2040.onBreak(${op & 0xff}); cyc += core.cycles - a - d; core.cycles = a; io = 1;`);
        this.out(RELOAD);
        this.out(`if (r[15] !== ${next} || E.removals !== g) { E.io = 1; ${this.leave('r[15]', 1)} }`);
        this.ioPending = true;
        return;
      }
      case Op.BLX: {
        const Rm = (op >> 3) & 0xf;
        this.out(`${this.W(14)} = ${i32((pcv + 2) | 1)};`);
        const src = Rm === 15 ? String(u32(pcv + 2)) : Rm === 14 ? 'r14' : this.R(Rm, pcv);
        this.out(`a = (${src} & -2) >>> 0;`);
        this.out(`if (core.blTaken !== E.bl0) { ${this.syncAll()} r[15] = a; core.blTaken(core, true); }`);
        this.out(this.leave('a', 2));
        return;
      }
      case Op.BX: {
        const Rm = (op >> 3) & 0xf;
        const src = Rm === 15 ? String(u32(pcv + 2)) : this.R(Rm, pcv);
        this.out(`a = ${src} >>> 0;`);
        this.out(`if (core.currentMode === 1 && (a >>> 28) === 15) ${this.bail(pcv)}`);
        if (ins.predicted !== undefined) this.out(`if (a !== ${ins.predicted}) ${this.leave('(a & -2) >>> 0', 2)}`);
        else this.out(this.leave('(a & -2) >>> 0', 2));
        return;
      }
      case Op.CMN:
        this.addFlags(null, this.R(rd, pcv), this.R(rn, pcv));
        return;
      case Op.CMP_IMM:
        this.subFlags(null, this.R(r8, pcv), String(imm8));
        return;
      case Op.CMP_REG:
        this.subFlags(null, this.R(rd, pcv), this.R(rn, pcv));
        return;
      case Op.CMP_HI: {
        const Rm = (op >> 3) & 0xf;
        const Rn = ((op >> 4) & 8) | rd;
        this.subFlags(null, this.R(Rn, pcv), this.R(Rm, pcv));
        return;
      }
      case Op.CPSID:
        this.out('core.PM = true;');
        return;
      case Op.CPSIE:
        this.out('core.PM = false; core.interruptsUpdated = true;');
        this.out(this.interruptCheck(next, ins.cycles));
        return;
      case Op.DMB:
      case Op.DSB:
      case Op.ISB:
        return;
      case Op.EORS:
        this.out(`t = ${this.R(rn, pcv)} ^ ${this.R(rd, pcv)}; ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.LDMIA: {
        const list = imm8;
        const cnt = popcount(list);
        if (cnt === 0) {
          this.out(`a = ${this.R(r8, pcv)} >>> 0;`);
        } else {
          this.out(`a = ${this.R(r8, pcv)} >>> 0;`);
          this.out(`if (a & 3) ${this.bail(pcv)}`);
          this.out(`m = s32;`);
          this.out(`if ((o = a - ${SRAM_BASE}) >>> 0 <= ${this.sramSize - 4 * cnt}) o >>= 2;`);
          this.out(`else if ((a >>> 26) === 4 && (a & ${FLASH_MASK}) <= ${FLASH_SIZE - 4 * cnt}) { m = f32; o = (a & ${FLASH_MASK}) >> 2; }`);
          this.out(`else ${this.bail(pcv)}`);
          let j = 0;
          for (let i = 0; i < 8; i++) if (list & (1 << i)) this.out(`${this.W(i)} = m[o + ${j++}];`);
        }
        if (!(list & (1 << r8))) this.out(`${this.W(r8)} = (a + ${4 * cnt}) | 0;`);
        return;
      }
      case Op.LDR_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5 << 2} >>> 0); a = ra >>> 0;`);
        this.load(4, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDR_SP:
        this.out(`ra = (${this.R(13, pcv)} >>> 0) + (${imm8 << 2} >>> 0); a = ra >>> 0;`);
        this.load(4, pcv);
        this.out(`${this.W(r8)} = v;`);
        return;
      case Op.LDR_LIT: {
        const la = u32((((pcv + 4) & ~3) >>> 0) + (imm8 << 2));
        const lit = this.literal(la, pcv);
        if (lit !== null) {
          // A word of the block's own code region: part of its ranges, so any change to it
          // invalidates the block (a store by the block itself ends it first).
          this.out(`${this.W(r8)} = ${lit};`);
          return;
        }
        this.out(`a = ${la}; ra = a;`);
        this.load(4, pcv);
        this.out(`${this.W(r8)} = v;`);
        return;
      }
      case Op.LDR_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.load(4, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDRB_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5} >>> 0); a = ra >>> 0;`);
        this.load(1, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDRB_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.load(1, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDRH_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5 << 1} >>> 0); a = ra >>> 0;`);
        this.load(2, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDRH_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.load(2, pcv);
        this.out(`${this.W(rd)} = v;`);
        return;
      case Op.LDRSB:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.load(1, pcv);
        this.out(`${this.W(rd)} = (v << 24) >> 24;`);
        return;
      case Op.LDRSH:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.load(2, pcv);
        this.out(`${this.W(rd)} = (v << 16) >> 16;`);
        return;
      case Op.LSLS_IMM: {
        const x = this.R(rn, pcv);
        this.out(`v = ${x}; t = v << ${imm5};`);
        if (imm5) {
          this.out(`C = (v & ${1 << (32 - imm5)}) !== 0;`);
          this.setFlags('C');
        }
        this.out(`${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      }
      case Op.LSLS_REG: {
        this.out(`a = ${this.R(rn, pcv)} & 255; v = ${this.R(rd, pcv)};`);
        this.out(`t = a >= 32 ? 0 : v << a; if (a) C = (v & (1 << (32 - a))) !== 0; ${this.W(rd)} = t;`);
        this.setFlags('C');
        this.flagsRead = true;
        this.flagsNZ('t');
        return;
      }
      case Op.LSRS_IMM: {
        const x = this.R(rn, pcv);
        this.out(`v = ${x}; t = ${imm5 ? `(v >>> ${imm5}) | 0` : '0'};`);
        this.out(`C = ((v >>> ${imm5 ? imm5 - 1 : 31}) & 1) !== 0; ${this.W(rd)} = t;`);
        this.setFlags('C');
        this.flagsNZ('t');
        return;
      }
      case Op.LSRS_REG: {
        this.out(`a = ${this.R(rn, pcv)} & 255; v = ${this.R(rd, pcv)};`);
        this.out(`t = a < 32 ? (v >>> a) | 0 : 0; C = a <= 32 ? ((v >>> (a - 1)) & 1) !== 0 : false; ${this.W(rd)} = t;`);
        this.setFlags('C');
        this.flagsNZ('t');
        return;
      }
      case Op.MOV: {
        const Rm = (op >> 3) & 0xf;
        const Rd = ((op >> 4) & 8) | rd;
        const val = Rm === 15 ? String(u32(pcv + 4)) : this.R(Rm, pcv);
        if (Rd === 15) {
          this.out(`a = (${val} & -2) >>> 0;`);
          if (ins.predicted !== undefined) this.out(`if (a !== ${u32(ins.predicted & ~1)}) ${this.leave('a', 2)}`);
          else this.out(this.leave('a', 2));
        } else if (Rd === 13) {
          this.out(`${this.W(13)} = ${val} & -4;`);
        } else {
          this.out(`${this.W(Rd)} = ${val} | 0;`);
        }
        return;
      }
      case Op.MOVS:
        this.out(`${this.W(r8)} = ${imm8}; N = false; Z = ${imm8 === 0};`);
        this.setFlags('N', 'Z');
        return;
      case Op.MRS: {
        // readSpecialRegister reads the flags and SP from the core: write ours back first.
        const Rd = (op2 >> 8) & 0xf;
        this.flagsRead = true;
        this.out(`core.N = N; core.Z = Z; core.C = C; core.V = V; r[13] = ${this.R(13, pcv)};`);
        this.out(`${this.W(Rd)} = core.readSpecialRegister(${op2 & 0xff}) | 0;`);
        return;
      }
      case Op.MSR:
        // writeSpecialRegister(PRIMASK).
        this.out(`core.PM = (${this.R(op & 0xf, pcv)} & 1) === 1; core.interruptsUpdated = true;`);
        this.out(this.interruptCheck(next, ins.cycles));
        return;
      case Op.MULS:
        this.out(`t = Math.imul(${this.R(rn, pcv)}, ${this.R(rd, pcv)}); ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.MVNS:
        this.out(`t = ~${this.R(rn, pcv)}; ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.ORRS:
        this.out(`t = ${this.R(rd, pcv)} | ${this.R(rn, pcv)}; ${this.W(rd)} = t;`);
        this.flagsNZ('t');
        return;
      case Op.POP: {
        const list = imm8;
        const P = (op >> 8) & 1;
        const cnt = popcount(list);
        const words = cnt + P;
        this.out(`a = ${this.R(13, pcv)} >>> 0;`);
        if (words > 0) {
          this.out(`if ((a & 3) || (o = a - ${SRAM_BASE}) >>> 0 > ${this.sramSize - 4 * words}) ${this.bail(pcv)}`);
          this.out('o >>= 2;');
        }
        if (P) {
          this.out(`v = s32[o + ${cnt}];`);
          this.out(`if (core.currentMode === 1 && (v >>> 28) === 15) ${this.bail(pcv)}`);
        }
        let j = 0;
        for (let i = 0; i < 8; i++) if (list & (1 << i)) this.out(`${this.W(i)} = s32[o + ${j++}];`);
        if (P) {
          this.out(`${this.W(13)} = (a + ${4 * cnt + 4}) & -4;`);
          if (ins.predicted !== undefined) this.out(`if (v !== ${i32(ins.predicted)}) ${this.leave('(v & -2) >>> 0', ins.cycles)}`);
          else this.out(this.leave('(v & -2) >>> 0', ins.cycles));
        } else {
          this.out(`${this.W(13)} = (a + ${4 * cnt}) & -4;`);
        }
        return;
      }
      case Op.PUSH: {
        const list = imm8;
        const L = (op >> 8) & 1;
        const words = popcount(list) + L;
        this.out(`a = (${this.R(13, pcv)} - ${4 * words}) >>> 0;`);
        if (words > 0) {
          this.out(`if ((a & 3) || (o = a - ${SRAM_BASE}) >>> 0 > ${this.sramSize - 4 * words}) ${this.bail(pcv)}`);
          if (this.opts.journal) this.out(`E.jw(o, ${4 * words});`);
          this.out('o >>= 2;');
          let j = 0;
          const idx: string[] = [];
          for (let i = 0; i < 8; i++) {
            if (list & (1 << i)) {
              this.out(`s32[o + ${j}] = ${this.R(i, pcv)};`);
              idx.push(`cw[o + ${j++}]`);
            }
          }
          if (L) {
            this.out(`s32[o + ${j}] = ${this.R(14, pcv)};`);
            idx.push(`cw[o + ${j}]`);
          }
          this.out(`${this.W(13)} = (${this.R(13, pcv)} - ${4 * words}) & -4;`);
          this.out(`if (${idx.join(' | ')}) { E.codeWrite(a, ${4 * words}); ${this.leave(next, ins.cycles)} }`);
        }
        return;
      }
      case Op.REV:
        this.out(`v = ${this.R(rn, pcv)}; ${this.W(rd)} = ((v & 255) << 24) | (((v >> 8) & 255) << 16) | (((v >> 16) & 255) << 8) | ((v >> 24) & 255);`);
        return;
      case Op.REV16:
        this.out(`v = ${this.R(rn, pcv)}; ${this.W(rd)} = (((v >> 16) & 255) << 24) | (((v >> 24) & 255) << 16) | ((v & 255) << 8) | ((v >> 8) & 255);`);
        return;
      case Op.REVSH:
        this.out(`v = ${this.R(rn, pcv)}; ${this.W(rd)} = ((((v & 255) << 8) | ((v >> 8) & 255)) << 16) >> 16;`);
        return;
      case Op.ROR: {
        this.out(`a = (${this.R(rn, pcv)} & 255) % 32; v = ${this.R(rd, pcv)};`);
        this.out(`t = (v >>> a) | (v << (32 - a)); ${this.W(rd)} = t; C = t < 0;`);
        this.setFlags('C');
        this.flagsNZ('t');
        return;
      }
      case Op.NEGS:
        this.subFlags(rd, '0', this.R(rn, pcv));
        return;
      case Op.NOP:
        return;
      case Op.SBCS: {
        this.flagsRead = true;
        const x = this.R(rd, pcv);
        this.out(`v = ${x} >>> 0; a = (${this.R(rn, pcv)} >>> 0) + (C ? 0 : 1); t = (v - a) | 0;`);
        this.out(`N = t < 0; Z = t === 0; C = v >= a; V = ((v ^ a) & (v ^ t)) < 0; ${this.W(rd)} = t;`);
        this.setFlags('N', 'Z', 'C', 'V');
        return;
      }
      case Op.STMIA: {
        const list = imm8;
        const cnt = popcount(list);
        this.out(`a = ${this.R(r8, pcv)} >>> 0;`);
        if (cnt > 0) {
          this.out(`if ((a & 3) || (o = a - ${SRAM_BASE}) >>> 0 > ${this.sramSize - 4 * cnt}) ${this.bail(pcv)}`);
          if (this.opts.journal) this.out(`E.jw(o, ${4 * cnt});`);
          this.out('o >>= 2;');
          let j = 0;
          const idx: string[] = [];
          for (let i = 0; i < 8; i++) {
            if (list & (1 << i)) {
              this.out(`s32[o + ${j}] = ${this.R(i, pcv)};`);
              idx.push(`cw[o + ${j++}]`);
            }
          }
          if (!(list & (1 << r8))) this.out(`${this.W(r8)} = (a + ${4 * cnt}) | 0;`);
          this.out(`if (${idx.join(' | ')}) { E.codeWrite(a, ${4 * cnt}); ${this.leave(next, ins.cycles)} }`);
        } else {
          this.out(`${this.W(r8)} = a | 0;`);
        }
        return;
      }
      case Op.STR_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5 << 2} >>> 0); a = ra >>> 0;`);
        this.store(4, this.R(rd, pcv), pcv);
        return;
      case Op.STR_SP:
        this.out(`ra = (${this.R(13, pcv)} >>> 0) + (${imm8 << 2} >>> 0); a = ra >>> 0;`);
        this.store(4, this.R(r8, pcv), pcv);
        return;
      case Op.STR_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.store(4, this.R(rd, pcv), pcv);
        return;
      case Op.STRB_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5} >>> 0); a = ra >>> 0;`);
        this.store(1, this.R(rd, pcv), pcv);
        return;
      case Op.STRB_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.store(1, this.R(rd, pcv), pcv);
        return;
      case Op.STRH_IMM:
        this.out(`ra = (${this.R(rn, pcv)} >>> 0) + (${imm5 << 1} >>> 0); a = ra >>> 0;`);
        this.store(2, this.R(rd, pcv), pcv);
        return;
      case Op.STRH_REG:
        this.out(`ra = (${this.R(rm, pcv)} >>> 0) + (${this.R(rn, pcv)} >>> 0); a = ra >>> 0;`);
        this.store(2, this.R(rd, pcv), pcv);
        return;
      case Op.SUB_SP:
        this.out(`${this.W(13)} = (${this.R(13, pcv)} - ${(op & 0x7f) << 2}) & -4;`);
        return;
      case Op.SUBS_T1:
        this.subFlags(rd, this.R(rn, pcv), String(rm));
        return;
      case Op.SUBS_T2:
        this.subFlags(r8, this.R(r8, pcv), String(imm8));
        return;
      case Op.SUBS_REG:
        this.subFlags(rd, this.R(rn, pcv), this.R(rm, pcv));
        return;
      case Op.SXTB:
        this.out(`${this.W(rd)} = (${this.R(rn, pcv)} << 24) >> 24;`);
        return;
      case Op.SXTH:
        this.out(`${this.W(rd)} = (${this.R(rn, pcv)} << 16) >> 16;`);
        return;
      case Op.TST:
        this.out(`t = ${this.R(rd, pcv)} & ${this.R(rn, pcv)};`);
        this.flagsNZ('t');
        return;
      case Op.UXTB:
        this.out(`${this.W(rd)} = ${this.R(rn, pcv)} & 255;`);
        return;
      case Op.UXTH:
        this.out(`${this.W(rd)} = ${this.R(rn, pcv)} & 65535;`);
        return;
      default:
        throw new Error(`translator: no emitter for ${disassemble(pcv, op, op2)}`);
    }
  }
}

function branchOffset(kind: Op, op: number): number {
  if (kind === Op.B_COND) return ((op & 0xff) << 24) >> 23;
  return ((op & 0x7ff) << 21) >> 20;
}
