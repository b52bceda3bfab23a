// GELU written out, as exporters before opset 20 write it: 0.5·x·(1 + erf(x/√2)) (torch's
// nn.GELU) and 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (its tanh form, Hugging Face's
// NewGELU), in whatever order of Mul, Div, Add and Pow. Written out, the circuit pays erf's
// polynomial and a product (and the tanh form two products more for x³); the Gelu op is one
// ClampedPoly (nonlinear.ts). The chain is recognised by what it computes: every node between x
// and y is elementwise on x, its earlier values and scalar constants, each read once; y is taken
// where the chain equals GELU at every test point. The chain is kept to the forms' own size (at
// most 9 nodes, one Erf or Tanh, Pow only as x³) and checked out to ±100, so that no added term can
// hide between the test points (a polynomial vanishing on them needs as many nodes as points).
// Same values in reals; the circuit computes the op.
import type { Graph, Node } from '../ir/graph.js';
import { readersOf } from '../ir/graph.js';
import { SCALAR_FNS, erf } from '../ir/ops/scalar.js';

const GELU = (x: number) => SCALAR_FNS.gelu!(x, []);
const GELU_TANH = (x: number) => SCALAR_FNS.gelu_tanh!(x, []);
/** The two forms differ by up to ~5e−4; float32 constants and erf's reference agree within ~1e−6. */
const SAME = 2e-5;
const POINTS = [...Array.from({ length: 49 }, (_, i) => -6 + i * 0.25), ...[7, 8, 10, 15, 20, 30, 50, 100].flatMap((v) => [v, -v])];
/** The tanh form with x³ as two products: Mul, Mul, Mul (0.044715), Add, Mul (√(2/π)), Tanh, Add, Mul, Mul. */
const MAX_NODES = 9;

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: (a, b) => a ** b,
};
const UNARY: Record<string, (a: number) => number> = { Erf: erf, Tanh: Math.tanh };

/** Rewrites each written-out GELU into one Gelu node (approximate 'none' or 'tanh'). */
export function geluForms(g: Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'Erf' || n.op === 'Tanh')) return g;
  const outputs = new Set(g.outputs.map((o) => o.name));
  const scalar = (name: string): number | undefined => {
    const t = g.constants.get(name);
    return t && t.data.length === 1 ? Number(t.data[0]) : undefined;
  };
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  // binary elementwise on the chain's values and scalars; Pow only as a cube (the tanh form's x³)
  const binary = (n: Node) => n.domain === '' && n.outputs.length === 1 && n.op in BINARY && n.inputs.length === 2 && (n.op !== 'Pow' || scalar(n.inputs[1]!) === 3);
  let nodes = g.nodes;
  for (const fn of g.nodes.filter((n) => n.op === 'Erf' || n.op === 'Tanh')) {
    if (!nodes.includes(fn)) continue;
    const readers = readersOf(nodes);
    // back from the Erf/Tanh to the one signal x it is a function of
    const chain = new Set<Node>([fn]);
    let x: string | undefined;
    const back = (name: string): boolean => {
      if (scalar(name) !== undefined) return true;
      const p = producer.get(name);
      if (p && binary(p) && nodes.includes(p) && (readers.get(name) ?? []).length === 1 && !outputs.has(name)) {
        chain.add(p);
        return p.inputs.every(back);
      }
      if (x === undefined || x === name) { x = name; return true; }
      return false;
    };
    if (!back(fn.inputs[0]!) || x === undefined || chain.size > MAX_NODES) continue;
    const shape = g.shapes.get(x);
    // forward: each value read once, by an elementwise node on x, the chain's values and scalars
    const known = new Set<string>([x, ...[...chain].map((n) => n.outputs[0]!)]);
    let end: { y: string; approximate: 'none' | 'tanh'; nodes: Set<Node> } | undefined;
    for (let at = fn.outputs[0]!; ;) {
      const rs = readers.get(at) ?? [];
      if (outputs.has(at) || rs.length !== 1) break;
      const next = rs[0]!;
      if (!binary(next) || chain.size >= MAX_NODES) break;
      // an operand not yet known may be a side branch of x alone (0.5·x, multiplied in last)
      const side = (i: string) => {
        if (known.has(i) || scalar(i) !== undefined) return true;
        if (!back(i)) return false;
        for (const n of chain) known.add(n.outputs[0]!);
        return known.has(i) || i === x;
      };
      if (!next.inputs.every(side) || chain.size >= MAX_NODES) break;
      chain.add(next);
      at = next.outputs[0]!;
      known.add(at);
      if (JSON.stringify(g.shapes.get(at)) !== JSON.stringify(shape)) continue;
      const f = evaluator(chain, x, at, scalar);
      for (const [approximate, ref] of [['none', GELU], ['tanh', GELU_TANH]] as const) {
        if (POINTS.every((v) => Math.abs(f(v) - ref(v)) <= SAME * Math.max(1, Math.abs(v)))) end = { y: at, approximate, nodes: new Set(chain) };
      }
      if (end) break;
    }
    if (!end) continue;
    const { y, approximate, nodes: used } = end;
    // every value inside the chain is read only inside it (x may be read elsewhere)
    if ([...used].some((n) => n.outputs[0] !== y && (readers.get(n.outputs[0]!) ?? []).some((r) => !used.has(r)))) continue;
    const last = [...used].find((n) => n.outputs[0] === y)!;
    const gelu: Node = { name: last.name, op: 'Gelu', domain: '', inputs: [x], outputs: [y], attrs: { approximate } };
    nodes = nodes.flatMap((n) => (n === last ? [gelu] : used.has(n) ? [] : [n]));
  }
  return nodes === g.nodes ? g : { ...g, nodes };
}

/** The chain's value at y as a function of x's value (the chain's nodes in graph order). */
function evaluator(chain: Set<Node>, x: string, y: string, scalar: (name: string) => number | undefined): (v: number) => number {
  const order = [...chain];
  return (v: number) => {
    const val = new Map<string, number>([[x, v]]);
    const get = (name: string) => val.get(name) ?? scalar(name)!;
    for (let pending = order; pending.length;) {
      const rest = pending.filter((n) => !n.inputs.every((i) => val.has(i) || scalar(i) !== undefined));
      for (const n of pending) {
        if (rest.includes(n)) continue;
        const out = n.op in UNARY ? UNARY[n.op]!(get(n.inputs[0]!)) : BINARY[n.op]!(get(n.inputs[0]!), get(n.inputs[1]!));
        val.set(n.outputs[0]!, out);
      }
      if (rest.length === pending.length) return NaN;
      pending = rest;
    }
    return val.get(y)!;
  };
}
