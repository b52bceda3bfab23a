// Quantized variants of float ONNX models, written the way onnxruntime's quantization tools write
// them, so that the pipeline runs on the forms people publish (benchmarks/quantized.ts, and the
// realworld test):
//
//   dynamic  quantize_dynamic (defaults: int8 weights, symmetric, per tensor; op types MatMul,
//            Conv and LSTM): DynamicQuantizeLinear of the input → MatMulInteger / ConvInteger with
//            the int8 weights → Cast → Mul by (input scale · weight scale) (→ Add of the Conv's
//            bias, reshaped to [1, C, 1, …]); an LSTM becomes com.microsoft DynamicQuantizeLSTM
//            (W and R transposed to [D, I, 4H] and [D, H, 4H], one scale per direction), a fused
//            com.microsoft Attention DynamicQuantizeLinear → QAttention
//   nbits4   MatMul4BitsQuantizer (onnxruntime-genai's 4-bit weights): each MatMul by a constant
//            [K, N] becomes MatMulNBits, blocks of 32 along K, asymmetric uint4 per block and
//            column with packed zero points
//
// Only nodes whose weight is an initializer change (as with onnxruntime's tools); the rest of the
// graph, its inputs and outputs stay as they are.
import { dirname } from 'node:path';
import { decodeTensor } from '../src/onnx/decode.js';
import { DataType, ModelProto } from '../src/onnx/schema.js';

export type Variant = 'dynamic' | 'nbits4';

/* eslint-disable @typescript-eslint/no-explicit-any -- protobuf message objects */
type Msg = any;

/** The model file's bytes with its MatMul (and, dynamic, Conv) layers quantized. */
export function quantizeModel(bytes: Uint8Array, file: string, variant: Variant): { bytes: Uint8Array; quantized: number } {
  const model: Msg = ModelProto.decode(bytes);
  const g = model.graph;
  const inits = new Map<string, Msg>(g.initializer.map((t: Msg) => [t.name, t]));
  const floats = (name: string) => {
    const t = inits.get(name);
    if (!t || (t.data_type ?? DataType.FLOAT) !== DataType.FLOAT) return undefined;
    return decodeTensor(t, dirname(file), file);
  };
  const nodes: Msg[] = [];
  let quantized = 0;
  for (const n of g.node) {
    if (variant === 'dynamic' && (n.domain ?? '') === '' && n.op_type === 'LSTM') {
      const [W, R] = [floats(n.input[1]), floats(n.input[2])];
      if (W && R) {
        const added = lstmLayer(n, `${n.name || n.output[0]}_quant`, W, R);
        nodes.push(...added.nodes);
        g.initializer.push(...added.inits);
        quantized++;
        continue;
      }
    }
    if (variant === 'dynamic' && n.domain === 'com.microsoft' && n.op_type === 'Attention' && n.input.length <= 5) {
      const W = floats(n.input[1]);
      if (W) {
        const added = attentionLayer(n, `${n.name || n.output[0]}_quant`, W);
        nodes.push(...added.nodes);
        g.initializer.push(...added.inits);
        quantized++;
        continue;
      }
    }
    const w = (n.domain ?? '') === '' && (n.op_type === 'MatMul' || (variant === 'dynamic' && n.op_type === 'Conv')) ? floats(n.input[1]) : undefined;
    if (!w || (n.op_type === 'MatMul' && w.dims.length !== 2)) { nodes.push(n); continue; }
    const p = `${n.name || n.output[0]}_quant`;
    const added = variant === 'dynamic' ? dynamicLayer(n, p, w) : nbitsLayer(n, p, w);
    nodes.push(...added.nodes);
    g.initializer.push(...added.inits);
    quantized++;
  }
  g.node = nodes;
  if (!model.opset_import.some((o: Msg) => o.domain === 'com.microsoft') && nodes.some((n) => n.domain === 'com.microsoft')) model.opset_import.push({ domain: 'com.microsoft', version: 1 });
  // DynamicQuantizeLinear is opset 11: onnxruntime's quantizer raises an older model's opset number
  // (the ops it has keep their meaning through 11 in the models quantized here)
  const ai = model.opset_import.find((o: Msg) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (variant === 'dynamic' && quantized > 0 && Number(ai.version) < 11) ai.version = 11;
  return { bytes: ModelProto.encode(model).finish(), quantized };
}

const f32 = (name: string, dims: number[], v: ArrayLike<number>) => ({ name, dims, data_type: DataType.FLOAT, raw_data: new Uint8Array(Float32Array.from(v).buffer) });
const i8 = (name: string, dims: number[], v: ArrayLike<number>) => ({ name, dims, data_type: DataType.INT8, raw_data: new Uint8Array(Int8Array.from(v).buffer) });
const u8 = (name: string, dims: number[], v: ArrayLike<number>) => ({ name, dims, data_type: DataType.UINT8, raw_data: Uint8Array.from(v) });
const i64 = (name: string, dims: number[], v: number[]) => ({ name, dims, data_type: DataType.INT64, raw_data: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
const node = (name: string, op: string, input: string[], output: string[], attribute: Msg[] = [], domain = '') => ({ name, op_type: op, domain, input, output, attribute });
const INT = 2;

/** quantize_dynamic's MatMul/Conv: int8 weights, symmetric, one scale for the tensor. */
function dynamicLayer(n: Msg, p: string, w: { dims: number[]; data: Float64Array }): { nodes: Msg[]; inits: Msg[] } {
  const absmax = w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = Math.fround(absmax > 0 ? absmax / 127 : 1);
  const q = Array.from(w.data, (v) => Math.max(-127, Math.min(127, Math.round(v / scale))));
  const inits: Msg[] = [i8(`${p}_W`, w.dims, q), f32(`${p}_ws`, [], [scale])];
  const conv = n.op_type === 'Conv';
  const out = n.output[0];
  const nodes: Msg[] = [
    node(`${p}/dql`, 'DynamicQuantizeLinear', [n.input[0]], [`${p}_xq`, `${p}_xs`, `${p}_xz`]),
    node(`${p}/int`, conv ? 'ConvInteger' : 'MatMulInteger', [`${p}_xq`, `${p}_W`, `${p}_xz`], [`${p}_acc`], conv ? n.attribute : []),
    node(`${p}/cast`, 'Cast', [`${p}_acc`], [`${p}_accf`], [{ name: 'to', type: INT, i: DataType.FLOAT }]),
    node(`${p}/scales`, 'Mul', [`${p}_xs`, `${p}_ws`], [`${p}_s`]),
  ];
  const bias = conv && n.input[2] ? n.input[2] : undefined;
  nodes.push(node(`${p}/scale`, 'Mul', [`${p}_accf`, `${p}_s`], [bias ? `${p}_y` : out]));
  if (bias) {
    // the bias [C] reshaped to broadcast over the output's channels
    inits.push(i64(`${p}_bshape`, [w.dims.length], [1, w.dims[0]!, ...new Array<number>(w.dims.length - 2).fill(1)]));
    nodes.push(node(`${p}/bshape`, 'Reshape', [bias, `${p}_bshape`], [`${p}_b`]), node(`${p}/bias`, 'Add', [`${p}_y`, `${p}_b`], [out]));
  }
  return { nodes, inits };
}

const BLOCK = 32;

/** MatMul4BitsQuantizer's MatMulNBits: uint4 blocks of 32 along K, per block and column, packed zero points. */
function nbitsLayer(n: Msg, p: string, w: { dims: number[]; data: Float64Array }): { nodes: Msg[]; inits: Msg[] } {
  const [K, N] = w.dims as [number, number];
  const blocks = Math.ceil(K / BLOCK);
  const B = new Uint8Array(N * blocks * (BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  const zpBytes = Math.ceil(blocks / 2);
  const zps = new Uint8Array(N * zpBytes);
  for (let c = 0; c < N; c++) {
    for (let b = 0; b < blocks; b++) {
      const ks = Array.from({ length: Math.min(BLOCK, K - b * BLOCK) }, (_, i) => b * BLOCK + i);
      const lo = Math.min(0, ...ks.map((k) => w.data[k * N + c]!));
      const hi = Math.max(0, ...ks.map((k) => w.data[k * N + c]!));
      const s = Math.fround(hi > lo ? (hi - lo) / 15 : 1);
      const zp = Math.max(0, Math.min(15, Math.round(-lo / s)));
      scales[c * blocks + b] = s;
      zps[c * zpBytes + (b >> 1)]! |= zp << ((b & 1) * 4);
      for (let i = 0; i < BLOCK; i++) {
        const k = b * BLOCK + i;
        const q = k < K ? Math.max(0, Math.min(15, Math.round(w.data[k * N + c]! / s) + zp)) : zp;
        const at = (c * blocks + b) * BLOCK + i;
        B[at >> 1]! |= q << ((at & 1) * 4);
      }
    }
  }
  const attrs = [['K', K], ['N', N], ['bits', 4], ['block_size', BLOCK]].map(([name, i]) => ({ name, type: INT, i }));
  return {
    inits: [u8(`${p}_B`, [N, blocks, BLOCK / 2], B), f32(`${p}_scales`, [N * blocks], scales), u8(`${p}_zp`, [N * zpBytes], zps)],
    nodes: [node(`${p}/nbits`, 'MatMulNBits', [n.input[0], `${p}_B`, `${p}_scales`, `${p}_zp`], [n.output[0]], attrs, 'com.microsoft')],
  };
}

/** quantize_dynamic's LSTM: DynamicQuantizeLSTM, W and R int8 transposed, one symmetric scale per direction. */
function lstmLayer(n: Msg, p: string, W: { dims: number[]; data: Float64Array }, R: { dims: number[]; data: Float64Array }): { nodes: Msg[]; inits: Msg[] } {
  const [D, G4] = W.dims as [number, number, number];
  const quant = (t: { dims: number[]; data: Float64Array }, name: string) => {
    const cols = t.dims[2]!;
    const per = G4 * cols;
    const scales = Array.from({ length: D }, (_, d) => {
      const absmax = t.data.subarray(d * per, (d + 1) * per).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      return Math.fround(absmax > 0 ? absmax / 127 : 1);
    });
    // [D, 4H, cols] → [D, cols, 4H]
    const q = new Array<number>(D * per);
    for (let d = 0; d < D; d++) for (let g = 0; g < G4; g++) for (let k = 0; k < cols; k++) q[(d * cols + k) * G4 + g] = Math.max(-127, Math.min(127, Math.round(t.data[(d * G4 + g) * cols + k]! / scales[d]!)));
    return [i8(`${p}_${name}`, [D, cols, G4], q), f32(`${p}_${name}s`, [D], scales), i8(`${p}_${name}z`, [D], new Array<number>(D).fill(0))];
  };
  const inputs = [n.input[0], `${p}_W`, `${p}_R`, ...Array.from({ length: 5 }, (_, i) => n.input[3 + i] ?? ''), `${p}_Ws`, `${p}_Wz`, `${p}_Rs`, `${p}_Rz`];
  return {
    inits: [...quant(W, 'W'), ...quant(R, 'R')],
    nodes: [node(`${p}/lstm`, 'DynamicQuantizeLSTM', inputs, n.output, n.attribute.filter((a: Msg) => a.name !== 'layout'), 'com.microsoft')],
  };
}

/** quantize_dynamic's fused Attention: the input quantized, QAttention with int8 weights (one scale). */
function attentionLayer(n: Msg, p: string, W: { dims: number[]; data: Float64Array }): { nodes: Msg[]; inits: Msg[] } {
  const absmax = W.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = Math.fround(absmax > 0 ? absmax / 127 : 1);
  const [x, , bias, mask, past] = [...n.input, '', '', '', '', ''] as string[];
  return {
    inits: [i8(`${p}_W`, W.dims, Array.from(W.data, (v) => Math.max(-127, Math.min(127, Math.round(v / scale))))), f32(`${p}_ws`, [], [scale]), i8(`${p}_wz`, [], [0])],
    nodes: [
      node(`${p}/dql`, 'DynamicQuantizeLinear', [x], [`${p}_xq`, `${p}_xs`, `${p}_xz`]),
      node(`${p}/attn`, 'QAttention', [`${p}_xq`, `${p}_W`, bias, `${p}_xs`, `${p}_ws`, mask, `${p}_xz`, `${p}_wz`, past].map((v) => v ?? ''), n.output, n.attribute, 'com.microsoft'),
    ],
  };
}
