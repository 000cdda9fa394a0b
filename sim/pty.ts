/**
 * `--pty PATH`: the board's console as a pseudo-terminal, so host tools that only open serial
 * device paths (mpremote, Thonny, rshell, MicroPython's tools/pyboard.py) can use it. Node has no
 * pty API, so `socat` creates the pty (raw, no echo) and links it at PATH; its other end is a pipe
 * to us. socat keeps the pty across client connections, so tools may connect and disconnect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { PicowSimError, UsageError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';

export class PtyUnavailableError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

export const SOCAT_MISSING =
  "--pty needs 'socat', which is not installed: install it with 'sudo apt-get install socat' " +
  "(Debian/Ubuntu), 'sudo dnf install socat' (Fedora) or 'brew install socat' (macOS)";

export interface PtyBridge {
  /** The path tools connect to (a symlink to /dev/pts/N). */
  readonly path: string;
  /** The pty device itself, e.g. /dev/pts/3. */
  readonly device: string;
  /** Send the board's console output to the connected tool. */
  write(bytes: Uint8Array): void;
  /** Bytes dropped because nobody read the pty for a while (like a serial port with no one listening). */
  readonly dropped: number;
  close(): Promise<void>;
}

export interface PtyOptions {
  /** What the tool typed. */
  onData: (bytes: Uint8Array) => void;
  /** socat ended on its own. */
  onExit?: (why: string) => void;
  logger?: Logger;
  /** Command to run instead of `socat` (tests). */
  socat?: string;
  startTimeoutMs?: number;
}

const MAX_BUFFERED = 256 * 1024;

export async function openPty(path: string, opts: PtyOptions): Promise<PtyBridge> {
  const logger = opts.logger ?? silentLogger();
  const link = resolve(path);
  // A stale link from an earlier run may be replaced; anything else at PATH is the user's file.
  try {
    const st = lstatSync(link);
    if (!st.isSymbolicLink()) throw new UsageError(`--pty ${path}: a file already exists there (not a symlink we could replace)`);
    unlinkSync(link);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`--pty ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const child: ChildProcess = spawn(
    opts.socat ?? 'socat',
    ['-d', '-d', `PTY,link=${link},rawer,echo=0`, 'STDIO'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let exited = false;
  let closing = false;
  const exitPromise = new Promise<string>((resolveExit) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      exited = true;
      resolveExit(e.code === 'ENOENT' ? 'ENOENT' : `cannot start socat: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      exited = true;
      resolveExit(signal ? `socat ended by ${signal}` : `socat exited with code ${code}`);
    });
  });

  const device = await new Promise<string>((resolveDev, reject) => {
    const timer = setTimeout(() => {
      reject(new PtyUnavailableError(`--pty ${path}: socat did not create the pty within ${(opts.startTimeoutMs ?? 5000) / 1000} s: ${stderr.trim()}`));
    }, opts.startTimeoutMs ?? 5000);
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      // The link exists once socat starts moving data (it logs the pty name before linking).
      const m = /PTY is (\/dev\/\S+)[\s\S]*starting data transfer loop/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolveDev(m[1]!);
      }
    });
    void exitPromise.then((why) => {
      clearTimeout(timer);
      if (why === 'ENOENT') reject(new PtyUnavailableError(SOCAT_MISSING));
      else reject(new PtyUnavailableError(`--pty ${path}: ${why}: ${lastLines(stderr)}`));
    });
  }).catch((e: unknown) => {
    if (!exited) child.kill();
    throw e;
  });
  logger.info('pty', `console at ${link} -> ${device}`);

  child.stdout!.on('data', (b: Buffer) => opts.onData(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  child.stdin!.on('error', () => undefined); // socat gone: reported through exit
  void exitPromise.then((why) => {
    if (!closing) opts.onExit?.(`${why}${stderr ? `: ${lastLines(stderr)}` : ''}`);
  });

  let dropped = 0;
  return {
    path: link,
    device,
    get dropped() {
      return dropped;
    },
    write(bytes: Uint8Array) {
      if (exited) return;
      if (child.stdin!.writableLength > MAX_BUFFERED) {
        dropped += bytes.length;
        return;
      }
      child.stdin!.write(bytes);
    },
    async close() {
      closing = true;
      if (!exited) {
        child.stdin!.end();
        child.kill('SIGTERM');
        const t = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, 2000);
        await exitPromise;
        clearTimeout(t);
      }
      try {
        if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
      } catch {
        /* already gone */
      }
    },
  };
}

function lastLines(s: string): string {
  return s
    .trim()
    .split('\n')
    .filter((l) => !/ N /.test(l))
    .slice(-2)
    .join(' | ');
}
