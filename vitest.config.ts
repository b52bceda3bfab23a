import { defineConfig } from 'vitest/config';

// Tests compile circuits and run setups: on a loaded 2-core machine a single step can take far
// longer than vitest's 5 s default, which would fail a correct test. Tests that need more say so.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
