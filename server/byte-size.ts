/**
 * Byte sizes in options (`--max-body`, and the simulator's `--pcap-max`): a module of its own so
 * that a caller parsing one option does not load the server with it.
 */
import { ServerOptionError } from './errors.ts';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 * 1024,
  mb: 1000 * 1000,
  mib: 1024 * 1024,
};

/** `1048576`, `512k`, `1MiB`, `2MB` → bytes. */
export function parseByteSize(option: string, text: string): number {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ServerOptionError(option, text, 'expected bytes, e.g. 1048576, 512k or 1MiB');
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new ServerOptionError(option, text, 'too large');
  return n;
}
