/**
 * An independent UF2 writer for tests (layout from the UF2 specification), so the loader is
 * checked against files it did not produce itself.
 */
export interface BlockSpec {
  magic0?: number;
  magic1?: number;
  magicEnd?: number;
  flags?: number;
  target: number;
  size: number;
  blockNo: number;
  numBlocks: number;
  family?: number;
  fill?: number;
  /** Payload bytes (at most 476); without it the payload is `fill`. */
  data?: Uint8Array;
}

export function block(spec: BlockSpec): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  v.setUint32(0, spec.magic0 ?? 0x0a324655, true);
  v.setUint32(4, spec.magic1 ?? 0x9e5d5157, true);
  v.setUint32(8, spec.flags ?? 0x2000, true);
  v.setUint32(12, spec.target, true);
  v.setUint32(16, spec.size, true);
  v.setUint32(20, spec.blockNo, true);
  v.setUint32(24, spec.numBlocks, true);
  v.setUint32(28, spec.family ?? 0xe48bff56, true);
  if (spec.data) b.set(spec.data.subarray(0, 476), 32);
  else b.fill(spec.fill ?? spec.blockNo & 0xff, 32, 32 + Math.min(spec.size, 476));
  v.setUint32(508, spec.magicEnd ?? 0x0ab16f30, true);
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A well-formed image of `n` 256-byte blocks at 0x10000000. */
export function image(n: number, over: Partial<BlockSpec> = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(block({ target: 0x10000000 + i * 256, size: 256, blockNo: i, numBlocks: n, ...over }));
  }
  return concat(parts);
}

/** A program image as UF2: 256-byte payloads from `base` (flash), family RP2040. */
export function fromBinary(bin: Uint8Array, base = 0x10000000): Uint8Array {
  const n = Math.ceil(bin.length / 256);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(256);
    data.set(bin.subarray(i * 256, i * 256 + 256));
    parts.push(block({ target: base + i * 256, size: 256, blockNo: i, numBlocks: n, data }));
  }
  return concat(parts);
}

/** CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor): boot2's check. */
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** Store the CRC of a flash image's boot2 (bytes 0..251) at offset 252, as the bootrom checks it. */
export function sealBoot2(bin: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(bin.length, 256));
  out.set(bin);
  new DataView(out.buffer).setUint32(252, crc32Mpeg2(out.subarray(0, 252)), true);
  return out;
}
