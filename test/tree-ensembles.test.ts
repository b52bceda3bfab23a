// TreeEnsembleClassifier and TreeEnsembleRegressor against onnxruntime-web, on random forests:
// multiclass, and the binary forms onnxruntime computes its own way (one score column, as sklearn,
// XGBoost and LightGBM write every binary classifier: label by a threshold on the raw score, two
// score columns made from one; two columns: onnxruntime's 1/0 label). A binary booster compiles to
// a circuit whose witness satisfies the constraints and whose label, flipped, does not; an opset-5
// TreeEnsemble with equality and membership branches commits to its split values (hashed).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { compile } from '../src/api.js';
import { attr, buildModel, type AttrValue, type ModelSpec, type ValueSpec } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { committedWitness, compileSpec, holdsWithWeightChanged, satisfiedFlipped } from './helpers/compiled.js';
import { compare, expectErr, floatSamples, labelsOf, ML, one, rng } from './helpers/ml-models.js';

const F = 4;
const N = 3; // rows scored at once
const x: ValueSpec = { name: 'x', shape: [N, F] };
const MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT'];

/**
 * `trees` full binary trees of `depth` on F features (thresholds in (−1, 1), every mode), and at
 * each leaf one weight per column in `columns` from `weight` (the leaf's tree and column).
 */
function forest(seed: number, trees: number, depth: number, columns: number[], weight: (r: () => number, column: number) => number, kind = 'class'): Record<string, AttrValue> {
  const r = rng(seed);
  const n = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], values: [] as number[], modes: [] as string[], truenodeids: [] as number[], falsenodeids: [] as number[] };
  const w = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  const inner = 2 ** depth - 1;
  for (let t = 0; t < trees; t++) {
    for (let id = 0; id < 2 * inner + 1; id++) {
      const leaf = id >= inner;
      n.treeids.push(t); n.nodeids.push(id);
      n.featureids.push(leaf ? 0 : Math.floor(((r() + 1) / 2) * F));
      n.values.push(leaf ? 0 : Math.round(r() * 64) / 64);
      n.modes.push(leaf ? 'LEAF' : MODES[Math.floor(((r() + 1) / 2) * MODES.length)]!);
      n.truenodeids.push(leaf ? 0 : 2 * id + 1); n.falsenodeids.push(leaf ? 0 : 2 * id + 2);
      if (leaf) for (const col of columns) { w.treeids.push(t); w.nodeids.push(id); w.ids.push(col); w.weights.push(Math.round(weight(r, col) * 256) / 256); }
    }
  }
  return {
    nodes_treeids: n.treeids, nodes_nodeids: n.nodeids, nodes_featureids: n.featureids, nodes_values: attr.floats(n.values), nodes_modes: n.modes,
    nodes_truenodeids: n.truenodeids, nodes_falsenodeids: n.falsenodeids,
    [`${kind}_treeids`]: w.treeids, [`${kind}_nodeids`]: w.nodeids, [`${kind}_ids`]: w.ids, [`${kind}_weights`]: attr.floats(w.weights),
  };
}

const labelOut: ValueSpec = { name: 'label', shape: [N], type: 'int64' };
const scores = (k: number): ValueSpec => ({ name: 'scores', shape: [N, k] });
const classifier = (name: string, attrs: Record<string, AttrValue>, k: number): ModelSpec => one(name, 'TreeEnsembleClassifier', x, [labelOut, scores(k)], attrs);
const mixed = (r: () => number) => r() * 0.6; // a booster's leaf values, either sign
const probability = (r: () => number) => (r() + 1) / 4; // a forest's averaged probability of the positive class: ≥ 0
const samples = (n: number, seed: number) => floatSamples([N, F], n, seed, 1.2);

describe('binary TreeEnsembleClassifier with one score column matches onnxruntime-web', () => {
  it('a booster (leaf values of either sign): label = s > 0, scores σ([−s, s]) (LOGISTIC) or [−s, s], with and without a base value', async () => {
    for (const pt of ['LOGISTIC', 'NONE', 'SOFTMAX', 'SOFTMAX_ZERO']) {
      for (const base of [[], [-0.3]]) {
        const m = classifier(`gbt_${pt.toLowerCase()}_${base.length}`, { ...forest(5, 4, 3, [0], mixed), classlabels_int64s: [3, 7], post_transform: pt, ...(base.length ? { base_values: attr.floats(base) } : {}) }, 2);
        const refs = await compare(m, samples(12, 40));
        expect(labelsOf(refs)).toEqual(new Set([3, 7]));
      }
    }
  });

  it('a forest (weights ≥ 0, the positive class\'s probability): label = s > 0.5, scores [1 − s, s]; a negative base value keeps the 0.5 threshold', async () => {
    for (const pt of ['NONE', 'LOGISTIC']) {
      const m = classifier(`rf_${pt.toLowerCase()}`, { ...forest(9, 3, 2, [0], probability), classlabels_int64s: [0, 1], post_transform: pt }, 2);
      expect(labelsOf(await compare(m, samples(16, 60)))).toEqual(new Set([0, 1]));
    }
    await compare(classifier('rf_negative_base', { ...forest(9, 3, 2, [0], probability), classlabels_int64s: [0, 1], base_values: attr.floats([-0.125]) }, 2), samples(8, 70));
  });
});

describe('TreeEnsembleClassifier with a score column per class matches onnxruntime-web', () => {
  it('two classes: scores post-transformed, label 1 where the second score is > 0 (onnxruntime\'s, whatever the class labels)', async () => {
    for (const pt of ['NONE', 'LOGISTIC', 'SOFTMAX']) {
      const m = classifier(`two_columns_${pt.toLowerCase()}`, { ...forest(11, 3, 2, [0, 1], mixed), classlabels_int64s: [3, 7], post_transform: pt, base_values: attr.floats([0.25]) }, 2);
      expect(labelsOf(await compare(m, samples(12, 80)))).toEqual(new Set([0, 1]));
    }
  });

  it('three classes: label = argmax, SOFTMAX scores', async () => {
    const m = classifier('three_classes', { ...forest(13, 4, 3, [0, 1, 2], mixed), classlabels_int64s: [0, 1, 2], post_transform: 'SOFTMAX', base_values: attr.floats([0.1, -0.1, 0]) }, 3);
    expect(labelsOf(await compare(m, samples(16, 90)))).toEqual(new Set([0, 1, 2]));
  });

  it('string class labels (classlabels_strings) are output as codes into their table; integer labels not evenly spaced by a lookup', async () => {
    const strLabel: ValueSpec = { name: 'label', shape: [N], type: 'string' };
    const strings = (name: string, attrs: Record<string, AttrValue>, k: number) => one(name, 'TreeEnsembleClassifier', x, [strLabel, scores(k)], attrs);
    const seen = (refs: Float64Array[][]) => labelsOf(refs).size;
    expect(seen(await compare(strings('str_booster', { ...forest(5, 4, 3, [0], mixed), classlabels_strings: ['no', 'yes'], post_transform: 'LOGISTIC' }, 2), samples(12, 40)))).toBe(2);
    expect(seen(await compare(strings('str_forest', { ...forest(9, 3, 2, [0], probability), classlabels_strings: ['no', 'yes'] }, 2), samples(16, 60)))).toBe(2);
    expect(seen(await compare(strings('str_two_columns', { ...forest(11, 3, 2, [0, 1], mixed), classlabels_strings: ['cat', 'dog'], base_values: attr.floats([0.25]) }, 2), samples(12, 80)))).toBe(2);
    expect(seen(await compare(strings('str_three', { ...forest(13, 4, 3, [0, 1, 2], mixed), classlabels_strings: ['low', 'mid', 'high'], post_transform: 'SOFTMAX' }, 3), samples(16, 90)))).toBe(3);
    expect(labelsOf(await compare(classifier('uneven', { ...forest(13, 4, 3, [0, 1, 2], mixed), classlabels_int64s: [2, 5, 6] }, 3), samples(16, 90)))).toEqual(new Set([2, 5, 6]));
  });

  it('TreeEnsembleRegressor: two targets, SUM and AVERAGE', async () => {
    for (const agg of ['SUM', 'AVERAGE']) {
      await compare(one(`regressor_${agg.toLowerCase()}`, 'TreeEnsembleRegressor', x, [{ name: 'y', shape: [N, 2] }], {
        ...forest(17, 3, 3, [0, 1], mixed, 'target'), n_targets: 2, aggregate_function: agg, base_values: attr.floats([0.5, -0.25]),
      }), samples(8, 100));
    }
  });

  it('refuses what onnxruntime computes another way, naming the node', () => {
    const ok = { ...forest(5, 2, 2, [0], mixed), classlabels_int64s: [0, 1] };
    expectErr(classifier('probit', { ...ok, post_transform: 'PROBIT' }, 2), 'node /probit (TreeEnsembleClassifier): post_transform PROBIT is not supported on a binary tree ensemble');
    expectErr(classifier('two_bases', { ...ok, base_values: attr.floats([0.1, 0.2]) }, 2), 'node /two_bases (TreeEnsembleClassifier): 2 base_values on a binary classifier');
    expectErr(classifier('second_only', { ...forest(5, 2, 2, [1], mixed), classlabels_int64s: [0, 1] }, 2), 'node /second_only (TreeEnsembleClassifier): class_ids [1] on two classes');
    // the last leaf without its class-1 weight
    const two = forest(5, 2, 2, [0, 1], mixed);
    const cut = (k: string) => (two[k] as number[]).slice(0, -1);
    const bare = { ...two, class_treeids: cut('class_treeids'), class_nodeids: cut('class_nodeids'), class_ids: cut('class_ids'), class_weights: attr.floats((two.class_weights as { value: number[] }).value.slice(0, -1)) };
    expectErr(classifier('bare_leaf', { ...bare, classlabels_int64s: [0, 1] }, 2), 'has no weight for class 1');
  });
});

/**
 * The same kind of forest in TreeEnsemble's form (ai.onnx.ml opset 5): nodes by index, leaves by
 * index, integer modes (0 to 6). Feature 0 is an integer code where `codes`: its branches test
 * equality, inequality and membership.
 */
function forest5(seed: number, trees: number, depth: number, targets: number, extra: Record<string, AttrValue> = {}, codes = false): Record<string, AttrValue> {
  const r = rng(seed);
  const pick = (k: number) => Math.floor(((r() + 1) / 2) * k);
  const f = { featureids: [] as number[], splits: [] as number[], modes: [] as number[], trueids: [] as number[], trueleafs: [] as number[], falseids: [] as number[], falseleafs: [] as number[] };
  const leaves = { targetids: [] as number[], weights: [] as number[] };
  const members: number[] = [];
  const roots: number[] = [];
  const grow = (d: number): [number, number] => {
    if (d === depth) { leaves.targetids.push(pick(targets)); leaves.weights.push(Math.round(r() * 0.6 * 256) / 256); return [leaves.targetids.length - 1, 1]; }
    const i = f.featureids.length;
    const coded = codes && pick(2) === 0;
    const mode = coded ? 4 + pick(3) : pick(4);
    f.featureids.push(coded ? 0 : 1 + pick(F - 1)); f.splits.push(coded ? pick(4) : Math.round(r() * 64) / 64); f.modes.push(mode);
    f.trueids.push(0); f.trueleafs.push(0); f.falseids.push(0); f.falseleafs.push(0);
    if (mode === 6) members.push(...[pick(4), pick(4)], NaN);
    [f.trueids[i], f.trueleafs[i]] = grow(d + 1);
    [f.falseids[i], f.falseleafs[i]] = grow(d + 1);
    return [i, 0];
  };
  for (let t = 0; t < trees; t++) roots.push(grow(0)[0]);
  const tensor = (data: number[], dtype: 'float32' | 'uint8' = 'float32') => attr.tensor({ dims: [data.length], data: dtype === 'uint8' ? Uint8Array.from(data) : Float32Array.from(data) });
  return {
    nodes_featureids: f.featureids, nodes_splits: tensor(f.splits), nodes_modes: tensor(f.modes, 'uint8'),
    nodes_truenodeids: f.trueids, nodes_trueleafs: f.trueleafs, nodes_falsenodeids: f.falseids, nodes_falseleafs: f.falseleafs,
    leaf_targetids: leaves.targetids, leaf_weights: tensor(leaves.weights), tree_roots: roots, n_targets: targets,
    ...(members.length ? { membership_values: tensor(members.slice(0, -1)) } : {}), ...extra,
  };
}

const ensemble = (name: string, attrs: Record<string, AttrValue>, targets: number): ModelSpec => ({ ...one(name, 'TreeEnsemble', x, [{ name: 'y', shape: [N, targets] }], attrs, 5), opsets: { [ML]: 5, '': 21 } });
/** Samples whose feature 0 is an integer code 0 … 3. */
const coded = (n: number, seed: number) => samples(n, seed).map(([v]) => [v!.map((u, i) => (i % F === 0 ? Math.floor((u + 1.2) * 1.66) : u))]);

describe('TreeEnsemble (ai.onnx.ml opset 5) matches onnxruntime-web', () => {
  it('SUM and AVERAGE over two and three targets', async () => {
    await compare(ensemble('te_sum', forest5(31, 4, 3, 2), 2), samples(8, 110));
    await compare(ensemble('te_average', forest5(33, 4, 3, 2, { aggregate_function: 0 }), 2), samples(8, 120));
    await compare(ensemble('te_three', forest5(37, 6, 3, 3), 3), samples(8, 140));
  });

  it('equality, inequality and membership branches on an integer feature', async () => {
    const attrs = forest5(41, 5, 3, 1, {}, true);
    const modes = (attrs.nodes_modes as { value: { data: Uint8Array } }).value.data;
    expect([...new Set(modes)].filter((k) => k >= 4).sort()).toEqual([4, 5, 6]);
    await compare(ensemble('te_codes', attrs, 1), coded(16, 150));
  });

  it('refuses MIN and MAX aggregation and post-transforms onnxruntime reads its own way, naming the node', () => {
    expectErr(ensemble('te_max', forest5(31, 2, 2, 1, { aggregate_function: 3 }), 1), 'node /te_max (TreeEnsemble): aggregate_function MAX is not supported');
    expectErr(ensemble('te_logistic', forest5(31, 2, 2, 2, { post_transform: 2 }), 2), 'node /te_logistic (TreeEnsemble): post_transform 2 is not supported');
    expectErr(one('one_logistic', 'TreeEnsembleRegressor', x, [{ name: 'y', shape: [N, 1] }], { ...forest(17, 2, 2, [0], mixed, 'target'), post_transform: 'LOGISTIC' }), 'node /one_logistic (TreeEnsembleRegressor): post_transform LOGISTIC on one target is not supported');
  });
});

describe('a binary booster in a circuit', () => {
  it('compiles (circom builds the same system); the witness satisfies the constraints and gives onnxruntime\'s label; the flipped label does not satisfy them', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-trees-'));
    const x1: ValueSpec = { name: 'x', shape: [1, F] };
    const m: ModelSpec = {
      graphName: 'booster', opsets: { [ML]: 1 }, inputs: [x1], outputs: [{ name: 'label', shape: [1], type: 'int64' }, { name: 'scores', shape: [1, 2] }], initializers: [],
      nodes: [{ name: '/gbt', op: 'TreeEnsembleClassifier', domain: ML, inputs: ['x'], outputs: ['label', 'scores'], attrs: { ...forest(21, 6, 3, [0], mixed), classlabels_int64s: [0, 1], post_transform: 'LOGISTIC', base_values: attr.floats([0.125]) } }],
    };
    const input = Array.from({ length: 24 }, (_, i) => ({ input_data: [floatSamples([1, F], 1, 200 + i, 1.2)[0]![0]!] }));
    const c = await compileSpec(m, work, input, true);
    const refs = await compare(m, input.map((s) => s.input_data));
    expect(labelsOf(refs)).toEqual(new Set([0, 1]));
    for (const [i, s] of input.entries()) {
      const qin = quantizeInputs(c.qg, s.input_data);
      expect(Number(execQuant(c.qg, qin).outputs[0]![0])).toBe(refs[i]![0]![0]); // the label, exactly
      if (i > 3) continue;
      const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      // the comparison s > 0 that picks the label: flipped, the constraints fail
      if (i === 0) expect(await satisfiedFlipped(c, w, '/gbt/Greater')).toBe(false);
    }
  }, 120_000);
});

describe('a TreeEnsemble (opset 5) with --weights hashed', () => {
  it('commits to its split values (equality and membership ones too) and leaf weights; the witness holds, a changed member fails', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-trees-hashed-'));
    const m = ensemble('te_hashed', forest5(41, 5, 3, 1, {}, true), 1);
    const model = join(work, 'te.onnx');
    writeFileSync(model, buildModel(m));
    const cal = coded(16, 150).map((s) => ({ input_data: s }));
    const build = join(work, 'build');
    const { settings } = await compile({ model, outDir: build, calibration: cal, visibility: { weights: 'hashed' } });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    const names = settings.weights!.tensors.map((t) => t.name.split(':')[1]);
    expect(names).toEqual(expect.arrayContaining(['thresholds_eq', 'thresholds_neq', 'members', 'leaf_weights']));
    const c = await committedWitness(build, settings, cal[0]!.input_data[0]!);
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
    expect(await holdsWithWeightChanged(c, settings.weights!.tensors.find((t) => t.name.endsWith(':members'))!.name, 0)).toBe(false);
  }, 120_000);
});
