/**
 * The RP2040's address map (RP2040 datasheet §2.2) and the Pico W's flash size: the one place these
 * addresses are written down. rp2040js keys its peripheral table by address >>> 12
 * (`peripheralKey`).
 */

/** ROM: 16 KB at 0 (§2.2.1). */
export const ROM_BASE = 0x0000_0000;
export const ROM_SIZE = 0x4000;
/** XIP flash window (§2.6.3): flash is mapped from 0x1000_0000. */
export const XIP_BASE = 0x1000_0000;
export const FLASH_BASE = XIP_BASE;
export const XIP_WINDOW_END = 0x1400_0000;
/** The Pico W's flash: 2 MB (W25Q16JV). */
export const FLASH_SIZE = 0x20_0000;
/**
 * The flash chip decodes only the address bits of its own size (W25Q16JV: A20–A0), so the 16 MB
 * XIP window (and each of its aliases) sees the 2 MB chip repeated: offset = address & FLASH_MASK.
 */
export const FLASH_MASK = FLASH_SIZE - 1;
/** XIP SSI, the flash interface (§2.6.5 / §4.10). */
export const XIP_SSI_BASE = 0x1800_0000;
/** SRAM: 264 KB at 0x2000_0000 (§2.2.1). */
export const SRAM_BASE = 0x2000_0000;
export const SRAM_SIZE = 0x4_2000;
export const SRAM_END = SRAM_BASE + SRAM_SIZE;

/** APB peripherals (§2.2.4). */
export const SYSINFO_BASE = 0x4000_0000;
export const PSM_BASE = 0x4001_0000;
export const IO_BANK0_BASE = 0x4001_4000;
export const IO_QSPI_BASE = 0x4001_8000;
export const PADS_BANK0_BASE = 0x4001_c000;
export const UART0_BASE = 0x4003_4000;
export const UART1_BASE = 0x4003_8000;
export const SPI0_BASE = 0x4003_c000;
export const SPI1_BASE = 0x4004_0000;
export const I2C0_BASE = 0x4004_4000;
export const I2C1_BASE = 0x4004_8000;
export const WATCHDOG_BASE = 0x4005_8000;
export const ROSC_BASE = 0x4006_0000;

/** AHB-Lite peripherals (§2.2.5). */
export const DMA_BASE = 0x5000_0000;
export const USBCTRL_DPRAM_BASE = 0x5010_0000;
export const PIO0_BASE = 0x5020_0000;
export const PIO1_BASE = 0x5030_0000;
/** PIO RXF0..RXF3 (§3.7): the only PIO registers whose reads change state (they pop a FIFO). */
const PIO_RXF0 = 0x020;
const PIO_RXF3 = 0x02c;
/** Whether `offset` within a PIO block is one of its RX FIFO registers. */
export function isPioRxFifo(offset: number): boolean {
  return offset >= PIO_RXF0 && offset <= PIO_RXF3;
}

/** IOPORT: SIO (§2.3.1). */
export const SIO_BASE = 0xd000_0000;

/** The key of a peripheral in rp2040js's `RP2040.peripherals` table: its 4 KB page. */
export function peripheralKey(base: number): number {
  return base >>> 12;
}
