/**
 * One logger for the whole simulator. Levels: error < warn < info < debug; trace output is
 * enabled per area (`--trace cyw43,net`). Every module takes a `Logger` (or a child of one)
 * instead of writing to the console itself.
 */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const LEVEL_RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** Areas that `--trace` accepts. */
export const TRACE_AREAS = [
  'bootrom',
  'board',
  'usb',
  'uart',
  'cyw43',
  'net',
  'tcp',
  'dhcp',
  'dns',
  'led',
  'sensors',
  'onewire',
  'repl',
  'scenario',
  'cpu',
  'gdb',
] as const;
export type TraceArea = (typeof TRACE_AREAS)[number];

export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  trace?: Iterable<string>;
  sink?: LogSink;
}

export class Logger {
  level: LogLevel;
  readonly traceAreas: Set<string>;
  private readonly sink: LogSink;
  private readonly onceKeys = new Set<string>();

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'warn';
    this.traceAreas = new Set(opts.trace ?? []);
    this.sink = opts.sink ?? ((line) => process.stderr.write(line + '\n'));
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= LEVEL_RANK[this.level] && level !== 'silent';
  }

  tracing(area: string): boolean {
    return this.traceAreas.has(area) || this.traceAreas.has('all');
  }

  error(area: string, msg: string): void {
    if (this.enabled('error')) this.sink(`[${area}] error: ${msg}`);
  }
  warn(area: string, msg: string): void {
    if (this.enabled('warn')) this.sink(`[${area}] warning: ${msg}`);
  }
  info(area: string, msg: string): void {
    if (this.enabled('info')) this.sink(`[${area}] ${msg}`);
  }
  debug(area: string, msg: string): void {
    if (this.enabled('debug')) this.sink(`[${area}] ${msg}`);
  }
  /** Trace output for one area; `msg` may be a function so hot paths build no strings when off. */
  trace(area: string, msg: string | (() => string)): void {
    if (this.tracing(area)) this.sink(`[${area}] ${typeof msg === 'function' ? msg() : msg}`);
  }
  /** A warning printed once per key (unknown ioctl codes and the like). */
  warnOnce(area: string, key: string, msg: string): void {
    if (this.onceKeys.has(key)) return;
    this.onceKeys.add(key);
    this.warn(area, msg);
  }
}

/** A logger that prints nothing: the default for library use and unit tests. */
export function silentLogger(): Logger {
  return new Logger({ level: 'silent' });
}

export function parseTraceAreas(spec: string): string[] {
  const areas = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of areas) {
    if (a !== 'all' && !(TRACE_AREAS as readonly string[]).includes(a)) {
      throw new Error(`unknown trace area '${a}' (known: ${TRACE_AREAS.join(', ')}, all)`);
    }
  }
  return areas;
}
