/**
 * --weights hashed on ai.onnx.ml models. Tree ensembles: the branch values (thresholds), leaf
 * weights and base values are committed private inputs; which feature each branch reads, the
 * branch modes and the trees' shapes are the public architecture. A witness whose threshold,
 * leaf weight or base value is changed fails; another forest of the same shapes proves under the
 * same key, one whose branches read other features is refused. SVMs: support vectors,
 * coefficients, rho and Platt parameters committed, kernel parameters public.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { attr, buildModel, type AttrValue, type ModelSpec, type ValueSpec } from '../src/onnx/write.js';
import { loadWeights } from '../src/model-weights.js';
import { BuildPaths } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { committedWitness, holdsWithWeightChanged } from './helpers/compiled.js';
import { compare, floatSamples, ML, one, rand, rng } from './helpers/ml-models.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-hashed-ml-'));
afterAll(async () => { await releaseCurves(); });

const F = 4;
const x: ValueSpec = { name: 'x', shape: [1, F] };

/**
 * `trees` full binary trees of depth 3 on F features: the features and modes from `shapeSeed`
 * (the architecture), thresholds in (−1, 1) and one leaf weight per class in (−5, 5) from `valueSeed`.
 */
function forest(shapeSeed: number, valueSeed: number, trees: number, classes: number): Record<string, AttrValue> {
  const s = rng(shapeSeed);
  const v = rng(valueSeed);
  const modes = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT'];
  const n = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], values: [] as number[], modes: [] as string[], truenodeids: [] as number[], falsenodeids: [] as number[] };
  const w = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  const inner = 7;
  for (let t = 0; t < trees; t++) {
    for (let id = 0; id < 15; id++) {
      const leaf = id >= inner;
      n.treeids.push(t); n.nodeids.push(id);
      n.featureids.push(leaf ? 0 : Math.floor(((s() + 1) / 2) * F));
      n.modes.push(leaf ? 'LEAF' : modes[Math.floor(((s() + 1) / 2) * modes.length)]!);
      n.values.push(leaf ? 0 : Math.round(v() * 64) / 64);
      n.truenodeids.push(leaf ? 0 : 2 * id + 1); n.falsenodeids.push(leaf ? 0 : 2 * id + 2);
      if (leaf) for (let c = 0; c < classes; c++) { w.treeids.push(t); w.nodeids.push(id); w.ids.push(c); w.weights.push(Math.round(v() * 5 * 32) / 32); }
    }
  }
  return {
    nodes_treeids: n.treeids, nodes_nodeids: n.nodeids, nodes_featureids: n.featureids, nodes_values: attr.floats(n.values), nodes_modes: n.modes,
    nodes_truenodeids: n.truenodeids, nodes_falsenodeids: n.falsenodeids,
    class_treeids: w.treeids, class_nodeids: w.nodeids, class_ids: w.ids, class_weights: attr.floats(w.weights),
  };
}

/** A three-class booster (SOFTMAX scores, label = argmax) with base values. */
function classifier(name: string, shapeSeed: number, valueSeed: number): ModelSpec {
  const base = rng(valueSeed + 1000);
  return {
    graphName: name, opsets: { [ML]: 1 }, inputs: [x], outputs: [{ name: 'label', shape: [1], type: 'int64' }, { name: 'scores', shape: [1, 3] }], initializers: [],
    nodes: [{
      name: '/gbt', op: 'TreeEnsembleClassifier', domain: ML, inputs: ['x'], outputs: ['label', 'scores'],
      attrs: { ...forest(shapeSeed, valueSeed, 5, 3), classlabels_int64s: [0, 1, 2], post_transform: 'SOFTMAX', base_values: attr.floats([0, 1, 2].map(() => Math.round(base() * 32) / 32)) },
    }],
  };
}

function writeModel(spec: ModelSpec): string {
  const dir = join(work, spec.graphName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildModel(spec));
  return join(dir, 'model.onnx');
}

const samples = floatSamples([1, F], 24, 7, 1.2);
const calibration = samples.map((s) => ({ input_data: s }));

describe('--weights hashed on a tree ensemble', { timeout: 240_000 }, () => {
  let build: string;
  let settings: api.Settings;
  const own = classifier('gbt', 3, 4);
  beforeAll(async () => {
    build = join(work, 'build');
    settings = (await api.compile({ model: writeModel(own), outDir: build, calibration, visibility: { weights: 'hashed' }, checkCircom: true })).settings;
    await api.setup({ buildDir: build });
  }, 240_000);

  it('commits to the thresholds (each at its own scale), leaf weights and base values; the paths stay public', () => {
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    // 35 branches in four modes (a threshold tensor each), 40 leaves × 3 classes, 3 base values
    const tensors = settings.weights!.tensors;
    const branches = tensors.filter((t) => t.name.startsWith('/gbt:thresholds_'));
    expect(branches.map((t) => t.name).sort()).toEqual(['gt', 'gte', 'leq', 'lt'].map((m) => `/gbt:thresholds_${m}`));
    expect(branches.reduce((n, t) => n + t.shape[0]!, 0)).toBe(35);
    expect(tensors.filter((t) => !branches.includes(t)).map((t) => [t.name, t.shape])).toEqual([['/gbt:leaf_weights', [40, 3]], ['/gbt:base_values', [3]]]);
    // thresholds are compared, not multiplied: each tensor's largest |t| < 1 fills its 12 bits,
    // at a finer scale than the leaf weights' (|w| < 5) that cap the scale of multiplied tensors
    const attrs = own.nodes[0]!.attrs!;
    const leaves = tensors.find((t) => t.name === '/gbt:leaf_weights')!;
    for (const t of branches) {
      expect(t.scale).toBeGreaterThan(leaves.scale);
      expect(t.scale).toBeGreaterThanOrEqual(10);
    }
    expect(Math.max(...Array.from((attrs.nodes_values as { value: number[] }).value, Math.abs))).toBeLessThan(1);
  });

  it('labels and scores equal the executor\'s on every sample, the labels onnxruntime-web\'s', async () => {
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
    const weights = loadWeights(new BuildPaths(build), settings);
    const refs = await compare(own, samples);
    expect(new Set(refs.map((r) => r[0]![0])).size).toBeGreaterThan(1);
    for (const [i, s] of samples.entries()) {
      const q = execQuant(qg, quantizeInputs(qg, [Float64Array.from(s[0]!), ...weights])).outputs;
      expect(Number(q[0]![0]), `sample ${i}`).toBe(refs[i]![0]![0]);
    }
  });

  it('a witness whose threshold, leaf weight or base value differs fails', async () => {
    const c = await committedWitness(build, settings, samples[0]![0]!);
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
    for (const t of settings.weights!.tensors) expect(await holdsWithWeightChanged(c, t.name, 0), t.name).toBe(false);
  });

  it('proves and verifies; another forest of the same shapes proves under the same key', async () => {
    const other = writeModel(classifier('gbt-other', 3, 9));
    const input = { input_data: samples[1]! };
    const a = await api.prove({ buildDir: build, input, name: 'a' });
    const b = await api.prove({ buildDir: build, input, name: 'b', weights: other });
    for (const name of ['a', 'b']) expect(await api.verify({ buildDir: build, name })).toBe(true);
    expect(a.publicSignals.at(-1)).toBe(settings.weights!.commitment);
    expect(b.publicSignals.at(-1)).not.toBe(settings.weights!.commitment);
    for (const r of [a, b]) expect(r.reference!.maxAbsError).toBeLessThanOrEqual(r.reference!.tolerance);
  });

  it('refuses the weights of a forest whose branches read other features: the circuit has the build\'s paths', async () => {
    const other = writeModel(classifier('gbt-reshaped', 5, 4));
    await expect(api.prove({ buildDir: build, input: { input_data: samples[1]! }, name: 'c', weights: other }))
      .rejects.toThrow(/gbt-reshaped\/model.onnx: not the architecture this circuit was compiled for \(its node \d+, node \/gbt\/\w+ \(\w+\), differs from the build's\)/);
  });
});

describe('--weights hashed on SVMs', { timeout: 240_000 }, () => {
  const x2: ValueSpec = { name: 'x', shape: [2, 3] };
  const labelOut: ValueSpec = { name: 'label', shape: [2], type: 'int64' };
  const scoresOut: ValueSpec = { name: 'scores', shape: [2, 2] };
  const cases: [string, ModelSpec, string[]][] = [
    // binary SVC, RBF kernels, Platt probabilities: (x − sv)² enters its product as it is
    ['svc-rbf', one('svc', 'SVMClassifier', x2, [labelOut, scoresOut], {
      classlabels_ints: [3, 7], vectors_per_class: [2, 3], kernel_type: 'RBF', kernel_params: attr.floats([0.7, 0, 0]),
      support_vectors: attr.floats(rand(15, 31)), coefficients: attr.floats([0.9, 0.6, -0.5, -0.7, -0.3]), rho: attr.floats([0.05]),
      prob_a: attr.floats([-2.5]), prob_b: attr.floats([0.125]),
    }), ['support_vectors', 'coefficients', 'rho', 'prob_a', 'prob_b']],
    // three classes, RBF kernels, coupled probabilities: the Platt parameters of each pair committed
    ['svc-proba-3', one('svc3', 'SVMClassifier', x2, [labelOut, { name: 'probabilities', shape: [2, 3] }], {
      classlabels_ints: [0, 1, 2], vectors_per_class: [2, 2, 2], kernel_type: 'RBF', kernel_params: attr.floats([0.7, 0, 0]),
      support_vectors: attr.floats(rand(18, 33)), coefficients: attr.floats([0.9, 0.6, -0.5, -0.7, 0.4, 0.3, 0.8, -0.6, 0.5, 0.2, -0.9, -0.4]),
      rho: attr.floats([0.05, -0.1, 0.1]), prob_a: attr.floats([-2.5, -1.5, -2]), prob_b: attr.floats([0.125, -0.25, 0]),
    }), ['support_vectors', 'coefficients', 'rho', 'prob_a', 'prob_b']],
    // SVR, POLY kernels: the dot products x·sv are products of signals
    ['svr-poly', one('svr', 'SVMRegressor', x2, [{ name: 'y', shape: [2, 1] }], {
      n_supports: 4, kernel_type: 'POLY', kernel_params: attr.floats([0.5, 1, 2]),
      support_vectors: attr.floats(rand(12, 21)), coefficients: attr.floats(rand(4, 22)), rho: attr.floats([0.125]),
    }), ['support_vectors', 'coefficients', 'rho']],
    // linear SVC: the label's s1 − s0 and s0 are read from the committed scores
    ['svc-linear', one('lin', 'SVMClassifier', x2, [labelOut, scoresOut], {
      classlabels_ints: [0, 1], kernel_type: 'LINEAR', kernel_params: attr.floats([0, 0, 0]), coefficients: attr.floats([0.5, -1, 0.25, -0.75, 0.5, 1]), rho: attr.floats([0.1]),
    }), ['coefficients', 'rho']],
  ];
  const svmSamples = floatSamples([2, 3], 16, 41, 1.2);
  for (const [name, spec, committed] of cases) {
    it(`${name}: commits to ${committed.join(', ')}; the outputs within tolerance, the labels onnxruntime-web's; a changed weight fails`, async () => {
      const build = join(work, `build-${name}`);
      const { settings } = await api.compile({ model: writeModel({ ...spec, graphName: name }), outDir: build, calibration: svmSamples.map((s) => ({ input_data: s })), visibility: { weights: 'hashed' }, checkCircom: name === 'svc-rbf' });
      if (name === 'svc-rbf') expect(settings.circuit.checkCircom?.same).toBe(true);
      expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
      expect(settings.weights!.tensors.map((t) => t.name.split(':')[1])).toEqual(committed);
      if (spec.outputs[0]!.type === 'int64') {
        const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
        const weights = loadWeights(new BuildPaths(build), settings);
        const refs = await compare(spec, svmSamples, 5e-3); // onnxruntime iterates Platt probabilities to its tolerance
        for (const [i, s] of svmSamples.entries()) {
          const q = execQuant(qg, quantizeInputs(qg, [Float64Array.from(s[0]!), ...weights])).outputs;
          expect(Array.from(q[0]!, Number), `sample ${i}`).toEqual(Array.from(refs[i]![0]!));
        }
      }
      const c = await committedWitness(build, settings, svmSamples[0]![0]!);
      expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
      for (const t of settings.weights!.tensors) expect(await holdsWithWeightChanged(c, t.name, 0), t.name).toBe(false);
    });
  }
});
