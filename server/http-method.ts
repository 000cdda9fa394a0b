/**
 * HTTP request methods: which strings are methods at all (RFC 9110 §9.1: a method is a token,
 * case-sensitive), which ones `node:http`'s parser accepts, and where the method sits in the
 * first bytes of a connection (RFC 9112 §3: request-line = method SP request-target SP version).
 */
import { METHODS } from 'node:http';
import { ServerOptionError } from './errors.ts';

/** The methods `node:http`'s parser knows; it refuses every other token with a parse error. */
export const NODE_PARSER_METHODS: ReadonlySet<string> = new Set(METHODS);

/** The article's server: GET, HEAD and the four methods that echo their body. */
export const DEFAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * A method token may be any length by the RFC; the server gives up looking for the end of one
 * after this many bytes and lets the HTTP parser reject the line.
 */
export const MAX_METHOD_LENGTH = 64;

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isMethodToken(s: string): boolean {
  return s.length > 0 && s.length <= MAX_METHOD_LENGTH && TCHAR.test(s);
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

export type MethodScan =
  /** Not enough bytes yet to see the whole method. */
  | { kind: 'need-more' }
  /** The method token occupies bytes [start, end) of the buffer. */
  | { kind: 'method'; method: string; start: number; end: number }
  /** The first line does not start with a method token: let the HTTP parser answer it. */
  | { kind: 'invalid' };

/**
 * Finds the method of the first request in `buf`, the bytes a connection has sent so far.
 * RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before the
 * request-line; any number of them are skipped here.
 */
export function scanRequestMethod(buf: Uint8Array): MethodScan {
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  for (let i = start; i < buf.length; i++) {
    if (buf[i] === SP) {
      if (i === start) return { kind: 'invalid' };
      const method = Buffer.from(buf.subarray(start, i)).toString('latin1');
      return isMethodToken(method) ? { kind: 'method', method, start, end: i } : { kind: 'invalid' };
    }
    if (i - start >= MAX_METHOD_LENGTH) return { kind: 'invalid' };
  }
  return buf.length - start > MAX_METHOD_LENGTH ? { kind: 'invalid' } : { kind: 'need-more' };
}

/** `buf` with bytes [start, end) replaced by `method`. */
export function replaceMethod(buf: Uint8Array, start: number, end: number, method: string): Buffer {
  return Buffer.concat([buf.subarray(0, start), Buffer.from(method, 'latin1'), buf.subarray(end)]);
}

/** Parses the `--method` values: tokens, de-duplicated, in the order given. */
export function parseMethodList(values: Iterable<string>): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (!isMethodToken(v)) throw new ServerOptionError('--method', v, 'not an HTTP method token (RFC 9110 §9.1)');
    if (v === 'CONNECT') throw new ServerOptionError('--method', v, 'CONNECT opens a tunnel (RFC 9110 §9.3.6); it cannot echo');
    if (!out.includes(v)) out.push(v);
  }
  return out;
}
