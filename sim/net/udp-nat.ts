/**
 * UDP NAT: a board's datagram to an allowed destination goes out through a connected
 * `node:dgram` socket; replies come back to the board from the virtual address it used. A flow
 * holds a HostIo token while it waits for a reply, and is closed after an idle period.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import type { HostIo, HostIoToken, SimClock, SimTimer } from '../time.ts';
import { DEFAULT_LIMITS, limitHit } from './limits.ts';
import type { EgressPolicy } from './policy.ts';
import { ipToString } from './wire/ipv4.ts';

const MS = 1_000_000;
/** How long a flow holds the clock back waiting for the host to answer (simulated ms). */
const REPLY_WAIT_MS = 3_000;
/** Idle flows are closed after this long (simulated ms). */
const IDLE_MS = 60_000;
/** Datagrams held per flow while its socket connects. */
const PENDING_LIMIT = 64;

export interface UdpNatOptions {
  clock: SimClock;
  hostIo: HostIo;
  logger: Logger;
  policy: EgressPolicy;
  /** Flows (host sockets) per board address at most (default 256); datagrams that would open more are refused. */
  maxPerBoard?: number;
  /** Deliver a datagram to the board: from the virtual (srcIp, srcPort) to (dstIp, dstPort). */
  toBoard: (srcIp: number, srcPort: number, dstIp: number, dstPort: number, payload: Uint8Array) => void;
  /** Tell the board the destination is unreachable (ICMP), `code` per RFC 792. */
  unreachable: (boardIp: number, boardPort: number, dstIp: number, dstPort: number, code: 'port' | 'prohibited') => void;
}

interface Flow {
  key: string;
  boardIp: number;
  boardPort: number;
  dstIp: number;
  dstPort: number;
  socket: Socket;
  connected: boolean;
  pending: Uint8Array[];
  waitToken: HostIoToken | null;
  waitTimer: SimTimer | null;
  idleTimer: SimTimer | null;
  closed: boolean;
}

export class UdpNat {
  private readonly flows = new Map<string, Flow>();
  private readonly perBoard = new Map<number, number>();
  private readonly maxPerBoard: number;
  readonly stats = { out: 0, in: 0, refused: 0, limited: 0 };

  constructor(private readonly o: UdpNatOptions) {
    this.maxPerBoard = o.maxPerBoard ?? DEFAULT_LIMITS.udpPerBoard;
  }

  get flowCount(): number {
    return this.flows.size;
  }

  send(boardIp: number, boardPort: number, dstIp: number, dstPort: number, payload: Uint8Array): void {
    const key = `${ipToString(boardIp)}:${boardPort}>${ipToString(dstIp)}:${dstPort}`;
    let f = this.flows.get(key);
    if (!f) {
      const d = this.o.policy.resolve(dstIp, dstPort);
      if (!d.allowed) {
        this.stats.refused++;
        this.o.logger.debug('net', `UDP ${key} refused: ${d.reason}`);
        this.o.unreachable(boardIp, boardPort, dstIp, dstPort, 'prohibited');
        return;
      }
      const n = this.perBoard.get(boardIp) ?? 0;
      if (n >= this.maxPerBoard) {
        this.stats.limited++;
        limitHit(this.o.logger, 'udp', ipToString(boardIp), `${this.maxPerBoard} UDP flows open (the limit, --max-udp); datagrams to new destinations are dropped until one idles out`);
        return;
      }
      this.perBoard.set(boardIp, n + 1);
      f = this.open(key, boardIp, boardPort, dstIp, dstPort, d.host, d.port);
    }
    this.stats.out++;
    this.touch(f);
    if (!f.connected) {
      if (f.pending.length < PENDING_LIMIT) f.pending.push(payload.slice());
    } else f.socket.send(payload);
    this.awaitReply(f);
  }

  private open(key: string, boardIp: number, boardPort: number, dstIp: number, dstPort: number, host: string, port: number): Flow {
    const socket = createSocket('udp4');
    const f: Flow = { key, boardIp, boardPort, dstIp, dstPort, socket, connected: false, pending: [], waitToken: null, waitTimer: null, idleTimer: null, closed: false };
    this.flows.set(key, f);
    this.o.logger.debug('net', `UDP ${key} -> ${host}:${port}`);
    socket.on('message', (msg) => {
      if (f.closed) return;
      this.stats.in++;
      this.o.toBoard(f.dstIp, f.dstPort, f.boardIp, f.boardPort, new Uint8Array(msg));
      this.stopWaiting(f);
      this.touch(f);
      this.o.hostIo.notify();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (f.closed) return;
      if (err.code === 'ECONNREFUSED') {
        // The host answered with ICMP port unreachable: pass it on.
        this.o.unreachable(f.boardIp, f.boardPort, f.dstIp, f.dstPort, 'port');
        this.stopWaiting(f);
        this.o.hostIo.notify();
        return;
      }
      this.o.logger.debug('net', `UDP ${key}: ${err.message}`);
      this.closeFlow(f);
    });
    socket.connect(port, host, () => {
      if (f.closed) return;
      f.connected = true;
      for (const p of f.pending) socket.send(p);
      f.pending = [];
    });
    return f;
  }

  private awaitReply(f: Flow): void {
    if (!f.waitToken) f.waitToken = this.o.hostIo.begin(`udp ${f.key}`);
    f.waitTimer?.cancel();
    f.waitTimer = this.o.clock.schedule(REPLY_WAIT_MS * MS, () => this.stopWaiting(f));
  }

  private stopWaiting(f: Flow): void {
    f.waitTimer?.cancel();
    f.waitTimer = null;
    f.waitToken?.release();
    f.waitToken = null;
  }

  private touch(f: Flow): void {
    f.idleTimer?.cancel();
    f.idleTimer = this.o.clock.schedule(IDLE_MS * MS, () => this.closeFlow(f));
  }

  private closeFlow(f: Flow): void {
    if (f.closed) return;
    f.closed = true;
    this.stopWaiting(f);
    f.idleTimer?.cancel();
    this.flows.delete(f.key);
    const n = (this.perBoard.get(f.boardIp) ?? 1) - 1;
    if (n > 0) this.perBoard.set(f.boardIp, n);
    else this.perBoard.delete(f.boardIp);
    try {
      f.socket.close();
    } catch {
      /* already closed */
    }
  }

  close(): void {
    for (const f of [...this.flows.values()]) this.closeFlow(f);
  }
}
