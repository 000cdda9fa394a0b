import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The firmware the e2e suites run: `PICOW_FIRMWARE`. Unset → the suites skip with one line.
 * Set but missing → the suites fail (a configured firmware must be usable).
 */
export function e2eFirmware(): string | null {
  const fw = process.env.PICOW_FIRMWARE;
  if (!fw) {
    if (!(globalThis as { __picowSkipSaid?: boolean }).__picowSkipSaid) {
      (globalThis as { __picowSkipSaid?: boolean }).__picowSkipSaid = true;
      console.log('e2e tests skipped: no firmware configured (set PICOW_FIRMWARE to a MicroPython RPI_PICO_W UF2)');
    }
    return null;
  }
  const path = resolve(fw);
  if (!existsSync(path)) throw new Error(`PICOW_FIRMWARE is set to ${fw}, but that file does not exist`);
  return path;
}

/** The C SDK example programs beside the reference firmware (../shared/firmware/c-sdk). */
export function cSdkProgram(name: string): string | null {
  const fw = process.env.PICOW_FIRMWARE;
  if (!fw) return null;
  const path = resolve(fw, '..', 'c-sdk', name);
  return existsSync(path) ? path : null;
}
