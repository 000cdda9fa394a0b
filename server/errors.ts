/**
 * Errors of the host-side servers. `HttpError` ends one request with a status and a one-line
 * reason; the others stop the server from starting and carry what to change. `server/` stands
 * alone, so these have their own base; like the simulator's errors they carry the exit code a
 * command uses for them.
 */

/** Base of the servers' errors: one line of message, and the exit code for it (2: what the user gave). */
export class ServerError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A request the server refuses: answered with `status` and `reason` as the plain-text body. */
export class HttpError extends ServerError {
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
export class PortInUseError extends ServerError {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use`, 2);
  }
}

/** An option value the server cannot use (bad port, size, method token, range...). */
export class ServerOptionError extends ServerError {
  constructor(
    readonly option: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${option} ${JSON.stringify(value)}: ${reason}`, 2);
  }
}

/** The readings database cannot be opened or used. */
export class StorageError extends ServerError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`, 2);
  }
}
