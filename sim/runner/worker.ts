/**
 * One item of `picow-sim test`, in a process of its own: `node worker.js JOB` where JOB is the
 * JSON of a `WorkerJob`. The board, its LAN and its servers (on free host ports) are this
 * process's alone. Events go to stdout as `--json` lines (sim/events.ts), ending with the
 * `result`; the readable report goes to stderr; the JUnit suite to `job.junitFile`.
 * Exit code: the item's (0 passed, 1 failed, 2 malformed).
 */
import { EventStream } from '../events.ts';
import { PicowSimError, UsageError } from '../errors.ts';
import { Logger } from '../log.ts';
import type { RunItem } from './kinds.ts';

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
      // The hook for sim/wokwi/ (see kinds.ts).
      throw new UsageError('Wokwi projects cannot be run by picow-sim test yet');
  }
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
