/** Deterministic PRNG for the fuzzers (xorshift32), independent of the simulator's own. */
export interface FuzzRng {
  u32(): number;
  /** 0 … n-1. */
  int(n: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  pick<T>(a: readonly T[]): T;
}

export function fuzzRng(seed: number): FuzzRng {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return { u32: next, int: (n) => next() % n, chance: (p) => next() / 4294967296 < p, pick: (a) => a[next() % a.length]! };
}
