/**
 * machine.UART with the reference firmware, on a board with jumper wires GP0–GP1 (UART0) and
 * GP4–GP5 (UART1), as MicroPython's tests/target_wiring/rp2.py asks: construction, reconfiguring,
 * write, flush at line rate, read back through the wire; and the console staying apart from the
 * UARTs while a script floods UART0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoW } from '../../sim/index.ts';
import { collect, freePort, startCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

describe.skipIf(!fw)('machine.UART through jumper wires', () => {
  let pico: PicoW;
  const uartBytes = { uart0: '', uart1: '' };
  beforeAll(async () => {
    pico = await PicoW.boot({ firmware: fw!, wires: ['GP0:GP1', 'GP4:GP5'] });
    pico.board.on('uart', (bytes: Uint8Array, source: 'uart0' | 'uart1') => {
      uartBytes[source] += Buffer.from(bytes).toString('latin1');
    });
  }, 120_000);
  afterAll(async () => {
    await pico?.dispose();
  });

  it('constructs UART(0) and UART(1) with their default pins', async () => {
    expect(await pico.exec('from machine import UART\nprint(UART(0, tx=0, rx=1))')).toBe(
      'UART(0, baudrate=115200, bits=8, parity=None, stop=1, tx=0, rx=1, txbuf=256, rxbuf=256, timeout=0, timeout_char=1, invert=None, irq=0)\n',
    );
    expect(await pico.exec('from machine import UART\nprint(UART(1, 9600))')).toMatch(/^UART\(1, baudrate=9600, bits=8, parity=None, stop=1, tx=4, rx=5,/);
  });

  for (const [id, tx, rx] of [
    [0, 0, 1],
    [1, 4, 5],
  ] as const) {
    it(`UART(${id}): written, flushed at line rate, read back through the wire, reconfigured`, async () => {
      const out = await pico.exec(
        [
          'from machine import UART',
          'import time',
          `u = UART(${id}, 9600, tx=${tx}, rx=${rx})`,
          'u.read()',
          't = time.ticks_us()',
          "u.write(b'Hello World')",
          'u.flush()',
          'dt = time.ticks_diff(time.ticks_us(), t)',
          'time.sleep_ms(5)',
          "print('flush_us', dt)",
          "print('read', u.read())",
          // 8E2 at 2400 baud: 12 bits a character
          'u.init(baudrate=2400, bits=8, parity=0, stop=2)',
          't = time.ticks_us()',
          "u.write(b'abc')",
          'u.flush()',
          "print('flush2_us', time.ticks_diff(time.ticks_us(), t))",
          'time.sleep_ms(5)',
          "print('read2', u.read())",
        ].join('\n'),
        { timeout: 60_000 },
      );
      const flush = Number(/flush_us (\d+)/.exec(out)![1]);
      // 11 characters × 10 bits at 9600 baud = 11 458 µs (the test's own 180 µs margin for rp2).
      expect(Math.abs(flush - (11 * 10 * 1e6) / 9600)).toBeLessThan(180);
      expect(out).toContain("read b'Hello World'");
      const flush2 = Number(/flush2_us (\d+)/.exec(out)![1]);
      expect(Math.abs(flush2 - (3 * 12 * 1e6) / 2400)).toBeLessThan(500);
      expect(out).toContain("read2 b'abc'");
      expect(uartBytes[`uart${id}`]).toContain('Hello Worldabc');
      // The console never carried a UART byte.
      expect(pico.output).not.toContain('Hello World');
    }, 90_000);
  }

  it('keeps the console apart while a script floods UART0 at 2400 baud', async () => {
    const before = uartBytes.uart0.length;
    await pico.exec(
      [
        'from machine import UART, Timer',
        'flood = UART(0, 2400, tx=0, rx=1)',
        "_t = Timer(period=20, callback=lambda t: flood.write(b'FLOOD-'))",
      ].join('\n'),
    );
    for (let i = 0; i < 5; i++) {
      expect(await pico.exec(`print(${i} * 7)`)).toBe(`${i * 7}\n`);
      expect(await pico.eval('1 + 1')).toBe('2');
    }
    await pico.exec('_t.deinit()\nflood.deinit()');
    const flooded = uartBytes.uart0.slice(before);
    expect(flooded.length).toBeGreaterThan(30);
    expect(flooded).toMatch(/^(FLOOD-)+/);
    expect(pico.output).not.toContain('FLOOD');
  }, 120_000);
});

describe.skipIf(!fw)('--uart0 tcp:PORT: UART0 on a port of its own', () => {
  it('carries what UART0 transmits to a host client and the client\'s bytes to UART0 RX, never the console', async () => {
    const r = await runCliWithClient(fw!);
    expect(r.fromUart).toBe('to host\r\n');
    expect(r.stdout).toContain("got b'from host'");
    expect(r.stdout).toContain('[uart0] to host');
    expect(r.stdout.split('\n').filter((l) => l.includes('to host') && !l.startsWith('[uart0] '))).toEqual([]);
    expect(r.code).toBe(0);
  }, 150_000);
});

/** picow-sim with `--uart0 tcp:PORT` and a host client on that port that answers UART0's line. */
async function runCliWithClient(fw: string): Promise<{ code: number | null; stdout: string; fromUart: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'picow-uartport-'));
  try {
    const script = join(dir, 'uart_port.py');
    writeFileSync(
      script,
      [
        'from machine import UART',
        'import time',
        'u = UART(0, 115200)',
        "u.write(b'to host\\r\\n')",
        'buf = b""',
        'for i in range(400):',
        '    buf += u.read() or b""',
        "    if buf.endswith(b'host'): break",
        '    time.sleep_ms(25)',
        "print('got', buf)",
      ].join('\n'),
    );
    const port = await freePort();
    const child = startCli([script, '--firmware', fw, '--no-server', '--uart0', `tcp:${port}`, '--timeout', '120']);
    let stderr = '';
    let fromUart = '';
    let clientUp = false;
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes(`uart0 at 127.0.0.1:${port}`) && !clientUp) {
        clientUp = true;
        const sock = connect(port, '127.0.0.1');
        sock.on('data', (d: Buffer) => {
          fromUart += d.toString('latin1');
          if (fromUart.endsWith('\r\n')) sock.write('from host');
        });
        sock.on('error', () => undefined);
        child.on('exit', () => sock.destroy());
      }
    });
    const r = await collect(child, 'picow-sim --uart0 tcp', 140_000);
    return { code: r.code, stdout: r.stdout, fromUart };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
