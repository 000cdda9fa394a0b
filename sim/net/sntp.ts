/**
 * SNTP server answers (RFC 4330 §5, NTP packet format RFC 5905 §7.3) from host time, so
 * `ntptime.settime()` works offline.
 */
import { readU32, writeU32 } from './wire/ipv4.ts';

export const NTP_PORT = 123;
const NTP_PACKET_LEN = 48;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (RFC 5905 §6). */
const NTP_UNIX_OFFSET = 2208988800;
/** Mode values (RFC 5905 §7.3). */
const MODE_CLIENT = 3;
const MODE_SERVER = 4;
/** Stratum 1 with reference id "LOCL": a local reference clock (RFC 5905 §7.3, Figure 12). */
const STRATUM = 1;
const PRECISION_LOG2 = -20;

function writeNtpTime(b: Uint8Array, off: number, unixMs: number): void {
  const secs = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET;
  const frac = Math.floor(((unixMs % 1000) / 1000) * 4294967296);
  writeU32(b, off, secs >>> 0); // era wrap: only the low 32 bits go on the wire
  writeU32(b, off + 4, frac >>> 0);
}

/** Build the reply to an SNTP client request, or null if `req` is not one. */
export function sntpReply(req: Uint8Array, unixMs: number): Uint8Array | null {
  if (req.length < NTP_PACKET_LEN) return null;
  const mode = req[0]! & 0x7;
  if (mode !== MODE_CLIENT) return null;
  const version = (req[0]! >> 3) & 0x7 || 4;
  const out = new Uint8Array(NTP_PACKET_LEN);
  out[0] = (0 << 6) | (version << 3) | MODE_SERVER;
  out[1] = STRATUM;
  out[2] = req[2]!; // poll
  out[3] = PRECISION_LOG2 & 0xff;
  writeU32(out, 4, 0); // root delay
  writeU32(out, 8, 0x00000010); // root dispersion: 1/4096 s
  out.set([0x4c, 0x4f, 0x43, 0x4c], 12); // "LOCL"
  writeNtpTime(out, 16, unixMs); // reference timestamp
  writeU32(out, 24, readU32(req, 40)); // originate = client's transmit
  writeU32(out, 28, readU32(req, 44));
  writeNtpTime(out, 32, unixMs); // receive
  writeNtpTime(out, 40, unixMs); // transmit
  return out;
}

/** The transmit timestamp of an NTP packet as Unix milliseconds (era 0). */
export function ntpTransmitUnixMs(pkt: Uint8Array): number {
  const secs = readU32(pkt, 40) - NTP_UNIX_OFFSET;
  return secs * 1000 + Math.floor((readU32(pkt, 44) / 4294967296) * 1000);
}
