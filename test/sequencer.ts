// Longest test files first, so that a long file never starts last and runs alone at the end. A
// checkout without vitest's cache of durations (CI, a fresh clone) sorts by file size, which put
// the realworld suite (a small file, minutes of compiles and setups) last: 12m55 instead of ~10.
// Durations are vitest's own where it has them, else these, measured on the 2-core development
// machine (seconds, ±; a file not listed counts 5).
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const MEASURED: Record<string, number> = {
  'mnist-cnn.test.ts': 103, 'check-circom.test.ts': 82, 'cli.test.ts': 59, 'realworld.test.ts': 65, 'dynamic-quant.test.ts': 29, 'split.test.ts': 44,
  'freivalds.test.ts': 37, 'nonlinear-circuits.test.ts': 36, 'recurrent.test.ts': 35, 'chain.test.ts': 34, 'service.test.ts': 32,
  'hashed-conv.test.ts': 29, 'app.test.ts': 26, 'data-commit.test.ts': 21, 'train-proof.test.ts': 18, 'prover.test.ts': 18,
  'registry.test.ts': 13, 'conformance.test.ts': 13, 'cpu-msm.test.ts': 13, 'e2e.test.ts': 12, 'hashed-ml.test.ts': 12,
  'saturation.test.ts': 10, 'fast-zkey.test.ts': 30, 'verify-zkey.test.ts': 7, 'verify-ptau.test.ts': 14,
  // the WebGPU files as on a fresh machine, where llvmpipe compiles their shaders (a few s warm)
  'prepared-prover.test.ts': 73, 'webgpu-g2.test.ts': 53, 'webgpu-msm.test.ts': 51, 'webgpu-ntt.test.ts': 39,
};

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification) => {
      const rel = f.moduleId.slice(this.ctx.config.root.length + 1);
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`);
      return cached ? cached.duration / 1000 : (MEASURED[rel.replace(/^test\//, '')] ?? 5);
    };
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
