/**
 * The Lan several boards share: names must differ, addresses go in join order, a board beyond
 * the DHCP pool is refused with a UsageError naming it, and leaving frees the name; the last
 * board to leave closes the network.
 */
import { describe, expect, it } from 'vitest';
import type { PicoWBoard as Board } from '../../sim/board/picow.ts';
import { UsageError } from '../../sim/errors.ts';
import { Lan } from '../../sim/session/lan.ts';
import { silentLogger } from '../../sim/log.ts';
import { ManualClock, NO_HOST_IO } from '../../sim/time.ts';
import { ScriptedPort } from '../../sim/net/scripted/frames.ts';

const clock = new ManualClock();

/** What the Lan uses of a board: its name, clock, host I/O door and logger and its group hook (no firmware needed). */
function board(name: string): Board {
  return { name, simClock: clock, hostIo: NO_HOST_IO, logger: silentLogger(), peerProgressed: () => undefined } as unknown as Board;
}

function port(i: number): ScriptedPort {
  return new ScriptedPort(Uint8Array.of(0x02, 0, 0, 0, i >> 8, i & 0xff));
}

describe('Lan', () => {
  it('gives addresses in join order and refuses a second board of the same name', async () => {
    const lan = new Lan();
    const a = await lan.join(board('a'), port(1));
    const b = await lan.join(board('b'), port(2));
    expect([a.ip, b.ip]).toEqual([0x0a00020f, 0x0a000210]);
    await expect(lan.join(board('a'), port(3))).rejects.toThrow(UsageError);
    await a.leave();
    const again = await lan.join(board('a'), port(4));
    expect(again.name).toBe('a');
    await again.leave();
    await b.leave();
    expect(lan.network).toBeNull(); // the last board closed it
  });

  it('refuses a board beyond the addresses of the LAN with one line naming it', async () => {
    const lan = new Lan();
    const members = [];
    let refused: unknown = null;
    for (let i = 0; i < 100 && !refused; i++) {
      try {
        members.push(await lan.join(board(`b${i}`), port(i)));
      } catch (e) {
        refused = e;
      }
    }
    expect(members.length).toBeGreaterThan(1);
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as Error).message).toMatch(new RegExp(`^board 'b${members.length}': .*\\(${members.length} boards on this LAN already\\)$`));
    for (const m of members) await m.leave();
  });
});
