/**
 * `--json`: what a run does, as newline-delimited JSON events on stdout (one object a line), for
 * CI systems and tools. Every event has `type` and `t`, the board's simulated time in seconds since
 * power-on (0 before the board exists). In a run of named boards (`--board`, a scenario's
 * `boards:`) each event that concerns one board carries its name as `board` and its clock as `t`
 * (`EventStream.forBoard`). The schema is in the README ("JSON events"); the types below are it.
 */
import type { PicoWBoard, ConsoleSource } from './board/picow.ts';
import type { BoardEvent } from './board/device.ts';
import type { Cyw43439 } from './cyw43/chip.ts';
import type { VirtualNetwork } from './net/network.ts';
import { ipToString } from './net/wire/ipv4.ts';
import { ConsoleDecoder } from './session/console.ts';
import type { World } from './session/world.ts';

/** GPIOs wired to the CYW43439's gSPI bus on the Pico W (WL_ON, WL_D, WL_CS, WL_CLK): the chip's, not the user's. */
const WL_PINS = new Set([23, 24, 25, 29]);

/** rp2040js GPIOPinState values for a driven output. */
const PIN_LOW = 0;
const PIN_HIGH = 1;

export type SimEvent = { t: number; file?: string; board?: string } & (
  | { type: 'start'; mode: 'script' | 'repl' | 'pty' | 'scenario' | 'test' | 'wokwi'; version: string; firmware?: string }
  | { type: 'console'; source: ConsoleSource; text: string }
  | { type: 'led'; on: boolean }
  | { type: 'pin'; pin: number; value: 0 | 1 }
  | { type: 'wifi'; state: 'up' | 'down'; ssid: string | null }
  | { type: 'dhcp'; state: 'bound' | 'released'; ip: string; mac: string }
  | { type: 'tcp'; state: 'open' | 'refused' | 'closed'; local: string; host: string }
  | { type: 'status'; message: string }
  | { type: 'expect'; name: string; status: 'pass' | 'fail'; summary: string; detail?: string; line?: number }
  | {
      type: 'result';
      exitCode: number;
      message: string | null;
      simSeconds: number;
      wallSeconds: number;
      passed?: number;
      failed?: number;
    }
  | { type: 'summary'; exitCode: number; files: number; passed: number; failed: number; malformed: number; wallSeconds: number }
);

/** Distributes a type over a union, so `Omit` keeps each member's own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type SimEventBody = DistributiveOmit<SimEvent, 't'>;

/** What the TCP NAT reports about a board's connections to the host (sim/net/tcp-nat.ts). */
export interface ConnectionNote {
  state: 'open' | 'refused' | 'closed';
  board: string;
  host: string;
}

/** The parts of a running world the stream listens to; each is optional. */
export interface EventSources {
  board?: PicoWBoard;
  /** The board's Wi-Fi link as the network sees it (up: associated and keyed). */
  wifi?: { ssid(): string | null; onLink(cb: (up: boolean) => void): void };
  dhcp?: { onLease(cb: (ip: string, mac: string, state: 'bound' | 'released') => void): void };
  tcp?: { onConnection(cb: (c: ConnectionNote) => void): void };
}

/** Writes events as JSON lines; `now` gives the simulated seconds of the board being watched. */
export class EventStream {
  private now: () => number = () => 0;
  private readonly decoder = new ConsoleDecoder();
  private closed = false;
  /** The stream the board views write to (itself for the stream of the run). */
  private readonly root: EventStream;

  /** `boardName`: the named board this view reports (see `forBoard`). */
  constructor(
    private readonly write: (line: string) => void,
    readonly boardName?: string,
    root?: EventStream,
  ) {
    this.root = root ?? this;
  }

  /**
   * One named board's view of the stream: its events carry `board: name` and its own simulated
   * time; it shares the output and the end (`close`) with the stream of the run.
   */
  forBoard(name: string): EventStream {
    return new EventStream(this.write, name, this.root);
  }

  emit(e: SimEventBody): void {
    if (this.root.closed) return;
    const body: Record<string, unknown> = { t: round(this.now()), ...(this.boardName !== undefined ? { board: this.boardName } : {}), ...e };
    if (e.type === 'result') body['simSeconds'] = round(e.simSeconds);
    if (e.type === 'result' || e.type === 'summary') body['wallSeconds'] = round(e.wallSeconds);
    this.write(JSON.stringify(body) + '\n');
  }

  /** Simulated seconds now (the board's clock once one is attached). */
  time(): number {
    return this.now();
  }

  /** Console bytes as text (UTF-8 decoded across chunks). */
  console(bytes: Uint8Array | string, source: ConsoleSource): void {
    const text = typeof bytes === 'string' ? bytes : this.decoder.decode(bytes, source);
    if (text) this.emit({ type: 'console', source, text });
  }

  /** Listen to a world: LED, GPIO outputs, Wi-Fi link, DHCP leases, host connections. */
  attach(s: EventSources): void {
    const board = s.board;
    if (board) {
      this.followClock(board);
      board.on('event', (e: BoardEvent) => {
        if (e.type === 'led') this.emit({ type: 'led', on: e.on });
      });
      this.watchPins(board);
    }
    s.wifi?.onLink((up) => this.emit({ type: 'wifi', state: up ? 'up' : 'down', ssid: s.wifi!.ssid() }));
    this.attachLan(s, () => this);
  }

  /** Listen to a session's world: its first board, its Wi-Fi link, its LAN (see `attach`). */
  attachWorld(world: EventWorld): void {
    this.attach({ board: world.board, ...networkSources(world.boards[0]!.chip, world.network) });
  }

  /** A named board's view (`forBoard`) listening to its board and Wi-Fi; the LAN is `attachNamedLan`'s. */
  attachNamedBoard(world: EventWorld): void {
    this.attach({ board: world.board, wifi: networkSources(world.boards[0]!.chip, world.network).wifi });
  }

  /**
   * Several named boards on one LAN (`--board`, a scenario's `boards:`): the run's own events on
   * the first board's clock, the LAN's; DHCP leases and host connections reported by the view of
   * the board at their address.
   */
  attachNamedLan(boards: readonly { view: EventStream; world: EventWorld }[]): void {
    const first = boards[0]!.world;
    this.followClock(first.board);
    const byIp = new Map(boards.map((b) => [ipToString(b.world.boards[0]!.member.ip), b.view]));
    this.attachLan(networkSources(first.boards[0]!.chip, first.network), (ip) => byIp.get(ip));
  }

  /** `t` from this board's clock (a run of several boards: the first one's, the LAN's). */
  followClock(board: PicoWBoard): void {
    this.now = () => board.simClock.nanos / 1e9;
  }

  /**
   * A LAN's DHCP leases and host connections, each reported by the view of the board at its
   * address (`byIp` gives it; the stream of the run when none).
   */
  attachLan(s: Pick<EventSources, 'dhcp' | 'tcp'>, byIp: (ip: string) => EventStream | undefined): void {
    const to = (ip: string): EventStream => byIp(ip) ?? this;
    s.dhcp?.onLease((ip, mac, state) => to(ip).emit({ type: 'dhcp', state, ip, mac }));
    s.tcp?.onConnection((c) => to(c.board.slice(0, c.board.lastIndexOf(':'))).emit({ type: 'tcp', state: c.state, local: c.board, host: c.host }));
  }

  /** No more events (the run is over). */
  close(): void {
    this.root.closed = true;
  }

  /** GPIO outputs the program drives (the CYW43439's bus pins excluded), again after each reset. */
  private watchPins(board: PicoWBoard): void {
    let watched: unknown = null;
    const last = new Map<number, number>();
    const hook = (): void => {
      const mcu = board.mcu;
      if (!mcu || mcu === watched) return;
      watched = mcu;
      mcu.gpio.forEach((pin, n) => {
        if (WL_PINS.has(n)) return;
        pin.addListener((state) => {
          if (mcu !== board.mcu || (state !== PIN_LOW && state !== PIN_HIGH) || last.get(n) === state) return;
          last.set(n, state);
          this.emit({ type: 'pin', pin: n, value: state === PIN_HIGH ? 1 : 0 });
        });
      });
    };
    hook();
    board.on('event', (e: BoardEvent) => {
      if (e.type === 'reset') hook();
    });
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** What the events follow of a session's world (session/world.ts). */
export type EventWorld = Pick<World, 'board' | 'boards' | 'network'>;

/** Parse one line of a `--json` stream (for tools and the parallel runner). Null if it is not an event. */
export function parseEvent(line: string): SimEvent | null {
  if (!line.startsWith('{')) return null;
  try {
    const e = JSON.parse(line) as SimEvent;
    return typeof e === 'object' && e !== null && typeof e.type === 'string' && typeof e.t === 'number' ? e : null;
  } catch {
    return null;
  }
}

/** The event sources of a board's chip and network (wraps their single-slot callbacks, keeping what was there). */
export function networkSources(chip: Cyw43439, net: VirtualNetwork): Omit<EventSources, 'board'> {
  return {
    wifi: {
      ssid: () => chip.associatedSsid,
      onLink(cb) {
        const prev = chip.port.onLinkChange;
        chip.port.onLinkChange = (up) => {
          prev?.(up);
          cb(up);
        };
      },
    },
    dhcp: {
      onLease(cb) {
        const prev = net.onLease;
        net.onLease = (l, ev) => {
          prev?.(l, ev);
          cb(ipToString(l.ip), l.mac, ev);
        };
      },
    },
    tcp: {
      onConnection(cb) {
        const prev = net.tcp.onConnection;
        net.tcp.onConnection = (c) => {
          prev?.(c);
          cb(c);
        };
      },
    },
  };
}

