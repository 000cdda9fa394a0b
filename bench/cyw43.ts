/**
 * CYW43439 benchmarks: wall (and simulated) time of `WLAN.active(True)` — the whole bring-up:
 * power-on, FEEDBEAD, firmware/NVRAM/CLM download, ioctls — and of `connect()` until the link is
 * up (status 2 or 3), measured with the reference firmware at the REPL. Targets: 300 ms and 500 ms
 * of wall time (issue #26 lowered the first to 200 ms).
 */
import { Cyw43439 } from '../sim/cyw43/chip.ts';
import { pasteRun as runPy } from '../sim/repl/board-link.ts';
import { bootBoard } from '../sim/session/program.ts';

/** Issue #26: 329 ms when filed, target ≤ 200 ms. */
const ACTIVE_TARGET_MS = 200;
const CONNECT_TARGET_MS = 500;

async function timed(fn: () => Promise<string>, clock: () => number): Promise<{ wallMs: number; simMs: number; out: string }> {
  const sim0 = clock();
  const wall0 = performance.now();
  const out = await fn();
  return { wallMs: performance.now() - wall0, simMs: (clock() - sim0) / 1e6, out };
}

export async function benchCyw43(firmware: string): Promise<string[]> {
  const chip = new Cyw43439();
  const board = await bootBoard({ firmware, devices: [chip] });
  const lines: string[] = [];
  const fmt = (what: string, r: { wallMs: number; simMs: number }, target: number): string =>
    `${what}: ${r.wallMs.toFixed(0)} ms wall (${r.simMs.toFixed(0)} ms simulated; target ${target} ms wall${r.wallMs <= target ? '' : ', MISSED'})`;
  try {
    await runPy(board, 'import network, time\nw = network.WLAN(network.STA_IF)', 60_000);
    const clock = () => board.clock.nanos;
    const active = await timed(() => runPy(board, 'w.active(True)\nprint(w.active())', 120_000), clock);
    if (active.out.trim() !== 'True') throw new Error(`WLAN.active(True) failed: ${active.out}`);
    lines.push(fmt('WLAN.active(True)', active, ACTIVE_TARGET_MS));
    const connect = await timed(
      () =>
        runPy(
          board,
          "w.connect('PicoW-Sim', 'picowsim')\nwhile w.status() not in (2, 3) and w.status() >= 0:\n    time.sleep_ms(5)\nprint(w.status())",
          120_000,
        ),
      clock,
    );
    if (!['2', '3'].includes(connect.out.trim())) throw new Error(`connect() did not bring the link up: ${connect.out}`);
    lines.push(fmt('connect() to link up', connect, CONNECT_TARGET_MS));
  } finally {
    board.dispose();
  }
  return lines;
}
