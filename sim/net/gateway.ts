/**
 * The gateway's link and IP layer: answers ARP for the virtual addresses it owns (10.0.2.2 and
 * 10.0.2.3), keeps an ARP cache of the boards, resolves board MACs before sending, and hands
 * valid unfragmented IPv4 packets addressed to it (or broadcast) to the network's services.
 */
import type { Logger } from '../log.ts';
import type { SimClock } from '../time.ts';
import { GATEWAY_MAC, inSubnet, isBroadcastOrMulticast } from './addressing.ts';
import type { EthernetSwitch, SwitchPortHandle } from './switch.ts';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from './wire/arp.ts';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, isGroupMac, macEquals, parseEthernet } from './wire/ethernet.ts';
import { buildIpv4, ipToString, parseIpv4, type Ipv4Packet } from './wire/ipv4.ts';

/** Packets held per address while its MAC is being resolved (RFC 1122 §2.3.2.2 asks for at least one). */
const ARP_QUEUE_LIMIT = 32;
/** Minimum simulated time between ARP requests for one address (RFC 1122 §2.3.2.1 rate limit). */
const ARP_RETRY_NANOS = 1_000_000_000;

export interface ArpEntry {
  mac: Uint8Array;
}

export class Gateway {
  readonly mac = GATEWAY_MAC;
  private readonly owned = new Set<number>();
  private readonly arp = new Map<number, ArpEntry>();
  private readonly pending = new Map<number, { packets: Uint8Array[]; lastRequest: number }>();
  private port: SwitchPortHandle | null = null;
  private ipId = 1;
  /** Called with every IPv4 packet addressed to the gateway, a virtual address, or broadcast. */
  onPacket: ((ip: Ipv4Packet, srcMac: Uint8Array) => void) | null = null;
  readonly stats = { arpReplies: 0, badIp: 0, fragmentsDropped: 0 };

  constructor(
    private readonly log: Logger,
    private readonly clock: SimClock,
    ownedAddresses: number[],
  ) {
    for (const a of ownedAddresses) this.owned.add(a);
  }

  attach(sw: EthernetSwitch): void {
    this.port = sw.addPort('gateway', (f) => this.receive(f));
  }

  /** Record a board's MAC (from DHCP) so the first packet to it needs no ARP round trip. */
  learn(ip: number, mac: Uint8Array): void {
    if (ip === 0 || isBroadcastOrMulticast(ip) || this.owned.has(ip)) return;
    this.arp.set(ip, { mac: mac.slice(0, 6) });
    const q = this.pending.get(ip);
    if (q) {
      this.pending.delete(ip);
      for (const p of q.packets) this.sendFrame(mac, ETHERTYPE_IPV4, p);
    }
  }

  forget(ip: number): void {
    this.arp.delete(ip);
  }

  macOf(ip: number): Uint8Array | undefined {
    return this.arp.get(ip)?.mac;
  }

  /** Send an IPv4 packet from one of the gateway's addresses (or a mapped one) to a board. */
  sendIp(src: number, dst: number, protocol: number, payload: Uint8Array, dstMac?: Uint8Array): void {
    const packet = buildIpv4({ src, dst, protocol, payload, id: this.ipId++ & 0xffff });
    if (dstMac) return this.sendFrame(dstMac, ETHERTYPE_IPV4, packet);
    if (dst >>> 28 === 0xe) {
      // IPv4 multicast to Ethernet: 01:00:5e + the low 23 bits of the group (RFC 1112 §6.4).
      return this.sendFrame(new Uint8Array([0x01, 0x00, 0x5e, (dst >>> 16) & 0x7f, (dst >>> 8) & 0xff, dst & 0xff]), ETHERTYPE_IPV4, packet);
    }
    if (isBroadcastOrMulticast(dst)) return this.sendFrame(BROADCAST_MAC, ETHERTYPE_IPV4, packet);
    const e = this.arp.get(dst);
    if (e) return this.sendFrame(e.mac, ETHERTYPE_IPV4, packet);
    if (!inSubnet(dst)) {
      this.log.debug('net', `no route to ${ipToString(dst)}; packet dropped`);
      return;
    }
    let q = this.pending.get(dst);
    if (!q) {
      q = { packets: [], lastRequest: -Infinity };
      this.pending.set(dst, q);
    }
    if (q.packets.length < ARP_QUEUE_LIMIT) q.packets.push(packet);
    if (this.clock.nanos - q.lastRequest >= ARP_RETRY_NANOS) {
      q.lastRequest = this.clock.nanos;
      const ownSrc = this.owned.has(src) ? src : [...this.owned][0]!;
      const req = buildArp({ op: ARP_REQUEST, senderMac: this.mac, senderIp: ownSrc, targetMac: new Uint8Array(6), targetIp: dst });
      this.sendFrame(BROADCAST_MAC, ETHERTYPE_ARP, req);
    }
  }

  private sendFrame(dst: Uint8Array, etherType: number, payload: Uint8Array): void {
    this.port?.input(buildEthernet(dst, this.mac, etherType, payload));
  }

  private receive(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!eth) return;
    if (!isGroupMac(eth.dst) && !macEquals(eth.dst, this.mac)) return;
    if (eth.etherType === ETHERTYPE_ARP) return this.receiveArp(eth.payload);
    if (eth.etherType !== ETHERTYPE_IPV4) return;
    const ip = parseIpv4(eth.payload);
    if (typeof ip === 'string' || !ip.checksumValid) {
      this.stats.badIp++;
      return;
    }
    if (ip.moreFragments || ip.fragmentOffset !== 0) {
      // No reassembly: boards send at most MTU-sized datagrams on this link.
      this.stats.fragmentsDropped++;
      this.log.debug('net', `IPv4 fragment from ${ipToString(ip.src)} dropped`);
      return;
    }
    if (inSubnet(ip.src) && ip.src !== 0 && !this.owned.has(ip.src) && !isGroupMac(eth.src)) {
      if (!this.arp.has(ip.src)) this.learn(ip.src, eth.src);
    }
    this.onPacket?.(ip, eth.src);
  }

  private receiveArp(payload: Uint8Array): void {
    const a = parseArp(payload);
    if (!a) return;
    if (a.senderIp !== 0 && inSubnet(a.senderIp) && !this.owned.has(a.senderIp) && !isGroupMac(a.senderMac)) {
      this.learn(a.senderIp, a.senderMac);
    }
    if (a.op === ARP_REQUEST && this.owned.has(a.targetIp)) {
      this.stats.arpReplies++;
      const reply = buildArp({ op: ARP_REPLY, senderMac: this.mac, senderIp: a.targetIp, targetMac: a.senderMac, targetIp: a.senderIp });
      this.sendFrame(a.senderMac, ETHERTYPE_ARP, reply);
    }
  }
}
