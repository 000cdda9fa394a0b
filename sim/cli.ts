/**
 * `picow-sim` (`npm run sim -- …`): an interactive REPL in the terminal, a script runner for CI,
 * or a pseudo-terminal for host tools. Exit codes: 0 done, 1 run failed (timeout, exception,
 * expectation not met), 2 unusable input (arguments, files, firmware).
 */
import { join } from 'node:path';
import { helpText, parseArgs, type CliOptions } from './cli-options.ts';
import { PicowSimError, UsageError } from './errors.ts';
import { EventStream } from './events.ts';
import { resolveFirmware } from './firmware.ts';
import { Logger } from './log.ts';
import { packageRoot, packageVersion } from './package-info.ts';
import { folderItems, readLocalFile, type UploadItem } from './repl/board-link.ts';

export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

/** The examples shipped with the package (the demo's script and its Wi-Fi helper). */
const EXAMPLES = join(packageRoot(), 'firmware', 'examples');

/** `npm run sim` with no arguments: the article's HTTP client against the embedded echo server. */
function demoArgs(): string[] {
  return [
    join(EXAMPLES, 'http_client.py'),
    '--file',
    `${join(EXAMPLES, 'wifi_setup.py')}:/lib/wifi_setup.py`,
    '--timeout',
    '240',
  ];
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'wokwi') {
    const { runWokwi } = await import('./wokwi/command.ts');
    return runWokwi(argv.slice(1), io);
  }
  if (argv[0] === 'test') return (await import('./cli-test.ts')).testCommand(argv.slice(1), io);
  const demo = argv.length === 0;
  const opts = parseArgs(demo ? demoArgs() : argv);
  const version = packageVersion();
  if (opts.help) {
    io.stdout.write(helpText(version));
    return 0;
  }
  if (opts.version) {
    io.stdout.write(`picow-sim ${version}\n`);
    return 0;
  }
  const logger = new Logger({
    level: opts.quiet ? 'error' : opts.verbose ? 'info' : 'warn',
    trace: opts.trace,
    sink: (line) => io.stderr.write(line + '\n'),
  });
  // --json: events on stdout instead of text (sim/events.ts).
  const events = opts.json ? new EventStream((line) => io.stdout.write(line)) : null;
  const status = (msg: string): void => {
    if (events) events.emit({ type: 'status', message: msg });
    else if (!opts.quiet) io.stderr.write(`picow-sim: ${msg}\n`);
  };
  if (opts.junit && !opts.scenario) throw new UsageError('--junit FILE goes with --scenario FILE');
  if (opts.offline && opts.allowInternet) throw new UsageError('--offline and --allow-internet cannot be used together');
  if (opts.scenario) return runScenarioMode(opts, opts.scenario, io, logger, events, version);
  if (opts.boards.length) return runBoardsMode(opts, io, logger, status, events, version);
  if (opts.script && opts.pty) throw new UsageError('--pty is for interactive tools; it cannot be combined with a script');
  if (opts.gdbWait && opts.gdb === null) throw new UsageError('--gdb-wait goes with --gdb PORT');
  if (opts.script && opts.serialPort !== null) {
    throw new UsageError('--serial-port is for interactive tools; it cannot be combined with a script');
  }

  const uploads = checkUploads(opts);
  const fw = await resolveFirmware({
    option: opts.firmware ?? undefined,
    env: io.env,
    offline: opts.offline,
    logger,
    progress: opts.quiet ? null : io.stderr,
  });
  logger.info('cli', `firmware ${fw.path} (from ${fw.source})`);
  events?.emit({ type: 'start', mode: opts.script ? 'script' : opts.pty || opts.serialPort !== null ? 'pty' : 'repl', version, firmware: fw.path });
  if (demo) status('demo: the HTTP client example against the embedded echo server (npm run sim -- --help for more)');
  // Loaded only now, so that --help and argument errors never depend on the simulator core.
  const { runOnBoard } = await import('./cli-run.ts');
  return runOnBoard(opts, io, { firmware: fw.path, uploads, demo, logger, status, events });
}

/** `--scenario FILE`: the scenario runner, on the same session layer. */
async function runScenarioMode(
  opts: CliOptions,
  file: string,
  io: CliIo,
  logger: Logger,
  events: EventStream | null,
  version: string,
): Promise<number> {
  const { runScenarioFile } = await import('./scenario/index.ts');
  events?.emit({ type: 'start', mode: 'scenario', version });
  const result = await runScenarioFile(file, {
    firmware: opts.firmware ?? undefined,
    env: io.env,
    offline: opts.offline,
    junitFile: opts.junit ?? undefined,
    wallTimeoutMs: opts.timeout !== null ? opts.timeout * 1000 : undefined,
    logger,
    onSerial: (text) => (events ? events.console(text, 'usb') : io.stdout.write(text)),
    print: (text) => (events ? undefined : io.stderr.write(text + '\n')),
    events: events ?? undefined,
  });
  return result.exitCode;
}

/** `--board NAME[=SCRIPT]`: several boards on one LAN (cli-boards.ts). */
async function runBoardsMode(
  opts: CliOptions,
  io: CliIo,
  logger: Logger,
  status: (m: string) => void,
  events: EventStream | null,
  version: string,
): Promise<number> {
  const { checkBoards, runBoards } = await import('./cli-boards.ts');
  checkBoards(opts);
  const uploads = new Map<string, UploadItem[]>();
  for (const b of opts.boards) {
    // --file/--lib go to every board with a script; --board-file/--board-lib to one.
    if (!b.script) {
      if (b.files.length || b.lib.length) throw new UsageError(`--board-file and --board-lib need a script to run: give it as --board ${b.name}=SCRIPT`);
      uploads.set(b.name, []);
    } else uploads.set(b.name, checkUploads({ ...opts, script: b.script, lib: [...opts.lib, ...b.lib], files: [...opts.files, ...b.files] }));
  }
  const fw = opts.boards.every((b) => b.firmware)
    ? null
    : await resolveFirmware({ option: opts.firmware ?? undefined, env: io.env, offline: opts.offline, logger, progress: opts.quiet ? null : io.stderr });
  if (fw) logger.info('cli', `firmware ${fw.path} (from ${fw.source})`);
  const mode = opts.boards.some((b) => b.script) ? 'script' : opts.pty || opts.serialPort !== null ? 'pty' : 'repl';
  events?.emit({ type: 'start', mode, version, ...(fw ? { firmware: fw.path } : {}) });
  return runBoards(opts, io, { firmware: fw?.path ?? null, uploads, logger, status, events });
}

/** Check every local file before booting anything; the files to copy besides the script. */
function checkUploads(opts: CliOptions): UploadItem[] {
  const uploads: UploadItem[] = [];
  for (const dir of opts.lib) uploads.push(...folderItems(dir, '/lib'));
  for (const f of opts.files) {
    readLocalFile(f.local, '--file');
    uploads.push({ local: f.local, remote: f.remote });
  }
  if (opts.script) readLocalFile(opts.script, 'script');
  if (!opts.script && uploads.length) {
    throw new UsageError('--file and --lib need a script to run (give script.py as the first argument)');
  }
  return uploads;
}

// Output piped into a reader that stopped (`| head`): end quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

// A bug inside the simulator (thrown from its run loop) ends the run with one line, exit 1.
process.on('uncaughtException', (e: Error) => {
  if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
  if (e instanceof PicowSimError) {
    process.stderr.write(`\npicow-sim: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(
    `\npicow-sim: internal error: ${e.message}${process.argv.includes('--verbose') ? `\n${e.stack}` : ' (run with --verbose for details)'}\n`,
  );
  process.exit(1);
});

main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  },
  (e: unknown) => {
    if (e instanceof PicowSimError) {
      process.stderr.write(`picow-sim: ${e.message}\n`);
      // --json: the stream still ends with its result.
      if (process.argv.includes('--json')) {
        const result = { type: 'result', t: 0, exitCode: e.exitCode, message: e.message, simSeconds: 0, wallSeconds: performance.now() / 1000 };
        process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(e.exitCode));
        return;
      }
      process.exit(e.exitCode);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(
      `picow-sim: internal error: ${err.message}${process.argv.includes('--verbose') ? `\n${err.stack}` : ' (run with --verbose for details)'}\n`,
    );
    process.exit(1);
  },
);
