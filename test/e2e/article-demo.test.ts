/**
 * What a new user sees first: `npm run sim` with no arguments at all. With a firmware it starts
 * the embedded echo server, boots, joins the default access point, runs the HTTP client example
 * and exits 0; without one it prints the one-line instruction and exits 2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const ROOT = resolve(import.meta.dirname, '../..');
const DEMO_PORT = 8080;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const groups = new Set<number>();
afterAll(() => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * `npm run sim` exactly as a user types it (no arguments for the simulator), in its own process
 * group so that npm's children can be stopped with it. `--silent` only quiets npm's banner.
 */
function npmRunSim(env: Record<string, string | undefined>, limitMs: number): Promise<Run> {
  const child = spawn('npm', ['run', '--silent', 'sim'], {
    cwd: ROOT,
    env: { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  groups.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res, rej) => {
    const t = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rej(new Error(`npm run sim still running after ${limitMs} ms; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`));
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      groups.delete(pid);
      res({ code, stdout, stderr });
    });
  });
}

/** The environment without any firmware configuration of the caller. */
function cleanEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  delete env.PICOW_FIRMWARE;
  delete env.PICOW_OFFLINE;
  delete env.XDG_CACHE_HOME;
  return env;
}

async function portFree(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((res) => {
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as AddressInfo).port;
      s.close(() => res(got === port));
    });
  });
}

describe('npm run sim with no arguments', () => {
  it('without any firmware prints the one-line instruction and exits 2', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'picow-nofw-'));
    try {
      const r = await npmRunSim({ ...cleanEnv(), PICOW_OFFLINE: '1', XDG_CACHE_HOME: empty, HOME: empty }, 60_000);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      // It says where the UF2 goes (the empty cache), where to get one, and the other ways.
      expect(lines[0]).toMatch(/^picow-sim: /);
      expect(lines[0]).toContain(join(empty, 'picow-sim'));
      expect(lines[0]).toContain('https://micropython.org/download/RPI_PICO_W/');
      expect(lines[0]).toContain('PICOW_FIRMWARE');
      // Offline: nothing was downloaded or created.
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(!fw)(
    'with the firmware runs the default demo: echo server, boot, Wi-Fi, IP, the six requests, exit 0',
    async (ctx) => {
      // The demo's echo server needs 8080 (the case below covers a taken port).
      if (!(await portFree(DEMO_PORT))) ctx.skip();
      const t0 = Date.now();
      // The embedded collector keeps its readings under XDG_DATA_HOME: a folder of this run.
      const data = mkdtempSync(join(tmpdir(), 'picow-demo-data-'));
      let r: Run;
      try {
        r = await npmRunSim({ ...cleanEnv(), PICOW_FIRMWARE: fw!, XDG_DATA_HOME: data }, 180_000);
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
      const all = `${r.stderr}\n${r.stdout}`;
      expect(r.code, all).toBe(0);
      // Short headings say what happens, in this order.
      const headings = [/boot/i, /join\w*.*Wi-?Fi|Wi-?Fi.*join/i, /got\b.*\bIP|IP address/i, /request/i];
      for (const h of headings) expect(all, `no heading matching ${h}`).toMatch(h);
      expect(r.stderr).toContain(`echo server at http://127.0.0.1:${DEMO_PORT}/`);
      // The example's requests against the embedded echo server (the article's semantics).
      const out = r.stdout.split(/\r?\n/);
      const first = out.indexOf("b'Hello, world!'");
      expect(first, r.stdout).toBeGreaterThanOrEqual(0);
      expect(out.slice(first, first + 7).map((l) => l.replace(/'Date': '[^']*'/, "'Date': 'D'"))).toEqual([
        "b'Hello, world!'",
        "b'This is a POST request. Received: Hello World'",
        "b'This is a PUT request. Received: Hello World'",
        "b'This is a PATCH request. Received: Hello World'",
        "b''",
        expect.stringMatching(/^\{'Server': 'picow-sim\/[^']+', 'Date': 'D'\}$/),
        "b'This is a DELETE request. Received: Hello World'",
      ]);
      // The board's own address on the virtual LAN appears with the "got IP" heading.
      expect(all).toMatch(/10\.0\.2\.(1[5-9]|[2-9]\d)\b/);
      expect(Date.now() - t0).toBeLessThan(180_000);
    },
    200_000,
  );

  it.skipIf(!fw)(
    'with 8080 taken by another server: one line says so, and the demo serves from a free port instead',
    async (ctx) => {
      // Another HTTP server of the test holds 8080 and answers every method with "decoy".
      const decoy = createHttpServer((req, res) => {
        req.resume();
        req.on('end', () => res.end('decoy'));
      });
      const held = await new Promise<boolean>((res) => {
        decoy.once('error', () => res(false));
        decoy.listen(DEMO_PORT, '127.0.0.1', () => res(true));
      });
      if (!held) ctx.skip(); // someone else's process holds it: what it answers is unknown
      const data = mkdtempSync(join(tmpdir(), 'picow-demo-data-'));
      try {
        const r = await npmRunSim({ ...cleanEnv(), PICOW_FIRMWARE: fw!, XDG_DATA_HOME: data }, 180_000);
        const taken = r.stderr.split('\n').filter((l) => l.includes(`${DEMO_PORT}`) && /already in use/.test(l));
        expect(taken, r.stderr).toEqual([
          `picow-sim: echo server not started: 127.0.0.1:${DEMO_PORT} is already in use (--server-port N to pick another, --no-server to skip)`,
        ]);
        // The demo starts its server on a free port and maps the board's 10.0.2.2:8080 there.
        expect(r.stderr).toMatch(/echo server at http:\/\/127\.0\.0\.1:\d+\/.*\(the board's 10\.0\.2\.2:8080 goes there\)/);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.split(/\r?\n/).filter((l) => l.startsWith("b'"))).toEqual([
          "b'Hello, world!'",
          "b'This is a POST request. Received: Hello World'",
          "b'This is a PUT request. Received: Hello World'",
          "b'This is a PATCH request. Received: Hello World'",
          "b''",
          "b'This is a DELETE request. Received: Hello World'",
        ]);
      } finally {
        decoy.closeAllConnections();
        await new Promise<void>((res) => decoy.close(() => res()));
        rmSync(data, { recursive: true, force: true });
      }
    },
    200_000,
  );
});
