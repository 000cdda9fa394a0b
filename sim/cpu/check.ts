/**
 * Check mode: the interpreter stays authoritative, and every translated block is first run on
 * the side and compared with it.
 *
 * For each block the engine would run: snapshot the core; run the translated block with its
 * SRAM stores journaled; record its result (registers, flags, cycles, the bytes it stored); undo
 * the stores and restore the snapshot; run the same number of instructions on rp2040js's
 * interpreter, ticking the clock after each exactly as `interp` mode does; compare. The
 * interpreter's side is also checked for the engine's timing assumptions: no alarm may fall due
 * and no interrupt may become pending before the block's last instruction, and the run's cycle
 * budget may not end inside it. The first difference throws `CpuDivergenceError` with a report.
 */
import type { RP2040 } from 'rp2040js';
type CortexM0Core = RP2040['core'];
import { RunFailure } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Block, SharedCodeState, TranslationCache } from './cache.ts';
import { SRAM_BASE, listBlock } from './translate.ts';

export class CpuDivergenceError extends RunFailure {
  constructor(readonly report: string) {
    super(report);
  }
}

interface CoreState {
  regs: number[];
  N: boolean;
  Z: boolean;
  C: boolean;
  V: boolean;
  PM: boolean;
  SPSEL: number;
  nPRIV: boolean;
  currentMode: number;
  IPSR: number;
  bankedSP: number;
  interruptsUpdated: boolean;
  waiting: boolean;
  eventRegistered: boolean;
  cycles: number;
}

const SCALARS = [
  'N',
  'Z',
  'C',
  'V',
  'PM',
  'SPSEL',
  'nPRIV',
  'currentMode',
  'IPSR',
  'bankedSP',
  'interruptsUpdated',
  'waiting',
  'eventRegistered',
] as const;

function snapshot(core: CortexM0Core): CoreState {
  return {
    regs: Array.from(core.registers),
    N: core.N,
    Z: core.Z,
    C: core.C,
    V: core.V,
    PM: core.PM,
    SPSEL: core.SPSEL as number,
    nPRIV: core.nPRIV,
    currentMode: core.currentMode as number,
    IPSR: core.IPSR,
    bankedSP: core.bankedSP,
    interruptsUpdated: core.interruptsUpdated,
    waiting: core.waiting,
    eventRegistered: core.eventRegistered,
    cycles: core.cycles,
  };
}

function restore(core: CortexM0Core, s: CoreState): void {
  core.registers.set(s.regs);
  const c = core as unknown as Record<string, unknown>;
  for (const k of SCALARS) c[k] = s[k];
  core.cycles = s.cycles;
}

const hex = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');
const REG_NAMES = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12', 'sp', 'lr', 'pc'];
const flagStr = (s: CoreState): string => (s.N ? 'N' : 'n') + (s.Z ? 'Z' : 'z') + (s.C ? 'C' : 'c') + (s.V ? 'V' : 'v');

export class BlockChecker {
  checked = 0;
  lastInstructions = 0;
  /** SRAM byte offset → byte before the first store of the current phase. */
  private readonly jitOld = new Map<number, number>();
  private readonly interpOld = new Map<number, number>();
  private phaseJournal: Map<number, number> = this.jitOld;

  constructor(
    private readonly mcu: RP2040,
    private readonly core: CortexM0Core,
    private readonly clock: { readonly nanos: number; tick(n: number): void; nextAlarm: { nanos: number } | null },
    private readonly shared: SharedCodeState,
    private readonly cache: TranslationCache,
    private readonly logger: Logger,
  ) {
    const s8 = (): Uint8Array => this.shared.views.s8;
    cache.env.jw = (offset: number, len: number): void => {
      const mem = s8();
      for (let i = 0; i < len; i++) {
        const o = offset + i;
        if (!this.phaseJournal.has(o)) this.phaseJournal.set(o, mem[o]);
      }
    };
  }

  /**
   * Verify and run `blk` (interpreter-authoritative). Returns the cycles executed, 0 if the
   * translated block declined its first instruction (the engine then interprets it).
   */
  runBlock(blk: Block, budget: number, executed: number, maxCycles: number, cn: number, tick: boolean): number {
    const core = this.core;
    const s8 = this.shared.views.s8;
    const before = snapshot(core);
    this.jitOld.clear();
    this.interpOld.clear();
    this.phaseJournal = this.jitOld;
    const hook = core.blTaken;
    core.blTaken = () => undefined;
    let jc: number;
    try {
      jc = blk.fn(core, budget, this.cache.env);
    } finally {
      core.blTaken = hook;
    }
    const n = this.cache.env.n;
    const after = snapshot(core);
    after.cycles = before.cycles + jc;
    const jitMem = new Map<number, number>();
    for (const o of this.jitOld.keys()) jitMem.set(o, s8[o]);
    for (const [o, b] of this.jitOld) s8[o] = b;
    restore(core, before);
    if (jc === 0) {
      if (n !== 0) this.fail(blk, before, after, null, `block returned 0 cycles after ${n} instructions`, n, jc, 0);
      return 0;
    }

    // The interpreter, as interp mode runs it.
    const clock = this.clock;
    this.phaseJournal = this.interpOld;
    this.shared.writeObserver = (addr: number, size: number): void => {
      const o = (addr >>> 0) - SRAM_BASE;
      if (o >= 0 && o < s8.length) {
        const a = size === 4 ? o & ~3 : size === 2 ? o & ~1 : o;
        for (let i = 0; i < size; i++) if (!this.interpOld.has(a + i)) this.interpOld.set(a + i, s8[a + i]);
      }
    };
    let ic = 0;
    let lastTick = 0;
    let problem: string | null = null;
    try {
      for (let k = 0; k < n; k++) {
        // After CPSIE / MSR PRIMASK the flag is set with nothing pending: the interpreter's check
        // then takes nothing (and a block goes on); anything pending must have ended the block.
        if (k > 0 && core.interruptsUpdated && exceptionPending(core)) {
          problem = `an interrupt became pending before instruction ${k} of the block (the translated block would not have seen it)`;
          break;
        }
        if (k > 0 && executed + ic >= maxCycles) {
          problem = `the run's cycle budget ends inside the block (before instruction ${k})`;
          break;
        }
        const c = core.executeInstruction();
        ic += c;
        if (!tick) continue;
        if (k === n - 1) {
          // Alarms due after the last instruction fire after the comparison, as after the block.
          lastTick = c * cn;
          break;
        }
        const na = clock.nextAlarm;
        if (na !== null && na.nanos <= clock.nanos + c * cn) {
          problem = `a clock alarm (at ${na.nanos} ns) falls due after instruction ${k}, inside the block`;
          clock.tick(c * cn);
          break;
        }
        clock.tick(c * cn);
      }
    } finally {
      this.shared.writeObserver = null;
    }
    const interp = snapshot(core);
    this.checked++;
    this.lastInstructions = n;
    if (problem) this.fail(blk, before, after, interp, problem, n, jc, ic);

    const diffs: string[] = [];
    for (let i = 0; i < 16; i++) {
      if (after.regs[i] !== interp.regs[i]) diffs.push(`${REG_NAMES[i]}: translated ${hex(after.regs[i])}, interpreter ${hex(interp.regs[i])}`);
    }
    for (const k of SCALARS) {
      if (after[k] !== interp[k]) diffs.push(`${k}: translated ${String(after[k])}, interpreter ${String(interp[k])}`);
    }
    if (jc !== ic) diffs.push(`cycles: translated ${jc}, interpreter ${ic}`);
    if (jc === ic && after.cycles !== interp.cycles) diffs.push(`core.cycles: translated +${after.cycles - before.cycles}, interpreter +${interp.cycles - before.cycles}`);
    const offsets = new Set<number>([...jitMem.keys(), ...this.interpOld.keys()]);
    for (const o of offsets) {
      const jv = jitMem.has(o) ? jitMem.get(o)! : this.interpOld.get(o)!;
      if (jv !== s8[o]) {
        diffs.push(`memory ${hex(SRAM_BASE + o)}: translated 0x${jv.toString(16)}, interpreter 0x${s8[o].toString(16)}`);
        if (diffs.length > 24) break;
      }
    }
    if (diffs.length) this.fail(blk, before, after, interp, diffs.join('\n  '), n, jc, ic);
    if (lastTick) clock.tick(lastTick);
    return ic;
  }

  private fail(
    blk: Block,
    before: CoreState,
    jit: CoreState,
    interp: CoreState | null,
    what: string,
    n: number,
    jc: number,
    ic: number,
  ): never {
    const lines: string[] = [];
    lines.push(
      `CPU divergence in the translated block at ${hex(blk.pc)} (${blk.code.instrs.length} instructions, ${n} executed) at ${this.clock.nanos} ns:`,
    );
    lines.push(...listBlock(blk.code));
    lines.push(`  ${what}`);
    lines.push(`         ${'before'.padEnd(12)}${'translated'.padEnd(12)}${interp ? 'interpreter' : ''}`);
    for (let i = 0; i < 16; i++) {
      const mark = interp && jit.regs[i] !== interp.regs[i] ? '  <--' : '';
      lines.push(
        `  ${REG_NAMES[i].padEnd(5)}  ${hex(before.regs[i]).padEnd(12)}${hex(jit.regs[i]).padEnd(12)}${interp ? hex(interp.regs[i]) : ''}${mark}`,
      );
    }
    lines.push(`  flags  ${flagStr(before).padEnd(12)}${flagStr(jit).padEnd(12)}${interp ? flagStr(interp) : ''}`);
    lines.push(`  cycles ${''.padEnd(12)}${String(jc).padEnd(12)}${interp ? String(ic) : ''}`);
    const report = lines.join('\n');
    this.logger.error('cpu', report);
    void this.mcu;
    throw new CpuDivergenceError(report);
  }
}

/** Any exception pending that `checkForInterrupts()` could take (the translator's own test). */
function exceptionPending(core: CortexM0Core): boolean {
  const c = core as unknown as {
    pendingNMI: boolean;
    pendingSVCall: boolean;
    pendingPendSV: boolean;
    pendingSystick: boolean;
    pendingInterrupts: number;
    enabledInterrupts: number;
  };
  return c.pendingNMI || c.pendingSVCall || c.pendingPendSV || c.pendingSystick || (c.pendingInterrupts & c.enabledInterrupts) !== 0;
}
