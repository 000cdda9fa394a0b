/**
 * The virtual LAN: a switch joining any number of boards and the gateway, whose services are
 * DHCP (10.0.2.15 and up), DNS (10.0.2.3), ICMP echo, SNTP (10.0.2.2:123) and the UDP/TCP NAT
 * into Node sockets under the egress policy; inbound port forwards; pcap capture and link
 * faults on each board's link.
 */
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { NO_HOST_IO, type HostIo, type SimClock } from '../time.ts';
import { PicowSimError } from '../errors.ts';
import { DNS_IP, FIRST_LEASE_IP, GATEWAY_IP, inSubnet, isBroadcastOrMulticast, LOOPBACK_HOST, NETMASK, SUBNET_BROADCAST } from './addressing.ts';
import { DhcpServer, type Lease } from './dhcp-server.ts';
import { DnsServer, type HostResolver } from './dns-server.ts';
import { PortForwarder, type ActiveForward } from './forward.ts';
import { Gateway } from './gateway.ts';
import { echoReply } from './icmp-echo.ts';
import { LinkConditioner } from './link-faults.ts';
import { limitHit, resolveLimits, type NetLimits } from './limits.ts';
import { PcapWriter } from './pcap.ts';
import {
  EgressPolicy,
  type ForwardRule,
  type HostEntry,
  type LinkFaults,
  type MapRule,
} from './policy.ts';
import type { EthernetPort } from './port.ts';
import { NTP_PORT, sntpReply } from './sntp.ts';
import { EthernetSwitch, type SwitchPortHandle } from './switch.ts';
import { TcpNat } from './tcp-nat.ts';
import { UdpNat } from './udp-nat.ts';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseDhcp } from './wire/dhcp.ts';
import { DNS_PORT } from './wire/dns.ts';
import { macKey, macToString } from './wire/ethernet.ts';
import {
  buildIcmpError,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REQUEST,
  parseIcmp,
  UNREACH_ADMIN_PROHIBITED,
  UNREACH_PORT,
} from './wire/icmp.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipToString, type Ipv4Packet } from './wire/ipv4.ts';
import { parseTcp } from './wire/tcp.ts';
import { buildUdp, parseUdp } from './wire/udp.ts';

/** mDNS group and port (RFC 6762 §3). */
const MDNS_GROUP = 0xe00000fb; // 224.0.0.251
const MDNS_PORT = 5353;
/** DHCP pool size (QEMU hands out 16; a larger pool lets bigger test LANs join). */
const POOL_SIZE = 64;

export interface VirtualNetworkOptions {
  clock: SimClock;
  hostIo?: HostIo;
  logger?: Logger;
  /** `--map` rules, as specs or parsed. */
  maps?: MapRule[];
  /** `--host` names, as specs or parsed. */
  hosts?: HostEntry[];
  /** `--forward` rules, as specs or parsed; listeners open in `start()`. */
  forwards?: ForwardRule[];
  /** Let unmapped destinations through to the real network (default false). */
  allowInternet?: boolean;
  /**
   * `--restrict`: 10.0.2.2 is not the host loopback; the board reaches only `servers`, `maps`
   * targets and `forwards` (QEMU's restrict=on, passt's --no-map-gw). Not with allowInternet.
   */
  restrict?: boolean;
  /** Ports of the embedded servers on 127.0.0.1: the board reaches them at 10.0.2.2:P, restricted or not. */
  servers?: number[];
  /** Hard limits on per-board state (defaults in limits.ts). */
  limits?: Partial<NetLimits>;
  /** Write every frame on the LAN to this pcap file. */
  pcapFile?: string;
  /** Stop capturing (one warning) once the pcap file reaches this many bytes (`--pcap-max`). */
  pcapMaxBytes?: number;
  /** Faults applied to every board link (each direction). */
  faults?: LinkFaults;
  /** DHCP lease time in seconds (default 86400). */
  leaseSeconds?: number;
  /** Seed for sequence numbers and fault generators (default fixed). */
  seed?: number;
  /** Host wall clock for SNTP answers, Unix ms (default Date.now). */
  now?: () => number;
  /** Host resolver used with allowInternet (default node:dns lookup). */
  resolver?: HostResolver;
  /** TCP endpoint tuning (tests). */
  tcp?: { rtoMinMs?: number; rtoInitialMs?: number; mslMs?: number; receiveBuffer?: number; sendBuffer?: number };
}

export interface NetAttachment {
  readonly port: EthernetPort;
  readonly name: string;
  /** The address reserved for this board's lease (it still asks by DHCP). */
  readonly ip: number;
  /** Replace this link's faults. */
  setFaults(f: LinkFaults): void;
  /** Cut or restore this link (frames both ways are dropped while down). */
  setLinkUp(up: boolean): void;
  readonly stats: { up: LinkConditioner['stats']; down: LinkConditioner['stats'] };
  detach(): void;
}

interface Attached {
  att: NetAttachment;
  handle: SwitchPortHandle;
  uplink: LinkConditioner;
  downlink: LinkConditioner;
}

export class VirtualNetwork {
  readonly policy: EgressPolicy;
  readonly dhcp: DhcpServer;
  readonly dns: DnsServer;
  readonly tcp: TcpNat;
  readonly udp: UdpNat;
  readonly gateway: Gateway;
  readonly switch: EthernetSwitch;
  readonly maps: MapRule[];
  readonly hosts: HostEntry[];
  readonly forwardRules: ForwardRule[];
  readonly limits: NetLimits;
  private readonly forwarder: PortForwarder;
  private readonly attached: Attached[] = [];
  private readonly clock: SimClock;
  private readonly hostIo: HostIo;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly seed: number;
  private faults: LinkFaults;
  private pcap: PcapWriter | null = null;
  private linkCount = 0;
  private closed = false;
  /** Source MAC (macKey) → the address DHCP holds for it; cleared whenever DHCP changes anything. */
  private readonly sourceOk = new Map<number, number>();
  readonly stats = { spoofed: 0 };
  /** Called when a board's lease is bound or released. */
  onLease: ((lease: Lease, event: 'bound' | 'released') => void) | null = null;

  constructor(o: VirtualNetworkOptions) {
    this.clock = o.clock;
    this.hostIo = o.hostIo ?? NO_HOST_IO;
    this.log = o.logger ?? silentLogger();
    this.now = o.now ?? Date.now;
    this.seed = o.seed ?? 1;
    this.faults = { ...(o.faults ?? {}) };
    this.maps = [...(o.maps ?? [])];
    for (const p of o.servers ?? []) this.allowServer(p);
    this.limits = resolveLimits(o.limits);
    if (o.restrict && o.allowInternet) throw new PicowSimError('a restricted network cannot also allow the internet');
    this.hosts = [...(o.hosts ?? [])];
    this.forwardRules = [...(o.forwards ?? [])];
    this.policy = new EgressPolicy(this.maps, o.allowInternet ?? false, !o.restrict);
    if (this.policy.allowInternet) this.log.warn('net', 'allow-internet: the board may reach any address on the real network');

    this.switch = new EthernetSwitch(this.log, this.limits.macsPerPort);
    if (o.pcapFile) {
      const pcap = new PcapWriter(o.pcapFile, { maxBytes: o.pcapMaxBytes, logger: this.log });
      this.pcap = pcap;
      this.switch.taps.push((frame) => pcap.write(frame, this.clock.nanos));
    }
    this.gateway = new Gateway(this.log, this.clock, [GATEWAY_IP, DNS_IP]);
    this.gateway.attach(this.switch);
    this.gateway.onPacket = (ip, srcMac) => this.onPacket(ip, srcMac);

    this.dhcp = new DhcpServer({
      clock: this.clock,
      logger: this.log,
      serverIp: GATEWAY_IP,
      router: GATEWAY_IP,
      dns: DNS_IP,
      netmask: NETMASK,
      broadcast: SUBNET_BROADCAST,
      poolStart: FIRST_LEASE_IP,
      poolSize: POOL_SIZE,
      leaseSeconds: o.leaseSeconds,
    });
    this.dhcp.onLease = (l, ev) => {
      this.log.info('dhcp', `${ev === 'bound' ? 'lease' : 'released'} ${ipToString(l.ip)} ${ev === 'bound' ? 'to' : 'by'} ${l.mac}`);
      this.onLease?.(l, ev);
    };
    this.dns = new DnsServer({ logger: this.log, hostIo: this.hostIo, hosts: this.hosts, allowInternet: this.policy.allowInternet, resolver: o.resolver });
    this.udp = new UdpNat({
      clock: this.clock,
      hostIo: this.hostIo,
      logger: this.log,
      policy: this.policy,
      maxPerBoard: this.limits.udpPerBoard,
      toBoard: (srcIp, srcPort, dstIp, dstPort, payload) => this.sendUdp(srcIp, srcPort, dstIp, dstPort, payload),
      unreachable: (boardIp, boardPort, dstIp, dstPort, code) => this.udpUnreachable(boardIp, boardPort, dstIp, dstPort, code),
    });
    this.tcp = new TcpNat({
      clock: this.clock,
      hostIo: this.hostIo,
      logger: this.log,
      policy: this.policy,
      seed: this.seed,
      limits: this.limits,
      endpoint: o.tcp,
      toBoard: (srcIp, dstIp, segment) => this.gateway.sendIp(srcIp, dstIp, IPPROTO_TCP, segment),
    });
    this.forwarder = new PortForwarder(this.tcp, this.log, GATEWAY_IP, () => this.attached[0]?.att.ip ?? FIRST_LEASE_IP);
  }

  /** Let the board reach a server of ours on 127.0.0.1:port at 10.0.2.2:port, restricted or not. */
  allowServer(port: number): void {
    if (!this.maps.some((m) => m.addr === GATEWAY_IP && m.port === port)) this.maps.push({ addr: GATEWAY_IP, port, host: LOOPBACK_HOST, hostPort: port });
  }

  /** Open the `--forward` listeners. Rejects with a PicowSimError if a port is taken. */
  async start(): Promise<ActiveForward[]> {
    for (const r of this.forwardRules) await this.forwarder.listen(r);
    return [...this.forwarder.active];
  }

  /** Add a forward at run time. */
  addForward(rule: ForwardRule): Promise<ActiveForward> {
    return this.forwarder.listen(rule);
  }

  get forwards(): ActiveForward[] {
    return [...this.forwarder.active];
  }

  /** Connect a board's Wi-Fi interface to the LAN. */
  attach(port: EthernetPort, name?: string): NetAttachment {
    const n = name ?? `board${this.attached.length === 0 ? '' : this.attached.length + 1}`;
    const ip = this.dhcp.reserve(port.mac);
    if (ip === null) throw new Error(`virtual LAN full: no address left for ${macToString(port.mac)}`);
    const idx = this.linkCount++;
    const uplink = new LinkConditioner(this.clock, this.faults, (this.seed * 2654435761 + idx * 2 + 1) >>> 0);
    const downlink = new LinkConditioner(this.clock, this.faults, (this.seed * 2654435761 + idx * 2 + 2) >>> 0);
    const handle = this.switch.addPort(n, (frame) => {
      downlink.send(frame, (f) => {
        if (port.linkUp) port.deliver(f);
      });
      this.hostIo.notify();
    });
    port.onTransmit = (frame) => uplink.send(frame, (f) => handle.input(f));
    port.onLinkChange = (up) => this.log.debug('net', `${n}: radio link ${up ? 'up' : 'down'}`);
    const entry: Attached = {
      handle,
      uplink,
      downlink,
      att: {
        port,
        name: n,
        ip,
        setFaults: (f) => {
          uplink.set(f);
          downlink.set(f);
        },
        setLinkUp: (up) => {
          uplink.down = !up;
          downlink.down = !up;
        },
        stats: { up: uplink.stats, down: downlink.stats },
        detach: () => this.detach(port),
      },
    };
    this.attached.push(entry);
    this.log.debug('net', `${n} attached: ${macToString(port.mac)} reserved ${ipToString(ip)}`);
    return entry.att;
  }

  detach(port: EthernetPort): void {
    const i = this.attached.findIndex((a) => a.att.port === port);
    if (i < 0) return;
    const [a] = this.attached.splice(i, 1);
    a!.handle.remove();
    port.onTransmit = null;
    port.onLinkChange = null;
  }

  get attachments(): NetAttachment[] {
    return this.attached.map((a) => a.att);
  }

  /** Replace the faults on every link (or one board's link). */
  setFaults(f: LinkFaults, port?: EthernetPort): void {
    if (!port) this.faults = { ...f };
    for (const a of this.attached) if (!port || a.att.port === port) a.att.setFaults(f);
  }

  /** Cut (false) or restore (true) every link, or one board's link. */
  setLinkUp(up: boolean, port?: EthernetPort): void {
    for (const a of this.attached) if (!port || a.att.port === port) a.att.setLinkUp(up);
  }

  /**
   * Run `action` at simulated time `atNanos` (or now if that has passed): e.g. a link fault at
   * a given moment, `net.at(t, () => net.setLinkUp(false))`. Returns a cancel function.
   */
  at(atNanos: number, action: () => void): () => void {
    const t = this.clock.schedule(Math.max(0, atNanos - this.clock.nanos), action);
    return () => t.cancel();
  }

  leases(): Lease[] {
    return this.dhcp.leases();
  }

  get pcapFrames(): number {
    return this.pcap?.frames ?? 0;
  }

  /** Close sockets, listeners and the pcap file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tcp.close();
    this.udp.close();
    await this.forwarder.close();
    this.pcap?.close();
    this.pcap = null;
  }

  // ───────────────────────────── packet dispatch ─────────────────────────────

  /**
   * Whether a packet's source address is the one DHCP holds for the MAC it came from. Anything
   * else (spoofed, off-LAN, another board's address) is dropped before it can reach a service or
   * open a host socket: the answer could never reach a board that completes a handshake.
   */
  private sourceValid(src: number, srcMac: Uint8Array): boolean {
    const key = macKey(srcMac);
    if (this.sourceOk.get(key) === src) return true;
    const l = this.dhcp.leaseFor(srcMac);
    if (!l || l.ip !== src) {
      // One warning per MAC (the switch bounds how many a port may use).
      const leased = l ? `the address leased to it is ${ipToString(l.ip)}` : 'it has no lease';
      limitHit(this.log, 'source', macToString(srcMac), `packets from ${ipToString(src)} dropped: ${leased} (spoofed, or a static address other than the DHCP lease)`);
      return false;
    }
    if (this.sourceOk.size >= 4 * this.limits.macsPerPort) this.sourceOk.clear();
    this.sourceOk.set(key, src);
    return true;
  }

  private onPacket(ip: Ipv4Packet, srcMac: Uint8Array): void {
    const ours = ip.dst === GATEWAY_IP || ip.dst === DNS_IP;
    if (ip.src !== 0 && !this.sourceValid(ip.src, srcMac)) {
      this.stats.spoofed++;
      return;
    }
    switch (ip.protocol) {
      case IPPROTO_UDP: {
        const u = parseUdp(ip.payload, ip.src, ip.dst);
        if (!u || !u.checksumValid) return;
        if (u.dstPort === DHCP_SERVER_PORT && (ip.dst === 0xffffffff || ip.dst === GATEWAY_IP)) {
          const m = parseDhcp(u.payload);
          if (!m) return;
          this.sourceOk.clear();
          const r = this.dhcp.handle(m);
          if (!r) return;
          const leased = this.dhcp.leaseFor(m.chaddr);
          if (leased?.bound) this.gateway.learn(leased.ip, m.chaddr);
          this.gateway.sendIp(GATEWAY_IP, r.dstIp, IPPROTO_UDP, buildUdp(GATEWAY_IP, r.dstIp, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, r.payload), r.dstMac);
          return;
        }
        if (ip.dst === MDNS_GROUP && u.dstPort === MDNS_PORT && ip.src !== 0) {
          const legacy = u.srcPort !== MDNS_PORT;
          this.dns.handleMdns(u.payload, legacy, (resp) =>
            legacy ? this.sendUdp(GATEWAY_IP, MDNS_PORT, ip.src, u.srcPort, resp) : this.sendUdp(GATEWAY_IP, MDNS_PORT, MDNS_GROUP, MDNS_PORT, resp),
          );
          return;
        }
        if (isBroadcastOrMulticast(ip.dst) || ip.src === 0) {
          // A broadcast or multicast datagram leaves the LAN only where the user mapped its
          // address and port (`--map 255.255.255.255:4444=127.0.0.1:4444`); nothing else is carried.
          const d = ip.src === 0 ? null : this.policy.resolve(ip.dst, u.dstPort);
          if (d?.allowed && d.via === 'map') this.udp.send(ip.src, u.srcPort, ip.dst, u.dstPort, u.payload);
          return;
        }
        if (ip.dst === DNS_IP || (ip.dst === GATEWAY_IP && u.dstPort === DNS_PORT && !this.maps.some((m) => m.addr === GATEWAY_IP && m.port === DNS_PORT))) {
          // 10.0.2.2:53 is answered by the virtual DNS too, never by a resolver on the host.
          if (u.dstPort !== DNS_PORT) return this.udpUnreachable(ip.src, u.srcPort, ip.dst, u.dstPort, 'port');
          const from = ip.dst;
          this.dns.handle(u.payload, (resp) => this.sendUdp(from, DNS_PORT, ip.src, u.srcPort, resp));
          return;
        }
        if (ip.dst === GATEWAY_IP && u.dstPort === NTP_PORT && !this.maps.some((m) => m.addr === GATEWAY_IP && (m.port === undefined || m.port === NTP_PORT))) {
          const r = sntpReply(u.payload, this.now());
          if (r) this.sendUdp(GATEWAY_IP, NTP_PORT, ip.src, u.srcPort, r);
          return;
        }
        if (inSubnet(ip.dst) && !ours) return; // another board's address sent to the gateway: not routed back
        this.udp.send(ip.src, u.srcPort, ip.dst, u.dstPort, u.payload);
        return;
      }
      case IPPROTO_TCP: {
        if (isBroadcastOrMulticast(ip.dst) || ip.src === 0) return;
        const t = parseTcp(ip.payload, ip.src, ip.dst);
        if (!t || !t.checksumValid) return;
        if (inSubnet(ip.dst) && !ours) return;
        // 10.0.2.3 has no TCP service: the policy refuses it and the NAT answers with RST.
        this.tcp.input(ip.src, ip.dst, t);
        return;
      }
      case IPPROTO_ICMP: {
        if (isBroadcastOrMulticast(ip.dst)) return;
        const m = parseIcmp(ip.payload);
        if (!m || m.type !== ICMP_ECHO_REQUEST) return;
        if (ours || this.policy.isMapped(ip.dst)) {
          const r = echoReply(m);
          if (r) this.gateway.sendIp(ip.dst, ip.src, IPPROTO_ICMP, r, srcMac);
        } else if (!inSubnet(ip.dst)) {
          // Echo to the outside is not carried (no raw sockets): tell the board it is prohibited.
          this.gateway.sendIp(GATEWAY_IP, ip.src, IPPROTO_ICMP, buildIcmpError(ICMP_DEST_UNREACHABLE, UNREACH_ADMIN_PROHIBITED, ip.header, ip.payload), srcMac);
        }
        return;
      }
      default:
        return;
    }
  }

  private sendUdp(srcIp: number, srcPort: number, dstIp: number, dstPort: number, payload: Uint8Array): void {
    this.gateway.sendIp(srcIp, dstIp, IPPROTO_UDP, buildUdp(srcIp, dstIp, srcPort, dstPort, payload));
  }

  /** ICMP destination unreachable about a board's UDP datagram (RFC 792; code 13 from RFC 1812 §5.2.7.1). */
  private udpUnreachable(boardIp: number, boardPort: number, dstIp: number, dstPort: number, code: 'port' | 'prohibited'): void {
    // Rebuild the offending header + first 8 bytes (the UDP header) as the board sent them.
    const udpHead = buildUdp(boardIp, dstIp, boardPort, dstPort, new Uint8Array(0));
    const hdr = new Uint8Array(20);
    hdr[0] = 0x45;
    hdr[9] = IPPROTO_UDP;
    hdr.set([boardIp >>> 24, (boardIp >>> 16) & 0xff, (boardIp >>> 8) & 0xff, boardIp & 0xff], 12);
    hdr.set([dstIp >>> 24, (dstIp >>> 16) & 0xff, (dstIp >>> 8) & 0xff, dstIp & 0xff], 16);
    const icmp = buildIcmpError(ICMP_DEST_UNREACHABLE, code === 'port' ? UNREACH_PORT : UNREACH_ADMIN_PROHIBITED, hdr, udpHead);
    const from = inSubnet(dstIp) || this.policy.isMapped(dstIp) ? dstIp : GATEWAY_IP;
    this.gateway.sendIp(from, boardIp, IPPROTO_ICMP, icmp);
  }
}
