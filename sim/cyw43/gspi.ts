/**
 * gSPI bus layer of the CYW43439: command words, the word/byte-order modes of the bus, the F0
 * (bus function) register file, and the framing of one chip-select window into a command plus its
 * write data or read response. Functions 1 (backplane) and 2 (WLAN frames) are handed to a
 * `GspiFunctions` implementation.
 *
 * Wire model: the transport hands over each 32 bits it clocked out on the data line (first bit in
 * the most significant position) and asks for each 32 bits it clocks in. How those 32 wire bits map
 * to a 32-bit value depends on the bus mode (CYW43439 datasheet, gSPI "word length" and
 * "endianness" bits of the bus control register):
 *   16-bit mode (power-on):  the value's low half-word is sent first  -> value = rotate16(wire)
 *   32-bit, little endian:   the value is sent most significant bit first -> value = wire
 *   32-bit, big endian:      byte-reversed                                  -> value = bswap(wire)
 * Payload bytes are the little-endian bytes of those values.
 */
import { bswap32 } from '../byte-order.ts';
import type { Logger } from '../log.ts';

// gSPI command word (cyw43_spi.h / datasheet "gSPI command structure")
export const CMD_WRITE = 1 << 31;
export const CMD_INCREMENT = 1 << 30;
export const FUNC_BUS = 0;
export const FUNC_BACKPLANE = 1;
export const FUNC_WLAN = 2;

// F0 register addresses (cyw43_spi.h)
export const SPI_BUS_CONTROL = 0x00;
export const SPI_RESPONSE_DELAY = 0x01;
export const SPI_STATUS_ENABLE = 0x02;
export const SPI_RESET_BP = 0x03;
export const SPI_INTERRUPT_REGISTER = 0x04;
export const SPI_INTERRUPT_ENABLE_REGISTER = 0x06;
export const SPI_STATUS_REGISTER = 0x08;
export const SPI_FUNCTION1_INFO = 0x0c;
export const SPI_FUNCTION2_INFO = 0x0e;
export const SPI_READ_TEST_REGISTER = 0x14;
export const SPI_WRITE_TEST_REGISTER = 0x18;
export const SPI_RESP_DELAY_F0 = 0x1c;
export const SPI_RESP_DELAY_F1 = 0x1d;
export const SPI_RESP_DELAY_F2 = 0x1e;
/** Read-only test register content ("FEEDBEAD"). */
export const TEST_PATTERN = 0xfeedbead;

// SPI_BUS_CONTROL bits
export const WORD_LENGTH_32 = 0x01;
export const ENDIAN_BIG = 0x02;
export const INTERRUPT_POLARITY_HIGH = 0x20;
// SPI_STATUS_ENABLE bits
export const STATUS_ENABLE = 0x01;
export const RESP_DELAY_ALL = 0x04;

// SPI_INTERRUPT_REGISTER bits
export const DATA_UNAVAILABLE = 0x0001;
export const F2_F3_FIFO_RD_UNDERFLOW = 0x0002;
export const F2_F3_FIFO_WR_OVERFLOW = 0x0004;
export const COMMAND_ERROR = 0x0008;
export const DATA_ERROR = 0x0010;
export const F2_PACKET_AVAILABLE = 0x0020;
export const F1_OVERFLOW = 0x0080;

// SPI_STATUS_REGISTER bits
export const STATUS_F2_RX_READY = 0x00000020;
export const STATUS_F2_PKT_AVAILABLE = 0x00000100;
export const STATUS_F2_PKT_LEN_SHIFT = 9;
export const STATUS_F2_PKT_LEN_MASK = 0x000ffe00;

// SPI_FUNCTIONx_INFO bits
const FUNCTION_ENABLED = 0x01;
const FUNCTION_READY = 0x02;

export interface GspiCommand {
  write: boolean;
  increment: boolean;
  func: number;
  address: number;
  /** Byte count; a length field of 0 means 2048. */
  length: number;
}

export function decodeCommand(word: number): GspiCommand {
  const len = word & 0x7ff;
  return {
    write: (word & CMD_WRITE) !== 0,
    increment: (word & CMD_INCREMENT) !== 0,
    func: (word >>> 28) & 0x3,
    address: (word >>> 11) & 0x1ffff,
    length: len === 0 ? 2048 : len,
  };
}

export function encodeCommand(c: { write: boolean; increment?: boolean; func: number; address: number; length: number }): number {
  return (
    ((c.write ? CMD_WRITE : 0) |
      ((c.increment ?? true) ? CMD_INCREMENT : 0) |
      ((c.func & 3) << 28) |
      ((c.address & 0x1ffff) << 11) |
      (c.length & 0x7ff)) >>>
    0
  );
}

export function rotate16(x: number): number {
  return ((x >>> 16) | (x << 16)) >>> 0;
}

export { bswap32 };

export type WordMode = '16' | '32le' | '32be';

/** Wire bits -> value, for the current bus mode. */
export function wireToValue(wire: number, mode: WordMode): number {
  if (mode === '16') return rotate16(wire);
  if (mode === '32be') return bswap32(wire);
  return wire >>> 0;
}

/** Value -> wire bits, for the current bus mode. */
export function valueToWire(value: number, mode: WordMode): number {
  if (mode === '16') return rotate16(value);
  if (mode === '32be') return bswap32(value);
  return value >>> 0;
}

/** What the bus layer needs from the rest of the chip. */
export interface GspiFunctions {
  /** F1 read of `length` bytes at a 17-bit F1 address. */
  readBackplane(address: number, length: number): Uint8Array;
  writeBackplane(address: number, data: Uint8Array): void;
  /** F2 read: the next frame for the host (zero-padded to `length`). */
  readWlan(length: number): Uint8Array;
  writeWlan(data: Uint8Array): void;
  /** Length of the frame the host may read next, 0 if none. */
  pendingFrameLength(): number;
  /** Whether the WLAN function accepts frames from the host (firmware running). */
  wlanReady(): boolean;
}

export interface GspiTraceRecord {
  cmd: GspiCommand;
  /** Write data or read data (without padding). */
  data: Uint8Array;
}

/**
 * F0 register file plus transaction framing. `select`/`deselect` follow the chip-select line;
 * `mosiWord` receives 32 wire bits from the host, `misoWord` supplies the next 32 wire bits.
 */
export class GspiBus {
  private readonly regs = new Uint8Array(0x20);
  private mode: WordMode = '16';
  private selected = false;
  private cmd: GspiCommand | null = null;
  private wordsIn = 0;
  private writeBuf: Uint8Array | null = null;
  private writeFill = 0;
  private response: Uint8Array = new Uint8Array(0);
  private responsePos = 0;
  private statusAfterWrite = false;
  private readData: Uint8Array | null = null;
  /** Called when the host-interrupt condition may have changed. */
  onInterruptChange: (() => void) | null = null;
  /** Called for every completed transaction (for `--trace cyw43`). */
  onTransaction: ((rec: GspiTraceRecord) => void) | null = null;
  /** Counters for tests and diagnostics. */
  readonly stats = { transactions: 0, malformed: 0 };

  constructor(
    private readonly fn: GspiFunctions,
    private readonly logger: Logger,
  ) {
    this.reset();
  }

  /** Power-on state: 16-bit mode, little endian, nothing enabled. */
  reset(): void {
    this.regs.fill(0);
    this.mode = '16';
    this.selected = false;
    this.cmd = null;
    this.writeBuf = null;
    this.response = new Uint8Array(0);
    this.responsePos = 0;
    this.setU32(SPI_READ_TEST_REGISTER, TEST_PATTERN);
  }

  get wordMode(): WordMode {
    return this.mode;
  }

  /** Raw F0 register byte (for tests). */
  reg8(addr: number): number {
    this.refreshComputed();
    return this.regs[addr & 0x1f]!;
  }

  get interruptStatus(): number {
    return this.regs[SPI_INTERRUPT_REGISTER]! | (this.regs[SPI_INTERRUPT_REGISTER + 1]! << 8);
  }

  get interruptEnable(): number {
    return this.regs[SPI_INTERRUPT_ENABLE_REGISTER]! | (this.regs[SPI_INTERRUPT_ENABLE_REGISTER + 1]! << 8);
  }

  /** Whether the host-wake line is asserted (interrupt pending and enabled, polarity set up). */
  get interruptLine(): boolean {
    const configured = (this.regs[SPI_BUS_CONTROL]! & INTERRUPT_POLARITY_HIGH) !== 0;
    return configured && (this.interruptStatus & this.interruptEnable) !== 0;
  }

  /** The chip raises interrupt status bits (F2 packet available...). */
  raiseInterrupt(bits: number): void {
    const v = this.interruptStatus | bits;
    this.regs[SPI_INTERRUPT_REGISTER] = v & 0xff;
    this.regs[SPI_INTERRUPT_REGISTER + 1] = (v >>> 8) & 0xff;
    this.onInterruptChange?.();
  }

  /** The 32-bit status word the chip reports (and appends to transfers when status is enabled). */
  statusWord(): number {
    let s = 0;
    if (this.fn.wlanReady()) s |= STATUS_F2_RX_READY;
    const len = this.fn.pendingFrameLength();
    if (len > 0) {
      s |= STATUS_F2_PKT_AVAILABLE;
      s |= (Math.min(len, 0x7ff) << STATUS_F2_PKT_LEN_SHIFT) & STATUS_F2_PKT_LEN_MASK;
    }
    return s >>> 0;
  }

  select(): void {
    this.selected = true;
    this.cmd = null;
    this.wordsIn = 0;
    this.writeBuf = null;
    this.writeFill = 0;
    this.response = new Uint8Array(0);
    this.responsePos = 0;
    this.statusAfterWrite = false;
    this.readData = null;
  }

  deselect(): void {
    if (!this.selected) return;
    this.selected = false;
    const cmd = this.cmd;
    if (!cmd) {
      if (this.wordsIn > 0) this.malformed('transaction shorter than a command word');
      return;
    }
    if (cmd.write && this.writeBuf && this.writeFill < this.writeBuf.length) {
      this.malformed(
        `write F${cmd.func} 0x${cmd.address.toString(16)}: ${this.writeFill} of ${this.writeBuf.length} bytes before chip select rose`,
      );
      this.raiseInterrupt(DATA_ERROR);
    }
    this.stats.transactions++;
    this.onTransaction?.({ cmd, data: cmd.write ? (this.writeBuf ?? new Uint8Array(0)) : (this.readData ?? new Uint8Array(0)) });
    this.cmd = null;
  }

  /** 32 bits the host clocked out (first bit in bit 31). */
  mosiWord(wire: number): void {
    if (!this.selected) return;
    const value = wireToValue(wire, this.mode);
    this.wordsIn++;
    if (!this.cmd) {
      this.startCommand(decodeCommand(value));
      return;
    }
    const cmd = this.cmd;
    if (!cmd.write || !this.writeBuf) {
      // Bits clocked out after a read command or past the write length: ignored by the chip.
      return;
    }
    if (this.writeFill >= this.writeBuf.length) return;
    const n = Math.min(4, this.writeBuf.length - this.writeFill);
    for (let i = 0; i < n; i++) this.writeBuf[this.writeFill + i] = (value >>> (8 * i)) & 0xff;
    this.writeFill += n;
    if (this.writeFill >= this.writeBuf.length) this.finishWrite(cmd, this.writeBuf);
  }

  /** The next 32 bits the chip drives on the data line. */
  misoWord(): number {
    if (!this.selected) return 0;
    if (this.statusAfterWrite && this.responsePos >= this.response.length) {
      // After a write, the chip returns its status word (when status reporting is enabled).
      this.statusAfterWrite = false;
      this.response = this.u32Bytes(this.statusWord());
      this.responsePos = 0;
    }
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.responsePos < this.response.length ? this.response[this.responsePos]! : 0;
      v |= b << (8 * i);
      this.responsePos++;
    }
    return valueToWire(v >>> 0, this.mode);
  }

  private startCommand(cmd: GspiCommand): void {
    this.cmd = cmd;
    if (cmd.func === 3) {
      this.malformed(`command for function 3 (0x${encodeCommand(cmd).toString(16)})`);
      this.raiseInterrupt(COMMAND_ERROR);
      this.response = new Uint8Array(0);
      return;
    }
    if (cmd.write) {
      this.writeBuf = new Uint8Array(cmd.length);
      this.writeFill = 0;
      this.statusAfterWrite = this.statusEnabled;
      return;
    }
    // Read: padding (response delay), the data rounded up to whole words, then the status word.
    const pad = this.responseDelay(cmd.func);
    const data = this.readFunction(cmd);
    this.readData = data;
    const dataLen = (data.length + 3) & ~3;
    const status = this.statusEnabled ? 4 : 0;
    const resp = new Uint8Array(pad + dataLen + status);
    resp.set(data, pad);
    if (status) resp.set(this.u32Bytes(this.statusWord()), pad + dataLen);
    this.response = resp;
    this.responsePos = 0;
  }

  private get statusEnabled(): boolean {
    return (this.regs[SPI_STATUS_ENABLE]! & STATUS_ENABLE) !== 0;
  }

  private responseDelay(func: number): number {
    if (func === FUNC_BACKPLANE) return this.regs[SPI_RESP_DELAY_F1]! || this.regs[SPI_RESPONSE_DELAY]!;
    if (this.regs[SPI_STATUS_ENABLE]! & RESP_DELAY_ALL) {
      return func === FUNC_BUS ? this.regs[SPI_RESP_DELAY_F0]! : this.regs[SPI_RESP_DELAY_F2]!;
    }
    return 0;
  }

  private readFunction(cmd: GspiCommand): Uint8Array {
    switch (cmd.func) {
      case FUNC_BUS:
        return this.readF0(cmd.address, cmd.length);
      case FUNC_BACKPLANE:
        return this.fn.readBackplane(cmd.address, cmd.length);
      case FUNC_WLAN: {
        if (this.fn.pendingFrameLength() === 0) this.raiseInterrupt(DATA_UNAVAILABLE);
        return this.fn.readWlan(cmd.length);
      }
      default:
        return new Uint8Array(cmd.length);
    }
  }

  private finishWrite(cmd: GspiCommand, data: Uint8Array): void {
    switch (cmd.func) {
      case FUNC_BUS:
        this.writeF0(cmd.address, data);
        break;
      case FUNC_BACKPLANE:
        this.fn.writeBackplane(cmd.address, data);
        break;
      case FUNC_WLAN:
        if (!this.fn.wlanReady()) {
          this.malformed('F2 write while the WLAN function is not ready');
          this.raiseInterrupt(F2_F3_FIFO_WR_OVERFLOW);
          return;
        }
        this.fn.writeWlan(data);
        break;
    }
  }

  private refreshComputed(): void {
    this.setU32(SPI_STATUS_REGISTER, this.statusWord());
    const ready = this.fn.wlanReady();
    this.regs[SPI_FUNCTION1_INFO] = FUNCTION_ENABLED | FUNCTION_READY;
    this.regs[SPI_FUNCTION2_INFO] = ready ? FUNCTION_ENABLED | FUNCTION_READY : 0;
    this.setU32(SPI_READ_TEST_REGISTER, TEST_PATTERN);
  }

  private readF0(address: number, length: number): Uint8Array {
    this.refreshComputed();
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = address + i;
      out[i] = a < this.regs.length ? this.regs[a]! : 0;
    }
    return out;
  }

  private writeF0(address: number, data: Uint8Array): void {
    let irqTouched = false;
    for (let i = 0; i < data.length; i++) {
      const a = address + i;
      const v = data[i]!;
      if (a >= this.regs.length) continue;
      if (a === SPI_INTERRUPT_REGISTER || a === SPI_INTERRUPT_REGISTER + 1) {
        this.regs[a] = this.regs[a]! & ~v; // write 1 to clear
        irqTouched = true;
      } else if (a === SPI_INTERRUPT_ENABLE_REGISTER || a === SPI_INTERRUPT_ENABLE_REGISTER + 1) {
        this.regs[a] = v;
        irqTouched = true;
      } else if (a >= SPI_STATUS_REGISTER && a < SPI_STATUS_REGISTER + 4) {
        // read-only
      } else if (a >= SPI_FUNCTION1_INFO && a < SPI_FUNCTION1_INFO + 8) {
        // read-only
      } else if (a >= SPI_READ_TEST_REGISTER && a < SPI_READ_TEST_REGISTER + 4) {
        // read-only test pattern
      } else {
        this.regs[a] = v;
      }
      if (a === SPI_BUS_CONTROL) {
        irqTouched = true;
        this.mode = v & WORD_LENGTH_32 ? (v & ENDIAN_BIG ? '32be' : '32le') : '16';
      }
    }
    if (irqTouched) this.onInterruptChange?.();
  }

  private setU32(addr: number, v: number): void {
    this.regs[addr] = v & 0xff;
    this.regs[addr + 1] = (v >>> 8) & 0xff;
    this.regs[addr + 2] = (v >>> 16) & 0xff;
    this.regs[addr + 3] = (v >>> 24) & 0xff;
  }

  private u32Bytes(v: number): Uint8Array {
    return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
  }

  private malformed(msg: string): void {
    this.stats.malformed++;
    this.logger.warnOnce('cyw43', `gspi:${msg.split(' ')[0]}`, `malformed bus transaction: ${msg}`);
    this.logger.trace('cyw43', `malformed bus transaction: ${msg}`);
  }
}
