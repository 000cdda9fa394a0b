/**
 * CDC header of control frames (cyw43_ll.c: struct ioctl_header_t): cmd u32, len u32 (low 16 bits
 * output length, high 16 input length), flags u32 (bit 1 SET, interface in bits 12-15, request id in
 * bits 16-31), status u32. All little endian. The payload follows.
 */
export const CDC_HEADER_LEN = 16;
/** flags bit: the request sets a value (SDPCM_SET). */
export const CDCF_IOC_SET = 0x02;
/** flags bit: the reply carries an error status (bcmcdc.h CDCF_IOC_ERROR). */
export const CDCF_IOC_ERROR = 0x01;
export const CDCF_IOC_IF_SHIFT = 12;
export const CDCF_IOC_ID_SHIFT = 16;

export interface CdcMessage {
  cmd: number;
  len: number;
  set: boolean;
  iface: number;
  id: number;
  status: number;
  payload: Uint8Array;
}

export function parseCdc(buf: Uint8Array): CdcMessage | null {
  if (buf.length < CDC_HEADER_LEN) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = dv.getUint32(8, true);
  return {
    cmd: dv.getUint32(0, true),
    len: dv.getUint32(4, true),
    set: (flags & CDCF_IOC_SET) !== 0,
    iface: (flags >>> CDCF_IOC_IF_SHIFT) & 0xf,
    id: flags >>> CDCF_IOC_ID_SHIFT,
    status: dv.getInt32(12, true),
    payload: buf.subarray(CDC_HEADER_LEN),
  };
}

export function encodeCdc(m: Omit<CdcMessage, 'status'> & { status?: number }): Uint8Array {
  const out = new Uint8Array(CDC_HEADER_LEN + m.payload.length);
  const dv = new DataView(out.buffer);
  const status = m.status ?? 0;
  const flags =
    ((m.id & 0xffff) << CDCF_IOC_ID_SHIFT) |
    ((m.iface & 0xf) << CDCF_IOC_IF_SHIFT) |
    (m.set ? CDCF_IOC_SET : 0) |
    (status !== 0 ? CDCF_IOC_ERROR : 0);
  dv.setUint32(0, m.cmd >>> 0, true);
  dv.setUint32(4, m.len >>> 0, true);
  dv.setUint32(8, flags >>> 0, true);
  dv.setInt32(12, status | 0, true);
  out.set(m.payload, CDC_HEADER_LEN);
  return out;
}
