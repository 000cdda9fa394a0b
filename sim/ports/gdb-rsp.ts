/**
 * GDB remote serial protocol framing (GDB manual, "Remote Protocol": Overview, Packet
 * Acknowledgment, Interrupts): `$payload#cc` with a modulo-256 checksum, `+`/`-`
 * acknowledgments, the out-of-band interrupt byte 0x03, `}`-escaping (byte ^ 0x20) of binary
 * data and `*` run-length encoding. Pure: bytes in, packets and events out.
 */

export const INTERRUPT = 0x03;
const DOLLAR = 0x24;
const HASH = 0x23;
const ESCAPE = 0x7d;
const RLE = 0x2a;
const ACK = 0x2b;
const NAK = 0x2d;

/** Our PacketSize (qSupported): the largest packet we take and send, in bytes. */
export const PACKET_SIZE = 0x4000;

export interface RspEvents {
  /** A packet with a good checksum: its payload, unescaped and RLE-expanded, as bytes. */
  packet(payload: Uint8Array): void;
  /** A packet with a bad checksum or one too long: ask for it again ('-'). */
  bad(why: string): void;
  /** Ctrl-C from the debugger. */
  interrupt(): void;
  /** '+' / '-' from the debugger for our last packet. */
  ack?(ok: boolean): void;
}

const enum State {
  Idle,
  Payload,
  Check1,
  Check2,
}

export class RspDecoder {
  private state = State.Idle;
  private buf: number[] = [];
  private sum = 0;
  private check = 0;
  private overflow = false;

  constructor(private readonly on: RspEvents) {}

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      switch (this.state) {
        case State.Idle:
          if (b === DOLLAR) {
            this.state = State.Payload;
            this.buf = [];
            this.sum = 0;
            this.overflow = false;
          } else if (b === INTERRUPT) this.on.interrupt();
          else if (b === ACK) this.on.ack?.(true);
          else if (b === NAK) this.on.ack?.(false);
          // anything else between packets is noise: ignored
          break;
        case State.Payload:
          if (b === HASH) this.state = State.Check1;
          else if (b === DOLLAR) {
            // A new packet starts inside one (the old one was cut off): the old is lost.
            this.on.bad('packet cut off by another');
            this.buf = [];
            this.sum = 0;
            this.overflow = false;
          } else {
            this.sum = (this.sum + b) & 0xff;
            if (this.buf.length < PACKET_SIZE) this.buf.push(b);
            else this.overflow = true;
          }
          break;
        case State.Check1:
          this.check = hexDigit(b) << 4;
          this.state = hexDigit(b) < 0 ? State.Idle : State.Check2;
          if (this.state === State.Idle) this.on.bad('bad checksum digit');
          break;
        case State.Check2: {
          this.state = State.Idle;
          const d = hexDigit(b);
          if (d < 0 || (this.check | d) !== this.sum) this.on.bad('checksum mismatch');
          else if (this.overflow) this.on.bad(`packet longer than ${PACKET_SIZE} bytes`);
          else {
            const payload = decodePayload(this.buf);
            if (payload) this.on.packet(payload);
            else this.on.bad('bad escape or run-length sequence');
          }
          break;
        }
      }
    }
  }
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/** Undo `}` escapes and `*` run lengths (the count is the byte after `*`, minus 29). */
function decodePayload(raw: number[]): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === ESCAPE) {
      if (i + 1 >= raw.length) return null;
      out.push(raw[++i]! ^ 0x20);
    } else if (b === RLE) {
      if (i + 1 >= raw.length || out.length === 0) return null;
      const n = raw[++i]! - 29;
      if (n < 0 || out.length + n > PACKET_SIZE * 2) return null;
      const last = out[out.length - 1]!;
      for (let k = 0; k < n; k++) out.push(last);
    } else out.push(b);
  }
  return Uint8Array.from(out);
}

/** A packet for the debugger: `$payload#cc`, with `$ # } *` escaped. */
export function encodePacket(payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const out: number[] = [DOLLAR];
  let sum = 0;
  const put = (b: number): void => {
    out.push(b);
    sum = (sum + b) & 0xff;
  };
  for (const b of bytes) {
    if (b === DOLLAR || b === HASH || b === ESCAPE || b === RLE) {
      put(ESCAPE);
      put(b ^ 0x20);
    } else put(b);
  }
  out.push(HASH);
  const hex = sum.toString(16).padStart(2, '0');
  out.push(hex.charCodeAt(0), hex.charCodeAt(1));
  return Uint8Array.from(out);
}
