/**
 * The Wokwi parts picow-sim models, as diagram.json names them: their pins, what connects their
 * pins inside the part, their automation controls (`set-control`) and attributes. Behaviour follows
 * docs.wokwi.com/parts/<type>; voltages are for the Pico W's 3.3 V rail.
 */
import { UsageError } from '../errors.ts';
import type { SimClock, SimTimer } from '../time.ts';
import { Dht22 } from './dht22.ts';
import type { Level, Netlist } from './netlist.ts';

/** The rail the Pico W's parts run from (VCC pins of sensors, ADC_VREF). */
export const SUPPLY_VOLTS = 3.3;
/** wokwi-ntc-temperature-sensor: a 10 kΩ NTC (R25 at 25 °C = 298.15 K) with a 10 kΩ resistor. */
export const NTC_REFERENCE_KELVIN = 298.15;
/** Contact bounce (Horowitz & Hill, as Wokwi's pushbutton page quotes): 10–100 transitions in about 1 ms. */
export const BOUNCE_WINDOW_NANOS = 1_000_000;
export const BOUNCE_MIN_TRANSITIONS = 10;
export const BOUNCE_MAX_TRANSITIONS = 100;

export const BOARD_TYPES = ['board-pi-pico-w', 'wokwi-pi-pico-w'];
export const SUPPORTED_TYPES = [
  'board-pi-pico-w',
  'wokwi-led',
  'wokwi-resistor',
  'wokwi-pushbutton',
  'wokwi-pushbutton-6mm',
  'wokwi-slide-switch',
  'wokwi-potentiometer',
  'wokwi-slide-potentiometer',
  'wokwi-ntc-temperature-sensor',
  'board-ds18b20',
  'wokwi-ds18b20',
  'wokwi-dht22',
];

/** Board pins (wokwi board-pi-pico-w): the GPIOs on the header, power and ground. */
export const BOARD_GPIOS = [...Array.from({ length: 23 }, (_, i) => i), 26, 27, 28];
const BOARD_HIGH = ['3V3', 'VSYS', 'VBUS', '3V3_EN', 'ADC_VREF'];
const BOARD_LOW = ['GND', 'AGND', ...Array.from({ length: 8 }, (_, i) => `GND.${i + 1}`)];
const BOARD_OTHER = ['RUN', 'TP4', 'TP5'];
export const BOARD_PINS = [...BOARD_GPIOS.map((g) => `GP${g}`), ...BOARD_HIGH, ...BOARD_LOW, ...BOARD_OTHER];

/** What a part gets from the circuit. */
export interface PartEnv {
  clock: SimClock;
  /** The part's contacts or outputs changed: levels must be worked out again. */
  changed(): void;
}

/** A control for `set-control`: checks and applies a value. */
export type Control = (value: number) => void;

export interface AnalogOutput {
  pin: string;
  volts(): number;
}

export interface Part {
  readonly id: string;
  readonly type: string;
  readonly pins: readonly string[];
  readonly controls: Record<string, Control>;
  /** Declare the part's nodes and its inside connections. */
  wire(net: Netlist): void;
  analog?: AnalogOutput;
  /** A data line the part drives itself (DHT22 SDA, DS18B20 DQ). */
  dataPin?: string;
  /** One line for the log when the part's visible state changes (an LED lighting), from pin levels. */
  state?(level: (pin: string) => Level | null): string | null;
}

const node = (id: string, pin: string): string => `${id}:${pin}`;

function num(partId: string, name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`part ${partId}: attribute ${name} ${JSON.stringify(v)} is not a number`);
  return n;
}

function controlValue(partId: string, name: string, v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${partId}.${name}: value must be a number`);
  if (v < min || v > max) throw new UsageError(`${partId}.${name}: value ${v} is outside ${min}…${max}`);
  return v;
}

/** A small deterministic PRNG (mulberry32) so a run's bounce is the same every time. */
export function seededRandom(seedText: string): () => number {
  let a = 0x9e3779b9;
  for (let i = 0; i < seedText.length; i++) a = Math.imul(a ^ seedText.charCodeAt(i), 0x85ebca6b) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A contact that bounces when it closes: it opens and closes an even number of times at random
 * moments within BOUNCE_WINDOW_NANOS, ending closed. Opening is clean.
 */
export class Contact {
  closed = false;
  private target = false;
  private timers: SimTimer[] = [];
  private readonly random: () => number;
  /** Transitions of the last closing (tests). */
  lastBounces = 0;

  constructor(
    private readonly env: PartEnv,
    private readonly bounce: boolean,
    seed: string,
  ) {
    this.random = seededRandom(seed);
  }

  set(closed: boolean): void {
    if (closed === this.target) return;
    this.target = closed;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    if (!closed || !this.bounce) {
      this.lastBounces = 0;
      this.apply(closed);
      return;
    }
    const span = BOUNCE_MAX_TRANSITIONS - BOUNCE_MIN_TRANSITIONS;
    let n = BOUNCE_MIN_TRANSITIONS + Math.floor(this.random() * span);
    if (n % 2 === 0) n++; // odd: closed, open, closed, ..., closed
    this.lastBounces = n;
    const times = Array.from({ length: n - 1 }, () => Math.floor(this.random() * BOUNCE_WINDOW_NANOS)).sort((x, y) => x - y);
    this.apply(true);
    times.forEach((at, i) => {
      const state = i % 2 === 1; // first scheduled transition opens
      this.timers.push(this.env.clock.schedule(at, () => this.apply(state)));
    });
    this.timers.push(this.env.clock.schedule(BOUNCE_WINDOW_NANOS, () => this.apply(true)));
  }

  private apply(closed: boolean): void {
    if (closed === this.closed) return;
    this.closed = closed;
    this.env.changed();
  }
}

/** wokwi-ntc-temperature-sensor OUT for a temperature, from Wokwi's documented conversion. */
export function ntcVolts(celsius: number, beta: number, supply = SUPPLY_VOLTS): number {
  const r = Math.exp(beta * (1 / (celsius + 273.15) - 1 / NTC_REFERENCE_KELVIN));
  return (supply * r) / (1 + r);
}

/** The inverse, as Wokwi's page writes it for a reading `a` of full scale `max`. */
export function ntcCelsius(a: number, max: number, beta: number): number {
  return 1 / (Math.log(1 / (max / a - 1)) / beta + 1 / NTC_REFERENCE_KELVIN) - 273.15;
}

export interface DsModel {
  temperature: number;
  deviceId: string;
  familyCode: number;
  setTemperature(c: number): void;
}

/** Build the model of one diagram part; null for a type picow-sim does not model. */
export function createPart(type: string, id: string, attrs: Record<string, string>, env: PartEnv): Part | null {
  const n = (pin: string) => node(id, pin);
  switch (type) {
    case 'wokwi-led':
      return {
        id,
        type,
        pins: ['A', 'C'],
        controls: {},
        wire: (net) => (net.node(n('A')), net.node(n('C'))),
        state: (level) => `${level('A') === 1 && level('C') === 0 ? 'on' : 'off'}`,
      };
    case 'wokwi-resistor':
      return { id, type, pins: ['1', '2'], controls: {}, wire: (net) => net.resistor(n('1'), n('2')) };
    case 'wokwi-pushbutton':
    case 'wokwi-pushbutton-6mm': {
      const contact = new Contact(env, attrs.bounce !== '0', `${id} bounce`);
      return {
        id,
        type,
        pins: ['1.l', '1.r', '2.l', '2.r'],
        controls: { pressed: (v) => contact.set(controlValue(id, 'pressed', v, 0, 1) >= 0.5) },
        wire: (net) => {
          net.wire(n('1.l'), n('1.r'));
          net.wire(n('2.l'), n('2.r'));
          net.switch({ a: n('1.l'), b: n('2.l'), closed: () => contact.closed });
        },
        state: () => (contact.closed ? 'pressed' : 'released'),
      };
    }
    case 'wokwi-slide-switch': {
      // Handle left (value ""): 1–2 shorted; right ("1"): 2–3. Each contact bounces as it closes.
      const left = new Contact(env, attrs.bounce !== '0', `${id} left`);
      const right = new Contact(env, attrs.bounce !== '0', `${id} right`);
      const move = (rightSide: boolean): void => {
        (rightSide ? left : right).set(false);
        (rightSide ? right : left).set(true);
      };
      move(attrs.value === '1');
      return {
        id,
        type,
        pins: ['1', '2', '3'],
        controls: { value: (v) => move(controlValue(id, 'value', v, 0, 1) >= 0.5) },
        wire: (net) => {
          net.switch({ a: n('1'), b: n('2'), closed: () => left.closed });
          net.switch({ a: n('2'), b: n('3'), closed: () => right.closed });
        },
      };
    }
    case 'wokwi-potentiometer':
    case 'wokwi-slide-potentiometer': {
      let position = Math.min(1, Math.max(0, num(id, 'value', attrs.value, 0) / 1023));
      return {
        id,
        type,
        pins: ['GND', 'SIG', 'VCC'],
        controls: {
          position: (v) => {
            position = controlValue(id, 'position', v, 0, 1);
            env.changed();
          },
        },
        wire: (net) => ['GND', 'SIG', 'VCC'].forEach((p) => net.node(n(p))),
        analog: { pin: 'SIG', volts: () => position * SUPPLY_VOLTS },
      };
    }
    case 'wokwi-ntc-temperature-sensor': {
      let celsius = num(id, 'temperature', attrs.temperature, 24);
      const beta = num(id, 'beta', attrs.beta, 3950);
      return {
        id,
        type,
        pins: ['VCC', 'OUT', 'GND'],
        controls: {
          temperature: (v) => {
            celsius = controlValue(id, 'temperature', v, -273, 1000);
            env.changed();
          },
        },
        wire: (net) => ['VCC', 'OUT', 'GND'].forEach((p) => net.node(n(p))),
        analog: { pin: 'OUT', volts: () => ntcVolts(celsius, beta) },
      };
    }
    case 'wokwi-dht22': {
      const dht = new Dht22(num(id, 'temperature', attrs.temperature, 24), num(id, 'humidity', attrs.humidity, 40));
      const part: Part & { dht: Dht22 } = {
        id,
        type,
        dht,
        pins: ['VCC', 'SDA', 'NC', 'GND'],
        dataPin: 'SDA',
        controls: {
          temperature: (v) => void (dht.temperature = controlValue(id, 'temperature', v, -40, 80)),
          humidity: (v) => void (dht.humidity = controlValue(id, 'humidity', v, 0, 100)),
        },
        wire: (net) => ['VCC', 'SDA', 'NC', 'GND'].forEach((p) => net.node(n(p))),
      };
      return part;
    }
    case 'board-ds18b20':
    case 'wokwi-ds18b20': {
      const deviceId = attrs.deviceID ?? '010203040506';
      if (!/^[0-9a-fA-F]{12}$/.test(deviceId)) throw new UsageError(`part ${id}: deviceID ${JSON.stringify(deviceId)} must be 12 hex digits`);
      const familyCode = parseInt(attrs.familyCode ?? '28', 16);
      if (!(familyCode >= 0 && familyCode <= 255)) throw new UsageError(`part ${id}: familyCode ${JSON.stringify(attrs.familyCode)} must be a hex byte`);
      const model: DsModel = {
        temperature: num(id, 'temperature', attrs.temperature, 22),
        deviceId,
        familyCode,
        setTemperature: (c) => void (model.temperature = c),
      };
      const part: Part & { ds: DsModel } = {
        id,
        type,
        ds: model,
        pins: type === 'board-ds18b20' ? ['GND', 'DQ', 'VCC'] : ['VCC', 'DQ', 'GND'],
        dataPin: 'DQ',
        controls: { temperature: (v) => model.setTemperature(controlValue(id, 'temperature', v, -55, 125)) },
        wire: (net) => ['VCC', 'DQ', 'GND'].forEach((p) => net.node(n(p))),
      };
      return part;
    }
    default:
      return null;
  }
}
