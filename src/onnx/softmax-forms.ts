// Softmax written out: x − ReduceLogSumExp(x) is LogSoftmax(x), and Exp of that is Softmax(x)
// (sklearn-onnx's naive Bayes: probabilities = Exp(jll − ReduceLogSumExp(jll))). Written out, the
// bound analysis sees x − LSE(x) as an interval as wide as x's on both sides, and exp's polynomial
// over it overflows the field; the ops themselves know that x − LSE(x) ≤ 0 (nonlinear.ts clamps
// exp at 0 and log Σ at 1). Same values in reals; the circuit computes the op.
import type { Graph, Node } from '../ir/graph.js';
import { readersOf } from '../ir/graph.js';

/** The one axis a ReduceLogSumExp reduces with keepdims, from its attribute or constant input; undefined otherwise. */
function oneAxis(g: Graph, n: Node, rank: number): number | undefined {
  if ((typeof n.attrs.keepdims === 'number' ? n.attrs.keepdims : 1) !== 1) return undefined;
  const listed = Array.isArray(n.attrs.axes) ? (n.attrs.axes as number[]) : n.inputs[1] ? Array.from(g.constants.get(n.inputs[1])?.data ?? [], Number) : undefined;
  if (!listed || listed.length !== 1) return undefined;
  const a = listed[0]!;
  return a < 0 ? a + rank : a;
}

/** Rewrites Sub(x, ReduceLogSumExp(x)) into LogSoftmax(x), and Exp of a LogSoftmax only Exp reads into Softmax. */
export function softmaxForms(g: Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'ReduceLogSumExp')) return g;
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const outputs = new Set(g.outputs.map((o) => o.name));
  let nodes = g.nodes;
  let readers = readersOf(nodes);
  const replace = (from: Node, to: Node | undefined) => { nodes = nodes.flatMap((n) => (n === from ? (to ? [to] : []) : [n])); };
  for (const sub of g.nodes.filter((n) => n.op === 'Sub')) {
    const [x, r] = sub.inputs as [string, string];
    const lse = producer.get(r);
    if (!lse || lse.op !== 'ReduceLogSumExp' || lse.inputs[0] !== x || outputs.has(r) || (readers.get(r) ?? []).length !== 1) continue;
    const rank = g.shapes.get(x)?.length ?? 0;
    const axis = oneAxis(g, lse, rank);
    // before opset 13 LogSoftmax coerces to 2-D at its axis: the same as one axis only when it is the last
    if (axis === undefined || axis < 0 || axis >= rank || (g.opset < 13 && axis !== rank - 1)) continue;
    replace(sub, { ...sub, op: 'LogSoftmax', inputs: [x], attrs: { axis } });
    replace(lse, undefined);
    readers = readersOf(nodes);
  }
  for (const exp of nodes.filter((n) => n.op === 'Exp')) {
    const y = exp.inputs[0]!;
    const ls = nodes.find((n) => n.op === 'LogSoftmax' && n.outputs[0] === y);
    if (!ls || outputs.has(y) || (readers.get(y) ?? []).length !== 1) continue;
    replace(exp, { ...exp, op: 'Softmax', inputs: [ls.inputs[0]!], attrs: { axis: ls.attrs.axis! } });
    replace(ls, undefined);
    readers = readersOf(nodes);
  }
  return nodes === g.nodes ? g : { ...g, nodes };
}
