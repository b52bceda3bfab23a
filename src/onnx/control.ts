// Control flow that a circuit can prove: an If whose condition is known at compile time (it
// depends only on constants, shapes, or inputs fixed with --fix-input) is replaced by the branch
// it takes. A condition computed from the proven input would need both branches and a selection;
// zkonnx refuses it, naming the node.
import type { Node, SubGraph, Tensor } from '../ir/graph.js';

const isSubgraph = (v: unknown): v is SubGraph => typeof v === 'object' && v !== null && (v as SubGraph).subgraph === true;

/** Renames the values a branch defines (outputs of its nodes, its initializers), in nested subgraphs too. */
function renameNodes(nodes: Node[], rename: (n: string) => string): Node[] {
  return nodes.map((n) => ({
    ...n,
    inputs: n.inputs.map((x) => (x ? rename(x) : x)),
    outputs: n.outputs.map((x) => (x ? rename(x) : x)),
    attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, isSubgraph(v) ? renameSubgraph(v, rename) : v])),
  }));
}

function renameSubgraph(g: SubGraph, rename: (n: string) => string): SubGraph {
  return { ...g, nodes: renameNodes(g.nodes, rename), constants: new Map([...g.constants].map(([k, t]) => [rename(k), t])), outputs: g.outputs.map(rename) };
}

/**
 * The nodes that replace `node` (an If whose condition is `cond`): the taken branch's nodes, its
 * values prefixed with the If's name (a branch may reuse names of the outer graph's scope), its
 * initializers added to `constants`, and one Identity per If output.
 */
export function inlineIf(node: Node, cond: Tensor, constants: Map<string, Tensor>, shapes: Map<string, number[]>, fail: (msg: string) => never): Node[] {
  const branch = node.attrs[cond.data[0] ? 'then_branch' : 'else_branch'];
  if (!isSubgraph(branch)) fail(`If has no ${cond.data[0] ? 'then_branch' : 'else_branch'} graph`);
  if (cond.data.length !== 1) fail(`If's condition must hold one value, it holds ${cond.data.length}`);
  if (branch.outputs.length !== node.outputs.length) fail(`the branch has ${branch.outputs.length} outputs, the If ${node.outputs.length}`);
  const defined = new Set<string>(branch.constants.keys());
  const collect = (ns: Node[]) => ns.forEach((n) => n.outputs.forEach((o) => o && defined.add(o)));
  collect(branch.nodes);
  const prefix = `${node.name}/${cond.data[0] ? 'then' : 'else'}/`;
  const g = renameSubgraph(branch, (n) => (defined.has(n) ? prefix + n : n));
  for (const [k, t] of g.constants) { constants.set(k, t); shapes.set(k, t.dims); }
  return [
    ...g.nodes,
    ...node.outputs.map((out, i) => ({ name: `${prefix}out${i}`, op: 'Identity', domain: '', inputs: [g.outputs[i]!], outputs: [out], attrs: {} })),
  ];
}
