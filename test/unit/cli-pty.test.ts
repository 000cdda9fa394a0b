import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../sim/errors.ts';
import { openPty, PtyUnavailableError, SOCAT_MISSING } from '../../sim/pty.ts';

const hasSocat = spawnSync('socat', ['-V']).status === 0;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('--pty bridge', () => {
  it('says how to install socat when it is missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pty-'));
    const err = await openPty(join(dir, 'p'), { onData: () => undefined, socat: join(dir, 'no-such-socat') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PtyUnavailableError);
    expect((err as Error).message).toBe(SOCAT_MISSING);
    expect((err as PtyUnavailableError).exitCode).toBe(2);
  });

  it('refuses to replace a file that is not a link', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pty-'));
    writeFileSync(join(dir, 'taken'), 'mine');
    await expect(openPty(join(dir, 'taken'), { onData: () => undefined })).rejects.toBeInstanceOf(UsageError);
  });

  it.skipIf(!hasSocat)('moves bytes both ways, 8-bit clean, across reconnects, and removes its link', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pty-'));
    const link = join(dir, 'board');
    symlinkSync('/nonexistent', link); // a stale link from an earlier run is replaced
    const fromTool: number[] = [];
    let onTool: (() => void) | null = null;
    const bridge = await openPty(link, {
      onData: (b) => {
        fromTool.push(...b);
        onTool?.();
      },
    });
    expect(readlinkSync(link)).toBe(bridge.device);
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let round = 0; round < 2; round++) {
      const fd = openSync(link, 'r+');
      const rs = new tty.ReadStream(fd);
      rs.setRawMode(true);
      const ws = new tty.WriteStream(fd);
      const got: number[] = [];
      const received = new Promise<void>((res) => {
        rs.on('data', (b: Buffer) => {
          got.push(...b);
          if (got.length >= 256) res();
        });
      });
      bridge.write(all);
      await received;
      expect(Uint8Array.from(got)).toEqual(all);
      fromTool.length = 0;
      const sent = new Promise<void>((res) => (onTool = () => fromTool.length >= 256 && res()));
      ws.write(Buffer.from(all));
      await sent;
      expect(Uint8Array.from(fromTool)).toEqual(all);
      rs.destroy();
      ws.destroy();
      try {
        closeSync(fd);
      } catch {
        /* closed by the streams */
      }
    }
    await bridge.close();
    expect(existsSync(link)).toBe(false);
  });
});
