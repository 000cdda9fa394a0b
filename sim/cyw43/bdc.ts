/**
 * BDC header in front of data and event frames (cyw43_ll.c: struct sdpcm_bdc_header_t): flags u8
 * (0x20 = BDC version 2), priority u8, flags2 u8 (interface index), data_offset u8 (extra header
 * words before the payload).
 */
export const BDC_HEADER_LEN = 4;
/** BDC protocol version 2 in the high nibble of flags (BDC_PROTO_VER << BDC_FLAG_VER_SHIFT). */
export const BDC_FLAG_VER2 = 0x20;

export interface BdcFrame {
  flags: number;
  priority: number;
  iface: number;
  payload: Uint8Array;
}

export function parseBdc(buf: Uint8Array): BdcFrame | null {
  if (buf.length < BDC_HEADER_LEN) return null;
  const offset = BDC_HEADER_LEN + buf[3]! * 4;
  if (offset > buf.length) return null;
  return { flags: buf[0]!, priority: buf[1]!, iface: buf[2]!, payload: buf.subarray(offset) };
}

export function encodeBdc(iface: number, payload: Uint8Array, priority = 0): Uint8Array {
  const out = new Uint8Array(BDC_HEADER_LEN + payload.length);
  out[0] = BDC_FLAG_VER2;
  out[1] = priority;
  out[2] = iface;
  out[3] = 0;
  out.set(payload, BDC_HEADER_LEN);
  return out;
}
