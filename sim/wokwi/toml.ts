/**
 * A reader for the part of TOML (v1.0.0) that `wokwi.toml` files use: comments, `[table]`,
 * `[[array.of.tables]]`, `key = value` with bare, quoted and dotted keys, and values that are
 * strings (basic with escapes, literal), integers (decimal, 0x/0o/0b, `_` separators), floats,
 * booleans, one-line arrays and one-line inline tables. Everything else (multi-line strings,
 * dates) is refused with the line it is on. Every key remembers the line it was defined on, so
 * errors about a value can name it.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'TomlSyntaxError';
  }
}

export interface TomlDocument {
  root: TomlTable;
  /** Line (1-based) where a key was defined: `wokwi.version`, `net.forward[0].from`, `wokwi` (the header). */
  lines: Map<string, number>;
}

const BARE_KEY = /^[A-Za-z0-9_-]+/;

class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly line: number,
  ) {}
  fail(reason: string): never {
    throw new TomlSyntaxError(this.line, reason);
  }
  ws(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  atEnd(): boolean {
    this.ws();
    return this.pos >= this.text.length || this.text[this.pos] === '#';
  }
  expect(ch: string): void {
    this.ws();
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}'${this.pos < this.text.length ? ` at '${this.text.slice(this.pos, this.pos + 12)}'` : ' at the end of the line'}`);
    this.pos++;
  }
}

function parseString(c: Cursor): string {
  const q = c.peek();
  if (c.text.startsWith(q.repeat(3), c.pos)) c.fail('multi-line strings are not supported in wokwi.toml');
  c.pos++;
  let out = '';
  for (;;) {
    if (c.pos >= c.text.length) c.fail('unterminated string');
    const ch = c.text[c.pos++]!;
    if (ch === q) return out;
    if (q === '"' && ch === '\\') {
      const e = c.text[c.pos++] ?? '';
      const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
      if (e in simple) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const hex = c.text.slice(c.pos, c.pos + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) c.fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        c.pos += n;
      } else c.fail(`bad escape '\\${e}' in a string`);
    } else out += ch;
  }
}

function parseKey(c: Cursor): string[] {
  const parts: string[] = [];
  for (;;) {
    c.ws();
    const ch = c.peek();
    if (ch === '"' || ch === "'") parts.push(parseString(c));
    else {
      const m = BARE_KEY.exec(c.text.slice(c.pos));
      if (!m) c.fail(`expected a key${c.pos < c.text.length ? ` at '${c.text.slice(c.pos, c.pos + 12)}'` : ''}`);
      parts.push(m[0]);
      c.pos += m[0].length;
    }
    c.ws();
    if (c.peek() !== '.') return parts;
    c.pos++;
  }
}

function parseValue(c: Cursor): TomlValue {
  c.ws();
  const ch = c.peek();
  if (ch === '"' || ch === "'") return parseString(c);
  if (ch === '[') {
    c.pos++;
    const arr: TomlValue[] = [];
    for (;;) {
      c.ws();
      if (c.peek() === ']') {
        c.pos++;
        return arr;
      }
      if (c.pos >= c.text.length || c.peek() === '#') c.fail('arrays must be on one line in wokwi.toml');
      arr.push(parseValue(c));
      c.ws();
      if (c.peek() === ',') c.pos++;
      else if (c.peek() !== ']') c.fail("expected ',' or ']' in an array");
    }
  }
  if (ch === '{') {
    c.pos++;
    const t: TomlTable = {};
    c.ws();
    if (c.peek() === '}') {
      c.pos++;
      return t;
    }
    for (;;) {
      const key = parseKey(c);
      c.expect('=');
      setPath(c, t, key, parseValue(c));
      c.ws();
      if (c.peek() === ',') c.pos++;
      else if (c.peek() === '}') {
        c.pos++;
        return t;
      } else c.fail("expected ',' or '}' in an inline table");
    }
  }
  const m = /^[^\s,\]}#]+/.exec(c.text.slice(c.pos));
  if (!m) c.fail('expected a value');
  const word = m[0];
  c.pos += word.length;
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (/^[+-]?(inf|nan)$/.test(word)) return word.endsWith('nan') ? NaN : word.startsWith('-') ? -Infinity : Infinity;
  const plain = word.replace(/_/g, '');
  if (/^0x[0-9a-fA-F]+$/.test(plain)) return parseInt(plain.slice(2), 16);
  if (/^0o[0-7]+$/.test(plain)) return parseInt(plain.slice(2), 8);
  if (/^0b[01]+$/.test(plain)) return parseInt(plain.slice(2), 2);
  if (/^[+-]?(0|[1-9]\d*)$/.test(plain)) return Number(plain);
  if (/^[+-]?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(plain)) return Number(plain);
  if (/^\d{4}-\d\d-\d\d/.test(word)) c.fail('dates and times are not supported in wokwi.toml');
  c.fail(`'${word}' is not a TOML value (strings need quotes)`);
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(c: Cursor, table: TomlTable, key: string[], value: TomlValue): void {
  let t = table;
  for (const k of key.slice(0, -1)) {
    const next = t[k];
    if (next === undefined) t = t[k] = {};
    else if (isTable(next)) t = next;
    else c.fail(`'${key.join('.')}': '${k}' is already a value`);
  }
  const last = key[key.length - 1]!;
  if (last in t) c.fail(`'${key.join('.')}' is defined twice`);
  t[last] = value;
}

export function parseToml(source: string): TomlDocument {
  const root: TomlTable = {};
  const lines = new Map<string, number>();
  let current = root;
  let prefix = '';
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n').split('\n');
  text.forEach((raw, i) => {
    const c = new Cursor(raw, i + 1);
    if (c.atEnd()) return;
    if (c.peek() === '[') {
      const array = raw.slice(c.pos).startsWith('[[');
      c.pos += array ? 2 : 1;
      const key = parseKey(c);
      c.expect(']');
      if (array) c.expect(']');
      if (!c.atEnd()) c.fail('unexpected text after a table header');
      let t = root;
      const path: string[] = [];
      key.forEach((k, j) => {
        const lastPart = j === key.length - 1;
        let v: TomlValue | undefined = t[k];
        path.push(k);
        if (lastPart && array) {
          if (v === undefined) v = t[k] = [];
          if (!Array.isArray(v)) return c.fail(`'${key.join('.')}' is already a table or value, not an array of tables`);
          const list: TomlValue[] = v;
          const fresh: TomlTable = {};
          list.push(fresh);
          t = fresh;
          path[path.length - 1] = `${k}[${list.length - 1}]`;
          return;
        }
        if (v === undefined) v = t[k] = {};
        if (Array.isArray(v)) {
          const lastEl: TomlValue | undefined = v[v.length - 1];
          if (!isTable(lastEl)) return c.fail(`'${key.join('.')}': '${k}' is not a table`);
          path[path.length - 1] = `${k}[${v.length - 1}]`;
          t = lastEl;
        } else if (isTable(v)) t = v;
        else c.fail(`'${key.join('.')}': '${k}' is already a value`);
      });
      prefix = path.join('.');
      if (!lines.has(prefix)) lines.set(prefix, i + 1);
      current = t;
      return;
    }
    const key = parseKey(c);
    c.expect('=');
    const value = parseValue(c);
    if (!c.atEnd()) c.fail('unexpected text after a value');
    setPath(c, current, key, value);
    lines.set((prefix ? prefix + '.' : '') + key.join('.'), i + 1);
  });
  return { root, lines };
}
