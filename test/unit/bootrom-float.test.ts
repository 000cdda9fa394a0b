/**
 * Every soft-float (SF) table entry, run through the ROM stub on rp2040js, against an independent
 * exact-arithmetic reference (bootrom-ref.py) and the ROM's documented special values.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { hex, prng, reference, RomRig, type RefCase } from './bootrom-harness.ts';

const SF = {
  fadd: 0x00, fsub: 0x04, fmul: 0x08, fdiv: 0x0c, fcmp_fast: 0x10, fcmp_fast_flags: 0x14, fsqrt: 0x18,
  float2int: 0x1c, float2fix: 0x20, float2uint: 0x24, float2ufix: 0x28, int2float: 0x2c, fix2float: 0x30,
  uint2float: 0x34, ufix2float: 0x38, fcos: 0x3c, fsin: 0x40, ftan: 0x44, fsincos: 0x48, fexp: 0x4c, fln: 0x50,
  fcmp: 0x54, fatan2: 0x58, int642float: 0x5c, fix642float: 0x60, uint642float: 0x64, ufix642float: 0x68,
  float2int64: 0x6c, float2fix64: 0x70, float2uint64: 0x74, float2ufix64: 0x78, float2double: 0x7c,
} as const;

const SPECIAL = [
  0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00400000, 0x00800000, 0x80800000, 0x3f800000, 0xbf800000,
  0x3fc00000, 0x40400000, 0x40490fdb, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
  0x7f800001, 0x3f7fffff, 0x00ffffff, 0x0d800000, 0x72000000, 0x3eaaaaab, 0x4b000001, 0x33800000, 0x3f800001,
  0xc0490fdb, 0x4effffff, 0x4f000000, 0xcf000000, 0x4f800000, 0x5f000000, 0xdf000000, 0x5f800000, 0x3effffff,
  0xbf000000, 0x3f000000, 0x1f800000, 0x20000000,
];

function randomFloats(n: number, seed: number): number[] {
  const rnd = prng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const e = 1 + (rnd() % 254);
    out.push((((r & 1) << 31) | (e << 23) | (rnd() & 0x7fffff)) >>> 0);
  }
  return out;
}
/** Pairs with nearby exponents: cancellation, rounding ties, results near the normal limit. */
function nearPairs(n: number, seed: number): Array<[number, number]> {
  const rnd = prng(seed);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const e = 1 + (rnd() % 60);
    const a = ((e << 23) | (rnd() & 0x7fffff)) >>> 0;
    const b = (((rnd() & 1) << 31) | ((e + (rnd() % 3)) << 23) | (rnd() & 0x7fffff)) >>> 0;
    out.push([a, b]);
    // products/quotients landing near 2^-126
    const c = (((63 + (rnd() % 3)) << 23) | (rnd() & 0x7fffff)) >>> 0;
    const d = (((((rnd() & 1) << 8) | (62 + (rnd() % 3))) << 23) | (rnd() & 0x7fffff)) >>> 0;
    out.push([c, d]);
    // quotients near 2^-126: a tiny dividend over a divisor near 1 or 2
    out.push([((1 + (rnd() % 2)) << 23) | (rnd() & 0x7fffff), ((127 + (rnd() % 2)) << 23) | (rnd() & 0x3f) | (rnd() & 1 ? 0x7fffc0 : 0)]);
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0]!;
};
const valOf = (b: number): number => {
  u32[0] = b;
  return f32[0]!;
};

let rig: RomRig;
beforeAll(() => {
  rig = new RomRig();
});

/** Calls SF entry `off` and checks that only `results` registers (and no flags) changed. */
function callSf(off: number, args: number[], results: number[] = [0]): Uint32Array {
  const before = new Uint32Array(16);
  const flags = 0x90000000; // N=1 V=1: must survive every entry but fcmp_fast_flags
  const r = rig.call(rig.sfEntry(off / 4), args, { flags: off === SF.fcmp_fast_flags ? undefined : flags });
  for (let i = 0; i < 13; i++) before[i] = i < args.length ? args[i]! >>> 0 : RomRig.sentinel(i);
  for (let i = 0; i < 13; i++) {
    if (!results.includes(i) && r[i] !== before[i]) {
      throw new Error(`SF 0x${off.toString(16)}(${args.map(hex)}) changed r${i}: ${hex(before[i]!)} -> ${hex(r[i]!)}`);
    }
  }
  if (off !== SF.fcmp_fast_flags && (rig.mcu.core.APSR >>> 0) !== flags) throw new Error(`SF 0x${off.toString(16)} changed the flags`);
  if (rig.mcu.core.SP !== 0x20040800) throw new Error('SP changed');
  return r;
}

function checkAgainstRef(
  off: number,
  op: string,
  argSets: number[][],
  results = [0],
  wide = false,
  refArgs: (a: number[]) => Array<number | bigint> = (a) => a,
): void {
  const cases: RefCase[] = argSets.map((a) => ({ fmt: 'f', op, args: refArgs(a) }));
  const exp = reference(cases);
  const bad: string[] = [];
  argSets.forEach((a, i) => {
    const r = callSf(off, a, results);
    const got = wide ? (BigInt(r[1]!) << 32n) | BigInt(r[0]!) : BigInt(r[0]!);
    if (got !== exp[i]) bad.push(`${op}(${a.map(hex).join(', ')}) = ${hex(got)}, expected ${hex(exp[i]!)}`);
  });
  expect(bad.slice(0, 10)).toEqual([]);
}

const pairs = (xs: number[]): number[][] => xs.flatMap((a) => xs.map((b) => [a, b]));
const binaryVectors = (): number[][] => [
  ...pairs(SPECIAL),
  ...pairs(randomFloats(24, 7)),
  ...nearPairs(200, 11).map(([a, b]) => [a, b]),
];

describe('SF basic arithmetic against the exact reference', () => {
  it('fadd (0x00)', () => checkAgainstRef(SF.fadd, 'add', binaryVectors()));
  it('fsub (0x04)', () => checkAgainstRef(SF.fsub, 'sub', binaryVectors()));
  it('fmul (0x08)', () => checkAgainstRef(SF.fmul, 'mul', binaryVectors()));
  it('fdiv (0x0C)', () => checkAgainstRef(SF.fdiv, 'div', binaryVectors()));
  it('fsqrt (0x18)', () => checkAgainstRef(SF.fsqrt, 'sqrt', [...SPECIAL, ...randomFloats(300, 3)].map((a) => [a])));
  it('float2double (0x7C)', () =>
    checkAgainstRef(SF.float2double, 'f2d', [...SPECIAL, ...randomFloats(100, 5)].map((a) => [a]), [0, 1], true));
});

describe('SF special values from the ROM documentation', () => {
  const add = (a: number, b: number) => callSf(SF.fadd, [a, b])[0];
  const sub = (a: number, b: number) => callSf(SF.fsub, [a, b])[0];
  const mul = (a: number, b: number) => callSf(SF.fmul, [a, b])[0];
  const div = (a: number, b: number) => callSf(SF.fdiv, [a, b])[0];
  const INF = 0x7f800000;
  const NINF = 0xff800000;
  it('add/sub: opposite infinities give +inf, NaN acts as infinity of its sign, cancellation gives +0', () => {
    expect(sub(INF, INF)).toBe(INF);
    expect(add(NINF, INF)).toBe(INF);
    expect(sub(NINF, NINF)).toBe(INF);
    expect(add(NINF, NINF)).toBe(NINF);
    expect(add(0x7fc00000, bitsOf(1))).toBe(INF);
    expect(add(0xffc00000, bitsOf(1))).toBe(NINF);
    expect(sub(bitsOf(1), bitsOf(1))).toBe(0);
    expect(add(0x80000000, 0x80000000)).toBe(0x80000000);
    expect(add(0x80000000, 0)).toBe(0);
    expect(add(0x00000001, bitsOf(1.5))).toBe(bitsOf(1.5)); // denormal is zero
    expect(add(0x80000001, 0x80000001)).toBe(0x80000000);
  });
  it('mul: 0 x inf = +inf, -0 x inf = -inf, overflow to signed inf, underflow to signed zero', () => {
    expect(mul(0, INF)).toBe(INF);
    expect(mul(0x80000000, INF)).toBe(NINF);
    expect(mul(0x3f7fffff, 0x00800000)).toBe(0x00800000); // rounds up to the smallest normal
    expect(mul(0x3f7fffff, 0x80800000)).toBe(0x80800000);
    expect(mul(0x3f7ffffe, 0x00800000)).toBe(0); // truncated significand not all ones: zero
    expect(mul(bitsOf(0.5), 0x00800000)).toBe(0); // would be a denormal: zero
    expect(mul(bitsOf(-0.5), 0x00800000)).toBe(0x80000000);
    expect(mul(0x7f7fffff, bitsOf(2))).toBe(INF);
    expect(mul(0x7f7fffff, bitsOf(-2))).toBe(NINF);
    expect(mul(0x7fc00000, 0)).toBe(INF);
  });
  it('div: 0/0 = +inf, 1/-0 = -inf, 1/denormal = +inf, x/inf = 0, inf/inf = inf', () => {
    expect(div(0, 0)).toBe(INF);
    expect(div(bitsOf(1), 0x80000000)).toBe(NINF);
    expect(div(bitsOf(1), 0x00000001)).toBe(INF);
    expect(div(bitsOf(1), INF)).toBe(0);
    expect(div(bitsOf(-1), INF)).toBe(0x80000000);
    expect(div(INF, INF)).toBe(INF);
    expect(div(INF, NINF)).toBe(NINF);
    expect(div(0, bitsOf(3))).toBe(0);
    expect(div(INF, bitsOf(-3))).toBe(NINF);
    expect(div(bitsOf(1), bitsOf(3))).toBe(0x3eaaaaab);
    expect(div(0x00ffffff, bitsOf(2))).toBe(0); // 2^-126 - 2^-150 exactly: below 2^-126 after rounding
    expect(div(0x00ffffff, 0x3fffffff)).toBe(0x00800000); // rounds up to the smallest normal
  });
  it('sqrt: negative -> -inf, -0 -> -0, +NaN -> +inf', () => {
    expect(callSf(SF.fsqrt, [bitsOf(-4)])[0]).toBe(NINF);
    expect(callSf(SF.fsqrt, [0x80000000])[0]).toBe(0x80000000);
    expect(callSf(SF.fsqrt, [0x807fffff])[0]).toBe(0x80000000);
    expect(callSf(SF.fsqrt, [0x7fc00000])[0]).toBe(INF);
    expect(callSf(SF.fsqrt, [NINF])[0]).toBe(NINF);
    expect(callSf(SF.fsqrt, [bitsOf(2)])[0]).toBe(0x3fb504f3);
  });
  it('float2double: NaN -> inf of its sign, denormal -> signed zero', () => {
    const r = callSf(SF.float2double, [0xffc00000], [0, 1]);
    expect([r[0], r[1]]).toEqual([0, 0xfff00000]);
    const z = callSf(SF.float2double, [0x807fffff], [0, 1]);
    expect([z[0], z[1]]).toEqual([0, 0x80000000]);
    const one = callSf(SF.float2double, [bitsOf(1.5)], [0, 1]);
    expect([one[0], one[1]]).toEqual([0, 0x3ff80000]);
  });
});

const NS = [0, 1, 2, 5, 16, -1, -3, 23, 31, 32, 40, 64, -64, 100, 200, -200, -1000, 1000];

describe('SF float -> integer conversions (floor, saturate)', () => {
  const xs = [...SPECIAL, ...randomFloats(60, 13), bitsOf(-0.5), bitsOf(-1.5), bitsOf(2.5), bitsOf(-2147483648), bitsOf(4294967040)];
  it('float2int (0x1C)', () => checkAgainstRef(SF.float2int, '2int', xs.map((a) => [a])));
  it('float2uint (0x24)', () => checkAgainstRef(SF.float2uint, '2uint', xs.map((a) => [a])));
  it('float2fix (0x20) with fraction bits, negative and large n', () =>
    checkAgainstRef(SF.float2fix, '2fix', xs.flatMap((a) => NS.map((n) => [a, n >>> 0]))));
  it('float2ufix (0x28)', () => checkAgainstRef(SF.float2ufix, '2ufix', xs.flatMap((a) => NS.map((n) => [a, n >>> 0]))));
  it('float2int64 (0x6C)', () => checkAgainstRef(SF.float2int64, '2int64', xs.map((a) => [a]), [0, 1], true));
  it('float2uint64 (0x74)', () => checkAgainstRef(SF.float2uint64, '2uint64', xs.map((a) => [a]), [0, 1], true));
  it('float2fix64 (0x70)', () =>
    checkAgainstRef(SF.float2fix64, '2fix64', xs.flatMap((a) => NS.map((n) => [a, n >>> 0])), [0, 1], true));
  it('float2ufix64 (0x78)', () =>
    checkAgainstRef(SF.float2ufix64, '2ufix64', xs.flatMap((a) => NS.map((n) => [a, n >>> 0])), [0, 1], true));
  it('documented examples', () => {
    expect(callSf(SF.float2fix, [bitsOf(1), 40])[0]).toBe(0x7fffffff);
    expect(callSf(SF.float2fix, [bitsOf(-1), -200 >>> 0])[0]).toBe(0xffffffff);
    expect(callSf(SF.float2int, [0x807fffff])[0]).toBe(0); // negative denormal: 0, not -1
    expect(callSf(SF.float2int, [0x80000000])[0]).toBe(0);
    expect(callSf(SF.float2int, [bitsOf(-0.5)])[0]).toBe(0xffffffff); // floor
    expect(callSf(SF.float2uint, [bitsOf(-1)])[0]).toBe(0);
    expect(callSf(SF.float2uint, [0x7fc00000])[0]).toBe(0xffffffff);
    expect(callSf(SF.float2int, [0xffc00000])[0]).toBe(0x80000000);
    expect(callSf(SF.float2fix, [bitsOf(1.75), 4])[0]).toBe(28);
  });
});

describe('SF integer -> float conversions', () => {
  const ints = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x01000001, 0x01000003, 0x00ffffff, 0xff000001, 12345678, 0xfedcba98];
  const rnd = prng(99);
  for (let i = 0; i < 40; i++) ints.push(rnd());
  it('int2float (0x2C)', () => checkAgainstRef(SF.int2float, 'int2', ints.map((v) => [v])));
  it('uint2float (0x34)', () => checkAgainstRef(SF.uint2float, 'uint2', ints.map((v) => [v])));
  it('fix2float (0x30)', () => checkAgainstRef(SF.fix2float, 'fix2', ints.flatMap((v) => NS.map((n) => [v, n >>> 0]))));
  it('ufix2float (0x38)', () => checkAgainstRef(SF.ufix2float, 'ufix2', ints.flatMap((v) => NS.map((n) => [v, n >>> 0]))));
  const i64: Array<[number, number]> = [
    [0, 0], [1, 0], [0xffffffff, 0xffffffff], [0, 0x80000000], [0xffffffff, 0x7fffffff], [1, 0x80000000],
    [0x00000001, 0x80000080], // 2^63 + 2^39 + 1: a double-rounding trap (uint64)
    [0x00000001, 0x00000080 | 0x40000000], [0x80000000, 0], [0x12345678, 0x9abcdef0], [0xffffffff, 0],
  ];
  for (let i = 0; i < 30; i++) i64.push([rnd(), rnd() >>> (rnd() % 32)]);
  const as64 = (a: number[]): Array<number | bigint> => [(BigInt(a[1]!) << 32n) | BigInt(a[0]!), ...a.slice(2)];
  it('int642float (0x5C)', () => checkAgainstRef(SF.int642float, 'int642', i64, [0], false, as64));
  it('uint642float (0x64)', () => checkAgainstRef(SF.uint642float, 'uint642', i64, [0], false, as64));
  it('fix642float (0x60)', () =>
    checkAgainstRef(SF.fix642float, 'fix642', i64.flatMap(([lo, hi]) => NS.map((n) => [lo, hi, n >>> 0])), [0], false, as64));
  it('ufix642float (0x68)', () =>
    checkAgainstRef(SF.ufix642float, 'ufix642', i64.flatMap(([lo, hi]) => NS.map((n) => [lo, hi, n >>> 0])), [0], false, as64));
  it('documented examples', () => {
    expect(callSf(SF.fix2float, [1, -3 >>> 0])[0]).toBe(bitsOf(8));
    expect(callSf(SF.fix2float, [0xffffffff, 200])[0]).toBe(0); // underflow loses the sign
    expect(callSf(SF.fix2float, [1, -200 >>> 0])[0]).toBe(0x7f800000);
    expect(callSf(SF.fix2float, [0xffffffff, -200 >>> 0])[0]).toBe(0xff800000);
    expect(callSf(SF.uint642float, [1, 0x80000080])[0]).toBe(0x5f000001);
  });
});

describe('SF compares', () => {
  const xs = [...SPECIAL, ...randomFloats(12, 21)];
  it('fcmp (0x54) flushes denormals and treats NaN as infinity', () => checkAgainstRef(SF.fcmp, 'cmp', pairs(xs)));
  it('fcmp_fast (0x10) compares encodings', () => checkAgainstRef(SF.fcmp_fast, 'cmp_fast', pairs(xs)));
  it('fcmp_fast_flags (0x14) sets N/Z/C/V as CMP result,#0', () => {
    checkAgainstRef(SF.fcmp_fast_flags, 'cmp_fast', pairs(xs));
    const core = rig.mcu.core;
    const cases: Array<[number, number, number]> = [
      [bitsOf(1), bitsOf(2), 0xffffffff],
      [bitsOf(2), bitsOf(1), 1],
      [0, 0x80000000, 0],
    ];
    for (const [a, b, res] of cases) {
      const r = callSf(SF.fcmp_fast_flags, [a, b]);
      expect(r[0]).toBe(res);
      expect([core.N, core.Z, core.C, core.V]).toEqual([res === 0xffffffff, res === 0, true, false]);
    }
  });
  it('documented examples', () => {
    expect(callSf(SF.fcmp, [0, 0x80000000])[0]).toBe(0);
    expect(callSf(SF.fcmp, [0x00000001, 0])[0]).toBe(0); // denormal == 0 when flushing
    expect(callSf(SF.fcmp_fast, [0x00000001, 0])[0]).toBe(1); // but not in the fast compare
    expect(callSf(SF.fcmp, [0x7fc00000, 0x7f800000])[0]).toBe(0);
    expect(callSf(SF.fcmp, [0xffc00000, 0xff7fffff])[0]).toBe(0xffffffff);
  });
});

/** Python's math for the scientific entries (double precision), rounded to float by struct. */
function pyMath(expr: string[]): number[] {
  const src = `import math,struct,json\nres=[]\nfor e in ${JSON.stringify(expr)}:\n  v=eval(e)\n  res.append(struct.unpack('<I',struct.pack('<f',v))[0] if math.isfinite(v) and abs(v)<3.4e38 else None)\nprint(json.dumps(res))`;
  return JSON.parse(execFileSync('python3', ['-c', src]).toString()) as number[];
}

describe('SF scientific functions', () => {
  const xs = [0.5, -0.5, 1, -1, 2, 3, -3, 0.001, 10, -10, 100, 127.5, 1e-6, 0.75, 1.25];
  const ulps = (a: number, b: number): number => Math.abs((a | 0) - (b | 0));
  function within(off: number, pyFn: string, inputs: number[], maxUlp = 2): void {
    const exp = pyMath(inputs.map((x) => `${pyFn}(${valOf(bitsOf(x)).toPrecision(17)})`));
    inputs.forEach((x, i) => {
      const got = callSf(off, [bitsOf(x)], off === SF.fsin ? [0, 1] : [0])[0]!;
      if (exp[i] === null) return;
      expect(ulps(got, exp[i]!), `${pyFn}(${x}): got ${valOf(got)} expected ${valOf(exp[i]!)}`).toBeLessThanOrEqual(maxUlp);
    });
  }
  it('fsin (0x40) also leaves cos in r1', () => {
    within(SF.fsin, 'math.sin', xs);
    const r = callSf(SF.fsin, [bitsOf(0.5)], [0, 1]);
    expect(ulps(r[1]!, pyMath(['math.cos(0.5)'])[0]!)).toBeLessThanOrEqual(1);
    expect(callSf(SF.fsin, [0x80000000], [0, 1])[0]).toBe(0); // sin(-0) -> +0
  });
  it('fcos (0x3C)', () => {
    within(SF.fcos, 'math.cos', xs);
    expect(callSf(SF.fcos, [0x80000001])[0]).toBe(bitsOf(1));
  });
  it('ftan (0x44)', () => within(SF.ftan, 'math.tan', xs.filter((x) => Math.abs(x) < 100)));
  it('fsincos (0x48): sin in r0, cos in r1', () => {
    const [s, c] = pyMath(['math.sin(1.25)', 'math.cos(1.25)']);
    const r = callSf(SF.fsincos, [bitsOf(1.25)], [0, 1]);
    expect(ulps(r[0]!, s!)).toBeLessThanOrEqual(1);
    expect(ulps(r[1]!, c!)).toBeLessThanOrEqual(1);
  });
  it('fexp (0x4C) with the documented special values', () => {
    within(SF.fexp, 'math.exp', xs.filter((x) => x < 80));
    expect(callSf(SF.fexp, [0x7f800000])[0]).toBe(0x7f800000);
    expect(callSf(SF.fexp, [0xff800000])[0]).toBe(0);
    expect(callSf(SF.fexp, [0x7fc00000])[0]).toBe(0x7f800000);
    expect(callSf(SF.fexp, [bitsOf(100)])[0]).toBe(0x7f800000);
    expect(callSf(SF.fexp, [bitsOf(-120)])[0]).toBe(0); // below 2^-126: +0
  });
  it('fln (0x50) with the documented special values', () => {
    within(SF.fln, 'math.log', xs.filter((x) => x > 0));
    expect(callSf(SF.fln, [0])[0]).toBe(0xff800000);
    expect(callSf(SF.fln, [0x80000000])[0]).toBe(0xff800000);
    expect(callSf(SF.fln, [bitsOf(-2)])[0]).toBe(0xff800000);
    expect(callSf(SF.fln, [0xff800000])[0]).toBe(0xff800000);
    expect(callSf(SF.fln, [0x7f800000])[0]).toBe(0x7f800000);
    expect(callSf(SF.fln, [0x7fc00000])[0]).toBe(0x7f800000);
  });
  it('fatan2 (0x58) with the documented special values', () => {
    const pts: Array<[number, number]> = [[1, 1], [1, -1], [-1, -1], [0.5, 2], [-3, 0.25]];
    const exp = pyMath(pts.map(([y, x]) => `math.atan2(${y},${x})`));
    pts.forEach(([y, x], i) => expect(ulps(callSf(SF.fatan2, [bitsOf(y), bitsOf(x)])[0]!, exp[i]!)).toBeLessThanOrEqual(1));
    const [pi, halfPi, quarterPi] = pyMath(['math.pi', 'math.pi/2', 'math.pi/4']);
    expect(callSf(SF.fatan2, [0, bitsOf(-1)])[0]).toBe(pi);
    expect(callSf(SF.fatan2, [0x80000000, bitsOf(-1)])[0]).toBe((pi! | 0x80000000) >>> 0);
    expect(callSf(SF.fatan2, [bitsOf(2), 0])[0]).toBe(halfPi);
    expect(callSf(SF.fatan2, [bitsOf(-2), 0x80000000])[0]).toBe((halfPi! | 0x80000000) >>> 0);
    expect(callSf(SF.fatan2, [0, 0])[0]).toBe(0);
    expect(callSf(SF.fatan2, [0x7f800000, 0x7f800000])[0]).toBe(quarterPi);
    expect(callSf(SF.fatan2, [0x80000000, 0])[0]).toBe(0xb1000000); // -2^-29
  });
  it('never returns NaN, even for infinite arguments', () => {
    for (const off of [SF.fsin, SF.fcos, SF.ftan, SF.fexp, SF.fln]) {
      for (const x of [0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000]) {
        const r = callSf(off, [x], [0, 1])[0]!;
        expect((r & 0x7fffffff) > 0x7f800000, `0x${off.toString(16)}(${hex(x)}) = ${hex(r)}`).toBe(false);
      }
    }
  });
});

describe('SF table shape and cost', () => {
  it('has 32 odd entries, all distinct', () => {
    const entries = Array.from({ length: 32 }, (_, i) => rig.sfEntry(i));
    expect(entries.every((e) => (e & 1) === 1 && e > 0 && e < 0x4000)).toBe(true);
    expect(new Set(entries).size).toBe(32);
  });
  it('charges roughly the silicon cycle count to the core', () => {
    const before = rig.mcu.core.cycles;
    callSf(SF.fadd, [bitsOf(1), bitsOf(2)]);
    const spent = rig.mcu.core.cycles - before;
    expect(spent).toBeGreaterThanOrEqual(70);
    expect(spent).toBeLessThan(100);
  });
});
