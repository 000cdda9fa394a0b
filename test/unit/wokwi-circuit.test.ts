import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RP2040 } from 'rp2040js';
import { describe, expect, it } from 'vitest';
import type { BoardContext } from '../../sim/board/device.ts';
import { silentLogger } from '../../sim/log.ts';
import { AdcSensors } from '../../sim/sensors/index.ts';
import { ManualClock } from '../../sim/time.ts';
import { Circuit } from '../../sim/wokwi/circuit.ts';
import { Dht22, dht22Frame, DHT_START_MIN_NANOS } from '../../sim/wokwi/dht22.ts';
import { Netlist, type Level } from '../../sim/wokwi/netlist.ts';
import { Contact, ntcCelsius, ntcVolts } from '../../sim/wokwi/parts.ts';
import { readDiagram, WokwiFileError } from '../../sim/wokwi/project.ts';
import { SerialMonitor } from '../../sim/wokwi/serial-monitor.ts';
import { VcdRecorder, vcdId } from '../../sim/wokwi/vcd.ts';
import { parseVcd } from '../helpers/vcd.ts';

const src = (l: Level | null) => ({ drive: () => l, pull: () => null });
const pulled = (l: Level | null) => ({ drive: () => null, pull: () => l });

describe('netlist', () => {
  it('a button to ground against a pull-up: high when open, low when closed', () => {
    const n = new Netlist();
    let closed = false;
    n.node('pico:GND', src(0));
    n.node('pico:GP14', pulled(1));
    n.wire('pico:GP14', 'btn:1.l');
    n.wire('btn:1.l', 'btn:1.r');
    n.wire('btn:2.l', 'pico:GND');
    n.switch({ a: 'btn:1.l', b: 'btn:2.l', closed: () => closed });
    expect(n.resolve().levels.get('pico:GP14')).toBe(1);
    expect(n.resolve().levels.get('btn:1.r')).toBe(1);
    closed = true;
    expect(n.resolve().levels.get('pico:GP14')).toBe(0);
  });

  it('a resistor passes a strong level weakly: external pull-down beats nothing, loses to a driver', () => {
    const n = new Netlist();
    let out: Level | null = null;
    n.node('gnd', src(0));
    n.node('gp', { drive: () => out, pull: () => 1 });
    n.resistor('gp', 'gnd'); // external pull-down beats the internal pull-up
    expect(n.resolve().levels.get('gp')).toBe(0);
    out = 1;
    expect(n.resolve().levels.get('gp')).toBe(1);
  });

  it('an LED behind a series resistor sees the GPIO level; nothing connected floats', () => {
    const n = new Netlist();
    let out: Level = 0;
    n.node('gp', { drive: () => out, pull: () => null });
    n.node('gnd', src(0));
    n.resistor('r:1', 'r:2');
    n.wire('gp', 'r:1');
    n.wire('r:2', 'led:A');
    n.wire('led:C', 'gnd');
    n.node('lonely:X');
    expect(n.resolve().levels.get('led:A')).toBe(0);
    out = 1;
    const r = n.resolve();
    expect(r.levels.get('led:A')).toBe(1);
    expect(r.levels.get('led:C')).toBe(0);
    expect(r.levels.get('lonely:X')).toBeNull();
  });

  it('reports a short between strong drivers (low wins)', () => {
    const n = new Netlist();
    n.node('a', src(1));
    n.node('b', src(0));
    n.wire('a', 'b');
    const r = n.resolve();
    expect(r.levels.get('a')).toBe(0);
    expect(r.shorts).toHaveLength(1);
  });
});

describe('parts', () => {
  it("NTC output follows Wokwi's documented conversion back to the temperature", () => {
    expect(ntcVolts(25, 3950)).toBeCloseTo(1.65, 9);
    for (const c of [-20, 0, 24, 37.5, 80]) {
      const code10 = (ntcVolts(c, 3950) / 3.3) * 1023;
      expect(ntcCelsius(code10, 1023, 3950)).toBeCloseTo(c, 6);
    }
    expect(ntcVolts(40, 3950)).toBeLessThan(ntcVolts(20, 3950));
  });

  it('a contact bounces 10-100 times within 1 ms when it closes, the same way every run, and ends closed', () => {
    const runOnce = (seed: string) => {
      const clock = new ManualClock();
      const edges: [number, boolean][] = [];
      const c = new Contact({ clock, changed: () => edges.push([clock.nanos, c.closed]) }, true, seed);
      c.set(true);
      clock.advance(2_000_000);
      return { edges, c };
    };
    const a = runOnce('btn1 bounce');
    const b = runOnce('btn1 bounce');
    expect(a.edges).toEqual(b.edges);
    expect(a.c.closed).toBe(true);
    expect(a.edges.length).toBeGreaterThanOrEqual(10);
    expect(a.edges.length).toBeLessThanOrEqual(101);
    expect(a.edges.at(-1)![0]).toBeLessThanOrEqual(1_000_000);
    // Alternating states, starting closed.
    a.edges.forEach(([, closed], i) => expect(closed).toBe(i % 2 === 0));
    const clock = new ManualClock();
    let changes = 0;
    const clean = new Contact({ clock, changed: () => changes++ }, false, 'x');
    clean.set(true);
    clean.set(false);
    clock.advance(2_000_000);
    expect(changes).toBe(2);
  });
});

describe('DHT22', () => {
  it('frames humidity and temperature with a checksum (negative temperatures set bit 15)', () => {
    expect([...dht22Frame(21.5, 55)]).toEqual([0x02, 0x26, 0x00, 0xd7, (0x02 + 0x26 + 0xd7) & 0xff]);
    expect([...dht22Frame(-10.1, 0)].slice(2, 4)).toEqual([0x80, 0x65]);
  });

  it('answers a start pulse with the datasheet waveform, decoded by pulse widths as a host does', () => {
    const clock = new ManualClock();
    let masterLow = false;
    let listener: (() => void) | null = null;
    const levels: [number, boolean][] = [];
    const dht = new Dht22(-3.3, 61.2);
    dht.connect(
      {
        masterDrivesLow: () => masterLow,
        onMasterChange: (cb) => ((listener = cb), () => (listener = null)),
        setLevel: (high) => levels.push([clock.nanos, high]),
      },
      clock,
    );
    const drive = (low: boolean) => {
      masterLow = low;
      listener?.();
    };
    // Too short a start pulse: no answer.
    drive(true);
    clock.advance(100_000);
    drive(false);
    clock.advance(1_000_000);
    expect(dht.readings).toBe(0);
    levels.length = 0;
    drive(true);
    clock.advance(DHT_START_MIN_NANOS + 200_000);
    drive(false);
    clock.advance(10_000_000);
    expect(dht.readings).toBe(1);
    // Highs after the 80 µs response: > 48 µs is a 1 (as MicroPython's dht driver decides).
    const highs: number[] = [];
    for (let i = 1; i < levels.length; i++) if (levels[i - 1]![1] && !levels[i]![1]) highs.push(levels[i]![0] - levels[i - 1]![0]);
    const bits = highs.slice(2).map((w) => (w > 48_000 ? 1 : 0));
    expect(bits).toHaveLength(40);
    const bytes = Array.from({ length: 5 }, (_, i) => bits.slice(i * 8, i * 8 + 8).reduce((a: number, b) => (a << 1) | b, 0));
    expect(bytes).toEqual([...dht22Frame(-3.3, 61.2)]);
    expect(levels.at(-1)![1]).toBe(true);
  });
});

describe('VCD', () => {
  it('identifiers are printable and distinct', () => {
    const ids = new Set(Array.from({ length: 10000 }, (_, i) => vcdId(i)));
    expect(ids.size).toBe(10000);
    for (const id of ids) expect(id).toMatch(/^[!-~]+$/);
  });

  it('writes only the pins that changed, read back with their times', () => {
    const v = new VcdRecorder();
    v.record('pico:GP15', 0, 0);
    v.record('led1:A', null, 0);
    v.record('pico:GP2', 0, 0); // never changes: not declared
    v.record('pico:GP15', 1, 1_000);
    v.record('led1:A', 1, 1_000);
    v.record('pico:GP15', 1, 2_000); // no change
    v.record('pico:GP15', 0, 3_500);
    v.record('btn1:1.l', 1, 4_000); // first seen later: z before
    const text = v.render(10_000);
    const r = parseVcd(text);
    expect(r.timescale).toBe('1ns');
    expect([...r.signals.keys()].sort()).toEqual(['btn1.1_l', 'led1.A', 'pico.GP15']);
    expect(r.signals.get('pico.GP15')).toEqual([
      { time: 0, value: '0' },
      { time: 1000, value: '1' },
      { time: 3500, value: '0' },
    ]);
    expect(r.signals.get('led1.A')).toEqual([
      { time: 0, value: 'z' },
      { time: 1000, value: '1' },
    ]);
    expect(r.signals.get('btn1.1_l')).toEqual([
      { time: 0, value: 'z' },
      { time: 4000, value: '1' },
    ]);
    expect(text.trimEnd().endsWith('#10000')).toBe(true);
  });

  it('stops at its change limit with a note', () => {
    const v = new VcdRecorder(3);
    v.record('a:x', 0, 0);
    for (let i = 1; i <= 10; i++) v.record('a:x', (i % 2) as Level, i);
    expect(v.changeCount).toBe(3);
    expect(v.truncatedAt).toBe(4);
    expect(v.render(20)).toContain('$comment dump stopped');
  });
});

describe('serial monitor', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('matches expect texts on complete lines only (as wokwi-cli)', () => {
    const m = new SerialMonitor();
    const hits: string[] = [];
    m.onLineContaining('PASS', () => hits.push('pass'));
    m.feed(enc('test PA'));
    m.feed(enc('SS so far'));
    expect(hits).toEqual([]);
    m.feed(enc('\r\n'));
    expect(hits).toEqual(['pass']);
    m.feed(enc('PASS\n'));
    expect(hits).toEqual(['pass']); // once
  });

  it('wait-serial finds bytes across chunks after the mark, and each match moves past it', async () => {
    const m = new SerialMonitor();
    m.feed(enc('old ready\n'));
    m.mark();
    let done = 0;
    const p = m.waitFor('ready', () => done++);
    m.feed(enc('rea'));
    expect(done).toBe(0);
    m.feed(enc('dy!'));
    expect(done).toBe(1);
    await p;
    let again = 0;
    void m.waitFor('ready', () => again++);
    expect(again).toBe(0);
    m.feed(enc('°C ready'));
    expect(again).toBe(1);
  });
});

/** An RP2040 with no program: the test drives its GPIOs through SIO and PADS as firmware would. */
function chip() {
  const mcu = new RP2040();
  const clock = new ManualClock();
  const ctx: BoardContext = { mcu, clock, hostIo: { begin: () => ({ release() {} }), notify() {} }, logger: silentLogger(), emit() {} };
  const SIO = 0xd0000000;
  const sio = (g: number) => {
    mcu.writeUint32(0x40014000 + g * 8 + 4, 5); // IO_BANK0 GPIOx_CTRL FUNCSEL = SIO
  };
  return {
    mcu,
    clock,
    ctx,
    output(g: number, high: boolean) {
      sio(g);
      mcu.writeUint32(SIO + (high ? 0x14 : 0x18), 1 << g); // GPIO_OUT_SET / CLR
      mcu.writeUint32(SIO + 0x24, 1 << g); // GPIO_OE_SET
    },
    input(g: number, pull: 'up' | 'down' | 'none') {
      sio(g);
      mcu.writeUint32(SIO + 0x28, 1 << g); // GPIO_OE_CLR
      mcu.writeUint32(0x4001c000 + 4 + 4 * g, 0x40 | (pull === 'up' ? 8 : pull === 'down' ? 4 : 0) | 2); // PADS: IE, PUE/PDE, SCHMITT
    },
    read(g: number): boolean {
      return mcu.gpio[g]!.inputValue;
    },
  };
}

function diagram(parts: object[], connections: string[][]) {
  const dir = mkdtempSync(join(tmpdir(), 'wokwi-circuit-'));
  writeFileSync(join(dir, 'diagram.json'), JSON.stringify({ version: 1, parts: [{ type: 'board-pi-pico-w', id: 'pico' }, ...parts], connections }, null, 1));
  return readDiagram(join(dir, 'diagram.json'));
}

describe('circuit on an RP2040', () => {
  it('wires a button, an LED and a potentiometer to the chip', () => {
    const c = chip();
    const adc = new AdcSensors();
    const d = diagram(
      [
        { type: 'wokwi-pushbutton', id: 'btn1', attrs: { bounce: '0' } },
        { type: 'wokwi-led', id: 'led1' },
        { type: 'wokwi-resistor', id: 'r1' },
        { type: 'wokwi-potentiometer', id: 'pot1' },
        { type: 'wokwi-servo', id: 'servo' },
      ],
      [
        ['btn1:1.l', 'pico:GP14'],
        ['btn1:2.r', 'pico:GND.1'],
        ['pico:GP15', 'r1:1'],
        ['r1:2', 'led1:A'],
        ['led1:C', 'pico:GND.2'],
        ['pot1:SIG', 'pico:GP27'],
        ['servo:PWM', 'pico:GP3'],
        ['pico:GP4', '$serialMonitor:RX'],
      ],
    );
    const circuit = new Circuit({ diagram: d, clock: c.clock, logger: silentLogger(), adc });
    expect(circuit.serialUart).toBe('uart1');
    expect(circuit.unmodelled.get('servo')).toBe('wokwi-servo');
    adc.attach(c.ctx);
    circuit.attach(c.ctx);
    c.input(14, 'up');
    expect(c.read(14)).toBe(true);
    circuit.part('btn1')!.controls.pressed!(1);
    expect(c.read(14)).toBe(false);
    expect(circuit.level('btn1', '1.r')).toBe(0);
    circuit.part('btn1')!.controls.pressed!(0);
    expect(c.read(14)).toBe(true);
    c.output(15, true);
    expect(circuit.level('led1', 'A')).toBe(1);
    c.output(15, false);
    expect(circuit.level('led1', 'A')).toBe(0);
    circuit.part('pot1')!.controls.position!(0.25);
    expect(adc.codeAt(1, 0)).toBe(Math.round(0.25 * 4095));
    expect(() => circuit.part('pot1')!.controls.position!(2)).toThrow(/outside/);
  });

  it('an external pull-down resistor and a slide switch to 3V3', () => {
    const c = chip();
    const d = diagram(
      [
        { type: 'wokwi-slide-switch', id: 'sw', attrs: { bounce: '0' } },
        { type: 'wokwi-resistor', id: 'rpd', attrs: { value: '10000' } },
      ],
      [
        ['sw:2', 'pico:GP5'],
        ['sw:3', 'pico:3V3'],
        ['rpd:1', 'pico:GP5'],
        ['rpd:2', 'pico:GND.3'],
      ],
    );
    const circuit = new Circuit({ diagram: d, clock: c.clock, logger: silentLogger(), adc: null });
    circuit.attach(c.ctx);
    c.input(5, 'none');
    expect(c.read(5)).toBe(false); // handle left: 2 open to 3, the resistor pulls down
    circuit.part('sw')!.controls.value!(1);
    expect(c.read(5)).toBe(true);
  });

  it('refuses pins a part does not have and diagrams without a Pico W', () => {
    const c = chip();
    const bad = diagram([{ type: 'wokwi-led', id: 'led1' }], [['led1:X', 'pico:GP1']]);
    expect(() => new Circuit({ diagram: bad, clock: c.clock, logger: silentLogger(), adc: null })).toThrow(/has no pin 'X'/);
    const badBoard = diagram([], [['pico:GP99', 'pico:GND.1']]);
    expect(() => new Circuit({ diagram: badBoard, clock: c.clock, logger: silentLogger(), adc: null })).toThrow(WokwiFileError);
    const dir = mkdtempSync(join(tmpdir(), 'wokwi-circuit-'));
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ parts: [{ type: 'board-esp32-devkit-c-v4', id: 'esp' }] }));
    expect(() => new Circuit({ diagram: readDiagram(join(dir, 'd.json')), clock: c.clock, logger: silentLogger(), adc: null })).toThrow(/no board-pi-pico-w/);
  });
});
