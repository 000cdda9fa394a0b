/**
 * picow-sim as a library, for users' own test suites:
 *
 *   import { PicoW } from 'picow-sim';
 *   const pico = await PicoW.boot();
 *   expect(await pico.exec('print(1 + 1)')).toBe('2\n');
 *   await pico.dispose();
 *
 * Only re-exports: the test API's `PicoW` (test-api.ts) stands on the session layer (sim/session).
 */
import type { BoardEvent } from './board/device.ts';
import type { ConsoleSource } from './board/picow.ts';
import type { ApConfig } from './cyw43/radio.ts';
import type { Wire } from './board/wires.ts';
import type { ForwardRule, HostEntry, LinkFaults, MapRule } from './net/policy.ts';

export { PicoW, OutputTimeout, type BootOptions, type TimeoutOption } from './test-api.ts';
export { MicroPythonError, ReplInterruptedError, ReplProtocolError, ReplTimeoutError } from './repl/errors.ts';
export { ReplClient, type ExecResult, type RemoteEntry } from './repl/client.ts';
export type { ByteStream } from './repl/stream.ts';
export type { MainEnd } from './repl/monitor.ts';
export { FirmwareError, PicowSimError, RunFailure, UsageError } from './errors.ts';
export { Logger } from './log.ts';
/** Sensor models and timelines (ADC channels, DS18B20 on 1-Wire), for custom boards in tests. */
export * as sensors from './sensors/index.ts';
/** Scenario files: run one from a test, or parse and check one. */
export { runScenarioFile, loadScenario, ScenarioError, type RunResult as ScenarioResult } from './scenario/index.ts';
export type { ApConfig, ForwardRule, HostEntry, LinkFaults, MapRule, Wire };
export { PicoWBoard } from './board/picow.ts';
/** Several boards on one radio and LAN: `const lan = new Lan(); await PicoW.boot({ lan, name: 'hub' })`. */
export { Lan, type LanOptions } from './session/lan.ts';
/** The session layer: build a world, boot it, run a program on it (for further front ends). */
export * as session from './session/index.ts';
export type { BoardEvent, ConsoleSource };
