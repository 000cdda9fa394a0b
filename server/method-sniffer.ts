/**
 * The door in front of `node:http`'s parser. That parser refuses every method outside its fixed
 * list, while RFC 9110 §9.1 allows any token. The sniffer reads the first request line's method
 * from a new connection; a method the parser knows passes unchanged, any other token is swapped
 * for a carrier method the parser accepts with the same message framing, and the real one is
 * handed over beside the socket. The server answers one request per connection (as the article's
 * HTTP/1.0 server does), so the first request line is the only one that needs looking at.
 */
import type { Socket } from 'node:net';
import { NODE_PARSER_METHODS, replaceMethod, scanRequestMethod } from './http-method.ts';

/** Parsed by `node:http` with ordinary request framing (RFC 9112 §6.3: Content-Length or chunked). */
export const CARRIER_METHOD = 'POST';

export interface SniffResult {
  socket: Socket;
  /** The request's real method when it is not one `node:http` can parse, else undefined. */
  extensionMethod?: string;
}

export interface MethodSnifferOptions {
  /** Give up on a connection whose first request line has not shown its method by then. */
  timeoutMs: number;
  /** Called with the socket once its method is known (or it is clearly not HTTP). */
  onReady: (result: SniffResult) => void;
  /** Called when a connection stalls before its method; the sniffer then closes it. */
  onTimeout: (socket: Socket) => void;
}

export class MethodSniffer {
  constructor(private readonly opts: MethodSnifferOptions) {}

  accept(socket: Socket): void {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      cleanup();
      this.opts.onTimeout(socket);
    }, this.opts.timeoutMs);
    const onError = (): void => {
      cleanup();
      socket.destroy();
    };
    const onClose = (): void => cleanup();
    // The client gave up before sending a method: free the connection now, not at the timeout.
    const onEnd = (): void => onError();
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const scan = scanRequestMethod(buffered);
      if (scan.kind === 'need-more') return;
      cleanup();
      socket.pause();
      let extensionMethod: string | undefined;
      if (scan.kind === 'method' && !NODE_PARSER_METHODS.has(scan.method)) {
        extensionMethod = scan.method;
        buffered = replaceMethod(buffered, scan.start, scan.end, CARRIER_METHOD);
      }
      socket.unshift(buffered);
      this.opts.onReady({ socket, extensionMethod });
      socket.resume();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener('end', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  }
}
