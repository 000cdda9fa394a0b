/**
 * `picow-sim wokwi` on a C-style program of our own (assembled here from source with Debian's
 * binutils-arm-none-eabi; skipped without it): it prints "blinky ready" on UART0, then lights an
 * LED on GP15 while a button on GP14 (to ground, internal pull-up) is pressed and prints "pressed"
 * on each press. The project is written as a Wokwi project (wokwi.toml, diagram.json, scenarios);
 * these tests go through wokwi-cli's options and every exit code.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFlashProgram, FLASH_PROLOGUE, haveBinutils } from '../helpers/arm-asm.ts';
import { runCli, type Run } from '../helpers/cli.ts';
import { parseVcd } from '../helpers/vcd.ts';

/** RP2040 datasheet: RESETS (§2.14), IO_BANK0 (§2.19.6), PADS_BANK0 (§2.19.6.3), SIO (§2.3.1.7), UART (§4.2). */
const SOURCE = `${FLASH_PROLOGUE}
reset:
    ldr r0, =0x4000f000         @ RESETS_RESET (clear alias): UART0, PADS_BANK0, IO_BANK0 out of reset
    ldr r1, =(1 << 22) | (1 << 8) | (1 << 5)
    str r1, [r0]
    ldr r0, =0x4000c008
1:  ldr r3, [r0]
    ands r3, r1
    cmp r3, r1
    bne 1b
    ldr r0, =0x40014004         @ GPIO0_CTRL = UART0 TX
    movs r1, #2
    str r1, [r0]
    ldr r0, =0x40014074         @ GPIO14_CTRL = SIO
    movs r1, #5
    str r1, [r0]
    ldr r0, =0x4001407c         @ GPIO15_CTRL = SIO
    str r1, [r0]
    ldr r0, =0x4001c03c         @ PADS GPIO14: input enable, pull-up, Schmitt
    movs r1, #0x4a
    str r1, [r0]
    ldr r0, =0xd0000024         @ GPIO_OE_SET: GP15 output
    ldr r1, =(1 << 15)
    str r1, [r0]
    ldr r0, =0x40034000         @ UART0 115200 8N1
    movs r1, #67
    str r1, [r0, #0x24]
    movs r1, #52
    str r1, [r0, #0x28]
    movs r1, #0x70
    str r1, [r0, #0x2c]
    ldr r1, =0x301
    str r1, [r0, #0x30]
    ldr r2, =ready
    bl puts
    movs r5, #1                 @ last button level: released
loop:
    ldr r3, =0xd0000004         @ GPIO_IN
    ldr r3, [r3]
    lsrs r3, r3, #14
    movs r4, #1
    ands r3, r4
    ldr r6, =0xd0000018         @ GPIO_OUT_CLR
    cmp r3, #0
    bne 6f
    ldr r6, =0xd0000014         @ GPIO_OUT_SET: pressed, LED on
6:  ldr r1, =(1 << 15)
    str r1, [r6]
    cmp r3, r5
    beq loop
    mov r5, r3
    cmp r3, #0
    bne loop
    ldr r2, =pressed
    bl puts
    b loop
puts:                           @ r0 = UART, r2 = string
2:  ldrb r1, [r2]
    cmp r1, #0
    beq 4f
3:  ldr r3, [r0, #0x18]
    movs r4, #0x20
    tst r3, r4
    bne 3b
    str r1, [r0]
    adds r2, #1
    b 2b
4:  bx lr
    .ltorg
ready:
    .asciz "blinky ready\\r\\n"
pressed:
    .asciz "pressed\\r\\n"
`;

const DIAGRAM = {
  version: 1,
  author: 'picow-sim tests',
  editor: 'wokwi',
  parts: [
    { type: 'board-pi-pico-w', id: 'pico', attrs: {} },
    { type: 'wokwi-led', id: 'led1', attrs: { color: 'green' } },
    { type: 'wokwi-resistor', id: 'r1', attrs: { value: '330' } },
    { type: 'wokwi-pushbutton', id: 'btn1', attrs: { bounce: '0' } },
  ],
  connections: [
    ['pico:GP0', '$serialMonitor:RX', '', []],
    ['pico:GP1', '$serialMonitor:TX', '', []],
    ['pico:GP15', 'r1:1', 'green', []],
    ['r1:2', 'led1:A', 'green', []],
    ['led1:C', 'pico:GND.4', 'black', []],
    ['btn1:1.l', 'pico:GP14', 'blue', []],
    ['btn1:2.l', 'pico:GND.3', 'black', []],
  ],
};

const PASSING = `name: C blinky
version: 1
steps:
  - wait-serial: "blinky ready"
  - expect-pin: { part-id: led1, name: A, value: 0 }
  - set-control: { part-id: btn1, name: pressed, value: 1 }
  - wait-pin: { part-id: led1, name: A, value: 1, timeout: 1ms }
  - wait-serial: "pressed"
  - set-control: { part-id: btn1, name: pressed, value: 0 }
  - delay: 2ms
  - expect-pin: { part-id: pico, name: GP15, value: 0 }
  - delay: 3ms
  - set-control: { part-id: btn1, name: pressed, value: 1 }
  - delay: 1ms
`;

let dir = '';
beforeAll(() => {
  if (!haveBinutils) return;
  dir = mkdtempSync(join(tmpdir(), 'wokwi-c-'));
  assembleFlashProgram(dir, SOURCE);
  writeFileSync(join(dir, 'wokwi.toml'), '# a Wokwi project\n[wokwi]\nversion = 1\nfirmware = "prog.bin"\nelf = "prog.elf"\n');
  writeFileSync(join(dir, 'diagram.json'), JSON.stringify(DIAGRAM, null, 2));
  writeFileSync(join(dir, 'pass.yaml'), PASSING);
  writeFileSync(join(dir, 'fail-pin.yaml'), 'name: wrong\nversion: 1\nsteps:\n  - wait-serial: "blinky ready"\n  - expect-pin: { part-id: led1, name: A, value: 1 }\n');
  writeFileSync(join(dir, 'fail-wait.yaml'), 'name: slow\nversion: 1\nsteps:\n  - wait-serial: "ready"\n  - wait-pin: { part-id: led1, name: A, value: 1, timeout: 5ms }\n');
  writeFileSync(join(dir, 'bad-step.yaml'), 'name: bad\nversion: 1\nsteps:\n  - wait-serial: "ready"\n  - press: btn1\n');
  writeFileSync(join(dir, 'bad-part.yaml'), 'name: bad part\nversion: 1\nsteps:\n  - set-control: { part-id: btn9, name: pressed, value: 1 }\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const wokwi = (args: string[], limitMs = 90_000): Promise<Run> => runCli(['wokwi', dir, ...args], limitMs);

describe.skipIf(!haveBinutils)('picow-sim wokwi: a C program as a Wokwi project', () => {
  it('a passing scenario exits 0; the VCD has the button, GP15 and the LED at the scenario times', async () => {
    const vcdFile = join(dir, 'pass.vcd');
    const r = await wokwi(['--scenario', 'pass.yaml', '--vcd-file', vcdFile, '--timeout', '2000']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // As wokwi-cli: a scenario line after a partial output line starts on a line of its own.
    expect(r.stdout).toMatch(/^blinky ready\r?\n\[C blinky\] Expected text matched: "blinky ready"\n/);
    expect(r.stdout).toContain('[C blinky] wait-pin led1:A == 1 (timeout 1ms)');
    expect(r.stdout).toContain('[C blinky] Scenario completed successfully');
    expect(r.stdout.match(/pressed\r\n/g)).toHaveLength(1); // bounce "0": one press, one line
    const vcd = parseVcd(readFileSync(vcdFile, 'utf8'));
    const btn = vcd.signals.get('pico.GP14')!.filter((c) => c.time > 0);
    const led = vcd.signals.get('led1.A')!.filter((c) => c.time > 0 && c.value !== 'z');
    expect(btn.map((c) => c.value)).toEqual(['1', '0', '1', '0']);
    // Released 2 + 3 ms before the second press (steps land on the next instruction boundary: a few cycles of 8 ns).
    expect(btn[3]!.time - btn[2]!.time).toBeGreaterThanOrEqual(5_000_000);
    expect(btn[3]!.time - btn[2]!.time).toBeLessThan(5_000_100);
    // The program's loop answers each button change within a few microseconds.
    const on = led.filter((c) => c.value === '1');
    expect(on).toHaveLength(2);
    for (const [i, c] of on.entries()) {
      const pressAt = btn.filter((b) => b.value === '0')[i]!.time;
      expect(c.time - pressAt).toBeGreaterThanOrEqual(0);
      expect(c.time - pressAt).toBeLessThan(20_000);
    }
  });

  it('--expect-text exits 0 with TEST PASSED; --serial-log-file keeps the bytes', async () => {
    const log = join(dir, 'serial.log');
    const r = await wokwi(['--expect-text', 'blinky ready', '--serial-log-file', log]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Expected text found: "blinky ready"\nTEST PASSED.');
    expect(readFileSync(log, 'utf8')).toBe('blinky ready\r\n');
    const quiet = await wokwi(['--expect-text', 'blinky ready', '-q']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('blinky ready\r\n');
    expect(quiet.stderr).toBe('');
  });

  it('--fail-text exits 1; the simulated timeout exits 42 or --timeout-exit-code', async () => {
    const fail = await wokwi(['--fail-text', 'ready', '-q']);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('Error: Unexpected text found: "ready"\nTEST FAILED.');
    const timeout = await wokwi(['--timeout', '20', '-q']);
    expect(timeout.code).toBe(42);
    expect(timeout.stderr).toContain('Timeout: simulation did not finish in 20ms');
    const custom = await wokwi(['--timeout', '20', '--timeout-exit-code', '7', '--expect-text', 'never printed', '-q']);
    expect(custom.code).toBe(7);
  });

  it('a failing expect-pin or wait-pin exits 1 with the simulated time and the step', async () => {
    const pin = await wokwi(['--scenario', 'fail-pin.yaml', '-q']);
    expect(pin.code).toBe(1);
    expect(pin.stderr).toMatch(/Error: \[\d+ns\] GPIO led1:A expected to be 1 but was 0 \(line 5\)/);
    const wait = await wokwi(['--scenario', 'fail-wait.yaml', '-q']);
    expect(wait.code).toBe(1);
    expect(wait.stderr).toMatch(/Error: \[\d+ns\] GPIO led1:A did not become 1 within 5ms \(line 5\)/);
    const part = await wokwi(['--scenario', 'bad-part.yaml', '-q']);
    expect(part.code).toBe(1);
    expect(part.stderr).toContain("no part with id 'btn9' in the diagram");
  });

  it('errors in the files exit 1 with the file, the line and the key, before anything runs', async () => {
    const step = await wokwi(['--scenario', 'bad-step.yaml']);
    expect(step.code).toBe(1);
    expect(step.stderr.trim()).toBe(`picow-sim: ${join(dir, 'bad-step.yaml')}:5: invalid scenario step key: press (steps: delay, wait-serial, write-serial, expect-pin, wait-pin, set-control)`);
    const missing = await wokwi(['--scenario', 'nope.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.yaml: scenario file not found');
    const bad = mkdtempSync(join(tmpdir(), 'wokwi-bad-'));
    try {
      writeFileSync(join(bad, 'wokwi.toml'), '[wokwi]\nversion = 1\nfirmware = "missing.uf2"\n');
      writeFileSync(join(bad, 'diagram.json'), JSON.stringify(DIAGRAM));
      const r = await runCli(['wokwi', bad], 30_000);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`picow-sim: ${join(bad, 'wokwi.toml')}:3: wokwi.firmware: missing.uf2 not found (looked for ${join(bad, 'missing.uf2')})`);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('--elf runs the ELF; --diagram-file takes another diagram', async () => {
    const noLed = { ...DIAGRAM, parts: DIAGRAM.parts.filter((p) => p.id !== 'led1'), connections: DIAGRAM.connections.filter((c) => !String(c[1]).startsWith('led1') && !String(c[0]).startsWith('led1')) };
    writeFileSync(join(dir, 'other.json'), JSON.stringify(noLed));
    const elf = await wokwi(['--elf', join(dir, 'prog.elf'), '--expect-text', 'blinky ready', '-q']);
    expect(elf.code).toBe(0);
    const other = await wokwi(['--diagram-file', 'other.json', '--scenario', 'fail-pin.yaml', '-q']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("no part with id 'led1' in the diagram");
  });
});
