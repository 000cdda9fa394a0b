import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FirmwareError } from '../../sim/errors.ts';
import { loadUf2File, parseUf2 } from '../../sim/board/uf2.ts';
import { block, concat, image } from '../helpers/uf2-builder.ts';

const err = (data: Uint8Array): string => {
  try {
    parseUf2(data, 'fw.uf2');
  } catch (e) {
    expect(e).toBeInstanceOf(FirmwareError);
    return (e as Error).message;
  }
  throw new Error('expected parseUf2 to reject');
};

describe('UF2 loader', () => {
  it('places every block at its target address', () => {
    const img = parseUf2(image(3), 'fw.uf2');
    expect(img.blockCount).toBe(3);
    expect(img.end).toBe(768);
    expect(img.flash[0]).toBe(0);
    expect(img.flash[256]).toBe(1);
    expect(img.flash[767]).toBe(2);
    expect(img.flash[768]).toBe(0xff);
    expect(img.familyId).toBe(0xe48bff56);
  });

  it('accepts blocks without a family ID', () => {
    const img = parseUf2(image(2, { flags: 0, family: 0 }), 'fw.uf2');
    expect(img.familyId).toBeNull();
    expect(img.flash[256]).toBe(1);
  });

  it('skips not-main-flash blocks', () => {
    const data = concat([block({ flags: 1, target: 0, size: 10, blockNo: 0, numBlocks: 1 }), image(1)]);
    expect(parseUf2(data, 'fw.uf2').blockCount).toBe(1);
  });

  it('rejects an empty file, garbage and truncation, naming the file', () => {
    expect(err(new Uint8Array(0))).toMatch(/^fw\.uf2: the file is empty/);
    expect(err(new Uint8Array(512).fill(0x41))).toMatch(/^fw\.uf2: not a UF2 file/);
    expect(err(image(4).subarray(0, 1000))).toMatch(/truncated UF2: 1000 bytes/);
    expect(err(image(4).subarray(0, 1024))).toMatch(/truncated or incomplete UF2: the header counts 4 blocks, the file holds 2/);
    expect(err(concat([image(4).subarray(0, 1024), image(4).subarray(0, 1024)]))).toMatch(/duplicate block number 0/);
    const note = block({ flags: 1, target: 0, size: 10, blockNo: 0, numBlocks: 1 });
    expect(err(concat([image(4).subarray(0, 512), note, image(4).subarray(1024)]))).toMatch(/3 of 4 blocks present \(missing block 1\)/);
  });

  it('a header claiming 2^32 - 1 blocks is an error at once, not a 4 GiB allocation', () => {
    const before = process.memoryUsage().arrayBuffers;
    expect(err(image(1, { numBlocks: 0xffffffff }))).toMatch(/the header counts 4294967295 blocks, the file holds 1/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it('checks both start magics and the end magic of every block', () => {
    expect(err(concat([image(1), block({ target: 0x10000100, size: 256, blockNo: 1, numBlocks: 2, magic1: 0 })]))).toMatch(
      /block 1 .*bad start magic/,
    );
    expect(err(block({ target: 0x10000000, size: 256, blockNo: 0, numBlocks: 1, magicEnd: 0 }))).toMatch(
      /block 0 .*bad end magic/,
    );
  });

  it('rejects RP2350 and other families', () => {
    expect(err(image(1, { family: 0xe48bff59 }))).toMatch(/RP2350 ARM secure \(0xe48bff59\), not for the RP2040/);
    expect(err(image(1, { family: 0x1c5f21b0 }))).toMatch(/ESP32/);
    expect(err(image(1, { family: 0x12345678 }))).toMatch(/unknown family 0x12345678/);
  });

  it('checks flags, addresses, payload size and block numbering', () => {
    expect(err(image(1, { flags: 0x2000 | 0x10 }))).toMatch(/unknown flags/);
    expect(err(image(1, { flags: 0x1000 }))).toMatch(/file-container/);
    expect(err(image(1, { target: 0x20000000 }))).toMatch(/outside the 2 MB flash window/);
    expect(err(image(1, { target: 0x101fff80 }))).toMatch(/outside the 2 MB flash window/);
    expect(err(image(1, { size: 477 }))).toMatch(/payload size 477/);
    expect(err(image(1, { size: 0 }))).toMatch(/payload size 0/);
    const dup = concat([image(2).subarray(0, 512), image(2).subarray(0, 512)]);
    expect(err(dup)).toMatch(/duplicate block number 0/);
    expect(err(concat([image(1), block({ target: 0x10000100, size: 256, blockNo: 1, numBlocks: 3 })]))).toMatch(
      /block count 3 differs/,
    );
    expect(err(image(1, { blockNo: 5 }))).toMatch(/block number 5 is not below the block count 1/);
  });

  it('reports a missing file and a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uf2-'));
    expect(() => loadUf2File(join(dir, 'nope.uf2'))).toThrow(/nope\.uf2: file not found/);
    expect(() => loadUf2File(dir)).toThrow(/is a directory/);
    writeFileSync(join(dir, 'ok.uf2'), image(2));
    expect(loadUf2File(join(dir, 'ok.uf2')).blockCount).toBe(2);
  });
});
