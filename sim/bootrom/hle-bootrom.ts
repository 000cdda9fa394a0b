/**
 * The high-level-emulated boot ROM: a 16 KB image of tables and `BKPT #k` stubs (rom-layout.ts),
 * and `handleBreak`, which does the work of a stub in TypeScript when rp2040js reports the BKPT.
 * Handlers act on the core that trapped, keep no state between calls and write only their result
 * registers, so both cores may be inside the ROM at once and in interrupt context.
 */
import type { RP2040 } from 'rp2040js';
import type { Logger } from '../log.ts';
import { clz32, ctz32, popcount32, reverse32 } from './bit-ops.ts';
import { bootEarly, bootLate, RomRegisters } from './boot.ts';
import {
  BOOT2_LOAD_ADDR,
  CLOCKS_WAKE_EN0,
  CLOCKS_WAKE_EN1,
  IO_QSPI_BASE,
  IO_QSPI_OUTOVER_MASK,
  IO_QSPI_SS_CTRL,
  ROM_INITIAL_SP,
  ROM_SIZE,
  SRAM_BASE,
  SSI_BAUDR,
  SSI_CTRLR0,
  SSI_SER,
  SSI_SPI_CTRLR0,
  SSI_SSIENR,
  SYSCFG_PROC0_NMI_MASK,
  SYSCFG_PROC1_NMI_MASK,
  WATCHDOG_SCRATCH0,
} from './constants.ts';
import { flashRangeErase, flashRangeProgram, type FlashOpResult } from './flash-ops.ts';
import { romLookup } from './lookup.ts';
import { memcpy, memcpyCycles, memset, memsetCycles } from './mem-ops.ts';
import { buildRom, SD_NAMES, SF_NAMES, type FuncCode, type RomLayout, type StubKind } from './rom-layout.ts';
import { SD_CYCLES, SD_ENTRIES } from './soft-double.ts';
import { SF_CYCLES, SF_ENTRIES } from './soft-float.ts';


/** rp2040js's core class (not exported by name from the package). */
export type CortexM0Core = RP2040['core'];

/** Flash control routines that change the SSI/flash state, for the board's SSI model. */
export type FlashControlOp = 'connect-internal-flash' | 'exit-xip' | 'flush-cache' | 'enter-cmd-xip';

export interface HleBootromOptions {
  logger: Logger;
  /** reset_to_usb_boot ('UB') was called, or the BOOTSEL strap selected USB boot. Never returns to the program. */
  onBootsel(gpioActivityMask: number, disableInterfaceMask: number): void;
  /** The flash array changed (erase or program): flash offsets, contiguous. */
  onFlashWrite(offset: number, length: number): void;
  /** memset/memcpy wrote [address, address+length) directly into SRAM (not through the bus). */
  onMemoryWrite?(address: number, length: number): void;
  /**
   * Level of the BOOTSEL strap (QSPI CSn input) sampled at reset: true = high = button not pressed
   * (boot from flash); false = held low = USB boot. Default: always high.
   */
  readBootselPin?(): boolean;
  /** Flash holds no valid boot2 (CRC mismatch): silicon would enter USB boot. */
  onNoBoot2?(reason: string): void;
  /** Index of a core (SIO CPUID): default 0 for `mcu.core`, 1 for any other. */
  coreIndex?(core: CortexM0Core, mcu: RP2040): number;
  /** A core entered the core-1 holding pen (reset with CPUID ≠ 0, or wait_for_vector). */
  onEnterPen?(core: CortexM0Core): void;
  /** A flash control routine ran (IF/EX/FC/CX). */
  onFlashControl?(op: FlashControlOp): void;
  /** The ROM's HardFault handler ran (a fault while VTOR = 0): the core now sleeps forever. */
  onRomHardFault?(core: CortexM0Core): void;
  /** The rescue flag (CHIP_RESET.PSM_RESTART_FLAG) was set at reset: the core halts. */
  onRescue?(): void;
}

type Handler = (core: CortexM0Core, mcu: RP2040) => void;

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

export class HleBootrom {
  /** The 16 KB ROM image (4096 words) for `rp2040.loadBootrom()`. */
  readonly image: Uint32Array;
  readonly layout: RomLayout;
  private readonly opts: HleBootromOptions;
  private readonly log: Logger;
  /** BKPT immediate for each halfword of the stub area, or −1. */
  private readonly stubAt: Int16Array;
  private readonly handlers: Handler[];
  private readonly names: string[];

  constructor(opts: HleBootromOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.layout = buildRom();
    this.image = this.layout.image;
    const { stubStart, stubEnd, stubAddr, stubs } = this.layout;
    this.stubAt = new Int16Array((stubEnd - stubStart) >> 1).fill(-1);
    this.handlers = [];
    this.names = [];
    for (let k = 0; k < stubs.length; k++) {
      const at = stubAddr[k]!;
      if (at >= 0) this.stubAt[(at - stubStart) >> 1] = k;
      this.handlers.push(this.makeHandler(stubs[k]!));
      this.names.push(stubName(stubs[k]!));
    }
  }

  /** Thumb address (odd) of a function-table entry. */
  funcAddress(code: FuncCode): number {
    return this.layout.funcs[code];
  }

  /**
   * Handles a BKPT reported by rp2040js's `onBreak` (PC is already past the BKPT). Returns true if
   * the BKPT was one of the ROM's stubs; false means the caller should treat it as a breakpoint,
   * panic, exit or undefined instruction.
   */
  handleBreak(core: CortexM0Core, mcu: RP2040, code: number): boolean {
    const at = (core.PC - 2) >>> 0;
    const { stubStart, stubEnd } = this.layout;
    if (at < stubStart || at >= stubEnd) return false;
    const k = this.stubAt[(at - stubStart) >> 1]!;
    if (k < 0 || k !== code) return false;
    const handler = this.handlers[k]!;
    if (this.log.tracing('bootrom')) {
      const r = core.registers;
      const before = [r[0]!, r[1]!, r[2]!, r[3]!];
      handler(core, mcu);
      this.log.trace(
        'bootrom',
        `${this.names[k]}(${before.map(hex).join(', ')}) -> r0=${hex(r[0]!)} r1=${hex(r[1]!)} r2=${hex(r[2]!)} r3=${hex(r[3]!)}`,
      );
    } else {
      handler(core, mcu);
    }
    return true;
  }

  /**
   * Makes CPU writes into the ROM array be ignored (and logged once per word), as on silicon,
   * by wrapping `mcu.writeUint32` (rp2040js routes 8/16-bit ROM writes through it too).
   * Returns a function that removes the guard.
   */
  installRomWriteGuard(mcu: RP2040): () => void {
    const original = mcu.writeUint32;
    const log = this.log;
    const guarded = function (this: RP2040, address: number, value: number): void {
      if (address >>> 0 < ROM_SIZE) {
        const a = (address >>> 0) & ~3;
        // Silicon ignores writes to ROM; MicroPython itself makes one at boot, so this is no warning.
        log.debug('bootrom', `write of ${hex(value)} to ROM address ${hex(a)} ignored`);
        return;
      }
      original.call(this, address, value);
    };
    mcu.writeUint32 = guarded;
    return () => {
      if (mcu.writeUint32 === guarded) mcu.writeUint32 = original;
    };
  }

  /** Puts a core into the core-1 holding pen: VTOR = 0, MSP = ROM word 0, sleeping in a WFE loop. */
  enterPen(core: CortexM0Core): void {
    core.VTOR = 0;
    core.SP = ROM_INITIAL_SP;
    core.PC = this.layout.penLoop;
    this.opts.onEnterPen?.(core);
  }

  /**
   * Starts a core from the pen with the values received over the FIFO (RP2040-BOOTROM §10.1 S4):
   * VTOR, MSP, PC = entry, LR = the ROM's park loop (WFI forever, interrupts still taken).
   */
  launchFromPen(core: CortexM0Core, vtor: number, sp: number, entry: number): void {
    core.VTOR = vtor >>> 0;
    core.SP = sp >>> 0;
    core.LR = this.layout.park | 1;
    core.PC = (entry & ~1) >>> 0;
    core.waiting = false;
  }

  // ---- handlers ----

  private wroteMemory(address: number, length: number): void {
    const a = address >>> 0;
    if (length > 0 && a >= SRAM_BASE && a < SRAM_BASE + 0x42000) this.opts.onMemoryWrite?.(a, length >>> 0);
  }

  private charge(core: CortexM0Core, cycles: number): void {
    // BKPT and BX LR are already counted by rp2040js.
    if (cycles > 3) core.cycles += cycles - 3;
  }

  private chargeFlash(core: CortexM0Core, mcu: RP2040, res: FlashOpResult): void {
    if (res.warning) this.log.warn('bootrom', res.warning);
    core.cycles += Math.round((res.busyMicros * mcu.clkSys) / 1e6);
  }

  private makeHandler(kind: StubKind): Handler {
    switch (kind.kind) {
      case 'reserved':
        return () => undefined;
      case 'reset':
        return (core, mcu) => this.reset(core, mcu);
      case 'boot-resume':
        return (core, mcu) => this.bootContinue(core, mcu);
      case 'nmi':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          regs.write(CLOCKS_WAKE_EN0, 0xffffffff);
          regs.write(CLOCKS_WAKE_EN1, 0xffffffff);
          regs.write(SYSCFG_PROC0_NMI_MASK, 0);
          regs.write(SYSCFG_PROC1_NMI_MASK, 0);
        };
      case 'hardfault':
        return (core) => {
          this.log.error('bootrom', 'HardFault through the ROM vector table (VTOR = 0): core halted');
          this.opts.onRomHardFault?.(core);
        };
      case 'lookup':
        return (core, mcu) => {
          const r = core.registers;
          r[0] = romLookup(mcu, r[0]!, r[1]!);
        };
      case 'sf': {
        const entry = SF_ENTRIES[kind.slot]!;
        const cycles = SF_CYCLES[kind.slot]!;
        return (core) => {
          entry(core);
          this.charge(core, cycles);
        };
      }
      case 'sd': {
        const entry = SD_ENTRIES[kind.slot]!;
        const cycles = SD_CYCLES[kind.slot]!;
        return (core) => {
          entry(core);
          this.charge(core, cycles);
        };
      }
      case 'func':
        return this.funcHandler(kind.code);
    }
  }

  private funcHandler(code: FuncCode): Handler {
    const bit = (fn: (x: number) => number, cycles: number): Handler => (core) => {
      const r = core.registers;
      r[0] = fn(r[0]!);
      this.charge(core, cycles);
    };
    switch (code) {
      case 'P3':
        return bit(popcount32, 23);
      case 'R3':
        return bit(reverse32, 25);
      case 'L3':
        return bit(clz32, 12);
      case 'T3':
        return bit(ctz32, 14);
      case 'MS':
      case 'S4':
        return (core, mcu) => {
          const r = core.registers;
          memset(mcu, r[0]!, r[1]!, r[2]!);
          this.wroteMemory(r[0]!, r[2]!);
          this.charge(core, memsetCycles(r[2]!));
        };
      case 'MC':
      case 'C4':
        return (core, mcu) => {
          const r = core.registers;
          memcpy(mcu, r[0]!, r[1]!, r[2]!);
          this.wroteMemory(r[0]!, r[2]!);
          this.charge(core, memcpyCycles(r[0]!, r[1]!, r[2]!));
        };
      case 'UB':
        return (core, mcu) => {
          const r = core.registers;
          const gpioMask = r[0]!;
          const ifaceMask = r[1]!;
          const regs = new RomRegisters(mcu);
          regs.write(WATCHDOG_SCRATCH0, gpioMask);
          regs.write(WATCHDOG_SCRATCH0 + 4, ifaceMask);
          this.log.info('bootrom', `reset_to_usb_boot(gpio mask ${hex(gpioMask)}, interface mask ${hex(ifaceMask)})`);
          core.PC = this.layout.hang;
          this.opts.onBootsel(gpioMask, ifaceMask);
        };
      case 'WV':
        return (core) => this.enterPen(core);
      case 'IF':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          for (let i = 0; i < 6; i++) regs.write(IO_QSPI_BASE + 4 + 8 * i, 0); // GPIO_QSPI_*_CTRL: function XIP
          this.opts.onFlashControl?.('connect-internal-flash');
        };
      case 'EX':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          regs.write(SSI_SSIENR, 0);
          regs.write(SSI_BAUDR, 6);
          regs.write(SSI_CTRLR0, 0x0007_0000); // standard SPI, 8-bit frames, TX and RX
          regs.write(SSI_SER, 1);
          regs.write(SSI_SSIENR, 1);
          regs.write(IO_QSPI_SS_CTRL, 0);
          this.opts.onFlashControl?.('exit-xip');
        };
      case 'RE':
        return (core, mcu) => {
          const r = core.registers;
          const res = flashRangeErase(mcu.flash, r[0]!, r[1]!, r[2]!, r[3]! & 0xff, this.opts.onFlashWrite);
          this.chargeFlash(core, mcu, res);
        };
      case 'RP':
        return (core, mcu) => {
          const r = core.registers;
          const data = r[1]!;
          const sram = mcu.sram;
          const inSram = data >= SRAM_BASE && data < SRAM_BASE + sram.length;
          const read = inSram
            ? (i: number): number => {
                const o = data - SRAM_BASE + i;
                return o < sram.length ? sram[o]! : mcu.readUint8((data + i) >>> 0);
              }
            : (i: number): number => mcu.readUint8((data + i) >>> 0);
          const res = flashRangeProgram(mcu.flash, r[0]!, r[2]!, read, this.opts.onFlashWrite);
          this.chargeFlash(core, mcu, res);
        };
      case 'FC':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          const ss = regs.read(IO_QSPI_SS_CTRL, 0);
          regs.write(IO_QSPI_SS_CTRL, ss & ~IO_QSPI_OUTOVER_MASK);
          this.opts.onFlashControl?.('flush-cache');
        };
      case 'CX':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          regs.write(SSI_SSIENR, 0);
          regs.write(SSI_CTRLR0, 0x001f_0300); // standard SPI, 32-bit frames, EEPROM read mode
          regs.write(SSI_SPI_CTRLR0, 0x0300_0218); // command 0x03, 8-bit instruction, 24-bit address
          regs.write(SSI_SSIENR, 1);
          this.opts.onFlashControl?.('enter-cmd-xip');
        };
      case 'EC':
        return (_core, mcu) => {
          const regs = new RomRegisters(mcu);
          regs.write(CLOCKS_WAKE_EN0, 0xffffffff);
          regs.write(CLOCKS_WAKE_EN1, 0xffffffff);
        };
      case 'DT':
      case 'DE':
        return () => undefined; // plain Thumb code, no BKPT stub
    }
  }

  private coreIndex(core: CortexM0Core, mcu: RP2040): number {
    return this.opts.coreIndex ? this.opts.coreIndex(core, mcu) : core === mcu.core ? 0 : 1;
  }

  /** ROM reset vector (RP2040-BOOTROM §9.1). */
  private reset(core: CortexM0Core, mcu: RP2040): void {
    if (this.coreIndex(core, mcu) !== 0) {
      this.log.debug('bootrom', 'core 1 reset: entering the holding pen');
      this.enterPen(core);
      return;
    }
    const regs = new RomRegisters(mcu);
    const early = bootEarly(mcu, regs);
    if (early?.kind === 'rescue') {
      this.log.info('bootrom', 'rescue flag set at reset: core 0 halted');
      core.PC = this.layout.hang;
      this.opts.onRescue?.();
      return;
    }
    if (early?.kind === 'watchdog-vector') {
      this.log.debug('bootrom', `watchdog vector: calling ${hex(early.pc)} with sp ${hex(early.sp)}`);
      core.SP = early.sp;
      core.LR = this.layout.bootResume | 1;
      core.PC = (early.pc & ~1) >>> 0;
      return;
    }
    this.bootContinue(core, mcu);
  }

  private bootContinue(core: CortexM0Core, mcu: RP2040): void {
    const regs = new RomRegisters(mcu);
    const pinHigh = this.opts.readBootselPin ? this.opts.readBootselPin() : true;
    const pressed = !pinHigh;
    const late = bootLate(mcu, regs, pressed);
    switch (late.kind) {
      case 'bootsel':
        this.log.info('bootrom', 'BOOTSEL held at reset: USB boot');
        core.PC = this.layout.hang;
        this.opts.onBootsel(0, 0);
        return;
      case 'no-boot2': {
        const reason = `no valid boot2 in flash (CRC-32 stored ${hex(late.stored)}, computed ${hex(late.computed)}); the ROM would enter USB boot`;
        this.log.warn('bootrom', reason);
        core.PC = this.layout.hang;
        this.opts.onNoBoot2?.(reason);
        return;
      }
      case 'boot2':
        this.opts.onFlashControl?.('connect-internal-flash');
        this.opts.onFlashControl?.('exit-xip');
        this.opts.onFlashControl?.('flush-cache');
        this.log.debug('bootrom', `boot2 CRC ${hex(late.crc)} ok: entering boot2 at ${hex(BOOT2_LOAD_ADDR)}`);
        core.SP = BOOT2_LOAD_ADDR;
        core.LR = 0;
        core.PC = BOOT2_LOAD_ADDR;
        return;
      default:
        return;
    }
  }
}

/** Routine names of the function-table codes (RP2040-BOOTROM §3), for tracing. */
const FUNC_NAMES: Record<FuncCode, string> = {
  P3: 'popcount32', R3: 'reverse32', L3: 'clz32', T3: 'ctz32', MS: 'memset', S4: 'memset4', MC: 'memcpy',
  C4: 'memcpy44', UB: 'reset_to_usb_boot', DT: 'debug_trampoline', DE: 'debug_trampoline_end',
  WV: 'wait_for_vector', IF: 'connect_internal_flash', EX: 'flash_exit_xip', RE: 'flash_range_erase',
  RP: 'flash_range_program', FC: 'flash_flush_cache', CX: 'flash_enter_cmd_xip', EC: 'enable_clocks',
};

function stubName(kind: StubKind): string {
  switch (kind.kind) {
    case 'sf':
      return SF_NAMES[kind.slot]!;
    case 'sd':
      return SD_NAMES[kind.slot]!;
    case 'func':
      return `${FUNC_NAMES[kind.code]} '${kind.code}'`;
    default:
      return kind.kind;
  }
}
