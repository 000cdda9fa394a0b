/**
 * memset/memset4/memcpy/memcpy44 of the function table (RP2040-BOOTROM §7). Plain SRAM and
 * flash→SRAM copies take a fast path on the backing arrays; anything else (USB DPRAM, peripherals,
 * XIP aliases) goes through the bus, with 32-bit writes where the destination is word-aligned so
 * that rp2040js's USB model sees whole-word updates.
 */
import type { RP2040 } from 'rp2040js';
import { SRAM_BASE, XIP_BASE } from './constants.ts';

/** The parts of rp2040js's RP2040 the memory routines use. */
export type MemBus = Pick<RP2040, 'sram' | 'flash' | 'readUint8' | 'readUint32' | 'writeUint8' | 'writeUint32'>;

function inSram(bus: MemBus, addr: number, n: number): boolean {
  return addr >= SRAM_BASE && addr + n <= SRAM_BASE + bus.sram.length;
}
function inFlash(bus: MemBus, addr: number, n: number): boolean {
  return addr >= XIP_BASE && addr + n <= XIP_BASE + bus.flash.length;
}

/** Stores `c & 0xFF` into n bytes at p. */
export function memset(bus: MemBus, p: number, c: number, n: number): void {
  p >>>= 0;
  n >>>= 0;
  if (n === 0) return;
  const b = c & 0xff;
  if (inSram(bus, p, n)) {
    bus.sram.fill(b, p - SRAM_BASE, p - SRAM_BASE + n);
    return;
  }
  const word = Math.imul(b, 0x01010101) >>> 0;
  let i = 0;
  while (i < n) {
    const a = (p + i) >>> 0;
    if ((a & 3) === 0 && n - i >= 4) {
      bus.writeUint32(a, word);
      i += 4;
    } else {
      bus.writeUint8(a, b);
      i++;
    }
  }
}

/** Copies n bytes from src to dst (overlap undefined on silicon; here forward, or SRAM memmove). */
export function memcpy(bus: MemBus, dst: number, src: number, n: number): void {
  dst >>>= 0;
  src >>>= 0;
  n >>>= 0;
  if (n === 0) return;
  if (inSram(bus, dst, n)) {
    const d = dst - SRAM_BASE;
    if (inSram(bus, src, n)) {
      bus.sram.copyWithin(d, src - SRAM_BASE, src - SRAM_BASE + n);
      return;
    }
    if (inFlash(bus, src, n)) {
      bus.sram.set(bus.flash.subarray(src - XIP_BASE, src - XIP_BASE + n), d);
      return;
    }
    for (let i = 0; i < n; i++) bus.sram[d + i] = bus.readUint8((src + i) >>> 0);
    return;
  }
  let i = 0;
  while (i < n) {
    const a = (dst + i) >>> 0;
    if ((a & 3) === 0 && n - i >= 4) {
      const s = (src + i) >>> 0;
      const w =
        (s & 3) === 0
          ? bus.readUint32(s)
          : bus.readUint8(s) |
            (bus.readUint8((s + 1) >>> 0) << 8) |
            (bus.readUint8((s + 2) >>> 0) << 16) |
            (bus.readUint8((s + 3) >>> 0) << 24);
      bus.writeUint32(a, w >>> 0);
      i += 4;
    } else {
      bus.writeUint8(a, bus.readUint8((src + i) >>> 0));
      i++;
    }
  }
}

/** Silicon cost of memcpy (RP2040-BOOTROM §12). */
export function memcpyCycles(dst: number, src: number, n: number): number {
  return 14 + Math.ceil(((dst ^ src) & 3) === 0 ? 0.82 * n : 7 * n);
}
/** Silicon cost of memset (RP2040-BOOTROM §12). */
export function memsetCycles(n: number): number {
  return 14 + Math.ceil(0.5 * n);
}
