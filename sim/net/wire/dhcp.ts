/** DHCP message format (RFC 2131 §2) and options (RFC 2132). */
import { readU16, readU32, writeU16, writeU32 } from './ipv4.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** op field (RFC 2131 §2). */
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** Magic cookie 99.130.83.99 (RFC 2131 §3). */
const MAGIC_COOKIE = 0x63825363;
/** Fixed part: 236 bytes before the options cookie (RFC 2131 §2). */
const FIXED_LEN = 236;
/** Broadcast bit in flags (RFC 2131 §2). */
export const FLAG_BROADCAST = 0x8000;

/** Message types, option 53 (RFC 2132 §9.6). */
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** Option codes (RFC 2132). */
export const OPT_PAD = 0;
export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_DNS = 6;
export const OPT_HOSTNAME = 12;
export const OPT_BROADCAST_ADDR = 28;
export const OPT_REQUESTED_IP = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_OVERLOAD = 52;
export const OPT_MESSAGE_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_PARAM_LIST = 55;
export const OPT_MESSAGE = 56;
export const OPT_RENEWAL_T1 = 58;
export const OPT_REBINDING_T2 = 59;
export const OPT_CLIENT_ID = 61;
export const OPT_END = 255;

export interface DhcpMessage {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  /** Options by code (later duplicates are concatenated, RFC 3396). */
  options: Map<number, Uint8Array>;
}

export function parseDhcp(data: Uint8Array): DhcpMessage | null {
  if (data.length < FIXED_LEN + 4) return null;
  if (readU32(data, FIXED_LEN) !== MAGIC_COOKIE) return null;
  if (data[1] !== 1 || data[2] !== 6) return null; // htype Ethernet, hlen 6
  const options = new Map<number, Uint8Array>();
  let i = FIXED_LEN + 4;
  while (i < data.length) {
    const code = data[i]!;
    if (code === OPT_END) break;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= data.length) return null;
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) return null;
    const val = data.slice(i + 2, i + 2 + len);
    const prev = options.get(code);
    if (prev) {
      const joined = new Uint8Array(prev.length + val.length);
      joined.set(prev);
      joined.set(val, prev.length);
      options.set(code, joined);
    } else options.set(code, val);
    i += 2 + len;
  }
  return {
    op: data[0]!,
    xid: readU32(data, 4),
    secs: readU16(data, 8),
    flags: readU16(data, 10),
    ciaddr: readU32(data, 12),
    yiaddr: readU32(data, 16),
    siaddr: readU32(data, 20),
    giaddr: readU32(data, 24),
    chaddr: data.slice(28, 34),
    options,
  };
}

export interface DhcpBuild {
  op: number;
  xid: number;
  flags?: number;
  ciaddr?: number;
  yiaddr?: number;
  siaddr?: number;
  chaddr: Uint8Array;
  /** Options in order; message type first is conventional. */
  options: [number, Uint8Array][];
}

export function buildDhcp(m: DhcpBuild): Uint8Array {
  let optLen = 0;
  for (const [, v] of m.options) optLen += 2 + v.length;
  // Pad to the BOOTP minimum of 300 bytes (RFC 1542 §2.1) for old relays and clients.
  const len = Math.max(300, FIXED_LEN + 4 + optLen + 1);
  const out = new Uint8Array(len);
  out[0] = m.op;
  out[1] = 1;
  out[2] = 6;
  writeU32(out, 4, m.xid);
  writeU16(out, 10, m.flags ?? 0);
  writeU32(out, 12, m.ciaddr ?? 0);
  writeU32(out, 16, m.yiaddr ?? 0);
  writeU32(out, 20, m.siaddr ?? 0);
  out.set(m.chaddr.subarray(0, 6), 28);
  writeU32(out, FIXED_LEN, MAGIC_COOKIE);
  let i = FIXED_LEN + 4;
  for (const [code, v] of m.options) {
    out[i] = code;
    out[i + 1] = v.length;
    out.set(v, i + 2);
    i += 2 + v.length;
  }
  out[i] = OPT_END;
  return out;
}

export function u32Option(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v);
  return b;
}

export function dhcpMessageType(m: DhcpMessage): number | undefined {
  const v = m.options.get(OPT_MESSAGE_TYPE);
  return v && v.length === 1 ? v[0] : undefined;
}

export function dhcpIpOption(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v && v.length >= 4 ? readU32(v, 0) : undefined;
}

export const DHCP_TYPE_NAMES: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};
