/**
 * Which way conditional branches went while their code was interpreted: one saturating counter
 * per halfword of SRAM and of the first 2 MB of flash (the Pico W's W25Q16, through any XIP
 * alias), +1 taken, −1 not. The translator follows a trace the way a branch went before its code
 * became hot (a guess only: the generated code leaves the block when the branch goes the other way).
 */
import { SRAM_BASE } from './translate.ts';

const PROFILED_FLASH_BYTES = 2 * 1024 * 1024;
const SATURATE = 127;

export class BranchProfile {
  private readonly counts: Int8Array;
  private readonly sramHalves: number;

  constructor(sramBytes: number) {
    this.sramHalves = sramBytes >>> 1;
    this.counts = new Int8Array(this.sramHalves + (PROFILED_FLASH_BYTES >>> 1));
  }

  /** The counter of the halfword at `pc`, or -1 (not profiled: ROM, flash beyond 2 MB). */
  private index(pc: number): number {
    const so = (pc - SRAM_BASE) >>> 1;
    if (so < this.sramHalves) return so;
    const fo = pc & 0xffffff;
    if (pc >>> 26 === 4 && fo < PROFILED_FLASH_BYTES) return this.sramHalves + (fo >>> 1);
    return -1;
  }

  /** The conditional branch at `pc` was taken or not. */
  record(pc: number, taken: boolean): void {
    const i = this.index(pc);
    if (i < 0) return;
    const v = this.counts[i]!;
    if (taken) {
      if (v < SATURATE) this.counts[i] = v + 1;
    } else if (v > -SATURATE) this.counts[i] = v - 1;
  }

  /** How consistently the branch at `pc` went one way: −127 (never taken) … 127 (always taken). */
  bias(pc: number): number {
    const i = this.index(pc);
    return i < 0 ? 0 : this.counts[i]!;
  }
}
