/**
 * Building a bare-metal C program of our own for the RP2040 inside a test, without the Pico SDK:
 * Debian's arm-none-eabi-gcc, a linker script that puts boot2 in the first 256 bytes of flash
 * and the program after it (.data copied to SRAM by the program's start-up code, which may also
 * hold functions in `.ramfunc`), and a boot2 that points VTOR at the program's vector table
 * (`vectors`, in `.vectors`) and enters it. The UF2 comes from our own writer with boot2's CRC.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './arm-asm.ts';
import { fromBinary, sealBoot2 } from './uf2-builder.ts';

export const HAVE_ARM_GCC = ['arm-none-eabi-gcc', 'arm-none-eabi-objcopy'].every(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
);

/** boot2 (RP2040 datasheet §2.8.1): the bootrom copies these 256 bytes to SRAM and runs them. */
const BOOT2 = String.raw`
/* boot2 (§2.8.1): the bootrom copies these 256 bytes to SRAM and runs them. The program runs
 * from XIP flash as the simulator maps it; point VTOR at the vector table and enter it. */
__asm__(
    "  .pushsection .boot2, \"ax\"\n"
    "  .thumb\n"
    "  .global boot2_entry\n"
    "  .thumb_func\n"
    "boot2_entry:\n"
    "  ldr r0, =vectors\n"
    "  ldr r1, =0xe000ed08\n"
    "  str r0, [r1]\n"
    "  ldr r1, [r0]\n"
    "  msr msp, r1\n"
    "  ldr r1, [r0, #4]\n"
    "  bx r1\n"
    "  .ltorg\n"
    "  .popsection\n");
`;

/** boot2 in its 256 bytes at the start of flash, then the vector table at 0x10000100. */
const LINKER_SCRIPT = `MEMORY {
  FLASH (rx) : ORIGIN = 0x10000000, LENGTH = 2048K
  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 256K
}
ENTRY(boot2_entry)
SECTIONS {
  .boot2 : { KEEP(*(.boot2)) . = 256; } > FLASH
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .data : { __data_start = .; *(.ramfunc*) *(.data*) . = ALIGN(4); __data_end = .; } > RAM AT > FLASH
  __data_load = LOADADDR(.data);
  .bss (NOLOAD) : { __bss_start = .; *(.bss*) *(COMMON) . = ALIGN(4); __bss_end = .; } > RAM
  __stack_top = 0x20042000;
  /DISCARD/ : { *(.ARM.exidx*) *(.ARM.attributes) *(.comment) }
}
`;

export interface BareProgram {
  dir: string;
  elf: string;
  uf2: string;
  /** Remove the build folder. */
  dispose(): void;
}

/** Compile `source` (plus boot2) into an ELF and a UF2 in a new temporary folder. */
export function buildBareC(source: string, opts: { name: string; flags?: string[] }): BareProgram {
  const dir = mkdtempSync(join(tmpdir(), `picow-${opts.name}-`));
  writeFileSync(join(dir, 'prog.c'), source + BOOT2);
  writeFileSync(join(dir, 'link.ld'), LINKER_SCRIPT);
  const run = (tool: string, args: string[]): void => runTool(dir, tool, args);
  run('arm-none-eabi-gcc', [
    ...['-mcpu=cortex-m0plus', '-mthumb', ...(opts.flags ?? ['-Os']), '-nostdlib', '-ffreestanding', '-Wall', '-Wextra'],
    ...['-T', 'link.ld', 'prog.c', '-o', 'prog.elf'],
  ]);
  run('arm-none-eabi-objcopy', ['-O', 'binary', 'prog.elf', 'prog.bin']);
  const uf2 = join(dir, 'prog.uf2');
  writeFileSync(uf2, fromBinary(sealBoot2(new Uint8Array(readFileSync(join(dir, 'prog.bin'))))));
  return { dir, elf: join(dir, 'prog.elf'), uf2, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
