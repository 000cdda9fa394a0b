import { describe, expect, it } from 'vitest';
import { buildArp, parseArp } from '../../sim/net/wire/arp.ts';
import { checksumOk, internetChecksum } from '../../sim/net/wire/checksum.ts';
import { describeFrame } from '../../sim/net/wire/describe.ts';
import { buildDhcp, dhcpIpOption, dhcpMessageType, parseDhcp, u32Option } from '../../sim/net/wire/dhcp.ts';
import { buildDnsQuery, buildDnsResponse, parseDns, RCODE_NXDOMAIN, TYPE_A } from '../../sim/net/wire/dns.ts';
import { buildEthernet, macKey, macToString, parseEthernet, parseMac } from '../../sim/net/wire/ethernet.ts';
import { buildIcmp, buildIcmpError, parseIcmp } from '../../sim/net/wire/icmp.ts';
import { buildIpv4, ipToString, parseIp, parseIpv4 } from '../../sim/net/wire/ipv4.ts';
import { buildTcp, parseTcp, seqGt, seqLt, TCP_ACK, TCP_SYN } from '../../sim/net/wire/tcp.ts';
import { buildUdp, parseUdp } from '../../sim/net/wire/udp.ts';
import { arp, csum, decode, dhcp, dhcpOptions, dnsQuery, eth, icmpEcho, ip, ipv4, mac, tcp, udp } from '../../sim/net/scripted/frames.ts';

const A = ip('10.0.2.15');
const B = ip('10.0.2.2');

describe('checksum (RFC 1071)', () => {
  it('matches the RFC 1071 §3 example and an independent implementation', () => {
    const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    // RFC 1071 §3: the one's complement sum is ddf2, so the checksum is ~ddf2 = 220d.
    expect(internetChecksum(data)).toBe(0x220d);
    for (const len of [0, 1, 2, 3, 17, 1500]) {
      const b = Uint8Array.from({ length: len }, (_, i) => (i * 131 + 7) & 255);
      expect(internetChecksum(b)).toBe(csum(b));
    }
  });
  it('verifies a region containing its own checksum', () => {
    const b = Uint8Array.from([1, 2, 3, 4, 0, 0, 9]);
    const c = internetChecksum(b);
    b[4] = c >> 8;
    b[5] = c & 255;
    expect(checksumOk(b)).toBe(true);
    b[0] ^= 1;
    expect(checksumOk(b)).toBe(false);
  });
});

describe('Ethernet II', () => {
  it('parses and builds', () => {
    const f = eth(mac('52:55:0a:00:02:02'), mac('28:cd:c1:00:00:01'), 0x0800, [1, 2, 3]);
    const p = parseEthernet(f)!;
    expect(macToString(p.dst)).toBe('52:55:0a:00:02:02');
    expect(macToString(p.src)).toBe('28:cd:c1:00:00:01');
    expect(p.etherType).toBe(0x0800);
    expect([...p.payload]).toEqual([1, 2, 3]);
    expect(buildEthernet(p.dst, p.src, 0x0806, p.payload)[13]).toBe(0x06);
    expect(parseMac('28-cd-c1-00-00-01')).toEqual(mac('28:cd:c1:00:00:01'));
  });
  it('keys a MAC address by its 48 bits', () => {
    expect(macKey(mac('ff:ff:ff:ff:ff:ff'))).toBe(2 ** 48 - 1);
    expect(macKey(mac('28:cd:c1:00:00:01'))).toBe(0x28cdc1000001);
    expect(macKey(mac('80:00:00:00:00:00'))).toBe(2 ** 47);
    const keys = ['02:00:00:00:00:01', '00:00:00:00:02:01', '00:02:00:00:00:01', '01:00:00:00:00:02'].map((m) => macKey(mac(m)));
    expect(new Set(keys).size).toBe(keys.length);
  });
  it('rejects runts and 802.3 length frames', () => {
    expect(parseEthernet(new Uint8Array(13))).toBeNull();
    expect(parseEthernet(eth(mac('ff:ff:ff:ff:ff:ff'), mac('00:00:00:00:00:01'), 0x05dc, []))).toBeNull();
  });
});

describe('ARP (RFC 826)', () => {
  it('parses a request built in the test and builds a reply the test decodes', () => {
    const req = parseArp(Uint8Array.from(arp(1, mac('28:cd:c1:00:00:01'), A, new Uint8Array(6), B)))!;
    expect(req.op).toBe(1);
    expect(ipToString(req.senderIp)).toBe('10.0.2.15');
    expect(ipToString(req.targetIp)).toBe('10.0.2.2');
    const reply = buildArp({ op: 2, senderMac: mac('52:55:0a:00:02:02'), senderIp: B, targetMac: req.senderMac, targetIp: A });
    const d = decode(eth(req.senderMac, mac('52:55:0a:00:02:02'), 0x0806, reply));
    expect(d.arp).toEqual({ op: 2, smac: '52:55:0a:00:02:02', sip: '10.0.2.2', tmac: '28:cd:c1:00:00:01', tip: '10.0.2.15' });
  });
  it('rejects non-IPv4/Ethernet ARP', () => {
    const b = Uint8Array.from(arp(1, mac('28:cd:c1:00:00:01'), A, new Uint8Array(6), B));
    b[1] = 6; // htype IEEE 802
    expect(parseArp(b)).toBeNull();
  });
});

describe('IPv4 (RFC 791)', () => {
  it('parses header fields, verifies the checksum, strips Ethernet padding', () => {
    const pkt = Uint8Array.from([...ipv4(A, B, 17, [9, 9, 9, 9], 0x1234), 0, 0, 0]);
    const p = parseIpv4(pkt);
    if (typeof p === 'string') throw new Error(p);
    expect(p.checksumValid).toBe(true);
    expect(p.id).toBe(0x1234);
    expect(p.dontFragment).toBe(true);
    expect(p.payload.length).toBe(4);
    pkt[8] = 1; // change TTL, checksum no longer matches
    expect((parseIpv4(pkt) as { checksumValid: boolean }).checksumValid).toBe(false);
  });
  it('reports malformed headers', () => {
    expect(parseIpv4(new Uint8Array(10))).toBe('short');
    const v6 = Uint8Array.from(ipv4(A, B, 17, []));
    v6[0] = 0x65;
    expect(parseIpv4(v6)).toBe('version');
    const badLen = Uint8Array.from(ipv4(A, B, 17, []));
    badLen[3] = 200;
    expect(parseIpv4(badLen)).toBe('length');
  });
  it('builds packets the independent decoder accepts', () => {
    const f = eth(mac('00:00:00:00:00:01'), mac('00:00:00:00:00:02'), 0x0800, buildIpv4({ src: B, dst: A, protocol: 17, payload: buildUdp(B, A, 53, 5000, Uint8Array.from([1])) }));
    expect(decode(f).ip).toEqual({ src: '10.0.2.2', dst: '10.0.2.15', proto: 17 });
  });
  it('parses dotted quads strictly', () => {
    expect(parseIp('192.168.253.45')).toBe(ip('192.168.253.45'));
    expect(parseIp('256.1.1.1')).toBeNull();
    expect(parseIp('1.2.3')).toBeNull();
    expect(parseIp('a.b.c.d')).toBeNull();
  });
});

describe('ICMP (RFC 792)', () => {
  it('parses an echo request and builds a reply with a valid checksum', () => {
    const m = parseIcmp(Uint8Array.from(icmpEcho(0x42, 7, [1, 2, 3])))!;
    expect(m.checksumValid).toBe(true);
    expect(m.type).toBe(8);
    const r = buildIcmp(0, 0, m.rest, m.body);
    expect(csum(r)).toBe(0);
    expect([...r.subarray(4)]).toEqual([0, 0x42, 0, 7, 1, 2, 3]);
  });
  it('builds an error quoting the header and 8 bytes', () => {
    const hdr = Uint8Array.from(ipv4(A, B, 17, []).slice(0, 20));
    const e = buildIcmpError(3, 3, hdr, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(e.length).toBe(8 + 20 + 8);
    expect(csum(e)).toBe(0);
  });
});

describe('UDP (RFC 768)', () => {
  it('verifies the pseudo-header checksum both ways', () => {
    const seg = Uint8Array.from(udp(A, B, 5000, 53, [1, 2, 3]));
    const u = parseUdp(seg, A, B)!;
    expect(u).toMatchObject({ srcPort: 5000, dstPort: 53, checksumValid: true });
    expect(parseUdp(seg, A, ip('10.0.2.3'))!.checksumValid).toBe(false);
    const zero = seg.slice();
    zero[6] = 0;
    zero[7] = 0;
    expect(parseUdp(zero, A, B)!.checksumValid).toBe(true); // 0 = not computed
    const built = buildUdp(B, A, 53, 5000, Uint8Array.from([7, 7]));
    expect(decode(eth(mac('00:00:00:00:00:01'), mac('00:00:00:00:00:02'), 0x0800, buildIpv4({ src: B, dst: A, protocol: 17, payload: built }))).udp!.data).toEqual(Uint8Array.from([7, 7]));
  });
  it('rejects bad lengths', () => {
    const seg = Uint8Array.from(udp(A, B, 1, 2, [1]));
    seg[5] = 100;
    expect(parseUdp(seg, A, B)).toBeNull();
  });
});

describe('TCP (RFC 9293 §3.1)', () => {
  it('parses header, MSS option and checksum', () => {
    const seg = Uint8Array.from(tcp({ src: A, dst: B, sp: 50000, dp: 8080, seq: 0xfffffff0, flags: 'S', win: 5840, mss: 1460 }));
    const t = parseTcp(seg, A, B)!;
    expect(t).toMatchObject({ srcPort: 50000, dstPort: 8080, seq: 0xfffffff0, flags: TCP_SYN, window: 5840, mss: 1460, checksumValid: true });
    seg[4] ^= 0xff; // corrupt the sequence number
    expect(parseTcp(seg, A, B)!.checksumValid).toBe(false);
  });
  it('skips unknown options and stops on malformed ones', () => {
    const seg = Uint8Array.from(tcp({ src: A, dst: B, sp: 1, dp: 2, seq: 1, flags: 'S', mss: 1000 }));
    // Replace the MSS option by NOP, NOP, kind 99 len 2 and re-checksum through the builder path.
    const withOpts = [...seg.slice(0, 20), 1, 1, 99, 2, ...seg.slice(24)];
    withOpts[16] = 0;
    withOpts[17] = 0;
    const t = parseTcp(Uint8Array.from(withOpts), A, B)!;
    expect(t.mss).toBeUndefined();
    const bad = seg.slice();
    bad[21] = 0; // option length 0
    expect(parseTcp(bad, A, B)!.mss).toBeUndefined();
  });
  it('builds segments the independent decoder accepts', () => {
    const s = buildTcp({ srcIp: B, dstIp: A, srcPort: 8080, dstPort: 50000, seq: 1, ack: 2, flags: TCP_SYN | TCP_ACK, window: 65535, mss: 1460, payload: Uint8Array.from([]) });
    const d = decode(eth(mac('00:00:00:00:00:01'), mac('00:00:00:00:00:02'), 0x0800, buildIpv4({ src: B, dst: A, protocol: 6, payload: s })));
    expect(d.tcp).toMatchObject({ sp: 8080, dp: 50000, seq: 1, ack: 2, flags: 'SA', win: 65535, mss: 1460 });
  });
  it('compares sequence numbers modulo 2^32', () => {
    expect(seqLt(0xfffffff0, 0x10)).toBe(true);
    expect(seqGt(0x10, 0xfffffff0)).toBe(true);
    expect(seqLt(5, 5)).toBe(false);
  });
});

describe('DHCP (RFC 2131/2132)', () => {
  it('parses a DISCOVER built in the test', () => {
    const m = parseDhcp(Uint8Array.from(dhcp(1, 0xabcdef01, mac('28:cd:c1:00:00:01'), [[55, [1, 3, 6]], [50, [10, 0, 2, 15]]])))!;
    expect(m.xid).toBe(0xabcdef01);
    expect(dhcpMessageType(m)).toBe(1);
    expect(dhcpIpOption(m, 50)).toBe(A);
    expect(macToString(m.chaddr)).toBe('28:cd:c1:00:00:01');
  });
  it('builds an OFFER with options', () => {
    const b = buildDhcp({ op: 2, xid: 7, yiaddr: A, chaddr: mac('28:cd:c1:00:00:01'), options: [[53, Uint8Array.of(2)], [54, u32Option(B)], [51, u32Option(3600)]] });
    expect(b.length).toBeGreaterThanOrEqual(300);
    const o = dhcpOptions(b);
    expect(o.get(53)).toEqual([2]);
    expect(o.get(51)).toEqual([0, 0, 14, 16]);
  });
  it('rejects a missing magic cookie and truncated options', () => {
    const b = Uint8Array.from(dhcp(1, 1, mac('28:cd:c1:00:00:01')));
    const noCookie = b.slice();
    noCookie[236] = 0;
    expect(parseDhcp(noCookie)).toBeNull();
    const trunc = Uint8Array.from([...b.slice(0, 240), 50, 4, 10]);
    expect(parseDhcp(trunc)).toBeNull();
  });
});

describe('DNS (RFC 1035)', () => {
  it('parses a query built in the test and answers with a compressed name', () => {
    const q = parseDns(Uint8Array.from(dnsQuery(0x1234, 'Example.COM')))!;
    expect(q.questions).toEqual([{ name: 'Example.COM', type: TYPE_A, class: 1 }]);
    const r = buildDnsResponse({ id: q.id, recursionDesired: true, rcode: 0, question: q.questions[0], answers: [{ name: 'Example.COM', type: 1, class: 1, ttl: 60, data: Uint8Array.of(10, 0, 2, 2) }] });
    const back = parseDns(r)!;
    expect(back.isResponse).toBe(true);
    expect(back.answers[0]).toMatchObject({ name: 'Example.COM', type: 1, ttl: 60 });
    expect([...back.answers[0]!.data]).toEqual([10, 0, 2, 2]);
    expect(r.indexOf(0xc0)).toBeGreaterThan(12); // pointer to the question name
  });
  it('round-trips NXDOMAIN and queries', () => {
    const r = parseDns(buildDnsResponse({ id: 9, recursionDesired: false, rcode: RCODE_NXDOMAIN, question: { name: 'a.b', type: 1, class: 1 }, answers: [] }))!;
    expect(r.rcode).toBe(RCODE_NXDOMAIN);
    expect(parseDns(buildDnsQuery({ id: 5, name: 'pool.ntp.org' }))!.questions[0]!.name).toBe('pool.ntp.org');
  });
  it('survives compression loops and truncation', () => {
    const loop = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(parseDns(loop)).toBeNull();
    expect(parseDns(Uint8Array.from(dnsQuery(1, 'abc.def')).subarray(0, 16))).toBeNull();
  });
});

describe('frame descriptions (--trace net)', () => {
  it('decodes every layer in one line', () => {
    const f = eth(mac('52:55:0a:00:02:02'), mac('28:cd:c1:00:00:01'), 0x0800, ipv4(A, B, 6, tcp({ src: A, dst: B, sp: 50000, dp: 8080, seq: 1, flags: 'S', mss: 1460 })));
    const line = describeFrame(f);
    expect(line).toBe('10.0.2.15:50000 > 10.0.2.2:8080 TCP [S] seq=1 ack=0 win=65535 mss=1460 len=0');
    expect(line).not.toContain('\n');
    expect(describeFrame(eth(mac('ff:ff:ff:ff:ff:ff'), mac('28:cd:c1:00:00:01'), 0x0806, arp(1, mac('28:cd:c1:00:00:01'), A, new Uint8Array(6), B)))).toContain('ARP who-has 10.0.2.2 tell 10.0.2.15');
    expect(describeFrame(new Uint8Array(3))).toContain('runt');
  });
});
