/**
 * A learning Ethernet switch: any number of ports (boards and the gateway). Unicast goes to the
 * port that last sent from that MAC, broadcast/multicast and unknown unicast are flooded. Taps
 * see every frame the switch forwards (pcap, traces).
 */
import type { Logger } from '../log.ts';
import { DEFAULT_LIMITS, limitHit } from './limits.ts';
import { describeFrame } from './wire/describe.ts';
import { isGroupMac, macKey } from './wire/ethernet.ts';

export interface SwitchPortHandle {
  readonly id: number;
  readonly name: string;
  /** A frame from this port's device into the switch. */
  input(frame: Uint8Array): void;
  remove(): void;
}

export type FrameTap = (frame: Uint8Array, from: string) => void;

interface PortEntry {
  id: number;
  name: string;
  output: (frame: Uint8Array) => void;
  /** MACs learned on this port. */
  learned: number;
}

export class EthernetSwitch {
  private readonly ports = new Map<number, PortEntry>();
  /** Learned MAC (macKey) → port id. */
  private readonly macTable = new Map<number, number>();
  private nextId = 1;
  readonly taps: FrameTap[] = [];
  frames = 0;
  private busy = false;
  private readonly queue: [number, Uint8Array][] = [];

  constructor(
    private readonly log: Logger,
    /** MACs learned per port at most; frames from further new source MACs are dropped (port security). */
    private readonly macsPerPort = DEFAULT_LIMITS.macsPerPort,
  ) {}

  /** Add a port; `output` receives frames the switch sends to that port's device. */
  addPort(name: string, output: (frame: Uint8Array) => void): SwitchPortHandle {
    const id = this.nextId++;
    this.ports.set(id, { id, name, output, learned: 0 });
    return {
      id,
      name,
      input: (frame) => this.forward(id, frame),
      remove: () => {
        this.ports.delete(id);
        for (const [mac, pid] of this.macTable) if (pid === id) this.macTable.delete(mac);
      },
    };
  }

  /**
   * Frames sent while the switch is already forwarding (a device answering from inside its
   * receive call) are queued and forwarded after the current one, so no handler is re-entered.
   */
  private forward(fromId: number, frame: Uint8Array): void {
    this.queue.push([fromId, frame]);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.forwardOne(next[0], next[1]);
    } finally {
      this.busy = false;
      this.queue.length = 0;
    }
  }

  private forwardOne(fromId: number, frame: Uint8Array): void {
    const from = this.ports.get(fromId);
    if (!from || frame.length < 14) return;
    const src = frame.subarray(6, 12);
    if (!isGroupMac(src)) {
      const key = macKey(src);
      const was = this.macTable.get(key);
      if (was !== fromId) {
        if (from.learned >= this.macsPerPort) {
          // Port security: a port that already has its share of addresses may not add more
          // (a board forging source MACs would otherwise grow the table without bound).
          limitHit(this.log, 'macs', from.name, `${this.macsPerPort} MAC addresses learned on this port (the limit); frames from new ones are dropped`);
          return;
        }
        if (was !== undefined) {
          const old = this.ports.get(was);
          if (old) old.learned--;
        }
        this.macTable.set(key, fromId);
        from.learned++;
      }
    }
    this.frames++;
    this.log.trace('net', () => `${from.name}: ${describeFrame(frame)}`);
    for (const tap of this.taps) tap(frame, from.name);
    const dst = frame.subarray(0, 6);
    if (!isGroupMac(dst)) {
      const to = this.macTable.get(macKey(dst));
      if (to !== undefined) {
        if (to !== fromId) this.ports.get(to)?.output(frame);
        return;
      }
    }
    for (const p of [...this.ports.values()]) if (p.id !== fromId) p.output(frame);
  }
}
