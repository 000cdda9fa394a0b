/**
 * Translated code follows changes to the memory it came from: stores by translated code into
 * its own SRAM, stores by the interpreter or any caller of the chip's write methods, writes to
 * flash behind rp2040js's back announced with `invalidateTranslations` (erase/program, XIP
 * flush). The translation cache is capped and evicts.
 */
import type { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import { TRANSLATION_WINDOW_CYCLES, invalidateTranslations, sharedCodeState } from '../../sim/cpu/cache.ts';
import { createCpuEngine } from '../../sim/cpu/engine.ts';
import { chipWithCode, diffCores, quietChip, writeHalfwords } from './cpu-harness.ts';

const BASE = 0x20000400;

describe('translation invalidation', () => {
  it('a loop that rewrites its own immediate sees the new instruction at once, as the interpreter does', () => {
    // loop: adds r0, #1; strh r2, [r1, #0]; subs r3, #1; bne loop; b .
    // r1 points at the `adds` itself; r2 holds `adds r0, #2`: after the first pass the loop adds 2.
    const code = [0x3001, 0x800a, 0x3b01, 0xd1fb, 0xe7fe];
    const results: number[][] = [];
    for (const kind of ['interp', 'jit'] as const) {
      const m = chipWithCode(BASE, code, { 0: 0, 1: BASE, 2: 0x3002, 3: 1000 });
      const r = m.core.registers;
      const e = createCpuEngine(kind, m, { hotThreshold: 1 });
      let n = 0;
      while (n < 20000) n += e.run(997);
      results.push([r[0]!, r[3]!, r[15]!, Number(m.clock.nanos)]);
      if (kind === 'jit') expect(e.stats().invalidations).toBeGreaterThan(0);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]![0]).toBe(1 + 2 * 999);
  });

  /**
   * `first; movs r0, #5; b .` at BASE, where running `first` (set up by `arm`) turns the movs into
   * `movs r0, #7` behind the chip's back and announces it: r0 under interp and under jit.
   */
  const afterRewrite = (first: number, arm: (m: RP2040, rewrite: () => void) => void): number[] =>
    (['interp', 'jit'] as const).map((kind) => {
      const m = quietChip();
      writeHalfwords(m, BASE, [first, 0x2005, 0xe7fe]);
      arm(m, () => {
        writeHalfwords(m, BASE + 2, [0x2007]);
        invalidateTranslations(m, BASE + 2, 2);
      });
      m.core.registers[15] = BASE;
      const e = createCpuEngine(kind, m, { hotThreshold: 1, tickClock: false });
      e.run(50);
      if (kind === 'jit') expect(e.stats().translatedInstructions).toBeGreaterThan(0);
      return m.core.registers[0]!;
    });

  it('a BKPT routine that rewrites the code after it (as the ROM memcpy can) is not followed by the old translation', () => {
    const r0 = afterRewrite(0xbe01, (m, rewrite) => {
      m.onBreak = rewrite;
    });
    expect(r0).toEqual([7, 7]);
  });

  it('a peripheral store whose side effect rewrites the code after it is not followed by the old translation', () => {
    // str r1, [r2, #0] with r2 a peripheral register whose write (like a DMA transfer it starts)
    // rewrites the code.
    const r0 = afterRewrite(0x6011, (m, rewrite) => {
      const write = m.writeUint32;
      m.writeUint32 = function (this: RP2040, address: number, value: number): void {
        write.call(this, address, value);
        if (address >>> 0 === 0x40058000) rewrite();
      };
      m.core.registers[2] = 0x40058000;
    });
    expect(r0).toEqual([7, 7]);
  });

  it('code patched through the chip write methods or announced as changed (flash program) is retranslated', () => {
    const m = quietChip();
    // Flash: movs r0, #5; b .   (XIP alias 0x10000000)
    const put = (hw: number[]): void => {
      for (let i = 0; i < hw.length; i++) {
        m.flash[2 * i] = hw[i]! & 0xff;
        m.flash[2 * i + 1] = hw[i]! >> 8;
      }
    };
    put([0x2005, 0xe7fe]);
    const r = m.core.registers;
    const e = createCpuEngine('jit', m, { hotThreshold: 1 });
    const runFrom = (pc: number): number => {
      r[15] = pc;
      r[0] = 0;
      e.run(100);
      return r[0]!;
    };
    expect(runFrom(0x10000000)).toBe(5);
    expect(e.stats().blocks).toBeGreaterThan(0);
    // The bootrom programs flash directly and announces it: the translation goes.
    put([0x2007, 0xe7fe]);
    expect(invalidateTranslations(m, 0x10000000, 4)).toBeGreaterThan(0);
    expect(runFrom(0x10000000)).toBe(7);
    // Through an alias of the same flash (XIP_NOCACHE_NOALLOC), then patched via writeUint32.
    expect(runFrom(0x13000000)).toBe(7);
    m.writeUint32(0x10000000, 0xe7fe2009);
    expect(runFrom(0x13000000)).toBe(9);
    expect(runFrom(0x10000000)).toBe(9);
    // SRAM code patched by a DMA-like writer through the chip's write methods.
    writeHalfwords(m, BASE, [0x2003, 0xe7fe]);
    expect(runFrom(BASE)).toBe(3);
    m.writeUint16(BASE, 0x2004);
    expect(runFrom(BASE)).toBe(4);
    // Every store width into translated SRAM code, through the chip (as the interpreter stores).
    m.writeUint8(BASE, 0x06);
    expect(runFrom(BASE)).toBe(6);
    m.writeUint32(BASE, 0xe7fe2008);
    expect(runFrom(BASE)).toBe(8);
    expect(m.readUint32(BASE)).toBe(0xe7fe2008);
    // A halfword store into the word after the block's code leaves the translation alone.
    const blocks = e.stats().invalidations;
    m.writeUint16(BASE + 8, 0x1234);
    expect(e.stats().invalidations).toBe(blocks);
    expect(m.readUint16(BASE + 8)).toBe(0x1234);
    // Changed behind the chip's back and announced (as the ROM's memcpy does): a range next to
    // the code changes nothing, one over it drops the translation.
    writeHalfwords(m, BASE, [0x2011, 0xe7fe]);
    expect(invalidateTranslations(m, BASE + 8, 16)).toBe(0);
    expect(invalidateTranslations(m, BASE + 2, 2)).toBeGreaterThan(0);
    expect(runFrom(BASE)).toBe(0x11);
  });

  it('keeps the cache under its cap by evicting old blocks', () => {
    const m = quietChip();
    // 400 little blocks: movs r0, #i; b next
    const code: number[] = [];
    for (let i = 0; i < 400; i++) code.push(0x2000 | (i & 0xff), 0xe7ff);
    code.push(0xe7fe);
    writeHalfwords(m, BASE, code);
    const e = createCpuEngine('jit', m, { hotThreshold: 1, maxBlocks: 64, maxBlockInstructions: 1, maxTranslationsPerWindow: 0 });
    m.core.registers[15] = BASE;
    e.run(5000);
    const s = e.stats();
    expect(s.blocks).toBeLessThanOrEqual(64);
    expect(s.evictions).toBeGreaterThan(0);
    expect(s.cacheBytes).toBeGreaterThan(0);
    expect(m.core.registers[0]).toBe(399 & 0xff);
  });

  it('translates only what is entered often within a counting window', () => {
    // A loop over 40 little blocks (123 cycles a pass): movs r0, #i; b over two nops (a branch,
    // so the next block's entry is a leader) … adds r1, #1; b BASE. Each entry is reached once a pass.
    const code: number[] = [];
    for (let i = 0; i < 40; i++) code.push(0x2000 | i, 0xe001, 0xbf00, 0xbf00);
    code.push(0x3101, 0xe000 | (-(4 * 40 + 3) & 0x7ff));
    const translations = (hotWindowCycles: number): number => {
      const m = quietChip();
      writeHalfwords(m, BASE, code);
      m.core.registers[15] = BASE;
      const e = createCpuEngine('jit', m, { hotThreshold: 4, hotWindowCycles, maxBlockInstructions: 2, maxTranslationsPerWindow: 0, tickClock: false });
      for (let k = 0; k < 20; k++) e.run(10_000);
      return e.stats().translations;
    };
    expect(translations(300)).toBe(0); // at most 3 entries per window
    expect(translations(3_000)).toBeGreaterThanOrEqual(41); // about 24
    expect(translations(0)).toBeGreaterThanOrEqual(41);
  });

  it('spreads translations over simulated time: a budget per window of core cycles, hottest first', () => {
    const m = quietChip();
    // A loop over 40 little blocks: movs r0, #i; b next (×40); adds r1, #1; b BASE
    const code: number[] = [];
    for (let i = 0; i < 40; i++) code.push(0x2000 | i, 0xe7ff);
    code.push(0x3101, 0xe000 | (-(2 * 40 + 3) & 0x7ff));
    writeHalfwords(m, BASE, code);
    const e = createCpuEngine('jit', m, { hotThreshold: 2, maxBlockInstructions: 2, maxTranslationsPerWindow: 5, tickClock: false });
    m.core.registers[15] = BASE;
    let runs = 1;
    e.run(100_000);
    expect(e.stats().translations).toBe(5);
    for (; m.core.cycles < TRANSLATION_WINDOW_CYCLES + 200_000; runs++) e.run(100_000);
    expect(e.stats().translations).toBe(10);
    for (; m.core.cycles < 9 * TRANSLATION_WINDOW_CYCLES; runs++) e.run(100_000);
    // By now every entry of the loop is translated (and a few where a run() ended mid-block).
    const cache = [...sharedCodeState(m).caches][0]!;
    for (let k = 0; k <= 40; k++) expect(cache.lookup(BASE + 4 * k), `block ${k}`).toBeDefined();
    expect(e.stats().translations).toBeLessThanOrEqual(9 * 5);
    // The same run as the interpreter's.
    const ref = quietChip();
    writeHalfwords(ref, BASE, code);
    ref.core.registers[15] = BASE;
    const i = createCpuEngine('interp', ref, { tickClock: false });
    for (let k = 0; k < runs; k++) i.run(100_000);
    expect(diffCores(ref.core, m.core)).toEqual([]);
    expect(m.core.registers[1]).toBeGreaterThan(100_000);
  });
});
