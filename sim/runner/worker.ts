/**
 * One item of `picow-sim test`, in a process of its own: `node worker.js JOB` where JOB is the
 * JSON of a `WorkerJob`. The board, its LAN and its servers (on free host ports) are this
 * process's alone. Events go to stdout as `--json` lines (sim/events.ts), ending with the
 * `result`; the readable report goes to stderr; the JUnit suite to `job.junitFile`.
 * Exit code: the item's (0 passed, 1 failed, 2 malformed).
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { EventStream } from '../events.ts';
import { PicowSimError } from '../errors.ts';
import { Logger } from '../log.ts';
import { wokwiProjectArgs, type RunItem } from './kinds.ts';

export interface WorkerJob {
  item: RunItem;
  junitFile: string;
  firmware?: string;
  offline?: boolean;
  /** Wall-clock limit for the item. */
  wallTimeoutMs?: number;
  verbose?: boolean;
}

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

async function main(): Promise<number> {
  const job = JSON.parse(process.argv[2] ?? '{}') as WorkerJob;
  const events = new EventStream((line) => process.stdout.write(line));
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

main().then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (e: unknown) => {
    process.stderr.write(`picow-sim: internal error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
