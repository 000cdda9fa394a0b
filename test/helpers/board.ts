import { PicoWBoard, type PicoWBoardOptions } from '../../sim/board/picow.ts';

/** Boot a board from `firmware` and wait for the friendly REPL prompt on USB. */
export async function bootToPrompt(firmware: string, opts: Partial<PicoWBoardOptions> = {}, timeoutMs = 60_000): Promise<PicoWBoard> {
  const board = await PicoWBoard.create({ firmware, ...opts });
  board.start();
  await waitUsb(board, timeoutMs);
  const mark = board.output.length;
  board.writeConsole('\r');
  await board.waitForOutput('>>> ', { from: mark, timeoutMs });
  return board;
}

export async function waitUsb(board: PicoWBoard, timeoutMs: number): Promise<void> {
  await board.whenUsbReady(timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}; output so far: ${JSON.stringify(board.output)}`);
  });
}

let seq = 0;
/**
 * Run Python code at the friendly REPL through paste mode (Ctrl-E ... Ctrl-D) and return what
 * it printed between two unique markers.
 */
export async function runPy(board: PicoWBoard, code: string, timeoutMs = 60_000): Promise<string> {
  const id = ++seq;
  const begin = `<<B${id}>>`;
  const end = `<<E${id}>>`;
  const body = `print('<<B'+'${id}>>')\n${code}\nprint('<<E'+'${id}>>')\n`;
  const mark = board.output.length;
  board.writeConsole('\x05');
  await board.waitForOutput('=== ', { from: mark, timeoutMs });
  board.writeConsole(body.replace(/\n/g, '\r') + '\x04');
  const out = await board.waitForOutput(new RegExp(`\\r\\n${escape(end)}\\r\\n`), { from: mark, timeoutMs });
  const i = out.lastIndexOf(begin + '\r\n');
  return out.slice(i + begin.length + 2, out.length - end.length - 2).replace(/\r\n/g, '\n');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\<>]/g, '\\$&');
}
