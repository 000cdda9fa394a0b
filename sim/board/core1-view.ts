/**
 * Core 1's bus view of the chip (used by board/multicore.ts): rp2040js models one core per
 * `RP2040`, and everything a core executes reaches the chip through `core.rp2040`.
 */
import type { RP2040 } from 'rp2040js';

/**
 * Core 1's bus view: an object of the chip's own class whose every other property reads and
 * writes the chip's (`core`, `ppb`, `sio` and `onBreak` are its own, set by MultiCore).
 *
 * It is not `Object.create(mcu)`: an object that becomes a prototype gets a map (hidden class) of
 * its own in V8, so every new board's chip would have a new map, and everything V8 optimized for
 * the previous boards of the process (rp2040js's bus, the CPU engines, translated blocks) would
 * deoptimize on it ("wrong map"), board after board. The forwarding accessors live on one
 * prototype per chip class, shared by all boards, so views and chips keep one shape each.
 */
const VIEW_OF = Symbol('the chip a core 1 view stands for');
const VIEW_OWN = new Set(['core', 'ppb', 'sio', 'onBreak', 'constructor']);
const viewPrototypes = new WeakMap<object, object>();

export function core1View(mcu: RP2040): RP2040 {
  const classProto = Object.getPrototypeOf(mcu) as object;
  let proto = viewPrototypes.get(classProto);
  if (proto === undefined) viewPrototypes.set(classProto, (proto = Object.create(classProto) as object));
  // Forward the chip's own fields and its class's methods (the chip may replace them later with
  // own wrappers: the CPU engines' write hooks); the class's accessors run on the view itself.
  const names = new Set(Object.getOwnPropertyNames(mcu));
  for (let o: object | null = classProto; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (typeof Object.getOwnPropertyDescriptor(o, name)?.value === 'function') names.add(name);
    }
  }
  for (const name of names) {
    if (VIEW_OWN.has(name) || Object.prototype.hasOwnProperty.call(proto, name)) continue;
    Object.defineProperty(proto, name, {
      get(this: Record<symbol, Record<string, unknown>>) {
        return this[VIEW_OF][name];
      },
      set(this: Record<symbol, Record<string, unknown>>, value: unknown) {
        this[VIEW_OF][name] = value;
      },
    });
  }
  const view = Object.create(proto) as Record<string | symbol, unknown>;
  view[VIEW_OF] = mcu;
  return view as unknown as RP2040;
}

/** The chip a bus view belongs to: the RP2040 itself, or the one core 1's view stands for. */
export function chipOf(view: RP2040): RP2040 {
  return ((view as unknown as Record<symbol, RP2040 | undefined>)[VIEW_OF] ?? view) as RP2040;
}
