/**
 * The fields of rp2040js's PIO blocks, state machines and DMA channels that the board's timed
 * PIO and DMA models drive. They are public at run time but not in rp2040js's typings; this is
 * the one place that names them (see rp2040-adaptation.ts for why each one is wrapped).
 */
import type { RP2040 } from 'rp2040js';

export interface Fifo {
  readonly empty: boolean;
  readonly full: boolean;
  readonly itemCount: number;
  push(v: number): void;
  pull(): number;
  reset(): void;
}

export interface StateMachine {
  readonly index: number;
  enabled: boolean;
  x: number;
  y: number;
  pc: number;
  inputShiftReg: number;
  inputShiftCount: number;
  outputShiftReg: number;
  outputShiftCount: number;
  clockDivInt: number;
  clockDivFrac: number;
  execCtrl: number;
  shiftCtrl: number;
  pinCtrl: number;
  /** rp2040js counts one per instruction plus its delay cycles. */
  cycles: number;
  /** Stalled on WAIT, a blocking PULL/PUSH or an autopull/autopush (rp2040js). */
  waiting: boolean;
  readonly rxFIFO: Fifo;
  readonly txFIFO: Fifo;
  step(): void;
  checkWait(): void;
  updateDMATx(): void;
  updateDMARx(): void;
}

export interface PioBlock {
  readonly index: number;
  readonly machines: StateMachine[];
  readonly instructions: Uint32Array;
  fdebug: number;
  txStall: number;
  rxStall: number;
  irq: number;
  pinDirections: number;
  stopped: boolean;
  readUint32(offset: number): number;
  writeUint32(offset: number, value: number): void;
  run(): void;
  checkInterrupts(): void;
  irqUpdated(): void;
  checkChangedPins(): void;
  pinDirectionsChanged(value: number, firstPin: number, count: number): void;
}

/** A DMA channel; its alarm is the board clock's (`scheduled` is false once it has fired). */
export interface DmaChannel {
  readonly index: number;
  readonly treq: number;
  ctrl: number;
  transCount: number;
  readonly transferAlarm: { readonly scheduled: boolean; readonly nanos: number; cancel(): void; schedule(n: number): void };
  transfer(): void;
  scheduleTransfer(): void;
  abort(): void;
}

export interface DmaBlock {
  readonly channels: DmaChannel[];
  readonly dreq: boolean[];
}

export function pioBlocks(mcu: RP2040): PioBlock[] {
  return (mcu as unknown as { pio: PioBlock[] }).pio;
}

export function dmaBlock(mcu: RP2040): DmaBlock {
  return (mcu as unknown as { dma: DmaBlock }).dma;
}

/** clk_sys in Hz as rp2040js tracks it (125 MHz after the SDK's clock set-up). */
export function clkSysHz(mcu: RP2040): number {
  return (mcu as unknown as { clkSys: number }).clkSys || 125e6;
}
