import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RP2040 } from 'rp2040js';
import { HleBootrom } from '../bootrom/hle-bootrom.ts';
import { DEFAULT_WARMUP_CYCLES, createCpuEngine, invalidateTranslations, type CpuEngine, type CpuEngineKind, type CpuEngineStats } from '../cpu/index.ts';
import { FirmwareError, PicowSimError } from '../errors.ts';
import { Logger, silentLogger } from '../log.ts';
import type { HostIo, SimClock } from '../time.ts';
import { BoardClock } from './board-clock.ts';
import { ClockPolicy } from './clock-policy.ts';
import type { BoardContext, BoardDevice, BoardEvent } from './device.ts';
import { MultiCore, type Core } from './multicore.ts';
import { UART0_BASE, UART1_BASE, peripheralKey } from './memory-map.ts';
import { PollSkipper } from './poll-skip.ts';
import { TextWaiters } from './text-waiters.ts';
import { SpiFlash } from './spi-flash.ts';
import { adaptRp2040, type AdaptedRp2040 } from './rp2040-adaptation.ts';
import { Pl011Uart } from './uart.ts';
import { FLASH_BASE, FLASH_SIZE, loadUf2File, parseUf2, type Uf2Image } from './uf2.ts';
import { PicoWRp2040 } from './rp2040-chip.ts';
import { UsbCdcHost } from './usb-cdc-host.ts';

export type ConsoleSource = 'usb' | 'uart0' | 'uart1';

/**
 * A debugger's hold on the cores (sim/ports/gdb-target.ts). While `active` (breakpoints set, a
 * step pending) the cores run through `runCore` instead of the CPU engine: instruction by
 * instruction on rp2040js's interpreter, so no translated block runs past a breakpoint.
 */
export interface DebugHook {
  readonly active: boolean;
  /** Run `core` for up to `budget` cycles while `keepRunning()`; returns nothing (cycles are read from the core). */
  runCore(core: Core, budget: number, keepRunning: () => boolean): void;
}
export type ConsoleTarget = ConsoleSource | 'auto';

export interface PicoWBoardOptions {
  /** A UF2 path, its bytes, or an already parsed image. */
  firmware: string | Uint8Array | Uf2Image;
  /** Board name: seeds the flash unique ID (and so the MAC) unless `uniqueId` is given. */
  name?: string;
  /** 8-byte flash unique ID (bytes or 16 hex digits). */
  uniqueId?: Uint8Array | string;
  logger?: Logger;
  devices?: BoardDevice[];
  /** Hold BOOTSEL (QSPI CSn low) at power-on and for `rp2.bootsel_button()`. */
  bootselPressed?: boolean;
  /**
   * 2 (default): both Cortex-M0+ cores, as on the RP2040. 1: core 0 only, as stock rp2040js
   * (`_thread` then hangs in the launch handshake) — kept for speed comparisons.
   */
  cores?: 1 | 2;
  /**
   * CPU engine: `jit` (default) translates hot Thumb code to JavaScript, `interp` is rp2040js's
   * interpreter, `check` runs both and stops at the first difference (sim/cpu).
   */
  cpu?: CpuEngineKind;
  /** Entries of a block before the `jit`/`check` engines translate it (default: the engine's). */
  hotThreshold?: number;
  /** Cycles the `jit` engine only interprets before it counts and translates (default DEFAULT_WARMUP_CYCLES: the boot). */
  warmupCycles?: number;
  /** Skip the waiting of polling loops (PollSkipper; default true). */
  skipPolls?: boolean;
  /**
   * Which stream is the console (the REPL a tool talks to): `auto` (default) is USB CDC once the
   * firmware presents it, else UART0, as on a real board; or one of them by name.
   */
  console?: ConsoleTarget;
}

/** UART0/UART1 (§4.2): peripheral keys, IRQs 20/21, DREQs TX/RX 20/21 and 22/23. */
const UARTS = [
  { key: peripheralKey(UART0_BASE), name: 'UART0', irq: 20, dreq: { tx: 20, rx: 21 } },
  { key: peripheralKey(UART1_BASE), name: 'UART1', irq: 21, dreq: { tx: 22, rx: 23 } },
] as const;
/** Wall time one slice of the run loop may take before yielding to Node's event loop. */
const SLICE_MS = 12;
/**
 * Cycles one core runs before the other gets its turn (and before the clock ticks): the
 * interleaving grain of the two cores. Shorter while an alarm is due sooner, so peripheral
 * events land on the instruction boundary where they are due.
 */
const DUAL_QUANTUM = 256;
const SINGLE_QUANTUM = 32768;
/** Alarms passed in one go for a loop waiting on a register (PollSkipper.watch). */
const MAX_WATCHED_SKIPS = 4096;
/**
 * While host I/O is pending, a busy-wait on the timer that has run this long (simulated) is a
 * wait paced at wall speed; a shorter one runs as code (a wall-clock timer cannot time a few
 * microseconds), asking again after PACED_POLL_RECHECK_NANOS.
 */
const PACED_POLL_AFTER_NANOS = 1e6;
const PACED_POLL_RECHECK_NANOS = 100e3;

export class BoardHaltedError extends PicowSimError {
  constructor(message: string) {
    super(message, 1);
  }
}

export class OutputTimeoutError extends PicowSimError {
  constructor(message: string) {
    super(message, 1);
  }
}

function deriveUniqueId(name: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`picow-sim board ${name}`).digest().subarray(0, 8));
}

function parseUniqueId(id: Uint8Array | string): Uint8Array {
  if (typeof id !== 'string') {
    if (id.length !== 8) throw new PicowSimError(`unique ID must be 8 bytes, got ${id.length}`, 2);
    return id;
  }
  if (!/^[0-9a-fA-F]{16}$/.test(id)) throw new PicowSimError(`unique ID must be 16 hex digits, got '${id}'`, 2);
  return new Uint8Array(Buffer.from(id, 'hex'));
}

/**
 * A Raspberry Pi Pico W: an RP2040 (rp2040js) with 2 MB of flash loaded from a UF2, our HLE
 * bootrom, the USB CDC and UART consoles, the devices wired to its pins, and the clock policy.
 *
 * Events: 'console' (bytes, source: the console stream only, see `consoleSource`), 'uart'
 * (bytes, 'uart0' | 'uart1': every character a UART puts on its TX pin, console or not),
 * 'event' (BoardEvent), 'usb-ready' (the CDC port opened).
 */
export class PicoWBoard extends EventEmitter {
  readonly name: string;
  readonly logger: Logger;
  readonly uniqueId: Uint8Array;
  readonly clock: BoardClock;
  readonly policy: ClockPolicy;
  readonly devices: BoardDevice[];
  /** Persistent flash contents (2 MB), kept across chip resets and power cycles. */
  readonly flash: Uint8Array;
  mcu!: RP2040;
  /** The rp2040js adaptations of the current chip (rp2040-adaptation.ts). */
  private adapted: AdaptedRp2040 | null = null;
  /** Finds polling loops whose waiting the clock policy may skip. */
  poll!: PollSkipper;
  /** UART0 and UART1 of the current chip. */
  uarts: Pl011Uart[] = [];
  /** The second core and inter-core SIO; null in a single-core build. */
  multicore: MultiCore | null = null;
  readonly coreCount: 1 | 2;
  readonly cpuKind: CpuEngineKind;
  private readonly hotThreshold: number | undefined;
  private readonly warmupCycles: number;
  private readonly skipPolls: boolean;
  /** The CPU engine of each core of the current chip. */
  private engines = new Map<Core, CpuEngine>();
  private usb: UsbCdcHost | null = null;
  private readonly bootrom: HleBootrom;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private pendingReset: 'watchdog' | 'power-on' | null = null;
  private halted: BoardEvent | null = null;
  private cycleNanos = 8;
  /** The cores executed since they last all slept (for the clock policy's idle anchor). */
  private ranSinceIdle = false;
  private bootselPressed: boolean;
  /** The console chosen (`auto`: USB CDC once it enumerated, else UART0). */
  consoleChoice: ConsoleTarget;
  /** The firmware presented a USB CDC device since power-on (kept across resets). */
  private usbSeen = false;
  private text = '';
  private readonly decoder = new TextDecoder('utf-8');
  private readonly waiters = new TextWaiters(
    () => this.text,
    (test, timeoutMs) => new OutputTimeoutError(`timed out after ${timeoutMs} ms waiting for ${String(test)}; last output: ${JSON.stringify(this.text.slice(-300))}`),
  );
  private disposed = false;
  /** Set by a debugger (sim/ports): breakpoints and stepping. */
  debugHook: DebugHook | null = null;
  /** A debugger holds the board halted: `start()` waits for `debugResume()`. */
  private debugHalted = false;
  /**
   * Set by a BoardGroup (several boards that can answer each other): the latest simulated time
   * this board may reach while all its cores sleep.
   */
  peerBound: (() => number) | null = null;
  /** Set by a BoardGroup: called after each slice of this board's run loop (its peers may go on). */
  onSliceEnd: (() => void) | null = null;
  /** The loop stopped at `peerBound`: a peer's next slice wakes it (peerProgressed). */
  private heldByPeers = false;

  private constructor(image: Uf2Image, opts: PicoWBoardOptions) {
    super();
    this.name = opts.name ?? 'picow';
    this.logger = opts.logger ?? silentLogger();
    this.uniqueId = opts.uniqueId ? parseUniqueId(opts.uniqueId) : deriveUniqueId(this.name);
    this.devices = [...(opts.devices ?? [])];
    this.bootselPressed = opts.bootselPressed ?? false;
    this.coreCount = opts.cores ?? 2;
    this.cpuKind = opts.cpu ?? 'jit';
    this.hotThreshold = opts.hotThreshold;
    this.warmupCycles = opts.warmupCycles ?? DEFAULT_WARMUP_CYCLES;
    this.skipPolls = opts.skipPolls ?? true;
    this.consoleChoice = opts.console ?? 'auto';
    this.clock = new BoardClock();
    this.policy = new ClockPolicy(() => this.clock.nanos);
    this.policy.onWake = () => this.wake();
    this.flash = new Uint8Array(FLASH_SIZE).fill(0xff);
    this.flash.set(image.flash.subarray(0, FLASH_SIZE));
    this.bootrom = new HleBootrom({
      logger: this.logger,
      onBootsel: (gpioActivityMask: number, disableInterfaceMask: number) => {
        this.halt({ type: 'bootsel', gpioActivityMask, disableInterfaceMask, nanos: this.clock.nanos });
      },
      onFlashWrite: (offset: number, length: number) => invalidateTranslations(this.mcu, FLASH_BASE + offset, length),
      onMemoryWrite: (address: number, length: number) => invalidateTranslations(this.mcu, address, length),
      readBootselPin: () => !this.bootselPressed,
      coreIndex: (core: Core) => (core === this.multicore?.cores[1] ? 1 : 0),
      onNoBoot2: (reason: string) => {
        this.halt({ type: 'halt', reason: `no bootable program in flash: ${reason}`, exitCode: null, nanos: this.clock.nanos });
      },
    });
    this.buildChip('power-on');
  }

  /** Load a firmware image and build the board (powered, not yet running). */
  static async create(opts: PicoWBoardOptions): Promise<PicoWBoard> {
    const fw = opts.firmware;
    const image =
      typeof fw === 'string' ? loadUf2File(fw) : fw instanceof Uint8Array ? parseUf2(fw, '<firmware bytes>') : fw;
    return new PicoWBoard(image, opts);
  }

  get hostIo(): HostIo {
    return this.policy;
  }

  get simClock(): SimClock {
    return this.clock;
  }

  /** Everything the board printed so far on its console (`consoleSource`), decoded as UTF-8. */
  get output(): string {
    return this.text;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** A peer board ran a slice: a loop held at `peerBound` looks again. */
  peerProgressed(): void {
    if (!this.heldByPeers) return;
    this.heldByPeers = false;
    this.wake();
  }

  /**
   * The earliest simulated time at which this board could still send anything to another board
   * (BoardGroup): now while a core runs or a wake is pending, else its next alarm (or, with host
   * I/O pending, as far as the wall clock lets it go). Infinity when it is stopped or halted.
   */
  get earliestSendNanos(): number {
    if (!this.running || this.halted || this.disposed) return Infinity;
    const now = this.clock.nanos;
    const c1 = this.multicore?.core1Active ? this.multicore.cores[1] : null;
    if (this.immediate || this.pendingReset || !this.mcu.core.waiting || (c1 && !c1.waiting)) return now;
    const next = this.clock.nanosToNextAlarm;
    const alarm = next === null ? Infinity : now + next;
    return this.policy.hostIoPending ? Math.min(alarm, Math.max(now, this.policy.limitNanos())) : alarm;
  }

  get haltEvent(): BoardEvent | null {
    return this.halted;
  }

  /** Attach another device (before or after start). */
  attach(device: BoardDevice): void {
    this.devices.push(device);
    device.attach(this.context());
  }

  private context(): BoardContext {
    return {
      mcu: this.mcu,
      clock: this.clock,
      hostIo: this.policy,
      logger: this.logger,
      emit: (e) => this.emitEvent(e),
    };
  }

  private emitEvent(e: BoardEvent): void {
    if (e.type === 'led') {
      const line = `${(e.nanos / 1e9).toFixed(6)}s LED ${e.on ? 'on' : 'off'}`;
      if (this.logger.tracing('led')) this.logger.trace('led', line);
      else this.logger.info('led', line); // shown with --verbose
    }
    this.emit('event', e);
  }

  /** Build a fresh RP2040 around the persistent flash (power-on or chip reset). */
  private buildChip(reason: 'power-on' | 'watchdog' | 'software'): void {
    const old = this.mcu as RP2040 | undefined;
    const watchdog = old && this.adapted && reason !== 'power-on' ? this.adapted.watchdogState() : null;
    if (old) this.flash.set(old.flash.subarray(0, FLASH_SIZE));
    this.clock.newChip();
    const mcu = new PicoWRp2040(this.clock as unknown as ConstructorParameters<typeof RP2040>[0]);
    mcu.logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (name: string, msg: string) => this.logger.debug('board', `${name}: ${msg}`),
      error: (name: string, msg: string) => this.logger.warn('board', `${name}: ${msg}`),
    } as unknown as RP2040['logger'];
    // rp2040js's loadBootrom() would reset again and refill the flash array with 0xFF (the
    // constructor just did): set the ROM and reset the core only.
    mcu.bootrom.set(this.bootrom.image);
    mcu.core.reset();
    mcu.flash.set(this.flash);
    const spiFlash = new SpiFlash(mcu.flash, this.uniqueId, FLASH_SIZE, (offset, length) =>
      invalidateTranslations(mcu, FLASH_BASE + offset, length),
    );
    const peripherals = mcu.peripherals as Record<number, unknown>;
    this.adapted = adaptRp2040(mcu, {
      spiFlash,
      roscSeed: Buffer.from(this.uniqueId).readUInt32LE(0),
      watchdog,
      onWatchdogReset: () => void (this.pendingReset = 'watchdog'),
    });
    mcu.qspi[1]!.setInputValue(!this.bootselPressed); // QSPI CSn strap: high = not pressed
    this.bootrom.installRomWriteGuard(mcu);
    const updateCycle = (clkSys: number) => {
      this.cycleNanos = 1e9 / clkSys;
    };
    updateCycle(mcu.clkSys);
    mcu.addClockListener(updateCycle);
    // Consoles: UART0/UART1 replace rp2040js's UARTs (timing, FIFO levels, interrupts).
    for (const u of this.uarts) u.dispose();
    this.uarts = UARTS.map((u, i) => {
      const uart = new Pl011Uart(mcu, u.name, u.irq, u.dreq, this.clock);
      peripherals[u.key] = uart;
      (mcu.uart as unknown as Pl011Uart[])[i] = uart;
      const source: ConsoleSource = i === 0 ? 'uart0' : 'uart1';
      uart.onByte = (b: number) => this.consoleOut(Uint8Array.of(b), source);
      return uart;
    });
    const pendingInput = this.usb ? this.usb.pending : 0;
    if (pendingInput) this.logger.debug('usb', `${pendingInput} input bytes dropped by the reset`);
    const usb = new UsbCdcHost(mcu.usbCtrl, this.logger);
    usb.onReady = () => {
      this.logger.debug('usb', 'CDC serial port open');
      this.usbSeen = true;
      this.emit('usb-ready');
    };
    usb.onData = (buf: Uint8Array) => this.consoleOut(buf, 'usb');
    this.usb = usb;
    this.mcu = mcu;
    this.engines = new Map();
    this.poll = new PollSkipper(() => this.skipPolls);
    this.poll.install(mcu);
    if (this.coreCount === 2) {
      this.multicore = new MultiCore(mcu, this.bootrom.layout.park, this.logger, (core, view, code) =>
        this.onBreak(core, view, code),
      );
      this.multicore.onCore1Start = () => this.wake();
    } else {
      this.multicore = null;
      mcu.onBreak = (code: number) => this.onBreak(mcu.core, mcu, code);
    }
    for (const d of this.devices) d.attach(this.context());
    this.emitEvent({ type: 'reset', reason, nanos: this.clock.nanos });
  }

  private onBreak(core: Core, view: RP2040, code: number): void {
    if (this.bootrom.handleBreak(core, view, code)) return;
    const pc = (core.PC - 2) >>> 0;
    const r0 = core.registers[0]! | 0;
    this.halt({
      type: 'halt',
      reason: `the program stopped at a breakpoint (BKPT/UDF #${code}) at 0x${pc.toString(16)} on core ${core === this.multicore?.cores[1] ? 1 : 0}`,
      exitCode: r0,
      nanos: this.clock.nanos,
    });
  }

  private halt(e: BoardEvent): void {
    this.halted = e;
    this.running = false;
    this.emitEvent(e);
    this.waiters.failAll(new BoardHaltedError(describeHalt(e)));
  }

  /**
   * The stream the REPL is on: USB CDC when the firmware presents it (as a real Pico W's
   * /dev/ttyACM0), else UART0 (the C SDK's default stdio); or the one chosen by name.
   */
  get consoleSource(): ConsoleSource {
    if (this.consoleChoice !== 'auto') return this.consoleChoice;
    return this.usbSeen ? 'usb' : 'uart0';
  }

  private consoleOut(bytes: Uint8Array, source: ConsoleSource): void {
    if (source !== 'usb') this.emit('uart', bytes, source);
    // Only the console reaches the console stream: a UART is a peripheral on pins otherwise.
    if (source !== this.consoleSource) return;
    this.text += this.decoder.decode(bytes, { stream: true });
    this.emit('console', bytes, source);
    if (this.waiters.size) this.waiters.check();
  }

  /**
   * Send bytes to the board's console (`auto`: `consoleSource`; before any console is up, USB,
   * which holds them until the port opens) or to one stream by name (a UART's RX pin, at its
   * line rate).
   */
  writeConsole(data: string | Uint8Array, target: ConsoleTarget = 'auto'): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    let to: ConsoleSource = target === 'auto' ? this.consoleSource : target;
    if (target === 'auto' && this.consoleChoice === 'auto' && to === 'uart0' && !this.uarts[0]!.rxEnabled) to = 'usb';
    if (to === 'usb') {
      this.usb!.write(bytes);
    } else {
      const uart = this.uarts[to === 'uart0' ? 0 : 1]!;
      for (const b of bytes) uart.feedByte(b);
    }
    this.wake();
  }

  /**
   * The host side of the USB serial port, as a host's CDC ACM driver drives it for a program that
   * opened the port: line coding, DTR/RTS, break (requests wait until the port is open).
   */
  readonly usbControl = {
    setLineCoding: (baudRate: number): void => {
      this.usb?.setLineCoding(baudRate);
      this.wake();
    },
    setControlLineState: (dtr: boolean, rts: boolean): void => {
      this.usb?.setControlLineState(dtr, rts);
      this.wake();
    },
    sendBreak: (on: boolean): void => {
      this.usb?.sendBreak(on);
      this.wake();
    },
    /** Console input the device has not taken yet. */
    pendingInput: (): number => this.usb?.pending ?? 0,
  };

  /** The USB CDC serial port is open (the firmware's USB device enumerated). */
  get usbReady(): boolean {
    return this.usb?.ready ?? false;
  }

  /** Resolves once the USB CDC serial port is open; rejects after `timeoutMs` or if the board halts. */
  whenUsbReady(timeoutMs = 30_000): Promise<void> {
    if (this.usbReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err: Error | null) => {
        clearTimeout(timer);
        this.off('usb-ready', ready);
        this.off('event', halted);
        if (err) reject(err);
        else resolve();
      };
      const ready = () => done(null);
      const halted = (e: BoardEvent) => {
        if (e.type === 'halt' || e.type === 'bootsel') done(new BoardHaltedError(describeHalt(e)));
      };
      const timer = setTimeout(
        () => done(new OutputTimeoutError(`the firmware's USB serial port did not appear within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.on('usb-ready', ready);
      this.on('event', halted);
    });
  }

  /** Start (or resume) running in the background of Node's event loop. */
  start(): void {
    if (this.disposed) throw new PicowSimError('the board was disposed', 1);
    if (this.running || this.halted || this.debugHalted) return;
    this.running = true;
    this.schedule(0);
  }

  /** A debugger halts the board (between instructions): simulated time stops until `debugResume()`. */
  debugHalt(): void {
    this.debugHalted = true;
    this.stop();
  }

  /** The debugger lets the board run again; waits paced to the wall clock start from here. */
  debugResume(): void {
    if (!this.debugHalted) return;
    this.debugHalted = false;
    this.policy.resync();
    this.start();
  }

  get isDebugHalted(): boolean {
    return this.debugHalted;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  /** Power cycle: a fresh chip, flash kept, RAM and peripherals lost. */
  powerCycle(): void {
    this.halted = null;
    this.buildChip('power-on');
  }

  /** Press or release BOOTSEL (read by `rp2.bootsel_button()` and at power-on). */
  setBootsel(pressed: boolean): void {
    this.bootselPressed = pressed;
    this.mcu.qspi[1]!.setInputValue(!pressed);
  }

  private wake(): void {
    if (!this.running || this.immediate) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.immediate = setImmediate(() => this.runSlice());
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (delayMs <= 0) {
      if (!this.immediate) this.immediate = setImmediate(() => this.runSlice());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.runSlice();
      }, Math.min(delayMs, 50));
    }
  }

  /** Run for up to SLICE_MS of wall time, then yield to Node's event loop. */
  private runSlice(): void {
    this.immediate = null;
    if (!this.running) return;
    try {
      this.runSliceUnguarded();
      this.onSliceEnd?.();
    } catch (e) {
      // A model error must stop this board with a clear message, never crash the process.
      const message = e instanceof Error ? e.message : String(e);
      this.logger.error('board', message);
      this.emitEvent({ type: 'fault', message, nanos: this.clock.nanos });
      this.halt({ type: 'halt', reason: `simulator fault: ${message}`, exitCode: null, nanos: this.clock.nanos });
    }
  }

  private runSliceUnguarded(): void {
    const deadline = performance.now() + SLICE_MS;
    const clock = this.clock;
    let n = 0;
    for (;;) {
      if (this.pendingReset) {
        const r = this.pendingReset;
        this.pendingReset = null;
        this.buildChip(r);
        continue;
      }
      if (!this.running) return;
      const mc = this.multicore;
      const c0 = this.mcu.core;
      const c1 = mc?.core1Active ? mc.cores[1] : null;
      if (c0.waiting && (!c1 || c1.waiting)) {
        let limit = this.policy.limitNanos();
        if (this.ranSinceIdle) {
          this.ranSinceIdle = false;
          this.policy.waitBegins();
          limit = this.policy.limitNanos();
        }
        // Every core sleeps: jump to the next alarm, unless host I/O holds time to the wall clock.
        const next = clock.nanosToNextAlarm;
        if (next === null) {
          if (mc?.wakeOnOwnEvent()) continue;
          // Nothing scheduled: the board waits for the host. While host I/O is pending its
          // clock keeps pace with the wall clock, so ticks_ms() counts the wait as on hardware.
          if (this.policy.hostIoPending) {
            if (limit > clock.nanos) clock.tick(limit - clock.nanos);
            this.schedule(2);
          }
          return;
        }
        const target = clock.nanos + next;
        if (target > limit) {
          if (limit > clock.nanos) clock.tick(limit - clock.nanos);
          this.schedule(Math.max(1, this.policy.wallMsUntil(target)));
          return;
        }
        // Another board could still send us something before the alarm: wait for it to get there.
        const peers = this.peerBound?.() ?? Infinity;
        if (target > peers) {
          if (peers > clock.nanos) clock.tick(peers - clock.nanos);
          this.heldByPeers = true; // woken by the peers' next slice (the timer is only a fallback)
          this.schedule(50);
          return;
        }
        clock.tick(next);
      } else {
        // Computation is never paced (the clock policy holds only waits to the wall clock).
        this.ranSinceIdle = true;
        const cn = this.cycleNanos;
        let budget = c1 ? DUAL_QUANTUM : SINGLE_QUANTUM;
        const toAlarm = clock.nanosToNextAlarm;
        if (toAlarm !== null && toAlarm < budget * cn) budget = Math.max(1, Math.ceil(toAlarm / cn));
        let used = c0.waiting ? 0 : this.runCore(c0, budget);
        if (c1 && !c1.waiting) used = Math.max(used, this.runCore(c1, budget));
        clock.tick(used * cn);
        if (this.poll.request) {
          const wallMs = this.skipPolling(c1 !== null && !c0.waiting && !c1.waiting);
          if (wallMs > 0) {
            // A paced wait that reached the wall clock: the board sleeps until it may go on.
            this.schedule(wallMs);
            return;
          }
        }
      }
      if ((++n & 63) === 0 && performance.now() > deadline) break;
    }
    this.schedule(0);
  }

  /** Execute instructions on one core for about `budget` cycles; returns the cycles used. */
  private runCore(core: Core, budget: number): number {
    const start = core.cycles;
    const poll = this.poll;
    let engine = this.engines.get(core);
    if (!engine) {
      engine = createCpuEngine(this.cpuKind, core.rp2040, {
        hotThreshold: this.hotThreshold,
        // The warm-up keeps the boot interpreted; core 1 starts later (a thread), after it.
        warmupCycles: core === this.mcu.core ? this.warmupCycles : 0,
        core,
        tickClock: false,
        logger: this.logger,
        keepRunning: () => this.running && !this.pendingReset && !this.poll.request && !this.clock.alarmDueInRun,
      });
      this.engines.set(core, engine);
    }
    poll.core = core;
    this.clock.beginRun(core, this.cycleNanos, budget);
    try {
      const hook = this.debugHook;
      if (hook?.active) hook.runCore(core, budget, () => this.running && !this.pendingReset && !this.poll.request && !this.clock.alarmDueInRun);
      else engine.run(budget);
    } finally {
      this.clock.endRun();
      poll.core = null; // reads outside this stretch (DMA, alarms) are not this core's polls
    }
    return core.cycles - start;
  }

  /** Statistics of the CPU engine of each core that ran on the current chip. */
  cpuStats(): CpuEngineStats[] {
    return [...this.engines.values()].map((e) => e.stats());
  }

  /**
   * A core only polls (PollSkipper): move time forward instead of executing the wait — to the
   * next alarm for a loop that cannot progress before it, by the requested step for a timer
   * poll. Not while the other core is busy (it would lose that time). Returns the wall
   * milliseconds the board should sleep first (a paced wait ahead of the wall clock), or 0.
   */
  private skipPolling(bothBusy: boolean): number {
    const req = this.poll.request;
    const watch = this.poll.watch;
    this.poll.request = 0;
    this.poll.watch = null;
    if (bothBusy) return 0;
    const clock = this.clock;
    const paced = this.policy.hostIoPending;
    // While host I/O is pending a timer poll is paced like a sleep once it has lasted
    // PACED_POLL_AFTER_NANOS (a firmware delay waiting on the host: hardware takes its time);
    // a shorter one runs on as code.
    if (req !== Infinity && paced && this.poll.timerPollCycles * this.cycleNanos < PACED_POLL_AFTER_NANOS) {
      this.poll.holdTimer(Math.ceil(PACED_POLL_RECHECK_NANOS / this.cycleNanos));
      return 0;
    }
    // A poll with nothing to do is a wait: paced from its start while host I/O is pending.
    this.policy.waitBegins();
    const next = clock.nanosToNextAlarm;
    const wallLimit = this.policy.limitNanos();
    const limit = Math.min(wallLimit, this.peerBound?.() ?? Infinity);
    const want = req === Infinity ? (next ?? 0) : Math.min(req, next ?? req);
    const skip = Math.min(want, limit - clock.nanos);
    if (skip > 0) {
      clock.tick(skip);
      this.poll.skips++;
    }
    if (req !== Infinity) {
      // A paced timer poll that caught up with the wall clock sleeps until the rest of its step
      // is due (one held by peer boards runs on until it asks again).
      return skip < want && paced && wallLimit <= limit ? Math.max(1, this.policy.wallMsUntil(clock.nanos + want - Math.max(0, skip))) : 0;
    }
    if (skip <= 0 || watch === null) return 0;
    // The loop waits on a register that can be read again without side effects: while it reads
    // the same value and nothing else wants a core, the core's next pass would change nothing,
    // so go on from alarm to alarm without running it (a DMA or PIO transfer of many words).
    for (let i = 0; i < MAX_WATCHED_SKIPS; i++) {
      if (watch.core.interruptsUpdated || watch.core.waiting || !this.othersAsleep(watch.core)) return 0;
      if (!this.running || this.pendingReset || watch.read() !== watch.value) return 0;
      const n = clock.nanosToNextAlarm;
      if (n === null || clock.nanos + n > limit) return 0;
      clock.tick(n);
      this.poll.skips++;
    }
    return 0;
  }

  /** Whether every core but `core` sleeps (WFI/WFE), so none loses time while `core` skips. */
  private othersAsleep(core: Core): boolean {
    const mc = this.multicore;
    if (!mc?.core1Active) return true;
    for (const c of mc.cores) if (c !== core && !c.waiting) return false;
    return true;
  }

  /**
   * Run until simulated time `nanos` has passed (test helper: drives the loop synchronously in
   * slices, yielding between them). Resolves early if the board halts.
   */
  async runFor(nanos: number): Promise<void> {
    const end = this.clock.nanos + nanos;
    await new Promise<void>((resolve) => {
      const t = this.clock.schedule(nanos, () => {
        this.stop();
        resolve();
      });
      const onHalt = (e: BoardEvent) => {
        if (e.type === 'halt' || e.type === 'bootsel') {
          t.cancel();
          this.off('event', onHalt);
          resolve();
        }
      };
      this.on('event', onHalt);
      this.start();
    });
    void end;
  }

  /**
   * Wait until the console output (from character index `from`, default: everything so far)
   * contains `test` (string) or matches it (RegExp). Rejects after `timeoutMs` of wall time or
   * when the board halts. Resolves with the output from `from` to the end of the match.
   */
  waitForOutput(test: string | RegExp, opts: { timeoutMs?: number; from?: number } = {}): Promise<string> {
    const from = opts.from ?? 0;
    const p = this.waiters.add(test, opts.timeoutMs ?? 30_000, () => from);
    if (this.halted) this.waiters.failAll(new BoardHaltedError(describeHalt(this.halted)));
    return p;
  }

  dispose(): void {
    if (this.disposed) return;
    this.stop();
    this.disposed = true;
    this.waiters.failAll(new PicowSimError('the board was disposed', 1));
    for (const d of this.devices) d.dispose?.();
    for (const u of this.uarts) u.dispose();
    this.removeAllListeners();
  }
}

export function describeHalt(e: BoardEvent): string {
  switch (e.type) {
    case 'bootsel':
      return 'the board asked for BOOTSEL mode (reset_to_usb_boot): it is now a USB drive waiting for new firmware';
    case 'halt':
      return e.reason;
    default:
      return `board stopped (${e.type})`;
  }
}

export { FirmwareError };
