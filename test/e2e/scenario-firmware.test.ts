/**
 * Scenario files end to end with the reference firmware: the book's clients on a simulated board
 * posting to the embedded collector, checked against the sensor timelines.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenarioFile } from '../../sim/scenario/index.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'scenario-fixtures');
const WALL_MS = 600_000;

async function run(name: string) {
  const lines: string[] = [];
  const r = await runScenarioFile(join(fixtures, name), { firmware: fw!, print: (t) => lines.push(t), wallTimeoutMs: WALL_MS });
  return { r, report: lines.join('\n') };
}

describe.skipIf(!fw)('scenarios with the reference firmware', () => {
  it('an ADC ramp reaches the collector and matches the timeline', async () => {
    const { r, report } = await run('adc-ramp.yaml');
    expect(r.exitCode, report).toBe(0);
    expect(r.ended).toBe('decided');
    // The readings span the ramp: the last one is well above the first.
    const rs = r.obs.readings;
    expect(rs.length).toBeGreaterThanOrEqual(20);
    expect(rs[rs.length - 1]!.celsius - rs[0]!.celsius).toBeGreaterThan(3);
  }, WALL_MS);

  it('the DS18B20 client sends quantised readings that follow the sine', async () => {
    const { r, report } = await run('ds18b20.yaml');
    expect(r.exitCode, report).toBe(0);
    for (const x of r.obs.readings) expect((x.celsius * 16) % 1).toBe(0); // 12-bit: multiples of 1/16 °C
  }, WALL_MS);

  it('during a server-down window the client reports the failure, then recovers', async () => {
    const { r, report } = await run('server-down.yaml');
    expect(r.exitCode, report).toBe(0);
    const during = r.obs.readings.filter((x) => x.t > 10.5 && x.t < 17.5);
    expect(during).toEqual([]);
  }, WALL_MS);
});
