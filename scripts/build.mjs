#!/usr/bin/env node
// `npm run build` (and `prepack`): compile sim/ and server/ into dist/ (ES2022 ESM, source maps
// with the sources inlined, .d.ts with the doc comments) and copy the files the code reads at run
// time. Usage: node scripts/build.mjs [OUTDIR] (default dist); `--clean` only removes dist/ (after
// `npm pack`, so that a checkout keeps running its sources).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
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
// The chart page's files, read next to server/chart-assets.js.
cpSync(join(root, 'server', 'assets'), join(out, 'server', 'assets'), { recursive: true });
