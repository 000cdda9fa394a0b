/**
 * The 32 soft-float (SF) table entries with the ROM's numeric rules (RP2040-BOOTROM §6):
 * inputs are classified Z (±0, denormal → zero of that sign), I (±∞, NaN → infinity of the NaN's
 * sign) or N; results are never NaN; basic ops round to nearest even with an unbounded exponent and
 * give signed zero below 2^-126; float→int conversions floor and saturate.
 */
import {
  big64,
  bigToNumberRoundOdd,
  cmpResult,
  f32,
  f64,
  ldexp,
  setCmpFlags,
  toInt32,
  toInt64,
  toUint32,
  toUint64,
  u32d,
  u32f,
  type SoftCore,
  type SoftEntry,
} from './soft-common.ts';

const SIGN = 0x80000000;
const F_INF = 0x7f800000;
const F_MIN_NORMAL_BITS = 0x00800000;
/** 2^-126, the smallest normal float. */
export const F_MIN_NORMAL = 2 ** -126;
/**
 * Underflow thresholds of the ROM (mufplib, B2). A result below 2^-126 becomes zero, except:
 * - fmul, double→float and the generic packer: when its significand truncated to 24 bits is all
 *   ones, i.e. |r| ≥ 2^-126 − 2^-150, it becomes the smallest normal;
 * - fdiv: when the quotient rounded to 24 bits (nearest even) reaches 2^-126, i.e.
 *   |r| ≥ 2^-126 − 2^-151.
 */
export const F_UNDERFLOW_TRUNC = 2 ** -126 - 2 ** -150;
export const F_UNDERFLOW_ROUND = 2 ** -126 - 2 ** -151;

/** A float register value as a number, with the ROM's Z/I input classes applied. */
export function fIn(bits: number): number {
  const e = bits & F_INF;
  if (e === 0) return bits & SIGN ? -0 : 0;
  if (e === F_INF) return bits & SIGN ? -Infinity : Infinity;
  u32f[0] = bits;
  return f32[0]!;
}

/** Bits of a value that is already a float (or ±∞/±0). */
function fBits(x: number): number {
  f32[0] = x;
  return u32f[0]!;
}

/**
 * Packs a result: `r` is the exact result, or one rounded at ≥ 53 bits that rounds to the same
 * float and compares the same against `threshold`. Below 2^-126: the signed smallest normal if
 * |r| ≥ threshold, else zero (signed, or +0 for the generic packer); overflow → signed ∞.
 */
export function fPack(r: number, threshold: number, generic = false): number {
  const a = r < 0 ? -r : r;
  if (a < F_MIN_NORMAL) {
    const s = r < 0 || Object.is(r, -0) ? SIGN : 0;
    if (a !== 0 && a >= threshold) return (s | F_MIN_NORMAL_BITS) >>> 0;
    return generic ? 0 : s >>> 0;
  }
  if (r !== r) return F_INF; // never reached: inputs are flushed, and the ROM never returns NaN
  return fBits(Math.fround(r));
}

/** Generic packing path (fix→float, 64-bit→float, scientific functions): underflow → +0. */
export function fPackGeneric(r: number): number {
  if (r !== r) return F_INF;
  return fPack(r, F_UNDERFLOW_TRUNC, true);
}

// ---- arithmetic on classified values ----

export function fadd(a: number, b: number): number {
  const x = fIn(a);
  const y = fIn(b);
  if (x === Infinity || x === -Infinity) {
    if ((y === Infinity || y === -Infinity) && x !== y) return F_INF; // ∞ − ∞ → +∞
    return x > 0 ? F_INF : (SIGN | F_INF) >>> 0;
  }
  if (y === Infinity) return F_INF;
  if (y === -Infinity) return (SIGN | F_INF) >>> 0;
  return fPack(x + y, F_UNDERFLOW_ROUND);
}

export function fsub(a: number, b: number): number {
  return fadd(a, (b ^ SIGN) >>> 0);
}

export function fmul(a: number, b: number): number {
  const x = fIn(a);
  const y = fIn(b);
  const s = (a ^ b) & SIGN;
  if (x === Infinity || x === -Infinity || y === Infinity || y === -Infinity) return (s | F_INF) >>> 0;
  if (x === 0 || y === 0) return s >>> 0;
  return fPack(x * y, F_UNDERFLOW_TRUNC);
}

export function fdiv(a: number, b: number): number {
  const x = fIn(a);
  const y = fIn(b);
  const s = (a ^ b) & SIGN;
  const xInf = x === Infinity || x === -Infinity;
  if (y === 0) return (s | F_INF) >>> 0;
  if (y === Infinity || y === -Infinity) return (xInf ? s | F_INF : s) >>> 0;
  if (x === 0) return s >>> 0;
  if (xInf) return (s | F_INF) >>> 0;
  return fPack(x / y, F_UNDERFLOW_ROUND);
}

export function fsqrt(a: number): number {
  const x = fIn(a);
  if (x === 0) return a & SIGN ? SIGN : 0;
  if (x < 0) return (SIGN | F_INF) >>> 0;
  if (x === Infinity) return F_INF;
  return fBits(Math.fround(Math.sqrt(x)));
}

/** Flushing compare (slot 0x54): −1/0/+1 as a register value. */
export function fcmp(a: number, b: number): number {
  return cmpResult(fIn(a), fIn(b));
}

function fKey(bits: number): number {
  const m = bits & 0x7fffffff;
  return bits & SIGN ? -m : m;
}

/** Non-flushing compare of the encodings as sign-magnitude numbers (slots 0x10/0x14). */
export function fcmpFast(a: number, b: number): number {
  return cmpResult(fKey(a), fKey(b));
}

/** float → double (slot 0x7C): exact, Z → signed 0, I → signed ∞. Returns the double value. */
export function float2double(a: number): number {
  return fIn(a);
}

// ---- scientific functions: JS Math plus the ROM's known special values ----

export function fsinVal(x: number): number {
  return Math.sin(x);
}

export function fexpVal(x: number): number {
  return Math.exp(x);
}

export function flnVal(x: number): number {
  if (x <= 0) return -Infinity;
  return Math.log(x);
}

/** atan2 with the ROM's value for (−0, +0): a tiny negative number, −2^-29 ([B1] probe). */
export function fatan2Val(y: number, x: number): number {
  if (y === 0 && x === 0 && Object.is(y, -0) && !Object.is(x, -0)) return -(2 ** -29);
  return Math.atan2(y, x);
}

// ---- table entries ----

function f2(fn: (a: number, b: number) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    r[0] = fn(r[0]!, r[1]!);
  };
}
function f1(fn: (a: number) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    r[0] = fn(r[0]!);
  };
}
function sci(fn: (x: number) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    r[0] = fPackGeneric(fn(fIn(r[0]!)));
  };
}
function f64ToRegs(r: Uint32Array, v: number): void {
  f64[0] = v;
  r[0] = u32d[0]!;
  r[1] = u32d[1]!;
}

/** SF table entries by slot (offset / 4). */
export const SF_ENTRIES: readonly SoftEntry[] = [
  /* 0x00 fadd */ f2(fadd),
  /* 0x04 fsub */ f2(fsub),
  /* 0x08 fmul */ f2(fmul),
  /* 0x0C fdiv */ f2(fdiv),
  /* 0x10 fcmp_fast */ f2(fcmpFast),
  /* 0x14 fcmp_fast_flags */ (c: SoftCore) => {
    const r = c.registers;
    const v = fcmpFast(r[0]!, r[1]!);
    r[0] = v;
    setCmpFlags(c, v);
  },
  /* 0x18 fsqrt */ f1(fsqrt),
  /* 0x1C float2int */ f1((a) => toInt32(fIn(a), 0)),
  /* 0x20 float2fix */ f2((a, n) => toInt32(fIn(a), n | 0)),
  /* 0x24 float2uint */ f1((a) => toUint32(fIn(a), 0)),
  /* 0x28 float2ufix */ f2((a, n) => toUint32(fIn(a), n | 0)),
  /* 0x2C int2float */ f1((v) => fBits(Math.fround(v | 0))),
  /* 0x30 fix2float */ f2((v, n) => fPackGeneric(ldexp(v | 0, -(n | 0)))),
  /* 0x34 uint2float */ f1((v) => fBits(Math.fround(v >>> 0))),
  /* 0x38 ufix2float */ f2((v, n) => fPackGeneric(ldexp(v >>> 0, -(n | 0)))),
  /* 0x3C fcos */ sci(Math.cos),
  /* 0x40 fsin */ (c: SoftCore) => {
    const r = c.registers;
    const x = fIn(r[0]!);
    r[0] = fPackGeneric(fsinVal(x));
    r[1] = fPackGeneric(Math.cos(x)); // the ROM's fsin leaves cos(x) in r1
  },
  /* 0x44 ftan */ sci(Math.tan),
  /* 0x48 fsincos */ (c: SoftCore) => {
    const r = c.registers;
    const x = fIn(r[0]!);
    r[0] = fPackGeneric(fsinVal(x));
    r[1] = fPackGeneric(Math.cos(x));
  },
  /* 0x4C fexp */ sci(fexpVal),
  /* 0x50 fln */ sci(flnVal),
  /* 0x54 fcmp */ f2(fcmp),
  /* 0x58 fatan2 */ f2((y, x) => fPackGeneric(fatan2Val(fIn(y), fIn(x)))),
  /* 0x5C int642float */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = int64ToFloat(r[0]!, r[1]!, true, 0);
  },
  /* 0x60 fix642float */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = int64ToFloat(r[0]!, r[1]!, true, r[2]! | 0);
  },
  /* 0x64 uint642float */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = int64ToFloat(r[0]!, r[1]!, false, 0);
  },
  /* 0x68 ufix642float */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = int64ToFloat(r[0]!, r[1]!, false, r[2]! | 0);
  },
  /* 0x6C float2int64 */ (c: SoftCore) => toInt64(c.registers, fIn(c.registers[0]!), 0),
  /* 0x70 float2fix64 */ (c: SoftCore) => toInt64(c.registers, fIn(c.registers[0]!), c.registers[1]! | 0),
  /* 0x74 float2uint64 */ (c: SoftCore) => toUint64(c.registers, fIn(c.registers[0]!), 0),
  /* 0x78 float2ufix64 */ (c: SoftCore) => toUint64(c.registers, fIn(c.registers[0]!), c.registers[1]! | 0),
  /* 0x7C float2double */ (c: SoftCore) => f64ToRegs(c.registers, float2double(c.registers[0]!)),
];

/** (lo, hi) as a 64-bit integer · 2^-n, correctly rounded to float, generic packing. */
export function int64ToFloat(lo: number, hi: number, signed: boolean, n: number): number {
  let m: number;
  if (signed ? (hi | 0) === (lo | 0) >> 31 : hi === 0) {
    m = signed ? lo | 0 : lo >>> 0; // fits in 32 bits: exact
  } else {
    const v = big64(lo, hi, signed);
    m = v < 0n ? -bigToNumberRoundOdd(-v) : bigToNumberRoundOdd(v);
  }
  return fPackGeneric(ldexp(m, -n));
}

/** Approximate cycle cost of each SF entry on silicon (RP2040-BOOTROM §12). */
export const SF_CYCLES: readonly number[] = [
  75, 77, 56, 69, 15, 18, 37, 35, 40, 38, 40, 58, 58, 58, 58, 575, 575, 640, 1000, 520, 540, 26, 660, 88, 88, 88,
  88, 50, 50, 50, 50, 16,
];
