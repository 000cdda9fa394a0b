/**
 * ROM image layout, the lookup routine, bit and memory routines, flash routines, UB and the BKPT
 * dispatch rules of the HLE boot ROM, each called through its stub on rp2040js.
 */
import { describe, expect, it } from 'vitest';
import { describeBootsel } from '../../sim/bootrom/usb-boot.ts';
import { hex, prng, RomRig } from './bootrom-harness.ts';

const code = (s: string): number => s.charCodeAt(0) | (s.charCodeAt(1) << 8);
const FUNC_CODES = ['P3', 'R3', 'L3', 'T3', 'MS', 'S4', 'MC', 'C4', 'UB', 'DT', 'DE', 'WV', 'IF', 'EX', 'RE', 'RP', 'FC', 'CX', 'EC'];

describe('ROM header and tables', () => {
  const rig = new RomRig();
  it('is 16 KB with the datasheet header: magic, versions, table pointers', () => {
    expect(rig.hle.image.length).toBe(4096);
    expect(rig.rom32(0)).toBe(0x20041f00);
    for (const v of [4, 8, 12]) expect(rig.rom32(v) & 1).toBe(1);
    expect([rig.rom8(0x10), rig.rom8(0x11), rig.rom8(0x12), rig.rom8(0x13)]).toEqual([0x4d, 0x75, 1, 3]);
    expect(rig.rom16(0x18) & 1).toBe(1);
    expect(rig.rom16(0x1a)).toBe(0);
  });
  it('has every function code, each an odd address, and the data codes', () => {
    for (const c of FUNC_CODES) {
      const v = rig.func(c);
      expect(v, c).toBeGreaterThan(0);
      expect(v & 1, c).toBe(1);
    }
    for (const c of ['SF', 'SD', 'FZ', 'GR', 'CR', 'FS', 'FE', 'DS', 'DE']) expect(rig.data(c), c).toBeGreaterThan(0);
    expect(rig.data('SF') & 3).toBe(0);
    expect(rig.data('SD') & 3).toBe(0);
    expect(rig.rom8(rig.data('SF') - 2)).toBe(32);
    expect(rig.data('FZ')).toBe(rig.data('SF') - 2);
    // 'DE' differs between the two tables
    expect(rig.func('DE')).not.toBe(rig.data('DE'));
    let s = '';
    for (let a = rig.data('CR'); rig.rom8(a) !== 0; a++) s += String.fromCharCode(rig.rom8(a));
    expect(s.length).toBeGreaterThan(5);
  });
  it('the lookup routine honours r0 and returns 0 for a missing code, changing only r0', () => {
    const lookup = rig.rom16(0x18);
    const ft = rig.rom16(0x14);
    const dt = rig.rom16(0x16);
    for (const c of FUNC_CODES) expect(rig.call(lookup, [ft, code(c)])[0], c).toBe(rig.func(c));
    expect(rig.call(lookup, [dt, code('SF')])[0]).toBe(rig.data('SF'));
    expect(rig.call(lookup, [dt, code('DE')])[0]).toBe(rig.data('DE'));
    expect(rig.call(lookup, [ft, code('DE')])[0]).toBe(rig.func('DE'));
    const r = rig.call(lookup, [ft, code('ZZ')]);
    expect(r[0]).toBe(0);
    expect(r[1]).toBe(code('ZZ'));
    for (let i = 2; i < 13; i++) expect(r[i]).toBe(RomRig.sentinel(i));
  });
});

describe('bit routines', () => {
  const rig = new RomRig();
  const rnd = prng(5);
  const xs = [0, 1, 0x80000000, 0xffffffff, 0x00010000, 0x12345678, 0xf0f0f0f0];
  for (let i = 0; i < 50; i++) xs.push(rnd());
  // independent references: bit-by-bit loops
  const pop = (x: number): number => [...Array(32).keys()].filter((i) => (x >>> i) & 1).length;
  const rev = (x: number): number => [...Array(32).keys()].reduce((a, i) => (a | (((x >>> i) & 1) << (31 - i))) >>> 0, 0);
  const clz = (x: number): number => {
    let n = 0;
    while (n < 32 && !((x >>> (31 - n)) & 1)) n++;
    return n;
  };
  const ctz = (x: number): number => {
    let n = 0;
    while (n < 32 && !((x >>> n) & 1)) n++;
    return n;
  };
  const cases: Array<[string, (x: number) => number]> = [['P3', pop], ['R3', rev], ['L3', clz], ['T3', ctz]];
  for (const [c, ref] of cases) {
    it(`${c} matches a bit-by-bit reference and keeps r1-r12`, () => {
      for (const x of xs) {
        const r = rig.call(rig.func(c), [x]);
        expect(r[0], `${c}(${hex(x)})`).toBe(ref(x));
        for (let i = 1; i < 13; i++) expect(r[i]).toBe(RomRig.sentinel(i));
      }
    });
  }
  it('clz32(0) = ctz32(0) = 32', () => {
    expect(rig.call(rig.func('L3'), [0])[0]).toBe(32);
    expect(rig.call(rig.func('T3'), [0])[0]).toBe(32);
  });
});

describe('memory routines', () => {
  const rig = new RomRig();
  const { mcu } = rig;
  const A = 0x20010000;
  const B = 0x20020000;
  const fill = (addr: number, n: number, seed: number): number[] => {
    const rnd = prng(seed);
    const bytes = Array.from({ length: n }, () => rnd() & 0xff);
    bytes.forEach((b, i) => mcu.writeUint8(addr + i, b));
    return bytes;
  };
  const read = (addr: number, n: number): number[] => Array.from({ length: n }, (_, i) => mcu.readUint8(addr + i));
  it('memset stores the low byte n times and returns p; n = 0 is a no-op', () => {
    fill(A, 64, 1);
    const r = rig.call(rig.func('MS'), [A + 3, 0x1234, 37]);
    expect(r[0]).toBe(A + 3);
    expect(read(A + 3, 37).every((b) => b === 0x34)).toBe(true);
    const before = read(A, 64);
    rig.call(rig.func('MS'), [A, 0, 0]);
    expect(read(A, 64)).toEqual(before);
  });
  it('memset4 and memcpy44 on word-aligned buffers', () => {
    rig.call(rig.func('S4'), [A, 0xab, 16]);
    expect(read(A, 16).every((b) => b === 0xab)).toBe(true);
    const src = fill(B, 32, 2);
    expect(rig.call(rig.func('C4'), [A, B, 32])[0]).toBe(A);
    expect(read(A, 32)).toEqual(src);
  });
  it('memcpy SRAM->SRAM with any alignment, and from XIP flash', () => {
    for (const [da, sa, n] of [[0, 0, 100], [1, 2, 77], [3, 0, 5], [2, 1, 1]] as const) {
      const src = fill(B + sa, n, 3 + da);
      const r = rig.call(rig.func('MC'), [A + da, B + sa, n]);
      expect(r[0]).toBe(A + da);
      expect(read(A + da, n)).toEqual(src);
    }
    for (let i = 0; i < 64; i++) mcu.flash[0x12c000 + i] = (i * 7) & 0xff;
    rig.call(rig.func('MC'), [A + 1, 0x1012c000, 64]);
    expect(read(A + 1, 64)).toEqual(Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff));
  });
  it('memcpy and memset reach USB DPRAM through the bus with 32-bit writes', () => {
    const words: Array<[number, number]> = [];
    const usb = mcu.usbCtrl as unknown as { DPRAMUpdated(o: number, v: number): void };
    const orig = usb.DPRAMUpdated.bind(usb);
    usb.DPRAMUpdated = (o: number, v: number) => {
      words.push([o, v >>> 0]);
      orig(o, v);
    };
    const src = fill(B, 16, 9);
    rig.call(rig.func('MC'), [0x50100100, B, 16]);
    expect(Array.from(mcu.usbDPRAM.subarray(0x100, 0x110))).toEqual(src);
    expect(words.map((w) => w[0])).toEqual([0x100, 0x104, 0x108, 0x10c]);
    rig.call(rig.func('MS'), [0x50100200, 0x5a, 8]);
    expect(Array.from(mcu.usbDPRAM.subarray(0x200, 0x208))).toEqual(Array(8).fill(0x5a));
    usb.DPRAMUpdated = orig;
  });
  it('keeps r3-r12 (only r0 is a result)', () => {
    const r = rig.call(rig.func('MC'), [A, B, 8]);
    for (let i = 3; i < 13; i++) expect(r[i]).toBe(RomRig.sentinel(i));
  });
});

describe('flash routines', () => {
  const FLASH = 0x200000;
  function freshRig(): RomRig {
    const rig = new RomRig();
    rig.mcu.flash.fill(0x00, 0, FLASH); // all bits programmed: erased bytes become visible as 0xFF
    rig.ev.flashWrites.length = 0;
    return rig;
  }
  const erased = (rig: RomRig, from: number, to: number): boolean => rig.mcu.flash.subarray(from, to).every((b) => b === 0xff);
  const zero = (rig: RomRig, from: number, to: number): boolean => rig.mcu.flash.subarray(from, to).every((b) => b === 0);
  it('RE erases 4 KB sectors and 64 KB blocks exactly as the ROM loop does', () => {
    const rig = freshRig();
    // offset 0x1F000, count 0x22000 with 64 KB blocks: sector 0x1F000, block 0x20000, block 0x30000, sector 0x40000
    rig.call(rig.func('RE'), [0x1f000, 0x22000, 0x10000, 0xd8]);
    expect(zero(rig, 0, 0x1f000)).toBe(true);
    expect(erased(rig, 0x1f000, 0x41000)).toBe(true);
    expect(zero(rig, 0x41000, FLASH)).toBe(true);
    expect(rig.ev.flashWrites).toEqual([[0x1f000, 0x22000]]);
  });
  it('RE with an unaligned start erases the containing sectors', () => {
    const rig = freshRig();
    // offset advances by 4096 from 0x1800: 0x1800 < 0x2800 erases sector 0x1000, then 0x2800 stops
    rig.call(rig.func('RE'), [0x1800, 0x1000, 0x10000, 0xd8]);
    expect(zero(rig, 0, 0x1000)).toBe(true);
    expect(erased(rig, 0x1000, 0x2000)).toBe(true);
    expect(zero(rig, 0x2000, 0x4000)).toBe(true);
    // one more byte: 0x2800 < 0x2801 erases sector 0x2000 too
    rig.call(rig.func('RE'), [0x5800, 0x1001, 0x10000, 0xd8]);
    expect(zero(rig, 0x4000, 0x5000)).toBe(true);
    expect(erased(rig, 0x5000, 0x7000)).toBe(true);
    expect(zero(rig, 0x7000, 0x8000)).toBe(true);
  });
  it('RE wraps at 2 MB and survives block_size 0', () => {
    const rig = freshRig();
    rig.call(rig.func('RE'), [0x200000 + 0x5000, 0x1000, 0x10000, 0xd8]);
    expect(erased(rig, 0x5000, 0x6000)).toBe(true);
    expect(zero(rig, 0x6000, 0x7000)).toBe(true);
    rig.call(rig.func('RE'), [0x8000, 0x2000, 0, 0xd8]);
    expect(erased(rig, 0x8000, 0xa000)).toBe(true);
    expect(zero(rig, 0xa000, 0xb000)).toBe(true);
  });
  it('RP ANDs whole 256-byte pages from the source buffer', () => {
    const rig = freshRig();
    rig.mcu.flash.fill(0xff, 0x1000, 0x2000);
    const src = 0x20030000;
    for (let i = 0; i < 512; i++) rig.mcu.writeUint8(src + i, (i * 13 + 1) & 0xff);
    rig.call(rig.func('RP'), [0x1100, src, 100]); // count rounds up to one page
    const f = rig.mcu.flash;
    for (let i = 0; i < 256; i++) expect(f[0x1100 + i]).toBe((i * 13 + 1) & 0xff);
    expect(f[0x1200]).toBe(0xff);
    // programming again ANDs
    for (let i = 0; i < 256; i++) rig.mcu.writeUint8(src + i, 0x0f);
    rig.call(rig.func('RP'), [0x1100, src, 256]);
    for (let i = 0; i < 256; i++) expect(f[0x1100 + i]).toBe((i * 13 + 1) & 0x0f);
    expect(rig.ev.flashWrites).toEqual([[0x1100, 256], [0x1100, 256]]);
  });
  it('IF/EX/FC/CX return without touching flash; flash time is charged to the core', () => {
    const rig = freshRig();
    for (const c of ['IF', 'EX', 'FC', 'CX']) rig.call(rig.func(c), []);
    expect(zero(rig, 0, FLASH)).toBe(true);
    const before = rig.mcu.core.cycles;
    rig.call(rig.func('RE'), [0, 0x1000, 0x10000, 0xd8]);
    const ms = ((rig.mcu.core.cycles - before) / rig.mcu.clkSys) * 1000;
    expect(ms).toBeGreaterThan(20);
    expect(ms).toBeLessThan(500);
  });
});

describe('non-returning entries and BKPT dispatch', () => {
  it('UB reports both masks and never returns', () => {
    const rig = new RomRig();
    expect(() => rig.call(rig.func('UB'), [1 << 25, 2], { maxSteps: 50 })).toThrow(/did not return/);
    expect(rig.ev.bootsel).toEqual([[1 << 25, 2]]);
    expect(rig.mcu.core.waiting).toBe(true); // asleep in the WFI loop
  });
  it('describes the BOOTSEL event in one line', () => {
    expect(describeBootsel({ gpioActivityMask: 0, disableInterfaceMask: 0 })).toBe('the board asked for BOOTSEL (USB boot) mode');
    expect(describeBootsel({ gpioActivityMask: 1 << 25, disableInterfaceMask: 3 })).toBe(
      'the board asked for BOOTSEL (USB boot) mode (activity LED on GPIO25, mass storage disabled, PICOBOOT disabled)',
    );
  });
  it('BKPTs outside the ROM stubs are not ours', () => {
    const rig = new RomRig();
    const at = 0x20000100;
    rig.mcu.writeUint16(at, 0xbe00); // BKPT #0 in SRAM (like MicroPython's exit handler)
    rig.mcu.core.PC = at;
    rig.mcu.core.executeInstruction();
    expect(rig.ev.foreignBreaks).toEqual([0]);
    // the debug trampoline's BKPT #0 is a debugger trap, not a ROM routine
    const de = rig.func('DE') & ~1;
    rig.mcu.core.PC = de;
    rig.mcu.core.executeInstruction();
    expect(rig.ev.foreignBreaks).toEqual([0, 0]);
  });
  it('DT calls r7 with r0-r3 and traps at DE', () => {
    const rig = new RomRig();
    const fn = 0x20000200;
    rig.mcu.writeUint16(fn, 0x1840); // adds r0, r0, r1
    rig.mcu.writeUint16(fn + 2, 0x4770); // bx lr
    const core = rig.mcu.core;
    core.registers[7] = fn | 1;
    core.registers[0] = 5;
    core.registers[1] = 7;
    core.PC = rig.func('DT') & ~1;
    for (let i = 0; i < 4; i++) core.executeInstruction();
    expect(core.registers[0]).toBe(12);
    expect(rig.ev.foreignBreaks).toEqual([0]);
    expect(core.PC - 2).toBe(rig.func('DE') & ~1);
  });
  it('CPU writes into the ROM are ignored once the guard is installed', () => {
    const rig = new RomRig();
    rig.hle.installRomWriteGuard(rig.mcu);
    const w = rig.mcu.bootrom[0x100]!;
    rig.mcu.writeUint32(0x400, 0xdeadbeef);
    rig.mcu.writeUint8(0x401, 0x12);
    rig.mcu.writeUint16(0x402, 0x3456);
    expect(rig.mcu.bootrom[0x100]).toBe(w);
    expect(rig.ev.logs.some((l) => /ROM address 0x00000400 ignored/.test(l))).toBe(true);
    rig.mcu.writeUint32(0x20000000, 0x11223344); // other memory still works
    expect(rig.mcu.readUint32(0x20000000)).toBe(0x11223344);
  });
  it('--trace bootrom logs each call with its arguments and result', () => {
    const rig = new RomRig({}, true);
    rig.call(rig.func('P3'), [0xff]);
    expect(rig.ev.logs.some((l) => l.startsWith('[bootrom]') && l.includes('0x000000ff') && l.includes('r0=0x00000008'))).toBe(true);
  });
});
