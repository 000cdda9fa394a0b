/**
 * The board as a debugger sees it through a probe: halt and resume, breakpoints, single steps,
 * each core's registers, and memory as each core's bus sees it. Cores are GDB threads 1 (core 0)
 * and 2 (core 1).
 *
 * Breakpoints never change memory (software and hardware ones are the same here: an address at
 * which a core stops before executing it), so reads show the program's own bytes and translated
 * code stays valid. While any breakpoint is set, or a step is pending, the board runs its cores
 * through `runCore` (the board's DebugHook): rp2040js's interpreter, one instruction at a time,
 * with the address checked before each — the JIT's translated blocks are bypassed, and used again
 * once the last breakpoint is removed. While halted the board's run loop stops, so simulated time
 * stands still.
 */
import type { RP2040 } from 'rp2040js';
import type { BoardEvent } from '../board/device.ts';
import type { Core } from '../board/multicore.ts';
import type { DebugHook, PicoWBoard as Board } from '../board/picow.ts';
import { FLASH_BASE, FLASH_SIZE } from '../board/uf2.ts';
import { interpretInstruction, invalidateTranslations, sendEventHook } from '../cpu/index.ts';

/** POSIX signal numbers as GDB's remote protocol uses them in stop replies. */
export const SIGINT = 2;
export const SIGTRAP = 5;
export const SIGABRT = 6;

export type StopReason =
  | { kind: 'signal'; signal: number; thread: number }
  | { kind: 'exited'; code: number }
  | { kind: 'terminated'; signal: number };

/** What to do with one thread on resume (vCont): continue or one step. */
export type ResumeAction = 'c' | 's';

/** ARMv6-M register numbers in our target description (gdb-server.ts): r0–r12, sp, lr, pc, xpsr, then system. */
export const REG_SP = 13;
export const REG_LR = 14;
export const REG_PC = 15;
export const REG_XPSR = 16;
export const REG_MSP = 17;
export const REG_PSP = 18;
export const REG_PRIMASK = 19;
export const REG_CONTROL = 20;
export const REGISTER_COUNT = 21;
/** ARMv6-M MRS/MSR SYSm numbers (ARMv6-M ARM §B5.1.1): MSP, PSP, PRIMASK, CONTROL. */
const SYSM = { [REG_MSP]: 8, [REG_PSP]: 9, [REG_PRIMASK]: 16, [REG_CONTROL]: 20 } as Record<number, number>;

/** RP2040 address map (datasheet §2.2): ROM, XIP flash and its three aliases, SRAM, and the register spaces. */
const ROM_END = 0x4000;
const XIP_ALIASES = [0x10000000, 0x11000000, 0x12000000, 0x13000000];
const SRAM_BASE = 0x20000000;
const SRAM_END = 0x20042000;
const IO_RANGES: [number, number][] = [
  [0x40000000, 0x40070000], // APB peripherals
  [0x50000000, 0x50400000], // AHB-Lite: DMA, USB DPRAM and registers, PIO0/1
  [0xd0000000, 0xd0000180], // SIO (the core's own view)
  [0xe0000000, 0xe0100000], // Cortex-M0+ private peripheral bus (the core's own NVIC, SysTick, SCB)
];

type Region = { kind: 'rom' | 'flash' | 'sram'; offset: number } | { kind: 'io' };

/** Where [addr, addr+len) lies, if wholly inside one readable region. */
function region(addr: number, len: number): Region | null {
  const end = addr + len;
  if (end > 2 ** 32) return null;
  if (end <= ROM_END) return { kind: 'rom', offset: addr };
  for (const base of XIP_ALIASES) {
    if (addr >= base && end <= base + FLASH_SIZE) return { kind: 'flash', offset: addr - base };
  }
  if (addr >= SRAM_BASE && end <= SRAM_END) return { kind: 'sram', offset: addr - SRAM_BASE };
  for (const [lo, hi] of IO_RANGES) if (addr >= lo && end <= hi) return { kind: 'io' };
  return null;
}

export class GdbTarget implements DebugHook {
  readonly breakpoints = new Set<number>();
  /** A pending step: the core (0/1) and whether the other core is held meanwhile. */
  private step: { core: number; lockOthers: boolean } | null = null;
  /** Cores resuming on a breakpoint's address: their first instruction runs without stopping there. */
  private readonly passBreakpoint = new Set<Core>();
  private stopReason: StopReason = { kind: 'signal', signal: SIGTRAP, thread: 1 };
  /** The board stopped (a breakpoint, a step, the program's end): for the debugger's stop reply. */
  onStop: ((r: StopReason) => void) | null = null;
  private readonly onEvent = (e: BoardEvent): void => {
    if (e.type === 'halt' && e.exitCode !== null) this.stopped({ kind: 'exited', code: e.exitCode & 0xff });
    else if (e.type === 'halt' || e.type === 'bootsel' || e.type === 'fault') this.stopped({ kind: 'terminated', signal: SIGABRT });
  };

  constructor(private readonly board: Board) {
    board.debugHook = this;
    board.on('event', this.onEvent);
  }

  get active(): boolean {
    return this.breakpoints.size > 0 || this.step !== null;
  }

  /** Threads (cores) the debugger sees: 2 on the RP2040 (1 on a single-core board). */
  get threadCount(): number {
    return this.board.multicore ? 2 : 1;
  }

  private cores(): Core[] {
    return this.board.multicore ? [...this.board.multicore.cores] : [this.board.mcu.core];
  }

  private views(): RP2040[] {
    return this.board.multicore ? [...this.board.multicore.views] : [this.board.mcu];
  }

  get halted(): boolean {
    return this.board.isDebugHalted || this.board.haltEvent !== null;
  }

  get lastStop(): StopReason {
    return this.stopReason;
  }

  /** What a thread is doing, for `info threads`. */
  describe(thread: number): string {
    const core = this.cores()[thread - 1];
    if (!core) return '';
    if (thread === 2 && !this.board.multicore?.core1Active) return 'core 1 (in the boot ROM, waiting for a launch)';
    return `core ${thread - 1}${core.waiting ? ' (sleeping: WFI/WFE)' : ''}`;
  }

  /** Stop everything (Ctrl-C, or a debugger attaching). */
  halt(signal = SIGINT): StopReason {
    if (!this.halted) {
      this.board.debugHalt();
      this.stopReason = { kind: 'signal', signal, thread: 1 };
    }
    return this.stopReason;
  }

  /**
   * Resume: `actions[i]` for thread i+1 (undefined: stays halted when another thread steps, else
   * continues). The stop is reported through `onStop`.
   */
  resume(actions: (ResumeAction | undefined)[]): void {
    if (this.board.haltEvent) {
      // The program has ended: nothing runs again; say so again.
      queueMicrotask(() => this.onStop?.(this.stopReason));
      return;
    }
    const cores = this.cores();
    const stepping = actions.indexOf('s');
    this.step = null;
    this.passBreakpoint.clear();
    if (stepping >= 0) {
      const lockOthers = actions.every((a, i) => i === stepping || a === undefined);
      this.step = { core: stepping, lockOthers };
      if (stepping === 1 && !this.board.multicore?.core1Active) {
        // Core 1 is not executing (still in the boot ROM's pen): a step of it ends at once.
        this.step = null;
        queueMicrotask(() => this.stopped({ kind: 'signal', signal: SIGTRAP, thread: 2 }));
        return;
      }
    }
    for (const c of cores) if (this.breakpoints.has(c.PC)) this.passBreakpoint.add(c);
    this.board.debugResume();
  }

  /** The DebugHook: run `core` instruction by instruction, stopping at breakpoints and after a step. */
  runCore(core: Core, budget: number, keepRunning: () => boolean): void {
    const index = this.cores().indexOf(core);
    const step = this.step;
    if (step && step.lockOthers && step.core !== index) return;
    const end = core.cycles + budget;
    const bps = this.breakpoints;
    const sev = sendEventHook(core);
    while (core.cycles < end && !core.waiting && keepRunning()) {
      if (bps.has(core.PC) && !this.passBreakpoint.delete(core)) {
        this.stopped({ kind: 'signal', signal: SIGTRAP, thread: index + 1 });
        return;
      }
      this.passBreakpoint.delete(core);
      interpretInstruction(core, sev);
      if (step && step.core === index) {
        this.stopped({ kind: 'signal', signal: SIGTRAP, thread: index + 1 });
        return;
      }
    }
  }

  private stopped(r: StopReason): void {
    this.step = null;
    this.stopReason = r;
    if (r.kind === 'signal') this.board.debugHalt();
    this.onStop?.(r);
  }

  /** `monitor reset`: a power-on reset of the chip (flash kept), held halted at the boot ROM's first instruction. */
  reset(): void {
    this.board.debugHalt();
    this.board.powerCycle();
    this.passBreakpoint.clear();
    this.stopReason = { kind: 'signal', signal: SIGTRAP, thread: 1 };
  }

  /** Leave: breakpoints gone, the board runs on. */
  detach(): void {
    this.breakpoints.clear();
    this.step = null;
    this.passBreakpoint.clear();
    this.board.debugResume();
  }

  dispose(): void {
    this.detach();
    this.board.off('event', this.onEvent);
    if (this.board.debugHook === this) this.board.debugHook = null;
  }

  readRegister(thread: number, n: number): number | null {
    const core = this.cores()[thread - 1];
    if (!core || n < 0 || n >= REGISTER_COUNT) return null;
    if (n < REG_XPSR) return core.registers[n]! >>> 0;
    if (n === REG_XPSR) return core.xPSR >>> 0;
    return core.readSpecialRegister(SYSM[n]!) >>> 0;
  }

  writeRegister(thread: number, n: number, value: number): boolean {
    const core = this.cores()[thread - 1];
    if (!core || n < 0 || n >= REGISTER_COUNT) return false;
    value >>>= 0;
    if (n === REG_PC) core.PC = value & ~1;
    else if (n === REG_SP) core.SP = value;
    else if (n < REG_XPSR) core.registers[n] = value;
    else if (n === REG_XPSR) core.xPSR = value;
    else core.writeSpecialRegister(SYSM[n]!, value);
    return true;
  }

  /** Memory as thread's core sees it; null when any of it is outside the address map. */
  readMemory(thread: number, addr: number, len: number): Uint8Array | null {
    const view = this.views()[thread - 1] ?? this.views()[0]!;
    const r = region(addr, len);
    if (!r) return null;
    const mcu = this.board.mcu;
    switch (r.kind) {
      case 'rom':
        return new Uint8Array(mcu.bootrom.buffer, mcu.bootrom.byteOffset + r.offset, len).slice();
      case 'flash':
        return mcu.flash.slice(r.offset, r.offset + len);
      case 'sram':
        return mcu.sram.slice(r.offset, r.offset + len);
      case 'io': {
        // Registers are read as the bus reads them: whole words.
        const out = new Uint8Array(len);
        for (let a = addr & ~3; a < addr + len; a += 4) {
          const w = view.readUint32(a >>> 0) >>> 0;
          for (let k = 0; k < 4; k++) {
            const i = a + k - addr;
            if (i >= 0 && i < len) out[i] = (w >>> (8 * k)) & 0xff;
          }
        }
        return out;
      }
    }
  }

  /** Write memory (SRAM, flash as a probe programs it, registers); false when outside the map or ROM. */
  writeMemory(thread: number, addr: number, data: Uint8Array): boolean {
    const view = this.views()[thread - 1] ?? this.views()[0]!;
    const r = region(addr, data.length);
    if (!r || r.kind === 'rom') return false;
    const mcu = this.board.mcu;
    if (data.length === 0) return true;
    if (r.kind === 'flash') {
      mcu.flash.set(data, r.offset);
      invalidateTranslations(mcu, FLASH_BASE + r.offset, data.length);
    } else if (r.kind === 'sram') {
      mcu.sram.set(data, r.offset);
      invalidateTranslations(mcu, addr, data.length);
    } else {
      let i = 0;
      while (i < data.length) {
        const a = addr + i;
        if ((a & 3) === 0 && i + 4 <= data.length) {
          view.writeUint32(a >>> 0, (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0);
          i += 4;
        } else {
          view.writeUint8(a >>> 0, data[i]!);
          i++;
        }
      }
    }
    return true;
  }
}
