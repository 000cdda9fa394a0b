import { describe, expect, it } from 'vitest';
import type { BoardEvent } from '../../sim/board/device.ts';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { backToPrompt, bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();

function nextEvent(board: PicoWBoard, type: BoardEvent['type'], timeoutMs = 30_000): Promise<BoardEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${type}' event within ${timeoutMs} ms`)), timeoutMs);
    const on = (e: BoardEvent) => {
      if (e.type !== type) return;
      clearTimeout(t);
      board.off('event', on);
      resolve(e);
    };
    board.on('event', on);
  });
}

describe.skipIf(!fw)('resets and BOOTSEL', () => {
  it('reboots when the watchdog is not fed, and reports the watchdog as the reset cause', async () => {
    const board = await bootToPrompt(fw!);
    try {
      const reset = nextEvent(board, 'reset');
      board.writeConsole('from machine import WDT; w = WDT(timeout=200)\r');
      expect(await reset).toMatchObject({ type: 'reset', reason: 'watchdog' });
      await backToPrompt(board);
      expect((await runPy(board, 'import machine\nprint(machine.reset_cause() == machine.WDT_RESET)')).trim()).toBe('True');
    } finally {
      board.dispose();
    }
  });

  it('reports machine.bootloader() as a BOOTSEL request and stops the board', async () => {
    const board = await bootToPrompt(fw!);
    try {
      const bootsel = nextEvent(board, 'bootsel');
      board.writeConsole('import machine; machine.bootloader()\r');
      expect(await bootsel).toMatchObject({ type: 'bootsel', gpioActivityMask: 0, disableInterfaceMask: 0 });
      expect(board.isRunning).toBe(false);
      await expect(board.waitForOutput('never printed', { timeoutMs: 1000 })).rejects.toThrow(/BOOTSEL/);
    } finally {
      board.dispose();
    }
  });
});
