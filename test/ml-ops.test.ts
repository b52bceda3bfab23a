// ai.onnx.ml operators against onnxruntime-web (which runs all of them): SVMRegressor (each kernel,
// the linear mode, one_class), binary SVMClassifier (SVC with kernels, linear mode; labels and
// scores), binary LinearClassifier with one row, ArrayFeatureExtractor, FeatureVectorizer,
// LabelEncoder on integers and floats (opset 2 lists, opset 4 tensors). Each one-node model runs
// through decode → inferAndFold → linearize → evalAffine on random inputs; one model with several
// of them compiles to a circuit whose witness satisfies the constraints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { attr, type AttrValue, type ModelSpec, type ValueSpec } from '../src/onnx/write.js';
import { dequantize, execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec, satisfiedFlipped } from './helpers/compiled.js';
import { compare, expectErr, floatSamples, labelsOf, ML, one, rand, rng, type Sample } from './helpers/ml-models.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-ml-ops-'));

const F = 3;
const N = 2; // a batch of two rows: the SVMs score each row
const x2: ValueSpec = { name: 'x', shape: [N, F] };
const kernels: [string, number[]][] = [['LINEAR', [0, 0, 0]], ['POLY', [0.5, 1, 3]], ['RBF', [0.7, 0, 0]], ['SIGMOID', [0.3, -0.2, 0]]];

function svr(kernel: string, params: number[], extra: Record<string, AttrValue> = {}): ModelSpec {
  return one(`svr_${kernel.toLowerCase()}${extra.one_class ? '_one_class' : ''}`, 'SVMRegressor', x2, [{ name: 'y', shape: [N, 1] }], {
    n_supports: 4, kernel_type: kernel, kernel_params: attr.floats(params),
    support_vectors: attr.floats(rand(4 * F, 21)), coefficients: attr.floats(rand(4, 22)), rho: attr.floats([0.125]), ...extra,
  });
}

describe('SVMRegressor matches onnxruntime-web', () => {
  it('support vectors with each kernel (LINEAR, POLY, RBF, SIGMOID), a batch of rows', async () => {
    for (const [k, p] of kernels) await compare(svr(k, p), floatSamples([N, F], 8, 3));
  });

  it('the linear mode (no support vectors): coefficients · x + rho', async () => {
    const m = one('svr_linear_mode', 'SVMRegressor', x2, [{ name: 'y', shape: [N, 1] }], {
      n_supports: 0, kernel_type: 'RBF', kernel_params: attr.floats([0.5, 0, 3]), coefficients: attr.floats([0.75, -1.25, 0.5]), rho: attr.floats([-0.25]),
    });
    await compare(m, floatSamples([N, F], 8, 5));
    // a row [F] is one batch of one
    await compare({ ...m, graphName: 'svr_rank1', inputs: [{ name: 'x', shape: [F] }], outputs: [{ name: 'y', shape: [1, 1] }] }, floatSamples([F], 4, 6));
  });

  it('one_class: 1 where the score is > 0, else −1', async () => {
    const refs = await compare(svr('RBF', [0.7, 0, 0], { one_class: 1, rho: attr.floats([-0.05]) }), floatSamples([N, F], 12, 7));
    const seen = new Set(refs.flatMap((r) => Array.from(r[0]!)));
    expect([...seen].sort()).toEqual([-1, 1]);
  });

  it('refuses a post_transform (onnxruntime ignores it, the ONNX spec applies it)', () => {
    expectErr(svr('RBF', [0.7, 0, 0], { post_transform: 'LOGISTIC' }), 'node /svr_rbf (SVMRegressor): post_transform LOGISTIC is not supported (supported: NONE)');
  });
});

const labelOut: ValueSpec = { name: 'label', shape: [N], type: 'int64' };
const scoresOut: ValueSpec = { name: 'scores', shape: [N, 2] };

function svc(name: string, kernel: string, params: number[], extra: Record<string, AttrValue> = {}): ModelSpec {
  return one(name, 'SVMClassifier', x2, [labelOut, scoresOut], {
    classlabels_ints: [3, 7], vectors_per_class: [2, 3], kernel_type: kernel, kernel_params: attr.floats(params),
    support_vectors: attr.floats(rand(5 * F, 31)), coefficients: attr.floats([0.9, 0.6, -0.5, -0.7, -0.3]), rho: attr.floats([0.05]), ...extra,
  });
}


describe('binary SVMClassifier matches onnxruntime-web', () => {
  it('SVC with RBF and LINEAR kernels: label = s > 0 ? first : second, scores [−s, s]', async () => {
    for (const [k, p] of [['RBF', [0.7, 0, 0]], ['LINEAR', [0, 0, 0]]] as const) {
      const refs = await compare(svc(`svc_${k.toLowerCase()}`, k, [...p]), floatSamples([N, F], 12, 11));
      expect(labelsOf(refs)).toEqual(new Set([3, 7]));
      for (const r of refs) expect(r[1]![0]).toBeCloseTo(-r[1]![1]!, 6);
    }
  });

  it('SVC post-transforms: LOGISTIC writes σ([−s, s]), SOFTMAX and SOFTMAX_ZERO write [1 − s, s] untransformed', async () => {
    for (const pt of ['LOGISTIC', 'SOFTMAX', 'SOFTMAX_ZERO']) {
      const refs = await compare(svc(`svc_${pt.toLowerCase()}`, 'RBF', [0.7, 0, 0], { post_transform: pt }), floatSamples([N, F], 6, 13));
      for (const r of refs) expect(r[1]![0]! + r[1]![1]!).toBeCloseTo(1, 6);
    }
  });

  it('the linear mode (no support vectors), mixed and all-positive coefficients (threshold 0 and 0.5)', async () => {
    const lin = (name: string, coefficients: number[], rho: number, extra: Record<string, AttrValue> = {}) => one(name, 'SVMClassifier', x2, [labelOut, scoresOut], {
      classlabels_ints: [0, 1], kernel_type: 'LINEAR', kernel_params: attr.floats([0, 0, 0]), coefficients: attr.floats(coefficients), rho: attr.floats([rho]), ...extra,
    });
    const mixed = [0.5, -1, 0.25, -0.75, 0.5, 1];
    expect(labelsOf(await compare(lin('svc_linear_mixed', mixed, 0.1), floatSamples([N, F], 16, 17)))).toEqual(new Set([0, 1]));
    // all coefficients ≥ 0: the second label where the first score is ≥ 0.5; inputs in [0, 1)
    const positive = [0.5, 0.25, 0.75, 0.25, 0.5, 0.125];
    expect(labelsOf(await compare(lin('svc_linear_positive', positive, -0.2), floatSamples([N, F], 16, 19, 1).map((s) => [s[0]!.map(Math.abs)])))).toEqual(new Set([0, 1]));
    // the scores of the linear mode take the post-transform as the multiclass ones do
    await compare(lin('svc_linear_softmax', mixed, 0.1, { post_transform: 'SOFTMAX' }), floatSamples([N, F], 4, 23));
  });

  it('probability=True (prob_a, prob_b): Platt scaling of the pair score, [r, 1 − r]; the label stays the vote\'s', async () => {
    for (const [A, B] of [[-1.5, 0.1], [-2, 3], [0.75, -0.5]] as const) {
      // onnxruntime couples the two probabilities iteratively: within its stopping tolerance of r
      const refs = await compare(svc('svc_platt', 'RBF', [0.7, 0, 0], { prob_a: attr.floats([A]), prob_b: attr.floats([B]) }), floatSamples([N, F], 12, 11), 5e-3);
      expect(labelsOf(refs)).toEqual(new Set([3, 7]));
      for (const r of refs) expect(r[1]![0]! + r[1]![1]!).toBeCloseTo(1, 5);
    }
  });

  it('refuses PROBIT scores, naming the node', () => {
    expectErr(svc('svc_probit', 'RBF', [0.7, 0, 0], { post_transform: 'PROBIT' }), 'node /svc_probit (SVMClassifier): post_transform PROBIT is not supported on a binary SVC');
  });
});

/** An SVC of k classes with probability=True: 2 support vectors a class, Platt parameters a pair. */
function svcProba(name: string, k: number, kernel: string, params: number[], seed: number, extra: Record<string, AttrValue> = {}): ModelSpec {
  const P = (k * (k - 1)) / 2;
  const r = rng(seed);
  return one(name, 'SVMClassifier', x2, [labelOut, { name: 'probabilities', shape: [N, k] }], {
    classlabels_ints: Array.from({ length: k }, (_, i) => i), vectors_per_class: new Array<number>(k).fill(2), kernel_type: kernel, kernel_params: attr.floats(params),
    support_vectors: attr.floats(rand(2 * k * F, seed + 1)), coefficients: attr.floats(rand(2 * k * (k - 1), seed + 2).map((v) => 2 * v)),
    rho: attr.floats(rand(P, seed + 3).map((v) => v / 2)),
    prob_a: attr.floats(Array.from({ length: P }, () => -1.5 - r())), prob_b: attr.floats(Array.from({ length: P }, () => r() - 0.5)), ...extra,
  });
}

describe('SVMClassifier probabilities of 3 and more classes (probability=True) match onnxruntime-web', () => {
  it('the coupled pair probabilities (Wu, Lin and Weng): within onnxruntime\'s stopping tolerance of its iteration, summing to 1; the label stays the vote\'s', async () => {
    for (const [k, kernel, params] of [[3, 'RBF', [0.7, 0, 0]], [4, 'LINEAR', [0, 0, 0]], [5, 'POLY', [0.5, 1, 2]]] as const) {
      const refs = await compare(svcProba(`svc_proba_${k}`, k, kernel, [...params], 40 + k), floatSamples([N, F], 16, 50 + k), 5e-3);
      expect(labelsOf(refs).size, `${k} classes: labels seen`).toBeGreaterThan(1);
      for (const ref of refs) for (let n = 0; n < N; n++) expect(ref[1]!.slice(n * k, (n + 1) * k).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  it('compiles: the integers within tolerance of onnxruntime-web, the witness satisfies the constraints, and a forged probability breaks them', async () => {
    const m = svcProba('svc_proba_circuit', 3, 'RBF', [0.7, 0, 0], 43);
    const c = await compileSpec(m, work, floatSamples([N, F], 24, 61).map((s) => ({ input_data: s })));
    const x = floatSamples([N, F], 1, 62)[0]!.map((v) => Float64Array.from(v));
    const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, x) }, c.paths.file('r1cs'));
    expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
    expect(await satisfiedFlipped(c, w, '/svc_proba_circuit/Div')).toBe(false);
    const probs = execQuant(c.qg, quantizeInputs(c.qg, x)).outputs[1]!.map((v) => dequantize(v, c.qg.outputs[1]!.scale));
    for (let n = 0; n < N; n++) expect(Array.from(probs.slice(n * 3, n * 3 + 3)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
  });
});

describe('binary LinearClassifier (one row of coefficients) matches onnxruntime-web', () => {
  it('label = s > 0 ? second : first; scores σ([−s, s]) (LOGISTIC), else [1 − s, s]', async () => {
    for (const pt of ['NONE', 'LOGISTIC', 'SOFTMAX', 'SOFTMAX_ZERO']) {
      const m = one(`lc_binary_${pt.toLowerCase()}`, 'LinearClassifier', x2, [labelOut, scoresOut], {
        coefficients: attr.floats([0.5, -1, 0.75]), intercepts: attr.floats([0.125]), classlabels_ints: [3, 7], post_transform: pt,
      });
      expect(labelsOf(await compare(m, floatSamples([N, F], 12, 29)))).toEqual(new Set([3, 7]));
    }
  });
});

describe('classifiers with string class labels, or integer labels not evenly spaced, match onnxruntime-web', () => {
  const strLabelOut: ValueSpec = { name: 'label', shape: [N], type: 'string' };
  /** The model with classlabels_strings in place of its integer labels, and a label output of strings. */
  const withStrings = (m: ModelSpec, labels: string[]): ModelSpec => {
    const n = m.nodes[0]!;
    const { classlabels_ints: _, ...attrs } = n.attrs ?? {};
    return { ...m, graphName: `${m.graphName}_strings`, outputs: [strLabelOut, ...m.outputs.slice(1)], nodes: [{ ...n, attrs: { ...attrs, classlabels_strings: labels } }] };
  };
  const kinds = (refs: Float64Array[][]) => labelsOf(refs).size;

  it('binary SVC and LinearClassifier: the label is the code of onnxruntime\'s string', async () => {
    expect(kinds(await compare(withStrings(svc('svc_rbf', 'RBF', [0.7, 0, 0]), ['benign', 'malignant']), floatSamples([N, F], 12, 11)))).toBe(2);
    const lc = one('lc_binary', 'LinearClassifier', x2, [labelOut, scoresOut], { coefficients: attr.floats([0.5, -1, 0.75]), intercepts: attr.floats([0.125]), classlabels_ints: [3, 7], post_transform: 'LOGISTIC' });
    expect(kinds(await compare(withStrings(lc, ['no', 'yes']), floatSamples([N, F], 12, 29)))).toBe(2);
  });

  it('multiclass LinearClassifier: string labels, and integer labels [2, 5, 6] (a lookup of the ArgMax)', async () => {
    const scores3: ValueSpec = { name: 'scores', shape: [N, 3] };
    const lc = one('lc_three', 'LinearClassifier', x2, [labelOut, scores3], {
      coefficients: attr.floats(rand(3 * F, 41)), intercepts: attr.floats([0.1, -0.2, 0.05]), classlabels_ints: [2, 5, 6], post_transform: 'SOFTMAX', multi_class: 0,
    });
    expect(labelsOf(await compare(lc, floatSamples([N, F], 16, 43)))).toEqual(new Set([2, 5, 6]));
    expect(kinds(await compare(withStrings(lc, ['setosa', 'versicolor', 'virginica']), floatSamples([N, F], 16, 43)))).toBe(3);
  });
});

describe('ArrayFeatureExtractor and FeatureVectorizer match onnxruntime-web', () => {
  const model = (name: string, op: string, inputs: ValueSpec[], y: number[], attrs: Record<string, AttrValue>, indices?: number[]): ModelSpec => ({
    graphName: name, opsets: { [ML]: 1 }, inputs, outputs: [{ name: 'y', shape: y }],
    initializers: indices ? [{ name: 'i', dims: [indices.length], data: BigInt64Array.from(indices.map(BigInt)) }] : [],
    nodes: [{ name: `/${name}`, op, domain: ML, inputs: [...inputs.map((v) => v.name), ...(indices ? ['i'] : [])], outputs: ['y'], attrs }],
  });

  it('ArrayFeatureExtractor selects along the last axis; a [F] input is one row', async () => {
    await compare(model('afe', 'ArrayFeatureExtractor', [{ name: 'x', shape: [2, 2, 3] }], [2, 2, 3], {}, [2, 0, 2]), floatSamples([2, 2, 3], 3, 31));
    await compare(model('afe_row', 'ArrayFeatureExtractor', [{ name: 'x', shape: [3] }], [1, 2], {}, [1, 0]), floatSamples([3], 3, 33));
    expectErr(model('afe_range', 'ArrayFeatureExtractor', [{ name: 'x', shape: [2, 3] }], [2, 1], {}, [3]), 'node /afe_range (ArrayFeatureExtractor): indices [3] are not all in [0, 3)');
  });

  it('FeatureVectorizer puts inputs side by side, cut or zero-padded to inputdimensions', async () => {
    const ab = (shapeA: number[], shapeB: number[], y: number[]) => model(`fv_${shapeA.length}`, 'FeatureVectorizer', [{ name: 'a', shape: shapeA }, { name: 'b', shape: shapeB }], y, { inputdimensions: [2, 3] });
    const cases: number[][][] = [[[2, 3], [2, 1], [2, 5]], [[3], [1], [1, 5]]];
    for (const [a, b, y] of cases) {
      const samples = Array.from({ length: 3 }, (_, k) => [rand(a!.reduce((p, q) => p * q, 1), 35 + k), rand(b!.reduce((p, q) => p * q, 1), 45 + k)]);
      await compare(ab(a!, b!, y!), samples);
    }
  });
});

const i64in: ValueSpec = { name: 'k', shape: [2, 4], type: 'int64' };
const f32in: ValueSpec = { name: 'k', shape: [2, 4] };
/** Keys and other values, as integers or floats (k/4). */
const intSamples = (keys: number[], n: number, seed: number, div = 1): Sample[] => Array.from({ length: n }, (_, s) => {
  const r = rng(seed + s);
  return [Array.from({ length: 8 }, () => { const u = r(); return u > 0 ? keys[Math.floor(u * keys.length)]! : Math.round(u * 20) / div; })];
});

describe('LabelEncoder on numbers matches onnxruntime-web', () => {
  const keys = [1, 5, -2, 9];
  const fkeys = [0.5, 1.25, -2, 3.75];
  it('opset 2 lists: int→int, int→float, float→int, float→float; a repeated key keeps its first value', async () => {
    const le = (name: string, x: ValueSpec, out: ValueSpec, attrs: Record<string, AttrValue>) => one(name, 'LabelEncoder', x, [out], attrs, 2);
    await compare(le('le_ii', i64in, { name: 'y', shape: [2, 4], type: 'int64' }, { keys_int64s: [...keys, 5], values_int64s: [10, 20, 30, -40, 99], default_int64: -7 }), intSamples(keys, 6, 1));
    await compare(le('le_if', i64in, { name: 'y', shape: [2, 4] }, { keys_int64s: keys, values_floats: attr.floats([0.5, 2.5, -1, 0.25]), default_float: attr.float(9) }), intSamples(keys, 6, 2));
    await compare(le('le_fi', f32in, { name: 'y', shape: [2, 4], type: 'int64' }, { keys_floats: attr.floats(fkeys), values_int64s: [10, 20, 30, 40] }), intSamples(fkeys, 6, 3, 4));
    await compare(le('le_ff', f32in, { name: 'y', shape: [2, 4] }, { keys_floats: attr.floats(fkeys), values_floats: attr.floats([0.5, -1, 2, 4]), default_float: attr.float(-0.5) }), intSamples(fkeys, 6, 4, 4));
  });

  it('opset 4 tensors: keys_tensor / values_tensor / default_tensor; lists with a values_tensor', async () => {
    const le4 = (name: string, x: ValueSpec, out: ValueSpec, attrs: Record<string, AttrValue>) => one(name, 'LabelEncoder', x, [out], attrs, 4);
    const t64 = (xs: number[]) => ({ dims: [xs.length], data: BigInt64Array.from(xs.map(BigInt)) });
    const t32 = (xs: number[]) => ({ dims: [xs.length], data: Float32Array.from(xs) });
    await compare(le4('le4_ii', i64in, { name: 'y', shape: [2, 4], type: 'int64' }, { keys_tensor: t64(keys), values_tensor: t64([10, 20, 30, 40]), default_tensor: t64([-7]) }), intSamples(keys, 6, 5));
    await compare(le4('le4_if', i64in, { name: 'y', shape: [2, 4] }, { keys_tensor: t64(keys), values_tensor: t32([0.5, 2.5, -1, 0.25]), default_tensor: t32([1.5]) }), intSamples(keys, 6, 6));
    await compare(le4('le4_ff', f32in, { name: 'y', shape: [2, 4] }, { keys_tensor: t32(fkeys), values_tensor: t32([0.5, -1, 2, 4]), default_tensor: t32([-0.5]) }), intSamples(fkeys, 6, 7, 4));
    // the list wins over the tensor for int64 keys; values from the tensor
    await compare(le4('le4_mixed', i64in, { name: 'y', shape: [2, 4], type: 'int64' }, { keys_int64s: keys, values_tensor: t64([1, 2, 3, 4]), default_tensor: t64([0]) }), intSamples(keys, 6, 8));
    // lists in opset 4, default from default_int64
    await compare(le4('le4_lists', i64in, { name: 'y', shape: [2, 4], type: 'int64' }, { keys_int64s: keys, values_int64s: [1, 2, 3, 4], default_int64: 11 }), intSamples(keys, 6, 9));
  });

  it('opset 4 on a string (categorical) input: keys_strings compared as category codes, values_tensor', async () => {
    const m = one('le4_strings', 'LabelEncoder', { name: 's', shape: [1, 3], type: 'string' }, [{ name: 'y', shape: [1, 3], type: 'int64' }], {
      keys_strings: ['red', 'green', 'blue'], values_tensor: { dims: [3], data: BigInt64Array.from([10n, 20n, 30n]) }, default_tensor: { dims: [1], data: BigInt64Array.from([-1n]) },
    }, 4);
    await compare(m, [[['red', 'blue', 'mauve']], [['green', 'green', 'red']], [['', 'blue', 'BLUE']]]);
  });

  it('refuses values_tensor without default_tensor, and string keys on a numeric input, naming the node', () => {
    const t64 = (xs: bigint[]) => ({ dims: [xs.length], data: BigInt64Array.from(xs) });
    const y: ValueSpec = { name: 'y', shape: [2, 4], type: 'int64' };
    expectErr(one('le4_nodefault', 'LabelEncoder', i64in, [y], { keys_int64s: keys, values_tensor: t64([1n, 2n, 3n, 4n]) }, 4), 'node /le4_nodefault (LabelEncoder): values_tensor without default_tensor');
    expectErr(one('le4_str', 'LabelEncoder', i64in, [y], { keys_tensor: { dims: [2], data: ['a', 'b'] }, values_tensor: t64([1n, 2n]), default_tensor: t64([0n]) }, 4), 'node /le4_str (LabelEncoder): keys_tensor compares the input with strings, but the input is not a string graph input');
  });

  it('opset 4 keys_tensor of strings on a categorical input', async () => {
    const m = one('le4_keys_strings', 'LabelEncoder', { name: 's', shape: [1, 3], type: 'string' }, [{ name: 'y', shape: [1, 3], type: 'int64' }], {
      keys_tensor: { dims: [3], data: ['male', 'female', 'other'] }, values_tensor: { dims: [3], data: BigInt64Array.from([1n, 2n, 3n]) }, default_tensor: { dims: [1], data: BigInt64Array.from([-1n]) },
    }, 4);
    await compare(m, [[['female', 'x', 'male']], [['other', 'other', 'female']]]);
  });
});

describe('ai.onnx.ml operators in a circuit', () => {
  it('a binary RBF SVC, a one-class POLY SVMRegressor and an int→float LabelEncoder compile; the witness satisfies the constraints, a flipped label does not', async () => {
    const x1: ValueSpec = { name: 'x', shape: [1, F] };
    const m: ModelSpec = {
      graphName: 'ml_circuit', opsets: { [ML]: 2 },
      inputs: [x1, { name: 'k', shape: [1, 2], type: 'int64' }],
      outputs: [{ name: 'label', shape: [1], type: 'int64' }, { name: 'scores', shape: [1, 2] }, { name: 'y', shape: [1, 1] }, { name: 'v', shape: [1, 2] }],
      initializers: [],
      nodes: [
        { ...svc('svc', 'RBF', [0.7, 0, 0]).nodes[0]!, name: '/svc' },
        { ...svr('POLY', [0.5, 1, 2], { one_class: 1, rho: attr.floats([-0.5]) }).nodes[0]!, name: '/svr' },
        { name: '/le', op: 'LabelEncoder', domain: ML, inputs: ['k'], outputs: ['v'], attrs: { keys_int64s: [1, 5, -2], values_floats: attr.floats([0.5, 2.5, -1]), default_float: attr.float(0.25) } },
      ],
    };
    const samples = Array.from({ length: 10 }, (_, i) => ({ input_data: [rand(F, 40 + i, 1.5), [[1, 5, -2, 3][i % 4]!, [7, 1, 5, -2][i % 4]!]] }));
    const c = await compileSpec(m, work, samples);
    const { qg } = c;
    const refs = await compare(m, samples.slice(0, 4).map((s) => s.input_data));
    for (const [i, s] of samples.slice(0, 4).entries()) {
      const qin = quantizeInputs(qg, s.input_data);
      const q = execQuant(qg, qin);
      expect(Number(q.outputs[0]![0])).toBe(refs[i]![0]![0]); // the label, exactly
      expect(dequantize(q.outputs[2]![0]!, qg.outputs[2]!.scale)).toBe(refs[i]![2]![0]); // ±1
      q.outputs[3]!.forEach((v, j) => expect(dequantize(v, qg.outputs[3]!.scale)).toBe(refs[i]![3]![j]));
      const w = await circuitWitness(qg, c.settings.visibility, {}, { qin }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      // the comparison s ≤ 0 that picks the label: flipped, the constraints fail
      if (i === 0) expect(await satisfiedFlipped(c, w, '/svc/LessOrEqual')).toBe(false);
    }
  }, 120_000);
});
