/**
 * What a scenario file describes, once parsed and checked: the board's program, its Wi-Fi and
 * network, the embedded servers, sensor timelines, faults at simulated times, and expectations.
 * Times are simulated seconds since power-on.
 */
import type { Wire } from '../board/wires.ts';
import type { ApConfig, ApSecurity } from '../cyw43/radio.ts';
import type { ForwardRule, HostEntry, LinkFaults, MapRule } from '../net/policy.ts';
import type { Resolution } from '../sensors/ds18b20.ts';
import type { Timeline, TimelineSpec } from '../sensors/timeline.ts';
import { UsageError } from '../errors.ts';

/** Where something was written in the scenario file. */
export interface Where {
  /** Dotted key path, e.g. `sensors.ds18b20[0].resolution`. */
  key: string;
  /** 1-based line (0 when unknown). */
  line: number;
}

/** A malformed scenario: names the file, the key and its line. Exit code 2. */
export class ScenarioError extends UsageError {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly line: number,
    readonly reason: string,
  ) {
    // One line, whatever the file's text quoted in the reason contains.
    super(`${file}${line > 0 ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${reason}`.replace(/[\r\n]/g, (c) => (c === '\n' ? '\\n' : '\\r')));
  }
}

/** An access point of the scenario: the radio's `ApConfig` with every field set, and whether it is on the air. */
export interface ApSpec extends ApConfig {
  password: string;
  security: ApSecurity;
  channel: number;
  rssi: number;
  /** Whether the AP is up at power-on (faults switch it). */
  up: boolean;
}

/** The file's words for the security kinds (`security: wpa2`), and the radio's. */
export const AP_SECURITY_WORDS: Readonly<Record<string, ApSecurity>> = { open: 'open', wpa2: 'wpa2-psk', wpa3: 'wpa3-sae' };

export interface ServerSpec {
  /** Name used by faults and expectations (default `server`). */
  name: string;
  /** Host port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Whether the temperature collector runs (under `/temperature`). */
  collector: boolean;
  /** Extra HTTP methods the echo server answers. */
  methods: string[];
  /** Where the board reaches it besides the gateway: a virtual `ADDR:PORT` mapped to this server. */
  address?: { addr: number; port: number };
  where: Where;
}

export interface SensorTimeline {
  spec: TimelineSpec;
  timeline: Timeline;
}

export interface Ds18b20Spec {
  name: string;
  pin: number;
  rom?: Uint8Array;
  serial: number;
  resolution: Resolution;
  parasite: boolean;
  temperature: SensorTimeline;
  where: Where;
}

export interface SensorsSpec {
  /** Die temperature on ADC channel 4, °C. */
  adc4?: SensorTimeline;
  /** Volts on ADC0–ADC3 (GP26–GP29). */
  adc: (SensorTimeline | undefined)[];
  ds18b20: Ds18b20Spec[];
}

export type FaultAction =
  | { kind: 'ap-down'; ssid: string }
  | { kind: 'ap-up'; ssid: string }
  | { kind: 'link'; faults: LinkFaults }
  | { kind: 'link-down' }
  | { kind: 'link-up' }
  | { kind: 'server-down'; server: string }
  | { kind: 'server-up'; server: string };

export interface Fault {
  at: number;
  action: FaultAction;
  where: Where;
}

/** A simulated-time window, inclusive; `until` undefined = to the end of the run. */
export interface Window {
  from: number;
  until?: number;
}

export type Expectation =
  | {
      kind: 'serial';
      name: string;
      /** Plain text to find, or a regular expression. */
      text?: string;
      regex?: RegExp;
      window: Window;
      /** The text must NOT appear in the window. */
      absent: boolean;
      where: Where;
    }
  | {
      kind: 'collector';
      name: string;
      server: string;
      /** At least this many readings in the window. */
      readings: number;
      /** Sensor whose timeline the readings are checked against (`adc4`, `adc0`…, a DS18B20 name). */
      against?: string;
      tolerance: number;
      /** A reading may be this old: it matches the timeline anywhere in [t − lag, t]. */
      lag: number;
      /** Only readings sent with `?sensor=` equal to this. */
      sensorId?: string;
      window: Window;
      where: Where;
    }
  | { kind: 'led'; name: string; on: boolean; at: number; where: Where };

export interface Scenario {
  /** The scenario file (as given) and the folder relative paths are resolved against. */
  file: string;
  baseDir: string;
  name: string;
  firmware?: string;
  /** Uploaded as `main.py`. */
  script?: string;
  /** Extra files: path on the board → local path. */
  files: { board: string; local: string }[];
  /** Local files or folders copied into `/lib`. */
  lib: string[];
  /** Simulated seconds after which the run stops. */
  timeout: number;
  aps: ApSpec[];
  maps: MapRule[];
  hosts: HostEntry[];
  forwards: ForwardRule[];
  /** Whether connections to unmapped addresses go to the internet. */
  allowInternet: boolean;
  /** `restrict: true`: only the embedded servers, maps and forwards (like --restrict). */
  restrict: boolean;
  servers: ServerSpec[];
  sensors: SensorsSpec;
  /** Jumper wires between GPIOs (`wires: [GP0:GP1]`). */
  wires: Wire[];
  faults: Fault[];
  expect: Expectation[];
}

export const TOP_LEVEL_KEYS = [
  'name',
  'firmware',
  'script',
  'files',
  'lib',
  'timeout',
  'aps',
  'maps',
  'hosts',
  'forwards',
  'allow-internet',
  'restrict',
  'servers',
  'sensors',
  'wires',
  'faults',
  'expect',
] as const;

export const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_SERVER_PORT = 8080;
export const DEFAULT_TOLERANCE = 0.5;
export const DEFAULT_LAG_SECONDS = 2;
export const DEFAULT_AP = { security: 'wpa2-psk', channel: 6, rssi: -50 } as const;

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 };

/**
 * A duration in simulated seconds: a number (seconds) or text with units, e.g. `500ms`, `2s`,
 * `1.5min`, `1h`, `1m30s`. Returns null when malformed.
 */
export function parseDuration(v: unknown): number | null {
  const s = parseDurationText(v);
  // A long digit string is Infinity as a number: never a duration.
  return s !== null && Number.isFinite(s) ? s : null;
}

/**
 * The longest duration a scenario may name: 30 days of simulated time (simulated nanoseconds stay
 * exact integers in a double far beyond that, up to 2^53 ns ≈ 104 days).
 */
export const MAX_DURATION_SECONDS = 30 * 86_400;

function parseDurationText(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const text = v.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|min|h|m|s)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    pos = re.lastIndex;
    while (text[pos] === ' ') pos++;
  }
  return total;
}

export function formatSeconds(s: number): string {
  if (s === 0) return '0 s';
  if (s < 1) return `${+(s * 1000).toFixed(3)} ms`;
  if (s < 120) return `${+s.toFixed(3)} s`;
  if (s < 7200) return `${+(s / 60).toFixed(2)} min`;
  return `${+(s / 3600).toFixed(2)} h`;
}

export function describeWindow(w: Window): string {
  if (w.from === 0 && w.until === undefined) return 'at any time';
  if (w.until === undefined) return `after ${formatSeconds(w.from)}`;
  if (w.from === 0) return `before ${formatSeconds(w.until)}`;
  return `between ${formatSeconds(w.from)} and ${formatSeconds(w.until)}`;
}
