/**
 * `--gdb PORT`: the GDB remote serial protocol on 127.0.0.1:PORT, so `gdb-multiarch` or
 * `arm-none-eabi-gdb` (and IDEs on top of them: VS Code's Cortex-Debug with an external server)
 * debug the program on the board as through a debug probe: halt, continue, breakpoints, single
 * steps, registers (with an ARM M-profile target description) and memory — and both cores as
 * two threads. Attaching halts the board; detaching (or the debugger vanishing) lets it run on.
 *
 * Packets (GDB manual, "Remote Protocol" → "Packets", "General Query Packets", "Stop Reply
 * Packets"): ? g G p P m M X c C s S vCont vCont? Z0/Z1 z0/z1 H T D k vKill qSupported
 * QStartNoAckMode qXfer:features:read qfThreadInfo qsThreadInfo qC qAttached qThreadExtraInfo
 * qSymbol, and qRcmd (`monitor reset`, `monitor reset halt`: a power-on reset, held halted). Anything else gets the empty reply (not supported); malformed arguments and memory
 * outside the address map get `E01`.
 */
import type { Socket } from 'node:net';
import type { PicoWBoard as Board } from '../board/picow.ts';
import type { Logger } from '../log.ts';
import { encodePacket, PACKET_SIZE, RspDecoder } from './gdb-rsp.ts';
import { GdbTarget, REGISTER_COUNT, SIGINT, SIGTRAP, type ResumeAction, type StopReason } from './gdb-target.ts';
import { listenTcpPort } from './tcp-port.ts';

/** The target description: ARMv6-M (GDB manual, "ARM Features": org.gnu.gdb.arm.m-profile, m-system). */
export const TARGET_XML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>arm</architecture>
  <feature name="org.gnu.gdb.arm.m-profile">
${Array.from({ length: 13 }, (_, i) => `    <reg name="r${i}" bitsize="32" regnum="${i}" type="uint32" group="general"/>`).join('\n')}
    <reg name="sp" bitsize="32" regnum="13" type="data_ptr" group="general"/>
    <reg name="lr" bitsize="32" regnum="14" type="int" group="general"/>
    <reg name="pc" bitsize="32" regnum="15" type="code_ptr" group="general"/>
    <reg name="xpsr" bitsize="32" regnum="16" type="int" group="general"/>
  </feature>
  <feature name="org.gnu.gdb.arm.m-system">
    <reg name="msp" bitsize="32" regnum="17" type="data_ptr" group="system"/>
    <reg name="psp" bitsize="32" regnum="18" type="data_ptr" group="system"/>
    <reg name="primask" bitsize="32" regnum="19" type="int" group="system"/>
    <reg name="control" bitsize="32" regnum="20" type="int" group="system"/>
  </feature>
</target>
`;

const OK = 'OK';
const ERROR = 'E01';

function hex32le(v: number): string {
  return [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
}

function parseHex(s: string): number | null {
  return /^[0-9a-fA-F]{1,8}$/.test(s) ? parseInt(s, 16) >>> 0 : null;
}

function parseLe32(s: string): number | null {
  if (!/^[0-9a-fA-F]{8}$/.test(s)) return null;
  return Buffer.from(s, 'hex').readUInt32LE(0);
}

function hexBytes(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** `addr,len` (hex). */
function addrLen(s: string): [number, number] | null {
  const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(s);
  return m ? [parseInt(m[1]!, 16) >>> 0, parseInt(m[2]!, 16) >>> 0] : null;
}

export function stopReply(r: StopReason): string {
  if (r.kind === 'exited') return `W${r.code.toString(16).padStart(2, '0')}`;
  if (r.kind === 'terminated') return `X${r.signal.toString(16).padStart(2, '0')}`;
  return `T${r.signal.toString(16).padStart(2, '0')}thread:${r.thread.toString(16)};`;
}

/** One debugger's session on the target: packets in, replies out. */
export class GdbSession {
  private readonly decoder: RspDecoder;
  private noAck = false;
  private lastSent: Uint8Array | null = null;
  /** Thread for g/G/p/P/m/M (Hg) and for c/s (Hc). */
  private gThread = 1;
  private cThread = 1;
  /** A resume is under way: its stop reply is owed. */
  private running = false;
  /** The debugger asked to be disconnected (k). */
  onEnd: (() => void) | null = null;

  constructor(
    private readonly target: GdbTarget,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly logger: Logger,
  ) {
    this.decoder = new RspDecoder({
      packet: (p) => this.onPacket(Buffer.from(p).toString('latin1')),
      bad: (why) => {
        this.logger.info('gdb', `bad packet (${why}): asked again`);
        if (!this.noAck) this.write(Uint8Array.of(0x2d));
      },
      interrupt: () => this.interrupt(),
      ack: (ok) => {
        if (!ok && this.lastSent) this.write(this.lastSent);
      },
    });
    target.onStop = (r) => {
      if (!this.running) return;
      this.running = false;
      this.send(this.stopReply(r));
    };
  }

  receive(bytes: Uint8Array): void {
    this.decoder.push(bytes);
  }

  private send(payload: string): void {
    const p = encodePacket(payload);
    this.lastSent = p;
    if (this.logger.tracing('gdb')) this.logger.trace('gdb', `<- ${payload.length > 200 ? payload.slice(0, 200) + '…' : payload}`);
    this.write(p);
  }

  private interrupt(): void {
    if (!this.running) return;
    this.running = false;
    this.send(this.stopReply(this.target.halt(SIGINT)));
  }

  /** A stop reply; the thread that stopped becomes the current one (GDB reads its registers next without Hg). */
  private stopReply(r: StopReason): string {
    if (r.kind === 'signal') this.gThread = r.thread;
    return stopReply(r);
  }

  private onPacket(p: string): void {
    if (!this.noAck) this.write(Uint8Array.of(0x2b));
    if (this.logger.tracing('gdb')) this.logger.trace('gdb', `-> ${p.length > 200 ? p.slice(0, 200) + '…' : p}`);
    const reply = this.handle(p);
    if (reply !== null) this.send(reply);
    if (p === 'QStartNoAckMode') this.noAck = true;
  }

  private validThread(id: string): number | null {
    if (id === '-1' || id === '0') return 0; // any / all
    const n = parseHex(id);
    return n !== null && n >= 1 && n <= this.target.threadCount ? n : null;
  }

  /** The reply, or null when it comes later (a resume's stop reply) or never (k). */
  handle(p: string): string | null {
    const t = this.target;
    if (this.running && p !== '?' && !p.startsWith('vCont')) {
      // While running only ^C is expected (all-stop mode); anything else waits its turn as an error.
      return ERROR;
    }
    const c = p[0];
    const rest = p.slice(1);
    switch (c) {
      case '?':
        return this.stopReply(t.lastStop);
      case 'g': {
        let s = '';
        for (let n = 0; n < REGISTER_COUNT; n++) s += hex32le(t.readRegister(this.gThread, n) ?? 0);
        return s;
      }
      case 'G': {
        if (rest.length < REGISTER_COUNT * 8) return ERROR;
        for (let n = 0; n < REGISTER_COUNT; n++) {
          const v = parseLe32(rest.slice(n * 8, n * 8 + 8));
          if (v === null) return ERROR;
          t.writeRegister(this.gThread, n, v);
        }
        return OK;
      }
      case 'p': {
        const n = parseHex(rest);
        const v = n === null ? null : t.readRegister(this.gThread, n);
        return v === null ? ERROR : hex32le(v);
      }
      case 'P': {
        const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]{8})$/.exec(rest);
        const n = m ? parseHex(m[1]!) : null;
        const v = m ? parseLe32(m[2]!) : null;
        return n !== null && v !== null && t.writeRegister(this.gThread, n, v) ? OK : ERROR;
      }
      case 'm': {
        const al = addrLen(rest);
        if (!al) return ERROR;
        const data = t.readMemory(this.gThread, al[0], Math.min(al[1], PACKET_SIZE / 2 - 8));
        return data ? Buffer.from(data).toString('hex') : ERROR;
      }
      case 'M': {
        const [head, hex] = rest.split(':');
        const al = head ? addrLen(head) : null;
        const data = hex !== undefined ? hexBytes(hex) : null;
        if (!al || !data || data.length !== al[1]) return ERROR;
        return t.writeMemory(this.gThread, al[0], data) ? OK : ERROR;
      }
      case 'X': {
        const colon = rest.indexOf(':');
        const al = colon > 0 ? addrLen(rest.slice(0, colon)) : null;
        if (!al) return ERROR;
        const data = new Uint8Array(Buffer.from(rest.slice(colon + 1), 'latin1'));
        if (data.length !== al[1]) return ERROR;
        return t.writeMemory(this.gThread, al[0], data) ? OK : ERROR;
      }
      case 'Z':
      case 'z': {
        const m = /^([0-4]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]+)/.exec(rest);
        if (!m) return ERROR;
        if (m[1] !== '0' && m[1] !== '1') return ''; // watchpoints: not supported
        const addr = parseInt(m[2]!, 16) & ~1;
        if (c === 'Z') t.breakpoints.add(addr >>> 0);
        else t.breakpoints.delete(addr >>> 0);
        return OK;
      }
      case 'H': {
        const n = this.validThread(rest.slice(1));
        if (n === null || (rest[0] !== 'g' && rest[0] !== 'c')) return ERROR;
        if (rest[0] === 'g') this.gThread = n || 1;
        else this.cThread = n;
        return OK;
      }
      case 'T':
        return this.validThread(rest) ? OK : ERROR;
      case 'c':
      case 'C':
      case 's':
      case 'S': {
        // Legacy resume: an optional address (c/s) or signal;addr (C/S); the signal is not delivered.
        const addr = c === 'c' || c === 's' ? rest : (rest.split(';')[1] ?? '');
        if (addr) {
          const a = parseHex(addr);
          if (a === null) return ERROR;
          t.writeRegister(this.cThread || 1, 15, a);
        }
        const actions: (ResumeAction | undefined)[] = [];
        const step = c === 's' || c === 'S';
        for (let i = 0; i < t.threadCount; i++) actions.push(step ? (i + 1 === (this.cThread || 1) ? 's' : undefined) : 'c');
        return this.resume(actions);
      }
      case 'v':
        return this.handleV(p);
      case 'q':
      case 'Q':
        return this.handleQuery(p);
      case 'D':
        this.running = false;
        t.detach();
        return OK;
      case 'k':
        this.running = false;
        t.detach();
        queueMicrotask(() => this.onEnd?.());
        return null;
      default:
        return '';
    }
  }

  private resume(actions: (ResumeAction | undefined)[]): null {
    this.running = true;
    this.target.resume(actions);
    return null;
  }

  private handleV(p: string): string | null {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      if (this.running) return ERROR;
      const actions: (ResumeAction | undefined)[] = new Array(this.target.threadCount).fill(undefined);
      for (const part of p.slice(6).split(';')) {
        const m = /^([cCsS])(?:[0-9a-fA-F]{2})?(?::([0-9a-fA-F]+|-1))?$/.exec(part);
        if (!m) {
          if (/^t(:|$)/.test(part)) continue; // stop a thread: they all are, in all-stop mode
          return ERROR;
        }
        const action = m[1]!.toLowerCase() as ResumeAction;
        const id = m[2];
        const n = id === undefined || id === '-1' ? 0 : this.validThread(id);
        if (n === null) return ERROR;
        // The first action that applies to a thread wins (GDB manual, "vCont").
        for (let i = 0; i < actions.length; i++) if ((n === 0 || n === i + 1) && actions[i] === undefined) actions[i] = action;
      }
      return this.resume(actions);
    }
    if (p === 'vKill' || p.startsWith('vKill;')) {
      this.target.detach();
      return OK;
    }
    return '';
  }

  private handleQuery(p: string): string {
    const t = this.target;
    if (p.startsWith('qSupported')) {
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;vContSupported+;QStartNoAckMode+`;
    }
    if (p === 'QStartNoAckMode') return OK;
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) return ERROR;
      if (m[1] !== 'target.xml') return 'E00';
      const off = parseInt(m[2]!, 16);
      const len = Math.min(parseInt(m[3]!, 16), PACKET_SIZE - 8);
      const chunk = TARGET_XML.slice(off, off + len);
      return (off + len >= TARGET_XML.length ? 'l' : 'm') + chunk;
    }
    if (p === 'qfThreadInfo') return 'm' + Array.from({ length: t.threadCount }, (_, i) => (i + 1).toString(16)).join(',');
    if (p === 'qsThreadInfo') return 'l';
    if (p === 'qC') return `QC${this.gThread.toString(16)}`;
    if (p === 'qAttached' || p.startsWith('qAttached:')) return '1';
    if (p.startsWith('qThreadExtraInfo,')) {
      const n = this.validThread(p.slice(17));
      return n ? Buffer.from(t.describe(n), 'latin1').toString('hex') : ERROR;
    }
    if (p.startsWith('qSymbol')) return OK;
    if (p.startsWith('qRcmd,')) {
      // `monitor …`: what a probe server offers for a restart (Cortex-Debug's `monitor reset halt`).
      const cmd = hexBytes(p.slice(6));
      const text = cmd ? Buffer.from(cmd).toString('latin1').trim() : '';
      if (/^reset( halt| init)?$/.test(text)) {
        t.reset();
        return OK;
      }
      this.send('O' + Buffer.from(`picow-sim: unknown monitor command '${text}' (there is: reset, reset halt)\n`, 'latin1').toString('hex'));
      return OK;
    }
    return '';
  }

  /** The debugger is gone: the board runs on. */
  end(): void {
    this.running = false;
    if (this.target.onStop) this.target.onStop = null;
    this.target.detach();
  }

  /** The debugger connected: the board halts, as under a probe. */
  begin(): void {
    this.target.halt(SIGTRAP);
  }
}

export interface GdbServer {
  readonly port: number;
  readonly target: GdbTarget;
  close(): Promise<void>;
}

/**
 * Serve the GDB remote protocol for `board` on 127.0.0.1:`port` (0: a free port). With `wait`,
 * the board is held at reset until a debugger lets it run.
 */
export async function startGdbServer(board: Board, o: { port: number; logger: Logger; wait?: boolean }): Promise<GdbServer> {
  const target = new GdbTarget(board);
  if (o.wait) target.halt(SIGTRAP);
  try {
    const tcp = await listenTcpPort({
      port: o.port,
      flag: '--gdb',
      what: 'the GDB port',
      logger: o.logger,
      onClient: (socket: Socket) => {
        // A debugger attached is a tool at the board: its waits follow the wall clock.
        const hold = board.hostIo.begin('debugger');
        const session = new GdbSession(
          target,
          (bytes) => {
            if (socket.writable) socket.write(bytes);
          },
          o.logger,
        );
        session.onEnd = () => socket.end();
        session.begin();
        socket.on('data', (chunk: Buffer) => session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
        return () => {
          session.end();
          hold.release();
        };
      },
    });
    return {
      port: tcp.port,
      target,
      close: async () => {
        await tcp.close();
        target.dispose();
      },
    };
  } catch (e) {
    target.dispose();
    throw e;
  }
}
