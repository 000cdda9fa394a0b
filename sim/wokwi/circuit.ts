/**
 * The diagram as a circuit wired to the board: part models (parts.ts) on a netlist (netlist.ts)
 * whose board nodes are the RP2040's GPIOs. As a board device it follows every wired GPIO — its
 * output, output enable and pulls — works out the levels of all nets, and feeds each GPIO input the
 * level of its net. ADC inputs GP26–GP28 get the voltage of an analog part on their net; DS18B20 and
 * DHT22 parts drive their data GPIO themselves (1-Wire bus, DHT22 protocol).
 */
import type { GPIOPin } from 'rp2040js';
import type { BoardContext, BoardDevice } from '../board/device.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { constant, crc8, Ds18b20, gpioLine, OneWireBus, type AdcSensors } from '../sensors/index.ts';
import { ADC_FIRST_GPIO } from '../sensors/temperature-adc.ts';
import type { SimClock } from '../time.ts';
import type { Dht22 } from './dht22.ts';
import { Netlist, type Level } from './netlist.ts';
import { BOARD_GPIOS, BOARD_PINS, BOARD_TYPES, createPart, SUPPORTED_TYPES, type DsModel, type Part } from './parts.ts';
import { WokwiFileError, type Diagram } from './project.ts';

export type SerialUart = 'uart0' | 'uart1';

/** UART TX pins (RP2040 datasheet §1.4.3 function table): GP0/12/16/28 UART0, GP4/8/20 UART1. */
const UART1_TX = [4, 8, 20];

export interface CircuitOptions {
  diagram: Diagram;
  clock: SimClock;
  logger: Logger;
  /** The board's ADC inputs (GP26–GP28 voltages). */
  adc: AdcSensors | null;
  /** Follow every header GPIO, wired or not (for the VCD). */
  allGpios?: boolean;
}

export interface PinChange {
  /** `part:pin`. */
  node: string;
  level: Level | null;
  nanos: number;
}

export class Circuit implements BoardDevice {
  readonly netlist = new Netlist();
  readonly parts = new Map<string, Part>();
  /** Diagram parts picow-sim does not model (type by id). */
  readonly unmodelled = new Map<string, string>();
  readonly boardId: string;
  /** The UART the diagram's `$serialMonitor` listens to. */
  readonly serialUart: SerialUart;
  /** Called for every node whose level changed (VCD, wait-pin). */
  onChange: ((c: PinChange) => void) | null = null;
  private readonly clock: SimClock;
  private readonly logger: Logger;
  private readonly adc: AdcSensors | null;
  private gpio: GPIOPin[] = [];
  /** GPIOs a data line owns (its driver sets their input); others get their net's level. */
  private readonly owned = new Set<number>();
  private readonly followed = new Set<number>();
  private readonly buses = new Map<number, OneWireBus>();
  private readonly dhts: { gpio: number; dht: Dht22 }[] = [];
  private readonly analog: { channel: number; part: Part }[] = [];
  private levels = new Map<string, Level | null>();
  /** Input levels last given to each GPIO of the current chip. */
  private inputs = new Map<number, boolean>();
  private states = new Map<string, string>();
  private unsubscribe: (() => void)[] = [];
  private evaluating = false;
  private boardLed = false;
  private again = false;

  constructor(o: CircuitOptions) {
    this.clock = o.clock;
    this.logger = o.logger;
    this.adc = o.adc;
    const { diagram } = o;
    const board = diagram.parts.find((p) => BOARD_TYPES.includes(p.type));
    if (!board) {
      const types = [...new Set(diagram.parts.map((p) => p.type))].join(', ') || 'none';
      throw new WokwiFileError(diagram.file, null, `no board-pi-pico-w in parts (found: ${types}); picow-sim simulates the Raspberry Pi Pico W`);
    }
    this.boardId = board.id;
    for (const p of diagram.parts) {
      if (p === board) continue;
      if (BOARD_TYPES.includes(p.type)) throw new WokwiFileError(diagram.file, p.line, `a second board (${p.id}); picow-sim runs one board per project`);
      let part: Part | null;
      try {
        part = createPart(p.type, p.id, p.attrs, { clock: this.clock, changed: () => this.evaluate() });
      } catch (e) {
        if (e instanceof UsageError) throw new WokwiFileError(diagram.file, p.line, e.message);
        throw e;
      }
      if (part) this.parts.set(p.id, part);
      else this.unmodelled.set(p.id, p.type);
    }
    // Board nodes: GPIOs (drive and pulls from the chip), rails.
    for (const g of BOARD_GPIOS) {
      if (o.allGpios) this.followed.add(g);
    }
    const gpioNode = (g: number): string => `${board.id}:GP${g}`;
    for (const pin of BOARD_PINS) {
      const name = `${board.id}:${pin}`;
      const m = /^GP(\d+)$/.exec(pin);
      if (m) {
        const g = Number(m[1]);
        this.netlist.node(name, {
          drive: () => {
            const p = this.gpio[g];
            if (!p) return null;
            if (p.outputEnable) return p.outputValue ? 1 : 0;
            return this.owned.has(g) ? (p.inputValue ? 1 : 0) : null;
          },
          pull: () => {
            const p = this.gpio[g];
            if (!p || p.outputEnable || (p.pullupEnabled && p.pulldownEnabled)) return null;
            return p.pullupEnabled ? 1 : p.pulldownEnabled ? 0 : null;
          },
        });
      } else if (/^(GND|AGND)/.test(pin)) this.netlist.node(name, { drive: () => 0, pull: () => null });
      else if (['3V3', 'VSYS', 'VBUS', '3V3_EN', 'ADC_VREF'].includes(pin)) this.netlist.node(name, { drive: () => 1, pull: () => null });
      else this.netlist.node(name);
    }
    // The on-board LED (CYW43439 GPIO 0 on the Pico W): readable by expect-pin/wait-pin as `LED`.
    this.netlist.node(`${board.id}:LED`, { drive: () => (this.boardLed ? 1 : 0), pull: () => null });
    for (const part of this.parts.values()) part.wire(this.netlist);
    let serialUart: SerialUart = 'uart0';
    for (const c of diagram.connections) {
      for (const r of [c.a, c.b]) {
        const other = r === c.a ? c.b : c.a;
        if (r.part === '$serialMonitor') {
          if (!['TX', 'RX'].includes(r.pin)) throw new WokwiFileError(diagram.file, c.line, `$serialMonitor has pins TX and RX, not ${r.pin}`);
          const g = other.part === board.id ? /^GP(\d+)$/.exec(other.pin) : null;
          if (r.pin === 'RX' && g && UART1_TX.includes(Number(g[1]))) serialUart = 'uart1';
          continue;
        }
        if (r.part.startsWith('$')) throw new WokwiFileError(diagram.file, c.line, `unknown special part ${r.part}`);
        if (r.part === board.id) {
          if (!BOARD_PINS.includes(r.pin)) {
            throw new WokwiFileError(diagram.file, c.line, `board-pi-pico-w has no pin '${r.pin}' (pins: GP0–GP22, GP26–GP28, 3V3, VSYS, VBUS, GND.1–GND.8, AGND, ADC_VREF, RUN)`);
          }
          continue;
        }
        const part = this.parts.get(r.part);
        if (part && !part.pins.includes(r.pin)) {
          throw new WokwiFileError(diagram.file, c.line, `${part.type} '${part.id}' has no pin '${r.pin}' (pins: ${part.pins.join(', ')})`);
        }
      }
      const ends = [c.a, c.b];
      if (ends.some((r) => r.part.startsWith('$') || this.unmodelled.has(r.part))) continue;
      this.netlist.wire(`${c.a.part}:${c.a.pin}`, `${c.b.part}:${c.b.pin}`);
    }
    this.serialUart = serialUart;
    // Which GPIOs each part reaches.
    const gpiosOf = (nodeName: string, throughResistors: boolean): number[] => {
      const reach = throughResistors ? this.netlist.reachableTo(nodeName) : this.netlist.wiredTo(nodeName);
      const out: number[] = [];
      for (const r of reach) {
        const m = new RegExp(`^${board.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:GP(\\d+)$`).exec(r);
        if (m) out.push(Number(m[1]));
      }
      return out;
    };
    for (const part of this.parts.values()) {
      for (const pin of part.pins) for (const g of gpiosOf(`${part.id}:${pin}`, true)) this.followed.add(g);
      if (part.analog) {
        for (const g of gpiosOf(`${part.id}:${part.analog.pin}`, false)) {
          if (g >= ADC_FIRST_GPIO && g <= 28) this.analog.push({ channel: g - ADC_FIRST_GPIO, part });
          else this.logger.warn('wokwi', `${part.id}.${part.analog.pin} is wired to GP${g}, which has no ADC (GP26–GP28 do)`);
        }
      }
      if (part.dataPin) {
        const gs = gpiosOf(`${part.id}:${part.dataPin}`, false);
        if (gs.length === 0) {
          this.logger.warn('wokwi', `${part.type} '${part.id}': ${part.dataPin} is not wired to a GPIO`);
          continue;
        }
        const g = gs[0]!;
        this.owned.add(g);
        const dht = (part as Part & { dht?: Dht22 }).dht;
        const ds = (part as Part & { ds?: DsModel }).ds;
        if (dht) this.dhts.push({ gpio: g, dht });
        if (ds) {
          let bus = this.buses.get(g);
          if (!bus) this.buses.set(g, (bus = new OneWireBus({ pin: g, logger: this.logger })));
          const bytes = Buffer.from(ds.deviceId, 'hex');
          const rom = Uint8Array.of(ds.familyCode, ...bytes, 0);
          rom[7] = crc8(rom.subarray(0, 7));
          const dev = new Ds18b20({ rom, temperature: constant(ds.temperature), logger: this.logger, name: part.id });
          ds.setTemperature = (c) => {
            ds.temperature = c;
            dev.setTemperature(constant(c));
          };
          bus.add(dev);
        }
      }
    }
    for (const [id, type] of this.unmodelled) {
      this.logger.warn('wokwi', `part ${id} (${type}) is not simulated; its pins are left unconnected (simulated parts: ${SUPPORTED_TYPES.join(', ')})`);
    }
  }

  /** GPIO numbers whose level the circuit follows. */
  get gpios(): number[] {
    return [...this.followed].sort((a, b) => a - b);
  }

  /** The part a scenario step names (null: not in the diagram). */
  part(id: string): Part | null {
    return this.parts.get(id) ?? null;
  }

  /** A part pin's level now (null: floating or unknown). */
  level(partId: string, pin: string): Level | null {
    return this.levels.get(`${partId}:${pin}`) ?? null;
  }

  hasNode(partId: string, pin: string): boolean {
    return this.netlist.has(`${partId}:${pin}`);
  }

  attach(ctx: BoardContext): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.gpio = ctx.mcu.gpio;
    this.inputs.clear();
    for (const g of this.followed) {
      const pin = this.gpio[g];
      if (pin) this.unsubscribe.push(pin.addListener(() => this.evaluate()));
    }
    for (const bus of this.buses.values()) bus.attach(ctx);
    for (const { gpio, dht } of this.dhts) {
      const pin = this.gpio[gpio]!;
      const line = gpioLine(pin);
      dht.connect(
        {
          ...line,
          setLevel: (high) => {
            line.setLevel(high);
            this.evaluate();
          },
        },
        ctx.clock,
      );
    }
    this.evaluate();
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const bus of this.buses.values()) bus.dispose();
    for (const { dht } of this.dhts) dht.disconnect();
  }

  /** The board's LED changed (the board's 'led' event). */
  setBoardLed(on: boolean): void {
    if (on === this.boardLed) return;
    this.boardLed = on;
    this.evaluate();
  }

  /** Work out every net again and pass the results on. */
  evaluate(): void {
    if (this.evaluating) {
      this.again = true;
      return;
    }
    this.evaluating = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again);
    } finally {
      this.evaluating = false;
    }
  }

  private step(): void {
    const { levels, shorts } = this.netlist.resolve();
    for (const s of shorts) this.logger.warnOnce('wokwi', `short ${s.join(',')}`, `short circuit: ${s.join(', ')} are driven high and low at once`);
    for (const g of this.followed) {
      if (this.owned.has(g)) continue;
      const pin = this.gpio[g];
      if (!pin) continue;
      const l = levels.get(`${this.boardId}:GP${g}`) ?? null;
      const v = l === null ? false : l === 1;
      if (this.inputs.get(g) !== v) {
        this.inputs.set(g, v);
        pin.setInputValue(v);
      }
    }
    for (const { channel, part } of this.analog) this.adc?.setChannel(channel, constant(part.analog!.volts()));
    const nanos = this.clock.nanos;
    for (const [n, l] of levels) {
      if (this.levels.get(n) === l && this.levels.has(n)) continue;
      this.levels.set(n, l);
      if (!n.startsWith(`${this.boardId}:`) || /:(GP\d+|LED)$/.test(n)) this.onChange?.({ node: n, level: l, nanos });
    }
    for (const part of this.parts.values()) {
      if (!part.state) continue;
      const s = part.state((pin) => this.levels.get(`${part.id}:${pin}`) ?? null);
      if (s !== null && this.states.get(part.id) !== s) {
        if (this.states.has(part.id)) this.logger.info('wokwi', `${(nanos / 1e9).toFixed(6)}s ${part.id} ${s}`);
        this.states.set(part.id, s);
      }
    }
  }
}
