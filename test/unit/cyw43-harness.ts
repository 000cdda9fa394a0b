/**
 * Test harness: an RP2040 (rp2040js, no firmware) with the virtual CYW43439 attached, and a host
 * written here in TypeScript that drives the chip exactly through the hardware a Pico W driver
 * uses — SIO for WL_REG_ON / chip select, a PIO state machine running a gSPI program, and its
 * FIFOs (the words a DMA channel with byte swap would move). Program variants are assembled here
 * from their PIO semantics; PIO block, SM and instruction offset are parameters.
 */
import { RP2040 } from 'rp2040js';
import { BoardClock } from '../../sim/board/board-clock.ts';
import type { BoardContext, BoardEvent } from '../../sim/board/device.ts';
import { Cyw43439, type Cyw43Options } from '../../sim/cyw43/chip.ts';
import { bswap32, encodeCommand, rotate16 } from '../../sim/cyw43/gspi.ts';
import { Logger, silentLogger } from '../../sim/log.ts';
import { NO_HOST_IO, type SimClock, type SimTimer } from '../../sim/time.ts';

// ---- a PIO assembler for the few instructions the gSPI programs use (RP2040 datasheet §3.4) ----
const SIDE = (v: number): number => (v & 1) << 12; // side-set count 1, not optional: top bit of the delay/side field
export const pioAsm = {
  out: (dest: 'pins' | 'x' | 'y', n: number, side: number): number =>
    (0b011 << 13) | SIDE(side) | ({ pins: 0, x: 1, y: 2 }[dest] << 5) | (n & 31),
  in: (n: number, side: number): number => (0b010 << 13) | SIDE(side) | (0 << 5) | (n & 31),
  jmp: (cond: 'always' | 'x--' | 'y--', addr: number, side: number): number =>
    (0b000 << 13) | SIDE(side) | ({ always: 0, 'x--': 2, 'y--': 4 }[cond] << 5) | (addr & 31),
  setPindirs: (v: number, side: number): number => (0b111 << 13) | SIDE(side) | (4 << 5) | (v & 31),
  nop: (side: number): number => (0b101 << 13) | SIDE(side) | (2 << 5) | 2, // mov y, y
  movPinsNull: (): number => (0b101 << 13) | (0 << 5) | 3,
};
/** Instructions without side-set (for `exec`, where the SM's side-set count still applies: side 0). */
const execOut = (dest: 'x' | 'y'): number => (0b011 << 13) | ({ x: 1, y: 2 }[dest] << 5) | 0;
const execJmp = (addr: number): number => addr & 31;

export interface SpiProgram {
  name: string;
  code: number[];
  /** Index after the write loop (TX-only transfers wrap here). */
  lp1End: number;
}

/** Write loop, turnaround with a gap of `gap` side-set cycles, read loop sampling on `sampleSide`. */
function variant(name: string, gap: number[], inSide: number): SpiProgram {
  const code = [pioAsm.out('pins', 1, 0), pioAsm.jmp('x--', 0, 1)];
  const lp1End = code.length;
  code.push(pioAsm.setPindirs(0, 0));
  for (const g of gap) code.push(pioAsm.nop(g));
  const lp2 = code.length;
  code.push(pioAsm.in(1, inSide), pioAsm.jmp('y--', lp2, inSide ^ 1));
  return { name, code, lp1End };
}
export const PROGRAMS: SpiProgram[] = [
  variant('gap0_sample1', [], 1),
  variant('gap01_sample0', [1], 0),
  variant('gap010_sample1', [1, 0], 1),
];

// ---- RP2040 register map (datasheet §2.19, §3.7) ----
const IO_BANK0 = 0x40014000;
const SIO = 0xd0000000;
const SIO_GPIO_OUT_SET = 0x014;
const SIO_GPIO_OUT_CLR = 0x018;
const SIO_GPIO_OE_SET = 0x024;
const PIO_BASE = [0x50200000, 0x50300000];
const CTRL = 0x000;
const FSTAT = 0x004;
const FDEBUG = 0x008;
const TXF0 = 0x010;
const RXF0 = 0x020;
const INSTR_MEM0 = 0x048;
const SM0 = 0x0c8;
const SM_STRIDE = 0x18;
const FUNCSEL_SIO = 5;
/** DMA channel 0 (RP2040 datasheet §2.5.7) and the SRAM the harness's DMA reads from. */
const DMA_CH0 = 0x50000000;
const DMA_READ_ADDR = 0x00;
const DMA_WRITE_ADDR = 0x04;
const DMA_TRANS_COUNT = 0x08;
const DMA_CTRL_TRIG = 0x0c;
const DMA_CTRL_EN = 1 << 0;
const DMA_SIZE_WORD = 2 << 2;
const DMA_INCR_READ = 1 << 4;
const DMA_CHAIN_TO_LSB = 11;
const DMA_TREQ_LSB = 15;
const DMA_BUSY = 1 << 24;
const DMA_SRC = 0x20010000;
const PADS_BANK0 = 0x4001c000;
const PAD_IE = 0x40;
const PAD_PULL_DOWN = 0x04;
const PAD_SCHMITT = 0x02;
const FUNCSEL_PIO = [6, 7];

export const WL_REG_ON = 23;
export const WL_DATA = 24;
export const WL_CS = 25;
export const WL_CLK = 29;

/** rp2040js's clock as the board's SimClock. */
export function simClockOf(mcu: RP2040): SimClock & { advance(ns: number): void } {
  const c = mcu.clock as unknown as { nanos: number; createAlarm(cb: () => void): { schedule(n: number): void; cancel(): void }; tick(n: number): void };
  return {
    get nanos() {
      return c.nanos;
    },
    schedule(delay: number, cb: () => void): SimTimer {
      const a = c.createAlarm(cb);
      a.schedule(Math.max(0, delay));
      return { cancel: () => a.cancel() };
    },
    advance(ns: number) {
      c.tick(ns);
    },
  };
}

export interface HarnessOptions extends Cyw43Options {
  pio?: number;
  sm?: number;
  offset?: number;
  program?: SpiProgram;
  clkdiv?: number;
  trace?: boolean;
}

export class PicoHost {
  /** The board's clock (alarms report whether they are pending, as the transport relies on). */
  readonly mcu = new RP2040(new BoardClock() as unknown as ConstructorParameters<typeof RP2040>[0]);
  readonly clock = simClockOf(this.mcu);
  readonly chip: Cyw43439;
  readonly events: BoardEvent[] = [];
  readonly pioIndex: number;
  readonly smIndex: number;
  readonly offset: number;
  readonly program: SpiProgram;
  /** Words the host put in the TX FIFO (as the DMA would), for wire-level assertions. */
  readonly txFifoLog: number[] = [];
  mode32 = false;
  /** F1 read padding the host asks for (CYW43_BACKPLANE_READ_PAD_LEN_BYTES). */
  readonly pad = 16;
  readonly logLines: string[] = [];

  constructor(opts: HarnessOptions = {}) {
    this.pioIndex = opts.pio ?? 1;
    this.smIndex = opts.sm ?? 0;
    this.program = opts.program ?? PROGRAMS[1]!;
    this.offset = opts.offset ?? 32 - this.program.code.length;
    const logger = opts.logger ?? (opts.trace ? new Logger({ level: 'debug', trace: ['cyw43', 'led'], sink: (l) => this.logLines.push(l) }) : silentLogger());
    this.chip = new Cyw43439({ ...opts, logger });
    const ctx: BoardContext = {
      mcu: this.mcu,
      clock: this.clock,
      hostIo: NO_HOST_IO,
      logger,
      emit: (e) => this.events.push(e),
    };
    this.chip.attach(ctx);
    this.setupPins(opts.clkdiv ?? 2);
  }

  dispose(): void {
    this.pioWrite(CTRL, 0);
    (this.mcu.pio[this.pioIndex] as unknown as { stop(): void }).stop();
    this.chip.dispose();
  }

  private w(addr: number, v: number): void {
    this.mcu.writeUint32(addr, v >>> 0);
  }
  private r(addr: number): number {
    return this.mcu.readUint32(addr) >>> 0;
  }
  private pioWrite(off: number, v: number): void {
    this.w(PIO_BASE[this.pioIndex]! + off, v);
  }
  private pioRead(off: number): number {
    return this.r(PIO_BASE[this.pioIndex]! + off);
  }
  private smReg(off: number): number {
    return SM0 + this.smIndex * SM_STRIDE + off;
  }
  private exec(instr: number): void {
    this.pioWrite(this.smReg(0x10), instr);
  }
  private gpioFunc(pin: number, f: number): void {
    this.w(IO_BANK0 + pin * 8 + 4, f);
  }

  private setupPins(clkdiv: number): void {
    for (const p of [WL_REG_ON, WL_CS]) this.gpioFunc(p, FUNCSEL_SIO);
    this.w(SIO + SIO_GPIO_OUT_SET, 1 << WL_CS);
    this.w(SIO + SIO_GPIO_OE_SET, (1 << WL_REG_ON) | (1 << WL_CS));
    this.gpioFunc(WL_DATA, FUNCSEL_PIO[this.pioIndex]!);
    this.w(PADS_BANK0 + 4 + 4 * WL_DATA, PAD_IE | PAD_PULL_DOWN | PAD_SCHMITT); // input enabled, as gpio_set_function leaves it
    this.gpioFunc(WL_CLK, FUNCSEL_PIO[this.pioIndex]!);
    this.program.code.forEach((ins, i) => {
      // relocate jumps by the load offset, as pio_add_program does
      const isJmp = ins >>> 13 === 0;
      this.pioWrite(INSTR_MEM0 + 4 * ((this.offset + i) & 31), isJmp ? (ins & ~31) | ((ins + this.offset) & 31) : ins);
    });
    this.pioWrite(this.smReg(0x0), clkdiv << 16);
    // pinctrl: sideset count 1, set count 1, out count 1, in base / set base / out base = data, sideset base = clock
    const pinctrl = (1 << 29) | (1 << 26) | (1 << 20) | (WL_DATA << 15) | (WL_CLK << 10) | (WL_DATA << 5) | WL_DATA;
    this.pioWrite(this.smReg(0x14), pinctrl);
    // shiftctrl: autopull + autopush, thresholds 32, shift left
    this.pioWrite(this.smReg(0x8), (1 << 16) | (1 << 17));
  }

  /** Drive WL_REG_ON. */
  power(on: boolean): void {
    this.w(SIO + (on ? SIO_GPIO_OUT_SET : SIO_GPIO_OUT_CLR), 1 << WL_REG_ON);
  }

  /** GP24 as the host sees it (host-wake while CS is high). */
  get hostWake(): boolean {
    return this.mcu.gpio[WL_DATA]!.inputValue;
  }

  advance(ns: number): void {
    this.clock.advance(ns);
  }

  private setWrap(top: number): void {
    const ex = this.pioRead(this.smReg(0x4));
    this.pioWrite(this.smReg(0x4), (ex & ~((0x1f << 12) | (0x1f << 7))) | (((this.offset + top) & 31) << 12) | ((this.offset & 31) << 7));
  }

  /**
   * One bus transfer: `tx` memory words out, then (if `rxWords`) that many words in. Words are
   * byte-swapped on their way to and from the FIFOs, as the DMA channels of the Pico driver do.
   */
  transfer(tx: number[], rxWords: number, opts: { dma?: boolean } = {}): number[] {
    const smBit = 1 << this.smIndex;
    this.w(SIO + SIO_GPIO_OUT_CLR, 1 << WL_CS);
    this.pioWrite(CTRL, this.pioRead(CTRL) & ~smBit);
    this.setWrap(rxWords ? this.program.code.length - 1 : this.program.lp1End - 1);
    const sc = this.pioRead(this.smReg(0x8));
    this.pioWrite(this.smReg(0x8), sc ^ (1 << 31));
    this.pioWrite(this.smReg(0x8), sc);
    this.exec((0b111 << 13) | (4 << 5) | 1); // set pindirs, 1
    this.pioWrite(CTRL, this.pioRead(CTRL) | (smBit << 4)); // restart
    this.pioWrite(TXF0 + 4 * this.smIndex, tx.length * 32 - 1);
    this.exec(execOut('x'));
    this.pioWrite(TXF0 + 4 * this.smIndex, rxWords ? rxWords * 32 - 1 : 0);
    this.exec(execOut('y'));
    this.exec(execJmp(this.offset));
    const stallBit = 1 << (24 + this.smIndex);
    let i = 0;
    const feed = (): void => {
      while (i < tx.length && !(this.pioRead(FSTAT) & (1 << (16 + this.smIndex)))) {
        const f = bswap32(tx[i++]!);
        this.txFifoLog.push(f);
        this.pioWrite(TXF0 + 4 * this.smIndex, f);
      }
    };
    if (opts.dma) {
      // DMA channel 0 paced by this state machine's TX DREQ, as the Pico driver feeds the bus.
      tx.forEach((w, k) => {
        const f = bswap32(w);
        this.txFifoLog.push(f);
        this.w(DMA_SRC + 4 * k, f);
      });
      i = tx.length;
      const dreq = this.pioIndex * 8 + this.smIndex;
      this.w(DMA_CH0 + DMA_READ_ADDR, DMA_SRC);
      this.w(DMA_CH0 + DMA_WRITE_ADDR, PIO_BASE[this.pioIndex]! + TXF0 + 4 * this.smIndex);
      this.w(DMA_CH0 + DMA_TRANS_COUNT, tx.length);
      this.w(DMA_CH0 + DMA_CTRL_TRIG, DMA_CTRL_EN | DMA_SIZE_WORD | DMA_INCR_READ | (0 << DMA_CHAIN_TO_LSB) | (dreq << DMA_TREQ_LSB));
    }
    // The DMA channel is started before the state machine: the FIFO is full when it starts.
    feed();
    this.pioWrite(FDEBUG, stallBit);
    this.pioWrite(CTRL, this.pioRead(CTRL) | smBit);
    const rx: number[] = [];
    let guard = 0;
    for (;;) {
      feed();
      while (rx.length < rxWords && !(this.pioRead(FSTAT) & (1 << (8 + this.smIndex)))) {
        rx.push(bswap32(this.pioRead(RXF0 + 4 * this.smIndex)));
      }
      const dmaBusy = opts.dma ? (this.r(DMA_CH0 + DMA_CTRL_TRIG) & DMA_BUSY) !== 0 : false;
      if (i === tx.length && !dmaBusy && (rxWords ? rx.length === rxWords : (this.pioRead(FDEBUG) & stallBit) !== 0)) break;
      this.advance(200);
      if (++guard > 2_000_000) throw new Error('bus transfer never completed');
    }
    if (!rxWords) {
      this.pioWrite(CTRL, this.pioRead(CTRL) & ~smBit);
      this.exec((0b111 << 13) | (4 << 5) | 0); // set pindirs, 0
    }
    this.exec(pioAsm.movPinsNull());
    this.w(SIO + SIO_GPIO_OUT_SET, 1 << WL_CS);
    return rx;
  }

  // ---- gSPI, the way the cyw43 driver frames it ----
  private cmd(write: boolean, fn: number, addr: number, len: number): number {
    return encodeCommand({ write, func: fn, address: addr, length: len });
  }
  private swap(v: number): number {
    return this.mode32 ? v >>> 0 : (((v & 0x00ff00ff) << 8) | ((v >>> 8) & 0x00ff00ff)) >>> 0;
  }

  /** 16-bit-mode helpers of the boot sequence (the command and value are half-word swapped). */
  readSwapped(fn: number, addr: number): number {
    const v = this.transfer([this.swap(this.cmd(false, fn, addr, 4))], 1)[0]!;
    return this.swap(v);
  }
  writeSwapped(fn: number, addr: number, value: number): void {
    this.transfer([this.swap(this.cmd(true, fn, addr, 4)), this.swap(value)], 0);
  }

  readReg(fn: number, addr: number, size: number): number {
    const pad = fn === 1 ? this.pad : 0;
    const words = this.transfer([this.cmd(false, fn, addr, size)], 1 + pad / 4);
    const v = words[pad / 4]!;
    return size === 4 ? v : v & ((1 << (8 * size)) - 1);
  }
  writeReg(fn: number, addr: number, size: number, value: number): void {
    this.transfer([this.cmd(true, fn, addr, size), value >>> 0], 0);
  }
  readBytes(fn: number, addr: number, len: number): Uint8Array {
    const pad = fn === 1 ? this.pad : 0;
    const words = this.transfer([this.cmd(false, fn, addr, len)], ((len + 3) >> 2) + pad / 4);
    const out = new Uint8Array(words.length * 4);
    const dv = new DataView(out.buffer);
    words.forEach((w, i) => dv.setUint32(i * 4, w, true));
    return out.subarray(pad, pad + len);
  }
  writeBytes(fn: number, addr: number, data: Uint8Array, opts: { dma?: boolean } = {}): void {
    const n = (data.length + 3) >> 2;
    const buf = new Uint8Array(n * 4);
    buf.set(data);
    const dv = new DataView(buf.buffer);
    const words = [this.cmd(true, fn, addr, data.length)];
    for (let i = 0; i < n; i++) words.push(dv.getUint32(i * 4, true));
    this.transfer(words, 0, opts);
  }

  // ---- backplane ----
  private window = -1;
  setWindow(addr: number): void {
    const w = (addr & ~0x7fff) >>> 0;
    if (w === this.window) return;
    this.writeReg(1, 0x1000c, 1, w >>> 24);
    this.writeReg(1, 0x1000b, 1, (w >>> 16) & 0xff);
    this.writeReg(1, 0x1000a, 1, (w >>> 8) & 0xff);
    this.window = w;
  }
  readBackplane(addr: number, size: number): number {
    this.setWindow(addr);
    return this.readReg(1, (addr & 0x7fff) | 0x8000, size);
  }
  writeBackplane(addr: number, size: number, v: number): void {
    this.setWindow(addr);
    this.writeReg(1, (addr & 0x7fff) | 0x8000, size, v);
  }

  /** Power up and bring the bus to 32-bit big-endian mode (cyw43_ll_bus_init's first part). */
  busInit(): void {
    this.power(false);
    this.advance(1e6);
    this.power(true);
    this.advance(1e6);
    this.mode32 = false;
    if (this.readSwapped(0, 0x14) !== 0xfeedbead) throw new Error('no FEEDBEAD');
    // WORD_LENGTH_32 | ENDIAN_BIG | HIGH_SPEED | INTERRUPT_POLARITY_HIGH | WAKE_UP, response delay 4, INTR_WITH_STATUS
    this.writeSwapped(0, 0x0, 0x01 | 0x02 | 0x10 | 0x20 | 0x80 | (4 << 8) | (0x02 << 16));
    this.mode32 = true;
    this.writeReg(0, 0x1d, 1, this.pad);
    this.writeReg(0, 0x04, 1, 0x01 | 0x08 | 0x10 | 0x80);
    this.writeReg(0, 0x06, 2, 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x80);
  }

  /** Clock, core reset, a (dummy) firmware download, core release, wait for HT and F2 ready. */
  firmwareBoot(fwBytes = 4096): void {
    this.writeReg(1, 0x1000e, 1, 0x08);
    for (let i = 0; !(this.readReg(1, 0x1000e, 1) & 0x40); i++) if (i > 10) throw new Error('no ALP');
    this.writeReg(1, 0x1000e, 1, 0);
    const arm = 0x18103000;
    const ram = 0x18104000;
    this.writeBackplane(ram + 0x408, 1, 0x3);
    this.writeBackplane(ram + 0x800, 1, 0);
    this.writeBackplane(ram + 0x408, 1, 0x1);
    const blob = new Uint8Array(fwBytes).map((_, i) => (i * 7) & 0xff);
    for (let off = 0; off < blob.length; off += 64) {
      this.setWindow(off);
      this.writeBytes(1, (off & 0x7fff) | 0x8000, blob.subarray(off, off + 64));
    }
    this.writeBackplane(arm + 0x408, 1, 0x3);
    this.writeBackplane(arm + 0x800, 1, 0);
    this.writeBackplane(arm + 0x408, 1, 0x1);
    for (let i = 0; !(this.readReg(1, 0x1000e, 1) & 0x80); i++) {
      if (i > 100) throw new Error('no HT clock');
      this.advance(1e6);
    }
    for (let i = 0; !(this.readReg(0, 0x08, 4) & 0x20); i++) {
      if (i > 100) throw new Error('F2 not ready');
      this.advance(1e6);
    }
  }

  // ---- SDPCM / CDC host side ----
  private txSeq = 0;
  credit = 1;
  private ioctlId = 0;
  /** Frames received that were not the awaited control reply. */
  readonly received: { channel: number; payload: Uint8Array }[] = [];

  sendFrame(channel: number, payload: Uint8Array): void {
    if (this.credit === this.txSeq) throw new Error(`no SDPCM credit (seq ${this.txSeq})`);
    const hdrLen = 12 + (channel === 2 ? 2 : 0);
    const size = hdrLen + payload.length;
    const f = new Uint8Array((size + 3) & ~3);
    const dv = new DataView(f.buffer);
    dv.setUint16(0, size, true);
    dv.setUint16(2, ~size & 0xffff, true);
    f[4] = this.txSeq;
    f[5] = channel;
    f[7] = hdrLen;
    f.set(payload, hdrLen);
    this.txSeq = (this.txSeq + 1) & 0xff;
    this.writeBytes(2, 0, f.subarray(0, size));
  }

  /** Poll the chip once: returns a frame or null. */
  poll(): { channel: number; payload: Uint8Array } | null {
    const st = this.readReg(0, 0x08, 4);
    if (!(st & 0x100)) return null;
    const len = (st >>> 9) & 0x7ff;
    const f = this.readBytes(2, 0, len);
    const dv = new DataView(f.buffer, f.byteOffset);
    const size = dv.getUint16(0, true);
    if ((size ^ dv.getUint16(2, true)) !== 0xffff) throw new Error('bad SDPCM header from chip');
    const credit = f[9]!;
    if (((credit - this.credit) & 0xff) <= 20) this.credit = credit;
    return { channel: f[5]! & 0xf, payload: f.slice(f[7]!, size) };
  }

  /** Clear the F0 interrupt register the way the driver does. */
  ackInterrupts(): number {
    const v = this.readReg(0, 0x04, 2);
    if (v) this.writeReg(0, 0x04, 2, v);
    return v;
  }

  ioctl(cmd: number, set: boolean, payload: Uint8Array, iface = 0, outLen = payload.length): { status: number; data: Uint8Array } {
    const id = ++this.ioctlId;
    const body = new Uint8Array(16 + payload.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, cmd, true);
    dv.setUint32(4, outLen & 0xffff, true);
    dv.setUint32(8, (id << 16) | (iface << 12) | (set ? 2 : 0), true);
    body.set(payload, 16);
    this.sendFrame(0, body);
    for (let i = 0; i < 1000; i++) {
      const f = this.poll();
      if (!f) {
        this.advance(100_000);
        continue;
      }
      if (f.channel === 0) {
        const r = new DataView(f.payload.buffer, f.payload.byteOffset);
        if (r.getUint32(8, true) >>> 16 !== id) continue;
        return { status: r.getInt32(12, true), data: f.payload.slice(16) };
      }
      this.received.push(f);
    }
    throw new Error(`ioctl ${cmd}: no reply`);
  }

  iovar(name: string, set: boolean, value: Uint8Array = new Uint8Array(0), iface = 0, outLen?: number): { status: number; data: Uint8Array } {
    const n = new TextEncoder().encode(name + '\0');
    const p = new Uint8Array(n.length + Math.max(value.length, set ? 0 : (outLen ?? 4)));
    p.set(n);
    p.set(value, n.length);
    return this.ioctl(set ? 263 : 262, set, p, iface);
  }

  /** Run simulated time, collecting every frame the chip sends. */
  pump(ns: number, step = 1_000_000): void {
    for (let t = 0; t < ns; t += step) {
      this.advance(step);
      if (!this.hostWake) continue;
      this.ackInterrupts();
      for (let f = this.poll(); f; f = this.poll()) this.received.push(f);
    }
  }

  /** Decoded events received so far (type, status, reason, flags). */
  eventList(): { type: number; status: number; reason: number; flags: number; iface: number; data: Uint8Array }[] {
    const out = [];
    for (const f of this.received) {
      if (f.channel !== 1) continue;
      const eth = f.payload.subarray(4 + f.payload[3]! * 4);
      const m = new DataView(eth.buffer, eth.byteOffset + 24);
      const datalen = m.getUint32(20, false);
      out.push({
        flags: m.getUint16(2, false),
        type: m.getUint32(4, false),
        status: m.getUint32(8, false),
        reason: m.getUint32(12, false),
        iface: eth[24 + 46]!,
        data: eth.slice(24 + 48, 24 + 48 + datalen),
      });
    }
    return out;
  }
}

export const u32le = (...vs: number[]): Uint8Array => {
  const b = new Uint8Array(vs.length * 4);
  const dv = new DataView(b.buffer);
  vs.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return b;
};

export { rotate16 };
