import { BasePeripheral, type RP2040 } from 'rp2040js';
import type { SpiFlash } from './spi-flash.ts';

/** RP2040 datasheet §4.10.13: SSI register offsets (XIP_SSI_BASE 0x18000000). */
const SSI_CTRLR0 = 0x00;
const SSI_CTRLR1 = 0x04;
const SSI_SSIENR = 0x08;
const SSI_SER = 0x10;
const SSI_BAUDR = 0x14;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_IMR = 0x2c;
const SSI_ISR = 0x30;
const SSI_RISR = 0x34;
const SSI_ICR = 0x48;
const SSI_IDR = 0x58;
const SSI_VERSION_ID = 0x5c;
const SSI_DR0 = 0x60;
const SSI_RX_SAMPLE_DLY = 0xf0;
const SSI_SPI_CTRLR0 = 0xf4;
const SSI_TXD_DRIVE_EDGE = 0xf8;
/** SR bits (§4.10.13 SSI_SR): BUSY, TFNF, TFE, RFNE. */
const SR_TFNF = 1 << 1;
const SR_TFE = 1 << 2;
const SR_RFNE = 1 << 3;
/** CTRLR0 fields: DFS_32 (frame size − 1) bits 20:16, TMOD bits 9:8. */
const TMOD_TX_AND_RX = 0;
const TMOD_EEPROM_READ = 3;
const RX_FIFO_DEPTH = 16;
/** Values the silicon reports for IDR and SSI_COMP_VERSION. */
const SSI_IDR_VALUE = 0x51535049;
const SSI_VERSION_VALUE = 0x3430312a;

/**
 * The XIP SSI in serial mode, wired to the flash chip. Transfers complete instantly: a frame
 * written to DR0 is clocked through the flash at once and its answer lands in the RX FIFO.
 * Chip-select follows the IO_QSPI override when one is set (the SDK forces it for raw commands),
 * otherwise the SSI's own: asserted for a transfer and released once the host has read every
 * answer (the FIFO ran dry), which is what boot2's command/response pairs look like on the wire.
 */
export class XipSsi extends BasePeripheral {
  private ctrlr0 = 0x00070000;
  private ctrlr1 = 0;
  private ssienr = 0;
  private ser = 0;
  private baudr = 0;
  private imr = 0;
  private rxSampleDly = 0;
  private spiCtrlr0 = 0x03000218;
  private txdDriveEdge = 0;
  private readonly rx: number[] = [];
  /** Chip-select forced by IO_QSPI SS OUTOVER: null = normal (SSI drives it). */
  private forcedCs: 'low' | 'high' | null = null;

  constructor(
    mcu: RP2040,
    readonly flash: SpiFlash,
  ) {
    super(mcu, 'SSI');
  }

  /** IO_QSPI GPIO_QSPI_SS_CTRL OUTOVER changed (2 = drive low, 3 = drive high, else normal). */
  setCsOverride(outover: number): void {
    this.forcedCs = outover === 2 ? 'low' : outover === 3 ? 'high' : null;
    if (this.forcedCs === 'low') this.flash.select();
    else if (this.forcedCs === 'high') this.flash.deselect();
    else if (this.rx.length === 0) this.flash.deselect();
  }

  private get frameBytes(): number {
    return (((this.ctrlr0 >>> 16) & 0x1f) + 1) >>> 3 || 1;
  }

  private get tmod(): number {
    return (this.ctrlr0 >>> 8) & 3;
  }

  private transmit(value: number): void {
    if (!this.ssienr) return;
    if (this.forcedCs === 'high') {
      this.pushRx(0xffffffff >>> (32 - 8 * this.frameBytes));
      return;
    }
    if (this.forcedCs === null && !this.flash.isSelected) {
      if (!(this.ser & 1)) return;
      this.flash.select();
    }
    const n = this.frameBytes;
    let reply = 0;
    for (let i = n - 1; i >= 0; i--) reply = (reply << 8) | this.flash.exchange((value >>> (8 * i)) & 0xff);
    if (this.tmod === TMOD_TX_AND_RX) this.pushRx(reply >>> 0);
    else if (this.tmod === TMOD_EEPROM_READ) {
      for (let f = 0; f <= (this.ctrlr1 & 0xffff) && this.rx.length < RX_FIFO_DEPTH; f++) {
        let word = 0;
        for (let i = 0; i < n; i++) word = (word << 8) | this.flash.exchange(0);
        this.pushRx(word >>> 0);
      }
    }
  }

  private pushRx(v: number): void {
    if (this.rx.length < RX_FIFO_DEPTH) this.rx.push(v);
  }

  private receive(): number {
    const v = this.rx.shift() ?? 0;
    if (this.rx.length === 0 && this.forcedCs === null) this.flash.deselect();
    return v;
  }

  override readUint32(offset: number): number {
    switch (offset) {
      case SSI_CTRLR0:
        return this.ctrlr0;
      case SSI_CTRLR1:
        return this.ctrlr1;
      case SSI_SSIENR:
        return this.ssienr;
      case SSI_SER:
        return this.ser;
      case SSI_BAUDR:
        return this.baudr;
      case SSI_TXFLR:
        return 0;
      case SSI_RXFLR:
        return this.rx.length;
      case SSI_SR:
        return SR_TFNF | SR_TFE | (this.rx.length ? SR_RFNE : 0);
      case SSI_IMR:
        return this.imr;
      case SSI_ISR:
      case SSI_RISR:
      case SSI_ICR:
        return 0;
      case SSI_IDR:
        return SSI_IDR_VALUE;
      case SSI_VERSION_ID:
        return SSI_VERSION_VALUE;
      case SSI_DR0:
        return this.receive();
      case SSI_RX_SAMPLE_DLY:
        return this.rxSampleDly;
      case SSI_SPI_CTRLR0:
        return this.spiCtrlr0;
      case SSI_TXD_DRIVE_EDGE:
        return this.txdDriveEdge;
    }
    if (offset >= SSI_DR0 && offset < SSI_RX_SAMPLE_DLY) return this.receive(); // DR1..DR35 alias DR0
    return 0;
  }

  override writeUint32(offset: number, value: number): void {
    switch (offset) {
      case SSI_CTRLR0:
        this.ctrlr0 = value >>> 0;
        return;
      case SSI_CTRLR1:
        this.ctrlr1 = value & 0xffff;
        return;
      case SSI_SSIENR:
        this.ssienr = value & 1;
        if (!this.ssienr) {
          this.rx.length = 0; // disabling the SSI clears both FIFOs
          if (this.forcedCs === null) this.flash.deselect();
        }
        return;
      case SSI_SER:
        this.ser = value & 1;
        return;
      case SSI_BAUDR:
        this.baudr = value & 0xffff;
        return;
      case SSI_IMR:
        this.imr = value & 0x3f;
        return;
      case SSI_RX_SAMPLE_DLY:
        this.rxSampleDly = value & 0xff;
        return;
      case SSI_SPI_CTRLR0:
        this.spiCtrlr0 = value >>> 0;
        return;
      case SSI_TXD_DRIVE_EDGE:
        this.txdDriveEdge = value & 0xff;
        return;
    }
    if (offset >= SSI_DR0 && offset < SSI_RX_SAMPLE_DLY) this.transmit(value >>> 0);
  }
}

/** IO_QSPI (§2.19.6.2) register offsets: six pins, STATUS then CTRL, 8 bytes apart. */
const GPIO_QSPI_SS_CTRL = 0x0c;
const QSPI_REG_END = 0x30;
const QSPI_INTR_END = 0x58;

/**
 * IO_QSPI: stores the pin controls and tells the SSI when firmware forces the flash chip-select
 * (SS OUTOVER, bits 9:8), as the SDK does around raw flash commands.
 */
export class IoQspi extends BasePeripheral {
  private readonly regs = new Uint32Array(QSPI_INTR_END / 4);

  constructor(
    mcu: RP2040,
    private readonly ssi: XipSsi,
  ) {
    super(mcu, 'IO_QSPI');
  }

  override readUint32(offset: number): number {
    if (offset < QSPI_REG_END && (offset & 4) === 0) {
      // STATUS registers: report OUTTOPAD/OETOPAD loosely from CTRL; inputs idle high.
      return 1 << 17; // INFROMPAD
    }
    return offset < QSPI_INTR_END ? this.regs[offset >>> 2]! : 0;
  }

  override writeUint32(offset: number, value: number): void {
    if (offset >= QSPI_INTR_END) return;
    this.regs[offset >>> 2] = value;
    if (offset === GPIO_QSPI_SS_CTRL) this.ssi.setCsOverride((value >>> 8) & 3);
  }
}
