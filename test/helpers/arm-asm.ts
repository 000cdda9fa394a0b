/**
 * Building tiny RP2040 programs from assembly source in tests, with Debian's binutils-arm-none-eabi
 * (tests skip when it is missing): an ELF linked at the start of flash and its flash image with
 * boot2's CRC in place (in both files, so either boots).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32Mpeg2, sealBoot2 } from './uf2-builder.ts';

export const haveBinutils = ['arm-none-eabi-as', 'arm-none-eabi-ld', 'arm-none-eabi-objcopy'].every(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
);

/** Assemble `source` in `dir` into `NAME.elf` and `NAME.bin`; returns their paths. */
export function assembleFlashProgram(dir: string, source: string, name = 'prog'): { elf: string; bin: string } {
  writeFileSync(join(dir, `${name}.s`), source);
  const run = (tool: string, args: string[]): void => {
    const r = spawnSync(tool, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
  };
  run('arm-none-eabi-as', ['-mcpu=cortex-m0plus', '-mthumb', `${name}.s`, '-o', `${name}.o`]);
  run('arm-none-eabi-ld', ['-Ttext=0x10000000', '-e', '_start', `${name}.o`, '-o', `${name}.elf`]);
  run('arm-none-eabi-objcopy', ['-O', 'binary', `${name}.elf`, `${name}.bin`]);
  const bin = sealBoot2(new Uint8Array(readFileSync(join(dir, `${name}.bin`))));
  writeFileSync(join(dir, `${name}.bin`), bin);
  // The ELF's copy of the first flash bytes gets the same CRC.
  const elf = new Uint8Array(readFileSync(join(dir, `${name}.elf`)));
  const at = Buffer.from(elf).indexOf(Buffer.from(bin.subarray(0, 64)));
  if (at < 0) throw new Error('boot2 not found in the ELF');
  new DataView(elf.buffer).setUint32(at + 252, crc32Mpeg2(bin.subarray(0, 252)), true);
  writeFileSync(join(dir, `${name}.elf`), elf);
  return { elf: join(dir, `${name}.elf`), bin: join(dir, `${name}.bin`) };
}
