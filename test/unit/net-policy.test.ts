import { describe, expect, it } from 'vitest';
import { UsageError } from '../../sim/errors.ts';
import { parseBandwidth, parseLatency, parseLoss, parsePcapPath } from '../../sim/cli-options.ts';
import { EgressPolicy } from '../../sim/net/policy.ts';
import { parseForwardSpec, parseHostSpec, parseMapSpec } from '../../sim/session/specs.ts';
import { ip } from '../../sim/net/scripted/frames.ts';

describe('flag parsers', () => {
  it('--map ADDR[:PORT]=HOST[:PORT]', () => {
    expect(parseMapSpec('192.168.253.45:8080=127.0.0.1:8080')).toEqual({ addr: ip('192.168.253.45'), port: 8080, host: '127.0.0.1', hostPort: 8080 });
    expect(parseMapSpec('10.9.9.9=localhost:9000')).toEqual({ addr: ip('10.9.9.9'), port: undefined, host: 'localhost', hostPort: 9000 });
    expect(parseMapSpec('10.9.9.9=127.0.0.1')).toEqual({ addr: ip('10.9.9.9'), port: undefined, host: '127.0.0.1', hostPort: undefined });
    expect(parseMapSpec('10.9.9.9:53=[::1]:5353')).toMatchObject({ host: '::1', hostPort: 5353 });
  });

  it.each([
    ['192.168.253.45:8080', "missing '='"],
    ['example.com:80=127.0.0.1:80', 'not an IPv4 address'],
    ['1.2.3.4:99999=127.0.0.1:80', 'not a port'],
    ['1.2.3.4:80=127.0.0.1', 'a mapped port needs a host port'],
    ['1.2.3.4:80=127.0.0.1:x', 'not a port'],
    ['1.2.3.4=', 'missing HOST'],
  ])('--map %s is a UsageError (%s)', (spec, msg) => {
    expect(() => parseMapSpec(spec)).toThrow(UsageError);
    expect(() => parseMapSpec(spec)).toThrow(msg);
    expect(() => parseMapSpec(spec)).toThrow(`--map '${spec}'`);
  });

  it('--host NAME=ADDR', () => {
    expect(parseHostSpec('Collector.Local.=10.0.2.2')).toEqual({ name: 'collector.local', addr: ip('10.0.2.2') });
    expect(() => parseHostSpec('collector')).toThrow("missing '='");
    expect(() => parseHostSpec('bad name=10.0.2.2')).toThrow('is not a DNS name');
    expect(() => parseHostSpec('ok.name=10.0.2')).toThrow('not an IPv4 address');
  });

  it('--forward HOSTPORT:[ADDR:]BOARDPORT', () => {
    expect(parseForwardSpec('8081:80')).toEqual({ hostPort: 8081, boardAddr: undefined, boardPort: 80 });
    expect(parseForwardSpec('tcp:8082:10.0.2.16:80')).toEqual({ hostPort: 8082, boardAddr: ip('10.0.2.16'), boardPort: 80 });
    expect(() => parseForwardSpec('udp:53:53')).toThrow('only TCP');
    expect(() => parseForwardSpec('80')).toThrow('wrong number of fields');
    expect(() => parseForwardSpec('8080:1.2.3.4:80')).toThrow('not a board address');
    expect(() => parseForwardSpec('8080:0')).toThrow('not a board port');
  });

  it('--latency, --loss, --bandwidth, --pcap', () => {
    expect(parseLatency('25')).toBe(25);
    expect(parseLoss('2%')).toBe(2);
    expect(parseBandwidth('512')).toBe(512);
    expect(() => parseLatency('-1')).toThrow(UsageError);
    expect(() => parseLoss('101')).toThrow('--loss');
    expect(() => parseBandwidth('0')).toThrow('--bandwidth');
    expect(() => parseLatency('fast')).toThrow("--latency 'fast'");
    expect(() => parsePcapPath('')).toThrow('--pcap');
  });
});

describe('egress policy', () => {
  const maps = [parseMapSpec('192.168.253.45:8080=127.0.0.1:18080'), parseMapSpec('10.9.9.9=127.0.0.1'), parseMapSpec('10.0.2.2:2000=127.0.0.1:3000')];

  it('maps exact ports first, then whole addresses, then the gateway to loopback', () => {
    const p = new EgressPolicy(maps, false);
    expect(p.resolve(ip('192.168.253.45'), 8080)).toEqual({ allowed: true, host: '127.0.0.1', port: 18080, via: 'map' });
    expect(p.resolve(ip('192.168.253.45'), 8081).allowed).toBe(false);
    expect(p.resolve(ip('10.9.9.9'), 4242)).toEqual({ allowed: true, host: '127.0.0.1', port: 4242, via: 'map' });
    expect(p.resolve(ip('10.0.2.2'), 8080)).toEqual({ allowed: true, host: '127.0.0.1', port: 8080, via: 'gateway' });
    expect(p.resolve(ip('10.0.2.2'), 2000)).toMatchObject({ port: 3000, via: 'map' });
  });

  it('refuses everything else unless allow-internet, and never routes LAN or loopback addresses out', () => {
    const closed = new EgressPolicy(maps, false);
    const r = closed.resolve(ip('93.184.215.14'), 80);
    expect(r.allowed).toBe(false);
    expect(r.allowed ? '' : r.reason).toContain('--allow-internet');
    const open = new EgressPolicy(maps, true);
    expect(open.resolve(ip('93.184.215.14'), 80)).toEqual({ allowed: true, host: '93.184.215.14', port: 80, via: 'internet' });
    expect(open.resolve(ip('10.0.2.77'), 80).allowed).toBe(false);
    expect(open.resolve(ip('127.0.0.1'), 80).allowed).toBe(false);
    expect(new EgressPolicy([], false, false).resolve(ip('10.0.2.2'), 80).allowed).toBe(false);
  });
});
