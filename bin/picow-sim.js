#!/usr/bin/env node
// Entry for `npx picow-sim`: run the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../sim/cli.ts');
