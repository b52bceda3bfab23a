// The com.microsoft operators that onnxruntime's optimizers write (fused BERT/GPT-2 graphs, fused
// Conv/Gemm/MatMul), rewritten during shape inference into default-domain ops zkonnx already proves, with
// onnxruntime's CPU semantics (contrib_ops/cpu/bert; onnxruntime-web runs the same kernels):
//
//   Attention, QAttention     x·W + b split into Q, K, V (linear: MatMul, Gather of columns; QAttention's
//                             int8 product scaled back, as dynamic quantization's MatMulInteger),
//                             heads (Reshape, Transpose), past K/V before the current ones (Concat;
//                             `present` stacks them), scores = scale·Q·Kᵀ (+ attention_bias),
//                             masks (below), Softmax, probs·V (MatMul of signals)
//   EmbedLayerNormalization   word[ids] + position[position_ids or 0‥S−1] (+ segment[segment_ids]):
//                             Gather of constant tables; LayerNormalization; mask_index = Σ(mask = 1)
//                             (QEmbedLayerNormalization: its uint8 tables dequantized first)
//   SkipLayerNormalization    LayerNormalization(input + skip + bias); input_skip_bias_sum
//   SkipSimplifiedLayer-      RMS normalization x/√(mean x² + ε)·γ of input + skip + bias, as
//     Normalization           LayerNormalization of [x, −x] (mean 0, variance mean x²) and its
//                             first half: LayerNorm's proven bound on the normalized value carries
//                             over (SimplifiedLayerNormalization, in onnxruntime's default domain,
//                             likewise: expand.ts)
//   FastGelu, BiasGelu,       Gelu (tanh approximation / erf) of x (+ bias); QuickGelu x·σ(αx);
//     Gelu, QuickGelu,        BiasAdd x + bias + skip
//     BiasAdd
//   FusedConv, FusedGemm,     what onnxruntime's graph optimizer saves for Conv (+ Z) and Gemm
//     FusedMatMul             followed by an activation, and MatMul with transposes and a scale
//   CDist                     (sq)euclidean distances between rows: Σ (a − b)² (and its Sqrt)
//   RotaryEmbedding           RoPE as in ONNX opset 23 (rotary.ts), its input [B, S, …] and one
//                             position_ids value read as the first position
//   MatMulIntegerToFloat,     quantized models (qmsft.ts): dynamic quantization's fused matrix
//     DynamicQuantizeMatMul,  products; weight-only 2/4/8-bit MatMulNBits and 4-bit
//     MatMulNBits, Gather-    GatherBlockQuantized; the QOperator form's QLinearAdd, QLinearMul,
//     BlockQuantized, QLinear… QLinearSigmoid, QLinearLeakyRelu, QLinear(Global)AveragePool,
//     QGemm                   QLinearSoftmax, QLinearConcat and QGemm
//
// Attention masks, as onnxruntime's PrepareMask: a raw mask (2-D [batch, total_sequence_length]
// or 3-D [batch, sequence_length, total_sequence_length]) keeps positions where mask > 0 and adds
// mask_filter_value to the others' scores. The mask may be a graph input (int32): `mask > 0` is
// then a comparison in the circuit (any value the input's range check admits gives a proven 0/1),
// and the score a Where between the score and the masked score. A mask_filter_value so large that
// float32 absorbs the score (the optimizer writes −3.4e38, float's lowest) makes every masked
// score the same constant, as it does in onnxruntime; unidirectional (causal) masking, relative to
// the past length, sets future positions to a constant below every masked score (onnxruntime:
// float's lowest). Those constants are moderate numbers (exp of their difference to the row's
// maximum underflows all the same) so that the circuit's bit widths stay small.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { Node } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { broadcastShape } from '../ir/shape.js';
import { num, nums, str, type Expansion, type RewriteContext } from './rewrite.js';
import { rotaryEmbeddingMsft } from './rotary.js';
import { integerProduct } from './qdq.js';
import { QUANTIZED_MS } from './qmsft.js';

export const MS_DOMAIN = 'com.microsoft';

type Rule = (node: Node, c: RewriteContext, source: string) => void;

/** The rewrite of a com.microsoft node (run by shape inference, src/onnx/fold.ts), or an error naming what is supported. */
export function msftExpansion(node: Node, source: string): Expansion {
  const rule = RULES[node.op];
  if (!rule) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: the com.microsoft operator ${node.op} is not supported`, {
      file: source, node: node.name, op: node.op, hint: `supported in com.microsoft: ${Object.keys(RULES).join(', ')}`,
    });
  }
  return (n, c) => rule(n, c, source);
}

/** Float32 absorbs any realistic score into a mask value this large: masked scores are then that one value. */
const ABSORBING = 1e12;
/** The constant a masked score becomes where onnxruntime writes float's lowest (see the header). */
export const LOWEST = -10000;

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const fmt = (s: number[]) => `[${s.join(', ')}]`;
const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function shapeError(node: Node, source: string, msg: string, hint?: string): never {
  throw new ZkonnxError('ONNX_SHAPE', `${nodeLabel(node)}: ${msg}`, { file: source, node: node.name, op: node.op, ...(hint ? { hint } : {}) });
}

/** Refuses outputs the rewrite does not compute. */
function noOutputs(node: Node, c: RewriteContext, which: [number, string][]): void {
  for (const [i, name] of which) if (node.outputs[i]) c.fail(`output ${i} (${name}) is not supported`, 'export without it: zkonnx proves the normalized output (and the input + skip + bias sum)');
}

/** x + y (+ z …), the last Add writing `out` when given. */
function sum(c: RewriteContext, terms: string[], out?: string): string {
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) acc = c.e.node('Add', [acc, terms[i]!], {}, i === terms.length - 1 && out ? [out] : undefined);
  if (terms.length === 1 && out) c.e.node('Identity', [acc], {}, [out]);
  return out ?? acc;
}

/**
 * x/√(mean x² + ε) over axes [axis, rank): LayerNormalization of [x, −x] (concatenated on the last
 * axis: mean 0, variance mean x²), then the first half. `s` is x's shape (x may be a name emitted
 * by this rewrite, whose shape inference has not run yet).
 */
function rmsNorm(c: RewriteContext, x: string, s: number[], axis: number, eps: number): string {
  const r = s.length;
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) c.fail(`axis ${axis} is out of range for an input of rank ${r}`);
  const last = s[r - 1]!;
  const both = c.e.node('Concat', [x, c.e.node('Mul', [x, c.e.constant([], [-1])])], { axis: r - 1 });
  const ln = c.e.node('LayerNormalization', [both, c.e.constant([1], [1])], { axis: a, epsilon: eps });
  return c.e.node('Gather', [ln, c.e.constant([last], range(0, last))], { axis: r - 1 });
}

/** input + skip (+ bias) of the Skip…LayerNormalization ops: skip broadcasts to the input's shape; returns H. */
function checkSkip(c: RewriteContext, x: string, skip: string): number {
  const xs = c.shapeOf(x);
  const ks = c.shapeOf(skip);
  const b = broadcastShape(xs, ks);
  if (!b || !same(b, xs)) c.fail(`skip of shape ${fmt(ks)} does not broadcast to the input's ${fmt(xs)}`);
  return xs[xs.length - 1]!;
}

/** gamma must be a vector of the hidden size. */
function checkVector(c: RewriteContext, name: string | undefined, what: string, H: number): void {
  if (!name) return;
  const s = c.shapeOf(name);
  if (sizeOf(s) !== H || s[s.length - 1] !== H) c.fail(`${what} '${name}' has shape ${fmt(s)}, expected [${H}] (the hidden size)`);
}

/**
 * QAttention (what quantize_dynamic makes of Attention): the input quantized (DynamicQuantizeLinear
 * before it) and int8 weights, x·W = (x − x_zp)·(W − W_zp)·(x_scale·W_scale) (W's per tensor or
 * per column), then Attention's rest in float, as onnxruntime computes it.
 */
function qAttention(node: Node, c: RewriteContext, source: string): void {
  const [X, W, bias, xs, ws, mask, xz, wz, past] = node.inputs;
  const plain = { ...node, inputs: [X ?? '', W ?? '', bias ?? '', mask ?? '', past ?? ''] };
  while (plain.inputs.at(-1) === '') plain.inputs.pop();
  attention(plain, c, source, () => integerProduct(c.e, X!, W!, xs!, ws!, xz, wz));
}

/**
 * QEmbedLayerNormalization (what quantize_dynamic makes of EmbedLayerNormalization): its uint8
 * tables, gamma and beta dequantized at compile time ((q − zero point)·scale, per tensor), then
 * EmbedLayerNormalization.
 */
function qEmbedLayerNorm(node: Node, c: RewriteContext, source: string): void {
  const [ids, seg, word, pos, segEmb, gamma, beta, mask] = node.inputs;
  const [ws, ps, ss, gs, bs, wz, pz, sz, gz, bz] = node.inputs.slice(8);
  const dequantized = (q: string | undefined, scale: string | undefined, zero: string | undefined, what: string) => {
    if (!q) return '';
    const t = c.constOf(q);
    const s = scale ? c.constOf(scale) : undefined;
    const z = zero ? c.constOf(zero) : undefined;
    if (!t || !s || (zero && !z)) c.fail(`the quantized ${what}, its scale and zero point must be constants`);
    if (s!.data.length !== 1 || (z && z.data.length !== 1)) c.fail(`the ${what}'s scale and zero point must be scalars`);
    return c.e.constant(t!.dims, Array.from(t!.data, (v) => (v - (z ? z.data[0]! : 0)) * s!.data[0]!), undefined, what.replace(' ', '_'));
  };
  const inputs = [ids ?? '', seg ?? '', dequantized(word, ws, wz, 'word embedding'), dequantized(pos, ps, pz, 'position embedding'),
    dequantized(segEmb, ss, sz, 'segment embedding'), dequantized(gamma, gs, gz, 'gamma'), dequantized(beta, bs, bz, 'beta'), mask ?? ''];
  while (inputs.at(-1) === '') inputs.pop();
  RULES.EmbedLayerNormalization!({ ...node, op: 'EmbedLayerNormalization', inputs }, c, source);
}

const RULES: Record<string, Rule> = {
  Attention: attention,

  EmbedLayerNormalization(node, c, source) {
    const { e } = c;
    const [ids, seg, wordEmb, posEmb, segEmb, gamma, beta, mask, posIds] = node.inputs;
    if (!ids || !wordEmb || !posEmb || !gamma || !beta) c.fail('input_ids, word_embedding, position_embedding, gamma and beta are required');
    const is = c.shapeOf(ids!);
    if (is.length !== 2) shapeError(node, source, `input_ids has shape ${fmt(is)}, expected [batch, sequence_length]`);
    const [B, S] = is as [number, number];
    const ws = c.shapeOf(wordEmb!);
    if (ws.length !== 2) c.fail(`word_embedding has shape ${fmt(ws)}, expected [vocab_size, hidden_size]`);
    const H = ws[1]!;
    const ps = c.shapeOf(posEmb!);
    if (ps.length !== 2 || ps[1] !== H) c.fail(`position_embedding has shape ${fmt(ps)}, expected [max_positions, ${H}]`);
    if (!!seg !== !!segEmb) c.fail('segment_ids and segment_embedding must be given together');
    checkVector(c, gamma, 'gamma', H);
    checkVector(c, beta, 'beta', H);
    const terms = [e.node('Gather', [wordEmb!, ids!], { axis: 0 })];
    if (posIds) {
      const s = c.shapeOf(posIds);
      if (!same(s, [B, S]) && !same(s, [1, S])) shapeError(node, source, `position_ids has shape ${fmt(s)}, expected [${B}, ${S}] or [1, ${S}] (as input_ids ${fmt(is)})`);
      terms.push(e.node('Gather', [posEmb!, posIds], { axis: 0 }));
    } else {
      if (S > ps[0]!) shapeError(node, source, `sequence_length ${S} exceeds the ${ps[0]} positions of position_embedding`);
      terms.push(e.node('Gather', [posEmb!, e.constant([S], range(0, S))], { axis: 0 }));
    }
    if (seg) {
      const s = c.shapeOf(seg);
      if (!same(s, is)) shapeError(node, source, `segment_ids has shape ${fmt(s)}, expected ${fmt(is)} (as input_ids)`);
      const ss = c.shapeOf(segEmb!);
      if (ss.length !== 2 || ss[1] !== H) c.fail(`segment_embedding has shape ${fmt(ss)}, expected [segments, ${H}]`);
      terms.push(e.node('Gather', [segEmb!, seg], { axis: 0 }));
    }
    const [out, maskIndex, embSum] = node.outputs;
    const x = sum(c, terms, embSum || undefined);
    e.node('LayerNormalization', [x, gamma!, beta!], { axis: -1, epsilon: num(node.attrs.epsilon, 1e-12) }, [out!]);
    if (maskIndex) {
      // onnxruntime: the number of mask entries equal to 1 per sequence (0 without a mask)
      if (mask) {
        const ms = c.shapeOf(mask);
        if (!same(ms, is)) shapeError(node, source, `mask has shape ${fmt(ms)}, expected ${fmt(is)} (as input_ids)`);
        const ones = e.node('Cast', [e.node('Equal', [mask, e.constant([], [1])])], { to: 1 });
        const n = e.node('MatMul', [ones, e.constant([S, 1], new Array<number>(S).fill(1))]);
        e.node('Reshape', [n, e.constant([1], [B])], {}, [maskIndex]);
      } else {
        e.node('Identity', [e.constant([B], new Array<number>(B).fill(0))], {}, [maskIndex]);
      }
    }
  },

  SkipLayerNormalization(node, c) {
    const [x, skip, gamma, beta, bias] = node.inputs;
    noOutputs(node, c, [[1, 'mean'], [2, 'inv_std_var']]);
    const H = checkSkip(c, x!, skip!);
    checkVector(c, gamma, 'gamma', H);
    checkVector(c, beta, 'beta', H);
    checkVector(c, bias, 'bias', H);
    const s = sum(c, [x!, skip!, ...(bias ? [bias] : [])], node.outputs[3] || undefined);
    c.e.node('LayerNormalization', [s, gamma!, ...(beta ? [beta] : [])], { axis: -1, epsilon: num(node.attrs.epsilon, 1e-12) }, [node.outputs[0]!]);
  },

  SkipSimplifiedLayerNormalization(node, c) {
    const [x, skip, gamma, bias] = node.inputs;
    noOutputs(node, c, [[1, 'mean'], [2, 'inv_std_var']]);
    const H = checkSkip(c, x!, skip!);
    checkVector(c, gamma, 'gamma', H);
    checkVector(c, bias, 'bias', H);
    const s = sum(c, [x!, skip!, ...(bias ? [bias] : [])], node.outputs[3] || undefined);
    c.e.node('Mul', [rmsNorm(c, s, c.shapeOf(x!), -1, num(node.attrs.epsilon, 1e-12)), gamma!], {}, [node.outputs[0]!]);
  },

  FastGelu(node, c) {
    const [x, bias] = node.inputs;
    c.e.node('Gelu', [bias ? c.e.node('Add', [x!, bias]) : x!], { approximate: 'tanh' }, [node.outputs[0]!]);
  },

  BiasGelu(node, c) {
    const [x, bias] = node.inputs;
    c.e.node('Gelu', [c.e.node('Add', [x!, bias!])], { approximate: 'none' }, [node.outputs[0]!]);
  },

  Gelu(node, c) {
    c.e.node('Gelu', [node.inputs[0]!], { approximate: 'none' }, [node.outputs[0]!]);
  },

  QuickGelu(node, c) {
    const x = node.inputs[0]!;
    const alpha = num(node.attrs.alpha, 1.702);
    const gate = c.e.node('Sigmoid', [alpha === 1 ? x : c.e.node('Mul', [x, c.e.constant([], [alpha])])]);
    c.e.node('Mul', [x, gate], {}, [node.outputs[0]!]);
  },

  /** Conv (+ Z) then an activation: onnxruntime's Conv fusion (FusedConv with activation_params). */
  FusedConv(node, c) {
    const [x, w, b, z] = node.inputs;
    const { activation, activation_params: params, ...conv } = node.attrs;
    const p = nums(params);
    let y = c.e.node('Conv', [x!, w!, ...(b ? [b] : [])], conv);
    if (z) y = c.e.node('Add', [y, z]);
    const act = typeof activation === 'string' ? activation : '';
    const attrs: Record<string, number> = act === 'LeakyRelu' ? { alpha: p[0] ?? 0.01 } : act === 'HardSigmoid' ? { alpha: p[0] ?? 0.2, beta: p[1] ?? 0.5 } : {};
    if (act === 'Clip') {
      if (p.length !== 2) c.fail(`Clip takes activation_params [min, max], got [${p}]`);
      y = c.e.node('Max', [y, c.e.constant([], [p[0]!])]);
      c.e.node('Min', [y, c.e.constant([], [p[1]!])], {}, [node.outputs[0]!]);
      return;
    }
    activate(node, c, y, act, attrs, ['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'HardSigmoid', 'Clip']);
  },

  /** Gemm then an activation whose attributes are the node's activation_* (FusedGemm). */
  FusedGemm(node, c) {
    const a = node.attrs;
    const { transA = 0, transB = 0, alpha = 1, beta = 1 } = a as Record<string, number>;
    const y = c.e.node('Gemm', node.inputs.filter(Boolean), { transA, transB, alpha, beta });
    const act = typeof a.activation === 'string' ? a.activation : '';
    const actAttrs: Record<string, number> = {};
    for (const k of ['alpha', 'beta', 'gamma']) if (typeof a[`activation_${k}`] === 'number') actAttrs[k] = a[`activation_${k}`] as number;
    activate(node, c, y, act, actAttrs, ['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'HardSigmoid', 'Elu', 'Selu', 'Softplus', 'ThresholdedRelu']);
  },

  /** alpha · op(A) · op(B), op transposing the last two axes where transA / transB (FusedMatMul). */
  FusedMatMul(node, c) {
    const a = node.attrs;
    if (num(a.transBatchA, 0) || num(a.transBatchB, 0)) c.fail('transBatchA / transBatchB are not supported', 'onnxruntime writes them only for some batched layouts');
    const op = (t: string, flag: string) => {
      if (!num(a[flag], 0)) return t;
      const r = c.shapeOf(t).length;
      if (r < 2) c.fail(`${flag} on an input of rank ${r}`);
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return c.e.node('Transpose', [t], { perm });
    };
    const [x, y] = node.inputs as [string, string];
    const alpha = num(a.alpha, 1);
    const prod = c.e.node('MatMul', [op(x, 'transA'), op(y, 'transB')], {}, alpha === 1 ? [node.outputs[0]!] : undefined);
    if (alpha !== 1) c.e.node('Mul', [prod, c.e.constant([], [alpha])], {}, [node.outputs[0]!]);
  },

  BiasAdd(node, c) {
    const [x, bias, skip] = node.inputs;
    sum(c, [x!, bias!, skip!], node.outputs[0]!);
  },

  /** Distances between the rows of A [N, K] and B [M, K] (sklearn-onnx's cdist with optim='cdist'). */
  CDist(node, c) {
    const [a, b] = node.inputs as [string, string];
    const metric = str(node.attrs.metric, 'sqeuclidean');
    if (metric !== 'sqeuclidean' && metric !== 'euclidean') c.fail(`metric ${metric} is not supported (supported: sqeuclidean, euclidean, as onnxruntime)`);
    const [sa, sb] = [c.shapeOf(a), c.shapeOf(b)];
    if (sa.length !== 2 || sb.length !== 2 || sa[1] !== sb[1]) c.fail(`A ${fmt(sa)} and B ${fmt(sb)} must be matrices with the same number of columns`);
    const { e } = c;
    const d = e.node('Sub', [e.node('Unsqueeze', [a, e.constant([1], [1])]), e.node('Unsqueeze', [b, e.constant([1], [0])])]); // [N, M, K]
    const sq = e.node('ReduceSumSquare', [d], { axes: [2], keepdims: 0 }, metric === 'sqeuclidean' ? [node.outputs[0]!] : undefined);
    if (metric === 'euclidean') e.node('Sqrt', [sq], {}, [node.outputs[0]!]);
  },

  RotaryEmbedding: (node, c) => rotaryEmbeddingMsft(node, c),
  // quantized ops (quantize_dynamic's and the QOperator form's)
  QAttention: qAttention,
  QEmbedLayerNormalization: qEmbedLayerNorm,
  ...Object.fromEntries(Object.entries(QUANTIZED_MS).map(([op, rule]) => [op, (node: Node, c: RewriteContext) => { rule(node, c); }])),
};

/** y through the fused activation `act` (none: y itself) into the node's output. */
function activate(node: Node, c: RewriteContext, y: string, act: string, attrs: Record<string, number>, supported: string[]): void {
  if (!act) { c.e.node('Identity', [y], {}, [node.outputs[0]!]); return; }
  if (!supported.includes(act)) c.fail(`activation ${act} is not supported (supported: ${supported.join(', ')})`);
  c.e.node(act, [y], attrs, [node.outputs[0]!]);
}

/** SimplifiedLayerNormalization (onnxruntime registers it in the default domain: expand.ts): RMS normalization. */
export function simplifiedLayerNorm(node: Node, c: RewriteContext): void {
  noOutputs(node, c, [[1, 'inv_std_var']]);
  const [x, gamma] = node.inputs;
  const y = rmsNorm(c, x!, c.shapeOf(x!), num(node.attrs.axis, -1), num(node.attrs.epsilon, 1e-5));
  c.e.node('Mul', [y, gamma!], {}, [node.outputs[0]!]);
}

/**
 * com.microsoft Attention (see the header). `project`, where given, computes x·W itself (QAttention:
 * the integer product of the quantized input and weights, scaled back).
 */
function attention(node: Node, c: RewriteContext, source: string, project?: () => string): void {
  const { e, fail } = c;
  const [X, W, bias, mask, past, attnBias, pastLen] = node.inputs;
  if (num(node.attrs.do_rotary, 0) !== 0) fail('do_rotary=1 (rotary position embeddings) is not supported');
  if (num(node.attrs.past_present_share_buffer, 0) !== 0 || pastLen) fail('past_present_share_buffer (a shared KV buffer with past_sequence_length) is not supported', 'export with separate past and present');
  const N = num(node.attrs.num_heads, 0);
  if (!(N >= 1)) fail('num_heads is missing');
  const xs = c.shapeOf(X!);
  if (xs.length !== 3) shapeError(node, source, `input has shape ${fmt(xs)}, expected [batch, sequence_length, input_hidden_size]`);
  const [B, S, Din] = xs as [number, number, number];
  const ws = c.shapeOf(W!);
  if (ws.length !== 2 || ws[0] !== Din) shapeError(node, source, `weights have shape ${fmt(ws)}, expected [${Din}, 3·hidden_size] (input_hidden_size ${Din} from input ${fmt(xs)})`);
  const listed = nums(node.attrs.qkv_hidden_sizes);
  if (listed.length && listed.length !== 3) fail(`qkv_hidden_sizes has ${listed.length} values, expected 3`);
  const [D, Dk, Dv] = (listed.length ? listed : [ws[1]! / 3, ws[1]! / 3, ws[1]! / 3]) as [number, number, number];
  if (D !== Dk) fail(`Q and K hidden sizes differ (${D}, ${Dk})`);
  if (D + Dk + Dv !== ws[1] || !Number.isInteger(D) || !Number.isInteger(Dv)) shapeError(node, source, `weights have ${ws[1]} columns, not the Q, K, V hidden sizes ${listed.length ? `${fmt(listed)}` : 'hidden_size × 3'}`);
  if (D % N || Dv % N) fail(`hidden sizes ${D} (Q, K) and ${Dv} (V) must be multiples of num_heads ${N}`);
  const h = D / N;
  const hv = Dv / N;
  if (bias && !same(c.shapeOf(bias), [D + Dk + Dv])) shapeError(node, source, `bias has shape ${fmt(c.shapeOf(bias))}, expected [${D + Dk + Dv}]`);

  // Q, K, V as [B, N, S, head]: all linear
  let qkv = project ? project() : e.node('MatMul', [X!, W!]);
  if (bias) qkv = e.node('Add', [qkv, bias]);
  const heads = (from: number, width: number, hd: number) => {
    const part = e.node('Gather', [qkv, e.constant([width], range(from, width))], { axis: 2 });
    return e.node('Transpose', [e.node('Reshape', [part, e.constant([4], [B, S, N, hd])])], { perm: [0, 2, 1, 3] });
  };
  const Q = heads(0, D, h);
  let K = heads(D, D, h);
  let V = heads(2 * D, Dv, hv);

  // past [2, B, N, P, head]: before the current keys and values
  let P = 0;
  if (past) {
    const ps = c.shapeOf(past);
    if (D !== Dv) fail('with past state, the Q, K and V hidden sizes must be equal (onnxruntime)');
    if (ps.length !== 5 || ps[0] !== 2 || ps[1] !== B || ps[2] !== N || ps[4] !== h) {
      shapeError(node, source, `past has shape ${fmt(ps)}, expected [2, batch ${B}, num_heads ${N}, past_sequence_length, head_size ${h}]`);
    }
    P = ps[3]!;
    const half = (k: number) => e.node('Gather', [past, e.constant([], [k])], { axis: 0 });
    K = e.node('Concat', [half(0), K], { axis: 2 });
    V = e.node('Concat', [half(1), V], { axis: 2 });
  }
  const T = P + S;
  const present = node.outputs[1];
  if (present) {
    if (h !== hv) fail('output present needs K and V of one head size');
    const stack = (t: string) => e.node('Reshape', [t, e.constant([5], [1, B, N, T, h])]);
    e.node('Concat', [stack(K), stack(V)], { axis: 0 }, [present]);
  }

  // scores [B, N, S, T] = scale·Q·Kᵀ (+ attention_bias)
  const scale = num(node.attrs.scale, 0) || 1 / Math.sqrt(h);
  let scores = e.node('Mul', [e.node('MatMul', [Q, e.node('Transpose', [K], { perm: [0, 1, 3, 2] })]), e.constant([], [scale])]);
  if (attnBias) {
    const bs = c.shapeOf(attnBias);
    if (bs.length !== 4 || (bs[0] !== B && bs[0] !== 1) || (bs[1] !== N && bs[1] !== 1) || bs[2] !== S || bs[3] !== T) {
      shapeError(node, source, `attention_bias has shape ${fmt(bs)}, expected [${B} or 1, ${N} or 1, ${S}, ${T}] (total_sequence_length ${T} = past ${P} + sequence ${S})`);
    }
    scores = e.node('Add', [scores, attnBias]);
  }

  const filter = num(node.attrs.mask_filter_value, -10000);
  const absorbing = Math.abs(filter) >= ABSORBING;
  // below every masked score: onnxruntime's float lowest, for causal masking
  const lowest = absorbing ? LOWEST : -(2 * Math.abs(filter) + 10000);
  if (mask) {
    const ms = c.shapeOf(mask);
    const totals = `total_sequence_length ${T} = past_sequence_length ${P}${past ? ` (past ${fmt(c.shapeOf(past))})` : ''} + sequence_length ${S} (input ${fmt(xs)})`;
    let shape4: number[] | undefined;
    if (ms.length === 2 && ms[1] === 1 && (ms[0] === B || ms[0] === 1)) shape4 = undefined; // a dummy mask: onnxruntime ignores it
    else if (ms.length === 2) {
      if (ms[0] !== B || ms[1] !== T) shapeError(node, source, `mask_index has shape ${fmt(ms)}, expected [${B}, ${T}]: ${totals}`, 'give consistent sizes to the symbolic dimensions (compile --dim), e.g. total = past + sequence');
      shape4 = [B, 1, 1, T];
    } else if (ms.length === 3) {
      if (ms[0] !== B || ms[1] !== S || ms[2] !== T) shapeError(node, source, `mask_index has shape ${fmt(ms)}, expected [${B}, ${S}, ${T}]: ${totals}`, 'give consistent sizes to the symbolic dimensions (compile --dim), e.g. total = past + sequence');
      shape4 = [B, 1, S, T];
    } else {
      const what = ms.length === 1 ? 'sequence end (and start) positions' : ms.length === 4 ? 'a 4-D (Megatron) mask' : `rank ${ms.length}`;
      fail(`mask_index of shape ${fmt(ms)} (${what}) is not supported`, 'supported: a 0/1 attention mask of shape [batch, total_sequence_length] or [batch, sequence_length, total_sequence_length], or none');
    }
    if (shape4) {
      const keep = e.node('Reshape', [e.node('Greater', [mask, e.constant([], [0])]), e.constant([4], shape4)]);
      const masked = absorbing ? e.constant([], [LOWEST]) : e.node('Add', [scores, e.constant([], [filter])]);
      scores = e.node('Where', [keep, scores, masked]);
    }
  }
  if (num(node.attrs.unidirectional, 0) !== 0 && S > 1) {
    // query s sees keys 0 … P + s
    const keep = Array.from({ length: S * T }, (_, i) => (i % T <= P + Math.floor(i / T) ? 1 : 0));
    scores = e.node('Where', [e.constant([S, T], keep), scores, e.constant([], [lowest])]);
  }
  const probs = e.node('Softmax', [scores], { axis: -1 });
  const ctx = e.node('Transpose', [e.node('MatMul', [probs, V])], { perm: [0, 2, 1, 3] });
  e.node('Reshape', [ctx, e.constant([3], [B, S, Dv])], {}, [node.outputs[0]!]);
}
