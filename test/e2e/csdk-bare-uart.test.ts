/**
 * A program of our own, without the Pico SDK and without any REPL: a second-stage boot that
 * points VTOR at the application, and an application that sets up UART0 from its registers
 * (115200 8N1), prints two lines and then ends the way the SDK's `exit()` does when `main`
 * returns (a BKPT with the status in r0). Assembled from source with Debian's
 * binutils-arm-none-eabi (boot2 and the build: `test/helpers/arm-asm.ts`); the test skips when
 * the assembler is not installed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import type { BoardEvent } from '../../sim/board/device.ts';
import { FLASH_PROLOGUE, assembleFlashProgram, haveBinutils } from '../helpers/arm-asm.ts';
import { runCli, type Run } from '../helpers/cli.ts';
import { fromBinary } from '../helpers/uf2-builder.ts';

const MESSAGE = 'hello from UART0\r\nmain returns 3\r\n';

/** RP2040 datasheet: RESETS (§2.14), IO_BANK0 GPIO0_CTRL (§2.19.6), PL011 UART0 (§4.2). */
const SOURCE = `${FLASH_PROLOGUE}
reset:
    ldr r0, =0x4000f000         @ RESETS_RESET, atomic clear alias
    ldr r1, =(1 << 22) | (1 << 8) | (1 << 5)   @ UART0, PADS_BANK0, IO_BANK0
    str r1, [r0]
    ldr r0, =0x4000c008         @ RESETS_RESET_DONE
1:  ldr r3, [r0]
    ands r3, r1
    cmp r3, r1
    bne 1b
    ldr r0, =0x40014004         @ GPIO0_CTRL: function 2 = UART0 TX
    movs r1, #2
    str r1, [r0]
    ldr r0, =0x40034000         @ UART0
    movs r1, #67                @ UARTIBRD: 125 MHz / (16 * 115200) = 67.817
    str r1, [r0, #0x24]
    movs r1, #52                @ UARTFBRD: 0.817 * 64
    str r1, [r0, #0x28]
    movs r1, #0x70              @ UARTLCR_H: 8 bits, FIFOs on
    str r1, [r0, #0x2c]
    ldr r1, =0x301              @ UARTCR: UARTEN, TXE, RXE
    str r1, [r0, #0x30]
    ldr r2, =msg
2:  ldrb r1, [r2]
    cmp r1, #0
    beq 4f
3:  ldr r3, [r0, #0x18]         @ UARTFR
    movs r4, #0x20              @ TXFF
    tst r3, r4
    bne 3b
    str r1, [r0]                @ UARTDR
    adds r2, #1
    b 2b
4:  ldr r3, [r0, #0x18]
    movs r4, #0x08              @ BUSY: wait for the last stop bit
    tst r3, r4
    bne 4b
    movs r0, #3                 @ main's return value, as exit() has it
5:  bkpt #0
    b 5b
    .ltorg
msg:
    .asciz "${MESSAGE.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"
`;

let dir = '';
let uf2 = '';
beforeAll(() => {
  if (!haveBinutils) return;
  dir = mkdtempSync(join(tmpdir(), 'picow-bare-'));
  const { bin } = assembleFlashProgram(dir, SOURCE);
  uf2 = join(dir, 'prog.uf2');
  writeFileSync(uf2, fromBinary(new Uint8Array(readFileSync(bin))));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], limitMs = 60_000): Promise<Run> => runCli(args, limitMs);

describe.skipIf(!haveBinutils)('a bare UART-only program that returns from main', () => {
  it('streams UART0 and halts with a line that says so, exiting with the returned code', async () => {
    const r = await cli(['--firmware', uf2, '--no-server', '--timeout', '40']);
    expect(r.stdout).toBe(MESSAGE);
    expect(r.stderr).toMatch(/\npicow-sim: the program halted: .*\bBKPT\b.*\(exit code 3\)\n$/);
    expect(r.code).toBe(3);
  });

  it("the test API: waitForOutput sees UART0, on the 'uart0' console source, then the halt event", async () => {
    const board = await PicoWBoard.create({ firmware: uf2 });
    try {
      const sources = new Set<string>();
      board.on('console', (_bytes: Uint8Array, source: string) => sources.add(source));
      const halted = new Promise<BoardEvent>((res) => board.on('event', (e: BoardEvent) => e.type === 'halt' && res(e)));
      board.start();
      expect(await board.waitForOutput('main returns', { timeoutMs: 30_000 })).toBe('hello from UART0\r\nmain returns');
      const e = await halted;
      expect(e).toMatchObject({ type: 'halt', exitCode: 3 });
      expect(board.output).toBe(MESSAGE);
      expect([...sources]).toEqual(['uart0']);
      // BUSY clears after the last stop bit: 34 characters of 10 bits at the divisors' rate,
      // 125 MHz / (16 × (67 + 52/64)) = 115 207 baud (within a microsecond), plus the set-up.
      const lineNanos = (MESSAGE.length * 10 * 1e9) / (125e6 / (16 * (67 + 52 / 64)));
      expect(e.nanos).toBeGreaterThan(lineNanos - 1_000);
      expect(e.nanos).toBeLessThan(lineNanos + 100_000);
    } finally {
      board.dispose();
    }
  });

  it('--expect ends the run with exit 0 when the UART text appears; with --console usb UART0 is shown marked, beside the console', async () => {
    const seen = await cli(['--firmware', uf2, '--no-server', '--quiet', '--expect', 'hello from UART0', '--timeout', '40']);
    expect(seen.stderr).toBe('');
    expect(seen.code).toBe(0);
    expect(seen.stdout.startsWith('hello from UART0')).toBe(true);
    const usbOnly = await cli(['--firmware', uf2, '--no-server', '--console', 'usb', '--expect', 'hello from UART0', '--timeout', '40']);
    // USB never comes up, so the console is empty; UART0 is a peripheral now, its lines marked.
    expect(usbOnly.stdout.startsWith('[uart0] hello from UART0\n')).toBe(true);
    expect(usbOnly.stdout.split('\n').filter((l) => l && !l.startsWith('[uart0] '))).toEqual([]);
    expect(usbOnly.code).toBe(0);
  });
});
