/**
 * Trust: what a board may reach (--restrict, the gateway's DNS, spoofed sources) and the hard
 * limits on the state it can make the host keep, each hit with one warning line.
 */

import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PicowSimError } from '../../sim/errors.ts';
import { Logger, silentLogger } from '../../sim/log.ts';
import { VirtualNetwork, type VirtualNetworkOptions } from '../../sim/net/network.ts';
import { PcapWriter } from '../../sim/net/pcap.ts';
import { TcpEndpoint, type TcpOutSegment } from '../../sim/net/tcp-endpoint.ts';
import type { TcpSegment } from '../../sim/net/wire/tcp.ts';
import { parseForwardSpec, parseHostSpec, parseMapSpec } from '../../sim/session/specs.ts';
import { ManualClock } from '../../sim/time.ts';
import { CountingHostIo, ScriptedBoard, GW_MAC, pumpUntil, until } from '../../sim/net/scripted/board.ts';
import { dhcp, dnsQuery, eth, ip, ipv4, mac, tcp, udp } from '../../sim/net/scripted/frames.ts';

const nets: VirtualNetwork[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];

const dirs: string[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const n of nets.splice(0)) await n.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));

  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(o: Partial<VirtualNetworkOptions> = {}) {
  const clock = new ManualClock();
  const hostIo = new CountingHostIo();
  const lines: string[] = [];
  const logger = new Logger({ level: 'warn', sink: (l) => lines.push(l) });
  const net = new VirtualNetwork({ clock, hostIo, logger, ...o });
  nets.push(net);
  const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
  net.attach(board.port);
  return { clock, hostIo, net, board, lines };
}

async function tcpServer(): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const s = createServer((sock) => {
    accepted.push(sock);
    sockets.push(sock);
    sock.on('error', () => undefined);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as { port: number }).port, accepted };
}

const GW = ip('10.0.2.2');
const BOARD = ip('10.0.2.15');
const BMAC = mac('28:cd:c1:00:00:01');

describe('egress: --restrict and the gateway', () => {
  it('without --restrict 10.0.2.2:P reaches 127.0.0.1:P; with it only servers and maps do', async () => {
    const { port } = await tcpServer();
    const { port: other } = await tcpServer();
    const open = setup();
    const c = open.board.connect('10.0.2.2', port);
    await pumpUntil([open.board], () => c.state !== 'SYN_SENT', open.clock, 'handshake');
    expect(c.state).toBe('ESTABLISHED');

    const r = setup({ restrict: true, servers: [port], maps: [parseMapSpec(`192.168.1.9:80=127.0.0.1:${other}`)] });
    const toServer = r.board.connect('10.0.2.2', port);
    const toOther = r.board.connect('10.0.2.2', other);
    const mapped = r.board.connect('192.168.1.9', 80);
    await pumpUntil([r.board], () => [toServer, toOther, mapped].every((x) => x.state !== 'SYN_SENT'), r.clock, 'answers');
    expect(toServer.state).toBe('ESTABLISHED');
    expect(mapped.state).toBe('ESTABLISHED');
    expect(toOther.state).toBe('RESET');
    expect(r.net.policy.resolve(GW, other)).toMatchObject({ allowed: false, reason: expect.stringContaining('--restrict') });
  });

  it('a server started after the network (a board joining a shared LAN) is reachable once allowed', async () => {
    const { port } = await tcpServer();
    const r = setup({ restrict: true });
    const before = r.board.connect('10.0.2.2', port);
    await pumpUntil([r.board], () => before.state !== 'SYN_SENT', r.clock, 'refusal');
    expect(before.state).toBe('RESET');
    r.net.allowServer(port);
    const after = r.board.connect('10.0.2.2', port);
    await pumpUntil([r.board], () => after.state !== 'SYN_SENT', r.clock, 'handshake');
    expect(after.state).toBe('ESTABLISHED');
  });

  it('--restrict with --allow-internet is refused', () => {
    expect(() => new VirtualNetwork({ clock: new ManualClock(), restrict: true, allowInternet: true })).toThrow(PicowSimError);
  });

  it('UDP to 10.0.2.2:53 is answered by the virtual DNS, never a resolver on the host', async () => {
    const { board, net } = setup({ hosts: [parseHostSpec('svc.test=10.0.2.2')] });
    board.udpSend('10.0.2.2', 5353, 53, dnsQuery(9, 'svc.test'));
    const [a] = board.takeWhere((d) => d.udp?.sp === 53);
    expect(a?.ip?.src).toBe('10.0.2.2');
    expect(a!.udp!.data.subarray(-4)).toEqual(Uint8Array.from([10, 0, 2, 2]));
    expect(net.udp.flowCount).toBe(0);
    expect(net.policy.resolve(GW, 53).allowed).toBe(false); // nor over TCP
  });

  it('packets whose source is not the address leased to their MAC are dropped before any host socket', async () => {
    const { port, accepted } = await tcpServer();
    const { board, net, hostIo, clock, lines } = setup();
    for (let i = 0; i < 200; i++) {
      const src = i % 2 ? ip(`192.0.2.${i}`) : ip(`10.0.2.${20 + (i % 100)}`);
      board.port.send(eth(GW_MAC, BMAC, 0x0800, ipv4(src, GW, 6, tcp({ src, dst: GW, sp: 1000 + i, dp: port, seq: i, flags: 'S', mss: 1460 }))));
      board.port.send(eth(GW_MAC, BMAC, 0x0800, ipv4(src, GW, 17, udp(src, GW, 1000 + i, port, [1, 2, 3]))));
    }
    // A forged MAC with the board's address is not the board either.
    board.port.send(eth(GW_MAC, mac('02:00:00:00:00:09'), 0x0800, ipv4(BOARD, GW, 6, tcp({ src: BOARD, dst: GW, sp: 999, dp: port, seq: 1, flags: 'S' }))));
    clock.advance(1e9);
    await new Promise((r) => setTimeout(r, 50));
    expect(net.stats.spoofed).toBe(401);
    expect(hostIo.begun).toBe(0);
    expect(net.tcp.connectionCount).toBe(0);
    expect(net.udp.flowCount).toBe(0);
    expect(accepted.length).toBe(0);
    expect(board.port.received.length).toBe(0);
    // One warning per MAC, however many packets.
    expect(lines).toEqual([
      expect.stringMatching(/^\[net\] warning: 28:cd:c1:00:00:01: packets from 10\.0\.2\.20 dropped: the address leased to it is 10\.0\.2\.15/),
      expect.stringMatching(/^\[net\] warning: 02:00:00:00:00:09: packets from 10\.0\.2\.15 dropped: it has no lease/),
    ]);
  });
});

describe('hard limits, each with one warning', () => {
  it('TCP connections per board and the SYN backlog: newcomers are reset, live ones kept', async () => {
    const { port, accepted } = await tcpServer();
    const { board, net, clock, lines } = setup({ limits: { tcpPerBoard: 6, synBacklog: 3 } });
    // A SYN flood from the board's own address: only the backlog's worth get a host connect.
    for (let i = 0; i < 50; i++) board.sendIp(GW, 6, tcp({ src: BOARD, dst: GW, sp: 2000 + i, dp: port, seq: i * 1000, flags: 'S', mss: 1460 }));
    expect(net.tcp.connectionCount).toBe(3);
    expect(lines.filter((l) => l.includes('SYN backlog'))).toHaveLength(1);
    const resets = board.takeWhere((d) => d.tcp?.flags.includes('R') === true);
    expect(resets.length).toBe(47);
    await until(() => accepted.length === 3, clock, 'host connects');
    // The flood never completes its handshakes: the SYN-ACKs give up and the slots come back.
    clock.advance(400e9);
    await until(() => net.tcp.connectionCount === 0, clock, 'half-open connections to expire', 10_000, 1000);
    // Real connections, one after another: up to the limit, then resets.
    const cs = [];
    for (let i = 0; i < 8; i++) {
      const c = board.connect('10.0.2.2', port);
      cs.push(c);
      await pumpUntil([board], () => c.state !== 'SYN_SENT', clock, 'handshake');
    }
    expect(cs.filter((c) => c.state === 'ESTABLISHED')).toHaveLength(6);
    expect(cs.filter((c) => c.state === 'RESET')).toHaveLength(2);
    expect(lines.filter((l) => l.includes('TCP connections open'))).toHaveLength(1);
  });

  it('UDP flows per board: datagrams to new destinations are dropped at the limit', async () => {
    const { board, net, lines } = setup({ limits: { udpPerBoard: 4 } });
    for (let i = 0; i < 40; i++) board.udpSend('10.0.2.2', 3000 + i, 40000 + i, [i]);
    expect(net.udp.flowCount).toBe(4);
    expect(net.udp.stats.limited).toBe(36);
    expect(lines.filter((l) => l.includes('UDP flows open'))).toHaveLength(1);
  });

  it('host DNS lookups (--allow-internet) in flight are capped; the rest get SERVFAIL at once', async () => {
    const pending: ((a: number[]) => void)[] = [];
    const { board, lines } = setup({ allowInternet: true, resolver: () => new Promise((r) => pending.push(r)) });
    for (let i = 0; i < 200; i++) board.udpSend('10.0.2.3', 6000 + i, 53, dnsQuery(i, `n${i}.example`));
    expect(pending).toHaveLength(64);
    const answers = board.takeWhere((d) => d.udp?.sp === 53);
    expect(answers).toHaveLength(136);
    expect(answers.every((d) => (d.udp!.data[3]! & 15) === 2)).toBe(true); // RCODE 2, SERVFAIL
    expect(lines.filter((l) => l.includes('host lookups pending'))).toHaveLength(1);
    for (const r of pending.splice(0)) r([ip('93.184.216.34')]);
    await new Promise((r) => setTimeout(r, 10));
    board.udpSend('10.0.2.3', 7000, 53, dnsQuery(999, 'again.example'));
    expect(pending).toHaveLength(1);
  });

  it('the switch learns a bounded number of MACs per port', () => {
    const { net, board, lines } = setup({ limits: { macsPerPort: 8 } });
    const before = net.switch.frames;
    for (let i = 0; i < 10_000; i++) {
      const m = Uint8Array.from([2, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1]);
      board.port.send(eth(mac('02:ff:ff:ff:ff:ff'), m, 0x88b5, [1, 2, 3]));
    }
    expect(net.switch.frames - before).toBe(8);
    expect(lines.filter((l) => l.includes('MAC addresses learned'))).toHaveLength(1);
  });

  it('DHCP: DECLINE only of the client\'s own lease, and declined addresses come back', () => {
    const { board, net, clock } = setup();
    const declineFor = (m: Uint8Array, a: number[]) =>
      board.port.send(eth(mac('ff:ff:ff:ff:ff:ff'), m, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, dhcp(4, 1, m, [[50, a]])))));
    for (let i = 0; i < 1000; i++) declineFor(BMAC, [10, 0, 3 + (i >> 8), i & 255]);
    for (let i = 0; i < 1000; i++) declineFor(Uint8Array.from([2, 1, 0, 0, i >> 8, i & 255]), [10, 0, 2, 16]);
    // The board's own lease survived every forgery.
    expect(net.leases().find((l) => l.mac === '28:cd:c1:00:00:01')?.ip).toBe(BOARD);
    declineFor(BMAC, [10, 0, 2, 15]);
    expect(net.leases().find((l) => l.mac === '28:cd:c1:00:00:01')).toBeUndefined();
    const other = new ScriptedBoard(clock, '28:cd:c1:00:00:02');
    expect(ipOf(net.attach(other.port).ip)).toBe('10.0.2.16'); // .15 is held back
    clock.advance(601e9);
    const third = new ScriptedBoard(clock, '28:cd:c1:00:00:03');
    expect(ipOf(net.attach(third.port).ip)).toBe('10.0.2.15'); // and comes back
  });

  it('a full forward port range refuses the host client instead of overwriting a live entry', async () => {
    const { board, net, clock } = setup({ forwards: [parseForwardSpec('0:80')], limits: { tcpPerBoard: 2, synBacklog: 2 } });
    const [fwd] = await net.start();
    board.listen(80, () => undefined);
    const clients = Array.from({ length: 3 }, () => connect(fwd!.hostPort, '127.0.0.1'));
    for (const c of clients) {
      sockets.push(c);
      c.on('error', () => undefined);
    }
    const closed = clients.map((c) => new Promise<void>((r) => c.on('close', () => r())));
    await pumpUntil([board], () => board.conns.filter((c) => c.state === 'ESTABLISHED').length === 2, clock, 'two forwarded connections');
    await Promise.race(closed);
    expect(net.tcp.connectionCount).toBe(2);
    expect(net.tcp.connections().every((c) => c.state === 'ESTABLISHED')).toBe(true);
  });
});

const ipOf = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

describe('TCP endpoint limits', () => {
  const seg = (seq: number, ack: number, flags: number, data: Uint8Array = new Uint8Array(0), mss?: number): TcpSegment => ({
    srcPort: 1,
    dstPort: 2,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    window: 65535,
    urgent: 0,
    payload: data,
    checksumValid: true,
    mss,
  });
  function established(o: { mss?: number; window?: number } = {}) {
    const clock = new ManualClock();
    const out: TcpOutSegment[] = [];
    const rx: number[] = [];
    const ep = new TcpEndpoint({ clock, logger: silentLogger(), label: 't', iss: 1000, send: (s) => out.push(s) });
    ep.events.onData = (d) => {
      for (const b of d) rx.push(b);
      ep.consumed(d.length);
    };
    ep.accept(seg(5000, 0, 2, undefined, o.mss ?? 1460));
    ep.input({ ...seg(5001, 1001, 16), window: o.window ?? 65535 });
    return { clock, out, rx, ep };
  }

  it('16 384 one-byte out-of-order segments cost bounded memory and time, and the stream still arrives', () => {
    const { ep, rx } = established();
    const t0 = performance.now();
    // Every byte except the first, newest first (the worst order for a sorted insert).
    for (let i = 16_384; i >= 1; i--) ep.input(seg(5001 + i, 1001, 16, Uint8Array.of(i & 255)));
    const ms = performance.now() - t0;
    expect(ep.stats.oooDropped).toBe(16_384 - 256);
    expect(ms).toBeLessThan(1000); // quadratic re-sorting took seconds
    ep.input(seg(5001, 1001, 16, Uint8Array.of(0)));
    expect(rx.length).toBe(1); // the queue kept the 256 segments nearest the end, not the next ones
    for (let i = 1; i <= 16_384; i++) ep.input(seg(5001 + i, 1001, 16, Uint8Array.of(i & 255)));
    expect(rx).toEqual(Array.from({ length: 16_385 }, (_, i) => i & 255));
  });

  it('an unanswered SYN-ACK is sent 1 + 5 times, then the half-open connection is dropped (~63 s)', () => {
    const clock = new ManualClock();
    const out: TcpOutSegment[] = [];
    const ep = new TcpEndpoint({ clock, logger: silentLogger(), label: 't', iss: 1000, send: (s) => out.push(s) });
    let err = '';
    ep.events.onError = (e) => (err = e);
    ep.accept(seg(5000, 0, 2, undefined, 1460));
    for (let i = 0; i < 200 && ep.state !== 'CLOSED'; i++) clock.advance(1e9);
    expect(ep.state).toBe('CLOSED');
    expect(err).toBe('ETIMEDOUT');
    expect(out.filter((s) => s.flags === 0x12)).toHaveLength(6);
    expect(clock.nanos).toBeLessThan(70e9);
  });

  it('a peer MSS below 48 is raised to 48 (CVE-2019-11479)', () => {
    const { ep, out } = established({ mss: 1 });
    expect(ep.peerMss).toBe(48);
    out.length = 0;
    ep.write(new Uint8Array(480));
    expect(out.filter((s) => s.payload?.length).map((s) => s.payload!.length)).toEqual(Array(10).fill(48));
  });

  it('zero-window probes give up after their limit and reset the connection', () => {
    const { ep, out, clock } = established({ window: 0 });
    let err = '';
    ep.events.onError = (e) => (err = e);
    ep.write(new Uint8Array(100));
    for (let i = 0; i < 200 && ep.state !== 'CLOSED'; i++) {
      clock.advance(5e9);
      ep.input({ ...seg(5001, 1001, 16), window: 0 });
    }
    expect(ep.state).toBe('CLOSED');
    expect(err).toBe('ETIMEDOUT');
    expect(ep.stats.probes).toBe(120);
    expect(out.at(-1)!.flags & 4).toBe(4);
  });
});

describe('pcap limits and errors', () => {
  it('--pcap-max stops the file at the cap with one warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-pcap-'));
    dirs.push(dir);
    const lines: string[] = [];
    const w = new PcapWriter(join(dir, 'x.pcap'), { maxBytes: 1000, logger: new Logger({ level: 'warn', sink: (l) => lines.push(l) }) });
    for (let i = 0; i < 100; i++) w.write(new Uint8Array(100), i * 1000);
    w.close();
    expect(statSync(join(dir, 'x.pcap')).size).toBeLessThanOrEqual(1000);
    expect(w.frames).toBe(8);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--pcap-max');
    expect(readFileSync(join(dir, 'x.pcap')).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it.skipIf(!existsSync('/dev/full'))('a full device is one PicowSimError naming the file (ENOSPC)', () => {
    expect(() => new PcapWriter('/dev/full')).toThrow(/--pcap \/dev\/full: cannot write \(ENOSPC/);
  });

  it.skipIf(!existsSync('/dev/full'))('a write failing mid-run stops the capture with one error line; the network goes on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-pcap-'));
    dirs.push(dir);
    const lines: string[] = [];
    const w = new PcapWriter(join(dir, 'y.pcap'), { logger: new Logger({ level: 'warn', sink: (l) => lines.push(l) }) });
    w.write(new Uint8Array(60), 0);
    // The disk fills up: the same descriptor now refuses writes.
    const fd = (w as unknown as { fd: number }).fd;
    closeSync(fd);
    const full = openSync('/dev/full', 'w');
    expect(full).toBe(fd);
    for (let i = 0; i < 10; i++) w.write(new Uint8Array(60), i);
    expect(w.frames).toBe(1);
    expect(lines).toEqual(['[net] error: --pcap ' + join(dir, 'y.pcap') + ': cannot write (ENOSPC: no space left on the device); capture stopped after 1 frames']);
  });

  it('an unwritable path is one PicowSimError', () => {
    expect(() => new PcapWriter('/proc/version/x.pcap')).toThrow(PicowSimError);
  });
});



