/**
 * F1 (backplane) of the CYW43439: the SDIO-function-1 registers the host reaches directly (the
 * 32 KB backplane window, chip clock CSR, sleep CSR...) and, through the window, the chip's
 * backplane address space: 512 KB of SOCSRAM, chipcommon, the SDIO device core, and the AI
 * wrappers (IOCTRL / RESETCTRL) of each core. Facts from cyw43_ll.c.
 *
 * The firmware image and NVRAM the host downloads land in RAM and are kept (so a read-back
 * verification sees them) but never executed: releasing the WLAN ARM core from reset with RAM
 * loaded "boots" the chip model, which makes the HT clock available after a short delay.
 */
import type { Logger } from '../log.ts';

// F1 register addresses (cyw43_ll.c)
export const SDIO_FUNCTION2_WATERMARK = 0x10008;
export const SDIO_BACKPLANE_ADDRESS_LOW = 0x1000a;
export const SDIO_BACKPLANE_ADDRESS_MID = 0x1000b;
export const SDIO_BACKPLANE_ADDRESS_HIGH = 0x1000c;
export const SPI_FRAME_CONTROL = 0x1000d;
export const SDIO_CHIP_CLOCK_CSR = 0x1000e;
export const SDIO_PULL_UP = 0x1000f;
export const SDIO_WAKEUP_CTRL = 0x1001e;
export const SDIO_SLEEP_CSR = 0x1001f;

/** Window offset bits of an F1 address (BACKPLANE_ADDR_MASK). */
export const BACKPLANE_ADDR_MASK = 0x7fff;
/** F1 address flag for 2/4-byte backplane accesses (SBSDIO_SB_ACCESS_2_4B_FLAG). */
export const SBSDIO_SB_ACCESS_2_4B_FLAG = 0x8000;

// SDIO_CHIP_CLOCK_CSR bits
export const SBSDIO_FORCE_ALP = 0x01;
export const SBSDIO_FORCE_HT = 0x02;
export const SBSDIO_ALP_AVAIL_REQ = 0x08;
export const SBSDIO_HT_AVAIL_REQ = 0x10;
export const SBSDIO_ALP_AVAIL = 0x40;
export const SBSDIO_HT_AVAIL = 0x80;
// SDIO_SLEEP_CSR bits
export const SBSDIO_SLPCSR_KEEP_SDIO_ON = 0x01;
export const SBSDIO_SLPCSR_DEVICE_ON = 0x02;

// Backplane cores (cyw43_ll.c)
export const CHIPCOMMON_BASE_ADDRESS = 0x18000000;
export const SDIO_BASE_ADDRESS = 0x18002000;
export const WLAN_ARMCM3_BASE_ADDRESS = 0x18003000;
export const SOCSRAM_BASE_ADDRESS = 0x18004000;
export const WRAPPER_REGISTER_OFFSET = 0x100000;
export const AI_IOCTRL_OFFSET = 0x408;
export const AI_RESETCTRL_OFFSET = 0x800;
export const AIRC_RESET = 0x01;
export const SDIO_INT_STATUS = SDIO_BASE_ADDRESS + 0x20;
export const SDIO_INT_HOST_MASK = SDIO_BASE_ADDRESS + 0x24;
export const SDIO_FUNCTION_INT_MASK = SDIO_BASE_ADDRESS + 0x34;
export const SDIO_TO_SB_MAILBOX = SDIO_BASE_ADDRESS + 0x40;
/** Chip ID register of chipcommon: low 16 bits are the chip number (43439 = 0xa9af). */
export const CHIPCOMMON_CHIPID = CHIPCOMMON_BASE_ADDRESS + 0x0;
export const CHIP_ID_43439 = 43439;
/** SOCSRAM size of the 43439 (CYW43_RAM_SIZE). */
export const CHIP_RAM_SIZE = 512 * 1024;

/** Simulated time the chip's firmware takes from core release to HT clock available. */
const BOOT_DELAY_NANOS = 2_000_000;

export interface BackplaneHooks {
  /** Schedule `cb` after `nanos` of simulated time. */
  schedule(nanos: number, cb: () => void): void;
  /** The WLAN firmware started: the chip can exchange F2 frames. */
  onFirmwareRunning(): void;
  /** The host asked to discard the frame it was reading (frame control terminate). */
  onTerminateFrame(): void;
}

export class Backplane {
  private ram = new Uint8Array(CHIP_RAM_SIZE);
  private ramWritten = 0;
  private window = 0;
  private clockCsr = 0;
  private sleepCsr = 0;
  private readonly f1Regs = new Map<number, number>();
  /** 32-bit registers of the backplane space other than RAM (cores and wrappers). */
  private readonly regs = new Map<number, number>();
  private running = false;
  private booting = false;

  constructor(
    private readonly hooks: BackplaneHooks,
    private readonly logger: Logger,
  ) {
    this.reset();
  }

  reset(): void {
    this.ram = new Uint8Array(CHIP_RAM_SIZE);
    this.ramWritten = 0;
    this.window = 0;
    this.clockCsr = 0;
    this.sleepCsr = 0;
    this.f1Regs.clear();
    this.regs.clear();
    this.running = false;
    this.booting = false;
    // At power-on the WLAN ARM core and SOCSRAM are held in reset.
    this.regs.set(WLAN_ARMCM3_BASE_ADDRESS + WRAPPER_REGISTER_OFFSET + AI_RESETCTRL_OFFSET, AIRC_RESET);
    this.regs.set(SOCSRAM_BASE_ADDRESS + WRAPPER_REGISTER_OFFSET + AI_RESETCTRL_OFFSET, AIRC_RESET);
    this.regs.set(CHIPCOMMON_CHIPID, CHIP_ID_43439);
  }

  /** Whether the (modelled) WLAN firmware runs. */
  get firmwareRunning(): boolean {
    return this.running;
  }

  get backplaneWindow(): number {
    return this.window;
  }

  /** Bytes the host wrote into chip RAM (firmware, NVRAM). */
  get bytesDownloaded(): number {
    return this.ramWritten;
  }

  /** F1 read of `length` bytes at a 17-bit F1 address. */
  read(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (address >= 0x10000) {
      for (let i = 0; i < length; i++) out[i] = this.readF1Reg(address + i);
      return out;
    }
    const base = (this.window + (address & BACKPLANE_ADDR_MASK)) >>> 0;
    for (let i = 0; i < length; i++) out[i] = this.readByte((base + i) >>> 0);
    return out;
  }

  write(address: number, data: Uint8Array): void {
    if (address >= 0x10000) {
      for (let i = 0; i < data.length; i++) this.writeF1Reg(address + i, data[i]!);
      return;
    }
    const base = (this.window + (address & BACKPLANE_ADDR_MASK)) >>> 0;
    if (base < CHIP_RAM_SIZE) {
      const n = Math.min(data.length, CHIP_RAM_SIZE - base);
      this.ram.set(data.subarray(0, n), base);
      this.ramWritten += n;
      return;
    }
    // Register space: group into aligned 32-bit registers.
    for (let i = 0; i < data.length; i++) this.writeByte((base + i) >>> 0, data[i]!);
  }

  /** Backplane 32-bit register read (tests, diagnostics). */
  readReg(addr: number): number {
    return this.regs.get(addr >>> 0) ?? 0;
  }

  private readF1Reg(addr: number): number {
    switch (addr) {
      case SDIO_BACKPLANE_ADDRESS_LOW:
        return (this.window >>> 8) & 0xff;
      case SDIO_BACKPLANE_ADDRESS_MID:
        return (this.window >>> 16) & 0xff;
      case SDIO_BACKPLANE_ADDRESS_HIGH:
        return (this.window >>> 24) & 0xff;
      case SDIO_CHIP_CLOCK_CSR: {
        let v = this.clockCsr & (SBSDIO_FORCE_ALP | SBSDIO_FORCE_HT | SBSDIO_ALP_AVAIL_REQ | SBSDIO_HT_AVAIL_REQ);
        if (this.clockCsr & (SBSDIO_ALP_AVAIL_REQ | SBSDIO_FORCE_ALP | SBSDIO_HT_AVAIL_REQ | SBSDIO_FORCE_HT) || this.running)
          v |= SBSDIO_ALP_AVAIL;
        if (this.running) v |= SBSDIO_HT_AVAIL;
        return v;
      }
      case SDIO_SLEEP_CSR:
        return this.sleepCsr & SBSDIO_SLPCSR_KEEP_SDIO_ON ? SBSDIO_SLPCSR_KEEP_SDIO_ON | SBSDIO_SLPCSR_DEVICE_ON : 0;
      default:
        return this.f1Regs.get(addr) ?? 0;
    }
  }

  private writeF1Reg(addr: number, v: number): void {
    switch (addr) {
      case SDIO_BACKPLANE_ADDRESS_LOW:
        this.window = ((this.window & 0xffff00ff) | ((v & 0x80) << 8)) >>> 0; // bits 15..8, window is 32 KB aligned
        break;
      case SDIO_BACKPLANE_ADDRESS_MID:
        this.window = ((this.window & 0xff00ffff) | (v << 16)) >>> 0;
        break;
      case SDIO_BACKPLANE_ADDRESS_HIGH:
        this.window = ((this.window & 0x00ffffff) | (v << 24)) >>> 0;
        break;
      case SDIO_CHIP_CLOCK_CSR:
        this.clockCsr = v;
        break;
      case SDIO_SLEEP_CSR:
        this.sleepCsr = v;
        break;
      case SPI_FRAME_CONTROL:
        if (v & 1) this.hooks.onTerminateFrame();
        break;
      default:
        this.f1Regs.set(addr, v);
    }
  }

  private readByte(addr: number): number {
    if (addr < CHIP_RAM_SIZE) return this.ram[addr]!;
    const reg = (addr & ~3) >>> 0;
    const v = this.regs.get(reg) ?? 0;
    return (v >>> (8 * (addr & 3))) & 0xff;
  }

  private writeByte(addr: number, b: number): void {
    const reg = (addr & ~3) >>> 0;
    const shift = 8 * (addr & 3);
    const old = this.regs.get(reg) ?? 0;
    let v = ((old & ~(0xff << shift)) | (b << shift)) >>> 0;
    if (reg === SDIO_INT_STATUS) v = (old & ~(b << shift)) >>> 0; // write 1 to clear
    if (reg === CHIPCOMMON_CHIPID) return; // read-only
    this.regs.set(reg, v);
    if (reg === WLAN_ARMCM3_BASE_ADDRESS + WRAPPER_REGISTER_OFFSET + AI_RESETCTRL_OFFSET) this.armResetChanged(v);
  }

  private armResetChanged(v: number): void {
    if (v & AIRC_RESET) {
      this.running = false;
      return;
    }
    if (this.running || this.booting) return;
    if (this.ramWritten === 0) {
      this.logger.warnOnce('cyw43', 'boot-empty', 'WLAN core released from reset with no firmware downloaded; it stays down');
      return;
    }
    this.booting = true;
    this.logger.trace('cyw43', `WLAN core released; ${this.ramWritten} bytes downloaded (discarded), booting`);
    this.hooks.schedule(BOOT_DELAY_NANOS, () => {
      this.booting = false;
      const still = this.regs.get(WLAN_ARMCM3_BASE_ADDRESS + WRAPPER_REGISTER_OFFSET + AI_RESETCTRL_OFFSET) ?? 0;
      if (still & AIRC_RESET) return;
      this.running = true;
      this.hooks.onFirmwareRunning();
    });
  }
}
