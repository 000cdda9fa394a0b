/**
 * Building tiny RP2040 programs from assembly source in tests, with Debian's binutils-arm-none-eabi
 * (tests skip when it is missing): an ELF linked at the start of flash and its flash image with
 * boot2's CRC in place (in both files, so either boots).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32Mpeg2, sealBoot2 } from './uf2-builder.ts';

/**
 * The start of a flash program: boot2 (run by the bootrom from SRAM) points VTOR at the vector table
 * at 0x10000100, loads SP and jumps to `reset`, which the program defines next (at 0x100001c0).
 */
export const FLASH_PROLOGUE = `
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .text
    .global _start
    .thumb_func
_start:
    ldr r0, =0x10000100         @ the application's vector table in XIP flash
    ldr r1, =0xe000ed08         @ VTOR
    str r0, [r1]
    ldr r1, [r0]
    msr msp, r1
    ldr r1, [r0, #4]
    bx r1
    .ltorg
    .org 0x100
    .word 0x20042000
    .word reset
    .org 0x1c0
    .thumb_func`;

export const haveBinutils = ['arm-none-eabi-as', 'arm-none-eabi-ld', 'arm-none-eabi-objcopy'].every(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
);

/** Run one of the toolchain's programs in `dir`; its stderr in the error when it fails. */
export function runTool(dir: string, tool: string, args: string[]): void {
  const r = spawnSync(tool, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
}

/** Assemble `source` in `dir` into `NAME.elf` and `NAME.bin`; returns their paths. */
export function assembleFlashProgram(dir: string, source: string, name = 'prog'): { elf: string; bin: string } {
  writeFileSync(join(dir, `${name}.s`), source);
  const run = (tool: string, args: string[]): void => runTool(dir, tool, args);
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
