/**
 * F2 frames: the SDPCM header, the chip's queue of frames for the host, and bus data credits
 * (cyw43_ll.c: struct sdpcm_header_t, cyw43_sdpcm_send_common, sdpcm_process_rx_packet).
 *
 * Header (12 bytes, little endian): size u16, ~size u16, sequence u8, channel_and_flags u8,
 * next_length u8, header_length u8, wireless_flow_control u8, bus_data_credit u8, reserved u16.
 * The credit is the sequence number the host may not reach: it sends while its next sequence
 * differs from the last credit it saw.
 */
import type { Logger } from '../log.ts';

export const SDPCM_HEADER_LEN = 12;
export const CHANNEL_CONTROL = 0;
export const CHANNEL_EVENT = 1;
export const CHANNEL_DATA = 2;
/** Frames the chip lets the host send ahead of its replies. */
export const CREDIT_WINDOW = 8;
/** Padding after the header of event and data frames: keeps the event message 2-byte aligned and IP headers 4-byte aligned. */
export const DATA_HEADER_PAD = 2;
/** Frames the chip holds for the host before it drops data frames. */
export const QUEUE_LIMIT = 64;

export interface SdpcmHeader {
  size: number;
  sizeComplement: number;
  sequence: number;
  channel: number;
  nextLength: number;
  headerLength: number;
  flowControl: number;
  credit: number;
}

export function parseSdpcmHeader(buf: Uint8Array): SdpcmHeader | null {
  if (buf.length < SDPCM_HEADER_LEN) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    size: dv.getUint16(0, true),
    sizeComplement: dv.getUint16(2, true),
    sequence: buf[4]!,
    channel: buf[5]! & 0x0f,
    nextLength: buf[6]!,
    headerLength: buf[7]!,
    flowControl: buf[8]!,
    credit: buf[9]!,
  };
}

export function encodeSdpcmFrame(h: { sequence: number; channel: number; credit: number; headerPad?: number }, payload: Uint8Array): Uint8Array {
  const headerLength = SDPCM_HEADER_LEN + (h.headerPad ?? 0);
  const size = headerLength + payload.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, size, true);
  dv.setUint16(2, ~size & 0xffff, true);
  out[4] = h.sequence & 0xff;
  out[5] = h.channel;
  out[6] = 0;
  out[7] = headerLength;
  out[8] = 0;
  out[9] = h.credit & 0xff;
  out.set(payload, headerLength);
  return out;
}

export interface SdpcmHandlers {
  control(payload: Uint8Array): void;
  data(payload: Uint8Array): void;
}

interface Pending {
  channel: number;
  payload: Uint8Array;
  headerPad: number;
}

/** The chip's end of the SDPCM link. */
export class SdpcmLink {
  private queue: Pending[] = [];
  private txSeq = 0;
  /** Next sequence number expected from the host. */
  private hostNext = 0;
  /** Credit carried by the last frame the host read (the driver starts out assuming 1). */
  private advertised = 1;
  private head: Uint8Array | null = null;
  readonly stats = { framesIn: 0, framesOut: 0, dropped: 0, badFrames: 0, creditUpdates: 0 };
  /** Called when a frame becomes available for the host. */
  onFrameQueued: (() => void) | null = null;

  constructor(
    private readonly handlers: SdpcmHandlers,
    private readonly logger: Logger,
  ) {}

  reset(): void {
    this.queue = [];
    this.head = null;
    this.txSeq = 0;
    this.hostNext = 0;
    this.advertised = 1;
  }

  /** Highest sequence the host may not reach yet. */
  get credit(): number {
    return (this.hostNext + CREDIT_WINDOW) & 0xff;
  }

  get queuedFrames(): number {
    return this.queue.length + (this.head ? 1 : 0);
  }

  /** Length of the next frame for the host (0 when none). */
  pendingLength(): number {
    return this.peek()?.length ?? 0;
  }

  /** Take the next frame for the host (header finalised now, with the current credit). */
  pop(): Uint8Array | null {
    const f = this.peek();
    this.head = null;
    if (f) {
      this.stats.framesOut++;
      this.advertised = f[9]!;
    }
    return f;
  }

  /** Drop the frame at the head (host asked to terminate the read). */
  dropHead(): void {
    if (this.peek()) {
      this.head = null;
      this.stats.dropped++;
    }
  }

  private peek(): Uint8Array | null {
    if (!this.head) {
      const p = this.queue.shift();
      if (!p) return null;
      this.head = encodeSdpcmFrame({ sequence: this.txSeq, channel: p.channel, credit: this.credit, headerPad: p.headerPad }, p.payload);
      this.txSeq = (this.txSeq + 1) & 0xff;
    }
    return this.head;
  }

  send(channel: number, payload: Uint8Array): boolean {
    if (channel === CHANNEL_DATA && this.queue.length >= QUEUE_LIMIT) {
      this.stats.dropped++;
      this.logger.trace('cyw43', 'F2 queue full: dropping a received data frame');
      return false;
    }
    this.queue.push({ channel, payload, headerPad: channel === CHANNEL_CONTROL ? 0 : DATA_HEADER_PAD });
    this.onFrameQueued?.();
    return true;
  }

  /** A frame written by the host on F2 (may carry trailing padding). */
  receive(buf: Uint8Array): void {
    const h = parseSdpcmHeader(buf);
    if (!h || h.size !== (~h.sizeComplement & 0xffff) || h.size < SDPCM_HEADER_LEN || h.size > buf.length) {
      this.stats.badFrames++;
      this.logger.warnOnce('cyw43', 'sdpcm-bad', `ignoring malformed SDPCM frame from host (${buf.length} bytes)`);
      return;
    }
    if (h.headerLength < SDPCM_HEADER_LEN || h.headerLength > h.size) {
      this.stats.badFrames++;
      this.logger.warnOnce('cyw43', 'sdpcm-hdrlen', `ignoring SDPCM frame with header length ${h.headerLength}`);
      return;
    }
    if (h.sequence !== this.hostNext) {
      this.logger.trace('cyw43', `host SDPCM sequence ${h.sequence}, expected ${this.hostNext}`);
    }
    this.hostNext = (h.sequence + 1) & 0xff;
    this.stats.framesIn++;
    const payload = buf.subarray(h.headerLength, h.size);
    switch (h.channel) {
      case CHANNEL_CONTROL:
        this.handlers.control(payload);
        break;
      case CHANNEL_DATA:
        this.handlers.data(payload);
        this.maybeSendCredit();
        break;
      default:
        this.stats.badFrames++;
        this.logger.warnOnce('cyw43', `sdpcm-ch${h.channel}`, `ignoring SDPCM frame on channel ${h.channel} from host`);
    }
  }

  /**
   * Data frames get no reply: when the host is about to run out of credit and nothing is queued
   * that would carry a new one, queue a header-only frame (the driver treats it as flow control).
   */
  private maybeSendCredit(): void {
    if (this.queuedFrames > 0) return;
    const left = (this.advertised - this.hostNext) & 0xff;
    if (left > CREDIT_WINDOW / 2) return;
    this.stats.creditUpdates++;
    this.queue.push({ channel: CHANNEL_DATA, payload: new Uint8Array(0), headerPad: 0 });
    this.onFrameQueued?.();
  }
}
