/**
 * The four bit routines of the function table (RP2040-BOOTROM §3, §7): pure functions on u32.
 * Results are register values (uint32).
 */

/** popcount32 ('P3'): number of 1 bits. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** reverse32 ('R3'): bit order reversed. */
export function reverse32(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}

/** clz32 ('L3'): leading zeros; 32 for 0. */
export function clz32(x: number): number {
  return Math.clz32(x);
}

/** ctz32 ('T3'): trailing zeros; 32 for 0. */
export function ctz32(x: number): number {
  x >>>= 0;
  if (x === 0) return 32;
  return 31 - Math.clz32(x & -x);
}
