// `picow-sim test`: several scenario files in parallel workers, each with its own board, LAN and
// servers (all of them reach "their" server at 10.0.2.2:8080), sharded, with merged JUnit and --json.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/events.ts';
import { runCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { postClient } from '../helpers/post-client.ts';

const fw = e2eFirmware();
/** A MicroPython project in Wokwi's formats (diagram.json, main.py, scenario.yaml). */
const WOKWI_PROJECT = join(import.meta.dirname, 'wokwi-fixtures/mpy-project');

function scenario(name: string, expectText: string): string {
  return `name: ${name}\nscript: ${name}.py\ntimeout: 30s\nexpect:\n  - serial: "${expectText}"\n`;
}

describe.skipIf(!fw)('picow-sim test', () => {
  let dir = '';
  const env = (): Record<string, string> => ({ PICOW_FIRMWARE: fw! });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'picow-testcmd-'));
    mkdirSync(join(dir, 'suite'));
    for (const n of ['alpha', 'beta', 'gamma']) {
      writeFileSync(join(dir, 'suite', `${n}.py`), postClient(n));
      writeFileSync(join(dir, 'suite', `${n}.yaml`), scenario(n, `This is a POST request. Received: ${n}`));
    }
    writeFileSync(join(dir, 'suite', 'delta.py'), postClient('delta'));
    writeFileSync(join(dir, 'suite', 'delta.yaml'), scenario('delta', 'Received: somebody else'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nexpect: 3\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a folder with --jobs 2: the table, exit 1 for a failed file, one JUnit file', async () => {
    const junit = join(dir, 'out.xml');
    const r = await runCli(['test', join(dir, 'suite'), '--jobs', '2', '--junit', junit], 240_000, { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => /^(PASS|FAIL|BAD) /.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      expect.stringMatching(/^PASS .*alpha\.yaml$/),
      expect.stringMatching(/^PASS .*beta\.yaml$/),
      expect.stringMatching(/^FAIL .*delta\.yaml$/),
      expect.stringMatching(/^PASS .*gamma\.yaml$/),
    ]);
    // Each row: simulated and wall seconds.
    for (const row of rows) expect(row).toMatch(/\d+\.\d s\s+\d+\.\d s$/);
    expect(r.stdout).toContain('4 files: 3 passed, 1 failed, 0 malformed');
    // The failure's report is shown, with what the board printed instead.
    expect(r.stdout).toContain('Received: delta');
    const xml = readFileSync(junit, 'utf8');
    expect(xml.match(/<testsuite /g)).toHaveLength(4);
    expect(xml).toContain('<testsuites tests="4" failures="1" errors="0"');
  }, 260_000);

  it('a malformed file makes the exit code 2; --json gives every event with its file, then a summary', async () => {
    const r = await runCli(['test', join(dir, 'suite', 'alpha.yaml'), join(dir, 'bad.yaml'), '--json'], 240_000, { env: env() });
    expect(r.code, r.stderr).toBe(2);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SimEvent);
    expect(events[0]).toMatchObject({ type: 'start', mode: 'test' });
    expect(events.at(-1)).toMatchObject({ type: 'summary', exitCode: 2, files: 2, passed: 1, failed: 0, malformed: 1 });
    const results = events.filter((e) => e.type === 'result');
    expect(results).toHaveLength(2);
    const byFile = new Map(results.map((e) => [e.file!.replace(/^.*[\\/]/, ''), e]));
    expect(byFile.get('alpha.yaml')).toMatchObject({ exitCode: 0 });
    expect(byFile.get('bad.yaml')).toMatchObject({ exitCode: 2 });
    expect((byFile.get('bad.yaml') as { message: string }).message).toMatch(/bad\.yaml:2: expect/);
    const alpha = events.filter((e) => e.file?.endsWith('alpha.yaml'));
    expect(alpha.filter((e) => e.type === 'console').map((e) => (e as { text: string }).text).join('')).toContain('Received: alpha');
    // Its own server, on a free port (not the 8080 it asked for at 10.0.2.2).
    const opened = alpha.filter((e) => e.type === 'tcp' && e.state === 'open') as { host: string }[];
    expect(opened.length).toBeGreaterThan(0);
    for (const c of opened) expect(c.host).not.toBe('127.0.0.1:8080');
  }, 260_000);

  it('--shard I/N: the shards of a matrix run every file exactly once', async () => {
    const files: string[] = [];
    for (const shard of ['1/2', '2/2']) {
      const r = await runCli(['test', join(dir, 'suite', '*.yaml'), '--shard', shard, '--json', '--jobs', '1'], 240_000, {
        env: env(),
      });
      for (const line of r.stdout.trim().split('\n')) {
        const e = JSON.parse(line) as SimEvent;
        if (e.type === 'result') files.push(e.file!.replace(/^.*[\\/]/, ''));
      }
    }
    expect(files.sort()).toEqual(['alpha.yaml', 'beta.yaml', 'delta.yaml', 'gamma.yaml']);
  }, 500_000);

  it('Wokwi project folders: run by the Wokwi front end with their scenario, each with its verdict, events and JUnit suite', async () => {
    const projects = join(dir, 'wokwi');
    cpSync(WOKWI_PROJECT, join(projects, 'good'), { recursive: true });
    cpSync(WOKWI_PROJECT, join(projects, 'bad'), { recursive: true });
    // The LED is off once the project is ready: this step fails at once (wokwi-cli's exit 1).
    writeFileSync(
      join(projects, 'bad', 'scenario.yaml'),
      'name: led on too early\nversion: 1\nsteps:\n  - wait-serial: "project ready"\n  - expect-pin: { part-id: led1, name: A, value: 1 }\n',
    );
    const junit = join(dir, 'wokwi.xml');
    const r = await runCli(['test', projects, '--jobs', '2', '--json', '--junit', junit], 300_000, { env: env() });
    expect(r.code, r.stderr).toBe(1);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SimEvent);
    expect(events.at(-1)).toMatchObject({ type: 'summary', exitCode: 1, files: 2, passed: 1, failed: 1, malformed: 0 });
    const results = new Map(events.filter((e) => e.type === 'result').map((e) => [e.file!.replace(/^.*[\\/]/, ''), e]));
    expect(results.get('good')).toMatchObject({ exitCode: 0, message: null });
    expect(results.get('bad')).toMatchObject({ exitCode: 1 });
    expect((results.get('bad') as { message: string }).message).toContain('led1');
    // The good project's whole run as events: its console, its Wi-Fi, its pins, in simulated time.
    const good = events.filter((e) => e.file?.endsWith('good'));
    expect(good.filter((e) => e.type === 'console').map((e) => (e as { text: string }).text).join('')).toContain('net 3 10.0.2.2');
    expect(good).toContainEqual(expect.objectContaining({ type: 'wifi', state: 'up' }));
    expect(good.some((e) => e.type === 'pin')).toBe(true);
    expect((results.get('good') as { simSeconds: number }).simSeconds).toBeGreaterThan(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toContain('<testsuites tests="0" failures="0" errors="1"');
  }, 320_000);

  it('bad arguments: exit 2 with one line', async () => {
    const r = await runCli(['test', '--shard', '3/2'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('--shard "3/2"')]);
    const none = await runCli(['test', join(dir, 'nothing', '*.yaml')], 30_000);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('matches no scenario file');
  });
});
