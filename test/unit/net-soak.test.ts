/**
 * Soak: a million hostile frames from one board — SYN floods, spoofed sources, UDP to thousands of
 * destinations, forged MACs, DHCP floods, tiny MSS, out-of-order floods into a live connection,
 * a zero window held shut, ARP floods, with a pcap capture — and the host's memory and open
 * descriptors stay under a fixed ceiling; afterwards the board and host sockets still work.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../sim/log.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { buildArp } from '../../sim/net/wire/arp.ts';
import { buildDhcp } from '../../sim/net/wire/dhcp.ts';
import { buildEthernet } from '../../sim/net/wire/ethernet.ts';
import { buildIpv4 } from '../../sim/net/wire/ipv4.ts';
import { buildTcp } from '../../sim/net/wire/tcp.ts';
import { buildUdp } from '../../sim/net/wire/udp.ts';
import { ManualClock } from '../../sim/time.ts';
import { CountingHostIo, ScriptedBoard, GW_MAC, pumpUntil, until } from '../../sim/net/scripted/board.ts';
import { ip } from '../../sim/net/scripted/frames.ts';

const FRAMES = 1_000_000;
const openFds = (): number => readdirSync('/proc/self/fd').length;
const haveProc = (() => {
  try {
    return readdirSync('/proc/self/fd').length > 0;
  } catch {
    return false;
  }
})();

describe('soak', () => {
  it.skipIf(!haveProc)(`${FRAMES} hostile frames: RSS and descriptors bounded, everything still works`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picow-soak-'));
    const hostSockets: Socket[] = [];
    // A sink, and a talker that floods whoever connects (the board will hold its window shut).
    let sinkBytes = 0;
    const sink = createServer((s) => {
      hostSockets.push(s);
      s.on('data', (d) => (sinkBytes += d.length));
      s.on('error', () => undefined);
    });
    const talker = createServer((s) => {
      hostSockets.push(s);
      s.on('error', () => undefined);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (!s.destroyed && s.write(chunk));
      };
      s.on('drain', pump);
      pump();
    });
    await Promise.all([sink, talker].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))));
    const sinkPort = (sink.address() as { port: number }).port;
    const talkerPort = (talker.address() as { port: number }).port;
    const echo = createSocket('udp4');
    echo.on('message', (m, from) => echo.send(m, from.port, from.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
    const echoPort = echo.address().port;

    const clock = new ManualClock();
    const hostIo = new CountingHostIo();
    const warnings: string[] = [];
    const net = new VirtualNetwork({
      clock,
      hostIo,
      logger: new Logger({ level: 'warn', sink: (l) => warnings.push(l) }),
      pcapFile: join(dir, 'soak.pcap'),
      pcapMaxBytes: 4 << 20,
      tcp: { mslMs: 1000 },
    });
    const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
    net.attach(board.port);
    const boardDeliver = board.port.onDeliver;

    try {
      // A live connection to flood out of order, and one whose window the board keeps shut.
      const victim = board.connect('10.0.2.2', sinkPort);
      const shut = board.connect('10.0.2.2', talkerPort, { window: 0 });
      await pumpUntil([board], () => victim.state === 'ESTABLISHED' && shut.state === 'ESTABLISHED', clock, 'handshakes');
      // During the flood the board ignores what comes back (a real attacker would too).
      let inbound = 0;
      board.port.onDeliver = () => void inbound++;

      if (global.gc) global.gc();
      const rss0 = process.memoryUsage().rss;
      const fds0 = openFds();
      let maxFds = fds0;
      let maxRss = rss0;

      const BOARD = ip('10.0.2.15');
      const GW = ip('10.0.2.2');
      const BMAC = board.port.mac;
      let x = 0x12345678;
      const rnd = (): number => {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>>= 0);
      };
      const ipFrame = (src: number, dst: number, proto: number, payload: Uint8Array, srcMac = BMAC, dstMac = GW_MAC) =>
        buildEthernet(dstMac, srcMac, 0x0800, buildIpv4({ src, dst, protocol: proto, payload, id: rnd() & 0xffff }));
      const one = new Uint8Array(1);
      const frame = (k: number): Uint8Array => {
        switch (k) {
          case 0: // SYN flood from the board's own address
            return ipFrame(BOARD, GW, 6, buildTcp({ srcIp: BOARD, dstIp: GW, srcPort: 1024 + (rnd() % 60000), dstPort: sinkPort, seq: rnd(), ack: 0, flags: 2, window: 65535, mss: 1460 }));
          case 1: {
            // Spoofed sources, TCP and UDP
            const src = rnd() % 2 ? rnd() : (ip('10.0.2.0') | (rnd() & 255)) >>> 0;
            return rnd() % 2
              ? ipFrame(src, GW, 6, buildTcp({ srcIp: src, dstIp: GW, srcPort: rnd() & 0xffff, dstPort: sinkPort, seq: rnd(), ack: 0, flags: 2, window: 65535 }))
              : ipFrame(src, GW, 17, buildUdp(src, GW, rnd() & 0xffff, echoPort, one));
          }
          case 2: // UDP to thousands of destination ports
            return ipFrame(BOARD, GW, 17, buildUdp(BOARD, GW, 1024 + (rnd() % 4000), 1024 + (rnd() % 60000), one));
          case 3: {
            // Forged source MACs
            const m = Uint8Array.of(2, rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255);
            return buildEthernet(Uint8Array.of(255, 255, 255, 255, 255, 255), m, 0x88b5, one);
          }
          case 4: {
            // DHCP DISCOVER / DECLINE floods with random client MACs
            const m = Uint8Array.of(2, 9, rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255);
            const type = rnd() % 2 ? 1 : 4;
            const dh = buildDhcp({ op: 1, xid: rnd(), chaddr: m, options: [[53, Uint8Array.of(type)], [50, Uint8Array.of(10, 0, 2, 15 + (rnd() % 64))]] });
            return ipFrame(0, 0xffffffff, 17, buildUdp(0, 0xffffffff, 68, 67, dh), m, Uint8Array.of(255, 255, 255, 255, 255, 255));
          }
          case 5: // SYN with MSS 1
            return ipFrame(BOARD, GW, 6, buildTcp({ srcIp: BOARD, dstIp: GW, srcPort: 1024 + (rnd() % 60000), dstPort: sinkPort, seq: rnd(), ack: 0, flags: 2, window: 65535, mss: 1 }));
          case 6: {
            // One-byte out-of-order segments into the live connection
            const seq = (victim.sndNxt + 1 + (rnd() % 60000)) >>> 0;
            return ipFrame(BOARD, GW, 6, buildTcp({ srcIp: BOARD, dstIp: GW, srcPort: victim.lport, dstPort: sinkPort, seq, ack: victim.rcvNxt, flags: 16, window: 65535, payload: one }));
          }
          default: {
            // ARP from random LAN addresses
            const sip = (ip('10.0.2.0') | (rnd() & 255)) >>> 0;
            return buildEthernet(Uint8Array.of(255, 255, 255, 255, 255, 255), BMAC, 0x0806, buildArp({ op: 1, senderMac: BMAC, senderIp: sip, targetMac: new Uint8Array(6), targetIp: GW }));
          }
        }
      };

      const t0 = performance.now();
      for (let i = 0; i < FRAMES; i++) {
        board.port.send(frame(i & 7));
        if (i % 2000 === 0) {
          clock.advance(200e6);
          await new Promise((r) => setImmediate(r));
          if (i % 50_000 === 0) {
            maxFds = Math.max(maxFds, openFds());
            maxRss = Math.max(maxRss, process.memoryUsage().rss);
          }
        }
      }
      const ms = performance.now() - t0;
      maxFds = Math.max(maxFds, openFds());
      maxRss = Math.max(maxRss, process.memoryUsage().rss);

      // Ceilings: 256 TCP + 256 UDP host sockets at most, and no growth with the frame count.
      expect(maxFds - fds0).toBeLessThan(2 * 256 + 64);
      expect(maxRss - rss0).toBeLessThan(300 << 20);
      expect(net.tcp.connectionCount).toBeLessThanOrEqual(256);
      expect(net.udp.flowCount).toBeLessThanOrEqual(256);
      expect(statSync(join(dir, 'soak.pcap')).size).toBeLessThanOrEqual(4 << 20);
      for (const w of ['SYN backlog', 'UDP flows open', 'MAC addresses learned', '--pcap-max']) {
        expect(warnings.filter((l) => l.includes(w)), w).toHaveLength(1);
      }
      expect(warnings.length).toBeLessThan(20);
      expect(ms).toBeLessThan(90_000);

      // Let the flood's half-open connections and idle flows run out; the shut window gives up.
      board.port.onDeliver = boardDeliver;
      expect(inbound).toBeGreaterThan(1000);
      const victimKey = `10.0.2.15:${victim.lport}>10.0.2.2:${sinkPort}`;
      const others = () => net.tcp.connections().filter((c) => c.key !== victimKey);
      for (let t = 0; t < 300 && (others().length > 0 || net.udp.flowCount > 0); t++) {
        clock.advance(10e9);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(net.udp.flowCount).toBe(0);
      // The flood's half-open connections are gone, and the zero-window one gave up probing.
      expect(others()).toEqual([]);
      expect(warnings.filter((l) => l.includes('zero window through 120 probes'))).toHaveLength(1);

      // The board and host sockets still work.
      const fresh = board.connect('10.0.2.2', sinkPort);
      await pumpUntil([board], () => fresh.state === 'ESTABLISHED', clock, 'a fresh connection');
      const before = sinkBytes;
      fresh.write(new Uint8Array(10_000).fill(7));
      await pumpUntil([board], () => sinkBytes - before >= 10_000, clock, 'data to the host');
      board.udpSend('10.0.2.2', 45000, echoPort, [1, 2, 3]);
      await until(() => board.inbox.some((d) => d.udp?.sp === echoPort), clock, 'the UDP echo');
    } finally {
      await net.close();
      for (const s of hostSockets) s.destroy();
      await Promise.all([sink, talker].map((srv) => new Promise((r) => srv.close(r))));
      echo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
