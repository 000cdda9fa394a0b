/**
 * Value Change Dump (IEEE 1364-2005 §18) of the circuit's pins, for GTKWave and PulseView: one
 * module per part, one 1-bit wire per pin (`pico.GP15`, `led1.A`, `btn1.1_l`: characters other than
 * letters, digits and `_` become `_`, as viewers split names at `.`), times in nanoseconds of simulated
 * time. Changes are kept in memory (up to `maxChanges`, then the dump stops with a note) and the
 * file is written at the end, declaring only the signals that changed.
 */
import { writeFileSync } from 'node:fs';
import type { Level } from './netlist.ts';

export const VCD_DEFAULT_MAX_CHANGES = 5_000_000;

type Value = '0' | '1' | 'z';

interface Signal {
  scope: string;
  name: string;
  first: Value;
  changed: boolean;
}

/** The VCD identifier for signal number `i`: printable ASCII 33–126, base 94. */
export function vcdId(i: number): string {
  let s = '';
  do {
    s += String.fromCharCode(33 + (i % 94));
    i = Math.floor(i / 94);
  } while (i > 0);
  return s;
}

const valueOf = (l: Level | null): Value => (l === null ? 'z' : l === 1 ? '1' : '0');
const vcdName = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

export class VcdRecorder {
  private readonly signals = new Map<string, Signal>();
  private readonly changes: { nanos: number; key: string; value: Value }[] = [];
  private last = new Map<string, Value>();
  truncatedAt: number | null = null;

  constructor(readonly maxChanges = VCD_DEFAULT_MAX_CHANGES) {}

  /** A pin `scope:name` has `level` from simulated time `nanos`. */
  record(node: string, level: Level | null, nanos: number): void {
    const value = valueOf(level);
    const i = node.indexOf(':');
    const key = node;
    let s = this.signals.get(key);
    if (!s) {
      s = { scope: node.slice(0, i), name: node.slice(i + 1), first: value, changed: false };
      this.signals.set(key, s);
      this.last.set(key, value);
      if (nanos === 0) return;
      s.first = 'z';
      this.last.set(key, 'z');
    }
    if (this.last.get(key) === value) return;
    if (this.truncatedAt !== null) return;
    if (this.changes.length >= this.maxChanges) {
      this.truncatedAt = nanos;
      return;
    }
    s.changed = true;
    this.last.set(key, value);
    this.changes.push({ nanos: Math.round(nanos), key, value });
  }

  get changeCount(): number {
    return this.changes.length;
  }

  /** The dump as text; `endNanos` closes it with a last timestamp. */
  render(endNanos: number, date = new Date()): string {
    const used = [...this.signals.entries()].filter(([, s]) => s.changed);
    const ids = new Map<string, string>();
    used.forEach(([k], i) => ids.set(k, vcdId(i)));
    const byScope = new Map<string, [string, Signal][]>();
    for (const e of used) {
      const list = byScope.get(e[1].scope);
      if (list) list.push(e);
      else byScope.set(e[1].scope, [e]);
    }
    const out: string[] = [
      `$date ${date.toUTCString()} $end`,
      '$version picow-sim wokwi $end',
      '$timescale 1ns $end',
      '$scope module circuit $end',
    ];
    for (const [scope, list] of [...byScope].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`$scope module ${vcdName(scope)} $end`);
      for (const [k, s] of list) out.push(`$var wire 1 ${ids.get(k)} ${vcdName(s.name)} $end`);
      out.push('$upscope $end');
    }
    out.push('$upscope $end', '$enddefinitions $end', '#0', '$dumpvars');
    for (const [k, s] of used) out.push(`${s.first}${ids.get(k)}`);
    out.push('$end');
    let t = 0;
    for (const c of this.changes) {
      if (!ids.has(c.key)) continue;
      if (c.nanos !== t) {
        out.push(`#${c.nanos}`);
        t = c.nanos;
      }
      out.push(`${c.value}${ids.get(c.key)}`);
    }
    if (this.truncatedAt !== null) out.push(`$comment dump stopped after ${this.maxChanges} changes at ${this.truncatedAt} ns $end`);
    const end = Math.max(t, Math.round(endNanos));
    if (end > t) out.push(`#${end}`);
    return out.join('\n') + '\n';
  }

  write(file: string, endNanos: number): void {
    writeFileSync(file, this.render(endNanos));
  }
}
