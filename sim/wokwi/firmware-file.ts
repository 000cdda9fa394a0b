/**
 * The firmware files a Wokwi project may name for a Raspberry Pi Pico: a UF2, a raw flash image
 * (`.bin`, placed at the start of flash) or an ELF (its loadable segments whose load address is in
 * flash; ELF32 little-endian, System V ABI "Program Header" table).
 */
import { readFileSync } from 'node:fs';
import { FirmwareError } from '../errors.ts';
import { FLASH_BASE, FLASH_SIZE, parseUf2, type Uf2Image } from '../board/uf2.ts';

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const PT_LOAD = 1;
const EM_ARM = 40;

function image(flash: Uint8Array, end: number): Uf2Image {
  return { flash, end, blockCount: 0, familyId: null };
}

export function parseBin(data: Uint8Array, name: string): Uf2Image {
  if (data.length === 0) throw new FirmwareError(name, 'the file is empty');
  if (data.length > FLASH_SIZE) throw new FirmwareError(name, `${data.length} bytes do not fit in the Pico W's 2 MB flash`);
  const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
  flash.set(data);
  return image(flash, data.length);
}

export function parseElf(data: Uint8Array, name: string): Uf2Image {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 52 || v.getUint32(0, true) !== ELF_MAGIC) throw new FirmwareError(name, 'not an ELF file');
  if (data[4] !== 1 || data[5] !== 1) throw new FirmwareError(name, 'not a 32-bit little-endian ELF (the RP2040 is ARMv6-M)');
  if (v.getUint16(18, true) !== EM_ARM) throw new FirmwareError(name, 'not an ARM ELF');
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 32 > data.length) throw new FirmwareError(name, 'truncated program header table');
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    const offset = v.getUint32(o + 4, true);
    const paddr = v.getUint32(o + 12, true);
    const filesz = v.getUint32(o + 16, true);
    if (filesz === 0 || paddr < FLASH_BASE || paddr >= FLASH_BASE + FLASH_SIZE) continue;
    if (offset + filesz > data.length) throw new FirmwareError(name, 'a segment runs past the end of the file');
    if (paddr - FLASH_BASE + filesz > FLASH_SIZE) throw new FirmwareError(name, 'a segment does not fit in the 2 MB flash');
    flash.set(data.subarray(offset, offset + filesz), paddr - FLASH_BASE);
    end = Math.max(end, paddr - FLASH_BASE + filesz);
  }
  if (end === 0) throw new FirmwareError(name, 'no loadable segment in flash (0x10000000…)');
  return image(flash, end);
}

/** Load a project's firmware by its file type (.uf2, .bin, .elf; other names are tried as UF2). */
export function loadFirmwareFile(path: string): Uf2Image {
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new FirmwareError(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lower = path.toLowerCase();
  if (lower.endsWith('.bin')) return parseBin(data, path);
  if (lower.endsWith('.elf') || (data.length >= 4 && new DataView(data.buffer, data.byteOffset).getUint32(0, true) === ELF_MAGIC)) return parseElf(data, path);
  if (lower.endsWith('.hex')) throw new FirmwareError(path, 'Intel HEX firmware is not supported; give the .uf2, .bin or .elf');
  return parseUf2(data, path);
}
