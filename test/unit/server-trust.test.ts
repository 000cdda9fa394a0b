/**
 * The servers against a hostile browser or client: DNS rebinding (Host), cross-origin writes
 * (Origin, --cors), event-stream and connection limits, and durable storage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostServer, type HostServerOptions } from '../../server/host-server.ts';
import { MAX_EVENT_STREAMS } from '../../server/temperature-collector.ts';
import { TemperatureStore } from '../../server/temperature-store.ts';
import { rawRequest } from './server-raw-client.ts';

const servers: HostServer[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(opts: HostServerOptions = {}): Promise<HostServer> {
  const s = new HostServer({ port: 0, db: ':memory:', ...opts });
  servers.push(s);
  await s.start();
  return s;
}

const req = (method: string, path: string, headers: Record<string, string>, body = ''): string =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ 'Content-Length': String(Buffer.byteLength(body)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n${body}`;

const count = async (s: HostServer): Promise<number> =>
  JSON.parse((await rawRequest(s.port, req('GET', '/temperature/readings', { Host: '127.0.0.1' }))).body.toString()).count as number;

describe('DNS rebinding: Host is checked', () => {
  it('answers IP addresses, localhost and allowed names; refuses other names with 421', async () => {
    const s = await start({ allowedHosts: ['collector.local'] });
    for (const host of [`127.0.0.1:${s.port}`, '10.0.2.2:8080', `localhost:${s.port}`, '[::1]:80', 'collector.local', 'COLLECTOR.LOCAL.']) {
      expect((await rawRequest(s.port, req('GET', '/', { Host: host }))).status, host).toBe(200);
    }
    const r = await rawRequest(s.port, req('PUT', '/temperature', { Host: `evil.example:${s.port}` }, '21.5'));
    expect(r.status).toBe(421);
    expect(r.body.toString()).toMatch(/does not answer to the name 'evil\.example'/);
    expect(await count(s)).toBe(0);
    // HTTP/1.0 without Host (the article's clients) still works.
    expect((await rawRequest(s.port, 'GET / HTTP/1.0\r\n\r\n')).status).toBe(200);
  });
});

describe('cross-origin writes', () => {
  it('a text/plain POST from another origin is refused and stores nothing; the board (no Origin) and same-origin pages may write', async () => {
    const s = await start();
    const host = `127.0.0.1:${s.port}`;
    const evil = await rawRequest(s.port, req('POST', '/temperature', { Host: host, Origin: 'https://evil.example', 'Content-Type': 'text/plain' }, '99'));
    expect(evil.status).toBe(403);
    expect(evil.body.toString()).toMatch(/cross-origin POST from https:\/\/evil\.example refused \(start the server with --cors/);
    expect((await rawRequest(s.port, req('PUT', '/', { Host: host, Origin: 'null' }, 'x'))).status).toBe(403);
    expect(await count(s)).toBe(0);
    expect((await rawRequest(s.port, req('PUT', '/temperature', { Host: '10.0.2.2:8080' }, '21.5'))).status).toBe(201);
    expect((await rawRequest(s.port, req('PUT', '/temperature', { Host: host, Origin: `http://${host}` }, '22'))).status).toBe(201);
    expect(await count(s)).toBe(2);
    // Reading cross-origin gets no CORS header, so the page cannot see the answer.
    const read = await rawRequest(s.port, req('GET', '/temperature/readings', { Host: host, Origin: 'https://evil.example' }));
    expect(read.headers.get('access-control-allow-origin')).toBeUndefined();
  });

  it('--cors ORIGIN allows that origin, with CORS headers and preflight answers', async () => {
    const s = await start({ corsOrigins: ['http://localhost:3000'] });
    const host = `127.0.0.1:${s.port}`;
    const pre = await rawRequest(
      s.port,
      req('OPTIONS', '/temperature', { Host: host, Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(pre.headers.get('access-control-allow-methods')).toBe('PUT');
    const put = await rawRequest(s.port, req('PUT', '/temperature', { Host: host, Origin: 'http://localhost:3000' }, '20.5'));
    expect(put.status).toBe(201);
    expect(put.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect((await rawRequest(s.port, req('PUT', '/temperature', { Host: host, Origin: 'http://localhost:3001' }, '20.5'))).status).toBe(403);
    const badPre = await rawRequest(s.port, req('OPTIONS', '/temperature', { Host: host, Origin: 'http://x.example', 'Access-Control-Request-Method': 'PUT' }));
    expect(badPre.status).toBe(403);
  });
});

describe('limits', () => {
  it(`event streams: at most ${MAX_EVENT_STREAMS} at once, 503 beyond`, async () => {
    const s = await start();
    const opened: Promise<number>[] = [];
    const reqs: ReturnType<typeof request>[] = [];
    for (let i = 0; i < MAX_EVENT_STREAMS + 3; i++) {
      opened.push(
        new Promise((resolve) => {
          const r = request({ port: s.port, path: '/temperature/events', agent: false }, (res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
          });
          r.on('error', () => resolve(-1));
          r.end();
          reqs.push(r);
        }),
      );
    }
    const statuses = await Promise.all(opened);
    expect(statuses.filter((x) => x === 200)).toHaveLength(MAX_EVENT_STREAMS);
    expect(statuses.filter((x) => x === 503)).toHaveLength(3);
    for (const r of reqs) r.destroy();

  }, 60_000);

  it('an event stream whose client stops reading is dropped once 64 KiB are queued', async () => {
    const s = await start();
    const sock = connect(s.port, '127.0.0.1');
    sockets.push(sock);
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let head = '';
    sock.on('data', (d) => (head += d.toString()));
    sock.write('GET /temperature/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    while (!head.includes('retry:')) await new Promise((r) => setTimeout(r, 5));
    sock.pause(); // the client stops reading
    let closed = false;
    sock.once('close', () => (closed = true));
    sock.resume = () => sock; // keep it paused whatever listeners do
    // Big readings (a long client field) fill the kernel's buffers quickly; then ours grow.
    const publish = (s.collector as unknown as { publish(r: object): void }).publish.bind(s.collector);
    const big = 'x'.repeat(60_000);
    let sent = 0;
    while (!closed && sent < 2000) {
      publish({ id: sent, receivedAt: Date.now(), celsius: 20, sensor: null, client: big });
      sent++;
      if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(2000);
  });

  it('connections beyond the limit are closed at once, with one warning', async () => {
    const lines: string[] = [];
    const { Logger } = await import('../../sim/log.ts');
    const s = await start({ maxConnections: 4, logger: new Logger({ level: 'warn', sink: (l) => lines.push(l) }) });
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const c = connect(s.port, '127.0.0.1');
      c.on('error', () => undefined);
      await new Promise<void>((r) => c.once('connect', () => r()));
      held.push(c);
      sockets.push(c);
    }
    await new Promise((r) => setTimeout(r, 50));
    const extra = connect(s.port, '127.0.0.1');
    sockets.push(extra);
    extra.on('error', () => undefined);
    await new Promise<void>((r) => extra.once('close', () => r()));
    expect(lines.filter((l) => l.includes('connections open (the limit)'))).toHaveLength(1);
    for (const c of held) c.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawRequest(s.port, req('GET', '/', { Host: '127.0.0.1' }))).status).toBe(200);
  });
});

describe('durability', () => {
  it('the readings file is WAL with synchronous=FULL (an acknowledged reading survives an OS crash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-db-'));
    dirs.push(dir);
    const store = new TemperatureStore(join(dir, 'r.sqlite'));
    expect(store.durability()).toEqual({ journal: 'wal', synchronous: 2 });
    store.close();
    const again = new TemperatureStore(join(dir, 'r.sqlite'));
    expect(again.durability().synchronous).toBe(2); // per connection, not only on the first open
    again.close();
  });
});
