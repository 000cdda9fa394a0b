/**
 * The Telnet decoder and the RFC 2217 session, byte by byte against the RFCs (854, 855, 2217),
 * with a fake serial link that records what reached the board.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { silentLogger } from '../../sim/log.ts';
import { Rfc2217Session, startSerialPortServer } from '../../sim/ports/rfc2217.ts';
import { uartLink, type SerialLink } from '../../sim/ports/serial-link.ts';
import { escapeIac, TelnetDecoder } from '../../sim/ports/telnet.ts';

const IAC = 255, SB = 250, SE = 240, WILL = 251, WONT = 252, DO = 253, DONT = 254;
const COM = 44;

function fakeLink() {
  const written: number[] = [];
  const calls: string[] = [];
  const link: SerialLink = {
    name: 'test',
    write: (b) => void written.push(...b),
    onData: () => () => undefined,
    setBaudRate: (baud) => (calls.push(`baud ${baud}`), baud),
    setControlLines: (dtr, rts) => void calls.push(`dtr ${dtr} rts ${rts}`),
    setBreak: (on) => void calls.push(`break ${on}`),
  };
  return { link, written, calls };
}

function session() {
  const f = fakeLink();
  const sent: number[] = [];
  const s = new Rfc2217Session(f.link, (b) => void sent.push(...b), silentLogger());
  return { ...f, s, sent, take: () => sent.splice(0) };
}

describe('Telnet decoder (RFC 854/855)', () => {
  it('undoubles IAC IAC, splits commands, negotiations and subnegotiations, across any chunking', () => {
    const stream = [1, 2, IAC, IAC, 3, IAC, DO, 0, 4, IAC, SB, COM, 1, IAC, IAC, 2, IAC, SE, 5, IAC, 243, 6];
    for (let cut = 0; cut <= stream.length; cut++) {
      const events: string[] = [];
      const d = new TelnetDecoder({
        data: (b) => events.push(`d${[...b].join(',')}`),
        negotiate: (v, o) => events.push(`n${v}:${o}`),
        subnegotiation: (o, p) => events.push(`s${o}:${[...p].join(',')}`),
        command: (c) => events.push(`c${c}`),
      });
      d.push(Uint8Array.from(stream.slice(0, cut)));
      d.push(Uint8Array.from(stream.slice(cut)));
      const data = events.filter((e) => e.startsWith('d')).map((e) => e.slice(1)).join(',');
      expect(data).toBe('1,2,255,3,4,5,6');
      expect(events.filter((e) => !e.startsWith('d'))).toEqual([`n${DO}:0`, `s${COM}:1,255,2`, 'c243']);
    }
  });

  it('escapes IAC for the client and leaves other bytes alone', () => {
    expect([...escapeIac(Uint8Array.of(0, 255, 1, 255))]).toEqual([0, 255, 255, 1, 255, 255]);
    const plain = Uint8Array.of(1, 2, 3);
    expect(escapeIac(plain)).toBe(plain);
  });
});

describe('RFC 2217 session', () => {
  it('answers option requests once (no loops) and refuses unknown options', () => {
    const { s, take } = session();
    s.receive(Uint8Array.of(IAC, WILL, COM));
    // DO COM-PORT-OPTION, then the modem state (CD, DSR, CTS).
    expect(take()).toEqual([IAC, DO, COM, IAC, SB, COM, 107, 0xb0, IAC, SE]);
    s.receive(Uint8Array.of(IAC, WILL, COM, IAC, DO, 3, IAC, DO, 3, IAC, DO, 24, IAC, WILL, 31));
    expect(take()).toEqual([IAC, WILL, 3, IAC, WONT, 24, IAC, DONT, 31]);
    s.receive(Uint8Array.of(IAC, DONT, 3, IAC, DONT, 3));
    expect(take()).toEqual([IAC, WONT, 3]);
  });

  it('answers every COM-PORT-OPTION request with the value in effect, and drives the link', () => {
    const { s, take, calls } = session();
    const sb = (...p: number[]) => Uint8Array.of(IAC, SB, COM, ...p, IAC, SE);
    s.receive(sb(1, 0x00, 0x01, 0xc2, 0x00)); // 115200
    expect(take()).toEqual([...sb(101, 0x00, 0x01, 0xc2, 0x00)]);
    s.receive(sb(1, 0, 0, 0, 0)); // a query
    expect(take()).toEqual([...sb(101, 0x00, 0x01, 0xc2, 0x00)]);
    s.receive(sb(1, 0, 0, 0x04, 0xb0)); // 1200
    expect(take()).toEqual([...sb(101, 0, 0, 0x04, 0xb0)]);
    s.receive(sb(2, 8));
    s.receive(sb(3, 1));
    s.receive(sb(4, 1));
    expect(take()).toEqual([...sb(102, 8), ...sb(103, 1), ...sb(104, 1)]);
    s.receive(sb(5, 9)); // DTR off
    s.receive(sb(5, 7)); // DTR?
    s.receive(sb(5, 8)); // DTR on
    s.receive(sb(5, 5)); // break on
    s.receive(sb(5, 6)); // break off
    s.receive(sb(5, 1)); // no flow control
    s.receive(sb(5, 3)); // hardware flow control: not offered, answered with none
    expect(take()).toEqual([...sb(105, 9), ...sb(105, 9), ...sb(105, 8), ...sb(105, 5), ...sb(105, 6), ...sb(105, 1), ...sb(105, 1)]);
    expect(calls).toEqual(['baud 115200', 'baud 1200', 'dtr false rts true', 'dtr true rts true', 'break true', 'break false']);
    s.receive(sb(12, 1));
    s.receive(sb(0));
    expect(take()).toEqual([...sb(112, 1), ...sb(100, ...new TextEncoder().encode('picow-sim'))]);
  });

  it('passes data 8-bit clean, IAC doubled both ways, and holds output while the client asks', () => {
    const { s, take, written } = session();
    s.receive(Uint8Array.of(0, 1, IAC, IAC, 0x0d, 0x00, 0x0a));
    expect(written).toEqual([0, 1, 255, 0x0d, 0x00, 0x0a]);
    s.output(Uint8Array.of(255, 7));
    expect(take()).toEqual([255, 255, 7]);
    s.receive(Uint8Array.of(IAC, SB, COM, 8, IAC, SE));
    s.output(Uint8Array.of(1));
    expect(take()).toEqual([]);
    s.receive(Uint8Array.of(IAC, SB, COM, 9, IAC, SE));
    expect(take()).toEqual([1]);
  });

  it('survives garbage: random bytes never throw, and data after them still flows', () => {
    const { s, written } = session();
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 200; i++) s.receive(Uint8Array.from({ length: 1 + (rnd() % 40) }, rnd));
    // Whatever state the garbage left (inside an SB, say), SE and a NOP end it.
    s.receive(Uint8Array.of(IAC, SE, IAC, 241));
    written.length = 0;
    s.receive(new TextEncoder().encode('ok'));
    expect(String.fromCharCode(...written)).toBe('ok');
  });
});

/** The part of a board a UART link uses: its console events and input, UART1 at 9600 baud. */
class FakeBoard extends EventEmitter {
  readonly typed: { bytes: number[]; target: string }[] = [];
  readonly uarts = [{ baudRate: 115200 }, { baudRate: 9600.4 }];
  writeConsole(bytes: Uint8Array, target: string): void {
    this.typed.push({ bytes: [...bytes], target });
  }
}

function readUntil(s: Socket, n: number): Promise<number[]> {
  const got: number[] = [];
  return new Promise((resolve) => {
    s.on('data', (b: Buffer) => {
      got.push(...b);
      if (got.length >= n) resolve(got);
    });
  });
}

describe('a UART served as an RFC 2217 port (uartLink over TCP)', () => {
  it("moves the UART's bytes both ways with IAC doubled, answers the baud request with the UART's rate, ignores the console", async () => {
    const board = new FakeBoard();
    const server = await startSerialPortServer(uartLink(board as unknown as PicoWBoard, 1), { port: 0, logger: silentLogger(), flag: '--uart1-port' });
    const c = await new Promise<Socket>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => resolve(s));
    });
    try {
      const answer = readUntil(c, 10);
      c.write(Buffer.from([IAC, SB, COM, 1, 0, 0, 0x25, 0x80, IAC, SE])); // 9600? the UART says 9600
      expect(await answer).toEqual([IAC, SB, COM, 101, 0, 0, 0x25, 0x80, IAC, SE]);
      c.removeAllListeners('data');
      const out = readUntil(c, 4);
      board.emit('console', Uint8Array.of(0x55), 'usb'); // the console: not this port's
      board.emit('uart', Uint8Array.of(0x58), 'uart0'); // the other UART: not this port's either
      board.emit('uart', Uint8Array.of(0x41, 0xff, 0x42), 'uart1');
      expect(await out).toEqual([0x41, 0xff, 0xff, 0x42]);
      c.write(Buffer.from([0x61, IAC, IAC, 0x62]));
      const deadline = Date.now() + 5000;
      const typed = (): number[] => board.typed.flatMap((t) => t.bytes);
      while (typed().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(typed()).toEqual([0x61, 0xff, 0x62]);
      expect(new Set(board.typed.map((t) => t.target))).toEqual(new Set(['uart1']));
      expect(server.busy).toBe(true);
    } finally {
      c.destroy();
      await server.close();
    }
  });
});
