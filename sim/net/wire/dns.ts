/** DNS message format (RFC 1035 §4): enough to read queries and write answers. */
import { readU16, writeU16, writeU32 } from './ipv4.ts';

export const DNS_PORT = 53;
/** RR types and class (RFC 1035 §3.2.2, §3.2.4; RFC 3596 for AAAA). */
export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;
/** RCODE values (RFC 1035 §4.1.1). */
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
/** Header bits (RFC 1035 §4.1.1). */
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPCODE_SHIFT = 11;
/** Maximum compression pointers followed before giving up (loop guard). */
const MAX_POINTERS = 32;
const HEADER_LEN = 12;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsMessage {
  id: number;
  flags: number;
  isResponse: boolean;
  opcode: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
}

export interface DnsAnswer {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Uint8Array;
}

/** Read a (possibly compressed) domain name; returns the name and the offset after it. */
function readName(b: Uint8Array, off: number): { name: string; next: number } | null {
  const labels: string[] = [];
  let next = -1;
  let pointers = 0;
  let total = 0;
  for (;;) {
    if (off >= b.length) return null;
    const len = b[off]!;
    if (len === 0) {
      if (next < 0) next = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= b.length || ++pointers > MAX_POINTERS) return null;
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | b[off + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) return null;
    if (off + 1 + len > b.length) return null;
    total += len + 1;
    if (total > 255) return null; // names are at most 255 octets (RFC 1035 §2.3.4)
    labels.push(String.fromCharCode(...b.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return { name: labels.join('.'), next };
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.').filter(Boolean)) {
    const bytes = Array.from(label.slice(0, 63), (c) => c.charCodeAt(0) & 0xff);
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return out;
}

export function parseDns(b: Uint8Array): DnsMessage | null {
  if (b.length < HEADER_LEN) return null;
  const flags = readU16(b, 2);
  const qd = readU16(b, 4);
  const an = readU16(b, 6);
  const msg: DnsMessage = {
    id: readU16(b, 0),
    flags,
    isResponse: (flags & FLAG_QR) !== 0,
    opcode: (flags >> OPCODE_SHIFT) & 0xf,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
  };
  let off = HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    const n = readName(b, off);
    if (!n || n.next + 4 > b.length) return null;
    msg.questions.push({ name: n.name, type: readU16(b, n.next), class: readU16(b, n.next + 2) });
    off = n.next + 4;
  }
  for (let i = 0; i < an; i++) {
    const n = readName(b, off);
    if (!n || n.next + 10 > b.length) return null;
    const rdlen = readU16(b, n.next + 8);
    if (n.next + 10 + rdlen > b.length) return null;
    msg.answers.push({
      name: n.name,
      type: readU16(b, n.next),
      class: readU16(b, n.next + 2),
      ttl: ((b[n.next + 4]! << 24) | (b[n.next + 5]! << 16) | (b[n.next + 6]! << 8) | b[n.next + 7]!) >>> 0,
      data: b.slice(n.next + 10, n.next + 10 + rdlen),
    });
    off = n.next + 10 + rdlen;
  }
  return msg;
}

export interface DnsResponseOptions {
  id: number;
  /** RD bit copied from the query. */
  recursionDesired: boolean;
  opcode?: number;
  rcode: number;
  question?: DnsQuestion;
  answers: DnsAnswer[];
  authoritative?: boolean;
}

/** Build a response; answers with the question's name are written with a pointer to it. */
export function buildDnsResponse(o: DnsResponseOptions): Uint8Array {
  const bytes: number[] = [];
  let flags = FLAG_QR | FLAG_RA | ((o.opcode ?? 0) << OPCODE_SHIFT) | (o.rcode & 0xf);
  if (o.recursionDesired) flags |= FLAG_RD;
  if (o.authoritative) flags |= FLAG_AA;
  const head = new Uint8Array(HEADER_LEN);
  writeU16(head, 0, o.id);
  writeU16(head, 2, flags);
  writeU16(head, 4, o.question ? 1 : 0);
  writeU16(head, 6, o.answers.length);
  bytes.push(...head);
  if (o.question) {
    bytes.push(...encodeName(o.question.name));
    bytes.push(o.question.type >> 8, o.question.type & 0xff, o.question.class >> 8, o.question.class & 0xff);
  }
  for (const a of o.answers) {
    if (o.question && a.name.toLowerCase() === o.question.name.toLowerCase()) bytes.push(0xc0, HEADER_LEN);
    else bytes.push(...encodeName(a.name));
    const rr = new Uint8Array(10);
    writeU16(rr, 0, a.type);
    writeU16(rr, 2, a.class);
    writeU32(rr, 4, a.ttl);
    writeU16(rr, 8, a.data.length);
    bytes.push(...rr, ...a.data);
  }
  return new Uint8Array(bytes);
}

export interface DnsQueryOptions {
  id: number;
  name: string;
  type?: number;
}

/** Build a standard recursive query (used by tests and tools). */
export function buildDnsQuery(o: DnsQueryOptions): Uint8Array {
  const head = new Uint8Array(HEADER_LEN);
  writeU16(head, 0, o.id);
  writeU16(head, 2, FLAG_RD);
  writeU16(head, 4, 1);
  const t = o.type ?? TYPE_A;
  return new Uint8Array([...head, ...encodeName(o.name), t >> 8, t & 0xff, 0, CLASS_IN]);
}
