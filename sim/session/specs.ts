/**
 * The one-line forms users write the world's network and Wi-Fi in — `--map`/`maps:`,
 * `--host`/`hosts:`, `--forward`/`forwards:`, `--ap`/`aps:` — parsed into the rules the network
 * and the radio take. The same grammar serves the command line, scenario files and the test
 * API; each caller names its own words in the errors (`label`: the CLI its flag, a scenario
 * nothing, since its errors carry the key and line).
 */
import { makeAccessPoint, type ApConfig } from '../cyw43/radio.ts';
import { UsageError } from '../errors.ts';
import { inSubnet } from '../net/addressing.ts';
import type { ForwardRule, HostEntry, MapRule } from '../net/policy.ts';
import { parseIp } from '../net/wire/ipv4.ts';

/** `--map '…'`, or just `'…'` without a label. */
function subject(label: string, spec: string): string {
  return label ? `${label} '${spec}'` : `'${spec}'`;
}

function parsePort(text: string, allowZero = false): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  if (n > 65535 || (n === 0 && !allowZero)) return null;
  return n;
}

/** `ADDR[:PORT]=HOST[:PORT]` (`--map`). */
export function parseMapSpec(spec: string, label = '--map'): MapRule {
  const bad = (why: string) => new UsageError(`${subject(label, spec)}: ${why} (expected ADDR[:PORT]=HOST:PORT, e.g. 192.168.253.45:8080=127.0.0.1:8080)`);
  const eq = spec.indexOf('=');
  if (eq < 0) throw bad("missing '='");
  const left = spec.slice(0, eq).trim();
  const right = spec.slice(eq + 1).trim();
  const [addrText, portText, ...extraL] = left.split(':');
  if (extraL.length) throw bad('too many colons before =');
  const addr = parseIp(addrText ?? '');
  if (addr === null) throw bad(`'${addrText}' is not an IPv4 address`);
  let port: number | undefined;
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === null) throw bad(`'${portText}' is not a port (1-65535)`);
    port = p;
  }
  const m = /^(\[[^\]]+\]|[^:]+)(?::(.*))?$/.exec(right);
  if (!m || !m[1]) throw bad('missing HOST');
  const host = m[1].replace(/^\[|\]$/g, '');
  if (!/^[A-Za-z0-9.\-:]+$/.test(host)) throw bad(`'${host}' is not a host name or address`);
  let hostPort: number | undefined;
  if (m[2] !== undefined) {
    const p = parsePort(m[2]);
    if (p === null) throw bad(`'${m[2]}' is not a port (1-65535)`);
    hostPort = p;
  }
  if (port !== undefined && hostPort === undefined) throw bad('a mapped port needs a host port');
  return { addr, port, host, hostPort };
}

/** `NAME=ADDR` (`--host`). */
export function parseHostSpec(spec: string, label = '--host'): HostEntry {
  const bad = (why: string) => new UsageError(`${subject(label, spec)}: ${why} (expected NAME=ADDR, e.g. myserver.local=192.168.253.45)`);
  const eq = spec.indexOf('=');
  if (eq < 0) throw bad("missing '='");
  const name = spec.slice(0, eq).trim().replace(/\.$/, '').toLowerCase();
  const addrText = spec.slice(eq + 1).trim();
  if (!/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(name)) throw bad(`'${name}' is not a DNS name`);
  const addr = parseIp(addrText);
  if (addr === null) throw bad(`'${addrText}' is not an IPv4 address`);
  return { name, addr };
}

/** `HOSTPORT:BOARDPORT` or `HOSTPORT:ADDR:BOARDPORT` (TCP; optional `tcp:` prefix; `--forward`). */
export function parseForwardSpec(spec: string, label = '--forward'): ForwardRule {
  const bad = (why: string) => new UsageError(`${subject(label, spec)}: ${why} (expected HOSTPORT:BOARDPORT, e.g. 8081:80)`);
  let s = spec.trim();
  if (/^udp:/i.test(s)) throw bad('only TCP forwards are supported');
  s = s.replace(/^tcp:/i, '');
  const parts = s.split(':');
  if (parts.length !== 2 && parts.length !== 3) throw bad('wrong number of fields');
  const hostPort = parsePort(parts[0]!, true);
  if (hostPort === null) throw bad(`'${parts[0]}' is not a host port (0-65535)`);
  const boardPort = parsePort(parts[parts.length - 1]!);
  if (boardPort === null) throw bad(`'${parts[parts.length - 1]}' is not a board port (1-65535)`);
  let boardAddr: number | undefined;
  if (parts.length === 3) {
    const a = parseIp(parts[1]!);
    if (a === null || !inSubnet(a)) throw bad(`'${parts[1]}' is not a board address in 10.0.2.0/24`);
    boardAddr = a;
  }
  return { hostPort, boardAddr, boardPort };
}

/**
 * `SSID[:PASSWORD]` (`--ap`; the first ':' separates them). No password: an open network; with
 * one: WPA2-PSK. `SSID:` (a colon and nothing after it) is an error, not an open network.
 */
export function parseApSpec(spec: string, label = '--ap'): ApConfig {
  const i = spec.indexOf(':');
  const ssid = i < 0 ? spec : spec.slice(0, i);
  const password = i < 0 ? '' : spec.slice(i + 1);
  if (!ssid) throw new UsageError(`${subject(label, spec)}: the SSID is empty (expected SSID[:PASSWORD])`);
  // A password lost to a shell variable that expanded to nothing must not silently turn into no
  // security at all.
  if (i >= 0 && !password) throw new UsageError(`${subject(label, spec)}: the password after ':' is empty (leave out the ':' for an open network)`);
  const cfg: ApConfig = password ? { ssid, password, security: 'wpa2-psk' } : { ssid, security: 'open' };
  makeAccessPoint(cfg); // validate now, with the user's spelling in the message
  return cfg;
}

/** A list of rules, each given parsed or in its one-line form. */
export function parseAll<T>(items: readonly (string | T)[] | undefined, parse: (spec: string) => T): T[] {
  return (items ?? []).map((it) => (typeof it === 'string' ? parse(it) : it));
}
