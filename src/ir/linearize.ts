// Graph → AffineGraph. Every linear op on signals (Gemm, MatMul, Add, Sub, Mul/Div by constants,
// reshapes) is folded symbolically into affine expressions over the materialized values; only
// the non-linear ops become values of their own. Linear algebra thus costs no constraint.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { AffineGraph, AffineOutput, Graph, LinExpr, Node } from './graph.js';
import { SIGNAL_OPS } from '../onnx/fold.js';
import { applyLinear } from './ops/linear.js';
import type { Arg, OpContext, Tens } from './ops/types.js';
import { LIN, isSimple } from './affine.js';
import { fuseRelu, lowerNonlinear, ValueBuilder, evalAct } from './nonlinear.js';

export function linearize(g: Graph): AffineGraph {
  const vb = new ValueBuilder();
  const syms = new Map<string, Tens<LinExpr>>();
  g.inputs.forEach((v, i) => syms.set(v.name, vb.input(v, i)));
  // the last node that reads each tensor (graph outputs: never dead), and the node that made each act
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, j) => n.inputs.forEach((i) => { if (i) lastUse.set(i, j); }));
  for (const o of g.outputs) lastUse.set(o.name, Infinity);
  const actNode: number[] = [];
  const consumers = new Map<string, number[]>();
  g.nodes.forEach((n, j) => n.inputs.forEach((i) => {
    if (!i) return;
    const c = consumers.get(i);
    if (c) c.push(j); else consumers.set(i, [j]);
  }));
  const outputNames = new Set(g.outputs.map((o) => o.name));
  /** MaxPool node → the ReLU before it, moved after it (reluBeforePool) */
  const poolThenRelu = new Map<number, Node>();

  for (const [j, node] of g.nodes.entries()) {
    const fail = (m: string, hint?: string): never => {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: ${m}`, { file: g.source, node: node.name, op: node.op, hint });
    };
    const ctx: OpContext = { node, fail, opset: g.opset };
    const args: Arg<LinExpr>[] = node.inputs.map((name) => {
      if (!name) return undefined;
      const s = syms.get(name);
      if (s) return { kind: 'sym', t: s };
      const c = g.constants.get(name);
      return c ? { kind: 'const', t: c } : undefined;
    });
    const outShapes = node.outputs.map((o) => g.shapes.get(o));
    const made = vb.acts.length;
    const outs = (node.op === 'Relu' ? reluOfLast(j) : undefined) ?? (monotone(node) ? reluBeforePool(j) : undefined)
      ?? (poolThenRelu.has(j) ? poolWithRelu(j, ctx, args, outShapes) : poolBeforeRelu(j, ctx, args, outShapes))
      ?? applyLinear(LIN, ctx, args, outShapes[0]) ?? lowerNonlinear(vb, ctx, args, outShapes);
    if (!outs) fail(`operator ${node.op} is not supported on signals`, `supported: ${[...SIGNAL_OPS].join(', ')}`);
    outs!.forEach((t, i) => { const o = node.outputs[i]; if (o) syms.set(o, t); });
    for (let a = made; a < vb.acts.length; a++) actNode[a] = j;
  }

  /**
   * A ReLU of the last act, a dot product of signals (a layer with committed weights), fused into
   * that act's rescale when nothing else reads the values before the ReLU: what the tensors
   * made since (the layer's output, a bias Add) hold is dead after node j.
   */
  function reluOfLast(j: number): Tens<LinExpr>[] | undefined {
    const last = vb.acts.length - 1;
    const x = syms.get(g.nodes[j]!.inputs[0] ?? '');
    if (last < 0 || !x) return undefined;
    for (let k = actNode[last]!; k < j; k++) if (g.nodes[k]!.outputs.some((o) => o && (lastUse.get(o) ?? -1) > j)) return undefined;
    const y = fuseRelu(vb, x, g.nodes[j]!.name);
    return y && [y];
  }

  /**
   * A ReLU (or LeakyReLU with α ≥ 0) whose only reader is a max pool, of values that are not yet
   * single values (a convolution with baked weights): max commutes with it and with the rescale's
   * rounding (all monotone), so the pool takes the maxima of the unrescaled values and one
   * rescale and activation follow each window, instead of one for every value before it (the
   * same integers). Here the activation passes its operand on; the pool (poolWithRelu) applies it.
   */
  function reluBeforePool(j: number): Tens<LinExpr>[] | undefined {
    const node = g.nodes[j]!;
    const x = syms.get(node.inputs[0] ?? '');
    const out = node.outputs[0]!;
    const readers = consumers.get(out) ?? [];
    const pool = readers.length === 1 ? g.nodes[readers[0]!]! : undefined;
    if (!x || x.data.every(isSimple) || outputNames.has(out) || !pool || (pool.op !== 'MaxPool' && pool.op !== 'GlobalMaxPool') || pool.inputs[0] !== out || pool.outputs[1]) return undefined;
    poolThenRelu.set(readers[0]!, node);
    return [x];
  }

  /** The max pool of a moved activation's operand (its maxima named after the activation's output), then that activation. */
  function poolWithRelu(j: number, ctx: OpContext, args: Arg<LinExpr>[], outShapes: (number[] | undefined)[]): Tens<LinExpr>[] | undefined {
    const pool = g.nodes[j]!;
    const relu = poolThenRelu.get(j)!;
    const maxima = lowerNonlinear(vb, { ...ctx, node: { ...pool, outputs: [relu.outputs[0]!] }, wideOperands: true }, args, outShapes);
    if (!maxima) return undefined;
    return activate(relu, pool.outputs[0]!, maxima[0]!, ctx, outShapes);
  }

  /**
   * `act` (Relu or LeakyRelu) of a pool's unrescaled maxima, as `out`: a ReLU is its rescale; a
   * LeakyReLU takes its operand rescaled first, as it takes a convolution's values.
   */
  function activate(act: Node, out: string, maxima: Tens<LinExpr>, ctx: OpContext, outShapes: (number[] | undefined)[]): Tens<LinExpr>[] | undefined {
    const x = act.op === 'Relu' ? maxima : rescaled(`${out}:x`, act.name, maxima);
    return lowerNonlinear(vb, { ...ctx, node: { ...act, outputs: [out] } }, [{ kind: 'sym', t: x }], outShapes);
  }

  /** The maxima rescaled to the activation scale, one value each (what a LeakyReLU takes). */
  function rescaled(name: string, node: string, t: Tens<LinExpr>): Tens<LinExpr> {
    return vb.act(name, [node], t.shape, { kind: 'rescale', relu: false }, t.data.map((e) => [e]));
  }

  /** ReLU, and LeakyReLU with α ≥ 0: non-decreasing, so they commute with max. */
  function monotone(n: Node): boolean {
    if (n.op === 'Relu') return true;
    const alpha = n.attrs.alpha;
    return n.op === 'LeakyRelu' && (alpha === undefined || (typeof alpha === 'number' && alpha >= 0));
  }

  /** A max pool of values that are not single values whose only reader is a ReLU: its maxima unrescaled, as above. */
  function poolBeforeRelu(j: number, ctx: OpContext, args: Arg<LinExpr>[], outShapes: (number[] | undefined)[]): Tens<LinExpr>[] | undefined {
    const pool = g.nodes[j]!;
    const x = syms.get(pool.inputs[0] ?? '');
    if ((pool.op !== 'MaxPool' && pool.op !== 'GlobalMaxPool') || pool.outputs[1] || !x || x.data.every(isSimple)) return undefined;
    const readers = consumers.get(pool.outputs[0]!) ?? [];
    const act = readers.length === 1 ? g.nodes[readers[0]!]! : undefined;
    if (outputNames.has(pool.outputs[0]!) || !act || !monotone(act) || act.inputs[0] !== pool.outputs[0]) return undefined;
    if (act.op === 'Relu') return lowerNonlinear(vb, { ...ctx, wideOperands: true }, args, outShapes);
    // a LeakyReLU after the pool: the maxima unrescaled, then rescaled once a window (its own node lowers it)
    const maxima = lowerNonlinear(vb, { ...ctx, node: { ...pool, outputs: [`${pool.outputs[0]!}:max`] }, wideOperands: true }, args, outShapes);
    return maxima && [rescaled(pool.outputs[0]!, pool.name, maxima[0]!)];
  }

  const outputs: AffineOutput[] = g.outputs.map((o) => {
    const s = syms.get(o.name)!;
    return { name: o.name, shape: s.shape, expr: s.data, ...(o.categories ? { categories: o.categories } : {}) };
  });
  return { name: g.name, source: g.source, inputs: vb.inputs, acts: vb.acts, outputs, totalValues: vb.offset };
}

/** Float evaluation of the affine program: calibration data and a check against onnxruntime. */
export function evalAffine(ag: AffineGraph, inputs: Float64Array[]): { values: Float64Array; outputs: Float64Array[] } {
  const values = new Float64Array(ag.totalValues);
  ag.inputs.forEach((v) => values.set(inputs[v.inputIndex]!, v.offset));
  const evalExpr = (e: LinExpr) => {
    let s = e.c;
    for (let t = 0; t < e.idx.length; t++) s += e.w[t]! * values[e.idx[t]!]!;
    return s;
  };
  for (const a of ag.acts) {
    for (let i = 0; i < a.size; i++) values[a.offset + i] = evalAct(a.op, a.args[i]!.map(evalExpr));
  }
  return { values, outputs: ag.outputs.map((o) => Float64Array.from(o.expr, evalExpr)) };
}
