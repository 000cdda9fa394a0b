import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../sim/log.ts';
import type { AccessLogEntry } from '../../server/access-log.ts';
import { HostServer, type HostServerOptions } from '../../server/host-server.ts';
import {
  chunkedRequest,
  fixedRequest,
  openSocket,
  parseRawResponse,
  rawRequest,
  readUntilClose,
} from './server-raw-client.ts';

let server: HostServer | undefined;

async function start(opts: HostServerOptions = {}): Promise<HostServer> {
  server = new HostServer({ port: 0, collectorPrefix: false, ...opts });
  await server.start();
  return server;
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function expectCommonHeaders(headers: Map<string, string>): void {
  expect(headers.get('server')).toMatch(/^picow-sim\//);
  const date = headers.get('date');
  expect(date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  expect(Math.abs(Date.parse(date as string) - Date.now())).toBeLessThan(60_000);
}

describe('echo server: the article methods', () => {
  it('answers GET with Hello, world! and Server/Date headers', async () => {
    const s = await start();
    const r = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('Hello, world!');
    expectCommonHeaders(r.headers);
  });

  it("answers HEAD with only Server and Date and no body, as the article's http.server does", async () => {
    const s = await start();
    // HTTP/1.1 would keep the connection open by default: the server still closes it.
    const r = await rawRequest(s.port, 'HEAD /anything HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(r.status).toBe(200);
    expect([...r.headers.keys()].sort()).toEqual(['date', 'server']);
    expect(r.body.length).toBe(0);
    expectCommonHeaders(r.headers);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('echoes a fixed-length %s body', async (method) => {
    const s = await start();
    const r = await rawRequest(s.port, fixedRequest(method, '/', 'Hello World'));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(`This is a ${method} request. Received: Hello World`);
    expectCommonHeaders(r.headers);
  });

  it('echoes an HTTP/1.0 request as urequests sends it, body split from the head', async () => {
    const s = await start();
    const r = await rawRequest(
      s.port,
      'PUT / HTTP/1.0\r\nHost: 10.0.2.2\r\nContent-Length: 7\r\n\r\n',
      '23.5625',
    );
    expect(r.body.toString()).toBe('This is a PUT request. Received: 23.5625');
  });

  it('echoes a chunked body across several chunks and writes', async () => {
    const s = await start();
    const req = chunkedRequest('POST', '/', ['Hello', ', ', 'chunked world']);
    const r = await rawRequest(s.port, req.slice(0, 50), req.slice(50));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('This is a POST request. Received: Hello, chunked world');
  });

  it('echoes binary bodies byte for byte', async () => {
    const s = await start();
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a]);
    const r = await rawRequest(s.port, fixedRequest('PATCH', '/', bytes));
    expect(r.body.subarray(-bytes.length)).toEqual(bytes);
  });

  it('echoes an empty body when a body method sends none', async () => {
    const s = await start();
    const r = await rawRequest(s.port, 'DELETE /item HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('This is a DELETE request. Received: ');
  });

  it('answers asterisk-form and absolute-form targets without failing', async () => {
    const s = await start();
    expect((await rawRequest(s.port, 'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).body.toString()).toBe('Hello, world!');
    expect((await rawRequest(s.port, 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).status).toBe(501);
    const abs = await rawRequest(s.port, fixedRequest('POST', 'http://127.0.0.1/x', 'a'));
    expect(abs.body.toString()).toBe('This is a POST request. Received: a');
  });

  it('answers one request per connection, like the article\'s HTTP/1.0 server', async () => {
    const s = await start({ methods: ['BREW'] });
    const r = await rawRequest(
      s.port,
      fixedRequest('BREW', '/1', 'first') + '',
      'GET /2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    expect(r.headers.get('connection')).toBe('close');
    expect(r.body.toString()).toBe('This is a BREW request. Received: first');
  });

  it('ignores empty lines before the request line (RFC 9112 §2.2)', async () => {
    const s = await start();
    const r = await rawRequest(s.port, '\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(r.body.toString()).toBe('Hello, world!');
  });
});

describe('echo server: extension methods', () => {
  it('answers registered methods the parser does not know (BREW) and does know (REPORT)', async () => {
    const s = await start({ methods: ['BREW', 'REPORT'] });
    const brew = await rawRequest(s.port, fixedRequest('BREW', '/pot', 'coffee'));
    expect(brew.status).toBe(200);
    expect(brew.body.toString()).toBe('This is a BREW request. Received: coffee');
    expectCommonHeaders(brew.headers);
    const report = await rawRequest(s.port, fixedRequest('REPORT', '/', 'r'));
    expect(report.body.toString()).toBe('This is a REPORT request. Received: r');
  });

  it('reads a chunked body of an extension method whose name arrives split over two writes', async () => {
    const s = await start({ methods: ['X-SYNC.v2'] });
    const req = chunkedRequest('X-SYNC.v2', '/', ['ab', 'cd']);
    const r = await rawRequest(s.port, req.slice(0, 3), req.slice(3));
    expect(r.body.toString()).toBe('This is a X-SYNC.v2 request. Received: abcd');
  });

  it('keeps the case of a method (methods are case-sensitive, RFC 9110 §9.1)', async () => {
    const s = await start({ methods: ['BREW'] });
    const r = await rawRequest(s.port, fixedRequest('brew', '/', 'x'));
    expect(r.status).toBe(501);
  });

  it.each(['BREW', 'PROPFIND', 'OPTIONS', 'CONNECT'])('answers the unregistered method %s with 501', async (method) => {
    const s = await start();
    const target = method === 'CONNECT' ? '127.0.0.1:9' : '/';
    const r = await rawRequest(s.port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(r.status).toBe(501);
    expect(r.body.toString()).toBe(`Unsupported method ('${method}')\n`);
    expectCommonHeaders(r.headers);
  });

  it('rejects --method values that are not tokens', () => {
    expect(() => new HostServer({ port: 0, collectorPrefix: false, methods: ['BAD METHOD'] })).toThrow(/not an HTTP method token/);
    expect(() => new HostServer({ port: 0, collectorPrefix: false, methods: ['CONNECT'] })).toThrow(/tunnel/);
  });
});

describe('echo server: bad requests', () => {
  it.each(['abc', '-1', '1.5', '4, 5'])('answers Content-Length: %s with 400 and a one-line reason', async (cl) => {
    const s = await start();
    const r = await rawRequest(s.port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${cl}\r\n\r\nabcd`);
    expect(r.status).toBe(400);
    const text = r.body.toString();
    expect(text).toMatch(/Content-Length/);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expectCommonHeaders(r.headers);
  });

  it('answers a request line without a method token with 400', async () => {
    const s = await start();
    const r = await rawRequest(s.port, 'GE(T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(r.status).toBe(400);
  });

  it('answers a malformed chunk size with 400', async () => {
    const s = await start();
    const r = await rawRequest(
      s.port,
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
    );
    expect(r.status).toBe(400);
    expect(r.body.toString()).toMatch(/chunk/);
  });

  it('answers a declared body over --max-body with 413 without reading it', async () => {
    const s = await start({ maxBodyBytes: 1000 });
    const r = await rawRequest(s.port, 'PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1001\r\n\r\n');
    expect(r.status).toBe(413);
    expect(r.body.toString()).toMatch(/larger than 1000 bytes/);
  });

  it('answers a chunked body that grows over --max-body with 413', async () => {
    const s = await start({ maxBodyBytes: 1000 });
    const r = await rawRequest(s.port, chunkedRequest('POST', '/', ['x'.repeat(600), 'y'.repeat(600)]));
    expect(r.status).toBe(413);
  });

  it('accepts a body of exactly --max-body bytes (default 1 MiB)', async () => {
    const s = await start();
    const body = Buffer.alloc(1024 * 1024, 0x61);
    const r = await rawRequest(s.port, fixedRequest('POST', '/', body));
    expect(r.status).toBe(200);
    expect(r.body.length).toBe('This is a POST request. Received: '.length + body.length);
    const over = await rawRequest(s.port, fixedRequest('POST', '/', Buffer.alloc(1024 * 1024 + 1, 0x61)));
    expect(over.status).toBe(413);
  });
});

describe('echo server: stalled and concurrent clients', () => {
  it('closes a client that sends half a request and stalls, while serving others', async () => {
    const s = await start({ headersTimeoutMs: 400, requestTimeoutMs: 400 });
    const stalledHead = await openSocket(s.port);
    const headClosed = readUntilClose(stalledHead, 10_000);
    stalledHead.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le');
    const stalledMethod = await openSocket(s.port);
    const methodClosed = readUntilClose(stalledMethod, 10_000);
    stalledMethod.write('BR');
    const stalledBody = await openSocket(s.port);
    const bodyClosed = readUntilClose(stalledBody, 10_000);
    stalledBody.write('PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n12345');

    // Others are served while the three stall.
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(s.port, fixedRequest('POST', '/', `other ${i}`));
      expect(r.body.toString()).toBe(`This is a POST request. Received: other ${i}`);
    }
    const [head, method, body] = await Promise.all([headClosed, methodClosed, bodyClosed]);
    for (const raw of [head, method, body]) expect(parseRawResponse(raw).status).toBe(408);
    const after = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(after.status).toBe(200);
  });

  it('logs a stalled request once, with its method when the head had arrived', async () => {
    const entries: AccessLogEntry[] = [];
    const s = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
    s.on('request', (e) => entries.push(e));
    const sock = await openSocket(s.port);
    const closed = readUntilClose(sock, 10_000);
    sock.write('PUT /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n123');
    expect(parseRawResponse(await closed).status).toBe(408);
    while (entries.length < 1) await once(s, 'request');
    expect(entries).toMatchObject([{ method: 'PUT', path: '/slow', status: 408 }]);
  });

  it('serves 200 concurrent clients, each getting its own body back', async () => {
    const s = await start({ methods: ['BREW'] });
    const methods = ['POST', 'PUT', 'PATCH', 'DELETE', 'BREW'];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const method = methods[i % methods.length] as string;
        return rawRequest(s.port, fixedRequest(method, `/c/${i}`, `client ${i}`)).then((r) => ({ i, method, r }));
      }),
    );
    for (const { i, method, r } of results) {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`This is a ${method} request. Received: client ${i}`);
    }
  });
});

describe('echo server: access log', () => {
  it('writes one line per request with method, path, status, bytes and ms', async () => {
    const lines: string[] = [];
    const entries: AccessLogEntry[] = [];
    const s = await start({ methods: ['BREW'], accessLogger: new Logger({ level: 'info', sink: (l) => lines.push(l) }) });
    s.on('request', (e) => entries.push(e));
    await rawRequest(s.port, 'GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await rawRequest(s.port, 'HEAD /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await rawRequest(s.port, fixedRequest('BREW', '/c?x=1', 'tea'));
    await rawRequest(s.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n');
    while (entries.length < 4) await once(s, 'request');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\[http\] 127\.0\.0\.1 "GET \/a" 200 13B \d+\.\dms$/);
    expect(lines[1]).toMatch(/^\[http\] 127\.0\.0\.1 "HEAD \/b" 200 0B \d+\.\dms$/);
    expect(lines[2]).toMatch(/^\[http\] 127\.0\.0\.1 "BREW \/c\?x=1" 200 37B \d+\.\dms$/);
    expect(lines[3]).toMatch(/^\[http\] 127\.0\.0\.1 "- -" 400 \d+B \d+\.\dms$/);
  });

  it('writes nothing without an access logger', async () => {
    const lines: string[] = [];
    const s = await start({ logger: new Logger({ level: 'debug', sink: (l) => lines.push(l) }) });
    const logged = once(s, 'request');
    await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await logged;
    expect(lines).toEqual([]);
  });
});

describe('echo server: start and stop', () => {
  it('reports a taken port as PortInUseError', async () => {
    const s = await start();
    const other = new HostServer({ port: s.port, collectorPrefix: false });
    await expect(other.start()).rejects.toMatchObject({ name: 'PortInUseError', port: s.port, host: '127.0.0.1' });
    await other.stop();
  });

  it('closes connections still sending their request line on stop', async () => {
    const s = await start();
    const sock = await openSocket(s.port);
    const closed = readUntilClose(sock, 5000);
    sock.write('GE');
    await s.stop();
    server = undefined;
    await expect(closed).resolves.toBeDefined();
  });
});
