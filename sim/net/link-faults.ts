/**
 * One direction of one link: loss, latency, jitter (which reorders), a bandwidth cap and the
 * link-down switch, all on simulated time. With no faults set, frames pass through synchronously.
 */
import type { SimClock } from '../time.ts';
import type { LinkFaults } from './policy.ts';
import { Rng } from './rng.ts';

const MS = 1_000_000;
/** Frames queued behind the bandwidth cap beyond this much delay are dropped (tail drop). */
const MAX_QUEUE_DELAY_NANOS = 2_000 * MS;

export class LinkConditioner {
  private faults: Required<Omit<LinkFaults, 'seed'>> = { latencyMs: 0, jitterMs: 0, lossPercent: 0, bandwidthKbps: 0 };
  private rng: Rng;
  private busyUntil = 0;
  down = false;
  readonly stats = { passed: 0, lost: 0, droppedDown: 0, droppedQueue: 0 };

  constructor(
    private readonly clock: SimClock,
    faults: LinkFaults = {},
    seed = 1,
  ) {
    this.rng = new Rng(faults.seed ?? seed);
    this.set(faults);
  }

  set(f: LinkFaults): void {
    this.faults = {
      latencyMs: Math.max(0, f.latencyMs ?? 0),
      jitterMs: Math.max(0, f.jitterMs ?? 0),
      lossPercent: Math.min(100, Math.max(0, f.lossPercent ?? 0)),
      bandwidthKbps: Math.max(0, f.bandwidthKbps ?? 0),
    };
    if (f.seed !== undefined) this.rng = new Rng(f.seed);
  }

  get current(): LinkFaults {
    return { ...this.faults };
  }

  send(frame: Uint8Array, deliver: (frame: Uint8Array) => void): void {
    if (this.down) {
      this.stats.droppedDown++;
      return;
    }
    const f = this.faults;
    if (f.lossPercent > 0 && this.rng.next() * 100 < f.lossPercent) {
      this.stats.lost++;
      return;
    }
    let delay = f.latencyMs * MS;
    if (f.jitterMs > 0) delay += this.rng.next() * f.jitterMs * MS;
    if (f.bandwidthKbps > 0) {
      const now = this.clock.nanos;
      const start = Math.max(now, this.busyUntil);
      if (start - now > MAX_QUEUE_DELAY_NANOS) {
        this.stats.droppedQueue++;
        return;
      }
      // Serialisation time: bits / (kbit/s * 1000) seconds.
      this.busyUntil = start + ((frame.length * 8) / (f.bandwidthKbps * 1000)) * 1e9;
      delay += this.busyUntil - now;
    }
    this.stats.passed++;
    if (delay <= 0) {
      deliver(frame);
      return;
    }
    this.clock.schedule(delay, () => {
      if (!this.down) deliver(frame);
      else this.stats.droppedDown++;
    });
  }
}
