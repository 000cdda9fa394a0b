/**
 * Runs a Wokwi scenario's steps in order on simulated time, logging as wokwi-cli does
 * (`[scenario name] …`). A step that fails throws StepFailure (exit 1) with the simulated time
 * in nanoseconds, as wokwi-cli prints it.
 */
import { PicowSimError } from '../errors.ts';
import type { LabelledStep, Scenario } from './scenario.ts';

export class StepFailure extends PicowSimError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** What the runner needs from a running simulation. */
export interface ScenarioTarget {
  /** Simulated nanoseconds since the program started. */
  nanos(): number;
  /** Let the simulation run for `nanos`, then pause it. */
  delay(nanos: number): Promise<void>;
  /** Let it run until the serial output has `text` since the last step; then pause. */
  waitSerial(text: string): Promise<void>;
  writeSerial(bytes: Uint8Array): void;
  /** A part pin's digital level; throws for an unknown part or pin. */
  readPin(partId: string, pin: string): 0 | 1;
  /** Let it run until the pin reads `value`; false if `timeoutNanos` passed first. */
  waitPin(partId: string, pin: string, value: 0 | 1, timeoutNanos: number | null): Promise<boolean>;
  setControl(partId: string, control: string, value: number): void;
  log(line: string): void;
}

export async function runScenario(scenario: Scenario, target: ScenarioTarget): Promise<void> {
  const log = (m: string): void => target.log(`[${scenario.name}] ${m}`);
  const fail = (m: string): never => {
    throw new StepFailure(`[${target.nanos().toFixed(0)}ns] ${m}`);
  };
  for (const step of scenario.steps) {
    if (step.label) log(`Executing step: ${step.label}`);
    await runStep(step, target, log, fail);
  }
  log('Scenario completed successfully');
}

async function runStep(step: LabelledStep, t: ScenarioTarget, log: (m: string) => void, fail: (m: string) => never): Promise<void> {
  const where = (s: { line: number | null }): string => (s.line ? ` (line ${s.line})` : '');
  try {
    switch (step.kind) {
      case 'delay':
        log(`delay ${step.text}`);
        await t.delay(step.nanos);
        return;
      case 'wait-serial':
        await t.waitSerial(step.text);
        log(`Expected text matched: "${step.text}"`);
        return;
      case 'write-serial':
        t.writeSerial(step.bytes);
        return;
      case 'expect-pin': {
        log(`expect-pin ${step.partId}:${step.pin} == ${step.value}`);
        const v = t.readPin(step.partId, step.pin);
        if (v !== step.value) fail(`GPIO ${step.partId}:${step.pin} expected to be ${step.value} but was ${v}${where(step)}`);
        return;
      }
      case 'wait-pin': {
        log(`wait-pin ${step.partId}:${step.pin} == ${step.value}${step.timeoutNanos !== null ? ` (timeout ${step.timeoutNanos / 1e6}ms)` : ''}`);
        const ok = await t.waitPin(step.partId, step.pin, step.value, step.timeoutNanos);
        if (!ok) fail(`GPIO ${step.partId}:${step.pin} did not become ${step.value} within ${step.timeoutNanos! / 1e6}ms${where(step)}`);
        return;
      }
      case 'set-control':
        t.setControl(step.partId, step.control, step.value);
        return;
    }
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    if (e instanceof PicowSimError) fail(`${e.message}${where(step)}`);
    throw e;
  }
}
