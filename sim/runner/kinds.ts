/**
 * The kinds of thing `picow-sim test` runs, and how a path is recognised as one. Each kind is
 * run in a worker process by `runItem` (worker.ts).
 *
 * Wokwi projects: a folder with a `wokwi.toml` or a `diagram.json` (or either file itself), run
 * by the Wokwi front end (`picow-sim wokwi`, sim/wokwi/command.ts) with the project's scenario.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.ts';

/** The files that make a folder a Wokwi project. */
const WOKWI_FILES = ['wokwi.toml', 'diagram.json'];

export type ItemKind = 'scenario' | 'wokwi';

export interface RunItem {
  kind: ItemKind;
  /** Absolute path: the scenario file, or the Wokwi project's folder. */
  path: string;
}

/** The kind of a path, or null when it is none of them. */
export function itemKindOf(path: string, isDir: boolean): ItemKind | null {
  if (isDir) return WOKWI_FILES.some((f) => existsSync(join(path, f))) ? 'wokwi' : null;
  if (WOKWI_FILES.includes(basename(path))) return 'wokwi';
  return /\.ya?ml$/i.test(path) ? 'scenario' : null;
}

/**
 * `picow-sim wokwi`'s arguments for a project folder: its Wokwi scenario (the one YAML file in it
 * with a `steps:` key), if it has one; without one the project runs to its expect text or timeout.
 */
export function wokwiProjectArgs(dir: string): string[] {
  const scenarios = readdirSync(dir)
    .filter((n) => /\.ya?ml$/i.test(n) && /^steps\s*:/m.test(readFileSync(join(dir, n), 'utf8')))
    .sort();
  if (scenarios.length > 1) {
    throw new UsageError(`${dir}: several Wokwi scenarios (${scenarios.join(', ')}); picow-sim test runs a project with one`);
  }
  return scenarios.length ? ['--scenario', scenarios[0]!] : [];
}
