/**
 * Shared helpers for the CPU translator tests: fresh chips with identical memory, a seeded
 * random source, and state copy/compare between a chip run by the interpreter and one run by
 * translated code.
 */
import type { RP2040 } from 'rp2040js';
import { PicoWRp2040 } from '../../sim/board/rp2040-chip.ts';
import { noteDefaultHooks } from '../../sim/cpu/engine.ts';

export const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** The chip as the board builds it (2 MB flash, repeated across the XIP window). */
export function quietChip(): RP2040 {
  const m = new PicoWRp2040();
  noteDefaultHooks(m.core);
  (m as unknown as { logger: typeof QUIET }).logger = QUIET;
  return m;
}

/** xorshift32: small, fast, reproducible. */
export class Rng {
  constructor(private s: number) {
    if (!s) this.s = 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.u32() % n;
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
}

export type Core = RP2040['core'];

export const SCALARS = ['N', 'Z', 'C', 'V', 'PM', 'SPSEL', 'currentMode', 'IPSR', 'interruptsUpdated', 'waiting', 'cycles'] as const;

export function copyCore(from: Core, to: Core): void {
  to.registers.set(from.registers);
  const f = from as unknown as Record<string, unknown>;
  const t = to as unknown as Record<string, unknown>;
  for (const k of SCALARS) t[k] = f[k];
  to.bankedSP = from.bankedSP;
}

/** Differences between two cores, as readable strings (empty = equal). */
export function diffCores(a: Core, b: Core): string[] {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (a.registers[i] !== b.registers[i]) out.push(`r${i}: interp 0x${a.registers[i].toString(16)} jit 0x${b.registers[i].toString(16)}`);
  }
  const fa = a as unknown as Record<string, unknown>;
  const fb = b as unknown as Record<string, unknown>;
  for (const k of SCALARS) if (fa[k] !== fb[k]) out.push(`${k}: interp ${String(fa[k])} jit ${String(fb[k])}`);
  if (a.bankedSP !== b.bankedSP) out.push(`bankedSP differs`);
  return out;
}

export function writeHalfwords(m: RP2040, addr: number, hws: number[]): void {
  const o = addr - 0x20000000;
  for (let i = 0; i < hws.length; i++) {
    m.sram[o + 2 * i] = hws[i] & 0xff;
    m.sram[o + 2 * i + 1] = (hws[i] >> 8) & 0xff;
  }
}

/** A quiet chip with `code` at `base` (SRAM), about to run it: the given registers set, SP at the top of SRAM. */
export function chipWithCode(base: number, code: number[], regs: Record<number, number>): RP2040 {
  const m = quietChip();
  writeHalfwords(m, base, code);
  const r = m.core.registers;
  for (const [i, v] of Object.entries(regs)) r[+i] = v;
  r[13] = 0x20040000;
  r[15] = base;
  return m;
}
