/**
 * One TCP endpoint (RFC 9293), free of sockets and addresses: it consumes parsed segments, emits
 * segments through a callback, and keeps every timer on a SimClock. The NAT owns one per board
 * connection and couples it to a host socket through the application calls (write / end / abort /
 * consumed) and the event callbacks.
 *
 * Implemented: passive and active open (MSS option), the acceptability and RST/SYN checks of
 * RFC 9293 §3.10.7.4 with RFC 5961 challenge ACKs, a reassembly queue for out-of-order data,
 * flow control both ways (advertised window from unconsumed data, send window from the peer),
 * retransmission timeout per RFC 6298 with Karn's rule and back-off, fast retransmit after three
 * duplicate ACKs (RFC 5681 §3.2), zero-window probing (RFC 9293 §3.8.6.1), FIN and half-close in
 * both directions, simultaneous close, TIME_WAIT, and modulo-2^32 sequence arithmetic throughout.
 */
import type { Logger } from '../log.ts';
import type { SimClock, SimTimer } from '../time.ts';
import { ByteQueue } from './byte-queue.ts';
import {
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  tcpFlagsToString,
  type TcpSegment,
} from './wire/tcp.ts';

export type TcpState =
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT'
  | 'CLOSED';

/** A segment the endpoint wants sent (ports and addresses are added by the owner). */
export interface TcpOutSegment {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  payload?: Uint8Array;
}

export type TcpErrorCode = 'ECONNRESET' | 'ECONNREFUSED' | 'ETIMEDOUT';

const MS = 1_000_000;
/** Default send MSS when the peer's SYN has no MSS option (RFC 9293 §3.7.1). */
export const DEFAULT_SEND_MSS = 536;
/** Our MSS: Ethernet MTU 1500 minus 20 bytes IPv4 and 20 bytes TCP headers (RFC 9293 §3.7.1). */
export const ETHERNET_MSS = 1460;
/** Largest window without window scaling (RFC 9293 §3.1, 16-bit field; RFC 7323 not negotiated). */
export const MAX_UNSCALED_WINDOW = 65535;
/** Initial RTO (RFC 6298 §2.1 says 1 s). */
const RTO_INITIAL_MS = 1000;
/** Lower bound on the RTO. RFC 6298 §2.4 recommends 1 s; a virtual LAN uses 200 ms as Linux does. */
const RTO_MIN_MS = 200;
/** Upper bound on the RTO (RFC 6298 §2.5 allows a maximum of at least 60 s). */
const RTO_MAX_MS = 60_000;
/** Retransmissions of one segment before giving up (RFC 1122 §4.2.3.5, R2 for data). */
const MAX_RETRIES = 12;
/**
 * SYN-ACK retransmissions before a half-open connection is dropped (Linux's tcp_synack_retries,
 * about 63 s): a SYN flood must not hold host sockets for the minutes data retries take.
 */
const MAX_SYNACK_RETRIES = 5;
/** Initial congestion window in segments (RFC 6928 §2). */
const INITIAL_CWND_SEGMENTS = 10;
/** Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2). */
const DUPACK_THRESHOLD = 3;
/** Persist timer bounds for zero-window probes (RFC 9293 §3.8.6.1; RFC 1122 §4.2.2.17). */
const PERSIST_MIN_MS = 200;
const PERSIST_MAX_MS = 5000;
/** Maximum segment lifetime; TIME_WAIT lasts 2 MSL (RFC 9293 §3.4.2 suggests 2 min, shortened for a virtual link). */
const MSL_MS = 15_000;
/** Default caps on the reassembly queue (segments; bytes are also capped by the receive buffer). */
const OOO_SEGMENTS_DEFAULT = 256;
/** Zero-window probes without the window reopening before giving up (default; about 10 min at the 5 s back-off cap). */
const PERSIST_PROBES_DEFAULT = 120;
/** Smallest peer MSS accepted: Linux's tcp_min_snd_mss after CVE-2019-11479 (tiny MSS makes a sender emit a segment per few bytes). */
export const MIN_SEND_MSS = 48;

export interface TcpEndpointOptions {
  clock: SimClock;
  logger: Logger;
  /** Prefix for log lines, e.g. "10.0.2.15:50000>10.0.2.2:8080". */
  label: string;
  /** Initial send sequence number (RFC 9293 §3.4.1; chosen by the owner). */
  iss: number;
  /** MSS we advertise (default 1460). */
  mss?: number;
  /** Receive buffer: the window we advertise when the application keeps up (default 65535). */
  receiveBuffer?: number;
  /** Send buffer high-water mark: `write` returns false at or above it (default 256 KiB). */
  sendBuffer?: number;
  /** Transmit one segment. */
  send: (seg: TcpOutSegment) => void;
  rtoMinMs?: number;
  rtoInitialMs?: number;
  maxRetries?: number;
  mslMs?: number;
  /** Out-of-order segments held at most (default 256); more are dropped (the peer retransmits). */
  maxOooSegments?: number;
  /** Out-of-order bytes held at most (default and ceiling: the receive buffer). */
  maxOooBytes?: number;
  /** Zero-window probes answered with a zero window before the connection is reset (default 120). */
  maxPersistProbes?: number;
}

export interface TcpEndpointEvents {
  /** The handshake completed. */
  onEstablished?: () => void;
  /** In-order data from the peer. Call `consumed(n)` once the application has taken it. */
  onData?: (data: Uint8Array) => void;
  /** The peer sent FIN: no more data will arrive. */
  onEnd?: () => void;
  /** The send buffer fell below half its high-water mark after `write` returned false. */
  onDrain?: () => void;
  /** The connection failed: peer reset, refused, or retransmissions exhausted. */
  onError?: (code: TcpErrorCode) => void;
  /** The endpoint reached CLOSED (after TIME_WAIT, a reset, or an abort). */
  onClosed?: () => void;
}

interface OooSegment {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

export class TcpEndpoint {
  state: TcpState = 'LISTEN';
  readonly events: TcpEndpointEvents = {};

  private readonly clock: SimClock;
  private readonly log: Logger;
  private readonly label: string;
  private readonly sendFn: (seg: TcpOutSegment) => void;
  private readonly ourMss: number;
  private readonly rcvBuffer: number;
  private readonly sndHigh: number;
  private readonly rtoMin: number;
  private readonly maxRetries: number;
  private readonly msl: number;
  private readonly maxOooSegments: number;
  private readonly maxOooBytes: number;
  private readonly maxPersistProbes: number;

  // Send sequence space (RFC 9293 §3.3.1).
  readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Highest sequence number sent so far (snd.nxt may go back on retransmission). */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sendMss = DEFAULT_SEND_MSS;
  /** Unacknowledged plus unsent data; its first byte has sequence number `sndBufStart`. */
  private readonly sndBuf = new ByteQueue();
  private sndBufStart: number;
  private finQueued = false;
  private finAcked = false;
  private wantDrain = false;

  // Receive sequence space.
  private irs = 0;
  private rcvNxt = 0;
  /** Bytes handed to the application and not yet reported consumed. */
  private unconsumed = 0;
  private lastAdvertised = 0;
  private ooo: OooSegment[] = [];
  private oooBytes = 0;
  private finReceived = false;

  // Timers and estimators (RFC 6298).
  private srtt = -1;
  private rttvar = 0;
  private rto: number;
  private retries = 0;
  private rtxTimer: SimTimer | null = null;
  private persistTimer: SimTimer | null = null;
  private persistBackoff = 0;
  private persistProbes = 0;
  private timeWaitTimer: SimTimer | null = null;
  private rttSeq = -1;
  private rttStart = 0;
  private dupAcks = 0;
  private closedNotified = false;
  // Congestion control (RFC 5681): slow start, congestion avoidance, loss window after RTO.
  private cwnd = 0;
  private ssthresh = MAX_UNSCALED_WINDOW;

  /** Counters for tests and traces. */
  readonly stats = { segmentsOut: 0, retransmits: 0, fastRetransmits: 0, probes: 0, dupAcksIn: 0, challengeAcks: 0, oooDropped: 0 };

  constructor(o: TcpEndpointOptions) {
    this.clock = o.clock;
    this.log = o.logger;
    this.label = o.label;
    this.sendFn = o.send;
    this.iss = o.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndBufStart = seqAdd(this.iss, 1);
    this.ourMss = o.mss ?? ETHERNET_MSS;
    this.rcvBuffer = Math.min(o.receiveBuffer ?? MAX_UNSCALED_WINDOW, MAX_UNSCALED_WINDOW);
    this.sndHigh = o.sendBuffer ?? 256 * 1024;
    this.rtoMin = (o.rtoMinMs ?? RTO_MIN_MS) * MS;
    this.rto = (o.rtoInitialMs ?? RTO_INITIAL_MS) * MS;
    this.maxRetries = o.maxRetries ?? MAX_RETRIES;
    this.msl = (o.mslMs ?? MSL_MS) * MS;
    this.maxOooSegments = o.maxOooSegments ?? OOO_SEGMENTS_DEFAULT;
    this.maxOooBytes = Math.min(o.maxOooBytes ?? this.rcvBuffer, this.rcvBuffer);
    this.maxPersistProbes = o.maxPersistProbes ?? PERSIST_PROBES_DEFAULT;
  }

  // ───────────────────────────── application side ─────────────────────────────

  /** Passive open: answer the peer's SYN with SYN-ACK (LISTEN → SYN_RECEIVED). */
  accept(syn: TcpSegment): void {
    if (this.state !== 'LISTEN') return;
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.takePeerOptions(syn);
    this.sndWnd = syn.window;
    this.sndWl1 = syn.seq;
    this.setState('SYN_RECEIVED');
    this.sendSyn(true);
  }

  /** Active open: send SYN (LISTEN → SYN_SENT). */
  connect(): void {
    if (this.state !== 'LISTEN') return;
    this.setState('SYN_SENT');
    this.sendSyn(false);
  }

  /** Queue data for the peer. Returns false when the send buffer is at or above its high-water mark. */
  write(data: Uint8Array): boolean {
    if (this.finQueued || this.state === 'CLOSED' || this.state === 'LISTEN') return false;
    this.sndBuf.push(data);
    this.output();
    const below = this.sndBuf.length < this.sndHigh;
    if (!below) this.wantDrain = true;
    return below;
  }

  /** Close our sending side: FIN after the queued data (half-close). */
  end(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case 'LISTEN':
      case 'SYN_SENT':
        this.close();
        return;
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
        this.finQueued = true;
        // SYN_RECEIVED waits for the handshake's ACK before FIN_WAIT_1 (RFC 9293 §3.10.4).
        if (this.state === 'ESTABLISHED') this.setState('FIN_WAIT_1');
        break;
      case 'CLOSE_WAIT':
        this.finQueued = true;
        this.setState('LAST_ACK');
        break;
      default:
        return;
    }
    this.output();
  }

  /** Abort: send RST and go to CLOSED (RFC 9293 §3.10.5). */
  abort(): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'LISTEN' && this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') {
      this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
    }
    this.close();
  }

  /** The application has taken `n` bytes delivered by onData: reopen the window. */
  consumed(n: number): void {
    this.unconsumed = Math.max(0, this.unconsumed - n);
    if (!this.synchronized() || this.finReceived) return;
    // Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2): update when the window grows by
    // min(half the buffer, one MSS), or reopens from zero.
    const wnd = this.receiveWindow();
    const grow = wnd - this.lastAdvertised;
    if (grow >= Math.min(this.rcvBuffer / 2, this.ourMss) || (this.lastAdvertised === 0 && wnd > 0)) this.sendAck();
  }

  /** Cancel all timers without sending anything (the owner is shutting down). */
  dispose(): void {
    this.cancelTimers();
    this.state = 'CLOSED';
  }

  get sendQueued(): number {
    return this.sndBuf.length;
  }

  get receiveWindowNow(): number {
    return this.receiveWindow();
  }

  get peerMss(): number {
    return this.sendMss;
  }

  get sendWindow(): number {
    return this.sndWnd;
  }

  get nextReceive(): number {
    return this.rcvNxt;
  }

  get nextSend(): number {
    return this.sndNxt;
  }

  get unacknowledged(): number {
    return this.sndUna;
  }

  get currentRtoMs(): number {
    return this.rto / MS;
  }

  /** Whether all our data and FIN (if any) are acknowledged. */
  get allAcked(): boolean {
    return this.sndUna === this.sndMax && this.sndBuf.length === 0;
  }

  // ───────────────────────────── segment arrival ─────────────────────────────

  /** Process one segment from the peer (RFC 9293 §3.10.7). */
  input(seg: TcpSegment): void {
    this.log.trace('tcp', () => `${this.label} ${this.state} < ${tcpFlagsToString(seg.flags)} seq=${seg.seq} ack=${seg.ack} win=${seg.window} len=${seg.payload.length}`);
    switch (this.state) {
      case 'CLOSED':
        return;
      case 'LISTEN':
        // The owner calls accept() with the SYN; anything else in LISTEN is answered by the owner.
        return;
      case 'SYN_SENT':
        this.inputSynSent(seg);
        return;
      default:
        this.inputSynchronized(seg);
    }
  }

  private inputSynSent(seg: TcpSegment): void {
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    // First check the ACK (RFC 9293 §3.10.7.3).
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax))) {
      if (!(seg.flags & TCP_RST)) this.emit({ seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 });
      return;
    }
    if (seg.flags & TCP_RST) {
      if (hasAck) {
        this.events.onError?.('ECONNREFUSED');
        this.close();
      }
      return;
    }
    if (!(seg.flags & TCP_SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.takePeerOptions(seg);
    if (hasAck) {
      this.sndUna = seg.ack;
      if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      this.updateRtt(seg.ack);
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.retries = 0;
      this.stopRtx();
      this.setState('ESTABLISHED');
      this.sendAck();
      this.events.onEstablished?.();
      this.output();
    } else {
      // Simultaneous open: SYN_SENT → SYN_RECEIVED, answer with SYN-ACK (RFC 9293 §3.5).
      this.setState('SYN_RECEIVED');
      this.sndNxt = this.iss;
      this.sendSyn(true);
    }
  }

  private inputSynchronized(seg: TcpSegment): void {
    const rst = (seg.flags & TCP_RST) !== 0;
    const syn = (seg.flags & TCP_SYN) !== 0;
    let fin = (seg.flags & TCP_FIN) !== 0;
    let data = seg.payload;
    let seq = seg.seq;
    const segLen = data.length + (syn ? 1 : 0) + (fin ? 1 : 0);
    const wnd = this.receiveWindow();

    if (syn && !rst && this.state === 'SYN_RECEIVED' && seq === this.irs) {
      // Retransmitted SYN: our SYN-ACK was lost; send it again.
      this.sndNxt = this.iss;
      this.sendSyn(true);
      return;
    }

    // First: sequence number acceptability (RFC 9293 §3.10.7.4).
    let acceptable: boolean;
    if (segLen === 0) {
      acceptable = wnd === 0 ? seq === this.rcvNxt : seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, wnd));
    } else if (wnd === 0) {
      acceptable = false;
    } else {
      const last = seqAdd(seq, segLen - 1);
      const inWin = (s: number) => seqGe(s, this.rcvNxt) && seqLt(s, seqAdd(this.rcvNxt, wnd));
      acceptable = inWin(seq) || inWin(last);
    }
    if (!acceptable) {
      if (rst) return;
      // A zero window still accepts ACKs (RFC 9293 §3.10.7.4: "special allowance ... valid ACKs").
      if (wnd === 0 && seq === this.rcvNxt && seg.flags & TCP_ACK) this.processAck(seg);
      if (this.state === 'CLOSED') return;
      this.sendAck();
      return;
    }

    // Second: RST (RFC 5961 §3.2: exact match resets, in-window gets a challenge ACK).
    if (rst) {
      if (seq === this.rcvNxt) {
        if (this.state !== 'TIME_WAIT') this.events.onError?.('ECONNRESET');
        this.close();
      } else {
        this.challengeAck();
      }
      return;
    }

    // Fourth: SYN in a synchronized state gets a challenge ACK (RFC 5961 §4.2).
    if (syn) {
      this.challengeAck();
      return;
    }

    // Fifth: the ACK field.
    if (!(seg.flags & TCP_ACK)) return;
    if (this.state === 'SYN_RECEIVED') {
      if (seqGt(seg.ack, this.sndUna) && seqLe(seg.ack, this.sndMax)) {
        this.setState(this.finQueued ? 'FIN_WAIT_1' : 'ESTABLISHED');
        this.events.onEstablished?.();
      } else {
        this.emit({ seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 });
        return;
      }
    }
    if (!this.processAck(seg)) return;
    if (this.state === 'CLOSED') return;

    // Seventh: segment text, trimmed to the window (RFC 9293 §3.10.7.4).
    if (this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2') {
      if (seqLt(seq, this.rcvNxt)) {
        const skip = seqDiff(this.rcvNxt, seq);
        data = data.subarray(Math.min(skip, data.length));
        seq = this.rcvNxt;
      }
      const room = seqDiff(seqAdd(this.rcvNxt, wnd), seq);
      if (data.length > room) {
        data = data.subarray(0, Math.max(0, room));
        fin = false;
      }
      if (data.length > 0 || fin) {
        if (seq === this.rcvNxt) {
          this.deliver(data, fin);
          this.drainReassembly();
        } else {
          this.queueOutOfOrder(seq, data, fin);
        }
        this.sendAck();
      }
    } else if (fin && this.state === 'TIME_WAIT') {
      // Retransmitted FIN: acknowledge and restart the 2 MSL timer (RFC 9293 §3.10.7.4, eighth).
      this.sendAck();
      this.startTimeWait();
    } else if (segLen > 0) {
      this.sendAck();
    }
  }

  /** ACK processing for synchronized states; false if the segment must be dropped. */
  private processAck(seg: TcpSegment): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      // Acknowledges something not yet sent: ACK and drop (RFC 9293 §3.10.7.4).
      this.sendAck();
      return false;
    }
    if (seqGt(ack, this.sndUna)) {
      this.ackAdvance(ack);
    } else if (ack === this.sndUna && seg.payload.length === 0 && !(seg.flags & (TCP_FIN | TCP_SYN)) && seg.window === this.sndWnd && this.sndUna !== this.sndMax) {
      // Duplicate ACK (RFC 5681 §2 definition).
      this.stats.dupAcksIn++;
      if (++this.dupAcks === this.dupThreshold() && this.sndWnd > 0) this.fastRetransmit();
    }
    // Window update (RFC 9293 §3.10.7.4, fifth check).
    if (seqLe(this.sndUna, ack) && (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack)))) {
      const opened = this.sndWnd === 0 && seg.window > 0;
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (opened) this.stopPersist();
    }
    // State transitions driven by our FIN being acknowledged.
    if (this.finAcked) {
      if (this.state === 'FIN_WAIT_1') this.setState('FIN_WAIT_2');
      else if (this.state === 'CLOSING') this.enterTimeWait();
      else if (this.state === 'LAST_ACK') {
        this.close();
        return false;
      }
    }
    this.output();
    return true;
  }

  private ackAdvance(ack: number): void {
    // SYN occupies the sequence number iss.
    let from = this.sndUna;
    if (from === this.iss) from = seqAdd(from, 1);
    const dataEnd = seqAdd(this.sndBufStart, this.sndBuf.length);
    const ackedData = seqDiff(seqLt(ack, dataEnd) ? ack : dataEnd, from);
    if (ackedData > 0) {
      this.sndBuf.drop(ackedData);
      this.sndBufStart = seqAdd(this.sndBufStart, ackedData);
    }
    if (this.finQueued && seqGt(ack, dataEnd)) this.finAcked = true;
    this.updateRtt(ack);
    const acked = seqDiff(ack, this.sndUna);
    // Slow start below ssthresh, congestion avoidance above (RFC 5681 §3.1).
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, this.sendMss);
    else this.cwnd += Math.max(1, Math.floor((this.sendMss * this.sendMss) / this.cwnd));
    this.cwnd = Math.min(this.cwnd, 4 * MAX_UNSCALED_WINDOW);
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    this.dupAcks = 0;
    this.retries = 0;
    this.stopRtx();
    if (this.sndUna !== this.sndMax) this.startRtx();
    if (this.wantDrain && this.sndBuf.length < this.sndHigh / 2) {
      this.wantDrain = false;
      this.events.onDrain?.();
    }
  }

  private deliver(data: Uint8Array, fin: boolean): void {
    if (data.length > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
      this.unconsumed += data.length;
      this.events.onData?.(data);
    }
    if (fin && !this.finReceived) this.receiveFin();
  }

  private receiveFin(): void {
    this.finReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    switch (this.state) {
      case 'ESTABLISHED':
        this.setState('CLOSE_WAIT');
        break;
      case 'FIN_WAIT_1':
        if (this.finAcked) this.enterTimeWait();
        else this.setState('CLOSING');
        break;
      case 'FIN_WAIT_2':
        this.enterTimeWait();
        break;
    }
    this.events.onEnd?.();
  }

  /**
   * Hold a segment that starts beyond RCV.NXT. The queue stays sorted by sequence number
   * (relative to RCV.NXT) with a binary-search insert: O(log n) to find the place, and both
   * its length and its bytes are capped, so a flood of tiny segments costs bounded time and memory.
   */
  private queueOutOfOrder(seq: number, data: Uint8Array, fin: boolean): void {
    if (this.ooo.length >= this.maxOooSegments || this.oooBytes + data.length > this.maxOooBytes) {
      if (this.stats.oooDropped++ === 0) {
        this.log.debug('tcp', `${this.label}: out-of-order queue full (${this.ooo.length} segments, ${this.oooBytes} bytes); dropping until it drains`);
      }
      return;
    }
    const off = seqDiff(seq, this.rcvNxt);
    let lo = 0;
    let hi = this.ooo.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqDiff(this.ooo[mid]!.seq, this.rcvNxt) < off) lo = mid + 1;
      else hi = mid;
    }
    // Skip exact duplicates; overlaps are resolved when draining.
    for (let i = lo; i < this.ooo.length && this.ooo[i]!.seq === seq; i++) {
      const s = this.ooo[i]!;
      if (s.data.length >= data.length && (s.fin || !fin)) return;
    }
    this.ooo.splice(lo, 0, { seq, data: data.slice(), fin });
    this.oooBytes += data.length;
  }

  private drainReassembly(): void {
    let taken = 0;
    while (taken < this.ooo.length && !this.finReceived) {
      const s = this.ooo[taken]!;
      if (seqGt(s.seq, this.rcvNxt)) break;
      taken++;
      this.oooBytes -= s.data.length;
      const skip = seqDiff(this.rcvNxt, s.seq);
      if (skip > s.data.length) continue;
      const rest = s.data.subarray(skip);
      if (rest.length === 0 && !s.fin) continue;
      this.deliver(rest, s.fin);
    }
    if (taken > 0) this.ooo.splice(0, taken);
    if (this.finReceived) {
      this.ooo = [];
      this.oooBytes = 0;
    }
  }

  // ───────────────────────────── sending ─────────────────────────────

  /** Send what the window allows: new data, then FIN once all data is out. */
  private output(): void {
    if (!this.synchronized() || this.state === 'SYN_RECEIVED') return;
    if (this.state === 'TIME_WAIT' || this.state === 'CLOSED') return;
    for (;;) {
      const dataEnd = seqAdd(this.sndBufStart, this.sndBuf.length);
      const offset = seqDiff(this.sndNxt, this.sndBufStart);
      const unsent = Math.max(0, this.sndBuf.length - offset);
      const usable = seqDiff(seqAdd(this.sndUna, Math.min(this.sndWnd, this.cwnd)), this.sndNxt);
      if (unsent > 0 && usable > 0) {
        const len = Math.min(this.sendMss, unsent, usable);
        const payload = this.sndBuf.peek(offset, len);
        const last = offset + len === this.sndBuf.length;
        const seq = this.sndNxt;
        const isNew = seq === this.sndMax;
        this.sndNxt = seqAdd(seq, len);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        this.sendData(seq, payload, last, isNew);
        continue;
      }
      if (unsent === 0 && this.finQueued && this.sndNxt === dataEnd && !this.finAcked) {
        const seq = this.sndNxt;
        this.sndNxt = seqAdd(seq, 1);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        this.emit({ seq, ack: this.rcvNxt, flags: TCP_FIN | TCP_ACK, window: this.advertise() });
      }
      if (unsent > 0 && this.sndWnd === 0 && this.sndUna === this.sndNxt) this.startPersist();
      break;
    }
    if (this.sndUna !== this.sndMax && !this.rtxTimer && !this.persistTimer) this.startRtx();
  }

  private sendData(seq: number, payload: Uint8Array, push: boolean, isNew: boolean): void {
    // Time one new segment at a time (never a retransmission: Karn, RFC 6298 §3).
    if (this.rttSeq < 0 && isNew) {
      this.rttSeq = seqAdd(seq, payload.length);
      this.rttStart = this.clock.nanos;
    }
    this.emit({ seq, ack: this.rcvNxt, flags: TCP_ACK | (push ? TCP_PSH : 0), window: this.advertise(), payload });
  }

  private sendSyn(withAck: boolean): void {
    if (this.rttSeq < 0 && this.sndMax === this.iss) {
      this.rttSeq = seqAdd(this.iss, 1);
      this.rttStart = this.clock.nanos;
    }
    // Sequence state first: the peer's answer may arrive before emit() returns.
    this.sndNxt = seqAdd(this.iss, 1);
    if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    if (!this.rtxTimer) this.startRtx();
    this.emit({
      seq: this.iss,
      ack: withAck ? this.rcvNxt : 0,
      flags: TCP_SYN | (withAck ? TCP_ACK : 0),
      window: withAck ? this.advertise() : Math.min(this.rcvBuffer, MAX_UNSCALED_WINDOW),
      mss: this.ourMss,
    });
  }

  private sendAck(): void {
    this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_ACK, window: this.advertise() });
  }

  private challengeAck(): void {
    this.stats.challengeAcks++;
    this.sendAck();
  }

  private advertise(): number {
    const w = this.receiveWindow();
    this.lastAdvertised = w;
    return w;
  }

  private receiveWindow(): number {
    return Math.max(0, Math.min(MAX_UNSCALED_WINDOW, this.rcvBuffer - this.unconsumed));
  }

  private emit(seg: TcpOutSegment): void {
    this.stats.segmentsOut++;
    this.log.trace('tcp', () => `${this.label} ${this.state} > ${tcpFlagsToString(seg.flags)} seq=${seg.seq} ack=${seg.ack} win=${seg.window} len=${seg.payload?.length ?? 0}`);
    this.sendFn(seg);
  }

  /**
   * Early Retransmit (RFC 5827 §3.1): with fewer than four segments outstanding and nothing new
   * to send, three duplicate ACKs can never arrive, so the threshold is outstanding - 1.
   * Small receive windows (lwIP's is a few segments) make this the common case.
   */
  private dupThreshold(): number {
    const outstanding = Math.ceil(seqDiff(this.sndMax, this.sndUna) / this.sendMss);
    const unsent = this.sndBuf.length - Math.max(0, seqDiff(this.sndMax, this.sndBufStart));
    const canSendNew = unsent > 0 && seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndMax) > 0;
    if (outstanding < 4 && !canSendNew) return Math.max(1, outstanding - 1);
    return DUPACK_THRESHOLD;
  }

  private fastRetransmit(): void {
    this.stats.fastRetransmits++;
    // RFC 5681 §3.2: ssthresh = max(FlightSize / 2, 2 * SMSS); continue from there.
    this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.sendMss);
    this.cwnd = this.ssthresh;
    this.retransmitHead();
  }

  /** Resend the first unacknowledged segment without moving snd.nxt. */
  private retransmitHead(): void {
    this.stats.retransmits++;
    this.rttSeq = -1; // Karn: no RTT sample from retransmitted data (RFC 6298 §3).
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') {
      this.sendSyn(this.state === 'SYN_RECEIVED');
      return;
    }
    const offset = seqDiff(this.sndUna, this.sndBufStart);
    const avail = this.sndBuf.length - Math.max(0, offset);
    if (offset >= 0 && avail > 0) {
      const len = Math.min(this.sendMss, avail, Math.max(1, seqDiff(this.sndMax, this.sndUna)));
      this.emit({ seq: this.sndUna, ack: this.rcvNxt, flags: TCP_ACK, window: this.advertise(), payload: this.sndBuf.peek(offset, len) });
    } else if (this.finQueued && !this.finAcked) {
      this.emit({ seq: this.sndUna, ack: this.rcvNxt, flags: TCP_FIN | TCP_ACK, window: this.advertise() });
    }
  }

  // ───────────────────────────── timers ─────────────────────────────

  private startRtx(): void {
    this.stopRtx();
    this.rtxTimer = this.clock.schedule(this.rto, () => this.onRtxTimeout());
  }

  private stopRtx(): void {
    this.rtxTimer?.cancel();
    this.rtxTimer = null;
  }

  private onRtxTimeout(): void {
    this.rtxTimer = null;
    if (this.state === 'CLOSED' || this.sndUna === this.sndMax) return;
    const limit = this.state === 'SYN_RECEIVED' ? Math.min(this.maxRetries, MAX_SYNACK_RETRIES) : this.maxRetries;
    if (++this.retries > limit) {
      this.log.debug('tcp', `${this.label}: giving up after ${limit} retransmissions`);
      this.events.onError?.('ETIMEDOUT');
      this.abort();
      return;
    }
    // Back off the timer (RFC 6298 §5.5) and go back to the first unacknowledged byte
    // with a loss window of one segment (RFC 5681 §3.1, equations 4 and the loss window).
    this.rto = Math.min(this.rto * 2, RTO_MAX_MS * MS);
    if (this.retries === 1) this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.sendMss);
    this.cwnd = this.sendMss;
    this.rttSeq = -1;
    this.dupAcks = 0;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') {
      this.stats.retransmits++;
      this.sendSyn(this.state === 'SYN_RECEIVED');
      this.startRtx();
      return;
    }
    this.stats.retransmits++;
    this.sndNxt = this.sndUna;
    // With a zero window, output() hands over to the persist timer instead of sending data.
    this.output();
    if (!this.rtxTimer && !this.persistTimer && this.sndUna !== this.sndMax) this.startRtx();
  }

  private updateRtt(ack: number): void {
    if (this.rttSeq < 0 || seqLt(ack, this.rttSeq)) return;
    const r = this.clock.nanos - this.rttStart;
    this.rttSeq = -1;
    // RFC 6298 §2.2 / §2.3 with alpha = 1/8, beta = 1/4, K = 4, G ≈ 0.
    if (this.srtt < 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(Math.max(this.srtt + 4 * this.rttvar, this.rtoMin), RTO_MAX_MS * MS);
  }

  private startPersist(): void {
    if (this.persistTimer) return;
    this.stopRtx();
    const base = Math.max(this.rto, PERSIST_MIN_MS * MS);
    const delay = Math.min(base * 2 ** this.persistBackoff, PERSIST_MAX_MS * MS);
    this.persistTimer = this.clock.schedule(delay, () => this.onPersist());
  }

  private stopPersist(): void {
    this.persistTimer?.cancel();
    this.persistTimer = null;
    this.persistBackoff = 0;
    this.persistProbes = 0;
  }

  /** Zero-window probe: one byte of new data beyond the window (RFC 9293 §3.8.6.1). */
  private onPersist(): void {
    this.persistTimer = null;
    if (this.state === 'CLOSED' || this.sndWnd > 0) {
      this.output();
      return;
    }
    const offset = seqDiff(this.sndUna, this.sndBufStart);
    if (offset < 0 || offset >= this.sndBuf.length) return;
    if (++this.persistProbes > this.maxPersistProbes) {
      // A peer that keeps its window shut forever holds our send buffer forever: give up as
      // Linux does after tcp_retries2 unanswered probes (RFC 1122 §4.2.2.17 allows it).
      this.log.warn('tcp', `${this.label}: peer kept a zero window through ${this.maxPersistProbes} probes; resetting the connection`);
      this.events.onError?.('ETIMEDOUT');
      this.abort();
      return;
    }
    this.stats.probes++;
    const seq = this.sndUna;
    this.sndNxt = seqAdd(seq, 1);
    if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    this.persistBackoff = Math.min(this.persistBackoff + 1, 8);
    this.startPersist();
    this.emit({ seq, ack: this.rcvNxt, flags: TCP_ACK, window: this.advertise(), payload: this.sndBuf.peek(offset, 1) });
  }

  private enterTimeWait(): void {
    this.setState('TIME_WAIT');
    this.stopRtx();
    this.stopPersist();
    this.startTimeWait();
  }

  private startTimeWait(): void {
    this.timeWaitTimer?.cancel();
    this.timeWaitTimer = this.clock.schedule(2 * this.msl, () => this.close());
  }

  private cancelTimers(): void {
    this.stopRtx();
    this.stopPersist();
    this.timeWaitTimer?.cancel();
    this.timeWaitTimer = null;
  }

  private close(): void {
    this.cancelTimers();
    this.setState('CLOSED');
    this.sndBuf.clear();
    this.ooo = [];
    if (!this.closedNotified) {
      this.closedNotified = true;
      this.events.onClosed?.();
    }
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private takePeerOptions(seg: TcpSegment): void {
    // Effective send MSS (RFC 9293 §3.7.1): the peer's option, or 536 without one; never above ours.
    this.sendMss = Math.max(MIN_SEND_MSS, Math.min(seg.mss ?? DEFAULT_SEND_MSS, this.ourMss));
    this.cwnd = INITIAL_CWND_SEGMENTS * this.sendMss;
  }

  private synchronized(): boolean {
    return this.state !== 'LISTEN' && this.state !== 'SYN_SENT' && this.state !== 'CLOSED';
  }

  private setState(s: TcpState): void {
    if (s === this.state) return;
    this.log.trace('tcp', () => `${this.label} ${this.state} -> ${s}`);
    this.state = s;
  }

  /** Whether a new SYN with this sequence number may reuse this connection's 4-tuple from TIME_WAIT (RFC 9293 §3.6.1). */
  acceptsNewSyn(seq: number): boolean {
    return this.state === 'TIME_WAIT' && seqGt(seq, this.rcvNxt);
  }
}
