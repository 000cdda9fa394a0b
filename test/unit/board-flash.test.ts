import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { SpiFlash } from '../../sim/board/spi-flash.ts';
import { IoQspi, XipSsi } from '../../sim/board/ssi.ts';

const ID = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4);

function rig() {
  const mcu = new RP2040();
  const mem = new Uint8Array(2 * 1024 * 1024).fill(0xff);
  const writes: string[] = [];
  const flash = new SpiFlash(mem, ID, mem.length, (o, l, k) => writes.push(`${k} ${o.toString(16)}+${l}`));
  const ssi = new XipSsi(mcu, flash);
  const qspi = new IoQspi(mcu, ssi);
  // SDK-style serial setup: std SPI, 8-bit frames, TX+RX (CTRLR0 = 0x00070000), SER = 1, enabled.
  ssi.writeUint32(0x08, 0);
  ssi.writeUint32(0x00, 0x00070000);
  ssi.writeUint32(0x10, 1);
  ssi.writeUint32(0x08, 1);
  /** flash_do_cmd style: CS forced low through IO_QSPI SS_CTRL OUTOVER, bytes exchanged, CS high. */
  const cmd = (tx: number[]): number[] => {
    qspi.writeUint32(0x0c, 2 << 8);
    const rx: number[] = [];
    for (const b of tx) {
      ssi.writeUint32(0x60, b);
      expect(ssi.readUint32(0x28) & 0x8).toBe(0x8); // RFNE
      rx.push(ssi.readUint32(0x60));
    }
    qspi.writeUint32(0x0c, 3 << 8);
    return rx;
  };
  return { mem, ssi, qspi, cmd, writes };
}

describe('SPI flash behind the SSI', () => {
  it('answers the unique-ID read after four dummy bytes', () => {
    const { cmd } = rig();
    const rx = cmd([0x4b, ...new Array(12).fill(0)]);
    expect(rx.slice(5)).toEqual([...ID]);
  });

  it('answers JEDEC ID and status registers (QE set, not busy)', () => {
    const { cmd } = rig();
    expect(cmd([0x9f, 0, 0, 0]).slice(1)).toEqual([0xef, 0x40, 0x15]);
    expect(cmd([0x35, 0])[1]! & 0x02).toBe(0x02);
    expect(cmd([0x05, 0])[1]! & 0x01).toBe(0);
  });

  it('programs with AND semantics only after write-enable, and erases 4 KB sectors', () => {
    const { mem, cmd, writes } = rig();
    cmd([0x02, 0x00, 0x10, 0x00, 0x0f]); // no WREN: ignored
    expect(mem[0x1000]).toBe(0xff);
    cmd([0x06]);
    cmd([0x02, 0x00, 0x10, 0x00, 0xf0, 0x3c]);
    expect([mem[0x1000], mem[0x1001]]).toEqual([0xf0, 0x3c]);
    cmd([0x06]);
    cmd([0x02, 0x00, 0x10, 0x00, 0x0f]);
    expect(mem[0x1000]).toBe(0x00);
    expect(cmd([0x03, 0x00, 0x10, 0x00, 0, 0]).slice(4)).toEqual([0x00, 0x3c]);
    cmd([0x06]);
    cmd([0x20, 0x00, 0x1f, 0xff]);
    expect(mem[0x1000]).toBe(0xff);
    expect(writes).toEqual(['program 1000+256', 'program 1000+256', 'erase 1000+4096']);
  });

  it('frames a boot2-style command/response pair with the SSI chip-select', () => {
    const { ssi } = rig();
    ssi.writeUint32(0x60, 0x35);
    ssi.writeUint32(0x60, 0x00);
    expect(ssi.readUint32(0x24)).toBe(2); // RXFLR
    ssi.readUint32(0x60);
    expect(ssi.readUint32(0x60) & 0x02).toBe(0x02);
    expect(ssi.readUint32(0x28) & 0x8).toBe(0); // RX empty: transfer over, CS released
    ssi.writeUint32(0x60, 0x9f);
    ssi.writeUint32(0x60, 0);
    ssi.readUint32(0x60);
    expect(ssi.readUint32(0x60)).toBe(0xef); // a new command, not a continuation
  });
});
