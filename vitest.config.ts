import { defineConfig } from 'vitest/config';

// Tests compile circuits and run setups: on a loaded 2-core machine a single step can take far
// longer than vitest's 5 s default, which would fail a correct test. Tests that need more say so.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    env: {
      // Mesa's llvmpipe (the WebGPU tests' adapter where there is no GPU) compiles shaders without
      // LLVM's optimization passes: the kernels' small test inputs are compile-bound (a cold G2 MSM
      // test 105 → 55 s, the other WebGPU test files 107 → 77 s here). No effect on a real GPU.
      GALLIVM_PERF: process.env['GALLIVM_PERF'] ?? 'nopt',
    },
  },
});
