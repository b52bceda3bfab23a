// --weights hashed: the weights of the model's layers leave the circuit's constants and become
// private inputs (role 'weight'), committed to by one Poseidon hash that is a public signal. The
// verification key then names an architecture, and the commitment names the weights.
import { createHash } from 'node:crypto';
import { ZkonnxError, nodeLabel } from '../errors.js';
import { sizeOf, type Graph, type Node, type ParamRole, type Tensor, type ValueInfo } from './graph.js';

export interface LiftedWeight {
  name: string;
  shape: number[];
  data: Float64Array;
  /** Only compared with signals (a tree's thresholds): quantized at its own scale, not a kernel's. */
  compared?: true;
}

/** Normalizations whose scale and bias (inputs 1, 2) are lifted: a product an element. */
const NORMS = new Set(['LayerNormalization', 'InstanceNormalization']);
/** Layers whose weights are lifted; an Add right after one lifts its constant operand (a bias). */
const LINEAR = new Set(['Gemm', 'MatMul', 'Conv', 'ConvTranspose']);

/**
 * Moves the weights of Gemm (B, C), MatMul (the constant operand), Conv and ConvTranspose
 * (W, B), the constant operand of an Add right after one of them (its bias), the scale and bias
 * of Layer- and InstanceNormalization, PRelu's slope, and the constants a rewrite named as
 * parameters (Graph.paramRoles: a tree ensemble's thresholds, leaf values and base values, an
 * SVM's support vectors and coefficients; their paths, features, kernel parameters and labels
 * stay public) into graph inputs with role 'weight', in the order the nodes use them. Inference
 * BatchNormalizations are first folded into weights (fuseBatchNorms: the committed weights are
 * the fused ones, as a deployed model's are). Other constants (scalars of Mul/Div/Clip, shapes,
 * axes) are architecture and stay in the circuit; tensors of fractions among them are returned
 * in `baked`.
 */
export function liftWeights(graph: Graph): { graph: Graph; weights: LiftedWeight[]; baked: string[] } {
  const { graph: g, lift: normParams } = fuseBatchNorms(graph);
  const params = new Set(normParams);
  const roles = g.paramRoles ?? new Map<string, ParamRole>();
  const lifted = new Map<string, LiftedWeight>();
  const fromLinear = new Set<string>();
  const lift = (name: string, node: Node) => {
    const t: Tensor | undefined = g.constants.get(name);
    if (!t || lifted.has(name) || roles.get(name) === 'public') return;
    if (t.data.length === 0) throw new ZkonnxError('ONNX_SHAPE', `${nodeLabel(node)}: weight '${name}' is empty`, { node: node.name, op: node.op });
    lifted.set(name, { name, shape: t.dims, data: t.data, ...(roles.get(name) === 'threshold' ? { compared: true as const } : {}) });
  };
  for (const node of g.nodes) {
    const isConst = (i: number) => node.inputs[i] !== undefined && g.constants.has(node.inputs[i]!);
    // what a rewrite named as parameters (a tree's thresholds and leaf values)
    node.inputs.filter((i) => i && roles.has(i) && roles.get(i) !== 'public').forEach((i) => lift(i, node));
    if (LINEAR.has(node.op)) {
      const order = node.op === 'Gemm' ? [1, 2, 0] : node.op === 'MatMul' ? [0, 1] : [1, 2];
      order.filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
      fromLinear.add(node.outputs[0]!);
    } else if (node.op === 'Mul' || (node.op === 'Add' && !node.inputs.some((i) => fromLinear.has(i)))) {
      // a BatchNormalization's committed scale and shift (fuseBatchNorms)
      node.inputs.filter((i) => params.has(i)).forEach((i) => lift(i, node));
    } else if (node.op === 'PRelu') {
      [1].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
    } else if (NORMS.has(node.op)) {
      [1, 2].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
    } else if ((node.op === 'Add' || node.op === 'Sub') && node.inputs.some((i) => fromLinear.has(i))) {
      [0, 1].filter(isConst).forEach((i) => lift(node.inputs[i]!, node));
    } else if (node.op === 'BatchNormalization' && node.inputs.slice(1).some((n) => n && g.constants.has(n))) {
      // what fuseBatchNorms left: training mode, parameters that are not one per channel
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: --weights hashed supports Gemm, MatMul, Conv and ConvTranspose layers (and their bias Add), BatchNormalization, LayerNormalization, InstanceNormalization and PRelu (an inference BatchNormalization with per-channel parameters is folded into a Conv or Gemm next to it, or committed as a scale and shift); this BatchNormalization's parameters would stay in the circuit`, {
        file: g.source, node: node.name, op: node.op, hint: 'use --weights baked for this model',
      });
    }
  }
  if (lifted.size === 0) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${g.source}: --weights hashed found no Gemm, MatMul, Conv, tree ensemble or SVM weights to commit to`, { file: g.source, hint: 'use --weights baked' });
  }
  const constants = new Map(g.constants);
  const inputs: ValueInfo[] = [...g.inputs];
  for (const w of lifted.values()) {
    constants.delete(w.name);
    inputs.push({ name: w.name, shape: w.shape, dtype: 1, role: 'weight', ...(w.compared ? { compared: true as const } : {}) });
  }
  // tensors of fractions that stay constants of the circuit (an embedding table, a per-channel
  // multiplier, a positional bias): the proving key publishes them, the caller says so
  const baked = new Set<string>();
  for (const node of g.nodes) {
    for (const name of node.inputs) {
      const t = name ? constants.get(name) : undefined;
      if (t && t.data.length > 1 && t.data.some((v) => !Number.isInteger(v))) baked.add(name);
    }
  }
  return { graph: { ...g, constants, inputs }, weights: [...lifted.values()], baked: [...baked] };
}

/**
 * Folds each inference BatchNormalization, y = a·x + c per channel with a = scale / √(var + ε)
 * and c = B − mean·a, into weights that --weights hashed commits to:
 *  - backward, into the Conv or Gemm whose output only it reads: W'[m] = a[m]·W[m],
 *    b'[m] = a[m]·b[m] + c[m] (a bias is added where the layer had none);
 *  - forward, into the Gemm that only reads it (through a Flatten): W'[·, j] = W[·, j]·a[ch(j)],
 *    b' = b + W·c (exact: no padding in between, unlike a following Conv's);
 *  - otherwise as a Mul by a and an Add of c, both committed (`lift`): a product an element.
 * Fused tensors keep the layer's names unless another node shares them.
 */
export function fuseBatchNorms(g: Graph): { graph: Graph; lift: string[] } {
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  const producer = new Map<string, number>();
  const consumer = new Map<string, number>();
  g.nodes.forEach((n, k) => {
    for (const o of n.outputs) if (o) producer.set(o, k);
    for (const i of n.inputs) if (i && uses.get(i) === 1) consumer.set(i, k);
  });
  const constants = new Map(g.constants);
  const shapes = new Map(g.shapes);
  const nodes: (Node | Node[] | undefined)[] = [...g.nodes];
  const only = (name: string) => uses.get(name) === 1 && !g.outputs.some((o) => o.name === name);
  const lift: string[] = [];
  g.nodes.forEach((bn, k) => {
    if (bn.op !== 'BatchNormalization' || bn.outputs.slice(1).some((o) => o)) return;
    if (bn.attrs.training_mode === 1 || (bn.attrs.spatial !== undefined && bn.attrs.spatial !== 1)) return;
    const params = bn.inputs.slice(1, 5).map((n) => (n ? constants.get(n) : undefined));
    if (params.some((p) => !p)) return;
    const [scale, shift, mean, vari] = params as Tensor[];
    const M = scale!.data.length;
    if ([shift, mean, vari].some((t) => t!.data.length !== M)) return;
    const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
    const a = Float64Array.from(scale!.data, (v, m) => v / Math.sqrt(vari!.data[m]! + eps));
    const c = Float64Array.from(shift!.data, (b, m) => b - mean!.data[m]! * a[m]!);
    const x = bn.inputs[0]!;
    const y = bn.outputs[0]!;
    // backward: into the layer that made x
    const p = producer.get(x);
    const layer = p === undefined ? undefined : nodes[p];
    if (layer && !Array.isArray(layer) && only(x)) {
      const fused = fuseInto(g, layer, a, c, constants, uses);
      if (fused) {
        nodes[p!] = { ...fused, outputs: [y, ...layer.outputs.slice(1)] };
        nodes[k] = undefined;
        return;
      }
    }
    // forward: into the Gemm that reads y (a Flatten of it)
    const shape = shapes.get(x) ?? [];
    const q = only(y) ? consumer.get(y) : undefined;
    const flat = q === undefined ? undefined : nodes[q];
    let gemmAt = q;
    // a Flatten at axis 1, or a Reshape to [N, C·H·W] (PyTorch's x.view(N, -1)): the same features
    const flattens = (n: Node) => (n.op === 'Flatten' && (n.attrs.axis ?? 1) === 1)
      || (n.op === 'Reshape' && (shapes.get(n.outputs[0]!) ?? []).join() === [shape[0], sizeOf(shape.slice(1))].join());
    if (flat && !Array.isArray(flat) && flattens(flat) && only(flat.outputs[0]!)) gemmAt = consumer.get(flat.outputs[0]!);
    const gemm = gemmAt === undefined ? undefined : nodes[gemmAt];
    if (gemm && !Array.isArray(gemm) && shape.length >= 2 && shape[1] === M) {
      const fused = fuseBefore(gemm, a, c, sizeOf(shape.slice(2)), constants, uses, g);
      if (fused) {
        nodes[gemmAt!] = gemm === flat ? { ...fused, inputs: [x, ...fused.inputs.slice(1)] } : fused;
        if (gemm !== flat) nodes[q!] = { ...(flat as Node), inputs: [x, ...(flat as Node).inputs.slice(1)] };
        nodes[k] = undefined;
        return;
      }
    }
    // otherwise: a committed per-channel scale and shift
    if (shape.length < 2 || shape[1] !== M) return;
    const dims = [M, ...shape.slice(2).map(() => 1)];
    const [aName, cName, ax] = [`${bn.name}:scale`, `${bn.name}:shift`, `${bn.name}:ax`];
    constants.set(aName, { dims, data: a });
    constants.set(cName, { dims, data: c });
    shapes.set(aName, dims); shapes.set(cName, dims); shapes.set(ax, shape);
    lift.push(aName, cName);
    nodes[k] = [
      { name: `${bn.name}:mul`, op: 'Mul', domain: '', inputs: [x, aName], outputs: [ax], attrs: {} },
      { name: `${bn.name}:add`, op: 'Add', domain: '', inputs: [ax, cName], outputs: [y], attrs: {} },
    ];
  });
  if (nodes.every((n, k) => n === g.nodes[k])) return { graph: g, lift };
  for (const [k, t] of constants) if (t !== g.constants.get(k)) shapes.set(k, t.dims);
  return { graph: { ...g, nodes: nodes.flatMap((n) => n ?? []), constants, shapes }, lift };
}

/**
 * The Gemm after a BatchNormalization of C = a.length channels of `inner` elements each (a
 * Flatten's features j, channel ⌊j / inner⌋) with that normalization folded in; undefined where
 * it does not fit.
 */
function fuseBefore(gemm: Node, a: Float64Array, c: Float64Array, inner: number, constants: Map<string, Tensor>, uses: Map<string, number>, g: Graph): Node | undefined {
  if (gemm.op !== 'Gemm' || gemm.attrs.transA === 1) return undefined;
  const B = constants.get(gemm.inputs[1] ?? '');
  const K = a.length * inner;
  const transB = gemm.attrs.transB === 1;
  if (!B || B.dims.length !== 2 || (transB ? B.dims[1] : B.dims[0]) !== K) return undefined;
  const M = transB ? B.dims[0]! : B.dims[1]!;
  const alpha = typeof gemm.attrs.alpha === 'number' ? gemm.attrs.alpha : 1;
  const beta = typeof gemm.attrs.beta === 'number' ? gemm.attrs.beta : 1;
  const C = gemm.inputs[2] ? constants.get(gemm.inputs[2]) : undefined;
  if ((gemm.inputs[2] && !C) || beta === 0 || (C && C.data.length !== 1 && C.data.length !== M)) return undefined;
  const at = (j: number, m: number) => (transB ? m * K + j : j * M + m);
  const W = new Float64Array(B.data.length);
  const bias = Float64Array.from({ length: M }, (_, m) => (C ? C.data[C.data.length === 1 ? 0 : m]! : 0));
  for (let j = 0; j < K; j++) {
    const ch = Math.floor(j / inner);
    for (let m = 0; m < M; m++) {
      W[at(j, m)] = B.data[at(j, m)]! * a[ch]!;
      bias[m] += (alpha / beta) * B.data[at(j, m)]! * c[ch]!;
    }
  }
  const name = (n: string, suffix: string) => (uses.get(n) === 1 && !g.outputs.some((o) => o.name === n) ? n : `${n}${suffix}`);
  const wName = name(gemm.inputs[1]!, `:${gemm.name}`);
  const bName = C ? name(gemm.inputs[2]!, `:${gemm.name}`) : `${gemm.name}:bias`;
  constants.set(wName, { dims: B.dims, data: W });
  constants.set(bName, { dims: [M], data: bias });
  return { ...gemm, inputs: [gemm.inputs[0]!, wName, bName] };
}

/** The layer with its weights scaled by a per output channel and c added to its bias; undefined where it does not fit. */
function fuseInto(g: Graph, layer: Node, a: Float64Array, c: Float64Array, constants: Map<string, Tensor>, uses: Map<string, number>): Node | undefined {
  const M = a.length;
  const W = constants.get(layer.inputs[1] ?? '');
  if (!W || W.dims.length < 2) return undefined;
  // the flat index of W's output channel, and the bias's input slot
  let channel: (i: number) => number;
  if (layer.op === 'Conv') {
    if (W.dims[0] !== M) return undefined;
    const inner = W.data.length / M;
    channel = (i) => Math.floor(i / inner);
  } else if (layer.op === 'Gemm') {
    const transB = layer.attrs.transB === 1;
    if (W.dims.length !== 2 || (transB ? W.dims[0] : W.dims[1]) !== M) return undefined;
    channel = transB ? (i) => Math.floor(i / W.dims[1]!) : (i) => i % M;
  } else return undefined;
  const beta = layer.op === 'Gemm' && typeof layer.attrs.beta === 'number' ? layer.attrs.beta : 1;
  if (beta === 0) return undefined;
  const B = layer.inputs[2] ? constants.get(layer.inputs[2]) : undefined;
  if (layer.inputs[2] && !B) return undefined; // a bias computed from the input
  // the bias per channel: Conv's is [M]; Gemm's C broadcasts to [N, M] (a scalar, [M], [1, M])
  if (B && B.data.length !== 1 && (B.data.length !== M || B.dims[B.dims.length - 1] !== M)) return undefined;
  const bias = Float64Array.from({ length: M }, (_, m) => a[m]! * (B ? B.data[B.data.length === 1 ? 0 : m]! : 0) * beta + c[m]!);
  const name = (n: string, suffix: string) => (uses.get(n) === 1 && !g.outputs.some((o) => o.name === n) ? n : `${n}${suffix}`);
  const wName = name(layer.inputs[1]!, `:${layer.name}`);
  constants.set(wName, { dims: W.dims, data: Float64Array.from(W.data, (w, i) => w * a[channel(i)]!) });
  const bName = B ? name(layer.inputs[2]!, `:${layer.name}`) : `${layer.name}:bias`;
  constants.set(bName, { dims: [M], data: layer.op === 'Gemm' ? bias.map((v) => v / beta) : bias });
  const inputs = [layer.inputs[0]!, wName, bName];
  return { ...layer, inputs };
}

/**
 * The public architecture of a graph whose weights were lifted: every node's op, attributes and
 * operands (graph inputs and committed tensors by position, other constants by their values),
 * so that weights from another model are proven only under the architecture they came from (a
 * retrained tree ensemble has other paths; another CNN may bake other constants). `nodes` holds a
 * short digest per node, to name the first node where two architectures part.
 */
export function architectureOf(g: Graph, weights: LiftedWeight[]): { digest: string; nodes: string[] } {
  const id = new Map<string, string>();
  g.inputs.forEach((v, i) => id.set(v.name, `in${i}:${v.shape}:${v.dtype ?? ''}:${v.role ?? ''}:${v.categories?.join('\u0000') ?? ''}`));
  weights.forEach((w, k) => id.set(w.name, `w${k}:${w.shape}`));
  const hash = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
  const operand = (name: string) => {
    if (!name) return '';
    const known = id.get(name);
    if (known !== undefined) return known;
    const t = g.constants.get(name);
    if (!t) return `?${name}`;
    const c = `c${t.dims}:${hash(new Uint8Array(Float64Array.from(t.data).buffer))}`;
    id.set(name, c);
    return c;
  };
  const attrs = (a: Node['attrs']) => JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]]), (_, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : typeof v === 'bigint' ? v.toString() : v));
  const nodes = g.nodes.map((n, j) => {
    const digest = hash(JSON.stringify([n.op, n.domain, attrs(n.attrs), n.inputs.map(operand), n.outputs.length])).slice(0, 16);
    n.outputs.forEach((o, k) => { if (o) id.set(o, `n${j}.${k}`); });
    return digest;
  });
  return { digest: hash(JSON.stringify([nodes, g.outputs.map((o) => operand(o.name))])), nodes };
}
