/**
 * Who may talk to the servers from a browser. A web page on any site can make the user's browser
 * send requests to 127.0.0.1:8080; two checks keep it from storing readings or reading data:
 *
 * - **Host** (DNS rebinding): a page whose own name was made to resolve to 127.0.0.1 sends its
 *   name as Host. Only IP literals, `localhost` and names given with `allowedHosts` (the board's
 *   `--host` names) are answered; anything else gets 421 (RFC 9110 §15.5.20).
 * - **Origin** (cross-site writes, e.g. a `text/plain` form POST that needs no preflight): a
 *   request that changes something (anything but GET, HEAD and OPTIONS) carrying an Origin other
 *   than the server's own is refused with 403 unless that origin was allowed with `--cors`.
 *   Browsers send Origin on every cross-origin POST/PUT/DELETE; the board and curl send none.
 *
 * Allowed origins get CORS headers (Fetch standard §3.2) and preflight answers.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type GuardVerdict =
  | { ok: true; headers: OutgoingHttpHeaders; preflight: boolean }
  | { ok: false; status: number; reason: string };

export interface RequestGuardOptions {
  /** Origins (scheme://host[:port]) allowed to write cross-origin (`--cors`); `*` allows any. */
  corsOrigins?: readonly string[];
  /** Host names besides IP literals and localhost the server answers to. */
  allowedHosts?: readonly string[];
}

/** `http://example.com:8080` → normalised origin, or null when it is not one. */
export function parseOrigin(text: string): string | null {
  if (text === '*') return '*';
  try {
    const u = new URL(text);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.hash || u.username) return null;
    if (!/^https?:\/\/[^/]+\/?$/.test(text)) return null;
    return u.origin;
  } catch {
    return null;
  }
}

/** The host part of a Host header value (`[::1]:8080` → `::1`, `a.b:80` → `a.b`), lowercased. */
function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return (colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export class RequestGuard {
  private readonly origins: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly hosts: Set<string>;

  constructor(o: RequestGuardOptions = {}) {
    this.origins = new Set(o.corsOrigins ?? []);
    this.anyOrigin = this.origins.has('*');
    this.hosts = new Set((o.allowedHosts ?? []).map((h) => h.toLowerCase().replace(/\.$/, '')));
  }

  check(req: IncomingMessage, method: string): GuardVerdict {
    const hostHeader = req.headers.host;
    if (hostHeader !== undefined) {
      const name = hostName(hostHeader);
      if (!isIP(name) && name !== 'localhost' && !name.endsWith('.localhost') && !this.hosts.has(name)) {
        return { ok: false, status: 421, reason: `this server does not answer to the name '${name}' (DNS rebinding protection: IP addresses, localhost and --allow-host names are answered)` };
      }
    }
    const origin = req.headers.origin;
    if (origin === undefined) return { ok: true, headers: {}, preflight: false };
    const allowed = this.anyOrigin || this.origins.has(origin);
    const sameOrigin = hostHeader !== undefined && (origin === `http://${hostHeader}` || origin === `https://${hostHeader}`);
    const headers: OutgoingHttpHeaders = allowed ? { 'Access-Control-Allow-Origin': this.anyOrigin ? '*' : origin, Vary: 'Origin' } : {};
    if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      if (!allowed) return { ok: false, status: 403, reason: `cross-origin requests from ${origin} are not allowed (start the server with --cors ${origin})` };
      headers['Access-Control-Allow-Methods'] = String(req.headers['access-control-request-method']);
      const h = req.headers['access-control-request-headers'];
      if (h) headers['Access-Control-Allow-Headers'] = String(h);
      headers['Access-Control-Max-Age'] = '600';
      return { ok: true, headers, preflight: true };
    }
    if (!SAFE_METHODS.has(method) && !allowed && !sameOrigin) {
      return { ok: false, status: 403, reason: `cross-origin ${method} from ${origin} refused (start the server with --cors ${origin} to allow it)` };
    }
    return { ok: true, headers, preflight: false };
  }
}
