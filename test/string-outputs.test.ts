// Strings the model computes, against onnxruntime-web: sklearn-onnx's label of MLP, k-NN, naive
// Bayes, voting… classifiers (classes[ArgMax(probabilities)] through ArrayFeatureExtractor, or a
// Gather of a string Constant), LabelEncoder and CategoryMapper from integers to strings, a
// string-to-string LabelEncoder on a categorical input, and a label compared again downstream.
// A string output is the code of its string in the table compile records (ValueInfo.categories).
// The MLP classifier with string classes compiles, proves its label's code, and a changed
// selection fails the constraints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provenOutputs, prove, setup, verify } from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { mlpClassifier } from '../benchmarks/sklearn-models.js';
import { ZkonnxError } from '../src/errors.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel, type AttrValue, type ModelSpec, type TensorSpec, type ValueSpec } from '../src/onnx/write.js';
import { execQuant, outputTensor, quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec, satisfiedFlipped } from './helpers/compiled.js';
import { compare, floatSamples, labelsOf, ML, one, rand } from './helpers/ml-models.js';

const F = 4;
const N = 3;
const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** sklearn-onnx's MLPClassifier (F → 5 → C, seeded weights) on n rows; 'gather': classes[ArgMax] by a Gather of a Constant node. */
const mlp = (name: string, classes: string[] | number[], n = N, pick: 'afe' | 'gather' = 'afe'): ModelSpec => {
  const C = classes.length;
  return mlpClassifier(name, n, F, 5, { w1: rand(F * 5, 3), b1: rand(5, 4, 0.25), w2: rand(5 * C, 8, 1.5), b2: rand(C, 6, 0.25) }, classes, pick);
};

const samples = (n: number, seed: number) => floatSamples([N, F], n, seed, 2);

describe('classes[ArgMax] of sklearn-onnx classifiers matches onnxruntime-web', () => {
  it('string classes through ArrayFeatureExtractor: the label output has the classes as its table', async () => {
    const m = mlp('mlp_strings', CLASSES);
    const g = inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'));
    expect(g.outputs[0]!.categories).toEqual(CLASSES);
    expect(g.outputs[1]!.categories).toBeUndefined();
    expect(labelsOf(await compare(m, samples(16, 10)))).toEqual(new Set([0, 1, 2]));
  });

  it('integer classes not evenly spaced (int32, cast to int64), and a Gather of a string Constant node', async () => {
    expect(labelsOf(await compare(mlp('mlp_ints', [1, 4, 5]), samples(16, 10)))).toEqual(new Set([1, 4, 5]));
    expect(labelsOf(await compare(mlp('mlp_gather', CLASSES, N, 'gather'), samples(16, 10)))).toEqual(new Set([0, 1, 2]));
  });

  it('repeated strings share a code', async () => {
    const m = mlp('mlp_repeated', ['yes', 'no', 'yes']);
    expect(inferAndFold(decodeOnnx(buildModel(m), 'm.onnx')).outputs[0]!.categories).toEqual(['yes', 'no']);
    expect(labelsOf(await compare(m, samples(16, 10)))).toEqual(new Set([0, 1]));
  });
});

describe('LabelEncoder and CategoryMapper from integers to strings match onnxruntime-web', () => {
  const k: ValueSpec = { name: 'k', shape: [2, 3], type: 'int64' };
  const s: ValueSpec = { name: 'y', shape: [2, 3], type: 'string' };
  const ints = [[[1, 5, -2, 7, 5, 0]], [[-2, -2, 1, 3, 9, 5]]];

  it('opset 2 values_strings, opset 1 classes_strings (x → classes[x]), opset 4 string tensors, CategoryMapper: the default is in the table', async () => {
    const le2 = one('le2_to_strings', 'LabelEncoder', k, [s], { keys_int64s: [1, 5, -2], values_strings: ['one', 'five', 'minus two'], default_string: 'other' }, 2);
    expect(inferAndFold(decodeOnnx(buildModel(le2), 'm.onnx')).outputs[0]!.categories).toEqual(['one', 'five', 'minus two', 'other']);
    await compare(le2, ints);
    await compare(one('le1_to_strings', 'LabelEncoder', k, [s], { classes_strings: ['zero', 'one', 'two', 'three'], default_string: '?' }, 1), ints);
    const strs = (xs: string[]): TensorSpec => ({ dims: [xs.length], data: xs });
    await compare(one('le4_to_strings', 'LabelEncoder', k, [s], { keys_tensor: { dims: [2], data: BigInt64Array.from([5n, 7n]) }, values_tensor: strs(['five', 'seven']), default_tensor: strs(['none']) }, 4), ints);
    await compare(one('cm_to_strings', 'CategoryMapper', k, [s], { cats_int64s: [0, 1, 3], cats_strings: ['a', 'b', 'c'], default_string: 'z' }), ints);
  });

  it('string to string on a categorical input: its codes compared, the values\' codes out', async () => {
    const m = one('le_strings', 'LabelEncoder', { name: 'c', shape: [1, 3], type: 'string' }, [{ name: 'y', shape: [1, 3], type: 'string' }], { keys_strings: ['S', 'C', 'Q'], values_strings: ['Southampton', 'Cherbourg', 'Queenstown'], default_string: 'unknown' }, 2);
    await compare(m, [[['S', 'Q', 'x']], [['C', 'C', 'S']]]);
  });

  it('a classifier\'s string label compared again: LabelEncoder string → int after classes[ArgMax]', async () => {
    const m = mlp('mlp_then_encoder', CLASSES);
    m.outputs = [{ name: 'code', shape: [N], type: 'int64' }, m.outputs[1]!];
    m.nodes.push({ name: '/encode', op: 'LabelEncoder', domain: ML, inputs: ['label'], outputs: ['code'], attrs: { keys_strings: ['virginica', 'setosa', 'absent'], values_int64s: [10, 20, 30], default_int64: -1 } });
    m.opsets = { ...m.opsets, [ML]: 2 };
    expect(labelsOf(await compare(m, samples(16, 10)))).toEqual(new Set([10, 20, -1]));
  });

  it('refuses other uses of computed strings, naming the node', () => {
    const m = mlp('mlp_concat', CLASSES);
    m.nodes.push({ name: '/concat', op: 'Concat', inputs: ['label', 'label'], outputs: ['both'], attrs: { axis: 0 } });
    m.outputs = [{ name: 'both', shape: [2 * N], type: 'string' }];
    let err: unknown;
    try { inferAndFold(decodeOnnx(buildModel(m), 'm.onnx')); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).message).toContain("node /concat (Concat): input 'label' holds strings (strings the model computes): it is input 1 of Concat");
    const onehot = mlp('mlp_onehot', CLASSES);
    onehot.nodes.push({ name: '/onehot', op: 'OneHotEncoder', domain: ML, inputs: ['label'], outputs: ['oh'], attrs: { cats_strings: CLASSES, zeros: 0 } as Record<string, AttrValue> });
    onehot.outputs = [{ name: 'oh', shape: [N, 3] }];
    expect(() => inferAndFold(decodeOnnx(buildModel(onehot), 'm.onnx'))).toThrow('OneHotEncoder with zeros=0 on computed strings');
  });
});

describe('a classifier with string classes in a circuit', () => {
  it('compiles (circom builds the same system) with the classes in settings.json; the proven code names onnxruntime\'s class; a changed selection fails the constraints', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-strings-'));
    const m = mlp('mlp_circuit', CLASSES, 1);
    const input = Array.from({ length: 12 }, (_, i) => ({ input_data: [floatSamples([1, F], 1, 300 + i, 2)[0]![0]!] }));
    const c = await compileSpec(m, work, input, true);
    expect(c.settings.outputs[0]!.categories).toEqual(CLASSES);
    expect(c.qg.outputs[0]!.categories).toEqual(CLASSES);
    const refs = await compare(m, input.map((s) => s.input_data));
    expect(labelsOf(refs).size).toBeGreaterThan(1);
    for (const [i, s] of input.entries()) {
      const qin = quantizeInputs(c.qg, s.input_data);
      const q = execQuant(c.qg, qin);
      const label = outputTensor(c.qg.outputs[0]!, q.outputs[0]!);
      expect(label.labels).toEqual([CLASSES[refs[i]![0]![0]!]]);
      if (i > 1) continue;
      const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      // one equality of the selection classes[ArgMax] changed: the constraints fail
      if (i === 0) expect(await satisfiedFlipped(c, w, '/afe')).toBe(false);
    }
    // proven and verified: the public output is the code, and it names onnxruntime's class
    const buildDir = c.paths.dir;
    await setup({ buildDir });
    const p = await prove({ buildDir, input: input[0]!, backend: 'wasm' });
    expect(p.outputs[0]!.labels).toEqual([CLASSES[refs[0]![0]![0]!]]);
    expect(await verify({ buildDir })).toBe(true);
    expect(provenOutputs({ buildDir })[0]).toMatchObject({ name: 'label', categories: CLASSES, labels: p.outputs[0]!.labels });
  }, 120_000);
});
