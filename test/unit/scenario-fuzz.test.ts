/**
 * Hostile scenario files: alias bombs, absurd numbers, and random mutations of the README's
 * complete example. Each must parse or fail with one ScenarioError line (the CLI's exit 2), fast;
 * a few go through the real command to check the exit code and that stderr is one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PicowSimError } from '../../sim/errors.ts';
import { parseScenario, type ParseOptions } from '../../sim/scenario/parse.ts';
import { fuzzRng, type FuzzRng } from '../helpers/fuzz-rng.ts';

const here = dirname(fileURLToPath(import.meta.url));
const README = readFileSync(join(here, '../../README.md'), 'utf8');
/** The README's "A complete example" scenario, as the user reads it. */
const EXAMPLE = /### A complete example\s+```yaml\n([\s\S]*?)```/.exec(README)![1]!;
const FAKE_FS: ParseOptions = {
  baseDir: '/proj',
  exists: () => true,
  readFile: () => 'seconds,celsius\n0,21\n600,23\n',
};

/** What the CLI would do with this text: 'ok' or the one-line error (exit 2). */
function outcome(text: string): { ok: true } | { ok: false; message: string } {
  try {
    parseScenario(text, 'fuzz.yaml', FAKE_FS);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof PicowSimError)) throw e; // a stack trace for the user: a bug
    expect(e.exitCode).toBe(2);
    return { ok: false, message: e.message };
  }
}

const errorOf = (text: string): string => {
  const r = outcome(text);
  if (r.ok) throw new Error(`expected an error for:\n${text}`);
  return r.message;
};

const rng = fuzzRng;

const HOSTILE = ['9'.repeat(400), '.inf', '-.inf', '.nan', 'Infinity', '1e-300', '1e300', '-1', '0', '0x7fffffff', '4294967296', '""', "''", '~', '[]', '{}', '*x', '&x 1', '!!binary AA==', '1:2:3', '-', '?', '|', '>', '%', '@', '`', '"\\u0000"', 'true', 'null', '1h1h1h1h1h', '99999999999999999999min'];

function mutate(r: FuzzRng, text: string): string {
  const lines = text.split('\n');
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    const i = r.int(lines.length);
    const line = lines[i]!;
    switch (r.int(7)) {
      case 0: {
        // Replace a value with something hostile.
        const colon = line.indexOf(': ');
        if (colon > 0) lines[i] = `${line.slice(0, colon + 2)}${r.pick(HOSTILE)}`;
        break;
      }
      case 1:
        lines.splice(i, 1);
        break;
      case 2:
        lines.splice(r.int(lines.length), 0, line);
        break;
      case 3:
        lines[i] = ' '.repeat(r.int(6)) + line.trimStart();
        break;
      case 4: {
        const at = r.int(line.length + 1);
        lines[i] = line.slice(0, at) + r.pick([':', '-', ' ', '#', '"', "'", '[', '{', '&a ', '*a', '\t', '\\']) + line.slice(at);
        break;
      }
      case 5:
        lines[i] = line.replace(/\d+(\.\d+)?/, () => r.pick(HOSTILE));
        break;
      case 6:
        lines[i] = line.slice(0, r.int(line.length + 1));
        break;
    }
  }
  return lines.join('\n');
}

describe('scenario files from a hostile hand', () => {
  it('the README example parses', () => {
    expect(outcome(EXAMPLE)).toEqual({ ok: true });
  });

  it('a 500-byte YAML alias bomb is refused at once by the yaml package\'s alias limit', () => {
    const lines = ['name: bomb', 'sensors:', '  adc4:', '    temperature:', '      sum:', '        - &l0 {sum: [1,1,1,1,1,1,1,1,1]}'];
    for (let i = 1; i < 8; i++) lines.push(`        - &l${i} {sum: [${Array(9).fill(`*l${i - 1}`).join(',')}]}`);
    const text = lines.join('\n');
    expect(text.length).toBeLessThan(600);
    const t0 = performance.now();
    expect(errorOf(text)).toBe('fuzz.yaml:1: too many YAML alias expansions (more than 100; nested aliases multiply)');
    expect(performance.now() - t0).toBeLessThan(2000);
    // A few plain aliases are fine.
    expect(outcome('name: &n x\nexpect:\n  - serial: *n\n')).toEqual({ ok: true });
  });

  it('non-finite and absurd numbers are errors at their key', () => {
    expect(errorOf(`timeout: "${'9'.repeat(400)}"`)).toMatch(/^fuzz\.yaml:1: timeout: expected a duration/);
    expect(errorOf(`timeout: ${'9'.repeat(400)}`)).toMatch(/^fuzz\.yaml:1: timeout: expected a duration/);
    expect(errorOf('timeout: 1e300')).toMatch(/timeout: must be at most 30 days/);
    expect(errorOf('timeout: 400h400h400h')).toMatch(/timeout: must be at most 30 days/);
    const link = (k: string, v: string) => `faults:\n  - at: 1s\n    link: {${k}: ${v}}\n`;
    expect(errorOf(link('latency', 'Infinity'))).toMatch(/faults\[0\]\.link\.latency: expected a duration/);
    expect(errorOf(link('latency', '.inf'))).toMatch(/faults\[0\]\.link\.latency: expected a duration/);
    expect(errorOf(link('latency', '2min'))).toMatch(/latency: must be at most 60 s/);
    expect(errorOf(link('bandwidth', '1e-300'))).toMatch(/bandwidth: must be 0 \(unlimited\) or from 1 to 10000000 kbit\/s/);
    expect(errorOf(link('bandwidth', '.inf'))).toMatch(/bandwidth: expected a finite number/);
    expect(errorOf('sensors:\n  adc4:\n    temperature: 1e300\n')).toMatch(/sensors\.adc4\.temperature: must be from -1000000000 to 1000000000/);
    expect(errorOf('sensors:\n  adc4:\n    temperature: .nan\n')).toMatch(/expected a finite number, got NaN/);
  });

  it('restrict: true is a key, and not with allow-internet; "SSID:" needs its password', () => {
    expect(outcome('restrict: true\n')).toEqual({ ok: true });
    expect(errorOf('restrict: true\nallow-internet: true\n')).toMatch(/restrict: cannot be used together with allow-internet/);
    // The shorthand goes through the --ap grammar (session/specs.ts), which quotes the spec but names no flag.
    expect(errorOf('aps:\n  - "Home:"\n')).toMatch(/aps\[0\]: 'Home:': the password after ':' is empty/);
    expect(errorOf('aps:\n  - "Home:"\n')).not.toMatch(/--ap/);
  });

  it('1000 random mutations of the README example: parsed or one ScenarioError line, never a throw or a hang', () => {
    const r = rng(0x5ce7a);
    let errors = 0;
    let slowest = 0;
    for (let i = 0; i < 1000; i++) {
      const text = mutate(r, EXAMPLE);
      const t0 = performance.now();
      let res: ReturnType<typeof outcome>;
      try {
        res = outcome(text);
      } catch (e) {
        throw new Error(`mutation ${i} threw ${(e as Error).stack}\n--- scenario ---\n${text}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      if (!res.ok) {
        errors++;
        expect(res.message, text).not.toContain('\n');
        expect(res.message, text).toMatch(/^fuzz\.yaml(:\d+)?: /);
      }
    }
    expect(errors).toBeGreaterThan(300); // the mutations reach the checks
    expect(slowest).toBeLessThan(1000);
  }, 60_000);

  it('through the command: exit 2 and one line on stderr, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-scn-'));
    try {
      const r = rng(0xfeed);
      const cases = [`timeout: "${'9'.repeat(400)}"\n`, 'faults:\n  - at: 1s\n    link: {bandwidth: 1e-300}\n'];
      for (let i = 0; i < 3; i++) cases.push(mutate(r, EXAMPLE) + '\nbogus-key: 1\n');
      for (const [i, text] of cases.entries()) {
        const f = join(dir, `s${i}.yaml`);
        writeFileSync(f, text);
        const p = spawnSync(process.execPath, ['--import', 'tsx', join(here, '../../sim/cli.ts'), '--scenario', f, '--offline'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, PICOW_FIRMWARE: join(dir, 'none.uf2') },
        });
        expect(p.status, p.stderr).toBe(2);
        const lines = p.stderr.trim().split('\n');
        expect(lines, p.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^picow-sim: /);
        expect(p.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

