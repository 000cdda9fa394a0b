/**
 * The picow-sim command as users run it: a child process with the reference firmware.
 * Each case that boots costs a few CPU seconds, so the cases are few and cover a lot each.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, startCli as startCliWith, type Run } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const hasSocat = spawnSync('socat', ['-V']).status === 0;
if (fw && !hasSocat) console.log('pty test skipped: socat is not installed (apt-get install socat)');

/** `picow-sim ARGS` (tsx loader in this node, so the PID is the CLI itself). */
function startCli(args: string[], env: Record<string, string | undefined> = {}, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  return startCliWith(args, { env, stdin });
}

function cli(args: string[], env: Record<string, string | undefined> = {}, limitMs = 90_000, input?: string): Promise<Run> {
  return runCli(args, limitMs, { env, input });
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'picow-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

describe('picow-sim without a board', () => {
  it('exits 2 with one line for a missing script, before booting', async () => {
    const r = await cli([join(dir ?? '/tmp', 'nope.py')], { PICOW_FIRMWARE: fw ?? '/nonexistent.uf2' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`picow-sim: ${join(dir, 'nope.py')}: script not found`]);
    expect(r.stdout).toBe('');
  });

  it('exits 2 with one line for a firmware that is not a UF2', async () => {
    const script = file('hello.py', 'print("hi")\n');
    const bad = file('bad.uf2', 'this is not a firmware image\n'.repeat(40));
    const r = await cli([script, '--firmware', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^picow-sim: .*bad\.uf2: (truncated UF2|not a UF2 file)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 for bad arguments and 0 for --help', async () => {
    const bad = await cli(['--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('picow-sim: --timeout "soon": not a number (example: --timeout 30)\n');
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--pty PATH');
    expect(help.stdout).toContain('e.g. --map 192.168.253.45:8080=127.0.0.1:8080');
  });
});

describe.skipIf(!fw)('picow-sim with the reference firmware', () => {
  it('runs a script to completion with --file (text, binary) and --lib, exit 0', async () => {
    const binary = new Uint8Array(3000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 73 + 11) & 0xff; // every byte value
    const sha = createHash('sha256').update(binary).digest('hex');
    file('proj/lib/greet.py', 'def greet(n):\n    return "hello " + n\n');
    file('proj/lib/pkg/__init__.py', 'VALUE = 42\n');
    const bin = file('proj/blob.bin', binary);
    const cfg = file('proj/config.json', '{"name": "pico"}\n');
    const script = file(
      'proj/main_test.py',
      [
        'import json, hashlib, binascii, os',
        'from greet import greet',
        'import pkg',
        'print(greet(json.load(open("/config.json"))["name"]), pkg.VALUE)',
        'data = open("/data/blob.bin", "rb").read()',
        'print("blob", len(data), binascii.hexlify(hashlib.sha256(data).digest()).decode())',
        'print(sorted(os.listdir("/lib")))',
        'print("done")',
      ].join('\n') + '\n',
    );
    const r = await cli([script, '--file', cfg, '--file', `${bin}:data/blob.bin`, '--lib', join(dir, 'proj/lib'), '--timeout', '80', '--no-server']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`hello pico 42\r\nblob 3000 ${sha}\r\n['greet.py', 'pkg']\r\ndone\r\n`);
  });

  it('joins an --ap, reaches a --map target, and stops at --expect with exit 0 while the script keeps running', async () => {
    // The article's hard-coded server address, mapped to a loopback server of the test.
    const server = createServer((req, res) => res.end(`hello ${req.method}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const script = file(
        'ticks.py',
        [
          'import network, time, urequests',
          'w = network.WLAN(network.STA_IF)',
          'w.active(True)',
          'w.connect("TestNet", "secret123")',
          'while w.status() not in (3, -1, -2, -3):',
          '    time.sleep_ms(50)',
          'print("wifi", w.status())',
          'print(urequests.get("http://192.168.253.45:8080/").text)',
          'i = 0',
          'while True:',
          '    print("tick", i)',
          '    i += 1',
          '    time.sleep_ms(20)',
        ].join('\n') + '\n',
      );
      const r = await cli([script, '--ap', 'TestNet:secret123', '--map', `192.168.253.45:8080=127.0.0.1:${port}`, '--expect', 'tick 3', '--timeout', '80', '--quiet', '--no-server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^wifi 3\r\nhello GET\r\ntick 0\r\ntick 1\r\ntick 2\r\ntick 3/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('exits 1 on --timeout, and on an --expect that the finished script never printed', async () => {
    const forever = file('forever.py', 'print("started")\nwhile True:\n    pass\n');
    const t0 = Date.now();
    const r = await cli([forever, '--timeout', '12', '--expect', 'never printed', '--no-server']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('started\r\n');
    expect(r.stderr).toMatch(/picow-sim: timed out after 12 s without seeing "never printed"\n$/);
    expect(Date.now() - t0).toBeLessThan(40_000);
  });

  it('exits 1 on an uncaught exception and prints the traceback', async () => {
    const boom = file('boom.py', 'print("before")\ndef f(x):\n    return {}[x]\nf("missing")\n');
    const r = await cli([boom, '--timeout', '80', '--no-server']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'before\r\nTraceback (most recent call last):\r\n  File "main.py", line 4, in <module>\r\n  File "main.py", line 3, in f\r\nKeyError: missing\r\n',
    );
    expect(r.stderr).toMatch(/boom\.py raised an uncaught exception: KeyError: missing\n$/);
  });

  it('sends piped stdin to the board as typed and stops at --expect', async () => {
    const r = await cli(['--expect', '1764', '--timeout', '80', '--quiet', '--no-server'], {}, 90_000, 'print(42 * 42)\r');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/>>> print\(42 \* 42\)\r\n1764/);
  });

  it.skipIf(!hasSocat)('exposes the console as a pty that a plain reader/writer drives through the raw REPL', async () => {
    const link = join(dir, 'picow-pty');
    const child = startCli(['--pty', link, '--timeout', '80', '--no-server']);
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const ready = new Promise<void>((res, rej) => {
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes(`console at ${link}`)) res();
      });
      void exited.then(() => rej(new Error(`picow-sim exited early: ${stderr}`)));
    });
    child.stdout!.resume();
    try {
      await ready;
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      const fd = openSync(link, 'r+');
      const rs = new tty.ReadStream(fd);
      rs.setRawMode(true);
      const ws = new tty.WriteStream(fd);
      let got = '';
      let wake: (() => void) | null = null;
      rs.on('data', (b: Buffer) => {
        got += b.toString('latin1');
        wake?.();
      });
      const until = (s: string): Promise<void> =>
        new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error(`no ${JSON.stringify(s)} on the pty; got ${JSON.stringify(got)}; picow-sim said ${JSON.stringify(stderr)}`)), 30_000);
          wake = () => {
            if (got.includes(s)) {
              clearTimeout(t);
              wake = null;
              res();
            }
          };
          wake();
        });
      // What pyboard.py and mpremote do: interrupt, enter the raw REPL, run code, leave.
      ws.write('\r\x03\x03');
      ws.write('\r\x01');
      await until('raw REPL; CTRL-B to exit\r\n>');
      got = '';
      ws.write('import sys\nprint(sys.implementation._build, 6 * 7)\x04');
      await until('\x04>');
      expect(got).toBe('OKRPI_PICO_W 42\r\n\x04\x04>');
      got = '';
      ws.write('1/0\x04');
      await until('\x04>');
      expect(got).toMatch(/^OK\x04Traceback \(most recent call last\):\r\n.*\r\nZeroDivisionError: divide by zero\r\n\x04>$/s);
      ws.write('\x02');
      await until('>>> ');
      rs.destroy();
      ws.destroy();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(existsSync(link)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
