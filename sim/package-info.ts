/**
 * Where the package is installed and which version it is. The same code runs from the sources
 * (`sim/`, through tsx) and compiled (`dist/sim/`), so paths are found by walking up to the
 * package's own package.json rather than by a fixed number of `..`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'picow-sim';

let root: string | null = null;
let version: string | null = null;

/** The folder holding picow-sim's package.json (the repo, or node_modules/picow-sim). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME) {
        version = pkg.version ?? '0.0.0';
        return (root = dir);
      }
    } catch {
      // no package.json here: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return (root = dirname(dirname(fileURLToPath(import.meta.url))));
    dir = up;
  }
}

/** The package's version, or 0.0.0 when its package.json cannot be read. */
export function packageVersion(): string {
  if (version === null) {
    packageRoot();
    version ??= '0.0.0';
  }
  return version;
}
