/**
 * The ROM table lookup routine (RP2040-BOOTROM §2): r0 = table address, r1 = code; returns the
 * 16-bit value of the entry whose code matches, or 0. Reads the table through the bus, so it honours
 * whichever table r0 names (the code 'DE' exists in both tables).
 */
import type { RP2040 } from 'rp2040js';

/** More entries than any table holds: a corrupt table cannot loop forever. */
const MAX_ENTRIES = 1024;

export function romLookup(bus: Pick<RP2040, 'readUint16'>, table: number, code: number): number {
  let p = (table & 0xfffe) >>> 0;
  code >>>= 0;
  for (let i = 0; i < MAX_ENTRIES; i++, p += 4) {
    const c = bus.readUint16(p);
    if (c === 0) return 0;
    if (c === code) return bus.readUint16(p + 2);
  }
  return 0;
}
