/**
 * The virtual LAN's fixed addresses, after QEMU user networking: 10.0.2.0/24, the gateway (which
 * stands for the host's loopback) at .2, the DNS server at .3, DHCP leases from .15.
 */
import { parseIp } from './wire/ipv4.ts';

const ip = (s: string): number => parseIp(s)!;

export const SUBNET = ip('10.0.2.0');
export const NETMASK = ip('255.255.255.0');
export const GATEWAY_IP = ip('10.0.2.2');
export const DNS_IP = ip('10.0.2.3');
export const FIRST_LEASE_IP = ip('10.0.2.15');
export const SUBNET_BROADCAST = ip('10.0.2.255');
export const LOOPBACK_HOST = '127.0.0.1';
/** The gateway's MAC: locally administered (bit 1 of the first octet, IEEE 802-2014 §8.2.2), ends in its address. */
export const GATEWAY_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

export function inSubnet(addr: number): boolean {
  return ((addr & NETMASK) >>> 0) === SUBNET;
}

/** Limited broadcast, subnet broadcast and multicast (224.0.0.0/4, RFC 5771). */
export function isBroadcastOrMulticast(addr: number): boolean {
  return addr === 0xffffffff || addr === SUBNET_BROADCAST || addr >>> 28 === 0xe;
}
