import { createSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../sim/log.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { TcpEndpoint, type TcpOutSegment } from '../../sim/net/tcp-endpoint.ts';
import { ManualClock } from '../../sim/time.ts';
import { parseHostSpec, parseMapSpec } from '../../sim/session/specs.ts';
import { seqLe } from '../../sim/net/wire/tcp.ts';
import { CountingHostIo, ScriptedBoard, GW_MAC, pumpUntil, until } from '../../sim/net/scripted/board.ts';
import { arp, BCAST, csum, decode, dhcp, dnsQuery, eth, ScriptedPort, icmpEcho, ip, ipv4, mac, tcp, udp } from '../../sim/net/scripted/frames.ts';
import { fuzzRng, type FuzzRng } from '../helpers/fuzz-rng.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const rng = fuzzRng;

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

/** Random bytes, so payload-dependent paths (DNS names, DHCP options, TCP data) see more than zeros. */
function randomBytes(r: FuzzRng, n: number): number[] {
  return Array.from({ length: n }, () => r.int(256));
}

function mutate(r: FuzzRng, base: Uint8Array): Uint8Array {
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
    // Restricted (--restrict) with no servers or maps, so no fuzzed packet can open a host socket.
    const net = new VirtualNetwork({ clock, hostIo, logger: silentLogger(), restrict: true, hosts: [parseHostSpec('a.test=10.0.2.2')], faults: {} });
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

  it('with the gateway and a map in place: established TCP connections and UDP flows are fuzzed, invariants hold', async () => {
    // Host side: a TCP sink that records every byte per connection, a UDP echo server.
    const received = new Map<number, Buffer[]>();
    const tcpServer: Server = createServer((sock: Socket) => {
      const parts: Buffer[] = [];
      received.set(sock.remotePort!, parts);
      sock.on('data', (d) => parts.push(d));
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => tcpServer.close(r)));
    const tcpPort = (tcpServer.address() as { port: number }).port;
    const udpServer = createSocket('udp4');
    udpServer.on('message', (m, from) => udpServer.send(m, from.port, from.address));
    await new Promise<void>((r) => udpServer.bind(0, '127.0.0.1', () => r()));
    cleanups.push(() => udpServer.close());
    const udpPort = udpServer.address().port;

    const clock = new ManualClock();
    const hostIo = new CountingHostIo();
    const MAPPED = '192.168.1.9';
    const net = new VirtualNetwork({ clock, hostIo, logger: silentLogger(), maps: [parseMapSpec(`${MAPPED}=127.0.0.1`)], hosts: [parseHostSpec('a.test=10.0.2.2')], tcp: { mslMs: 1000 } });
    cleanups.push(() => net.close());
    const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
    net.attach(board.port);
    // Every frame the gateway sends: valid checksums (decode throws otherwise) and an allowed
    // source: its own addresses, a mapped one, or an address the board itself sent to (a reset or
    // an ICMP error answers for the destination, never for a third address).
    const allowedSources = new Set(['10.0.2.2', '10.0.2.3', MAPPED]);
    const addressed = new Set<string>();
    const deliver = board.port.onDeliver!;
    let bad = '';
    let frames = 0;
    board.port.onDeliver = (f) => {
      frames++;
      const d = decode(f);
      if (d.srcMac !== '52:55:0a:00:02:02') bad ||= `frame from ${d.srcMac}`;
      if (d.ip && !allowedSources.has(d.ip.src) && !addressed.has(d.ip.src)) bad ||= `packet from ${d.ip.src}`;
      if (d.arp && !allowedSources.has(d.arp.sip)) bad ||= `ARP from ${d.arp.sip}`;
      deliver(f);
      board.port.received.length = 0;
    };

    // A clean connection the fuzzer never addresses: what reaches the host must be exactly its stream.
    const clean = board.connect('10.0.2.2', tcpPort);
    // A connection the fuzzer does address (its 4-tuple, near its sequence numbers).
    const target = board.connect(MAPPED, tcpPort);
    await pumpUntil([board], () => clean.state === 'ESTABLISHED' && target.state === 'ESTABLISHED', clock, 'handshakes');
    board.udpSend('10.0.2.2', 40001, udpPort, [1]);
    board.udpSend(MAPPED, 40002, udpPort, [2]);
    await until(() => net.udp.flowCount === 2, clock, 'UDP flows');

    const r = rng(0xbadcafe);
    const stream = Uint8Array.from(randomBytes(r, 48 * 1024));
    let written = 0;
    const BOARD_IP = BOARD;
    const MAPPED_IP = ip(MAPPED);
    const heap0 = process.memoryUsage().heapUsed;
    const near = (x: number) => (x + r.int(4000) - 1000) >>> 0;
    const base = (k: number): Uint8Array => {
      switch (k) {
        case 0:
        case 1:
          return eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD_IP, MAPPED_IP, 6, tcp({ src: BOARD_IP, dst: MAPPED_IP, sp: target.lport, dp: tcpPort, seq: near(target.sndNxt), ack: near(target.rcvNxt), flags: r.pick(['A', 'PA', 'FA', 'RA', 'R', 'S', 'SA', 'A', 'PA']), win: r.int(65536), data: randomBytes(r, r.int(r.chance(0.7) ? 16 : 1500)) })));
        case 2:
          return eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD_IP, MAPPED_IP, 17, udp(BOARD_IP, MAPPED_IP, 40002, udpPort, randomBytes(r, r.int(600)))));
        case 3:
          return eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD_IP, GW, 17, udp(BOARD_IP, GW, 40001, udpPort, randomBytes(r, r.int(600)))));
        case 4:
          return eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD_IP, DNS, 17, udp(BOARD_IP, DNS, 5000, 53, [...dnsQuery(r.int(65536), 'a.test').slice(0, 12), ...randomBytes(r, r.int(40))])));
        default:
          return eth(GW_MAC, BMAC, 0x0800, ipv4(BOARD_IP, GW, 6, tcp({ src: BOARD_IP, dst: GW, sp: 30000 + r.int(8), dp: tcpPort, seq: r.u32(), ack: r.u32(), flags: r.pick(['S', 'A', 'SA', 'F', 'PA']), mss: r.int(2000), data: randomBytes(r, r.int(64)) })));
      }
    };
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const b = base(r.int(6));
      const f = r.chance(0.5) ? b : mutate(r, b);
      if (f.length >= 34 && f[12] === 8 && f[13] === 0) addressed.add(`${f[30]}.${f[31]}.${f[32]}.${f[33]}`);
      board.port.send(f);
      if (i % 25 === 0 && written < stream.length) {
        clean.write(stream.subarray(written, written + 1024));
        written += 1024;
      }
      if (i % 100 === 0) {
        clock.advance(r.int(20) * 1e6);
        for (const c of board.conns) c.pump();
        await new Promise((res) => setImmediate(res));
        for (const c of net.tcp.connections()) if (!seqLe(c.sndUna, c.sndNxt)) bad ||= `${c.key}: SND.UNA ${c.sndUna} > SND.NXT ${c.sndNxt}`;
        expect(bad).toBe('');
      }
    }
    const tFuzz = performance.now() - t0;
    // The clean stream arrives whole and in order.
    await pumpUntil([board], () => clean.unacked === 0 && written >= stream.length, clock, 'the clean stream', 20_000);
    // The host connection that carries the clean stream is the one whose first bytes are its first bytes.
    const head = Buffer.from(stream.subarray(0, 64));
    const cleanOnHost = () => [...received.values()].map((p) => Buffer.concat(p)).find((b) => b.subarray(0, 64).equals(head));
    await until(() => (cleanOnHost()?.length ?? 0) >= stream.length, clock, 'host bytes');
    expect(cleanOnHost()!.equals(Buffer.from(stream))).toBe(true);
    expect(bad).toBe('');
    expect(frames).toBeGreaterThan(1000);
    expect(tFuzz).toBeLessThan(60_000);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 << 20);

    // No state left behind: once the board closes and time passes, nothing remains.
    clean.close();
    if (target.state === 'ESTABLISHED') target.close();
    for (let t = 0; t < 400 && (net.tcp.connectionCount > 0 || net.udp.flowCount > 0 || hostIo.open.size > 0); t++) {
      clock.advance(2e9);
      for (const c of board.conns) c.pump();
      await new Promise((res) => setTimeout(res, 1));
    }
    expect(net.tcp.connections()).toEqual([]);
    expect(net.udp.flowCount).toBe(0);
    expect([...hostIo.open]).toEqual([]);
  }, 120_000);
});
