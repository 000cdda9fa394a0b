/**
 * Reads a request body into memory with a size limit. `node:http` has already undone the
 * framing (Content-Length or chunked, RFC 9112 §6); this only counts and collects.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/** The client went away before its body was complete. */
export class BodyAbortedError extends Error {
  constructor(readonly received: number) {
    super(`client closed the connection after ${received} body bytes`);
    this.name = 'BodyAbortedError';
  }
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      fn();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        settle(() => reject(tooLarge(maxBytes)));
        req.resume(); // keep discarding so the 413 is not lost to a reset
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle(() => resolve(Buffer.concat(chunks, size))));
    req.once('aborted', () => settle(() => reject(new BodyAbortedError(size))));
    req.once('error', () => settle(() => reject(new BodyAbortedError(size))));
    req.once('close', () => {
      if (!req.complete) settle(() => reject(new BodyAbortedError(size)));
    });
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `request body larger than ${maxBytes} bytes`);
}
