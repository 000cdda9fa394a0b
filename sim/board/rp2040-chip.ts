/**
 * The RP2040 as the Pico W carries it: rp2040js's chip with the board's own flash behind XIP.
 *
 * rp2040js gives every chip a 16 MB flash array and fills all of it with 0xFF at each reset: 16 MB
 * written (and kept resident) per board, before the first instruction. The Pico W has a 2 MB
 * W25Q16JV, which decodes only the address bits of its size, so the 16 MB XIP window (RP2040
 * datasheet §2.6.3, and each of its cache aliases at 0x11/0x12/0x13…) sees the chip repeated every
 * 2 MB: reads here fold any XIP address onto the chip (`FLASH_MASK`), as the CPU engines' own flash
 * loads do (sim/cpu). Listed in rp2040-adaptation.ts.
 */
import { RP2040 } from 'rp2040js';
import { FLASH_MASK, FLASH_SIZE, XIP_BASE } from './memory-map.ts';

/** An address in the XIP window (0x1000_0000–0x13FF_FFFF) folded onto the 2 MB chip; others unchanged. */
function foldXip(address: number): number {
  return (address >>> 26 === XIP_BASE >>> 26) ? (XIP_BASE | (address & FLASH_MASK)) >>> 0 : address;
}

export class PicoWRp2040 extends RP2040 {
  /** rp2040js's reset (it also runs from its constructor), on a flash array of the board's size. */
  override reset(): void {
    if (this.flash.length !== FLASH_SIZE) {
      const flash = new Uint8Array(FLASH_SIZE);
      const self = this as unknown as { flash: Uint8Array; flash16: Uint16Array; flashView: DataView };
      self.flash = flash;
      self.flash16 = new Uint16Array(flash.buffer);
      self.flashView = new DataView(flash.buffer);
    }
    super.reset();
  }

  override readUint32(address: number): number {
    return super.readUint32(foldXip(address));
  }

  override readUint16(address: number): number {
    return super.readUint16(foldXip(address));
  }

  override readUint8(address: number): number {
    return super.readUint8(foldXip(address));
  }
}
