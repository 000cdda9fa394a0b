/**
 * `npm run firmware`: download the pinned official MicroPython build for the Pico W into the user
 * cache folder, with a progress bar, and check that it parses as an RP2040 UF2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUf2 } from './board/uf2.ts';
import { PicowSimError, UsageError } from './errors.ts';
import { cacheDir, downloadFirmware, isOffline, missingFirmwareAdvice, PINNED_FIRMWARE } from './firmware.ts';

const HELP = `Usage: npm run firmware [-- options]

Downloads ${PINNED_FIRMWARE.file} (MicroPython ${PINNED_FIRMWARE.version} for the
Raspberry Pi Pico W) from micropython.org into ${cacheDir()}/
and checks that it is an RP2040 UF2. 'npm run sim' finds it there.

Options:
  --force        download again even if the file is already there
  --url URL      download from URL instead (also env PICOW_FIRMWARE_URL)
  --help         show this help

Example:
  npm run firmware
`;

async function main(argv: string[]): Promise<number> {
  let force = false;
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      return 0;
    } else if (a === '--force') force = true;
    else if (a === '--url' || a.startsWith('--url=')) {
      url = a.includes('=') ? a.slice(6) : argv[++i];
      if (!url) throw new UsageError('--url needs a value, e.g. --url https://example.org/fw.uf2');
    } else throw new UsageError(`unknown option '${a}' (see npm run firmware -- --help)`);
  }
  const dest = join(cacheDir(), PINNED_FIRMWARE.file);
  if (!force && existsSync(dest)) {
    try {
      const img = parseUf2(new Uint8Array(readFileSync(dest)), dest);
      process.stdout.write(`firmware already present: ${dest} (${img.blockCount} UF2 blocks, RP2040)\n`);
      return 0;
    } catch {
      process.stderr.write(`${dest} is not a usable UF2; downloading it again\n`);
    }
  }
  if (isOffline()) {
    process.stderr.write(`picow-sim: offline (PICOW_OFFLINE is set): ${missingFirmwareAdvice()}\n`);
    return 2;
  }
  const path = await downloadFirmware({ url, dest });
  const img = parseUf2(new Uint8Array(readFileSync(path)), path);
  process.stdout.write(`firmware ready: ${path} (${img.blockCount} UF2 blocks, RP2040)\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof PicowSimError) {
      process.stderr.write(`picow-sim: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`picow-sim: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
