/**
 * What a temperature client sends and what is kept of it. The book's client PUTs `str(temp)`:
 * a decimal number as text (`23.5625`), nothing else.
 */
import { HttpError } from './errors.ts';

/** DS18B20 datasheet, "Measures temperatures from -55°C to +125°C". */
export const DEFAULT_MIN_CELSIUS = -55;
export const DEFAULT_MAX_CELSIUS = 125;

/** Longer bodies are not a reading, whatever they contain. */
export const MAX_READING_TEXT = 64;
export const MAX_SENSOR_ID = 64;

/** A decimal number as Python's `str(float)` and `str(int)` write it (no inf/nan, no hex). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Sensor ids: letters, digits and `-_.:`, so they are safe in CSV, JSON and logs. */
const SENSOR_ID = /^[A-Za-z0-9_.:-]+$/;

export interface CelsiusRange {
  min: number;
  max: number;
}

export interface StoredReading {
  id: number;
  /** Server time the reading arrived, milliseconds since the Unix epoch. */
  receivedAt: number;
  celsius: number;
  /** From `?sensor=`; null when the client gave none. */
  sensor: string | null;
  /** The client's IP address. */
  client: string;
}

export type NewReading = Omit<StoredReading, 'id'>;

/** Parses a request body into degrees Celsius, or throws a 400 saying why not. */
export function parseCelsius(body: Buffer, range: CelsiusRange): number {
  if (body.length > MAX_READING_TEXT) {
    throw new HttpError(400, `a reading is a number of at most ${MAX_READING_TEXT} characters`);
  }
  const text = body.toString('utf8').trim();
  if (text === '') throw new HttpError(400, 'empty body: send the temperature as a number, e.g. 21.5');
  if (!DECIMAL.test(text)) throw new HttpError(400, `not a number: ${JSON.stringify(text)}`);
  const celsius = Number(text);
  if (!Number.isFinite(celsius) || celsius < range.min || celsius > range.max) {
    throw new HttpError(400, `${text} °C is outside ${range.min}..${range.max} °C`);
  }
  return celsius;
}

/** Validates `?sensor=`; absent or empty means no sensor id. */
export function parseSensorId(value: string | null): string | null {
  if (value === null || value === '') return null;
  if (value.length > MAX_SENSOR_ID || !SENSOR_ID.test(value)) {
    throw new HttpError(400, `sensor id must be 1-${MAX_SENSOR_ID} of A-Z a-z 0-9 _ . : -`);
  }
  return value;
}

/** The JSON shape of a reading in API answers and events. */
export function readingToJson(r: StoredReading): Record<string, unknown> {
  return {
    id: r.id,
    time: new Date(r.receivedAt).toISOString(),
    celsius: r.celsius,
    sensor: r.sensor,
    client: r.client,
  };
}
