/**
 * Simulated time as the modules outside the CPU see it. The board owns the one clock
 * (rp2040js's, nanoseconds since power-on) and the clock policy; network, sensors and the
 * CYW43 model schedule work on it and report pending host I/O through `HostIo`.
 */
export interface SimTimer {
  cancel(): void;
}

export interface SimClock {
  /** Simulated nanoseconds since power-on. */
  readonly nanos: number;
  /** Run `cb` after `delayNanos` of simulated time. */
  schedule(delayNanos: number, cb: () => void): SimTimer;
}

/**
 * The clock policy's door for host I/O: while any token is held, simulated time must not run
 * ahead of wall-clock time (the firmware's timeouts would fire before the host answers).
 */
export interface HostIo {
  /** Mark host I/O as pending (an open socket, a lookup, a connect); call `release` when done. */
  begin(label: string): HostIoToken;
  /** Wake the board's run loop: the host delivered something the board should see now. */
  notify(): void;
}

export interface HostIoToken {
  release(): void;
}

/** A HostIo that ignores everything: for unit tests of modules that take one. */
export const NO_HOST_IO: HostIo = {
  begin: () => ({ release: () => undefined }),
  notify: () => undefined,
};

/**
 * A manual clock for unit tests: time moves only when the test calls `advance`.
 */
export class ManualClock implements SimClock {
  private now = 0;
  private timers: { at: number; seq: number; cb: () => void; live: boolean }[] = [];
  private seq = 0;

  get nanos(): number {
    return this.now;
  }

  schedule(delayNanos: number, cb: () => void): SimTimer {
    const t = { at: this.now + Math.max(0, delayNanos), seq: this.seq++, cb, live: true };
    this.timers.push(t);
    return { cancel: () => void (t.live = false) };
  }

  /** Advance by `nanos`, firing due timers in order. */
  advance(nanos: number): void {
    const end = this.now + nanos;
    for (;;) {
      this.timers = this.timers.filter((t) => t.live);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      next.live = false;
      this.now = next.at;
      next.cb();
    }
    this.now = end;
  }
}
