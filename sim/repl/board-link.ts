/**
 * The REPL client on a simulated board: the USB CDC console as a ByteStream, waiting for the
 * first prompt after power-on, and copying local files and folders onto the board.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardEvent } from '../board/device.ts';
import type { ConsoleSource, PicoWBoard as Board } from '../board/picow.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { remotePath, type ReplClient } from './client.ts';
import type { ByteStream } from './stream.ts';

/** The board's USB CDC console (what a host's /dev/ttyACM0 would be). */
export function usbStream(board: Board): ByteStream {
  return {
    write: (bytes) => board.writeConsole(bytes, 'usb'),
    onData: (cb) => {
      const h = (bytes: Uint8Array, source: ConsoleSource): void => {
        if (source === 'usb') cb(bytes);
      };
      board.on('console', h);
      return () => void board.off('console', h);
    },
    onClose: (cb) => {
      const h = (e: BoardEvent): void => {
        if (e.type === 'reset') cb(`the board reset (${e.reason})`);
        else if (e.type === 'halt') cb(`the board halted: ${e.reason}`);
        else if (e.type === 'bootsel') cb('the board rebooted into BOOTSEL mode');
        else if (e.type === 'fault') cb(`the board faulted: ${e.message}`);
      };
      board.on('event', h);
      return () => void board.off('event', h);
    },
  };
}

/**
 * Wait for the friendly REPL after power-on, so that nothing interrupts the firmware while it
 * mounts its filesystem: a carriage return is queued for USB (delivered once the host side has
 * enumerated the CDC device) and the REPL answers it with `>>> `. Resolves false when the
 * deadline passed without one (the caller then tries the raw REPL anyway, which fails with a
 * clear message if there is no MicroPython).
 */
export async function waitForFirstPrompt(board: Board, timeoutMs: number): Promise<boolean> {
  const from = board.output.length;
  board.writeConsole('\r', 'usb');
  try {
    await board.waitForOutput('>>> ', { timeoutMs, from });
    return true;
  } catch (e) {
    if ((e as Error).name === 'OutputTimeoutError') return false;
    throw e;
  }
}

/**
 * Wait until the host side has enumerated the board's USB CDC device. Resolves false after
 * `timeoutMs` (firmware without USB, e.g. a C program with UART stdio). The board has no event
 * for this, so it is polled every 20 ms.
 */
export function waitForUsb(board: Board, timeoutMs: number): Promise<boolean> {
  if (board.usbReady) return Promise.resolve(true);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const iv = setInterval(() => {
      if (board.usbReady || Date.now() - t0 > timeoutMs) {
        clearInterval(iv);
        resolve(board.usbReady);
      }
    }, 20);
  });
}

export interface UploadItem {
  local: string;
  remote: string;
}

/** Every file below `dir` (recursively), mapped to `remoteDir/relative/path`. Hidden entries and __pycache__ are skipped. */
export function folderItems(dir: string, remoteDir: string): UploadItem[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`${dir}: folder not found`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir}: not a folder`);
  const out: UploadItem[] = [];
  const walk = (d: string, r: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === '__pycache__') continue;
      const full = join(d, name);
      const s = statSync(full);
      if (s.isDirectory()) walk(full, `${r}/${name}`);
      else if (s.isFile()) out.push({ local: full, remote: remotePath(`${r}/${name}`) });
    }
  };
  walk(dir, remoteDir);
  return out;
}

/** Check a local file exists and is a file; UsageError (exit 2) otherwise. */
export function readLocalFile(path: string, what: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: ${what} not found`);
  }
  if (!st.isFile()) throw new UsageError(`${path}: ${what} is not a file`);
  return new Uint8Array(readFileSync(path));
}

/** Copy files to the board, creating folders; logs one line per file at info level. */
export async function uploadAll(client: ReplClient, items: UploadItem[], logger?: Logger): Promise<void> {
  for (const it of items) {
    const data = readLocalFile(it.local, 'file');
    logger?.info('repl', `upload ${it.local} -> ${it.remote} (${data.length} bytes)`);
    await client.writeFile(it.remote, data);
  }
}
