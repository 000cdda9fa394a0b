/**
 * DHCP server (RFC 2131) for the virtual LAN: one lease per client MAC from 10.0.2.15 up,
 * OFFER/ACK/NAK, renewal and rebinding, RELEASE, DECLINE and INFORM. Lease expiry runs on
 * simulated time.
 */
import type { Logger } from '../log.ts';
import type { SimClock } from '../time.ts';
import {
  BOOTREPLY,
  BOOTREQUEST,
  buildDhcp,
  DHCP_TYPE_NAMES,
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  dhcpIpOption,
  dhcpMessageType,
  FLAG_BROADCAST,
  OPT_BROADCAST_ADDR,
  OPT_DNS,
  OPT_LEASE_TIME,
  OPT_MESSAGE,
  OPT_MESSAGE_TYPE,
  OPT_REBINDING_T2,
  OPT_RENEWAL_T1,
  OPT_REQUESTED_IP,
  OPT_ROUTER,
  OPT_SERVER_ID,
  OPT_SUBNET_MASK,
  u32Option,
  type DhcpMessage,
} from './wire/dhcp.ts';
import { BROADCAST_MAC, macToString } from './wire/ethernet.ts';
import { IP_BROADCAST, ipToString } from './wire/ipv4.ts';

/** QEMU's default lease: 24 hours. */
export const DEFAULT_LEASE_SECONDS = 86_400;
/** How long an OFFER reserves its address (RFC 2131 §4.3.1 leaves it to the server). */
const OFFER_HOLD_SECONDS = 60;
/**
 * How long a DECLINEd address stays out of the pool (RFC 2131 §4.3.3 says "mark as not
 * available" and leaves the duration to the server). Only pool addresses are recorded, so the
 * set never outgrows the pool, and they come back after this time.
 */
const DECLINE_HOLD_SECONDS = 600;

export interface DhcpServerOptions {
  clock: SimClock;
  logger: Logger;
  serverIp: number;
  router: number;
  dns: number;
  netmask: number;
  broadcast: number;
  poolStart: number;
  poolSize: number;
  leaseSeconds?: number;
}

export interface Lease {
  mac: string;
  ip: number;
  /** Simulated time (ns) the lease ends; Infinity for a reservation not yet bound. */
  expiresNanos: number;
  bound: boolean;
}

export interface DhcpReply {
  payload: Uint8Array;
  dstIp: number;
  dstMac: Uint8Array;
}

export class DhcpServer {
  private readonly byMac = new Map<string, Lease>();
  /** Declined pool address → simulated time (ns) it becomes usable again. */
  private readonly declined = new Map<number, number>();
  readonly leaseSeconds: number;
  /** Called when a lease is bound (ACK) or released. */
  onLease: ((lease: Lease, event: 'bound' | 'released') => void) | null = null;

  constructor(private readonly o: DhcpServerOptions) {
    this.leaseSeconds = o.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  }

  /** Reserve an address for a MAC before it asks (attach order decides .15, .16, ...). */
  reserve(mac: Uint8Array): number | null {
    const key = macToString(mac);
    const existing = this.byMac.get(key);
    if (existing) return existing.ip;
    const ip = this.freeAddress();
    if (ip === null) return null;
    this.byMac.set(key, { mac: key, ip, expiresNanos: Infinity, bound: false });
    return ip;
  }

  release(mac: Uint8Array): void {
    this.byMac.delete(macToString(mac));
  }

  leases(): Lease[] {
    return [...this.byMac.values()].map((l) => ({ ...l }));
  }

  leaseFor(mac: Uint8Array): Lease | undefined {
    const l = this.byMac.get(macToString(mac));
    return l ? { ...l } : undefined;
  }

  /** Handle one client message; returns the reply to send, if any. */
  handle(m: DhcpMessage): DhcpReply | null {
    if (m.op !== BOOTREQUEST) return null;
    const type = dhcpMessageType(m);
    const mac = macToString(m.chaddr);
    this.o.logger.trace('dhcp', () => `${DHCP_TYPE_NAMES[type ?? 0] ?? `type ${type}`} from ${mac} xid=0x${m.xid.toString(16)}`);
    switch (type) {
      case DHCPDISCOVER:
        return this.discover(m, mac);
      case DHCPREQUEST:
        return this.request(m, mac);
      case DHCPRELEASE: {
        const l = this.byMac.get(mac);
        if (l && l.ip === m.ciaddr) {
          l.bound = false;
          l.expiresNanos = this.o.clock.nanos; // keep the address for this MAC, but not leased
          this.onLease?.({ ...l }, 'released');
        }
        return null;
      }
      case DHCPDECLINE: {
        const ip = dhcpIpOption(m, OPT_REQUESTED_IP);
        // Only the client's own lease can be declined (anything else is a forgery) and only
        // pool addresses are recorded, so the set stays bounded by the pool.
        const l = this.byMac.get(mac);
        if (ip !== undefined && l && l.ip === ip && this.inPool(ip)) {
          this.declined.set(ip, this.o.clock.nanos + DECLINE_HOLD_SECONDS * 1e9);
          this.o.logger.info('dhcp', `${ipToString(ip)} declined by ${mac} (in use on the LAN?); out of the pool for ${DECLINE_HOLD_SECONDS} s`);
          this.byMac.delete(mac);
        }
        return null;
      }
      case DHCPINFORM:
        // RFC 2131 §4.3.5: ACK with configuration, no lease, no yiaddr, unicast to ciaddr.
        return this.reply(m, DHCPACK, 0, false);
      default:
        return null;
    }
  }

  private discover(m: DhcpMessage, mac: string): DhcpReply | null {
    let l = this.byMac.get(mac);
    if (!l) {
      const ip = this.freeAddress();
      if (ip === null) {
        this.o.logger.warn('dhcp', `address pool exhausted; no offer for ${mac}`);
        return null;
      }
      l = { mac, ip, expiresNanos: this.o.clock.nanos + OFFER_HOLD_SECONDS * 1e9, bound: false };
      this.byMac.set(mac, l);
    }
    return this.reply(m, DHCPOFFER, l.ip, true);
  }

  private request(m: DhcpMessage, mac: string): DhcpReply | null {
    const serverId = dhcpIpOption(m, OPT_SERVER_ID);
    const requested = dhcpIpOption(m, OPT_REQUESTED_IP);
    if (serverId !== undefined && serverId !== this.o.serverIp) {
      // The client chose another server (SELECTING): drop our offer (RFC 2131 §4.3.2).
      const l = this.byMac.get(mac);
      if (l && !l.bound) this.byMac.delete(mac);
      return null;
    }
    // SELECTING / INIT-REBOOT carry the address in option 50; RENEWING / REBINDING in ciaddr.
    const wanted = requested ?? m.ciaddr;
    const l = this.byMac.get(mac);
    if (!l || wanted === 0 || l.ip !== wanted) {
      // INIT-REBOOT for an address on another network is not ours to judge, but our subnet is ours.
      return this.nak(m, l ? `requested ${ipToString(wanted)}, lease is ${ipToString(l.ip)}` : `no lease for ${mac}`);
    }
    l.bound = true;
    l.expiresNanos = this.o.clock.nanos + this.leaseSeconds * 1e9;
    this.o.logger.debug('dhcp', `lease ${ipToString(l.ip)} to ${mac} for ${this.leaseSeconds} s`);
    this.onLease?.({ ...l }, 'bound');
    return this.reply(m, DHCPACK, l.ip, true);
  }

  private nak(m: DhcpMessage, why: string): DhcpReply {
    this.o.logger.debug('dhcp', `NAK to ${macToString(m.chaddr)}: ${why}`);
    const payload = buildDhcp({
      op: BOOTREPLY,
      xid: m.xid,
      flags: m.flags,
      chaddr: m.chaddr,
      options: [
        [OPT_MESSAGE_TYPE, new Uint8Array([DHCPNAK])],
        [OPT_SERVER_ID, u32Option(this.o.serverIp)],
        [OPT_MESSAGE, new TextEncoder().encode(why)],
      ],
    });
    // A NAK is always broadcast (RFC 2131 §4.1).
    return { payload, dstIp: IP_BROADCAST, dstMac: BROADCAST_MAC };
  }

  private reply(m: DhcpMessage, type: number, yiaddr: number, withLease: boolean): DhcpReply {
    const o = this.o;
    const opts: [number, Uint8Array][] = [
      [OPT_MESSAGE_TYPE, new Uint8Array([type])],
      [OPT_SERVER_ID, u32Option(o.serverIp)],
    ];
    if (withLease) {
      const t = this.leaseSeconds;
      // T1 = 0.5 and T2 = 0.875 of the lease (RFC 2131 §4.4.5).
      opts.push([OPT_LEASE_TIME, u32Option(t)], [OPT_RENEWAL_T1, u32Option(Math.floor(t / 2))], [OPT_REBINDING_T2, u32Option(Math.floor((t * 7) / 8))]);
    }
    opts.push([OPT_SUBNET_MASK, u32Option(o.netmask)], [OPT_ROUTER, u32Option(o.router)], [OPT_DNS, u32Option(o.dns)], [OPT_BROADCAST_ADDR, u32Option(o.broadcast)]);
    const payload = buildDhcp({ op: BOOTREPLY, xid: m.xid, flags: m.flags, ciaddr: m.ciaddr, yiaddr, siaddr: o.serverIp, chaddr: m.chaddr, options: opts });
    this.o.logger.trace('dhcp', () => `${DHCP_TYPE_NAMES[type]} ${ipToString(yiaddr)} to ${macToString(m.chaddr)}`);
    // Addressing per RFC 2131 §4.1: to ciaddr if set; broadcast if the client asked; else unicast to yiaddr/chaddr.
    if (m.ciaddr !== 0) return { payload, dstIp: m.ciaddr, dstMac: m.chaddr };
    if (m.flags & FLAG_BROADCAST || yiaddr === 0) return { payload, dstIp: IP_BROADCAST, dstMac: BROADCAST_MAC };
    return { payload, dstIp: yiaddr, dstMac: m.chaddr };
  }

  private inPool(ip: number): boolean {
    const i = (ip - this.o.poolStart) >>> 0;
    return i < this.o.poolSize;
  }

  private isDeclined(ip: number, now: number): boolean {
    const until = this.declined.get(ip);
    if (until === undefined) return false;
    if (until > now) return true;
    this.declined.delete(ip);
    return false;
  }

  private freeAddress(): number | null {
    const now = this.o.clock.nanos;
    const used = new Set<number>();
    for (const l of this.byMac.values()) used.add(l.ip);
    for (let i = 0; i < this.o.poolSize; i++) {
      const ip = (this.o.poolStart + i) >>> 0;
      if (!used.has(ip) && !this.isDeclined(ip, now)) return ip;
    }
    // Reuse an expired lease of another client (oldest first).
    const expired = [...this.byMac.values()].filter((l) => l.expiresNanos <= now).sort((a, b) => a.expiresNanos - b.expiresNanos);
    const victim = expired[0];
    if (!victim) return null;
    this.byMac.delete(victim.mac);
    return victim.ip;
  }
}
