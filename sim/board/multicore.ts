import type { RP2040 } from 'rp2040js';
import { Core1Pen } from '../bootrom/core1-pen.ts';
import { core1View } from './core1-view.ts';
import { noteDefaultHooks, onSendEvent } from '../cpu/index.ts';
import type { Logger } from '../log.ts';

/** rp2040js's core class (not exported by the package; reached through an instance). */
export type Core = RP2040['core'];

/** RP2040 datasheet §2.3.1.7 SIO register offsets for the inter-core FIFOs and CPUID. */
const SIO_CPUID = 0x000;
const SIO_FIFO_ST = 0x050;
const SIO_FIFO_WR = 0x054;
const SIO_FIFO_RD = 0x058;
/** FIFO_ST bits: VLD (RX not empty), RDY (TX not full), WOF (wrote full, sticky), ROE (read empty, sticky). */
const FIFO_ST_VLD = 1 << 0;
const FIFO_ST_RDY = 1 << 1;
const FIFO_ST_WOF = 1 << 2;
const FIFO_ST_ROE = 1 << 3;
/** §2.3.1.5: each direction is 8 words deep. */
const FIFO_DEPTH = 8;
/** Thumb WFI (ARMv6-M A6.7.76): a core asleep in it wakes on an interrupt only, never on an event. */
const WFI_OPCODE = 0xbf30;
/** IRQ numbers (§2.3.2): SIO_IRQ_PROC0 goes to core 0 only, SIO_IRQ_PROC1 to core 1 only. */
const IRQ_SIO_PROC0 = 15;
const IRQ_SIO_PROC1 = 16;
/** PSM (§2.13.5): FRCE_OFF register and its PROC1 bit. */
const PSM_KEY = 0x40010;
const PSM_FRCE_OFF = 0x04;
const PSM_PROC1 = 1 << 16;
/** IO_BANK0 (§2.19.6.1): core 1's interrupt banks PROC1_INTE0..3, INTF0..3, INTS0..3 and IRQ line. */
const IO_BANK0_KEY = 0x40014;
const PROC1_INTE0 = 0x130;
const PROC1_INTF0 = 0x140;
const PROC1_INTS0 = 0x150;
const PROC1_INTS3 = 0x15c;
const IRQ_IO_BANK0 = 13;
/** Shared SIO state that core 1's SIO view must alias to core 0's. */
const SHARED_SIO_FIELDS = ['gpioValue', 'gpioOutputEnable', 'qspiGpioValue', 'qspiGpioOutputEnable', 'spinLock'] as const;

/** Accessors for the SIO state core 1's SIO shares with core 0's, one pair per field for all boards. */
const SIO_PEER = Symbol('core 0 SIO');
const sioAccessors = new Map(
  SHARED_SIO_FIELDS.map((f) => [
    f,
    {
      get(this: Record<symbol, Record<string, unknown>>) {
        return this[SIO_PEER][f];
      },
      set(this: Record<symbol, Record<string, unknown>>, v: unknown) {
        this[SIO_PEER][f] = v;
      },
    },
  ]),
);

function shareSioFields(sio1: SioLike, sio0: SioLike): void {
  (sio1 as unknown as Record<symbol, SioLike>)[SIO_PEER] = sio0;
  for (const f of SHARED_SIO_FIELDS) Object.defineProperty(sio1, f, sioAccessors.get(f)!);
}

type SioLike = {
  readUint32(offset: number): number;
  writeUint32(offset: number, value: number): void;
} & Record<string, unknown>;

/**
 * The RP2040's second Cortex-M0+ and the SIO plumbing between the two cores, added around one
 * rp2040js `RP2040` (which models one core) without changing rp2040js itself:
 *
 * - core 1 is a second rp2040js core whose bus view (core1-view.ts) stands for the RP2040
 *   instance with its own `core`, `ppb` (NVIC, SysTick, SCB/VTOR) and `sio` (CPUID, divider,
 *   interpolators) — so everything core 1 executes sees core-1 registers, while shared state
 *   (memory, peripherals, GPIO, spinlocks) is the same objects;
 * - both cores' SIO views get the two inter-core FIFOs with their status bits and IRQs;
 * - interrupt lines from peripherals reach both NVICs (each core enables its own);
 * - SEV on one core sets the event register of both and wakes a core waiting in WFE;
 * - core 1 waits in the boot ROM's holding pen (a state machine, no instructions executed) until
 *   core 0 runs the launch handshake, and returns there when PSM forces it off and on again.
 */
export class MultiCore {
  readonly cores: [Core, Core];
  /** The bus view each core executes against: the RP2040 itself for core 0. */
  readonly views: [RP2040, RP2040];
  private readonly fifo: [number[], number[]] = [[], []]; // fifo[n]: words waiting for core n
  private readonly wof = [false, false];
  private readonly roe = [false, false];
  private readonly pen: Core1Pen;
  /** Local event register set by the core's own SEV, applied lazily (see `wakeOnOwnEvent`). */
  private readonly ownEvent = [false, false];
  private held = false;
  private launched = false;
  /** Called when core 1 needs the run loop's attention (it was launched or woken). */
  onCore1Start: (() => void) | null = null;

  constructor(
    private readonly mcu: RP2040,
    private readonly parkAddress: number,
    private readonly logger: Logger,
    onBreak: (core: Core, view: RP2040, code: number) => void,
  ) {
    const core0 = mcu.core;
    const CoreClass = core0.constructor as new (rp: RP2040) => Core;
    const PpbClass = mcu.ppb.constructor as new (rp: RP2040, name: string) => RP2040['ppb'];
    const SioClass = mcu.sio.constructor as new (rp: RP2040) => RP2040['sio'];
    const view1 = core1View(mcu);
    const w = view1 as unknown as Record<string, unknown>;
    const core1 = new CoreClass(view1);
    noteDefaultHooks(core1);
    w.core = core1;
    w.ppb = new PpbClass(view1, 'PPB1');
    const sio1 = new SioClass(view1) as unknown as SioLike;
    const sio0 = mcu.sio as unknown as SioLike;
    shareSioFields(sio1, sio0);
    w.sio = sio1;
    this.cores = [core0, core1];
    this.views = [mcu, view1];
    this.patchSio(sio0, 0);
    this.patchSio(sio1, 1);

    // Peripheral interrupt lines go to both NVICs; the SIO FIFO IRQs are per core.
    // IO_BANK0 is the exception: rp2040js computes core 0's line (PROC0 banks); core 1's comes
    // from its own PROC1 banks.
    mcu.setInterrupt = (irq: number, value: boolean) => {
      if (irq !== IRQ_SIO_PROC1) core0.setInterrupt(irq, value);
      if (irq !== IRQ_SIO_PROC0 && irq !== IRQ_IO_BANK0) core1.setInterrupt(irq, value);
    };
    this.installProc1GpioBanks();
    mcu.onBreak = (code: number) => onBreak(core0, mcu, code);
    w.onBreak = (code: number) => onBreak(core1, view1, code);

    // SEV: rp2040js executes it as a NOP; the CPU engines report each core's to its hook.
    onSendEvent(core0, () => this.sev(0));
    onSendEvent(core1, () => this.sev(1));

    // PSM FRCE_OFF.PROC1 holds core 1 in reset; releasing it sends core 1 back to the pen.
    const psm = (mcu.peripherals as unknown as Record<number, SioLike>)[PSM_KEY]!;
    const psmWrite = psm.writeUint32.bind(psm);
    psm.writeUint32 = (offset: number, value: number) => {
      const before = psm.readUint32(PSM_FRCE_OFF);
      psmWrite(offset, value);
      if (offset !== PSM_FRCE_OFF) return;
      const after = psm.readUint32(PSM_FRCE_OFF);
      if (after & PSM_PROC1 && !(before & PSM_PROC1)) this.holdCore1();
      else if (!(after & PSM_PROC1) && before & PSM_PROC1) this.releaseCore1();
    };

    this.pen = new Core1Pen({
      pop: () => this.pop(1),
      push: (word) => this.push(1, word),
      sev: () => this.sev(1),
      launch: (vtor, sp, entry) => this.launch(vtor, sp, entry),
    });
    this.resetCore1State();
    this.pen.reset(); // power-on: core 1 enters the pen and pushes its 0
  }

  /** Core 1 is executing instructions (launched, not held in reset). */
  get core1Active(): boolean {
    return this.launched && !this.held;
  }

  /** For tests and diagnostics: the words waiting in the FIFO towards core `n`. */
  fifoTo(n: 0 | 1): readonly number[] {
    return this.fifo[n];
  }

  /** Per-pin PROC1 interrupt enable and force masks (4 bits per pin: level low/high, edge low/high). */
  private readonly proc1Inte = new Uint8Array(30);
  private readonly proc1Intf = new Uint8Array(30);

  private installProc1GpioBanks(): void {
    const mcu = this.mcu;
    const io = (mcu.peripherals as unknown as Record<number, SioLike>)[IO_BANK0_KEY]!;
    const read = io.readUint32.bind(io);
    const write = io.writeUint32.bind(io);
    const bank = (offset: number) => ({ reg: offset & ~0xf, first: (offset & 0xf) * 2 });
    io.readUint32 = (offset: number) => {
      if (offset < PROC1_INTE0 || offset > PROC1_INTS3) return read(offset);
      const { reg, first } = bank(offset);
      let v = 0;
      for (let i = 7; i >= 0; i--) {
        const pin = mcu.gpio[first + i];
        if (!pin) continue;
        const k = first + i;
        const bits =
          reg === PROC1_INTE0
            ? this.proc1Inte[k]!
            : reg === PROC1_INTF0
              ? this.proc1Intf[k]!
              : (pin.irqStatus & this.proc1Inte[k]!) | this.proc1Intf[k]!;
        v = (v << 4) | bits;
      }
      return v >>> 0;
    };
    io.writeUint32 = (offset: number, value: number) => {
      if (offset < PROC1_INTE0 || offset >= PROC1_INTS0) return write(offset, value);
      const { reg, first } = bank(offset);
      const target = reg === PROC1_INTE0 ? this.proc1Inte : this.proc1Intf;
      for (let i = 0; i < 8 && first + i < 30; i++) target[first + i] = (value >>> (4 * i)) & 0xf;
      mcu.updateIOInterrupt();
    };
    const update = mcu.updateIOInterrupt.bind(mcu);
    mcu.updateIOInterrupt = () => {
      update();
      let on = false;
      for (let k = 0; k < mcu.gpio.length && !on; k++) {
        on = ((mcu.gpio[k]!.irqStatus & this.proc1Inte[k]!) | this.proc1Intf[k]!) !== 0;
      }
      this.cores[1].setInterrupt(IRQ_IO_BANK0, on);
    };
  }

  private patchSio(sio: SioLike, n: 0 | 1): void {
    const read = sio.readUint32.bind(sio);
    const write = sio.writeUint32.bind(sio);
    sio.readUint32 = (offset: number) => {
      switch (offset) {
        case SIO_CPUID:
          return n;
        case SIO_FIFO_ST:
          return this.status(n);
        case SIO_FIFO_RD: {
          const v = this.pop(n);
          if (v === undefined) {
            this.roe[n] = true;
            this.updateIrq(n);
            return 0;
          }
          return v;
        }
        case SIO_FIFO_WR:
          return 0;
      }
      return read(offset);
    };
    sio.writeUint32 = (offset: number, value: number) => {
      switch (offset) {
        case SIO_FIFO_ST:
          // Writing clears the sticky error flags (§2.3.1.7 FIFO_ST: WOF, ROE "write to clear").
          this.wof[n] = false;
          this.roe[n] = false;
          this.updateIrq(n);
          return;
        case SIO_FIFO_WR:
          if (!this.push(n, value >>> 0)) {
            this.wof[n] = true;
            this.updateIrq(n);
          }
          return;
        case SIO_FIFO_RD:
        case SIO_CPUID:
          return;
      }
      write(offset, value);
    };
  }

  private status(n: 0 | 1): number {
    const rx = this.fifo[n];
    const tx = this.fifo[1 - n]!;
    return (
      (rx.length ? FIFO_ST_VLD : 0) |
      (tx.length < FIFO_DEPTH ? FIFO_ST_RDY : 0) |
      (this.wof[n] ? FIFO_ST_WOF : 0) |
      (this.roe[n] ? FIFO_ST_ROE : 0)
    );
  }

  /** Core `from` pushes a word towards the other core; false when that FIFO is full. */
  private push(from: 0 | 1, word: number): boolean {
    const to = (1 - from) as 0 | 1;
    const q = this.fifo[to];
    if (q.length >= FIFO_DEPTH) return false;
    q.push(word >>> 0);
    this.updateIrq(to);
    if (to === 1 && !this.launched && !this.held) this.pen.poll();
    return true;
  }

  /** Core `n` pops from its RX FIFO. */
  private pop(n: 0 | 1): number | undefined {
    const v = this.fifo[n].shift();
    this.updateIrq(n);
    if (n === 0 && v !== undefined && !this.launched && !this.held && this.pen.blocked) this.pen.poll();
    return v;
  }

  private updateIrq(n: 0 | 1): void {
    const on = this.fifo[n].length > 0 || this.wof[n] || this.roe[n];
    this.cores[n].setInterrupt(n === 0 ? IRQ_SIO_PROC0 : IRQ_SIO_PROC1, on);
  }

  /**
   * SEV executed by core `from`: the other core's event register is set (a core asleep in WFE
   * wakes). The core's own event register is set too, but lazily: a WFE right after its own SEV
   * (the SDK's unlock-with-notify followed by a timed wait, tens of thousands of times a second
   * inside `time.sleep_ms`) sleeps until the next interrupt instead of spinning, and returns at
   * once only when nothing else could ever wake it (`wakeOnOwnEvent`). Waking later than the
   * event allows is indistinguishable to the program from a slower loop; it is what lets the
   * clock policy skip idle time.
   */
  sev(from: 0 | 1): void {
    this.ownEvent[from] = true;
    const other = this.cores[1 - from]!;
    if (other.waiting && this.inWfi(other)) return; // WFI ignores events (machine.lightsleep sleeps in it)
    if (other.waiting) {
      other.waiting = false;
      if (from === 0 && this.core1Active) this.onCore1Start?.();
    } else other.eventRegistered = true;
  }

  /**
   * Whether a sleeping core went to sleep in WFI rather than WFE (rp2040js keeps one `waiting` flag
   * for both, with PC past the instruction).
   */
  private inWfi(core: Core): boolean {
    return this.mcu.readUint16((core.PC - 2) >>> 0) === WFI_OPCODE;
  }

  /** Every core sleeps and no alarm is due: a core whose own SEV is pending wakes now. */
  wakeOnOwnEvent(): boolean {
    let woke = false;
    for (const n of [0, 1] as const) {
      const c = this.cores[n];
      if (this.ownEvent[n] && c.waiting && (n === 0 || this.core1Active) && !this.inWfi(c)) {
        c.waiting = false;
        woke = true;
      }
      this.ownEvent[n] = false;
    }
    return woke;
  }

  private resetCore1State(): void {
    const c = this.cores[1];
    c.registers.fill(0);
    c.VTOR = 0;
    c.waiting = false;
    c.eventRegistered = false;
    c.pendingInterrupts = 0;
    c.enabledInterrupts = 0;
    c.PM = false;
    c.IPSR = 0;
    this.launched = false;
  }

  private holdCore1(): void {
    this.held = true;
    this.resetCore1State();
    this.logger.debug('board', 'core 1 held in reset (PSM FRCE_OFF.PROC1)');
  }

  private releaseCore1(): void {
    this.held = false;
    this.resetCore1State();
    this.logger.debug('board', 'core 1 released from reset: back in the boot ROM pen');
    this.pen.reset();
  }

  private launch(vtor: number, sp: number, entry: number): void {
    const c = this.cores[1];
    c.VTOR = vtor >>> 0;
    c.SP = sp >>> 0;
    c.LR = this.parkAddress | 1;
    c.PC = (entry & ~1) >>> 0;
    c.waiting = false;
    this.launched = true;
    this.logger.debug(
      'board',
      `core 1 launched: entry 0x${entry.toString(16)} sp 0x${sp.toString(16)} vtor 0x${vtor.toString(16)}`,
    );
    this.onCore1Start?.();
  }
}
