/**
 * One line per request: client, method, path, status, body bytes sent, milliseconds.
 *   127.0.0.1 "PUT /temperature" 201 96B 1.4ms
 */
export interface AccessLogEntry {
  client: string;
  /** The request's method, or '-' when the request line could not be parsed. */
  method: string;
  /** The request target, or '-'. */
  path: string;
  /** 0 when no response was sent (the client went away first). */
  status: number;
  /** Response body bytes (headers not counted; 0 for HEAD). */
  bytes: number;
  ms: number;
}

export function formatAccessLine(e: AccessLogEntry): string {
  return `${e.client} "${e.method} ${printable(e.path)}" ${e.status === 0 ? '-' : e.status} ${e.bytes}B ${e.ms.toFixed(1)}ms`;
}

/** Keeps a log line on one line whatever the client sent. */
function printable(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) as `127.0.0.1`. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '-';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
