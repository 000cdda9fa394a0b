/**
 * Checking a scenario's expectations against what a run observed: serial output with the
 * simulated time it arrived, readings the collector stored, and the LED's changes. Pure functions
 * of the observations, so they are tested with synthetic inputs and reused by the runner while the
 * board runs (to stop as soon as everything is decided) and once at the end.
 */
import type { Timeline } from '../sensors/timeline.ts';
import { describeWindow, formatSeconds, type Expectation, type Scenario, type Window } from './schema.ts';
import { sensorTimeline } from './parse.ts';

export interface SerialChunk {
  /** Simulated seconds when the bytes arrived. */
  t: number;
  text: string;
}

export interface CollectedReading {
  /** Simulated seconds when the collector stored it. */
  t: number;
  celsius: number;
  /** `?sensor=` id, or null. */
  sensor: string | null;
  /** Which embedded server stored it. */
  server: string;
}

export interface LedChange {
  t: number;
  on: boolean;
}

/** Everything a run observed, appended in time order. */
export class Observations {
  readonly serial: SerialChunk[] = [];
  readonly readings: CollectedReading[] = [];
  readonly led: LedChange[] = [];
  private text = '';
  /** Offset in `text` where each serial chunk starts. */
  private readonly offsets: number[] = [];

  private readonly boards = new Map<string, Observations>();

  /** What one board showed (its serial and LED), of a run with several boards. */
  board(name: string): Observations {
    let o = this.boards.get(name);
    if (!o) this.boards.set(name, (o = new Observations()));
    return o;
  }

  /** Serial text at `t`; with `board`, also in that board's own observations. */
  addSerial(t: number, text: string, board?: string): void {
    if (text === '') return;
    if (board !== undefined) this.board(board).addSerial(t, text);
    this.serial.push({ t, text });
    this.offsets.push(this.text.length);
    this.text += text;
  }

  addReading(r: CollectedReading): void {
    this.readings.push(r);
  }

  addLed(t: number, on: boolean): void {
    const last = this.led[this.led.length - 1];
    if (last && last.on === on) return;
    this.led.push({ t, on });
  }

  get serialText(): string {
    return this.text;
  }

  /** Index of the first chunk at or after `t`. */
  private chunkAt(t: number): number {
    let lo = 0;
    let hi = this.serial.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.serial[mid]!.t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The serial text that arrived within the window, with a function from offset to time. */
  serialIn(w: Window): { text: string; timeAt: (offset: number) => number } {
    const first = this.chunkAt(w.from);
    const end = w.until === undefined ? this.serial.length : this.chunkAfter(w.until);
    const start = first < this.offsets.length ? this.offsets[first]! : this.text.length;
    const stop = end < this.offsets.length ? this.offsets[end]! : this.text.length;
    const text = this.text.slice(start, stop);
    const timeAt = (offset: number): number => {
      const abs = start + offset;
      let lo = first;
      let hi = Math.max(first, end - 1);
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.offsets[mid]! <= abs) lo = mid;
        else hi = mid - 1;
      }
      return this.serial[lo]?.t ?? w.from;
    };
    return { text, timeAt };
  }

  /** Index of the first chunk after `t`. */
  private chunkAfter(t: number): number {
    let lo = 0;
    let hi = this.serial.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.serial[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** LED state at `t`: the last change at or before it (off before any change). */
  ledAt(t: number): boolean {
    let on = false;
    for (const c of this.led) {
      if (c.t > t) break;
      on = c.on;
    }
    return on;
  }
}

export type Status = 'pass' | 'fail' | 'pending';

interface CollectorState {
  next: number;
  readings: CollectedReading[];
  bad: string[];
}
const collectorState = new WeakMap<Observations, Map<Expectation, CollectorState>>();

export interface ExpectationResult {
  expectation: Expectation;
  status: Status;
  /** One line: what was expected. */
  summary: string;
  /** Why it failed (or what was found), possibly several lines. */
  detail: string;
}

function inWindow(t: number, w: Window): boolean {
  return t >= w.from && (w.until === undefined || t <= w.until);
}

function fmt(v: number): string {
  return String(+v.toFixed(4));
}

/** The last lines of a text, for failure reports. */
export function tailLines(text: string, n: number): string {
  const lines = text.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/** Range of a timeline's noise-free value over [a, b], sampled finely enough for smooth inputs. */
export function timelineRange(tl: Timeline, a: number, b: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const n = b > a ? 64 : 0;
  for (let i = 0; i <= n; i++) {
    const v = tl.meanAt(n === 0 ? b : a + ((b - a) * i) / n);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

export function summarize(e: Expectation, s?: Scenario): string {
  switch (e.kind) {
    case 'serial': {
      const verb = e.absent ? (e.regex ? 'does not match' : 'does not contain') : e.regex ? 'matches' : 'contains';
      const what = e.regex ? `/${e.regex.source}/` : JSON.stringify(e.text);
      return `${e.board ? `${e.board}'s ` : ''}serial output ${verb} ${what} ${describeWindow(e.window)}`;
    }
    case 'collector': {
      const against = e.against
        ? `, each within ±${e.tolerance} of ${e.against}${s ? ` (${sensorTimeline(s, e.against)?.timeline.description ?? '?'})` : ''}`
        : '';
      return `collector "${e.server}" received at least ${e.readings} reading${e.readings === 1 ? '' : 's'}${e.sensorId ? ` from sensor ${e.sensorId}` : ''} ${describeWindow(e.window)}${against}`;
    }
    case 'led':
      return `${e.board ? `${e.board}'s ` : ''}LED is ${e.on ? 'on' : 'off'} at ${formatSeconds(e.at)}`;
  }
}

/**
 * The status of one expectation given the observations up to simulated time `now`. With `final`,
 * the run is over: anything still pending fails (or, for "never" expectations, passes).
 */
export function evaluate(e: Expectation, all: Observations, now: number, scenario?: Scenario, final = false): ExpectationResult {
  const obs = e.kind !== 'collector' && e.board !== undefined ? all.board(e.board) : all;
  const summary = summarize(e, scenario);
  const result = (status: Status, detail = ''): ExpectationResult => ({ expectation: e, status, summary, detail });
  const windowOver = (w: Window): boolean => w.until !== undefined && now >= w.until;
  switch (e.kind) {
    case 'serial': {
      const { text, timeAt } = obs.serialIn(e.window);
      let at = -1;
      if (e.regex) {
        const m = new RegExp(e.regex.source, e.regex.flags.replace('g', '')).exec(text);
        if (m) at = m.index;
      } else at = text.indexOf(e.text!);
      if (e.absent) {
        if (at >= 0) {
          const line = text.slice(text.lastIndexOf('\n', at) + 1).split('\n')[0];
          return result('fail', `seen at ${formatSeconds(timeAt(at))}: ${JSON.stringify(line)}`);
        }
        return windowOver(e.window) || final ? result('pass') : result('pending');
      }
      if (at >= 0) return result('pass', `seen at ${formatSeconds(timeAt(at))}`);
      if (windowOver(e.window) || final) {
        const tail = tailLines(text, 8);
        return result('fail', `not seen${final && !windowOver(e.window) ? ` by the end of the run (${formatSeconds(now)})` : ''}; ${tail ? `last serial lines in the window:\n${tail}` : 'no serial output in the window'}`);
      }
      return result('pending');
    }
    case 'collector': {
      // Readings only accumulate: each is checked once and the verdicts kept per observation set.
      let perObs = collectorState.get(obs);
      if (!perObs) collectorState.set(obs, (perObs = new Map()));
      let st = perObs.get(e);
      if (!st) perObs.set(e, (st = { next: 0, readings: [], bad: [] }));
      const tl = e.against && scenario ? sensorTimeline(scenario, e.against)?.timeline : undefined;
      for (; st.next < obs.readings.length; st.next++) {
        const r = obs.readings[st.next]!;
        if (r.server !== e.server || !inWindow(r.t, e.window) || (e.sensorId !== undefined && r.sensor !== e.sensorId)) continue;
        st.readings.push(r);
        if (!tl) continue;
        const { min, max } = timelineRange(tl, Math.max(0, r.t - e.lag), r.t);
        if (r.celsius < min - e.tolerance || r.celsius > max + e.tolerance) {
          const expected = max - min < 1e-9 ? fmt(min) : `${fmt(min)}…${fmt(max)}`;
          st.bad.push(`at ${formatSeconds(r.t)}: got ${fmt(r.celsius)}, expected ${expected} ±${e.tolerance}`);
        }
      }
      const readings = st.readings;
      const bad = st.bad;
      if (bad.length > 0) {
        const shown = bad.slice(0, 5).join('\n');
        return result('fail', `${bad.length} of ${readings.length} readings out of tolerance:\n${shown}${bad.length > 5 ? `\n… and ${bad.length - 5} more` : ''}`);
      }
      const enough = readings.length >= e.readings;
      const found = `${readings.length} reading${readings.length === 1 ? '' : 's'}`;
      if (enough && (e.window.until === undefined || windowOver(e.window) || final)) return result('pass', found);
      if (!enough && (windowOver(e.window) || final)) {
        const last = readings[readings.length - 1];
        return result('fail', `only ${found}${last ? `; the last at ${formatSeconds(last.t)}: ${fmt(last.celsius)}` : ''}${final && !windowOver(e.window) ? ` by the end of the run (${formatSeconds(now)})` : ''}`);
      }
      return result('pending', found);
    }
    case 'led': {
      if (now < e.at && !final) return result('pending');
      if (now < e.at) return result('fail', `the run ended at ${formatSeconds(now)}, before ${formatSeconds(e.at)}`);
      const on = obs.ledAt(e.at);
      if (on === e.on) return result('pass');
      const last = [...obs.led].reverse().find((c) => c.t <= e.at);
      return result('fail', `it was ${on ? 'on' : 'off'}${last ? ` (since ${formatSeconds(last.t)})` : ' (never switched)'}`);
    }
  }
}

export function evaluateAll(s: Scenario, obs: Observations, now: number, final = false): ExpectationResult[] {
  return s.expect.map((e) => evaluate(e, obs, now, s, final));
}

/** Whether every expectation is decided, so the run may stop. */
export function allDecided(results: readonly ExpectationResult[]): boolean {
  return results.every((r) => r.status !== 'pending');
}

/** Simulated times at which some expectation may change from pending to decided without new input. */
export function deadlines(s: Scenario): number[] {
  const out = new Set<number>();
  for (const e of s.expect) {
    if (e.kind === 'led') out.add(e.at);
    else if (e.window.until !== undefined) out.add(e.window.until);
  }
  return [...out].sort((a, b) => a - b);
}
