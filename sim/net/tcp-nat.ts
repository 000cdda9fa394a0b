/**
 * TCP NAT: terminates each board connection in a TcpEndpoint and couples it to a `node:net`
 * socket. Outbound (board → host): the board's SYN is answered only after the host connect
 * succeeds, so a refused or unreachable host gives the board an RST (ECONNREFUSED). Inbound
 * (`--forward`): a host client's connection becomes an active open towards the board.
 *
 * Flow control couples the two sides: board data is written to the socket and reported
 * consumed only when the socket has flushed it (a slow host reader closes our window); host
 * data goes into the endpoint's send buffer and the socket is paused while that buffer is full
 * (a slow board pauses the host).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { HostIo, HostIoToken, SimClock } from '../time.ts';
import { DEFAULT_LIMITS, limitHit, type NetLimits } from './limits.ts';
import type { EgressPolicy } from './policy.ts';
import { Rng } from './rng.ts';
import { TcpEndpoint, type TcpOutSegment } from './tcp-endpoint.ts';
import { buildTcp, seqAdd, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from './wire/tcp.ts';
import { ipToString } from './wire/ipv4.ts';

/** First local port used on 10.0.2.2 for inbound (forwarded) connections (IANA dynamic range, RFC 6335 §6). */
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;

export interface TcpNatOptions {
  clock: SimClock;
  hostIo: HostIo;
  logger: Logger;
  policy: EgressPolicy;
  /** Send a TCP segment (already encoded, checksummed for these addresses) to the board. */
  toBoard: (srcIp: number, dstIp: number, segment: Uint8Array) => void;
  seed?: number;
  /** Per-board caps (connections, SYN backlog, out-of-order queue, zero-window probes). */
  limits?: NetLimits;
  /** Endpoint tuning (tests). */
  endpoint?: { rtoMinMs?: number; rtoInitialMs?: number; mslMs?: number; receiveBuffer?: number; sendBuffer?: number };
}

interface Conn {
  key: string;
  boardIp: number;
  boardPort: number;
  remoteIp: number;
  remotePort: number;
  ep: TcpEndpoint;
  socket: Socket | null;
  token: HostIoToken | null;
  connecting: boolean;
  synSeq: number;
  inbound: boolean;
  /** Counted in its board's SYN backlog until the handshake completes. */
  halfOpen: boolean;
}

export class TcpNat {
  private readonly conns = new Map<string, Conn>();
  private readonly rng: Rng;
  private nextEphemeral = 0;
  private readonly limits: NetLimits;
  /** Live connections and half-open ones (SYN seen, handshake not finished) per board address. */
  private readonly perBoard = new Map<number, { conns: number; halfOpen: number }>();
  readonly stats = { opened: 0, refused: 0, resetsSent: 0, inbound: 0, limited: 0 };
  /** Told when a board's connection to a host opens, is refused, or ends (`--json` events). */
  onConnection: ((c: { state: 'open' | 'refused' | 'closed'; board: string; host: string }) => void) | null = null;

  constructor(private readonly o: TcpNatOptions) {
    this.rng = new Rng(o.seed ?? 0x5eed);
    this.limits = o.limits ?? DEFAULT_LIMITS;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** States of live connections, for tests and diagnostics. */
  connections(): { key: string; state: string; inbound: boolean; sendQueued: number; receiveWindow: number; sndUna: number; sndNxt: number }[] {
    return [...this.conns.values()].map((c) => ({
      key: c.key,
      state: c.connecting ? 'CONNECTING' : c.ep.state,
      inbound: c.inbound,
      sendQueued: c.ep.sendQueued,
      receiveWindow: c.ep.receiveWindowNow,
      sndUna: c.ep.unacknowledged,
      sndNxt: c.ep.nextSend,
    }));
  }

  /** A TCP segment from the board (src = board, dst = remote). */
  input(srcIp: number, dstIp: number, seg: TcpSegment): void {
    const key = this.keyOf(srcIp, seg.srcPort, dstIp, seg.dstPort);
    let c = this.conns.get(key);
    if (c && c.ep.state === 'TIME_WAIT' && seg.flags & TCP_SYN && !(seg.flags & TCP_ACK) && c.ep.acceptsNewSyn(seg.seq)) {
      // A new incarnation of the 4-tuple may start from TIME_WAIT (RFC 9293 §3.6.1).
      this.drop(c);
      c = undefined;
    }
    if (c) {
      if (c.connecting) {
        if (seg.flags & TCP_RST) {
          this.o.logger.debug('tcp', `${key}: board reset while connecting`);
          this.drop(c);
        }
        // Retransmitted SYNs wait for the host connect; anything else is premature.
        return;
      }
      c.ep.input(seg);
      return;
    }
    if (seg.flags & TCP_RST) return;
    if ((seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      this.openOutbound(key, srcIp, dstIp, seg);
      return;
    }
    // No connection: reset (RFC 9293 §3.10.7.1).
    this.resetFor(srcIp, dstIp, seg);
  }

  private keyOf(boardIp: number, boardPort: number, remoteIp: number, remotePort: number): string {
    return `${ipToString(boardIp)}:${boardPort}>${ipToString(remoteIp)}:${remotePort}`;
  }

  private resetFor(boardIp: number, remoteIp: number, seg: TcpSegment): void {
    this.stats.resetsSent++;
    const len = seg.payload.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const out: TcpOutSegment =
      seg.flags & TCP_ACK ? { seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 } : { seq: 0, ack: seqAdd(seg.seq, len), flags: TCP_RST | TCP_ACK, window: 0 };
    this.o.toBoard(remoteIp, boardIp, this.encode(remoteIp, seg.dstPort, boardIp, seg.srcPort, out));
  }

  private encode(srcIp: number, srcPort: number, dstIp: number, dstPort: number, s: TcpOutSegment): Uint8Array {
    return buildTcp({ srcIp, dstIp, srcPort, dstPort, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, mss: s.mss, payload: s.payload });
  }

  private counts(boardIp: number): { conns: number; halfOpen: number } {
    let n = this.perBoard.get(boardIp);
    if (!n) this.perBoard.set(boardIp, (n = { conns: 0, halfOpen: 0 }));
    return n;
  }

  /** Whether a board may open one more connection; logs the limit it hit once. */
  private admit(boardIp: number, key: string): boolean {
    const n = this.perBoard.get(boardIp);
    if (!n) return true;
    const who = ipToString(boardIp);
    if (n.conns >= this.limits.tcpPerBoard) {
      this.stats.limited++;
      limitHit(this.o.logger, 'tcp', who, `${this.limits.tcpPerBoard} TCP connections open (the limit, --max-tcp); new connections are reset`);
      this.o.logger.debug('tcp', `${key} refused: connection limit`);
      return false;
    }
    if (n.halfOpen >= this.limits.synBacklog) {
      this.stats.limited++;
      limitHit(this.o.logger, 'syn', who, `${this.limits.synBacklog} TCP handshakes pending (the SYN backlog); new SYNs are reset`);
      this.o.logger.debug('tcp', `${key} refused: SYN backlog full`);
      return false;
    }
    return true;
  }

  /** Remove a connection from the table and its board's counts (once). */
  private forget(c: Conn): void {
    if (this.conns.get(c.key) !== c) return;
    this.conns.delete(c.key);
    const n = this.perBoard.get(c.boardIp);
    if (!n) return;
    n.conns--;
    if (c.halfOpen) n.halfOpen--;
    c.halfOpen = false;
    if (n.conns <= 0) this.perBoard.delete(c.boardIp);
  }

  private established(c: Conn): void {
    if (!c.halfOpen) return;
    c.halfOpen = false;
    const n = this.perBoard.get(c.boardIp);
    if (n) n.halfOpen--;
  }

  private newConn(key: string, boardIp: number, boardPort: number, remoteIp: number, remotePort: number, inbound: boolean): Conn {
    const ep = new TcpEndpoint({
      clock: this.o.clock,
      logger: this.o.logger,
      label: key,
      iss: this.rng.u32(),
      maxOooSegments: this.limits.oooSegments,
      maxOooBytes: this.limits.oooBytes,
      maxPersistProbes: this.limits.persistProbes,
      ...this.o.endpoint,
      send: (s) => this.o.toBoard(remoteIp, boardIp, this.encode(remoteIp, remotePort, boardIp, boardPort, s)),
    });
    const c: Conn = { key, boardIp, boardPort, remoteIp, remotePort, ep, socket: null, token: null, connecting: false, synSeq: 0, inbound, halfOpen: true };
    this.conns.set(key, c);
    const n = this.counts(boardIp);
    n.conns++;
    n.halfOpen++;
    ep.events.onEstablished = () => this.established(c);
    ep.events.onClosed = () => {
      this.forget(c);
      // A graceful close has already ended the socket; it closes by itself once flushed.
      if (c.socket && !c.socket.destroyed && !c.socket.writableEnded) c.socket.destroy();
      if (!c.socket || c.socket.destroyed) this.releaseToken(c);
    };
    return c;
  }

  private openOutbound(key: string, boardIp: number, remoteIp: number, syn: TcpSegment): void {
    const d = this.o.policy.resolve(remoteIp, syn.dstPort);
    if (!d.allowed) {
      this.stats.refused++;
      this.o.logger.debug('tcp', `${key} refused: ${d.reason}`);
      this.onConnection?.({ state: 'refused', board: `${ipToString(boardIp)}:${syn.srcPort}`, host: `${ipToString(remoteIp)}:${syn.dstPort}` });
      this.resetFor(boardIp, remoteIp, syn);
      return;
    }
    if (!this.admit(boardIp, key)) {
      this.onConnection?.({ state: 'refused', board: `${ipToString(boardIp)}:${syn.srcPort}`, host: `${d.host}:${d.port}` });
      this.resetFor(boardIp, remoteIp, syn);
      return;
    }
    const c = this.newConn(key, boardIp, syn.srcPort, remoteIp, syn.dstPort, false);
    c.connecting = true;
    c.synSeq = syn.seq;
    c.token = this.o.hostIo.begin(`tcp ${key} -> ${d.host}:${d.port}`);
    this.o.logger.debug('tcp', `${key} -> ${d.host}:${d.port} (${d.via})`);
    const note = (state: 'open' | 'refused' | 'closed'): void =>
      this.onConnection?.({ state, board: `${ipToString(boardIp)}:${syn.srcPort}`, host: `${d.host}:${d.port}` });
    let opened = false;
    let noted = false;
    const ended = (): void => {
      if (opened && !noted) note('closed');
      noted = opened;
    };
    const socket = netConnect({ host: d.host, port: d.port, allowHalfOpen: true });
    c.socket = socket;
    socket.once('close', ended);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      if (this.conns.get(key) !== c) {
        socket.destroy();
        return;
      }
      c.connecting = false;
      this.stats.opened++;
      opened = true;
      note('open');
      this.couple(c, socket);
      // Ended once both sides have sent FIN (the board's endpoint may still wait out TIME-WAIT).
      let boardFin = false;
      let hostFin = false;
      const boardEnd = c.ep.events.onEnd;
      c.ep.events.onEnd = () => {
        boardEnd?.();
        boardFin = true;
        if (hostFin) ended();
      };
      socket.once('end', () => {
        hostFin = true;
        if (boardFin) ended();
      });
      c.ep.accept(syn);
      this.o.hostIo.notify();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (c.connecting) {
        c.connecting = false;
        this.stats.refused++;
        note('refused');
        this.o.logger.debug('tcp', `${key}: host connect failed (${err.code ?? err.message}); resetting the board's SYN`);
        if (this.conns.get(key) === c) {
          this.forget(c);
          this.resetFor(boardIp, remoteIp, syn);
        }
        c.ep.dispose();
        this.releaseToken(c);
        this.o.hostIo.notify();
      }
    });
  }

  /**
   * An accepted host connection for a `--forward`: open a connection from 10.0.2.2 to the board.
   * The socket is paused until the board accepts; a refusal resets the host client.
   */
  openInbound(socket: Socket, gatewayIp: number, boardIp: number, boardPort: number): void {
    let key = '';
    let localPort = 0;
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      localPort = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      const k = this.keyOf(boardIp, boardPort, gatewayIp, localPort);
      if (!this.conns.has(k)) {
        key = k;
        this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        break;
      }
    }
    // Every local port in use, or the board's limits reached: refuse the host client rather
    // than overwrite a live connection's entry.
    if (!key) {
      this.stats.limited++;
      limitHit(this.o.logger, 'forward-ports', ipToString(boardIp), `all ${EPHEMERAL_COUNT} forward ports to port ${boardPort} are in use; new host connections are reset`);
    }
    if (!key || !this.admit(boardIp, key)) {
      socket.resetAndDestroy();
      return;
    }
    this.stats.inbound++;
    socket.pause();
    const c = this.newConn(key, boardIp, boardPort, gatewayIp, localPort, true);
    c.token = this.o.hostIo.begin(`tcp forward ${key}`);
    c.socket = socket;
    socket.setNoDelay(true);
    this.couple(c, socket);
    const established = c.ep.events.onEstablished;
    c.ep.events.onEstablished = () => {
      established?.();
      socket.resume();
    };
    c.ep.connect();
    this.o.hostIo.notify();
  }

  /** Wire an endpoint and a connected socket together. */
  private couple(c: Conn, socket: Socket): void {
    const ep = c.ep;
    ep.events.onData = (data) => {
      this.o.logger.trace('tcp', () => `${c.key}: ${data.length} bytes to the host`);
      if (socket.destroyed) return;
      socket.write(data, () => ep.consumed(data.length));
    };
    ep.events.onEnd = () => {
      if (!socket.destroyed) socket.end();
    };
    ep.events.onDrain = () => {
      if (!socket.destroyed) socket.resume();
    };
    ep.events.onError = (code) => {
      this.o.logger.debug('tcp', `${c.key}: ${code}`);
      if (socket.destroyed) return;
      // A reset from the board is passed on as a reset to the host peer.
      if (code === 'ECONNRESET' || code === 'ECONNREFUSED') socket.resetAndDestroy();
      else socket.destroy();
    };
    socket.on('data', (buf: Buffer) => {
      this.o.logger.trace('tcp', () => `${c.key}: ${buf.length} bytes from the host`);
      this.o.hostIo.notify();
      if (!ep.write(new Uint8Array(buf.buffer, buf.byteOffset, buf.length))) socket.pause();
    });
    socket.on('end', () => {
      this.o.hostIo.notify();
      ep.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (c.connecting) return;
      this.o.logger.debug('tcp', `${c.key}: host socket ${err.code ?? err.message}; resetting the board`);
      this.o.hostIo.notify();
      ep.abort();
    });
    socket.on('close', () => {
      this.releaseToken(c);
      // Closed without FIN or error handling (e.g. destroyed elsewhere): make sure the board learns.
      if (ep.state === 'ESTABLISHED' || ep.state === 'CLOSE_WAIT' || ep.state === 'SYN_SENT' || ep.state === 'SYN_RECEIVED') {
        if (!socket.readableEnded) ep.abort();
      }
    });
  }

  private releaseToken(c: Conn): void {
    c.token?.release();
    c.token = null;
  }

  private drop(c: Conn): void {
    this.forget(c);
    c.ep.dispose();
    if (c.socket && !c.socket.destroyed) c.socket.destroy();
    this.releaseToken(c);
  }

  /** Reset every connection (network shutdown). */
  close(): void {
    for (const c of [...this.conns.values()]) {
      c.ep.abort();
      this.drop(c);
    }
  }
}
