import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { ManualClock } from '../../sim/time.ts';
import { ScriptedBoard, GW_MAC } from '../../sim/net/scripted/board.ts';
import { BCAST, dhcp, dnsQuery, eth, icmpEcho, ip, ipv4, udp } from '../../sim/net/scripted/frames.ts';
import { parseHostSpec } from '../../sim/session/specs.ts';

const dir = mkdtempSync(join(tmpdir(), 'picow-net-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** Capture a small conversation: ARP, DHCP, DNS, ICMP, a refused TCP SYN. */
async function capture(file: string, faults = {}) {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, pcapFile: file, hosts: [parseHostSpec('collector.local=10.0.2.2')], faults });
  const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
  net.attach(board.port);
  board.arpRequest('10.0.2.2');
  board.port.send(eth(BCAST, board.port.mac, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, dhcp(1, 0x42, board.port.mac, [[55, [1, 3, 6]]])))));
  clock.advance(1e6);
  board.udpSend('10.0.2.3', 5353, 53, dnsQuery(1, 'collector.local'));
  board.udpSend('10.0.2.3', 5354, 53, dnsQuery(2, 'example.com'));
  board.sendIp(ip('10.0.2.2'), 1, icmpEcho(1, 1, [1, 2, 3]));
  board.connect('203.0.113.5', 80);
  clock.advance(200e6);
  const frames = net.pcapFrames;
  await net.close();
  void GW_MAC;
  return frames;
}

describe('pcap capture', () => {
  it('writes a classic pcap file: header and one record per frame', async () => {
    const file = join(dir, 'a.pcap');
    const frames = await capture(file);
    const b = readFileSync(file);
    expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(b.readUInt16LE(4)).toBe(2);
    expect(b.readUInt16LE(6)).toBe(4);
    expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
    let off = 24;
    let n = 0;
    let lastTs = -1;
    while (off < b.length) {
      const ts = b.readUInt32LE(off) * 1e6 + b.readUInt32LE(off + 4);
      expect(ts).toBeGreaterThanOrEqual(lastTs);
      lastTs = ts;
      const incl = b.readUInt32LE(off + 8);
      expect(b.readUInt32LE(off + 12)).toBe(incl);
      off += 16 + incl;
      n++;
    }
    expect(off).toBe(b.length);
    expect(n).toBe(frames);
    expect(n).toBeGreaterThanOrEqual(12);
  });

  describe.skipIf(!hasTshark)(hasTshark ? 'read back with tshark' : 'read back with tshark (skipped: tshark is not installed)', () => {
    it('tshark -r reads every frame without errors and decodes the protocols', async () => {
      const file = join(dir, 'b.pcap');
      const frames = await capture(file, { latencyMs: 3 });
      const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.protocols', '-e', '_ws.expert.message'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(frames);
      const protos = lines.map((l) => l.split('\t')[0]!);
      expect(protos.some((p) => p.endsWith(':arp'))).toBe(true);
      expect(protos.some((p) => p.includes(':udp:dhcp'))).toBe(true);
      expect(protos.filter((p) => p.includes(':udp:dns')).length).toBe(4);
      expect(protos.filter((p) => p.includes(':icmp')).length).toBe(2);
      expect(protos.filter((p) => p.endsWith(':tcp')).length).toBe(2);
      // No malformed packets, no errors, no bad checksums (an RST is only a warning: "connection reset").
      const check = execFileSync('tshark', ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-Y', '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0'], { encoding: 'utf8' });
      expect(check.trim()).toBe('');
    });
  });
});
