/** ARP for IPv4 over Ethernet (RFC 826). */
import { readU16, readU32, writeU16, writeU32 } from './ipv4.ts';
import { ETHERTYPE_IPV4 } from './ethernet.ts';

/** Hardware type Ethernet (RFC 826; IANA ARP parameters). */
const HTYPE_ETHERNET = 1;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_LEN = 28;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

/** Parse an ARP packet for IPv4 over Ethernet; null for anything else. */
export function parseArp(data: Uint8Array): ArpPacket | null {
  if (data.length < ARP_LEN) return null;
  if (readU16(data, 0) !== HTYPE_ETHERNET || readU16(data, 2) !== ETHERTYPE_IPV4) return null;
  if (data[4] !== 6 || data[5] !== 4) return null;
  return {
    op: readU16(data, 6),
    senderMac: data.slice(8, 14),
    senderIp: readU32(data, 14),
    targetMac: data.slice(18, 24),
    targetIp: readU32(data, 24),
  };
}

export function buildArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  writeU16(out, 0, HTYPE_ETHERNET);
  writeU16(out, 2, ETHERTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  writeU16(out, 6, p.op);
  out.set(p.senderMac.subarray(0, 6), 8);
  writeU32(out, 14, p.senderIp);
  out.set(p.targetMac.subarray(0, 6), 18);
  writeU32(out, 24, p.targetIp);
  return out;
}
