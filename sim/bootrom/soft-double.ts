/**
 * The 32 soft-double (SD) table entries with the ROM's numeric rules (RP2040-BOOTROM §6): same
 * input classes and special cases as the float table, underflow below 2^-1022 to signed zero,
 * never NaN. Doubles travel in r0 (low word) : r1 (high), the second one in r2:r3.
 */
import {
  big64,
  cmpResult,
  f64,
  ldexp,
  setCmpFlags,
  toInt32,
  toInt64,
  toUint32,
  toUint64,
  u32d,
  type SoftCore,
  type SoftEntry,
} from './soft-common.ts';
import { F_UNDERFLOW_TRUNC, fPack } from './soft-float.ts';

const SIGN = 0x80000000;
const D_EXP_HI = 0x7ff00000;
/** 2^-1022, the smallest normal double. */
export const D_MIN_NORMAL = 2 ** -1022;

/** A double register pair as a number, with the ROM's Z/I input classes applied. */
export function dIn(lo: number, hi: number): number {
  const e = hi & D_EXP_HI;
  if (e === 0) return hi & SIGN ? -0 : 0;
  if (e === D_EXP_HI) return hi & SIGN ? -Infinity : Infinity;
  u32d[0] = lo;
  u32d[1] = hi;
  return f64[0]!;
}

/** Writes a double result to r0:r1 (or r2:r3 with `at` = 2). */
export function dOut(r: Uint32Array, v: number, at = 0): void {
  f64[0] = v;
  r[at] = u32d[0]!;
  r[at + 1] = u32d[1]!;
}

/** Basic-operation result: below 2^-1022 → signed zero; NaN never occurs (defensive: +∞). */
function dPackBasic(r: number): number {
  if (r !== r) return Infinity;
  if (r < D_MIN_NORMAL && r > -D_MIN_NORMAL) return r < 0 || Object.is(r, -0) ? -0 : 0;
  return r;
}

/** Generic packing (fix→double, 64-bit→double, scientific): underflow → signed zero (mufplib-double). */
function dPackGeneric(r: number): number {
  if (r !== r) return Infinity;
  if (r < D_MIN_NORMAL && r > -D_MIN_NORMAL) return r < 0 || Object.is(r, -0) ? -0 : 0;
  return r;
}

/** Integer significand and exponent of a finite nonzero normal double: |x| = m · 2^e. */
function decompose(x: number): { m: bigint; e: number } {
  f64[0] = x;
  const hi = u32d[1]!;
  const lo = u32d[0]!;
  const exp = (hi >>> 20) & 0x7ff;
  const m = (BigInt((hi & 0xfffff) | 0x100000) << 32n) | BigInt(lo);
  return { m, e: exp - 1075 };
}

/** Whether num/den · 2^e ≥ 2^-1022, in exact integers. */
function atLeastMinNormal(num: bigint, den: bigint, e: number): boolean {
  const s = e + 1022;
  return s >= 0 ? num << BigInt(s) >= den : num >= den << BigInt(-s);
}

export function dadd(x: number, y: number): number {
  const xInf = x === Infinity || x === -Infinity;
  const yInf = y === Infinity || y === -Infinity;
  if (xInf) return yInf && x !== y ? Infinity : x;
  if (yInf) return y;
  return dPackBasic(x + y);
}

/**
 * dmul: the ROM gives the smallest normal when the product's significand truncated to 53 bits is
 * all ones just below 2^-1022 (|exact| ≥ 2^-1022 − 2^-1075), else signed zero. JS rounds such a
 * product on the subnormal grid, where 2^-1022 − 2^-1075 is the tie that goes to 2^-1022: a JS
 * result of ±2^-1022 or more is exactly the ROM's "not underflowed" case.
 */
export function dmul(x: number, y: number, sign: boolean): number {
  if (x === Infinity || x === -Infinity || y === Infinity || y === -Infinity) return sign ? -Infinity : Infinity;
  if (x === 0 || y === 0) return sign ? -0 : 0;
  return dPackBasic(x * y);
}

/**
 * ddiv: a quotient below 2^-1022 is signed zero (no rounding up into the normal range). JS may
 * round a quotient just below 2^-1022 up to it; decide those exactly.
 */
export function ddiv(x: number, y: number, sign: boolean): number {
  const xInf = x === Infinity || x === -Infinity;
  if (y === 0) return sign ? -Infinity : Infinity;
  if (y === Infinity || y === -Infinity) return xInf ? (sign ? -Infinity : Infinity) : sign ? -0 : 0;
  if (x === 0) return sign ? -0 : 0;
  if (xInf) return sign ? -Infinity : Infinity;
  const r = x / y;
  if (r === D_MIN_NORMAL || r === -D_MIN_NORMAL) {
    const a = decompose(x);
    const b = decompose(y);
    if (!atLeastMinNormal(a.m, b.m, a.e - b.e)) return sign ? -0 : 0;
    return r;
  }
  return dPackBasic(r);
}

export function dsqrt(x: number): number {
  if (x === 0) return x;
  if (x < 0) return -Infinity;
  return Math.sqrt(x);
}

export function dlnVal(x: number): number {
  if (x <= 0) return -Infinity;
  return Math.log(x);
}

/** Non-flushing compare of the encodings as sign-magnitude numbers (slots 0x10/0x14). */
export function dcmpFast(alo: number, ahi: number, blo: number, bhi: number): number {
  const am = ahi & 0x7fffffff;
  const bm = bhi & 0x7fffffff;
  const aNeg = (ahi & SIGN) !== 0 && (am !== 0 || alo !== 0);
  const bNeg = (bhi & SIGN) !== 0 && (bm !== 0 || blo !== 0);
  // magnitude comparison of (am, alo) vs (bm, blo)
  const mag = am !== bm ? (am < bm ? -1 : 1) : alo !== blo ? ((alo >>> 0) < (blo >>> 0) ? -1 : 1) : 0;
  let c: number;
  if (aNeg !== bNeg) c = aNeg ? -1 : 1;
  else if (aNeg) c = -mag;
  else c = mag;
  return c < 0 ? 0xffffffff : c;
}

/** double → float (slot 0x7C): round to nearest even with the float magnitude rule. */
export function double2float(x: number): number {
  if (x === Infinity) return 0x7f800000;
  if (x === -Infinity) return 0xff800000;
  return fPack(x, F_UNDERFLOW_TRUNC);
}

// ---- table entries ----

function d2(fn: (x: number, y: number, r: Uint32Array) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    dOut(r, fn(dIn(r[0]!, r[1]!), dIn(r[2]!, r[3]!), r));
  };
}
function d1(fn: (x: number) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    dOut(r, fn(dIn(r[0]!, r[1]!)));
  };
}
function sci(fn: (x: number) => number): SoftEntry {
  return (c) => {
    const r = c.registers;
    dOut(r, dPackGeneric(fn(dIn(r[0]!, r[1]!))));
  };
}
const signXor = (r: Uint32Array): boolean => ((r[1]! ^ r[3]!) & SIGN) !== 0;

function int64ToDouble(lo: number, hi: number, signed: boolean, n: number): number {
  let m: number;
  if (signed ? (hi | 0) === (lo | 0) >> 31 : hi === 0) m = signed ? lo | 0 : lo >>> 0;
  else m = Number(big64(lo, hi, signed)); // Number(bigint) rounds to nearest even
  return dPackGeneric(ldexp(m, -n));
}

/** SD table entries by slot (offset / 4). */
export const SD_ENTRIES: readonly SoftEntry[] = [
  /* 0x00 dadd */ d2((x, y) => dadd(x, y)),
  /* 0x04 dsub */ d2((x, y) => dadd(x, -y)),
  /* 0x08 dmul */ d2((x, y, r) => dmul(x, y, signXor(r))),
  /* 0x0C ddiv */ d2((x, y, r) => ddiv(x, y, signXor(r))),
  /* 0x10 dcmp_fast */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = dcmpFast(r[0]!, r[1]!, r[2]!, r[3]!);
  },
  /* 0x14 dcmp_fast_flags */ (c: SoftCore) => {
    const r = c.registers;
    const v = dcmpFast(r[0]!, r[1]!, r[2]!, r[3]!);
    r[0] = v;
    setCmpFlags(c, v);
  },
  /* 0x18 dsqrt */ d1(dsqrt),
  /* 0x1C double2int */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = toInt32(dIn(r[0]!, r[1]!), 0);
  },
  /* 0x20 double2fix */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = toInt32(dIn(r[0]!, r[1]!), r[2]! | 0);
  },
  /* 0x24 double2uint */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = toUint32(dIn(r[0]!, r[1]!), 0);
  },
  /* 0x28 double2ufix */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = toUint32(dIn(r[0]!, r[1]!), r[2]! | 0);
  },
  /* 0x2C int2double */ (c: SoftCore) => dOut(c.registers, c.registers[0]! | 0),
  /* 0x30 fix2double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, dPackGeneric(ldexp(r[0]! | 0, -(r[1]! | 0))));
  },
  /* 0x34 uint2double */ (c: SoftCore) => dOut(c.registers, c.registers[0]! >>> 0),
  /* 0x38 ufix2double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, dPackGeneric(ldexp(r[0]! >>> 0, -(r[1]! | 0))));
  },
  /* 0x3C dcos */ sci(Math.cos),
  /* 0x40 dsin */ sci(Math.sin),
  /* 0x44 dtan */ sci(Math.tan),
  /* 0x48 dsincos */ (c: SoftCore) => {
    const r = c.registers;
    const x = dIn(r[0]!, r[1]!);
    const s = dPackGeneric(Math.sin(x));
    const co = dPackGeneric(Math.cos(x));
    dOut(r, s, 0);
    dOut(r, co, 2);
  },
  /* 0x4C dexp */ sci(Math.exp),
  /* 0x50 dln */ sci(dlnVal),
  /* 0x54 dcmp */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = cmpResult(dIn(r[0]!, r[1]!), dIn(r[2]!, r[3]!));
  },
  /* 0x58 datan2 */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, dPackGeneric(Math.atan2(dIn(r[0]!, r[1]!), dIn(r[2]!, r[3]!))));
  },
  /* 0x5C int642double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, int64ToDouble(r[0]!, r[1]!, true, 0));
  },
  /* 0x60 fix642double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, int64ToDouble(r[0]!, r[1]!, true, r[2]! | 0));
  },
  /* 0x64 uint642double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, int64ToDouble(r[0]!, r[1]!, false, 0));
  },
  /* 0x68 ufix642double */ (c: SoftCore) => {
    const r = c.registers;
    dOut(r, int64ToDouble(r[0]!, r[1]!, false, r[2]! | 0));
  },
  /* 0x6C double2int64 */ (c: SoftCore) => toInt64(c.registers, dIn(c.registers[0]!, c.registers[1]!), 0),
  /* 0x70 double2fix64 */ (c: SoftCore) =>
    toInt64(c.registers, dIn(c.registers[0]!, c.registers[1]!), c.registers[2]! | 0),
  /* 0x74 double2uint64 */ (c: SoftCore) => toUint64(c.registers, dIn(c.registers[0]!, c.registers[1]!), 0),
  /* 0x78 double2ufix64 */ (c: SoftCore) =>
    toUint64(c.registers, dIn(c.registers[0]!, c.registers[1]!), c.registers[2]! | 0),
  /* 0x7C double2float */ (c: SoftCore) => {
    const r = c.registers;
    r[0] = double2float(dIn(r[0]!, r[1]!));
  },
];

/** Approximate cycle cost of each SD entry on silicon (RP2040-BOOTROM §12). */
export const SD_CYCLES: readonly number[] = [
  92, 97, 155, 182, 20, 22, 91, 70, 70, 40, 40, 65, 65, 65, 65, 1615, 1615, 1890, 2500, 810, 490, 30, 2160, 100, 100,
  100, 100, 70, 70, 70, 70, 24,
];
