import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../sim/log.ts';
import { TcpEndpoint, type TcpEndpointOptions, type TcpErrorCode, type TcpOutSegment } from '../../sim/net/tcp-endpoint.ts';
import type { TcpSegment } from '../../sim/net/wire/tcp.ts';
import { ManualClock } from '../../sim/time.ts';

const MS = 1_000_000;
const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };

function seg(seq: number, ack: number, flags: number, opts: { win?: number; data?: number[] | Uint8Array; mss?: number } = {}): TcpSegment {
  return {
    srcPort: 50000,
    dstPort: 8080,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    window: opts.win ?? 65535,
    urgent: 0,
    mss: opts.mss,
    payload: Uint8Array.from(opts.data ?? []),
    checksumValid: true,
  };
}

const bytes = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (i + start) & 255);
const add = (a: number, n: number) => (a + n) >>> 0;

function harness(o: Partial<TcpEndpointOptions> = {}) {
  const clock = new ManualClock();
  const out: TcpOutSegment[] = [];
  const rx: number[] = [];
  const events: string[] = [];
  const errors: TcpErrorCode[] = [];
  const ep = new TcpEndpoint({ clock, logger: silentLogger(), label: 'test', iss: 1000, send: (s) => out.push(s), ...o });
  ep.events.onData = (d) => rx.push(...d);
  ep.events.onEnd = () => events.push('end');
  ep.events.onEstablished = () => events.push('established');
  ep.events.onClosed = () => events.push('closed');
  ep.events.onDrain = () => events.push('drain');
  ep.events.onError = (c) => errors.push(c);
  const take = () => out.splice(0);
  return { clock, out, rx, events, errors, ep, take };
}

/** Passive open with peer ISN `irs`; returns the harness in ESTABLISHED with output cleared. */
function established(irs = 5000, o: Partial<TcpEndpointOptions> = {}, peer: { win?: number; mss?: number } = {}) {
  const h = harness(o);
  h.ep.accept(seg(irs, 0, F.SYN, { win: peer.win ?? 65535, mss: peer.mss ?? 1460 }));
  const [synAck] = h.take();
  h.ep.input(seg(add(irs, 1), add(synAck!.seq, 1), F.ACK, { win: peer.win ?? 65535 }));
  h.take();
  return { ...h, irs, iss: synAck!.seq };
}

describe('TcpEndpoint handshake', () => {
  it('answers SYN with SYN-ACK carrying our MSS, then becomes ESTABLISHED on the ACK', () => {
    const h = harness();
    h.ep.accept(seg(7000, 0, F.SYN, { mss: 1200 }));
    const [sa] = h.take();
    expect(sa).toMatchObject({ seq: 1000, ack: 7001, flags: F.SYN | F.ACK, mss: 1460 });
    expect(h.ep.state).toBe('SYN_RECEIVED');
    h.ep.input(seg(7001, 1001, F.ACK));
    expect(h.ep.state).toBe('ESTABLISHED');
    expect(h.events).toEqual(['established']);
    expect(h.ep.peerMss).toBe(1200);
  });

  it('uses 536 as send MSS when the SYN has no MSS option (RFC 9293 §3.7.1)', () => {
    const h = harness();
    h.ep.accept(seg(1, 0, F.SYN));
    expect(h.ep.peerMss).toBe(536);
  });

  it('retransmits a lost SYN-ACK when the SYN is repeated and on timeout', () => {
    const h = harness();
    h.ep.accept(seg(7000, 0, F.SYN));
    h.take();
    h.ep.input(seg(7000, 0, F.SYN));
    expect(h.take()[0]).toMatchObject({ seq: 1000, ack: 7001, flags: F.SYN | F.ACK });
    h.clock.advance(1000 * MS);
    expect(h.take()[0]).toMatchObject({ seq: 1000, flags: F.SYN | F.ACK });
  });

  it('active open: SYN, then SYN-ACK completes with an ACK', () => {
    const h = harness();
    h.ep.connect();
    expect(h.take()[0]).toMatchObject({ seq: 1000, flags: F.SYN, mss: 1460 });
    h.ep.input(seg(9000, 1001, F.SYN | F.ACK, { mss: 1000 }));
    expect(h.ep.state).toBe('ESTABLISHED');
    expect(h.take()[0]).toMatchObject({ seq: 1001, ack: 9001, flags: F.ACK });
  });

  it('active open refused: RST+ACK in SYN_SENT reports ECONNREFUSED', () => {
    const h = harness();
    h.ep.connect();
    h.take();
    h.ep.input(seg(0, 1001, F.RST | F.ACK));
    expect(h.errors).toEqual(['ECONNREFUSED']);
    expect(h.ep.state).toBe('CLOSED');
  });

  it('SYN_SENT ignores an RST whose ACK is wrong, and resets an unacceptable ACK', () => {
    const h = harness();
    h.ep.connect();
    h.take();
    h.ep.input(seg(0, 5, F.RST | F.ACK));
    expect(h.ep.state).toBe('SYN_SENT');
    h.ep.input(seg(77, 5, F.ACK));
    expect(h.take()[0]).toMatchObject({ seq: 5, flags: F.RST });
  });

  it('simultaneous open goes through SYN_RECEIVED', () => {
    const h = harness();
    h.ep.connect();
    h.take();
    h.ep.input(seg(9000, 0, F.SYN));
    expect(h.ep.state).toBe('SYN_RECEIVED');
    expect(h.take()[0]).toMatchObject({ seq: 1000, ack: 9001, flags: F.SYN | F.ACK });
    h.ep.input(seg(9001, 1001, F.ACK));
    expect(h.ep.state).toBe('ESTABLISHED');
  });
});

describe('TcpEndpoint sending', () => {
  it('segments to the peer MSS and sets PSH on the last segment', () => {
    const h = established(5000, {}, { mss: 500 });
    h.ep.write(bytes(1200));
    const s = h.take();
    expect(s.map((x) => x.payload!.length)).toEqual([500, 500, 200]);
    expect(s.map((x) => x.seq)).toEqual([h.iss + 1, h.iss + 501, h.iss + 1001]);
    expect(s[2]!.flags & F.PSH).toBeTruthy();
    expect(s[0]!.flags & F.PSH).toBeFalsy();
  });

  it('never sends beyond the peer window and resumes when it opens', () => {
    const h = established(5000, {}, { win: 1000 });
    h.ep.write(bytes(3000));
    expect(h.take().reduce((a, s) => a + s.payload!.length, 0)).toBe(1000);
    h.ep.input(seg(5001, add(h.iss, 1001), F.ACK, { win: 2000 }));
    expect(h.take().reduce((a, s) => a + s.payload!.length, 0)).toBe(2000);
  });

  it('retransmits unacknowledged data after the RTO, backing off exponentially', () => {
    const h = established();
    // The handshake's RTT sample was 0, so the RTO sits at its 200 ms floor (RFC 6298 §2.4, lowered).
    const rto = h.ep.currentRtoMs;
    expect(rto).toBe(200);
    h.ep.write(bytes(100));
    expect(h.take()).toHaveLength(1);
    h.clock.advance((rto - 1) * MS);
    expect(h.take()).toHaveLength(0);
    h.clock.advance(2 * MS);
    const r1 = h.take();
    expect(r1).toHaveLength(1);
    expect(r1[0]).toMatchObject({ seq: h.iss + 1 });
    expect(r1[0]!.payload).toEqual(bytes(100));
    h.clock.advance((2 * rto - 2) * MS);
    expect(h.take()).toHaveLength(0);
    h.clock.advance(2 * MS);
    expect(h.take()).toHaveLength(1);
    h.ep.input(seg(5001, add(h.iss, 101), F.ACK));
    h.clock.advance(10_000 * MS);
    expect(h.take()).toHaveLength(0);
    expect(h.ep.allAcked).toBe(true);
  });

  it('collapses a backed-off RTO with the next RTT sample of new data (RFC 6298 §5)', () => {
    const h = established();
    h.ep.write(bytes(100));
    h.take();
    h.clock.advance(201 * MS); // RTO fires: backed off to 400 ms
    h.take();
    expect(h.ep.currentRtoMs).toBe(400);
    h.ep.input(seg(5001, add(h.iss, 101), F.ACK)); // retransmitted data: no sample (Karn)
    expect(h.ep.currentRtoMs).toBe(400);
    h.ep.write(bytes(100));
    h.take();
    h.clock.advance(10 * MS);
    h.ep.input(seg(5001, add(h.iss, 201), F.ACK)); // new data, 10 ms RTT
    expect(h.ep.currentRtoMs).toBeLessThan(400);
  });

  it('starts from a 1 s RTO before any RTT sample', () => {
    const h = harness();
    h.ep.connect();
    h.take();
    h.clock.advance(999 * MS);
    expect(h.take()).toHaveLength(0);
    h.clock.advance(2 * MS);
    expect(h.take()[0]).toMatchObject({ flags: F.SYN });
  });

  it('recovers from a lost middle segment with go-back-N after the RTO', () => {
    const h = established(5000, {}, { mss: 100 });
    h.ep.write(bytes(300));
    h.take();
    // Peer got segments 1 and 3, lost 2: acks 101 twice (dupacks), window unchanged.
    h.ep.input(seg(5001, add(h.iss, 101), F.ACK));
    h.ep.input(seg(5001, add(h.iss, 101), F.ACK));
    h.clock.advance(1500 * MS);
    const r = h.take();
    expect(r[0]).toMatchObject({ seq: add(h.iss, 101) });
    h.ep.input(seg(5001, add(h.iss, 301), F.ACK));
    expect(h.ep.allAcked).toBe(true);
  });

  it('fast-retransmits after three duplicate ACKs (RFC 5681 §3.2)', () => {
    const h = established(5000, {}, { mss: 100 });
    h.ep.write(bytes(500));
    h.take();
    h.ep.input(seg(5001, add(h.iss, 101), F.ACK));
    for (let i = 0; i < 3; i++) h.ep.input(seg(5001, add(h.iss, 101), F.ACK));
    const r = h.take();
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ seq: add(h.iss, 101) });
    expect(h.ep.stats.fastRetransmits).toBe(1);
  });

  it('early-retransmits with fewer than four segments outstanding (RFC 5827)', () => {
    const h = established(5000, {}, { mss: 100 });
    h.ep.write(bytes(200));
    h.take();
    // Segment 1 lost; segment 2 arrives and produces one duplicate ACK: threshold is 2 - 1 = 1.
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK));
    const r = h.take();
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ seq: add(h.iss, 1) });
    expect(h.ep.stats.fastRetransmits).toBe(1);
  });

  it('probes a zero window with one byte and sends the rest once it opens', () => {
    const h = established(5000, {}, { win: 0 });
    h.ep.write(bytes(1000));
    expect(h.take()).toHaveLength(0);
    h.clock.advance(250 * MS);
    const p = h.take();
    expect(p).toHaveLength(1);
    expect(p[0]!.payload!.length).toBe(1);
    expect(p[0]!.seq).toBe(h.iss + 1);
    // Still closed: the probe is not accepted; probing continues with backoff, connection stays up.
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { win: 0 }));
    h.clock.advance(60_000 * MS);
    expect(h.take().length).toBeGreaterThan(3);
    expect(h.ep.state).toBe('ESTABLISHED');
    // The window opens.
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { win: 4000 }));
    const s = h.take();
    expect(s.reduce((a, x) => a + x.payload!.length, 0)).toBeGreaterThanOrEqual(999);
    h.ep.input(seg(5001, add(h.iss, 1001), F.ACK));
    expect(h.ep.allAcked).toBe(true);
  });

  it('answers an ACK for data never sent with an ACK and ignores it', () => {
    const h = established();
    h.ep.write(bytes(10));
    h.take();
    h.ep.input(seg(5001, add(h.iss, 500), F.ACK));
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, seq: add(h.iss, 11) });
    expect(h.ep.allAcked).toBe(false);
  });

  it('reports back-pressure from write and drains', () => {
    const h = established(5000, { sendBuffer: 4000 }, { mss: 1000 });
    expect(h.ep.write(bytes(3000))).toBe(true);
    expect(h.ep.write(bytes(3000))).toBe(false);
    h.take();
    h.ep.input(seg(5001, add(h.iss, 6001), F.ACK));
    expect(h.events).toContain('drain');
  });

  it('gives up with ETIMEDOUT and an RST after too many retransmissions', () => {
    const h = established(5000, { maxRetries: 3 });
    h.ep.write(bytes(10));
    h.clock.advance(120_000 * MS);
    expect(h.errors).toEqual(['ETIMEDOUT']);
    expect(h.ep.state).toBe('CLOSED');
    expect(h.out.at(-1)!.flags & F.RST).toBeTruthy();
  });
});

describe('TcpEndpoint receiving', () => {
  it('delivers in order, ACKs each segment', () => {
    const h = established();
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK | F.PSH, { data: [1, 2, 3] }));
    expect(h.rx).toEqual([1, 2, 3]);
    expect(h.take()[0]).toMatchObject({ ack: 5004, flags: F.ACK });
  });

  it('reassembles reordered segments and sends duplicate ACKs for the gap', () => {
    const h = established();
    h.ep.input(seg(5004, add(h.iss, 1), F.ACK, { data: [4, 5, 6] }));
    expect(h.rx).toEqual([]);
    expect(h.take()[0]!.ack).toBe(5001);
    h.ep.input(seg(5007, add(h.iss, 1), F.ACK | F.FIN, { data: [7] }));
    expect(h.take()[0]!.ack).toBe(5001);
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { data: [1, 2, 3] }));
    expect(h.rx).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(h.take()[0]!.ack).toBe(5009); // data + FIN
    expect(h.events).toContain('end');
    expect(h.ep.state).toBe('CLOSE_WAIT');
  });

  it('delivers duplicate and overlapping segments once', () => {
    const h = established();
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { data: [1, 2, 3] }));
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { data: [1, 2, 3] }));
    h.ep.input(seg(5002, add(h.iss, 1), F.ACK, { data: [2, 3, 4, 5] }));
    expect(h.rx).toEqual([1, 2, 3, 4, 5]);
    const acks = h.take().map((s) => s.ack);
    expect(acks).toEqual([5004, 5004, 5006]);
  });

  it('closes its window when the application does not consume, and reopens it', () => {
    const h = established(5000, { receiveBuffer: 1000 });
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK, { data: bytes(600) }));
    expect(h.take()[0]!.window).toBe(400);
    h.ep.input(seg(5601, add(h.iss, 1), F.ACK, { data: bytes(400) }));
    expect(h.take()[0]!.window).toBe(0);
    // A window probe into the closed window is not accepted but is ACKed.
    h.ep.input(seg(6001, add(h.iss, 1), F.ACK, { data: [99] }));
    const probeAck = h.take()[0]!;
    expect(probeAck).toMatchObject({ ack: 6001, window: 0 });
    expect(h.rx.length).toBe(1000);
    h.ep.consumed(1000);
    expect(h.take()[0]).toMatchObject({ ack: 6001, window: 1000 });
  });

  it('drops data outside the window with an ACK', () => {
    const h = established(5000, { receiveBuffer: 1000 });
    h.ep.input(seg(9000, add(h.iss, 1), F.ACK, { data: [1] }));
    expect(h.rx).toEqual([]);
    expect(h.take()[0]!.ack).toBe(5001);
  });
});

describe('TcpEndpoint sequence wrap-around', () => {
  it('transfers data both ways across 2^32', () => {
    const h = established(0xfffffff0, { iss: 0xfffffff8 }, { mss: 48 });
    expect(h.iss).toBe(0xfffffff8);
    h.ep.write(bytes(120));
    const s = h.take();
    expect(s.map((x) => x.seq)).toEqual([0xfffffff9, 41, 89]);
    h.ep.input(seg(0xfffffff1, 113, F.ACK));
    expect(h.ep.allAcked).toBe(true);
    h.ep.input(seg(0xfffffff1, 113, F.ACK, { data: bytes(20) }));
    h.ep.input(seg(5, 113, F.ACK, { data: bytes(10, 20) }));
    expect(h.rx).toEqual([...bytes(30)]);
    expect(h.take().at(-1)!.ack).toBe(15);
    // Reordering across the wrap.
    h.ep.input(seg(25, 113, F.ACK, { data: [2] }));
    h.ep.input(seg(15, 113, F.ACK, { data: bytes(10) }));
    expect(h.rx.length).toBe(41);
    expect(h.take().at(-1)!.ack).toBe(26);
  });
});

describe('TcpEndpoint close', () => {
  it('peer half-close: CLOSE_WAIT, we keep sending, then LAST_ACK and CLOSED', () => {
    const h = established();
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK | F.FIN));
    expect(h.ep.state).toBe('CLOSE_WAIT');
    expect(h.take()[0]!.ack).toBe(5002);
    h.ep.write(bytes(5));
    expect(h.take()[0]!.payload!.length).toBe(5);
    h.ep.end();
    expect(h.ep.state).toBe('LAST_ACK');
    expect(h.take()[0]).toMatchObject({ flags: F.FIN | F.ACK, seq: add(h.iss, 6) });
    h.ep.input(seg(5002, add(h.iss, 7), F.ACK));
    expect(h.ep.state).toBe('CLOSED');
    expect(h.events).toContain('closed');
  });

  it('our half-close: FIN_WAIT_2 still receives data, then TIME_WAIT for 2 MSL', () => {
    const h = established(5000, { mslMs: 1000 });
    h.ep.end();
    expect(h.take()[0]).toMatchObject({ flags: F.FIN | F.ACK });
    h.ep.input(seg(5001, add(h.iss, 2), F.ACK));
    expect(h.ep.state).toBe('FIN_WAIT_2');
    h.ep.input(seg(5001, add(h.iss, 2), F.ACK, { data: [1, 2] }));
    expect(h.rx).toEqual([1, 2]);
    h.ep.input(seg(5003, add(h.iss, 2), F.ACK | F.FIN));
    expect(h.ep.state).toBe('TIME_WAIT');
    // A retransmitted FIN is ACKed again.
    h.take();
    h.ep.input(seg(5003, add(h.iss, 2), F.ACK | F.FIN));
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: 5004 });
    h.clock.advance(1999 * MS);
    expect(h.ep.state).toBe('TIME_WAIT');
    h.clock.advance(2 * MS);
    expect(h.ep.state).toBe('CLOSED');
  });

  it('retransmits a lost FIN', () => {
    const h = established();
    h.ep.end();
    h.take();
    h.clock.advance(1001 * MS);
    expect(h.take()[0]).toMatchObject({ flags: F.FIN | F.ACK, seq: add(h.iss, 1) });
  });

  it('simultaneous close: FIN_WAIT_1 → CLOSING → TIME_WAIT', () => {
    const h = established(5000, { mslMs: 100 });
    h.ep.end();
    h.take();
    h.ep.input(seg(5001, add(h.iss, 1), F.ACK | F.FIN)); // peer's FIN crosses ours
    expect(h.ep.state).toBe('CLOSING');
    expect(h.take()[0]).toMatchObject({ ack: 5002 });
    h.ep.input(seg(5002, add(h.iss, 2), F.ACK));
    expect(h.ep.state).toBe('TIME_WAIT');
    h.clock.advance(201 * MS);
    expect(h.ep.state).toBe('CLOSED');
  });

  it('FIN and ACK of our FIN in one segment go straight to TIME_WAIT', () => {
    const h = established();
    h.ep.end();
    h.take();
    h.ep.input(seg(5001, add(h.iss, 2), F.ACK | F.FIN));
    expect(h.ep.state).toBe('TIME_WAIT');
    expect(h.ep.acceptsNewSyn(6000)).toBe(true);
  });
});

describe('TcpEndpoint resets', () => {
  it('an in-sequence RST resets the connection (ECONNRESET)', () => {
    const h = established();
    h.ep.input(seg(5001, 0, F.RST));
    expect(h.errors).toEqual(['ECONNRESET']);
    expect(h.ep.state).toBe('CLOSED');
  });

  it('an in-window RST with the wrong sequence gets a challenge ACK (RFC 5961 §3.2)', () => {
    const h = established();
    h.ep.input(seg(5100, 0, F.RST));
    expect(h.ep.state).toBe('ESTABLISHED');
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: 5001 });
    h.ep.input(seg(900000, 0, F.RST));
    expect(h.ep.state).toBe('ESTABLISHED');
    expect(h.take()).toHaveLength(0);
  });

  it('a SYN on an established connection gets a challenge ACK (RFC 5961 §4.2)', () => {
    const h = established();
    h.ep.input(seg(5001, 0, F.SYN));
    expect(h.ep.state).toBe('ESTABLISHED');
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: 5001 });
  });

  it('abort sends RST with our next sequence number', () => {
    const h = established();
    h.ep.write(bytes(3));
    h.take();
    h.ep.abort();
    expect(h.take()[0]).toMatchObject({ flags: F.RST | F.ACK, seq: add(h.iss, 4) });
    expect(h.ep.state).toBe('CLOSED');
    h.clock.advance(100_000 * MS);
    expect(h.take()).toHaveLength(0);
  });
});
