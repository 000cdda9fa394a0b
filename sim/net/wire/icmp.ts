/** ICMP for IPv4 (RFC 792): echo and destination unreachable. */
import { checksumOk, internetChecksum } from './checksum.ts';
import { readU16, writeU16 } from './ipv4.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
/** Destination unreachable codes (RFC 792; RFC 1812 §5.2.7.1 for 13). */
export const UNREACH_NET = 0;
export const UNREACH_HOST = 1;
export const UNREACH_PROTOCOL = 2;
export const UNREACH_PORT = 3;
export const UNREACH_ADMIN_PROHIBITED = 13;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Bytes 4..7: identifier + sequence for echo, unused/MTU for errors. */
  rest: number;
  body: Uint8Array;
  checksumValid: boolean;
}

export function parseIcmp(data: Uint8Array): IcmpMessage | null {
  if (data.length < 8) return null;
  return {
    type: data[0]!,
    code: data[1]!,
    rest: ((readU16(data, 4) << 16) | readU16(data, 6)) >>> 0,
    body: data.subarray(8),
    checksumValid: checksumOk(data),
  };
}

export function buildIcmp(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out[0] = type;
  out[1] = code;
  writeU16(out, 4, rest >>> 16);
  writeU16(out, 6, rest & 0xffff);
  out.set(body, 8);
  writeU16(out, 2, internetChecksum(out));
  return out;
}

/** Echo identifier and sequence from `rest`. */
export function echoIdSeq(rest: number): { id: number; seq: number } {
  return { id: rest >>> 16, seq: rest & 0xffff };
}

/**
 * An ICMP error about `offending` (the original IP packet): its IP header plus the first 8 bytes
 * of its payload (RFC 792, "Internet Header + 64 bits of Original Data Datagram").
 */
export function buildIcmpError(type: number, code: number, offendingHeader: Uint8Array, offendingPayload: Uint8Array): Uint8Array {
  const body = new Uint8Array(offendingHeader.length + Math.min(8, offendingPayload.length));
  body.set(offendingHeader, 0);
  body.set(offendingPayload.subarray(0, 8), offendingHeader.length);
  return buildIcmp(type, code, 0, body);
}
