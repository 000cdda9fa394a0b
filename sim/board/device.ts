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

/**
 * Something attached to a board. A chip reset (power cycle, watchdog, `machine.reset()`) gives the
 * board a fresh RP2040: `attach` is called again with the new context, so a device must drop
 * whatever it held of the previous `mcu` (listeners, hooks) and return to its power-on state
 * where the real part would (the CYW43439 loses power with WL_REG_ON; a DS18B20 does not).
 */
export interface BoardDevice {
  attach(ctx: BoardContext): void;
  dispose?(): void;
}

export type BoardEvent =
  | { type: 'led'; on: boolean; nanos: number }
  | { type: 'bootsel'; gpioActivityMask: number; disableInterfaceMask: number; nanos: number }
  | { type: 'reset'; reason: 'power-on' | 'watchdog' | 'software'; nanos: number }
  | { type: 'halt'; reason: string; exitCode: number | null; nanos: number }
  | { type: 'fault'; message: string; nanos: number }
  | { type: 'log'; area: string; message: string; nanos: number };
