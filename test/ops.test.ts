// Every generic op (src/ir/ops/) against onnxruntime-web: a one-node model per attribute
// variant, run through decode → inferAndFold → linearize → evalAffine on random inputs.
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import { evalAffine, linearize } from '../src/ir/linearize.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { inferAndFold, SIGNAL_OPS } from '../src/onnx/fold.js';
import { attr, buildModel, type AttrValue, type InitializerSpec, type ModelSpec } from '../src/onnx/write.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const rand = (n: number, seed = n) => Float32Array.from({ length: n }, rng(seed * 7919 + 13));
const i64 = (xs: number[]) => BigInt64Array.from(xs.map((x) => BigInt(x)));
const f32 = (xs: number[]) => Float32Array.from(xs);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  op: string;
  /** Signal inputs (shapes); named x, x1, x2, … */
  x: number[][];
  /** Constant inputs after the signals, in order ('' for an omitted optional input). */
  consts?: ({ dims: number[]; data: InitializerSpec['data'] } | '')[];
  attrs?: Record<string, AttrValue>;
  opset?: number;
  outputs?: number;
  /** Input order: default signals then constants; or explicit names ('x', 'x1', 'c0', 'c1', …, ''). */
  order?: string[];
}

function spec(c: Case, outShapes?: number[][]): ModelSpec {
  const xs = c.x.map((_, i) => (i === 0 ? 'x' : `x${i}`));
  const inits: InitializerSpec[] = [];
  const cnames = (c.consts ?? []).map((k, i) => {
    if (k === '') return '';
    inits.push({ name: `c${i}`, dims: k.dims, data: k.data });
    return `c${i}`;
  });
  const inputs = c.order ?? [...xs, ...cnames];
  const outs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`);
  return {
    graphName: c.op, opset: c.opset ?? 13,
    inputs: c.x.map((s, i) => ({ name: xs[i]!, shape: s })),
    outputs: outs.map((o, i) => ({ name: o, shape: outShapes?.[i] ?? [] })),
    initializers: inits,
    nodes: [{ name: `/n/${c.op}`, op: c.op, inputs, outputs: outs, attrs: c.attrs }],
  };
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const s = await ort.InferenceSession.create(bytes);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  const r = await s.run(f);
  return s.outputNames.map((n) => ({ dims: [...r[n]!.dims], data: Float64Array.from(r[n]!.data as Float32Array) }));
}

/** Our pipeline against onnxruntime-web on a model (graph inputs all float32). */
async function compare(m: ModelSpec, seed = 1, tol = 1e-5) {
  const g = inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'));
  // declare symbolic output dims of our rank: onnxruntime's own shapes come back with the result
  const bytes = buildModel({ ...m, outputs: m.outputs.map((o) => ({ ...o, shape: g.outputs.find((q) => q.name === o.name)!.shape.map((_, i) => `${o.name}_d${i}`) })) });
  const ag = linearize(g);
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  m.inputs.forEach((v, i) => { feeds[v.name] = { data: rand(size(v.shape as number[]), seed + i), dims: v.shape as number[] }; });
  const ours = evalAffine(ag, ag.inputs.map((v) => Float64Array.from(feeds[v.name]!.data))).outputs;
  const ref = await ortRun(bytes, feeds);
  ref.forEach((r, i) => {
    expect(ag.outputs[i]!.shape, `shape of output ${i}`).toEqual(r.dims);
    const scale = Math.max(1, ...Array.from(r.data, Math.abs));
    r.data.forEach((x, j) => {
      if (Math.abs(ours[i]![j]! - x) > tol * scale) throw new Error(`output ${i}[${j}]: ours ${ours[i]![j]} vs onnxruntime ${x}`);
    });
  });
  return ag;
}

const run = (c: Case, seed = 1) => compare(spec(c), seed);

function expectErr(fn: () => unknown, code: string, ...parts: string[]) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ZkonnxError)) throw e;
    expect(e.code, e.message).toBe(code);
    for (const p of parts) expect(e.message).toContain(p);
    return;
  }
  throw new Error(`expected ${code}`);
}
const fold = (c: Case) => () => inferAndFold(decodeOnnx(buildModel(spec(c)), 'm.onnx'));

describe('data movement ops match onnxruntime-web', () => {
  it('Squeeze / Unsqueeze: axes as attribute (opset 11) and as input (opset 13)', async () => {
    await run({ op: 'Squeeze', x: [[1, 3, 1, 2]], attrs: { axes: [0, -2] }, opset: 11 });
    await run({ op: 'Squeeze', x: [[1, 3, 1, 2]], consts: [{ dims: [1], data: i64([2]) }] });
    await run({ op: 'Squeeze', x: [[1, 3, 1, 2]] });
    await run({ op: 'Unsqueeze', x: [[3, 2]], attrs: { axes: [0, -1] }, opset: 11 });
    await run({ op: 'Unsqueeze', x: [[3, 2]], consts: [{ dims: [2], data: i64([1, 3]) }] });
  });

  it('Transpose with perm and by default, Flatten, Reshape with 0 and -1', async () => {
    await run({ op: 'Transpose', x: [[2, 3, 4]], attrs: { perm: [1, 2, 0] } });
    await run({ op: 'Transpose', x: [[2, 3, 4]] });
    await run({ op: 'Flatten', x: [[2, 3, 4]], attrs: { axis: -1 } });
    await run({ op: 'Flatten', x: [[2, 3, 4]], attrs: { axis: 0 } });
    await run({ op: 'Reshape', x: [[2, 3, 4]], consts: [{ dims: [3], data: i64([0, -1, 2]) }] });
    await run({ op: 'Identity', x: [[2, 3]] });
    await run({ op: 'Dropout', x: [[2, 3]], opset: 12 });
    await run({ op: 'Cast', x: [[2, 3]], attrs: { to: 1 } });
  });

  it('Concat of signals and constants along a negative axis', async () => {
    await run({ op: 'Concat', x: [[2, 3], [2, 1]], consts: [{ dims: [2, 2], data: rand(4) }], attrs: { axis: -1 }, order: ['c0', 'x', 'x1', 'c0'] });
    await run({ op: 'Concat', x: [[1, 2], [3, 2]], attrs: { axis: 0 } });
  });

  it('Slice: inputs with negative and clamped indices, negative steps, axes; attributes before opset 10', async () => {
    const c = (xs: number[]) => ({ dims: [xs.length], data: i64(xs) });
    await run({ op: 'Slice', x: [[4, 5, 6]], consts: [c([1, -4]), c([100, -1]), c([0, 2])] });
    await run({ op: 'Slice', x: [[4, 5, 6]], consts: [c([-1, 4]), c([-100, 0]), c([0, 2]), c([-1, -2])] });
    await run({ op: 'Slice', x: [[4, 5, 6]], consts: [c([3, 0]), c([0, 5]), c([1, 2]), c([-2, 3])] });
    await run({ op: 'Slice', x: [[4, 5, 6]], consts: [c([2]), c([2])] }); // empty
    await run({ op: 'Slice', x: [[4, 5, 6]], attrs: { starts: [1, -3], ends: [3, 1000], axes: [1, -1] }, opset: 9 });
  });

  it('Pad: constant with a value, reflect, edge, wrap, negative pads, axes; attributes before opset 11', async () => {
    const p = (xs: number[]) => ({ dims: [xs.length], data: i64(xs) });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([0, 0, 1, 2, 0, 0, 2, 1]), { dims: [], data: f32([0.5]) }] });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([0, 0, 2, 3, 0, 0, 2, 1])], attrs: { mode: 'reflect' } });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([0, 1, 2, 3, 0, 0, 2, 1])], attrs: { mode: 'edge' } });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([0, 0, -1, 2, 0, 0, 1, -2])] });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([1, 2, 2, 1]), '', p([-1, 2])], opset: 18 });
    await run({ op: 'Pad', x: [[1, 2, 3, 4]], consts: [p([0, 0, 1, 4, 0, 0, 2, 1])], attrs: { mode: 'wrap' }, opset: 19 });
    await run({ op: 'Pad', x: [[2, 3]], attrs: { pads: [1, 0, 0, 2], value: 1.5 }, opset: 2 });
    await run({ op: 'Pad', x: [[2, 3]], attrs: { pads: [1, 2, 1, 2], mode: 'reflect' }, opset: 2 });
  });

  it('Gather (negative, 2-D and scalar indices) and GatherElements with constant indices', async () => {
    await run({ op: 'Gather', x: [[4, 3]], consts: [{ dims: [2, 2], data: i64([0, -1, 2, 2]) }], attrs: { axis: 0 } });
    await run({ op: 'Gather', x: [[2, 4, 3]], consts: [{ dims: [3], data: i64([-2, 0, 1]) }], attrs: { axis: -1 } });
    await run({ op: 'Gather', x: [[2, 4, 3]], consts: [{ dims: [], data: i64([-1]) }], attrs: { axis: 1 } });
    await run({ op: 'GatherElements', x: [[3, 4]], consts: [{ dims: [2, 4], data: i64([0, 2, -1, 1, 2, 2, 0, 0]) }], attrs: { axis: 0 } });
    await run({ op: 'GatherElements', x: [[3, 4]], consts: [{ dims: [3, 2], data: i64([3, 0, -4, 1, 2, 2]) }], attrs: { axis: 1 } });
  });

  it('Expand, Tile, DepthToSpace (DCR, CRD), SpaceToDepth', async () => {
    await run({ op: 'Expand', x: [[3, 1]], consts: [{ dims: [3], data: i64([2, 1, 4]) }] });
    await run({ op: 'Tile', x: [[2, 3]], consts: [{ dims: [2], data: i64([3, 2]) }] });
    await run({ op: 'DepthToSpace', x: [[1, 8, 2, 3]], attrs: { blocksize: 2 } });
    await run({ op: 'DepthToSpace', x: [[1, 8, 2, 3]], attrs: { blocksize: 2, mode: 'CRD' } });
    await run({ op: 'SpaceToDepth', x: [[1, 2, 4, 6]], attrs: { blocksize: 2 } });
  });

  it('Split: equal, sizes as input (opset 13) and attribute (opset 11), num_outputs uneven (opset 18)', async () => {
    await run({ op: 'Split', x: [[2, 6]], attrs: { axis: 1 }, outputs: 3 });
    await run({ op: 'Split', x: [[2, 6]], consts: [{ dims: [3], data: i64([1, 3, 2]) }], attrs: { axis: -1 }, outputs: 3 });
    await run({ op: 'Split', x: [[5, 2]], attrs: { split: [2, 3] }, outputs: 2, opset: 11 });
    await run({ op: 'Split', x: [[7, 2]], attrs: { num_outputs: 3 }, outputs: 3, opset: 18 });
  });
});

describe('Resize and Upsample match onnxruntime-web', () => {
  const sc = (xs: number[]) => ({ dims: [xs.length], data: f32(xs) });
  const roi = { dims: [0], data: f32([]) };
  const modes = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
  const nearest = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

  it('nearest with scales, every coordinate transformation and nearest mode (up and down)', async () => {
    for (const coordinate_transformation_mode of modes) {
      for (const nearest_mode of nearest) {
        const attrs = { mode: 'nearest', coordinate_transformation_mode, nearest_mode };
        await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [roi, sc([1, 1, 2, 1.5])], attrs });
        await run({ op: 'Resize', x: [[1, 1, 6, 7]], consts: [roi, sc([1, 1, 0.5, 0.6])], attrs });
      }
    }
  });

  it('nearest with sizes (opset 13 and 11), and with axes and keep_aspect_ratio_policy (opset 18)', async () => {
    const sizes = (xs: number[]) => ({ dims: [xs.length], data: i64(xs) });
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: ['', '', sizes([1, 2, 7, 5])], attrs: { mode: 'nearest' } });
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [roi, sc([]), sizes([1, 2, 2, 9])], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric' }, opset: 11 });
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: ['', '', sizes([6, 6])], attrs: { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }, opset: 18 });
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: ['', '', sizes([6, 6])], attrs: { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }, opset: 18 });
  });

  it('linear (bilinear) with scales and sizes', async () => {
    for (const coordinate_transformation_mode of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel']) {
      await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [roi, sc([1, 1, 2, 1.5])], attrs: { mode: 'linear', coordinate_transformation_mode } });
      await run({ op: 'Resize', x: [[1, 2, 5, 4]], consts: [roi, sc([1, 1, 0.6, 0.5])], attrs: { mode: 'linear', coordinate_transformation_mode } });
    }
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: ['', '', { dims: [4], data: i64([1, 2, 5, 7]) }], attrs: { mode: 'linear' } });
  });

  it('cubic with coefficient a and exclude_outside; half_pixel_symmetric (opset 19); tf_crop_and_resize with extrapolation', async () => {
    for (const coordinate_transformation_mode of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel']) {
      await run({ op: 'Resize', x: [[1, 2, 4, 5]], consts: [roi, sc([1, 1, 2, 1.6])], attrs: { mode: 'cubic', coordinate_transformation_mode } });
      await run({ op: 'Resize', x: [[1, 2, 6, 5]], consts: [roi, sc([1, 1, 0.5, 0.8])], attrs: { mode: 'cubic', coordinate_transformation_mode, cubic_coeff_a: -0.5, exclude_outside: 1 } });
    }
    for (const mode of ['nearest', 'linear']) {
      await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [roi, sc([1, 1, 2, 1.5])], attrs: { mode, coordinate_transformation_mode: 'half_pixel_symmetric' }, opset: 19 });
      const box = { dims: [8], data: f32([0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2]) };
      await run({ op: 'Resize', x: [[1, 2, 5, 4]], consts: [box, sc([1, 1, 1.4, 2])], attrs: { mode, coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 0.75 } });
    }
  });

  it('Resize opset 10 and Upsample opset 9 / 7 (asymmetric, legacy rounding)', async () => {
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [sc([1, 1, 2, 2.5])], attrs: { mode: 'nearest' }, opset: 10 });
    await run({ op: 'Resize', x: [[1, 2, 3, 4]], consts: [sc([1, 1, 2, 1.5])], attrs: { mode: 'linear' }, opset: 10 });
    await run({ op: 'Upsample', x: [[1, 2, 3, 4]], consts: [sc([1, 1, 2, 3])], attrs: { mode: 'nearest' }, opset: 9 });
    await run({ op: 'Upsample', x: [[1, 2, 3, 4]], consts: [sc([1, 1, 2, 2.5])], attrs: { mode: 'linear' }, opset: 9 });
    await run({ op: 'Upsample', x: [[1, 2, 3, 4]], attrs: { mode: 'nearest', scales: attr.floats([1, 1, 2, 2]) }, opset: 7 });
  });
});

describe('linear arithmetic ops match onnxruntime-web', () => {
  const w = (dims: number[], seed = 3) => ({ dims, data: rand(size(dims), seed) });

  it('Conv 1-D, 2-D with strides / pads / dilations, groups, depthwise, 3-D, no bias', async () => {
    await run({ op: 'Conv', x: [[1, 3, 10]], consts: [w([4, 3, 3]), w([4], 5)], attrs: { pads: [1, 2], strides: [2] } });
    await run({ op: 'Conv', x: [[1, 3, 7, 8]], consts: [w([5, 3, 3, 2]), w([5], 5)], attrs: { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] } });
    await run({ op: 'Conv', x: [[2, 4, 6, 6]], consts: [w([6, 2, 3, 3]), w([6], 5)], attrs: { group: 2, pads: [1, 1, 1, 1] } });
    await run({ op: 'Conv', x: [[1, 4, 6, 5]], consts: [w([4, 1, 3, 3]), w([4], 5)], attrs: { group: 4, strides: [2, 2] } });
    await run({ op: 'Conv', x: [[1, 4, 6, 5]], consts: [w([8, 1, 3, 3])], attrs: { group: 4, kernel_shape: [3, 3] } });
    await run({ op: 'Conv', x: [[1, 2, 4, 5, 3]], consts: [w([3, 2, 2, 3, 2]), w([3], 5)], attrs: { pads: [1, 0, 1, 0, 1, 1] } });
  });

  it('Conv auto_pad SAME_UPPER, SAME_LOWER, VALID', async () => {
    for (const auto_pad of ['SAME_UPPER', 'SAME_LOWER', 'VALID']) {
      await run({ op: 'Conv', x: [[1, 2, 7, 6]], consts: [w([3, 2, 4, 3]), w([3], 5)], attrs: { auto_pad, strides: [2, 2] } });
    }
    // onnxruntime rejects dilations with SAME_*: compare VALID only
    await run({ op: 'Conv', x: [[1, 2, 7, 6]], consts: [w([3, 2, 2, 3])], attrs: { auto_pad: 'VALID', dilations: [2, 1], strides: [1, 2] } });
  });

  it('Conv on a 28×28×4 map', async () => {
    await run({ op: 'Conv', x: [[1, 4, 28, 28]], consts: [w([8, 4, 3, 3]), w([8], 5)], attrs: { pads: [1, 1, 1, 1] } });
  });

  it('ConvTranspose: strides, pads, output_padding, dilations, group, output_shape, auto_pad', async () => {
    await run({ op: 'ConvTranspose', x: [[1, 3, 4, 5]], consts: [w([3, 2, 3, 3]), w([2], 5)] });
    await run({ op: 'ConvTranspose', x: [[1, 3, 4, 5]], consts: [w([3, 2, 3, 3]), w([2], 5)], attrs: { strides: [2, 3], pads: [1, 0, 2, 1], output_padding: [1, 2] } });
    await run({ op: 'ConvTranspose', x: [[1, 4, 3, 3]], consts: [w([4, 3, 2, 3])], attrs: { group: 2, dilations: [2, 1], strides: [2, 2] } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 5]], consts: [w([2, 3, 4])], attrs: { strides: [3], output_shape: [16] } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 4, 4]], consts: [w([2, 3, 3, 3])], attrs: { strides: [2, 2], output_shape: [9, 10] } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 4, 4]], consts: [w([2, 3, 3, 3]), w([3], 5)], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 4, 4]], consts: [w([2, 3, 3, 3]), w([3], 5)], attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER' } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 4, 4]], consts: [w([2, 3, 3, 3])], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER', output_shape: [9, 6] } });
    await run({ op: 'ConvTranspose', x: [[1, 2, 4, 4]], consts: [w([2, 3, 3, 3])], attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER', output_shape: [9, 6] } });
  });

  it('AveragePool: count_include_pad 0/1, ceil_mode, strides, auto_pad, dilations (opset 19); GlobalAveragePool', async () => {
    for (const count_include_pad of [0, 1]) {
      await run({ op: 'AveragePool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad } });
      await run({ op: 'AveragePool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 2], pads: [1, 0, 1, 1], strides: [2, 2], ceil_mode: 1, count_include_pad } });
      await run({ op: 'AveragePool', x: [[1, 2, 9]], attrs: { kernel_shape: [4], strides: [3], ceil_mode: 1, count_include_pad } });
      await run({ op: 'AveragePool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2], count_include_pad } });
      await run({ op: 'AveragePool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 3], auto_pad: 'SAME_LOWER', count_include_pad } });
      await run({ op: 'AveragePool', x: [[1, 2, 8, 7]], attrs: { kernel_shape: [2, 2], dilations: [2, 2], pads: [1, 1, 1, 1], count_include_pad }, opset: 19 });
      await run({ op: 'AveragePool', x: [[1, 2, 8, 7]], attrs: { kernel_shape: [3, 2], dilations: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2], ceil_mode: 1, count_include_pad }, opset: 19 });
    }
    await run({ op: 'AveragePool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [2, 2], auto_pad: 'VALID', strides: [2, 2] }, opset: 11 });
    await run({ op: 'GlobalAveragePool', x: [[1, 3, 4, 5]] });
  });

  it('BatchNormalization (opset 15 and 9)', async () => {
    const var_ = { dims: [3], data: f32([0.5, 1.5, 2]) };
    await run({ op: 'BatchNormalization', x: [[2, 3, 4, 2]], consts: [w([3], 1), w([3], 2), w([3], 3), var_], attrs: { epsilon: 1e-3 }, opset: 15 });
    await run({ op: 'BatchNormalization', x: [[2, 3]], consts: [w([3], 1), w([3], 2), w([3], 3), var_], opset: 9 });
    // ImageScaler (opset ≤ 9; CoreML-converted style-transfer models start with one)
    await run({ op: 'ImageScaler', x: [[1, 3, 4, 2]], attrs: { scale: 0.5, bias: attr.floats([0.1, -0.2, 0.3]) }, opset: 8 });
  });

  it('ReduceSum / ReduceMean: axes attribute or input by opset, keepdims, noop_with_empty_axes', async () => {
    const ax = (xs: number[]) => ({ dims: [xs.length], data: i64(xs) });
    await run({ op: 'ReduceSum', x: [[2, 3, 4]], attrs: { axes: [0, -1], keepdims: 0 }, opset: 11 });
    await run({ op: 'ReduceSum', x: [[2, 3, 4]], consts: [ax([1])] });
    await run({ op: 'ReduceSum', x: [[2, 3, 4]] });
    await run({ op: 'ReduceSum', x: [[2, 3, 4]], attrs: { noop_with_empty_axes: 1 } });
    await run({ op: 'ReduceMean', x: [[2, 3, 4]], attrs: { axes: [1, 2] }, opset: 13 });
    await run({ op: 'ReduceMean', x: [[2, 3, 4]], consts: [ax([-1, 0])], attrs: { keepdims: 0 }, opset: 18 });
  });

  it('Sum and Mean of signals and constants with broadcasting, CumSum', async () => {
    await run({ op: 'Sum', x: [[2, 3], [3]], consts: [{ dims: [2, 1], data: f32([1, -2]) }] });
    await run({ op: 'Mean', x: [[2, 3], [1, 3], [2, 1]] });
    const axis = (a: number) => ({ dims: [], data: i64([a]) });
    await run({ op: 'CumSum', x: [[3, 4]], consts: [axis(1)] });
    await run({ op: 'CumSum', x: [[3, 4]], consts: [axis(-2)], attrs: { exclusive: 1, reverse: 1 } });
  });

  it('MatMul with batched constants on either side, Gemm with a signal bias', async () => {
    await run({ op: 'MatMul', x: [[2, 3, 4]], consts: [w([2, 4, 5])] });
    await run({ op: 'MatMul', x: [[3, 4]], consts: [w([2, 5, 3])], order: ['c0', 'x'] });
    await run({ op: 'MatMul', x: [[4]], consts: [w([4, 2])] });
    await run({ op: 'Gemm', x: [[3, 4]], consts: [w([2, 3]), w([4], 4)], order: ['c0', 'x', 'c1'] });
    await run({ op: 'Gemm', x: [[2, 3], [2, 4]], consts: [w([4, 3])], attrs: { transB: 1, alpha: 0.5, beta: attr.float(2) }, order: ['x', 'c0', 'x1'] });
  });

  it('Where with a constant condition selects between signals and constants', async () => {
    const cond = { dims: [2, 3], data: Uint8Array.from([1, 0, 1, 0, 0, 1]) };
    const spec1: ModelSpec = {
      graphName: 'where', opset: 13, inputs: [{ name: 'x', shape: [2, 3] }], outputs: [{ name: 'y', shape: [2, 3] }],
      initializers: [{ name: 'c', ...cond }, { name: 'k', dims: [3], data: f32([1, 2, 3]) }],
      nodes: [{ name: 'cb', op: 'Cast', inputs: ['c'], outputs: ['cbool'], attrs: { to: 9 } }, { name: 'w', op: 'Where', inputs: ['cbool', 'x', 'k'], outputs: ['y'] }],
    };
    const ag = await compare(spec1);
    expect(ag.acts).toHaveLength(0);
  });
});

describe('constant folding', () => {
  it('weights through Transpose, Concat, Slice, Unsqueeze, Mul before a MatMul fold into constants', async () => {
    const m: ModelSpec = {
      graphName: 'folded', opset: 13,
      inputs: [{ name: 'x', shape: [1, 5] }], outputs: [{ name: 'y', shape: [] }],
      initializers: [
        { name: 'A', dims: [3, 5], data: rand(15, 2) },
        { name: 'B', dims: [2, 5], data: rand(10, 3) },
        { name: 'starts', dims: [1], data: i64([-4]) }, { name: 'ends', dims: [1], data: i64([-100]) },
        { name: 'axes', dims: [1], data: i64([1]) }, { name: 'steps', dims: [1], data: i64([-1]) },
        { name: 'two', dims: [], data: f32([2]) },
      ],
      nodes: [
        { name: 'cat', op: 'Concat', inputs: ['A', 'B'], outputs: ['AB'], attrs: { axis: 0 } },
        { name: 'tr', op: 'Transpose', inputs: ['AB'], outputs: ['W'], attrs: { perm: [1, 0] } },
        { name: 'sl', op: 'Slice', inputs: ['W', 'starts', 'ends', 'axes', 'steps'], outputs: ['W2'] },
        { name: 'mul', op: 'Mul', inputs: ['W2', 'two'], outputs: ['W3'] },
        { name: 'sq', op: 'Sqrt', inputs: ['two'], outputs: ['r2'] },
        { name: 'mm', op: 'MatMul', inputs: ['x', 'W3'], outputs: ['h'] },
        { name: 'add', op: 'Add', inputs: ['h', 'r2'], outputs: ['y'] },
      ],
    };
    const g = inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'));
    expect(g.nodes.map((n) => n.op)).toEqual(['MatMul', 'Add']);
    expect(g.constants.get('W3')!.dims).toEqual([5, 2]);
    await compare(m);
  });

  it('integer shape arithmetic divides like integers (PyTorch exports: Shape → Gather → Div → Concat → Reshape)', async () => {
    const m: ModelSpec = {
      graphName: 'intdiv', opset: 13,
      inputs: [{ name: 'x', shape: [1, 2, 6] }], outputs: [{ name: 'y', shape: [] }],
      initializers: [
        { name: 'i2', dims: [], data: i64([2]) }, { name: 'four', dims: [], data: i64([4]) },
        { name: 'ax0', dims: [1], data: i64([0]) }, { name: 'one', dims: [1], data: i64([1]) }, { name: 'm1', dims: [1], data: i64([-1]) },
      ],
      nodes: [
        { name: 'shape', op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { name: 'g', op: 'Gather', inputs: ['s', 'i2'], outputs: ['n'], attrs: { axis: 0 } },
        { name: 'div', op: 'Div', inputs: ['n', 'four'], outputs: ['q'] }, // 6 / 4 = 1 in int64
        { name: 'unsq', op: 'Unsqueeze', inputs: ['q', 'ax0'], outputs: ['q1'] },
        { name: 'cat', op: 'Concat', inputs: ['one', 'q1', 'm1'], outputs: ['target'], attrs: { axis: 0 } },
        { name: 'rs', op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
      ],
    };
    const ag = await compare(m);
    expect(ag.outputs[0]!.shape).toEqual([1, 1, 12]);
  });

  it('non-linear ops on constants fold with float code (Relu, Exp, Pow, Max, Clip, Where, Cast to int, Range, ConstantOfShape)', async () => {
    const m: ModelSpec = {
      graphName: 'floatfold', opset: 13,
      inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [] }],
      initializers: [
        { name: 'a', dims: [4], data: f32([-1.7, 0.4, 2.6, -0.2]) },
        { name: 'three', dims: [], data: f32([3]) },
        { name: 'lo', dims: [], data: f32([-0.5]) }, { name: 'hi', dims: [], data: f32([1.5]) },
        { name: 'r0', dims: [], data: f32([0]) }, { name: 'r1', dims: [], data: f32([2]) }, { name: 'rd', dims: [], data: f32([0.5]) },
        { name: 'shp', dims: [1], data: i64([4]) },
      ],
      nodes: [
        { name: 'relu', op: 'Relu', inputs: ['a'], outputs: ['ra'] },
        { name: 'exp', op: 'Exp', inputs: ['a'], outputs: ['ea'] },
        { name: 'pow', op: 'Pow', inputs: ['a', 'three'], outputs: ['pa'] },
        { name: 'max', op: 'Max', inputs: ['ra', 'ea', 'pa'], outputs: ['ma'] },
        { name: 'clip', op: 'Clip', inputs: ['a', 'lo', 'hi'], outputs: ['ca'] },
        { name: 'less', op: 'Less', inputs: ['a', 'lo'], outputs: ['la'] },
        { name: 'where', op: 'Where', inputs: ['la', 'ma', 'ca'], outputs: ['wa'] },
        { name: 'cast', op: 'Cast', inputs: ['a'], outputs: ['ia'], attrs: { to: 7 } },
        { name: 'castf', op: 'Cast', inputs: ['ia'], outputs: ['fa'], attrs: { to: 1 } },
        { name: 'range', op: 'Range', inputs: ['r0', 'r1', 'rd'], outputs: ['rg'] },
        { name: 'cos', op: 'ConstantOfShape', inputs: ['shp'], outputs: ['ones'], attrs: { value: { dims: [1], data: f32([0.25]) } } },
        { name: 'm1', op: 'Mul', inputs: ['x', 'wa'], outputs: ['t1'] },
        { name: 'a1', op: 'Add', inputs: ['t1', 'fa'], outputs: ['t2'] },
        { name: 'a2', op: 'Add', inputs: ['t2', 'rg'], outputs: ['t3'] },
        { name: 'a3', op: 'Sub', inputs: ['t3', 'ones'], outputs: ['y'] },
      ],
    };
    const g = inferAndFold(decodeOnnx(buildModel(m), 'm.onnx'));
    expect(g.nodes.map((n) => n.op)).toEqual(['Mul', 'Add', 'Add', 'Sub']);
    expect(Array.from(g.constants.get('ia')!.data)).toEqual([-1, 0, 2, -0]);
    await compare(m);
  });
});

describe('shape inference of the non-linear ops', () => {
  const shapes = (c: Case) => {
    const g = inferAndFold(decodeOnnx(buildModel(spec(c)), 'm.onnx'));
    return g.outputs.map((o) => o.shape);
  };
  it('pools, reductions, ArgMax, TopK, LayerNormalization, broadcasting comparisons', () => {
    expect(shapes({ op: 'MaxPool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } })).toEqual([[1, 2, 3, 3]]);
    expect(shapes({ op: 'MaxPool', x: [[1, 2, 7, 6]], attrs: { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] } })).toEqual([[1, 2, 4, 3]]);
    expect(shapes({ op: 'LpPool', x: [[1, 2, 7]], attrs: { kernel_shape: [2], p: 2 } })).toEqual([[1, 2, 6]]);
    expect(shapes({ op: 'GlobalMaxPool', x: [[1, 2, 7, 6]] })).toEqual([[1, 2, 1, 1]]);
    expect(shapes({ op: 'ReduceMax', x: [[2, 3, 4]], attrs: { axes: [1], keepdims: 0 } })).toEqual([[2, 4]]);
    expect(shapes({ op: 'ReduceL2', x: [[2, 3, 4]], consts: [{ dims: [1], data: i64([-1]) }], opset: 18 })).toEqual([[2, 3, 1]]);
    expect(shapes({ op: 'ArgMax', x: [[2, 3, 4]], attrs: { axis: -1, keepdims: 0 } })).toEqual([[2, 3]]);
    expect(shapes({ op: 'TopK', x: [[2, 5]], consts: [{ dims: [1], data: i64([3]) }], outputs: 2 })).toEqual([[2, 3], [2, 3]]);
    expect(shapes({ op: 'LayerNormalization', x: [[2, 3, 4]], consts: [w4(), w4()], attrs: { axis: -1 }, opset: 17 })).toEqual([[2, 3, 4]]);
    expect(shapes({ op: 'Less', x: [[2, 1, 4], [3, 1]] })).toEqual([[2, 3, 4]]);
    expect(shapes({ op: 'Where', x: [[2, 1], [1, 3], [2, 3]] })).toEqual([[2, 3]]);
    expect(shapes({ op: 'Clip', x: [[2, 3]], attrs: { min: -1, max: 1 }, opset: 6 })).toEqual([[2, 3]]);
    expect(shapes({ op: 'MatMul', x: [[2, 1, 3, 4], [5, 4, 2]] })).toEqual([[2, 5, 3, 2]]);
  });
  const w4 = () => ({ dims: [4], data: rand(4) });

  it('SIGNAL_OPS lists the linear and the non-linear ops', () => {
    for (const op of ['Conv', 'ConvTranspose', 'Resize', 'Pad', 'Slice', 'BatchNormalization', 'ReduceMean', 'Relu', 'MaxPool', 'Softmax', 'TopK', 'Where', 'Sigmoid']) {
      expect(SIGNAL_OPS.has(op), op).toBe(true);
    }
  });
});

describe('unsupported combinations fail naming the node, op and attribute', () => {
  it('ONNX_UNSUPPORTED_ATTR for attribute values zkonnx does not handle', () => {
    const w = { dims: [2, 2, 3, 3], data: rand(36) };
    expectErr(fold({ op: 'Conv', x: [[1, 2, 5, 5]], consts: [w], attrs: { auto_pad: 'SAME' } }), 'ONNX_UNSUPPORTED_ATTR', '/n/Conv', '(Conv)', 'auto_pad');
    expectErr(fold({ op: 'Conv', x: [[1, 2, 5, 5]], consts: [w], attrs: { group: 3 } }), 'ONNX_UNSUPPORTED_ATTR', '/n/Conv', 'group=3');
    expectErr(fold({ op: 'Resize', x: [[1, 1, 2, 2]], consts: [{ dims: [4], data: f32([1, 1, 2, 2]) }], attrs: { mode: 'cubic' }, opset: 10 }), 'ONNX_UNSUPPORTED_ATTR', '/n/Resize', "mode='cubic'");
    expectErr(fold({ op: 'Resize', x: [[1, 1, 2, 2]], consts: ['', { dims: [4], data: f32([1, 1, 2, 2]) }], attrs: { nearest_mode: 'round' } }), 'ONNX_UNSUPPORTED_ATTR', '/n/Resize', "nearest_mode='round'");
    expectErr(fold({ op: 'Dropout', x: [[1, 2]], consts: ['', { dims: [], data: Uint8Array.from([1]) }], opset: 13 }), 'ONNX_UNSUPPORTED_ATTR', '/n/Dropout', 'training_mode');
    expectErr(fold({ op: 'Resize', x: [[1, 1, 2, 2]], consts: ['', { dims: [4], data: f32([1, 1, 2, 2]) }], attrs: { antialias: 1 }, opset: 18 }), 'ONNX_UNSUPPORTED_ATTR', 'antialias');
    const c = { dims: [2], data: rand(2) };
    expectErr(fold({ op: 'BatchNormalization', x: [[1, 2]], consts: [c, c, c, c], attrs: { training_mode: 1 }, opset: 15 }), 'ONNX_UNSUPPORTED_ATTR', '/n/BatchNormalization', 'training_mode');
    expectErr(fold({ op: 'MaxPool', x: [[1, 2, 4, 4]], attrs: { kernel_shape: [2, 2] }, outputs: 2 }), 'ONNX_UNSUPPORTED_ATTR', '/n/MaxPool', 'Indices');
    expectErr(fold({ op: 'Pad', x: [[1, 2]], consts: [{ dims: [4], data: i64([0, 1, 0, 1]) }], attrs: { mode: 'mirror' } }), 'ONNX_UNSUPPORTED_ATTR', '/n/Pad', "mode='mirror'");
    expectErr(fold({ op: 'DepthToSpace', x: [[1, 8, 2, 2]], attrs: { blocksize: 2, mode: 'XYZ' } }), 'ONNX_UNSUPPORTED_ATTR', "mode='XYZ'");
    // a cast of a float signal to an integer type truncates it toward zero: x − fmod(x, 1) (test/rounding.test.ts)
    expect(fold({ op: 'Cast', x: [[1, 3]], attrs: { to: 7 } })().nodes.map((n) => n.op)).toEqual(['Mod', 'Sub', 'Cast']);
    // and to bool it is x ≠ 0 (CountVectorizer(binary=True)'s counts; test/text.test.ts)
    expect(fold({ op: 'Cast', x: [[1, 3]], attrs: { to: 9 } })().nodes.map((n) => n.op)).toEqual(['Equal', 'Not']);
  });

  it('a cast of integer values (ArgMax, comparisons) to an integer or bool type is an identity on signals', () => {
    const argmaxCast: ModelSpec = {
      graphName: 'c', opset: 13, inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1] }, { name: 'b', shape: [1, 4] }],
      initializers: [{ name: 'h', dims: [], data: f32([0.5]) }],
      nodes: [
        { name: '/ArgMax', op: 'ArgMax', inputs: ['x'], outputs: ['i'], attrs: { axis: 1, keepdims: 0 } },
        { name: '/Cast', op: 'Cast', inputs: ['i'], outputs: ['y'], attrs: { to: 6 } },
        { name: '/Less', op: 'Less', inputs: ['x', 'h'], outputs: ['l'] },
        { name: '/CastB', op: 'Cast', inputs: ['l'], outputs: ['b'], attrs: { to: 9 } },
      ],
    };
    const g = inferAndFold(decodeOnnx(buildModel(argmaxCast), 'm.onnx'));
    expect(g.nodes.map((n) => n.op)).toEqual(['ArgMax', 'Cast', 'Less', 'Cast']);
  });

  it('ONNX_SHAPE when a shape operand depends on the input; ONNX_UNSUPPORTED_OP for a signal weight', () => {
    expectErr(fold({ op: 'Slice', x: [[4, 4], [1]], consts: [{ dims: [1], data: i64([3]) }], order: ['x', 'x1', 'c0'] }), 'ONNX_SHAPE', '/n/Slice', 'starts', 'not a constant');
    expectErr(fold({ op: 'Conv', x: [[1, 2, 5, 5], [2, 2, 3, 3]] }), 'ONNX_UNSUPPORTED_OP', '/n/Conv', 'W');
    expectErr(fold({ op: 'ConvTranspose', x: [[1, 2, 5, 5], [2, 2, 3, 3]] }), 'ONNX_UNSUPPORTED_OP', '/n/ConvTranspose', 'W');
    expectErr(fold({ op: 'NonMaxSuppression', x: [[1, 4, 4], [1, 1, 4]] }), 'ONNX_UNSUPPORTED_OP', '/n/NonMaxSuppression');
  });
});
