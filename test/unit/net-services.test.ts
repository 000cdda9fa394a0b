import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../sim/log.ts';
import { VirtualNetwork, type VirtualNetworkOptions } from '../../sim/net/network.ts';
import { ManualClock } from '../../sim/time.ts';
import { CountingHostIo, ScriptedBoard, GW_MAC, until } from '../../sim/net/scripted/board.ts';
import { arp, BCAST, dhcp, dhcpOptions, dhcpYiaddr, dnsQuery, eth, icmpEcho, ip, ipBytes, ipStr, ipv4, mac, udp } from '../../sim/net/scripted/frames.ts';
import { parseHostSpec, parseMapSpec } from '../../sim/session/specs.ts';

const MS = 1_000_000;
const nets: VirtualNetwork[] = [];
const sockets: UdpSocket[] = [];
afterEach(async () => {
  for (const n of nets.splice(0)) await n.close();
  for (const s of sockets.splice(0)) s.close();
});

function setup(o: Partial<VirtualNetworkOptions> = {}, boardMac = '28:cd:c1:00:00:01') {
  const clock = new ManualClock();
  const hostIo = new CountingHostIo();
  const net = new VirtualNetwork({ clock, hostIo, ...o });
  nets.push(net);
  const board = new ScriptedBoard(clock, boardMac);
  const att = net.attach(board.port);
  return { clock, hostIo, net, board, att };
}

/** Send a DHCP message from an unconfigured board. */
function dhcpSend(board: ScriptedBoard, type: number, xid: number, opts: [number, number[]][] = [], ciaddr = 0, flags = 0) {
  const src = ciaddr;
  const dst = ciaddr ? ip('10.0.2.2') : 0xffffffff;
  const payload = dhcp(type, xid, board.port.mac, opts, ciaddr, flags);
  board.port.send(eth(ciaddr ? GW_MAC : BCAST, board.port.mac, 0x0800, ipv4(src, dst, 17, udp(src, dst, 68, 67, payload))));
}

function dhcpReplies(board: ScriptedBoard) {
  return board.takeWhere((d) => d.udp?.sp === 67).map((d) => ({ d, type: dhcpOptions(d.udp!.data).get(53)![0], opts: dhcpOptions(d.udp!.data), yiaddr: dhcpYiaddr(d.udp!.data) }));
}

describe('ARP at the gateway', () => {
  it('answers for 10.0.2.2 and 10.0.2.3 only', () => {
    const { board } = setup();
    board.arpRequest('10.0.2.2');
    board.arpRequest('10.0.2.3');
    board.arpRequest('10.0.2.99');
    const replies = board.takeWhere((d) => d.arp?.op === 2);
    expect(replies.map((r) => [r.arp!.sip, r.arp!.smac, r.dstMac])).toEqual([
      ['10.0.2.2', '52:55:0a:00:02:02', '28:cd:c1:00:00:01'],
      ['10.0.2.3', '52:55:0a:00:02:02', '28:cd:c1:00:00:01'],
    ]);
  });
});

describe('DHCP server', () => {
  it('DISCOVER/OFFER/REQUEST/ACK gives 10.0.2.15 with router, DNS, mask and lease time', () => {
    const { board, net } = setup({ leaseSeconds: 3600 });
    dhcpSend(board, 1, 0x1111, [[55, [1, 3, 6]]]);
    const [offer] = dhcpReplies(board);
    expect(offer!.type).toBe(2);
    expect(offer!.yiaddr).toBe('10.0.2.15');
    expect(offer!.d.ip!.dst).toBe('10.0.2.15'); // unicast to yiaddr/chaddr when no broadcast flag (RFC 2131 §4.1)
    expect(offer!.d.dstMac).toBe('28:cd:c1:00:00:01');
    expect(offer!.opts.get(3)).toEqual([10, 0, 2, 2]);
    expect(offer!.opts.get(6)).toEqual([10, 0, 2, 3]);
    expect(offer!.opts.get(1)).toEqual([255, 255, 255, 0]);
    expect(offer!.opts.get(54)).toEqual([10, 0, 2, 2]);
    expect(offer!.opts.get(51)).toEqual(ipBytes(3600));
    expect(offer!.opts.get(58)).toEqual(ipBytes(1800));
    expect(offer!.opts.get(59)).toEqual(ipBytes(3150));
    dhcpSend(board, 3, 0x1111, [[50, [10, 0, 2, 15]], [54, [10, 0, 2, 2]]]);
    const [ack] = dhcpReplies(board);
    expect(ack!.type).toBe(5);
    expect(ack!.yiaddr).toBe('10.0.2.15');
    expect(net.leases()[0]).toMatchObject({ mac: '28:cd:c1:00:00:01', ip: ip('10.0.2.15'), bound: true });
  });

  it('broadcasts replies when the client sets the broadcast flag', () => {
    const { board } = setup();
    dhcpSend(board, 1, 7, [], 0, 0x8000);
    const [offer] = dhcpReplies(board);
    expect(offer!.d.ip!.dst).toBe('255.255.255.255');
    expect(offer!.d.dstMac).toBe('ff:ff:ff:ff:ff:ff');
  });

  it('NAKs a request for the wrong address, broadcast', () => {
    const { board } = setup();
    dhcpSend(board, 1, 2);
    dhcpReplies(board);
    dhcpSend(board, 3, 2, [[50, [10, 0, 2, 40]], [54, [10, 0, 2, 2]]]);
    const [nak] = dhcpReplies(board);
    expect(nak!.type).toBe(6);
    expect(nak!.d.ip!.dst).toBe('255.255.255.255');
  });

  it('ignores a request for another server and drops the offer', () => {
    const { board } = setup();
    dhcpSend(board, 1, 3);
    dhcpReplies(board);
    dhcpSend(board, 3, 3, [[50, [10, 0, 2, 15]], [54, [10, 0, 2, 200]]]);
    expect(dhcpReplies(board)).toHaveLength(0);
  });

  it('renews a lease unicast to ciaddr at T1 and extends it', () => {
    const { board, net, clock } = setup({ leaseSeconds: 100 });
    dhcpSend(board, 1, 4);
    dhcpReplies(board);
    dhcpSend(board, 3, 4, [[50, [10, 0, 2, 15]], [54, [10, 0, 2, 2]]]);
    dhcpReplies(board);
    const first = net.leases()[0]!.expiresNanos;
    clock.advance(50_000 * MS);
    dhcpSend(board, 3, 5, [], ip('10.0.2.15'));
    const [ack] = dhcpReplies(board);
    expect(ack!.type).toBe(5);
    expect(ack!.d.ip!.dst).toBe('10.0.2.15');
    expect(net.leases()[0]!.expiresNanos).toBe(first + 50_000 * MS);
  });

  it('gives each board on the LAN its own lease in attach order', () => {
    const { net, clock, board } = setup();
    const b2 = new ScriptedBoard(clock, '28:cd:c1:00:00:02', '10.0.2.16');
    const att2 = net.attach(b2.port);
    expect(att2.ip).toBe(ip('10.0.2.16'));
    dhcpSend(b2, 1, 9);
    dhcpSend(board, 1, 8);
    expect(dhcpReplies(b2).map((r) => r.yiaddr)).toContain('10.0.2.16');
    expect(dhcpReplies(board).map((r) => r.yiaddr)).toContain('10.0.2.15');
  });

  it('answers INFORM without a lease', () => {
    const { board } = setup();
    dhcpSend(board, 8, 10, [], ip('10.0.2.15'));
    const [ack] = dhcpReplies(board);
    expect(ack!.type).toBe(5);
    expect(ack!.yiaddr).toBe('0.0.0.0');
    expect(ack!.opts.has(51)).toBe(false);
  });
});

describe('DNS server', () => {
  function query(board: ScriptedBoard, id: number, name: string, type = 1) {
    board.udpSend('10.0.2.3', 40000 + id, 53, dnsQuery(id, name, type));
  }
  function answers(board: ScriptedBoard) {
    return board.takeWhere((d) => d.udp?.sp === 53).map((d) => {
      const b = d.udp!.data;
      return { id: b[0]! * 256 + b[1]!, rcode: b[3]! & 15, an: b[6]! * 256 + b[7]!, last4: [...b.subarray(b.length - 4)], dst: d.ip!.dst, dp: d.udp!.dp };
    });
  }

  it('answers --host names, the NTP pool, and NXDOMAIN otherwise', () => {
    const { board } = setup({ hosts: [parseHostSpec('myserver.local=192.168.253.45')] });
    query(board, 1, 'MyServer.Local');
    query(board, 2, 'example.com');
    query(board, 3, 'pool.ntp.org');
    query(board, 4, 'myserver.local', 28);
    const r = answers(board);
    expect(r[0]).toMatchObject({ id: 1, rcode: 0, an: 1, last4: [192, 168, 253, 45], dst: '10.0.2.15', dp: 40001 });
    expect(r[1]).toMatchObject({ id: 2, rcode: 3, an: 0 });
    expect(r[2]).toMatchObject({ id: 3, rcode: 0, an: 1, last4: [10, 0, 2, 2] });
    expect(r[3]).toMatchObject({ id: 4, rcode: 0, an: 0 }); // AAAA: name exists, no data
  });

  it('with allow-internet asks the host resolver, holding a HostIo token meanwhile', async () => {
    let resolve: (a: number[]) => void = () => undefined;
    const { board, hostIo, clock } = setup({ allowInternet: true, resolver: () => new Promise((r) => (resolve = r)) });
    query(board, 5, 'example.org');
    expect(hostIo.open.size).toBe(1);
    resolve([ip('93.184.215.14')]);
    await until(() => board.inbox.some((d) => d.udp?.sp === 53), clock, 'DNS answer');
    expect(hostIo.open.size).toBe(0);
    expect(answers(board)[0]).toMatchObject({ id: 5, rcode: 0, an: 1, last4: [93, 184, 215, 14] });
  });

  it('answers garbage with FORMERR or not at all', () => {
    const { board } = setup();
    board.udpSend('10.0.2.3', 40000, 53, [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1]);
    board.udpSend('10.0.2.3', 40000, 53, [1, 2, 3]);
    const r = answers(board);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ id: 9, rcode: 1 });
  });
});

describe('ICMP', () => {
  it('echoes for the gateway and the DNS address', () => {
    const { board } = setup();
    board.sendIp(ip('10.0.2.2'), 1, icmpEcho(0x77, 1, [1, 2, 3, 4]));
    board.sendIp(ip('10.0.2.3'), 1, icmpEcho(0x77, 2, [5]));
    const r = board.takeWhere((d) => d.icmp !== undefined);
    expect(r.map((d) => [d.ip!.src, d.icmp!.type, [...d.icmp!.rest]])).toEqual([
      ['10.0.2.2', 0, [0, 0x77, 0, 1, 1, 2, 3, 4]],
      ['10.0.2.3', 0, [0, 0x77, 0, 2, 5]],
    ]);
  });

  it('answers echo to the outside with "administratively prohibited"', () => {
    const { board } = setup();
    board.sendIp(ip('203.0.113.9'), 1, icmpEcho(1, 1, []));
    const [r] = board.takeWhere((d) => d.icmp !== undefined);
    expect(r!.icmp).toMatchObject({ type: 3, code: 13 });
  });
});

describe('SNTP at 10.0.2.2:123', () => {
  it('answers a client request with host time', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 500);
    const { board } = setup({ now: () => now });
    const req = new Array(48).fill(0);
    req[0] = 0x1b;
    req[40] = 0xde; // client transmit timestamp, echoed as originate
    board.udpSend('10.0.2.2', 50123, 123, req);
    const [r] = board.takeWhere((d) => d.udp?.sp === 123);
    const b = r!.udp!.data;
    expect(b.length).toBe(48);
    expect(b[0]! & 7).toBe(4);
    expect(b[24]).toBe(0xde);
    const secs = ((b[40]! << 24) | (b[41]! << 16) | (b[42]! << 8) | b[43]!) >>> 0;
    expect(secs - 2208988800).toBe(Math.floor(now / 1000));
    expect(b[44]).toBe(128); // .5 s
  });
});

describe('UDP NAT', () => {
  async function echoServer(): Promise<number> {
    const s = createSocket('udp4');
    sockets.push(s);
    s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return s.address().port;
  }

  it('carries datagrams to 10.0.2.2:P via 127.0.0.1:P and back, holding HostIo while waiting', async () => {
    const port = await echoServer();
    const { board, clock, hostIo } = setup();
    board.udpSend('10.0.2.2', 40001, port, [104, 105]);
    expect(hostIo.open.size).toBe(1);
    await until(() => board.inbox.some((d) => d.udp?.sp === port), clock, 'UDP echo');
    const [r] = board.takeWhere((d) => d.udp?.sp === port);
    expect(r!.ip!.src).toBe('10.0.2.2');
    expect(r!.udp!.dp).toBe(40001);
    expect(Buffer.from(r!.udp!.data).toString()).toBe('echo:hi');
    expect(hostIo.open.size).toBe(0);
  });

  it('follows --map and replies from the mapped address', async () => {
    const port = await echoServer();
    const { board, clock } = setup({ maps: [parseMapSpec(`192.168.253.45:7000=127.0.0.1:${port}`)] });
    board.udpSend('192.168.253.45', 40002, 7000, [1]);
    await until(() => board.inbox.some((d) => d.udp?.sp === 7000), clock, 'mapped UDP echo');
    const [r] = board.takeWhere((d) => d.udp?.sp === 7000);
    expect(r!.ip!.src).toBe('192.168.253.45');
  });

  it('refuses unmapped destinations with ICMP unreachable and opens no socket', () => {
    const { board, hostIo, net } = setup();
    board.udpSend('203.0.113.1', 40003, 9999, [1]);
    const [r] = board.takeWhere((d) => d.icmp !== undefined);
    expect(r!.icmp).toMatchObject({ type: 3, code: 13 });
    expect(hostIo.begun).toBe(0);
    expect(net.udp.flowCount).toBe(0);
  });
});

describe('link faults and the switch', () => {
  it('latency delays frames in each direction on simulated time', () => {
    const { board, clock } = setup({ faults: { latencyMs: 50 } });
    board.arpRequest('10.0.2.2');
    clock.advance(99 * MS);
    expect(board.inbox).toHaveLength(0);
    clock.advance(2 * MS);
    expect(board.inbox.filter((d) => d.arp)).toHaveLength(1);
  });

  it('100 % loss and link down drop everything; restoring brings traffic back', () => {
    const { board, net, att } = setup({ faults: { lossPercent: 100 } });
    board.arpRequest('10.0.2.2');
    expect(board.inbox).toHaveLength(0);
    net.setFaults({});
    att.setLinkUp(false);
    board.arpRequest('10.0.2.2');
    expect(board.inbox).toHaveLength(0);
    net.setLinkUp(true);
    board.arpRequest('10.0.2.2');
    expect(board.inbox).toHaveLength(1);
  });

  it('takes the link down at a given simulated time', () => {
    const { board, net, clock } = setup();
    net.at(1000 * MS, () => net.setLinkUp(false));
    net.at(3000 * MS, () => net.setLinkUp(true));
    board.arpRequest('10.0.2.2');
    clock.advance(1500 * MS);
    board.arpRequest('10.0.2.2');
    clock.advance(2000 * MS);
    board.arpRequest('10.0.2.2');
    expect(board.inbox.filter((d) => d.arp?.op === 2)).toHaveLength(2);
    expect(net.attachments[0]!.stats.up.droppedDown).toBe(1);
  });

  it('loss is random but reproducible with a seed', () => {
    const run = () => {
      const { board } = setup({ faults: { lossPercent: 30, seed: 42 } });
      for (let i = 0; i < 200; i++) board.arpRequest('10.0.2.2');
      return board.inbox.length;
    };
    const a = run();
    expect(a).toBe(run());
    // Two independent 30 % drops: about 49 % arrive.
    expect(a).toBeGreaterThan(70);
    expect(a).toBeLessThan(130);
  });

  it('a bandwidth cap spaces frames by their serialisation time', () => {
    const { board, clock } = setup({ faults: { bandwidthKbps: 1000 } });
    // 1000 echo bytes + headers ≈ 1042-byte frame ≈ 8.3 ms at 1 Mbit/s per direction.
    for (let i = 0; i < 3; i++) board.sendIp(ip('10.0.2.2'), 1, icmpEcho(1, i, new Array(1000).fill(0)));
    clock.advance(20 * MS);
    expect(board.inbox.length).toBe(1);
    clock.advance(40 * MS);
    expect(board.inbox.length).toBe(3);
  });

  it('switches frames between two boards unchanged', () => {
    const { net, clock, board } = setup();
    const b2 = new ScriptedBoard(clock, '28:cd:c1:00:00:02', '10.0.2.16');
    net.attach(b2.port);
    board.arpRequest('10.0.2.16');
    const [reply] = board.takeWhere((d) => d.arp?.op === 2);
    expect(reply!.arp!.smac).toBe('28:cd:c1:00:00:02');
    const frame = eth(mac('28:cd:c1:00:00:02'), board.port.mac, 0x0800, ipv4(ip('10.0.2.15'), ip('10.0.2.16'), 17, udp(ip('10.0.2.15'), ip('10.0.2.16'), 1000, 2000, [42])));
    board.port.send(frame);
    expect(b2.port.received.at(-1)).toEqual(frame); // byte for byte
    const got = b2.takeWhere((d) => d.udp?.dp === 2000);
    expect(got).toHaveLength(1);
    expect(got[0]!.ip!.src).toBe('10.0.2.15');
    expect([...got[0]!.udp!.data]).toEqual([42]);
  });

  it('traces every frame in one decoded line with --trace net', () => {
    const lines: string[] = [];
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock, logger: new Logger({ level: 'warn', trace: ['net'], sink: (l) => lines.push(l) }) });
    nets.push(net);
    const board = new ScriptedBoard(clock, '28:cd:c1:00:00:01');
    net.attach(board.port);
    board.arpRequest('10.0.2.2');
    expect(lines).toEqual([
      '[net] board: 28:cd:c1:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.2.2 tell 10.0.2.15',
      '[net] gateway: 52:55:0a:00:02:02 > 28:cd:c1:00:00:01 ARP 10.0.2.2 is-at 52:55:0a:00:02:02',
    ]);
    void arp;
    void ipStr;
  });
});
