/**
 * Values over simulated time: the inputs of every sensor model. A timeline maps simulated
 * seconds (since power-on) to a number (°C, volts...). Timelines are pure functions of time, so a
 * value does not depend on how often or in which order it is read; noise is derived from a seed and
 * the time, which makes a run reproducible.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

export interface Timeline {
  /** The value at `seconds` of simulated time, noise included. */
  valueAt(seconds: number): number;
  /** The value without noise: what a reading is checked against. */
  meanAt(seconds: number): number;
  /** One-line human description, for reports. */
  readonly description: string;
}

/** A point of a piecewise timeline: at `t` seconds, `value`. */
export interface TimePoint {
  t: number;
  value: number;
}

function plain(description: string, f: (s: number) => number): Timeline {
  return { valueAt: f, meanAt: f, description };
}

function checkFinite(what: string, v: number): void {
  if (!Number.isFinite(v)) throw new UsageError(`${what} must be a finite number (got ${v})`);
}

function sortedPoints(what: string, points: readonly TimePoint[]): TimePoint[] {
  if (points.length === 0) throw new UsageError(`${what} needs at least one point`);
  for (const p of points) {
    checkFinite(`${what}: time`, p.t);
    checkFinite(`${what}: value`, p.value);
  }
  const out = [...points].sort((a, b) => a.t - b.t);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.t === out[i - 1]!.t) throw new UsageError(`${what}: two points at ${out[i]!.t} s`);
  }
  return out;
}

/** Index of the last point with `t <= s`, or -1 when `s` is before the first point. */
function lastAtOrBefore(points: readonly TimePoint[], s: number): number {
  let lo = 0;
  let hi = points.length - 1;
  if (s < points[0]!.t) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (points[mid]!.t <= s) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The same value at every time. */
export function constant(value: number): Timeline {
  checkFinite('constant', value);
  return plain(`constant ${value}`, () => value);
}

/**
 * A staircase: from each point's time on, its value holds until the next point. Before the first
 * point the first value holds.
 */
export function steps(points: readonly TimePoint[]): Timeline {
  const pts = sortedPoints('steps', points);
  return plain(`steps (${pts.length})`, (s) => pts[Math.max(0, lastAtOrBefore(pts, s))]!.value);
}

/**
 * Straight lines between points; before the first and after the last point the end values hold.
 */
export function points(pointList: readonly TimePoint[]): Timeline {
  const pts = sortedPoints('points', pointList);
  return plain(`points (${pts.length})`, (s) => interpolate(pts, s));
}

function interpolate(pts: readonly TimePoint[], s: number): number {
  const i = lastAtOrBefore(pts, s);
  if (i < 0) return pts[0]!.value;
  if (i >= pts.length - 1) return pts[pts.length - 1]!.value;
  const a = pts[i]!;
  const b = pts[i + 1]!;
  return a.value + ((b.value - a.value) * (s - a.t)) / (b.t - a.t);
}

export interface RampOptions {
  from: number;
  to: number;
  /** Seconds at which the ramp leaves `from` (default 0). */
  start?: number;
  /** Seconds at which it reaches `to`. */
  end: number;
}

/** `from` until `start`, a straight line to `to` at `end`, then `to`. */
export function ramp(o: RampOptions): Timeline {
  const start = o.start ?? 0;
  if (!(o.end > start)) throw new UsageError(`ramp: end (${o.end} s) must be after start (${start} s)`);
  const pts = sortedPoints('ramp', [
    { t: start, value: o.from },
    { t: o.end, value: o.to },
  ]);
  return plain(`ramp ${o.from}→${o.to} over ${start}…${o.end} s`, (s) => interpolate(pts, s));
}

export interface SineOptions {
  mean: number;
  amplitude: number;
  /** Seconds per cycle. */
  period: number;
  /** Seconds by which the wave is shifted (the value at `phase` is `mean`, rising). */
  phase?: number;
}

export function sine(o: SineOptions): Timeline {
  checkFinite('sine: mean', o.mean);
  checkFinite('sine: amplitude', o.amplitude);
  if (!(o.period > 0)) throw new UsageError(`sine: period must be > 0 (got ${o.period})`);
  const phase = o.phase ?? 0;
  return plain(`sine ${o.mean}±${o.amplitude} period ${o.period} s`, (s) =>
    o.mean + o.amplitude * Math.sin((2 * Math.PI * (s - phase)) / o.period),
  );
}

/** The sum of several timelines (e.g. a ramp plus a daily sine). */
export function sum(parts: readonly Timeline[]): Timeline {
  if (parts.length === 0) throw new UsageError('sum needs at least one timeline');
  return {
    valueAt: (s) => parts.reduce((acc, p) => acc + p.valueAt(s), 0),
    meanAt: (s) => parts.reduce((acc, p) => acc + p.meanAt(s), 0),
    description: parts.map((p) => p.description).join(' + '),
  };
}

/** `base` shifted by `offset` (handy to derive one sensor from another). */
export function offset(base: Timeline, by: number): Timeline {
  checkFinite('offset', by);
  return {
    valueAt: (s) => base.valueAt(s) + by,
    meanAt: (s) => base.meanAt(s) + by,
    description: `${base.description} ${by >= 0 ? '+' : '-'} ${Math.abs(by)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reproducible noise

/**
 * A 32-bit integer hash of (seed, index): a stateless generator, so the noise at a given time is the
 * same whatever was read before. Multiply-xorshift rounds in the style of a finaliser.
 */
export function hash32(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index >>> 0), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h ^ Math.floor(index / 0x100000000), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in (0, 1), never exactly 0 or 1. */
export function uniform01(seed: number, index: number): number {
  return (hash32(seed, index) + 0.5) / 0x100000000;
}

/** Standard normal deviate (Box–Muller) for (seed, index). */
export function gaussian(seed: number, index: number): number {
  const u1 = uniform01(seed, 2 * index);
  const u2 = uniform01(seed, 2 * index + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export interface NoiseOptions {
  /** Standard deviation (gaussian) or half-width (uniform), in the timeline's unit. */
  sigma: number;
  seed: number;
  /** 'gaussian' (default) or 'uniform'. */
  kind?: 'gaussian' | 'uniform';
  /**
   * Seconds over which one noise sample holds (default 0.001): reads within the same interval see
   * the same noise, like a sensor that settles.
   */
  interval?: number;
}

/** `base` plus reproducible noise: the same seed gives the same value at the same time. */
export function withNoise(base: Timeline, o: NoiseOptions): Timeline {
  if (!(o.sigma >= 0) || !Number.isFinite(o.sigma)) throw new UsageError(`noise: sigma must be >= 0 (got ${o.sigma})`);
  if (!Number.isInteger(o.seed)) throw new UsageError(`noise: seed must be an integer (got ${o.seed})`);
  const interval = o.interval ?? 0.001;
  if (!(interval > 0)) throw new UsageError(`noise: interval must be > 0 (got ${interval})`);
  const kind = o.kind ?? 'gaussian';
  const seed = o.seed >>> 0;
  const noiseAt = (s: number): number => {
    const index = Math.floor(s / interval);
    const i = index < 0 ? 0 : index;
    return kind === 'uniform' ? o.sigma * (2 * uniform01(seed, i) - 1) : o.sigma * gaussian(seed, i);
  };
  return {
    valueAt: (s) => base.valueAt(s) + noiseAt(s),
    meanAt: (s) => base.meanAt(s),
    description: `${base.description} with ${kind} noise σ=${o.sigma} seed ${o.seed}`,
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * Points from CSV text: two columns, seconds then value, comma/semicolon/tab separated; an optional
 * header line; `#` comments and blank lines ignored. Values between points are interpolated.
 */
export function parseCsvPoints(text: string, source = 'CSV'): TimePoint[] {
  const out: TimePoint[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    const t = Number(cells[0]);
    const v = Number(cells[1]);
    if (cells.length < 2 || cells[0] === '' || cells[1] === '' || !Number.isFinite(t) || !Number.isFinite(v)) {
      if (out.length === 0 && !Number.isFinite(t)) continue; // header line
      throw new UsageError(`${source}:${i + 1}: expected "seconds,value", got "${line}"`);
    }
    out.push({ t, value: v });
  }
  if (out.length === 0) throw new UsageError(`${source}: no data rows`);
  for (let i = 1; i < out.length; i++) {
    if (!(out[i]!.t > out[i - 1]!.t)) throw new UsageError(`${source}: times must increase (row with ${out[i]!.t} s)`);
  }
  return out;
}

export function csvTimeline(text: string, source = 'CSV'): Timeline {
  const pts = parseCsvPoints(text, source);
  const tl = points(pts);
  return { ...tl, description: `${source} (${pts.length} points)` };
}

// ---------------------------------------------------------------------------------------------
// Declarative form (what a scenario file holds)

export type TimelineSpec =
  | number
  | {
      constant?: number;
      steps?: TimePoint[];
      points?: TimePoint[];
      ramp?: RampOptions;
      sine?: SineOptions;
      csv?: string;
      sum?: TimelineSpec[];
      offset?: number;
      noise?: NoiseOptions;
    };

export const TIMELINE_KINDS = ['constant', 'steps', 'points', 'ramp', 'sine', 'csv', 'sum'] as const;

export interface BuildOptions {
  /** Folder that relative CSV paths are resolved against. */
  baseDir?: string;
  /** File reader (tests); defaults to reading UTF-8 from disk. */
  readFile?: (path: string) => string;
}

/** Build a timeline from its declarative form. Exactly one kind key; `offset` and `noise` apply on top. */
export function buildTimeline(spec: TimelineSpec, opts: BuildOptions = {}): Timeline {
  if (typeof spec === 'number') return constant(spec);
  const kinds = TIMELINE_KINDS.filter((k) => spec[k] !== undefined);
  if (kinds.length !== 1) {
    throw new UsageError(
      kinds.length === 0
        ? `a timeline needs one of: ${TIMELINE_KINDS.join(', ')}`
        : `a timeline takes only one of ${kinds.join(', ')}`,
    );
  }
  let tl: Timeline;
  switch (kinds[0]!) {
    case 'constant':
      tl = constant(spec.constant!);
      break;
    case 'steps':
      tl = steps(spec.steps!);
      break;
    case 'points':
      tl = points(spec.points!);
      break;
    case 'ramp':
      tl = ramp(spec.ramp!);
      break;
    case 'sine':
      tl = sine(spec.sine!);
      break;
    case 'csv': {
      const file = spec.csv!;
      const full = isAbsolute(file) ? file : resolve(opts.baseDir ?? process.cwd(), file);
      let text: string;
      try {
        text = (opts.readFile ?? ((p) => readFileSync(p, 'utf8')))(full);
      } catch (e) {
        throw new UsageError(`${file}: cannot read CSV timeline (${(e as Error).message})`);
      }
      tl = csvTimeline(text, file);
      break;
    }
    case 'sum':
      tl = sum(spec.sum!.map((s) => buildTimeline(s, opts)));
      break;
  }
  if (spec.offset !== undefined) tl = offset(tl, spec.offset);
  if (spec.noise !== undefined) tl = withNoise(tl, spec.noise);
  return tl;
}

export const NANOS_PER_SECOND = 1e9;

/** Simulated nanoseconds → timeline seconds. */
export function nanosToSeconds(nanos: number): number {
  return nanos / NANOS_PER_SECOND;
}
