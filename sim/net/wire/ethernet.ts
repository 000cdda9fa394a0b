/** Ethernet II framing (IEEE 802.3 clause 3.2.6 / RFC 894): dst MAC, src MAC, EtherType, payload; no FCS. */

/** EtherType values (IEEE registry). */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ETH_HEADER_LEN = 14;
/** Smallest EtherType value; below it the field is an 802.3 length. */
const ETHERTYPE_MIN = 0x0600;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

/** Parse an Ethernet II frame; null if it is too short or carries an 802.3 length. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | null {
  if (frame.length < ETH_HEADER_LEN) return null;
  const etherType = (frame[12]! << 8) | frame[13]!;
  if (etherType < ETHERTYPE_MIN) return null;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    etherType,
    payload: frame.subarray(ETH_HEADER_LEN),
  };
}

export function buildEthernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETH_HEADER_LEN + payload.length);
  out.set(dst.subarray(0, 6), 0);
  out.set(src.subarray(0, 6), 6);
  out[12] = etherType >> 8;
  out[13] = etherType & 0xff;
  out.set(payload, ETH_HEADER_LEN);
  return out;
}

export function macToString(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The 48 bits of a MAC address as one number (exact in a double): a cheap map key. */
export function macKey(mac: Uint8Array): number {
  return (mac[0]! * 0x10000 + ((mac[1]! << 8) | mac[2]!)) * 0x1000000 + ((mac[3]! << 16) | (mac[4]! << 8) | mac[5]!);
}

export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) return null;
  return new Uint8Array(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Group bit (I/G) of the first octet: broadcast or multicast. */
export function isGroupMac(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 1;
}
