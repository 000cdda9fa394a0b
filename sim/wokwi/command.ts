/**
 * `picow-sim wokwi [DIR]`: run a Wokwi project (wokwi.toml, diagram.json, scenario YAML) offline,
 * with wokwi-cli's options and exit codes: 0 when the expect text or the scenario passed, 1 for a
 * failed step, the fail text or an error in the project's files, 42 (`--timeout-exit-code`) when
 * the simulated timeout came first. picow-sim's own options (network, Wi-Fi, CPU, traces) apply.
 */
import { createWriteStream, existsSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs, type CliOptions } from '../cli-options.ts';
import { PicowSimError, UsageError } from '../errors.ts';
import { EventStream } from '../events.ts';
import { resolveFirmware } from '../firmware.ts';
import { Logger } from '../log.ts';
import { packageVersion } from '../package-info.ts';
import type { UploadItem } from '../repl/board-link.ts';
import { WokwiWorld } from './board-adapter.ts';
import { Circuit } from './circuit.ts';
import { loadFirmwareFile } from './firmware-file.ts';
import { projectPythonFiles, readDiagram, readWokwiToml, WokwiFileError, type WokwiConfig } from './project.ts';
import { runScenario, StepFailure, type ScenarioTarget } from './runner.ts';
import { readScenario, type Scenario } from './scenario.ts';
import { SerialMonitor } from './serial-monitor.ts';
import { VcdRecorder } from './vcd.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_TIMEOUT_EXIT_CODE = 42;

export interface WokwiArgs {
  dir: string;
  timeoutMs: number;
  timeoutExitCode: number;
  expectText: string | null;
  failText: string | null;
  scenario: string | null;
  serialLogFile: string | null;
  diagramFile: string | null;
  elf: string | null;
  interactive: boolean;
  quiet: boolean;
  vcdFile: string | null;
  help: boolean;
  /** picow-sim's options given beside them. */
  cli: CliOptions;
}

const VALUE_OPTIONS: Record<string, keyof WokwiArgs> = {
  '--timeout': 'timeoutMs',
  '--timeout-exit-code': 'timeoutExitCode',
  '--expect-text': 'expectText',
  '--fail-text': 'failText',
  '--scenario': 'scenario',
  '--serial-log-file': 'serialLogFile',
  '--diagram-file': 'diagramFile',
  '--elf': 'elf',
  '--vcd-file': 'vcdFile',
};

export function wokwiHelp(): string {
  return [
    'Usage: picow-sim wokwi [DIR] [options]',
    '',
    'Runs the Wokwi project in DIR (default .): wokwi.toml, diagram.json, and optionally a scenario,',
    'offline, with wokwi-cli\'s options and exit codes (0 passed, 1 failed or bad project files,',
    '42 or --timeout-exit-code on timeout).',
    '',
    '  --timeout MS              simulated milliseconds before giving up (default 30000; 0: none)',
    '  --timeout-exit-code N     exit code on timeout (default 42)',
    '  --expect-text TEXT        pass when a line of serial output contains TEXT',
    '  --fail-text TEXT          fail when a line of serial output contains TEXT',
    '  --scenario FILE           Wokwi automation scenario (YAML, relative to DIR)',
    '  --serial-log-file FILE    save the serial output (raw bytes)',
    '  --diagram-file FILE       diagram to use instead of DIR/diagram.json',
    '  --elf FILE                firmware ELF to run instead of wokwi.toml\'s firmware',
    '  --interactive             send stdin to the serial monitor',
    '  --vcd-file FILE           save pin changes as a VCD file (GTKWave, PulseView)',
    '  -q, --quiet               no status messages',
    '',
    'picow-sim\'s other options apply too (--firmware, --ap, --map, --host, --forward, --pcap,',
    '--trace, --cpu, --verbose...; see picow-sim --help).',
    '',
  ].join('\n');
}

function intArg(opt: string, v: string, min: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new UsageError(`${opt} ${JSON.stringify(v)}: must be a whole number${min > 0 ? ` ≥ ${min}` : ''}`);
  return Number(v);
}

/** Split wokwi-cli's options from picow-sim's; the one positional argument is DIR. */
export function parseWokwiArgs(argv: string[]): WokwiArgs {
  const a: Omit<WokwiArgs, 'cli'> = {
    dir: '.',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    timeoutExitCode: DEFAULT_TIMEOUT_EXIT_CODE,
    expectText: null,
    failText: null,
    scenario: null,
    serialLogFile: null,
    diagramFile: null,
    elf: null,
    interactive: false,
    quiet: false,
    vcdFile: null,
    help: false,
  };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_OPTIONS[name];
    if (key) {
      let v: string | undefined;
      if (eq > 0) v = arg.slice(eq + 1);
      else v = argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      if (key === 'timeoutMs') a.timeoutMs = intArg(name, v, 0);
      else if (key === 'timeoutExitCode') a.timeoutExitCode = intArg(name, v, 0);
      else (a as Record<string, unknown>)[key] = v;
    } else if (arg === '--interactive') a.interactive = true;
    else if (arg === '-q' || arg === '--quiet') a.quiet = true;
    else if (arg === '-h' || arg === '--help') a.help = true;
    else if (name.startsWith('--screenshot-')) throw new UsageError(`${name}: picow-sim simulates no displays, so it takes no screenshots`);
    else rest.push(arg);
  }
  const cli = parseArgs(rest);
  if (cli.script) a.dir = cli.script;
  cli.script = null;
  if (cli.expect.length || cli.timeout !== null || cli.pty || cli.repl || cli.files.length || cli.lib.length || cli.junit) {
    throw new UsageError('picow-sim wokwi takes wokwi-cli\'s --timeout (ms), --expect-text and --scenario; --expect, --pty, --repl, --file, --lib and --junit are for picow-sim\'s own runs');
  }
  if (a.quiet) cli.quiet = true;
  if (cli.quiet && cli.verbose) throw new UsageError('-q and --verbose cannot be used together');
  return { ...a, cli };
}

/** An output file must be writable before the run starts (one line, exit 2, not a lost run). */
function checkWritable(path: string): void {
  try {
    writeFileSync(path, '');
  } catch (e) {
    throw new UsageError(`${path}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export interface WokwiIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Events instead of serial text on stdout (`picow-sim test`'s workers): the board's console, pins, LED, network. */
  events?: EventStream;
}

interface Ending {
  code: number;
  message: string | null;
  toStdout?: boolean;
}

/** Everything read and checked before the board starts. */
interface Project {
  dir: string;
  config: WokwiConfig | null;
  firmwarePath: string | null;
  python: string[];
  scenario: Scenario | null;
}

function loadProject(a: WokwiArgs): Project {
  const dir = resolve(a.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new WokwiFileError(a.dir, null, 'project folder not found');
  const tomlPath = join(dir, 'wokwi.toml');
  const config = existsSync(tomlPath) ? readWokwiToml(tomlPath) : null;
  const python = projectPythonFiles(dir);
  if (!config && !a.elf && python.length === 0 && !a.cli.firmware) {
    throw new WokwiFileError(tomlPath, null, 'wokwi.toml not found (and no .py files or --elf to run instead)');
  }
  const firmwarePath = a.cli.firmware ? resolve(a.cli.firmware) : a.elf ? resolve(a.elf) : config?.firmware ?? null;
  if (!firmwarePath && python.length === 0) throw new WokwiFileError(tomlPath, null, 'wokwi.firmware is missing (the UF2, .bin or .elf to run)');
  if (a.elf && !existsSync(resolve(a.elf))) throw new WokwiFileError(resolve(a.elf), null, 'ELF file not found');
  let scenario: Scenario | null = null;
  if (a.scenario) scenario = readScenario(resolve(dir, a.scenario));
  return { dir, config, firmwarePath, python, scenario };
}

export async function runWokwi(argv: string[], io: WokwiIo): Promise<number> {
  const a = parseWokwiArgs(argv);
  if (a.help) {
    io.stdout.write(wokwiHelp());
    return 0;
  }
  const logger = new Logger({
    level: a.cli.quiet ? 'error' : a.cli.verbose ? 'info' : 'warn',
    trace: a.cli.trace,
    sink: (line) => io.stderr.write(line + '\n'),
  });
  // --json: events on stdout instead of text (sim/events.ts); under `picow-sim test` the worker's.
  const json = a.cli.json && !io.events ? new EventStream((line) => io.stdout.write(line)) : null;
  const events = io.events ?? json;
  const wallStart = performance.now();
  const status = (m: string): void => {
    if (json) json.emit({ type: 'status', message: m });
    else if (!a.cli.quiet) io.stderr.write(`picow-sim: ${m}\n`);
  };
  json?.emit({ type: 'start', mode: 'wokwi', version: packageVersion() });
  try {
    return await runProject(a, io, logger, status, events, json);
  } catch (e) {
    if (!json || !(e instanceof PicowSimError)) throw e;
    json.emit({ type: 'result', exitCode: e.exitCode, message: e.message, simSeconds: json.time(), wallSeconds: (performance.now() - wallStart) / 1000 });
    json.close();
    io.stderr.write(`picow-sim: ${e.message}\n`);
    return e.exitCode;
  }
}

/** The project's run, from its files to the verdict; `json`: the result as an event. */
async function runProject(
  a: WokwiArgs,
  io: WokwiIo,
  logger: Logger,
  status: (m: string) => void,
  events: EventStream | null,
  json: EventStream | null,
): Promise<number> {
  const wallStart = performance.now();
  const project = loadProject(a);
  const diagram = readDiagram(resolve(project.dir, a.diagramFile ?? 'diagram.json'));
  const vcdFile = a.vcdFile ? resolve(a.vcdFile) : (project.config?.vcdFile ?? null);
  for (const out of [a.serialLogFile ? resolve(a.serialLogFile) : null, vcdFile]) if (out) checkWritable(out);

  // Firmware: the project's, or for a MicroPython project naming none, picow-sim's usual one.
  let firmwarePath = project.firmwarePath;
  if (!firmwarePath) {
    const fw = await resolveFirmware({ env: io.env, offline: a.cli.offline, logger, progress: a.cli.quiet ? null : (io.stderr as NodeJS.WriteStream) });
    firmwarePath = fw.path;
  }
  const image = loadFirmwareFile(firmwarePath);
  const uploads: UploadItem[] = project.python.map((p) => ({ local: p, remote: `/${basename(p)}` }));

  const world = await WokwiWorld.create({
    firmware: image,
    cli: a.cli,
    forwards: project.config?.forwards.map((f) => f.spec) ?? [],
    logger,
    status,
  });
  let circuit: Circuit;
  try {
    circuit = new Circuit({ diagram, clock: world.clock, logger, adc: world.adc, allGpios: vcdFile !== null });
  } catch (e) {
    await world.close();
    throw e;
  }
  world.uart = circuit.serialUart;
  const vcd = vcdFile ? new VcdRecorder() : null;
  const pinWaiters = new Set<() => void>();
  circuit.onChange = (c) => {
    vcd?.record(c.node, c.level, c.nanos);
    for (const w of [...pinWaiters]) w();
  };
  world.attach(circuit);
  events?.attach(world.eventSources());
  world.onLed((on) => circuit.setBoardLed(on));

  const monitor = new SerialMonitor();
  let serialLog: WriteStream | null = null;
  if (a.serialLogFile) serialLog = createWriteStream(resolve(a.serialLogFile));
  let atLineStart = true;
  let skipNewline = false;
  world.onSerial((bytes) => {
    // As wokwi-cli: a scenario log line after partial output starts on a new line; the board's
    // own newline that follows is then not doubled.
    let shown = bytes;
    if (skipNewline && (shown[0] === 10 || (shown[0] === 13 && shown[1] === 10))) shown = shown.subarray(shown[0] === 13 ? 2 : 1);
    skipNewline = false;
    if (shown.length) atLineStart = shown[shown.length - 1] === 10;
    if (events) events.console(shown, world.board.consoleSource);
    else io.stdout.write(shown);
    serialLog?.write(bytes);
    monitor.feed(bytes);
  });
  const scenarioLog = (line: string): void => {
    if (json) return json.emit({ type: 'status', message: line });
    if (!atLineStart) {
      io.stdout.write('\n');
      skipNewline = true;
      atLineStart = true;
    }
    io.stdout.write(line + '\n');
  };

  let finishRun!: (e: Ending) => void;
  const ended = new Promise<Ending>((r) => (finishRun = r));
  let over = false;
  const finish = (e: Ending): void => {
    if (over) return;
    over = true;
    world.pause();
    finishRun(e);
  };
  world.onStop((code, message) => finish({ code: code ?? 1, message: `the board stopped: ${message}` }));
  const holds: { release(): void }[] = [];
  const onSigint = (): void => finish({ code: 130, message: 'interrupted' });
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let t0 = 0;

  try {
    await world.startToolPorts({ rfc2217: project.config?.rfc2217ServerPort ?? null, gdb: project.config?.gdbServerPort ?? null }, status);
    status(`simulating ${diagram.parts.length} part${diagram.parts.length === 1 ? '' : 's'} from ${diagram.file} (firmware ${firmwarePath})`);
    world.start();
    if (uploads.length) {
      await world.copyFilesAndReset(uploads, status);
      status(`running ${uploads.map((u) => basename(u.local)).join(', ')} (main.py last)`);
    }
    if (over) return await report(await ended);
    t0 = world.clock.nanos;
    if (a.timeoutMs > 0) {
      world.clock.schedule(a.timeoutMs * 1e6 - (world.clock.nanos - t0), () =>
        finish({ code: a.timeoutExitCode, message: `Timeout: simulation did not finish in ${a.timeoutMs}ms` }),
      );
    }
    if (a.expectText !== null) {
      const text = a.expectText;
      monitor.onLineContaining(text, () => finish({ code: 0, message: `Expected text found: "${text}"\nTEST PASSED.`, toStdout: true }));
    }
    if (a.failText !== null) {
      const text = a.failText;
      monitor.onLineContaining(text, () => finish({ code: 1, message: `Error: Unexpected text found: "${text}"\nTEST FAILED.` }));
    }
    if (a.interactive) {
      holds.push(world.holdForHost('interactive stdin'));
      io.stdin.on('data', (chunk: Buffer) => world.writeSerial(new Uint8Array(chunk)));
      io.stdin.on('end', () => holds.splice(0).forEach((h) => h.release()));
      io.stdin.resume();
    }
    if (project.scenario) {
      const scenario = project.scenario;
      // With a scenario the simulation holds between steps, as Wokwi's does.
      world.pause();
      monitor.mark();
      const target = scenarioTarget(world, circuit, monitor, pinWaiters, () => t0, scenarioLog, () => over);
      runScenario(scenario, target).then(
        () => finish({ code: 0, message: null }),
        (e: unknown) => {
          if (e instanceof StepFailure) finish({ code: 1, message: `Error: ${e.message}` });
          else if (e instanceof PicowSimError) finish({ code: e.exitCode, message: e.message });
          else finish({ code: 1, message: `internal error: ${e instanceof Error ? e.message : String(e)}` });
        },
      );
    }
    return await report(await ended);
  } catch (e) {
    if (!over && e instanceof PicowSimError) return await report({ code: e.exitCode, message: e.message });
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    holds.splice(0).forEach((h) => h.release());
    io.stdin.pause();
    io.stdin.removeAllListeners('data');
    if (vcd && vcdFile) {
      vcd.write(vcdFile, world.clock.nanos);
      if (!a.cli.quiet) status(`VCD file written to: ${vcdFile} (${vcd.changeCount} changes)`);
      if (vcd.truncatedAt !== null) logger.warn('wokwi', `the VCD stops at ${vcd.truncatedAt} ns (limit of ${vcd.maxChanges} changes)`);
    }
    if (serialLog) await new Promise<void>((r) => serialLog!.end(r));
    await world.close();
  }

  async function report(e: Ending): Promise<number> {
    if (json) {
      json.emit({ type: 'result', exitCode: e.code, message: e.message, simSeconds: json.time(), wallSeconds: (performance.now() - wallStart) / 1000 });
      json.close();
    }
    if (e.message) {
      if (e.toStdout) {
        if (json) return e.code;
        if (!a.cli.quiet) io.stdout.write(`\n\n${e.message}\n`);
      } else io.stderr.write(`\n${e.message.startsWith('Error') || e.message.startsWith('Timeout') ? '' : 'picow-sim: '}${e.message}\n`);
    }
    return e.code;
  }
}

/** The running simulation as the scenario runner sees it. */
function scenarioTarget(
  world: WokwiWorld,
  circuit: Circuit,
  monitor: SerialMonitor,
  pinWaiters: Set<() => void>,
  t0: () => number,
  log: (line: string) => void,
  over: () => boolean,
): ScenarioTarget {
  const clock = world.clock;
  const checkPin = (partId: string, pin: string): void => {
    const part = circuit.part(partId);
    if (!part && partId !== circuit.boardId) {
      const skipped = circuit.unmodelled.get(partId);
      throw new StepFailure(skipped ? `part ${partId} (${skipped}) is not simulated by picow-sim` : `no part with id '${partId}' in the diagram`);
    }
    if (!circuit.hasNode(partId, pin)) throw new StepFailure(`${part?.type ?? 'board-pi-pico-w'} '${partId}' has no pin '${pin}'${part ? ` (pins: ${part.pins.join(', ')})` : ''}`);
  };
  const never = new Promise<void>(() => undefined);
  return {
    nanos: () => clock.nanos - t0(),
    delay: (nanos) =>
      over()
        ? never
        : new Promise((resolve) => {
            clock.schedule(nanos, () => {
              world.pause();
              monitor.mark();
              resolve();
            });
            world.resume();
          }),
    waitSerial: (text) => {
      if (over()) return never;
      const p = monitor.waitFor(text, () => world.pause());
      world.resume();
      return p;
    },
    writeSerial: (bytes) => world.writeSerial(bytes),
    readPin: (partId, pin) => {
      checkPin(partId, pin);
      return circuit.level(partId, pin) === 1 ? 1 : 0;
    },
    waitPin: (partId, pin, value, timeoutNanos) => {
      checkPin(partId, pin);
      if ((circuit.level(partId, pin) === 1 ? 1 : 0) === value) return Promise.resolve(true);
      if (over()) return never.then(() => false);
      return new Promise<boolean>((resolve) => {
        let timer: { cancel(): void } | null = null;
        const done = (ok: boolean): void => {
          pinWaiters.delete(check);
          timer?.cancel();
          world.pause();
          monitor.mark();
          resolve(ok);
        };
        const check = (): void => {
          if ((circuit.level(partId, pin) === 1 ? 1 : 0) === value) done(true);
        };
        pinWaiters.add(check);
        if (timeoutNanos !== null) timer = clock.schedule(timeoutNanos, () => done(false));
        world.resume();
      });
    },
    setControl: (partId, control, value) => {
      const part = circuit.part(partId);
      if (!part) {
        const skipped = circuit.unmodelled.get(partId);
        throw new StepFailure(skipped ? `part ${partId} (${skipped}) is not simulated by picow-sim` : `no part with id '${partId}' in the diagram`);
      }
      const set = part.controls[control];
      if (!set) {
        const names = Object.keys(part.controls);
        throw new StepFailure(`${part.type} '${partId}' has no control '${control}'${names.length ? ` (controls: ${names.join(', ')})` : ''}`);
      }
      try {
        set(value);
      } catch (e) {
        throw new StepFailure((e as Error).message);
      }
    },
    log,
  };
}
