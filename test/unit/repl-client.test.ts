import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplClient, pyBytes, remotePath } from '../../sim/repl/client.ts';
import {
  MicroPythonError,
  ReplInterruptedError,
  ReplTimeoutError,
} from '../../sim/repl/errors.ts';
import { FakeMicroPython, type CodeResult, type FakeOptions, type CodeHandler } from './repl-fake-board.ts';

const boards: FakeMicroPython[] = [];
const clients: ReplClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
  for (const b of boards.splice(0)) b.dispose();
});

function setup(handler: CodeHandler, opts: FakeOptions = {}, timeoutMs = 2000) {
  const board = new FakeMicroPython(handler, opts);
  const client = new ReplClient(board, { timeoutMs, rawChunkDelayMs: 1 });
  boards.push(board);
  clients.push(client);
  return { board, client };
}

const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const echo: CodeHandler = (code) => ({ stdout: `ran ${code.length} bytes\r\n` });

describe('raw REPL client against a scripted board', () => {
  it('interrupts a running program, enters the raw REPL and runs code', async () => {
    const { board, client } = setup((code) => ({ stdout: utf8(code) === 'print(1+1)' ? '2\r\n' : 'wrong\r\n' }), {
      runningAtStart: true,
    });
    await client.enterRawRepl();
    expect(client.mode).toBe('raw');
    const r = await client.execRaw('print(1+1)');
    expect(utf8(r.stdout)).toBe('2\r\n');
    expect(r.stderr.length).toBe(0);
    expect(board.codes.map(utf8)).toEqual(['print(1+1)']);
    expect(client.rawPasteSupported).toBe(true);
  });

  it('sends a large block in raw-paste mode within the flow-control window', async () => {
    const { board, client } = setup(echo, { stdinMax: 64, bytesPerTick: 3 });
    const code = Array.from({ length: 120 }, (_, i) => `x${i} = ${i} * 2  # line ${i}`).join('\n') + '\n';
    expect(code.length).toBeGreaterThan(2500);
    const out = await client.exec(code);
    expect(out).toBe(`ran ${code.length} bytes\r\n`);
    expect(utf8(board.codes[0]!)).toBe(code);
    // The board's 64-byte stdin buffer never overflowed although the board is slow.
    expect(board.overflow).toBe(0);
    expect(board.maxBuffered).toBeLessThanOrEqual(64);
  });

  it('overflows the board when flow control is ignored (the fake is strict)', () => {
    const board = new FakeMicroPython(echo, { stdinMax: 64 });
    boards.push(board);
    board.write(new Uint8Array(200).fill(0x41));
    expect(board.overflow).toBe(200 - 64);
  });

  it('returns a MicroPython exception as a typed error with the traceback', async () => {
    const tb = 'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nValueError: bad value\r\n';
    const { client } = setup(() => ({ stdout: 'before\r\n', stderr: tb }));
    const err = await client.exec('print("before")\nraise ValueError("bad value")').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroPythonError);
    const e = err as MicroPythonError;
    expect(e.traceback).toBe(tb);
    expect(e.type).toBe('ValueError');
    expect(e.detail).toBe('bad value');
    expect(e.stdout).toBe('before\r\n');
    expect(e.exitCode).toBe(1);
    // stdout and stderr stay apart with execRaw
    const r = await client.execRaw('again');
    expect(utf8(r.stdout)).toBe('before\r\n');
    expect(utf8(r.stderr)).toBe(tb);
  });

  it('streams output as it arrives', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client } = setup(async (_c, b) => {
      // first part now, the rest after the test saw it
      (b as unknown as { out(s: string): void }).out('first\r\n');
      await gate;
      return { stdout: 'second\r\n' };
    });
    const seen: string[] = [];
    const done = client.execRaw('x', {
      onStdout: (bytes) => {
        seen.push(utf8(bytes));
        if (seen.join('').includes('first')) release();
      },
    });
    const r = await done;
    expect(seen.join('')).toBe('first\r\nsecond\r\n');
    expect(utf8(r.stdout)).toBe('first\r\nsecond\r\n');
  });

  it('falls back to raw mode when raw-paste is not supported (R\\x00)', async () => {
    // Plain raw mode has no flow control (a USB link throttles instead): give the fake room.
    const { board, client } = setup(echo, { rawPaste: 'no', stdinMax: 4096 });
    const code = 'a = 1\n'.repeat(100);
    expect(await client.exec(code)).toBe(`ran ${code.length} bytes\r\n`);
    expect(client.rawPasteSupported).toBe(false);
    expect(utf8(board.codes[0]!)).toBe(code);
    // second exec goes straight to raw mode
    expect(await client.exec('b = 2')).toBe('ran 5 bytes\r\n');
    expect(board.received.filter((b) => b === 0x05).length).toBe(1);
  });

  it('falls back to raw mode on firmware older than raw-paste (ra...)', async () => {
    const { board, client } = setup(echo, { rawPaste: 'old' });
    expect(await client.exec('print(3)')).toBe('ran 8 bytes\r\n');
    expect(client.rawPasteSupported).toBe(false);
    expect(utf8(board.codes[0]!)).toBe('print(3)');
  });

  it('stops sending when the board ends a transfer early, and reports the SyntaxError', async () => {
    const { board, client } = setup(echo, { syntaxErrorAfter: 40, stdinMax: 64 });
    const code = 'def broken(:\n' + 'pass\n'.repeat(200);
    const err = await client.exec(code).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroPythonError);
    expect((err as MicroPythonError).type).toBe('SyntaxError');
    // The host stopped: it sent far less than the whole block (window 32 + one grant at most).
    const sent = board.received.length;
    expect(sent).toBeLessThan(code.length / 2);
    expect(board.overflow).toBe(0);
    // and the session continues
    expect(client.mode).toBe('raw');
    expect(await client.exec('print(1)')).toBe('ran 8 bytes\r\n');
  });

  it('reports a board reset in the middle of a transfer and recovers on the next call', async () => {
    const { board, client } = setup(echo, {
      stdinMax: 64,
      resetAfter: { bytes: 50, text: '\r\nMPY: soft reboot\r\n' },
    });
    const err = await client.exec('y = 1\n'.repeat(100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplInterruptedError);
    expect((err as Error).message).toMatch(/during a raw-paste transfer \(\d+ of 600 bytes sent\)/);
    expect(client.mode).toBe('unknown');
    // the board came back (to the friendly REPL): the next call enters the raw REPL again
    board.revive();
    expect(await client.exec('print(2)')).toBe('ran 8 bytes\r\n');
  });

  it('times out when the board stops granting windows', async () => {
    const { client } = setup(echo, { stdinMax: 64, stopGranting: true }, 300);
    const t0 = Date.now();
    const err = await client.exec('z = 1\n'.repeat(100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplTimeoutError);
    expect((err as Error).message).toMatch(/raw-paste window grant \(\d+ of 600 bytes sent\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('fails within the timeout when the firmware never shows a prompt', async () => {
    const { client } = setup(echo, { mute: true }, 300);
    const t0 = Date.now();
    const err = await client.enterRawRepl().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplTimeoutError);
    expect((err as Error).message).toMatch(/MicroPython prompt/);
    expect((err as ReplTimeoutError).exitCode).toBe(1);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('interrupts code that runs past its timeout, and the next call works', async () => {
    const { board, client } = setup(async (code, b) => {
      if (utf8(code) === 'while True: pass') {
        await b.untilCancelled();
        return {};
      }
      return { stdout: 'ok\r\n' };
    });
    const err = await client.exec('while True: pass', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplTimeoutError);
    expect((err as Error).message).toMatch(/the code to finish/);
    expect(board.received).toContain(0x03);
    expect(await client.exec('print("ok")')).toBe('ok\r\n');
  });

  it('soft-resets in the raw REPL and runs main.py from the friendly REPL', async () => {
    const { board, client } = setup(echo);
    await client.enterRawRepl({ softReset: true });
    expect(board.softResets).toBe(1);
    expect(client.mode).toBe('raw');
    await client.softReset();
    expect(board.softResets).toBe(2);
    board.mainOutput = 'hello from main\r\n';
    await client.resetToMain();
    expect(board.mainRuns).toBe(1);
    const rest = await client.reader.readUntil('>>> ', { timeoutMs: 1000, what: 'banner' });
    expect(utf8(rest)).toMatch(/^hello from main\r\nMicroPython v1\.28\.0/);
  });

  it('serialises concurrent calls', async () => {
    const { board, client } = setup((code) => ({ stdout: utf8(code) + '\r\n' }));
    const results = await Promise.all([client.exec('a'), client.exec('b'), client.exec('c')]);
    expect(results).toEqual(['a\r\n', 'b\r\n', 'c\r\n']);
    expect(board.codes.map(utf8)).toEqual(['a', 'b', 'c']);
  });
});

describe('code generation helpers', () => {
  it('normalises board paths', () => {
    expect(remotePath('lib/x.py')).toBe('/lib/x.py');
    expect(remotePath('//lib/./x.py/')).toBe('/lib/x.py');
    expect(() => remotePath('/lib/../x')).toThrow(/\.\./);
  });
  it('writes bytes literals that Python reads back exactly', () => {
    expect(pyBytes(Uint8Array.from([0x41, 0x27, 0x5c, 0x0a, 0x00, 0xff]))).toBe("b'A\\'\\\\\\n\\x00\\xff'");
  });
});

// File operations: the generated MicroPython runs in CPython with os/open mapped into a temp folder,
// which checks that the code does what it should (MicroPython-only APIs are shimmed minimally).
const python = spawnSync('python3', ['-c', 'print(1)']).status === 0 ? 'python3' : null;

const PRELUDE = String.raw`
import os, sys, builtins
ROOT = sys.argv[1]
def _p(p):
    return os.path.join(ROOT, p.lstrip('/')) if p.startswith('/') else p
_open, _mkdir, _remove, _rmdir, _stat, _listdir = builtins.open, os.mkdir, os.remove, os.rmdir, os.stat, os.listdir
builtins.open = lambda p, m='r': _open(_p(p), m)
os.mkdir = lambda p: _mkdir(_p(p))
os.remove = lambda p: _remove(_p(p))
os.rmdir = lambda p: _rmdir(_p(p))
os.stat = lambda p: tuple(_stat(_p(p)))
def _ilistdir(p):
    for n in sorted(_listdir(_p(p))):
        full = os.path.join(_p(p), n)
        st = _stat(full)
        yield (n, 0x4000 if st.st_mode & 0x4000 else 0x8000, 0, st.st_size)
os.ilistdir = _ilistdir
code = sys.stdin.read()
try:
    exec(compile(code, '<stdin>', 'exec'), {})
except BaseException:
    import traceback
    traceback.print_exc()
`;

function runInPython(root: string): CodeHandler {
  return (code): CodeResult => {
    const r = spawnSync(python!, ['-c', PRELUDE, root], { input: Buffer.from(code) });
    return { stdout: new Uint8Array(r.stdout), stderr: r.stderr.toString('utf8') };
  };
}

describe.skipIf(!python)('file operations (generated code run by python3)', () => {
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('uploads text and binary files into new folders, lists, reads back and removes them', async () => {
    root = mkdtempSync(join(tmpdir(), 'repl-fs-'));
    const { client } = setup(runInPython(root), { stdinMax: 256 }, 10_000);
    const text = 'import machine\nprint("héllo", \'quote\', "\\\\")\n';
    const binary = new Uint8Array(5000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 131 + (i >> 7)) & 0xff;
    await client.writeFile('main.py', text);
    await client.writeFile('/lib/pkg/data.bin', binary, { chunk: 2048 });
    expect(readFileSync(join(root, 'main.py'), 'utf8')).toBe(text);
    expect(new Uint8Array(readFileSync(join(root, 'lib/pkg/data.bin')))).toEqual(binary);
    // writing again into an existing folder works and replaces the file
    await client.writeFile('/lib/pkg/data.bin', binary.subarray(0, 10));
    expect(readFileSync(join(root, 'lib/pkg/data.bin')).length).toBe(10);

    const all = await client.list('/', { recursive: true });
    expect(all).toEqual([
      { path: '/lib', name: 'lib', type: 'dir', size: 0 },
      { path: '/lib/pkg', name: 'pkg', type: 'dir', size: 0 },
      { path: '/lib/pkg/data.bin', name: 'data.bin', type: 'file', size: 10 },
      { path: '/main.py', name: 'main.py', type: 'file', size: Buffer.byteLength(text) },
    ]);
    expect((await client.list('/')).map((e) => e.name)).toEqual(['lib', 'main.py']);
    expect(utf8(await client.readFile('/main.py'))).toBe(text);
    expect(await client.stat('/lib')).toEqual({ type: 'dir', size: 0 });
    expect(await client.stat('/nope')).toBeNull();

    const err = await client.readFile('/missing.txt').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroPythonError);

    await client.remove('/main.py');
    await client.remove('/lib', { recursive: true });
    expect(existsSync(join(root, 'main.py'))).toBe(false);
    expect(existsSync(join(root, 'lib'))).toBe(false);
    expect(await client.list('/')).toEqual([]);
  });
});
