/** UDP (RFC 768) with the IPv4 pseudo-header checksum. */
import { checksumOk, internetChecksum, pseudoHeaderSum } from './checksum.ts';
import { IPPROTO_UDP, readU16, writeU16 } from './ipv4.ts';

export const UDP_HEADER_LEN = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** True when the checksum verifies or is 0 (not computed, allowed over IPv4 by RFC 768). */
  checksumValid: boolean;
}

export function parseUdp(data: Uint8Array, srcIp: number, dstIp: number): UdpDatagram | null {
  if (data.length < UDP_HEADER_LEN) return null;
  const length = readU16(data, 4);
  if (length < UDP_HEADER_LEN || length > data.length) return null;
  const ck = readU16(data, 6);
  const valid = ck === 0 || checksumOk(data, 0, length, pseudoHeaderSum(srcIp, dstIp, IPPROTO_UDP, length));
  return {
    srcPort: readU16(data, 0),
    dstPort: readU16(data, 2),
    payload: data.subarray(UDP_HEADER_LEN, length),
    checksumValid: valid,
  };
}

export function buildUdp(srcIp: number, dstIp: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const length = UDP_HEADER_LEN + payload.length;
  const out = new Uint8Array(length);
  writeU16(out, 0, srcPort);
  writeU16(out, 2, dstPort);
  writeU16(out, 4, length);
  out.set(payload, UDP_HEADER_LEN);
  let ck = internetChecksum(out, 0, length, pseudoHeaderSum(srcIp, dstIp, IPPROTO_UDP, length));
  // A computed zero is sent as all ones (RFC 768).
  if (ck === 0) ck = 0xffff;
  writeU16(out, 6, ck);
  return out;
}
