/**
 * Addresses and codes of the RP2040 boot ROM and of the registers it touches.
 * Names follow the RP2040 datasheet (section numbers in the comments).
 */
import { FLASH_SIZE, ROM_SIZE, SRAM_BASE, SRAM_END, USBCTRL_DPRAM_BASE, XIP_BASE, XIP_WINDOW_END } from '../board/memory-map.ts';

/** ROM size: 16 KB at 0x0000_0000 (datasheet 2.2.1). */
export { ROM_SIZE };
export const ROM_WORDS = ROM_SIZE / 4;

/** ROM header (datasheet 2.8.3): magic 'M','u', compatibility version, ROM version. */
export const ROM_MAGIC_M = 0x4d;
export const ROM_MAGIC_U = 0x75;
export const ROM_COMPAT_VERSION = 1;
/** Report V3 (B2): the only version for which the SDK uses every table slot with no ROM-internal code. */
export const ROM_VERSION = 3;

/** Header offsets (datasheet 2.8.3). */
export const HDR_INITIAL_SP = 0x00;
export const HDR_RESET = 0x04;
export const HDR_NMI = 0x08;
export const HDR_HARDFAULT = 0x0c;
export const HDR_MAGIC = 0x10;
export const HDR_FUNC_TABLE = 0x14;
export const HDR_DATA_TABLE = 0x16;
export const HDR_LOOKUP = 0x18;

/** SRAM, XIP window, flash size, USB DPRAM: the board's memory map (datasheet 2.2.1, 2.6.3). */
export { FLASH_SIZE, SRAM_BASE, SRAM_END, XIP_BASE, XIP_WINDOW_END };
/** boot2 is loaded into the last 256 bytes of SRAM (2.8.1). */
export const BOOT2_LOAD_ADDR = 0x2004_1f00;
export const BOOT2_SIZE = 256;
/** Initial MSP in ROM word 0 (datasheet 2.8.1). */
export const ROM_INITIAL_SP = BOOT2_LOAD_ADDR;

/** Flash program page and erase sector sizes (W25Q16JV). */
export const FLASH_PAGE_SIZE = 256;
export const FLASH_SECTOR_SIZE = 4096;
/** SPI flash erase commands (W25Q16JV): 4 KB sector, 32 KB block, 64 KB block. */
export const FLASH_CMD_SECTOR_ERASE = 0x20;
export const FLASH_CMD_BLOCK32_ERASE = 0x52;
export const FLASH_CMD_BLOCK64_ERASE = 0xd8;

/** USB DPRAM (datasheet 2.2.1). */
export const DPRAM_BASE = USBCTRL_DPRAM_BASE;

/** Atomic register aliases (datasheet 2.1.2). */
export const ALIAS_XOR = 0x1000;
export const ALIAS_SET = 0x2000;
export const ALIAS_CLR = 0x3000;

/** SIO (datasheet 2.3.1.7). */
export const SIO_CPUID = 0xd000_0000;

/** CLOCKS WAKE_EN0/1 (datasheet 2.15.7). */
export const CLOCKS_WAKE_EN0 = 0x4000_80a0;
export const CLOCKS_WAKE_EN1 = 0x4000_80a4;
/** SYSCFG PROC0/PROC1_NMI_MASK (datasheet 2.21.4). */
export const SYSCFG_PROC0_NMI_MASK = 0x4000_4000;
export const SYSCFG_PROC1_NMI_MASK = 0x4000_4004;
/** VREG_AND_CHIP_RESET CHIP_RESET and its PSM_RESTART_FLAG, the rescue flag (datasheet 2.10.6). */
export const CHIP_RESET = 0x4006_4008;
export const CHIP_RESET_PSM_RESTART_FLAG = 1 << 24;
/** RESETS (datasheet 2.14.3). */
export const RESETS_RESET = 0x4000_c000;
export const RESET_IO_QSPI = 1 << 6;
export const RESET_PADS_BANK0 = 1 << 8;
export const RESET_PADS_QSPI = 1 << 9;
export const RESET_TIMER = 1 << 21;
/** PADS_BANK0 GPIO26..29 and the input-enable bit (datasheet 2.19.6.3). */
export const PADS_BANK0_GPIO26 = 0x4001_c06c;
export const PADS_IE = 1 << 6;
/** Watchdog scratch registers (datasheet 4.7.6). */
export const WATCHDOG_SCRATCH0 = 0x4005_800c;
export const WATCHDOG_SCRATCH4 = 0x4005_801c;
export const WATCHDOG_SCRATCH5 = 0x4005_8020;
export const WATCHDOG_SCRATCH6 = 0x4005_8024;
export const WATCHDOG_SCRATCH7 = 0x4005_8028;
/** Magic the SDK's watchdog_reboot writes to SCRATCH4 (datasheet 2.8.1.1). */
export const WATCHDOG_BOOT_MAGIC = 0xb007_c0d3;
/** IO_QSPI GPIO_QSPI_*_CTRL registers and SS_CTRL's OUTOVER field (datasheet 2.19.6.2). */
export const IO_QSPI_BASE = 0x4001_8000;
export const IO_QSPI_SS_CTRL = 0x4001_800c;
export const IO_QSPI_OUTOVER_MASK = 0x300;
/** SSI registers (datasheet 4.10.13). */
export const SSI_BASE = 0x1800_0000;
export const SSI_CTRLR0 = SSI_BASE + 0x00;
export const SSI_SSIENR = SSI_BASE + 0x08;
export const SSI_SER = SSI_BASE + 0x10;
export const SSI_BAUDR = SSI_BASE + 0x14;
export const SSI_SPI_CTRLR0 = SSI_BASE + 0xf4;
/** XIP_CTRL (datasheet 2.6.3.2). */
export const XIP_CTRL = 0x1400_0000;
export const XIP_FLUSH = 0x1400_0004;

/** Two ASCII characters as a ROM table code (datasheet 2.8.3, ROM_TABLE_CODE). */
export function romCode(code: string): number {
  if (code.length !== 2) throw new RangeError(`ROM code must be two characters: '${code}'`);
  return code.charCodeAt(0) | (code.charCodeAt(1) << 8);
}
