/**
 * Where the board adapts rp2040js: every peripheral or part of the chip it replaces or wraps, and
 * why — the counterpart of rp2040js's own peripheral table (`RP2040.peripherals` in its
 * rp2040.ts). `adaptRp2040` installs the chip-level ones on a fresh `RP2040`; the rows whose
 * `installedBy` names another file are installed there because they belong to that layer (the
 * second core, the consoles, the HLE ROM, the CPU engines), and are listed here so this table
 * is complete.
 */
import type { RP2040 } from 'rp2040js';
import { noteDefaultHooks } from '../cpu/index.ts';
import { TimedDma } from './dma-timing.ts';
import { timeI2c } from './i2c-timing.ts';
import { installI2cTargets } from './i2c-target.ts';
import {
  DMA_BASE,
  I2C0_BASE,
  IO_QSPI_BASE,
  PADS_BANK0_BASE,
  PIO0_BASE,
  ROSC_BASE,
  SIO_BASE,
  SPI0_BASE,
  SYSINFO_BASE,
  UART0_BASE,
  WATCHDOG_BASE,
  XIP_BASE,
  XIP_SSI_BASE,
  peripheralKey,
} from './memory-map.ts';
import { GpioPads } from './pads.ts';
import { TimedPio } from './pio-timing.ts';
import { Rosc } from './rosc.ts';
import type { SpiFlash } from './spi-flash.ts';
import { timeSpi } from './spi-timing.ts';
import { IoQspi, XipSsi } from './ssi.ts';

export interface Rp2040Adaptation {
  /** The block (datasheet name) or part of rp2040js. */
  readonly part: string;
  /** Its base address, or null for a part with no registers of its own. */
  readonly base: number | null;
  /** `replaced`: our model sits in rp2040js's table; `wrapped`: rp2040js's model with some methods wrapped. */
  readonly how: 'replaced' | 'wrapped';
  /** The file that models it. */
  readonly model: string;
  /** Where it is installed, when not by `adaptRp2040`. */
  readonly installedBy?: string;
  readonly why: string;
}

export const RP2040_ADAPTATIONS: readonly Rp2040Adaptation[] = [
  {
    part: 'XIP flash array',
    base: XIP_BASE,
    how: 'replaced',
    model: 'rp2040-chip.ts',
    installedBy: 'picow.ts (buildChip: PicoWRp2040)',
    why: 'the 2 MB W25Q16JV instead of a 16 MB array filled at each reset; the XIP window and its aliases see the chip repeated, as the CPU engines do',
  },
  {
    part: 'XIP_SSI',
    base: XIP_SSI_BASE,
    how: 'replaced',
    model: 'ssi.ts, spi-flash.ts',
    why: 'rp2040js has no SSI behind XIP: flash commands (JEDEC ID, unique ID, program, erase) from boot2 and the SDK reach a W25Q16JV model',
  },
  { part: 'IO_QSPI', base: IO_QSPI_BASE, how: 'replaced', model: 'ssi.ts', why: 'QSPI CSn override (BOOTSEL button, flash chip select) for the SSI model' },
  { part: 'ROSC', base: ROSC_BASE, how: 'replaced', model: 'rosc.ts', why: 'RANDOMBIT must vary (rp2040js reads 0): MicroPython seeds its RNG and lwIP its ports from it' },
  { part: 'SYSINFO', base: SYSINFO_BASE, how: 'wrapped', model: 'rp2040-adaptation.ts', why: 'CHIP_ID reads revision B2, which the SDK and the HLE ROM expect (rp2040js reports B1)' },
  {
    part: 'WATCHDOG',
    base: WATCHDOG_BASE,
    how: 'wrapped',
    model: 'rp2040-adaptation.ts',
    why: 'a trigger resets the chip through the board (rp2040js only calls back); SCRATCH and REASON survive that reset',
  },
  {
    part: 'UART0, UART1',
    base: UART0_BASE,
    how: 'replaced',
    model: 'uart.ts',
    installedBy: 'picow.ts (buildChip: the consoles)',
    why: 'line-rate timing, FIFO levels, TX/RX/timeout interrupts and DREQs in simulated time',
  },
  { part: 'PIO0, PIO1', base: PIO0_BASE, how: 'wrapped', model: 'pio-timing.ts', why: 'state machines run at clk_sys / CLKDIV in simulated time, not on rp2040js wall-clock timers' },
  { part: 'PIO (the gSPI bus state machine, either block)', base: null, how: 'wrapped', model: 'pio-spi-bus.ts', installedBy: 'cyw43/chip.ts', why: 'the state machine driving the CYW43439 bus hands its bits to the chip model (fast path for shift loops)' },
  { part: 'DMA', base: DMA_BASE, how: 'wrapped', model: 'dma-timing.ts', why: 'memory-to-memory transfers paced by the bus (one per clk_sys); CHAN_ABORT leaves TRANS_COUNT 0' },
  { part: 'SPI0, SPI1', base: SPI0_BASE, how: 'wrapped', model: 'spi-timing.ts', why: 'frames take their bit time at clk_peri / (CPSDVSR × (1 + SCR))' },
  { part: 'I2C0, I2C1', base: I2C0_BASE, how: 'wrapped', model: 'i2c-timing.ts', why: 'transfers at the SCL rate; TX_EMPTY after an abort and when a byte has left (TX_EMPTY_CTRL)' },
  {
    part: 'I2C0, I2C1 target mode',
    base: I2C0_BASE,
    how: 'wrapped',
    model: 'i2c-target.ts',
    why: 'rp2040js models the controller only: target mode decodes the SCL/SDA pins (address ACK, RX/TX FIFOs, RD_REQ with clock stretching, START/STOP_DET) and pulls them low, open drain',
  },
  { part: 'GPIO pads (IO_BANK0 / PADS_BANK0)', base: PADS_BANK0_BASE, how: 'wrapped', model: 'pads.ts', why: 'a driven pin reads back its level, an undriven one its pull (rp2040js leaves inputs to devices)' },
  {
    part: 'SIO, PSM, IO_BANK0 PROC1, NVIC routing, SEV',
    base: SIO_BASE,
    how: 'wrapped',
    model: 'multicore.ts',
    installedBy: 'multicore.ts',
    why: 'the second core: per-core SIO (CPUID, FIFOs, divider, interpolators), core 1 reset by PSM, its own GPIO interrupt banks, events between cores',
  },
  { part: 'all peripheral reads', base: null, how: 'wrapped', model: 'poll-skip.ts', installedBy: 'poll-skip.ts', why: 'finds polling loops whose waiting the clock policy may skip' },
  { part: 'USBCTRL callbacks', base: null, how: 'wrapped', model: 'usb-cdc-host.ts', installedBy: 'usb-cdc-host.ts', why: 'a USB host that enumerates the CDC device and carries the console' },
  { part: 'ROM, memory writes', base: 0, how: 'wrapped', model: 'bootrom/hle-bootrom.ts', installedBy: 'picow.ts (bootrom.installRomWriteGuard)', why: 'the HLE ROM image; writes to ROM are ignored as on silicon' },
  { part: 'Cortex-M0+ execution', base: null, how: 'wrapped', model: 'cpu/', installedBy: 'picow.ts (createCpuEngine)', why: 'the CPU engines (translation of hot Thumb code, table interpreter); each core\'s default blTaken hook is noted when it is made (noteDefaultHooks) so translated BL skips it' },
  {
    part: 'SEV (Cortex-M0+ event)',
    base: null,
    how: 'wrapped',
    model: 'cpu/events.ts',
    installedBy: 'multicore.ts (onSendEvent per core)',
    why: 'rp2040js executes SEV as a NOP (it only logs it): every engine reports it to the core\'s hook, which sets the event register of both cores and wakes one in WFE',
  },
];

/** SYSINFO CHIP_ID (§2.20.3): revision 2 (B2) in bits 31:28, part 0x0002, manufacturer 0x493. */
const CHIP_ID_B2 = 0x20002927;

export interface AdaptOptions {
  /** The flash chip behind the XIP SSI. */
  spiFlash: SpiFlash;
  /** Seed of the ring oscillator's random bits. */
  roscSeed: number;
  /** Watchdog state carried over a chip reset (SCRATCH0-7, REASON), or null at power-on. */
  watchdog: { scratch: Uint32Array; reason: number } | null;
  /** The watchdog fired: the board resets the chip. */
  onWatchdogReset(): void;
}

export interface AdaptedRp2040 {
  readonly pio: TimedPio;
  readonly pads: GpioPads;
  /** The watchdog's state, to carry over a chip reset. */
  watchdogState(): { scratch: Uint32Array; reason: number };
}

interface Watchdog {
  scratchData: Uint32Array;
  reason: number;
  onWatchdogTrigger: () => void;
  alarm: { enable: boolean };
  timer: { enable: boolean };
}

/** Install the chip-level adaptations of RP2040_ADAPTATIONS on a fresh rp2040js `RP2040`. */
export function adaptRp2040(mcu: RP2040, opts: AdaptOptions): AdaptedRp2040 {
  noteDefaultHooks(mcu.core);
  const peripherals = mcu.peripherals as Record<number, unknown>;
  const ssi = new XipSsi(mcu, opts.spiFlash);
  peripherals[peripheralKey(XIP_SSI_BASE)] = ssi;
  peripherals[peripheralKey(IO_QSPI_BASE)] = new IoQspi(mcu, ssi);
  peripherals[peripheralKey(ROSC_BASE)] = new Rosc(mcu, opts.roscSeed);
  const sysinfo = peripherals[peripheralKey(SYSINFO_BASE)] as { readUint32(o: number): number };
  const sysinfoRead = sysinfo.readUint32.bind(sysinfo);
  sysinfo.readUint32 = (offset: number) => (offset === 0 ? CHIP_ID_B2 : sysinfoRead(offset));
  const wd = peripherals[peripheralKey(WATCHDOG_BASE)] as Watchdog;
  if (opts.watchdog) {
    wd.scratchData.set(opts.watchdog.scratch);
    wd.reason = opts.watchdog.reason;
  }
  wd.onWatchdogTrigger = () => {
    // The chip resets: stop the counter, or rp2040js re-arms its expired alarm at zero delay.
    wd.alarm.enable = false;
    wd.timer.enable = false;
    opts.onWatchdogReset();
  };
  const pio = TimedPio.of(mcu);
  const pads = new GpioPads(mcu);
  new TimedDma(mcu);
  timeSpi(mcu);
  timeI2c(mcu);
  installI2cTargets(mcu);
  return {
    pio,
    pads,
    watchdogState: () => ({ scratch: new Uint32Array(wd.scratchData), reason: wd.reason }),
  };
}
