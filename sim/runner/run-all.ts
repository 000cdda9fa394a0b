/**
 * Runs the items of `picow-sim test` in worker processes, `jobs` at a time, and collects each
 * one's verdict, events, report and JUnit suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvent, type SimEvent } from '../events.ts';
import type { RunItem } from './kinds.ts';
import type { WorkerJob } from './worker.ts';

export type ItemStatus = 'pass' | 'fail' | 'malformed';

export interface ItemResult {
  item: RunItem;
  /** The path as shown (relative to the working folder). */
  name: string;
  status: ItemStatus;
  exitCode: number;
  simSeconds: number;
  /** Wall time of the worker process, start to exit. */
  wallSeconds: number;
  /** Why the run stopped or could not start (malformed file, board fault, crash). */
  message: string | null;
  /** The readable report (and any warnings) the worker printed. */
  report: string;
  /** The worker's JUnit XML, if it wrote one. */
  junit: string | null;
}

export interface RunAllOptions {
  items: readonly RunItem[];
  /** Workers at a time. */
  jobs: number;
  name: (item: RunItem) => string;
  firmware?: string;
  offline?: boolean;
  wallTimeoutMs?: number;
  verbose?: boolean;
  env?: Record<string, string | undefined>;
  /** Every event of every worker, with `file` set. */
  onEvent?: (e: SimEvent) => void;
  /** Each item as it finishes. */
  onDone?: (r: ItemResult) => void;
}

/** How to start a worker: the compiled worker.js, or worker.ts through tsx in a checkout. */
function workerCommand(): string[] {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./worker.ts', self))];
  }
  return [fileURLToPath(new URL('./worker.js', self))];
}

/** The worker processes still running (ended by `stopAll` on Ctrl-C). */
const running = new Set<ChildProcess>();

export function stopAll(): void {
  for (const c of running) if (c.pid) c.kill('SIGTERM');
}

export async function runAll(o: RunAllOptions): Promise<ItemResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'picow-test-'));
  const cmd = workerCommand();
  const results: ItemResult[] = new Array(o.items.length);
  let next = 0;
  const one = (index: number): Promise<void> =>
    new Promise((done) => {
      const item = o.items[index]!;
      const name = o.name(item);
      const job: WorkerJob = {
        item,
        junitFile: join(dir, `${index}.xml`),
        firmware: o.firmware,
        offline: o.offline,
        wallTimeoutMs: o.wallTimeoutMs,
        verbose: o.verbose,
      };
      const start = performance.now();
      const child = spawn(process.execPath, [...cmd, JSON.stringify(job)], {
        env: { ...(o.env ?? process.env) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      let result: Extract<SimEvent, { type: 'result' }> | null = null;
      let partial = '';
      let report = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const e = parseEvent(line);
          if (!e) continue;
          if (e.type === 'result') result = e;
          o.onEvent?.({ ...e, file: name });
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        if (report.length < 1 << 20) report += chunk;
      });
      child.on('close', (code, signal) => {
        running.delete(child);
        const r = result as Extract<SimEvent, { type: 'result' }> | null;
        const exitCode = r ? r.exitCode : code === 0 ? 1 : (code ?? 1);
        let junit: string | null = null;
        try {
          junit = readFileSync(job.junitFile, 'utf8');
        } catch {
          // malformed or crashed: no suite written
        }
        const crashed = !r ? `the worker ended without a result (${signal ? `signal ${signal}` : `exit ${code}`})` : null;
        const res: ItemResult = {
          item,
          name,
          status: exitCode === 0 ? 'pass' : exitCode === 2 ? 'malformed' : 'fail',
          exitCode: exitCode === 0 || exitCode === 2 ? exitCode : 1,
          simSeconds: r?.simSeconds ?? 0,
          wallSeconds: (performance.now() - start) / 1000,
          message: r?.message ?? crashed,
          report: report.trimEnd(),
          junit,
        };
        results[index] = res;
        o.onDone?.(res);
        done();
      });
    });
  const lane = async (): Promise<void> => {
    while (next < o.items.length) await one(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, o.items.length)) }, lane));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
