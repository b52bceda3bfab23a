import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

// Every test file (and every process it starts) makes its scratch folders under one folder of
// this run, which test/scratch-teardown.ts removes at the end: the suite writes ~1 GB of builds,
// keys and proofs a run, and a machine that runs it often would fill its /tmp.
const scratch = mkdtempSync(join(tmpdir(), 'zkonnx-test-'));
process.env['ZKONNX_TEST_SCRATCH'] = scratch;

// Tests compile circuits and run setups: on a loaded 2-core machine a single step can take far
// longer than vitest's 5 s default, which would fail a correct test. Tests that need more say so.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Two test files at a time even on 2 cores (vitest's default there is one): much of a file's
    // time is a single-threaded compile (circom2, llvmpipe's shaders) or a wait on anvil, Redis or
    // Chromium, which the other file's work fills. A cold run here (2 cores, empty shader cache):
    // 682 s one at a time, 491 s two at a time. At most 4: every file starts its own prover threads.
    maxWorkers: Math.min(4, Math.max(2, availableParallelism() - 1)),
    minWorkers: 1,
    sequence: { sequencer: LongestFirst },
    globalSetup: ['./test/scratch-teardown.ts'],
    env: {
      TMPDIR: scratch,
      // Mesa's llvmpipe (the WebGPU tests' adapter where there is no GPU) compiles shaders without
      // LLVM's optimization passes: the kernels' small test inputs are compile-bound (a cold G2 MSM
      // test 105 → 55 s, the other WebGPU test files 107 → 77 s here). No effect on a real GPU.
      GALLIVM_PERF: process.env['GALLIVM_PERF'] ?? 'nopt',
    },
  },
});
