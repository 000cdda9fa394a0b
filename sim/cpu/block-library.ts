/**
 * Translations kept for the whole process, shared by every chip and core in it.
 *
 * A board that runs the same firmware as one before it — the next file of `picow-sim test` in
 * the same worker, a second `--board`, a new board in each test of a test file — reaches the
 * same hot code. Translating it again would cost the same V8 compile (and the same slow,
 * unoptimized first thousands of runs) as the first time. Instead:
 *
 *  - a block function depends on nothing but its source (`BlockFn` takes its env per call), so
 *    one compiled function serves every source-identical translation (`compile`). (A factory
 *    `(env) => block` per source, one closure per chip, was measured too: V8 then specializes a
 *    process's first board to its env, ~5 % faster in the steady state, but the boards after it
 *    ran 10–20 % slower than the first — bench `boards` fell to 0.78–0.90 of one board alone,
 *    against 0.90–0.97 here. Measured as well: a fresh `new Function` of the kept source per chip (V8
 *    answers it from its eval cache): one board's steady state as before this library, ~5 % faster
 *    than here, but a third board's first run 0.96 s against 0.72 s, `picow-sim test` 8 files
 *    15.6–16.2 s / 10.8–11.4 s with 1 / 2 workers against 13.6–14.3 s / 9.8–10.5 s, and bench
 *    `boards` 0.84–0.89);
 *  - each translation is kept with a copy of the bytes it was translated from (its code and the
 *    literal words it loads); a cache may take it again at the same entry PC when its own memory
 *    holds exactly those bytes (`recall`), without a translation or a compile, and after only a
 *    few arrivals (the function V8 already optimized repays itself at once).
 *
 * Bounded by the total length of the sources kept (`SOURCE_CAP`); the least recently used go
 * first (a chip's cache keeps its own blocks' functions alive regardless).
 */
import { fetch16, type BlockCode, type BlockFn, type MemoryViews } from './translate.ts';

/** A translation kept for the process. */
export interface KeptBlock {
  readonly code: BlockCode;
  readonly fn: BlockFn;
  /** The translator options it was made with (see `optionsKey`). */
  readonly key: string;
  /** The bytes of `code.ranges`, in order, as they were when it was translated. */
  readonly bytes: Uint8Array;
}

/** Cap on the sources kept (characters; V8 keeps about three bytes per character). */
export const SOURCE_CAP = 16 * 1024 * 1024;

const bySource = new Map<string, KeptBlock>();
const byPc = new Map<number, KeptBlock[]>();
let chars = 0;

/** The bytes of the ranges [start, end) as the translator read them (halfword fetches). */
function rangeBytes(views: MemoryViews, ranges: readonly (readonly [number, number])[]): Uint8Array | null {
  let n = 0;
  for (const [a, b] of ranges) n += b - a;
  const out = new Uint8Array(n);
  let i = 0;
  for (const [a, b] of ranges) {
    for (let p = a; p < b; p += 2) {
      const h = fetch16(views, p);
      if (h < 0) return null;
      out[i++] = h & 0xff;
      if (p + 1 < b) out[i++] = h >>> 8;
    }
  }
  return out;
}

/** Whether `views` hold the bytes `kept` was translated from (a recall is rare: once per entry and window). */
function sameBytes(views: MemoryViews, kept: KeptBlock): boolean {
  const now = rangeBytes(views, kept.code.ranges);
  return now !== null && now.length === kept.bytes.length && now.every((b, i) => b === kept.bytes[i]);
}

/** Forget `kept` (the source cap was reached). */
function drop(kept: KeptBlock): void {
  bySource.delete(kept.code.source);
  chars -= kept.code.source.length;
  const list = byPc.get(kept.code.pc);
  if (list === undefined) return;
  const i = list.indexOf(kept);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) byPc.delete(kept.code.pc);
}

/**
 * The function for a fresh translation, compiled once per source in the process; the
 * translation is kept for `recall` (with the bytes `views` hold for it now).
 */
export function compile(code: BlockCode, views: MemoryViews, key: string): BlockFn {
  const known = bySource.get(code.source);
  if (known !== undefined) {
    bySource.delete(code.source);
    bySource.set(code.source, known);
    return known.fn;
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = (new Function(code.source) as () => BlockFn)();
  const bytes = rangeBytes(views, code.ranges);
  if (bytes === null) return fn;
  const kept: KeptBlock = { code, fn, key, bytes };
  bySource.set(code.source, kept);
  chars += code.source.length;
  let list = byPc.get(code.pc);
  if (list === undefined) byPc.set(code.pc, (list = []));
  list.push(kept);
  for (const [, oldest] of bySource) {
    if (chars <= SOURCE_CAP) break;
    drop(oldest);
  }
  return fn;
}

/** A kept translation at entry `pc`, made with options `key`, whose bytes `views` hold now. */
export function recall(pc: number, views: MemoryViews, key: string): KeptBlock | undefined {
  const list = byPc.get(pc);
  if (list === undefined) return undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const kept = list[i]!;
    if (kept.key !== key || !sameBytes(views, kept)) continue;
    bySource.delete(kept.code.source);
    bySource.set(kept.code.source, kept);
    return kept;
  }
  return undefined;
}

/** Whether the process keeps any translation at all. */
export function anyKept(): boolean {
  return bySource.size > 0;
}
