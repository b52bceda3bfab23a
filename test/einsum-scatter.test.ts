// Einsum (src/onnx/einsum.ts) and ScatterND / ScatterElements / Scatter (src/ir/ops/scatter.ts,
// src/onnx/expand.ts) against onnxruntime-web: one-node models run through decode → inferAndFold
// → linearize → evalAffine on random inputs, as test/ops.test.ts does for the other ops; then one
// small model with an Einsum of two signals compiled, its witness checked against the R1CS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols } from '../src/circom/witness.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { ZkonnxError } from '../src/errors.js';
import { evalAffine, linearize } from '../src/ir/linearize.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel, type AttrValue, type InitializerSpec, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-einsum-'));
afterAll(async () => { await releaseCurves(); rmSync(work, { recursive: true, force: true }); });

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const rand = (n: number, seed = n) => Float32Array.from({ length: n }, rng(seed * 7919 + 13));
const i64 = (xs: number[]) => BigInt64Array.from(xs.map((x) => BigInt(x)));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  op: string;
  /** Signal inputs (shapes); named x, x1, x2, … */
  x: number[][];
  /** Constant inputs, named c0, c1, … */
  consts?: { dims: number[]; data: InitializerSpec['data'] }[];
  attrs?: Record<string, AttrValue>;
  opset?: number;
  /** Input order: default signals then constants. */
  order?: string[];
}

function spec(c: Case): ModelSpec {
  const xs = c.x.map((_, i) => (i === 0 ? 'x' : `x${i}`));
  const inits = (c.consts ?? []).map((k, i) => ({ name: `c${i}`, dims: k.dims, data: k.data }));
  return {
    graphName: c.op, opset: c.opset ?? 13,
    inputs: c.x.map((s, i) => ({ name: xs[i]!, shape: s })),
    outputs: [{ name: 'y', shape: [] }],
    initializers: inits,
    nodes: [{ name: `/n/${c.op}`, op: c.op, inputs: c.order ?? [...xs, ...inits.map((k) => k.name)], outputs: ['y'], attrs: c.attrs }],
  };
}

/** Our pipeline against onnxruntime-web (graph inputs float32); returns the affine graph. */
async function compare(m: ModelSpec, seed = 1, tol = 1e-5) {
  const g = inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'));
  const bytes = buildModel({ ...m, outputs: m.outputs.map((o) => ({ ...o, shape: g.outputs.find((q) => q.name === o.name)!.shape.map((_, i) => `${o.name}_d${i}`) })) });
  const ag = linearize(g);
  const feeds: Record<string, ort.Tensor> = {};
  const ins: Record<string, Float64Array> = {};
  m.inputs.forEach((v, i) => {
    const data = rand(size(v.shape as number[]), seed + i);
    feeds[v.name] = new ort.Tensor('float32', data, v.shape as number[]);
    ins[v.name] = Float64Array.from(data);
  });
  const ours = evalAffine(ag, ag.inputs.map((v) => ins[v.name]!)).outputs;
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run(feeds);
  s.outputNames.forEach((n, i) => {
    const ref = r[n]!;
    expect(ag.outputs[i]!.shape, `shape of output ${n}`).toEqual([...ref.dims]);
    const data = Array.from(ref.data as Float32Array);
    const scale = Math.max(1, ...data.map(Math.abs));
    data.forEach((x, j) => {
      if (Math.abs(ours[i]![j]! - x) > tol * scale) throw new Error(`output ${n}[${j}]: ours ${ours[i]![j]} vs onnxruntime ${x}`);
    });
  });
  return ag;
}

const run = (c: Case, seed = 1) => compare(spec(c), seed);
const einsum = (equation: string, x: number[][], more: Partial<Case> = {}) => run({ op: 'Einsum', x, attrs: { equation }, opset: 12, ...more });
/** Elements of the 'mul' acts: the products of two signals, one constraint each. */
const products = (ag: Awaited<ReturnType<typeof compare>>) => ag.acts.filter((a) => a.op.kind === 'mul').reduce((n, a) => n + a.args.reduce((k, r) => k + Math.floor(r.length / 2), 0), 0);

function refusal(m: ModelSpec): ZkonnxError {
  try { linearize(inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'))); } catch (e) { if (e instanceof ZkonnxError) return e; throw e; }
  throw new Error('accepted');
}

describe('Einsum matches onnxruntime-web', () => {
  it('matrix products: ij,jk->ik; batched bij,bjk->bik; attention bhqd,bhkd->bhqk of two signals, one product per term', async () => {
    expect(products(await einsum('ij,jk->ik', [[3, 4], [4, 5]]))).toBe(3 * 5 * 4);
    await einsum('bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]);
    expect(products(await einsum('bhqd,bhkd->bhqk', [[1, 2, 3, 4], [1, 2, 5, 4]]))).toBe(2 * 3 * 5 * 4);
    await einsum('bi,bi->b', [[3, 4], [3, 4]]);
    await einsum('i,j->ij', [[3], [4]]);
    await einsum('ij,ij->ij', [[3, 4], [3, 4]]);
  });

  it('one operand: transpose, diagonal, trace, sums', async () => {
    await einsum('ij->ji', [[3, 4]]);
    await einsum('ii->i', [[3, 3]]);
    await einsum('ii', [[3, 3]]);
    await einsum('iji->ij', [[3, 2, 3]]);
    await einsum('iii->i', [[3, 3, 3]]);
    await einsum('ij->', [[3, 4]]);
    await einsum('ijk->ki', [[2, 3, 4]]);
    expect(products(await einsum('ij->i', [[3, 4]]))).toBe(0);
  });

  it('ellipsis, with a broadcast batch dimension; implicit outputs', async () => {
    await einsum('...ij,...jk->...ik', [[2, 3, 4], [2, 4, 5]]);
    await einsum('...ij,...jk->...ik', [[2, 3, 4], [1, 4, 5]]);
    await einsum('b...i,bi->b...', [[2, 3, 4], [2, 4]]);
    await einsum('ij,jk->ik', [[3, 1], [4, 5]]); // a size of 1 broadcasts against any other, as in numpy
    await einsum('ij,jk', [[3, 4], [4, 5]]);
    await einsum('ba', [[3, 4]]);
    await einsum('iJ,Jk->ki', [[3, 4], [4, 2]]);
    await einsum('ij,kj', [[3, 4], [5, 4]]);
    await einsum('...ij', [[2, 3, 4]]);
  });

  it('three operands; a cyclic contraction to a scalar', async () => {
    await einsum('ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]);
    await einsum('ab,bc,ca->', [[2, 3], [3, 4], [4, 2]]);
    await einsum('bi,bj,bk->bijk', [[2, 3], [2, 2], [2, 2]]);
  });

  it('constants mixed with signals are linear: no product; two constants fold', async () => {
    const w = { dims: [4, 5], data: rand(20, 3) };
    expect(products(await einsum('ij,jk->ik', [[3, 4]], { consts: [w] }))).toBe(0);
    expect(products(await einsum('oi,bi->bo', [[3, 5]], { consts: [{ dims: [4, 5], data: rand(20, 4) }], order: ['c0', 'x'] }))).toBe(0);
    expect(products(await einsum('ij,jk,kl->il', [[2, 3], [4, 2]], { consts: [{ dims: [3, 4], data: rand(12, 5) }], order: ['x', 'c0', 'x1'] }))).toBe(2 * 2 * 4);
    // Einsum of two constants folds at compile time, then adds to the signal
    const m: ModelSpec = {
      graphName: 'folded', opset: 12, inputs: [{ name: 'x', shape: [3, 5] }], outputs: [{ name: 'y', shape: [] }],
      initializers: [{ name: 'a', dims: [3, 4], data: rand(12, 6) }, { name: 'b', ...w }],
      nodes: [
        { name: '/e', op: 'Einsum', inputs: ['a', 'b'], outputs: ['ab'], attrs: { equation: 'ij,jk->ik' } },
        { name: '/add', op: 'Add', inputs: ['x', 'ab'], outputs: ['y'] },
      ],
    };
    expect(products(await compare(m))).toBe(0);
  });

  it('malformed equations are refused with the node named', () => {
    const bad = (equation: string, x: number[][], ...parts: string[]) => {
      const e = refusal(spec({ op: 'Einsum', x, attrs: { equation }, opset: 12 }));
      for (const p of ['node /n/Einsum (Einsum)', ...parts]) expect(e.message).toContain(p);
    };
    bad('ij,jk->il', [[2, 3], [3, 4]], "output index 'l' is in no input");
    bad('ijk->i', [[2, 3]], "input 0 has subscript 'ijk' (3 indices) for shape [2,3] of rank 2");
    bad('ij,jk->ik', [[2, 3], [4, 4]], "index 'j' has size 3 in one input and 4 in input 1");
    bad('ij->', [[2, 3], [3]], "has 1 operand subscripts for 2 inputs");
    bad('i$->i', [[2, 3]], "holds '$'");
    bad('...ij->ij', [[2, 3, 4]], 'the inputs have an ellipsis and the output has none');
  });
});

const nd = (dims: number[], data: number[]) => ({ dims, data: i64(data) });

describe('ScatterND / ScatterElements / Scatter match onnxruntime-web', () => {
  it('ScatterND: 1-D, slices, two-level indices with negative ones, constant data or updates', async () => {
    await run({ op: 'ScatterND', x: [[8], [4]], consts: [nd([4, 1], [4, 3, 1, 7])], order: ['x', 'c0', 'x1'] });
    await run({ op: 'ScatterND', x: [[4, 4, 4], [2, 4, 4]], consts: [nd([2, 1], [0, 2])], order: ['x', 'c0', 'x1'] });
    await run({ op: 'ScatterND', x: [[3, 4], [2]], consts: [nd([2, 2], [0, 1, 2, -1])], order: ['x', 'c0', 'x1'] });
    await run({ op: 'ScatterND', x: [[3, 4]], consts: [nd([1, 1], [-2]), { dims: [1, 4], data: rand(4, 9) }] });
    await run({ op: 'ScatterND', x: [[4, 2], [3, 2]], consts: [nd([3, 1], [1, 3, 1])], order: ['x', 'c0', 'x1'] }); // duplicates: the last wins
    await run({ op: 'ScatterND', x: [[2, 4]], consts: [{ dims: [3, 4], data: rand(12, 8) }, nd([2, 1], [2, 0])], order: ['c0', 'c1', 'x'] });
  });

  it('ScatterND reductions: add (duplicates summed), mul, max, min', async () => {
    const dup = nd([3, 1], [0, 2, 0]);
    await run({ op: 'ScatterND', x: [[4, 3], [3, 3]], consts: [dup], order: ['x', 'c0', 'x1'], attrs: { reduction: 'add' }, opset: 16 });
    for (const reduction of ['mul', 'max', 'min']) {
      await run({ op: 'ScatterND', x: [[4, 3], [3, 3]], consts: [dup], order: ['x', 'c0', 'x1'], attrs: { reduction }, opset: 18 });
    }
    // constant updates: Mul is linear, Max a comparison per touched element only
    expect(products(await run({ op: 'ScatterND', x: [[4, 3]], consts: [dup, { dims: [3, 3], data: rand(9, 2) }], attrs: { reduction: 'mul' }, opset: 18 }))).toBe(0);
    const ag = await run({ op: 'ScatterND', x: [[4, 3]], consts: [dup, { dims: [3, 3], data: rand(9, 2) }], attrs: { reduction: 'max' }, opset: 18 });
    expect(ag.acts.filter((a) => a.op.kind === 'max').reduce((n, a) => n + a.size, 0)).toBe(9);
  });

  it('all constants fold at compile time, every reduction', async () => {
    for (const [op, reduction, opset] of [['ScatterND', 'none', 13], ['ScatterND', 'add', 16], ['ScatterElements', 'max', 18], ['ScatterElements', 'mul', 16]] as const) {
      const m: ModelSpec = {
        graphName: 'folded', opset, inputs: [{ name: 'x', shape: [3, 2] }], outputs: [{ name: 'y', shape: [] }],
        initializers: [{ name: 'd', dims: [3, 2], data: rand(6, 11) }, { name: 'i', ...nd([2, 2], [2, 0, 2, 1]) }, { name: 'u', dims: op === 'ScatterND' ? [2] : [2, 2], data: rand(op === 'ScatterND' ? 2 : 4, 12) }],
        nodes: [
          { name: '/s', op, inputs: ['d', 'i', 'u'], outputs: ['s'], attrs: reduction === 'none' ? {} : { reduction } },
          { name: '/add', op: 'Add', inputs: ['x', 's'], outputs: ['y'] },
        ],
      };
      expect((await compare(m)).acts).toHaveLength(0);
    }
  });

  it('ScatterElements on axis 0, 1 and −1 with negative indices; duplicates with no reduction: the last wins', async () => {
    await run({ op: 'ScatterElements', x: [[3, 3], [2, 3]], consts: [nd([2, 3], [1, 0, 2, 0, 2, 1])], order: ['x', 'c0', 'x1'], attrs: { axis: 0 } });
    await run({ op: 'ScatterElements', x: [[1, 5], [1, 2]], consts: [nd([1, 2], [1, 3])], order: ['x', 'c0', 'x1'], attrs: { axis: 1 } });
    await run({ op: 'ScatterElements', x: [[2, 4], [2, 2]], consts: [nd([2, 2], [-1, 0, -3, 2])], order: ['x', 'c0', 'x1'], attrs: { axis: -1 } });
    await run({ op: 'ScatterElements', x: [[1, 4], [1, 3]], consts: [nd([1, 3], [2, 2, 2])], order: ['x', 'c0', 'x1'], attrs: { axis: 1 } });
    await run({ op: 'Scatter', x: [[3, 3], [2, 3]], consts: [nd([2, 3], [1, 0, 2, 0, 2, 1])], order: ['x', 'c0', 'x1'], opset: 10 });
  });

  it('ScatterElements reductions: add, mul, max, min, with duplicates', async () => {
    const idx = nd([2, 3], [1, 1, 0, 1, 1, 2]);
    for (const [reduction, opset] of [['add', 16], ['mul', 16], ['max', 18], ['min', 18]] as const) {
      await run({ op: 'ScatterElements', x: [[3, 4], [2, 3]], consts: [idx], order: ['x', 'c0', 'x1'], attrs: { axis: 1, reduction }, opset });
    }
  });

  it('reduction none and add cost nothing: the outputs are the data and update signals, re-indexed or summed', async () => {
    const ag = await run({ op: 'ScatterND', x: [[4, 3], [3, 3]], consts: [nd([3, 1], [0, 2, 0])], order: ['x', 'c0', 'x1'], attrs: { reduction: 'add' }, opset: 16 });
    expect(ag.acts).toHaveLength(0);
    expect(ag.outputs[0]!.expr[0]!.idx).toHaveLength(3); // data[0,0] + updates[0,0] + updates[2,0]
  });

  it('indices that depend on the input are refused with the node named', () => {
    const m: ModelSpec = {
      graphName: 'sig', opset: 13,
      inputs: [{ name: 'x', shape: [4, 3] }, { name: 'i', shape: [2, 1], type: 'int64' }, { name: 'u', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [] }], initializers: [],
      nodes: [{ name: '/kv/ScatterND', op: 'ScatterND', inputs: ['x', 'i', 'u'], outputs: ['y'] }],
    };
    const e = refusal(m);
    expect(e.message).toBe("node /kv/ScatterND (ScatterND): indices 'i' depend on the model input: ScatterND is supported with constant indices only");
    expect(e.details.hint).toMatch(/Equal and Where/);
    const el = refusal({ ...m, nodes: [{ name: '/s', op: 'ScatterElements', inputs: ['x', 'i', 'u'], outputs: ['y'], attrs: { reduction: 'max' } }], opset: 18 });
    expect(el.message).toContain("node /s (ScatterElements): indices 'i' depend on the model input");
    expect(refusal(spec({ op: 'ScatterND', x: [[3, 4], [2]], consts: [nd([2, 2], [0, 1, 3, 0])], order: ['x', 'c0', 'x1'] })).message)
      .toContain('node /n/ScatterND (ScatterND): index 3 is out of range for axis 0 of size 3');
  });
});

describe('an Einsum of two signals in the circuit', () => {
  it('compiles; the witness satisfies the R1CS and a changed product breaks it', async () => {
    // y = einsum('bi,bj->ij', x, x) (a Gram matrix of two signals), then a ScatterND adding constants
    const m: ModelSpec = {
      graphName: 'gram', opset: 16,
      inputs: [{ name: 'x', shape: [2, 3] }], outputs: [{ name: 'y', shape: [3, 3] }],
      initializers: [{ name: 'at', dims: [2, 2], data: i64([0, 1, 2, 2]) }, { name: 'u', dims: [2], data: Float32Array.from([0.5, -0.25]) }],
      nodes: [
        { name: '/gram/Einsum', op: 'Einsum', inputs: ['x', 'x'], outputs: ['g'], attrs: { equation: 'bi,bj->ij' } },
        { name: '/bump/ScatterND', op: 'ScatterND', inputs: ['g', 'at', 'u'], outputs: ['y'], attrs: { reduction: 'add' } },
      ],
    };
    const model = join(work, 'gram.onnx');
    writeFileSync(model, buildModel(m));
    const samples = [0, 1, 2, 3].map((k) => ({ input_data: [Array.from(rand(6, 20 + k))] }));
    const build = join(work, 'gram-build');
    const { settings } = await compile({ model, outDir: build, calibration: samples });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    const paths = new BuildPaths(build);
    const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    expect(qg.acts.filter((a) => a.op.kind === 'mul').reduce((n, a) => n + a.size, 0)).toBe(9);
    const qin = quantizeInputs(qg, [samples[1]!.input_data[0]!]);
    const r1csPath = paths.file('r1cs');
    const w = await circuitWitness(qg, settings.visibility, {}, { qin }, r1csPath, execQuant(qg, qin));
    const [r1cs, sym] = await Promise.all([readR1cs(r1csPath), readSymbols(paths.file('sym'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    // a product of the Einsum's first dot product, off by one in the witness
    const j = qg.acts.findIndex((a) => a.op.kind === 'mul');
    const wire = sym.get(`main.a${j}_prod[0]`)!;
    expect(wire).toBeGreaterThan(0);
    const bad = w.slice();
    bad[wire] = bad[wire]! + 1n;
    expect((await checkConstraints(r1cs, bad)).ok).toBe(false);
  }, 60_000);
});
