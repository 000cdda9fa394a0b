import type { HostIo, HostIoToken } from '../time.ts';

/**
 * The clock policy (ARCHITECTURE.md "Time"), in one place. Simulated time may jump ahead while
 * the CPU sleeps, except while host I/O is pending: then simulated time is held to wall-clock
 * time measured from the moment the I/O began, so the firmware's timeouts see real latencies.
 */
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
   * The CPU stopped running and sleeps: when it ran slower than real time, simulated time lags
   * the wall clock. From here on the wait runs at wall-clock pace, instead of the lag being
   * spent in one jump (a firmware timeout would then fire within a few wall milliseconds).
   */
  idleBegins(): void {
    if (this.pending.size === 0) return;
    const sim = this.simNanos();
    if (sim < this.limitNanos()) {
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

  /** The latest simulated time the board may reach now (Infinity when nothing is pending). */
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
