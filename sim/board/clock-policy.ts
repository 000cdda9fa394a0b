import type { HostIo, HostIoToken } from '../time.ts';

/**
 * The clock policy (ARCHITECTURE.md "Time"), in one place: pace waits, never computation.
 *
 * Code that runs is never held back: simulated time advances with the instructions executed, as
 * fast as the host runs them, and may run ahead of the wall clock. A wait — every core asleep
 * (WFI/WFE) or polling with nothing to do until the next alarm — may jump simulated time to that
 * alarm, except while host I/O is pending (an open host socket, a DNS lookup, a tool on a port):
 * then the wait lasts its own duration in wall time, measured from the moment it began, so the
 * firmware's timeouts see real host latencies.
 */
/** Lag behind the wall clock that a wait may catch up (timer lateness), in nanoseconds. */
export const CATCH_UP_NANOS = 20e6;

export class ClockPolicy implements HostIo {
  private readonly pending = new Map<HostIoToken, string>();
  private anchorSim = 0;
  private anchorWall = 0;
  /** Called when the run loop should look again (host data arrived, I/O ended). */
  onWake: (() => void) | null = null;

  constructor(
    private readonly simNanos: () => number,
    /** Wall clock in milliseconds (injectable for tests). */
    private readonly wallMs: () => number = () => performance.now(),
  ) {}

  begin(label: string): HostIoToken {
    if (this.pending.size === 0) {
      this.anchorSim = this.simNanos();
      this.anchorWall = this.wallMs();
    }
    const token: HostIoToken = {
      release: () => {
        if (this.pending.delete(token) && this.pending.size === 0) this.notify();
      },
    };
    this.pending.set(token, label);
    return token;
  }

  notify(): void {
    this.onWake?.();
  }

  get hostIoPending(): boolean {
    return this.pending.size > 0;
  }

  /** What is pending, for diagnostics. */
  get pendingLabels(): string[] {
    return [...this.pending.values()];
  }

  /**
   * A wait begins (the cores went to sleep, or a poll with nothing to do was found). Simulated
   * time follows the wall clock from here, so the wait lasts its own duration: when code ran
   * ahead of the wall clock since the anchor, or lags it by more than CATCH_UP_NANOS (slow
   * computation), the anchor moves to now. A small lag (a wake-up that came a few wall
   * milliseconds late, within a wait made of many short ones) is caught up instead, so a long
   * sleep interrupted by timer ticks still lasts its own duration in wall time.
   */
  waitBegins(): void {
    if (this.pending.size === 0) return;
    const sim = this.simNanos();
    const limit = this.limitNanos();
    if (sim > limit || limit - sim > CATCH_UP_NANOS) {
      this.anchorSim = sim;
      this.anchorWall = this.wallMs();
    }
  }

  /**
   * The board stood still (a debugger halted it): simulated time did not pass meanwhile, so the
   * wall clock's lead is forgiven and pacing goes on from now.
   */
  resync(): void {
    if (this.pending.size === 0) return;
    this.anchorSim = this.simNanos();
    this.anchorWall = this.wallMs();
  }

  /**
   * The latest simulated time a wait may reach now (Infinity when nothing is pending). Only
   * waits are held to it; running code is not.
   */
  limitNanos(): number {
    if (this.pending.size === 0) return Infinity;
    return this.anchorSim + (this.wallMs() - this.anchorWall) * 1e6;
  }

  /** Wall milliseconds until simulated time `targetNanos` is allowed (0 if already allowed). */
  wallMsUntil(targetNanos: number): number {
    if (this.pending.size === 0) return 0;
    const at = this.anchorWall + (targetNanos - this.anchorSim) / 1e6;
    return Math.max(0, at - this.wallMs());
  }
}
