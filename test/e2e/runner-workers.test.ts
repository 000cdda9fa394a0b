// sim/runner/run-all.ts: `jobs` worker processes, each running items one after another, every
// item still with its own board, LAN and servers (each reaches "its" server at 10.0.2.2:8080),
// its own report and verdict; a malformed item does not end its worker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/events.ts';
import { runAll } from '../../sim/runner/run-all.ts';
import { e2eFirmware } from '../helpers/firmware.ts';
import { postClient } from '../helpers/post-client.ts';

const fw = e2eFirmware();

describe.skipIf(!fw)('worker processes of picow-sim test', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'picow-workers-'));
    for (const n of ['alpha', 'beta', 'gamma', 'delta']) {
      writeFileSync(join(dir, `${n}.py`), postClient(n));
      // delta waits for what another item's board sent: it must not see it.
      const want = n === 'delta' ? 'Received: gamma' : `Received: ${n}`;
      writeFileSync(join(dir, `${n}.yaml`), `name: ${n}\nscript: ${n}.py\ntimeout: 30s\nexpect:\n  - serial: "${want}"\n`);
    }
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nexpect: 3\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('2 jobs, 5 items: two processes share them; each item isolated, with its own report', async () => {
    const names = ['alpha', 'bad', 'beta', 'gamma', 'delta'];
    const events: SimEvent[] = [];
    const results = await runAll({
      items: names.map((n) => ({ kind: 'scenario' as const, path: join(dir, `${n}.yaml`) })),
      jobs: 2,
      name: (i) => basename(i.path),
      firmware: fw!,
      offline: true,
      env: { ...process.env, PICOW_FIRMWARE: fw! },
      onEvent: (e) => events.push(e),
    });
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['alpha.yaml', 'pass'],
      ['bad.yaml', 'malformed'],
      ['beta.yaml', 'pass'],
      ['gamma.yaml', 'pass'],
      ['delta.yaml', 'fail'],
    ]);
    // Fewer processes than items: each of the two ran several.
    const pids = new Set(results.map((r) => r.workerPid));
    expect(pids.size).toBe(2);
    // Each item's report and events are its own.
    const delta = results[4]!;
    expect(delta.report).toContain('POST request. Received: delta');
    expect(delta.report).not.toMatch(/POST request\. Received: (alpha|beta|gamma)/);
    expect(results[1]!.report).toContain('expect');
    expect(results[1]!.report).not.toContain('Received:');
    for (const n of ['alpha', 'beta', 'gamma']) {
      const text = events.filter((e) => e.file === `${n}.yaml` && e.type === 'console').map((e) => (e as { text: string }).text).join('');
      expect(text).toContain(`Received: ${n}`);
      expect(events.filter((e) => e.file === `${n}.yaml` && e.type === 'result')).toHaveLength(1);
    }
  }, 300_000);
});
