/**
 * `--serial-port`: the console of the real MicroPython firmware as an RFC 2217 port, driven by
 * pyserial's own RFC 2217 client (the one mpremote uses for `rfc2217://`): raw REPL, raw-paste,
 * Ctrl-C/Ctrl-D, DTR and break; a plain TCP client with IAC bytes both ways; one client at a
 * time; a client that vanishes mid-sequence; garbage. Skips with a note without a firmware or
 * without a python3 that can `import serial` (Debian: python3-serial).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eFirmware } from '../helpers/firmware.ts';
import { startCli } from '../helpers/cli.ts';

const firmware = e2eFirmware();

/** Debian's python3 has pyserial as python3-serial; a pyenv one may not. */
function findPySerial(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import serial.rfc2217'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}
const python = findPySerial();
if (!python) console.log('ports-serial: pyserial tests skipped, no python3 with pyserial (Debian: apt-get install python3-serial)');

let cli: ChildProcess | null = null;
let port = 0;
let stderr = '';

beforeAll(async () => {
  if (!firmware) return;
  cli = startCli(['--firmware', firmware, '--no-server', '--serial-port', '0', '--trace', 'usb']);
  cli.stdout!.resume();
  port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no serial port announced: ${stderr}`)), 90_000);
    cli!.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /rfc2217:\/\/localhost:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    cli!.on('exit', (code) => reject(new Error(`picow-sim exited with ${code}: ${stderr}`)));
  });
}, 120_000);

afterAll(() => {
  if (cli?.pid && cli.exitCode === null) process.kill(cli.pid, 'SIGTERM');
});

/** Run a pyserial client script; its stdout is JSON. */
function pyserial(script: string): unknown {
  const r = spawnSync(python!, ['-c', script, String(port)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const RAW_REPL = String.raw`
import json, sys, time, serial
s = serial.serial_for_url("rfc2217://localhost:%s" % sys.argv[1], baudrate=115200, timeout=10)
out = {"cts": s.cts, "dsr": s.dsr}
s.write(b"\r\x03\x03")
time.sleep(0.3)
s.reset_input_buffer()
s.write(b"\r\x01")
out["banner"] = s.read_until(b"raw REPL; CTRL-B to exit\r\n>").decode()
# raw-paste (MicroPython 1.13+): \x05A\x01 answered with R\x01 and a window size
s.write(b"\x05A\x01")
out["paste"] = list(s.read(2))
window = int.from_bytes(s.read(2), "little")
out["window"] = window
code = b"import sys\nprint(sum(range(1000)), bytes([255, 0, 1]))\n"
s.write(code + b"\x04")
flow = s.read(1)  # \x01 more window, or \x04 end acknowledged
while flow == b"\x01":
    flow = s.read(1)
out["pasteEnd"] = list(flow)
out["result"] = s.read_until(b"\x04>").decode("latin-1")
# DTR off and on (a terminal program closing and reopening the port), a break: the REPL goes on
s.dtr = False
s.dtr = True
s.send_break(0.05)
s.write(b"print(6 * 7)\x04")
out["after"] = s.read_until(b"\x04>").decode()
# Ctrl-D at the raw REPL prompt: soft reset
s.write(b"\x04")
out["soft"] = s.read_until(b"raw REPL; CTRL-B to exit\r\n>").decode()
s.write(b"\x02")
out["friendly"] = s.read_until(b">>> ").decode()
s.close()
print(json.dumps(out))
`;

describe.skipIf(!firmware)('--serial-port on the real firmware', () => {
  it.skipIf(!python)('pyserial rfc2217:// drives the raw REPL and raw-paste; DTR, break and Ctrl-D as on a real port', () => {
    const out = pyserial(RAW_REPL) as Record<string, unknown>;
    expect(out.cts).toBe(true);
    expect(out.dsr).toBe(true);
    expect(out.banner).toMatch(/raw REPL; CTRL-B to exit\r\n>$/);
    expect(out.paste).toEqual([0x52, 0x01]);
    expect(out.window).toBeGreaterThan(0);
    expect(out.pasteEnd).toEqual([0x04]);
    expect(out.result).toBe("499500 b'\\xff\\x00\\x01'\r\n\x04\x04>");
    expect(out.after).toBe('OK42\r\n\x04\x04>');
    expect(out.soft).toContain('soft reboot');
    expect(out.friendly).toMatch(/MicroPython v1\.\d+.*\r\n>>> $/s);
    // The line-state and break requests reached the USB device and it completed each of them.
    expect(stderr).not.toMatch(/stalled/);
  }, 90_000);

  it('a plain TCP client: 8-bit data with IAC doubled both ways; a second client is refused with a line', async () => {
    const a = await open();
    const b = await open();
    const refusal = await readAll(b);
    expect(refusal).toBe('picow-sim: the console port already has a client; one at a time (disconnect the other first)\r\n');
    a.write('\r\x03');
    await until(a, '>>> ');
    // Input: IAC IAC is one 255 byte for the board.
    a.write(Buffer.from('import sys\rd = sys.stdin.buffer.read(3)\r', 'latin1'));
    await until(a, 'read(3)\r\n');
    a.write(Buffer.from([0xff, 0xff, 0x00, 0x41]));
    await until(a, '>>> ');
    a.write('print(list(d))\r');
    expect(await until(a, '>>> ')).toContain('[255, 0, 65]');
    // Output: a 255 byte from the board arrives doubled.
    a.write('sys.stdout.buffer.write(bytes([0x3c, 255, 0x3e]))\r');
    const got = await until(a, '>>> ');
    expect(Buffer.from(got, 'latin1').includes(Buffer.from([0x3c, 0xff, 0xff, 0x3e]))).toBe(true);
    a.destroy();
  }, 60_000);

  it('garbage and a client vanishing mid-negotiation leave the board running and the port open', async () => {
    const g = await open();
    g.write(Buffer.from([0xff, 0xfa, 0x2c, 0x01, 0x00])); // an unfinished SB ... and gone
    g.destroy();
    const h = await open();
    h.write(Buffer.from([0xff, 0xfd, 0x99, 0xff, 0x07, 0xff, 0xfa, 0x2c, 0x63, 0xff, 0xf0, 0xff, 0xfb, 0x2c]));
    h.write('\r\x03');
    const seen = await until(h, '>>> ');
    const bytes = Buffer.from(seen, 'latin1');
    // Unknown option refused (WONT 0x99); COM-PORT-OPTION accepted (DO 44).
    expect(bytes.includes(Buffer.from([0xff, 0xfc, 0x99]))).toBe(true);
    expect(bytes.includes(Buffer.from([0xff, 0xfd, 0x2c]))).toBe(true);
    h.write('print(1 + 1)\r');
    expect(await until(h, '2\r\n>>> ')).toContain('2\r\n>>> ');
    h.destroy();
  }, 60_000);
});

function open(p = port): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(p, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function readAll(s: Socket): Promise<string> {
  let text = '';
  s.on('data', (b: Buffer) => (text += b.toString('latin1')));
  return new Promise((resolve) => s.on('close', () => resolve(text)));
}

/** Read from `s` until `text` appears (latin1, so bytes map 1:1); rejects after 20 s. */
function until(s: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => {
      s.off('data', on);
      reject(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(got)}`));
    }, 20_000);
    const on = (b: Buffer): void => {
      got += b.toString('latin1');
      if (got.includes(text)) {
        clearTimeout(t);
        s.off('data', on);
        resolve(got);
      }
    };
    s.on('data', on);
  });
}
