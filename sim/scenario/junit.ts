/**
 * JUnit XML for CI systems: one test suite per scenario, one test case per expectation, the
 * serial output as the suite's system-out.
 */
import type { ExpectationResult } from './expectations.ts';

/** Escape text for XML content and attributes; drop characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface JunitSuite {
  name: string;
  /** Wall-clock seconds the run took. */
  wallSeconds: number;
  /** Simulated seconds the run covered. */
  simSeconds: number;
  results: readonly ExpectationResult[];
  /** An error that stopped the run before the expectations could be judged (board halted…). */
  error?: string;
  serial?: string;
  timestamp?: Date;
}

export function junitXml(suites: readonly JunitSuite[]): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = suites.reduce((n, s) => n + s.results.length, 0);
  const failures = suites.reduce((n, s) => n + s.results.filter((r) => r.status !== 'pass').length, 0);
  const errors = suites.filter((s) => s.error).length;
  const time = suites.reduce((n, s) => n + s.wallSeconds, 0);
  out.push(`<testsuites tests="${total}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`);
  for (const s of suites) {
    const f = s.results.filter((r) => r.status !== 'pass').length;
    const attrs = [
      `name="${xmlEscape(s.name)}"`,
      `tests="${s.results.length}"`,
      `failures="${f}"`,
      `errors="${s.error ? 1 : 0}"`,
      `skipped="0"`,
      `time="${s.wallSeconds.toFixed(3)}"`,
    ];
    if (s.timestamp) attrs.push(`timestamp="${s.timestamp.toISOString().replace(/\.\d+Z$/, '')}"`);
    out.push(`  <testsuite ${attrs.join(' ')}>`);
    out.push(`    <properties><property name="simulated-seconds" value="${s.simSeconds.toFixed(3)}"/></properties>`);
    for (const r of s.results) {
      const name = `${r.expectation.name}: ${r.summary}`;
      const open = `    <testcase classname="${xmlEscape(s.name)}" name="${xmlEscape(name)}" time="0">`;
      if (r.status === 'pass') {
        out.push(`${open}</testcase>`);
      } else {
        const first = r.detail.split('\n')[0] ?? '';
        out.push(open);
        out.push(`      <failure message="${xmlEscape(first)}" type="ExpectationFailed">${xmlEscape(`line ${r.expectation.where.line}: ${r.summary}\n${r.detail}`)}</failure>`);
        out.push('    </testcase>');
      }
    }
    if (s.error) out.push(`    <error message="${xmlEscape(s.error.split('\n')[0] ?? '')}" type="RunError">${xmlEscape(s.error)}</error>`);
    if (s.serial) out.push(`    <system-out>${xmlEscape(s.serial)}</system-out>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
