// `--json`: a whole run as newline-delimited JSON events, parsed line by line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/events.ts';
import { runCli } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

/** Every stdout line must be one JSON event. */
function parseAll(stdout: string): SimEvent[] {
  const lines = stdout.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((l) => {
    const e = JSON.parse(l) as SimEvent;
    expect(typeof e.type).toBe('string');
    expect(typeof e.t).toBe('number');
    return e;
  });
}

/** MicroPython lines: join the default AP, read a line from the host's server at 10.0.2.2:port, print it. */
function visitHost(port: number): string[] {
  return [
    "w = network.WLAN(network.STA_IF); w.active(True); w.connect('PicoW-Sim', 'picowsim')",
    'while w.status() != 3: time.sleep(0.1)',
    's = socket.socket()',
    `s.connect(('10.0.2.2', ${port}))`,
    'print(s.recv(100).decode().strip())',
    's.close()',
    // The board's FIN leaves through the Wi-Fi chip in simulated time: let it reach the host.
    'time.sleep_ms(100)',
  ];
}

function of<T extends SimEvent['type']>(events: SimEvent[], type: T): Extract<SimEvent, { type: T }>[] {
  return events.filter((e): e is Extract<SimEvent, { type: T }> => e.type === type);
}

describe('--json before any board', () => {
  it('a bad argument ends the stream with a result, exit 2', async () => {
    const r = await runCli(['--json', '--latency', 'soon'], 30_000);
    expect(r.code).toBe(2);
    const events = parseAll(r.stdout);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'result', exitCode: 2 });
    expect((events[0] as { message: string }).message).toContain('--latency');
  });
});

const fw = e2eFirmware();

describe.skipIf(!fw)('--json with the firmware', () => {
  let dir = '';
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'picow-json-'));
    // The line, then a close only after the board's: a FIN that overtakes connect() makes
    // MicroPython's lwIP socket raise a bogus OSError (the peer-closed state read as an error).
    server = createServer((s) => {
      s.write('hello from the host\n');
      s.on('end', () => s.end());
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((res) => server.close(() => res()));
  });

  it('reports console, pins, LED, Wi-Fi, DHCP, a host connection, the expectation and the result, in simulated time', async () => {
    const script = join(dir, 'main.py');
    writeFileSync(
      script,
      [
        'import network, socket, time',
        'from machine import Pin',
        'p = Pin(15, Pin.OUT)',
        'p.on()',
        'time.sleep_ms(20)',
        'p.off()',
        ...visitHost(port),
        "Pin('LED', Pin.OUT).on()",
        "print('all done')",
        '',
      ].join('\n'),
    );
    const r = await runCli([script, '--json', '--server-port', '0', '--expect', 'all done', '--timeout', '120'], 150_000, { env: { PICOW_FIRMWARE: fw! } });
    expect(r.code, r.stderr).toBe(0);
    const events = parseAll(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', mode: 'script' });
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'result', exitCode: 0, message: null });
    // Simulated time never runs backwards.
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t);

    const text = of(events, 'console').map((e) => e.text).join('');
    expect(text).toContain('hello from the host');
    expect(text).toContain('all done');
    const pins = of(events, 'pin').filter((e) => e.pin === 15);
    expect(pins.map((e) => e.value).slice(-2)).toEqual([1, 0]);
    const up = pins.findIndex((e) => e.value === 1);
    // The sleep between on and off is 20 ms of simulated time.
    expect(pins[up + 1]!.t - pins[up]!.t).toBeGreaterThanOrEqual(0.02);
    expect(pins[up + 1]!.t - pins[up]!.t).toBeLessThan(0.03);
    expect(of(events, 'wifi')).toContainEqual(expect.objectContaining({ state: 'up', ssid: 'PicoW-Sim' }));
    expect(of(events, 'dhcp')).toContainEqual(expect.objectContaining({ state: 'bound', ip: '10.0.2.15' }));
    const tcp = of(events, 'tcp');
    expect(tcp[0]).toMatchObject({ state: 'open', host: `127.0.0.1:${port}` });
    expect(tcp.map((e) => e.state)).toContain('closed');
    expect(of(events, 'led').at(-1)).toMatchObject({ on: true });
    expect(of(events, 'expect')).toEqual([expect.objectContaining({ status: 'pass', summary: 'printed "all done"' })]);
    // The Wi-Fi link came up before the connection, which came before the LED.
    const at = (pred: (e: SimEvent) => boolean): number => events.findIndex(pred);
    expect(at((e) => e.type === 'wifi')).toBeLessThan(at((e) => e.type === 'tcp'));
    expect(at((e) => e.type === 'tcp')).toBeLessThan(at((e) => e.type === 'led' && e.on));
  }, 160_000);

  it('a scenario: every expectation as an event, then the result', async () => {
    const file = join(dir, 'scenario.yaml');
    writeFileSync(join(dir, 'hello.py'), "import time\nprint('tick')\ntime.sleep(2)\nprint('tock')\n");
    writeFileSync(
      file,
      ['name: json scenario', 'script: hello.py', 'timeout: 10s', 'servers:', '  - port: 0', 'expect:', '  - serial: tick', '  - name: never', '    serial: nope', '    before: 5s', ''].join('\n'),
    );
    const r = await runCli(['--scenario', file, '--json', '--timeout', '120'], 150_000, { env: { PICOW_FIRMWARE: fw! } });
    expect(r.code, r.stderr).toBe(1);
    const events = parseAll(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', mode: 'scenario' });
    expect(of(events, 'console').map((e) => e.text).join('')).toContain('tick');
    const verdicts = of(events, 'expect');
    expect(verdicts.map((e) => e.status)).toEqual(['pass', 'fail']);
    expect(verdicts[1]).toMatchObject({ name: 'never', line: 8 });
    expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 1, passed: 1, failed: 1 });
  }, 160_000);

  it('two boards: every board event carries its board, for both boards', async () => {
    const script = (name: string, pin: number): string => {
      const f = join(dir, `${name}.py`);
      writeFileSync(
        f,
        [
          'import network, socket, time',
          'from machine import Pin',
          `Pin(${pin}, Pin.OUT).on()`,
          ...visitHost(port),
          "Pin('LED', Pin.OUT).on()",
          `print('board ${name} done')`,
          '',
        ].join('\n'),
      );
      return f;
    };
    const r = await runCli(
      ['--board', `a=${script('a', 14)}`, '--board', `b=${script('b', 15)}`, '--json', '--no-server', '--timeout', '150',
        '--expect', 'a:board a done', '--expect', 'b:board b done'],
      180_000,
      { env: { PICOW_FIRMWARE: fw! } },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = parseAll(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', mode: 'script' });
    expect(events[0]!.board).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0, message: null });
    expect(events.at(-1)!.board).toBeUndefined();
    const ips = { a: '10.0.2.15', b: '10.0.2.16' };
    for (const [name, pin] of [['a', 14], ['b', 15]] as const) {
      const own = events.filter((e) => e.board === name);
      // Each board's own simulated time never runs backwards.
      for (let i = 1; i < own.length; i++) expect(own[i]!.t).toBeGreaterThanOrEqual(own[i - 1]!.t);
      const text = of(own, 'console').map((e) => e.text).join('');
      expect(text).toContain('hello from the host');
      expect(text).toContain(`board ${name} done`);
      expect(text).not.toContain(`board ${name === 'a' ? 'b' : 'a'} done`);
      expect(of(own, 'pin')).toContainEqual(expect.objectContaining({ pin, value: 1 }));
      expect(of(own, 'pin').map((e) => e.pin)).not.toContain(name === 'a' ? 15 : 14);
      expect(of(own, 'led').at(-1)).toMatchObject({ on: true });
      expect(of(own, 'wifi')).toContainEqual(expect.objectContaining({ state: 'up', ssid: 'PicoW-Sim' }));
      expect(of(own, 'dhcp')).toContainEqual(expect.objectContaining({ state: 'bound', ip: ips[name] }));
      const tcp = of(own, 'tcp');
      expect(tcp[0]).toMatchObject({ state: 'open', host: `127.0.0.1:${port}` });
      expect(tcp.every((e) => e.local.startsWith(`${ips[name]}:`))).toBe(true);
      expect(of(own, 'expect')).toEqual([expect.objectContaining({ status: 'pass', summary: `printed "board ${name} done"` })]);
    }
    // Nothing that concerns a board is left without its name.
    const unnamed = events.filter((e) => e.board === undefined).map((e) => e.type);
    expect([...new Set(unnamed)].sort()).toEqual(['result', 'start']);
  }, 200_000);

  it('a scenario with boards: the events of both boards by name, each expectation with its board', async () => {
    const fix = join(import.meta.dirname, 'multi-fixtures');
    const r = await runCli(['--scenario', join(fix, 'two-boards.yaml'), '--json', '--timeout', '150'], 180_000, { env: { PICOW_FIRMWARE: fw! } });
    expect(r.code, r.stderr).toBe(0);
    const events = parseAll(r.stdout);
    const consoleOf = (name: string): string => of(events.filter((e) => e.board === name), 'console').map((e) => e.text).join('');
    expect(consoleOf('hub')).toContain('hub ready');
    expect(consoleOf('node')).toContain("b'pong ping'");
    expect(consoleOf('node')).not.toContain('hub ready');
    expect(of(events, 'console').every((e) => e.board === 'hub' || e.board === 'node')).toBe(true);
    // (The node joins the hub's access point, not the LAN's: no LAN Wi-Fi or lease events here;
    // the command-line test above has those.)
    // A plain expectation (any board's output) has no board.
    expect(of(events, 'expect').map((e) => [e.board, e.status])).toEqual([
      ['hub', 'pass'],
      ['node', 'pass'],
      [undefined, 'pass'],
      ['node', 'pass'],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0, passed: 4, failed: 0 });
  }, 200_000);

  it('picow-sim wokwi: the project run as events (scenario steps as status), then the result', async () => {
    const project = join(import.meta.dirname, 'wokwi-fixtures/mpy-project');
    const r = await runCli(['wokwi', project, '--scenario', 'scenario.yaml', '--json', '--timeout', '120000'], 240_000, {
      env: { PICOW_FIRMWARE: fw! },
    });
    expect(r.code, r.stderr).toBe(0);
    const events = parseAll(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', mode: 'wokwi' });
    expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0, message: null });
    expect(of(events, 'console').map((e) => e.text).join('')).toContain('pot 2048 ntc 2048');
    expect(of(events, 'status').map((e) => e.message)).toContain('[every step kind] Scenario completed successfully');
    expect(of(events, 'led').at(-1)).toMatchObject({ on: true });
    expect(of(events, 'wifi')).toContainEqual(expect.objectContaining({ state: 'up' }));
  }, 250_000);
});
