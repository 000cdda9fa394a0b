/**
 * A scripted board side for the network tests and the NAT benchmark (`bench/net.ts`): an
 * Ethernet port with an ARP responder, UDP/ICMP inboxes and a minimal TCP (go-back-N sender and
 * in-order receiver with a settable window), all speaking through the frames of `frames.ts`.
 * Independent of sim/net's own TCP, so it can be the other side of it in tests.
 */
import type { ManualClock } from '../../time.ts';
import type { HostIo, HostIoToken } from '../../time.ts';
import { arp, BCAST, decode, eth, ScriptedPort, ip, ipv4, mac, tcp, udp, type Decoded } from './frames.ts';

export const GW_MAC = mac('52:55:0a:00:02:02');
const MSS = 1460;

/** A HostIo that counts open tokens. */
export class CountingHostIo implements HostIo {
  open = new Set<string>();
  begun = 0;
  notifies = 0;
  begin(label: string): HostIoToken {
    const key = `${label}#${this.begun++}`;
    this.open.add(key);
    return { release: () => void this.open.delete(key) };
  }
  notify(): void {
    this.notifies++;
  }
}

/** Wait for `cond`, advancing the manual clock by `stepMs` per turn of the event loop. */
export async function until(cond: () => boolean, clock: ManualClock, what: string, timeoutMs = 10_000, stepMs = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    clock.advance(stepMs * 1e6);
    await new Promise((r) => setImmediate(r));
  }
}

export class ScriptedBoard {
  readonly port: ScriptedPort;
  readonly ipNum: number;
  readonly inbox: Decoded[] = [];
  readonly conns: BoardTcp[] = [];
  private listeners = new Map<number, (c: BoardTcp) => void>();
  /** Neighbours on the LAN (ip → MAC) for board-to-board traffic. */
  readonly neighbours = new Map<number, Uint8Array>();
  private ipId = 1;
  private nextPort = 50000;

  constructor(
    readonly clock: ManualClock,
    macText: string,
    readonly ipText = '10.0.2.15',
  ) {
    this.port = new ScriptedPort(mac(macText));
    this.ipNum = ip(ipText);
    this.port.onDeliver = (f) => this.onFrame(decode(f));
  }

  private onFrame(d: Decoded): void {
    if (d.arp) {
      if (d.arp.op === 1 && d.arp.tip === this.ipText) {
        this.port.send(eth(mac(d.arp.smac), this.port.mac, 0x0806, arp(2, this.port.mac, this.ipNum, mac(d.arp.smac), ip(d.arp.sip))));
      }
      this.inbox.push(d);
      return;
    }
    if (d.tcp && d.ip) {
      const c = this.conns.find((x) => x.lport === d.tcp!.dp && x.rport === d.tcp!.sp && x.rip === ip(d.ip!.src));
      if (c) return c.onSegment(d);
      const l = this.listeners.get(d.tcp.dp);
      if (l && d.tcp.flags === 'S') {
        const nc = new BoardTcp(this, d.tcp.dp, ip(d.ip.src), d.tcp.sp);
        this.conns.push(nc);
        nc.acceptFrom(d);
        l(nc);
        return;
      }
    }
    this.inbox.push(d);
  }

  sendIp(dst: number, proto: number, payload: number[], dstMac?: Uint8Array): void {
    const to = dstMac ?? this.neighbours.get(dst) ?? GW_MAC;
    this.port.send(eth(to, this.port.mac, 0x0800, ipv4(this.ipNum, dst, proto, payload, this.ipId++)));
  }

  udpSend(dst: string, sp: number, dp: number, data: number[] | Uint8Array): void {
    this.sendIp(ip(dst), 17, udp(this.ipNum, ip(dst), sp, dp, data));
  }

  /** Remove and return inbox entries matching `pred`. */
  takeWhere(pred: (d: Decoded) => boolean): Decoded[] {
    const out: Decoded[] = [];
    for (let i = 0; i < this.inbox.length; ) {
      if (pred(this.inbox[i]!)) out.push(...this.inbox.splice(i, 1));
      else i++;
    }
    return out;
  }

  connect(dst: string, dport: number, opts: { window?: number } = {}): BoardTcp {
    const c = new BoardTcp(this, this.nextPort++, ip(dst), dport);
    if (opts.window !== undefined) c.window = opts.window;
    this.conns.push(c);
    c.connect();
    return c;
  }

  listen(lport: number, onConn: (c: BoardTcp) => void): void {
    this.listeners.set(lport, onConn);
  }

  arpRequest(target: string): void {
    this.port.send(eth(BCAST, this.port.mac, 0x0806, arp(1, this.port.mac, this.ipNum, new Uint8Array(6), ip(target))));
  }
}

export class BoardTcp {
  state: 'CLOSED' | 'SYN_SENT' | 'SYN_RCVD' | 'ESTABLISHED' | 'RESET' = 'CLOSED';
  iss = 0x10000000;
  rcvNxt = 0;
  peerWindow = 0;
  peerMss = 536;
  window = 65535;
  /** When false the board stops ACKing received data (a stalled board). */
  autoAck = true;
  readonly received: number[] = [];
  finReceived = false;
  finSent = false;
  finAcked = false;
  rstReceived = false;
  synAcked = false;
  readonly windowsSeen: number[] = [];
  /** Everything written; `ua` bytes are acknowledged, `nx` bytes have been sent. */
  private tx: number[] = [];
  private ua = 0;
  private nx = 0;
  private wantFin = false;
  private rtxAt = -1;

  constructor(
    readonly board: ScriptedBoard,
    readonly lport: number,
    readonly rip: number,
    readonly rport: number,
  ) {}

  get sndNxt(): number {
    if (!this.synAcked && this.state !== 'ESTABLISHED') return (this.iss + 1) >>> 0;
    return (this.iss + 1 + this.nx + (this.finSent ? 1 : 0)) >>> 0;
  }

  get unacked(): number {
    return this.tx.length - this.ua;
  }

  private out(flags: string, seq: number, data: number[] = [], extra: { mss?: number } = {}): void {
    this.board.sendIp(this.rip, 6, tcp({ src: this.board.ipNum, dst: this.rip, sp: this.lport, dp: this.rport, seq, ack: flags.includes('A') ? this.rcvNxt : 0, flags, win: this.window, data, mss: extra.mss }));
  }

  connect(): void {
    this.state = 'SYN_SENT';
    this.out('S', this.iss, [], { mss: MSS });
  }

  acceptFrom(d: Decoded): void {
    this.state = 'SYN_RCVD';
    this.rcvNxt = (d.tcp!.seq + 1) >>> 0;
    this.peerWindow = d.tcp!.win;
    this.peerMss = d.tcp!.mss ?? 536;
    this.out('SA', this.iss, [], { mss: MSS });
  }

  reset(): void {
    this.out('RA', this.sndNxt);
    this.state = 'RESET';
  }

  write(data: number[] | Uint8Array): void {
    for (const b of data) this.tx.push(b);
    this.pump();
  }

  close(): void {
    this.wantFin = true;
    this.pump();
  }

  /** Re-advertise our window (after changing `window`). */
  sendWindowUpdate(): void {
    this.out('A', this.sndNxt);
  }

  onSegment(d: Decoded): void {
    const t = d.tcp!;
    if (t.flags.includes('R')) {
      this.rstReceived = true;
      this.state = 'RESET';
      return;
    }
    this.windowsSeen.push(t.win);
    if (this.state === 'SYN_SENT') {
      if (t.flags.includes('S') && t.flags.includes('A') && t.ack === ((this.iss + 1) >>> 0)) {
        this.rcvNxt = (t.seq + 1) >>> 0;
        this.peerWindow = t.win;
        this.peerMss = t.mss ?? 536;
        this.state = 'ESTABLISHED';
        this.synAcked = true;
        this.out('A', this.sndNxt);
        this.pump();
      }
      return;
    }
    if (this.state === 'SYN_RCVD' && t.flags.includes('A') && t.ack === ((this.iss + 1) >>> 0)) {
      this.state = 'ESTABLISHED';
      this.synAcked = true;
    }
    if (t.flags.includes('A')) {
      const ackedData = (t.ack - ((this.iss + 1) >>> 0)) | 0;
      if (ackedData > this.ua && ackedData <= this.tx.length + 1) {
        this.ua = Math.min(ackedData, this.tx.length);
        if (this.nx < this.ua) this.nx = this.ua;
        if (this.finSent && ackedData === this.tx.length + 1) this.finAcked = true;
        this.rtxAt = this.ua === this.nx && (!this.finSent || this.finAcked) ? -1 : this.board.clock.nanos + 300e6;
      }
      this.peerWindow = t.win;
    }
    let advanced = false;
    if (t.data.length > 0 || t.flags.includes('F')) {
      if (t.seq === this.rcvNxt && !this.finReceived) {
        for (const b of t.data) this.received.push(b);
        this.rcvNxt = (this.rcvNxt + t.data.length) >>> 0;
        if (t.flags.includes('F')) {
          this.finReceived = true;
          this.rcvNxt = (this.rcvNxt + 1) >>> 0;
        }
        advanced = true;
      }
      if (this.autoAck || !advanced) this.out('A', this.sndNxt);
    }
    this.pump();
  }

  /** Send whatever the peer window allows; go-back-N retransmission after 300 ms without progress. */
  pump(): void {
    if (this.state === 'SYN_SENT' && this.board.clock.nanos >= this.rtxAt) {
      // SYN lost (or its answer): send it again.
      if (this.rtxAt >= 0) this.out('S', this.iss, [], { mss: MSS });
      this.rtxAt = this.board.clock.nanos + 300e6;
      return;
    }
    if (this.state !== 'ESTABLISHED') return;
    if (this.rtxAt >= 0 && this.board.clock.nanos >= this.rtxAt) {
      this.nx = this.ua;
      if (this.finSent && !this.finAcked) this.finSent = false;
      this.rtxAt = -1;
    }
    for (;;) {
      const inflight = this.nx - this.ua;
      const room = this.peerWindow - inflight;
      if (this.nx < this.tx.length && room > 0) {
        const n = Math.min(room, this.peerMss, this.tx.length - this.nx);
        const chunk = this.tx.slice(this.nx, this.nx + n);
        const seq = this.sndNxt;
        this.nx += n;
        this.out(this.nx === this.tx.length ? 'PA' : 'A', seq, chunk);
        if (this.rtxAt < 0) this.rtxAt = this.board.clock.nanos + 300e6;
        continue;
      }
      if (this.nx === this.tx.length && this.wantFin && !this.finSent) {
        const seq = this.sndNxt;
        this.finSent = true;
        this.out('FA', seq);
        if (this.rtxAt < 0) this.rtxAt = this.board.clock.nanos + 300e6;
      }
      break;
    }
  }
}

/** Drive retransmission timers of every board connection while waiting. */
export async function pumpUntil(boards: ScriptedBoard[], cond: () => boolean, clock: ManualClock, what: string, timeoutMs = 20_000, stepMs = 1): Promise<void> {
  await until(
    () => {
      for (const b of boards) for (const c of b.conns) c.pump();
      return cond();
    },
    clock,
    what,
    timeoutMs,
    stepMs,
  );
}
