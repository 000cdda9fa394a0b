import { BasePeripheral, type RP2040 } from 'rp2040js';
import type { SimClock, SimTimer } from '../time.ts';

/** RP2040 datasheet §4.2.8: PL011 UART register offsets. */
const UARTDR = 0x000;
const UARTRSR = 0x004;
const UARTFR = 0x018;
const UARTILPR = 0x020;
const UARTIBRD = 0x024;
const UARTFBRD = 0x028;
const UARTLCR_H = 0x02c;
const UARTCR = 0x030;
const UARTIFLS = 0x034;
const UARTIMSC = 0x038;
const UARTRIS = 0x03c;
const UARTMIS = 0x040;
const UARTICR = 0x044;
const UARTDMACR = 0x048;
/** Peripheral and PrimeCell identification (§4.2.8 UARTPERIPHID0..3, UARTPCELLID0..3). */
const ID_REGS: Record<number, number> = {
  0xfe0: 0x11,
  0xfe4: 0x10,
  0xfe8: 0x34,
  0xfec: 0x00,
  0xff0: 0x0d,
  0xff4: 0xf0,
  0xff8: 0x05,
  0xffc: 0xb1,
};
/** UARTFR bits. */
const FR_BUSY = 1 << 3;
const FR_RXFE = 1 << 4;
const FR_TXFF = 1 << 5;
const FR_RXFF = 1 << 6;
const FR_TXFE = 1 << 7;
/** UARTLCR_H bits: parity enable, two stop bits, FIFO enable, word length (bits 6:5). */
const LCRH_PEN = 1 << 1;
const LCRH_STP2 = 1 << 3;
const LCRH_FEN = 1 << 4;
/** UARTCR bits. */
const CR_UARTEN = 1 << 0;
const CR_TXE = 1 << 8;
const CR_RXE = 1 << 9;
const CR_RESET = CR_TXE | CR_RXE;
/** Interrupt bits (UARTRIS/UARTIMSC/UARTMIS/UARTICR): RX, TX, receive timeout. */
export const UART_INT_RX = 1 << 4;
export const UART_INT_TX = 1 << 5;
export const UART_INT_RT = 1 << 6;
/** UARTDMACR bits. */
const DMACR_RXDMAE = 1 << 0;
const DMACR_TXDMAE = 1 << 1;
/** §4.2.2: 32-entry FIFOs; one-character holding registers with FEN = 0. */
const FIFO_DEPTH = 32;
/** UARTIFLS levels: 1/8, 1/4, 1/2, 3/4, 7/8 full. */
const IFLS_LEVELS = [4, 8, 16, 24, 28];
/** Receive timeout: 32 bit periods of a quiet line with data in the RX FIFO (§4.2.6). */
const RT_BITS = 32;
/** UARTLCR_H.BRK: send break (TX held low). */
const LCRH_BRK = 1 << 0;
/** UARTDR error bits read with each received character: framing, parity, break, overrun. */
export const DR_BE = 1 << 10;
const DR_OE = 1 << 11;
/** UARTRIS bits: break error, overrun error. */
export const UART_INT_BE = 1 << 9;
const UART_INT_OE = 1 << 10;
/** UARTRSR bits: break, overrun. */
const RSR_BE = 1 << 2;
const RSR_OE = 1 << 3;

/** Baud rate from the divisors (§4.2.7.1): clk / (16 × (IBRD + FBRD/64)); 0 when unset. */
export function uartBaud(clkPeri: number, ibrd: number, fbrd: number): number {
  const div = ibrd + fbrd / 64;
  return div > 0 ? clkPeri / (16 * div) : 0;
}

/** Bits on the line per character for a UARTLCR_H value: start, data, parity, stop. */
export function uartFrameBits(lcrh: number): number {
  const wlen = 5 + ((lcrh >>> 5) & 3);
  return 1 + wlen + (lcrh & LCRH_PEN ? 1 : 0) + (lcrh & LCRH_STP2 ? 2 : 1);
}

/** Something on a UART's TX pin besides the board's own port (a jumper wire to another pin). */
export interface UartTap {
  /** A character whose stop bit just ended. */
  byte(value: number): void;
  /** TX held low (UARTLCR_H.BRK) or released. */
  brk(active: boolean): void;
}

export interface UartDreq {
  rx: number;
  tx: number;
}

/**
 * An ARM PL011 UART as the RP2040 has it (§4.2): baud rate from IBRD/FBRD and clk_peri, frame
 * format from LCR_H, 32-deep FIFOs (or 1-deep holding registers) in front of a transmit shift
 * register, characters shifted out one frame time apart in simulated time, and the DMA requests.
 *
 * Interrupts follow the PL011 (§4.2.6): the TX and RX interrupts are raised by a *transition*
 * through the FIFO trigger level (TX when a character leaving the FIFO takes it down to the level,
 * RX when a received one brings it up to the level), not by the level itself, so clearing them
 * with UARTICR sticks until the next transition; RT after 32 quiet bit periods with data waiting;
 * BE when a break arrives. The host side sees `onByte` per transmitted character (when its stop
 * bit ends), wires on the pin are `taps` (characters and breaks); the host feeds `feedByte` (paced at the line rate) or,
 * for a character that already took its frame time on a wire, `receiveByte`.
 */
export class Pl011Uart extends BasePeripheral {
  private cr = CR_RESET;
  private lcrh = 0;
  private ibrd = 0;
  private fbrd = 0;
  private ifls = 0x12; // reset: 1/2 both
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private ilpr = 0;
  private rsr = 0;
  private readonly tx: number[] = [];
  /** Received characters with their error bits (UARTDR 11:8). */
  private readonly rx: number[] = [];
  private readonly hostQueue: number[] = [];
  /** A character is in the transmit shift register. */
  private shifting = false;
  private txTimer: SimTimer | null = null;
  private rxTimer: SimTimer | null = null;
  private rtTimer: SimTimer | null = null;
  /** Each character the UART puts on its TX line, when its stop bit ends. */
  onByte: ((value: number) => void) | null = null;
  /** Wires on the TX pin: they see each character and break too. */
  readonly taps = new Set<UartTap>();

  constructor(
    mcu: RP2040,
    name: string,
    private readonly irq: number,
    private readonly dreq: UartDreq,
    private readonly clock: SimClock,
  ) {
    super(mcu, name);
    this.updateInterrupts();
  }

  get enabled(): boolean {
    return !!(this.cr & CR_UARTEN);
  }
  get rxEnabled(): boolean {
    return this.enabled && !!(this.cr & CR_RXE);
  }
  get txEnabled(): boolean {
    return this.enabled && !!(this.cr & CR_TXE);
  }
  private get fifoDepth(): number {
    return this.lcrh & LCRH_FEN ? FIFO_DEPTH : 1;
  }
  get baudRate(): number {
    return uartBaud(this.rp2040.clkPeri, this.ibrd, this.fbrd);
  }
  /** Nanoseconds one character takes on the line (0 before the divisors are set). */
  get frameNanos(): number {
    const baud = this.baudRate;
    return baud > 0 ? (uartFrameBits(this.lcrh) * 1e9) / baud : 0;
  }
  get rxLevel(): number {
    return this.rx.length;
  }
  get txLevel(): number {
    return this.tx.length;
  }
  /** TX held low (UARTLCR_H.BRK). */
  get breaking(): boolean {
    return !!(this.lcrh & LCRH_BRK);
  }

  /** rp2040js calls this when clk_peri changes; the baud rate is derived on demand. */
  clkPeriChanged(): void {}

  /** A character from the host: it arrives on RX after one frame time (queued behind others). */
  feedByte(value: number): void {
    this.hostQueue.push(value & 0xff);
    this.pumpRx();
  }

  /** A character whose frame has just ended on the RX pin (from a wire): into the RX FIFO now. */
  receiveByte(value: number, errors = 0): void {
    if (!this.rxEnabled) return; // the receiver is off: the line's character is not sampled
    const below = !this.rxAtTrigger();
    if (this.rx.length < this.fifoDepth) this.rx.push((value & 0xff) | errors);
    else {
      // Overrun: the character is lost; the flag rides on the last one in the FIFO (§4.2.5).
      this.rsr |= RSR_OE;
      this.ris |= UART_INT_OE;
      const last = this.rx.length - 1;
      this.rx[last] = this.rx[last]! | DR_OE;
    }
    if (errors & DR_BE) {
      this.rsr |= RSR_BE;
      this.ris |= UART_INT_BE;
    }
    if (below && this.rxAtTrigger()) this.ris |= UART_INT_RX;
    this.armReceiveTimeout();
    this.updateInterrupts();
  }

  /** A break on the RX pin (the line held low for longer than a frame): a NUL with BE set. */
  receiveBreak(): void {
    this.receiveByte(0, DR_BE);
  }

  private pumpRx(): void {
    if (this.rxTimer || !this.hostQueue.length) return;
    const t = this.frameNanos || 1000;
    this.rxTimer = this.clock.schedule(t, () => {
      this.rxTimer = null;
      if (!this.rxEnabled) return; // receiver off: hold the host's characters until it is enabled
      const v = this.hostQueue.shift();
      if (v !== undefined) this.receiveByte(v);
      this.pumpRx();
    });
  }

  private armReceiveTimeout(): void {
    this.rtTimer?.cancel();
    const baud = this.baudRate || 115200;
    this.rtTimer = this.clock.schedule((RT_BITS * 1e9) / baud, () => {
      this.rtTimer = null;
      if (this.rx.length) {
        this.ris |= UART_INT_RT;
        this.updateInterrupts();
      }
    });
  }

  /** Load the shift register from the TX FIFO; the character is on the line for one frame. */
  private startShift(): void {
    if (this.shifting || !this.tx.length || !this.txEnabled || this.lcrh & LCRH_BRK) return;
    const above = !this.txAtTrigger();
    const v = this.tx.shift()!;
    if (above && this.txAtTrigger()) this.ris |= UART_INT_TX;
    this.shifting = true;
    this.updateInterrupts();
    this.txTimer = this.clock.schedule(this.frameNanos, () => {
      this.txTimer = null;
      this.shifting = false;
      this.onByte?.(v);
      for (const t of this.taps) t.byte(v);
      this.startShift();
      this.updateInterrupts();
    });
  }

  private txTrigger(): number {
    return IFLS_LEVELS[this.ifls & 7] ?? 16;
  }

  private rxTrigger(): number {
    return IFLS_LEVELS[(this.ifls >>> 3) & 7] ?? 16;
  }

  /** The TX FIFO is at or below its trigger level (the holding register is empty without FIFOs). */
  private txAtTrigger(): boolean {
    return this.lcrh & LCRH_FEN ? this.tx.length <= this.txTrigger() : this.tx.length === 0;
  }

  /** The RX FIFO is at or above its trigger level (the holding register is full without FIFOs). */
  private rxAtTrigger(): boolean {
    return this.lcrh & LCRH_FEN ? this.rx.length >= this.rxTrigger() : this.rx.length > 0;
  }

  private updateInterrupts(): void {
    // TX and RX are cleared when the level moves back across the trigger; set only by crossings.
    if (!this.txAtTrigger()) this.ris &= ~UART_INT_TX;
    if (!this.rxAtTrigger()) this.ris &= ~UART_INT_RX;
    if (!this.rx.length) this.ris &= ~UART_INT_RT;
    this.rp2040.setInterrupt(this.irq, (this.ris & this.imsc) !== 0);
    const dma = this.rp2040.dma;
    if (this.dmacr & DMACR_TXDMAE && this.tx.length < this.fifoDepth) dma.setDREQ(this.dreq.tx);
    else dma.clearDREQ(this.dreq.tx);
    if (this.dmacr & DMACR_RXDMAE && this.rx.length) dma.setDREQ(this.dreq.rx);
    else dma.clearDREQ(this.dreq.rx);
  }

  override readUint32(offset: number): number {
    switch (offset) {
      case UARTDR: {
        const v = this.rx.shift();
        if (this.rx.length) this.armReceiveTimeout();
        this.updateInterrupts();
        return v ?? 0;
      }
      case UARTRSR:
        return this.rsr;
      case UARTFR: {
        let fr = 0;
        if (!this.rx.length) fr |= FR_RXFE;
        if (this.rx.length >= this.fifoDepth) fr |= FR_RXFF;
        if (!this.tx.length) fr |= FR_TXFE;
        if (this.tx.length >= this.fifoDepth) fr |= FR_TXFF;
        if (this.shifting || this.tx.length) fr |= FR_BUSY;
        return fr;
      }
      case UARTILPR:
        return this.ilpr;
      case UARTIBRD:
        return this.ibrd;
      case UARTFBRD:
        return this.fbrd;
      case UARTLCR_H:
        return this.lcrh;
      case UARTCR:
        return this.cr;
      case UARTIFLS:
        return this.ifls;
      case UARTIMSC:
        return this.imsc;
      case UARTRIS:
        return this.ris;
      case UARTMIS:
        return this.ris & this.imsc;
      case UARTDMACR:
        return this.dmacr;
    }
    return ID_REGS[offset] ?? 0;
  }

  override writeUint32(offset: number, value: number): void {
    switch (offset) {
      case UARTDR:
        if (this.tx.length < this.fifoDepth) this.tx.push(value & 0xff);
        this.updateInterrupts();
        this.startShift();
        return;
      case UARTRSR:
        this.rsr = 0; // any write clears the error flags
        return;
      case UARTILPR:
        this.ilpr = value & 0xff;
        return;
      case UARTIBRD:
        this.ibrd = value & 0xffff;
        return;
      case UARTFBRD:
        this.fbrd = value & 0x3f;
        return;
      case UARTLCR_H: {
        // §4.2.7: changing FEN flushes the FIFOs.
        if ((value ^ this.lcrh) & LCRH_FEN) {
          this.tx.length = 0;
          this.rx.length = 0;
        }
        const brk = (value ^ this.lcrh) & LCRH_BRK;
        this.lcrh = value & 0xff;
        if (brk) for (const t of this.taps) t.brk(!!(value & LCRH_BRK));
        this.updateInterrupts();
        this.startShift();
        return;
      }
      case UARTCR:
        this.cr = value & 0xff87;
        this.updateInterrupts();
        this.startShift();
        this.pumpRx();
        return;
      case UARTIFLS:
        this.ifls = value & 0x3f;
        this.updateInterrupts();
        return;
      case UARTIMSC:
        this.imsc = value & 0x7ff;
        this.updateInterrupts();
        return;
      case UARTICR:
        this.ris &= ~value;
        this.updateInterrupts();
        return;
      case UARTDMACR:
        this.dmacr = value & 7;
        this.updateInterrupts();
        return;
    }
  }

  dispose(): void {
    this.txTimer?.cancel();
    this.rxTimer?.cancel();
    this.rtTimer?.cancel();
  }
}
