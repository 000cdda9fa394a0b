/**
 * DMA transfers paced by the bus (RP2040 datasheet §2.5.1, §2.5.3): a channel whose TREQ is
 * permanent (memory to memory) moves one transfer per system clock at most, and all such channels
 * share that bus slot, so a 16 KiB word copy (4096 transfers) takes about 33 µs at 125 MHz instead
 * of no time at all. rp2040js schedules every transfer at zero delay; here a permanent-TREQ
 * channel's transfers are done in batches of up to BATCH_TRANSFERS on an alarm at the simulated
 * time the batch ends (a CPU reading TRANS_COUNT meanwhile sees it move in those steps).
 *
 * CHAN_ABORT leaves TRANS_COUNT at 0 (see `abort` below).
 *
 * A DREQ-paced channel keeps rp2040js's scheduling: it moves a transfer as soon as its peripheral
 * asks, which on hardware takes a few cycles, far below the peripheral's own rate (PIO, SPI and
 * UART FIFOs are paced by their own models in simulated time).
 */
import type { RP2040 } from 'rp2040js';
import { clkSysHz, dmaBlock, type DmaChannel } from './pio-shapes.ts';

/** CTRL_TRIG.TREQ_SEL 0x3f: permanent request (§2.5.7). */
export const TREQ_PERMANENT = 0x3f;
/** CTRL bits: EN (0), BUSY (24). */
const CTRL_EN = 1 << 0;
const CTRL_BUSY = 1 << 24;
/** Transfers done per alarm: 32 transfers = 256 ns at 125 MHz. */
const BATCH_TRANSFERS = 32;

interface Alarm {
  schedule(delayNanos: number): void;
  cancel(): void;
}
interface Clock {
  readonly nanos: number;
  createAlarm(cb: () => void): Alarm;
}

export class TimedDma {
  /** Simulated time the bus is free for the next memory-to-memory transfer. */
  private busFree = 0;

  constructor(private readonly mcu: RP2040) {
    const clock = mcu.clock as unknown as Clock;
    for (const ch of dmaBlock(mcu).channels) this.pace(ch, clock);
  }

  private pace(ch: DmaChannel, clock: Clock): void {
    const schedule = ch.scheduleTransfer;
    const abort = ch.abort;
    let batch = 0;
    let inBatch = false;
    const alarm = clock.createAlarm(() => {
      inBatch = true;
      try {
        for (let i = 0; i < batch; i++) {
          if (!(ch.ctrl & CTRL_EN) || !(ch.ctrl & CTRL_BUSY) || ch.transCount <= 0) break;
          ch.transfer();
        }
      } finally {
        inBatch = false;
      }
      if (ch.ctrl & CTRL_EN && ch.ctrl & CTRL_BUSY && ch.transCount > 0) ch.scheduleTransfer();
    });
    ch.scheduleTransfer = (): void => {
      if (ch.treq !== TREQ_PERMANENT) {
        schedule.call(ch);
        return;
      }
      if (inBatch) return; // the batch goes on
      const now = clock.nanos;
      batch = Math.min(ch.transCount >>> 0, BATCH_TRANSFERS);
      const end = Math.max(now, this.busFree) + (batch * 1e9) / clkSysHz(this.mcu);
      this.busFree = end;
      alarm.schedule(end - now);
    };
    ch.abort = (): void => {
      alarm.cancel();
      abort.call(ch);
      // An aborted channel reads TRANS_COUNT 0, as measured on the RP2040 (pico-feedback #446);
      // rp2040js keeps the remaining count, which a program claiming the channel next then reads.
      ch.transCount = 0;
    };
  }
}
