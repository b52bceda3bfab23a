// Models others trained and exported (../shared/realworld, read in place; skipped without it):
// the small ones that go end to end, through the same runner as `npm run conformance -- --suite
// realworld`: compile, setup, prove, verify, within tolerance of onnxruntime-web, and for digit
// classifiers the proven class equal to the float model's on ≥ 99% of 100 real digits.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRealworldModel } from '../benchmarks/realworld-lib.js';
import { releaseCurves } from '../src/snark.js';

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
