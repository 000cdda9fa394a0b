/**
 * Classic libpcap capture files: global header with magic 0xa1b2c3d4 (microsecond timestamps),
 * version 2.4, link type 1 (LINKTYPE_ETHERNET), then one record header + frame per packet.
 * Timestamps are simulated time.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PicowSimError } from '../errors.ts';

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 65535;

export class PcapWriter {
  private fd: number | null;
  frames = 0;

  constructor(readonly file: string) {
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
    writeSync(this.fd, h);
  }

  write(frame: Uint8Array, nanos: number): void {
    if (this.fd === null) return;
    const caplen = Math.min(frame.length, SNAPLEN);
    const rec = Buffer.alloc(16 + caplen);
    const usec = Math.floor(nanos / 1000);
    rec.writeUInt32LE(Math.floor(usec / 1e6) >>> 0, 0);
    rec.writeUInt32LE(usec % 1e6, 4);
    rec.writeUInt32LE(caplen, 8);
    rec.writeUInt32LE(frame.length, 12);
    rec.set(frame.subarray(0, caplen), 16);
    writeSync(this.fd, rec);
    this.frames++;
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
