import { describe, expect, it } from 'vitest';
import { UsageError } from '../../sim/errors.ts';
import {
  buildTimeline,
  constant,
  csvTimeline,
  points,
  ramp,
  sine,
  steps,
  sum,
  withNoise,
} from '../../sim/sensors/timeline.ts';

describe('timelines', () => {
  it('constant and steps', () => {
    expect(constant(21.5).valueAt(1e6)).toBe(21.5);
    const s = steps([
      { t: 60, value: 25 },
      { t: 0, value: 20 },
      { t: 120, value: 22 },
    ]);
    expect(s.valueAt(-5)).toBe(20);
    expect(s.valueAt(0)).toBe(20);
    expect(s.valueAt(59.999)).toBe(20);
    expect(s.valueAt(60)).toBe(25);
    expect(s.valueAt(119)).toBe(25);
    expect(s.valueAt(1000)).toBe(22);
  });

  it('points interpolate linearly and hold at the ends', () => {
    const p = points([
      { t: 0, value: 20 },
      { t: 300, value: 30 },
      { t: 600, value: 25 },
    ]);
    expect(p.valueAt(-1)).toBe(20);
    expect(p.valueAt(150)).toBeCloseTo(25, 12);
    expect(p.valueAt(450)).toBeCloseTo(27.5, 12);
    expect(p.valueAt(601)).toBe(25);
    expect(() => points([])).toThrow(UsageError);
    expect(() => points([{ t: 1, value: 1 }, { t: 1, value: 2 }])).toThrow(/two points at 1 s/);
  });

  it('ramp and sine', () => {
    const r = ramp({ from: 10, to: 40, start: 100, end: 400 });
    expect(r.valueAt(0)).toBe(10);
    expect(r.valueAt(200)).toBeCloseTo(20, 12);
    expect(r.valueAt(500)).toBe(40);
    expect(() => ramp({ from: 0, to: 1, start: 5, end: 5 })).toThrow(UsageError);
    const w = sine({ mean: 22, amplitude: 3, period: 600 });
    expect(w.valueAt(0)).toBeCloseTo(22, 12);
    expect(w.valueAt(150)).toBeCloseTo(25, 12);
    expect(w.valueAt(450)).toBeCloseTo(19, 12);
    const shifted = sine({ mean: 0, amplitude: 1, period: 4, phase: 1 });
    expect(shifted.valueAt(2)).toBeCloseTo(1, 12);
  });

  it('composes: sum of a ramp and a sine, with noise on top', () => {
    const base = sum([ramp({ from: 0, to: 10, end: 10 }), sine({ mean: 0, amplitude: 1, period: 4 })]);
    expect(base.valueAt(1)).toBeCloseTo(2, 12); // 1 + sin(π/2)
    const noisy = withNoise(base, { sigma: 0.5, seed: 1, kind: 'uniform' });
    for (let i = 0; i < 1000; i++) {
      const s = i * 0.0137;
      expect(Math.abs(noisy.valueAt(s) - base.valueAt(s))).toBeLessThanOrEqual(0.5);
      expect(noisy.meanAt(s)).toBe(base.valueAt(s));
    }
  });

  it('noise depends only on seed and time, not on read order', () => {
    const a = withNoise(constant(0), { sigma: 1, seed: 99 });
    const b = withNoise(constant(0), { sigma: 1, seed: 99 });
    const times = [0.5, 0.1, 7, 0.1000001, 3.3];
    const forward = times.map((t) => a.valueAt(t));
    const backward = [...times].reverse().map((t) => b.valueAt(t)).reverse();
    expect(backward).toEqual(forward);
    // Within one 1 ms interval the sample holds; the next interval differs.
    expect(a.valueAt(0.1)).toBe(a.valueAt(0.1000001));
    expect(a.valueAt(0.1)).not.toBe(a.valueAt(0.102));
  });
});

describe('CSV timelines', () => {
  it('parses a header, comments and separators, and interpolates', () => {
    const tl = csvTimeline('seconds,celsius\n# warm-up\n0,20\n\n10;30\n20\t10\n', 'room.csv');
    expect(tl.valueAt(5)).toBeCloseTo(25, 12);
    expect(tl.valueAt(15)).toBeCloseTo(20, 12);
    expect(tl.valueAt(99)).toBe(10);
    expect(tl.description).toBe('room.csv (3 points)');
  });

  it('names the file and line of a bad row', () => {
    expect(() => csvTimeline('t,v\n0,1\n5,abc\n', 'x.csv')).toThrow(/x\.csv:3: expected "seconds,value"/);
    expect(() => csvTimeline('0,1\n0,2\n', 'y.csv')).toThrow(/times must increase/);
    expect(() => csvTimeline('t,v\n', 'z.csv')).toThrow(/no data rows/);
  });
});

describe('buildTimeline', () => {
  it('builds each kind from its declarative form', () => {
    expect(buildTimeline(5).valueAt(9)).toBe(5);
    expect(buildTimeline({ constant: 7, offset: -2 }).valueAt(0)).toBe(5);
    expect(buildTimeline({ ramp: { from: 0, to: 100, end: 100 } }).valueAt(25)).toBeCloseTo(25, 12);
    const files: Record<string, string> = { '/data/t.csv': '0,1\n2,3\n' };
    const csv = buildTimeline({ csv: 't.csv' }, { baseDir: '/data', readFile: (p) => files[p]! });
    expect(csv.valueAt(1)).toBeCloseTo(2, 12);
    const s = buildTimeline({ sum: [1, { sine: { mean: 0, amplitude: 2, period: 8 } }] });
    expect(s.valueAt(2)).toBeCloseTo(3, 12);
    const n1 = buildTimeline({ constant: 0, noise: { sigma: 1, seed: 5 } });
    const n2 = buildTimeline({ constant: 0, noise: { sigma: 1, seed: 5 } });
    expect(n1.valueAt(12.3456)).toBe(n2.valueAt(12.3456));
    expect(n1.valueAt(12.3456)).not.toBe(0);
  });

  it('rejects zero or several kinds and unreadable files', () => {
    expect(() => buildTimeline({})).toThrow(/needs one of/);
    expect(() => buildTimeline({ constant: 1, ramp: { from: 0, to: 1, end: 1 } })).toThrow(/only one of constant, ramp/);
    expect(() =>
      buildTimeline({ csv: 'missing.csv' }, { readFile: () => { throw new Error('ENOENT'); } }),
    ).toThrow(/missing\.csv: cannot read CSV timeline/);
  });
});
