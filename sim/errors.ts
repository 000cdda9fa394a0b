/**
 * Typed errors. Every error the user can cause carries what was wrong and where, so the CLI can
 * print one clear line and pick the exit code without a stack trace.
 */
export class PicowSimError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** The user gave something unusable: a bad argument, a missing file, a malformed scenario. */
export class UsageError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A firmware image that cannot be used (missing, truncated, wrong family...). */
export class FirmwareError extends PicowSimError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`, 2);
  }
}

/** A run that ended without meeting its goal: timeout, uncaught exception, expectation not met. */
export class RunFailure extends PicowSimError {
  constructor(message: string) {
    super(message, 1);
  }
}
