/**
 * The host-side HTTP server: the article's echo server on every path, and the temperature
 * collector under its prefix, on one `node:http` server. A method sniffer in front of the HTTP
 * parser lets any RFC 9110 method token through (see method-sniffer.ts).
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SILENT_LOGGER, type ServerLogger } from './log.ts';
import { clientAddress, formatAccessLine, type AccessLogEntry } from './access-log.ts';
import { BodyAbortedError, readBody } from './body-reader.ts';
import { defaultDbPath } from './data-dir.ts';
import { echoesBody, echoReply, unsupportedMethod } from './echo-handler.ts';
import { HttpError, PortInUseError, ServerOptionError, StorageError } from './errors.ts';
import { Exchange } from './exchange.ts';
import { DEFAULT_METHODS, parseMethodList } from './http-method.ts';
import { MethodSniffer } from './method-sniffer.ts';
import { encodeRawResponse } from './raw-response.ts';
import { RequestGuard } from './request-guard.ts';
import { DEFAULT_PREFIX, TemperatureCollector } from './temperature-collector.ts';
import type { CelsiusRange, StoredReading } from './temperature-reading.ts';
import { TemperatureStore } from './temperature-store.ts';

export const DEFAULT_HOST = '127.0.0.1';
/** The article's server: `HTTPServer(('', 8080), ...)`. */
export const DEFAULT_PORT = 8080;
export const DEFAULT_MAX_BODY = 1024 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Open connections at most; further ones are closed at once (one warning). */
export const DEFAULT_MAX_CONNECTIONS = 256;
export const SERVER_NAME = `picow-sim/0.1 Node.js/${process.versions.node}`;

export interface HostServerOptions {
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 8080, 0 picks a free one. */
  port?: number;
  /** Methods answered like POST beyond the article's six (`--method`). */
  methods?: readonly string[];
  /** Largest request body accepted, in bytes (`--max-body`); default 1 MiB. */
  maxBodyBytes?: number;
  /** A request's line and headers must arrive within this; default 10 s. */
  headersTimeoutMs?: number;
  /** A whole request must arrive within this; default 30 s. */
  requestTimeoutMs?: number;
  /** Readings database: a file path or ':memory:' (`--db`); default in the user's data folder. */
  db?: string;
  /**
   * Open the readings database at the first reading or query instead of at `new HostServer` (the
   * simulator's embedded server: a run that posts no reading never loads SQLite). An error is then
   * one logged line and a 503 for that request, not a failed start.
   */
  openDbOnFirstUse?: boolean;
  /** Collector path prefix; default /temperature. `false` turns the collector off. */
  collectorPrefix?: string | false;
  /** Accepted reading range; default the DS18B20's -55..125 °C. */
  celsiusRange?: CelsiusRange;
  /** Server time for stored readings (epoch ms); default Date.now. */
  now?: () => number;
  /** Errors and warnings. */
  logger?: ServerLogger;
  /** Access log: one info line per request under area 'http'. Omit for none. */
  accessLogger?: ServerLogger;
  /** Origins allowed to write cross-origin (`--cors ORIGIN`; `*` for any). Default none. */
  corsOrigins?: readonly string[];
  /** Host names (besides IP addresses and localhost) the server answers to (`--allow-host`). */
  allowedHosts?: readonly string[];
  /** Open connections at most (default 256). */
  maxConnections?: number;
}

export interface HostServerEvents {
  listening: [{ host: string; port: number }];
  /** After each request's response is finished or abandoned. */
  request: [AccessLogEntry];
  /** A reading was stored. */
  reading: [StoredReading];
}

export class HostServer extends EventEmitter<HostServerEvents> {
  readonly methods: ReadonlySet<string>;
  readonly maxBodyBytes: number;
  readonly dbPath: string | undefined;
  readonly collector: TemperatureCollector | undefined;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly http: Server;
  private readonly store: TemperatureStore | undefined;
  private readonly logger: ServerLogger;
  private readonly accessLogger: ServerLogger | undefined;
  private readonly extensionMethods = new WeakMap<Socket, string>();
  private readonly answered = new WeakSet<Socket>();
  /** The request being answered on each connection, for timeouts that strike mid-body. */
  private readonly inFlight = new WeakMap<Socket, Exchange>();
  /** Connections still in front of the parser, so `stop` can close them too. */
  private readonly sniffing = new Set<Socket>();
  private boundPort: number | undefined;
  private readonly guard: RequestGuard;

  constructor(opts: HostServerOptions = {}) {
    super();
    this.host = opts.host ?? DEFAULT_HOST;
    this.requestedPort = opts.port ?? DEFAULT_PORT;
    if (!Number.isInteger(this.requestedPort) || this.requestedPort < 0 || this.requestedPort > 65535) {
      throw new ServerOptionError('--port', String(opts.port), 'must be an integer 0..65535');
    }
    this.methods = new Set(parseMethodList([...DEFAULT_METHODS, ...(opts.methods ?? [])]));
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes < 0) {
      throw new ServerOptionError('--max-body', String(opts.maxBodyBytes), 'must be a byte count');
    }
    this.logger = opts.logger ?? SILENT_LOGGER;
    this.accessLogger = opts.accessLogger;

    const headersTimeout = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const requestTimeout = Math.max(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
    this.http = createServer(
      {
        headersTimeout,
        requestTimeout,
        // How often node:http looks for requests past their deadline.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.installSniffer(headersTimeout);
    this.guard = new RequestGuard({ corsOrigins: opts.corsOrigins, allowedHosts: opts.allowedHosts });
    this.http.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    let dropWarned = false;
    this.http.on('drop', () => {
      if (dropWarned) return;
      dropWarned = true;
      this.logger.warn('server', `${this.http.maxConnections} connections open (the limit); further connections are closed at once`);
    });
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    // node:http gives CONNECT to tunnel listeners only; the article's server has no do_CONNECT.
    this.http.on('connect', (req: IncomingMessage, socket: Socket) => {
      this.answerRaw(socket, 501, unsupportedMethod('CONNECT').reason, 'CONNECT', req.url ?? '-', performance.now());
    });

    if (opts.collectorPrefix !== false) {
      this.dbPath = opts.db ?? defaultDbPath();
      this.store = new TemperatureStore(this.dbPath, { openOnFirstUse: opts.openDbOnFirstUse });
      this.collector = new TemperatureCollector({
        store: this.store,
        prefix: opts.collectorPrefix ?? DEFAULT_PREFIX,
        range: opts.celsiusRange,
        now: opts.now,
      });
      this.collector.on('reading', (r) => this.emit('reading', r));
    }
  }

  /** The bound port once listening. */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('HostServer is not listening');
    return this.boundPort;
  }

  /** Base URL of the running server, e.g. http://127.0.0.1:8080 */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}`;
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.http.removeListener('listening', onListening);
        if (err.code === 'EADDRINUSE') reject(new PortInUseError(this.host, this.requestedPort));
        else if (err.code === 'EACCES') {
          reject(new ServerOptionError('--port', String(this.requestedPort), `not allowed to listen on ${this.host}`));
        } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
          reject(new ServerOptionError('--host', this.host, 'not an address of this machine'));
        } else reject(err);
      };
      const onListening = (): void => {
        this.http.removeListener('error', onError);
        resolve();
      };
      this.http.once('error', onError);
      this.http.once('listening', onListening);
      this.http.listen(this.requestedPort, this.host);
    });
    this.boundPort = (this.http.address() as AddressInfo).port;
    const where = { host: this.host, port: this.boundPort };
    this.emit('listening', where);
    return where;
  }

  /** Stops listening, closes every connection (event streams included) and the database. */
  async stop(): Promise<void> {
    this.collector?.close();
    for (const s of this.sniffing) s.destroy();
    this.sniffing.clear();
    if (this.http.listening) {
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeAllConnections();
      await closed;
    }
    this.store?.close();
  }

  /** Puts the method sniffer between accepted sockets and node:http's connection handling. */
  private installSniffer(timeoutMs: number): void {
    const listeners = this.http.listeners('connection');
    const parserListener = listeners[0];
    if (listeners.length !== 1 || typeof parserListener !== 'function') {
      throw new Error('node:http server without its connection listener; cannot add method sniffing');
    }
    this.http.removeListener('connection', parserListener as (...args: unknown[]) => void);
    const sniffer = new MethodSniffer({
      timeoutMs,
      onReady: ({ socket, extensionMethod }) => {
        this.sniffing.delete(socket);
        if (extensionMethod !== undefined) this.extensionMethods.set(socket, extensionMethod);
        (parserListener as (s: Socket) => void).call(this.http, socket);
      },
      onTimeout: (socket) => {
        this.sniffing.delete(socket);
        this.answerRaw(socket, 408, 'request line not received in time', '-', '-', performance.now() - timeoutMs);
      },
    });
    this.http.on('connection', (socket: Socket) => {
      this.sniffing.add(socket);
      socket.once('close', () => this.sniffing.delete(socket));
      sniffer.accept(socket);
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    if (this.answered.has(socket)) {
      // A pipelined request after the first: the connection closes after the first response.
      req.resume();
      return;
    }
    this.answered.add(socket);
    const method = this.extensionMethods.get(socket) ?? req.method ?? 'GET';
    const ex = new Exchange(req, res, method, SERVER_NAME);
    this.inFlight.set(socket, ex);
    res.once('close', () => {
      this.inFlight.delete(socket);
      this.logRequest(ex.logEntry());
    });
    const verdict = this.guard.check(req, method);
    if (!verdict.ok) {
      req.resume();
      ex.sendText(verdict.status, verdict.reason);
      return;
    }
    for (const [k, v] of Object.entries(verdict.headers)) if (v !== undefined) res.setHeader(k, v);
    if (verdict.preflight) {
      req.resume();
      ex.send(204, '');
      return;
    }
    try {
      await this.route(ex);
    } catch (err) {
      this.fail(ex, err);
    }
  }

  private async route(ex: Exchange): Promise<void> {
    if (this.collector?.owns(ex.path)) {
      return this.collector.handle(ex, () => readBody(ex.req, this.maxBodyBytes));
    }
    if (!this.methods.has(ex.method)) {
      ex.req.resume();
      throw unsupportedMethod(ex.method);
    }
    let body: Buffer = Buffer.alloc(0);
    if (echoesBody(ex.method)) body = await readBody(ex.req, this.maxBodyBytes);
    else ex.req.resume();
    const reply = echoReply(ex.method, body, this.methods);
    if (ex.method === 'HEAD') ex.sendBareHead(reply.status);
    else ex.send(reply.status, reply.body);
  }

  private fail(ex: Exchange, err: unknown): void {
    if (err instanceof BodyAbortedError) {
      ex.res.destroy();
      return;
    }
    if (ex.res.headersSent) {
      ex.res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      ex.req.resume();
      ex.sendText(err.status, err.reason, err.headers);
      return;
    }
    if (err instanceof StorageError) {
      // A database opened on first use that cannot be: the reading is not stored, and says so.
      this.logger.error('server', err.message);
      ex.req.resume();
      ex.sendText(503, 'readings database unavailable');
      return;
    }
    this.logger.error('server', `${ex.method} ${ex.req.url ?? ''}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    ex.sendText(500, 'internal server error');
  }

  /** Requests node:http's parser refused (RFC 9112 syntax, framing) or that timed out. */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason] = describeClientError(err);
    const ex = this.inFlight.get(socket);
    if (ex) {
      // The request line and headers were fine; its body did not arrive in time or was broken.
      if (ex.res.headersSent) socket.destroy();
      else ex.sendText(status, reason);
      return;
    }
    this.answerRaw(socket, status, reason, '-', '-', performance.now());
  }

  /** Writes a complete response straight to the socket and closes it. */
  private answerRaw(socket: Socket, status: number, reason: string, method: string, path: string, started: number): void {
    const bytes = Buffer.byteLength(reason + '\n');
    if (socket.writable) socket.end(encodeRawResponse(status, reason + '\n', SERVER_NAME));
    socket.destroySoon();
    this.logRequest({ client: clientAddress(socket.remoteAddress), method, path, status, bytes, ms: performance.now() - started });
  }

  private logRequest(entry: AccessLogEntry): void {
    this.accessLogger?.info('http', formatAccessLine(entry));
    this.emit('request', entry);
  }
}

/** A one-line reason for each way node:http's parser (llhttp) refuses a request. */
export function describeClientError(err: NodeJS.ErrnoException & { reason?: string }): [number, string] {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request not received in time'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'request header fields too large'];
    case 'HPE_INVALID_CONTENT_LENGTH':
      return [400, 'invalid Content-Length (RFC 9110 §8.6: one decimal number)'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'conflicting Content-Length and Transfer-Encoding (RFC 9112 §6.3)'];
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return [400, 'unsupported Transfer-Encoding (only chunked, RFC 9112 §7)'];
    case 'HPE_INVALID_CHUNK_SIZE':
      return [400, 'invalid chunk size in chunked body (RFC 9112 §7.1)'];
    case 'HPE_INVALID_METHOD':
      return [400, 'request line does not start with a method token (RFC 9110 §9.1)'];
    case 'HPE_INVALID_VERSION':
      return [400, 'unsupported HTTP version in the request line'];
    default:
      return [400, `malformed request: ${(err.reason ?? err.message).replace(/\s+/g, ' ')}`];
  }
}
