/**
 * The virtual CYW43439 as a board device: power (WL_REG_ON on GP23), the gSPI bus found on the
 * PIO (the board's transport, board/pio-spi-bus.ts), host-wake on GP24 while chip-select is high, the register layers, the
 * F2 frame queue, the control plane, events, the data plane behind two Ethernet ports (station
 * and AP), and the on-board LED on chip GPIO 0.
 */
import { createHash } from 'node:crypto';
import type { RP2040 } from 'rp2040js';
import type { BoardContext, BoardDevice } from '../board/device.ts';
import { UsageError } from '../errors.ts';
import { Logger, silentLogger } from '../log.ts';
import type { EthernetPort } from '../net/port.ts';
import type { SimTimer } from '../time.ts';
import { Backplane, SDIO_INT_STATUS } from './backplane.ts';
import { encodeBdc, parseBdc } from './bdc.ts';
import { encodeCdc, parseCdc } from './cdc.ts';
import { LED_GPIO_MASK, NVRAM_DEFAULT_MAC, WlanControl, BCME_BADARG } from './control.ts';
import { encodeEvent, type ChipEvent } from './events.ts';
import { F2_PACKET_AVAILABLE, FUNC_BACKPLANE, FUNC_BUS, FUNC_WLAN, GspiBus, type GspiTraceRecord } from './gspi.ts';
import { PioSpiBus } from '../board/pio-spi-bus.ts';
import { VirtualRadio } from './radio.ts';
import { CHANNEL_CONTROL, CHANNEL_DATA, CHANNEL_EVENT, SdpcmLink } from './sdpcm.ts';

export interface Cyw43Options {
  /** The radio environment (shared between boards); default: a radio with the default APs. */
  radio?: VirtualRadio;
  /**
   * The MAC programmed in the chip's OTP. Without it the chip reports the NVRAM default MAC and
   * the host driver derives a locally administered one from the board's unique ID (what a real
   * Pico W does).
   */
  mac?: Uint8Array;
  /**
   * A board identity (e.g. the board name): the chip then reports a stable, locally administered
   * MAC derived from it as its programmed MAC. Ignored when `mac` is given.
   */
  identity?: string;
  logger?: Logger;
}

/** A stable locally administered unicast MAC derived from a board identity. */
export function deriveMac(identity: string): Uint8Array {
  const h = createHash('sha256').update(`picow-sim wlan mac ${identity}`).digest();
  const m = new Uint8Array(h.subarray(0, 6));
  m[0] = (m[0]! & 0xfc) | 0x02;
  return m;
}

export interface LedChange {
  on: boolean;
  nanos: number;
}

/** Ethernet II frames in and out of one chip interface. */
class WlanPort implements EthernetPort {
  onTransmit: ((frame: Uint8Array) => void) | null = null;
  onLinkChange: ((up: boolean) => void) | null = null;
  private up = false;
  constructor(
    private readonly chip: Cyw43439,
    private readonly iface: number,
  ) {}
  get mac(): Uint8Array {
    return this.chip.macAddress;
  }
  get linkUp(): boolean {
    return this.up;
  }
  deliver(frame: Uint8Array): void {
    if (!this.up) return;
    this.chip.deliverToHost(this.iface, frame);
  }
  setLink(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.onLinkChange?.(up);
  }
}

/** Pico W wiring (Pico W schematic): WL_REG_ON, the gSPI data/host-wake line, chip select, clock. */
export const PIN_WL_REG_ON = 23;
export const PIN_WL_DATA = 24;
export const PIN_WL_CS = 25;
export const PIN_WL_CLK = 29;
const IFACE_NAMES = ['sta', 'ap'];
/** Largest Ethernet II frame without FCS (1500-byte payload): what fits the driver's F2 read limit. */
const MAX_ETHERNET_FRAME = 1514;

function hex(b: Uint8Array, max = 32): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(b.length, max); i++) parts.push(b[i]!.toString(16).padStart(2, '0'));
  return parts.join(' ') + (b.length > max ? ` …(+${b.length - max})` : '');
}

function macString(m: Uint8Array): string {
  return [...m.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class Cyw43439 implements BoardDevice {
  readonly radio: VirtualRadio;
  /** Station interface: the network attaches here. */
  readonly port: EthernetPort;
  /** AP interface (AP mode). */
  readonly apPort: EthernetPort;
  /** Every LED change since power-on of the board, with simulated timestamps. */
  readonly ledHistory: LedChange[] = [];
  private readonly ports: WlanPort[];
  private logger: Logger;
  private readonly ownLogger: boolean;
  private ctx: BoardContext | null = null;
  private mcu: RP2040 | null = null;
  private transport: PioSpiBus | null = null;
  private readonly bus: GspiBus;
  private readonly backplane: Backplane;
  private readonly sdpcm: SdpcmLink;
  private readonly control: WlanControl;
  private powered = false;
  private readonly timers = new Set<SimTimer>();
  private disposers: (() => void)[] = [];
  private hostWake = false;
  private faults = 0;

  constructor(opts: Cyw43Options = {}) {
    if (opts.mac && (opts.mac.length !== 6 || opts.mac[0]! & 1)) {
      throw new UsageError('the CYW43 MAC must be 6 bytes and unicast');
    }
    this.radio = opts.radio ?? new VirtualRadio();
    this.logger = opts.logger ?? silentLogger();
    this.ownLogger = !!opts.logger;
    // The layers log through this proxy so that the board's logger, known only at attach, reaches them.
    const log = (): Logger => this.logger;
    const logProxy = new Proxy({} as Logger, {
      get: (_t, prop) => {
        const l = log() as unknown as Record<string | symbol, unknown>;
        const v = l[prop];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(l) : v;
      },
    });
    this.backplane = new Backplane(
      {
        schedule: (nanos, cb) => void this.schedule(nanos, cb),
        onFirmwareRunning: () => this.logger.trace('cyw43', 'WLAN firmware running (HT clock available, F2 ready)'),
        onTerminateFrame: () => this.sdpcm.dropHead(),
      },
      logProxy,
    );
    this.sdpcm = new SdpcmLink(
      {
        control: (p) => this.onControlFrame(p),
        data: (p) => this.onDataFrame(p),
      },
      logProxy,
    );
    this.sdpcm.onFrameQueued = () => this.bus.raiseInterrupt(F2_PACKET_AVAILABLE);
    this.bus = new GspiBus(
      {
        readBackplane: (a, n) => this.backplane.read(a, n),
        writeBackplane: (a, d) => this.backplane.write(a, d),
        readWlan: (n) => this.readWlan(n),
        writeWlan: (d) => this.sdpcm.receive(d),
        pendingFrameLength: () => this.sdpcm.pendingLength(),
        wlanReady: () => this.backplane.firmwareRunning,
      },
      logProxy,
    );
    this.bus.onInterruptChange = () => this.updateHostWake();
    this.bus.onTransaction = (r) => this.traceTransaction(r);
    this.control = new WlanControl(
      {
        now: () => this.ctx?.clock.nanos ?? 0,
        schedule: (nanos, cb) => {
          const t = this.schedule(nanos, cb);
          return () => t.cancel();
        },
        sendEvent: (ev) => this.sendEvent(ev),
        linkChanged: (iface, up) => this.ports[iface]?.setLink(up),
        gpioChanged: (v, prev) => this.gpioChanged(v, prev),
        macChanged: (m) => this.logger.trace('cyw43', `MAC set by host: ${macString(m)}`),
        deliverFromAir: (iface, frame) => this.deliverToHost(iface, frame),
      },
      this.radio,
      logProxy,
      opts.mac ? new Uint8Array(opts.mac) : opts.identity !== undefined ? deriveMac(opts.identity) : NVRAM_DEFAULT_MAC,
    );
    const sta = new WlanPort(this, 0);
    const ap = new WlanPort(this, 1);
    this.ports = [sta, ap];
    this.port = sta;
    this.apPort = ap;
  }

  /** The MAC the chip uses now (set by the host, else the OTP/NVRAM one). */
  get macAddress(): Uint8Array {
    return this.control.mac;
  }

  /** Current LED state (chip GPIO 0). */
  get led(): boolean {
    return (this.control.gpioOut & LED_GPIO_MASK) !== 0;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** Whether the modelled WLAN firmware is running (after the host's download and core release). */
  get firmwareRunning(): boolean {
    return this.backplane.firmwareRunning;
  }

  get associatedSsid(): string | null {
    return this.control.associated?.ssid ?? null;
  }

  get stationLinkUp(): boolean {
    return this.control.stationLinkUp;
  }

  get apActive(): boolean {
    return this.control.apUp;
  }

  /** Which PIO state machine carries the bus (once the host has used it). */
  get busStateMachine(): { pio: number; sm: number } | null {
    return this.transport?.busStateMachine ?? null;
  }

  /** Counters of every layer, for tests and diagnostics. */
  get stats(): Record<string, Record<string, number>> {
    return {
      bus: { ...this.bus.stats },
      sdpcm: { ...this.sdpcm.stats },
      control: { ...this.control.stats },
      backplane: { bytesDownloaded: this.backplane.bytesDownloaded },
      model: { faults: this.faults },
    };
  }

  attach(ctx: BoardContext): void {
    this.detach();
    this.ctx = ctx;
    if (!this.ownLogger) this.logger = ctx.logger;
    this.mcu = ctx.mcu;
    // An unpowered chip neither listens nor drives the data line.
    // A fault in the model is logged and contained: it must never reach the CPU loop.
    const target = {
      select: () => this.guard(() => void (this.powered && this.bus.select()), undefined),
      deselect: () => this.guard(() => this.bus.deselect(), undefined),
      mosiWord: (w: number) => this.guard(() => void (this.powered && this.bus.mosiWord(w)), undefined),
      misoWord: () => this.guard(() => (this.powered ? this.bus.misoWord() : 0), 0),
    };
    this.transport = new PioSpiBus(ctx.mcu, target, this.logger, { data: PIN_WL_DATA, clk: PIN_WL_CLK, cs: PIN_WL_CS });
    const power = ctx.mcu.gpio[PIN_WL_REG_ON]!;
    const cs = ctx.mcu.gpio[PIN_WL_CS]!;
    this.disposers.push(power.addListener(() => this.checkPower()));
    this.disposers.push(cs.addListener(() => this.updateHostWake()));
    // A fresh RP2040 drives nothing: the chip is unpowered until the firmware raises WL_REG_ON.
    this.setPowered(false);
    this.checkPower();
  }

  dispose(): void {
    this.detach();
    this.control.dispose();
  }

  private detach(): void {
    for (const d of this.disposers.splice(0)) d();
    this.transport?.dispose();
    this.transport = null;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.ctx = null;
    this.mcu = null;
  }

  private guard<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      this.faults++;
      this.logger.warnOnce('cyw43', `fault:${(e as Error).message}`, `internal fault in the CYW43 model (transaction dropped): ${(e as Error).stack ?? e}`);
      return fallback;
    }
  }

  private schedule(nanos: number, cb: () => void): SimTimer {
    const ctx = this.ctx;
    if (!ctx) return { cancel: () => undefined };
    const t = ctx.clock.schedule(nanos, () => {
      this.timers.delete(t);
      this.guard(cb, undefined);
    });
    this.timers.add(t);
    return t;
  }

  private checkPower(): void {
    const pin = this.mcu?.gpio[PIN_WL_REG_ON];
    const on = !!pin && pin.outputEnable && pin.outputValue;
    if (on !== this.powered) this.setPowered(on);
  }

  private setPowered(on: boolean): void {
    this.powered = on;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.bus.reset();
    this.backplane.reset();
    this.sdpcm.reset();
    this.control.powerOff();
    for (const p of this.ports) p.setLink(false);
    this.logger.trace('cyw43', on ? 'WL_REG_ON high: chip powered' : 'WL_REG_ON low: chip off, state reset');
    this.updateHostWake();
  }

  /** Drive GP24 with the interrupt line while chip-select is high. */
  private updateHostWake(): void {
    const mcu = this.mcu;
    if (!mcu) return;
    const cs = mcu.gpio[PIN_WL_CS]!;
    const selected = cs.outputEnable && !cs.outputValue;
    if (selected) return;
    const level = this.powered && this.bus.interruptLine;
    if (level !== this.hostWake || (mcu.gpio[PIN_WL_DATA] as unknown as { rawInputValue: boolean }).rawInputValue !== level) {
      this.hostWake = level;
      mcu.gpio[PIN_WL_DATA]!.setInputValue(level);
    }
  }

  private readWlan(length: number): Uint8Array {
    const out = new Uint8Array(length);
    const f = this.sdpcm.pop();
    if (f) out.set(f.subarray(0, Math.min(length, f.length)));
    if (this.sdpcm.pendingLength() > 0) this.bus.raiseInterrupt(F2_PACKET_AVAILABLE);
    return out;
  }

  private onControlFrame(payload: Uint8Array): void {
    const msg = parseCdc(payload);
    if (!msg) {
      this.logger.warnOnce('cyw43', 'cdc-short', `control frame too short for a CDC header (${payload.length} bytes)`);
      return;
    }
    let reply;
    try {
      reply = this.control.handle(msg);
    } catch (e) {
      this.logger.warn('cyw43', `ioctl ${msg.cmd} failed in the model: ${(e as Error).message}`);
      reply = { status: BCME_BADARG, payload: new Uint8Array(msg.len & 0xffff) };
    }
    if (this.logger.tracing('cyw43')) {
      const name = msg.cmd === 262 || msg.cmd === 263 ? ` '${new TextDecoder().decode(msg.payload.subarray(0, Math.max(0, msg.payload.indexOf(0))))}'` : '';
      this.logger.trace('cyw43', `ioctl ${msg.set ? 'SET' : 'GET'} ${msg.cmd}${name} if=${msg.iface} id=${msg.id} len=${msg.len & 0xffff} -> status ${reply.status}`);
    }
    this.sdpcm.send(CHANNEL_CONTROL, encodeCdc({ cmd: msg.cmd, len: msg.len, set: msg.set, iface: msg.iface, id: msg.id, status: reply.status, payload: reply.payload }));
  }

  private onDataFrame(payload: Uint8Array): void {
    const bdc = parseBdc(payload);
    if (!bdc) {
      this.logger.warnOnce('cyw43', 'bdc-short', 'data frame too short for a BDC header');
      return;
    }
    const iface = bdc.iface & 1;
    const port = this.ports[iface]!;
    if (bdc.payload.length < 14) return;
    // A board's AP: the station's frames go over the air to that AP's chip, never to the LAN;
    // our own AP's frames go to its stations.
    const bss = iface === 0 ? this.control.stationBss : port.linkUp ? this.control.apBss : null;
    if (bss) {
      this.logger.trace('cyw43', () => `tx ${IFACE_NAMES[iface]} ${bdc.payload.length} bytes over the air (board AP)`);
      const frame = new Uint8Array(bdc.payload);
      if (iface === 0) bss.fromStation(this.macAddress, frame);
      else bss.fromHost(frame);
      return;
    }
    this.logger.trace('cyw43', () => `tx ${IFACE_NAMES[bdc.iface & 1]} ${bdc.payload.length} bytes${port.linkUp ? '' : ' (link down: dropped)'}`);
    if (!port.linkUp) return;
    port.onTransmit?.(new Uint8Array(bdc.payload));
  }

  /** A frame from the network or the air for the host (called by the ports and the BSS). */
  deliverToHost(iface: number, frame: Uint8Array): void {
    if (!this.powered || !this.backplane.firmwareRunning) return;
    if (frame.length < 14 || frame.length > MAX_ETHERNET_FRAME) {
      this.logger.warnOnce('cyw43', 'rx-size', `dropping a ${frame.length}-byte frame for the host (Ethernet II frames are 14..${MAX_ETHERNET_FRAME} bytes)`);
      return;
    }
    this.logger.trace('cyw43', () => `rx ${IFACE_NAMES[iface]} ${frame.length} bytes`);
    this.sdpcm.send(CHANNEL_DATA, encodeBdc(iface, frame));
    // The frame may come from another board (over the air, or through the LAN): wake our run loop.
    this.ctx?.hostIo.notify();
  }

  private sendEvent(ev: ChipEvent): void {
    if (!this.powered) return;
    this.logger.trace('cyw43', `event ${ev.type} status ${ev.status ?? 0} reason ${ev.reason ?? 0} flags ${ev.flags ?? 0} if=${ev.iface ?? 0}`);
    this.sdpcm.send(CHANNEL_EVENT, encodeEvent(ev, this.control.mac));
    this.ctx?.hostIo.notify(); // a station of our AP (another board) may have caused it
  }

  private gpioChanged(value: number, prev: number): void {
    // Detached (the board is being disposed): no board time, nobody to tell.
    const ctx = this.ctx;
    if (!ctx) return;
    if ((value ^ prev) & LED_GPIO_MASK) {
      const on = (value & LED_GPIO_MASK) !== 0;
      const nanos = ctx.clock.nanos;
      this.ledHistory.push({ on, nanos });
      // The board traces every 'led' event it receives (`--trace led`): one line per change.
      ctx.emit({ type: 'led', on, nanos });
    }
  }

  private traceTransaction(r: GspiTraceRecord): void {
    if (!this.logger.tracing('cyw43')) return;
    const c = r.cmd;
    const fn = c.func === FUNC_BUS ? 'F0' : c.func === FUNC_BACKPLANE ? 'F1' : c.func === FUNC_WLAN ? 'F2' : `F${c.func}`;
    let what = `${c.write ? 'write' : 'read'} ${fn} 0x${c.address.toString(16).padStart(5, '0')} len ${c.length}`;
    if (c.func === FUNC_BACKPLANE && c.address < 0x10000) {
      what += ` (backplane 0x${((this.backplane.backplaneWindow + (c.address & 0x7fff)) >>> 0).toString(16)})`;
    }
    if (c.func === FUNC_WLAN && r.data.length >= 12) {
      const size = r.data[0]! | (r.data[1]! << 8);
      what += ` [sdpcm size ${size} seq ${r.data[4]} ch ${r.data[5]! & 0xf} credit ${r.data[9]}]`;
    }
    this.logger.trace('cyw43', `${what}: ${hex(r.data, c.func === FUNC_WLAN ? 48 : 16)}`);
  }

  /** The SDIO core interrupt register (diagnostics). */
  get sdioIntStatus(): number {
    return this.backplane.readReg(SDIO_INT_STATUS);
  }
}
