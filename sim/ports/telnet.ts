/**
 * The Telnet layer of an RFC 2217 port (RFC 854 protocol, RFC 855 option negotiation and
 * subnegotiation, RFC 856 binary, RFC 857 echo, RFC 858 suppress-go-ahead): a byte-at-a-time
 * decoder that splits what a client sends into data, commands, option requests and
 * subnegotiations, and the IAC doubling for the other direction. Data stays 8-bit clean: the
 * only byte with a meaning is IAC (255), sent doubled in both directions. No state about which
 * options are on lives here (that is the session's, `rfc2217.ts`).
 */

/** RFC 854 "TELNET COMMAND STRUCTURE": the command bytes that follow IAC. */
export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const GA = 249;
export const EL = 248;
export const EC = 247;
export const AYT = 246;
export const AO = 245;
export const IP = 244;
export const BRK = 243;
export const DM = 242;
export const NOP = 241;
export const SE = 240;

/** Option codes: RFC 856 BINARY, RFC 857 ECHO, RFC 858 SUPPRESS-GO-AHEAD, RFC 2217 COM-PORT-OPTION. */
export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_COM_PORT = 44;

export type Negotiation = typeof DO | typeof DONT | typeof WILL | typeof WONT;

export interface TelnetHandler {
  /** Plain data bytes (IAC IAC already undoubled). */
  data(bytes: Uint8Array): void;
  /** IAC DO/DONT/WILL/WONT option. */
  negotiate(verb: Negotiation, option: number): void;
  /** IAC SB option payload IAC SE (payload undoubled). */
  subnegotiation(option: number, payload: Uint8Array): void;
  /** Any other IAC command (BRK, IP, AYT, NOP...). */
  command(code: number): void;
}

/** RFC 855 puts no limit on a subnegotiation; ours: longer ones are dropped (and reported as a command 0). */
export const MAX_SUBNEGOTIATION = 1024;

const enum State {
  Data,
  Iac,
  Verb,
  SbOption,
  Sb,
  SbIac,
}

/** Decodes a client's byte stream; keeps its state across chunks (a sequence may be split anywhere). */
export class TelnetDecoder {
  private state = State.Data;
  private verb: Negotiation = DO;
  private sbOption = 0;
  private sb: number[] = [];
  private sbOverflow = false;

  constructor(private readonly handler: TelnetHandler) {}

  push(chunk: Uint8Array): void {
    let runStart = -1;
    const flush = (end: number): void => {
      if (runStart >= 0 && end > runStart) this.handler.data(chunk.subarray(runStart, end));
      runStart = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.state) {
        case State.Data:
          if (b === IAC) {
            flush(i);
            this.state = State.Iac;
          } else if (runStart < 0) runStart = i;
          break;
        case State.Iac:
          if (b === IAC) {
            this.handler.data(Uint8Array.of(IAC));
            this.state = State.Data;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = State.Verb;
          } else if (b === SB) {
            this.state = State.SbOption;
          } else {
            this.state = State.Data;
            this.handler.command(b);
          }
          break;
        case State.Verb:
          this.state = State.Data;
          this.handler.negotiate(this.verb, b);
          break;
        case State.SbOption:
          this.sbOption = b;
          this.sb = [];
          this.sbOverflow = false;
          this.state = State.Sb;
          break;
        case State.Sb:
          if (b === IAC) this.state = State.SbIac;
          else this.sbByte(b);
          break;
        case State.SbIac:
          if (b === IAC) {
            this.sbByte(IAC);
            this.state = State.Sb;
          } else if (b === SE) {
            this.state = State.Data;
            if (this.sbOverflow) this.handler.command(0);
            else this.handler.subnegotiation(this.sbOption, Uint8Array.from(this.sb));
            this.sb = [];
          } else {
            // RFC 855 allows no other command inside SB: end it there and treat the byte as a command.
            this.state = State.Data;
            this.sb = [];
            this.handler.command(b);
          }
          break;
      }
    }
    if (this.state === State.Data) flush(chunk.length);
  }

  private sbByte(b: number): void {
    if (this.sb.length < MAX_SUBNEGOTIATION) this.sb.push(b);
    else this.sbOverflow = true;
  }
}

/** Data for the client: every IAC doubled (RFC 854 "data byte 255"). Returns the input when it has none. */
export function escapeIac(bytes: Uint8Array): Uint8Array {
  let n = 0;
  for (const b of bytes) if (b === IAC) n++;
  if (n === 0) return bytes;
  const out = new Uint8Array(bytes.length + n);
  let j = 0;
  for (const b of bytes) {
    out[j++] = b;
    if (b === IAC) out[j++] = IAC;
  }
  return out;
}

export function negotiation(verb: Negotiation, option: number): Uint8Array {
  return Uint8Array.of(IAC, verb, option);
}

export function subnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const body = escapeIac(payload);
  const out = new Uint8Array(body.length + 5);
  out.set([IAC, SB, option]);
  out.set(body, 3);
  out.set([IAC, SE], body.length + 3);
  return out;
}
