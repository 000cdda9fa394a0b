/**
 * The BSS of a board's AP: which frames reach the AP's host and which its stations, station
 * joins and leaves as the AP host sees them, and what happens to stations when the AP goes down.
 */
import { describe, expect, it } from 'vitest';
import { BoardBss, type BssStation } from '../../sim/cyw43/bss.ts';

const AP = Uint8Array.of(0x02, 0, 0, 0, 0, 0xaa);
const BCAST = new Uint8Array(6).fill(0xff);
const MCAST = Uint8Array.of(0x01, 0x00, 0x5e, 0, 0, 0xfb);

function frame(dst: Uint8Array, src: Uint8Array, tag: number): Uint8Array {
  const f = new Uint8Array(20);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

class Sta implements BssStation {
  readonly got: number[] = [];
  drops = 0;
  constructor(readonly mac: Uint8Array) {}
  deliver(f: Uint8Array): void {
    this.got.push(f[14]!);
  }
  dropped(): void {
    this.drops++;
  }
}

function setup() {
  const host: number[] = [];
  const events: string[] = [];
  const hex = (m: Uint8Array) => m[5]!.toString(16);
  const bss = new BoardBss({
    deliver: (f) => host.push(f[14]!),
    stationJoined: (m) => events.push(`join ${hex(m)}`),
    stationLeft: (m, byStation) => events.push(`${byStation ? 'left' : 'removed'} ${hex(m)}`),
  });
  const a = new Sta(Uint8Array.of(0x02, 0, 0, 0, 0, 0x0a));
  const b = new Sta(Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b));
  return { bss, host, events, a, b };
}

describe('a board AP BSS', () => {
  it('passes station frames for the AP to its host, bridges station-to-station frames without the host', () => {
    const { bss, host, a, b } = setup();
    bss.join(a);
    bss.join(b);
    bss.fromStation(a.mac, frame(AP, a.mac, 1));
    bss.fromStation(a.mac, frame(b.mac, a.mac, 2));
    bss.fromStation(b.mac, frame(BCAST, b.mac, 3));
    bss.fromStation(a.mac, frame(MCAST, a.mac, 4));
    expect(host).toEqual([1, 3, 4]);
    expect(b.got).toEqual([2, 4]);
    expect(a.got).toEqual([3]);
    expect(bss.stats.bridged).toBe(1);
  });

  it('drops frames from a station that is not associated', () => {
    const { bss, host, a } = setup();
    bss.fromStation(a.mac, frame(AP, a.mac, 1));
    expect(host).toEqual([]);
  });

  it("sends the host's unicast to that station only, group frames to every station, unknown destinations nowhere", () => {
    const { bss, a, b } = setup();
    bss.join(a);
    bss.join(b);
    bss.fromHost(frame(b.mac, AP, 1));
    bss.fromHost(frame(BCAST, AP, 2));
    bss.fromHost(frame(Uint8Array.of(0x02, 9, 9, 9, 9, 9), AP, 3));
    expect(a.got).toEqual([2]);
    expect(b.got).toEqual([1, 2]);
  });

  it('lists stations in association order and reports joins, leaves and removals to the AP host', () => {
    const { bss, events, a, b } = setup();
    bss.join(a);
    bss.join(b);
    expect(bss.stationMacs.map((m) => m[5])).toEqual([0x0a, 0x0b]);
    bss.leave(a.mac, true);
    bss.leave(b.mac, false);
    bss.leave(b.mac, false);
    expect(events).toEqual(['join a', 'join b', 'left a', 'removed b']);
    expect(a.drops).toBe(0); // it left by itself
    expect(b.drops).toBe(1); // the AP removed it
    expect(bss.stationMacs).toEqual([]);
  });

  it('the AP going down drops every station and refuses new ones', () => {
    const { bss, a, b } = setup();
    bss.join(a);
    bss.join(b);
    bss.close();
    expect([a.drops, b.drops]).toEqual([1, 1]);
    expect(bss.join(new Sta(Uint8Array.of(0x02, 0, 0, 0, 0, 0x0c)))).toBe(false);
    expect(bss.stationMacs).toEqual([]);
  });

  it('a station that associates again replaces its old association', () => {
    const { bss, a } = setup();
    const again = new Sta(a.mac);
    bss.join(a);
    bss.join(again);
    bss.fromHost(frame(a.mac, AP, 7));
    expect(a.drops).toBe(1);
    expect(again.got).toEqual([7]);
    expect(a.got).toEqual([]);
  });
});
