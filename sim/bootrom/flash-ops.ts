/**
 * Flash routines of the function table on the emulated 2 MB flash (RP2040-BOOTROM §8.2).
 * `flash` is rp2040js's flash array (mapped at XIP 0x1000_0000); offsets are flash offsets, not
 * XIP addresses, and wrap at 2 MB like the 24-bit SPI address on a 2 MB part.
 */
import {
  FLASH_CMD_BLOCK32_ERASE,
  FLASH_CMD_BLOCK64_ERASE,
  FLASH_CMD_SECTOR_ERASE,
  FLASH_PAGE_SIZE,
  FLASH_SECTOR_SIZE,
  FLASH_SIZE,
} from './constants.ts';

/** Called after each change to the flash array: a contiguous range of flash offsets. */
export type FlashWriteListener = (offset: number, length: number) => void;

/** Result of an erase or program call, for tracing and timing. */
export interface FlashOpResult {
  /** Erase commands issued (sector or block) / pages programmed. */
  commands: number;
  /** Microseconds of flash busy time a W25Q16JV would take (RP2040-BOOTROM §12). */
  busyMicros: number;
  /** A warning, e.g. for a zero block size or an unknown erase command. */
  warning?: string;
}

/** Typical W25Q16JV timings (RP2040-BOOTROM §12). */
export const FLASH_PAGE_PROGRAM_US = 400;
export const FLASH_SECTOR_ERASE_US = 45_000;
export const FLASH_BLOCK32_ERASE_US = 120_000;
export const FLASH_BLOCK64_ERASE_US = 150_000;

/** Erase size of an SPI erase command, or 0 if the flash does not know the command. */
export function eraseSizeOf(cmd: number): number {
  switch (cmd & 0xff) {
    case FLASH_CMD_SECTOR_ERASE:
      return FLASH_SECTOR_SIZE;
    case FLASH_CMD_BLOCK32_ERASE:
      return 0x8000;
    case FLASH_CMD_BLOCK64_ERASE:
      return 0x10000;
    default:
      return 0;
  }
}

/** Coalesces adjacent ranges before telling the listener. */
class RangeNotifier {
  private start = -1;
  private end = -1;
  constructor(private readonly listener: FlashWriteListener | undefined) {}
  add(offset: number, length: number): void {
    if (this.start >= 0 && offset === this.end) {
      this.end += length;
      return;
    }
    this.flush();
    this.start = offset;
    this.end = offset + length;
  }
  flush(): void {
    if (this.start >= 0 && this.listener) this.listener(this.start, this.end - this.start);
    this.start = -1;
  }
}

/** Erases the sector/block of `size` bytes containing `addr` (2 MB wrap). */
function eraseUnit(flash: Uint8Array, addr: number, size: number, note: RangeNotifier): void {
  const base = (addr & (FLASH_SIZE - 1)) & ~(size - 1);
  flash.fill(0xff, base, base + size);
  note.add(base, size);
}

/**
 * flash_range_erase ('RE'): the ROM's loop. While offset < offset + count: a block command where
 * offset is block-aligned and a whole block remains, else a 4 KB sector erase of the sector
 * containing offset.
 */
export function flashRangeErase(
  flash: Uint8Array,
  offset: number,
  count: number,
  blockSize: number,
  blockCmd: number,
  listener?: FlashWriteListener,
): FlashOpResult {
  offset >>>= 0;
  count >>>= 0;
  blockSize >>>= 0;
  const res: FlashOpResult = { commands: 0, busyMicros: 0 };
  if (blockSize === 0) {
    // Silicon never finishes the loop's alignment test (offset % 0); erase sector by sector instead.
    res.warning = 'flash_range_erase called with block_size 0; erasing 4 KB sectors';
    blockSize = 0xffffffff;
  }
  const blockBytes = eraseSizeOf(blockCmd);
  const note = new RangeNotifier(listener);
  const goal = offset + count;
  let addr = offset;
  while (addr < goal) {
    if (addr % blockSize === 0 && goal - addr >= blockSize) {
      if (blockBytes > 0) {
        eraseUnit(flash, addr, blockBytes, note);
        res.busyMicros += blockBytes >= 0x10000 ? FLASH_BLOCK64_ERASE_US : blockBytes >= 0x8000 ? FLASH_BLOCK32_ERASE_US : FLASH_SECTOR_ERASE_US;
      } else {
        res.warning = `flash_range_erase: unknown block erase command 0x${(blockCmd & 0xff).toString(16)} ignored by the flash`;
      }
      addr += blockSize;
    } else {
      eraseUnit(flash, addr, FLASH_SECTOR_SIZE, note);
      res.busyMicros += FLASH_SECTOR_ERASE_US;
      addr += FLASH_SECTOR_SIZE;
    }
    res.commands++;
  }
  note.flush();
  return res;
}

/**
 * flash_range_program ('RP'): whole 256-byte pages from `offset` while below offset + count; the
 * flash ANDs the data into the array and wraps inside the page (and at 2 MB).
 * `readData(i)` returns byte i of the source buffer.
 */
export function flashRangeProgram(
  flash: Uint8Array,
  offset: number,
  count: number,
  readData: (i: number) => number,
  listener?: FlashWriteListener,
): FlashOpResult {
  offset >>>= 0;
  count >>>= 0;
  const res: FlashOpResult = { commands: 0, busyMicros: 0 };
  const note = new RangeNotifier(listener);
  const goal = offset + count;
  for (let addr = offset, done = 0; addr < goal; addr += FLASH_PAGE_SIZE, done += FLASH_PAGE_SIZE) {
    const a = addr & (FLASH_SIZE - 1);
    const page = a & ~(FLASH_PAGE_SIZE - 1);
    for (let i = 0; i < FLASH_PAGE_SIZE; i++) {
      const at = page | ((a + i) & (FLASH_PAGE_SIZE - 1));
      flash[at] &= readData(done + i);
    }
    note.add(page, FLASH_PAGE_SIZE);
    res.commands++;
    res.busyMicros += FLASH_PAGE_PROGRAM_US;
  }
  note.flush();
  return res;
}
