// Strings. A circuit computes on field elements, not strings, so every string becomes an integer
// code: the index of the string in a table fixed at compile time.
//
// Categorical (string) graph inputs: sklearn pipelines take columns such as sex = "male" or
// embarked = "S". The input's table holds every string the model compares that input with
//
//   OneHotEncoder cats_strings · LabelEncoder keys_strings / classes_strings · CategoryMapper cats_strings
//
// reached directly or through ops that only move values (Identity, Reshape, Squeeze, …). Any
// string outside the table is code k = the table's length ("unknown"): each of those ops treats
// every string outside its own list alike, so one code stands for all of them. The ops are told
// the codes of their strings (attribute zkonnx_codes, read by ml.ts) and compare integers, which
// the circuit proves (Equal).
//
// Strings the model computes: a classifier's label with string classes (classlabels_strings),
// classes[ArgMax(…)] over a string tensor (sklearn-onnx's MLP, k-NN, naive Bayes, voting…
// classifiers: ArrayFeatureExtractor or Gather), LabelEncoder's values_strings and CategoryMapper
// from integers to strings. Each such value has the table of the strings it can hold (a
// classifier's classes in their order; a string constant's distinct strings; an encoder's values,
// then its default), the nodes compute codes instead (classlabels_int64s 0 … C−1, a constant of
// codes, attributes zkonnx_value_codes / zkonnx_default_code read by ml.ts), and a graph output
// holding it is an integer output with that table (ValueInfo.categories): the proof's public
// output is the code, and the table, recorded by compile, names its string. Comparing a computed
// string (LabelEncoder after a classifier) compares codes; a listed string outside the table
// matches nothing (code −1).
//
// Any other use of a string (Cast, arithmetic, Concat, a graph output of an input's strings, a
// subgraph) is refused, naming the node.
//
// Soundness: an input's code is an input like any other, range-checked to [0, 2^b) ⊇ [0, k] (the
// quantizer gives categorical inputs scale 0 and a range that holds k); a code in (k, 2^b) matches
// no category, exactly as an unknown string does. A computed code is the circuit's own integer,
// proven like any other output.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { ClosedCategories, Graph, Node, SubGraph, Tensor, ValueInfo } from '../ir/graph.js';
import { checkPadding } from './text.js';

const INT64 = 7;

/** ONNX's element type of strings. */
export const STRING_TYPE = 8;
/** The attribute categorical.ts gives a node that compares a string value: its strings' codes, in its own order. */
export const CODES_ATTR = 'zkonnx_codes';
/** The attributes categorical.ts gives a node that outputs strings: its values' codes, and its default's. */
export const VALUE_CODES_ATTR = 'zkonnx_value_codes';
export const DEFAULT_CODE_ATTR = 'zkonnx_default_code';
const ML = 'ai.onnx.ml';

/** Default-domain ops that only move values: a string in, the same strings out (input 0 only). */
const MOVES = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Slice', 'Gather', 'Expand', 'Tile', 'Split', 'Dropout']);

/** ai.onnx.ml ops that compare a string input with a list of strings: the attributes that list them. */
const COMPARERS: Record<string, string[]> = {
  OneHotEncoder: ['cats_strings'],
  LabelEncoder: ['keys_strings', 'classes_strings', 'keys_tensor'],
  CategoryMapper: ['cats_strings'],
};

/** Default-domain ops that compare a string input with a list: TfIdfVectorizer's n-grams of tokens (text.ts). */
const DEFAULT_COMPARERS: Record<string, string[]> = { TfIdfVectorizer: ['pool_strings'] };

/** ai.onnx.ml classifiers whose label output (output 0) holds classlabels_strings. */
const CLASSIFIERS = new Set(['LinearClassifier', 'SVMClassifier', 'TreeEnsembleClassifier']);

const strings = (v: unknown): string[] => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : []);
/** A string tensor attribute's strings (LabelEncoder opset 4, Constant). */
export const tensorStrings = (v: unknown): string[] | undefined => (v && typeof v === 'object' && 'strings' in v ? (v as Tensor).strings : undefined);
const distinct = (xs: string[]): string[] => [...new Set(xs)];

/** Every name the nodes of a subgraph (and their subgraphs) read. */
function subgraphReads(g: SubGraph, into: Set<string>): void {
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) into.add(i);
    for (const a of Object.values(n.attrs)) if (a && typeof a === 'object' && 'subgraph' in a) subgraphReads(a, into);
  }
}

/** A string tensor as codes into its distinct strings (int64). */
function codedConstant(t: Tensor): { tensor: Tensor; table: string[] } {
  const table = distinct(t.strings!);
  return { tensor: { dims: t.dims, data: Float64Array.from(t.strings!, (x) => table.indexOf(x)), dtype: INT64 }, table };
}

/**
 * The strings node outputs (output 0), where it outputs strings computed from numbers: their table
 * and the attributes that make it output codes instead. `stringIn`: its input 0 holds strings.
 */
function stringOutput(node: Node, stringIn: boolean): { table: string[]; attrs: Node['attrs'] } | undefined {
  const a = node.attrs;
  if (node.domain !== ML) return undefined;
  if (CLASSIFIERS.has(node.op)) {
    const labels = strings(a.classlabels_strings);
    if (!labels.length) return undefined;
    const attrs: Node['attrs'] = { ...a, classlabels_int64s: labels.map((_, j) => j) };
    delete attrs.classlabels_strings;
    return { table: labels, attrs };
  }
  const encoder = (values: string[], dflt: string) => {
    const table = distinct([...values, dflt]);
    return { table, attrs: { ...a, [VALUE_CODES_ATTR]: values.map((v) => table.indexOf(v)), [DEFAULT_CODE_ATTR]: table.indexOf(dflt) } };
  };
  const dflt = (tensorStrings(a.default_tensor) ?? [])[0] ?? (typeof a.default_string === 'string' ? a.default_string : '_Unused');
  if (node.op === 'LabelEncoder') {
    // opset 1 maps integers to classes_strings[x] (strings to their index when its input holds strings)
    if (!stringIn && strings(a.classes_strings).length) return encoder(strings(a.classes_strings), dflt);
    const values = strings(a.values_strings).length ? strings(a.values_strings) : tensorStrings(a.values_tensor);
    return values ? encoder(values, dflt) : undefined;
  }
  // CategoryMapper maps strings to cats_int64s, and integers to cats_strings
  if (node.op === 'CategoryMapper' && !stringIn) return encoder(strings(a.cats_strings), dflt);
  return undefined;
}

/**
 * Gives each string graph input its category table and the nodes that compare it their codes;
 * turns strings the model computes into codes with their tables (graph outputs holding them get
 * ValueInfo.categories); refuses any other use of a string. The graph is returned unchanged when
 * it holds no strings.
 */
export function encodeCategorical(g: Graph): Graph {
  const stringInputs = g.inputs.filter((v) => v.dtype === STRING_TYPE);
  const stringConstants = [...g.constants].filter(([, t]) => t.strings);
  const constantNode = (n: Node) => n.op === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx') && (tensorStrings(n.attrs.value) || strings(n.attrs.value_strings).length || typeof n.attrs.value_string === 'string');
  if (!stringInputs.length && !stringConstants.length && !g.nodes.some((n) => constantNode(n) || stringOutput(n, false))) return g;
  /** string value → the graph input it carries */
  const from = new Map<string, string>(stringInputs.map((v) => [v.name, v.name]));
  const tables = new Map<string, string[]>(stringInputs.map((v) => [v.name, []]));
  /** string value the model computes → the table of the strings it can hold */
  const made = new Map<string, string[]>();
  const constants = new Map(g.constants);
  for (const [name, t] of stringConstants) {
    const { tensor, table } = codedConstant(t);
    constants.set(name, tensor);
    made.set(name, table);
  }
  const comparers: { at: number; input: string; list: string[] }[] = [];
  const nodes = g.nodes.slice();
  const refuse = (node: Node, value: string, why: string): never => {
    const what = from.has(value) ? `the categorical input '${from.get(value)}'` : 'strings the model computes';
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: input '${value}' holds strings (${what})${why}`, {
      file: g.source, node: node.name, op: node.op,
      hint: 'zkonnx proves strings only as category codes: compared by OneHotEncoder, LabelEncoder or CategoryMapper (ai.onnx.ml) or, as tokens of a text (StringNormalizer → Tokenizer), by TfIdfVectorizer, directly or through Identity, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice, Gather; computed strings (class labels, classes[ArgMax], LabelEncoder values) may also be graph outputs',
    });
  };
  const isString = (n: string) => from.has(n) || made.has(n);
  g.nodes.forEach((node, at) => {
    const domain = node.domain === 'ai.onnx' ? '' : node.domain;
    if (constantNode(node)) {
      const a = node.attrs;
      const t: Tensor = a.value !== undefined ? (a.value as Tensor)
        : Array.isArray(a.value_strings) ? { dims: [(a.value_strings as string[]).length], data: new Float64Array(0), strings: a.value_strings as string[] }
          : { dims: [], data: new Float64Array(0), strings: [a.value_string as string] };
      const { tensor, table } = codedConstant(t);
      nodes[at] = { ...node, attrs: { value: tensor } };
      made.set(node.outputs[0]!, table);
      return;
    }
    const reads = node.inputs.map((n, i) => [n, i] as const).filter(([n]) => n && isString(n));
    for (const a of Object.values(node.attrs)) {
      if (!a || typeof a !== 'object' || !('subgraph' in a)) continue;
      const inner = new Set<string>();
      subgraphReads(a, inner);
      const hit = [...inner].find(isString);
      if (hit) refuse(node, hit, ': a subgraph (If branch) reads it, and zkonnx follows strings only through the main graph');
    }
    const produced = stringOutput(node, reads.some(([, i]) => i === 0));
    if (produced) {
      nodes[at] = { ...node, attrs: produced.attrs };
      made.set(node.outputs[0]!, produced.table);
    }
    if (!reads.length) return;
    const [first, index] = reads[0]!;
    // a string constant or computed strings as the data of a selection: its elements, the same table
    const picks = index === 0 && ((domain === '' && node.op === 'Gather') || (domain === ML && node.op === 'ArrayFeatureExtractor'));
    if (reads.length > 1 || (index !== 0 && !picks)) refuse(node, reads.length > 1 ? reads[1]![0] : first, `: it is input ${reads.length > 1 ? reads[1]![1] : index} of ${node.op}, which zkonnx does not compute on strings`);
    if (picks || (domain === '' && MOVES.has(node.op))) {
      const outs = node.op === 'Dropout' ? node.outputs.slice(0, 1) : node.outputs;
      for (const o of outs) {
        if (!o) continue;
        if (from.has(first)) from.set(o, from.get(first)!);
        else made.set(o, made.get(first)!);
      }
      return;
    }
    const attrs = domain === ML ? COMPARERS[node.op] : domain === '' ? DEFAULT_COMPARERS[node.op] : undefined;
    if (!attrs) refuse(node, first, `: ${node.op}${domain ? ` (${domain})` : ''} does not compare it with categories`);
    const listed = (k: string) => (strings(node.attrs[k]).length ? strings(node.attrs[k]) : tensorStrings(node.attrs[k]));
    const key = attrs!.find((k) => listed(k)?.length);
    if (!key) refuse(node, first, `: ${node.op} lists no strings to compare it with (${attrs!.join(' or ')})`);
    const list = listed(key!)!;
    const table = made.get(first);
    if (table) {
      // computed strings: every value is in the table; a listed string outside it matches nothing
      if (node.op === 'OneHotEncoder' && node.attrs.zeros === 0) refuse(node, first, ': OneHotEncoder with zeros=0 on computed strings (zkonnx refuses unknown categories only of inputs)');
      nodes[at] = { ...nodes[at]!, attrs: { ...nodes[at]!.attrs, [CODES_ATTR]: list.map((x) => table.indexOf(x)) } };
      return;
    }
    const input = from.get(first)!;
    const inputInfo = g.inputs.find((v) => v.name === input)!;
    if (inputInfo.text) checkPadding(g, inputInfo, list, node);
    const inputTable = tables.get(input)!;
    for (const x of list) if (!inputTable.includes(x)) inputTable.push(x);
    comparers.push({ at, input, list });
  });
  const outputs = g.outputs.map((o) => {
    if (from.has(o.name)) {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `graph output '${o.name}' holds strings (the categorical input '${from.get(o.name)}'): a circuit outputs numbers`, { file: g.source });
    }
    const table = made.get(o.name);
    return table ? { ...o, categories: table } : o;
  });
  const closed = new Map<string, ClosedCategories[]>();
  for (const c of comparers) {
    const node = nodes[c.at]!;
    const table = tables.get(c.input)!;
    const codes = c.list.map((x) => table.indexOf(x));
    nodes[c.at] = { ...node, attrs: { ...node.attrs, [CODES_ATTR]: codes } };
    if (node.op === 'OneHotEncoder' && node.attrs.zeros === 0) closed.set(c.input, [...(closed.get(c.input) ?? []), { node: node.name, codes }]);
  }
  const inputs: ValueInfo[] = g.inputs.map((v) => {
    const table = tables.get(v.name);
    if (!table) return v;
    const cl = closed.get(v.name);
    return { ...v, categories: table, ...(cl ? { closedBy: cl } : {}) };
  });
  return { ...g, inputs, outputs, nodes, constants };
}
