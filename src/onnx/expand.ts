// Ops zkonnx proves by rewriting them into other ops, once their input shapes are known (during
// shape inference, src/onnx/fold.ts): recurrent cells unrolled (recurrent.ts), Einsum as
// MatMuls (einsum.ts), Crop as gathers, OneHot as comparisons with the class indices, scatters
// that multiply or take a maximum as Mul/Max/Min of the elements they touch; normalizations and
// small ops of later opsets (normalize.ts); GatherND, Compress, ReverseSequence and CenterCropPad
// as gathers of the flattened data (indexing.ts); TfIdfVectorizer as equalities and their
// products (ngrams.ts).
import type { Node } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { scatterTargets } from '../ir/ops/scatter.js';
import { expandEinsum } from './einsum.js';
import { expandRecurrent } from './recurrent.js';
import { simplifiedLayerNorm } from './msft.js';
import { attention23 } from './attention.js';
import { rotaryEmbedding23 } from './rotary.js';
import { INDEXING } from './indexing.js';
import { NORMALIZATIONS } from './normalize.js';
import { convInteger, dequantizeLinear, dynamicQuantizeLinear, matMulInteger, qlinearConv, qlinearMatMul, quantizeLinear } from './qdq.js';
import { nums, num, str, type Expansion } from './rewrite.js';
import { tfIdfVectorizer } from './ngrams.js';

/**
 * ScatterND, ScatterElements and Scatter with reduction mul, max or min (and constant indices):
 * the data flattened, the elements the updates touch gathered and combined with their updates
 * by Mul/Max/Min, then written back by a ScatterElements without reduction. A target updated k
 * times takes k rounds, in the updates' order, as onnxruntime applies them. Reductions none and
 * add, and indices that depend on the input (refused there), stay with the op (ir/ops/scatter.ts).
 */
const scatterReduce: Expansion = (node, c) => {
  const op = ({ mul: 'Mul', max: 'Max', min: 'Min' } as Record<string, string>)[str(node.attrs.reduction, 'none')];
  const [data, indices, updates] = node.inputs as [string, string, string];
  const idx = indices ? c.constOf(indices) : undefined;
  if (!op || !idx || !updates) return false;
  const shape = c.shapeOf(data);
  let axis: number | undefined;
  if (node.op !== 'ScatterND') {
    const raw = num(node.attrs.axis, 0);
    axis = raw < 0 ? raw + shape.length : raw;
    if (axis < 0 || axis >= shape.length) c.fail(`axis=${raw} is out of range for rank ${shape.length}`);
  }
  const targets = scatterTargets((m) => c.fail(m), shape, idx, c.shapeOf(updates), axis);
  const rounds: number[][] = [];
  const times = new Map<number, number>();
  targets.forEach((t, u) => {
    const k = times.get(t) ?? 0;
    times.set(t, k + 1);
    (rounds[k] ??= []).push(u);
  });
  let flat = c.e.node('Reshape', [data, c.e.constant([1], [sizeOf(shape)])]);
  const upd = c.e.node('Reshape', [updates, c.e.constant([1], [targets.length])]);
  for (const us of rounds) {
    const at = c.e.constant([us.length], us.map((u) => targets[u]!));
    const old = c.e.node('Gather', [flat, at], { axis: 0 });
    const v = c.e.node(op, [old, c.e.node('Gather', [upd, c.e.constant([us.length], us)], { axis: 0 })]);
    flat = c.e.node('ScatterElements', [flat, at, v], { axis: 0 });
  }
  c.e.node('Reshape', [flat, c.e.constant([shape.length], shape)], {}, [node.outputs[0]!]);
};

export const EXPANSIONS: Record<string, Expansion> = {
  LSTM: expandRecurrent,
  GRU: expandRecurrent,
  RNN: expandRecurrent,
  /** onnxruntime's RMS normalization, a contrib op it registers in the default domain (msft.ts). */
  SimplifiedLayerNormalization: simplifiedLayerNorm,
  Einsum: expandEinsum,
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
  ConvInteger: convInteger,
  MatMulInteger: matMulInteger,
  ScatterND: scatterReduce,
  ScatterElements: scatterReduce,
  Scatter: scatterReduce,
  ...NORMALIZATIONS,
  ...INDEXING,
  Attention: attention23,
  TfIdfVectorizer: tfIdfVectorizer,
  RotaryEmbedding: rotaryEmbedding23,

  /** Affine (opset 1, experimental): alpha·x + beta. */
  Affine(node, c) {
    const x = c.e.node('Mul', [node.inputs[0]!, c.e.constant([], [num(node.attrs.alpha, 1)])]);
    c.e.node('Add', [x, c.e.constant([], [num(node.attrs.beta, 0)])], {}, [node.outputs[0]!]);
  },

  /** ScaledTanh (opset 1, experimental): alpha·tanh(beta·x). */
  ScaledTanh(node, c) {
    const t = c.e.node('Tanh', [c.e.node('Mul', [node.inputs[0]!, c.e.constant([], [num(node.attrs.beta, 1)])])]);
    c.e.node('Mul', [t, c.e.constant([], [num(node.attrs.alpha, 1)])], {}, [node.outputs[0]!]);
  },

  /** ThresholdedRelu: x where x > alpha, else 0 (a comparison and a product). */
  ThresholdedRelu(node, c) {
    const x = node.inputs[0]!;
    const on = c.e.node('Cast', [c.e.node('Greater', [x, c.e.constant([], [num(node.attrs.alpha, 1)])])], { to: 1 });
    c.e.node('Mul', [x, on], {}, [node.outputs[0]!]);
  },

  /** Crop (opset 1): border [left, top, right, bottom], or a [height, width] window at (top, left). */
  Crop(node, c) {
    const x = node.inputs[0]!;
    const s = c.shapeOf(x);
    if (s.length !== 4) c.fail(`input of shape [${s}] is not N×C×H×W`);
    const border = nums(node.attrs.border);
    if (border.length !== 4) c.fail(`border has ${border.length} values, expected 4 (left, top, right, bottom)`);
    const [left, top, right, bottom] = border as [number, number, number, number];
    const scale = nums(node.attrs.scale);
    const h = scale.length ? scale[0]! : s[2]! - top - bottom;
    const w = scale.length ? scale[1]! : s[3]! - left - right;
    if (h < 1 || w < 1 || top + h > s[2]! || left + w > s[3]! || Math.min(left, top, right, bottom) < 0) {
      c.fail(`window ${h}×${w} at (${top}, ${left}) does not fit the input's ${s[2]}×${s[3]}`);
    }
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    const rows = c.e.node('Gather', [x, c.e.constant([h], range(top, h))], { axis: 2 });
    c.e.node('Gather', [rows, c.e.constant([w], range(left, w))], { axis: 3 }, [node.outputs[0]!]);
  },

  /** OneHot: out = on where index = k (or k − depth, negative indices), off elsewhere. */
  OneHot(node, c) {
    const [idx, depthName, valuesName] = node.inputs as [string, string, string];
    const depthT = c.constOf(depthName);
    const values = c.constOf(valuesName);
    if (!depthT || !values) c.fail('depth and values must be constants');
    const depth = Math.trunc(depthT!.data[0]!);
    if (!(depth >= 1)) c.fail(`depth ${depthT!.data[0]} must be a positive integer`);
    if (values!.data.length !== 2) c.fail(`values must hold [off, on], got ${values!.data.length} values`);
    const [off, on] = [values!.data[0]!, values!.data[1]!];
    const s = c.shapeOf(idx);
    const rank = s.length + 1;
    const axis = num(node.attrs.axis, -1) < 0 ? num(node.attrs.axis, -1) + rank : num(node.attrs.axis, -1);
    if (axis < 0 || axis >= rank) c.fail(`axis ${num(node.attrs.axis, -1)} is out of range for an output of rank ${rank}`);
    const at = (n: number) => Array.from({ length: rank }, (_, i) => (i === axis ? n : 1));
    const expanded = c.e.node('Reshape', [idx, c.e.constant([rank], [...s.slice(0, axis), 1, ...s.slice(axis)])]);
    const ks = Array.from({ length: depth }, (_, k) => k);
    const hit = c.e.node('Or', [
      c.e.node('Equal', [expanded, c.e.constant(at(depth), ks)]),
      c.e.node('Equal', [expanded, c.e.constant(at(depth), ks.map((k) => k - depth))]),
    ]);
    const out = node.outputs[0]!;
    if (off === 0 && on === 1) { c.e.node('Cast', [hit], { to: 1 }, [out]); return; }
    const scaled = c.e.node('Mul', [c.e.node('Cast', [hit], { to: 1 }), c.e.constant([], [on - off])]);
    c.e.node('Add', [scaled, c.e.constant([], [off])], {}, [out]);
  },
};
