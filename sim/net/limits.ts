/**
 * Hard limits on the state a board (or anything sending on the LAN) can make the host keep.
 * Every limit, when hit, drops or refuses the newcomer — never a live entry — and says so in one
 * warning line (once per limit and board, so a flood does not flood the log too).
 */
import type { Logger } from '../log.ts';

export interface NetLimits {
  /** TCP connections per board address, any state (`--max-tcp`). */
  tcpPerBoard: number;
  /** Half-open TCP connections per board: SYN seen, host connect or handshake not finished (SYN backlog). */
  synBacklog: number;
  /** UDP flows (host sockets) per board address (`--max-udp`). */
  udpPerBoard: number;
  /** MAC addresses the switch learns per port (like a switch's port-security maximum). */
  macsPerPort: number;
  /** Out-of-order segments held per TCP connection. */
  oooSegments: number;
  /** Out-of-order bytes held per TCP connection (also capped by the receive window). */
  oooBytes: number;
  /** Zero-window probes without the window reopening before the connection is reset. */
  persistProbes: number;
}

export const DEFAULT_LIMITS: NetLimits = {
  tcpPerBoard: 256,
  synBacklog: 64,
  udpPerBoard: 256,
  macsPerPort: 64,
  oooSegments: 256,
  oooBytes: 65_535,
  // With the persist back-off capped at 5 s this gives up after about ten minutes without a window.
  persistProbes: 120,
};

export function resolveLimits(partial?: Partial<NetLimits>): NetLimits {
  const l = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof NetLimits)[]) {
    const v = partial?.[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`network limit ${k} must be a positive integer (got ${v})`);
    l[k] = v;
  }
  return l;
}

/** One warning per limit and subject (a board address, a switch port). */
export function limitHit(log: Logger, what: string, subject: string, detail: string): void {
  log.warnOnce('net', `limit:${what}:${subject}`, `${subject}: ${detail}`);
}
