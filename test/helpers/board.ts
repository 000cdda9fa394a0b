import type { PicoWBoard, PicoWBoardOptions } from '../../sim/board/picow.ts';
import { bootBoard } from '../../sim/session/program.ts';

export { pasteRun as runPy } from '../../sim/repl/board-link.ts';

/** Boot a board from `firmware` and wait for the friendly REPL prompt on USB (the session layer's boot). */
export function bootToPrompt(firmware: string, opts: Partial<PicoWBoardOptions> = {}, timeoutMs = 60_000): Promise<PicoWBoard> {
  return bootBoard({ firmware, ...opts }, timeoutMs);
}
