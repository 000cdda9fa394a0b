#!/usr/bin/env node
// `npm run build` (and `prepack`): compile sim/ and server/ into dist/ (ES2022 ESM, source maps
// with the sources inlined, .d.ts with the doc comments), bundle the command line into dist/cli/
// and copy the files the code reads at run time. Usage: node scripts/build.mjs [OUTDIR] (default
// dist); `--clean` only removes dist/ (after `npm pack`, so that a checkout keeps running its sources).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const clean = process.argv[2] === '--clean';
const out = resolve(root, clean ? 'dist' : (process.argv[2] ?? 'dist'));
rmSync(out, { recursive: true, force: true });
if (clean) process.exit(0);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
// tsc's rewriteRelativeImportExtensions rewrites `./x.ts` to `./x.js` in the JavaScript only: the
// declarations keep `./x.ts`, which a consumer's TypeScript resolves (it strips `.ts` and finds
// x.d.ts) but older compilers and other tools do not. Point them at the `.js` files they describe.
for (const f of readdirSync(out, { recursive: true, encoding: 'utf8' })) {
  if (!f.endsWith('.d.ts')) continue;
  const path = join(out, f);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.\.?\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3');
  if (fixed !== text) writeFileSync(path, fixed);
}
// The command line as a bundle (bin/picow-sim.js runs it): its entry, the test runner's worker
// and shared chunks, so that a start reads a dozen files instead of ~170 modules (each resolved,
// read and compiled on its own). rp2040js goes in too (pure ESM, loaded by every start: ~25 modules
// fewer to resolve and link, ~15 ms); the other packages stay imports (better-sqlite3 is native,
// yaml CommonJS and loaded only for scenarios). The source maps chain to the TypeScript.
const BUNDLED_PACKAGES = ['rp2040js'];
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const esbuild = await import('esbuild');
const bundle = await esbuild.build({
  entryPoints: { cli: join(out, 'sim', 'cli.js'), worker: join(out, 'sim', 'runner', 'worker.js') },
  outdir: join(out, 'cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED_PACKAGES.includes(d)),
  // The bundled packages from this checkout's node_modules whatever OUTDIR is (bench builds in a temporary folder).
  nodePaths: [join(root, 'node_modules')],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
// A bundled package's licence goes with it: each one's LICENSE, as the package ships it.
const bundledFrom = new Map(); // package name → its folder
for (const input of Object.keys(bundle.metafile.inputs)) {
  const m = /^(.*?node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
  if (m) bundledFrom.set(m[2], resolve(m[1]));
}
const unexpected = [...bundledFrom.keys()].filter((p) => !BUNDLED_PACKAGES.includes(p));
if (unexpected.length) {
  console.error(`build: the CLI bundle took in ${unexpected.join(', ')}: add to BUNDLED_PACKAGES (with its licence) or keep external`);
  process.exit(1);
}
const notices = [...bundledFrom].sort().map(([name, dir]) => {
  const licence = readdirSync(dir).find((f) => /^licen[sc]e(\.|$)/i.test(f));
  if (!licence) {
    console.error(`build: ${name} is bundled but ships no LICENSE file`);
    process.exit(1);
  }
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  return `${name} ${version} (bundled into the files of this folder)\n\n${readFileSync(join(dir, licence), 'utf8').trim()}\n`;
});
writeFileSync(join(out, 'cli', 'THIRD-PARTY-NOTICES.txt'), notices.join('\n---\n\n'));
// The chart page's files, read next to server/chart-assets.js (in dist/server/ and, bundled, dist/cli/).
for (const dir of [join(out, 'server'), join(out, 'cli')]) {
  cpSync(join(root, 'server', 'assets'), join(dir, 'assets'), { recursive: true });
}
