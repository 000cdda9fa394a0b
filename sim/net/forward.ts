/**
 * Inbound port forwards (`--forward HOSTPORT:BOARDPORT`): a TCP listener on 127.0.0.1 whose
 * connections are carried to a server on the board. Listening alone does not hold the clock
 * back; each accepted connection does (through the TCP NAT).
 */
import { createServer, type Server } from 'node:net';
import type { Logger } from '../log.ts';
import { PicowSimError } from '../errors.ts';
import type { ForwardRule } from './policy.ts';
import type { TcpNat } from './tcp-nat.ts';
import { ipToString } from './wire/ipv4.ts';

export interface ActiveForward {
  rule: ForwardRule;
  /** The port actually bound on 127.0.0.1 (differs from rule.hostPort when that was 0). */
  hostPort: number;
  boardAddr: number;
}

export class PortForwarder {
  private servers: Server[] = [];
  readonly active: ActiveForward[] = [];

  constructor(
    private readonly nat: TcpNat,
    private readonly log: Logger,
    private readonly gatewayIp: number,
    private readonly defaultBoard: () => number,
  ) {}

  async listen(rule: ForwardRule): Promise<ActiveForward> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const fwd: ActiveForward = { rule, hostPort: rule.hostPort, boardAddr: rule.boardAddr ?? this.defaultBoard() };
    server.on('connection', (socket) => {
      const board = rule.boardAddr ?? this.defaultBoard();
      this.log.debug('tcp', `forward 127.0.0.1:${fwd.hostPort} -> ${ipToString(board)}:${rule.boardPort} from ${socket.remoteAddress}:${socket.remotePort}`);
      this.nat.openInbound(socket, this.gatewayIp, board, rule.boardPort);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new PicowSimError(`--forward ${rule.hostPort}:${rule.boardPort}: cannot listen on 127.0.0.1:${rule.hostPort} (${e.code ?? e.message})`)),
      );
      server.listen(rule.hostPort, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') fwd.hostPort = addr.port;
    this.servers.push(server);
    this.active.push(fwd);
    return fwd;
  }

  async close(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
