/**
 * Errors of the REPL client. All are run failures (exit code 1): the board was reachable as
 * configured, but what was asked of it did not happen.
 */
import { RunFailure } from '../errors.ts';

function tail(bytes: Uint8Array, max = 120): string {
  const text = Buffer.from(bytes.subarray(Math.max(0, bytes.length - max))).toString('latin1');
  return JSON.stringify(text);
}

/** Nothing (or not the expected reply) arrived in time. */
export class ReplTimeoutError extends RunFailure {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    /** What had arrived meanwhile (not yet consumed). */
    readonly received: Uint8Array,
  ) {
    super(
      `timed out after ${formatMs(timeoutMs)} waiting for ${what}` +
        (received.length ? `; the board sent ${tail(received)}` : '; the board sent nothing'),
    );
  }
}

/** The link broke or the board did something else (reset, stray output) in the middle of an exchange. */
export class ReplInterruptedError extends RunFailure {
  constructor(
    readonly reason: string,
    readonly received: Uint8Array,
  ) {
    super(`REPL exchange interrupted: ${reason}`);
  }
}

/** The board answered, but not as the raw REPL protocol says. */
export class ReplProtocolError extends RunFailure {
  constructor(message: string) {
    super(`REPL protocol error: ${message}`);
  }
}

/**
 * The code ran on the board and raised an exception. `traceback` is MicroPython's own text
 * (`Traceback (most recent call last): ...`), `type` and `detail` come from its last line.
 */
export class MicroPythonError extends RunFailure {
  /** Exception class name as MicroPython printed it, e.g. `ValueError` or `OSError`. */
  readonly type: string;
  /** The text after `Type: ` on the last line (may be empty). */
  readonly detail: string;
  constructor(
    readonly traceback: string,
    /** What the code printed on stdout before it failed. */
    readonly stdout: string = '',
  ) {
    const last = lastLine(traceback);
    const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(last);
    const type = m ? m[1]! : 'Exception';
    const detail = m ? (m[2] ?? '') : last;
    super(last ? `MicroPython ${last}` : 'MicroPython raised an exception');
    this.type = type;
    this.detail = detail;
  }
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length ? lines[lines.length - 1]!.trim() : '';
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(2)} s` : `${ms} ms`;
}
