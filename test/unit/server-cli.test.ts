import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HostServer } from '../../server/host-server.ts';
import { rawRequest } from './server-raw-client.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];

interface Cli {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the first stderr match of `re`; rejects after `ms` or when the process exits first. */
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  const listeners = new Set<() => void>();
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    for (const l of listeners) l();
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    waitFor: (re, ms = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(err);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} on stderr within ${ms} ms; got: ${err}`));
        }, ms);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then((code) => {
          if (!re.exec(err)) {
            done();
            reject(new Error(`exited with ${code} before ${re}; stderr: ${err}`));
          }
        });
        listeners.add(check);
        check();
      }),
  };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
});

describe('npm run server', () => {
  it('serves, logs one line per request, and stops on SIGTERM', async () => {
    const cli = runCli(['--port', '0', '--db', ':memory:', '--method', 'BREW']);
    const m = await cli.waitFor(/echo server on http:\/\/127\.0\.0\.1:(\d+)\/ \(methods: GET, HEAD, POST, PUT, PATCH, DELETE, BREW\)/);
    const port = Number(m[1]);
    await cli.waitFor(/temperature collector on http:\/\/127\.0\.0\.1:\d+\/temperature\/ \(readings in :memory:\)/);
    const r = await rawRequest(port, 'BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\ntea');
    expect(r.body.toString()).toBe('This is a BREW request. Received: tea');
    await cli.waitFor(/\[http\] 127\.0\.0\.1 "BREW \/pot" 200 37B [\d.]+ms/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('prints no access log with --quiet', async () => {
    const cli = runCli(['--port', '0', '--db', ':memory:', '--quiet']);
    const port = Number((await cli.waitFor(/echo server on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    expect((await rawRequest(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).not.toMatch(/\[http\]/);
  });

  it('says in one line that the port is taken and exits 2', async () => {
    const holder = new HostServer({ port: 0, collectorPrefix: false });
    await holder.start();
    try {
      const cli = runCli(['--port', String(holder.port), '--db', ':memory:']);
      expect(await cli.exited).toBe(2);
      expect(cli.stderr()).toBe(
        `picow-sim server: port ${holder.port} on 127.0.0.1 is already in use (choose another with --port)\n`,
      );
    } finally {
      await holder.stop();
    }
  });

  it('says in one line when the database cannot be opened and exits 2', async () => {
    const cli = runCli(['--port', '0', '--db', '/dev/null/readings.sqlite']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/^picow-sim server: \/dev\/null\/readings\.sqlite: cannot open the readings database: [^\n]+\n$/);
  });

  it('refuses unknown options with exit code 2', async () => {
    const cli = runCli(['--bogus']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/^picow-sim server: --bogus "": unknown option \(see --help\)\n$/);
  });
});
