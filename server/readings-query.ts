/**
 * The filters of `GET /temperature/readings[.csv]`: `since` (inclusive) and `until` (exclusive),
 * each an ISO 8601 date-time or milliseconds since the epoch; `sensor`; `limit`, which keeps the
 * latest N readings of the window (returned oldest first).
 */
import { HttpError } from './errors.ts';
import { parseSensorId } from './temperature-reading.ts';

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 100_000;

export interface ReadingsQuery {
  since?: number;
  until?: number;
  sensor?: string;
  limit: number;
}

export function parseReadingsQuery(params: URLSearchParams): ReadingsQuery {
  for (const key of params.keys()) {
    if (!['since', 'until', 'sensor', 'limit'].includes(key)) {
      throw new HttpError(400, `unknown parameter '${key}' (known: since, until, sensor, limit)`);
    }
  }
  const q: ReadingsQuery = { limit: parseLimit(params.get('limit')) };
  const since = params.get('since');
  const until = params.get('until');
  if (since !== null) q.since = parseTime('since', since);
  if (until !== null) q.until = parseTime('until', until);
  const sensor = parseSensorId(params.get('sensor'));
  if (sensor !== null) q.sensor = sensor;
  return q;
}

function parseLimit(v: string | null): number {
  if (v === null) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) {
    throw new HttpError(400, `limit must be an integer 1..${MAX_LIMIT}`);
  }
  return Number(v);
}

/** ISO 8601 with a date and, when a time is given, an explicit zone, or epoch milliseconds. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function parseTime(name: string, v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  if (ISO_DATE_TIME.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw new HttpError(400, `${name} must be an ISO 8601 date-time with a zone (2026-01-02T03:04:05Z) or epoch milliseconds`);
}
