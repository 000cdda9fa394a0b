import type { RP2040 } from 'rp2040js';
import type { Logger } from '../log.ts';
import type { HostIo, SimClock } from '../time.ts';

/**
 * What a board offers to the devices wired to it (the CYW43439, a DS18B20, the temperature
 * sensor...). Devices talk to the RP2040 only through its pins, PIO, DMA and peripherals.
 */
export interface BoardContext {
  readonly mcu: RP2040;
  readonly clock: SimClock;
  readonly hostIo: HostIo;
  readonly logger: Logger;
  /** Board-level event sink: devices report things users see (LED changes...). */
  emit(event: BoardEvent): void;
}

/** Something attached to a board; reset hooks let it follow power cycles and chip resets. */
export interface BoardDevice {
  attach(ctx: BoardContext): void;
  /** The RP2040 was reset (power-on, watchdog, `machine.reset()`): return to the power-on state if wired to reset. */
  onChipReset?(): void;
  dispose?(): void;
}

export type BoardEvent =
  | { type: 'led'; on: boolean; nanos: number }
  | { type: 'bootsel'; gpioActivityMask: number; disableInterfaceMask: number; nanos: number }
  | { type: 'reset'; reason: 'power-on' | 'watchdog' | 'software'; nanos: number }
  | { type: 'halt'; reason: string; exitCode: number | null; nanos: number }
  | { type: 'fault'; message: string; nanos: number }
  | { type: 'log'; area: string; message: string; nanos: number };
