/**
 * A TCP port for one tool at a time on 127.0.0.1, as the RFC 2217 and GDB servers use it: port 0
 * takes a free one; a second client while one is connected gets one line saying why and is
 * closed; when the client leaves the port stays open for the next. Only loopback: the board's
 * console and memory are not offered to the network.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PicowSimError } from '../errors.ts';
import type { Logger } from '../log.ts';

export class PortUnavailableError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

export interface TcpPortOptions {
  /** 0: any free port. */
  port: number;
  /** The flag, for messages ("--serial-port"). */
  flag: string;
  /** What is served, for messages ("the console (RFC 2217)"). */
  what: string;
  logger: Logger;
  /** A client connected; returns what to do when it leaves. */
  onClient(socket: Socket): () => void;
}

export interface TcpPort {
  readonly port: number;
  /** A client is connected. */
  readonly busy: boolean;
  close(): Promise<void>;
}

export const LOOPBACK = '127.0.0.1';
/** How long a client connecting while another is connected waits for that one to leave. */
const HANDOVER_MS = 250;

export async function listenTcpPort(o: TcpPortOptions): Promise<TcpPort> {
  let current: Socket | null = null;
  const area = o.flag.replace(/^--/, '');
  const admit = (socket: Socket): void => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (current) {
      o.logger.info(area, `refused ${peer}: another client is connected`);
      socket.end(`picow-sim: ${o.what} already has a client; one at a time (disconnect the other first)\r\n`);
      return;
    }
    current = socket;
    o.logger.info(area, `client ${peer} connected`);
    const leave = o.onClient(socket);
    socket.once('close', () => {
      if (current === socket) current = null;
      o.logger.info(area, `client ${peer} left`);
      leave();
    });
  };
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined); // a vanished client: 'close' follows
    const old = current;
    if (!old) return admit(socket);
    // A tool that closes and reconnects at once (a restart) may be seen connecting before its old
    // connection's end is read: the newcomer is decided when the old client leaves, or refused
    // after HANDOVER_MS.
    const decide = (): void => {
      clearTimeout(timer);
      old.off('close', decide);
      if (!socket.destroyed) admit(socket);
    };
    const timer = setTimeout(decide, HANDOVER_MS);
    old.once('close', decide);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? `port ${o.port} is in use` : e.code === 'EACCES' ? `no permission to listen on port ${o.port}` : e.message;
      reject(new PortUnavailableError(`${o.flag} ${o.port}: ${why}`));
    });
    server.listen(o.port, LOOPBACK, () => resolve());
  });
  server.on('error', (e) => o.logger.warn(area, e.message));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get busy() {
      return current !== null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // What was written last (a debugger's exit reply) still goes out; a client that does not
        // close its end is cut off after a second.
        const last = current;
        last?.end();
        const t = setTimeout(() => last?.destroy(), 1000);
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
