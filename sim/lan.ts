/**
 * Several boards in one world: the radio they share (the access points every board scans and
 * joins, including the APs the boards themselves start) and the virtual LAN behind PicoW-Sim
 * (10.0.2.15, .16, … in the order the boards join). The test API's `PicoW.boot({ lan })` and the
 * world builder put each board's chip on it.
 */
import { BoardGroup } from './board/board-group.ts';
import type { PicoW as Board } from './board/picow.ts';
import type { WorldOptions } from './cli-world.ts';
import { parseApSpec, VirtualRadio } from './cyw43/radio.ts';
import { VirtualNetwork } from './net/network.ts';
import type { EthernetPort } from './net/port.ts';
import { UsageError } from './errors.ts';
import type { Logger } from './log.ts';

/** The network options of a world (see WorldOptions), for all the boards on the Lan. */
export interface LanOptions extends Pick<WorldOptions, 'aps' | 'maps' | 'hosts' | 'forwards' | 'allowInternet' | 'pcapFile' | 'faults'> {
  logger?: Logger;
}

export interface LanMember {
  readonly name: string;
  /** The address the LAN's DHCP server keeps for this board. */
  readonly ip: number;
  leave(): Promise<void>;
}

export class Lan {
  readonly radio: VirtualRadio;
  private net: VirtualNetwork | null = null;
  private starting: Promise<VirtualNetwork> | null = null;
  private readonly names = new Set<string>();
  /** The boards' clocks, kept within reach of each other (see BoardGroup). */
  private readonly group = new BoardGroup();

  constructor(private readonly opts: LanOptions = {}) {
    this.radio = new VirtualRadio({ aps: (opts.aps ?? []).map((a) => (typeof a === 'string' ? parseApSpec(a) : a)) });
  }

  /**
   * The virtual network, once a board joined. Its services (DHCP, DNS, NAT) run on the first
   * board's clock and pace that board for host I/O: dispose that board last.
   */
  get network(): VirtualNetwork | null {
    return this.net;
  }

  /** Put a board's station interface on the LAN (the first board starts the network's services). */
  async join(board: Board, port: EthernetPort): Promise<LanMember> {
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
    let att: ReturnType<VirtualNetwork['attach']>;
    try {
      att = net.attach(port, board.name);
    } catch (e) {
      this.names.delete(board.name);
      // The DHCP pool has no address left for another board.
      throw new UsageError(`board '${board.name}': ${(e as Error).message} (${this.names.size} boards on this LAN already)`);
    }
    const ungroup = this.group.add(board);
    let left = false;
    return {
      name: att.name,
      ip: att.ip,
      leave: async () => {
        if (left) return;
        left = true;
        att.detach();
        ungroup();
        this.names.delete(board.name);
        if (this.names.size === 0) await this.close();
      },
    };
  }

  private async start(board: Board): Promise<VirtualNetwork> {
    const o = this.opts;
    const net = new VirtualNetwork({
      clock: board.simClock,
      hostIo: board.hostIo,
      logger: o.logger ?? board.logger,
      maps: o.maps,
      hosts: o.hosts,
      forwards: o.forwards,
      allowInternet: o.allowInternet,
      pcapFile: o.pcapFile,
      faults: o.faults,
    });
    try {
      await net.start();
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
