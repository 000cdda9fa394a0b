/** One-line summaries of frames for `--trace net`. */
import { parseArp, ARP_REQUEST } from './arp.ts';
import { DHCP_TYPE_NAMES, dhcpMessageType, parseDhcp } from './dhcp.ts';
import { parseDns } from './dns.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, macToString, parseEthernet } from './ethernet.ts';
import { parseIcmp } from './icmp.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipToString, parseIpv4 } from './ipv4.ts';
import { parseTcp, tcpFlagsToString } from './tcp.ts';
import { parseUdp } from './udp.ts';

export function describeFrame(frame: Uint8Array): string {
  const eth = parseEthernet(frame);
  if (!eth) return `runt frame (${frame.length} bytes)`;
  const head = `${macToString(eth.src)} > ${macToString(eth.dst)}`;
  if (eth.etherType === ETHERTYPE_ARP) {
    const a = parseArp(eth.payload);
    if (!a) return `${head} ARP malformed`;
    return a.op === ARP_REQUEST
      ? `${head} ARP who-has ${ipToString(a.targetIp)} tell ${ipToString(a.senderIp)}`
      : `${head} ARP ${ipToString(a.senderIp)} is-at ${macToString(a.senderMac)}`;
  }
  if (eth.etherType !== ETHERTYPE_IPV4) return `${head} ethertype 0x${eth.etherType.toString(16).padStart(4, '0')} len=${eth.payload.length}`;
  const ip = parseIpv4(eth.payload);
  if (typeof ip === 'string') return `${head} IPv4 malformed (${ip})`;
  const s = ipToString(ip.src);
  const d = ipToString(ip.dst);
  const frag = ip.moreFragments || ip.fragmentOffset ? ` frag off=${ip.fragmentOffset}${ip.moreFragments ? '+' : ''}` : '';
  const bad = ip.checksumValid ? '' : ' bad-ip-cksum';
  if (ip.protocol === IPPROTO_TCP) {
    const t = parseTcp(ip.payload, ip.src, ip.dst);
    if (!t) return `${s} > ${d} TCP malformed${bad}`;
    const mss = t.mss !== undefined ? ` mss=${t.mss}` : '';
    return `${s}:${t.srcPort} > ${d}:${t.dstPort} TCP [${tcpFlagsToString(t.flags)}] seq=${t.seq} ack=${t.ack} win=${t.window}${mss} len=${t.payload.length}${t.checksumValid ? '' : ' bad-cksum'}${bad}${frag}`;
  }
  if (ip.protocol === IPPROTO_UDP) {
    const u = parseUdp(ip.payload, ip.src, ip.dst);
    if (!u) return `${s} > ${d} UDP malformed${bad}`;
    let app = '';
    if (u.srcPort === 67 || u.dstPort === 67) {
      const m = parseDhcp(u.payload);
      const t = m ? dhcpMessageType(m) : undefined;
      app = m ? ` DHCP ${t !== undefined ? (DHCP_TYPE_NAMES[t] ?? t) : '?'} xid=0x${m.xid.toString(16)}${m.yiaddr ? ` yiaddr=${ipToString(m.yiaddr)}` : ''}` : ' DHCP malformed';
    } else if (u.srcPort === 53 || u.dstPort === 53) {
      const m = parseDns(u.payload);
      app = m ? ` DNS ${m.isResponse ? `reply rcode=${m.rcode} an=${m.answers.length}` : 'query'} ${m.questions[0]?.name ?? ''} id=${m.id}` : ' DNS malformed';
    } else if (u.srcPort === 123 || u.dstPort === 123) app = ' NTP';
    return `${s}:${u.srcPort} > ${d}:${u.dstPort} UDP len=${u.payload.length}${app}${u.checksumValid ? '' : ' bad-cksum'}${bad}${frag}`;
  }
  if (ip.protocol === IPPROTO_ICMP) {
    const c = parseIcmp(ip.payload);
    return c ? `${s} > ${d} ICMP type=${c.type} code=${c.code} len=${c.body.length}${bad}` : `${s} > ${d} ICMP malformed`;
  }
  return `${s} > ${d} proto=${ip.protocol} len=${ip.payload.length}${bad}${frag}`;
}
