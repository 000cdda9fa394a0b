/**
 * The Pico W's serial flash chip (Winbond W25Q16JV class, 2 MB) as seen on its SPI pins: a
 * command state machine fed one byte per clocked byte while chip-select is low. The flash array
 * is shared with rp2040js's XIP mapping, so programs and erases are visible to the CPU at once.
 */

/** W25Q16JV datasheet §8.1 instruction set (standard SPI). */
export const FLASH_CMD = {
  WRITE_STATUS1: 0x01,
  PAGE_PROGRAM: 0x02,
  READ_DATA: 0x03,
  WRITE_DISABLE: 0x04,
  READ_STATUS1: 0x05,
  WRITE_ENABLE: 0x06,
  FAST_READ: 0x0b,
  SECTOR_ERASE_4K: 0x20,
  WRITE_STATUS2: 0x31,
  READ_STATUS2: 0x35,
  READ_UNIQUE_ID: 0x4b,
  BLOCK_ERASE_32K: 0x52,
  CHIP_ERASE: 0x60,
  READ_JEDEC_ID: 0x9f,
  RELEASE_POWER_DOWN: 0xab,
  CHIP_ERASE_ALT: 0xc7,
  BLOCK_ERASE_64K: 0xd8,
  FAST_READ_QUAD_IO: 0xeb,
  CONTINUOUS_READ_RESET: 0xff,
} as const;

/** JEDEC ID of the W25Q16JV (§8.2.27): manufacturer 0xEF, memory type 0x40, capacity 0x15 (2 MB). */
export const W25Q16_JEDEC_ID = [0xef, 0x40, 0x15];
/** Status register 2 bit 1: quad enable (§7.1.10). Reported set so boot2 skips programming it. */
const STATUS2_QE = 0x02;
const PAGE_SIZE = 256;

export interface FlashWriteListener {
  (offset: number, length: number, kind: 'erase' | 'program'): void;
}

export class SpiFlash {
  private selected = false;
  private cmd = -1;
  private pos = 0;
  private addr = 0;
  private writeEnabled = false;
  private status2 = STATUS2_QE;
  private pageBuf: number[] = [];

  constructor(
    /** Backing store (rp2040js's flash array); only the first `size` bytes are the chip. */
    readonly memory: Uint8Array,
    readonly uniqueId: Uint8Array,
    readonly size = 2 * 1024 * 1024,
    private readonly onWrite?: FlashWriteListener,
  ) {}

  select(): void {
    if (this.selected) return;
    this.selected = true;
    this.cmd = -1;
    this.pos = 0;
    this.addr = 0;
    this.pageBuf = [];
  }

  deselect(): void {
    if (!this.selected) return;
    this.selected = false;
    if (this.cmd === FLASH_CMD.PAGE_PROGRAM && this.writeEnabled && this.pos >= 4) this.commitPage();
    this.cmd = -1;
  }

  get isSelected(): boolean {
    return this.selected;
  }

  /** Clock one byte in; returns the byte the flash drives on its output during that byte. */
  exchange(byte: number): number {
    if (!this.selected) return 0xff;
    if (this.cmd === -1) {
      this.cmd = byte;
      this.pos = 1;
      this.onCommand(byte);
      return 0xff;
    }
    const i = this.pos++;
    switch (this.cmd) {
      case FLASH_CMD.READ_STATUS1:
        return this.writeEnabled ? 0x02 : 0x00; // BUSY (bit 0) always clear: operations are instant
      case FLASH_CMD.READ_STATUS2:
        return this.status2;
      case FLASH_CMD.WRITE_STATUS2:
        if (i === 1) this.status2 = byte | STATUS2_QE;
        return 0xff;
      case FLASH_CMD.WRITE_STATUS1:
        if (i === 2) this.status2 = byte | STATUS2_QE;
        return 0xff;
      case FLASH_CMD.READ_JEDEC_ID:
        return W25Q16_JEDEC_ID[i - 1] ?? 0xff;
      case FLASH_CMD.READ_UNIQUE_ID:
        // §8.2.30: instruction, four dummy bytes, then the 64-bit ID.
        return i >= 5 && i < 13 ? this.uniqueId[i - 5]! : 0xff;
      case FLASH_CMD.READ_DATA:
      case FLASH_CMD.FAST_READ:
        if (i <= 3) {
          this.addr = (this.addr << 8) | byte;
          return 0xff;
        }
        if (this.cmd === FLASH_CMD.FAST_READ && i === 4) return 0xff; // dummy byte
        return this.memory[this.addr++ % this.size]!;
      case FLASH_CMD.PAGE_PROGRAM:
        if (i <= 3) {
          this.addr = (this.addr << 8) | byte;
          return 0xff;
        }
        this.pageBuf.push(byte);
        return 0xff;
      case FLASH_CMD.SECTOR_ERASE_4K:
      case FLASH_CMD.BLOCK_ERASE_32K:
      case FLASH_CMD.BLOCK_ERASE_64K:
        if (i <= 3) this.addr = (this.addr << 8) | byte;
        if (i === 3) this.erase();
        return 0xff;
      default:
        return 0xff;
    }
  }

  private onCommand(cmd: number): void {
    switch (cmd) {
      case FLASH_CMD.WRITE_ENABLE:
        this.writeEnabled = true;
        break;
      case FLASH_CMD.WRITE_DISABLE:
        this.writeEnabled = false;
        break;
      case FLASH_CMD.CHIP_ERASE:
      case FLASH_CMD.CHIP_ERASE_ALT:
        if (this.writeEnabled) {
          this.memory.fill(0xff, 0, this.size);
          this.writeEnabled = false;
          this.onWrite?.(0, this.size, 'erase');
        }
        break;
    }
  }

  private erase(): void {
    if (!this.writeEnabled) return;
    const span =
      this.cmd === FLASH_CMD.SECTOR_ERASE_4K ? 4096 : this.cmd === FLASH_CMD.BLOCK_ERASE_32K ? 32768 : 65536;
    const start = (this.addr % this.size) & ~(span - 1);
    this.memory.fill(0xff, start, start + span);
    this.writeEnabled = false;
    this.onWrite?.(start, span, 'erase');
  }

  private commitPage(): void {
    // §8.2.15: data wraps within the 256-byte page; programming can only clear bits.
    const base = (this.addr % this.size) & ~(PAGE_SIZE - 1);
    let col = this.addr & (PAGE_SIZE - 1);
    const data = this.pageBuf.slice(-PAGE_SIZE);
    for (const b of data) {
      this.memory[base + col] = this.memory[base + col]! & b;
      col = (col + 1) & (PAGE_SIZE - 1);
    }
    this.writeEnabled = false;
    this.onWrite?.(base, PAGE_SIZE, 'program');
  }
}
