/** TCP segment format (RFC 9293 §3.1) with the options we use or must skip (RFC 9293 §3.2). */
import { checksumOk, internetChecksum, pseudoHeaderSum } from './checksum.ts';
import { IPPROTO_TCP, readU16, readU32, writeU16, writeU32 } from './ipv4.ts';

/** Control bits (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_MIN_HEADER = 20;
/** Option kinds (RFC 9293 §3.2; RFC 7323 for window scale and timestamps; RFC 2018 for SACK). */
const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_TIMESTAMPS = 8;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  /** MSS option if present (only meaningful on SYN). */
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  payload: Uint8Array;
  checksumValid: boolean;
}

export function parseTcp(data: Uint8Array, srcIp: number, dstIp: number): TcpSegment | null {
  if (data.length < TCP_MIN_HEADER) return null;
  const offset = (data[12]! >> 4) * 4;
  if (offset < TCP_MIN_HEADER || offset > data.length) return null;
  const seg: TcpSegment = {
    srcPort: readU16(data, 0),
    dstPort: readU16(data, 2),
    seq: readU32(data, 4),
    ack: readU32(data, 8),
    flags: data[13]!,
    window: readU16(data, 14),
    urgent: readU16(data, 18),
    payload: data.subarray(offset),
    checksumValid: checksumOk(data, 0, data.length, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, data.length)),
  };
  // Options: kinds 0 and 1 are single bytes, all others carry a length byte (RFC 9293 §3.2).
  let i = TCP_MIN_HEADER;
  while (i < offset) {
    const kind = data[i]!;
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= offset) break;
    const len = data[i + 1]!;
    if (len < 2 || i + len > offset) break;
    if (kind === OPT_MSS && len === 4) seg.mss = readU16(data, i + 2);
    else if (kind === OPT_WSCALE && len === 3) seg.windowScale = data[i + 2]!;
    else if (kind === OPT_SACK_PERMITTED && len === 2) seg.sackPermitted = true;
    else if (kind === OPT_TIMESTAMPS) {
      /* recognised, not used */
    }
    i += len;
  }
  return seg;
}

export interface TcpBuildOptions {
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  payload?: Uint8Array;
}

export function buildTcp(o: TcpBuildOptions): Uint8Array {
  const optLen = o.mss !== undefined ? 4 : 0;
  const hdr = TCP_MIN_HEADER + optLen;
  const payload = o.payload ?? new Uint8Array(0);
  const out = new Uint8Array(hdr + payload.length);
  writeU16(out, 0, o.srcPort);
  writeU16(out, 2, o.dstPort);
  writeU32(out, 4, o.seq >>> 0);
  writeU32(out, 8, o.ack >>> 0);
  out[12] = (hdr / 4) << 4;
  out[13] = o.flags & 0xff;
  writeU16(out, 14, Math.max(0, Math.min(0xffff, o.window)));
  if (o.mss !== undefined) {
    out[20] = OPT_MSS;
    out[21] = 4;
    writeU16(out, 22, o.mss);
  }
  out.set(payload, hdr);
  writeU16(out, 16, internetChecksum(out, 0, out.length, pseudoHeaderSum(o.srcIp, o.dstIp, IPPROTO_TCP, out.length)));
  return out;
}

export function tcpFlagsToString(flags: number): string {
  let s = '';
  if (flags & TCP_SYN) s += 'S';
  if (flags & TCP_FIN) s += 'F';
  if (flags & TCP_RST) s += 'R';
  if (flags & TCP_PSH) s += 'P';
  if (flags & TCP_ACK) s += '.';
  if (flags & TCP_URG) s += 'U';
  return s || 'none';
}

/** Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}
export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}
export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}
