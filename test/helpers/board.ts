import type { PicoWBoard, PicoWBoardOptions } from '../../sim/board/picow.ts';
import { bootBoard, bootToPrompt as sessionBootToPrompt } from '../../sim/session/program.ts';

export { pasteRun as runPy } from '../../sim/repl/board-link.ts';

/** Boot a board from `firmware` and wait for the friendly REPL prompt on USB (the session layer's boot). */
export function bootToPrompt(firmware: string, opts: Partial<PicoWBoardOptions> = {}, timeoutMs = 60_000): Promise<PicoWBoard> {
  return bootBoard({ firmware, ...opts }, timeoutMs);
}

/** After a reset (or on a board started by hand): wait for USB and the prompt again, as at power-on. */
export async function backToPrompt(board: PicoWBoard, timeoutMs = 60_000): Promise<PicoWBoard> {
  const booted = await sessionBootToPrompt(board, { timeoutMs });
  if (!booted.prompt) throw new Error(`no prompt within ${timeoutMs} ms (usb ${booted.usb}); output so far: ${JSON.stringify(board.output.slice(-300))}`);
  return board;
}

/** MicroPython that joins the default access point PicoW-Sim (up to 30 s) as `w`. */
export const JOIN_PICOW_SIM = `import network, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('PicoW-Sim', 'picowsim')
t0 = time.ticks_ms()
while w.status() != 3 and time.ticks_diff(time.ticks_ms(), t0) < 30000:
    time.sleep_ms(50)
`;
