/**
 * Errors of the host-side servers. `HttpError` ends one request with a status and a one-line
 * reason; the others stop the server from starting and carry what to change.
 */
import { PicowSimError, UsageError } from '../sim/errors.ts';

/** A request the server refuses: answered with `status` and `reason` as the plain-text body. */
export class HttpError extends PicowSimError {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** Extra response headers, e.g. `Allow` for 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${reason}`, 1);
  }
}

/** The listening address is taken by another process. */
export class PortInUseError extends PicowSimError {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use`, 2);
  }
}

/** An option value the server cannot use (bad port, size, method token, range...). */
export class ServerOptionError extends UsageError {
  constructor(
    readonly option: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${option} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** The readings database cannot be opened or used. */
export class StorageError extends PicowSimError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`, 2);
  }
}
