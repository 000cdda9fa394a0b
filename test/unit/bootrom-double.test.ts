/**
 * Every soft-double (SD) table entry, run through the ROM stub on rp2040js, against an independent
 * exact-arithmetic reference (bootrom-ref.py) and the ROM's documented special values.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { hex, prng, reference, RomRig, type RefCase } from './bootrom-harness.ts';

const SD = {
  dadd: 0x00, dsub: 0x04, dmul: 0x08, ddiv: 0x0c, dcmp_fast: 0x10, dcmp_fast_flags: 0x14, dsqrt: 0x18,
  double2int: 0x1c, double2fix: 0x20, double2uint: 0x24, double2ufix: 0x28, int2double: 0x2c, fix2double: 0x30,
  uint2double: 0x34, ufix2double: 0x38, dcos: 0x3c, dsin: 0x40, dtan: 0x44, dsincos: 0x48, dexp: 0x4c, dln: 0x50,
  dcmp: 0x54, datan2: 0x58, int642double: 0x5c, fix642double: 0x60, uint642double: 0x64, ufix642double: 0x68,
  double2int64: 0x6c, double2fix64: 0x70, double2uint64: 0x74, double2ufix64: 0x78, double2float: 0x7c,
} as const;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const d = (x: number): bigint => {
  f64[0] = x;
  return big(u32[0]!, u32[1]!);
};
const halves = (b: bigint): [number, number] => [Number(b & 0xffffffffn), Number(b >> 32n)];

const SPECIAL: bigint[] = [
  0n, 0x8000000000000000n, 1n, 0x800fffffffffffffn, 0x0010000000000000n, 0x8010000000000000n, d(1), d(-1), d(1.5),
  d(3), d(Math.PI), 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff0000000000001n, d(1 - 2 ** -53), 0x001fffffffffffffn, d(2 ** -600),
  d(2 ** 600), d(1 / 3), d(2 ** 52 + 1), d(2 ** -53), d(1 + 2 ** -52), d(2 ** 31), d(-(2 ** 31)), d(2 ** 32),
  d(2 ** 63), d(-(2 ** 63)), d(2 ** 64), d(0.5), d(-0.5), d(2 ** -511), d(2 ** -512), d(3.4028235677973366e38),
  d(1.1754942106924411e-38), d(1.1754943508222875e-38),
];

function randomDoubles(n: number, seed: number): bigint[] {
  const rnd = prng(seed);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const e = 1 + (rnd() % 2046);
    const hi = (((rnd() & 1) << 31) | (e << 20) | (rnd() & 0xfffff)) >>> 0;
    out.push(big(rnd(), hi));
  }
  return out;
}
function nearPairs(n: number, seed: number): bigint[][] {
  const rnd = prng(seed);
  const out: bigint[][] = [];
  const mk = (e: number, neg = false): bigint => big(rnd(), ((neg ? 0x80000000 : 0) | (e << 20) | (rnd() & 0xfffff)) >>> 0);
  for (let i = 0; i < n; i++) {
    const e = 1 + (rnd() % 100);
    out.push([mk(e), mk(e + (rnd() % 3), (rnd() & 1) === 1)]); // cancellation
    out.push([mk(511 + (rnd() % 3)), mk(510 + (rnd() % 3), (rnd() & 1) === 1)]); // products near 2^-1022
    out.push([mk(1 + (rnd() % 2)), mk(1023 + (rnd() % 2))]); // quotients near 2^-1022
  }
  // products/quotients exactly at the edges
  out.push([d(1 - 2 ** -53), 0x0010000000000000n], [d(1 - 2 ** -52), 0x0010000000000000n]);
  out.push([0x001fffffffffffffn, d(2)], [0x0010000000000000n, d(1 + 2 ** -52)]);
  return out;
}

let rig: RomRig;
beforeAll(() => {
  rig = new RomRig();
});

function callSd(off: number, args: number[], results: number[] = [0, 1]): Uint32Array {
  const flags = 0x90000000;
  const r = rig.call(rig.sdEntry(off / 4), args, { flags: off === SD.dcmp_fast_flags ? undefined : flags });
  for (let i = 0; i < 13; i++) {
    const before = i < args.length ? args[i]! >>> 0 : RomRig.sentinel(i);
    if (!results.includes(i) && r[i] !== before) {
      throw new Error(`SD 0x${off.toString(16)}(${args.map(hex)}) changed r${i}: ${hex(before)} -> ${hex(r[i]!)}`);
    }
  }
  if (off !== SD.dcmp_fast_flags && rig.mcu.core.APSR >>> 0 !== flags) throw new Error(`SD 0x${off.toString(16)} changed the flags`);
  return r;
}

type Arg = bigint | { n: number } | { w: number };
/** Register image of arguments: doubles/64-bit take a register pair, {n}/{w} one register. */
function regsOf(args: Arg[]): number[] {
  const out: number[] = [];
  for (const a of args) {
    if (typeof a === 'bigint') out.push(...halves(a));
    else out.push(('n' in a ? a.n : a.w) >>> 0);
  }
  return out;
}
function refOf(args: Arg[]): Array<number | bigint> {
  return args.map((a) => (typeof a === 'bigint' ? a : 'n' in a ? a.n >>> 0 : a.w >>> 0));
}

function checkAgainstRef(off: number, op: string, argSets: Arg[][], results: number[], resultWide: boolean): void {
  const cases: RefCase[] = argSets.map((a) => ({ fmt: 'd', op, args: refOf(a) }));
  const exp = reference(cases);
  const bad: string[] = [];
  argSets.forEach((a, i) => {
    const regs = regsOf(a);
    const r = callSd(off, regs, results);
    const got = resultWide ? big(r[0]!, r[1]!) : BigInt(r[0]!);
    if (got !== exp[i]) bad.push(`${op}(${regs.map(hex).join(', ')}) = ${hex(got)}, expected ${hex(exp[i]!)}`);
  });
  expect(bad.slice(0, 10)).toEqual([]);
}

const pairs = (xs: bigint[]): bigint[][] => xs.flatMap((a) => xs.map((b) => [a, b]));
const binaryVectors = (): bigint[][] => [...pairs(SPECIAL), ...pairs(randomDoubles(16, 7)), ...nearPairs(150, 11)];

describe('SD basic arithmetic against the exact reference', () => {
  it('dadd (0x00)', () => checkAgainstRef(SD.dadd, 'add', binaryVectors(), [0, 1], true));
  it('dsub (0x04)', () => checkAgainstRef(SD.dsub, 'sub', binaryVectors(), [0, 1], true));
  it('dmul (0x08)', () => checkAgainstRef(SD.dmul, 'mul', binaryVectors(), [0, 1], true));
  it('ddiv (0x0C)', () => checkAgainstRef(SD.ddiv, 'div', binaryVectors(), [0, 1], true));
  it('dsqrt (0x18)', () =>
    checkAgainstRef(SD.dsqrt, 'sqrt', [...SPECIAL, ...randomDoubles(200, 3)].map((a) => [a]), [0, 1], true));
  it('double2float (0x7C)', () => {
    const xs = [...SPECIAL, ...randomDoubles(100, 5)];
    const rnd = prng(17);
    for (let i = 0; i < 100; i++) xs.push(big(rnd(), ((rnd() & 0x80000000) | ((0x380 + (rnd() % 0x100)) << 20) | (rnd() & 0xfffff)) >>> 0));
    xs.push(d(2 ** -126 - 2 ** -150), d(2 ** -126 - 2 ** -150 - 2 ** -170), d(2 ** -126 - 2 ** -151), d(3.4028235677973366e38));
    checkAgainstRef(SD.double2float, 'd2f', xs.map((a) => [a]), [0], false);
  });
});

describe('SD special values from the ROM documentation', () => {
  const INF = 0x7ff0000000000000n;
  const NINF = 0xfff0000000000000n;
  const op = (off: number, a: bigint, b: bigint): bigint => {
    const r = callSd(off, [...halves(a), ...halves(b)]);
    return big(r[0]!, r[1]!);
  };
  it('add/sub/mul/div follow the float rules', () => {
    expect(op(SD.dsub, INF, INF)).toBe(INF);
    expect(op(SD.dadd, NINF, INF)).toBe(INF);
    expect(op(SD.dadd, 0x7ff8000000000000n, d(1))).toBe(INF); // dadd(NaN, 1) -> +inf
    expect(op(SD.dsub, d(1), d(1))).toBe(0n);
    expect(op(SD.dadd, 0x8000000000000000n, 0x8000000000000000n)).toBe(0x8000000000000000n);
    expect(op(SD.dmul, 0n, INF)).toBe(INF);
    expect(op(SD.dmul, 0x8000000000000000n, INF)).toBe(NINF);
    expect(op(SD.dmul, d(1 - 2 ** -53), 0x0010000000000000n)).toBe(0x0010000000000000n);
    expect(op(SD.dmul, d(0.5), 0x0010000000000000n)).toBe(0n);
    expect(op(SD.dmul, 0x7fefffffffffffffn, d(-2))).toBe(NINF);
    expect(op(SD.ddiv, 0n, 0n)).toBe(INF);
    expect(op(SD.ddiv, d(1), 0x8000000000000000n)).toBe(NINF);
    expect(op(SD.ddiv, d(1), 1n)).toBe(INF);
    expect(op(SD.ddiv, d(-1), INF)).toBe(0x8000000000000000n);
    expect(op(SD.ddiv, INF, INF)).toBe(INF);
  });
  it('dsqrt: negative -> -inf, -0 -> -0', () => {
    const s = (a: bigint): bigint => {
      const r = callSd(SD.dsqrt, halves(a));
      return big(r[0]!, r[1]!);
    };
    expect(s(d(-4))).toBe(NINF);
    expect(s(0x8000000000000000n)).toBe(0x8000000000000000n);
    expect(s(0x7ff8000000000000n)).toBe(INF);
    expect(s(d(2))).toBe(d(Math.SQRT2));
  });
  it('double2float: NaN -> signed inf, rounding to nearest even, overflow to inf', () => {
    const f = (a: bigint): number => callSd(SD.double2float, halves(a), [0])[0]!;
    expect(f(0xfff8000000000000n)).toBe(0xff800000);
    expect(f(d(1 + 2 ** -24))).toBe(0x3f800000); // tie to even
    expect(f(d(1 + 3 * 2 ** -24))).toBe(0x3f800002);
    expect(f(d(3.4028235677973366e38))).toBe(0x7f800000);
    expect(f(d(-1e-300))).toBe(0x80000000);
    expect(f(d(2 ** -126 - 2 ** -150))).toBe(0x00800000); // truncated significand all ones
  });
});

const NS = [0, 1, 2, 5, 16, -1, -3, 31, 32, 40, 52, 64, -64, 100, 200, -200, 1100, -1100];

describe('SD double -> integer conversions (floor, saturate)', () => {
  const xs = [...SPECIAL, ...randomDoubles(40, 13), d(-0.5), d(-1.5), d(2.5), d(-2147483648.5), d(4294967295.5), d(-(2 ** 63) - 4096)];
  const one = (a: bigint): Arg[] => [a];
  const withN = (a: bigint): Arg[][] => NS.map((n) => [a, { n }]);
  it('double2int (0x1C)', () => checkAgainstRef(SD.double2int, '2int', xs.map(one), [0], false));
  it('double2uint (0x24)', () => checkAgainstRef(SD.double2uint, '2uint', xs.map(one), [0], false));
  it('double2fix (0x20)', () => checkAgainstRef(SD.double2fix, '2fix', xs.flatMap(withN), [0], false));
  it('double2ufix (0x28)', () => checkAgainstRef(SD.double2ufix, '2ufix', xs.flatMap(withN), [0], false));
  it('double2int64 (0x6C)', () => checkAgainstRef(SD.double2int64, '2int64', xs.map(one), [0, 1], true));
  it('double2uint64 (0x74)', () => checkAgainstRef(SD.double2uint64, '2uint64', xs.map(one), [0, 1], true));
  it('double2fix64 (0x70)', () => checkAgainstRef(SD.double2fix64, '2fix64', xs.flatMap(withN), [0, 1], true));
  it('double2ufix64 (0x78)', () => checkAgainstRef(SD.double2ufix64, '2ufix64', xs.flatMap(withN), [0, 1], true));
  it('documented examples', () => {
    expect(callSd(SD.double2uint, halves(0x7ff8000000000000n), [0])[0]).toBe(0xffffffff); // d2uiz(NaN)
    expect(callSd(SD.double2int, halves(0x800fffffffffffffn), [0])[0]).toBe(0);
    expect(callSd(SD.double2int, halves(d(-0.25)), [0])[0]).toBe(0xffffffff);
    expect(callSd(SD.double2fix, [...halves(d(1)), 40], [0])[0]).toBe(0x7fffffff);
    expect(callSd(SD.double2fix, [...halves(d(-1)), -200 >>> 0], [0])[0]).toBe(0xffffffff);
  });
});

describe('SD integer -> double conversions', () => {
  const rnd = prng(99);
  const ints = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 12345678, 0xfedcba98];
  for (let i = 0; i < 20; i++) ints.push(rnd());
  const i64: bigint[] = [0n, 1n, (1n << 64n) - 1n, 1n << 63n, (1n << 63n) - 1n, (1n << 53n) + 1n, (1n << 54n) + 3n, (1n << 63n) + (1n << 10n) + 1n];
  for (let i = 0; i < 20; i++) i64.push(big(rnd(), rnd() >>> (rnd() % 32)));
  it('int2double (0x2C)', () => checkAgainstRef(SD.int2double, 'int2', ints.map((w) => [{ w }]), [0, 1], true));
  it('uint2double (0x34)', () => checkAgainstRef(SD.uint2double, 'uint2', ints.map((w) => [{ w }]), [0, 1], true));
  it('fix2double (0x30)', () =>
    checkAgainstRef(SD.fix2double, 'fix2', ints.flatMap((w) => NS.map((n) => [{ w }, { n }])), [0, 1], true));
  it('ufix2double (0x38)', () =>
    checkAgainstRef(SD.ufix2double, 'ufix2', ints.flatMap((w) => NS.map((n) => [{ w }, { n }])), [0, 1], true));
  it('int642double (0x5C)', () => checkAgainstRef(SD.int642double, 'int642', i64.map((v) => [v]), [0, 1], true));
  it('uint642double (0x64)', () => checkAgainstRef(SD.uint642double, 'uint642', i64.map((v) => [v]), [0, 1], true));
  it('fix642double (0x60)', () =>
    checkAgainstRef(SD.fix642double, 'fix642', i64.flatMap((v) => NS.map((n) => [v, { n }])), [0, 1], true));
  it('ufix642double (0x68)', () =>
    checkAgainstRef(SD.ufix642double, 'ufix642', i64.flatMap((v) => NS.map((n) => [v, { n }])), [0, 1], true));
});

describe('SD compares', () => {
  const xs = [...SPECIAL, ...randomDoubles(10, 21)];
  it('dcmp (0x54) flushes denormals and treats NaN as infinity', () => checkAgainstRef(SD.dcmp, 'cmp', pairs(xs), [0], false));
  it('dcmp_fast (0x10) compares encodings', () => checkAgainstRef(SD.dcmp_fast, 'cmp_fast', pairs(xs), [0], false));
  it('dcmp_fast_flags (0x14) sets N/Z/C/V', () => {
    checkAgainstRef(SD.dcmp_fast_flags, 'cmp_fast', pairs(xs), [0], false);
    const core = rig.mcu.core;
    for (const [a, b, res] of [
      [d(-1), d(1), 0xffffffff],
      [d(1), d(-1), 1],
      [0x8000000000000000n, 0n, 0],
    ] as Array<[bigint, bigint, number]>) {
      const r = callSd(SD.dcmp_fast_flags, [...halves(a), ...halves(b)], [0]);
      expect(r[0]).toBe(res);
      expect([core.N, core.Z, core.C, core.V]).toEqual([res === 0xffffffff, res === 0, true, false]);
    }
  });
});

function pyMath(expr: string[]): Array<bigint | null> {
  const src = `import math,struct,json\nres=[]\nfor e in ${JSON.stringify(expr)}:\n  v=eval(e)\n  res.append(str(struct.unpack('<Q',struct.pack('<d',v))[0]) if math.isfinite(v) else None)\nprint(json.dumps(res))`;
  return (JSON.parse(execFileSync('python3', ['-c', src]).toString()) as Array<string | null>).map((s) => (s === null ? null : BigInt(s)));
}

describe('SD scientific functions', () => {
  const xs = [0.5, -0.5, 1, -1, 2, 3, -3, 0.001, 10, -10, 100, 1000.5, 1e-6, 0.75, 1.25];
  const ulps = (a: bigint, b: bigint): bigint => (a > b ? a - b : b - a);
  const call1 = (off: number, x: number, results = [0, 1]): bigint => {
    const r = callSd(off, halves(d(x)), results);
    return big(r[0]!, r[1]!);
  };
  function within(off: number, pyFn: string, inputs: number[], results = [0, 1]): void {
    const exp = pyMath(inputs.map((x) => `${pyFn}(${x.toPrecision(17)})`));
    inputs.forEach((x, i) => {
      if (exp[i] === null) return;
      expect(ulps(call1(off, x, results), exp[i]!) <= 2n, `${pyFn}(${x})`).toBe(true);
    });
  }
  it('dsin (0x40)', () => within(SD.dsin, 'math.sin', xs));
  it('dcos (0x3C)', () => within(SD.dcos, 'math.cos', xs));
  it('dtan (0x44)', () => within(SD.dtan, 'math.tan', xs));
  it('dsincos (0x48): sin in r0:r1, cos in r2:r3', () => {
    const [s, c] = pyMath(['math.sin(1.25)', 'math.cos(1.25)']);
    const r = callSd(SD.dsincos, halves(d(1.25)), [0, 1, 2, 3]);
    expect(ulps(big(r[0]!, r[1]!), s!) <= 1n).toBe(true);
    expect(ulps(big(r[2]!, r[3]!), c!) <= 1n).toBe(true);
  });
  it('dexp (0x4C)', () => {
    within(SD.dexp, 'math.exp', xs.filter((x) => x < 700));
    expect(call1(SD.dexp, Infinity)).toBe(0x7ff0000000000000n);
    expect(call1(SD.dexp, -Infinity)).toBe(0n);
    expect(call1(SD.dexp, 1000)).toBe(0x7ff0000000000000n);
  });
  it('dln (0x50)', () => {
    within(SD.dln, 'math.log', xs.filter((x) => x > 0));
    expect(call1(SD.dln, 0)).toBe(0xfff0000000000000n);
    expect(call1(SD.dln, -2)).toBe(0xfff0000000000000n);
    expect(call1(SD.dln, Infinity)).toBe(0x7ff0000000000000n);
  });
  it('datan2 (0x58): y in r0:r1, x in r2:r3', () => {
    const pts: Array<[number, number]> = [[1, 1], [1, -1], [-1, -1], [0.5, 2], [-3, 0.25], [0, -1], [2, 0]];
    const exp = pyMath(pts.map(([y, x]) => `math.atan2(${y},${x})`));
    pts.forEach(([y, x], i) => {
      const r = callSd(SD.datan2, [...halves(d(y)), ...halves(d(x))]);
      expect(ulps(big(r[0]!, r[1]!), exp[i]!) <= 1n, `atan2(${y},${x})`).toBe(true);
    });
  });
  it('never returns NaN', () => {
    for (const off of [SD.dsin, SD.dcos, SD.dtan, SD.dexp, SD.dln]) {
      for (const x of [0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n]) {
        const r = callSd(off, halves(x));
        const v = big(r[0]!, r[1]!) & 0x7fffffffffffffffn;
        expect(v > 0x7ff0000000000000n, `0x${off.toString(16)}(${hex(x)})`).toBe(false);
      }
    }
  });
});

describe('SD table shape', () => {
  it('has 32 odd entries, distinct from the SF entries', () => {
    const sd = Array.from({ length: 32 }, (_, i) => rig.sdEntry(i));
    const sf = Array.from({ length: 32 }, (_, i) => rig.sfEntry(i));
    expect(sd.every((e) => (e & 1) === 1 && e < 0x4000)).toBe(true);
    expect(new Set([...sd, ...sf]).size).toBe(64);
  });
});
