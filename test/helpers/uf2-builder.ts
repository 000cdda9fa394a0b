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
  b.fill(spec.fill ?? spec.blockNo & 0xff, 32, 32 + Math.min(spec.size, 476));
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
