/**
 * SPI (ARM PL022, RP2040 datasheet §4.4) at its bit rate: a frame of DSS + 1 bits takes that many
 * periods of SCLK = clk_peri / (CPSDVSR × (1 + SCR)) (§4.4.2.4) in simulated time, so a 4 KiB
 * write at 1 MHz takes 32.8 ms. rp2040js completes a frame as soon as it leaves the FIFO; here the
 * completion (RX FIFO entry, BSY, the next frame, DREQs) waits for the frame's last bit. A device
 * on the bus answers through rp2040js's `onTransmit`/`completeTransmit` as before: one that answers
 * later than the frame time delays the frame to then.
 */
import type { RP2040 } from 'rp2040js';

interface Alarm {
  schedule(delayNanos: number): void;
}
interface Clock {
  readonly nanos: number;
  createAlarm(cb: () => void): Alarm;
}
/** The fields of rp2040js's RPSPI used here. */
interface Spi {
  readonly clockFrequency: number;
  readonly dataBits: number;
  busy: boolean;
  readonly txFIFO: { readonly empty: boolean };
  doTX(): void;
  completeTransmit(rx: number): void;
}

/** Nanoseconds one frame of `bits` takes at `hz` (0 when the clock is not set up). */
export function spiFrameNanos(bits: number, hz: number): number {
  return hz > 0 ? (bits * 1e9) / hz : 0;
}

export function timeSpi(mcu: RP2040): void {
  const clock = mcu.clock as unknown as Clock;
  for (const spi of mcu.spi as unknown as Spi[]) {
    const doTX = spi.doTX;
    const complete = spi.completeTransmit;
    let frameEnd = 0;
    let rx = 0;
    const alarm = clock.createAlarm(() => complete.call(spi, rx));
    spi.doTX = function (this: Spi): void {
      // a frame starts when the shifter is idle and the TX FIFO has one
      if (!this.busy && !this.txFIFO.empty) frameEnd = clock.nanos + spiFrameNanos(this.dataBits, this.clockFrequency);
      doTX.call(this);
    };
    spi.completeTransmit = function (this: Spi, value: number): void {
      const wait = frameEnd - clock.nanos;
      if (wait <= 0) {
        complete.call(this, value);
        return;
      }
      rx = value;
      alarm.schedule(wait);
    };
  }
}
