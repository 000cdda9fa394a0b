import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { runScenario, type ScenarioWorld, type WorldHooks } from '../../sim/scenario/runner.ts';
import { runScenarioFile, scenarioUploads } from '../../sim/scenario/index.ts';
import { ScenarioError } from '../../sim/scenario/schema.ts';
import { FirmwareError } from '../../sim/errors.ts';
import type { FaultAction } from '../../sim/scenario/schema.ts';
import { ManualClock } from '../../sim/time.ts';

const S = 1e9;

/** A world whose "board" is a script of observations at simulated times. */
class ScriptedWorld implements ScenarioWorld {
  readonly clock = new ManualClock();
  readonly applied: [number, FaultAction][] = [];
  disposed = false;
  constructor(
    private readonly hooks: WorldHooks,
    private readonly script: [number, (h: WorldHooks) => void][],
    private readonly step = 0.25,
  ) {}
  now(): number {
    return this.clock.nanos / S;
  }
  at(seconds: number, cb: () => void) {
    return this.clock.schedule(Math.max(0, seconds * S - this.clock.nanos), cb);
  }
  async start(): Promise<void> {
    for (const [t, f] of this.script) this.at(t, () => f(this.hooks));
    // Drive time forward in steps, yielding like a board's run loop does.
    void (async () => {
      while (!this.disposed && this.now() < 1e6) {
        this.clock.advance(this.step * S);
        await new Promise((r) => setImmediate(r));
      }
    })();
  }
  async apply(a: FaultAction): Promise<void> {
    this.applied.push([this.now(), a]);
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

const opts = { baseDir: '/p', exists: () => true };
const dir = mkdtempSync(join(tmpdir(), 'scenario-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runScenario', () => {
  it('stops as soon as every expectation is decided', async () => {
    const s = parseScenario('timeout: 1h\nexpect:\n  - serial: connected\n    before: 10s\n  - led: on\n    at: 2s\n', 'a.yaml', opts);
    let world!: ScriptedWorld;
    const r = await runScenario(s, {
      world: async (_s, h) =>
        (world = new ScriptedWorld(h, [
          [1, (h) => h.obs.addLed(1, true)],
          [3.1, (h) => h.obs.addSerial(3.1, 'wifi connected\n')],
        ])),
    });
    expect(r.ended).toBe('decided');
    expect(r.exitCode).toBe(0);
    expect(r.results.map((x) => x.status)).toEqual(['pass', 'pass']);
    // Decided at the first check after 3.1 s (checks run every simulated second).
    expect(r.simSeconds).toBe(4);
    expect(world.disposed).toBe(true);
  });

  it('applies faults at their simulated times', async () => {
    const s = parseScenario(
      [
        'timeout: 20s',
        'aps: [Home:password1]',
        'faults:',
        '  - at: 12s',
        '    server-up: server',
        '  - at: 5s',
        '    server-down: server',
        '  - at: 7.5s',
        '    ap-down: Home',
        'expect:',
        '  - serial: done',
        '    before: 15s',
      ].join('\n'),
      'b.yaml',
      opts,
    );
    let world!: ScriptedWorld;
    const r = await runScenario(s, { world: async (_s, h) => (world = new ScriptedWorld(h, [[14, (h) => h.obs.addSerial(14, 'done\n')]])) });
    expect(world.applied).toEqual([
      [5, { kind: 'server-down', server: 'server' }],
      [7.5, { kind: 'ap-down', ssid: 'Home' }],
      [12, { kind: 'server-up', server: 'server' }],
    ]);
    expect(r.exitCode).toBe(0);
    // "done" arrives at 14 s, just before that second's check: decided there.
    expect(r.simSeconds).toBe(14);
  });

  it('fails at the simulated timeout with a report and JUnit file', async () => {
    const s = parseScenario('name: never\ntimeout: 6s\nexpect:\n  - serial: hello\n', 'c.yaml', opts);
    const junitFile = join(dir, 'c.xml');
    const r = await runScenario(s, { world: async (_s, h) => new ScriptedWorld(h, [[2, (h) => h.obs.addSerial(2, 'booting\n')]]), junitFile });
    expect(r.ended).toBe('timeout');
    expect(r.simSeconds).toBe(6);
    expect(r.exitCode).toBe(1);
    expect(r.report).toContain('  FAIL  serial #1: serial output contains "hello" at any time');
    expect(r.report).toContain('not seen by the end of the run (6 s); last serial lines in the window:\n        booting');
    const xml = readFileSync(junitFile, 'utf8');
    expect(xml).toContain('<testsuite name="never" tests="1" failures="1" errors="0"');
    expect(xml).toContain('<system-out>booting\n</system-out>');
  });

  it('stops with exit 1 when the world reports an error', async () => {
    const s = parseScenario('timeout: 60s\nexpect:\n  - serial: x\n', 'd.yaml', opts);
    const r = await runScenario(s, { world: async (_s, h) => new ScriptedWorld(h, [[3, (h) => h.fail('the board halted: HardFault')]]) });
    expect(r.ended).toBe('error');
    expect(r.error).toBe('the board halted: HardFault');
    expect(r.exitCode).toBe(1);
    expect(r.simSeconds).toBe(3);
    expect(r.report).toContain('  ERROR the board halted: HardFault');
    expect(r.junit).toContain('<error message="the board halted: HardFault" type="RunError">');
  });

  it('a world that cannot be built is an error result', async () => {
    const s = parseScenario('expect:\n  - serial: x\n', 'e.yaml', opts);
    const r = await runScenario(s, { world: async () => { throw new Error('no such firmware'); } });
    expect(r.exitCode).toBe(1);
    expect(r.error).toBe('could not set up the scenario: no such firmware');
  });

  it('unusable input found while building the world keeps its exit code', async () => {
    const s = parseScenario('expect:\n  - serial: x\n', 'f.yaml', opts);
    const p = runScenario(s, { world: async () => { throw new FirmwareError('fw.uf2', 'not a UF2 file'); } });
    await expect(p).rejects.toMatchObject({ exitCode: 2, message: 'fw.uf2: not a UF2 file' });
  });
});

describe('runScenarioFile', () => {
  it('parses the file, runs it in the given world and prints the report', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'name: file run\ntimeout: 5s\nexpect:\n  - serial: ready\n');
    const printed: string[] = [];
    const r = await runScenarioFile(file, {
      world: async (_s, h) => new ScriptedWorld(h, [[1, (h) => h.obs.addSerial(1, 'ready\n')]]),
      print: (t) => printed.push(t),
    });
    expect(r.exitCode).toBe(0);
    expect(printed).toEqual([r.report]);
    expect(r.report.split('\n').at(-1)).toBe('1 expectation: 1 passed, 0 failed');
  });

  it('a malformed file is a ScenarioError with exit code 2, before anything runs', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\nsensors:\n  adc4:\n    temperature: {ramp: {from: 1, to: 2}}\n');
    let built = false;
    const p = runScenarioFile(file, { world: async () => ((built = true), null as never) });
    await expect(p).rejects.toBeInstanceOf(ScenarioError);
    await expect(p).rejects.toMatchObject({ exitCode: 2, key: 'sensors.adc4.temperature.ramp', line: 4 });
    expect(built).toBe(false);
    await expect(runScenarioFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('scenarioUploads', () => {
  it('lists lib folders and files, extra files, then the script as main.py', () => {
    const root = join(dir, 'uploads');
    mkdirSync(join(root, 'lib', 'pkg'), { recursive: true });
    writeFileSync(join(root, 'lib', 'a.py'), 'A');
    writeFileSync(join(root, 'lib', 'pkg', 'b.py'), 'B');
    writeFileSync(join(root, 'helper.py'), 'H');
    writeFileSync(join(root, 'secrets.py'), 'S');
    writeFileSync(join(root, 'main_src.py'), 'M');
    const s = parseScenario('script: main_src.py\nlib: [lib, helper.py]\nfiles:\n  conf/secrets.py: secrets.py\n', 'u.yaml', { baseDir: root });
    expect(scenarioUploads(s).map((u) => [u.local.slice(root.length + 1), u.remote])).toEqual([
      ['lib/a.py', '/lib/a.py'],
      ['lib/pkg/b.py', '/lib/pkg/b.py'],
      ['helper.py', '/lib/helper.py'],
      ['secrets.py', '/conf/secrets.py'],
      ['main_src.py', '/main.py'],
    ]);
  });
});
