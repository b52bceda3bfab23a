// Graph → AffineGraph. Every linear op on signals (Gemm, MatMul, Add, Sub, Mul/Div by constants,
// reshapes) is folded symbolically into affine expressions over the materialized values; only
// the non-linear ops become values of their own. Linear algebra thus costs no constraint.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { AffineGraph, AffineOutput, Graph, LinExpr } from './graph.js';
import { SIGNAL_OPS } from '../onnx/fold.js';
import { applyLinear } from './ops/linear.js';
import type { Arg, OpContext, Tens } from './ops/types.js';
import { LIN } from './affine.js';
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
    const outs = (node.op === 'Relu' ? reluOfLast(j) : undefined) ?? applyLinear(LIN, ctx, args, outShapes[0]) ?? lowerNonlinear(vb, ctx, args, outShapes);
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
