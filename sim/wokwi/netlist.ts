/**
 * The circuit's nets, at the digital level Wokwi simulates. Nodes are part pins (`led1:A`,
 * `rp:GP15`). Wires and a part's always-connected pins join nodes into fixed nets; switch contacts
 * join nets while closed; resistors join them weakly. A net's level comes from, in order:
 *   1. strong drivers on it (a GPIO driving its output, a power rail, a sensor pulling its line);
 *   2. across a resistor, the strong level of the net on the other side (an external pull-up or
 *      pull-down, a series resistor in front of an LED);
 *   3. the pulls the firmware enabled on a GPIO input in the net;
 * and is otherwise floating (null). Two strong drivers that disagree are a short: the low one wins
 * (as a GPIO driven into ground reads low) and the caller is told.
 */

export type Level = 0 | 1;

export interface Node {
  /** Strong drive right now, or null. */
  drive(): Level | null;
  /** Weak pull (a GPIO input's pull-up/down), or null. */
  pull(): Level | null;
}

export interface Switch {
  a: string;
  b: string;
  closed(): boolean;
}

class UnionFind {
  private parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x);
    if (p === undefined) {
      this.parent.set(x, x);
      return x;
    }
    while (p !== x) {
      const gp = this.parent.get(p)!;
      this.parent.set(x, gp);
      x = p;
      p = this.parent.get(x)!;
    }
    return x;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

export interface Resolution {
  /** Level of every node (null: floating). */
  levels: Map<string, Level | null>;
  /** Nets where strong drivers disagree (their node names). */
  shorts: string[][];
}

export class Netlist {
  private readonly fixed = new UnionFind();
  private readonly nodes = new Map<string, Node | null>();
  private readonly switches: Switch[] = [];
  private readonly resistors: [string, string][] = [];
  private frozen: { netOf: Map<string, string>; members: Map<string, string[]> } | null = null;

  /** Declare a node (with its drive/pull behaviour, or none: a passive pin). */
  node(name: string, behaviour: Node | null = null): void {
    const old = this.nodes.get(name);
    if (!old || behaviour) this.nodes.set(name, behaviour);
    this.fixed.find(name);
    this.frozen = null;
  }

  has(name: string): boolean {
    return this.nodes.has(name);
  }

  /** A wire, or pins that are always connected inside a part. */
  wire(a: string, b: string): void {
    this.node(a);
    this.node(b);
    this.fixed.union(a, b);
    this.frozen = null;
  }

  switch(s: Switch): void {
    this.node(s.a);
    this.node(s.b);
    this.switches.push(s);
  }

  resistor(a: string, b: string): void {
    this.node(a);
    this.node(b);
    this.resistors.push([a, b]);
  }

  private freeze(): { netOf: Map<string, string>; members: Map<string, string[]> } {
    if (this.frozen) return this.frozen;
    const netOf = new Map<string, string>();
    const members = new Map<string, string[]>();
    for (const n of this.nodes.keys()) {
      const r = this.fixed.find(n);
      netOf.set(n, r);
      const m = members.get(r);
      if (m) m.push(n);
      else members.set(r, [n]);
    }
    return (this.frozen = { netOf, members });
  }

  /** Nodes always connected to `name` by wires (switches and resistors not crossed). */
  wiredTo(name: string): string[] {
    const { netOf, members } = this.freeze();
    const r = netOf.get(name);
    return r ? [...members.get(r)!] : [];
  }

  /** Nodes connected to `name` by wires or through resistors (one resistor deep). */
  reachableTo(name: string): string[] {
    const { netOf } = this.freeze();
    const own = netOf.get(name);
    if (!own) return [];
    const out = new Set(this.wiredTo(name));
    for (const [a, b] of this.resistors) {
      if (netOf.get(a) === own) for (const n of this.wiredTo(b)) out.add(n);
      if (netOf.get(b) === own) for (const n of this.wiredTo(a)) out.add(n);
    }
    return [...out];
  }

  resolve(): Resolution {
    const { netOf, members } = this.freeze();
    const dyn = new UnionFind();
    for (const s of this.switches) if (s.closed()) dyn.union(netOf.get(s.a)!, netOf.get(s.b)!);
    const groups = new Map<string, string[]>();
    for (const [root, m] of members) {
      const g = dyn.find(root);
      const list = groups.get(g);
      if (list) list.push(...m);
      else groups.set(g, [...m]);
    }
    const groupOf = (n: string): string => dyn.find(netOf.get(n)!);
    const strong = new Map<string, Level | null>();
    const shorts: string[][] = [];
    for (const [g, m] of groups) {
      let lo = false;
      let hi = false;
      for (const n of m) {
        const d = this.nodes.get(n)?.drive() ?? null;
        if (d === 0) lo = true;
        else if (d === 1) hi = true;
      }
      if (lo && hi) shorts.push(m);
      strong.set(g, lo ? 0 : hi ? 1 : null);
    }
    const level = new Map<string, Level | null>(strong);
    for (const [g, m] of groups) {
      if (strong.get(g) !== null) continue;
      let weak: Level | null = null;
      for (const [a, b] of this.resistors) {
        const ga = groupOf(a);
        const gb = groupOf(b);
        if (ga === gb) continue;
        const other = ga === g ? gb : gb === g ? ga : null;
        if (other === null) continue;
        const s = strong.get(other);
        if (s !== null && s !== undefined) weak = weak === 0 ? 0 : s;
      }
      if (weak === null) {
        for (const n of m) {
          const p = this.nodes.get(n)?.pull() ?? null;
          if (p !== null) weak = weak === 0 ? 0 : p;
        }
      }
      level.set(g, weak);
    }
    const levels = new Map<string, Level | null>();
    for (const n of this.nodes.keys()) levels.set(n, level.get(groupOf(n)) ?? null);
    return { levels, shorts };
  }
}
