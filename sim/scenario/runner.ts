/**
 * Running a scenario: build the world it describes (board, radio, network, servers, sensors),
 * apply its faults at their simulated times, watch what happens, and stop as soon as every
 * expectation is decided or the simulated timeout is reached.
 *
 * The runner only needs a `ScenarioWorld`: the real one (world.ts) wires a `PicoW` board with the
 * CYW43439, the virtual network and the embedded servers; tests use a scripted one.
 */
import { writeFileSync } from 'node:fs';
import { PicowSimError, UsageError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { allDecided, evaluateAll, Observations, type ExpectationResult } from './expectations.ts';
import { junitXml } from './junit.ts';
import { exitCodeOf, formatReport } from './report.ts';
import { deadlines } from './expectations.ts';
import type { FaultAction, Scenario } from './schema.ts';

export interface WorldTimer {
  cancel(): void;
}

/** What the runner needs from a running simulation. */
export interface ScenarioWorld {
  /** Simulated seconds since power-on. */
  now(): number;
  /** Call `cb` when simulated time reaches `seconds` (at once if it already has). */
  at(seconds: number, cb: () => void): WorldTimer;
  /** Boot, load the program, and keep running until `dispose`. */
  start(): Promise<void>;
  /** Apply a fault (AP down/up, link, server down/up); a link fault to `board`'s link (default: the first board's). */
  apply(action: FaultAction, board?: string): Promise<void>;
  /** Stop simulated time at once (the run is over); `dispose` follows. */
  pause?(): void;
  /** Stop everything and release host resources (sockets, servers). */
  dispose(): Promise<void>;
}

/** How a world reports what it sees and what goes wrong. */
export interface WorldHooks {
  obs: Observations;
  /** The run cannot go on (board halted, faulted, program could not be loaded). */
  fail(message: string): void;
  logger: Logger;
}

export type WorldFactory = (scenario: Scenario, hooks: WorldHooks) => Promise<ScenarioWorld>;

export interface RunOptions {
  world: WorldFactory;
  logger?: Logger;
  /** Simulated seconds between checks of pending expectations (default 1). */
  checkEvery?: number;
  /** Give up after this much wall time (default none). */
  wallTimeoutMs?: number;
  /** Write JUnit XML here. */
  junitFile?: string;
}

export interface RunResult {
  scenario: Scenario;
  results: ExpectationResult[];
  exitCode: 0 | 1;
  simSeconds: number;
  wallSeconds: number;
  /** Why the run stopped early, if it did. */
  error?: string;
  /** Why the run ended: every expectation decided, the simulated timeout, or an error. */
  ended: 'decided' | 'timeout' | 'error';
  report: string;
  junit: string;
  obs: Observations;
}

/** Run a parsed scenario in a world; resolves with the verdict (never rejects for a failed run). */
export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<RunResult> {
  const logger = opts.logger ?? silentLogger();
  const obs = new Observations();
  const wallStart = performance.now();
  const checkEvery = opts.checkEvery ?? 1;
  let error: string | undefined;
  let ended: RunResult['ended'] = 'timeout';
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let over = false;
  let world: ScenarioWorld | null = null;
  let endSeconds = 0;
  const stop = (why: RunResult['ended'], message?: string): void => {
    if (over) return;
    over = true;
    ended = why;
    if (message) error = message;
    if (world) {
      world.pause?.();
      endSeconds = world.now();
    }
    finish();
  };
  const hooks: WorldHooks = { obs, logger, fail: (m) => stop('error', m) };

  let w: ScenarioWorld;
  try {
    w = await opts.world(scenario, hooks);
  } catch (e) {
    // Unusable input (firmware, files, a port in use...) keeps its own exit code.
    if (e instanceof PicowSimError) throw e;
    return finalize(scenario, obs, [], 0, wallStart, 'error', `could not set up the scenario: ${(e as Error).message}`, opts);
  }
  world = w;
  const timers: WorldTimer[] = [];
  const check = (): void => {
    if (over) return;
    const results = evaluateAll(scenario, obs, w.now());
    if (scenario.expect.length > 0 && allDecided(results)) stop('decided');
  };
  for (const f of scenario.faults) {
    timers.push(
      w.at(f.at, () => {
        logger.info('scenario', `${f.at} s: ${describeAction(f.action)}`);
        w.apply(f.action, f.board).catch((e: unknown) => stop('error', `fault at ${f.at} s (${describeAction(f.action)}) failed: ${(e as Error).message}`));
      }),
    );
  }
  for (const t of deadlines(scenario)) timers.push(w.at(t, check));
  // Periodic checks: serial text and readings arrive between deadlines.
  const tick = (t: number): void => {
    if (over || t >= scenario.timeout) return;
    timers.push(
      w.at(t, () => {
        check();
        tick(t + checkEvery);
      }),
    );
  };
  tick(checkEvery);
  timers.push(w.at(scenario.timeout, () => stop('timeout')));
  let wallTimer: NodeJS.Timeout | null = null;
  if (opts.wallTimeoutMs !== undefined) {
    wallTimer = setTimeout(() => stop('error', `gave up after ${opts.wallTimeoutMs} ms of wall time at ${w.now().toFixed(3)} s simulated`), opts.wallTimeoutMs);
  }
  w.start().catch((e: unknown) => stop('error', (e as Error).message));
  await done;
  if (wallTimer) clearTimeout(wallTimer);
  for (const t of timers) t.cancel();
  const simSeconds = endSeconds || w.now();
  try {
    await w.dispose();
  } catch (e) {
    logger.warn('scenario', `cleanup: ${(e as Error).message}`);
  }
  return finalize(scenario, obs, evaluateAll(scenario, obs, simSeconds, true), simSeconds, wallStart, ended, error, opts);
}

function finalize(
  scenario: Scenario,
  obs: Observations,
  results: ExpectationResult[],
  simSeconds: number,
  wallStart: number,
  ended: RunResult['ended'],
  error: string | undefined,
  opts: RunOptions,
): RunResult {
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const report = formatReport({ name: scenario.name, file: scenario.file, results, simSeconds, wallSeconds, error });
  const junit = junitXml([{ name: scenario.name, wallSeconds, simSeconds, results, error, serial: obs.serialText, timestamp: new Date() }]);
  if (opts.junitFile) {
    try {
      writeFileSync(opts.junitFile, junit);
    } catch (e) {
      throw new UsageError(`--junit ${opts.junitFile}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return { scenario, results, exitCode: exitCodeOf(results, error), simSeconds, wallSeconds, error, ended, report, junit, obs };
}

export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'ap-down':
      return `access point ${a.ssid} goes down`;
    case 'ap-up':
      return `access point ${a.ssid} comes back`;
    case 'link-down':
      return 'the Wi-Fi link goes down';
    case 'link-up':
      return 'the Wi-Fi link comes back';
    case 'link': {
      const f = a.faults;
      const parts = [
        f.latencyMs !== undefined ? `latency ${f.latencyMs} ms` : '',
        f.jitterMs !== undefined ? `jitter ${f.jitterMs} ms` : '',
        f.lossPercent !== undefined ? `loss ${f.lossPercent} %` : '',
        f.bandwidthKbps !== undefined ? `bandwidth ${f.bandwidthKbps} kbit/s` : '',
      ].filter(Boolean);
      return `link faults: ${parts.length ? parts.join(', ') : 'none'}`;
    }
    case 'server-down':
      return `server ${a.server} stops`;
    case 'server-up':
      return `server ${a.server} starts again`;
  }
}
