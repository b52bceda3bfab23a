// QuantizeLinear and DequantizeLinear: the QDQ form of quantized models (onnxruntime's
// quantize_static writes it by default), rewritten into ops zkonnx proves:
//
//   QuantizeLinear    y = clamp(round_even(x / scale) + zero_point, lo, hi)    Div, Round, Add, Max, Min
//                     [lo, hi] from the zero point's element type (uint8 when absent, or output_dtype)
//   DequantizeLinear  y = (x − zero_point) · scale                              Sub, Mul (linear)
//
// Per-axis scales and zero points (1-D, along `axis`) broadcast over the other axes. On constants
// (int8 weights, int32 biases) the rewrite folds to float constants; on signals a QuantizeLinear
// costs a rounding and two comparisons, and the values it yields are exact integers, so the
// dequantized tensor that follows is the int8 model's own. Refused: blocked quantization
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

/** A scale or zero point as a constant broadcastable to x: a scalar, or 1-D along `axis`. */
function operand(node: Node, c: RewriteContext, name: string, what: string, rank: number): string {
  const t = c.constOf(name);
  if (!t) c.fail(`the ${what} '${name}' is not a constant`, 'quantization parameters are fixed when the model is exported');
  if (t!.dims.length === 0 || t!.data.length === 1) return c.e.constant([], [t!.data[0]!]);
  if (t!.dims.length !== 1) c.fail(`the ${what} has shape [${t!.dims}] (supported: a scalar, or 1-D along axis; blocked quantization is not)`);
  const r = rank;
  const axis = num(node.attrs.axis, 1);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) c.fail(`axis ${axis} is out of range for an input of rank ${r}`);
  const dims = new Array<number>(r).fill(1);
  dims[a] = t!.dims[0]!;
  return c.e.constant(dims, t!.data);
}

function checkBlocks(node: Node, c: RewriteContext): void {
  if (num(node.attrs.block_size, 0) !== 0) c.fail('blocked quantization (block_size) is not supported');
}

/** The zero point's element type: its initializer's, else output_dtype (opset 21), else uint8. */
function elementType(node: Node, c: RewriteContext): number {
  const zp = node.inputs[2];
  const t = zp ? c.constOf(zp) : undefined;
  if (zp && !t) c.fail(`the zero point '${zp}' is not a constant`, 'quantization parameters are fixed when the model is exported');
  return t?.dtype ?? (num(node.attrs.output_dtype, 0) || UINT8);
}

export const quantizeLinear: Expansion = (node, c) => {
  checkBlocks(node, c);
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  const type = elementType(node, c);
  const range = RANGES[type];
  if (!range) c.fail(`quantizing to element type ${type} is not supported (supported: uint8, int8, uint16, int16)`);
  const r = c.shapeOf(x).length;
  let q = c.e.node('Round', [c.e.node('Div', [x, operand(node, c, scale, 'scale', r)])]);
  if (zp && c.constOf(zp)!.data.some((v) => v !== 0)) q = c.e.node('Add', [q, operand(node, c, zp, 'zero point', r)]);
  const [lo, hi] = range!;
  c.e.node('Min', [c.e.node('Max', [q, c.e.constant([], [lo])]), c.e.constant([], [hi])], {}, [node.outputs[0]!]);
};

export const dequantizeLinear: Expansion = (node, c) => {
  checkBlocks(node, c);
  const [x, scale, zp] = node.inputs as [string, string, string | undefined];
  if (zp) elementType(node, c); // a zero point must be a constant
  const r = c.shapeOf(x).length;
  const centred = zp && c.constOf(zp)!.data.some((v) => v !== 0) ? c.e.node('Sub', [x, operand(node, c, zp, 'zero point', r)]) : x;
  c.e.node('Mul', [centred, operand(node, c, scale, 'scale', r)], {}, [node.outputs[0]!]);
};
