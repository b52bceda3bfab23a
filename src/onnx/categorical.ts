// Categorical (string) graph inputs: sklearn pipelines take columns such as sex = "male" or
// embarked = "S". A circuit computes on field elements, not strings: a string input becomes an
// integer signal holding a category code, the index of its string in a table built at compile
// time from every string the model compares that input with
//
//   OneHotEncoder cats_strings · LabelEncoder keys_strings / classes_strings · CategoryMapper cats_strings
//
// reached directly or through ops that only move values (Identity, Reshape, Squeeze, …). Any
// string outside the table is code k = the table's length ("unknown"): each of those ops treats
// every string outside its own list alike, so one code stands for all of them. The ops are told
// the codes of their strings (attribute zkonnx_codes, read by ml.ts) and compare integers, which
// the circuit proves (Equal). Any other use of a string (Cast, arithmetic, Concat, a graph output,
// a subgraph) is refused, naming the node.
//
// Soundness: the code is an input like any other, range-checked to [0, 2^b) ⊇ [0, k] (the
// quantizer gives categorical inputs scale 0 and a range that holds k); a code in (k, 2^b) matches
// no category, exactly as an unknown string does.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { ClosedCategories, Graph, Node, SubGraph, ValueInfo } from '../ir/graph.js';

/** ONNX's element type of strings. */
export const STRING_TYPE = 8;
/** The attribute categorical.ts gives a node that compares a categorical input: its strings' codes, in its own order. */
export const CODES_ATTR = 'zkonnx_codes';
const ML = 'ai.onnx.ml';

/** Default-domain ops that only move values: a string in, the same strings out (input 0 only). */
const MOVES = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Slice', 'Gather', 'Expand', 'Tile', 'Split', 'Dropout']);

/** ai.onnx.ml ops that compare a string input with a list of strings: the attributes that list them. */
const COMPARERS: Record<string, string[]> = {
  OneHotEncoder: ['cats_strings'],
  LabelEncoder: ['keys_strings', 'classes_strings'],
  CategoryMapper: ['cats_strings'],
};

const strings = (v: unknown): string[] => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : []);

/** Every name the nodes of a subgraph (and their subgraphs) read. */
function subgraphReads(g: SubGraph, into: Set<string>): void {
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) into.add(i);
    for (const a of Object.values(n.attrs)) if (a && typeof a === 'object' && 'subgraph' in a) subgraphReads(a, into);
  }
}

/**
 * Gives each string graph input its category table and the nodes that compare it their codes;
 * refuses any other use of a string. The graph is returned unchanged when it has no string input.
 */
export function encodeCategorical(g: Graph): Graph {
  const stringInputs = g.inputs.filter((v) => v.dtype === STRING_TYPE);
  if (!stringInputs.length) return g;
  /** string value → the graph input it carries */
  const from = new Map<string, string>(stringInputs.map((v) => [v.name, v.name]));
  const tables = new Map<string, string[]>(stringInputs.map((v) => [v.name, []]));
  const comparers: { at: number; input: string; list: string[] }[] = [];
  const refuse = (node: Node, value: string, why: string): never => {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: input '${value}' holds strings (the categorical input '${from.get(value)}')${why}`, {
      file: g.source, node: node.name, op: node.op,
      hint: 'zkonnx proves strings only as category codes: compared by OneHotEncoder, LabelEncoder or CategoryMapper (ai.onnx.ml), directly or through Identity, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice, Gather',
    });
  };
  g.nodes.forEach((node, at) => {
    const reads = node.inputs.map((n, i) => [n, i] as const).filter(([n]) => n && from.has(n));
    for (const a of Object.values(node.attrs)) {
      if (!a || typeof a !== 'object' || !('subgraph' in a)) continue;
      const inner = new Set<string>();
      subgraphReads(a, inner);
      const hit = [...inner].find((n) => from.has(n));
      if (hit) refuse(node, hit, ': a subgraph (If branch) reads it, and zkonnx follows strings only through the main graph');
    }
    if (!reads.length) return;
    const [first, index] = reads[0]!;
    const domain = node.domain === 'ai.onnx' ? '' : node.domain;
    if (reads.length > 1 || index !== 0) refuse(node, reads.length > 1 ? reads[1]![0] : first, `: it is input ${reads.length > 1 ? reads[1]![1] : index} of ${node.op}, which zkonnx does not compute on strings`);
    if (domain === '' && MOVES.has(node.op)) {
      const outs = node.op === 'Dropout' ? node.outputs.slice(0, 1) : node.outputs;
      for (const o of outs) if (o) from.set(o, from.get(first)!);
      return;
    }
    const attrs = domain === ML ? COMPARERS[node.op] : undefined;
    if (!attrs) refuse(node, first, `: ${node.op}${domain ? ` (${domain})` : ''} does not compare it with categories`);
    const key = attrs!.find((k) => strings(node.attrs[k]).length);
    if (!key) refuse(node, first, `: ${node.op} lists no strings to compare it with (${attrs!.join(' or ')})`);
    const list = strings(node.attrs[key!]);
    const input = from.get(first)!;
    const table = tables.get(input)!;
    for (const s of list) if (!table.includes(s)) table.push(s);
    comparers.push({ at, input, list });
  });
  for (const o of g.outputs) {
    if (from.has(o.name)) {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `graph output '${o.name}' holds strings (the categorical input '${from.get(o.name)}'): a circuit outputs numbers`, { file: g.source });
    }
  }
  const nodes = g.nodes.slice();
  const closed = new Map<string, ClosedCategories[]>();
  for (const c of comparers) {
    const node = nodes[c.at]!;
    const table = tables.get(c.input)!;
    const codes = c.list.map((s) => table.indexOf(s));
    nodes[c.at] = { ...node, attrs: { ...node.attrs, [CODES_ATTR]: codes } };
    if (node.op === 'OneHotEncoder' && node.attrs.zeros === 0) closed.set(c.input, [...(closed.get(c.input) ?? []), { node: node.name, codes }]);
  }
  const inputs: ValueInfo[] = g.inputs.map((v) => {
    const table = tables.get(v.name);
    if (!table) return v;
    const cl = closed.get(v.name);
    return { ...v, categories: table, ...(cl ? { closedBy: cl } : {}) };
  });
  return { ...g, inputs, nodes };
}
