/** IPv4 (RFC 791) header encode/decode, plus address helpers. Addresses are unsigned 32-bit numbers. */
import { checksumOk, internetChecksum } from './checksum.ts';
import { readU16BE as readU16, readU32BE as readU32, writeU16BE as writeU16, writeU32BE as writeU32 } from '../../byte-order.ts';

/** Protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Minimum header: IHL 5 words (RFC 791 §3.1). */
export const IPV4_MIN_HEADER = 20;
/** Flags field bits (RFC 791 §3.1). */
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;
/** Default TTL (RFC 1700 / RFC 1122 §3.2.1.7 recommends 64). */
export const DEFAULT_TTL = 64;

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number;
  headerLength: number;
  totalLength: number;
  /** Whether the header checksum verified. */
  checksumValid: boolean;
  header: Uint8Array;
  payload: Uint8Array;
}

export type Ipv4ParseError = 'short' | 'version' | 'ihl' | 'length';

/** Parse an IPv4 packet; trailing Ethernet padding beyond Total Length is dropped. */
export function parseIpv4(data: Uint8Array): Ipv4Packet | Ipv4ParseError {
  if (data.length < IPV4_MIN_HEADER) return 'short';
  const version = data[0]! >> 4;
  if (version !== 4) return 'version';
  const headerLength = (data[0]! & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER || headerLength > data.length) return 'ihl';
  const totalLength = (data[2]! << 8) | data[3]!;
  if (totalLength < headerLength || totalLength > data.length) return 'length';
  const flags = (data[6]! << 8) | data[7]!;
  return {
    src: readU32(data, 12),
    dst: readU32(data, 16),
    protocol: data[9]!,
    ttl: data[8]!,
    id: (data[4]! << 8) | data[5]!,
    dontFragment: (flags & FLAG_DF) !== 0,
    moreFragments: (flags & FLAG_MF) !== 0,
    fragmentOffset: (flags & FRAG_OFFSET_MASK) * 8,
    headerLength,
    totalLength,
    checksumValid: checksumOk(data, 0, headerLength),
    header: data.subarray(0, headerLength),
    payload: data.subarray(headerLength, totalLength),
  };
}

export interface Ipv4BuildOptions {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  dontFragment?: boolean;
}

export function buildIpv4(o: Ipv4BuildOptions): Uint8Array {
  const total = IPV4_MIN_HEADER + o.payload.length;
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[2] = total >> 8;
  out[3] = total & 0xff;
  const id = o.id ?? 0;
  out[4] = (id >> 8) & 0xff;
  out[5] = id & 0xff;
  if (o.dontFragment ?? true) out[6] = FLAG_DF >> 8;
  out[8] = o.ttl ?? DEFAULT_TTL;
  out[9] = o.protocol;
  writeU32(out, 12, o.src);
  writeU32(out, 16, o.dst);
  const ck = internetChecksum(out, 0, IPV4_MIN_HEADER);
  out[10] = ck >> 8;
  out[11] = ck & 0xff;
  out.set(o.payload, IPV4_MIN_HEADER);
  return out;
}

/** Header fields are in network byte order (big-endian): the wire formats' names for sim/byte-order.ts. */
export { readU16, readU32, writeU16, writeU32 };

export function ipToString(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parse dotted-quad IPv4 text; null if it is not exactly four decimal octets. */
export function parseIp(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function ipBytes(ip: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, ip);
  return b;
}

export const IP_BROADCAST = 0xffffffff;
