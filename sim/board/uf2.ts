import { readFileSync, statSync } from 'node:fs';
import { FirmwareError } from '../errors.ts';
import { FLASH_BASE, FLASH_SIZE } from './memory-map.ts';

/** UF2 format (github.com/microsoft/uf2, "File format"): 512-byte blocks, little endian. */
export const UF2_BLOCK_SIZE = 512;
export const UF2_MAGIC_START0 = 0x0a324655; // "UF2\n"
export const UF2_MAGIC_START1 = 0x9e5d5157;
export const UF2_MAGIC_END = 0x0ab16f30;
/** Flags (UF2 spec "Flags"). */
export const UF2_FLAG_NOT_MAIN_FLASH = 0x00000001;
export const UF2_FLAG_FILE_CONTAINER = 0x00001000;
export const UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000;
export const UF2_FLAG_MD5_PRESENT = 0x00004000;
export const UF2_FLAG_EXTENSION_TAGS = 0x00008000;
const UF2_KNOWN_FLAGS =
  UF2_FLAG_NOT_MAIN_FLASH |
  UF2_FLAG_FILE_CONTAINER |
  UF2_FLAG_FAMILY_ID_PRESENT |
  UF2_FLAG_MD5_PRESENT |
  UF2_FLAG_EXTENSION_TAGS;
/** Payload area of a block: 476 bytes after the 32-byte header. */
export const UF2_MAX_PAYLOAD = 476;

/** Family IDs (uf2families.json). */
export const FAMILY_RP2040 = 0xe48bff56;
const KNOWN_FAMILIES: Record<number, string> = {
  0xe48bff56: 'RP2040',
  0xe48bff57: 'RP2XXX absolute',
  0xe48bff58: 'RP2XXX data',
  0xe48bff59: 'RP2350 ARM secure',
  0xe48bff5a: 'RP2350 RISC-V',
  0xe48bff5b: 'RP2350 ARM non-secure',
  0x1c5f21b0: 'ESP32',
  0xbfdd4eee: 'ESP32-S2',
  0xc47e5767: 'ESP32-S3',
  0xada52840: 'nRF52840',
  0x68ed2b88: 'SAMD21',
  0x55114460: 'SAMD51',
  0x57755a57: 'STM32F4',
};

/** RP2040 datasheet §2.2: XIP flash window; the Pico W carries 2 MB. */
export { FLASH_BASE, FLASH_SIZE };

/**
 * Largest UF2 file read: a 2 MB flash written 256 bytes per block (the usual layout) is 8192
 * blocks, 4 MiB; anything past 16 MiB cannot be a Pico W firmware.
 */
export const UF2_MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface Uf2Image {
  /** Bytes to place in flash, offset from FLASH_BASE; untouched bytes are 0xFF. */
  readonly flash: Uint8Array;
  /** Highest flash offset written + 1. */
  readonly end: number;
  readonly blockCount: number;
  readonly familyId: number | null;
}

function familyName(id: number): string {
  const name = KNOWN_FAMILIES[id];
  return name ? `${name} (0x${id.toString(16)})` : `unknown family 0x${id.toString(16)}`;
}

/**
 * Parse and check a UF2 image for the RP2040. `name` is used in error messages (the file name).
 * Throws FirmwareError naming the file and the first problem found.
 */
export function parseUf2(data: Uint8Array, name: string): Uf2Image {
  const fail = (reason: string): never => {
    throw new FirmwareError(name, reason);
  };
  if (data.length === 0) fail('the file is empty (expected a UF2 firmware image)');
  if (data.length % UF2_BLOCK_SIZE !== 0) {
    const whole = Math.floor(data.length / UF2_BLOCK_SIZE);
    fail(
      `truncated UF2: ${data.length} bytes is not a whole number of 512-byte blocks ` +
        `(${whole} whole blocks and ${data.length % UF2_BLOCK_SIZE} bytes left over)`,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
  const nblocks = data.length / UF2_BLOCK_SIZE;
  let numBlocks = -1;
  let familyId: number | null = null;
  let seen: Uint8Array | null = null;
  let seenCount = 0;
  let end = 0;
  let used = 0;
  for (let i = 0; i < nblocks; i++) {
    const at = i * UF2_BLOCK_SIZE;
    const where = (): string => `block ${i} (byte offset ${at})`;
    const m0 = view.getUint32(at, true);
    const m1 = view.getUint32(at + 4, true);
    const mEnd = view.getUint32(at + UF2_BLOCK_SIZE - 4, true);
    if (m0 !== UF2_MAGIC_START0 || m1 !== UF2_MAGIC_START1) {
      fail(
        i === 0
          ? 'not a UF2 file (bad magic numbers at the start of the first block)'
          : `${where()}: bad start magic numbers`,
      );
    }
    if (mEnd !== UF2_MAGIC_END) fail(`${where()}: bad end magic number`);
    const flags = view.getUint32(at + 8, true);
    if (flags & ~UF2_KNOWN_FLAGS) fail(`${where()}: unknown flags 0x${flags.toString(16)}`);
    if (flags & UF2_FLAG_NOT_MAIN_FLASH) continue; // comments/metadata: not written to flash
    if (flags & UF2_FLAG_FILE_CONTAINER) fail(`${where()}: a file-container UF2, not a firmware image`);
    const target = view.getUint32(at + 12, true);
    const size = view.getUint32(at + 16, true);
    const blockNo = view.getUint32(at + 20, true);
    const total = view.getUint32(at + 24, true);
    const family = view.getUint32(at + 28, true);
    if (flags & UF2_FLAG_FAMILY_ID_PRESENT) {
      if (family !== FAMILY_RP2040) {
        fail(
          `${where()}: firmware for ${familyName(family)}, not for the RP2040 (0xe48bff56) ` +
            `of the Pico W — download the RPI_PICO_W build`,
        );
      }
      familyId = family;
    }
    if (size === 0 || size > UF2_MAX_PAYLOAD) fail(`${where()}: payload size ${size} (must be 1..476)`);
    if (target < FLASH_BASE || target + size > FLASH_BASE + FLASH_SIZE) {
      fail(
        `${where()}: target address 0x${target.toString(16)}+${size} lies outside the ` +
          `2 MB flash window 0x10000000-0x10200000`,
      );
    }
    if (total === 0) fail(`${where()}: block count is 0`);
    if (numBlocks === -1) {
      // The header counts the blocks of this file: a count larger than the file is a truncated
      // or forged image, and must not size the bookkeeping (2^32 blocks would be 4 GiB).
      if (total > nblocks) fail(`truncated or incomplete UF2: the header counts ${total} blocks, the file holds ${nblocks}`);
      numBlocks = total;
      seen = new Uint8Array(total);
    } else if (total !== numBlocks) {
      fail(`${where()}: block count ${total} differs from the first block's ${numBlocks}`);
    }
    if (blockNo >= total) fail(`${where()}: block number ${blockNo} is not below the block count ${total}`);
    if (seen![blockNo]) fail(`${where()}: duplicate block number ${blockNo}`);
    seen![blockNo] = 1;
    seenCount++;
    flash.set(data.subarray(at + 32, at + 32 + size), target - FLASH_BASE);
    end = Math.max(end, target - FLASH_BASE + size);
    used++;
  }
  if (used === 0) fail('no blocks for main flash in this UF2');
  if (seenCount !== numBlocks) {
    const missing: number[] = [];
    for (let b = 0; b < numBlocks && missing.length < 5; b++) if (!seen![b]) missing.push(b);
    fail(
      `truncated or incomplete UF2: ${seenCount} of ${numBlocks} blocks present ` +
        `(missing block ${missing.join(', ')}${numBlocks - seenCount > missing.length ? ', ...' : ''})`,
    );
  }
  return { flash, end, blockCount: used, familyId };
}

/** Read and parse a UF2 file from disk; a missing or unreadable file is a FirmwareError too. */
export function loadUf2File(path: string): Uf2Image {
  let data: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new FirmwareError(path, 'is a directory, not a UF2 file');
    if (st.size > UF2_MAX_FILE_BYTES) {
      throw new FirmwareError(path, `${st.size} bytes is too large for a Pico W firmware (a UF2 for its 2 MB flash is at most ${UF2_MAX_FILE_BYTES} bytes)`);
    }
    data = readFileSync(path);
  } catch (e) {
    if (e instanceof FirmwareError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FirmwareError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`);
  }
  return parseUf2(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), path);
}
