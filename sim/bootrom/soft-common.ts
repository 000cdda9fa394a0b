/**
 * Helpers shared by the soft-float and soft-double ROM entries: bit views, scaling by powers of
 * two, and the ROM's float→integer rule (floor, then saturate; RP2040-BOOTROM §6.2).
 */

/** What a soft-float/soft-double entry may touch: the register file and the APSR flags. */
export interface SoftCore {
  readonly registers: Uint32Array;
  N: boolean;
  Z: boolean;
  C: boolean;
  V: boolean;
}

/** One table entry: reads its arguments from r0..r3 and writes only its result registers. */
export type SoftEntry = (core: SoftCore) => void;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('the soft-float ROM needs a little-endian host');
}

export const f32 = new Float32Array(1);
export const u32f = new Uint32Array(f32.buffer);
export const f64 = new Float64Array(1);
export const u32d = new Uint32Array(f64.buffer);

export const TWO32 = 4294967296;
export const TWO31 = 2147483648;
export const TWO63 = 9223372036854775808;
export const TWO64 = 18446744073709551616;

/** x · 2^n for any integer n, without overflowing the power of two on the way. */
export function ldexp(x: number, n: number): number {
  if (n > 2200) n = 2200;
  else if (n < -2200) n = -2200;
  while (n > 1000) {
    x *= 2 ** 1000;
    n -= 1000;
  }
  while (n < -1000) {
    x *= 2 ** -1000;
    n += 1000;
  }
  return x * 2 ** n;
}

/**
 * floor(x · 2^n) saturated to int32, returned as the register value (uint32).
 * `x` is already flushed (zero, infinity or a finite value).
 */
export function toInt32(x: number, n: number): number {
  if (x === 0) return 0;
  let v = n === 0 ? x : ldexp(x, n);
  if (v === 0) return x < 0 ? 0xffffffff : 0; // a negative value scaled below the double range floors to −1
  v = Math.floor(v);
  if (v >= TWO31) return 0x7fffffff;
  if (v < -TWO31) return 0x80000000;
  return v >>> 0;
}

/** floor(x · 2^n) saturated to uint32; every negative input (also −0, −∞) gives 0. */
export function toUint32(x: number, n: number): number {
  if (x <= 0) return 0;
  const v = Math.floor(n === 0 ? x : ldexp(x, n));
  if (v >= TWO32) return 0xffffffff;
  return v;
}

/** floor(x · 2^n) saturated to int64, written to r0 (low) and r1 (high). */
export function toInt64(r: Uint32Array, x: number, n: number): void {
  if (x === 0) {
    r[0] = 0;
    r[1] = 0;
    return;
  }
  let v = n === 0 ? x : ldexp(x, n);
  if (v === 0) v = x < 0 ? -1 : 0;
  v = Math.floor(v);
  if (v >= TWO63) {
    r[0] = 0xffffffff;
    r[1] = 0x7fffffff;
  } else if (v < -TWO63) {
    r[0] = 0;
    r[1] = 0x80000000;
  } else {
    const hi = Math.floor(v / TWO32);
    r[0] = v - hi * TWO32;
    r[1] = hi >>> 0;
  }
}

/** floor(x · 2^n) saturated to uint64; negative inputs give 0. */
export function toUint64(r: Uint32Array, x: number, n: number): void {
  if (x <= 0) {
    r[0] = 0;
    r[1] = 0;
    return;
  }
  const v = Math.floor(n === 0 ? x : ldexp(x, n));
  if (v >= TWO64) {
    r[0] = 0xffffffff;
    r[1] = 0xffffffff;
  } else {
    const hi = Math.floor(v / TWO32);
    r[0] = v - hi * TWO32;
    r[1] = hi;
  }
}

/** The 64-bit integer in lo/hi as a BigInt, signed or unsigned. */
export function big64(lo: number, hi: number, signed: boolean): bigint {
  const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** Number of significant bits of a non-negative BigInt. */
export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/**
 * A non-negative BigInt as a double, rounded to odd at 53 bits (truncate and set the last bit
 * when anything was cut off). Rounding that double once more to 24 bits gives the correctly
 * rounded float, which rounding to nearest at 53 bits first would not always give.
 */
export function bigToNumberRoundOdd(v: bigint): number {
  const len = bitLength(v);
  if (len <= 53) return Number(v);
  const sh = BigInt(len - 53);
  let t = v >> sh;
  if (t << sh !== v) t |= 1n;
  return Number(t) * 2 ** (len - 53);
}

/** Sign-magnitude comparison key used by the non-flushing compares (±0 compare equal). */
export function cmpResult(a: number, b: number): number {
  return a < b ? 0xffffffff : a > b ? 1 : 0;
}

/** APSR as after `CMP result, #0` (RP2040-BOOTROM §6.2: N if −1, Z if 0, C = 1, V = 0). */
export function setCmpFlags(core: SoftCore, result: number): void {
  core.N = result === 0xffffffff;
  core.Z = result === 0;
  core.C = true;
  core.V = false;
}
