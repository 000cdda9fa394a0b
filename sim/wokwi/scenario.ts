/**
 * Wokwi automation scenarios (the YAML `wokwi-cli --scenario` runs), read and checked as wokwi-cli
 * checks them before a run: `name` (a string), `version: 1`, optional `author`, and `steps`, each
 * one command key plus an optional `name`. Commands: `delay` (a time with units), `wait-serial`,
 * `write-serial` (text or a non-empty list of byte values), `expect-pin` and `set-control`
 * (`part-id`, `name` — or the older `pin`/`control` — and `value`), and beyond wokwi-cli
 * `wait-pin` (`part-id`, `name`, `value`, optional `timeout`). Anything else is an error naming
 * the file and line.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { WokwiFileError } from './project.ts';

export type Step =
  | { kind: 'delay'; nanos: number; text: string }
  | { kind: 'wait-serial'; text: string }
  | { kind: 'write-serial'; bytes: Uint8Array }
  | { kind: 'expect-pin'; partId: string; pin: string; value: 0 | 1 }
  | { kind: 'wait-pin'; partId: string; pin: string; value: 0 | 1; timeoutNanos: number | null }
  | { kind: 'set-control'; partId: string; control: string; value: number };

export type LabelledStep = Step & { label: string | null; line: number | null };

export interface Scenario {
  file: string;
  name: string;
  author: string | null;
  steps: LabelledStep[];
}

/** Wokwi steps picow-sim cannot run (they need a display or custom chips). */
const WOKWI_ONLY = ['take-screenshot', 'touch', 'touch-press', 'touch-move', 'touch-release', 'expect-chip-output'];
const COMMANDS = ['delay', 'wait-serial', 'write-serial', 'expect-pin', 'wait-pin', 'set-control'];

/** wokwi-cli's time format: a number with ns/us/ms/s, or a bare 0. Nanoseconds. */
export function parseWokwiTime(value: string): number {
  const t = value.trim();
  const m = /^(\d+(\.\d*)?)\s*(ns|us|ms|s)$|^0(\.?0*)$/i.exec(t);
  if (!m) {
    if (!isNaN(parseFloat(t))) throw new Error(`missing units in ${JSON.stringify(value)} (e.g. ${t}ms)`);
    throw new Error(`invalid time ${JSON.stringify(value)} (a number with ns, us, ms or s)`);
  }
  if (m[1] === undefined) return 0;
  const v = parseFloat(m[1]);
  const unit = m[3]!.toLowerCase();
  return unit === 'ns' ? v : unit === 'us' ? v * 1e3 : unit === 'ms' ? v * 1e6 : v * 1e9;
}

function pinParams(cmd: string, v: unknown, nameKeys: string[]): { partId: string; name: string; value: unknown; rest: Record<string, unknown> } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${cmd} takes part-id, ${nameKeys[0]} and value`);
  const o = v as Record<string, unknown>;
  const partId = o['part-id'];
  if (typeof partId !== 'string' || !partId) throw new Error(`${cmd}: missing required parameter \`part-id\``);
  const name = nameKeys.map((k) => o[k]).find((x) => x !== undefined && x !== null && x !== '');
  if (name === undefined) throw new Error(`${cmd}: missing required parameter \`${nameKeys[0]}\``);
  if (typeof name !== 'string' && typeof name !== 'number') throw new Error(`${cmd}: \`${nameKeys[0]}\` must be a string`);
  if (o.value === undefined) {
    throw new Error(`${cmd}: missing required parameter \`value\`${o.expected !== undefined ? ' (wokwi-cli reads `value`, not `expected`)' : ''}`);
  }
  return { partId, name: String(name), value: o.value, rest: o };
}

function bit(cmd: string, v: unknown): 0 | 1 {
  if (v === 0 || v === 1 || v === true || v === false) return v === 1 || v === true ? 1 : 0;
  throw new Error(`${cmd}: value must be 0 or 1, got ${JSON.stringify(v)}`);
}

function parseStep(cmd: string, v: unknown): Step {
  switch (cmd) {
    case 'delay':
      if (typeof v === 'number') throw new Error(`invalid delay value ${v}: the value must include units (e.g. ${v}ms)`);
      if (typeof v !== 'string') throw new Error('delay value must be a string');
      return { kind: 'delay', nanos: parseWokwiTime(v), text: v };
    case 'wait-serial':
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error('wait-serial takes the text to wait for');
      if (String(v) === '') throw new Error('wait-serial text is empty');
      return { kind: 'wait-serial', text: String(v) };
    case 'write-serial':
      if (Array.isArray(v)) {
        if (v.length === 0) throw new Error('write-serial: the array must contain at least one number');
        if (v.some((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)) throw new Error('write-serial: the array must contain only byte values (0-255)');
        return { kind: 'write-serial', bytes: Uint8Array.from(v as number[]) };
      }
      if (typeof v !== 'string') throw new Error('write-serial: value must be a string or an array of numbers');
      return { kind: 'write-serial', bytes: new TextEncoder().encode(v) };
    case 'expect-pin': {
      const p = pinParams(cmd, v, ['name', 'pin']);
      return { kind: 'expect-pin', partId: p.partId, pin: p.name, value: bit(cmd, p.value) };
    }
    case 'wait-pin': {
      const p = pinParams(cmd, v, ['name', 'pin']);
      const t = p.rest.timeout;
      let timeoutNanos: number | null = null;
      if (t !== undefined) {
        if (typeof t !== 'string') throw new Error(`wait-pin: timeout must be a time with units (e.g. 500ms)`);
        timeoutNanos = parseWokwiTime(t);
      }
      return { kind: 'wait-pin', partId: p.partId, pin: p.name, value: bit(cmd, p.value), timeoutNanos };
    }
    case 'set-control': {
      const p = pinParams(cmd, v, ['name', 'control']);
      const value = typeof p.value === 'boolean' ? Number(p.value) : p.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`set-control: value must be a number, got ${JSON.stringify(p.value)}`);
      return { kind: 'set-control', partId: p.partId, control: p.name, value };
    }
    default:
      throw new Error(`unknown step ${cmd}`);
  }
}

export function parseScenarioText(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (n: YamlNode | null | undefined): number | null => (n?.range ? lines.linePos(n.range[0]).line : null);
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    throw new WokwiFileError(file, err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line, `not valid YAML (${err.message.split('\n')[0]})`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new WokwiFileError(file, 1, 'a scenario is a YAML mapping with name, version and steps');
  const data = doc.toJS() as Record<string, unknown>;
  const keyLine = (key: string): number | null => {
    const pair = root.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    return lineOf(pair?.key as YamlNode | undefined) ?? null;
  };
  if (data.name === undefined || data.name === null) throw new WokwiFileError(file, 1, 'scenario name is missing');
  if (typeof data.name !== 'string') throw new WokwiFileError(file, keyLine('name'), 'scenario name must be a string');
  if (data.version !== 1) throw new WokwiFileError(file, keyLine('version') ?? 1, `unsupported scenario version: ${JSON.stringify(data.version)} (only 1)`);
  if (data.author !== undefined && data.author !== null && typeof data.author !== 'string') throw new WokwiFileError(file, keyLine('author'), 'author must be a string');
  for (const k of Object.keys(data)) {
    if (!['name', 'version', 'author', 'steps'].includes(k)) throw new WokwiFileError(file, keyLine(k), `unknown scenario key ${k} (known: name, version, author, steps)`);
  }
  const stepsNode = root.get('steps', true) as YamlNode | undefined;
  if (!Array.isArray(data.steps) || !isSeq(stepsNode)) throw new WokwiFileError(file, keyLine('steps') ?? 1, 'scenario steps must be an array');
  const steps: LabelledStep[] = [];
  data.steps.forEach((raw: unknown, i) => {
    const node = stepsNode.items[i] as YamlNode | undefined;
    const ln = lineOf(node);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new WokwiFileError(file, ln, `step ${i + 1} must be a mapping (e.g. - delay: 100ms)`);
    const o = raw as Record<string, unknown>;
    let label: string | null = null;
    const cmds: string[] = [];
    for (const k of Object.keys(o)) {
      if (k === 'name') {
        if (typeof o.name !== 'string') throw new WokwiFileError(file, ln, `step ${i + 1}: name must be a string`);
        label = o.name;
      } else if (WOKWI_ONLY.includes(k)) throw new WokwiFileError(file, ln, `step ${i + 1}: ${k} is a Wokwi step picow-sim does not run (no displays or custom chips)`);
      else if (!COMMANDS.includes(k)) throw new WokwiFileError(file, ln, `invalid scenario step key: ${k} (steps: ${COMMANDS.join(', ')})`);
      else cmds.push(k);
    }
    if (cmds.length !== 1) throw new WokwiFileError(file, ln, `step ${i + 1} needs exactly one command (${cmds.length ? cmds.join(', ') : 'none'} given)`);
    try {
      steps.push({ ...parseStep(cmds[0]!, o[cmds[0]!]), label, line: ln });
    } catch (e) {
      throw new WokwiFileError(file, ln, (e as Error).message);
    }
  });
  return { file, name: data.name, author: (data.author as string | undefined) ?? null, steps };
}

export function readScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new WokwiFileError(file, null, `scenario file not found or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseScenarioText(text, file);
}
