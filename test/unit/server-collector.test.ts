import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostServer, type HostServerOptions } from '../../server/host-server.ts';
import type { StoredReading } from '../../server/temperature-reading.ts';
import { fixedRequest, rawRequest, type RawResponse } from './server-raw-client.ts';

const servers: HostServer[] = [];
const dirs: string[] = [];

async function start(opts: HostServerOptions = {}): Promise<HostServer> {
  const s = new HostServer({ port: 0, db: ':memory:', ...opts });
  servers.push(s);
  await s.start();
  return s;
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function put(s: HostServer, body: string, path = '/temperature', method = 'PUT'): Promise<RawResponse> {
  return rawRequest(s.port, fixedRequest(method, path, body));
}

async function get(s: HostServer, path: string): Promise<RawResponse> {
  return rawRequest(s.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
}

interface ReadingJson {
  id: number;
  time: string;
  celsius: number;
  sensor: string | null;
  client: string;
}

async function readings(s: HostServer, query = ''): Promise<ReadingJson[]> {
  const r = await get(s, `/temperature/readings${query}`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(r.body.toString()) as { count: number; readings: ReadingJson[] };
  expect(body.count).toBe(body.readings.length);
  return body.readings;
}

/** A clock the test sets: readings get exactly the times the test chooses. */
function fixedClock(start: number): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v) };
}

describe('temperature collector: storing readings', () => {
  it('stores what the book client sends (str(temp) with PUT) with server time and client address', async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const s = await start({ now: clock.now });
    const r = await put(s, '23.5625');
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body.toString())).toEqual({
      id: 1,
      time: '2026-01-02T03:04:05.000Z',
      celsius: 23.5625,
      sensor: null,
      client: '127.0.0.1',
    });
    expect(await readings(s)).toEqual([
      { id: 1, time: '2026-01-02T03:04:05.000Z', celsius: 23.5625, sensor: null, client: '127.0.0.1' },
    ]);
  });

  it('accepts POST, a sensor id, an HTTP/1.0 request and the other store paths', async () => {
    const s = await start();
    expect((await put(s, '-3', '/temperature/?sensor=garden', 'POST')).status).toBe(201);
    expect((await put(s, '21', '/temperature/readings?sensor=attic.1')).status).toBe(201);
    const v10 = await rawRequest(s.port, fixedRequest('PUT', '/temperature?sensor=pico-w', '19.25\n', '1.0'));
    expect(v10.status).toBe(201);
    const all = await readings(s);
    expect(all.map((x) => [x.celsius, x.sensor])).toEqual([
      [-3, 'garden'],
      [21, 'attic.1'],
      [19.25, 'pico-w'],
    ]);
  });

  it('emits a reading event for each stored reading', async () => {
    const s = await start();
    const got = once(s, 'reading') as Promise<[StoredReading]>;
    await put(s, '20.5', '/temperature?sensor=a');
    const [reading] = await got;
    expect(reading).toMatchObject({ celsius: 20.5, sensor: 'a', client: '127.0.0.1' });
  });

  it.each([
    ['', /empty body/],
    ['abc', /not a number/],
    ['nan', /not a number/],
    ['inf', /not a number/],
    ['0x10', /not a number/],
    ['21.5 22', /not a number/],
    ['1e400', /outside/],
    ['125.5', /outside -55\.\.125/],
    ['-127', /outside/],
    ['1'.repeat(65), /at most 64/],
  ])('refuses the body %j with 400 and stores nothing', async (body, reason) => {
    const s = await start();
    const r = await put(s, body);
    expect(r.status).toBe(400);
    expect(r.body.toString()).toMatch(reason);
    expect(await readings(s)).toEqual([]);
  });

  it('refuses a bad sensor id with 400 and stores nothing', async () => {
    const s = await start();
    const r = await put(s, '20', '/temperature?sensor=a%2Cb');
    expect(r.status).toBe(400);
    expect(await readings(s)).toEqual([]);
  });

  it('uses the range it is given', async () => {
    const s = await start({ celsiusRange: { min: 0, max: 50 } });
    expect((await put(s, '-1')).status).toBe(400);
    expect((await put(s, '50')).status).toBe(201);
    expect((await readings(s)).map((x) => x.celsius)).toEqual([50]);
  });

  it('keeps readings across a restart with a database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-collector-'));
    dirs.push(dir);
    const db = join(dir, 'nested', 'readings.sqlite');
    const first = await start({ db });
    await put(first, '20.0', '/temperature?sensor=s1');
    await put(first, '20.5', '/temperature?sensor=s1');
    await first.stop();
    servers.splice(servers.indexOf(first), 1);

    const second = await start({ db });
    await put(second, '21.0', '/temperature?sensor=s2');
    const all = await readings(second);
    expect(all.map((x) => [x.id, x.celsius, x.sensor])).toEqual([
      [1, 20, 's1'],
      [2, 20.5, 's1'],
      [3, 21, 's2'],
    ]);
  });

  it('does not keep readings of a :memory: database across a restart', async () => {
    const first = await start();
    await put(first, '20');
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    const second = await start();
    expect(await readings(second)).toEqual([]);
  });
});

describe('temperature collector: JSON and CSV filters', () => {
  const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);

  async function seeded(): Promise<HostServer> {
    const clock = fixedClock(T0);
    const s = await start({ now: clock.now });
    const plan: [number, string, string][] = [
      [0, '10', 'a'],
      [60_000, '11', 'b'],
      [120_000, '12', 'a'],
      [180_000, '13', 'b'],
      [240_000, '14', 'a'],
    ];
    for (const [dt, c, sensor] of plan) {
      clock.set(T0 + dt);
      expect((await put(s, c, `/temperature?sensor=${sensor}`)).status).toBe(201);
    }
    return s;
  }

  it('filters by since (inclusive), until (exclusive), sensor and limit', async () => {
    const s = await seeded();
    const c = (rs: ReadingJson[]): number[] => rs.map((r) => r.celsius);
    expect(c(await readings(s))).toEqual([10, 11, 12, 13, 14]);
    expect(c(await readings(s, `?since=${T0 + 60_000}`))).toEqual([11, 12, 13, 14]);
    expect(c(await readings(s, '?until=2026-05-01T12:03:00Z'))).toEqual([10, 11, 12]);
    expect(c(await readings(s, '?since=2026-05-01T12:01:00Z&until=2026-05-01T12:04:00.000Z'))).toEqual([11, 12, 13]);
    expect(c(await readings(s, '?since=2026-05-01T14:01:00%2B02:00'))).toEqual([11, 12, 13, 14]);
    expect(c(await readings(s, '?sensor=a'))).toEqual([10, 12, 14]);
    expect(c(await readings(s, '?limit=2'))).toEqual([13, 14]);
    expect(c(await readings(s, '?sensor=b&limit=1'))).toEqual([13]);
    expect(c(await readings(s, '?sensor=nobody'))).toEqual([]);
  });

  it('gives the same selection as CSV', async () => {
    const s = await seeded();
    const r = await get(s, '/temperature/readings.csv?sensor=a&since=2026-05-01T12:01:00Z');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.body.toString()).toBe(
      'id,time,celsius,sensor,client\r\n' +
        '3,2026-05-01T12:02:00.000Z,12,a,127.0.0.1\r\n' +
        '5,2026-05-01T12:04:00.000Z,14,a,127.0.0.1\r\n',
    );
    const none = await get(s, '/temperature/readings.csv?sensor=zzz');
    expect(none.body.toString()).toBe('id,time,celsius,sensor,client\r\n');
  });

  it.each([
    '?since=yesterday',
    '?until=2026-05-01T12:00:00',
    '?limit=0',
    '?limit=abc',
    '?sensor=a%20b',
    '?order=desc',
  ])('answers the bad filter %s with 400', async (q) => {
    const s = await seeded();
    expect((await get(s, `/temperature/readings${q}`)).status).toBe(400);
    expect((await get(s, `/temperature/readings.csv${q}`)).status).toBe(400);
  });
});

describe('temperature collector: routes', () => {
  it('serves the chart page and its assets, and redirects the bare prefix', async () => {
    const s = await start();
    const page = await get(s, '/temperature/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body.toString()).toMatch(/<script src="chart\.js"><\/script>/);
    expect(page.body.toString()).not.toMatch(/https?:\/\//);
    const js = await get(s, '/temperature/chart.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.body.toString()).toMatch(/EventSource/);
    expect((await get(s, '/temperature/chart.css')).status).toBe(200);
    const bare = await get(s, '/temperature?sensor=a');
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/temperature/?sensor=a');
  });

  it('answers other methods with 405 and Allow, unknown paths with 404', async () => {
    const s = await start({ methods: ['BREW'] });
    const del = await rawRequest(s.port, 'DELETE /temperature/readings HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, PUT, POST');
    const brew = await rawRequest(s.port, fixedRequest('BREW', '/temperature', '1'));
    expect(brew.status).toBe(405);
    expect((await put(s, '20', '/temperature/readings.csv')).status).toBe(405);
    expect((await get(s, '/temperature/nothing')).status).toBe(404);
    // Paths that only start with the same letters are the echo server's.
    expect((await put(s, '20', '/temperatures')).body.toString()).toBe('This is a PUT request. Received: 20');
  });

  it('pushes each new reading to server-sent event streams, filtered by sensor', async () => {
    const s = await start();
    const events = (path: string): Promise<{ lines: string[]; next: (n: number) => Promise<string[]> }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: s.port, path }, (res) => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
          const lines: string[] = [];
          let buf = '';
          const waiters: { n: number; resolve: (l: string[]) => void }[] = [];
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let i: number;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const data = /^data: (.*)$/m.exec(block);
              if (/^event: reading$/m.test(block) && data) lines.push(data[1] as string);
            }
            for (const w of waiters.splice(0)) {
              if (lines.length >= w.n) w.resolve(lines.slice(0, w.n));
              else waiters.push(w);
            }
          });
          resolve({
            lines,
            next: (n) =>
              new Promise((res2) => {
                if (lines.length >= n) res2(lines.slice(0, n));
                else waiters.push({ n, resolve: res2 });
              }),
          });
        });
        req.on('error', reject);
        req.end();
      });
    const all = await events('/temperature/events');
    const onlyB = await events('/temperature/events?sensor=b');
    await put(s, '20.5', '/temperature?sensor=a');
    await put(s, '21.5', '/temperature?sensor=b');
    const [a1, b1] = await all.next(2);
    expect(JSON.parse(a1 as string)).toMatchObject({ celsius: 20.5, sensor: 'a' });
    expect(JSON.parse(b1 as string)).toMatchObject({ celsius: 21.5, sensor: 'b' });
    const [onlyB1] = await onlyB.next(1);
    expect(JSON.parse(onlyB1 as string)).toMatchObject({ celsius: 21.5, sensor: 'b' });
    expect(onlyB.lines).toHaveLength(1);
  });

  it('can run without the collector: its paths are then the echo server', async () => {
    const s = await start({ collectorPrefix: false });
    expect(s.collector).toBeUndefined();
    expect((await put(s, '20')).body.toString()).toBe('This is a PUT request. Received: 20');
  });

  it('mounts under another prefix', async () => {
    const s = await start({ collectorPrefix: '/sensors/temp' });
    expect((await put(s, '20', '/sensors/temp')).status).toBe(201);
    expect((await put(s, '20', '/temperature')).status).toBe(200);
    expect((await get(s, '/sensors/temp/readings')).body.toString()).toMatch(/"count":1/);
  });
});
