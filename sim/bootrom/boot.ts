/**
 * The ROM reset path of core 0 (RP2040-BOOTROM §9.1, option A of §9.2), done in TypeScript:
 * wake clocks, rescue flag, ADC pads, watchdog vector, QSPI resets, BOOTSEL strap, then load boot2
 * from flash into SRAM, check its CRC-32 and enter it with LR = 0.
 */
import type { RP2040 } from 'rp2040js';
import {
  ALIAS_CLR,
  ALIAS_SET,
  BOOT2_LOAD_ADDR,
  BOOT2_SIZE,
  CHIP_RESET,
  CHIP_RESET_PSM_RESTART_FLAG,
  CLOCKS_WAKE_EN0,
  CLOCKS_WAKE_EN1,
  PADS_BANK0_GPIO26,
  PADS_IE,
  RESETS_RESET,
  RESET_IO_QSPI,
  RESET_PADS_BANK0,
  RESET_PADS_QSPI,
  RESET_TIMER,
  SRAM_BASE,
  SYSCFG_PROC0_NMI_MASK,
  SYSCFG_PROC1_NMI_MASK,
  WATCHDOG_BOOT_MAGIC,
  WATCHDOG_SCRATCH4,
  WATCHDOG_SCRATCH5,
  WATCHDOG_SCRATCH6,
  WATCHDOG_SCRATCH7,
} from './constants.ts';

/** CRC-32/MPEG-2: poly 0x04C11DB7, init 0xFFFFFFFF, MSB first, no reflection, no final XOR. */
export function crc32Mpeg2(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc ^= data[i]! << 24;
    for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** Why boot2 was not entered. */
export type NoBoot2Reason = 'bad-crc';

/** Checks the 256-byte boot2 at the start of flash: CRC of bytes 0..251 against the LE word at 252. */
export function checkBoot2(flash: Uint8Array): { ok: boolean; stored: number; computed: number } {
  const computed = crc32Mpeg2(flash, 0, BOOT2_SIZE - 4);
  const stored =
    (flash[BOOT2_SIZE - 4]! | (flash[BOOT2_SIZE - 3]! << 8) | (flash[BOOT2_SIZE - 2]! << 16) | (flash[BOOT2_SIZE - 1]! << 24)) >>>
    0;
  return { ok: stored === computed, stored, computed };
}

/** Register access that leaves out registers rp2040js does not model (they would only log). */
export class RomRegisters {
  constructor(private readonly mcu: RP2040) {}
  private modelled(addr: number): boolean {
    const p = this.mcu.findPeripheral(addr) as unknown as { constructor: { name: string } } | undefined;
    return !!p && p.constructor.name !== 'UnimplementedPeripheral';
  }
  write(addr: number, value: number): void {
    if (this.modelled(addr)) this.mcu.writeUint32(addr, value >>> 0);
  }
  /** Reads a register; `fallback` when the peripheral is not modelled. */
  read(addr: number, fallback = 0): number {
    return this.modelled(addr) ? this.mcu.readUint32(addr) >>> 0 : fallback;
  }
}

export type BootOutcome =
  | { kind: 'rescue' }
  | { kind: 'watchdog-vector'; sp: number; pc: number }
  | { kind: 'bootsel' }
  | { kind: 'no-boot2'; stored: number; computed: number }
  | { kind: 'boot2'; crc: number };

/** Steps 2–5 of the reset path. Returns the watchdog vector to call, or rescue, or null to go on. */
export function bootEarly(mcu: RP2040, regs: RomRegisters): BootOutcome | null {
  regs.write(CLOCKS_WAKE_EN0, 0xffffffff);
  regs.write(CLOCKS_WAKE_EN1, 0xffffffff);
  regs.write(SYSCFG_PROC0_NMI_MASK, 0);
  regs.write(SYSCFG_PROC1_NMI_MASK, 0);
  const chipReset = regs.read(CHIP_RESET, 0);
  if (chipReset & CHIP_RESET_PSM_RESTART_FLAG) {
    regs.write(CHIP_RESET, chipReset); // write-1-to-clear
    return { kind: 'rescue' };
  }
  // V3: release PADS_BANK0 and disable the input of the ADC pins GPIO26..29.
  regs.write(RESETS_RESET + ALIAS_CLR, RESET_PADS_BANK0);
  for (let i = 0; i < 4; i++) regs.write(PADS_BANK0_GPIO26 + 4 * i + ALIAS_CLR, PADS_IE);
  const s4 = regs.read(WATCHDOG_SCRATCH4);
  const s5 = regs.read(WATCHDOG_SCRATCH5);
  const s7 = regs.read(WATCHDOG_SCRATCH7);
  if (s4 === WATCHDOG_BOOT_MAGIC && ((s5 ^ s7) >>> 0) === ((-WATCHDOG_BOOT_MAGIC) >>> 0)) {
    regs.write(WATCHDOG_SCRATCH4, 0);
    return { kind: 'watchdog-vector', sp: regs.read(WATCHDOG_SCRATCH6), pc: s7 };
  }
  void mcu;
  return null;
}

/** Steps 6–8: QSPI resets, BOOTSEL strap, boot2 copy and check. */
export function bootLate(mcu: RP2040, regs: RomRegisters, bootselPressed: boolean): BootOutcome {
  const pulse = RESET_IO_QSPI | RESET_PADS_QSPI | RESET_TIMER;
  regs.write(RESETS_RESET + ALIAS_SET, pulse);
  regs.write(RESETS_RESET + ALIAS_CLR, pulse);
  if (bootselPressed) return { kind: 'bootsel' };
  const chk = checkBoot2(mcu.flash);
  if (!chk.ok) return { kind: 'no-boot2', stored: chk.stored, computed: chk.computed };
  const at = BOOT2_LOAD_ADDR - SRAM_BASE;
  mcu.sram.set(mcu.flash.subarray(0, BOOT2_SIZE), at);
  return { kind: 'boot2', crc: chk.computed };
}
