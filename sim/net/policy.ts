/**
 * Egress policy: the network's rules (maps, names, forwards, link faults) and where a board's
 * packet may go. The words users write them in are parsed by the session layer (sim/session/specs.ts).
 *
 * Where a board's packet may go: the gateway 10.0.2.2 stands for the host's loopback (port P
 * reaches 127.0.0.1:P) unless `--restrict`; `--map` rules send chosen virtual addresses
 * (optionally one port) to a host endpoint; everything else is refused unless `--allow-internet`,
 * in which case the real address is used. Port 53 on the gateway is never the host's resolver.
 */
import { GATEWAY_IP, inSubnet, LOOPBACK_HOST } from './addressing.ts';
import { DNS_PORT } from './wire/dns.ts';
import { ipToString } from './wire/ipv4.ts';

export interface MapRule {
  /** Virtual IPv4 address the board uses. */
  addr: number;
  /** Virtual port; undefined = every port. */
  port?: number;
  /** Host name or address to connect to. */
  host: string;
  /** Host port; undefined = the same port the board used. */
  hostPort?: number;
}

export interface HostEntry {
  name: string;
  addr: number;
}

export interface ForwardRule {
  /** Port on 127.0.0.1 the simulator listens on (0 = any free port). */
  hostPort: number;
  /** Board address; undefined = the first board's lease (10.0.2.15). */
  boardAddr?: number;
  boardPort: number;
}

export interface LinkFaults {
  /** One-way added latency per direction, in ms of simulated time. */
  latencyMs?: number;
  /** Random extra delay in [0, jitterMs) per frame; frames can overtake each other (reordering). */
  jitterMs?: number;
  /** Probability of dropping a frame, in percent, per direction. */
  lossPercent?: number;
  /** Bandwidth cap per direction, in kbit/s (1 kbit = 1000 bit); 0 or undefined = unlimited. */
  bandwidthKbps?: number;
  /** Seed for the loss and jitter generator. */
  seed?: number;
}

/** Where a board's connection to ADDR:PORT goes. */
export type EgressDecision =
  | { allowed: true; host: string; port: number; via: 'gateway' | 'map' | 'internet' }
  | { allowed: false; reason: string };

export class EgressPolicy {
  private readonly maps: MapRule[];
  constructor(
    maps: MapRule[],
    readonly allowInternet: boolean,
    /**
     * Whether 10.0.2.2:P reaches 127.0.0.1:P (passt's default `--map-host-loopback` of the
     * gateway; false with `--restrict`, like QEMU's `restrict=on` or passt's `--no-map-gw`).
     */
    readonly gatewayToLoopback = true,
  ) {
    this.maps = maps;
  }

  /** Whether ADDR has any map rule (used for ICMP echo). */
  isMapped(addr: number): boolean {
    return this.maps.some((m) => m.addr === addr);
  }

  resolve(addr: number, port: number): EgressDecision {
    const exact = this.maps.find((m) => m.addr === addr && m.port === port);
    const any = exact ?? this.maps.find((m) => m.addr === addr && m.port === undefined);
    if (any) return { allowed: true, host: any.host, port: any.hostPort ?? port, via: 'map' };
    if (addr === GATEWAY_IP) {
      if (port === DNS_PORT) return { allowed: false, reason: 'port 53 on the gateway is the virtual DNS, not the host resolver' };
      return this.gatewayToLoopback ? { allowed: true, host: LOOPBACK_HOST, port, via: 'gateway' } : { allowed: false, reason: `10.0.2.2:${port} is not an embedded server or a --map target (--restrict)` };
    }
    if (inSubnet(addr)) return { allowed: false, reason: `${ipToString(addr)} is not on the virtual LAN` };
    if (addr >>> 24 === 127 || addr === 0) return { allowed: false, reason: `${ipToString(addr)} is not routable from the board` };
    if (this.allowInternet) return { allowed: true, host: ipToString(addr), port, via: 'internet' };
    return { allowed: false, reason: `${ipToString(addr)}:${port} is not mapped (use --map or --allow-internet)` };
  }
}
