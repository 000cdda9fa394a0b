import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's own name resolves to the sources here (its exports point at the compiled dist/).
  resolve: {
    alias: [
      { find: /^picow-sim$/, replacement: fileURLToPath(new URL('./sim/index.ts', import.meta.url)) },
      { find: /^picow-sim\/server$/, replacement: fileURLToPath(new URL('./server/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e suites boot whole boards; keep parallelism within the 2-core CI machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
