/**
 * A VCD reader for tests, written from IEEE 1364-2005 §18 independently of the writer: declared
 * signals by `scope.name` (outermost scope dropped) and their value changes.
 */
export function parseVcd(text: string): { timescale: string; signals: Map<string, { time: number; value: string }[]> } {
  const tokens = text.split(/\s+/).filter(Boolean);
  const names = new Map<string, string>();
  const signals = new Map<string, { time: number; value: string }[]>();
  const scopes: string[] = [];
  let timescale = '';
  let time = 0;
  let i = 0;
  const until = (): string[] => {
    const out: string[] = [];
    while (i < tokens.length && tokens[i] !== '$end') out.push(tokens[i++]!);
    i++;
    return out;
  };
  while (i < tokens.length) {
    const t = tokens[i++]!;
    if (t === '$timescale') timescale = until().join('');
    else if (t === '$scope') scopes.push(until()[1]!);
    else if (t === '$upscope') (until(), scopes.pop());
    else if (t === '$var') {
      const [, , id, name] = until();
      const full = [...scopes.slice(1), name].join('.');
      names.set(id!, full);
      signals.set(full, []);
    } else if (t === '$dumpvars' || t === '$end') continue;
    else if (t.startsWith('$')) until();
    else if (t.startsWith('#')) time = Number(t.slice(1));
    else if (/^[01xzXZ]/.test(t)) {
      const name = names.get(t.slice(1));
      if (!name) throw new Error(`VCD: value for undeclared id ${t.slice(1)}`);
      signals.get(name)!.push({ time, value: t[0]!.toLowerCase() });
    } else throw new Error(`VCD: unexpected token ${t}`);
  }
  return { timescale, signals };
}
