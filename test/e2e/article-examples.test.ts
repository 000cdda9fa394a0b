/**
 * The article's sensor clients as shipped in firmware/examples, run by `picow-sim` with the
 * reference firmware: the ADC temperature client PUTs readings to a temperature collector of the
 * test, and the DS18B20 client says "Server Not Online" when nothing listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostServer } from '../../server/host-server.ts';
import type { StoredReading } from '../../server/temperature-reading.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'firmware/examples');

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
});

function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sim/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, PICOW_OFFLINE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      children.delete(child);
      res(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!fw)('the sensor client examples', () => {
  it('temperature_client.py PUTs the die temperature (ADC 4, 27 °C) to the collector', async () => {
    const server = new HostServer({ port: 0, db: ':memory:' });
    await server.start();
    const readings: StoredReading[] = [];
    const cli = startCli([
      join(EXAMPLES, 'temperature_client.py'),
      '--file',
      join(EXAMPLES, 'wifi_setup.py'),
      '--no-server',
      '--map',
      `10.0.2.2:8080=127.0.0.1:${server.port}`,
      '--quiet',
      '--timeout',
      '200',
    ]);
    try {
      await new Promise<void>((res, rej) => {
        server.on('reading', (r) => {
          readings.push(r);
          if (readings.length === 3) res();
        });
        void cli.exited.then((code) => rej(new Error(`picow-sim exited with ${code} after ${readings.length} readings: ${cli.stdout()} ${cli.stderr()}`)));
      });
      // The sensor sits at its default 27 °C; the example converts with the datasheet formula,
      // so only the ADC's 12-bit step (about 0.47 °C) separates the two.
      for (const r of readings) {
        expect(r.celsius).toBeGreaterThan(26);
        expect(r.celsius).toBeLessThan(28);
        expect(r.client).toBe('127.0.0.1');
      }
      expect(cli.stdout()).not.toContain('Server Not Online');
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
      await cli.exited;
      await server.stop();
    }
  }, 240_000);

  it('ds18b20_client.py finds the DS18B20 on GP22 and prints "Server Not Online" with no server', async () => {
    const closed = await freePort(); // nothing listens there: the host refuses the connection
    const cli = startCli([
      join(EXAMPLES, 'ds18b20_client.py'),
      '--file',
      join(EXAMPLES, 'wifi_setup.py'),
      '--no-server',
      '--map',
      `10.0.2.2:8080=127.0.0.1:${closed}`,
      '--quiet',
      '--expect',
      'Server Not Online',
      '--timeout',
      '200',
    ]);
    const code = await cli.exited;
    expect(cli.stderr()).toBe('');
    expect(code).toBe(0);
    // The run ends as soon as the text is seen: the line end may not have been printed yet.
    expect(cli.stdout()).toMatch(/^DS18B20 found: 1\r\nServer Not Online/);
  }, 240_000);
});
