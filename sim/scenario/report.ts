/**
 * The readable report printed after a scenario run: one line per expectation, and for each
 * failure where it is in the file and why it failed.
 */
import type { ExpectationResult } from './expectations.ts';
import { formatSeconds } from './schema.ts';

export interface ReportInput {
  name: string;
  file: string;
  results: readonly ExpectationResult[];
  simSeconds: number;
  wallSeconds: number;
  /** Why the run stopped early, if it did (board halted, firmware error...). */
  error?: string;
  /** Show passed expectations too (default true). */
  showPassed?: boolean;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

export function formatReport(r: ReportInput): string {
  const out: string[] = [];
  const failed = r.results.filter((x) => x.status !== 'pass');
  out.push(`Scenario "${r.name}" — ${formatSeconds(r.simSeconds)} simulated in ${r.wallSeconds.toFixed(1)} s`);
  for (const x of r.results) {
    if (x.status === 'pass' && r.showPassed === false) continue;
    const mark = x.status === 'pass' ? 'PASS' : 'FAIL';
    out.push(`  ${mark}  ${x.expectation.name}: ${x.summary}`);
    if (x.status !== 'pass') {
      out.push(`        at ${r.file}:${x.expectation.where.line} (${x.expectation.where.key})`);
      if (x.detail) out.push(indent(x.detail, '        '));
    }
  }
  if (r.error) out.push(`  ERROR ${r.error}`);
  const passed = r.results.length - failed.length;
  out.push(`${r.results.length} expectation${r.results.length === 1 ? '' : 's'}: ${passed} passed, ${failed.length} failed${r.error ? ', run stopped by an error' : ''}`);
  return out.join('\n');
}

/** Exit code of a scenario run: 0 when every expectation holds and the run did not error. */
export function exitCodeOf(results: readonly ExpectationResult[], error?: string): 0 | 1 {
  return !error && results.every((x) => x.status === 'pass') ? 0 : 1;
}
