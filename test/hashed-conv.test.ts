/**
 * --weights hashed on convolutional models and normalizations: Conv kernels and biases are committed private inputs
 * (a BatchNormalization after a Conv or Gemm folded into that layer first), each tap a product of
 * two signals; a ReLU right after such a layer is its rescale's own. One key serves other weights
 * of the architecture; a witness whose weights, products or ReLU outputs are changed fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../src/circom/witness.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { attr, buildModel, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { rng as seeded } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import { committedWitness, holdsWithWeightChanged } from './helpers/compiled.js';
import { one } from './helpers/ml-models.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-hashed-conv-'));
afterAll(async () => { await releaseCurves(); });

/** Conv(1→4, 3×3, pad 1) → BatchNorm → Relu → AveragePool (its windows feed the taps as they are) → Conv(4→2, stride 2, no bias) → Add → Relu → Flatten → Gemm → BatchNorm. */
function cnn(seed: number): ModelSpec {
  const next = seeded(seed);
  const arr = (n: number, k = 1) => Float32Array.from({ length: n }, () => (next() - 0.5) * k);
  return {
    graphName: 'cnn', inputs: [{ name: 'x', shape: [1, 1, 8, 8] }], outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      { name: 'K1', dims: [4, 1, 3, 3], data: arr(36) }, { name: 'B1', dims: [4], data: arr(4) },
      { name: 'g1', dims: [4], data: Float32Array.from([1.2, 0.8, 1.1, 0.9]) }, { name: 'b1', dims: [4], data: arr(4) },
      { name: 'm1', dims: [4], data: arr(4, 0.2) }, { name: 'v1', dims: [4], data: Float32Array.from([0.5, 1.5, 0.9, 1.1]) },
      { name: 'K2', dims: [2, 4, 3, 3], data: arr(72) }, { name: 'B2', dims: [1, 2, 1, 1], data: arr(2) },
      { name: 'W3', dims: [3, 32], data: arr(96) }, { name: 'C3', dims: [3], data: arr(3) },
      { name: 'g3', dims: [3], data: Float32Array.from([0.9, 1.3, 0.7]) }, { name: 'b3', dims: [3], data: arr(3) },
      { name: 'm3', dims: [3], data: arr(3, 0.2) }, { name: 'v3', dims: [3], data: Float32Array.from([1.4, 0.6, 1]) },
    ],
    nodes: [
      { name: '/c1/Conv', op: 'Conv', inputs: ['x', 'K1', 'B1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { name: '/bn1', op: 'BatchNormalization', inputs: ['c1', 'g1', 'b1', 'm1', 'v1'], outputs: ['n1'] },
      { name: '/r1', op: 'Relu', inputs: ['n1'], outputs: ['r1'] },
      { name: '/pool', op: 'AveragePool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2] } },
      { name: '/c2/Conv', op: 'Conv', inputs: ['p1', 'K2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
      { name: '/c2/Add', op: 'Add', inputs: ['c2', 'B2'], outputs: ['a2'] },
      { name: '/r2', op: 'Relu', inputs: ['a2'], outputs: ['r2'] },
      { name: '/flat', op: 'Flatten', inputs: ['r2'], outputs: ['f'] },
      { name: '/fc/Gemm', op: 'Gemm', inputs: ['f', 'W3', 'C3'], outputs: ['h'], attrs: { transB: 1 } },
      { name: '/bn3', op: 'BatchNormalization', inputs: ['h', 'g3', 'b3', 'm3', 'v3'], outputs: ['y'] },
    ],
  };
}

function writeModel(name: string, spec: ModelSpec): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildModel(spec));
  return join(dir, 'model.onnx');
}

const next = seeded(99);
const image = () => Array.from({ length: 64 }, () => next());
const calibration = Array.from({ length: 8 }, () => ({ input_data: [image()] }));
const input = { input_data: [image()] };

describe('--weights hashed on a CNN', { timeout: 240_000 }, () => {
  let build: string;
  let settings: api.Settings;
  beforeAll(async () => {
    const model = writeModel('cnn', cnn(1));
    writeModel('cnn-other', cnn(2));
    build = join(work, 'build');
    settings = (await api.compile({ model, outDir: build, calibration, visibility: { weights: 'hashed' }, checkCircom: true })).settings;
    await api.setup({ buildDir: build });
  }, 240_000);

  it('commits to the kernels and biases, BatchNorms folded in; circom builds the same system', () => {
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    // the fused layers keep their tensors' names; the Gemm's BatchNorm went into W3 and C3
    expect(settings.weights!.tensors.map((t) => [t.name, t.shape])).toEqual([
      ['K1', [4, 1, 3, 3]], ['B1', [4]], ['K2', [2, 4, 3, 3]], ['B2', [1, 2, 1, 1]], ['W3', [3, 32]], ['C3', [3]],
    ]);
    // both ReLUs are the convolutions' own rescales: no separate relu decomposition
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
    expect(qg.acts.map((a) => [a.op.kind, a.op.kind === 'mul' && a.op.relu === true])).toEqual([['mul', true], ['mul', true], ['mul', false]]);
  });

  it('proves and verifies; other weights of the architecture prove under the same key', async () => {
    const a = await api.prove({ buildDir: build, input, name: 'a' });
    expect(await api.verify({ buildDir: build, name: 'a' })).toBe(true);
    expect(a.publicSignals.at(-1)).toBe(settings.weights!.commitment);
    const b = await api.prove({ buildDir: build, input, name: 'b', weights: join(work, 'cnn-other', 'model.onnx') });
    expect(await api.verify({ buildDir: build, name: 'b' })).toBe(true);
    expect(b.publicSignals.at(-1)).not.toBe(settings.weights!.commitment);
    expect(b.outputs[0]!.values).not.toEqual(a.outputs[0]!.values);
    // each within the tolerance of onnxruntime on its own weights
    for (const r of [a, b]) expect(r.reference!.maxAbsError).toBeLessThanOrEqual(r.reference!.tolerance);
  });

  it('a witness whose kernel, tap product or ReLU output differs fails', async () => {
    const paths = new BuildPaths(build);
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(paths.proofFile('a', 'witness'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    const conv1 = qg.acts[0]!;
    // a ReLU output that is 0 (its pre-activation negative) and one that is positive
    const outs = Array.from({ length: conv1.size }, (_, i) => sym.get(`main.v[${conv1.offset + i}]`)!);
    const zero = outs.find((k) => w[k] === 0n)!;
    const pos = outs.find((k) => w[k]! > 0n && w[k]! < 1n << 64n)!;
    const prod = [...sym.entries()].find(([k, i]) => k.includes('_prod[') && i > 0)![1];
    for (const [what, wire] of [['K1[0]', sym.get('main.in1[0]')!], ['a product', prod], ['a zero ReLU output', zero], ['a positive ReLU output', pos]] as const) {
      expect(wire, what).toBeGreaterThan(0);
      const bad = w.slice();
      bad[wire] = bad[wire]! + 1n;
      expect((await checkConstraints(r1cs, bad)).ok, what).toBe(false);
    }
  });
});

describe('--weights hashed: what is fused and what is refused', { timeout: 120_000 }, () => {
  const conv = (extra: ModelSpec['nodes'], outputs: ModelSpec['outputs'], inits: ModelSpec['initializers'] = []): ModelSpec => ({
    graphName: 'c', inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs,
    initializers: [{ name: 'K', dims: [2, 1, 2, 2], data: new Float32Array([1, -2, 3, 0.5, -1, 0.25, 2, -0.75]) }, ...inits],
    nodes: [{ name: '/conv/Conv', op: 'Conv', inputs: ['x', 'K'], outputs: ['c'], attrs: { kernel_shape: [2, 2] } }, ...extra],
  });
  const cal = [{ input_data: [Array.from({ length: 16 }, (_, i) => (i % 5) / 4 - 0.5)] }, { input_data: [Array.from({ length: 16 }, (_, i) => ((i * 7) % 11) / 10 - 0.5)] }];

  it('a ReLU whose input is also read elsewhere stays a ReLU of its own', async () => {
    // y = relu(c) + c: the pre-activation is still needed after the ReLU
    const spec = conv([
      { name: '/relu', op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { name: '/add', op: 'Add', inputs: ['r', 'c'], outputs: ['y'] },
    ], [{ name: 'y', shape: [1, 2, 3, 3] }]);
    const out = join(work, 'build-reuse');
    const { settings } = await api.compile({ model: writeModel('reuse', spec), outDir: out, calibration: cal, visibility: { weights: 'hashed' } });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(out).file('qgraph'), 'utf8'));
    expect(qg.acts.map((a) => (a.op.kind === 'rescale' ? `rescale${a.op.relu ? '+relu' : ''}` : `${a.op.kind}${a.op.kind === 'mul' && a.op.relu ? '+relu' : ''}`))).toEqual(['mul', 'rescale+relu']);
  });

  it('a BatchNormalization after a ReLU: folded into the Gemm after it (through a Flatten or the Reshape of x.view), else a committed scale and shift', async () => {
    const bnParams = ['s', 'b', 'm', 'v'].map((name, i) => ({ name, dims: [2], data: new Float32Array([1 + i / 4, 0.5 - i / 8]) }));
    const head = [{ name: '/relu', op: 'Relu', inputs: ['c'], outputs: ['r'] }, { name: '/bn', op: 'BatchNormalization', inputs: ['r', 's', 'b', 'm', 'v'], outputs: ['n'] }];
    const forward = conv([...head, { name: '/flat', op: 'Flatten', inputs: ['n'], outputs: ['f'] }, { name: '/fc', op: 'Gemm', inputs: ['f', 'W', 'C'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5 } }],
      [{ name: 'y', shape: [1, 3] }],
      [...bnParams, { name: 'W', dims: [3, 18], data: Float32Array.from({ length: 54 }, (_, i) => Math.sin(i) / 2) }, { name: 'C', dims: [3], data: new Float32Array([0.1, -0.2, 0.3]) }]);
    // PyTorch's x.view(N, -1) exports a Reshape where a Flatten would be
    const viewed: ModelSpec = {
      ...forward,
      initializers: [...forward.initializers, { name: 'to', dims: [2], data: new BigInt64Array([1n, -1n]) }],
      nodes: forward.nodes.map((n) => (n.name === '/flat' ? { name: '/view', op: 'Reshape', inputs: ['n', 'to'], outputs: ['f'] } : n)),
    };
    const alone = conv(head.map((n) => (n.name === '/bn' ? { ...n, outputs: ['y'] } : n)), [{ name: 'y', shape: [1, 2, 3, 3] }], bnParams);
    for (const [name, spec, tensors] of [['bn-forward', forward, ['K', 'W', 'C']], ['bn-view', viewed, ['K', 'W', 'C']], ['bn-alone', alone, ['K', '/bn:scale', '/bn:shift']]] as const) {
      const out = join(work, `build-${name}`);
      const { settings } = await api.compile({ model: writeModel(name, spec), outDir: out, calibration: cal, visibility: { weights: 'hashed' }, checkCircom: true });
      expect(settings.accuracy.maxAbsError, name).toBeLessThanOrEqual(settings.accuracy.tolerance);
      expect(settings.circuit.checkCircom?.same, name).toBe(true);
      expect(settings.weights!.tensors.map((t) => t.name), name).toEqual(tensors);
    }
  });

  it('a PRelu commits to its slope: relu(x) + a·(x − relu(x)); a changed slope fails the witness', async () => {
    const slope = { name: 'slope', dims: [2, 1, 1], data: new Float32Array([0.25, -0.5]) };
    const spec = conv([{ name: '/prelu', op: 'PRelu', inputs: ['c', 'slope'], outputs: ['y'] }], [{ name: 'y', shape: [1, 2, 3, 3] }], [slope]);
    const out = join(work, 'build-prelu');
    const { settings } = await api.compile({ model: writeModel('prelu', spec), outDir: out, calibration: cal, visibility: { weights: 'hashed' }, checkCircom: true });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.weights!.tensors.map((t) => t.name)).toEqual(['K', 'slope']);
    const c = await committedWitness(out, settings, cal[0]!.input_data[0]!);
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
    expect(await holdsWithWeightChanged(c, 'slope', 1)).toBe(false);
  });

  it('a ConvTranspose (strides, pads, groups, output_padding) commits to its kernel and bias; circom builds the same system', async () => {
    const r = seeded(11);
    const spec: ModelSpec = {
      graphName: 't', inputs: [{ name: 'x', shape: [1, 2, 3, 3] }], outputs: [{ name: 'y', shape: [1, 4, 7, 7] }],
      initializers: [
        { name: 'K', dims: [2, 2, 3, 3], data: Float32Array.from({ length: 36 }, () => r() - 0.5) },
        { name: 'B', dims: [4], data: new Float32Array([0.1, -0.2, 0.05, 0.3]) },
      ],
      nodes: [{ name: '/up/ConvTranspose', op: 'ConvTranspose', inputs: ['x', 'K', 'B'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], output_padding: [1, 1], group: 2 } }],
    };
    const calT = Array.from({ length: 4 }, () => ({ input_data: [Array.from({ length: 18 }, () => r() * 2 - 1)] }));
    const { settings } = await api.compile({ model: writeModel('convt', spec), outDir: join(work, 'build-convt'), calibration: calT, visibility: { weights: 'hashed' }, checkCircom: true });
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.weights!.tensors.map((t) => t.name)).toEqual(['K', 'B']);
  });

  it('a model with no weights to commit to is refused, naming the file', async () => {
    const bare = one('bare', 'Relu', { name: 'x', shape: [1, 2] }, [{ name: 'y', shape: [1, 2] }], {});
    const model = writeModel('bare', { ...bare, opsets: {}, nodes: bare.nodes.map((n) => ({ ...n, domain: '' })) });
    await expect(api.compile({ model, outDir: join(work, 'build-bare'), calibration: [{ input_data: [[0.1, -0.9]] }], visibility: { weights: 'hashed' } }))
      .rejects.toThrow(`${model}: --weights hashed found no Gemm, MatMul, Conv, tree ensemble or SVM weights to commit to`);
  });

  it('a LayerNormalization commits to its scale and bias (a product an element); constants of fractions left in the circuit are named', async () => {
    // x → MatMul + Add → LayerNorm(γ, β) → Mul by a per-feature constant (stays in the circuit)
    const r = seeded(5);
    const vals = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
    const spec: ModelSpec = {
      graphName: 'ln', inputs: [{ name: 'x', shape: [1, 3, 6] }], outputs: [{ name: 'y', shape: [1, 3, 6] }],
      initializers: [
        { name: 'W', dims: [6, 6], data: vals(36, -1, 1) }, { name: 'b', dims: [6], data: vals(6, -0.5, 0.5) },
        { name: 'gamma', dims: [6], data: vals(6, 0.5, 1.5) }, { name: 'beta', dims: [6], data: vals(6, -0.3, 0.3) },
        { name: 'mult', dims: [6], data: Float32Array.from([0.5, 1.25, 0.75, 1.5, 0.25, 1.125]) },
      ],
      nodes: [
        { name: '/fc/MatMul', op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
        { name: '/fc/Add', op: 'Add', inputs: ['m', 'b'], outputs: ['h'] },
        { name: '/ln', op: 'LayerNormalization', inputs: ['h', 'gamma', 'beta'], outputs: ['n'], attrs: { axis: -1, epsilon: 1e-5 } },
        { name: '/scale', op: 'Mul', inputs: ['n', 'mult'], outputs: ['y'] },
      ],
      opsets: { '': 17 },
    };
    const calLn = Array.from({ length: 6 }, () => ({ input_data: [Array.from(vals(18, -1, 1))] }));
    const warnings: string[] = [];
    const out = join(work, 'build-ln');
    const { settings } = await api.compile({ model: writeModel('ln', spec), outDir: out, calibration: calLn, visibility: { weights: 'hashed' }, checkCircom: true, progress: { warn: (m) => warnings.push(m) } });
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    expect(settings.weights!.tensors.map((t) => t.name)).toEqual(['W', 'b', 'gamma', 'beta']);
    expect(warnings.join('\n')).toMatch(/commits to 4 weight tensors; 1 other tensor of fractions stays constants of the circuit, which the proving key publishes: 'mult'/);
    // a witness with γ changed fails
    const c = await committedWitness(out, settings, calLn[0]!.input_data[0]!);
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
    expect(await holdsWithWeightChanged(c, 'gamma', 2)).toBe(false);
  });
});
