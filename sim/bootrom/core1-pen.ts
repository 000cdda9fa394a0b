/**
 * The core-1 holding pen of the boot ROM (RP2040-BOOTROM §10.1) as a state machine reacting to
 * inter-core FIFO words, so core 1 need not execute while it waits.
 *
 * S0: drain core 1's RX FIFO, push 0 to core 0 (waiting while the TX FIFO is full), SEV → S1.
 * S1: word 1 → echo, S2; anything else → S0.
 * S2/S3/S4: 0 → S0; else VTOR / SP / entry := word, echo. After S4's echo: launch.
 */

/** What the pen needs from the SIO FIFO of core 1 (the board wires it). */
export interface PenFifo {
  /** Pops one word from core 1's RX FIFO (sent by core 0), or undefined when empty. */
  pop(): number | undefined;
  /** Pushes a word to core 0 (core 1's TX FIFO); returns false when the FIFO is full. */
  push(word: number): boolean;
  /** Send event (SEV) after a push. */
  sev?(): void;
  /** Start core 1 at `entry` with VTOR and MSP as received (entry has the Thumb bit set). */
  launch(vtor: number, sp: number, entry: number): void;
}

export type PenState = 'S0' | 'S1' | 'S2' | 'S3' | 'S4' | 'launched';

export class Core1Pen {
  private st: PenState = 'S0';
  /** A word waiting for space in the TX FIFO, and the state to enter once it is pushed. */
  private pendingPush: number | undefined;
  private afterPush: PenState = 'S1';
  private vtor = 0;
  private sp = 0;
  private entry = 0;
  private launchAfterPush = false;

  constructor(private readonly fifo: PenFifo) {}

  get state(): PenState {
    return this.st;
  }

  /** True while the pen is waiting to push a word (TX FIFO full). */
  get blocked(): boolean {
    return this.pendingPush !== undefined;
  }

  /** Core 1 (re)enters the pen: power-on, core-1 reset or wait_for_vector. */
  reset(): void {
    this.launchAfterPush = false;
    this.pendingPush = undefined;
    this.enterS0();
    this.poll();
  }

  /**
   * Runs the state machine as far as the FIFOs allow. Call after core 0 pushed a word to core 1
   * or popped one from core 1 (space in the TX FIFO).
   */
  poll(): void {
    for (;;) {
      if (this.pendingPush !== undefined) {
        if (!this.fifo.push(this.pendingPush)) return;
        this.pendingPush = undefined;
        this.fifo.sev?.();
        this.st = this.afterPush;
        if (this.launchAfterPush) {
          this.launchAfterPush = false;
          this.st = 'launched';
          this.fifo.launch(this.vtor, this.sp, this.entry);
          return;
        }
        continue;
      }
      if (this.st === 'launched') return;
      if (this.st === 'S0') {
        this.enterS0();
        continue;
      }
      const w = this.fifo.pop();
      if (w === undefined) return;
      this.onWord(w >>> 0);
    }
  }

  private enterS0(): void {
    while (this.fifo.pop() !== undefined) {
      /* drain */
    }
    this.pendingPush = 0;
    this.afterPush = 'S1';
    this.st = 'S0';
  }

  private echo(w: number, next: PenState): void {
    this.pendingPush = w;
    this.afterPush = next;
  }

  private onWord(w: number): void {
    switch (this.st) {
      case 'S1':
        if (w === 1) this.echo(1, 'S2');
        else this.enterS0();
        return;
      case 'S2':
        if (w === 0) return this.enterS0();
        this.vtor = w;
        this.echo(w, 'S3');
        return;
      case 'S3':
        if (w === 0) return this.enterS0();
        this.sp = w;
        this.echo(w, 'S4');
        return;
      case 'S4':
        if (w === 0) return this.enterS0();
        this.entry = w;
        this.echo(w, 'S4');
        this.launchAfterPush = true;
        return;
      default:
        return;
    }
  }
}
