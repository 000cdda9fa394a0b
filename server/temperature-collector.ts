/**
 * The temperature collector under its path prefix (default `/temperature`):
 *   PUT|POST  <prefix>, <prefix>/, <prefix>/readings   body = a number as text, `?sensor=` optional
 *   GET       <prefix>/readings       JSON, filters since/until/sensor/limit
 *   GET       <prefix>/readings.csv   the same as CSV
 *   GET       <prefix>/events         server-sent events, one `reading` event per new reading
 *   GET       <prefix>/               the live chart page (and its chart.js, chart.css)
 */
import { EventEmitter } from 'node:events';
import { loadChartAssets, type Asset } from './chart-assets.ts';
import { HttpError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { encodeReadingsCsv } from './readings-csv.ts';
import { parseReadingsQuery } from './readings-query.ts';
import {
  DEFAULT_MAX_CELSIUS,
  DEFAULT_MIN_CELSIUS,
  parseCelsius,
  parseSensorId,
  readingToJson,
  type CelsiusRange,
  type StoredReading,
} from './temperature-reading.ts';
import type { TemperatureStore } from './temperature-store.ts';

export const DEFAULT_PREFIX = '/temperature';
/** A comment line every so often keeps proxies and idle timers from closing event streams. */
export const EVENT_HEARTBEAT_MS = 15_000;
/** HTML Living Standard §9.2 (server-sent events): the client's reconnection delay. */
const EVENT_RETRY_MS = 2000;
/** Event streams open at once; one more gets 503 (each holds a connection and a buffer). */
export const MAX_EVENT_STREAMS = 32;
/** Bytes an event stream may have queued unsent; a client that stops reading past this is dropped. */
export const MAX_EVENT_BUFFER = 64 * 1024;

export interface TemperatureCollectorOptions {
  store: TemperatureStore;
  /** Path prefix, default `/temperature`. */
  prefix?: string;
  range?: CelsiusRange;
  /** Server time in epoch milliseconds; `Date.now` unless a test fixes it. */
  now?: () => number;
}

export interface TemperatureCollectorEvents {
  reading: [StoredReading];
}

interface EventStream {
  ex: Exchange;
  sensor: string | null;
}

const READ_METHODS = 'GET, HEAD';
const STORE_METHODS = 'PUT, POST';

export class TemperatureCollector extends EventEmitter<TemperatureCollectorEvents> {
  readonly prefix: string;
  readonly range: CelsiusRange;
  private readonly store: TemperatureStore;
  private readonly now: () => number;
  /** The chart page's files, read at the first request for one (a run that never shows the chart reads none). */
  private assets: Map<string, Asset> | null = null;
  private readonly streams = new Set<EventStream>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: TemperatureCollectorOptions) {
    super();
    this.store = opts.store;
    this.prefix = (opts.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
    if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(this.prefix)) {
      throw new TypeError(`collector prefix must be an absolute path like /temperature, got '${opts.prefix}'`);
    }
    this.range = opts.range ?? { min: DEFAULT_MIN_CELSIUS, max: DEFAULT_MAX_CELSIUS };
    this.now = opts.now ?? Date.now;
  }

  /** Whether `path` belongs to the collector. */
  owns(path: string): boolean {
    return path === this.prefix || path.startsWith(this.prefix + '/');
  }

  async handle(ex: Exchange, readBody: () => Promise<Buffer>): Promise<void> {
    const sub = ex.path.slice(this.prefix.length);
    const isRead = ex.method === 'GET' || ex.method === 'HEAD';
    const isStore = ex.method === 'PUT' || ex.method === 'POST';
    switch (sub) {
      case '':
        if (isStore) return this.storeReading(ex, await readBody());
        if (isRead) return ex.send(308, '', { Location: this.prefix + '/' + ex.url.search });
        throw methodNotAllowed(`${READ_METHODS}, ${STORE_METHODS}`);
      case '/':
        if (isStore) return this.storeReading(ex, await readBody());
        if (isRead) return this.sendAsset(ex, 'index.html');
        throw methodNotAllowed(`${READ_METHODS}, ${STORE_METHODS}`);
      case '/readings':
        if (isStore) return this.storeReading(ex, await readBody());
        if (isRead) return ex.sendJson(200, this.readingsJson(ex.url.searchParams));
        throw methodNotAllowed(`${READ_METHODS}, ${STORE_METHODS}`);
      case '/readings.csv':
        if (!isRead) throw methodNotAllowed(READ_METHODS);
        return ex.send(200, encodeReadingsCsv(this.store.query(parseReadingsQuery(ex.url.searchParams))), {
          'Content-Type': 'text/csv; charset=utf-8; header=present',
          'Content-Disposition': 'inline; filename="readings.csv"',
        });
      case '/events':
        if (ex.method !== 'GET') throw methodNotAllowed('GET');
        return this.openStream(ex);
      case '/chart.js':
      case '/chart.css':
        if (!isRead) throw methodNotAllowed(READ_METHODS);
        return this.sendAsset(ex, sub.slice(1));
      default:
        throw new HttpError(404, `no such collector path: ${ex.path}`);
    }
  }

  /** Ends every open event stream (the server is stopping). */
  close(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const s of this.streams) s.ex.res.end();
    this.streams.clear();
  }

  private storeReading(ex: Exchange, body: Buffer): void {
    const sensor = parseSensorId(ex.url.searchParams.get('sensor'));
    const celsius = parseCelsius(body, this.range);
    const reading = this.store.insert({ receivedAt: this.now(), celsius, sensor, client: ex.client });
    ex.sendJson(201, readingToJson(reading));
    this.publish(reading);
  }

  private readingsJson(params: URLSearchParams): unknown {
    const readings = this.store.query(parseReadingsQuery(params));
    return { count: readings.length, readings: readings.map(readingToJson) };
  }

  private sendAsset(ex: Exchange, name: string): void {
    const asset = (this.assets ??= loadChartAssets()).get(name) as Asset;
    ex.send(200, asset.body, { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' });
  }

  private openStream(ex: Exchange): void {
    if (this.streams.size >= MAX_EVENT_STREAMS) {
      throw new HttpError(503, `${MAX_EVENT_STREAMS} event streams are open (the limit); try again later`, { 'Retry-After': '10' });
    }
    const stream: EventStream = { ex, sensor: parseSensorId(ex.url.searchParams.get('sensor')) };
    ex.startStream(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
    ex.write(`retry: ${EVENT_RETRY_MS}\n\n`);
    this.streams.add(stream);
    ex.res.once('close', () => {
      this.streams.delete(stream);
      if (this.streams.size === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    });
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const s of this.streams) this.push(s, ': heartbeat\n\n');
      }, EVENT_HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  private publish(reading: StoredReading): void {
    const data = `event: reading\ndata: ${JSON.stringify(readingToJson(reading))}\n\n`;
    for (const s of this.streams) {
      if (s.sensor === null || s.sensor === reading.sensor) this.push(s, data);
    }
    this.emit('reading', reading);
  }

  /** Write to one stream, or drop it when its client has stopped reading (backpressure). */
  private push(s: EventStream, data: string): void {
    if (s.ex.res.writableLength > MAX_EVENT_BUFFER) {
      this.streams.delete(s);
      s.ex.res.destroy();
      return;
    }
    s.ex.write(data);
  }
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, `method not allowed here (allowed: ${allow})`, { Allow: allow });
}
