/**
 * `npm run server`: the echo server and temperature collector in the foreground until Ctrl-C.
 */
import { parseServerArgs, SERVER_USAGE } from './cli-args.ts';
import { PortInUseError, ServerError } from './errors.ts';
import { HostServer } from './host-server.ts';
import { stderrLogger } from './log.ts';

async function main(argv: readonly string[]): Promise<number> {
  const opts = parseServerArgs(argv);
  if (opts.help) {
    process.stdout.write(SERVER_USAGE);
    return 0;
  }
  const logger = stderrLogger();
  const server = new HostServer({
    host: opts.host,
    port: opts.port,
    methods: opts.methods,
    maxBodyBytes: opts.maxBodyBytes,
    db: opts.db,
    collectorPrefix: opts.collector ? opts.prefix : false,
    celsiusRange: { min: opts.minCelsius, max: opts.maxCelsius },
    logger,
    accessLogger: opts.quiet ? undefined : logger,
    corsOrigins: opts.cors,
    allowedHosts: opts.allowHosts,
  });
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  logger.info('server', `echo server on ${server.url}/ (methods: ${[...server.methods].join(', ')})`);
  if (server.collector) {
    logger.info('server', `temperature collector on ${server.url}${server.collector.prefix}/ (readings in ${server.dbPath})`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ServerError) {
      const hint = err instanceof PortInUseError ? ' (choose another with --port)' : '';
      process.stderr.write(`picow-sim server: ${err.message}${hint}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`picow-sim server: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
