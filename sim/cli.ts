/**
 * `picow-sim` (`npm run sim -- …`): an interactive REPL in the terminal, a script runner for CI,
 * or a pseudo-terminal for host tools. Exit codes: 0 done, 1 run failed (timeout, exception,
 * expectation not met), 2 unusable input (arguments, files, firmware).
 */
import { isAbsolute, join, relative } from 'node:path';
import type { PicoW as Board, ConsoleSource, ConsoleTarget } from './board/picow.ts';
import type { BoardEvent } from './board/device.ts';
import { helpText, parseArgs } from './cli-options.ts';
import { buildWorld } from './cli-world.ts';
import { PicowSimError, RunFailure, UsageError } from './errors.ts';
import { EventStream, networkSources } from './events.ts';
import { resolveFirmware } from './firmware.ts';
import { Logger } from './log.ts';
import { packageRoot, packageVersion } from './package-info.ts';
import { openPty, type PtyBridge } from './pty.ts';
import { folderItems, readLocalFile, uploadAll, usbStream, waitForFirstPrompt, waitForUsb, type UploadItem } from './repl/board-link.ts';
import { ReplClient } from './repl/client.ts';
import { MainRunMonitor, type MainEnd } from './repl/monitor.ts';

const CTRL_X = 0x18;

export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

interface Ending {
  code: number;
  message: string | null;
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
  const wallStart = performance.now();
  const status = (msg: string): void => {
    if (events) events.emit({ type: 'status', message: msg });
    else if (!opts.quiet) io.stderr.write(`picow-sim: ${msg}\n`);
  };
  if (opts.junit && !opts.scenario) throw new UsageError('--junit FILE goes with --scenario FILE');
  if (opts.offline && opts.allowInternet) throw new UsageError('--offline and --allow-internet cannot be used together');
  if (opts.scenario) {
    const { runScenarioFile } = await import('./scenario/index.ts');
    events?.emit({ type: 'start', mode: 'scenario', version });
    const result = await runScenarioFile(opts.scenario, {
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
  if (opts.script && opts.pty) throw new UsageError('--pty is for interactive tools; it cannot be combined with a script');

  // Check every local file before booting anything.
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

  const fw = await resolveFirmware({
    option: opts.firmware ?? undefined,
    env: io.env,
    offline: opts.offline,
    logger,
    progress: opts.quiet ? null : io.stderr,
  });
  logger.info('cli', `firmware ${fw.path} (from ${fw.source})`);
  events?.emit({ type: 'start', mode: opts.script ? 'script' : opts.pty ? 'pty' : 'repl', version, firmware: fw.path });
  if (demo) status('demo: the HTTP client example against the embedded echo server (npm run sim -- --help for more)');
  // Loaded only now, so that --help and argument errors never depend on the simulator core.
  const { describeHalt } = await import('./board/picow.ts');
  const { loadUf2File } = await import('./board/uf2.ts');
  const image = loadUf2File(fw.path); // a bad UF2 ends the run here, before anything starts
  const faults =
    opts.latency !== null || opts.loss !== null || opts.bandwidth !== null
      ? { latencyMs: opts.latency ?? undefined, lossPercent: opts.loss ?? undefined, bandwidthKbps: opts.bandwidth ?? undefined }
      : undefined;
  const world = await buildWorld({
    firmware: image,
    logger,
    cpu: opts.cpu ?? undefined,
    aps: opts.ap,
    maps: opts.map,
    hosts: opts.host,
    forwards: opts.forward,
    allowInternet: opts.allowInternet,
    pcapFile: opts.pcap ?? undefined,
    faults,
    serverPort: opts.noServer ? null : (opts.serverPort ?? 8080),
    serverFallback: demo,
    accessLog: opts.verbose,
    status,
  });
  const board = world.board;
  events?.attach({ board, ...networkSources(world.chip, world.net) });
  // Shown console text: to the terminal, or as events.
  const show = (bytes: Uint8Array | string, s: ConsoleSource): void => {
    if (events) events.console(bytes, s);
    else io.stdout.write(bytes);
  };

  const shown = (s: ConsoleSource): boolean =>
    opts.console === 'all' || (opts.console === null ? s === 'usb' || s === 'uart0' : s === opts.console);
  const inputTarget: ConsoleTarget = opts.console === null || opts.console === 'all' ? 'auto' : opts.console;

  let finishRun!: (e: Ending) => void;
  const ended = new Promise<Ending>((r) => (finishRun = r));
  let over = false;
  const finish = (code: number, message: string | null = null): void => {
    if (over) return;
    over = true;
    finishRun({ code, message });
  };

  // --expect: all texts, in any order, in what is shown.
  const pending = [...opts.expect];
  const longest = Math.max(0, ...opts.expect.map((e) => e.length));
  let seen = '';
  const checkExpect = (text: string): void => {
    if (!pending.length || over) return;
    seen += text;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (!seen.includes(pending[i]!)) continue;
      events?.emit({ type: 'expect', name: '--expect', status: 'pass', summary: `printed ${JSON.stringify(pending[i])}` });
      pending.splice(i, 1);
    }
    seen = seen.slice(-Math.max(1, longest - 1));
    if (!pending.length) finish(0, null);
  };
  const missing = (): string => pending.map((p) => JSON.stringify(p)).join(', ');

  // Board output. `sink` decides where shown console bytes go (terminal, or the pty).
  const decoders = new Map<ConsoleSource, TextDecoder>();
  const decode = (bytes: Uint8Array, s: ConsoleSource): string => {
    let d = decoders.get(s);
    if (!d) decoders.set(s, (d = new TextDecoder()));
    return d.decode(bytes, { stream: true });
  };
  let sink: ((bytes: Uint8Array, source: ConsoleSource) => void) | null = (bytes, s) => {
    show(bytes, s);
    checkExpect(decode(bytes, s));
  };
  board.on('console', (bytes: Uint8Array, s: ConsoleSource) => {
    if (shown(s)) sink?.(bytes, s);
  });
  board.on('event', (e: BoardEvent) => {
    if (e.type === 'halt') {
      finish(e.exitCode ?? 0, `the program halted: ${describeHalt(e)}${e.exitCode !== null ? ` (exit code ${e.exitCode})` : ''}`);
    } else if (e.type === 'bootsel' || e.type === 'fault') {
      finish(1, e.type === 'fault' ? `the board faulted: ${e.message}` : describeHalt(e));
    } else if (e.type === 'reset' && e.reason !== 'power-on') {
      logger.info('board', `reset (${e.reason})`);
    }
  });

  let timer: NodeJS.Timeout | null = null;
  if (opts.timeout !== null) {
    const secs = opts.timeout;
    timer = setTimeout(
      () => finish(1, `timed out after ${secs} s${pending.length ? ` without seeing ${missing()}` : ''}`),
      secs * 1000,
    );
  }

  const stdin = io.stdin;
  let rawTty = false;
  // While a person or a tool is at the console, the board's time follows the wall clock (the
  // clock policy's host I/O): sleeps take as long as on a real board and tools' timeouts hold.
  const holds: { release(): void }[] = [];
  let pty: PtyBridge | null = null;
  const onSigint = (): void => finish(opts.pty ? 0 : 130, opts.pty ? null : 'interrupted');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const cleanup = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (rawTty) stdin.setRawMode(false);
    stdin.pause();
    stdin.removeAllListeners('data');
    for (const h of holds.splice(0)) h.release();
    if (pty) await pty.close();
    await world.close();
  };

  try {
    if (opts.script) {
      // While the raw REPL uploads, USB output is protocol traffic: show only the UARTs.
      sink = (bytes, s) => {
        if (s !== 'usb') {
          show(bytes, s);
          checkExpect(decode(bytes, s));
        }
      };
      const script = opts.script;
      const showUsb = shown('usb');
      status(`booting (firmware ${fw.path})`);
      board.start();
      const out = (text: string): void => {
        if (!showUsb) return;
        show(text, 'usb');
        checkExpect(text);
      };
      const onEnd = (end: MainEnd): void => {
        if (end.kind === 'exception') finish(1, `${script} raised an uncaught exception: ${end.summary}`);
        else if (pending.length) finish(1, `${script} finished without printing ${missing()}`);
        else finish(0, end.kind === 'soft-reboot' ? `${script} ended with a soft reboot` : null);
      };
      runScript(board, script, uploads, logger, status, out, onEnd).catch((e: unknown) => {
        if (e instanceof PicowSimError) finish(e.exitCode, e.message);
        else finish(1, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      });
    } else if (opts.pty) {
      // Like a real board's /dev/ttyACM0, the pty appears once the firmware is up: a tool that
      // connects while MicroPython is still booting would lose its Ctrl-C/Ctrl-A.
      sink = null;
      board.start();
      if (!(await waitForFirstPrompt(board, 15_000))) {
        logger.info('cli', 'no MicroPython prompt after boot; opening the pty anyway');
      }
      if (over) return (await ended).code;
      holds.push(board.hostIo.begin('pty console'));
      pty = await openPty(opts.pty, {
        logger,
        onData: (bytes) => board.writeConsole(bytes, inputTarget),
        onExit: (why) => finish(1, `the pty bridge ended: ${why}`),
      });
      const bridge = pty;
      sink = (bytes, s) => {
        bridge.write(bytes);
        events?.console(bytes, s);
        checkExpect(decode(bytes, s));
      };
      status(`console at ${bridge.path} — connect with: mpremote connect ${bridge.path} (Ctrl-C stops the simulator)`);
    } else {
      board.start();
      const stdinHold = board.hostIo.begin(stdin.isTTY ? 'terminal' : 'stdin');
      holds.push(stdinHold);
      stdin.on('end', () => stdinHold.release()); // CI gives no stdin: then time may run ahead
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        rawTty = true;
        status('MicroPython REPL on a simulated Pico W — Ctrl-X exits; Ctrl-C, Ctrl-D, Ctrl-E go to MicroPython');
        // If no prompt shows soon after USB is up, press Enter for the user (as one does after
        // opening a serial terminal on a real board). Cosmetic only: nothing waits on it.
        if (inputTarget === 'auto' || inputTarget === 'usb') {
          let usbSince = 0;
          const poll = setInterval(() => {
            const prompt = board.output.includes('>>> ');
            if (!usbSince && board.usbReady) usbSince = Date.now();
            if (over || prompt || (usbSince && Date.now() - usbSince > 1500)) {
              clearInterval(poll);
              if (!over && !prompt) board.writeConsole('\r', 'usb');
            }
          }, 250);
          poll.unref();
        }
      }
      stdin.on('data', (chunk: Buffer) => {
        let bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (rawTty) {
          const x = bytes.indexOf(CTRL_X);
          if (x >= 0) {
            if (x > 0) board.writeConsole(bytes.subarray(0, x), inputTarget);
            finish(0, null);
            return;
          }
        }
        board.writeConsole(bytes, inputTarget);
        bytes = new Uint8Array(0);
      });
      stdin.resume();
    }
    const end = await ended;
    if (events) {
      for (const p of pending) events.emit({ type: 'expect', name: '--expect', status: 'fail', summary: `printed ${JSON.stringify(p)}` });
      events.emit({ type: 'result', exitCode: end.code, message: end.message, simSeconds: events.time(), wallSeconds: (performance.now() - wallStart) / 1000 });
      events.close();
    }
    if (demo && end.code === 0) {
      status("next: 'npm run sim -- my_script.py' runs your script, 'npm run sim -- --repl' opens the REPL");
    }
    if (end.message) {
      if (end.code === 0) status(end.message);
      else io.stderr.write(`${rawTty ? '\r\n' : '\n'}picow-sim: ${end.message}\n`);
    } else if (rawTty) io.stderr.write('\r\n');
    return end.code;
  } finally {
    await cleanup();
  }
}

/** A path as the user would type it: relative to the working folder when inside it. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** Upload, reset, stream: the script mode. Resolves when main.py is running. */
async function runScript(
  board: Board,
  script: string,
  uploads: UploadItem[],
  logger: Logger,
  status: (m: string) => void,
  out: (text: string) => void,
  onEnd: (end: MainEnd) => void,
): Promise<void> {
  if (!(await waitForUsb(board, 20_000))) {
    throw new RunFailure(
      'the firmware has no USB serial console within 20 s, so there is no MicroPython REPL to copy the script through ' +
        '(for a program without MicroPython, leave out the script)',
    );
  }
  const prompt = await waitForFirstPrompt(board, 30_000);
  if (!prompt) logger.info('repl', 'no MicroPython prompt seen after boot; trying the raw REPL anyway');
  const client = new ReplClient(usbStream(board), { logger, timeoutMs: 15_000 });
  // The upload is host I/O: the board's time follows the wall clock meanwhile.
  const hold = board.hostIo.begin('raw REPL upload');
  try {
    await client.enterRawRepl();
    const items = [...uploads, { local: script, remote: '/main.py' }];
    status(`copying ${items.length} file${items.length === 1 ? '' : 's'} to the board`);
    await uploadAll(client, items, logger);
    status(`running ${displayPath(script)} as main.py`);
    await client.resetToMain();
  } catch (e) {
    client.dispose();
    throw e;
  } finally {
    hold.release();
  }
  // From here the USB console belongs to the program: pass it through the end-of-run monitor.
  const decoder = new TextDecoder();
  const onUsb = (bytes: Uint8Array, s: ConsoleSource): void => {
    if (s === 'usb') monitor.push(decoder.decode(bytes, { stream: true }));
  };
  const monitor = new MainRunMonitor(out, (end) => {
    board.off('console', onUsb);
    onEnd(end);
  });
  const leftover = client.reader.discard();
  client.dispose();
  board.on('console', onUsb);
  if (leftover.length) monitor.push(decoder.decode(leftover, { stream: true }));
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
