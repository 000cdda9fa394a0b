/**
 * Runs the items of `picow-sim test` in `jobs` worker processes (no more than there are items),
 * each running its share one item after another, and collects each item's verdict, events,
 * report and JUnit suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvent, type SimEvent } from '../events.ts';
import type { RunItem } from './kinds.ts';
import type { WorkerJob, WorkerMessage } from './worker.ts';

export type ItemStatus = 'pass' | 'fail' | 'malformed';

export interface ItemResult {
  item: RunItem;
  /** The path as shown (relative to the working folder). */
  name: string;
  status: ItemStatus;
  exitCode: number;
  simSeconds: number;
  /** Wall time of the item in its worker, given to done. */
  wallSeconds: number;
  /** Why the run stopped or could not start (malformed file, board fault, crash). */
  message: string | null;
  /** The readable report (and any warnings) the worker printed. */
  report: string;
  /** The worker's JUnit XML, if it wrote one. */
  junit: string | null;
  /** The worker process that ran it (a worker runs several items one after another). */
  workerPid: number;
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

/**
 * How to start a worker: the compiled worker.js, or worker.ts through tsx in a checkout.
 *
 * When the workers fill the machine's cores, each runs V8 single-threaded: a board's CPU engine
 * has V8 compile its translated blocks on background threads, work a lone worker gets done on an
 * idle core for free, but which workers on every core only fight over (bench/package.ts: on 2
 * cores, 8 items with 2 workers took about a tenth less CPU in all, and less wall time).
 */
function workerCommand(jobs: number): string[] {
  const flags = jobs >= availableParallelism() ? ['--single-threaded'] : [];
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    return [...flags, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./worker.ts', self))];
  }
  return [...flags, fileURLToPath(new URL('./worker.js', self))];
}

/** The worker processes still running (ended by `stopAll` on Ctrl-C). */
const running = new Set<ChildProcess>();
/** Set by `stopAll`: no more items are started. */
let stopping = false;

export function stopAll(): void {
  stopping = true;
  for (const c of running) if (c.pid) c.kill('SIGTERM');
}

/** The most of an item's report kept (a chatty item cannot fill the runner's memory). */
const MAX_REPORT = 1 << 20;

/** How an item ended in its worker: its exit code, or the worker's end without one. */
type Outcome = { done: number } | { crashed: string };

/** One item's run in a worker: its events and report as they come, then how it ended. */
interface Current {
  onLine(line: string): void;
  report: string;
  end(o: Outcome): void;
}

function addReport(c: Current, text: string): void {
  if (c.report.length < MAX_REPORT) c.report += text.slice(0, MAX_REPORT - c.report.length);
}

/**
 * A worker process (worker.ts) that runs items one after another. An item that crashes it
 * (no `done`) ends it; the lane starts a new one for the next item.
 */
class Worker {
  readonly child: ChildProcess;
  private current: Current | null = null;
  private readonly closed: Promise<void>;
  alive = true;

  constructor(cmd: string[], env: Record<string, string | undefined>) {
    this.child = spawn(process.execPath, cmd, { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    running.add(this.child);
    this.child.on('message', (m: WorkerMessage) => {
      const c = this.current;
      if (!c) return;
      if ('line' in m) c.onLine(m.line);
      else if ('report' in m) addReport(c, m.report);
      else {
        this.current = null;
        if (m.retire) this.alive = false;
        c.end({ done: m.done });
      }
    });
    // Output that bypassed the channel (a crash's stack trace): the item's report.
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        if (this.current) addReport(this.current, chunk);
      });
    }
    // Ended: exited, and its output read to the end ('close' does not come once the runner
    // disconnected the channel).
    const ended = (stream: NodeJS.ReadableStream): Promise<void> => new Promise((r) => stream.once('close', () => r()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => {
      this.child.once('exit', (code, signal) => r([code, signal]));
      this.child.once('error', () => r([null, null])); // could not be started
    });
    this.closed = Promise.all([exited, ended(this.child.stdout!), ended(this.child.stderr!)]).then(([[code, signal]]) => {
      running.delete(this.child);
      this.alive = false;
      const c = this.current;
      this.current = null;
      c?.end({ crashed: `the worker ended without a result (${signal ? `signal ${signal}` : `exit ${code}`})` });
    });
  }

  /** Run one item; resolves when the worker says it is done (or ends). */
  run(job: WorkerJob, onLine: (line: string) => void): Promise<{ outcome: Outcome; report: string }> {
    return new Promise((resolve) => {
      const current: Current = {
        onLine,
        report: '',
        end: (outcome) => resolve({ outcome, report: current.report }),
      };
      this.current = current;
      this.child.send(job, (err) => {
        if (err && this.current === current) {
          this.current = null;
          current.end({ crashed: `the worker could not be given the item (${err.message})` });
        }
      });
    });
  }

  /** Let the worker exit (it does once the channel closes) and wait for it. */
  async stop(): Promise<void> {
    if (this.alive && this.child.connected) this.child.disconnect();
    await this.closed;
  }
}

export async function runAll(o: RunAllOptions): Promise<ItemResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'picow-test-'));
  stopping = false;
  const lanes = Math.max(1, Math.min(o.jobs, o.items.length));
  const cmd = workerCommand(lanes);
  const results: ItemResult[] = new Array(o.items.length);
  let next = 0;
  const one = async (worker: Worker, index: number): Promise<void> => {
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
    let result: Extract<SimEvent, { type: 'result' }> | null = null;
    const { outcome, report } = await worker.run(job, (line) => {
      const e = parseEvent(line.trimEnd());
      if (!e) return;
      if (e.type === 'result') result = e;
      o.onEvent?.({ ...e, file: name });
    });
    const r = result as Extract<SimEvent, { type: 'result' }> | null;
    const exitCode = r ? r.exitCode : 'done' in outcome && outcome.done !== 0 ? outcome.done : 1;
    let junit: string | null = null;
    try {
      junit = readFileSync(job.junitFile, 'utf8');
    } catch {
      // malformed or crashed: no suite written
    }
    const crashed = !r ? ('crashed' in outcome ? outcome.crashed : `the worker gave no result (exit ${outcome.done})`) : null;
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
      workerPid: worker.child.pid ?? 0,
    };
    results[index] = res;
    o.onDone?.(res);
  };
  /** A lane: one worker process running items one after another (a new one if an item ended it). */
  const lane = async (): Promise<void> => {
    let worker: Worker | null = null;
    try {
      while (!stopping && next < o.items.length) {
        if (!worker?.alive) {
          await worker?.stop();
          worker = new Worker(cmd, o.env ?? process.env);
        }
        await one(worker, next++);
      }
    } finally {
      await worker?.stop();
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
    // Items never started (the run was stopped) fail, so the summary and exit code say so.
    for (const [index, item] of o.items.entries()) {
      results[index] ??= {
        item,
        name: o.name(item),
        status: 'fail',
        exitCode: 1,
        simSeconds: 0,
        wallSeconds: 0,
        message: 'not run: the run was interrupted',
        report: '',
        junit: null,
        workerPid: 0,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
