// Longest test files first, so that a long file never starts last and runs alone at the end. A
// checkout without vitest's cache of durations (CI, a fresh clone) sorts by file size, which put
// the realworld suite (a small file, minutes of compiles and setups) last: 12m55 instead of ~10.
// Durations are vitest's own where it has them, else these, measured on the 2-core development
// machine (seconds, ±; a file not listed counts 5).
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const MEASURED: Record<string, number> = {
  'realworld.test.ts': 70, 'mnist-cnn.test.ts': 110, 'freivalds.test.ts': 41, 'check-circom.test.ts': 89, 'prepared-prover.test.ts': 73,
  'cli.test.ts': 56, 'nonlinear-circuits.test.ts': 56, 'webgpu-g2.test.ts': 53, 'split.test.ts': 52,
  'webgpu-msm.test.ts': 51, 'train-proof.test.ts': 48, 'recurrent.test.ts': 47, 'data-commit.test.ts': 43,
  'webgpu-ntt.test.ts': 39, 'circuits.test.ts': 29, 'commit.test.ts': 25, 'prover.test.ts': 20,
  'conformance.test.ts': 19, 'e2e.test.ts': 15, 'hashed-conv.test.ts': 15, 'saturation.test.ts': 14,
  'cpu-msm.test.ts': 13, 'hashed.test.ts': 11, 'msft.test.ts': 11,
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
