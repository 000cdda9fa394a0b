/**
 * I2C (Synopsys DW_apb_i2c, RP2040 datasheet §4.3) at its SCL rate: each step of a transfer takes
 * its bits on the wire in simulated time — START and STOP one SCL period, the address byte and
 * every data byte nine (eight bits and the ACK) — with SCL period = (IC_*_SCL_HCNT + IC_*_SCL_LCNT)
 * ic_clk cycles (ic_clk is clk_sys, §4.3.14). rp2040js runs the controller's state machine with
 * device callbacks (`onConnect`, `onWriteByte`, …) that answer through `complete*`; here each
 * `complete*` takes effect once its bits have gone by. A device model that answers late (calls
 * `complete*` after a delay of its own) stretches the clock (§4.3.9) by that delay.
 *
 * With nobody on the bus rp2040js already NACKs the address (IC_TX_ABRT_SOURCE ABRT_7B_ADDR_NOACK);
 * what it misses is TX_EMPTY: with IC_CON.TX_EMPTY_CTRL (which the SDK sets) TX_EMPTY means the
 * FIFO is at or below IC_TX_TL *and* the last command has left the shift register (§4.3.17
 * IC_RAW_INTR_STAT). rp2040js sets it when a byte is popped and never after an abort flushed the
 * FIFO, so the SDK's wait for it ran into its timeout (ETIMEDOUT instead of EIO).
 */
import type { RP2040 } from 'rp2040js';
import { clkSysHz } from './pio-shapes.ts';

/** IC_RAW_INTR_STAT.TX_EMPTY. */
const R_TX_EMPTY = 1 << 4;
/** Bits on the wire per step: START/STOP condition, an address or data byte with its ACK. */
const CONDITION_BITS = 1;
const BYTE_BITS = 9;

interface Alarm {
  schedule(delayNanos: number): void;
}
interface Clock {
  readonly nanos: number;
  createAlarm(cb: () => void): Alarm;
}
/** The fields of rp2040js's RPI2C used here. */
interface I2c {
  readonly sclLowPeriod: number;
  readonly sclHighPeriod: number;
  readonly txThreshold: number;
  readonly txFIFO: { readonly itemCount: number };
  setInterrupts(mask: number): void;
  nextCommand(): void;
  abort(reason: number): void;
  completeStart(): void;
  completeConnect(ack: boolean, nackByte?: number): void;
  completeWrite(ack: boolean): void;
  completeRead(value: number): void;
  completeStop(): void;
}

/** Nanoseconds of one SCL period for the given counts at clk_sys `hz`. */
export function i2cSclNanos(hcnt: number, lcnt: number, hz: number): number {
  return ((hcnt + lcnt) * 1e9) / hz;
}

export function timeI2c(mcu: RP2040): void {
  const clock = mcu.clock as unknown as Clock;
  for (const i2c of mcu.i2c as unknown as I2c[]) {
    // One step of the transfer is on the wire at a time: one alarm per controller.
    let pending: (() => void) | null = null;
    let due = 0;
    const alarm = clock.createAlarm(() => {
      const run = pending;
      pending = null;
      run?.();
    });
    const scl = (): number => i2cSclNanos(i2c.sclHighPeriod, i2c.sclLowPeriod, clkSysHz(mcu));
    /** Run `fn` once `bits` SCL periods have passed since the step began (now, or later if a device stretched). */
    const after = (bits: number, fn: () => void): void => {
      const now = clock.nanos;
      const at = Math.max(now, due) + bits * scl();
      due = at;
      pending = fn;
      alarm.schedule(at - now);
    };
    const txEmptyIfLow = (): void => {
      if (i2c.txFIFO.itemCount <= i2c.txThreshold) i2c.setInterrupts(R_TX_EMPTY);
    };
    const { completeStart, completeConnect, completeWrite, completeRead, completeStop, nextCommand, setInterrupts, abort } = i2c;
    let popping = false;
    i2c.setInterrupts = function (mask: number): void {
      // TX_EMPTY comes when the popped command has gone out (below), not when it is popped.
      setInterrupts.call(this, popping ? mask & ~R_TX_EMPTY : mask);
    };
    i2c.nextCommand = function (): void {
      popping = true;
      try {
        nextCommand.call(this);
      } finally {
        popping = false;
      }
    };
    i2c.abort = function (reason: number): void {
      abort.call(this, reason);
      i2c.setInterrupts(R_TX_EMPTY); // the FIFO was flushed and nothing is being sent
    };
    i2c.completeStart = function (): void {
      due = clock.nanos;
      after(CONDITION_BITS, () => completeStart.call(i2c));
    };
    i2c.completeConnect = function (ack: boolean, nackByte?: number): void {
      after(BYTE_BITS, () => completeConnect.call(i2c, ack, nackByte));
    };
    i2c.completeWrite = function (ack: boolean): void {
      after(BYTE_BITS, () => {
        txEmptyIfLow();
        completeWrite.call(i2c, ack);
      });
    };
    i2c.completeRead = function (value: number): void {
      after(BYTE_BITS, () => {
        txEmptyIfLow();
        completeRead.call(i2c, value);
      });
    };
    i2c.completeStop = function (): void {
      after(CONDITION_BITS, () => completeStop.call(i2c));
    };
  }
}
