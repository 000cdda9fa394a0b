/**
 * The air and the wire a world's boards share: the virtual radio (the access points every board
 * scans and joins) and the virtual LAN behind it (10.0.2.15, .16, … in the order the boards
 * join). `buildWorld` makes one per world, or puts a board on a `Lan` given to several worlds
 * (several boards on one LAN).
 */
import type { PicoWBoard } from '../board/picow.ts';
import { VirtualRadio, type ApConfig } from '../cyw43/radio.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { NetLimits } from '../net/limits.ts';
import { VirtualNetwork, type NetAttachment } from '../net/network.ts';
import type { ForwardRule, HostEntry, LinkFaults, MapRule } from '../net/policy.ts';
import type { EthernetPort } from '../net/port.ts';
import { parseAll, parseApSpec, parseForwardSpec, parseHostSpec, parseMapSpec } from './specs.ts';

/** The virtual LAN and its way out to the host; rules parsed or in their one-line forms (specs.ts). */
export interface NetworkSpec {
  maps?: (string | MapRule)[];
  hosts?: (string | HostEntry)[];
  forwards?: (string | ForwardRule)[];
  allowInternet?: boolean;
  /**
   * Only the embedded servers, `maps` targets and `forwards`: 10.0.2.2 is not the host's loopback
   * (QEMU's restrict=on). Not with `allowInternet`.
   */
  restrict?: boolean;
  /** Hard limits on a board's network state, e.g. `{ tcpPerBoard: 64, udpPerBoard: 64 }` (defaults in net/limits.ts). */
  netLimits?: Partial<NetLimits>;
  pcapFile?: string;
  /** Stop capturing (one warning) once the pcap file reaches this many bytes (default 256 MiB). */
  pcapMaxBytes?: number;
  faults?: LinkFaults;
}

export interface LanOptions extends NetworkSpec {
  /** Access points added to the defaults PicoW-Sim (password picowsim) and Wokwi-GUEST (open); one with a default's SSID replaces it. */
  aps?: (string | ApConfig)[];
  /** Whether the default access points are on the air (default true). */
  defaultAps?: boolean;
  /** Ports of servers of ours on 127.0.0.1 the boards reach at 10.0.2.2:port, restricted or not. */
  servers?: number[];
  logger?: Logger;
}

/** A board on the LAN. */
export interface LanMember {
  readonly name: string;
  /** The address the LAN's DHCP server keeps for this board. */
  readonly ip: number;
  /** Its port on the switch (link faults, link up/down). */
  readonly link: NetAttachment;
  /** Take the board off the LAN (the last one closes the network). */
  leave(): Promise<void>;
}

export class Lan {
  readonly radio: VirtualRadio;
  private net: VirtualNetwork | null = null;
  private starting: Promise<VirtualNetwork> | null = null;
  private readonly names = new Set<string>();
  private readonly maps: MapRule[];
  private readonly hosts: HostEntry[];
  private readonly forwards: ForwardRule[];
  private readonly servers: number[];

  constructor(private readonly opts: LanOptions = {}) {
    if (opts.restrict && opts.allowInternet) throw new UsageError('restrict and allowInternet cannot be used together');
    this.radio = new VirtualRadio({ defaults: opts.defaultAps ?? true, aps: parseAll(opts.aps, (s) => parseApSpec(s)) });
    this.maps = parseAll(opts.maps, (s) => parseMapSpec(s));
    this.hosts = parseAll(opts.hosts, (s) => parseHostSpec(s));
    this.forwards = parseAll(opts.forwards, (s) => parseForwardSpec(s));
    this.servers = [...(opts.servers ?? [])];
  }

  /** The names the LAN's DNS answers (`hosts`): a board may name a server of ours by them. */
  get hostNames(): string[] {
    return this.hosts.map((h) => h.name);
  }

  /** Let the boards reach a server of ours on 127.0.0.1:port at 10.0.2.2:port, even when restricted. */
  addServer(port: number): void {
    this.servers.push(port);
    this.net?.allowServer(port);
  }

  /**
   * The virtual network, once a board joined. Its services (DHCP, DNS, NAT) run on the first
   * board's clock and pace that board for host I/O: a world of several boards needs a clock
   * shared by all of them to keep their times together.
   */
  get network(): VirtualNetwork | null {
    return this.net;
  }

  /** Put a board's station interface on the LAN (the first board starts the network's services). */
  async join(board: PicoWBoard, port: EthernetPort): Promise<LanMember> {
    // The name seeds the board's MAC (and so its address): two boards of one name would collide.
    if (this.names.has(board.name)) throw new UsageError(`two boards named '${board.name}' on one LAN: give each board its own name`);
    this.names.add(board.name);
    let net: VirtualNetwork;
    try {
      net = await (this.starting ??= this.start(board));
    } catch (e) {
      this.names.delete(board.name);
      throw e;
    }
    const link = net.attach(port, board.name);
    let left = false;
    return {
      name: link.name,
      ip: link.ip,
      link,
      leave: async () => {
        if (left) return;
        left = true;
        link.detach();
        this.names.delete(board.name);
        if (this.names.size === 0) await this.close();
      },
    };
  }

  private async start(board: PicoWBoard): Promise<VirtualNetwork> {
    const o = this.opts;
    const logger = o.logger ?? board.logger;
    const net = new VirtualNetwork({
      clock: board.simClock,
      hostIo: board.hostIo,
      logger,
      maps: this.maps,
      hosts: this.hosts,
      forwards: this.forwards,
      allowInternet: o.allowInternet,
      restrict: o.restrict,
      servers: this.servers,
      limits: o.netLimits,
      pcapFile: o.pcapFile,
      pcapMaxBytes: o.pcapMaxBytes,
      faults: o.faults,
    });
    try {
      const forwards = await net.start();
      for (const f of forwards) logger.info('net', `forward ${JSON.stringify(f)}`);
    } catch (e) {
      await net.close();
      this.starting = null;
      throw e;
    }
    this.net = net;
    return net;
  }

  /** Close the network's sockets, listeners and capture (also done when the last board leaves). */
  async close(): Promise<void> {
    const net = this.net;
    this.net = null;
    this.starting = null;
    if (net) await net.close();
  }
}
