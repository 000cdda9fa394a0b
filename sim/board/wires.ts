import type { GPIOPin } from 'rp2040js';
import { PicowSimError } from '../errors.ts';
import type { SimTimer } from '../time.ts';
import type { BoardContext, BoardDevice } from './device.ts';
import type { Pl011Uart, UartTap } from './uart.ts';

/** A jumper wire between two GPIOs on the header. */
export interface Wire {
  a: number;
  b: number;
}

/** RP2040 datasheet §2.19.2: function select 2 is UART; §1.4.3: pin p is UART ((p + 4) >> 3) & 1, role p & 3. */
const FUNCSEL_UART = 2;
const UART_ROLE_TX = 0;
const UART_ROLE_RX = 1;
/** GPIOs the Pico W keeps on the board (CYW43439 WL_ON/data/CS/clock): not on the header. */
const INTERNAL_PINS = new Set([23, 24, 25, 29]);
const MAX_GPIO = 29;

export class WireSpecError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

function parsePin(text: string, what: string): number {
  const m = /^(?:GP|GPIO)?(\d{1,2})$/i.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || n > MAX_GPIO) throw new WireSpecError(`${what}'${text}' is not a GPIO (expected GP0…GP28, as in GP0:GP1)`);
  if (INTERNAL_PINS.has(n)) throw new WireSpecError(`${what}GP${n} is wired to the CYW43439 on a Pico W, not on the header`);
  return n;
}

/**
 * `GP0:GP1` (or `0:1`, `GPIO0:GPIO1`): a wire between two header pins. Errors name `option`
 * (`--wire`) and the spec; with `option` empty (a scenario, whose error says where) only the reason.
 */
export function parseWireSpec(spec: string, option = '--wire'): Wire {
  const what = option ? `${option} ${JSON.stringify(spec)}: ` : '';
  const parts = spec.split(':');
  if (parts.length !== 2) throw new WireSpecError(`${what}expected two pins, PIN:PIN (as in GP0:GP1)`);
  const a = parsePin(parts[0]!, what);
  const b = parsePin(parts[1]!, what);
  if (a === b) throw new WireSpecError(`${what}both ends on GP${a}`);
  return { a, b };
}

/**
 * Jumper wires between GPIOs, as on a board with wires plugged into its header: the two pins are
 * one net. A pin that drives (an output of SIO, PWM or PIO, or a UART's TX pin, high when idle and
 * low during a break) sets the level the other pin reads; with no driver the pads' pulls decide,
 * and with none the net keeps its last level. UART characters cross a wire whole: a character
 * leaving a UART's TX pin arrives in the RX FIFO of the UART whose RX function is on the other
 * end, when its stop bit ends, and a break as a break.
 */
export class JumperWires implements BoardDevice {
  private detach: (() => void)[] = [];
  private readonly levels: boolean[];

  constructor(readonly wires: Wire[]) {
    this.levels = wires.map(() => false);
  }

  attach(ctx: BoardContext): void {
    this.dispose();
    const mcu = ctx.mcu;
    const uarts = mcu.uart as unknown as Pl011Uart[];
    this.wires.forEach((w, i) => {
      const pa = mcu.gpio[w.a]!;
      const pb = mcu.gpio[w.b]!;
      const settle = (): void => this.settle(i, pa, pb, uarts);
      const offA = pa.addListener(settle);
      const offB = pb.addListener(settle);
      this.detach.push(() => void offA(), () => void offB());
      this.settle(i, pa, pb, uarts, true);
    });
    uarts.forEach((uart, index) => {
      let pendingBreak: SimTimer | null = null;
      const tap: UartTap = {
        byte: (v) => this.deliver(mcu.gpio, uarts, index, (rx) => rx.receiveByte(v)),
        brk: (active) => {
          this.wires.forEach((w, i) => this.settle(i, mcu.gpio[w.a]!, mcu.gpio[w.b]!, uarts));
          if (!active) return;
          // A receiver flags a break once the line has stayed low for a whole frame (§4.2.5).
          pendingBreak?.cancel();
          pendingBreak = ctx.clock.schedule(uart.frameNanos || 1e5, () => {
            pendingBreak = null;
            if (uart.breaking) this.deliver(mcu.gpio, uarts, index, (rx) => rx.receiveBreak());
          });
        },
      };
      uart.taps.add(tap);
      this.detach.push(() => {
        uart.taps.delete(tap);
        pendingBreak?.cancel();
      });
    });
  }

  /** The UART pin role of a GPIO whose function is UART: [uart, role], or null. */
  private static uartPin(pin: GPIOPin): [number, number] | null {
    if (pin.functionSelect !== FUNCSEL_UART) return null;
    return [((pin.index + 4) >> 3) & 1, pin.index & 3];
  }

  /** Hand a character from UART `from`'s TX pin to every UART whose RX pin is wired to it. */
  private deliver(gpio: GPIOPin[], uarts: Pl011Uart[], from: number, give: (rx: Pl011Uart) => void): void {
    for (const w of this.wires) {
      for (const [src, dst] of [[w.a, w.b], [w.b, w.a]] as const) {
        const s = JumperWires.uartPin(gpio[src]!);
        const d = JumperWires.uartPin(gpio[dst]!);
        if (s && d && s[0] === from && s[1] === UART_ROLE_TX && d[1] === UART_ROLE_RX) give(uarts[d[0]]!);
      }
    }
  }

  /** What a pin drives onto the net: true/false, or null when it does not drive. */
  private static drive(pin: GPIOPin, uarts: Pl011Uart[]): boolean | null {
    const u = JumperWires.uartPin(pin);
    if (u && u[1] === UART_ROLE_TX) return !uarts[u[0]]!.breaking;
    if (pin.outputEnable) return pin.outputValue;
    return null;
  }

  /** Set both pins' input to the net's level; only on a change (each write is an edge to the IRQ logic). */
  private settle(i: number, pa: GPIOPin, pb: GPIOPin, uarts: Pl011Uart[], force = false): void {
    const driven = JumperWires.drive(pa, uarts) ?? JumperWires.drive(pb, uarts);
    let level = driven;
    if (level === null) {
      if (pa.pullupEnabled || pb.pullupEnabled) level = true;
      else if (pa.pulldownEnabled || pb.pulldownEnabled) level = false;
      else level = this.levels[i]!; // floating: the net keeps its charge
    }
    if (level === this.levels[i] && !force) return;
    this.levels[i] = level;
    pa.setInputValue(level);
    pb.setInputValue(level);
  }

  dispose(): void {
    for (const d of this.detach.splice(0)) d();
  }
}
