// onnxruntime's quantized com.microsoft operators, rewritten (during shape inference) into the
// default-domain ops of qdq.ts and the ops they wrap. Registered by msft.ts.
import type { AttrValue, Node } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { nibbles } from './decode.js';
import { DataType } from './schema.js';
import { constant, dequantizeLinear, dq, integerProduct, quantizeLinear, spreadBlocks, type Layout } from './qdq.js';
import { expandRecurrent } from './recurrent.js';
import { axisIn, num, type Expansion, type RewriteContext } from './rewrite.js';

// onnxruntime's fused forms of dynamic quantization (com.microsoft, what its optimizer saves):
//   MatMulIntegerToFloat   (A − a_zp)·(B − b_zp) · a_scale·b_scale (+ bias): MatMulInteger, Cast, Mul
//   DynamicQuantizeMatMul  DynamicQuantizeLinear(A), then MatMulIntegerToFloat with its outputs
// b_scale and b_zero_point per tensor or per column of B.

const matMulIntegerToFloat: Expansion = (node, c) => {
  const [a, b, as, bs, az, bz, bias] = node.inputs as (string | undefined)[];
  integerMatMulToFloat(c, a!, b!, as!, bs!, az, bz, bias, node.outputs[0]!);
};

const dynamicQuantizeMatMul: Expansion = (node, c) => {
  const [a, b, bs, bz, bias] = node.inputs as (string | undefined)[];
  const [q, s, z] = ['q', 's', 'z'].map((t) => `${node.name || node.op}:dq_${t}`) as [string, string, string];
  c.e.node('DynamicQuantizeLinear', [a!], {}, [q, s, z]);
  integerMatMulToFloat(c, q, b!, s, bs!, z, bz, bias, node.outputs[0]!);
};

function integerMatMulToFloat(c: RewriteContext, a: string, b: string, as: string, bs: string, az: string | undefined, bz: string | undefined, bias: string | undefined, out: string): void {
  const y = integerProduct(c.e, a, b, as, bs, az, bz);
  c.e.node(bias ? 'Add' : 'Identity', bias ? [y, bias] : [y], {}, [out]);
}

// Weight-only quantization of onnxruntime's MatMulNBits (com.microsoft; what its 4-bit quantizers
// and onnxruntime-genai write): B [N, ⌈K / block_size⌉, blob] holds each row of the weights in
// blocks of block_size `bits`-bit values, packed from the low bit of each byte; one scale per row
// and block (and a zero point: packed like B, or a float, or 2^(bits − 1) when absent); g_idx
// (deprecated) is refused. The weights are constants: dequantized at compile time, the op is a
// MatMul by (B − zero point)·scale transposed (+ bias), zero constraints on its own.
const matMulNBits: Expansion = (node, c) => {
  const [a, b, scales, zps, gIdx, bias] = node.inputs as (string | undefined)[];
  const K = num(node.attrs.K, 0);
  const N = num(node.attrs.N, 0);
  const bits = num(node.attrs.bits, 4);
  const block = num(node.attrs.block_size, 0);
  // onnxruntime deprecates g_idx, and with it reads the zero points otherwise (measured: the
  // default 2^(bits − 1) in place of packed zeros)
  if (gIdx) c.fail('g_idx is not supported (onnxruntime deprecates it)', 're-export the weights without act-order indices');
  if (![2, 4, 8].includes(bits)) c.fail(`bits=${bits} is not supported (supported: 2, 4, 8)`);
  if (!(block >= 16) || (block & (block - 1)) !== 0) c.fail(`block_size=${block} is not a power of two ≥ 16`);
  if (!(K >= 1) || !(N >= 1)) c.fail(`K=${K} and N=${N} must be positive`);
  const aShape = c.shapeOf(a!);
  if (aShape[aShape.length - 1] !== K) c.fail(`A's last dim is ${aShape[aShape.length - 1]}, K is ${K}`);
  const blocks = Math.ceil(K / block);
  const blob = (block * bits) / 8;
  const q = constant(c, b, 'packed weights B');
  if (q.length !== N * blocks * blob) c.fail(`B holds ${q.length} bytes, N·⌈K/block_size⌉·block_size·bits/8 = ${N * blocks * blob}`);
  const s = constant(c, scales, 'scales');
  if (s.length !== N * blocks) c.fail(`the scales hold ${s.length} values, N·⌈K/block_size⌉ = ${N * blocks}`);
  const mask = (1 << bits) - 1;
  // value i of row n's bit stream (blocks back to back, each blob bytes)
  const unpack = (bytes: Float64Array, n: number, i: number, perRow: number) => {
    const bit = i * bits;
    return (bytes[n * perRow + (bit >> 3)]! >> (bit & 7)) & mask;
  };
  let zero: (n: number, j: number) => number = () => 1 << (bits - 1);
  if (zps) {
    const z = constant(c, zps, 'zero points');
    if (c.constOf(zps)!.dtype === DataType.UINT8) {
      const perRow = Math.ceil((blocks * bits) / 8);
      if (z.length !== N * perRow) c.fail(`the packed zero points hold ${z.length} bytes, N·⌈⌈K/block_size⌉·bits/8⌉ = ${N * perRow}`);
      zero = (n, j) => unpack(z, n, j, perRow);
    } else {
      if (z.length !== N * blocks) c.fail(`the zero points hold ${z.length} values, N·⌈K/block_size⌉ = ${N * blocks}`);
      zero = (n, j) => z[n * blocks + j]!;
    }
  }
  // W [K, N]: column n is row n of the quantized weights
  const w = new Float64Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const j = Math.floor(k / block);
      w[k * N + n] = (unpack(q, n, k, blocks * blob) - zero(n, j)) * s[n * blocks + j]!;
    }
  }
  const y = c.e.node('MatMul', [a!, c.e.constant([K, N], w, undefined, 'W')], {}, bias ? undefined : [node.outputs[0]!]);
  if (bias) c.e.node('Add', [y, bias], {}, [node.outputs[0]!]);
};

// The QOperator form's com.microsoft ops (onnxruntime's quantize_static with
// quant_format=QOperator; the ONNX model zoo's int8 models), each the dequantize → op → quantize it
// stands for, as QLinearConv and QLinearMatMul are (qdq.ts):
//   QLinearAdd, QLinearMul                  Q(DQ(a) ∘ DQ(b))
//   QLinearSigmoid, QLinearLeakyRelu,       Q(op(DQ(x))); channels_last pools transposed to NCHW
//     QLinearAveragePool,                   and back; QLinearSoftmax along axis, or (its opset
//     QLinearGlobalAveragePool,             attribute < 13) over the dims from axis on, as one row
//     QLinearSoftmax
//   QLinearConcat                           Q(Concat(DQ(x₁), DQ(x₂), …))
//   QLinearWhere                            Q(Where(c, DQ(x), DQ(y)))
//   QGemm                                   alpha·(DQ(A)'·DQ(B)' + C·a_scale·b_scale), quantized
//                                           where y_scale is given (measured on onnxruntime-web:
//                                           alpha scales the int32 bias too)

/** y quantized into `out` with the node's y scale and zero point. */
function quantizeTo(c: RewriteContext, y: string, ys: string, yz: string | undefined, out: string): void {
  c.e.node('QuantizeLinear', [y, ys, ...(yz ? [yz] : [])], {}, [out]);
}

const qlinearBinary = (op: 'Add' | 'Mul'): Expansion => (node, c) => {
  const [a, as, az, b, bs, bz, ys, yz] = node.inputs as (string | undefined)[];
  quantizeTo(c, c.e.node(op, [dq(c, a!, as!, az, 1), dq(c, b!, bs!, bz, 1)]), ys!, yz, node.outputs[0]!);
};

/** NHWC ↔ NCHW around an op on an input of rank r (channels_last pools). */
const toFirst = (r: number) => [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
const toLast = (r: number) => [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];

const qlinearUnary = (op: string, attrsOf: (node: Node) => Record<string, AttrValue> = () => ({})): Expansion => (node, c) => {
  const [x, xs, xz, ys, yz] = node.inputs as (string | undefined)[];
  let v = dq(c, x!, xs!, xz, 1);
  const last = num(node.attrs.channels_last, 0) === 1;
  const r = c.shapeOf(x!).length;
  if (last) v = c.e.node('Transpose', [v], { perm: toFirst(r) });
  v = c.e.node(op, [v], attrsOf(node));
  if (last) v = c.e.node('Transpose', [v], { perm: toLast(r) });
  quantizeTo(c, v, ys!, yz, node.outputs[0]!);
};

/** The pool's own attributes (channels_last is the wrapper's). */
const poolAttrs = (node: Node) => Object.fromEntries(Object.entries(node.attrs).filter(([k]) => k !== 'channels_last'));

const qlinearSoftmax: Expansion = (node, c) => {
  const [x, xs, xz, ys, yz] = node.inputs as (string | undefined)[];
  const shape = c.shapeOf(x!);
  const r = shape.length;
  const axis = axisIn(c, num(node.attrs.axis, -1), r);
  let v = dq(c, x!, xs!, xz, 1);
  if (num(node.attrs.opset, 13) < 13) {
    // opsets < 13: the dims from axis on are one row
    const rows = sizeOf(shape.slice(0, axis));
    v = c.e.node('Reshape', [v, c.e.constant([2], [rows, sizeOf(shape) / rows])]);
    v = c.e.node('Reshape', [c.e.node('Softmax', [v], { axis: 1 }), c.e.constant([r], shape)]);
  } else {
    // along axis: moved last, as a 2-D row softmax (the same under every opset's Softmax)
    const perm = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis), axis];
    const moved = perm.map((i) => shape[i]!);
    v = c.e.node('Reshape', [c.e.node('Transpose', [v], { perm }), c.e.constant([2], [sizeOf(moved) / shape[axis]!, shape[axis]!])]);
    v = c.e.node('Reshape', [c.e.node('Softmax', [v], { axis: 1 }), c.e.constant([r], moved)]);
    v = c.e.node('Transpose', [v], { perm: perm.map((_, i) => perm.indexOf(i)) });
  }
  quantizeTo(c, v, ys!, yz, node.outputs[0]!);
};

const qlinearWhere: Expansion = (node, c) => {
  const [cond, x, xs, xz, y, ys, yz, zs, zz] = node.inputs as (string | undefined)[];
  quantizeTo(c, c.e.node('Where', [cond!, dq(c, x!, xs!, xz, 1), dq(c, y!, ys!, yz, 1)]), zs!, zz, node.outputs[0]!);
};

const qlinearConcat: Expansion = (node, c) => {
  const [ys, yz, ...rest] = node.inputs as string[];
  if (rest.length === 0 || rest.length % 3 !== 0) c.fail(`expects (x, x_scale, x_zero_point) triples after y_scale and y_zero_point, got ${rest.length} inputs`);
  const parts = Array.from({ length: rest.length / 3 }, (_, k) => dq(c, rest[3 * k]!, rest[3 * k + 1]!, rest[3 * k + 2], 1));
  quantizeTo(c, c.e.node('Concat', parts, { axis: num(node.attrs.axis, 0) }), ys!, yz, node.outputs[0]!);
};

const qGemm: Expansion = (node, c) => {
  const [a, as, az, b, bs, bz, bias, ys, yz] = node.inputs as (string | undefined)[];
  const alpha = num(node.attrs.alpha, 1);
  const transB = num(node.attrs.transB, 0);
  const inputs = [dq(c, a!, as!, az, 1), dq(c, b!, bs!, bz, transB ? 0 : 1)];
  if (bias) {
    // the int32 bias at scale a_scale·b_scale (per column where b's scale is)
    const sa = constant(c, as, 'a scale')[0]!;
    const sb = constant(c, bs, 'b scale');
    const t = constant(c, bias, 'bias C');
    const n = c.shapeOf(bias).at(-1) ?? 1;
    inputs.push(c.e.constant(c.shapeOf(bias), Array.from(t, (v, k) => v * sa * (sb.length > 1 ? sb[k % n]! : sb[0]!))));
  }
  const attrs = { alpha, beta: alpha, transA: num(node.attrs.transA, 0), transB };
  if (!ys) { c.e.node('Gemm', inputs, attrs, [node.outputs[0]!]); return; }
  quantizeTo(c, c.e.node('Gemm', inputs, attrs), ys, yz, node.outputs[0]!);
};

// GatherBlockQuantized (com.microsoft; onnxruntime-genai's 4-bit embeddings): a table quantized in
// blocks along quantize_axis, int4/uint4 (zero point 0 when absent) or 4-bit values packed two a
// uint8 (zero point 8 when absent; zero points packed likewise, per row), gathered along
// gather_axis. The table is a constant: dequantized at compile time, the op is a Gather.
const gatherBlockQuantized: Expansion = (node, c) => {
  const [data, indices, scales, zps] = node.inputs as (string | undefined)[];
  const t = c.constOf(data!);
  if (!t) c.fail(`the quantized table '${data}' is not a constant`);
  const bits = num(node.attrs.bits, 4);
  const packed = t!.dtype === DataType.UINT8;
  if (bits !== 4 || !(packed || t!.dtype === DataType.INT4 || t!.dtype === DataType.UINT4)) c.fail(`a table of element type ${t!.dtype} with bits=${bits} is not supported (supported: int4, uint4, or 4-bit values packed in uint8)`);
  const dims = packed ? [...t!.dims.slice(0, -1), t!.dims.at(-1)! * 2] : t!.dims;
  const q = packed ? unpackRows(t!.data, sizeOf(t!.dims.slice(0, -1)), t!.dims.at(-1)! * 2) : t!.data;
  const l: Layout = { shape: dims, axis: axisIn(c, num(node.attrs.quantize_axis, 1), dims.length), block: num(node.attrs.block_size, 128) };
  const sDims = c.constOf(scales!)?.dims ?? [];
  const s = spreadBlocks(c, constant(c, scales, 'scales'), sDims, 'scales', l);
  let z: ArrayLike<number> = new Float64Array(q.length).fill(packed ? 8 : 0);
  if (zps) {
    const zt = constant(c, zps, 'zero points');
    const zDims = c.constOf(zps)!.dims;
    // packed zero points: ⌈blocks / 2⌉ bytes a row of the scales
    z = packed ? spreadBlocks(c, unpackRows(zt, zt.length / zDims.at(-1)!, sDims.at(-1)!), sDims, 'zero points', l) : spreadBlocks(c, zt, zDims, 'zero points', l);
  }
  const w = c.e.constant(dims, Array.from(q, (v, i) => (v - z[i]!) * s[i]!), undefined, 'table');
  c.e.node('Gather', [w, indices!], { axis: axisIn(c, num(node.attrs.gather_axis, 0), dims.length) }, [node.outputs[0]!]);
};

/** `rows` rows of 4-bit values packed two a byte, the first in the low nibble: `per` values a row. */
function unpackRows(bytes: Float64Array, rows: number, per: number): Float64Array {
  const stride = bytes.length / rows;
  const out = new Float64Array(rows * per);
  for (let r = 0; r < rows; r++) out.set(nibbles(bytes.subarray(r * stride, (r + 1) * stride), per, false), r * per);
  return out;
}

/** DynamicQuantizeLSTM: the LSTM with int8 weights, its X and h quantized as onnxruntime does (recurrent.ts). */
const dynamicQuantizeLstm: Expansion = (node, c) => {
  const [, , , , , , , , ws, wz, rs, rz] = node.inputs as (string | undefined)[];
  const opt = (n: string | undefined, what: string) => (n ? constant(c, n, what) : undefined);
  expandRecurrent(node, c, { ws: constant(c, ws, 'W scale'), wz: opt(wz, 'W zero point'), rs: constant(c, rs, 'R scale'), rz: opt(rz, 'R zero point') });
};

/** The quantized com.microsoft ops (msft.ts's rules). */
export const QUANTIZED_MS: Record<string, Expansion> = {
  // what onnxruntime's older quantizers wrote before the ops reached the default domain
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  MatMulIntegerToFloat: matMulIntegerToFloat,
  DynamicQuantizeMatMul: dynamicQuantizeMatMul,
  MatMulNBits: matMulNBits,
  DynamicQuantizeLSTM: dynamicQuantizeLstm,
  GatherBlockQuantized: gatherBlockQuantized,
  QLinearAdd: qlinearBinary('Add'),
  QLinearMul: qlinearBinary('Mul'),
  QLinearSigmoid: qlinearUnary('Sigmoid'),
  QLinearLeakyRelu: qlinearUnary('LeakyRelu', (node) => ({ alpha: num(node.attrs.alpha, 0.01) })),
  QLinearAveragePool: qlinearUnary('AveragePool', poolAttrs),
  QLinearGlobalAveragePool: qlinearUnary('GlobalAveragePool'),
  QLinearSoftmax: qlinearSoftmax,
  QLinearConcat: qlinearConcat,
  QLinearWhere: qlinearWhere,
  QGemm: qGemm,
};
