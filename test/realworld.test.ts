// Models others trained and exported (../shared/realworld, read in place; skipped without it):
// the small ones that go end to end, through the same runner as `npm run conformance -- --suite
// realworld`: compile, setup, prove, verify, within tolerance of onnxruntime-web, and for digit
// classifiers the proven class equal to the float model's on ≥ 99% of 100 real digits.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { runConformanceModel } from '../benchmarks/conformance-lib.js';
import { quantizeModel } from '../benchmarks/quantize-models.js';
import { agreement, prepareRealworld, runRealworldModel } from '../benchmarks/realworld-lib.js';
import * as api from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { releaseCurves } from '../src/snark.js';
import { committedWitness, holdsWithWeightChanged } from './helpers/compiled.js';

const REALWORLD = resolve(__dirname, '..', '..', 'shared', 'realworld');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-realworld-'));
afterAll(async () => { await releaseCurves(); });

describe.skipIf(!existsSync(REALWORLD))('third-party exports, end to end', () => {
  const cases: [string, string][] = [
    ['mnist-onnxmlir-torch112', 'PyTorch 1.12 MNIST MLP ending in Softmax'],
    ['mnist-onnx2c-torch17', 'PyTorch 1.7 CNN on 14×14 digits'],
    ['keras-mlp-tf2onnx', 'tf2onnx Keras MLP with a Sigmoid output'],
    ['skl-logreg-iris', 'sklearn LogisticRegression: LinearClassifier, Normalizer, ZipMap'],
    ['skl-rf-iris', 'sklearn RandomForest: TreeEnsembleClassifier, ZipMap'],
    ['xgb-regressor-onnxmltools', 'XGBoost: TreeEnsembleRegressor'],
    ['lgbm-pipeline-onnxmltools', 'Scaler + LightGBM: TreeEnsembleClassifier'],
    ['skl-nusvc', 'sklearn NuSVC: SVMClassifier with RBF kernels, one-vs-one votes'],
    ['skl-titanic-pipeline', 'sklearn ColumnTransformer: string columns as categories (OneHotEncoder), Imputer, Scaler, LinearClassifier'],
  ];
  for (const [m, what] of cases) {
    it(`${m} (${what})`, async () => {
      const row = await runRealworldModel(join(REALWORLD, m), join(work, m));
      expect(row.message).toBe('');
      expect(row.status).toBe('pass');
      if (row.agreement !== undefined) expect(row.agreement).toBeGreaterThanOrEqual(0.99);
    }, 300_000);
  }
});

// The same exports quantized as onnxruntime's tools quantize them (benchmarks/quantize-models.ts;
// all four variants of four models run in `npm run bench:quantized`)
describe.skipIf(!existsSync(REALWORLD))('third-party exports, quantized', () => {
  for (const [m, variant] of [['mnist-onnx2c-torch17', 'dynamic'], ['keras-mlp-tf2onnx', 'nbits4']] as const) {
    it(`${m} quantized (${variant}, as onnxruntime's tools write it): end to end, within tolerance of onnxruntime-web on the quantized file`, async () => {
      const p = prepareRealworld(join(REALWORLD, m), join(work, `${variant}-inputs`));
      const q = quantizeModel(readFileSync(p.model), p.model, variant);
      expect(q.quantized).toBe(2);
      const model = join(work, `${m}-${variant}.onnx`);
      writeFileSync(model, q.bytes);
      const row = await runConformanceModel(join(work, `${m}-${variant}`), join(work, `${m}-${variant}-build`), {
        files: { model, input: p.input, calibration: p.calibration },
        ...(p.digits ? { after: (buildDir: string) => agreement({ ...p, model }, buildDir) } : {}),
      });
      expect(row.message).toBe('');
      expect(row.status).toBe('pass');
      if (row.agreement !== undefined) expect(row.agreement).toBeGreaterThanOrEqual(0.99);
    }, 300_000);
  }
});

describe.skipIf(!existsSync(REALWORLD))('third-party exports with --weights hashed', () => {
  it('mnist-onnx2c-torch17 (a PyTorch CNN): kernels and biases committed, the class of 100 real digits as the float model\'s, the witness satisfies the system', async () => {
    const p = prepareRealworld(join(REALWORLD, 'mnist-onnx2c-torch17'), join(work, 'hashed-inputs'));
    const build = join(work, 'hashed-build');
    const { settings } = await api.compile({ model: p.model, outDir: build, input: p.input, calibration: p.calibration, visibility: { weights: 'hashed' } });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    expect(settings.weights!.tensors.map((t) => t.shape.length)).toEqual([4, 4, 2, 1]); // two Convs' kernels (no bias), the Gemm's W and b
    expect((await agreement(p, build)).agreement).toBeGreaterThanOrEqual(0.99);
    const sample = JSON.parse(readFileSync(p.input, 'utf8')) as { input_data: number[][] };
    const c = await committedWitness(build, settings, sample.input_data[0]!);
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
  }, 300_000);

  // One tree model end to end through setup and proof (the binary LightGBM pipeline, 5.6k
  // constraints); the larger forests (60k and 30k constraints: a 2^16 setup each, ~150 s of a busy
  // 2-core machine) are checked where their soundness lives, in the witness and the constraints,
  // and end to end by `npm run conformance -- --suite realworld --weights hashed`.
  it('lgbm-pipeline-onnxmltools (Scaler + binary LightGBM): thresholds, leaf weights and base values committed, end to end', async () => {
    const row = await runRealworldModel(join(REALWORLD, 'lgbm-pipeline-onnxmltools'), join(work, 'hashed-lgbm'), { weights: 'hashed' });
    expect(row.message).toBe('');
    expect(row.status).toBe('pass');
  }, 300_000);

  const trees: [string, string, string[]][] = [
    ['skl-rf-iris', 'sklearn RandomForest, three classes', ['thresholds', 'leaf_weights']],
    ['xgb-regressor-onnxmltools', 'XGBoost regressor', ['thresholds', 'leaf_weights', 'base_values']],
  ];
  for (const [m, what, parts] of trees) {
    it(`${m} (${what}): ${parts.join(', ')} committed; the witness satisfies the system and no committed value can change`, async () => {
      const p = prepareRealworld(join(REALWORLD, m), join(work, `hashed-${m}-inputs`));
      const build = join(work, `hashed-${m}`);
      const { settings } = await api.compile({ model: p.model, outDir: build, input: p.input, calibration: p.calibration, visibility: { weights: 'hashed' } });
      expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
      const names = settings.weights!.tensors.map((t) => t.name);
      for (const part of parts) expect(names.some((n) => n.includes(part)), part).toBe(true);
      const sample = JSON.parse(readFileSync(p.input, 'utf8')) as { input_data: number[][] };
      const c = await committedWitness(build, settings, sample.input_data[0]!);
      expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
      for (const n of names) expect(await holdsWithWeightChanged(c, n, 0), n).toBe(false);
    }, 300_000);
  }
});
