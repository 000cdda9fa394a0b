// `picow-sim test`: which files a set of paths, folders and globs names, and the --shard split.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../sim/errors.ts';
import { collectItems, globRegExp, parseShard, shardItems } from '../../sim/runner/collect.ts';
import { wokwiProjectArgs } from '../../sim/runner/kinds.ts';
import { exitCodeOfAll, mergedJunit, summaryTable } from '../../sim/runner/summary.ts';
import type { ItemResult } from '../../sim/runner/run-all.ts';
import { junitXml } from '../../sim/scenario/junit.ts';

let dir = '';
const SCENARIO = 'name: x\nexpect:\n  - serial: hi\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'picow-collect-'));
  const files: Record<string, string> = {
    'a.yaml': SCENARIO,
    'b.yml': SCENARIO,
    'ci/one.yaml': SCENARIO,
    'ci/deep/two.yaml': SCENARIO,
    'ci/compose.yaml': 'services: {}\n', // no expect: key — not a scenario when found in a folder
    'ci/notes.txt': 'expect: 1\n',
    '.github/workflows/ci.yaml': SCENARIO, // hidden folder
    'node_modules/pkg/s.yaml': SCENARIO,
    'wokwi-proj/wokwi.toml': '[wokwi]\nversion = 1\n',
    'wokwi-proj/inner.yaml': SCENARIO, // inside a Wokwi project: part of that item
    'wokwi-mp/diagram.json': '{"version": 1, "parts": []}\n', // a MicroPython project: no wokwi.toml
    'wokwi-mp/test.yaml': 'name: t\nversion: 1\nsteps:\n  - delay: 1ms\n',
  };
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rel = (items: { kind: string; path: string }[]): string[] => items.map((i) => `${i.kind}:${relative(dir, i.path) || '.'}`);

describe('collecting items', () => {
  it('a folder: scenario YAML files (with an expect: key) and Wokwi projects, sorted, hidden folders and node_modules skipped', () => {
    expect(rel(collectItems([], dir))).toEqual(['scenario:a.yaml', 'scenario:b.yml', 'scenario:ci/deep/two.yaml', 'scenario:ci/one.yaml', 'wokwi:wokwi-mp', 'wokwi:wokwi-proj']);
  });

  it('files named on the command line count whatever they hold; each item once', () => {
    expect(rel(collectItems(['ci/compose.yaml', 'a.yaml', './a.yaml', 'wokwi-proj/wokwi.toml', 'wokwi-mp/diagram.json'], dir))).toEqual([
      'scenario:a.yaml',
      'scenario:ci/compose.yaml',
      'wokwi:wokwi-mp',
      'wokwi:wokwi-proj',
    ]);
  });

  it("a Wokwi project runs with its scenario (the YAML file with steps:); two are a usage error", () => {
    expect(wokwiProjectArgs(join(dir, 'wokwi-mp'))).toEqual(['--scenario', 'test.yaml']);
    expect(wokwiProjectArgs(join(dir, 'wokwi-proj'))).toEqual([]); // inner.yaml has no steps:
    writeFileSync(join(dir, 'wokwi-mp', 'other.yml'), 'steps:\n  - delay: 1ms\n');
    try {
      expect(() => wokwiProjectArgs(join(dir, 'wokwi-mp'))).toThrow(/several Wokwi scenarios \(other\.yml, test\.yaml\)/);
    } finally {
      rmSync(join(dir, 'wokwi-mp', 'other.yml'));
    }
  });

  it('globs: *, **, {a,b}', () => {
    expect(rel(collectItems(['ci/**/*.yaml'], dir))).toEqual(['scenario:ci/compose.yaml', 'scenario:ci/deep/two.yaml', 'scenario:ci/one.yaml']);
    expect(rel(collectItems(['*.{yaml,yml}'], dir))).toEqual(['scenario:a.yaml', 'scenario:b.yml']);
    expect(globRegExp('ci/**/*.yaml').test('ci/one.yaml')).toBe(true);
    expect(globRegExp('ci/*.yaml').test('ci/deep/two.yaml')).toBe(false);
  });

  it('a path or glob that names nothing is a usage error', () => {
    expect(() => collectItems(['missing.yaml'], dir)).toThrow(UsageError);
    expect(() => collectItems(['nothing/**/*.yaml'], dir)).toThrow(/matches no scenario/);
    expect(() => collectItems(['.github'], dir)).not.toThrow(); // named explicitly: searched
  });
});

describe('--shard', () => {
  it('parses I/N and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(UsageError);
  });

  it('splits deterministically: the shards are disjoint, cover every item, and do not depend on the input order', () => {
    const items = collectItems([], dir);
    const shards = [1, 2, 3].map((i) => shardItems(items, { index: i, count: 3 }, dir));
    expect(shards.flat().map((i) => i.path).sort()).toEqual(items.map((i) => i.path).sort());
    expect(shards.map((s) => s.length)).toEqual([2, 2, 2]);
    expect(shardItems([...items].reverse(), { index: 2, count: 3 }, dir)).toEqual(shards[1]);
  });
});

describe('results', () => {
  const item = (name: string, status: ItemResult['status'], junit: string | null): ItemResult => ({
    item: { kind: 'scenario', path: `/x/${name}` },
    name,
    status,
    exitCode: status === 'pass' ? 0 : status === 'fail' ? 1 : 2,
    simSeconds: 3,
    wallSeconds: 1.5,
    message: status === 'malformed' ? 'x.yaml:2: expect: expected a list' : null,
    report: '',
    junit,
    workerPid: 1,
  });
  const suite = (name: string, fail: boolean): string =>
    junitXml([
      {
        name,
        wallSeconds: 1,
        simSeconds: 3,
        results: [
          {
            expectation: { name: 'e', where: { key: 'expect[0]', line: 3 } } as never,
            status: fail ? 'fail' : 'pass',
            summary: 's',
            detail: fail ? 'not seen' : '',
          },
        ],
      },
    ]);

  it('exit code: 2 when any is malformed, else 1 when any failed, else 0', () => {
    expect(exitCodeOfAll([item('a', 'pass', null)])).toBe(0);
    expect(exitCodeOfAll([item('a', 'pass', null), item('b', 'fail', null)])).toBe(1);
    expect(exitCodeOfAll([item('a', 'fail', null), item('b', 'malformed', null)])).toBe(2);
  });

  it('one JUnit document: every suite, totals summed, a malformed file as an error suite', () => {
    const xml = mergedJunit([item('a.yaml', 'pass', suite('A', false)), item('b.yaml', 'fail', suite('B', true)), item('c.yaml', 'malformed', null)]);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<testsuites tests="2" failures="1" errors="1"');
    expect(xml).toContain('<property name="file" value="b.yaml"/>');
    expect(xml).toContain('expect: expected a list');
    expect(xml.trim().endsWith('</testsuites>')).toBe(true);
  });

  it('the table: a line per file with its simulated and wall time, then the totals', () => {
    const t = summaryTable([item('a.yaml', 'pass', null), item('b.yaml', 'fail', null)], 2);
    expect(t.split('\n')).toEqual([
      'result  file    simulated       wall',
      'PASS    a.yaml      3.0 s      1.5 s',
      'FAIL    b.yaml      3.0 s      1.5 s',
      '2 files: 1 passed, 1 failed, 0 malformed — 6.0 s simulated in 2.0 s',
    ]);
  });
});
