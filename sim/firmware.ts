/**
 * Where the MicroPython firmware comes from. Resolution order: `--firmware PATH`, env
 * `PICOW_FIRMWARE`, then the user cache folder (`$XDG_CACHE_HOME/picow-sim/` or
 * `~/.cache/picow-sim/`), where the pinned official build is downloaded on first use.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseUf2 } from './board/uf2.ts';
import { FirmwareError, PicowSimError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';

/** The official build the simulator is tested against. */
export const PINNED_FIRMWARE = {
  file: 'RPI_PICO_W-20260406-v1.28.0.uf2',
  version: 'v1.28.0',
  url: 'https://micropython.org/resources/firmware/RPI_PICO_W-20260406-v1.28.0.uf2',
  page: 'https://micropython.org/download/RPI_PICO_W/',
} as const;

export type FirmwareSource = 'option' | 'env' | 'cache' | 'download';

export interface ResolvedFirmware {
  path: string;
  source: FirmwareSource;
}

/** No firmware anywhere (and none could be downloaded): exit code 2 with one line of advice. */
export class FirmwareMissingError extends PicowSimError {
  constructor(message: string) {
    super(message, 2);
  }
}

type Env = Record<string, string | undefined>;

/** `$XDG_CACHE_HOME/picow-sim` or `~/.cache/picow-sim`. */
export function cacheDir(env: Env = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache');
  return join(base, 'picow-sim');
}

export function isOffline(env: Env = process.env): boolean {
  const v = (env.PICOW_OFFLINE ?? '').toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** One line telling the user how to get a firmware in place. */
export function missingFirmwareAdvice(env: Env = process.env): string {
  const dest = join(cacheDir(env), PINNED_FIRMWARE.file);
  return (
    `put a MicroPython UF2 for the Pico W at ${dest} (download ${PINNED_FIRMWARE.file} from ` +
    `${PINNED_FIRMWARE.page}), or run 'npm run firmware', or pass --firmware PATH or set PICOW_FIRMWARE`
  );
}

function checkFile(path: string, what: string): string {
  const abs = resolve(path);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new FirmwareError(path, `file not found (given by ${what})`);
  }
  if (st.isDirectory()) throw new FirmwareError(path, `is a directory, not a UF2 file (given by ${what})`);
  return abs;
}

/** A UF2 in the cache folder: the pinned file first, else the newest `*.uf2` there. */
export function findCachedFirmware(env: Env = process.env): string | null {
  const dir = cacheDir(env);
  const pinned = join(dir, PINNED_FIRMWARE.file);
  if (existsSync(pinned)) return pinned;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.uf2'));
  } catch {
    return null;
  }
  const files = names
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

/** Find a firmware without downloading: option, env, cache. A named file that is missing is an error. */
export function findFirmware(opts: { option?: string; env?: Env } = {}): ResolvedFirmware | null {
  const env = opts.env ?? process.env;
  if (opts.option) return { path: checkFile(opts.option, '--firmware'), source: 'option' };
  if (env.PICOW_FIRMWARE) return { path: checkFile(env.PICOW_FIRMWARE, 'PICOW_FIRMWARE'), source: 'env' };
  const cached = findCachedFirmware(env);
  return cached ? { path: cached, source: 'cache' } : null;
}

export interface ResolveOptions {
  option?: string;
  env?: Env;
  /** Never download (also env PICOW_OFFLINE=1). */
  offline?: boolean;
  logger?: Logger;
  /** Where the download progress bar goes (default stderr); null for none. */
  progress?: NodeJS.WritableStream | null;
}

/** Find the firmware, downloading the pinned build into the cache when none is found (unless offline). */
export async function resolveFirmware(opts: ResolveOptions = {}): Promise<ResolvedFirmware> {
  const env = opts.env ?? process.env;
  const found = findFirmware({ option: opts.option, env });
  if (found) return found;
  if (opts.offline || isOffline(env)) {
    throw new FirmwareMissingError(`no firmware found and offline: ${missingFirmwareAdvice(env)}`);
  }
  const path = await downloadFirmware({ env, logger: opts.logger, progress: opts.progress });
  return { path, source: 'download' };
}

export interface DownloadOptions {
  env?: Env;
  /** Default: env PICOW_FIRMWARE_URL, else the pinned official URL. */
  url?: string;
  /** Default: the pinned file name in the cache folder. */
  dest?: string;
  logger?: Logger;
  progress?: NodeJS.WritableStream | null;
  /** Give up when no bytes arrive for this long (ms). Default 30 s. */
  stallTimeoutMs?: number;
}

/**
 * Download a UF2, show progress, check it parses as an RP2040 UF2, then move it into place.
 * Any failure is a FirmwareMissingError with one line naming the cause and what to do instead.
 */
export async function downloadFirmware(opts: DownloadOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? silentLogger();
  const url = opts.url ?? env.PICOW_FIRMWARE_URL ?? PINNED_FIRMWARE.url;
  const dest = opts.dest ?? join(cacheDir(env), PINNED_FIRMWARE.file);
  const out = opts.progress === undefined ? process.stderr : opts.progress;
  const name = dest.slice(dest.lastIndexOf('/') + 1);
  const fail = (why: string): never => {
    throw new FirmwareMissingError(`could not download ${url}: ${why}; ${missingFirmwareAdvice(env)}`);
  };
  try {
    mkdirSync(join(dest, '..'), { recursive: true });
  } catch (e) {
    fail(`cannot create ${join(dest, '..')} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const tmp = `${dest}.part-${process.pid}`;
  const ctrl = new AbortController();
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  let stall = setTimeout(() => ctrl.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  const bar = new ProgressBar(out, name);
  logger.info('firmware', `downloading ${url} -> ${dest}`);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ctrl.signal, redirect: 'follow' });
    } catch (e) {
      return fail(networkReason(e));
    }
    if (!res.ok || !res.body) return fail(`HTTP ${res.status} ${res.statusText}`.trim());
    const total = Number(res.headers.get('content-length') ?? 0) || 0;
    const file = createWriteStream(tmp);
    const fileDone = new Promise<void>((ok, bad) => {
      file.on('finish', ok);
      file.on('error', bad);
    });
    let got = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(stall);
        stall = setTimeout(() => ctrl.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
        got += chunk.length;
        if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
        bar.update(got, total);
      }
    } catch (e) {
      file.destroy();
      return fail(networkReason(e));
    } finally {
      file.end();
    }
    await fileDone;
    bar.done(got);
    if (total && got !== total) return fail(`connection closed after ${got} of ${total} bytes`);
    const data = new Uint8Array(readFileSync(tmp));
    const magic = data.length >= 8 ? Buffer.from(data.subarray(0, 4)).readUInt32LE(0) : 0;
    if (magic !== 0x0a324655) {
      const type = res.headers.get('content-type');
      return fail(`the server sent something that is not a UF2 file${type ? ` (${type})` : ''}`);
    }
    try {
      parseUf2(data, url);
    } catch (e) {
      return fail(e instanceof FirmwareError ? `not a usable Pico W firmware (${e.reason})` : String(e));
    }
    renameSync(tmp, dest);
    logger.info('firmware', `saved ${dest}`);
    return dest;
  } finally {
    clearTimeout(stall);
    bar.stop();
    rmSync(tmp, { force: true });
  }
}

function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.cause?.code === 'ENOTFOUND' || err?.cause?.code === 'EAI_AGAIN') return 'no network (name lookup failed)';
  if (err?.cause?.code) return `${err.cause.code}${err.cause.message ? ` (${err.cause.message})` : ''}`;
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return err.message ?? 'timed out';
  return err?.message ?? String(e);
}

/** A one-line progress bar on a TTY; on anything else, a line at the start and one at the end. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private started = false;
  private readonly tty: boolean;
  constructor(
    private readonly out: NodeJS.WritableStream | null,
    private readonly label: string,
  ) {
    this.tty = !!(out && (out as NodeJS.WriteStream).isTTY);
  }

  update(done: number, total: number): void {
    if (!this.out) return;
    if (!this.started) {
      this.started = true;
      if (!this.tty) this.out.write(`downloading ${this.label}${total ? ` (${mb(total)})` : ''}...\n`);
    }
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 80 && done !== total) return;
    this.lastDraw = now;
    const width = 30;
    const frac = total ? Math.min(1, done / total) : 0;
    const fill = Math.round(frac * width);
    const bar = total ? `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}%` : '';
    this.out.write(`\r${this.label} ${bar} ${mb(done)}${total ? ` / ${mb(total)}` : ''}\x1b[K`);
    this.drawn = true;
  }

  done(total: number): void {
    if (!this.out) return;
    if (this.tty) {
      if (this.drawn) this.out.write('\n');
    } else if (this.started) {
      this.out.write(`downloaded ${this.label} (${mb(total)})\n`);
    }
    this.drawn = false;
  }

  stop(): void {
    if (this.drawn && this.out) this.out.write('\n');
    this.drawn = false;
  }
}

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
