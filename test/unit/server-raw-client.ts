/**
 * A raw TCP HTTP client for the server tests: sends exactly the bytes a test gives (methods
 * node:http's client would refuse, broken framing, half requests) and reads until the server
 * closes. Talks to loopback only.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  raw: Buffer;
}

export function parseRawResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(raw.toString('latin1'))}`);
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0] ?? '');
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), headers, body: raw.subarray(end + 4), raw };
}

/** Connects to 127.0.0.1:port; resolves once connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection (or `timeoutMs` passes: rejects). */
export function readUntilClose(s: Socket, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`server did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the response (the server closed while we were still sending) still counts.
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Sends `parts` one after another (each its own write) and returns the parsed response. */
export async function rawRequest(port: number, ...parts: (string | Buffer)[]): Promise<RawResponse> {
  const s = await openSocket(port);
  const done = readUntilClose(s);
  for (const p of parts) s.write(p);
  return parseRawResponse(await done);
}

/** A request with a fixed-length body, as urequests sends it. */
export function fixedRequest(method: string, path: string, body: string | Buffer, version = '1.1'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/${version}\r\nHost: 127.0.0.1\r\nContent-Length: ${b.length}\r\n\r\n`),
    b,
  ]);
}

/** A chunked request (RFC 9112 §7.1) whose body is `chunks` in order. */
export function chunkedRequest(method: string, path: string, chunks: string[]): string {
  let out = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`;
  for (const c of chunks) out += `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`;
  return out + '0\r\n\r\n';
}
