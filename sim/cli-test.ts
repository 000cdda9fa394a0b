/**
 * `picow-sim test [PATHS…]`: many scenario files (and Wokwi projects) in parallel worker
 * processes, each board isolated (its own process, LAN and servers on free ports), split by
 * `--shard I/N` for a CI matrix, with one merged JUnit file and a summary table.
 * Exit codes: 0 all passed, 1 any failed, 2 any malformed (or bad arguments).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, sep } from 'node:path';
import type { CliIo } from './cli.ts';
import { UsageError } from './errors.ts';
import { EventStream } from './events.ts';
import { resolveFirmware } from './firmware.ts';
import { packageVersion } from './package-info.ts';
import { collectItems, parseShard, shardItems, type Shard } from './runner/collect.ts';
import type { RunItem } from './runner/kinds.ts';
import { runAll, stopAll } from './runner/run-all.ts';
import { exitCodeOfAll, mergedJunit, summaryTable } from './runner/summary.ts';

export interface TestOptions {
  paths: string[];
  jobs: number;
  shard: Shard | null;
  junit: string | null;
  json: boolean;
  firmware: string | null;
  offline: boolean;
  /** Wall-clock seconds per item. */
  timeout: number | null;
  quiet: boolean;
  verbose: boolean;
  help: boolean;
}

const USAGE = `Usage: picow-sim test [PATHS…] [options]

  Runs scenario files in parallel worker processes, each file with its own board, LAN and servers
  (on free host ports; the board still reaches each at 10.0.2.2 and its scenario port).
  PATHS: scenario files, folders (their YAML files with a top-level expect: key, searched
  recursively, skipping hidden folders and node_modules) and globs ('ci/**/*.yaml'); default: .
  A folder with a wokwi.toml or diagram.json is a Wokwi project, run as 'picow-sim wokwi' would
  with its scenario (the YAML file in it with a steps: key).
  Exit 0 when every file passed, 1 when any failed, 2 when any is malformed.

Options:
  --jobs N          worker processes, each running files in turn (default: the number of cores, here ${availableParallelism()})
  --shard I/N       run only the I-th of N deterministic slices (for a CI matrix), e.g. --shard 2/4
  --junit FILE      write one JUnit XML report for all files
  --json            newline-delimited JSON events on stdout (each with "file"), then a "summary"
  --timeout SECONDS give up on a file after SECONDS of wall-clock time
  --firmware PATH   the UF2 (default PICOW_FIRMWARE, then the cache); a scenario's firmware: key wins
  --offline         never download the firmware
  --quiet           only the summary table
  --verbose         the workers' informational log lines too
`;

function int(opt: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min) throw new UsageError(`${opt} ${JSON.stringify(v)}: expected a whole number of at least ${min} (example: ${opt} 4)`);
  return n;
}

export function parseTestArgs(argv: string[]): TestOptions {
  const o: TestOptions = {
    paths: [],
    jobs: availableParallelism(),
    shard: null,
    junit: null,
    json: false,
    firmware: null,
    offline: false,
    timeout: null,
    quiet: false,
    verbose: false,
    help: false,
  };
  const withValue: Record<string, (v: string) => void> = {
    '--jobs': (v) => void (o.jobs = int('--jobs', v, 1)),
    '-j': (v) => void (o.jobs = int('--jobs', v, 1)),
    '--shard': (v) => void (o.shard = parseShard(v)),
    '--junit': (v) => void (o.junit = v),
    '--firmware': (v) => void (o.firmware = v),
    '--timeout': (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout ${JSON.stringify(v)}: expected seconds (example: --timeout 300)`);
      o.timeout = n;
    },
  };
  const flags: Record<string, () => void> = {
    '--json': () => void (o.json = true),
    '--offline': () => void (o.offline = true),
    '--quiet': () => void (o.quiet = true),
    '--verbose': () => void (o.verbose = true),
    '--help': () => void (o.help = true),
    '-h': () => void (o.help = true),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      o.paths.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (flags[name]) {
      if (eq > 0) throw new UsageError(`${name} takes no value (got '${a}')`);
      flags[name]();
    } else if (withValue[name]) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value; see picow-sim test --help`);
      withValue[name](v);
    } else {
      throw new UsageError(`unknown option '${name}' for picow-sim test; see picow-sim test --help`);
    }
  }
  if (o.quiet && o.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  return o;
}

/** A path as the user would type it: relative to the working folder when inside it, `/`-separated. */
function shown(p: string): string {
  const rel = relative(process.cwd(), p);
  const s = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
  return sep === '/' ? s : s.split(sep).join('/');
}

export async function testCommand(argv: string[], io: CliIo): Promise<number> {
  const o = parseTestArgs(argv);
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const events = o.json ? new EventStream((line) => io.stdout.write(line)) : null;
  const say = (text: string): void => {
    if (events) events.emit({ type: 'status', message: text });
    else if (!o.quiet) io.stderr.write(`picow-sim: ${text}\n`);
  };
  const all = collectItems(o.paths);
  const items: RunItem[] = o.shard ? shardItems(all, o.shard) : all;
  // Found (or downloaded into the cache) once here, not by every worker at the same time.
  const firmware =
    items.length > 0
      ? (await resolveFirmware({ option: o.firmware ?? undefined, env: io.env, offline: o.offline, progress: o.quiet || o.json ? null : io.stderr })).path
      : undefined;
  events?.emit({ type: 'start', mode: 'test', version: packageVersion() });
  const jobs = Math.min(o.jobs, Math.max(1, items.length));
  say(
    `${items.length} file${items.length === 1 ? '' : 's'}${o.shard ? ` (shard ${o.shard.index}/${o.shard.count} of ${all.length})` : ''}, ` +
      `${jobs} at a time`,
  );
  const onSignal = (): void => stopAll();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const start = performance.now();
  try {
    const results = await runAll({
      items,
      jobs,
      name: (i) => shown(i.path),
      firmware,
      offline: o.offline,
      wallTimeoutMs: o.timeout !== null ? o.timeout * 1000 : undefined,
      verbose: o.verbose,
      env: io.env,
      onEvent: events ? (e) => io.stdout.write(JSON.stringify(e) + '\n') : undefined,
      onDone: (r) => {
        if (events || o.quiet) return;
        io.stderr.write(`picow-sim: ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'BAD '} ${r.name} (${r.wallSeconds.toFixed(1)} s)\n`);
      },
    });
    const wallSeconds = (performance.now() - start) / 1000;
    const code = exitCodeOfAll(results);
    if (o.junit) {
      try {
        writeFileSync(o.junit, mergedJunit(results));
      } catch (e) {
        throw new UsageError(`--junit ${o.junit}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    if (events) {
      const n = (s: string): number => results.filter((r) => r.status === s).length;
      events.emit({ type: 'summary', exitCode: code, files: results.length, passed: n('pass'), failed: n('fail'), malformed: n('malformed'), wallSeconds });
      return code;
    }
    // The failures' reports first, then the table.
    for (const r of results) {
      if (r.status === 'pass' || o.quiet) continue;
      io.stdout.write(`\n── ${r.name} ──\n${r.report || r.message || `exit ${r.exitCode}`}\n`);
    }
    io.stdout.write(`\n${summaryTable(results, wallSeconds)}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
