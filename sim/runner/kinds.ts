/**
 * The kinds of thing `picow-sim test` runs, and how a path is recognised as one. Each kind is
 * run in a worker process by `runItem` (worker.ts).
 *
 * Wokwi projects: a folder with a `wokwi.toml` (or that file itself) is collected as a `wokwi`
 * item already; once sim/wokwi/ can run a project headlessly, its runner goes into `runItem`'s
 * `wokwi` case (it reports through the same EventStream and returns a ScenarioResult-like
 * verdict), and nothing else here changes.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

export type ItemKind = 'scenario' | 'wokwi';

export interface RunItem {
  kind: ItemKind;
  /** Absolute path: the scenario file, or the Wokwi project's folder. */
  path: string;
}

/** The kind of a path, or null when it is none of them. */
export function itemKindOf(path: string, isDir: boolean): ItemKind | null {
  if (isDir) return existsSync(join(path, 'wokwi.toml')) ? 'wokwi' : null;
  if (basename(path) === 'wokwi.toml') return 'wokwi';
  return /\.ya?ml$/i.test(path) ? 'scenario' : null;
}
