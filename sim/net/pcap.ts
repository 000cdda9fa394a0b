/**
 * Classic libpcap capture files: global header with magic 0xa1b2c3d4 (microsecond timestamps),
 * version 2.4, link type 1 (LINKTYPE_ETHERNET), then one record header + frame per packet.
 * Timestamps are simulated time. The file stops growing at a size cap (`--pcap-max`, one
 * warning). A file that cannot be created or whose header cannot be written (EACCES, ENOSPC on
 * `/dev/full`) is a PicowSimError naming the file (exit 2 before the run starts); a write that
 * fails later (the disk filled up) stops the capture with one error line, and the run goes on.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PicowSimError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Default cap on the capture file: 256 MiB. */
export const DEFAULT_PCAP_MAX_BYTES = 256 * 1024 * 1024;

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 65535;

export interface PcapOptions {
  /** Stop writing once the file would exceed this many bytes (default 256 MiB). */
  maxBytes?: number;
  logger?: Logger;
}

export class PcapWriter {
  private fd: number | null;
  frames = 0;
  bytes = 0;
  /** Frames not written because the size cap was reached. */
  truncated = 0;
  private readonly maxBytes: number;

  constructor(
    readonly file: string,
    private readonly o: PcapOptions = {},
  ) {
    this.maxBytes = o.maxBytes ?? DEFAULT_PCAP_MAX_BYTES;
    try {
      this.fd = openSync(file, 'w');
    } catch (e) {
      throw new PicowSimError(`--pcap ${file}: cannot open for writing (${(e as Error).message})`);
    }
    const h = Buffer.alloc(24);
    h.writeUInt32LE(PCAP_MAGIC_USEC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    const err = this.put(h);
    if (err) throw new PicowSimError(err);
  }

  write(frame: Uint8Array, nanos: number): void {
    if (this.fd === null) return;
    const caplen = Math.min(frame.length, SNAPLEN);
    if (this.bytes + 16 + caplen > this.maxBytes) {
      if (this.truncated++ === 0) this.o.logger?.warn('net', `--pcap ${this.file}: reached ${this.maxBytes} bytes (--pcap-max); later frames are not captured`);
      return;
    }
    const rec = Buffer.alloc(16 + caplen);
    const usec = Math.floor(nanos / 1000);
    rec.writeUInt32LE(Math.floor(usec / 1e6) >>> 0, 0);
    rec.writeUInt32LE(usec % 1e6, 4);
    rec.writeUInt32LE(caplen, 8);
    rec.writeUInt32LE(frame.length, 12);
    rec.set(frame.subarray(0, caplen), 16);
    const err = this.put(rec);
    if (err) {
      // Never thrown into the network: the simulation goes on without its capture.
      this.o.logger?.error('net', `${err}; capture stopped after ${this.frames} frames`);
      return;
    }
    this.frames++;
  }

  /** Write, or close the file and return what went wrong. */
  private put(buf: Buffer): string | null {
    try {
      writeSync(this.fd!, buf);
      this.bytes += buf.length;
      return null;
    } catch (e) {
      this.close();
      const err = e as NodeJS.ErrnoException;
      return `--pcap ${this.file}: cannot write (${err.code ?? err.message}${err.code === 'ENOSPC' ? ': no space left on the device' : ''})`;
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      /* nothing more to write */
    }
  }
}
