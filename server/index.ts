/**
 * The host-side servers as a library: the echo server with the temperature collector
 * (`HostServer`), the embedded start used by the simulator's CLI, and the pieces tests use.
 */
export {
  HostServer,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_MAX_BODY,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  SERVER_NAME,
  type HostServerOptions,
  type HostServerEvents,
} from './host-server.ts';
export { startEmbeddedServer, type EmbeddedStart } from './embedded.ts';
export { TemperatureCollector, DEFAULT_PREFIX, type TemperatureCollectorOptions } from './temperature-collector.ts';
export { TemperatureStore, MEMORY_DB } from './temperature-store.ts';
export { defaultDbPath, userDataDir } from './data-dir.ts';
export {
  DEFAULT_MIN_CELSIUS,
  DEFAULT_MAX_CELSIUS,
  type StoredReading,
  type CelsiusRange,
} from './temperature-reading.ts';
export { DEFAULT_METHODS } from './http-method.ts';
export { formatAccessLine, type AccessLogEntry } from './access-log.ts';
export { HttpError, PortInUseError, ServerError, ServerOptionError, StorageError } from './errors.ts';
export { SILENT_LOGGER, stderrLogger, type ServerLogger } from './log.ts';
export { parseServerArgs, SERVER_USAGE, type ServerCliOptions } from './cli-args.ts';
