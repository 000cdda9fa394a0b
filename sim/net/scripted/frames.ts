/**
 * A packet builder and decoder for the network tests and the scripted board (`board.ts`),
 * written independently of `sim/net/wire` so the tests do not check the simulator's wire code
 * against itself. Every decoder verifies checksums.
 */
import type { EthernetPort } from '../port.ts';

export const ip = (s: string): number => s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
export const ipStr = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
export const mac = (s: string): Uint8Array => Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
export const BCAST = mac('ff:ff:ff:ff:ff:ff');

function be16(n: number): number[] {
  return [(n >> 8) & 255, n & 255];
}
function be32(n: number): number[] {
  return [Math.floor(n / 2 ** 24) % 256, Math.floor(n / 65536) % 256, Math.floor(n / 256) % 256, n % 256];
}
function rd16(b: Uint8Array, o: number): number {
  return b[o]! * 256 + b[o + 1]!;
}
function rd32(b: Uint8Array, o: number): number {
  return rd16(b, o) * 65536 + rd16(b, o + 2);
}

/** RFC 1071 checksum computed byte-pair by byte-pair with a final fold. */
export function csum(bytes: number[] | Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! * 256 + (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s % 65536) + Math.floor(s / 65536);
  return 0xffff - s;
}

function pseudo(src: number, dst: number, proto: number, len: number): number[] {
  return [...be32(src), ...be32(dst), 0, proto, ...be16(len)];
}

export function eth(dst: Uint8Array, src: Uint8Array, type: number, payload: number[] | Uint8Array): Uint8Array {
  return Uint8Array.from([...dst, ...src, ...be16(type), ...payload]);
}

export function ipv4(src: number, dst: number, proto: number, payload: number[] | Uint8Array, id = 1): number[] {
  const h = [0x45, 0, ...be16(20 + payload.length), ...be16(id), 0x40, 0, 64, proto, 0, 0, ...be32(src), ...be32(dst)];
  const c = csum(h);
  h[10] = c >> 8;
  h[11] = c & 255;
  return [...h, ...payload];
}

export function udp(src: number, dst: number, sp: number, dp: number, payload: number[] | Uint8Array): number[] {
  const len = 8 + payload.length;
  const seg = [...be16(sp), ...be16(dp), ...be16(len), 0, 0, ...payload];
  let c = csum([...pseudo(src, dst, 17, len), ...seg]);
  if (c === 0) c = 0xffff;
  seg[6] = c >> 8;
  seg[7] = c & 255;
  return seg;
}

export interface TcpFields {
  src: number;
  dst: number;
  sp: number;
  dp: number;
  seq: number;
  ack?: number;
  flags: string; // any of S A F R P
  win?: number;
  mss?: number;
  data?: number[] | Uint8Array;
}

export function tcp(f: TcpFields): number[] {
  const bits = { F: 1, S: 2, R: 4, P: 8, A: 16 } as Record<string, number>;
  const flags = [...f.flags].reduce((a, c) => a | (bits[c] ?? 0), 0);
  const opts = f.mss !== undefined ? [2, 4, ...be16(f.mss)] : [];
  const hlen = 20 + opts.length;
  const data = [...(f.data ?? [])];
  const seg = [...be16(f.sp), ...be16(f.dp), ...be32(f.seq >>> 0), ...be32((f.ack ?? 0) >>> 0), (hlen / 4) << 4, flags, ...be16(f.win ?? 65535), 0, 0, 0, 0, ...opts, ...data];
  const c = csum([...pseudo(f.src, f.dst, 6, seg.length), ...seg]);
  seg[16] = c >> 8;
  seg[17] = c & 255;
  return seg;
}

export function icmpEcho(id: number, seq: number, data: number[]): number[] {
  const m = [8, 0, 0, 0, ...be16(id), ...be16(seq), ...data];
  const c = csum(m);
  m[2] = c >> 8;
  m[3] = c & 255;
  return m;
}

export function arp(op: number, smac: Uint8Array, sip: number, tmac: Uint8Array, tip: number): number[] {
  return [0, 1, 8, 0, 6, 4, 0, op, ...smac, ...be32(sip), ...tmac, ...be32(tip)];
}

export function dhcp(type: number, xid: number, chaddr: Uint8Array, opts: [number, number[]][] = [], ciaddr = 0, flags = 0): number[] {
  const b = new Array(240).fill(0);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.splice(4, 4, ...be32(xid));
  b.splice(10, 2, ...be16(flags));
  b.splice(12, 4, ...be32(ciaddr));
  b.splice(28, 6, ...chaddr);
  b.splice(236, 4, 99, 130, 83, 99);
  const o: number[] = [53, 1, type];
  for (const [code, v] of opts) o.push(code, v.length, ...v);
  o.push(255);
  return [...b, ...o];
}

export function dnsQuery(id: number, name: string, type = 1): number[] {
  const q: number[] = [...be16(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of name.split('.')) q.push(l.length, ...[...l].map((c) => c.charCodeAt(0)));
  q.push(0, ...be16(type), 0, 1);
  return q;
}

export const ipBytes = (n: number): number[] => be32(n);

// ───────────────────────────── decoding ─────────────────────────────

export interface Decoded {
  dstMac: string;
  srcMac: string;
  type: number;
  arp?: { op: number; smac: string; sip: string; tmac: string; tip: string };
  ip?: { src: string; dst: string; proto: number };
  udp?: { sp: number; dp: number; data: Uint8Array };
  tcp?: { sp: number; dp: number; seq: number; ack: number; flags: string; win: number; mss?: number; data: Uint8Array };
  icmp?: { type: number; code: number; rest: Uint8Array };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Decode a frame; throws if any checksum is wrong. */
export function decode(f: Uint8Array): Decoded {
  const d: Decoded = { dstMac: hex(f.subarray(0, 6)), srcMac: hex(f.subarray(6, 12)), type: rd16(f, 12) };
  const p = f.subarray(14);
  if (d.type === 0x0806) {
    d.arp = { op: rd16(p, 6), smac: hex(p.subarray(8, 14)), sip: ipStr(rd32(p, 14)), tmac: hex(p.subarray(18, 24)), tip: ipStr(rd32(p, 24)) };
    return d;
  }
  if (d.type !== 0x0800) return d;
  const ihl = (p[0]! & 15) * 4;
  if (csum(p.subarray(0, ihl)) !== 0) throw new Error('bad IPv4 header checksum');
  const total = rd16(p, 2);
  const src = rd32(p, 12);
  const dst = rd32(p, 16);
  d.ip = { src: ipStr(src), dst: ipStr(dst), proto: p[9]! };
  const l4 = p.subarray(ihl, total);
  if (d.ip.proto === 17) {
    if (rd16(l4, 6) !== 0 && csum([...pseudo(src, dst, 17, l4.length), ...l4]) !== 0) throw new Error('bad UDP checksum');
    d.udp = { sp: rd16(l4, 0), dp: rd16(l4, 2), data: l4.slice(8, rd16(l4, 4)) };
  } else if (d.ip.proto === 6) {
    if (csum([...pseudo(src, dst, 6, l4.length), ...l4]) !== 0) throw new Error('bad TCP checksum');
    const off = (l4[12]! >> 4) * 4;
    const fl = l4[13]!;
    const flags = (fl & 2 ? 'S' : '') + (fl & 1 ? 'F' : '') + (fl & 4 ? 'R' : '') + (fl & 8 ? 'P' : '') + (fl & 16 ? 'A' : '');
    let mssOpt: number | undefined;
    for (let i = 20; i < off; ) {
      if (l4[i] === 0) break;
      if (l4[i] === 1) {
        i++;
        continue;
      }
      if (l4[i] === 2) mssOpt = rd16(l4, i + 2);
      i += l4[i + 1]!;
    }
    d.tcp = { sp: rd16(l4, 0), dp: rd16(l4, 2), seq: rd32(l4, 4), ack: rd32(l4, 8), flags, win: rd16(l4, 14), mss: mssOpt, data: l4.slice(off) };
  } else if (d.ip.proto === 1) {
    if (csum(l4) !== 0) throw new Error('bad ICMP checksum');
    d.icmp = { type: l4[0]!, code: l4[1]!, rest: l4.slice(4) };
  }
  return d;
}

/** DHCP options of a decoded UDP payload. */
export function dhcpOptions(b: Uint8Array): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 240; i < b.length && b[i] !== 255; ) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    m.set(b[i]!, [...b.subarray(i + 2, i + 2 + b[i + 1]!)]);
    i += 2 + b[i + 1]!;
  }
  return m;
}

export const dhcpYiaddr = (b: Uint8Array): string => ipStr(rd32(b, 16));

// ───────────────────────────── scripted board port ─────────────────────────────

export class ScriptedPort implements EthernetPort {
  onTransmit: ((frame: Uint8Array) => void) | null = null;
  onLinkChange: ((up: boolean) => void) | null = null;
  linkUp = true;
  readonly received: Uint8Array[] = [];
  /** Called for each delivered frame (after it is stored). */
  onDeliver: ((frame: Uint8Array) => void) | null = null;
  constructor(readonly mac: Uint8Array) {}
  deliver(frame: Uint8Array): void {
    this.received.push(frame.slice());
    this.onDeliver?.(frame);
  }
  send(frame: Uint8Array): void {
    this.onTransmit?.(frame);
  }
  /** Remove and decode everything received so far. */
  take(): Decoded[] {
    return this.received.splice(0).map(decode);
  }
}
