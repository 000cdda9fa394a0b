#!/usr/bin/env node
// Entry for `npx picow-sim`: the bundled CLI (dist/cli/, built by `npm run build` and on `npm pack`).
// In a checkout without a build, the TypeScript sources through tsx (a dev dependency), as
// `npm run sim` does. `--version` alone is answered here, before any of the simulator loads.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`picow-sim ${pkg.version}\n`);
} else {
  const bundled = new URL('../dist/cli/cli.js', import.meta.url);
  const compiled = new URL('../dist/sim/cli.js', import.meta.url);
  if (existsSync(bundled)) {
    await import(bundled.href);
  } else if (existsSync(compiled)) {
    await import(compiled.href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../sim/cli.ts');
  }
}
