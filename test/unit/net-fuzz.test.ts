import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../sim/log.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { TcpEndpoint, type TcpOutSegment } from '../../sim/net/tcp-endpoint.ts';
import { ManualClock } from '../../sim/time.ts';
import { CountingHostIo, GW_MAC } from '../../sim/net/scripted/board.ts';
import { arp, BCAST, csum, dhcp, dnsQuery, eth, ScriptedPort, icmpEcho, ip, ipv4, mac, tcp, udp } from '../../sim/net/scripted/frames.ts';
import { parseHostSpec } from '../../sim/session/specs.ts';

/** Deterministic PRNG for the fuzzer (xorshift32), independent of the simulator's. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return { u32: next, int: (n: number) => next() % n, chance: (p: number) => next() / 4294967296 < p };
}

const BOARD = ip('10.0.2.15');
const GW = ip('10.0.2.2');
const DNS = ip('10.0.2.3');
const BMAC = mac('28:cd:c1:00:00:01');

function seeds(): Uint8Array[] {
  const s: Uint8Array[] = [];
  s.push(eth(BCAST, BMAC, 0x0806, arp(1, BMAC, BOARD, new Uint8Array(6), GW)));
  s.push(eth(BCAST, BMAC, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, dhcp(1, 0x1234, BMAC, [[55, [1, 3, 6]]])))));
  s.push(eth(BCAST, BMAC, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, dhcp(3, 0x1234, BMAC, [[50, [10, 0, 2, 15]], [54, [10, 0, 2, 2]]])))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, DNS, 17, udp(BOARD, DNS, 5000, 53, dnsQuery(7, 'example.com')))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, GW, 1, icmpEcho(1, 2, [1, 2, 3]))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, GW, 17, udp(BOARD, GW, 5001, 123, new Array(48).fill(0).map((_, i) => (i === 0 ? 0x1b : 0))))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, GW, 6, tcp({ src: BOARD, dst: GW, sp: 50000, dp: 8080, seq: 1, flags: 'S', mss: 1460 }))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, ip('192.168.253.45'), 6, tcp({ src: BOARD, dst: ip('192.168.253.45'), sp: 50001, dp: 8080, seq: 9, ack: 5, flags: 'PA', data: [1, 2, 3] }))));
  s.push(eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD, ip('8.8.8.8'), 17, udp(BOARD, ip('8.8.8.8'), 5002, 53, dnsQuery(8, 'x.y')))));
  return s;
}

/** Recompute IPv4 header and TCP/UDP/ICMP checksums so mutations reach deeper layers. */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 8 || f[13] !== 0) return;
  const ihl = (f[14]! & 15) * 4;
  if (ihl < 20 || 14 + ihl > f.length) return;
  f[24] = 0;
  f[25] = 0;
  const hc = csum(f.subarray(14, 14 + ihl));
  f[24] = hc >> 8;
  f[25] = hc & 255;
  const total = Math.min((f[16]! << 8) | f[17]!, f.length - 14);
  const l4 = f.subarray(14 + ihl, 14 + Math.max(ihl, total));
  const proto = f[23]!;
  const ckOff = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 ? 2 : -1;
  if (ckOff < 0 || l4.length < ckOff + 2) return;
  l4[ckOff] = 0;
  l4[ckOff + 1] = 0;
  const pseudo = proto === 1 ? [] : [...f.subarray(26, 34), 0, proto, l4.length >> 8, l4.length & 255];
  const c = csum([...pseudo, ...l4]);
  l4[ckOff] = c >> 8;
  l4[ckOff + 1] = c & 255;
}

function mutate(r: ReturnType<typeof rng>, base: Uint8Array): Uint8Array {
  let f = base.slice();
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) {
    switch (r.int(6)) {
      case 0:
      case 1:
        if (f.length) f[r.int(f.length)] ^= 1 << r.int(8);
        break;
      case 2:
        if (f.length) f[r.int(f.length)] = r.int(256);
        break;
      case 3:
        f = f.slice(0, r.int(f.length + 1));
        break;
      case 4: {
        const extra = Uint8Array.from({ length: r.int(64) }, () => r.int(256));
        const g = new Uint8Array(f.length + extra.length);
        g.set(f);
        g.set(extra, f.length);
        f = g;
        break;
      }
      case 5:
        // Interesting values in a 16-bit field (lengths, ports, flags).
        if (f.length > 1) {
          const at = r.int(f.length - 1);
          const v = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x8000, 20, 40][r.int(9)]!;
          f[at] = v >> 8;
          f[at + 1] = v & 255;
        }
        break;
    }
  }
  if (r.chance(0.6)) fixChecksums(f);
  return f;
}

describe('fuzzing the network from the board side', () => {
  it('100 000 random and mutated frames never throw, never hang, never reach the host', () => {
    const clock = new ManualClock();
    const hostIo = new CountingHostIo();
    // The gateway is not mapped to loopback here, so no fuzzed packet can open a host socket.
    const net = new VirtualNetwork({ clock, hostIo, logger: silentLogger(), gatewayToLoopback: false, hosts: [parseHostSpec('a.test=10.0.2.2')], faults: {} });
    const port = new ScriptedPort(BMAC);
    let delivered = 0;
    port.onDeliver = () => delivered++;
    net.attach(port);
    const r = rng(0xc0ffee);
    const base = seeds();
    const t0 = Date.now();
    for (let i = 0; i < 100_000; i++) {
      let f: Uint8Array;
      if (r.chance(0.2)) {
        f = Uint8Array.from({ length: r.int(1600) }, () => r.int(256));
        if (r.chance(0.5) && f.length >= 12) f.set(r.chance(0.5) ? GW_MAC : BCAST, 0);
      } else {
        f = mutate(r, base[r.int(base.length)]!);
      }
      port.send(f);
      if (i % 100 === 0) clock.advance(10_000_000);
      port.received.length = 0;
    }
    clock.advance(600e9); // let every timer (RTO, TIME_WAIT, flows) run out
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(60_000);
    expect(hostIo.begun).toBe(0);
    expect(delivered).toBeGreaterThan(1000); // the fuzzer reached the services
    expect(net.tcp.connectionCount).toBe(0);
  }, 120_000);

  it('an established TCP endpoint survives 20 000 random segments with bounded output', () => {
    const clock = new ManualClock();
    const out: TcpOutSegment[] = [];
    const ep = new TcpEndpoint({ clock, logger: silentLogger(), label: 'fuzz', iss: 0xfffff000, send: (s) => out.push(s) });
    ep.events.onData = (d) => ep.consumed(d.length);
    ep.accept({ srcPort: 1, dstPort: 2, seq: 0x7ffffff0, ack: 0, flags: 2, window: 65535, urgent: 0, payload: new Uint8Array(0), checksumValid: true, mss: 1460 });
    ep.input({ srcPort: 1, dstPort: 2, seq: 0x7ffffff1, ack: 0xfffff001, flags: 16, window: 65535, urgent: 0, payload: new Uint8Array(0), checksumValid: true });
    expect(ep.state).toBe('ESTABLISHED');
    ep.write(new Uint8Array(100_000));
    const r = rng(99);
    let maxBurst = 0;
    for (let i = 0; i < 20_000 && ep.state !== 'CLOSED'; i++) {
      const near = r.chance(0.7);
      const before = out.length;
      ep.input({
        srcPort: 1,
        dstPort: 2,
        seq: near ? (ep.nextReceive + r.int(3000) - 1000) >>> 0 : r.u32(),
        ack: near ? (ep.unacknowledged + r.int(3000) - 500) >>> 0 : r.u32(),
        flags: r.chance(0.9) ? 16 | (r.u32() & 0x0f & (r.chance(0.95) ? ~4 : 0xff)) : r.u32() & 0xff,
        window: r.int(65536),
        urgent: 0,
        payload: new Uint8Array(r.int(r.chance(0.5) ? 10 : 1500)),
        checksumValid: true,
      });
      maxBurst = Math.max(maxBurst, out.length - before);
      if (i % 50 === 0) clock.advance(r.int(2000) * 1e6);
      out.length = 0;
    }
    // One input may release at most a window of data: 65535 / 1460 segments plus control segments.
    expect(maxBurst).toBeLessThanOrEqual(50);
  }, 60_000);
});
