import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../sim/errors.ts';
import { parseScenario, type ParseOptions } from '../../sim/scenario/parse.ts';
import { parseDuration, ScenarioError } from '../../sim/scenario/schema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = readFileSync(join(here, 'scenario-example.yaml'), 'utf8');
const FAKE_FS: ParseOptions = {
  baseDir: '/proj',
  exists: () => true,
  readFile: (p) => {
    if (p === '/proj/indoor.csv') return 'seconds,celsius\n0,21\n600,23\n';
    throw new Error(`ENOENT ${p}`);
  },
};

function parse(text: string, opts: ParseOptions = FAKE_FS) {
  return parseScenario(text, 'test.yaml', opts);
}

/** The error a scenario text gives. */
function errorOf(text: string, opts: ParseOptions = FAKE_FS): ScenarioError {
  try {
    parse(text, opts);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('durations', () => {
  it('accepts numbers and units', () => {
    expect(parseDuration(30)).toBe(30);
    expect(parseDuration('30')).toBe(30);
    expect(parseDuration('500ms')).toBeCloseTo(0.5, 12);
    expect(parseDuration('2s')).toBe(2);
    expect(parseDuration('1.5min')).toBe(90);
    expect(parseDuration('2m30s')).toBe(150);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('250us')).toBeCloseTo(0.00025, 12);
    expect(parseDuration('5 parsecs')).toBeNull();
    expect(parseDuration('-1s')).toBeNull();
    expect(parseDuration(-3)).toBeNull();
    expect(parseDuration('')).toBeNull();
  });
});

describe('the complete example', () => {
  const s = parse(EXAMPLE);

  it('reads the program, network and servers', () => {
    expect(s.name).toBe('temperature client reaches the collector');
    expect(s.firmware).toBe('/proj/RPI_PICO_W.uf2');
    expect(s.script).toBe('/proj/temp_client.py');
    expect(s.files).toEqual([{ board: 'secrets.py', local: '/proj/secrets.py' }]);
    expect(s.lib).toEqual(['/proj/lib']);
    expect(s.timeout).toBe(600);
    expect(s.aps).toEqual([
      { ssid: 'PicoW-Sim', password: 'picowsim', security: 'wpa2-psk', channel: 6, rssi: -45, up: true },
      { ssid: 'Wokwi-GUEST', password: '', security: 'open', channel: 6, rssi: -50, up: true },
    ]);
    expect(s.maps).toHaveLength(1);
    expect(s.maps[0]).toMatchObject({ port: 8080, host: '127.0.0.1', hostPort: 8080 });
    expect(s.maps[0]!.addr).toBe((192 << 24 >>> 0) + (168 << 16) + (253 << 8) + 45);
    expect(s.hosts[0]!.name).toBe('collector.local');
    expect(s.forwards[0]).toMatchObject({ hostPort: 8081, boardPort: 80 });
    expect(s.servers).toHaveLength(1);
    expect(s.servers[0]).toMatchObject({ name: 'collector', port: 8080, collector: true, methods: ['REPORT'] });
  });

  it('builds the sensor timelines', () => {
    const adc4 = s.sensors.adc4!.timeline;
    expect(adc4.meanAt(0)).toBe(18);
    expect(adc4.meanAt(165)).toBeCloseTo(23, 12); // halfway between 30 s and 300 s
    expect(adc4.valueAt(165)).not.toBe(adc4.meanAt(165)); // noisy
    expect(s.sensors.adc[0]!.timeline.valueAt(10)).toBe(1.65);
    expect(s.sensors.adc[1]).toBeUndefined();
    const [outdoor, indoor] = s.sensors.ds18b20;
    expect(outdoor!.name).toBe('outdoor');
    expect(outdoor!.pin).toBe(22);
    expect(Buffer.from(outdoor!.rom!).toString('hex').slice(0, 14)).toBe('28ff641e0f1603');
    expect(outdoor!.temperature.timeline.valueAt(900)).toBeCloseTo(16, 9); // quarter period of 1 h
    expect(indoor!.resolution).toBe(10);
    expect(indoor!.pin).toBe(22);
    expect(indoor!.temperature.timeline.valueAt(300)).toBeCloseTo(22, 12);
  });

  it('orders faults by time and reads expectations', () => {
    expect(s.faults.map((f) => [f.at, f.action.kind])).toEqual([
      [120, 'server-down'],
      [150, 'server-up'],
      [180, 'link'],
      [240, 'ap-down'],
      [260, 'ap-up'],
    ]);
    expect(s.faults[2]!.action).toEqual({ kind: 'link', faults: { latencyMs: 50, lossPercent: 5 } });
    expect(s.expect.map((e) => e.kind)).toEqual(['serial', 'serial', 'serial', 'collector', 'led']);
    const down = s.expect[1]!;
    expect(down).toMatchObject({ kind: 'serial', text: 'Server Not Online', window: { from: 120, until: 155 }, absent: false });
    expect(s.expect[2]).toMatchObject({ kind: 'serial', absent: true });
    expect(s.expect[3]).toMatchObject({ kind: 'collector', server: 'collector', readings: 200, against: 'adc4', tolerance: 0.6, lag: 2, window: { from: 30 } });
    expect(s.expect[4]).toMatchObject({ kind: 'led', on: true, at: 60 });
    expect(s.expect[4]!.where.line).toBe(EXAMPLE.split('\n').findIndex((l) => l.includes('name: LED on once joined')) + 1);
  });
});

describe('defaults', () => {
  it('fills in a minimal scenario', () => {
    const s = parse('expect:\n  - serial: hello\n');
    expect(s.timeout).toBe(60);
    expect(s.servers).toEqual([{ name: 'server', port: 8080, collector: true, methods: [], where: { key: 'servers', line: 0 } }]);
    expect(s.aps).toEqual([]);
    expect(s.sensors.ds18b20).toEqual([]);
    expect(s.expect[0]).toMatchObject({ name: 'serial #1', window: { from: 0, until: undefined } });
    expect(parse('servers:\n').servers).toEqual([]);
  });
});

describe('malformed scenarios name the key and its line', () => {
  const cases: [string, string, string, number, RegExp][] = [
    ['unknown top-level key', 'name: x\nwifi: y\n', 'wifi', 2, /unknown key \(expected one of: name, firmware/],
    ['resolution out of range', 'sensors:\n  ds18b20:\n    - pin: 22\n      resolution: 13\n      temperature: 20\n', 'sensors.ds18b20[0].resolution', 4, /must be from 9 to 12/],
    ['bad duration', 'timeout: soon\n', 'timeout', 1, /expected a duration/],
    ['bad map', 'maps:\n  - 192.168.1.300:80=127.0.0.1:80\n', 'maps[0]', 2, /not an IPv4 address/],
    ['unknown AP in a fault', 'aps: [Home:password1]\nfaults:\n  - at: 5s\n    ap-down: Office\n', 'faults[0].ap-down', 4, /no access point "Office"/],
    ['unknown sensor in an expectation', 'expect:\n  - collector:\n      against: adc4\n', 'expect[0].collector.against', 3, /no sensor "adc4"/],
    ['two kinds in a timeline', 'sensors:\n  adc4:\n    temperature: {constant: 1, sine: {mean: 1, amplitude: 1, period: 1}}\n', 'sensors.adc4.temperature', 3, /only one of constant, sine/],
    ['bad ROM CRC', 'sensors:\n  ds18b20:\n    - rom: 28ff641e0f160300\n      temperature: 20\n', 'sensors.ds18b20[0].rom', 3, /CRC byte is 00/],
    ['missing CSV', 'sensors:\n  adc4:\n    temperature: {csv: nope.csv}\n', 'sensors.adc4.temperature', 3, /nope\.csv: cannot read CSV timeline/],
    ['bad regex', 'expect:\n  - serial-matches: "(unclosed"\n', 'expect[0].serial-matches', 2, /not a regular expression/],
    ['window backwards', 'expect:\n  - serial: x\n    after: 10s\n    before: 5s\n', 'expect[0].before', 4, /ends .* before it starts/],
    ['led without time', 'expect:\n  - led: on\n', 'expect[0]', 2, /needs at:/],
    ['wpa2 password too short', 'aps:\n  - ssid: Home\n    password: short\n', 'aps[0].password', 3, /8 to 63 characters/],
    ['same ROM twice', 'sensors:\n  ds18b20:\n    - serial: 7\n      temperature: 1\n    - serial: 7\n      temperature: 2\n', 'sensors.ds18b20[1]', 5, /same ROM code as ds18b20-1/],
    ['list expected', 'aps: PicoW-Sim\n', 'aps', 1, /expected a list/],
  ];
  for (const [what, text, key, line, reason] of cases) {
    it(what, () => {
      const e = errorOf(text);
      expect(e).toBeInstanceOf(UsageError);
      expect(e.exitCode).toBe(2);
      expect(e.key).toBe(key);
      expect(e.line).toBe(line);
      expect(e.reason).toMatch(reason);
      expect(e.message).toBe(`test.yaml:${line}: ${key}: ${e.reason}`);
    });
  }

  it('network entries are named by their key, never by a command-line flag', () => {
    for (const text of ['maps:\n  - 10.0.0.1\n', 'hosts:\n  - collector\n', 'forwards:\n  - udp:53:53\n']) {
      const e = errorOf(text);
      expect(e.reason).toMatch(/^'[^']+': /);
      expect(e.message).not.toMatch(/--(map|host|forward)/);
    }
  });

  it('invalid YAML and duplicate keys give the line', () => {
    const bad = errorOf('name: a\nexpect:\n  - serial: "open\n');
    expect(bad.reason).toMatch(/not valid YAML/);
    expect(bad.line).toBeGreaterThanOrEqual(3);
    const dup = errorOf('name: a\ntimeout: 5\ntimeout: 6\n');
    expect(dup.line).toBe(3);
    expect(dup.reason).toMatch(/not valid YAML/);
  });

  it('missing local files are reported at their key', () => {
    const e = errorOf('script: nope.py\n', { baseDir: '/proj', exists: () => false });
    expect(e.key).toBe('script');
    expect(e.line).toBe(1);
    expect(e.reason).toBe('nope.py: no such file or folder');
  });
});

describe('wires', () => {
  it('reads jumper wires and points at a bad one', () => {
    expect(parse('script: main.py\nwires: [GP0:GP1, "4:5"]\n').wires).toEqual([
      { a: 0, b: 1 },
      { a: 4, b: 5 },
    ]);
    expect(parse('script: main.py\n').wires).toEqual([]);
    const e = errorOf('script: main.py\nwires:\n  - GP0:GP24\n');
    expect(e.message).toBe('test.yaml:3: wires[0]: GP24 is wired to the CYW43439 on a Pico W, not on the header');
  });
});

describe('boards', () => {
  it('lists boards with their own keys; board: names them in expectations and link faults', () => {
    const s = parse(
      'boards:\n  - name: hub\n    script: hub.py\n  - name: node\n    script: node.py\n    files: {cfg.json: cfg.json}\n    wires: [GP0:GP1]\n' +
        'faults:\n  - at: 5s\n    link: down\n    board: node\nexpect:\n  - serial: x\n    board: hub\n  - serial: y\n  - led: on\n    at: 1s\n    board: node\n',
    );
    expect(s.boards!.map((b) => [b.name, b.script, b.files, b.wires.length])).toEqual([
      ['hub', '/proj/hub.py', [], 0],
      ['node', '/proj/node.py', [{ board: 'cfg.json', local: '/proj/cfg.json' }], 1],
    ]);
    expect(s.script).toBeUndefined();
    expect(s.faults[0]).toMatchObject({ board: 'node', action: { kind: 'link-down' } });
    expect(s.expect.map((e) => (e.kind === 'collector' ? null : e.board))).toEqual(['hub', undefined, 'node']);
  });

  it('a file without boards: has none (one board from the top-level keys)', () => {
    expect(parse('script: main.py\n').boards).toBeUndefined();
  });

  const cases: [string, string, string, number, RegExp][] = [
    ['two boards of one name', 'boards:\n  - name: a\n  - name: a\n', 'boards[1].name', 3, /two boards named "a"/],
    ['a board without a name', 'boards:\n  - script: a.py\n', 'boards[0]', 2, /a board needs a name/],
    ['an expectation naming no board', 'boards:\n  - name: a\nexpect:\n  - serial: x\n    board: b\n', 'expect[0].board', 5, /no board named "b" \(boards: a\)/],
    ['board: in a file without boards', 'expect:\n  - serial: x\n    board: b\n', 'expect[0].board', 3, /this file has none/],
    ['a top-level board key beside boards', 'script: a.py\nboards:\n  - name: a\n', 'script', 1, /goes under each board/],
    ['an led expectation without board:', 'boards:\n  - name: a\nexpect:\n  - led: on\n    at: 1s\n', 'expect[0]', 4, /needs board: \(which of a\)/],
    ['a link fault without board:', 'boards:\n  - name: a\nfaults:\n  - at: 1s\n    link: down\n', 'faults[0]', 4, /a link fault needs board:/],
    ['board: on an AP fault', 'aps: [Home]\nboards:\n  - name: a\nfaults:\n  - at: 1s\n    ap-down: Home\n    board: a\n', 'faults[0].board', 7, /concerns the whole LAN/],
    ['more boards than addresses', `boards:\n${Array.from({ length: 65 }, (_, i) => `  - name: b${i}\n`).join('')}`, 'boards', 2, /65 boards: the virtual LAN has 64 addresses/],
  ];
  for (const [what, text, key, line, reason] of cases) {
    it(what, () => {
      const e = errorOf(text);
      expect([e.key, e.line]).toEqual([key, line]);
      expect(e.reason).toMatch(reason);
      expect(e.exitCode).toBe(2);
    });
  }
});
