import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e suites boot whole boards; keep parallelism within the 2-core CI machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
