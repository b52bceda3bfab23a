// Row scalings divided after the linear map that reads them: (X / s)·W = (X·W) / s, s one value
// per row. A normalized feature vector read only by a linear model (sklearn's Normalizer or
// TfidfVectorizer's L2 norm before a LinearClassifier, a vector divided by its norm before a
// Gemm) then costs one division per output (a few classes) instead of one per feature (a
// vocabulary). Division by a signal is the costliest primitive (a quotient and a remainder, each
// range-checked); the products are linear either way. The quantized integers are those of the
// rewritten graph in the executor and the circuit alike; the float reference is the model's own.
import type { Graph, Node } from '../ir/graph.js';
import { readersOf, sizeOf } from '../ir/graph.js';

const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);

/** Moves each Div by a per-row signal past the constant linear maps (Gemm, MatMul) that alone read it, where that divides fewer values. */
export function divideLate(g: Graph): Graph {
  const readers = readersOf(g.nodes);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const shapes = new Map(g.shapes);
  const constants = new Map(g.constants);
  const replaced = new Map<Node, Node[]>();
  const dropped = new Set<Node>();
  for (const div of g.nodes) {
    if (div.op !== 'Div' || div.inputs.length !== 2) continue;
    const [x, s] = div.inputs as [string, string];
    const y = div.outputs[0]!;
    const xs = shapes.get(x);
    const ss = shapes.get(s);
    if (!xs || !ss || constants.has(s) || constants.has(x) || outputs.has(y)) continue;
    // s holds one value per row of x: [..., r, 1] against x's [..., r, V]
    if (ss.length !== xs.length || ss[ss.length - 1] !== 1 || ss.some((d, i) => i < ss.length - 1 && d !== xs[i])) continue;
    const rs = readers.get(y) ?? [];
    const linear = rs.length > 0 && rs.every((r) => r.inputs[0] === y && !r.inputs.slice(1).includes(y) && constants.has(r.inputs[1] ?? '')
      && ((r.op === 'MatMul' && constants.get(r.inputs[1]!)!.dims.length === 2)
        || (r.op === 'Gemm' && num(r.attrs.transA, 0) === 0 && xs.length === 2 && (!r.inputs[2] || constants.has(r.inputs[2])))));
    if (!linear) continue;
    const after = rs.reduce((t, r) => t + sizeOf(shapes.get(r.outputs[0]!) ?? []), 0);
    if (after >= sizeOf(xs)) continue;
    dropped.add(div);
    for (const r of rs) {
      const out = r.outputs[0]!;
      const outShape = shapes.get(out)!;
      const product = `${out}:before_div`;
      const quotient = `${out}:divided`;
      const nodes: Node[] = [];
      const bias = r.op === 'Gemm' ? r.inputs[2] : undefined;
      nodes.push({ ...r, name: `${r.name}/late`, inputs: [x, r.inputs[1]!], outputs: [product] });
      nodes.push({ name: `${div.name}/late:${r.name}`, op: 'Div', domain: '', inputs: [product, s], outputs: [bias ? quotient : out], attrs: {} });
      shapes.set(product, outShape);
      if (bias) {
        // Gemm's β·C after the division
        const beta = num(r.attrs.beta, 1);
        const c = constants.get(bias)!;
        const name = beta === 1 ? bias : `${bias}:beta`;
        if (beta !== 1) { constants.set(name, { dims: c.dims, data: c.data.map((v) => v * beta) }); shapes.set(name, c.dims); }
        shapes.set(quotient, outShape);
        nodes.push({ name: `${r.name}/late:bias`, op: 'Add', domain: '', inputs: [quotient, name], outputs: [out], attrs: {} });
      }
      replaced.set(r, nodes);
    }
  }
  if (!dropped.size) return g;
  const nodes = g.nodes.flatMap((n) => (dropped.has(n) ? [] : replaced.get(n) ?? [n]));
  return { ...g, nodes, shapes, constants };
}
