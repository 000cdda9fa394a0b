import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWokwiArgs } from '../../sim/wokwi/command.ts';
import { parseBin, parseElf } from '../../sim/wokwi/firmware-file.ts';
import { projectPythonFiles, readDiagram, readWokwiToml, WokwiFileError } from '../../sim/wokwi/project.ts';
import { runScenario, StepFailure, type ScenarioTarget } from '../../sim/wokwi/runner.ts';
import { parseScenarioText, parseWokwiTime } from '../../sim/wokwi/scenario.ts';
import { parseToml, TomlSyntaxError } from '../../sim/wokwi/toml.ts';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'wokwi-files-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function fileError(f: () => unknown): WokwiFileError {
  try {
    f();
  } catch (e) {
    if (e instanceof WokwiFileError) return e;
    throw e;
  }
  throw new Error('expected a WokwiFileError');
}

describe('TOML subset', () => {
  it('reads tables, arrays of tables, strings, numbers, booleans, inline values and remembers lines', () => {
    const doc = parseToml(
      [
        '# comment',
        '[wokwi]',
        'version = 1 # trailing',
        "firmware = 'build/app.uf2'",
        'elf = "build/app.\\u0065lf"',
        'rfc2217ServerPort = 4_000',
        'hex = 0x1F',
        'f = -1.5e2',
        'on = true',
        'list = [1, "two", [3]]',
        'inline = { a = 1, b.c = "x" }',
        '',
        '[[net.forward]]',
        'from = "localhost:8180"',
        'to = "target:80"',
        '[[net.forward]]',
        'from = "localhost:8181"',
        'to = "target:81"',
      ].join('\n'),
    );
    expect(doc.root.wokwi).toEqual({
      version: 1,
      firmware: 'build/app.uf2',
      elf: 'build/app.elf',
      rfc2217ServerPort: 4000,
      hex: 31,
      f: -150,
      on: true,
      list: [1, 'two', [3]],
      inline: { a: 1, b: { c: 'x' } },
    });
    expect(doc.root.net).toEqual({ forward: [{ from: 'localhost:8180', to: 'target:80' }, { from: 'localhost:8181', to: 'target:81' }] });
    expect(doc.lines.get('wokwi')).toBe(2);
    expect(doc.lines.get('wokwi.version')).toBe(3);
    expect(doc.lines.get('net.forward[1].to')).toBe(18);
  });

  it.each([
    ['x = """a\nb"""', 1, 'multi-line'],
    ['[a]\nx = 1\nx = 2', 3, 'defined twice'],
    ['x = bare', 1, 'strings need quotes'],
    ['x = "open', 1, 'unterminated'],
    ['[a\nx=1', 1, "expected ']'"],
    ['x = 1 y', 1, 'unexpected text'],
    ['d = 1979-05-27', 1, 'dates'],
  ])('refuses %j on line %i', (text, line, what) => {
    try {
      parseToml(text);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(TomlSyntaxError);
      expect((e as TomlSyntaxError).line).toBe(line);
      expect((e as Error).message).toContain(what);
    }
  });
});

describe('wokwi.toml', () => {
  it('resolves paths against its folder and turns [[net.forward]] into forward specs', () => {
    const dir = project({
      'wokwi.toml': '[wokwi]\nversion = 1\nfirmware = "fw.uf2"\nrfc2217ServerPort = 4000\ngdbServerPort = 3333\n\n[[net.forward]]\nfrom = "localhost:8180"\nto = "target:80"\n',
      'fw.uf2': 'x',
    });
    const c = readWokwiToml(join(dir, 'wokwi.toml'));
    expect(c.firmware).toBe(join(dir, 'fw.uf2'));
    expect(c.elf).toBeNull();
    expect(c.rfc2217ServerPort).toBe(4000);
    expect(c.gdbServerPort).toBe(3333);
    expect(c.forwards.map((f) => f.spec)).toEqual(['8180:80']);
  });

  it.each([
    ['[wokwi]\nversion = 2\nfirmware = "fw.uf2"\n', 2, 'unsupported wokwi.version 2'],
    ['[wokwi]\nfirmware = "fw.uf2"\n', 1, 'wokwi.version is missing'],
    ['version = 1\n', null, 'missing the [wokwi] section'],
    ['[wokwi]\nversion = 1\nfirmware = "nope.uf2"\n', 3, 'wokwi.firmware: nope.uf2 not found'],
    ['[wokwi]\nversion = 1\nfirmware = 5\n', 3, 'must be a path'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\nrfc2217ServerPort = 70000\n', 4, 'TCP port'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\nflash = 1\n', 4, 'unknown key wokwi.flash'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\n[[chip]]\nname = "x"\n', 4, 'custom chips'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\n[[net.forward]]\nfrom = "localhost:1"\nto = "udp:target:2"\n', 5, 'UDP'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\n[[net.forward]]\nfrom = "8180"\nto = "target:80"\n', 5, 'net.forward[0].from must be'],
    ['[wokwi]\nversion = 1\nfirmware = "fw.uf2"\nversion = 1\n', 4, 'defined twice'],
  ])('%j: one error naming file, line and key', (text, line, what) => {
    const dir = project({ 'wokwi.toml': text, 'fw.uf2': 'x' });
    const e = fileError(() => readWokwiToml(join(dir, 'wokwi.toml')));
    expect(e.exitCode).toBe(1);
    expect(e.line).toBe(line);
    expect(e.message).toContain(join(dir, 'wokwi.toml') + (line ? `:${line}` : ''));
    expect(e.message).toContain(what);
    expect(e.message).not.toContain('\n');
  });
});

describe('diagram.json', () => {
  const good = {
    version: 1,
    author: 'me',
    editor: 'wokwi',
    parts: [
      { type: 'board-pi-pico-w', id: 'pico', attrs: {} },
      { type: 'wokwi-led', id: 'led1', attrs: { color: 'red', brightness: 1 } },
    ],
    connections: [
      ['pico:GP15', 'led1:A', 'green', []],
      ['pico:GP0', '$serialMonitor:RX', ''],
    ],
  };

  it('reads parts (attributes as strings) and connections', () => {
    const dir = project({ 'diagram.json': JSON.stringify(good, null, 2) });
    const d = readDiagram(join(dir, 'diagram.json'));
    expect(d.parts.map((p) => `${p.type}/${p.id}`)).toEqual(['board-pi-pico-w/pico', 'wokwi-led/led1']);
    expect(d.parts[1]!.attrs).toEqual({ color: 'red', brightness: '1' });
    expect(d.connections[1]).toMatchObject({ a: { part: 'pico', pin: 'GP0' }, b: { part: '$serialMonitor', pin: 'RX' } });
    expect(d.connections[0]!.line).toBeGreaterThan(d.parts[1]!.line!);
  });

  it('names the line of a connection to a part that does not exist', () => {
    const bad = { ...good, connections: [...good.connections, ['pico:GP14', 'btn9:1.l', 'green', []]] };
    const text = JSON.stringify(bad, null, 2);
    const dir = project({ 'diagram.json': text });
    const e = fileError(() => readDiagram(join(dir, 'diagram.json')));
    const line = text.split('\n').findIndex((l) => l.includes('"pico:GP14"')) + 1;
    expect(e.line).toBe(line);
    expect(e.message).toContain("no part with id 'btn9'");
  });

  it('gives the line of a JSON syntax error', () => {
    const dir = project({ 'diagram.json': '{\n  "version": 1,\n  "parts": [\n    { "id": "x" "type": "y" }\n  ]\n}' });
    const e = fileError(() => readDiagram(join(dir, 'diagram.json')));
    expect(e.line).toBe(4);
    expect(e.message).toContain('not valid JSON');
  });

  it('refuses duplicate ids and parts without a type', () => {
    const dir = project({
      'a.json': JSON.stringify({ parts: [{ type: 'wokwi-led', id: 'a' }, { type: 'wokwi-led', id: 'a' }] }),
      'b.json': JSON.stringify({ parts: [{ id: 'a' }] }),
    });
    expect(fileError(() => readDiagram(join(dir, 'a.json'))).message).toContain("'a' is used twice");
    expect(fileError(() => readDiagram(join(dir, 'b.json'))).message).toContain('type is missing');
  });

  it('lists MicroPython files with main.py last', () => {
    const dir = project({ 'main.py': '', 'a.py': '', 'z.py': '', 'notes.txt': '' });
    expect(projectPythonFiles(dir).map((p) => p.slice(dir.length + 1))).toEqual(['a.py', 'z.py', 'main.py']);
  });
});

describe('scenario YAML', () => {
  const S = (steps: string) => `name: t\nversion: 1\nauthor: me\nsteps:\n${steps}`;

  it('reads every step kind, with the old and new parameter names', () => {
    const s = parseScenarioText(
      S(
        [
          '  - delay: 1.5ms',
          '  - name: banner',
          '    wait-serial: "ready"',
          '  - write-serial: "help()\\r\\n"',
          '  - write-serial: [3, 4]',
          '  - expect-pin: { part-id: led1, name: A, value: 1 }',
          '  - expect-pin: { part-id: led1, pin: C, value: 0 }',
          '  - set-control: { part-id: btn1, name: pressed, value: 1 }',
          '  - set-control: { part-id: pot1, control: position, value: 0.25 }',
          '  - wait-pin: { part-id: led1, name: A, value: 0, timeout: 20ms }',
          '  - wait-pin: { part-id: led1, name: A, value: 1 }',
        ].join('\n'),
      ),
      's.yaml',
    );
    expect(s.name).toBe('t');
    expect(s.author).toBe('me');
    expect(s.steps.map(({ label, line, ...rest }) => rest)).toEqual([
      { kind: 'delay', nanos: 1_500_000, text: '1.5ms' },
      { kind: 'wait-serial', text: 'ready' },
      { kind: 'write-serial', bytes: new TextEncoder().encode('help()\r\n') },
      { kind: 'write-serial', bytes: Uint8Array.of(3, 4) },
      { kind: 'expect-pin', partId: 'led1', pin: 'A', value: 1 },
      { kind: 'expect-pin', partId: 'led1', pin: 'C', value: 0 },
      { kind: 'set-control', partId: 'btn1', control: 'pressed', value: 1 },
      { kind: 'set-control', partId: 'pot1', control: 'position', value: 0.25 },
      { kind: 'wait-pin', partId: 'led1', pin: 'A', value: 0, timeoutNanos: 20_000_000 },
      { kind: 'wait-pin', partId: 'led1', pin: 'A', value: 1, timeoutNanos: null },
    ]);
    expect(s.steps[1]!.label).toBe('banner');
    expect(s.steps[1]!.line).toBe(6);
  });

  it('parses times as wokwi-cli does', () => {
    expect(parseWokwiTime('500ms')).toBe(500e6);
    expect(parseWokwiTime('2s')).toBe(2e9);
    expect(parseWokwiTime('10us')).toBe(10e3);
    expect(parseWokwiTime('7 ns')).toBe(7);
    expect(parseWokwiTime('0')).toBe(0);
    expect(() => parseWokwiTime('100')).toThrow(/missing units/);
    expect(() => parseWokwiTime('soon')).toThrow(/invalid time/);
  });

  it.each([
    ['name: t\nversion: 2\nsteps: []', 2, 'unsupported scenario version'],
    ['version: 1\nsteps: []', 1, 'name is missing'],
    ['name: t\nversion: 1\nsteps: 3', 3, 'steps must be an array'],
    [S('  - delay: 100'), 5, 'must include units'],
    [S('  - click: { part-id: b }'), 5, 'invalid scenario step key: click'],
    [S('  - take-screenshot: { part-id: lcd }'), 5, 'does not run'],
    [S('  - write-serial: []'), 5, 'at least one number'],
    [S('  - expect-pin: { part-id: led1, value: 1 }'), 5, 'missing required parameter `name`'],
    [S('  - expect-pin: { part-id: led1, name: A, expected: 1 }'), 5, 'reads `value`, not `expected`'],
    [S('  - set-control: { part-id: b, name: pressed, value: on }'), 5, 'must be a number'],
    [S('  - delay: 1ms\n    wait-serial: x'), 5, 'exactly one command'],
    [S('  - delay: 1ms\n  - wait-pin: { part-id: a, name: A, value: 1, timeout: 5 }'), 6, 'timeout must be a time'],
    ['name: t\nversion: 1\nsteps: [\n', 4, 'not valid YAML'],
  ])('%j: error on line %i', (text, line, what) => {
    const e = fileError(() => parseScenarioText(text, 'sc.yaml'));
    expect(e.exitCode).toBe(1);
    expect(e.line).toBe(line);
    expect(e.message).toContain(what);
  });
});

describe('command line', () => {
  it('takes wokwi-cli options, DIR, and picow-sim options beside them', () => {
    const a = parseWokwiArgs(['proj', '--timeout', '5000', '--timeout-exit-code=7', '--expect-text', 'hi', '-q', '--vcd-file', 'x.vcd', '--ap', 'Home:secret12', '--cpu', 'interp']);
    expect(a).toMatchObject({ dir: 'proj', timeoutMs: 5000, timeoutExitCode: 7, expectText: 'hi', quiet: true, vcdFile: 'x.vcd' });
    expect(a.cli.ap.map((x) => x.ssid)).toEqual(['Home']);
    expect(a.cli.cpu).toBe('interp');
    expect(parseWokwiArgs([]).dir).toBe('.');
    expect(parseWokwiArgs([]).timeoutMs).toBe(30000);
    expect(parseWokwiArgs([]).timeoutExitCode).toBe(42);
  });

  it('refuses bad values and picow-sim options that mean something else here', () => {
    expect(() => parseWokwiArgs(['--timeout', '1.5s'])).toThrow(/whole number/);
    expect(() => parseWokwiArgs(['--expect', 'x'])).toThrow(/--expect-text/);
    expect(() => parseWokwiArgs(['--bogus'])).toThrow(/unknown option/);
    expect(() => parseWokwiArgs(['--scenario'])).toThrow(/needs a value/);
    expect(() => parseWokwiArgs(['--screenshot-part', 'lcd1'])).toThrow(/no displays/);
  });
});

describe('firmware files', () => {
  it('places a .bin at the start of flash', () => {
    const img = parseBin(Uint8Array.of(1, 2, 3), 'a.bin');
    expect([...img.flash.subarray(0, 4)]).toEqual([1, 2, 3, 0xff]);
    expect(img.end).toBe(3);
  });

  it('loads the flash segments of an ELF', () => {
    // A minimal ELF32 LE ARM file: header, one PT_LOAD at 0x10000100 with 4 bytes.
    const buf = new Uint8Array(52 + 32 + 4);
    const v = new DataView(buf.buffer);
    buf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    v.setUint16(18, 40, true);
    v.setUint32(28, 52, true);
    v.setUint16(42, 32, true);
    v.setUint16(44, 1, true);
    v.setUint32(52, 1, true); // PT_LOAD
    v.setUint32(56, 84, true); // offset
    v.setUint32(60, 0x10000100, true); // vaddr
    v.setUint32(64, 0x10000100, true); // paddr
    v.setUint32(68, 4, true); // filesz
    buf.set([0xde, 0xad, 0xbe, 0xef], 84);
    const img = parseElf(buf, 'a.elf');
    expect([...img.flash.subarray(0x100, 0x104)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(img.flash[0]).toBe(0xff);
    expect(() => parseElf(Uint8Array.of(1, 2, 3), 'b.elf')).toThrow(/not an ELF/);
  });
});

describe('scenario runner', () => {
  const scenario = parseScenarioText(
    [
      'name: fake',
      'version: 1',
      'steps:',
      '  - name: first',
      '    delay: 2ms',
      '  - wait-serial: hi',
      '  - write-serial: [65]',
      '  - set-control: { part-id: b, name: pressed, value: 1 }',
      '  - expect-pin: { part-id: led, name: A, value: 1 }',
      '  - wait-pin: { part-id: led, name: A, value: 0, timeout: 1ms }',
    ].join('\n'),
    'fake.yaml',
  );

  function fake(pin: 0 | 1, pinArrives: boolean) {
    let now = 0;
    const calls: string[] = [];
    const lines: string[] = [];
    const target: ScenarioTarget = {
      nanos: () => now,
      delay: async (n) => void (calls.push(`delay ${n}`), (now += n)),
      waitSerial: async (t) => void calls.push(`wait ${t}`),
      writeSerial: (b) => void calls.push(`write ${[...b]}`),
      readPin: (p, n) => (calls.push(`read ${p}:${n}`), pin),
      waitPin: async (p, n, v, t) => (calls.push(`waitpin ${p}:${n}=${v} ${t}`), (now += t ?? 0), pinArrives),
      setControl: (p, c, v) => void calls.push(`set ${p}.${c}=${v}`),
      log: (l) => void lines.push(l),
    };
    return { target, calls, lines };
  }

  it('runs the steps in order and logs as wokwi-cli', async () => {
    const f = fake(1, true);
    await runScenario(scenario, f.target);
    expect(f.calls).toEqual(['delay 2000000', 'wait hi', 'write 65', 'set b.pressed=1', 'read led:A', 'waitpin led:A=0 1000000']);
    expect(f.lines).toEqual([
      '[fake] Executing step: first',
      '[fake] delay 2ms',
      '[fake] Expected text matched: "hi"',
      '[fake] expect-pin led:A == 1',
      '[fake] wait-pin led:A == 0 (timeout 1ms)',
      '[fake] Scenario completed successfully',
    ]);
  });

  it('fails a step with the simulated time and its line', async () => {
    await expect(runScenario(scenario, fake(0, true).target)).rejects.toThrow('[2000000ns] GPIO led:A expected to be 1 but was 0 (line 9)');
    const late = runScenario(scenario, fake(1, false).target);
    await expect(late).rejects.toBeInstanceOf(StepFailure);
    await expect(late).rejects.toThrow('[3000000ns] GPIO led:A did not become 0 within 1ms (line 10)');
  });
});
