/**
 * The article's echo server, as observable behaviour: GET answers `Hello, world!`, HEAD the same
 * headers without a body, and every other registered method `This is a <METHOD> request.
 * Received: <body>`. Methods that are not registered get 501, as Python's `http.server` does.
 */
import { HttpError } from './errors.ts';

export const HELLO_BODY = 'Hello, world!';

export interface EchoReply {
  status: number;
  body: Buffer;
}

/** Whether a registered method carries a body that should be read and echoed. */
export function echoesBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export function echoReply(method: string, body: Buffer, registered: ReadonlySet<string>): EchoReply {
  if (!registered.has(method)) throw unsupportedMethod(method);
  if (method === 'GET' || method === 'HEAD') return { status: 200, body: Buffer.from(HELLO_BODY) };
  return {
    status: 200,
    body: Buffer.concat([Buffer.from(`This is a ${method} request. Received: `, 'latin1'), body]),
  };
}

/** Python's `BaseHTTPRequestHandler` answers a method without a `do_<METHOD>` with this. */
export function unsupportedMethod(method: string): HttpError {
  return new HttpError(501, `Unsupported method ('${method}')`);
}
