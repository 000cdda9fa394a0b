/**
 * Running a program on a board of the world, the one way every front end does it:
 *  - `bootToPrompt`: power on, wait for the firmware's USB CDC port (the board's `usb-ready`
 *    event), then press Enter and wait for MicroPython's `>>> `, so that nothing interrupts the
 *    firmware while it mounts its filesystem;
 *  - `startMain`: copy files through the raw REPL, `main.py` among them, and soft-reset so it
 *    runs as after power-on;
 *  - `watchMain`: pass the program's console on, and tell when it ended (returned, raised, or
 *    rebooted), through `MainRunMonitor`.
 */
import { OutputTimeoutError, PicoWBoard, type ConsoleSource, type PicoWBoardOptions } from '../board/picow.ts';
import { RunFailure } from '../errors.ts';
import type { Logger } from '../log.ts';
import { readLocalFile, usbStream, type UploadItem } from '../repl/board-link.ts';
import { ReplClient } from '../repl/client.ts';
import { MainRunMonitor, type MainEnd } from '../repl/monitor.ts';

export const PROMPT = '>>> ';

export interface BootOptions {
  /** Wall-clock limit for the USB port to appear (default: `timeoutMs`). */
  usbTimeoutMs?: number;
  /** Wall-clock limit for the prompt once USB is up. */
  timeoutMs: number;
}

/** What power-on reached: USB enumerated (else no REPL to talk to), and MicroPython's prompt. */
export interface Booted {
  usb: boolean;
  prompt: boolean;
}

/**
 * Start the board (if it is not running) and wait for the friendly REPL. Resolves
 * `{ usb: false }` when the firmware presents no USB serial port in time (a C program with UART
 * stdio), `{ prompt: false }` when no prompt came (the caller may try the raw REPL anyway);
 * rejects when the board halts.
 */
export async function bootToPrompt(board: PicoWBoard, o: BootOptions): Promise<Booted> {
  board.start();
  try {
    await board.whenUsbReady(o.usbTimeoutMs ?? o.timeoutMs);
  } catch (e) {
    if (e instanceof OutputTimeoutError) return { usb: false, prompt: false };
    throw e;
  }
  const from = board.output.length;
  board.writeConsole('\r', 'usb');
  try {
    await board.waitForOutput(PROMPT, { timeoutMs: o.timeoutMs, from });
    return { usb: true, prompt: true };
  } catch (e) {
    if (e instanceof OutputTimeoutError) return { usb: true, prompt: false };
    throw e;
  }
}

/** A file for the board: a local file (`UploadItem`) or contents given inline. */
export type ProgramFile = UploadItem | { remote: string; data: string | Uint8Array };

/**
 * A board without a world (the caller wires its devices: tests, benchmarks), created and booted
 * to the prompt. Rejects with the output so far when USB or the prompt does not come.
 */
export async function bootBoard(opts: PicoWBoardOptions, timeoutMs = 60_000): Promise<PicoWBoard> {
  const board = await PicoWBoard.create(opts);
  const booted = await bootToPrompt(board, { timeoutMs }).catch((e: Error) => {
    board.dispose();
    throw e;
  });
  if (!booted.prompt) {
    const output = board.output;
    board.dispose();
    throw new RunFailure(
      `${booted.usb ? 'no MicroPython prompt' : "the firmware's USB serial port did not appear"} within ${timeoutMs} ms; output so far: ${JSON.stringify(output)}`,
    );
  }
  return board;
}

export interface StartMainOptions {
  logger: Logger;
  /** The REPL client to use (the test API keeps one); default: a new one for this upload. */
  client?: ReplClient;
  /** Progress lines (what is copied, what runs). */
  status?: (line: string) => void;
  /** How the program is called in the status line (default `main.py`). */
  label?: string;
  /** Names the host I/O hold while the upload runs (default `upload`). */
  holdName?: string;
}

/**
 * Copy `items` to the board through the raw REPL (one of them should be `/main.py`) and soft-reset
 * so `main.py` runs. The upload is host I/O: the board's time follows the wall clock meanwhile.
 * Resolves with what the board printed right after the reset (the program's first output).
 */
export async function startMain(board: PicoWBoard, items: ProgramFile[], o: StartMainOptions): Promise<Uint8Array> {
  const client = o.client ?? new ReplClient(usbStream(board), { logger: o.logger, timeoutMs: 15_000 });
  const hold = board.hostIo.begin(o.holdName ?? 'upload');
  try {
    if (!o.client) await client.enterRawRepl(); // a kept client enters it when it writes
    o.status?.(`copying ${items.length} file${items.length === 1 ? '' : 's'} to the board`);
    await writeFiles(client, items, o.logger);
    o.status?.(`running ${o.label ?? 'main.py'}${o.label ? ' as main.py' : ''}`);
    await client.resetToMain();
    return client.reader.discard();
  } finally {
    if (!o.client) client.dispose();
    hold.release();
  }
}

/** Copy files to the board (folders are created); one info line per file. */
export async function writeFiles(client: ReplClient, items: ProgramFile[], logger?: Logger): Promise<void> {
  for (const it of items) {
    const data = 'local' in it ? readLocalFile(it.local, 'file') : typeof it.data === 'string' ? new TextEncoder().encode(it.data) : it.data;
    logger?.info('repl', `upload ${'local' in it ? it.local : '(inline)'} -> ${it.remote} (${data.length} bytes)`);
    await client.writeFile(it.remote, data);
  }
}

/**
 * Pass the USB console of the running `main.py` to `out` (the closing REPL banner held back) and
 * call `onEnd` once when it ended. `first` is what `startMain` returned. Returns a stop function.
 */
export function watchMain(board: PicoWBoard, first: Uint8Array, out: (text: string) => void, onEnd: (end: MainEnd) => void): () => void {
  const decoder = new TextDecoder();
  const onUsb = (bytes: Uint8Array, s: ConsoleSource): void => {
    if (s === 'usb') monitor.push(decoder.decode(bytes, { stream: true }));
  };
  const stop = (): void => void board.off('console', onUsb);
  const monitor = new MainRunMonitor(out, (end) => {
    stop();
    onEnd(end);
  });
  board.on('console', onUsb);
  if (first.length) monitor.push(decoder.decode(first, { stream: true }));
  return stop;
}
