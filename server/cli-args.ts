/**
 * `npm run server -- [options]`: the command line as a pure parser, so it is testable alone.
 */
import { ServerOptionError } from './errors.ts';
import { parseByteSize } from './byte-size.ts';
import { parseOrigin } from './request-guard.ts';
import { parseMethodList } from './http-method.ts';
import { DEFAULT_HOST, DEFAULT_MAX_BODY, DEFAULT_PORT } from './host-server.ts';
import { DEFAULT_PREFIX } from './temperature-collector.ts';
import { DEFAULT_MAX_CELSIUS, DEFAULT_MIN_CELSIUS } from './temperature-reading.ts';

export interface ServerCliOptions {
  help: boolean;
  host: string;
  port: number;
  methods: string[];
  maxBodyBytes: number;
  /** Undefined: the default file in the user's data folder. */
  db: string | undefined;
  collector: boolean;
  prefix: string;
  minCelsius: number;
  maxCelsius: number;
  quiet: boolean;
  /** Origins allowed to write cross-origin (`--cors`). */
  cors: string[];
  /** Host names the server answers to besides IP addresses and localhost (`--allow-host`). */
  allowHosts: string[];
}

export const SERVER_USAGE = `Usage: npm run server -- [options]

The article's echo server and the temperature collector, on one HTTP port.

Options:
  --port N             port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host ADDR          address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 or :: for all)
  --method NAME        also answer method NAME like POST (repeatable), e.g. --method BREW
  --max-body SIZE      largest request body: bytes, or with k/KiB/M/MiB (default 1MiB)
  --db PATH            readings database file, or :memory: (default: in the user's data folder)
  --prefix PATH        collector path prefix (default ${DEFAULT_PREFIX})
  --no-collector       echo server only
  --min-celsius N      lowest accepted reading (default ${DEFAULT_MIN_CELSIUS})
  --max-celsius N      highest accepted reading (default ${DEFAULT_MAX_CELSIUS})
  --quiet              no access log
  --cors ORIGIN        let web pages from ORIGIN (e.g. http://localhost:3000, or *) write
                       cross-origin (repeatable; default: cross-origin writes get 403)
  --allow-host NAME    answer requests whose Host is NAME (repeatable; default: only IP
                       addresses and localhost, against DNS rebinding)
  -h, --help           this text
`;

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new ServerOptionError('--port', text, 'expected 0..65535');
  return Number(text);
}

function parseNumber(option: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new ServerOptionError(option, text, 'expected a number');
  return n;
}

export function parseServerArgs(argv: readonly string[]): ServerCliOptions {
  const o: ServerCliOptions = {
    help: false,
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    methods: [],
    maxBodyBytes: DEFAULT_MAX_BODY,
    db: undefined,
    collector: true,
    prefix: DEFAULT_PREFIX,
    minCelsius: DEFAULT_MIN_CELSIUS,
    maxCelsius: DEFAULT_MAX_CELSIUS,
    quiet: false,
    cors: [],
    allowHosts: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new ServerOptionError(flag, '', 'needs a value');
      return next;
    };
    switch (flag) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--port':
        o.port = parsePort(value());
        break;
      case '--host':
        o.host = value();
        break;
      case '--method':
        o.methods.push(value());
        break;
      case '--max-body':
        o.maxBodyBytes = parseByteSize('--max-body', value());
        break;
      case '--db':
        o.db = value();
        if (o.db === '') throw new ServerOptionError('--db', '', 'needs a path or :memory:');
        break;
      case '--prefix':
        o.prefix = value();
        if (!/^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/.test(o.prefix)) {
          throw new ServerOptionError('--prefix', o.prefix, 'expected an absolute path like /temperature');
        }
        break;
      case '--no-collector':
        o.collector = false;
        break;
      case '--min-celsius':
        o.minCelsius = parseNumber('--min-celsius', value());
        break;
      case '--max-celsius':
        o.maxCelsius = parseNumber('--max-celsius', value());
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--cors': {
        const v = value();
        const origin = parseOrigin(v);
        if (origin === null) throw new ServerOptionError('--cors', v, 'expected an origin such as http://localhost:3000, or *');
        o.cors.push(origin);
        break;
      }
      case '--allow-host': {
        const v = value().trim().toLowerCase();
        if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v)) throw new ServerOptionError('--allow-host', v, 'expected a host name');
        o.allowHosts.push(v);
        break;
      }
      default:
        throw new ServerOptionError(flag, inline ?? '', 'unknown option (see --help)');
    }
  }
  o.methods = parseMethodList(o.methods);
  if (o.minCelsius >= o.maxCelsius) {
    throw new ServerOptionError('--min-celsius', String(o.minCelsius), `must be below --max-celsius (${o.maxCelsius})`);
  }
  return o;
}
