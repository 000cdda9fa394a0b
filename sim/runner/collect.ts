/**
 * What `picow-sim test PATHS…` runs: files, folders and globs expanded into a sorted list of
 * items, and the deterministic `--shard I/N` split of that list for a CI matrix.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import { itemKindOf, type RunItem } from './kinds.ts';

/** Folders never searched: hidden ones (.git, .github…) and installed packages. */
function skippedFolder(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

const GLOB_CHARS = /[*?[{]/;

/** A glob (`*`, `?`, `**`, `{a,b}`, `[abc]`) over `/`-separated paths, as a regular expression. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` anything below.
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:[^/]*/)*' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((p) => p.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
          .join('|')})`;
        i = end;
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A YAML file found inside a folder counts as a scenario when it has a top-level `expect:` key. */
function looksLikeScenario(file: string): boolean {
  try {
    return /^expect\s*:/m.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** Every item below a folder (a Wokwi project folder is one item; it is not searched further). */
function walk(dir: string, out: RunItem[], filter?: (rel: string) => boolean, root = dir): void {
  const own = itemKindOf(dir, true);
  if (own && dir !== root) {
    if (!filter || filter(posix(relative(root, dir)))) out.push({ kind: own, path: dir });
    return;
  }
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!skippedFolder(e.name)) walk(p, out, filter, root);
    } else if (e.isFile()) {
      const kind = itemKindOf(p, false);
      if (!kind) continue;
      if (filter ? filter(posix(relative(root, p))) : kind !== 'scenario' || looksLikeScenario(p)) out.push({ kind, path: p });
    }
  }
}

function posix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** Expand PATHS (relative to `cwd`) into items, each once, sorted by path. */
export function collectItems(paths: readonly string[], cwd = process.cwd()): RunItem[] {
  const found: RunItem[] = [];
  for (const arg of paths.length ? paths : ['.']) {
    const before = found.length;
    if (GLOB_CHARS.test(arg) && !existsSync(resolve(cwd, arg))) {
      const parts = posix(arg).split('/');
      const first = parts.findIndex((p) => GLOB_CHARS.test(p));
      const base = resolve(cwd, parts.slice(0, first).join('/') || '.');
      const re = globRegExp(parts.slice(first).join('/'));
      if (existsSync(base) && statSync(base).isDirectory()) walk(base, found, (rel) => re.test(rel));
      if (found.length === before) throw new UsageError(`'${arg}' matches no scenario file or Wokwi project`);
      continue;
    }
    const p = resolve(cwd, arg);
    if (!existsSync(p)) throw new UsageError(`'${arg}': no such file or folder`);
    if (statSync(p).isDirectory()) {
      const kind = itemKindOf(p, true);
      if (kind) found.push({ kind, path: p });
      else walk(p, found);
      if (found.length === before && paths.length) throw new UsageError(`'${arg}' holds no scenario file (a YAML file with an expect: key) or Wokwi project`);
    } else {
      // A file named on the command line is a scenario whatever it holds (a bad one is reported as malformed).
      const kind = itemKindOf(p, false) ?? 'scenario';
      found.push({ kind, path: kind === 'wokwi' ? dirname(p) : p });
    }
  }
  const seen = new Set<string>();
  return found
    .filter((i) => (seen.has(i.path) ? false : (seen.add(i.path), true)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `I/N` with 1 ≤ I ≤ N. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${JSON.stringify(v)}: expected I/N with 1 ≤ I ≤ N (example: --shard 2/4)`);
  }
  return { index, count };
}

/**
 * The items of one shard: item k of the sorted list (paths relative to `cwd`, `/`-separated, so
 * every machine of the matrix sorts alike) goes to shard (k mod N) + 1.
 */
export function shardItems(items: readonly RunItem[], shard: Shard, cwd = process.cwd()): RunItem[] {
  const key = (i: RunItem): string => posix(relative(cwd, i.path));
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).filter((_, k) => k % shard.count === shard.index - 1);
}
