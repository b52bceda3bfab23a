// QuantizeLinear and DequantizeLinear: the QDQ form of quantized models (onnxruntime's
// quantize_static writes it by default), rewritten into ops zkonnx proves:
//
//   QuantizeLinear    y = clamp(round_even(x / scale) + zero_point, lo, hi)    Div, Round, Add, Max, Min
//                     [lo, hi] from the zero point's element type (uint8 when absent, or output_dtype)
//   DequantizeLinear  y = (x − zero_point) · scale                              Sub, Mul (linear)
//
// Per-axis scales and zero points (1-D, along `axis`) broadcast over the other axes. On constants
// (int8 weights, int32 biases) the rewrite folds to float constants; on signals a QuantizeLinear
// costs a rounding and two comparisons, and the values it yields are exact integers: the int8
// model's own, except where onnxruntime's float32 arithmetic lands next to a .5 boundary and
// rounds the other way (one quantum; the rounding's operand carries extra coefficient bits,
// src/quantize/quantize.ts, so that this is rare). Refused: blocked quantization
// (block_size), quantizing to other element types (float8, int4), a scale that is not a constant.
import type { Node } from '../ir/graph.js';
import { num, type Expansion, type RewriteContext } from './rewrite.js';

/** Saturation range of the integer element types a zero point may have (ONNX TensorProto codes). */
const RANGES: Record<number, [number, number]> = {
  2: [0, 255], // uint8
  3: [-128, 127], // int8
  4: [0, 65535], // uint16
  5: [-32768, 32767], // int16
};
const UINT8 = 2;

/**
 * A scale or zero point as a constant broadcastable to an input of rank `rank`: a scalar, or 1-D
 * along `axis` (undefined: only a scalar is taken).
 */
function operand(c: RewriteContext, name: string, what: string, rank: number, axis?: number): string {
  const t = constant(c, name, what);
  if (t.length === 1) return c.e.constant([], [t[0]!]);
  if (axis === undefined) c.fail(`the ${what} has ${t.length} values (supported here: one)`);
  if (c.constOf(name)!.dims.length !== 1) c.fail(`the ${what} has shape [${c.constOf(name)!.dims}] (supported: a scalar, or 1-D along axis; blocked quantization is not)`);
  const a = axis! < 0 ? axis! + rank : axis!;
  if (a < 0 || a >= rank) c.fail(`axis ${axis} is out of range for an input of rank ${rank}`);
  const dims = new Array<number>(rank).fill(1);
  dims[a] = t.length;
  return c.e.constant(dims, t);
}

/** x − zero point (none, or all zeros: x itself), the zero point as `operand` takes it. */
function centred(c: RewriteContext, x: string, zp: string | undefined, what: string, axis?: number): string {
  if (!zp || constant(c, zp, what).every((v) => v === 0)) return x;
  return c.e.node('Sub', [x, operand(c, zp, what, c.shapeOf(x).length, axis)]);
}

/** A constant's values, or a refusal naming it. */
function constant(c: RewriteContext, name: string | undefined, what: string): Float64Array {
  const t = name ? c.constOf(name) : undefined;
  if (!t) c.fail(`the ${what}${name ? ` '${name}'` : ''} is not a constant`, 'quantization parameters are fixed when the model is exported');
  return t!.data;
}

function checkBlocks(node: Node, c: RewriteContext): void {
  if (num(node.attrs.block_size, 0) !== 0) c.fail('blocked quantization (block_size) is not supported');
}

/** The zero point's element type: its initializer's, else output_dtype (opset 21), else uint8. */
function elementType(node: Node, c: RewriteContext): number {
  const zp = node.inputs[2];
  if (zp) constant(c, zp, 'zero point');
  return (zp ? c.constOf(zp)!.dtype : undefined) ?? (num(node.attrs.output_dtype, 0) || UINT8);
}

export const quantizeLinear: Expansion = (node, c) => {
  checkBlocks(node, c);
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  const type = elementType(node, c);
  const range = RANGES[type];
  if (!range) c.fail(`quantizing to element type ${type} is not supported (supported: uint8, int8, uint16, int16)`);
  const r = c.shapeOf(x).length;
  const axis = num(node.attrs.axis, 1);
  let q = c.e.node('Round', [c.e.node('Div', [x, operand(c, scale, 'scale', r, axis)])]);
  if (zp && constant(c, zp, 'zero point').some((v) => v !== 0)) q = c.e.node('Add', [q, operand(c, zp, 'zero point', r, axis)]);
  const [lo, hi] = range!;
  c.e.node('Min', [c.e.node('Max', [q, c.e.constant([], [lo])]), c.e.constant([], [hi])], {}, [node.outputs[0]!]);
};

export const dequantizeLinear: Expansion = (node, c) => {
  checkBlocks(node, c);
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  const axis = num(node.attrs.axis, 1);
  c.e.node('Mul', [centred(c, x, zp, 'zero point', axis), operand(c, scale, 'scale', c.shapeOf(x).length, axis)], {}, [node.outputs[0]!]);
};

// The QOperator form (onnxruntime's quant_format=QOperator), as the dequantize → op → quantize it
// stands for:
//   QLinearConv    Q(Conv(DQ(x), DQ(w) per output channel, B·x_scale·w_scale), y_scale, y_zero_point)
//   QLinearMatMul  Q(MatMul(DQ(a), DQ(b) per column), y_scale, y_zero_point)
//   ConvInteger,   the int32 products of (x − x_zero_point) and (w − w_zero_point): Sub, Conv / MatMul
//     MatMulInteger

/** DQ(x) along `axis` where its scale is per-axis. */
function dq(c: RewriteContext, x: string, scale: string, zp: string | undefined, axis: number): string {
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

export const convInteger: Expansion = (node, c) => {
  const [x, w, xz, wz] = node.inputs as (string | undefined)[];
  c.e.node('Conv', [centred(c, x!, xz, 'x zero point'), centred(c, w!, wz, 'w zero point', 0)], node.attrs, [node.outputs[0]!]);
};

export const matMulInteger: Expansion = (node, c) => {
  const [a, b, az, bz] = node.inputs as (string | undefined)[];
  c.e.node('MatMul', [centred(c, a!, az, 'a zero point'), centred(c, b!, bz, 'b zero point', -1)], {}, [node.outputs[0]!]);
};
