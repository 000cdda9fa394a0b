/**
 * A complete HTTP/1.1 response as bytes, for the moments no `ServerResponse` exists: a request
 * the parser refused or a connection that timed out before its request line ended. Always closes.
 */
import { STATUS_CODES } from 'node:http';

export function encodeRawResponse(
  status: number,
  body: string,
  serverName: string,
  date: Date = new Date(),
): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n` +
    `Server: ${serverName}\r\n` +
    `Date: ${date.toUTCString()}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${payload.length}\r\n` +
    'Connection: close\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}
