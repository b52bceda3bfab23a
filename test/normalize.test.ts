// Normalizations and small ops of later opsets (src/onnx/normalize.ts) against onnxruntime-web:
// GroupNormalization (opset 18 per-group and opset 21 per-channel scale), MeanVarianceNormalization,
// RMSNormalization, LpNormalization, ReduceLogSum, Shrink, Trilu, Xor, IsNaN, DFT and STFT, EyeLike, ReduceProd;
// GatherND, Compress, ReverseSequence and CenterCropPad (src/onnx/indexing.ts); Atan, Sinh, Cosh
// and Asinh compiled within tolerance. One of them in a
// circuit: a GroupNormalization model compiles and circom builds the same system.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attr, type ModelSpec, type NodeSpec, type TensorSpec, type ValueSpec } from '../src/onnx/write.js';
import { liftWeights } from '../src/ir/weights.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { compileSpec } from './helpers/compiled.js';
import { compare, rand } from './helpers/ml-models.js';

const f32 = (dims: number[], data: number[]): TensorSpec => ({ dims, data: Float32Array.from(data) });
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** One node on inputs `ins` (initializers after them), output y of shape `y`. */
function model(name: string, opset: number, op: string, ins: ValueSpec[], y: ValueSpec, attrs: NodeSpec['attrs'] = {}, inits: (TensorSpec & { name: string })[] = []): ModelSpec {
  return {
    graphName: name, opset, inputs: ins, outputs: [y], initializers: inits,
    nodes: [{ name: `/${name}`, op, inputs: [...ins.map((v) => v.name), ...inits.map((i) => i.name)], outputs: [y.name], attrs }],
  };
}
const draws = (ins: ValueSpec[], n: number, seed: number, scale = 2) => Array.from({ length: n }, (_, k) => ins.map((v, j) => rand(numel(v.shape as number[]), seed + 7 * k + j, scale)));

describe('normalizations of later opsets match onnxruntime-web', () => {
  const x: ValueSpec = { name: 'x', shape: [2, 4, 3, 2] };
  const y: ValueSpec = { name: 'y', shape: [2, 4, 3, 2] };

  it('GroupNormalization: 2 groups of 2 channels, scale and bias per group (opset 18) and per channel (opset 21)', async () => {
    await compare(model('gn18', 18, 'GroupNormalization', [x], y, { num_groups: 2, epsilon: 1e-5 }, [{ name: 'scale', ...f32([2], [1.5, -0.5]) }, { name: 'bias', ...f32([2], [0.25, 1]) }]), draws([x], 3, 10), 1e-3);
    await compare(model('gn21', 21, 'GroupNormalization', [x], y, { num_groups: 2 }, [{ name: 'scale', ...f32([4], [1.5, -0.5, 2, 1]) }, { name: 'bias', ...f32([4], [0.25, 1, 0, -1]) }]), draws([x], 3, 20), 1e-3);
  });

  it('MeanVarianceNormalization over the default axes [0, 2, 3] and over [1]', async () => {
    await compare(model('mvn', 13, 'MeanVarianceNormalization', [x], y), draws([x], 3, 30), 1e-3);
    await compare(model('mvn_c', 13, 'MeanVarianceNormalization', [x], y, { axes: [1] }), draws([x], 3, 40), 1e-3);
  });

  it('RMSNormalization (opset 23), LpNormalization p = 1 and 2', async () => {
    const h: ValueSpec = { name: 'x', shape: [2, 3, 8] };
    const hy: ValueSpec = { name: 'y', shape: [2, 3, 8] };
    await compare(model('rms', 23, 'RMSNormalization', [h], hy, { epsilon: 1e-5 }, [{ name: 'scale', ...f32([8], rand(8, 50, 1.5)) }]), draws([h], 3, 50), 1e-3);
    for (const p of [1, 2]) await compare(model(`lp${p}`, 13, 'LpNormalization', [h], hy, { p, axis: 1 }), draws([h], 3, 60 + p), 1e-3);
  });

  it('LRN across channels: AlexNet\'s parameters and strong ones (onnxruntime takes odd sizes only)', async () => {
    const c6: ValueSpec = { name: 'x', shape: [2, 6, 3, 2] };
    const c6y: ValueSpec = { name: 'y', shape: [2, 6, 3, 2] };
    await compare(model('lrn_alexnet', 13, 'LRN', [c6], c6y, { size: 5, alpha: 1e-4, beta: 0.75, bias: attr.float(1) }), draws([c6], 2, 64, 8), 1e-4);
    await compare(model('lrn_strong', 13, 'LRN', [c6], c6y, { size: 3, alpha: 0.5, beta: 0.75, bias: attr.float(2) }), draws([c6], 3, 65), 1e-4);
    await compare(model('lrn_one', 13, 'LRN', [c6], c6y, { size: 1, alpha: 0.3, beta: attr.float(1) }), draws([c6], 3, 66), 1e-4);
  });
});

describe('small ops of later opsets match onnxruntime-web', () => {
  const m: ValueSpec = { name: 'x', shape: [2, 3, 4] };
  const my: ValueSpec = { name: 'y', shape: [2, 3, 4] };

  it('ReduceLogSum, Shrink, Trilu (upper and lower, with k)', async () => {
    await compare(model('rls', 13, 'ReduceLogSum', [m], { name: 'y', shape: [2, 1, 4] }, { axes: [1] }), draws([m], 3, 70).map((s) => [s[0]!.map(Math.abs).map((v) => v + 0.5)]), 1e-3);
    await compare(model('shrink', 13, 'Shrink', [m], my, { bias: 0.25, lambd: 0.75 }), draws([m], 3, 80), 1e-4);
    await compare(model('triu', 14, 'Trilu', [m], my, { upper: 1 }), draws([m], 2, 90), 1e-4);
    await compare(model('tril_k', 14, 'Trilu', [m], my, { upper: 0 }, [{ name: 'k', dims: [], data: BigInt64Array.of(1n) }]), draws([m], 2, 95), 1e-4);
  });

  it('Xor of comparisons, IsNaN of the input (false: inputs are finite)', async () => {
    const cmp = (name: string, op: string): ModelSpec => ({
      graphName: name, opset: 13, inputs: [m, { name: 'z', shape: [2, 3, 4] }], outputs: [{ name: 'y', shape: [2, 3, 4] }], initializers: [],
      nodes: [
        { name: '/a', op: 'Greater', inputs: ['x', 'z'], outputs: ['a'], attrs: {} },
        ...(op === 'Xor' ? [{ name: '/b', op: 'Less', inputs: ['x', 'z'], outputs: ['b'], attrs: {} }, { name: '/xor', op: 'Xor', inputs: ['a', 'b'], outputs: ['c'], attrs: {} }]
          : [{ name: '/nan', op: 'IsNaN', inputs: ['x'], outputs: ['n'], attrs: {} }, { name: '/or', op: 'Or', inputs: ['a', 'n'], outputs: ['c'], attrs: {} }]),
        { name: '/cast', op: 'Cast', inputs: ['c'], outputs: ['y'], attrs: { to: 1 } },
      ],
    });
    await compare(cmp('xor', 'Xor'), draws([m, m], 3, 100).map(([a, b]) => [a!, b!.map((v, i) => (i % 5 === 0 ? a![i]! : v))]), 1e-9);
    await compare(cmp('isnan', 'IsNaN'), draws([m, m], 2, 110), 1e-9);
  });
});

describe('EyeLike and ReduceProd match onnxruntime-web', () => {
  it('EyeLike on the k-th diagonal (a constant times the input), ReduceProd over axes (attribute, opset 13; input, opset 18) with and without keepdims', async () => {
    const x: ValueSpec = { name: 'x', shape: [3, 4] };
    const eye: ModelSpec = {
      graphName: 'eyelike', opset: 13, inputs: [x], outputs: [{ name: 'y', shape: [3, 4] }], initializers: [],
      nodes: [{ name: '/eye', op: 'EyeLike', inputs: ['x'], outputs: ['e'], attrs: { k: 1 } }, { name: '/mul', op: 'Mul', inputs: ['x', 'e'], outputs: ['y'], attrs: {} }],
    };
    await compare(eye, draws([x], 2, 290), 1e-6);
    const t: ValueSpec = { name: 'x', shape: [2, 3, 2] };
    await compare(model('rprod', 13, 'ReduceProd', [t], { name: 'y', shape: [2, 1, 2] }, { axes: [1] }), draws([t], 3, 295, 1.5), 1e-4);
    await compare(model('rprod18', 18, 'ReduceProd', [t], { name: 'y', shape: [3] }, { keepdims: 0 }, [{ name: 'axes', dims: [2], data: BigInt64Array.of(0n, -1n) }]), draws([t], 3, 297, 1.5), 1e-4);
  });
});

describe('DFT and STFT (linear: constant cos/sin matrices) match onnxruntime-web', () => {
  const i64s = (v: number) => ({ dims: [], data: BigInt64Array.of(BigInt(v)) });

  it('DFT: real onesided, complex forward and inverse, dft_length padding and truncation; opset 17 axis attribute, opset 20 axis input', async () => {
    const real: ValueSpec = { name: 'x', shape: [2, 8, 1] };
    const cplx: ValueSpec = { name: 'x', shape: [2, 8, 2] };
    await compare(model('rfft', 17, 'DFT', [real], { name: 'y', shape: [2, 5, 2] }, { onesided: 1 }), draws([real], 3, 130), 1e-3);
    await compare(model('fft', 17, 'DFT', [cplx], { name: 'y', shape: [2, 8, 2] }), draws([cplx], 3, 140), 1e-3);
    await compare(model('ifft', 17, 'DFT', [cplx], { name: 'y', shape: [2, 8, 2] }, { inverse: 1 }), draws([cplx], 3, 150), 1e-3);
    await compare(model('fft_pad', 17, 'DFT', [real], { name: 'y', shape: [2, 12, 2] }, {}, [{ name: 'len', ...i64s(12) }]), draws([real], 2, 160), 1e-3);
    await compare(model('fft_trunc', 17, 'DFT', [real], { name: 'y', shape: [2, 6, 2] }, {}, [{ name: 'len', ...i64s(6) }]), draws([real], 2, 170), 1e-3);
    // opset 20: the axis as input 2 (here the first signal axis of a 2-D signal), dft_length omitted
    const grid: ValueSpec = { name: 'x', shape: [1, 4, 6, 2] };
    const m20: ModelSpec = {
      graphName: 'fft20', opset: 20, inputs: [grid], outputs: [{ name: 'y', shape: [1, 4, 6, 2] }], initializers: [{ name: 'axis', ...i64s(1) }],
      nodes: [{ name: '/dft', op: 'DFT', inputs: ['x', '', 'axis'], outputs: ['y'], attrs: {} }],
    };
    await compare(m20, draws([grid], 2, 180), 1e-3);
  });

  it('STFT: frames of 8 every 4 samples, a Hann window, onesided', async () => {
    const sig: ValueSpec = { name: 'x', shape: [1, 32, 1] };
    const hann = Array.from({ length: 8 }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 8));
    await compare(model('stft', 17, 'STFT', [sig], { name: 'y', shape: [1, 7, 5, 2] }, { onesided: 1 }, [{ name: 'step', ...i64s(4) }, { name: 'window', ...f32([8], hann) }]), draws([sig], 3, 190), 1e-3);
  });
});

describe('GatherND, Compress, ReverseSequence and CenterCropPad (gathers of the flattened data) match onnxruntime-web', () => {
  const i64 = (dims: number[], v: number[]) => ({ dims, data: BigInt64Array.from(v.map(BigInt)) });
  const x: ValueSpec = { name: 'x', shape: [2, 3, 4] };

  it('GatherND: constant index tuples (negative too), batch_dims 1, and indices given as an input', async () => {
    await compare(model('gnd', 13, 'GatherND', [x], { name: 'y', shape: [3, 4] }, {}, [{ name: 'i', ...i64([3, 2], [0, 1, 1, -1, 1, 0]) }]), draws([x], 2, 200), 1e-6);
    await compare(model('gnd_b', 13, 'GatherND', [x], { name: 'y', shape: [2, 2] }, { batch_dims: 1 }, [{ name: 'i', ...i64([2, 2, 2], [0, 1, 2, 3, 1, 0, 0, 2]) }]), draws([x], 2, 210), 1e-6);
    const idx: ValueSpec = { name: 'i', shape: [2, 2], type: 'int64' };
    await compare(model('gnd_sig', 13, 'GatherND', [x, idx], { name: 'y', shape: [2, 4] }), [[rand(24, 220, 2), [1, 2, 0, 1]], [rand(24, 221, 2), [0, 0, 1, 2]]], 1e-6);
  });

  it('Compress along an axis and of the flattened input; ReverseSequence time-major and batch-major', async () => {
    await compare(model('compress', 13, 'Compress', [x], { name: 'y', shape: [2, 3, 2] }, { axis: 2 }, [{ name: 'cond', dims: [4], data: Uint8Array.of(1, 0, 0, 1), type: 'bool' }]), draws([x], 2, 230), 1e-6);
    await compare(model('compress_flat', 13, 'Compress', [x], { name: 'y', shape: [3] }, {}, [{ name: 'cond', dims: [5], data: Uint8Array.of(0, 1, 0, 1, 1), type: 'bool' }]), draws([x], 2, 240), 1e-6);
    const seq: ValueSpec = { name: 'x', shape: [4, 3, 2] };
    await compare(model('revseq', 13, 'ReverseSequence', [seq], { name: 'y', shape: [4, 3, 2] }, { batch_axis: 1, time_axis: 0 }, [{ name: 'lens', ...i64([3], [4, 2, 1]) }]), draws([seq], 2, 250), 1e-6);
    await compare(model('revseq_b', 13, 'ReverseSequence', [seq], { name: 'y', shape: [4, 3, 2] }, { batch_axis: 0, time_axis: 1 }, [{ name: 'lens', ...i64([4], [3, 1, 2, 3]) }]), draws([seq], 2, 260), 1e-6);
  });

  it('CenterCropPad: crop one axis, pad another (opset 18)', async () => {
    const img: ValueSpec = { name: 'x', shape: [5, 2, 3] };
    await compare(model('ccp', 18, 'CenterCropPad', [img], { name: 'y', shape: [3, 2, 6] }, {}, [{ name: 'shape', ...i64([3], [3, 2, 6]) }]), draws([img], 2, 270), 1e-6);
    await compare(model('ccp_axes', 18, 'CenterCropPad', [img], { name: 'y', shape: [2, 2, 4] }, { axes: [0, -1] }, [{ name: 'shape', ...i64([2], [2, 4]) }]), draws([img], 2, 280), 1e-6);
  });
});

describe('a GroupNormalization in a circuit', () => {
  it('compiles within tolerance of onnxruntime-web; circom builds the same system', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-gn-'));
    const x: ValueSpec = { name: 'x', shape: [1, 4, 2, 2] };
    const m = model('gn_circuit', 21, 'GroupNormalization', [x], { name: 'y', shape: [1, 4, 2, 2] }, { num_groups: 2 }, [{ name: 'scale', ...f32([4], [1.5, -0.5, 2, 1]) }, { name: 'bias', ...f32([4], [0.25, 1, 0, -1]) }]);
    const c = await compileSpec(m, work, draws([x], 8, 120).map((s) => ({ input_data: s })), true);
    expect(c.settings.circuit.constraints).toBeGreaterThan(0);
  }, 120_000);
});

describe('an LRN in a circuit', () => {
  it('Conv → Relu → LRN (AlexNet\'s) compiles within tolerance, circom builds the same system; with --weights hashed the band kernel stays public', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-lrn-'));
    const x: ValueSpec = { name: 'x', shape: [1, 2, 4, 4] };
    const m: ModelSpec = {
      graphName: 'lrn_cnn', opset: 13, inputs: [x], outputs: [{ name: 'y', shape: [1, 6, 2, 2] }],
      initializers: [{ name: 'K', ...f32([6, 2, 3, 3], rand(108, 401, 1)) }],
      nodes: [
        { name: '/conv', op: 'Conv', inputs: ['x', 'K'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
        { name: '/relu', op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { name: '/lrn', op: 'LRN', inputs: ['r'], outputs: ['y'], attrs: { size: 5, alpha: 1e-2, beta: 0.75, bias: attr.float(1) } },
      ],
    };
    const cal = draws([x], 8, 410).map((s) => ({ input_data: s }));
    const c = await compileSpec(m, work, cal, true);
    // the Conv's ReLU, x², the window sums (a power's operand is one value), the power, the product
    expect(c.qg.acts.map((a) => a.op.kind)).toEqual(['rescale', 'mul', 'rescale', 'fn', 'mul']);
    // --weights hashed commits to the Conv's kernel alone: the band of the channel sums is structure
    expect(liftWeights(inferAndFold(readOnnx(join(work, 'lrn_cnn.onnx')))).weights.map((w) => w.name)).toEqual(['K']);
  }, 120_000);
});

describe('Atan, Sinh, Cosh and Asinh in a circuit', () => {
  it('compile within tolerance of onnxruntime-web over the calibrated range', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-trig-'));
    const x: ValueSpec = { name: 'x', shape: [1, 6] };
    for (const op of ['Atan', 'Sinh', 'Cosh', 'Asinh']) {
      const c = await compileSpec(model(`trig_${op.toLowerCase()}`, 13, op, [x], { name: 'y', shape: [1, 6] }), work, draws([x], 12, 300).map((s) => ({ input_data: s })));
      expect(c.settings.accuracy.maxAbsError).toBeLessThanOrEqual(c.settings.accuracy.tolerance);
    }
  }, 120_000);
});
