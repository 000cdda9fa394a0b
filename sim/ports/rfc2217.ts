/**
 * `--serial-port PORT`: a board's serial line (the console, or a UART) as an RFC 2217 server —
 * a Telnet server (RFC 854/855) with the COM-PORT-OPTION (RFC 2217) — so pyserial's
 * `rfc2217://`, mpremote, Thonny and other RFC 2217 clients use it as a serial port, and a plain
 * TCP client (nc, PuTTY raw) as a raw 8-bit byte stream.
 *
 * The server never starts a negotiation (a raw client would see the bytes); it answers the
 * client's: BINARY, SUPPRESS-GO-AHEAD and COM-PORT-OPTION are accepted both ways, ECHO is
 * offered (the board echoes), everything else refused. Once COM-PORT-OPTION is on it reports
 * the modem state (CTS, DSR, CD up) and answers each request with its value in effect:
 * baud rate, data size, parity and stop size (the console takes any, as a USB CDC device does),
 * DTR/RTS and break (to the link: USB SET_CONTROL_LINE_STATE and SEND_BREAK), flow control
 * (none), purge, the state masks and the signature. IAC is doubled both ways (RFC 854).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { SerialLink } from './serial-link.ts';
import { listenTcpPort, type TcpPort } from './tcp-port.ts';
import {
  BRK,
  DO,
  DONT,
  escapeIac,
  negotiation,
  OPT_BINARY,
  OPT_COM_PORT,
  OPT_ECHO,
  OPT_SGA,
  subnegotiation,
  TelnetDecoder,
  WILL,
  WONT,
  type Negotiation,
} from './telnet.ts';

/** RFC 2217 "Com Port Option" commands, client to server; the server's answer adds 100. */
export const CPO_SIGNATURE = 0;
export const CPO_SET_BAUDRATE = 1;
export const CPO_SET_DATASIZE = 2;
export const CPO_SET_PARITY = 3;
export const CPO_SET_STOPSIZE = 4;
export const CPO_SET_CONTROL = 5;
export const CPO_NOTIFY_LINESTATE = 6;
export const CPO_NOTIFY_MODEMSTATE = 7;
export const CPO_FLOWCONTROL_SUSPEND = 8;
export const CPO_FLOWCONTROL_RESUME = 9;
export const CPO_SET_LINESTATE_MASK = 10;
export const CPO_SET_MODEMSTATE_MASK = 11;
export const CPO_PURGE_DATA = 12;
export const CPO_SERVER_OFFSET = 100;

/** RFC 2217 SET-CONTROL values. */
export const CONTROL_FLOW_REQUEST = 0;
export const CONTROL_FLOW_NONE = 1;
export const CONTROL_BREAK_REQUEST = 4;
export const CONTROL_BREAK_ON = 5;
export const CONTROL_BREAK_OFF = 6;
export const CONTROL_DTR_REQUEST = 7;
export const CONTROL_DTR_ON = 8;
export const CONTROL_DTR_OFF = 9;
export const CONTROL_RTS_REQUEST = 10;
export const CONTROL_RTS_ON = 11;
export const CONTROL_RTS_OFF = 12;
export const CONTROL_INBOUND_FLOW_REQUEST = 13;
export const CONTROL_INBOUND_FLOW_NONE = 14;

/** RFC 2217 NOTIFY-MODEMSTATE bits: carrier detect, ring, DSR, CTS (and their deltas below). */
export const MODEM_CD = 0x80;
export const MODEM_DSR = 0x20;
export const MODEM_CTS = 0x10;

/** What the server says to SIGNATURE. */
export const SIGNATURE = 'picow-sim';
/** Output waiting for a slow client beyond this is dropped (a serial line with nobody reading loses bytes too). */
const MAX_OUTPUT_BUFFERED = 1 << 20;
/** The client's bytes wait while the board has this many not taken yet: the socket stops being read. */
const MAX_INPUT_BACKLOG = 64 * 1024;
const BACKLOG_POLL_MS = 5;

/** The line as the client set it up. */
interface LineSettings {
  baud: number;
  dataSize: number;
  parity: number;
  stopSize: number;
  dtr: boolean;
  rts: boolean;
  brk: boolean;
}

/**
 * One client's session: Telnet options and the COM-PORT-OPTION on `link`. `send` writes to the
 * client; `receive` takes what it sent.
 */
export class Rfc2217Session {
  private readonly decoder: TelnetDecoder;
  /** Options on, per side ("we" = the server does it, "they" = the client does). */
  private readonly we = new Set<number>();
  private readonly they = new Set<number>();
  private readonly line: LineSettings = { baud: 115200, dataSize: 8, parity: 1, stopSize: 1, dtr: true, rts: true, brk: false };
  private modemMask = 0xff;
  private lineMask = 0;
  /** Client asked us to hold output (FLOWCONTROL-SUSPEND). */
  private suspended = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  dropped = 0;

  constructor(
    private readonly link: SerialLink,
    private readonly send: (bytes: Uint8Array) => void,
    private readonly logger: Logger,
  ) {
    this.decoder = new TelnetDecoder({
      data: (bytes) => this.link.write(bytes.slice()),
      negotiate: (verb, option) => this.negotiate(verb, option),
      subnegotiation: (option, payload) => this.subnegotiation(option, payload),
      command: (code) => this.command(code),
    });
  }

  receive(bytes: Uint8Array): void {
    this.decoder.push(bytes);
  }

  /** Board output for the client. */
  output(bytes: Uint8Array): void {
    const escaped = escapeIac(bytes);
    if (!this.suspended) return this.send(escaped);
    if (this.heldBytes + escaped.length > MAX_OUTPUT_BUFFERED) {
      this.dropped += bytes.length;
      return;
    }
    this.held.push(escaped);
    this.heldBytes += escaped.length;
  }

  get settings(): Readonly<LineSettings> {
    return this.line;
  }

  /** A client that leaves with a break on would leave the line stuck: end it. */
  end(): void {
    if (this.line.brk) this.link.setBreak?.(false);
  }

  private negotiate(verb: Negotiation, option: number): void {
    const acceptWe = option === OPT_BINARY || option === OPT_SGA || option === OPT_ECHO || option === OPT_COM_PORT;
    const acceptThey = option === OPT_BINARY || option === OPT_SGA || option === OPT_COM_PORT;
    // RFC 854/855: answer only a change of state (no loops); refuse what is not supported.
    if (verb === DO) {
      if (this.we.has(option)) return;
      if (acceptWe) {
        this.we.add(option);
        this.send(negotiation(WILL, option));
      } else this.send(negotiation(WONT, option));
    } else if (verb === DONT) {
      if (this.we.delete(option)) this.send(negotiation(WONT, option));
    } else if (verb === WILL) {
      if (this.they.has(option)) return;
      if (acceptThey) {
        this.they.add(option);
        this.send(negotiation(DO, option));
        if (option === OPT_COM_PORT) this.notifyModemState();
      } else this.send(negotiation(DONT, option));
    } else if (this.they.delete(option)) this.send(negotiation(DONT, option));
  }

  private reply(command: number, value: Uint8Array): void {
    this.send(subnegotiation(OPT_COM_PORT, Uint8Array.of(command + CPO_SERVER_OFFSET, ...value)));
  }

  private notifyModemState(): void {
    this.reply(CPO_NOTIFY_MODEMSTATE, Uint8Array.of((MODEM_CD | MODEM_DSR | MODEM_CTS) & this.modemMask));
  }

  private subnegotiation(option: number, payload: Uint8Array): void {
    if (option !== OPT_COM_PORT || payload.length === 0) return;
    const cmd = payload[0]!;
    const arg = payload.subarray(1);
    const byte = arg.length >= 1 ? arg[0]! : 0;
    switch (cmd) {
      case CPO_SIGNATURE:
        // An empty signature asks for ours; a non-empty one is the client's (no answer).
        if (arg.length === 0) this.reply(CPO_SIGNATURE, new TextEncoder().encode(SIGNATURE));
        return;
      case CPO_SET_BAUDRATE: {
        if (arg.length < 4) return;
        const asked = new DataView(arg.buffer, arg.byteOffset, 4).getUint32(0);
        if (asked !== 0) {
          this.line.baud = this.link.setBaudRate?.(asked) ?? asked;
          this.logger.info('serial-port', `baud rate ${this.line.baud}`);
        }
        const v = new Uint8Array(4);
        new DataView(v.buffer).setUint32(0, this.line.baud);
        return this.reply(cmd, v);
      }
      case CPO_SET_DATASIZE:
        if (byte >= 5 && byte <= 8) this.line.dataSize = byte;
        return this.reply(cmd, Uint8Array.of(this.line.dataSize));
      case CPO_SET_PARITY:
        if (byte >= 1 && byte <= 5) this.line.parity = byte;
        return this.reply(cmd, Uint8Array.of(this.line.parity));
      case CPO_SET_STOPSIZE:
        if (byte >= 1 && byte <= 3) this.line.stopSize = byte;
        return this.reply(cmd, Uint8Array.of(this.line.stopSize));
      case CPO_SET_CONTROL:
        return this.reply(cmd, Uint8Array.of(this.control(byte)));
      case CPO_NOTIFY_MODEMSTATE:
        return this.notifyModemState();
      case CPO_NOTIFY_LINESTATE:
        return this.reply(cmd, Uint8Array.of(0));
      case CPO_FLOWCONTROL_SUSPEND:
        this.suspended = true;
        return;
      case CPO_FLOWCONTROL_RESUME:
        this.suspended = false;
        for (const b of this.held.splice(0)) this.send(b);
        this.heldBytes = 0;
        return;
      case CPO_SET_LINESTATE_MASK:
        this.lineMask = byte;
        return this.reply(cmd, Uint8Array.of(this.lineMask));
      case CPO_SET_MODEMSTATE_MASK:
        this.modemMask = byte;
        return this.reply(cmd, Uint8Array.of(this.modemMask));
      case CPO_PURGE_DATA:
        // Nothing of ours waits in either direction (bytes go on at once); held output is dropped.
        if (byte === 2 || byte === 3) {
          this.held = [];
          this.heldBytes = 0;
        }
        return this.reply(cmd, Uint8Array.of(byte));
      default:
        this.logger.info('serial-port', `unknown COM-PORT-OPTION command ${cmd} ignored`);
    }
  }

  /** SET-CONTROL: apply it; the value to answer with. */
  private control(v: number): number {
    const line = this.line;
    switch (v) {
      case CONTROL_FLOW_REQUEST:
        return CONTROL_FLOW_NONE;
      case CONTROL_INBOUND_FLOW_REQUEST:
        return CONTROL_INBOUND_FLOW_NONE;
      case CONTROL_BREAK_REQUEST:
        return line.brk ? CONTROL_BREAK_ON : CONTROL_BREAK_OFF;
      case CONTROL_DTR_REQUEST:
        return line.dtr ? CONTROL_DTR_ON : CONTROL_DTR_OFF;
      case CONTROL_RTS_REQUEST:
        return line.rts ? CONTROL_RTS_ON : CONTROL_RTS_OFF;
      case CONTROL_BREAK_ON:
      case CONTROL_BREAK_OFF: {
        const on = v === CONTROL_BREAK_ON;
        if (on !== line.brk) {
          line.brk = on;
          this.logger.info('serial-port', `break ${on ? 'on' : 'off'}`);
          this.link.setBreak?.(on);
        }
        return v;
      }
      case CONTROL_DTR_ON:
      case CONTROL_DTR_OFF:
      case CONTROL_RTS_ON:
      case CONTROL_RTS_OFF: {
        const dtr = v === CONTROL_DTR_ON ? true : v === CONTROL_DTR_OFF ? false : line.dtr;
        const rts = v === CONTROL_RTS_ON ? true : v === CONTROL_RTS_OFF ? false : line.rts;
        if (dtr !== line.dtr || rts !== line.rts) {
          line.dtr = dtr;
          line.rts = rts;
          this.logger.info('serial-port', `DTR ${dtr ? 'on' : 'off'}, RTS ${rts ? 'on' : 'off'}`);
          this.link.setControlLines?.(dtr, rts);
        }
        return v;
      }
      default:
        // Flow control settings other than none are not offered: answer with what is in effect.
        return v >= 1 && v <= 3 ? CONTROL_FLOW_NONE : v >= 14 && v <= 19 ? CONTROL_INBOUND_FLOW_NONE : v;
    }
  }

  private command(code: number): void {
    // A Telnet BREAK (RFC 854) from a terminal program: a short break on the line.
    if (code === BRK) {
      this.link.setBreak?.(true);
      this.link.setBreak?.(false);
    }
  }
}

export interface SerialPortServer {
  readonly port: number;
  /** A client is connected. */
  readonly busy: boolean;
  close(): Promise<void>;
}

/**
 * Serve `link` as an RFC 2217 port on 127.0.0.1:`port` (0: a free port), one client at a time.
 * `flag` names the option in messages.
 */
export async function startSerialPortServer(
  link: SerialLink,
  o: { port: number; logger: Logger; flag?: string; onClient?: (connected: boolean) => void },
): Promise<SerialPortServer> {
  const tcp: TcpPort = await listenTcpPort({
    port: o.port,
    flag: o.flag ?? '--serial-port',
    what: `the ${link.name} port`,
    logger: o.logger,
    onClient: (socket: Socket) => {
      const session = new Rfc2217Session(
        link,
        (bytes) => {
          if (socket.writable) socket.write(bytes);
        },
        o.logger,
      );
      let dropped = 0;
      const offData = link.onData((bytes) => {
        if (socket.writableLength > MAX_OUTPUT_BUFFERED) dropped += bytes.length;
        else session.output(bytes);
      });
      let poll: NodeJS.Timeout | null = null;
      socket.on('data', (chunk: Buffer) => {
        session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        // The board takes input at its own pace: stop reading the client while much is waiting.
        if (!poll && link.backlog && link.backlog() > MAX_INPUT_BACKLOG) {
          socket.pause();
          poll = setInterval(() => {
            if (link.backlog!() <= MAX_INPUT_BACKLOG / 2) {
              clearInterval(poll!);
              poll = null;
              socket.resume();
            }
          }, BACKLOG_POLL_MS);
        }
      });
      o.onClient?.(true);
      return () => {
        offData();
        if (poll) clearInterval(poll);
        session.end();
        const lost = dropped + session.dropped;
        if (lost) o.logger.warn('serial-port', `${lost} bytes of output dropped: the client did not read them`);
        o.onClient?.(false);
      };
    },
  });
  return tcp;
}
