/**
 * Egress policy and the parsers for the network's command-line flags.
 *
 * Where a board's packet may go: the gateway 10.0.2.2 stands for the host's loopback (port P
 * reaches 127.0.0.1:P) unless `--restrict`; `--map` rules send chosen virtual addresses
 * (optionally one port) to a host endpoint; everything else is refused unless `--allow-internet`,
 * in which case the real address is used. Port 53 on the gateway is never the host's resolver.
 */
import { UsageError } from '../errors.ts';
import { GATEWAY_IP, inSubnet, LOOPBACK_HOST } from './addressing.ts';
import { DNS_PORT } from './wire/dns.ts';
import { ipToString, parseIp } from './wire/ipv4.ts';

export interface MapRule {
  /** Virtual IPv4 address the board uses. */
  addr: number;
  /** Virtual port; undefined = every port. */
  port?: number;
  /** Host name or address to connect to. */
  host: string;
  /** Host port; undefined = the same port the board used. */
  hostPort?: number;
}

export interface HostEntry {
  name: string;
  addr: number;
}

export interface ForwardRule {
  /** Port on 127.0.0.1 the simulator listens on (0 = any free port). */
  hostPort: number;
  /** Board address; undefined = the first board's lease (10.0.2.15). */
  boardAddr?: number;
  boardPort: number;
}

export interface LinkFaults {
  /** One-way added latency per direction, in ms of simulated time. */
  latencyMs?: number;
  /** Random extra delay in [0, jitterMs) per frame; frames can overtake each other (reordering). */
  jitterMs?: number;
  /** Probability of dropping a frame, in percent, per direction. */
  lossPercent?: number;
  /** Bandwidth cap per direction, in kbit/s (1 kbit = 1000 bit); 0 or undefined = unlimited. */
  bandwidthKbps?: number;
  /** Seed for the loss and jitter generator. */
  seed?: number;
}

function parsePort(text: string, what: string, allowZero = false): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  if (n > 65535 || (n === 0 && !allowZero)) return null;
  void what;
  return n;
}

/** `--map ADDR[:PORT]=HOST[:PORT]`. */
export function parseMapSpec(spec: string): MapRule {
  const bad = (why: string) => new UsageError(`--map '${spec}': ${why} (expected ADDR[:PORT]=HOST:PORT, e.g. 192.168.253.45:8080=127.0.0.1:8080)`);
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
    const p = parsePort(portText, 'port');
    if (p === null) throw bad(`'${portText}' is not a port (1-65535)`);
    port = p;
  }
  const m = /^(\[[^\]]+\]|[^:]+)(?::(.*))?$/.exec(right);
  if (!m || !m[1]) throw bad('missing HOST');
  const host = m[1].replace(/^\[|\]$/g, '');
  if (!/^[A-Za-z0-9.\-:]+$/.test(host)) throw bad(`'${host}' is not a host name or address`);
  let hostPort: number | undefined;
  if (m[2] !== undefined) {
    const p = parsePort(m[2], 'port');
    if (p === null) throw bad(`'${m[2]}' is not a port (1-65535)`);
    hostPort = p;
  }
  if (port !== undefined && hostPort === undefined) throw bad('a mapped port needs a host port');
  return { addr, port, host, hostPort };
}

/** `--host NAME=ADDR`. */
export function parseHostSpec(spec: string): HostEntry {
  const bad = (why: string) => new UsageError(`--host '${spec}': ${why} (expected NAME=ADDR, e.g. myserver.local=192.168.253.45)`);
  const eq = spec.indexOf('=');
  if (eq < 0) throw bad("missing '='");
  const name = spec.slice(0, eq).trim().replace(/\.$/, '').toLowerCase();
  const addrText = spec.slice(eq + 1).trim();
  if (!/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(name)) throw bad(`'${name}' is not a DNS name`);
  const addr = parseIp(addrText);
  if (addr === null) throw bad(`'${addrText}' is not an IPv4 address`);
  return { name, addr };
}

/** `--forward HOSTPORT:BOARDPORT` or `HOSTPORT:ADDR:BOARDPORT` (TCP; optional `tcp:` prefix). */
export function parseForwardSpec(spec: string): ForwardRule {
  const bad = (why: string) => new UsageError(`--forward '${spec}': ${why} (expected HOSTPORT:BOARDPORT, e.g. 8081:80)`);
  let s = spec.trim();
  if (/^udp:/i.test(s)) throw bad('only TCP forwards are supported');
  s = s.replace(/^tcp:/i, '');
  const parts = s.split(':');
  if (parts.length !== 2 && parts.length !== 3) throw bad('wrong number of fields');
  const hostPort = parsePort(parts[0]!, 'host port', true);
  if (hostPort === null) throw bad(`'${parts[0]}' is not a host port (0-65535)`);
  const boardPort = parsePort(parts[parts.length - 1]!, 'board port');
  if (boardPort === null) throw bad(`'${parts[parts.length - 1]}' is not a board port (1-65535)`);
  let boardAddr: number | undefined;
  if (parts.length === 3) {
    const a = parseIp(parts[1]!);
    if (a === null || !inSubnet(a)) throw bad(`'${parts[1]}' is not a board address in 10.0.2.0/24`);
    boardAddr = a;
  }
  return { hostPort, boardAddr, boardPort };
}

function parseNumber(flag: string, text: string, min: number, max: number, unit: string): number {
  const t = String(text).trim().replace(/%$/, '');
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} '${text}': expected a number of ${unit} from ${min} to ${max}`);
  }
  return n;
}

/** `--latency MS` (one-way, per direction). */
export function parseLatency(text: string): number {
  return parseNumber('--latency', text, 0, 60_000, 'milliseconds');
}
/** `--loss PERCENT`. */
export function parseLoss(text: string): number {
  return parseNumber('--loss', text, 0, 100, 'percent');
}
/** `--bandwidth KBPS` (kbit/s). */
export function parseBandwidth(text: string): number {
  const n = parseNumber('--bandwidth', text, 1, 10_000_000, 'kbit/s');
  return n;
}
/** `--pcap FILE`. */
export function parsePcapPath(text: string): string {
  if (!text || !text.trim()) throw new UsageError('--pcap needs a file name');
  return text;
}

/** Help lines for the network flags, for the CLI's usage text. */
export const NET_FLAGS_HELP: readonly string[] = [
  '--map ADDR[:PORT]=HOST[:PORT]  send the board\'s traffic for ADDR (one port or all) to HOST:PORT on this machine (repeatable)',
  '--host NAME=ADDR               answer DNS (and mDNS for .local) queries for NAME with ADDR (repeatable)',
  '--forward HOSTPORT:[ADDR:]BOARDPORT  listen on 127.0.0.1:HOSTPORT and carry connections to a server on the board (repeatable)',
  '--allow-internet               let unmapped destinations and DNS names through to the real network (off by default)',
  '--restrict                     the board reaches only the embedded servers, --map targets and --forward (10.0.2.2 is not the host loopback)',
  '--latency MS                   add MS of one-way delay to each direction of each board link',
  '--loss PERCENT                 drop this share of frames in each direction',
  '--bandwidth KBPS               cap each direction of each board link to KBPS kbit/s',
  '--pcap FILE                    write every frame on the virtual LAN to FILE (classic pcap, readable by tshark/Wireshark)',
];

/** Where a board's connection to ADDR:PORT goes. */
export type EgressDecision =
  | { allowed: true; host: string; port: number; via: 'gateway' | 'map' | 'internet' }
  | { allowed: false; reason: string };

export class EgressPolicy {
  private readonly maps: MapRule[];
  constructor(
    maps: MapRule[],
    readonly allowInternet: boolean,
    /**
     * Whether 10.0.2.2:P reaches 127.0.0.1:P (passt's default `--map-host-loopback` of the
     * gateway; false with `--restrict`, like QEMU's `restrict=on` or passt's `--no-map-gw`).
     */
    readonly gatewayToLoopback = true,
  ) {
    this.maps = maps;
  }

  /** Whether ADDR has any map rule (used for ICMP echo). */
  isMapped(addr: number): boolean {
    return this.maps.some((m) => m.addr === addr);
  }

  resolve(addr: number, port: number): EgressDecision {
    const exact = this.maps.find((m) => m.addr === addr && m.port === port);
    const any = exact ?? this.maps.find((m) => m.addr === addr && m.port === undefined);
    if (any) return { allowed: true, host: any.host, port: any.hostPort ?? port, via: 'map' };
    if (addr === GATEWAY_IP) {
      if (port === DNS_PORT) return { allowed: false, reason: 'port 53 on the gateway is the virtual DNS, not the host resolver' };
      return this.gatewayToLoopback ? { allowed: true, host: LOOPBACK_HOST, port, via: 'gateway' } : { allowed: false, reason: `10.0.2.2:${port} is not an embedded server or a --map target (--restrict)` };
    }
    if (inSubnet(addr)) return { allowed: false, reason: `${ipToString(addr)} is not on the virtual LAN` };
    if (addr >>> 24 === 127 || addr === 0) return { allowed: false, reason: `${ipToString(addr)} is not routable from the board` };
    if (this.allowInternet) return { allowed: true, host: ipToString(addr), port, via: 'internet' };
    return { allowed: false, reason: `${ipToString(addr)}:${port} is not mapped (use --map or --allow-internet)` };
  }
}
