/**
 * A worker process of `picow-sim test`: `node worker.js`, started by the runner (run-all.ts) with
 * an IPC channel. It runs the items the runner sends (`WorkerJob`), one after another, keeping
 * its loaded modules and V8's compiled code between them; each item builds its own board, LAN
 * and servers (on free host ports) and closes them before the next. For each item it sends, in
 * order: the `--json` event lines (sim/events.ts, ending with the `result`), the readable report
 * (everything written to stderr meanwhile), then `done` with the item's exit code (0 passed, 1
 * failed, 2 malformed); the JUnit suite goes to `job.junitFile`. It exits when the runner
 * disconnects.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { EventStream } from '../events.ts';
import { PicowSimError } from '../errors.ts';
import { Logger } from '../log.ts';
import { wokwiProjectArgs, type RunItem } from './kinds.ts';
import { leftovers } from './leftovers.ts';

export interface WorkerJob {
  item: RunItem;
  junitFile: string;
  firmware?: string;
  offline?: boolean;
  /** Wall-clock limit for the item. */
  wallTimeoutMs?: number;
  verbose?: boolean;
}

/**
 * What a worker sends its runner, in order, for each item. `retire`: the item left something
 * running (a timer, a socket, a board past its wall-clock limit); the worker exits instead of
 * taking another item.
 */
export type WorkerMessage = { line: string } | { report: string } | { done: number; retire?: boolean };

async function runItem(job: WorkerJob, events: EventStream, logger: Logger): Promise<number> {
  switch (job.item.kind) {
    case 'scenario': {
      const { runScenarioFile } = await import('../scenario/index.ts');
      const r = await runScenarioFile(job.item.path, {
        firmware: job.firmware,
        env: process.env,
        offline: job.offline,
        junitFile: job.junitFile,
        wallTimeoutMs: job.wallTimeoutMs,
        logger,
        events,
        isolatePorts: true,
        onSerial: (text) => events.console(text, 'usb'),
        print: (text) => process.stderr.write(text + '\n'),
      });
      return r.exitCode;
    }
    case 'wokwi':
      return runWokwiItem(job, job.item.path, events);
  }
}

/**
 * A Wokwi project through `picow-sim wokwi` (sim/wokwi/command.ts) with its scenario: events on
 * stdout, the scenario's log and verdict on stderr, a JUnit suite with the verdict. wokwi-cli's
 * exit codes other than 0 and 2 (1 a failed step, 42 the simulated timeout…) count as failed.
 */
async function runWokwiItem(job: WorkerJob, dir: string, events: EventStream): Promise<number> {
  const { runWokwi } = await import('../wokwi/command.ts');
  const start = performance.now();
  const argv = [dir, ...wokwiProjectArgs(dir), '--server-port', '0'];
  if (job.firmware) argv.push('--firmware', job.firmware);
  if (job.offline) argv.push('--offline');
  if (job.verbose) argv.push('--verbose');
  // The run's last words on stderr are its verdict (the failed step, the timeout).
  let message: string | null = null;
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const first = chunk.toString('utf8').trim().split('\n')[0];
      if (first) message = first.replace(/^picow-sim: /, '');
      process.stderr.write(chunk, () => done());
    },
  });
  const run = runWokwi(argv, { stdin: process.stdin, stdout: process.stderr, stderr, env: process.env, events });
  const wall = job.wallTimeoutMs;
  const code = await (wall
    ? Promise.race([run, new Promise<number>((r) => setTimeout(() => ((message = `no verdict after ${wall / 1000} s of wall time`), r(1)), wall).unref())])
    : run);
  const exitCode = code === 0 || code === 2 ? code : 1;
  const simSeconds = events.time();
  const wallSeconds = (performance.now() - start) / 1000;
  if (exitCode === 0) message = null;
  const { junitXml } = await import('../scenario/junit.ts');
  writeFileSync(job.junitFile, junitXml([{ name: basename(dir), wallSeconds, simSeconds, results: [], error: message ?? undefined }]));
  events.emit({ type: 'result', exitCode, message, simSeconds, wallSeconds });
  return exitCode;
}

async function serve(job: WorkerJob): Promise<number> {
  const events = new EventStream((line) => send({ line }));
  const logger = new Logger({ level: job.verbose ? 'info' : 'warn', sink: (line) => process.stderr.write(line + '\n') });
  const start = performance.now();
  try {
    return await runItem(job, events, logger);
  } catch (e) {
    const code = e instanceof PicowSimError ? e.exitCode : 1;
    const message = e instanceof PicowSimError ? e.message : `internal error: ${(e as Error).message}`;
    process.stderr.write(`picow-sim: ${message}\n`);
    events.emit({ type: 'result', exitCode: code, message, simSeconds: 0, wallSeconds: (performance.now() - start) / 1000 });
    return code;
  }
}

function send(m: WorkerMessage): void {
  process.send?.(m);
}

/** The item's readable report: what it writes to stderr goes to the runner with its events, in order. */
function reportStderr(): void {
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    send({ report: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return true;
  };
  process.stderr.write = write as typeof process.stderr.write;
}

if (!process.send) {
  process.stderr.write('picow-sim: the test worker is started by `picow-sim test`\n');
  process.exit(2);
}
reportStderr();
process.on('disconnect', () => process.exit(0));
const baseline = process.getActiveResourcesInfo();
let queue = Promise.resolve();
process.on('message', (job: WorkerJob) => {
  queue = queue.then(async () => {
    const code = await serve(job).catch((e: unknown) => {
      process.stderr.write(`picow-sim: internal error: ${(e as Error).message}\n`);
      return 1;
    });
    // The next item starts from a quiet process, or in a new one.
    const left = await leftovers(baseline);
    if (left.length) {
      if (job.verbose) process.stderr.write(`picow-sim: [worker] the item left ${left.join(', ')} running: next item in a new worker\n`);
      process.send!({ done: code, retire: true } satisfies WorkerMessage, undefined, {}, () => process.exit(0));
    } else send({ done: code });
  });
});
