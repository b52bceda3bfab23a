// A small GPT written with zkonnx's ONNX writer, shaped as PyTorch exports GPT-2: token embedding
// (Gather of a constant table by int64 ids), learned positions, pre-LayerNorm blocks of causal
// multi-head attention (one QKV projection, Split, per-head Q·Kᵀ and scores·V as batched products
// of signals, a −10⁴ mask above the diagonal, Softmax) and a GELU MLP, a final LayerNorm and
// logits tied to the token embedding. Weights are seeded (Xavier-scaled normals), not trained:
// the model exists to measure what proving a transformer costs and how close the proof stays.
import { rng } from '../../src/random.js';
import type { InitializerSpec, ModelSpec, NodeSpec } from '../../src/onnx/write.js';

export interface GptConfig {
  vocab: number;
  /** tokens per proof (the sequence length the circuit is compiled for) */
  tokens: number;
  d: number;
  heads: number;
  blocks: number;
  /** logits of the last token only (what next-token prediction proves), or of every token */
  lastTokenOnly?: boolean;
  seed?: number;
  /** weights ~ N(0, std²) as GPT-2 initializes them (0.02); default Xavier, N(0, 1/fan_in) */
  std?: number;
}

/** vocab 512, 8 tokens, d 64, 4 heads, 4 blocks: 234k parameters. */
export const GPT_SMALL: GptConfig = { vocab: 512, tokens: 8, d: 64, heads: 4, blocks: 4, lastTokenOnly: true };

export function parameterCount(spec: ModelSpec): number {
  const learned = (n: string) => n === 'wte' || n === 'wpe' || /\.(w|b|g)$/.test(n);
  return spec.initializers.filter((t) => learned(t.name)).reduce((n, t) => n + t.data.length, 0);
}

export function gptSpec(c: GptConfig): ModelSpec {
  const { vocab: V, tokens: T, d, heads: H, blocks } = c;
  if (d % H) throw new Error(`d ${d} is not a multiple of heads ${H}`);
  const hd = d / H;
  const r = rng(c.seed ?? 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const inits: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  const init = (name: string, dims: number[], f: (i: number) => number) => {
    inits.push({ name, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });
    return name;
  };
  const weight = (name: string, dims: number[], fanIn: number) => init(name, dims, () => normal() * (c.std ?? 1 / Math.sqrt(fanIn)));
  const ints = (name: string, v: number[]) => { inits.push({ name, dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) }); return name; };
  const node = (name: string, op: string, inputs: string[], attrs?: NodeSpec['attrs'], outputs = [name]) => {
    nodes.push({ name, op, inputs, outputs, ...(attrs ? { attrs } : {}) });
    return outputs[0]!;
  };

  const wte = weight('wte', [V, d], d / 4);
  const wpe = init('wpe', [1, T, d], () => normal() * 0.3);
  init('mask', [T, T], (i) => (i % T > Math.floor(i / T) ? -1e4 : 0)); // key after query: masked
  init('scale', [], () => 1 / Math.sqrt(hd));
  const heads4 = ints('shape/heads', [1, T, H, hd]);
  const merged = ints('shape/merged', [1, T, d]);
  const qkvSplit = ints('shape/split', [d, d, d]);
  let h = node('/wpe/Add', 'Add', [node('/wte/Gather', 'Gather', [wte, 'input_ids'], { axis: 0 }), wpe]);
  const ln = (p: string, x: string) => node(`${p}/LayerNorm`, 'LayerNormalization', [x, init(`${p}.g`, [d], () => 1 + 0.1 * normal()), init(`${p}.b`, [d], () => 0.1 * normal())], { axis: -1, epsilon: 1e-5 });
  const linear = (p: string, x: string, n: number, m: number) =>
    node(`${p}/Add`, 'Add', [node(`${p}/MatMul`, 'MatMul', [x, weight(`${p}.w`, [n, m], n)]), init(`${p}.b`, [m], () => 0.1 * normal())]);
  for (let b = 0; b < blocks; b++) {
    const p = `/h.${b}`;
    const qkv = linear(`${p}/attn/c_attn`, ln(`${p}/ln_1`, h), d, 3 * d);
    const [q, k, v] = [`${p}/q`, `${p}/k`, `${p}/v`];
    node(`${p}/attn/Split`, 'Split', [qkv, qkvSplit], { axis: -1 }, [q, k, v]);
    const split = (x: string, perm: number[]) => node(`${x}/Transpose`, 'Transpose', [node(`${x}/Reshape`, 'Reshape', [x, heads4])], { perm });
    const scores = node(`${p}/attn/Mul`, 'Mul', [node(`${p}/attn/MatMul`, 'MatMul', [split(q, [0, 2, 1, 3]), split(k, [0, 2, 3, 1])]), 'scale']);
    const probs = node(`${p}/attn/Softmax`, 'Softmax', [node(`${p}/attn/Add`, 'Add', [scores, 'mask'])], { axis: -1 });
    const att = node(`${p}/attn/MatMul_1`, 'MatMul', [probs, split(v, [0, 2, 1, 3])]);
    const joined = node(`${p}/attn/Reshape`, 'Reshape', [node(`${p}/attn/Transpose`, 'Transpose', [att], { perm: [0, 2, 1, 3] }), merged]);
    h = node(`${p}/Add`, 'Add', [h, linear(`${p}/attn/c_proj`, joined, d, d)]);
    const up = node(`${p}/mlp/Gelu`, 'Gelu', [linear(`${p}/mlp/c_fc`, ln(`${p}/ln_2`, h), d, 4 * d)], { approximate: 'tanh' });
    h = node(`${p}/Add_1`, 'Add', [h, linear(`${p}/mlp/c_proj`, up, 4 * d, d)]);
  }
  let f = ln('/ln_f', h);
  if (c.lastTokenOnly) {
    inits.push({ name: 'last', dims: [], data: BigInt64Array.from([BigInt(T - 1)]) });
    f = node('/last/Gather', 'Gather', [f, 'last'], { axis: 1 });
  }
  // tied head: logits = h · wteᵀ
  node('/lm_head/MatMul', 'MatMul', [f, node('/lm_head/Transpose', 'Transpose', [wte], { perm: [1, 0] })], undefined, ['logits']);
  return {
    graphName: 'gpt', producer: 'zkonnx models/gpt', opset: 20,
    inputs: [{ name: 'input_ids', shape: [1, T], type: 'int64' }],
    outputs: [{ name: 'logits', shape: c.lastTokenOnly ? [1, V] : [1, T, V] }],
    initializers: inits, nodes,
  };
}
