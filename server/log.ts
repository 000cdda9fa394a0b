/**
 * What the servers log through. `server/` stands alone, so it takes any object with these
 * methods (the simulator's `Logger` is one) and brings its own for the standalone command.
 */
export interface ServerLogger {
  info(area: string, msg: string): void;
  warn(area: string, msg: string): void;
  error(area: string, msg: string): void;
}

/** Logs nothing (the default). */
export const SILENT_LOGGER: ServerLogger = { info() {}, warn() {}, error() {} };

/** `[area] message` lines (`[area] warning: …`, `[area] error: …`) on stderr: the standalone server's. */
export function stderrLogger(write: (line: string) => void = (line) => void process.stderr.write(line + '\n')): ServerLogger {
  return {
    info: (area, msg) => write(`[${area}] ${msg}`),
    warn: (area, msg) => write(`[${area}] warning: ${msg}`),
    error: (area, msg) => write(`[${area}] error: ${msg}`),
  };
}
