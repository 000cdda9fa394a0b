import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpText, OPTIONS, parseArgs, parseFileSpec } from '../../sim/cli-options.ts';
import { cliWorldOptions } from '../../sim/cli-world.ts';
import type { Uf2Image } from '../../sim/board/uf2.ts';
import { UsageError } from '../../sim/errors.ts';
import { silentLogger } from '../../sim/log.ts';

function usage(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
}

describe('picow-sim arguments', () => {
  it('parses a script run with files, libs, expectations and a timeout', () => {
    const o = parseArgs([
      'client.py',
      '--file',
      'cfg.json',
      '--file=data/cal.bin:/data/cal.bin',
      '--lib',
      'lib',
      '--expect',
      'Hello, world!',
      '--expect=done',
      '-t',
      '2.5',
      '--console',
      'uart0',
      '--trace',
      'cyw43,net',
      '-q',
    ]);
    expect(o.script).toBe('client.py');
    expect(o.files).toEqual([
      { local: 'cfg.json', remote: '/cfg.json' },
      { local: 'data/cal.bin', remote: '/data/cal.bin' },
    ]);
    expect(o.lib).toEqual(['lib']);
    expect(o.expect).toEqual(['Hello, world!', 'done']);
    expect(o.timeout).toBe(2.5);
    expect(o.console).toBe('uart0');
    expect(o.trace).toEqual(['cyw43', 'net']);
    expect(o.quiet).toBe(true);
  });

  it('passes the options of other modules on as values', () => {
    const o = parseArgs([
      '--map', '192.168.253.45:8080=127.0.0.1:8080',
      '--host', 'api.example.com=10.0.0.5',
      '--forward', '8081:80',
      '--allow-internet',
      '--pcap', 'x.pcap',
      '--latency', '50',
      '--loss', '2.5',
      '--bandwidth', '1000',
      '--ap', 'PicoW-Sim:picowsim',
      '--ap', 'OpenNet',
      '--server-port', '8081',
      '--no-server',
      '--offline',
      '--cpu', 'jit',
      '--pty', '/tmp/picow',
    ]);
    expect(o.map).toEqual(['192.168.253.45:8080=127.0.0.1:8080']);
    expect(o.host).toEqual(['api.example.com=10.0.0.5']);
    expect(o.forward).toEqual(['8081:80']);
    expect(o.allowInternet).toBe(true);
    expect(o.pcap).toBe('x.pcap');
    expect([o.latency, o.loss, o.bandwidth]).toEqual([50, 2.5, 1000]);
    expect(o.ap).toEqual([
      { ssid: 'PicoW-Sim', password: 'picowsim', security: 'wpa2-psk' },
      { ssid: 'OpenNet', security: 'open' },
    ]);
    expect([o.serverPort, o.noServer, o.offline, o.cpu, o.pty]).toEqual([8081, true, true, 'jit', '/tmp/picow']);
  });

  it('every option in --help is in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const o of OPTIONS) expect(readme, o.name).toContain(`\`${o.name}`);
    expect(helpText('x')).toContain('--restrict');
  });

  it('parses the trust options: --restrict, --max-tcp, --max-udp, --pcap-max', () => {
    const o = parseArgs(['--restrict', '--max-tcp', '32', '--max-udp', '16', '--pcap-max', '10MiB', '--timeout', '2147483']);
    expect([o.restrict, o.maxTcp, o.maxUdp, o.pcapMax, o.timeout]).toEqual([true, 32, 16, 10 * 1024 * 1024, 2147483]);
    expect(parseArgs([]).restrict).toBe(false);
  });

  it('hands the trust options to the session layer (the command and the Wokwi front end)', () => {
    const o = parseArgs(['--restrict', '--max-tcp', '32', '--max-udp', '16', '--pcap', 'x.pcap', '--pcap-max', '1MiB']);
    const w = cliWorldOptions(o, { image: {} as Uf2Image, logger: silentLogger(), demo: false, status: () => undefined });
    expect([w.restrict, w.netLimits, w.pcapFile, w.pcapMaxBytes]).toEqual([true, { tcpPerBoard: 32, udpPerBoard: 16 }, 'x.pcap', 1 << 20]);
  });

  it('rejects bad arguments with one clear line', () => {
    expect(usage(['--timeot', '3'])).toBe("unknown option '--timeot' (did you mean --timeout?); see --help");
    expect(usage(['--timeout'])).toMatch(/--timeout needs a value SECONDS \(example: --timeout 30\)/);
    expect(usage(['--timeout', 'soon'])).toMatch(/--timeout "soon": not a number/);
    expect(usage(['--timeout', '-1'])).toMatch(/must be between 0\.001 and 2147483/);
    // Above 2^31 - 1 ms a Node timer fires at once: refused, as is a digit string that is Infinity.
    expect(usage(['--timeout', '2147484'])).toMatch(/--timeout "2147484": must be between 0\.001 and 2147483/);
    expect(usage(['--timeout', '9'.repeat(400)])).toMatch(/not a number/);
    expect(usage(['--ap', 'MyNet:'])).toBe("--ap 'MyNet:': the password after ':' is empty (leave out the ':' for an open network)");
    expect(usage(['--restrict', '--allow-internet'])).toBe('--restrict and --allow-internet cannot be used together');
    expect(usage(['--max-tcp', '0'])).toMatch(/--max-tcp "0": must be between 1 and 65535/);
    expect(usage(['--max-udp', '2.5'])).toMatch(/--max-udp "2.5": must be a whole number/);
    expect(usage(['--pcap-max', 'lots'])).toMatch(/--pcap-max "lots": expected a size/);
    expect(usage(['--pcap-max', '9'.repeat(30)])).toMatch(/--pcap-max/);
    expect(usage(['--console', 'usb2'])).toMatch(/expected auto, usb, uart0 or uart1/);
    expect(usage(['--cpu', 'fast'])).toMatch(/expected interp, jit or check/);
    expect(usage(['--trace', 'bogus'])).toMatch(/unknown trace area 'bogus'/);
    expect(usage(['--loss', '120'])).toMatch(/--loss '120': expected a number of percent from 0 to 100/);
    expect(usage(['--map', '1.2.3.4:80'])).toMatch(/--map '1\.2\.3\.4:80': missing '='/);
    expect(usage(['--forward', '8080=80'])).toMatch(/--forward '8080=80'/);
    expect(usage(['--host', 'x=notanip'])).toMatch(/not an IPv4 address/);
    expect(usage(['--ap', ':pw12345678'])).toMatch(/SSID is empty/);
    expect(usage(['--ap', 'net:short'])).toMatch(/WPA2 password must be 8\.\.63 characters/);
    expect(usage(['--bandwidth', 'fast'])).toMatch(/--bandwidth 'fast': expected a number of kbit\/s/);
    expect(usage(['a.py', 'b.py'])).toMatch(/one script at a time/);
    expect(usage(['--quiet', '--verbose'])).toMatch(/cannot be used together/);
    expect(usage(['--quiet=yes'])).toMatch(/takes no value/);
    expect(usage(['--file', 'x:'])).toMatch(/nothing after the colon/);
    expect(usage(['--file', 'x:../y'])).toMatch(/must not contain '\.\.'/);
    expect(usage(['--expect', '--timeout', '3'])).toMatch(/--expect needs a value/);
  });

  it('takes --repl only for an interactive session', () => {
    expect(parseArgs(['--repl']).repl).toBe(true);
    expect(usage(['x.py', '--repl'])).toMatch(/--repl is for an interactive session/);
  });

  it('lets values start with a dash when they are not options', () => {
    expect(parseArgs(['--expect', '-1']).expect).toEqual(['-1']);
  });

  it('maps --file LOCAL[:REMOTE]', () => {
    expect(parseFileSpec('dir/x.py')).toEqual({ local: 'dir/x.py', remote: '/x.py' });
    expect(parseFileSpec('x.py:lib/y.py')).toEqual({ local: 'x.py', remote: '/lib/y.py' });
  });

  it('documents every option with an example in --help', () => {
    const help = helpText('1.2.3');
    for (const o of OPTIONS) {
      expect(help).toContain(o.name);
      expect(help).toContain(`e.g. ${o.example}`);
    }
    expect(help).toContain('PICOW_FIRMWARE');
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
  });
});
