import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../server/byte-size.ts';
import { parseServerArgs } from '../../server/cli-args.ts';
import { defaultDbPath, userDataDir } from '../../server/data-dir.ts';
import { isMethodToken, parseMethodList, replaceMethod, scanRequestMethod } from '../../server/http-method.ts';
import { parseCelsius, parseSensorId } from '../../server/temperature-reading.ts';
import { parseReadingsQuery } from '../../server/readings-query.ts';
import { formatAccessLine, clientAddress } from '../../server/access-log.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('method tokens and the request line', () => {
  it('knows RFC 9110 tokens', () => {
    for (const ok of ['GET', 'BREW', 'M-SEARCH', 'x.y_z~1', "A!#$%&'*+-.^_`|~"]) expect(isMethodToken(ok)).toBe(true);
    for (const bad of ['', 'GE T', 'GET(', 'GÉT', 'A/B', 'A:B', 'X'.repeat(65)]) expect(isMethodToken(bad)).toBe(false);
  });

  it('finds the method of the first request line', () => {
    expect(scanRequestMethod(b('BREW / HTTP/1.1\r\n'))).toEqual({ kind: 'method', method: 'BREW', start: 0, end: 4 });
    expect(scanRequestMethod(b('\r\n\nGET /'))).toEqual({ kind: 'method', method: 'GET', start: 3, end: 6 });
    expect(scanRequestMethod(b(''))).toEqual({ kind: 'need-more' });
    expect(scanRequestMethod(b('\r\n'))).toEqual({ kind: 'need-more' });
    expect(scanRequestMethod(b('PROPFI'))).toEqual({ kind: 'need-more' });
    expect(scanRequestMethod(b(' GET /'))).toEqual({ kind: 'invalid' });
    expect(scanRequestMethod(b('GE(T / HTTP/1.1'))).toEqual({ kind: 'invalid' });
    expect(scanRequestMethod(b('\x16\x03\x01\x02\x00 '))).toEqual({ kind: 'invalid' });
    expect(scanRequestMethod(b('A'.repeat(65)))).toEqual({ kind: 'invalid' });
    expect(scanRequestMethod(b('A'.repeat(64)))).toEqual({ kind: 'need-more' });
  });

  it('replaces the method and nothing else', () => {
    const line = b('\r\nBREW /pot HTTP/1.1\r\n\r\nbody');
    const scan = scanRequestMethod(line);
    if (scan.kind !== 'method') throw new Error('expected a method');
    expect(replaceMethod(line, scan.start, scan.end, 'POST').toString()).toBe('\r\nPOST /pot HTTP/1.1\r\n\r\nbody');
  });

  it('parses --method lists', () => {
    expect(parseMethodList(['BREW', 'REPORT', 'BREW'])).toEqual(['BREW', 'REPORT']);
    expect(() => parseMethodList(['NO GOOD'])).toThrow(/--method "NO GOOD": not an HTTP method token/);
  });
});

describe('server command line', () => {
  it('has the documented defaults', () => {
    expect(parseServerArgs([])).toEqual({
      help: false,
      host: '127.0.0.1',
      port: 8080,
      methods: [],
      maxBodyBytes: 1048576,
      db: undefined,
      collector: true,
      prefix: '/temperature',
      minCelsius: -55,
      maxCelsius: 125,
      quiet: false,
      cors: [],
      allowHosts: [],
    });
  });

  it('parses --cors origins and --allow-host names, and refuses what is neither', () => {
    const o = parseServerArgs(['--cors', 'http://localhost:3000/', '--cors=*', '--allow-host', 'MyPC.lan']);
    expect(o.cors).toEqual(['http://localhost:3000', '*']);
    expect(o.allowHosts).toEqual(['mypc.lan']);
    expect(() => parseServerArgs(['--cors', 'localhost:3000/x'])).toThrow(/--cors.*expected an origin/);
    expect(() => parseServerArgs(['--allow-host', 'a b'])).toThrow(/--allow-host.*expected a host name/);
  });

  it('parses every option, in both --flag value and --flag=value forms', () => {
    const o = parseServerArgs([
      '--port', '9090', '--host=0.0.0.0', '--method', 'REPORT', '--method=BREW', '--max-body', '2MiB',
      '--db', ':memory:', '--prefix', '/t', '--min-celsius', '-10', '--max-celsius=60.5', '--quiet',
    ]);
    expect(o).toMatchObject({
      host: '0.0.0.0',
      port: 9090,
      methods: ['REPORT', 'BREW'],
      maxBodyBytes: 2 * 1024 * 1024,
      db: ':memory:',
      prefix: '/t',
      minCelsius: -10,
      maxCelsius: 60.5,
      quiet: true,
    });
    expect(parseServerArgs(['--no-collector', '-h'])).toMatchObject({ collector: false, help: true });
  });

  it('refuses bad values with the option named', () => {
    expect(() => parseServerArgs(['--port', '70000'])).toThrow(/--port "70000"/);
    expect(() => parseServerArgs(['--port'])).toThrow(/--port "": needs a value/);
    expect(() => parseServerArgs(['--max-body', '1 potato'])).toThrow(/--max-body/);
    expect(() => parseServerArgs(['--method', 'A B'])).toThrow(/--method/);
    expect(() => parseServerArgs(['--prefix', 'temperature'])).toThrow(/--prefix/);
    expect(() => parseServerArgs(['--min-celsius', '50', '--max-celsius', '10'])).toThrow(/must be below/);
    expect(() => parseServerArgs(['--verbose'])).toThrow(/--verbose "": unknown option/);
  });

  it('reads byte sizes', () => {
    expect(parseByteSize('--max-body', '1048576')).toBe(1048576);
    expect(parseByteSize('--max-body', '512k')).toBe(524288);
    expect(parseByteSize('--max-body', '1MiB')).toBe(1048576);
    expect(parseByteSize('--max-body', '2MB')).toBe(2_000_000);
    expect(() => parseByteSize('--max-body', '1.5M')).toThrow(/expected bytes/);
  });
});

describe('default database location', () => {
  it('follows XDG on Linux, the platform folders elsewhere', () => {
    expect(userDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/picow-sim');
    expect(userDataDir({ XDG_DATA_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.local/share/picow-sim');
    expect(userDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/picow-sim');
    expect(userDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/picow-sim');
    expect(defaultDbPath({}, 'linux', '/home/u')).toBe('/home/u/.local/share/picow-sim/readings.sqlite');
  });
});

describe('readings, filters and log lines', () => {
  const range = { min: -55, max: 125 };

  it('reads temperatures as Python prints them', () => {
    expect(parseCelsius(b('23.5625'), range)).toBe(23.5625);
    expect(parseCelsius(b(' -0.5\r\n'), range)).toBe(-0.5);
    expect(parseCelsius(b('21'), range)).toBe(21);
    expect(parseCelsius(b('1.25e1'), range)).toBe(12.5);
    expect(parseCelsius(b('125'), range)).toBe(125);
    expect(() => parseCelsius(b('125.0001'), range)).toThrow(/outside/);
    expect(() => parseCelsius(b('Infinity'), range)).toThrow(/not a number/);
    expect(() => parseCelsius(b('1,5'), range)).toThrow(/not a number/);
  });

  it('validates sensor ids', () => {
    expect(parseSensorId(null)).toBeNull();
    expect(parseSensorId('')).toBeNull();
    expect(parseSensorId('28:ff:64:1e')).toBe('28:ff:64:1e');
    expect(() => parseSensorId('a"b')).toThrow(/sensor id/);
    expect(() => parseSensorId('x'.repeat(65))).toThrow(/sensor id/);
  });

  it('parses readings filters', () => {
    const q = parseReadingsQuery(new URLSearchParams('since=0&until=2026-01-01&sensor=a&limit=5'));
    expect(q).toEqual({ since: 0, until: Date.UTC(2026, 0, 1), sensor: 'a', limit: 5 });
    expect(parseReadingsQuery(new URLSearchParams(''))).toEqual({ limit: 1000 });
    expect(() => parseReadingsQuery(new URLSearchParams('limit=100001'))).toThrow(/limit/);
  });

  it('formats one access line per request and keeps it on one line', () => {
    expect(formatAccessLine({ client: '127.0.0.1', method: 'PUT', path: '/temperature', status: 201, bytes: 96, ms: 1.44 })).toBe(
      '127.0.0.1 "PUT /temperature" 201 96B 1.4ms',
    );
    expect(formatAccessLine({ client: '::1', method: 'GET', path: '/a b\n', status: 200, bytes: 0, ms: 0 })).toBe(
      '::1 "GET /a%20b%0A" 200 0B 0.0ms',
    );
    expect(clientAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientAddress('::1')).toBe('::1');
    expect(clientAddress(undefined)).toBe('-');
  });
});
