/**
 * One request and its response as the handlers see them: the real method (extension methods
 * included), the parsed URL, and `send`/`stream` helpers that set the common headers, force the
 * connection closed after the response, and count the body bytes for the access log.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { clientAddress, type AccessLogEntry } from './access-log.ts';

export class Exchange {
  readonly url: URL;
  readonly client: string;
  private readonly started = performance.now();
  private bodyBytes = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The request's method as the client sent it. */
    readonly method: string,
    serverName: string,
  ) {
    this.url = parseTarget(req.url ?? '/');
    this.client = clientAddress(req.socket.remoteAddress);
    res.setHeader('Server', serverName);
    // One request per connection, as the article's HTTP/1.0 server: see method-sniffer.ts.
    res.setHeader('Connection', 'close');
  }

  get path(): string {
    return this.url.pathname;
  }

  /** A complete response. For HEAD the headers describe `body` but no body is sent (RFC 9110 §9.3.2). */
  send(status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.res.writeHead(status, { ...headers, 'Content-Length': payload.length });
    if (this.method === 'HEAD') {
      this.res.end();
      return;
    }
    this.bodyBytes += payload.length;
    this.res.end(payload);
  }

  /**
   * A HEAD answer as the article's `http.server` handler gives it (`send_response(200)` then
   * `end_headers()`): the status line with Server and Date only, no Content-Length, and the
   * connection closed after it. The article prints HEAD's `r.headers`, so any extra header would
   * show in its output.
   */
  sendBareHead(status: number): void {
    // Without our own Connection header node:http adds none of its own; closing is still forced.
    this.res.removeHeader('Connection');
    this.res.shouldKeepAlive = false;
    this.res.writeHead(status);
    this.res.end();
  }

  /** Plain-text response with a one-line message. */
  sendText(status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
    this.send(status, text.endsWith('\n') ? text : text + '\n', {
      'Content-Type': 'text/plain; charset=utf-8',
      ...headers,
    });
  }

  sendJson(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value) + '\n', { 'Content-Type': 'application/json; charset=utf-8' });
  }

  /** Starts a response whose body is written piece by piece (server-sent events). */
  startStream(status: number, headers: OutgoingHttpHeaders): void {
    this.res.writeHead(status, headers);
    this.res.flushHeaders();
  }

  write(chunk: string): boolean {
    const payload = Buffer.from(chunk, 'utf8');
    this.bodyBytes += payload.length;
    return this.res.write(payload);
  }

  logEntry(): AccessLogEntry {
    return {
      client: this.client,
      method: this.method,
      path: this.req.url ?? '-',
      status: this.res.headersSent ? this.res.statusCode : 0,
      bytes: this.bodyBytes,
      ms: performance.now() - this.started,
    };
  }
}

/**
 * The request target as a URL. Origin-form (RFC 9112 §3.2.1, `/path?query`) is what clients
 * send to an origin server; absolute-form (§3.2.2) is accepted too; anything else (`*`) is
 * treated as `/`. The host part is a placeholder: only path and query are used.
 */
export function parseTarget(target: string): URL {
  const base = 'http://server.invalid';
  if (target.startsWith('/')) {
    try {
      return new URL(base + target);
    } catch {
      return new URL(base + '/');
    }
  }
  try {
    const abs = new URL(target);
    return new URL(base + abs.pathname + abs.search);
  } catch {
    return new URL(base + '/');
  }
}
