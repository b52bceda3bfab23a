// QuantizeLinear and DequantizeLinear: the QDQ form of quantized models (onnxruntime's
// quantize_static writes it by default), rewritten into ops zkonnx proves:
//
//   QuantizeLinear    y = clamp(round_even(x / scale) + zero_point, lo, hi)    Div, Round, Add, Max, Min
//                     [lo, hi] from the zero point's element type (uint8 when absent, or output_dtype)
//   DequantizeLinear  y = (x − zero_point) · scale                              Sub, Mul (linear)
//
// Scales and zero points are per tensor, per axis (1-D along `axis`) or blocked (opset 21:
// `block_size` consecutive elements along `axis` share one; the rank of x, dim ⌈d / block_size⌉
// along axis), spread over x's shape as constants. On constants (int8 and int4 weights, int32
// biases) the rewrite folds to float constants; on signals a QuantizeLinear costs a rounding and
// two comparisons, and the values it yields are exact integers: the int8 model's own, except where
// onnxruntime's float32 arithmetic lands next to a .5 boundary and rounds the other way (one
// quantum; the rounding's operand carries extra coefficient bits, src/quantize/quantize.ts, so
// that this is rare). Refused: float8 element types, a scale that is not a constant (except the
// ones DynamicQuantizeLinear computes, below).
import type { Node } from '../ir/graph.js';
import { BOUND_ATTR, INTEGER_ATTR, sizeOf } from '../ir/graph.js';
import { maxOf, minOf } from '../arrays.js';
import { roundEven } from '../quantize/int.js';
import { DataType } from './schema.js';
import { axisIn, num, type Expansion, type RewriteContext } from './rewrite.js';

/** Saturation range of the integer element types a zero point may have (ONNX TensorProto codes). */
const RANGES: Record<number, [number, number]> = {
  [DataType.UINT8]: [0, 255],
  [DataType.INT8]: [-128, 127],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT16]: [-32768, 32767],
  [DataType.UINT4]: [0, 15],
  [DataType.INT4]: [-8, 7],
};

/** How a node's scales and zero points spread over its input x. */
export interface Layout {
  shape: number[];
  axis: number;
  /** > 0: blocked quantization along axis. */
  block: number;
}

function layoutOf(node: Node, c: RewriteContext, x: string, defaultAxis = 1): Layout {
  const shape = c.shapeOf(x);
  const block = num(node.attrs.block_size, 0);
  if (!Number.isInteger(block) || block < 0) c.fail(`block_size ${block} is not a non-negative integer`);
  const raw = num(node.attrs.axis, defaultAxis);
  // a per-tensor parameter needs no axis: one out of range matters only where it is used
  const axis = raw < 0 ? raw + shape.length : raw;
  return { shape, axis, block };
}

/**
 * A scale or zero point as a constant broadcastable to x: a scalar; 1-D along the layout's axis;
 * or blocked, spread to x's whole shape.
 */
function operand(c: RewriteContext, name: string, what: string, l: Layout): string {
  const t = constant(c, name, what);
  const dims = c.constOf(name)!.dims;
  if (l.block > 0) return c.e.constant(l.shape, spreadBlocks(c, t, dims, what, l));
  if (t.length === 1) return c.e.constant([], [t[0]!]);
  if (dims.length !== 1) c.fail(`the ${what} has shape [${dims}] (supported: a scalar, 1-D along axis, or blocks with block_size)`);
  axisIn(c, l.axis, l.shape.length);
  if (t.length !== l.shape[l.axis]) c.fail(`the ${what} has ${t.length} values, the input's axis ${l.axis} has ${l.shape[l.axis]}`);
  const out = new Array<number>(l.shape.length).fill(1);
  out[l.axis] = t.length;
  return c.e.constant(out, t);
}

/** Blocked parameters (dims of x, ⌈d / block⌉ along axis) spread to every element of x. */
export function spreadBlocks(c: RewriteContext, t: Float64Array, dims: number[], what: string, l: Layout): Float64Array {
  axisIn(c, l.axis, l.shape.length);
  const want = l.shape.map((d, i) => (i === l.axis ? Math.ceil(d / l.block) : d));
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    c.fail(`the blocked ${what} has shape [${dims}], block_size ${l.block} along axis ${l.axis} of [${l.shape}] needs [${want}]`);
  }
  const inner = sizeOf(l.shape.slice(l.axis + 1));
  const d = l.shape[l.axis]!;
  const nb = want[l.axis]!;
  return Float64Array.from({ length: sizeOf(l.shape) }, (_, i) => {
    const outer = Math.floor(i / (inner * d));
    const k = Math.floor(i / inner) % d;
    return t[(outer * nb + Math.floor(k / l.block)) * inner + (i % inner)]!;
  });
}

/**
 * x − zero point (none, or all zeros: x itself). A constant zero point is spread as `operand`
 * takes it; a scalar one computed in the graph (DynamicQuantizeLinear's) is subtracted as it is.
 */
function centred(c: RewriteContext, x: string, zp: string | undefined, what: string, l?: Layout): string {
  if (!zp) return x;
  if (!c.constOf(zp)) {
    if (sizeOf(c.shapeOf(zp)) !== 1) c.fail(`the ${what} '${zp}' depends on the input and is not a scalar`, 'a zero point computed in the graph is supported per tensor (DynamicQuantizeLinear\'s)');
    return c.e.node('Sub', [x, zp]);
  }
  if (constant(c, zp, what).every((v) => v === 0)) return x;
  return c.e.node('Sub', [x, operand(c, zp, what, l ?? { shape: c.shapeOf(x), axis: 0, block: 0 })]);
}

/** A constant's values, or a refusal naming it. */
export function constant(c: RewriteContext, name: string | undefined, what: string): Float64Array {
  const t = name ? c.constOf(name) : undefined;
  if (!t) c.fail(`the ${what}${name ? ` '${name}'` : ''} is not a constant`, 'quantization parameters are fixed when the model is exported (or computed by DynamicQuantizeLinear)');
  return t!.data;
}

/** The zero point's element type: its initializer's, else output_dtype (opset 21), else uint8. */
function elementType(node: Node, c: RewriteContext): number {
  const zp = node.inputs[2];
  if (zp) constant(c, zp, 'zero point');
  return (zp ? c.constOf(zp)!.dtype : undefined) ?? (num(node.attrs.output_dtype, 0) || DataType.UINT8);
}

export const quantizeLinear: Expansion = (node, c) => {
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  const type = elementType(node, c);
  const range = RANGES[type];
  if (!range) c.fail(`quantizing to element type ${type} is not supported (supported: uint8, int8, uint16, int16, uint4, int4)`);
  const l = layoutOf(node, c, x);
  let q = c.e.node('Round', [c.e.node('Div', [x, operand(c, scale, 'scale', l)])]);
  if (zp && constant(c, zp, 'zero point').some((v) => v !== 0)) q = c.e.node('Add', [q, operand(c, zp, 'zero point', l)]);
  const [lo, hi] = range!;
  c.e.node('Min', [c.e.node('Max', [q, c.e.constant([], [lo])]), c.e.constant([], [hi])], {}, [node.outputs[0]!]);
};

export const dequantizeLinear: Expansion = (node, c) => {
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  const l = layoutOf(node, c, x);
  // a scale computed in the graph (DynamicQuantizeLinear's, per tensor): a product of two signals
  const computed = !c.constOf(scale) && sizeOf(c.shapeOf(scale)) === 1;
  c.e.node('Mul', [centred(c, x, zp, 'zero point', l), computed ? scale : operand(c, scale, 'scale', l)], {}, [node.outputs[0]!]);
};

// Dynamic quantization (onnxruntime's quantize_dynamic): the scale and zero point come from each
// input's range at run time, as onnxruntime computes them (GetQuantizationParameter):
//   lo = min(min x, 0), hi = max(max x, 0), r = hi − lo
//   scale = r / 255 (1 where r = 0), zero_point = clamp(round_even(−lo / scale), 0, 255)
//   y = clamp(round_even(x / scale) + zero_point, 0, 255)
// in the circuit: the extremes by comparisons (ReduceMax/ReduceMin); round(x / scale) =
// round(255·x / r) as one division by a signal rounded to an integer (its remainder range-checked;
// r + [r = 0] ≥ 1 step is the proven denominator; |x| ≤ r bounds the quotient by 255, stated to
// the quantizer so that its range check is 9 bits, not the numerator's width); then the clamps of
// QuantizeLinear. Its uint8 values are exact integers; where the exact quotient is within
// onnxruntime's float32 error of a .5 boundary they may round the other way (one step of r / 255;
// exact ties go up, onnxruntime's float quotient decides them either way).
export const dynamicQuantizeLinear: Expansion = (node, c) => {
  const x = node.inputs[0]!;
  const [y, yScale, yZero] = node.outputs.map((o) => (o ? [o] : undefined));
  const k = (v: number) => c.e.constant([], [v]);
  const t = c.constOf(x);
  if (t) {
    // a constant (an LSTM's initial state): onnxruntime's float32 arithmetic, at compile time
    const q = quantizeConstant(t.data);
    c.e.node('Identity', [c.e.constant(t.dims, q.y)], {}, y);
    c.e.node('Identity', [k(q.scale)], {}, yScale);
    c.e.node('Identity', [k(q.zero)], {}, yZero);
    return;
  }
  const hi = c.e.node('Max', [c.e.node('ReduceMax', [x], { keepdims: 0 }), k(0)]);
  const lo = c.e.node('Min', [c.e.node('ReduceMin', [x], { keepdims: 0 }), k(0)]);
  const r = c.e.node('Sub', [hi, lo]);
  const flat = c.e.node('Cast', [c.e.node('Equal', [r, k(0)])], { to: DataType.FLOAT });
  const den = c.e.node('Add', [r, flat]);
  c.e.node('Add', [c.e.node('Div', [r, k(255)]), flat], {}, yScale);
  const clamp = (v: string, out?: string[]) => c.e.node('Min', [c.e.node('Max', [v, k(0)]), k(255)], {}, out);
  // round(255·v / den) in one integer division; |v| ≤ r: it lies in [−255, 255], which the interval
  // analysis cannot see
  const ratio = (v: string) => c.e.node('Div', [c.e.node('Mul', [v, k(255)]), den], { [BOUND_ATTR]: 255, [INTEGER_ATTR]: 1 });
  const zp = clamp(ratio(c.e.node('Neg', [lo])), yZero);
  clamp(c.e.node('Add', [ratio(x), zp]), y);
};

// The QOperator form (onnxruntime's quant_format=QOperator), as the dequantize → op → quantize it
// stands for:
//   QLinearConv    Q(Conv(DQ(x), DQ(w) per output channel, B·x_scale·w_scale), y_scale, y_zero_point)
//   QLinearMatMul  Q(MatMul(DQ(a), DQ(b) per column), y_scale, y_zero_point)
//   ConvInteger,   the int32 products of (x − x_zero_point) and (w − w_zero_point): Sub, Conv / MatMul
//     MatMulInteger

/** DQ(x) along `axis` where its scale is per-axis. */
export function dq(c: RewriteContext, x: string, scale: string, zp: string | undefined, axis: number): string {
  return c.e.node('DequantizeLinear', [x, scale, ...(zp ? [zp] : [])], { axis });
}

export const qlinearConv: Expansion = (node, c) => {
  const [x, xs, xz, w, ws, wz, ys, yz, b] = node.inputs as (string | undefined)[];
  const inputs = [dq(c, x!, xs!, xz, 1), dq(c, w!, ws!, wz, 0)];
  if (b) {
    const sx = constant(c, xs, 'x scale')[0]!;
    const sw = constant(c, ws, 'w scale');
    const bias = constant(c, b, 'bias');
    inputs.push(c.e.constant([bias.length], Array.from(bias, (v, k) => v * sx * (sw.length > 1 ? sw[k]! : sw[0]!))));
  }
  const y = c.e.node('Conv', inputs, node.attrs);
  c.e.node('QuantizeLinear', [y, ys!, ...(yz ? [yz] : [])], {}, [node.outputs[0]!]);
};

export const qlinearMatMul: Expansion = (node, c) => {
  const [a, as, az, b, bs, bz, ys, yz] = node.inputs as (string | undefined)[];
  const y = c.e.node('MatMul', [dq(c, a!, as!, az, 0), dq(c, b!, bs!, bz, c.shapeOf(b!).length - 1)]);
  c.e.node('QuantizeLinear', [y, ys!, ...(yz ? [yz] : [])], {}, [node.outputs[0]!]);
};

/** The layout of a per-axis parameter of w along `axis` (negative: from the end). */
const along = (c: RewriteContext, w: string, axis: number): Layout => {
  const shape = c.shapeOf(w);
  return { shape, axis: axis < 0 ? axis + shape.length : axis, block: 0 };
};

export const convInteger: Expansion = (node, c) => {
  const [x, w, xz, wz] = node.inputs as (string | undefined)[];
  c.e.node('Conv', [centred(c, x!, xz, 'x zero point'), centred(c, w!, wz, 'w zero point', along(c, w!, 0))], node.attrs, [node.outputs[0]!]);
};

/**
 * (a − a_zp)·(b − b_zp) · (a_scale · b_scale): the int32 product of a quantized operand and int8
 * weights scaled back to reals (MatMulInteger, Cast, Mul), as dynamic quantization writes it.
 */
export function integerProduct(e: RewriteContext['e'], a: string, b: string, as: string, bs: string, az?: string, bz?: string): string {
  const acc = e.node('Cast', [e.node('MatMulInteger', [a, b, az ?? '', bz ?? ''])], { to: DataType.FLOAT });
  return e.node('Mul', [acc, e.node('Mul', [as, bs])]);
}

export const matMulInteger: Expansion = (node, c) => {
  const [a, b, az, bz] = node.inputs as (string | undefined)[];
  c.e.node('MatMul', [centred(c, a!, az, 'a zero point'), centred(c, b!, bz, 'b zero point', along(c, b!, -1))], {}, [node.outputs[0]!]);
};

/** DynamicQuantizeLinear of constant values, in float32 as onnxruntime computes it. */
function quantizeConstant(x: Float64Array): { y: number[]; scale: number; zero: number } {
  const f = Math.fround;
  const lo = Math.min(0, f(minOf(x)));
  const hi = Math.max(0, f(maxOf(x)));
  const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
  const clamp = (v: number) => Math.max(0, Math.min(255, v));
  const zero = clamp(roundEven(f(-lo / scale)));
  return { y: Array.from(x, (v) => clamp(roundEven(f(f(v) / scale)) + zero)), scale, zero };
}
