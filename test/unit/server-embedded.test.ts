import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedServer, type EmbeddedStart } from '../../server/embedded.ts';
import { HostServer } from '../../server/host-server.ts';
import { rawRequest } from './server-raw-client.ts';

const started: HostServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

function keep(r: EmbeddedStart): EmbeddedStart {
  if (r.started) started.push(r.server);
  return r;
}

describe('servers embedded in the simulator CLI', () => {
  it('starts and says where in one line', async () => {
    const r = keep(await startEmbeddedServer({ port: 0, db: ':memory:' }));
    if (!r.started) throw new Error(r.message);
    expect(r.message).toBe(`echo server at ${r.server.url}/, temperature collector at ${r.server.url}/temperature/`);
    expect((await rawRequest(r.server.port, 'GET / HTTP/1.0\r\n\r\n')).body.toString()).toBe('Hello, world!');
  });

  it('carries on with one line when the port is taken', async () => {
    const holder = new HostServer({ port: 0, collectorPrefix: false });
    started.push(holder);
    await holder.start();
    const r = keep(await startEmbeddedServer({ port: holder.port, db: ':memory:' }));
    expect(r).toEqual({
      started: false,
      message: `echo server not started: 127.0.0.1:${holder.port} is already in use (--server-port N to pick another, --no-server to skip)`,
    });
  });

  it('opens the readings database at the first reading: a bad one is a 503 and one line, the echo server goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-db-'));
    try {
      const notADir = join(dir, 'file');
      writeFileSync(notADir, 'x');
      const lines: string[] = [];
      const logger = { info: () => undefined, warn: () => undefined, error: (area: string, msg: string) => lines.push(`[${area}] ${msg}`) };
      const r = keep(await startEmbeddedServer({ port: 0, db: join(notADir, 'readings.sqlite'), logger }));
      if (!r.started) throw new Error(r.message);
      expect(lines).toEqual([]);
      expect((await rawRequest(r.server.port, 'GET / HTTP/1.0\r\n\r\n')).body.toString()).toBe('Hello, world!');
      const post = await rawRequest(r.server.port, 'POST /temperature HTTP/1.0\r\nContent-Length: 4\r\n\r\n21.5');
      expect(post.status).toBe(503);
      expect(lines).toEqual([expect.stringMatching(/^\[server\] .*readings\.sqlite: cannot open the readings database: [^\n]+$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a good database opened at the first reading keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-db-'));
    try {
      const r = keep(await startEmbeddedServer({ port: 0, db: join(dir, 'readings.sqlite') }));
      if (!r.started) throw new Error(r.message);
      const post = await rawRequest(r.server.port, 'POST /temperature HTTP/1.0\r\nContent-Length: 4\r\n\r\n21.5');
      expect(post.status).toBe(201);
      const got = JSON.parse((await rawRequest(r.server.port, 'GET /temperature/readings HTTP/1.0\r\n\r\n')).body.toString());
      expect(got.readings.map((x: { celsius: number }) => x.celsius)).toEqual([21.5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still fails on errors that are not a taken port', async () => {
    await expect(startEmbeddedServer({ port: 0, host: '192.0.2.1', db: ':memory:' })).rejects.toThrow(/--host "192\.0\.2\.1"/);
  });
});
