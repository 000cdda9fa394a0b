/**
 * The REPL on a simulated board: the USB CDC console as a ByteStream for `ReplClient`, paste mode
 * at the friendly REPL, and the local files and folders to copy onto the board.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardEvent } from '../board/device.ts';
import type { ConsoleSource, PicoWBoard as Board } from '../board/picow.ts';
import { UsageError } from '../errors.ts';
import { remotePath } from './client.ts';
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

let pasteSeq = 0;
/**
 * Run Python code at the friendly REPL through paste mode (Ctrl-E … Ctrl-D) and return what it
 * printed between two unique markers (`\r\n` turned into `\n`). For boards driven at the
 * friendly REPL (tests, benchmarks); the raw REPL is `ReplClient`'s.
 */
export async function pasteRun(board: Board, code: string, timeoutMs = 60_000): Promise<string> {
  const id = ++pasteSeq;
  const begin = `<<B${id}>>`;
  const end = `<<E${id}>>`;
  const body = `print('<<B'+'${id}>>')\n${code}\nprint('<<E'+'${id}>>')\n`;
  const mark = board.output.length;
  board.writeConsole('\x05');
  await board.waitForOutput('=== ', { from: mark, timeoutMs });
  board.writeConsole(body.replace(/\n/g, '\r') + '\x04');
  const out = await board.waitForOutput(new RegExp(`\\r\\n${escapeRegExp(end)}\\r\\n`), { from: mark, timeoutMs });
  const i = out.lastIndexOf(begin + '\r\n');
  return out.slice(i + begin.length + 2, out.length - end.length - 2).replace(/\r\n/g, '\n');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\<>]/g, '\\$&');
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
