/**
 * DNS server at 10.0.2.3 (RFC 1035): A records for `--host` names and the built-in NTP pool
 * names (which point at the gateway's SNTP answer); with `--allow-internet`, other names go to
 * the host's resolver; otherwise NXDOMAIN.
 */
import { lookup } from 'node:dns/promises';
import type { Logger } from '../log.ts';
import { limitHit } from './limits.ts';
import type { HostIo } from '../time.ts';
import { GATEWAY_IP } from './addressing.ts';
import {
  buildDnsResponse,
  CLASS_IN,
  parseDns,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
  type DnsAnswer,
  type DnsQuestion,
} from './wire/dns.ts';
import { ipBytes, ipToString, parseIp } from './wire/ipv4.ts';
import type { HostEntry } from './policy.ts';

/** TTL of our answers (seconds). */
const ANSWER_TTL = 60;
/** RR type ANY (RFC 1035 §3.2.3, QTYPE 255). */
const MDNS_TYPE_ANY = 255;
/** Maximum TTL in legacy unicast mDNS answers (RFC 6762 §6.7). */
const MDNS_LEGACY_TTL = 10;
const addr4 = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
/** Names answered with the gateway so `ntptime` (default host pool.ntp.org) works offline. */
const BUILTIN_NTP_SUFFIX = 'pool.ntp.org';

export type HostResolver = (name: string) => Promise<number[]>;

const defaultResolver: HostResolver = async (name) => {
  const r = await lookup(name, { family: 4, all: true });
  return r.map((a) => parseIp(a.address)).filter((a): a is number => a !== null);
};

/** Host lookups (with --allow-internet) in flight at once. */
const MAX_PENDING_LOOKUPS = 64;

export class DnsServer {
  private readonly names = new Map<string, number>();
  private lookups = 0;
  readonly stats = { queries: 0, nxdomain: 0, answered: 0 };

  constructor(
    private readonly o: {
      logger: Logger;
      hostIo: HostIo;
      hosts: HostEntry[];
      allowInternet: boolean;
      /** Resolver used with allowInternet (injectable for tests). */
      resolver?: HostResolver;
    },
  ) {
    for (const h of o.hosts) this.names.set(h.name.toLowerCase(), h.addr);
  }

  /** The address a name resolves to locally, if any. */
  localAnswer(name: string): number | undefined {
    const n = name.toLowerCase().replace(/\.$/, '');
    const direct = this.names.get(n);
    if (direct !== undefined) return direct;
    if (n === BUILTIN_NTP_SUFFIX || n.endsWith('.' + BUILTIN_NTP_SUFFIX)) return GATEWAY_IP;
    return undefined;
  }

  /** Answer one query; `reply` may be called later (host lookups) or not at all (garbage). */
  handle(query: Uint8Array, reply: (response: Uint8Array) => void): void {
    const m = parseDns(query);
    if (!m) {
      if (query.length >= 12) {
        const id = (query[0]! << 8) | query[1]!;
        reply(buildDnsResponse({ id, recursionDesired: false, rcode: RCODE_FORMERR, answers: [] }));
      }
      return;
    }
    if (m.isResponse) return;
    this.stats.queries++;
    const rd = (m.flags & 0x0100) !== 0;
    const q = m.questions[0];
    if (m.opcode !== 0) {
      reply(buildDnsResponse({ id: m.id, recursionDesired: rd, opcode: m.opcode, rcode: RCODE_NOTIMP, question: q, answers: [] }));
      return;
    }
    if (!q || m.questions.length !== 1) {
      reply(buildDnsResponse({ id: m.id, recursionDesired: rd, rcode: RCODE_FORMERR, answers: [] }));
      return;
    }
    const send = (rcode: number, addrs: number[]) => {
      const answers: DnsAnswer[] =
        q.type === TYPE_A && q.class === CLASS_IN ? addrs.map((a) => ({ name: q.name, type: TYPE_A, class: CLASS_IN, ttl: ANSWER_TTL, data: ipBytes(a) })) : [];
      if (rcode === RCODE_NXDOMAIN) this.stats.nxdomain++;
      else this.stats.answered++;
      this.o.logger.trace('dns', () => `${q.name} type ${q.type} -> ${rcode === RCODE_NOERROR ? addrs.map(ipToString).join(',') || 'no data' : `rcode ${rcode}`}`);
      reply(buildDnsResponse({ id: m.id, recursionDesired: rd, rcode, question: q, answers, authoritative: rcode !== RCODE_SERVFAIL }));
    };
    const local = this.localAnswer(q.name);
    if (local !== undefined) return send(RCODE_NOERROR, [local]);
    const literal = parseIp(q.name);
    if (literal !== null) return send(RCODE_NOERROR, [literal]);
    if (!this.o.allowInternet) return send(RCODE_NXDOMAIN, []);
    this.lookupHost(q, send);
  }

  /**
   * Multicast DNS (RFC 6762) for `--host` names: lwIP sends `.local` lookups to 224.0.0.251:5353
   * instead of the DNS server. Known names are answered; unknown ones get no answer (mDNS has no
   * NXDOMAIN), so the lookup times out as on a real LAN without that host.
   * `legacy` = the query came from a port other than 5353: answer unicast with the query's ID
   * and question and a TTL of at most 10 s (RFC 6762 §6.7).
   */
  handleMdns(query: Uint8Array, legacy: boolean, reply: (response: Uint8Array) => void): void {
    const m = parseDns(query);
    if (!m || m.isResponse || m.opcode !== 0) return;
    const answers: DnsAnswer[] = [];
    for (const q of m.questions) {
      const qtype = q.type;
      const addr = this.names.get(q.name.toLowerCase().replace(/\.$/, ''));
      if (addr === undefined || (qtype !== TYPE_A && qtype !== MDNS_TYPE_ANY)) continue;
      answers.push({ name: q.name, type: TYPE_A, class: CLASS_IN, ttl: legacy ? MDNS_LEGACY_TTL : ANSWER_TTL, data: ipBytes(addr) });
    }
    if (answers.length === 0) return;
    this.o.logger.trace('dns', () => `mDNS ${answers.map((a) => `${a.name} -> ${ipToString(addr4(a.data))}`).join(', ')}`);
    const q = m.questions[0];
    reply(buildDnsResponse({ id: legacy ? m.id : 0, recursionDesired: false, rcode: RCODE_NOERROR, question: legacy ? q : undefined, answers, authoritative: true }));
  }

  private lookupHost(q: DnsQuestion, send: (rcode: number, addrs: number[]) => void): void {
    if (this.lookups >= MAX_PENDING_LOOKUPS) {
      // A query flood must not queue host lookups without bound: answer "server failure" (the
      // board's resolver retries) and say so once.
      limitHit(this.o.logger, 'dns', 'dns', `${MAX_PENDING_LOOKUPS} host lookups pending (the limit); further queries get SERVFAIL until they finish`);
      send(RCODE_SERVFAIL, []);
      return;
    }
    this.lookups++;
    const token = this.o.hostIo.begin(`dns lookup ${q.name}`);
    (this.o.resolver ?? defaultResolver)(q.name).finally(() => this.lookups--).then(
      (addrs) => {
        token.release();
        this.o.hostIo.notify();
        send(addrs.length ? RCODE_NOERROR : RCODE_NXDOMAIN, addrs);
      },
      (err: NodeJS.ErrnoException) => {
        token.release();
        this.o.hostIo.notify();
        send(err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? RCODE_NXDOMAIN : RCODE_SERVFAIL, []);
      },
    );
  }
}
