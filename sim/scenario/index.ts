/**
 * Scenario files for CI: `runScenarioFile` is what `picow-sim --scenario FILE [--junit FILE]`
 * runs. Exit codes: 0 every expectation held, 1 one failed (or the run stopped on an error),
 * 2 the scenario is malformed (a `ScenarioError` naming the key and its line).
 */
import type { EventStream } from '../events.ts';
import { silentLogger, type Logger } from '../log.ts';
import { loadScenario } from './parse.ts';
import { runScenario, type RunResult, type WorldFactory } from './runner.ts';
import { boardWorld, type BoardWorldOptions } from './world.ts';

export { loadScenario, parseScenario, sensorTimeline, type ParseOptions } from './parse.ts';
export { runScenario, describeAction, type RunOptions, type RunResult, type ScenarioWorld, type WorldFactory, type WorldHooks } from './runner.ts';
export { boardWorld, scenarioUploads, type BoardWorldOptions } from './world.ts';
export { Observations, evaluate, evaluateAll, type ExpectationResult, type CollectedReading, type SerialChunk, type LedChange } from './expectations.ts';
export { junitXml, xmlEscape, type JunitSuite } from './junit.ts';
export { formatReport, exitCodeOf } from './report.ts';
export * from './schema.ts';

export interface ScenarioFileOptions extends BoardWorldOptions {
  junitFile?: string;
  logger?: Logger;
  /** Where the report goes (default: stderr). */
  print?: (text: string) => void;
  /** A different world (tests). */
  world?: WorldFactory;
  wallTimeoutMs?: number;
}

/**
 * Parse and run a scenario file, print the report, write JUnit XML if asked; returns the result
 * (its `exitCode` is the command's). A malformed file throws `ScenarioError` (exit code 2).
 */
export async function runScenarioFile(file: string, o: ScenarioFileOptions = {}): Promise<RunResult> {
  const logger = o.logger ?? silentLogger();
  const scenario = loadScenario(file);
  logger.info('scenario', `${scenario.name}: ${scenario.expect.length} expectations, timeout ${scenario.timeout} s simulated`);
  const result = await runScenario(scenario, {
    world: o.world ?? boardWorld(o),
    logger,
    junitFile: o.junitFile,
    wallTimeoutMs: o.wallTimeoutMs,
  });
  (o.print ?? ((t) => process.stderr.write(t + '\n')))(result.report);
  if (o.events) emitResult(o.events, result);
  return result;
}

/** `--json`: each expectation's verdict, then the run's result. */
export function emitResult(events: EventStream, r: RunResult): void {
  for (const x of r.results) {
    const board = x.expectation.kind !== 'collector' ? x.expectation.board : undefined;
    events.emit({
      ...(board !== undefined ? { board } : {}),
      type: 'expect',
      name: x.expectation.name,
      status: x.status === 'pass' ? 'pass' : 'fail',
      summary: x.summary,
      ...(x.status !== 'pass' && x.detail ? { detail: x.detail } : {}),
      line: x.expectation.where.line,
    });
  }
  const failed = r.results.filter((x) => x.status !== 'pass').length;
  events.emit({
    type: 'result',
    exitCode: r.exitCode,
    message: r.error ?? null,
    simSeconds: r.simSeconds,
    wallSeconds: r.wallSeconds,
    passed: r.results.length - failed,
    failed,
  });
}
