import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FirmwareError } from '../../sim/errors.ts';
import {
  cacheDir,
  downloadFirmware,
  findFirmware,
  FirmwareMissingError,
  PINNED_FIRMWARE,
  resolveFirmware,
} from '../../sim/firmware.ts';

/** A small valid RP2040 UF2 (github.com/microsoft/uf2 block layout), 256 payload bytes per block. */
function makeUf2(payload: Uint8Array): Uint8Array {
  const n = Math.ceil(payload.length / 256);
  const out = new Uint8Array(n * 512);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const at = i * 512;
    const part = payload.subarray(i * 256, (i + 1) * 256);
    v.setUint32(at, 0x0a324655, true);
    v.setUint32(at + 4, 0x9e5d5157, true);
    v.setUint32(at + 8, 0x2000, true); // family ID present
    v.setUint32(at + 12, 0x10000000 + i * 256, true);
    v.setUint32(at + 16, part.length, true);
    v.setUint32(at + 20, i, true);
    v.setUint32(at + 24, n, true);
    v.setUint32(at + 28, 0xe48bff56, true); // RP2040
    out.set(part, at + 32);
    v.setUint32(at + 508, 0x0ab16f30, true);
  }
  return out;
}
const uf2 = makeUf2(new Uint8Array(20_000).map((_, i) => i & 0xff));
let server: Server;
let base = '';
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/fw.uf2') {
      res.writeHead(200, { 'content-length': String(uf2.length) });
      // two writes, so the progress bar sees more than one chunk
      res.write(uf2.subarray(0, 5000));
      setImmediate(() => res.end(uf2.subarray(5000)));
    } else if (req.url === '/junk.uf2') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not found</html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'fw-'));
  return dir;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('firmware resolution', () => {
  it('uses --firmware, then PICOW_FIRMWARE, then the cache folder', () => {
    const d = tmp();
    const env = { XDG_CACHE_HOME: join(d, 'cache'), HOME: d };
    expect(cacheDir(env)).toBe(join(d, 'cache', 'picow-sim'));
    expect(cacheDir({ HOME: d })).toBe(join(d, '.cache', 'picow-sim'));
    expect(findFirmware({ env })).toBeNull();
    const cache = cacheDir(env);
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, 'old.uf2'), uf2);
    writeFileSync(join(cache, 'newer.uf2'), uf2);
    utimesSync(join(cache, 'old.uf2'), new Date(1e12), new Date(1e12));
    expect(findFirmware({ env })).toEqual({ path: join(cache, 'newer.uf2'), source: 'cache' });
    writeFileSync(join(cache, PINNED_FIRMWARE.file), uf2);
    expect(findFirmware({ env })).toEqual({ path: join(cache, PINNED_FIRMWARE.file), source: 'cache' });
    writeFileSync(join(d, 'env.uf2'), uf2);
    writeFileSync(join(d, 'opt.uf2'), uf2);
    expect(findFirmware({ env: { ...env, PICOW_FIRMWARE: join(d, 'env.uf2') } })?.source).toBe('env');
    expect(findFirmware({ option: join(d, 'opt.uf2'), env: { ...env, PICOW_FIRMWARE: join(d, 'env.uf2') } })).toEqual({
      path: join(d, 'opt.uf2'),
      source: 'option',
    });
  });

  it('fails with exit code 2 when a named firmware file is missing', () => {
    const d = tmp();
    expect(() => findFirmware({ option: join(d, 'nope.uf2'), env: {} })).toThrow(FirmwareError);
    try {
      findFirmware({ env: { PICOW_FIRMWARE: join(d, 'gone.uf2') } });
    } catch (e) {
      expect((e as FirmwareError).exitCode).toBe(2);
      expect((e as Error).message).toMatch(/gone\.uf2: file not found \(given by PICOW_FIRMWARE\)/);
    }
  });

  it('offline with no firmware: one line saying where to put a UF2, exit code 2', async () => {
    const d = tmp();
    hits = 0;
    const env = { XDG_CACHE_HOME: d, PICOW_OFFLINE: '1', PICOW_FIRMWARE_URL: `${base}/fw.uf2` };
    const err = await resolveFirmware({ env, progress: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirmwareMissingError);
    expect((err as FirmwareMissingError).exitCode).toBe(2);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain(join(d, 'picow-sim', PINNED_FIRMWARE.file));
    expect(msg).toContain('--firmware');
    expect(hits).toBe(0);
  });
});

describe('firmware download (from a loopback server)', () => {
  it('downloads into the cache with progress and checks the UF2', async () => {
    const d = tmp();
    const out = new Capture();
    const env = { XDG_CACHE_HOME: d, PICOW_FIRMWARE_URL: `${base}/fw.uf2` };
    const r = await resolveFirmware({ env, progress: out });
    expect(r).toEqual({ path: join(d, 'picow-sim', PINNED_FIRMWARE.file), source: 'download' });
    expect(new Uint8Array(readFileSync(r.path))).toEqual(uf2);
    expect(out.text).toContain(`downloading ${PINNED_FIRMWARE.file}`);
    expect(out.text).toContain(`downloaded ${PINNED_FIRMWARE.file}`);
    // found in the cache next time, without a request
    hits = 0;
    expect((await resolveFirmware({ env, progress: null })).source).toBe('cache');
    expect(hits).toBe(0);
  });

  it('reports HTTP errors, non-UF2 content and refused connections in one line, leaving nothing behind', async () => {
    const d = tmp();
    const env = { XDG_CACHE_HOME: d };
    const e404 = await downloadFirmware({ env, url: `${base}/missing.uf2`, progress: null }).catch((e: unknown) => e);
    expect(e404).toBeInstanceOf(FirmwareMissingError);
    expect((e404 as Error).message).toMatch(/could not download .*missing\.uf2: HTTP 404/);
    const junk = await downloadFirmware({ env, url: `${base}/junk.uf2`, progress: null }).catch((e: unknown) => e);
    expect((junk as Error).message).toMatch(/: the server sent something that is not a UF2 file \(text\/html\)/);
    // a port nobody listens on
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await downloadFirmware({ env, url: `http://127.0.0.1:${port}/fw.uf2`, progress: null }).catch(
      (e: unknown) => e,
    );
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
    for (const e of [e404, junk, refused]) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain('put a MicroPython UF2 for the Pico W at');
    }
    expect(readdirSync(join(d, 'picow-sim'))).toEqual([]);
  });
});

describe('npm run firmware (the command)', () => {
  function runFirmwareCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolveRun) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../sim/firmware-cli.ts'), ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) => resolveRun({ code, out, err }));
    });
  }

  it('downloads, verifies, then finds it present; offline it says where to put a UF2 (exit 2)', async () => {
    const d = tmp();
    const env = { XDG_CACHE_HOME: d, PICOW_FIRMWARE_URL: `${base}/fw.uf2`, PICOW_OFFLINE: '' };
    const first = await runFirmwareCli([], env);
    expect(first.code).toBe(0);
    expect(first.out).toBe(`firmware ready: ${join(d, 'picow-sim', PINNED_FIRMWARE.file)} (79 UF2 blocks, RP2040)\n`);
    expect(first.err).toContain(`downloading ${PINNED_FIRMWARE.file}`);
    const again = await runFirmwareCli([], env);
    expect(again.out).toMatch(/^firmware already present: /);
    const offline = await runFirmwareCli(['--force'], { ...env, PICOW_OFFLINE: '1' });
    expect(offline.code).toBe(2);
    expect(offline.err.trim().split('\n')).toHaveLength(1);
    expect(offline.err).toContain('put a MicroPython UF2 for the Pico W at');
    const bad = await runFirmwareCli(['--bogus'], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("picow-sim: unknown option '--bogus' (see npm run firmware -- --help)\n");
  });
});
