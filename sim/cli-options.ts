/**
 * The `picow-sim` command line: one table of options, parsed into `CliOptions`. Options that
 * belong to other modules (network, Wi-Fi, servers, scenarios) are parsed here into plain values
 * and handed to those modules; their detailed checks live with them.
 */
import type { CpuEngineKind } from './cpu/engine.ts';
import type { ApConfig } from './cyw43/radio.ts';
import { UsageError } from './errors.ts';
import { parseTraceAreas, TRACE_AREAS } from './log.ts';
import { parseWireSpec, type Wire } from './board/wires.ts';
import { parseUartPortSpec, type UartPortSpec } from './ports/uart-port.ts';
import { parseApSpec as parseAp, parseForwardSpec, parseHostSpec, parseMapSpec } from './session/specs.ts';
import { parseByteSize } from '../server/byte-size.ts';

export type ConsoleChoice = 'auto' | 'usb' | 'uart0' | 'uart1';

export interface FileSpec {
  local: string;
  /** Board path, absolute. */
  remote: string;
}

/** `--board NAME[=SCRIPT]`: one of several boards on one LAN (sim/cli-boards.ts). */
export interface BoardOption {
  name: string;
  script: string | null;
  /** `--board-firmware NAME=PATH` (default: the shared firmware). */
  firmware: string | null;
  /** `--board-file NAME=LOCAL[:REMOTE]`, `--board-lib NAME=DIR`: this board's own files. */
  files: FileSpec[];
  lib: string[];
}

export interface CliOptions {
  script: string | null;
  /** Several boards on one LAN (empty: the one board of a plain run). */
  boards: BoardOption[];
  files: FileSpec[];
  lib: string[];
  expect: string[];
  /** Seconds of wall-clock time. */
  timeout: number | null;
  firmware: string | null;
  offline: boolean;
  quiet: boolean;
  verbose: boolean;
  trace: string[];
  /** `auto` (default): USB CDC when the firmware presents it, else UART0. */
  console: ConsoleChoice;
  /** Host ports of UART0 and UART1 (null: none). */
  uart0: UartPortSpec | null;
  uart1: UartPortSpec | null;
  /** Jumper wires between GPIOs. */
  wire: Wire[];
  cpu: CpuEngineKind | null;
  pty: string | null;
  /** sim/ports: RFC 2217 port for the console (0: a free one). */
  serialPort: number | null;
  /** sim/ports: GDB remote protocol port (0: a free one); hold the board at reset until the debugger continues. */
  gdb: number | null;
  gdbWait: boolean;
  // sim/net (specs checked by its parsers; passed on as written)
  map: string[];
  host: string[];
  forward: string[];
  allowInternet: boolean;
  /** `--restrict`: only the embedded servers, --map targets and --forward. */
  restrict: boolean;
  /** `--max-tcp N` / `--max-udp N`: connections and UDP flows per board (null: the defaults). */
  maxTcp: number | null;
  maxUdp: number | null;
  pcap: string | null;
  /** `--pcap-max SIZE` in bytes (null: the default cap). */
  pcapMax: number | null;
  /** Milliseconds, one way. */
  latency: number | null;
  /** Percent of frames dropped. */
  loss: number | null;
  /** kbit/s. */
  bandwidth: number | null;
  // sim/cyw43
  ap: ApConfig[];
  // server/
  serverPort: number | null;
  noServer: boolean;
  // sim/scenario
  scenario: string | null;
  junit: string | null;
  /** Ask for the console with no other argument (no arguments at all run the demo). */
  repl: boolean;
  help: boolean;
  version: boolean;
  /** Newline-delimited JSON events on stdout instead of text (sim/events.ts). */
  json: boolean;
}

export function defaultOptions(): CliOptions {
  return {
    script: null,
    boards: [],
    files: [],
    lib: [],
    expect: [],
    timeout: null,
    firmware: null,
    offline: false,
    quiet: false,
    verbose: false,
    trace: [],
    console: 'auto',
    uart0: null,
    uart1: null,
    wire: [],
    cpu: null,
    pty: null,
    serialPort: null,
    gdb: null,
    gdbWait: false,
    map: [],
    host: [],
    forward: [],
    allowInternet: false,
    restrict: false,
    maxTcp: null,
    maxUdp: null,
    pcap: null,
    pcapMax: null,
    latency: null,
    loss: null,
    bandwidth: null,
    ap: [],
    serverPort: null,
    noServer: false,
    scenario: null,
    junit: null,
    repl: false,
    help: false,
    version: false,
    json: false,
  };
}

type Group = 'Running a script' | 'Several boards' | 'Console' | 'Firmware' | 'Debugging' | 'Output' | 'Network' | 'Wi-Fi' | 'Servers' | 'Scenarios';

interface OptionSpec {
  name: string;
  short?: string;
  /** Placeholder for the value; absent for flags. */
  arg?: string;
  group: Group;
  help: string;
  example: string;
  /** Apply the value (or `true` for a flag) to the options; throw UsageError for a bad value. */
  apply(o: CliOptions, value: string): void;
}

function bad(opt: string, value: string, why: string, example: string): never {
  throw new UsageError(`${opt} ${JSON.stringify(value)}: ${why} (example: ${example})`);
}

function number(opt: string, v: string, example: string, min: number, max = Infinity): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) bad(opt, v, 'not a number', example);
  if (n < min || n > max) bad(opt, v, max === Infinity ? `must be at least ${min}` : `must be between ${min} and ${max}`, example);
  return n;
}

/** A TCP port number for a server of ours: 0 (any free port) to 65535. */
function tcpPort(opt: string, v: string, example: string): number {
  if (!/^\d+$/.test(v.trim())) bad(opt, v, 'not a port number', example);
  return number(opt, v, example, 0, 65535);
}

/** The longest wait a Node timer holds: 2^31 - 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function integer(opt: string, v: string, example: string, min: number, max: number): number {
  const n = number(opt, v, example, min, max);
  if (!Number.isInteger(n)) bad(opt, v, 'must be a whole number', example);
  return n;
}

/** A board name: seeds its MAC, names its pty (`PATH-NAME`) and prefixes its console lines. */
const BOARD_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** `--board NAME[=SCRIPT]`. */
export function parseBoardSpec(v: string): BoardOption {
  const example = '--board hub=hub.py';
  const eq = v.indexOf('=');
  const name = eq >= 0 ? v.slice(0, eq) : v;
  if (!BOARD_NAME.test(name)) bad('--board', v, 'a board name is 1 to 32 letters, digits, - or _', example);
  const script = eq >= 0 ? v.slice(eq + 1) : null;
  if (script === '') bad('--board', v, 'nothing after =', example);
  return { name, script, firmware: null, files: [], lib: [] };
}

/** `--board-… NAME=VALUE`: an option for the board NAME given before with --board. */
function perBoard(name: string, arg: string, help: string, example: string, set: (b: BoardOption, value: string) => void): OptionSpec {
  return {
    name,
    arg,
    group: 'Several boards',
    help,
    example,
    apply: (o, v) => {
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) bad(name, v, 'expected NAME=VALUE', example);
      const board = v.slice(0, eq);
      const b = o.boards.find((x) => x.name === board);
      if (!b) bad(name, v, `no board named '${board}' (give --board ${board} before it)`, example);
      set(b, v.slice(eq + 1));
    },
  };
}

function boardPath(p: string): string {
  return '/' + p.split('/').filter((x) => x !== '' && x !== '.').join('/');
}

/** `LOCAL[:REMOTE]`; REMOTE defaults to the file's name at the root. */
export function parseFileSpec(v: string): FileSpec {
  const example = '--file data.json:/data/config.json';
  if (!v) bad('--file', v, 'empty', example);
  const colon = v.lastIndexOf(':');
  // A colon followed by a path separator or nothing at all is part of a Windows-style path; we only
  // split when something follows the colon.
  let local = v;
  let remote = '';
  if (colon > 0 && colon < v.length - 1) {
    local = v.slice(0, colon);
    remote = v.slice(colon + 1);
  } else if (colon === v.length - 1) {
    bad('--file', v, 'nothing after the colon', example);
  }
  if (!remote) remote = local.slice(local.lastIndexOf('/') + 1);
  if (remote.split('/').includes('..')) bad('--file', v, "the board path must not contain '..'", example);
  const r = boardPath(remote);
  if (r === '/') bad('--file', v, 'the board path is empty', example);
  return { local, remote: r };
}

/** `SSID[:PASSWORD]` (the session's parser: open without a password, WPA2 with one). */
export function parseApSpec(v: string): ApConfig {
  return parseAp(v);
}

// The link flags: a number in a range, named in the error.
function parseNumber(flag: string, text: string, min: number, max: number, unit: string): number {
  const t = String(text).trim().replace(/%$/, '');
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} '${text}': expected a number of ${unit} from ${min} to ${max}`);
  }
  return n;
}

/** `--latency MS` (one-way, per direction). */
export function parseLatency(text: string): number {
  return parseNumber('--latency', text, 0, 60_000, 'milliseconds');
}
/** `--loss PERCENT`. */
export function parseLoss(text: string): number {
  return parseNumber('--loss', text, 0, 100, 'percent');
}
/** `--bandwidth KBPS` (kbit/s). */
export function parseBandwidth(text: string): number {
  const n = parseNumber('--bandwidth', text, 1, 10_000_000, 'kbit/s');
  return n;
}
/** `--pcap FILE`. */
export function parsePcapPath(text: string): string {
  if (!text || !text.trim()) throw new UsageError('--pcap needs a file name');
  return text;
}

/** Run one of the session's spec parsers: they throw UsageError naming the flag and the expected form. */
function checked<T>(parse: (v: string) => T, v: string): T {
  return parse(v);
}

export const OPTIONS: OptionSpec[] = [
  // Running a script
  {
    name: '--file',
    arg: 'LOCAL[:REMOTE]',
    group: 'Running a script',
    help: 'copy a file to the board before the script runs (repeatable); REMOTE defaults to /NAME',
    example: '--file config.json --file data/cal.bin:/data/cal.bin',
    apply: (o, v) => void o.files.push(parseFileSpec(v)),
  },
  {
    name: '--lib',
    arg: 'DIR',
    group: 'Running a script',
    help: "copy a folder's contents to /lib on the board (repeatable)",
    example: '--lib ./lib',
    apply: (o, v) => void o.lib.push(v),
  },
  {
    name: '--expect',
    arg: 'TEXT',
    group: 'Running a script',
    help: 'exit 0 as soon as the board printed TEXT (repeatable: all of them, in any order); with several boards NAME:TEXT waits on board NAME, plain TEXT on any',
    example: "--expect 'Hello, world!'",
    apply: (o, v) => {
      if (!v) bad('--expect', v, 'empty text', "--expect 'done'");
      o.expect.push(v);
    },
  },
  {
    name: '--timeout',
    short: '-t',
    arg: 'SECONDS',
    group: 'Running a script',
    help: 'give up after SECONDS of wall-clock time and exit 1 (at most 2147483, about 24.8 days)',
    example: '--timeout 30',
    // Node's timers hold at most 2^31 - 1 ms; a longer one would fire at once.
    apply: (o, v) => void (o.timeout = number('--timeout', v, '--timeout 30', 0.001, MAX_TIMER_SECONDS)),
  },
  {
    name: '--board',
    arg: 'NAME[=SCRIPT]',
    group: 'Several boards',
    help: 'a board on the shared virtual LAN (repeatable: 10.0.2.15, .16, … in order; the name seeds the MAC); SCRIPT runs as its main.py. Its console lines show as [NAME] …',
    example: '--board hub=hub.py --board node=node.py',
    apply: (o, v) => {
      const b = parseBoardSpec(v);
      if (o.boards.some((x) => x.name === b.name)) bad('--board', v, `two boards named '${b.name}'`, '--board hub --board node');
      o.boards.push(b);
    },
  },
  perBoard('--board-firmware', 'NAME=PATH', 'the UF2 board NAME runs (default: --firmware, shared)', '--board-firmware hub=hub.uf2', (b, path) => {
    b.firmware = path;
  }),
  perBoard(
    '--board-file',
    'NAME=LOCAL[:REMOTE]',
    'copy a file to board NAME before its script runs (repeatable; --file goes to every board with a script)',
    '--board-file hub=config.json',
    (b, spec) => void b.files.push(parseFileSpec(spec)),
  ),
  perBoard(
    '--board-lib',
    'NAME=DIR',
    "copy a folder's contents to /lib on board NAME (repeatable; --lib goes to every board with a script)",
    '--board-lib hub=./hub-lib',
    (b, dir) => void b.lib.push(dir),
  ),
  // Console
  {
    name: '--console',
    arg: 'auto|usb|uart0|uart1',
    group: 'Console',
    help: 'which stream is the console (the REPL, --pty, --expect, typing); default auto: USB CDC when the firmware presents it, else UART0',
    example: '--console uart0',
    apply: (o, v) => {
      if (!['auto', 'usb', 'uart0', 'uart1'].includes(v)) bad('--console', v, 'expected auto, usb, uart0 or uart1', '--console uart0');
      o.console = v as ConsoleChoice;
    },
  },
  {
    name: '--uart0',
    arg: 'pty:PATH|tcp:PORT',
    group: 'Console',
    help: "UART0's pins (GP0 TX, GP1 RX) as a port of their own, like a USB-serial adapter: a pseudo-terminal, or a TCP server on 127.0.0.1",
    example: '--uart0 pty:/tmp/picow-uart0',
    apply: (o, v) => void (o.uart0 = parseUartPortSpec('--uart0', v)),
  },
  {
    name: '--uart1',
    arg: 'pty:PATH|tcp:PORT',
    group: 'Console',
    help: "UART1's pins (GP4 TX, GP5 RX) as a port of their own, as --uart0",
    example: '--uart1 tcp:5555',
    apply: (o, v) => void (o.uart1 = parseUartPortSpec('--uart1', v)),
  },
  {
    name: '--wire',
    arg: 'PIN:PIN',
    group: 'Firmware',
    help: 'a jumper wire between two GPIOs (repeatable): an output drives the other pin, UART TX reaches the wired RX',
    example: '--wire GP0:GP1',
    apply: (o, v) => void o.wire.push(parseWireSpec(v)),
  },
  {
    name: '--repl',
    group: 'Console',
    help: 'the interactive REPL (what runs whenever no script is given; needed only when no other argument is)',
    example: '--repl',
    apply: (o) => void (o.repl = true),
  },
  {
    name: '--pty',
    arg: 'PATH',
    group: 'Console',
    help: 'expose the console as a pseudo-terminal at PATH for mpremote, Thonny, rshell, pyboard.py (needs socat)',
    example: '--pty /tmp/picow',
    apply: (o, v) => {
      if (!v) bad('--pty', v, 'empty path', '--pty /tmp/picow');
      o.pty = v;
    },
  },
  {
    name: '--serial-port',
    arg: 'PORT',
    group: 'Console',
    help: 'serve the console as an RFC 2217 serial port on 127.0.0.1:PORT (0: a free port, printed) for mpremote, pyserial, Thonny, nc',
    example: '--serial-port 4000',
    apply: (o, v) => void (o.serialPort = tcpPort('--serial-port', v, '--serial-port 4000')),
  },
  // Debugging
  {
    name: '--gdb',
    arg: 'PORT',
    group: 'Debugging',
    help: 'serve the GDB remote protocol on 127.0.0.1:PORT (0: a free port, printed): both cores as threads, breakpoints, steps',
    example: '--gdb 3333',
    apply: (o, v) => void (o.gdb = tcpPort('--gdb', v, '--gdb 3333')),
  },
  {
    name: '--gdb-wait',
    group: 'Debugging',
    help: 'with --gdb: hold the board at reset until the debugger continues it',
    example: '--gdb 3333 --gdb-wait',
    apply: (o) => void (o.gdbWait = true),
  },
  // Firmware
  {
    name: '--firmware',
    short: '-f',
    arg: 'PATH',
    group: 'Firmware',
    help: 'the UF2 to run (default: env PICOW_FIRMWARE, then the cache folder)',
    example: '--firmware RPI_PICO_W-20260406-v1.28.0.uf2',
    apply: (o, v) => void (o.firmware = v),
  },
  {
    name: '--cpu',
    arg: 'interp|jit|check',
    group: 'Firmware',
    help: 'CPU engine: jit (default: hot code translated to JavaScript), interp (rp2040js interpreter), check (both in lockstep, stops at the first difference; for debugging)',
    example: '--cpu jit',
    apply: (o, v) => {
      if (!['interp', 'jit', 'check'].includes(v)) bad('--cpu', v, 'expected interp, jit or check', '--cpu jit');
      o.cpu = v as CpuEngineKind;
    },
  },
  {
    name: '--offline',
    group: 'Firmware',
    help: 'never download anything (also env PICOW_OFFLINE=1); mappings to the internet are refused',
    example: '--offline',
    apply: (o) => void (o.offline = true),
  },
  // Output
  {
    name: '--quiet',
    short: '-q',
    group: 'Output',
    help: "print only the board's output and errors",
    example: '--quiet',
    apply: (o) => void (o.quiet = true),
  },
  {
    name: '--verbose',
    short: '-v',
    group: 'Output',
    help: 'print what the simulator does (boot, uploads, resets)',
    example: '--verbose',
    apply: (o) => void (o.verbose = true),
  },
  {
    name: '--trace',
    arg: 'AREAS',
    group: 'Output',
    help: `trace areas, comma-separated: ${TRACE_AREAS.join(', ')}, all`,
    example: '--trace cyw43,net',
    apply: (o, v) => {
      try {
        o.trace.push(...parseTraceAreas(v));
      } catch (e) {
        throw new UsageError(`--trace: ${(e as Error).message}`);
      }
    },
  },
  // Network
  {
    name: '--map',
    arg: 'ADDR[:PORT]=HOST[:PORT]',
    group: 'Network',
    help: "send the board's connections to an address to a host address instead (repeatable)",
    example: '--map 192.168.253.45:8080=127.0.0.1:8080',
    apply: (o, v) => {
      checked(parseMapSpec, v);
      o.map.push(v);
    },
  },
  {
    name: '--host',
    arg: 'NAME=IP',
    group: 'Network',
    help: "answer the board's DNS queries for NAME with IP (repeatable)",
    example: '--host myserver.local=192.168.253.45',
    apply: (o, v) => {
      checked(parseHostSpec, v);
      o.host.push(v);
    },
  },
  {
    name: '--forward',
    arg: 'HOSTPORT:BOARDPORT',
    group: 'Network',
    help: 'forward TCP port HOSTPORT on 127.0.0.1 to BOARDPORT on the board, for servers running on the board (repeatable)',
    example: '--forward 8081:80',
    apply: (o, v) => {
      checked(parseForwardSpec, v);
      o.forward.push(v);
    },
  },
  {
    name: '--allow-internet',
    group: 'Network',
    help: 'let the board reach addresses that are not mapped (default: the host loopback at 10.0.2.2, --map targets and the embedded servers)',
    example: '--allow-internet',
    apply: (o) => void (o.allowInternet = true),
  },
  {
    name: '--restrict',
    group: 'Network',
    help: "the board reaches only the embedded servers, --map targets and --forward: 10.0.2.2 is not this machine's loopback (like QEMU restrict=on)",
    example: '--restrict',
    apply: (o) => void (o.restrict = true),
  },
  {
    name: '--max-tcp',
    arg: 'N',
    group: 'Network',
    help: 'TCP connections one board may have open at once (default 256; more are reset, with one warning)',
    example: '--max-tcp 64',
    apply: (o, v) => void (o.maxTcp = integer('--max-tcp', v, '--max-tcp 64', 1, 65535)),
  },
  {
    name: '--max-udp',
    arg: 'N',
    group: 'Network',
    help: 'UDP flows (host sockets) one board may have open at once (default 256; datagrams to further destinations are dropped, with one warning)',
    example: '--max-udp 64',
    apply: (o, v) => void (o.maxUdp = integer('--max-udp', v, '--max-udp 64', 1, 65535)),
  },
  {
    name: '--pcap',
    arg: 'FILE',
    group: 'Network',
    help: "write the board's network traffic to FILE (pcap, opens in Wireshark)",
    example: '--pcap run.pcap',
    apply: (o, v) => void (o.pcap = checked(parsePcapPath, v)),
  },
  {
    name: '--pcap-max',
    arg: 'SIZE',
    group: 'Network',
    help: 'stop capturing once the --pcap file reaches SIZE bytes (default 256MiB; e.g. 10MiB, 500k)',
    example: '--pcap-max 10MiB',
    apply: (o, v) => {
      try {
        o.pcapMax = parseByteSize('--pcap-max', v);
      } catch {
        bad('--pcap-max', v, 'expected a size such as 1048576, 512k or 10MiB', '--pcap-max 10MiB');
      }
      if (o.pcapMax! < 24) bad('--pcap-max', v, 'must hold at least the 24-byte pcap header', '--pcap-max 10MiB');
    },
  },
  {
    name: '--latency',
    arg: 'MS',
    group: 'Network',
    help: 'add MS milliseconds of one-way latency on the Wi-Fi link',
    example: '--latency 50',
    apply: (o, v) => void (o.latency = checked(parseLatency, v)),
  },
  {
    name: '--loss',
    arg: 'PERCENT',
    group: 'Network',
    help: 'drop PERCENT of the frames on the Wi-Fi link',
    example: '--loss 5',
    apply: (o, v) => void (o.loss = checked(parseLoss, v)),
  },
  {
    name: '--bandwidth',
    arg: 'KBPS',
    group: 'Network',
    help: 'cap the Wi-Fi link at KBPS kbit/s in each direction',
    example: '--bandwidth 1000',
    apply: (o, v) => void (o.bandwidth = checked(parseBandwidth, v)),
  },
  // Wi-Fi
  {
    name: '--ap',
    arg: 'SSID[:PASSWORD]',
    group: 'Wi-Fi',
    help: 'add an access point the board can join, or replace the one with that SSID (repeatable; without a password it is open). Always there: PicoW-Sim (password picowsim) and Wokwi-GUEST (open)',
    example: "--ap 'MyHome:my secret pass'",
    apply: (o, v) => void o.ap.push(parseApSpec(v)),
  },
  // Servers
  {
    name: '--server-port',
    arg: 'N',
    group: 'Servers',
    help: 'host port of the embedded echo server and temperature collector (default 8080; the board reaches it at 10.0.2.2:N)',
    example: '--server-port 8080',
    apply: (o, v) => void (o.serverPort = number('--server-port', v, '--server-port 8080', 0, 65535)),
  },
  {
    name: '--no-server',
    group: 'Servers',
    help: 'do not start the embedded servers',
    example: '--no-server',
    apply: (o) => void (o.noServer = true),
  },
  // Scenarios
  {
    name: '--scenario',
    arg: 'FILE',
    group: 'Scenarios',
    help: 'run a YAML scenario (board setup, Wi-Fi, faults, expectations) instead of a script',
    example: '--scenario ci/temperature.yaml',
    apply: (o, v) => void (o.scenario = v),
  },
  {
    name: '--junit',
    arg: 'FILE',
    group: 'Scenarios',
    help: 'write the results as a JUnit XML report to FILE',
    example: '--junit results.xml',
    apply: (o, v) => void (o.junit = v),
  },
  {
    name: '--json',
    group: 'Output',
    help: 'write newline-delimited JSON events to stdout instead of text (console, LED, pins, Wi-Fi, connections, results; README "JSON events")',
    example: '--json',
    apply: (o) => void (o.json = true),
  },
  {
    name: '--help',
    short: '-h',
    group: 'Output',
    help: 'show this help',
    example: '--help',
    apply: (o) => void (o.help = true),
  },
  {
    name: '--version',
    group: 'Output',
    help: 'show the version',
    example: '--version',
    apply: (o) => void (o.version = true),
  },
];

const BY_NAME = new Map<string, OptionSpec>();
for (const o of OPTIONS) {
  BY_NAME.set(o.name, o);
  if (o.short) BY_NAME.set(o.short, o);
}

function closest(name: string): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const o of OPTIONS) {
    const d = editDistance(name, o.name);
    if (d < bestD) {
      bestD = d;
      best = o.name;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

/** Parse the arguments after `picow-sim`. Throws UsageError (exit 2) with one clear line. */
export function parseArgs(argv: string[]): CliOptions {
  const o = defaultOptions();
  let positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyPositional || a === '-' || !a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositional = true;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const spec = BY_NAME.get(name);
    if (!spec) {
      const hint = closest(name);
      throw new UsageError(`unknown option '${name}'${hint ? ` (did you mean ${hint}?)` : ''}; see --help`);
    }
    if (!spec.arg) {
      if (eq > 0) throw new UsageError(`${spec.name} takes no value (got '${a}')`);
      spec.apply(o, '');
      continue;
    }
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && BY_NAME.has(next.split('=')[0]!))) {
        throw new UsageError(`${spec.name} needs a value ${spec.arg} (example: ${spec.example})`);
      }
      value = next;
      i++;
    }
    spec.apply(o, value);
  }
  if (positional.length > 1) {
    throw new UsageError(
      `one script at a time (got ${positional.map((p) => `'${p}'`).join(', ')}); use --file for more files`,
    );
  }
  o.script = positional[0] ?? null;
  if (o.quiet && o.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  if (o.restrict && o.allowInternet) throw new UsageError('--restrict and --allow-internet cannot be used together');
  if (o.script && o.scenario) throw new UsageError('give a script or --scenario, not both');
  if (o.boards.length) {
    if (o.script) throw new UsageError(`with --board, give each board its script as --board NAME=SCRIPT (got '${o.script}')`);
    if (o.scenario) throw new UsageError('--board and --scenario cannot be used together: list the boards under boards: in the scenario');
    for (const flag of ['gdb', 'uart0', 'uart1', 'repl'] as const) {
      if (o[flag] !== null && o[flag] !== false) throw new UsageError(`--${flag} goes with a run of one board, not with --board`);
    }
  }
  if (o.repl && (o.script || o.scenario || o.pty)) throw new UsageError('--repl is for an interactive session: leave out the script, --scenario and --pty');
  positional = [];
  return o;
}

export function helpText(version: string): string {
  const lines: string[] = [];
  lines.push(
    `picow-sim ${version} — a simulated Raspberry Pi Pico W running the official MicroPython firmware`,
    '',
    'Usage:',
    '  npm run sim -- [script.py] [options]      (same as: npx picow-sim [script.py] [options])',
    '  npm run sim -- wokwi [DIR] [options]      a Wokwi project (wokwi.toml, diagram.json, scenario); see: wokwi --help',
    '  npx picow-sim test [PATHS…] [options]     many scenario files in parallel (see: picow-sim test --help)',
    '',
    '  no arguments    the demo: the echo server, the board joins Wi-Fi and runs the HTTP client example',
    '  no script       an interactive MicroPython REPL (Ctrl-X exits; Ctrl-C, Ctrl-D, Ctrl-E go to MicroPython);',
    '                  with stdin not a terminal, its bytes go to the board and the run ends at --expect,',
    '                  --timeout or when the program halts',
    '  script.py       copied to the board as main.py; the board resets and its output streams here;',
    '                  exit 0 when the script finishes or --expect is seen, 1 on --timeout, an uncaught',
    '                  exception or an unmet --expect, 2 on bad arguments, a missing file or a bad firmware',
    '',
  );
  const groups: Group[] = ['Running a script', 'Several boards', 'Console', 'Firmware', 'Debugging', 'Output', 'Network', 'Wi-Fi', 'Servers', 'Scenarios'];
  for (const g of groups) {
    lines.push(`${g}:`);
    for (const o of OPTIONS.filter((x) => x.group === g)) {
      const head = `  ${o.short ? `${o.short}, ` : ''}${o.name}${o.arg ? ` ${o.arg}` : ''}`;
      lines.push(head);
      lines.push(`        ${o.help}`);
      lines.push(`        e.g. ${o.example}`);
    }
    lines.push('');
  }
  lines.push(
    'Environment:',
    '  PICOW_FIRMWARE=PATH   the UF2 to run when --firmware is not given',
    '  PICOW_OFFLINE=1       never download the firmware',
    '  PICOW_FIRMWARE_URL    where a missing firmware is downloaded from (default: the pinned micropython.org build)',
    '  XDG_CACHE_HOME        the firmware cache is $XDG_CACHE_HOME/picow-sim (default ~/.cache/picow-sim)',
    '',
    'Examples:',
    '  npm run sim                                             the demo',
    '  npm run sim -- --repl                                   REPL in the terminal (Ctrl-X exits)',
    '  npm run sim -- blink.py --timeout 10                    run a script for at most 10 s',
    "  npm run sim -- client.py --lib lib --expect 'Done'      with a lib folder, stop at 'Done'",
    '  npm run sim -- --pty /tmp/picow                         then: mpremote connect /tmp/picow',
    '  npm run sim -- --firmware prog.uf2 --timeout 5          a C SDK program (no USB: UART0 is its console)',
    '  npm run sim -- --pty /tmp/picow --uart0 tcp:5555        the REPL on a pty, UART0 on a TCP port',
    '  npm run sim -- --pty /tmp/picow --wire GP0:GP1          a jumper from UART0 TX to RX (loopback tests)',
    '',
  );
  return lines.join('\n');
}
