/**
 * The outputs of `picow-sim test`: the summary table, the merged JUnit file, the exit code.
 */
import { junitXml, xmlEscape } from '../scenario/junit.ts';
import type { ItemResult } from './run-all.ts';

const MARK: Record<ItemResult['status'], string> = { pass: 'PASS', fail: 'FAIL', malformed: 'BAD ' };

/** 0 all passed, 2 any malformed, else 1 any failed. */
export function exitCodeOfAll(results: readonly ItemResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'malformed')) return 2;
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

function seconds(s: number): string {
  return s >= 100 ? `${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

/** One line per item (result, file, simulated and wall time), then the totals. */
export function summaryTable(results: readonly ItemResult[], wallSeconds: number): string {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [`result  ${'file'.padEnd(width)}  ${'simulated'.padStart(9)}  ${'wall'.padStart(9)}`];
  for (const r of results) {
    lines.push(`${MARK[r.status]}    ${r.name.padEnd(width)}  ${seconds(r.simSeconds).padStart(9)}  ${seconds(r.wallSeconds).padStart(9)}`);
  }
  const n = (s: ItemResult['status']): number => results.filter((r) => r.status === s).length;
  const sim = results.reduce((t, r) => t + r.simSeconds, 0);
  lines.push(
    `${results.length} file${results.length === 1 ? '' : 's'}: ${n('pass')} passed, ${n('fail')} failed, ${n('malformed')} malformed — ` +
      `${seconds(sim)} simulated in ${seconds(wallSeconds)}`,
  );
  return lines.join('\n');
}

/** All items' suites in one `<testsuites>` document; an item without a suite gets one with its error. */
export function mergedJunit(results: readonly ItemResult[]): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let time = 0;
  const suites: string[] = [];
  for (const r of results) {
    const xml = r.junit ?? junitXml([{ name: r.name, wallSeconds: r.wallSeconds, simSeconds: r.simSeconds, results: [], error: r.message ?? `exit ${r.exitCode}` }]);
    const head = /<testsuites tests="(\d+)" failures="(\d+)" errors="(\d+)" time="([\d.]+)">/.exec(xml);
    if (head) {
      tests += Number(head[1]);
      failures += Number(head[2]);
      errors += Number(head[3]);
      time += Number(head[4]);
    }
    // Each suite keeps its own name, and records which file it came from.
    for (const m of xml.matchAll(/ {2}<testsuite [\s\S]*?<\/testsuite>/g)) {
      suites.push(m[0].replace('<properties>', `<properties><property name="file" value="${xmlEscape(r.name)}"/>`));
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${tests}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
