// Text inputs: sklearn-onnx's text pipelines (CountVectorizer, TfidfVectorizer) read a document
// as a string and run
//
//   Reshape → StringNormalizer (lower case, stopwords) → Tokenizer (com.microsoft) → Flatten → TfIdfVectorizer
//
// The Tokenizer's output has as many tokens as the text has: its shape depends on the input, which
// a circuit cannot. So the front of the graph, from the string input through the Tokenizer, runs
// outside the circuit (src/tokenize.ts, as onnxruntime runs it), and the circuit's input is the
// tokens as category codes, a fixed number per string (compile --max-tokens, 64 by default): a
// text's tokens, then the code that matches no pool string, as onnxruntime's padding matches none
// (a pad_value that a pool lists is refused: counts would then depend on the padding). The
// comparisons of the codes with the pool (TfIdfVectorizer's n-grams) are the circuit's, like any
// categorical input's (categorical.ts). What a proof states is the model's output on those
// tokens; a verifier who holds the text tokenizes it the same way (the public codes, or their
// commitment, with an input visibility that publishes them).
//
// A StringNormalizer without a Tokenizer (a categorical column lower-cased before its encoder)
// is a front too: the circuit takes the normalized string's code.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { Graph, Node, ValueInfo } from '../ir/graph.js';
import { readersOf, sizeOf } from '../ir/graph.js';
import type { TextSpec } from '../ir/graph.js';
import { textMatchers } from '../tokenize.js';

export const DEFAULT_MAX_TOKENS = 64;
const STRING_TYPE = 8;
const MOVES = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);
const MS = 'com.microsoft';

const ints = (v: unknown): number[] | undefined => (Array.isArray(v) ? v.map(Number) : undefined);
const norm = (axes: number[], rank: number) => axes.map((a) => (a < 0 ? a + rank : a));

/** The shape a value-moving op gives a string tensor of `dims` (its constant inputs from the graph). */
function movedShape(g: Graph, node: Node, dims: number[], fail: (m: string) => never): number[] {
  const constInts = (i: number): number[] | undefined => {
    const t = node.inputs[i] ? g.constants.get(node.inputs[i]!) : undefined;
    return t ? Array.from(t.data, Number) : undefined;
  };
  switch (node.op) {
    case 'Identity': return dims;
    case 'Reshape': {
      const target = constInts(1) ?? fail('its target shape is not a constant');
      const out = target.map((d, i) => (d === 0 ? dims[i]! : d));
      const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return out.map((d) => (d === -1 ? sizeOf(dims) / known : d));
    }
    case 'Flatten': {
      const raw = typeof node.attrs.axis === 'number' ? node.attrs.axis : 1;
      const axis = raw < 0 ? raw + dims.length : raw;
      return [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis))];
    }
    case 'Squeeze': {
      const axes = ints(node.attrs.axes) ?? constInts(1);
      const drop = axes ? new Set(norm(axes, dims.length)) : undefined;
      return dims.filter((d, i) => (drop ? !drop.has(i) : d !== 1));
    }
    default: { // Unsqueeze
      const axes = ints(node.attrs.axes) ?? constInts(1) ?? fail('its axes are not constant');
      const rank = dims.length + axes.length;
      const at = new Set(norm(axes, rank));
      const out: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : dims[k++]!);
      return out;
    }
  }
}

/**
 * Cuts each string input's front (value moves, a StringNormalizer, a Tokenizer) out of the graph:
 * the input then stands for the front's output (the tokens, `maxTokens` per string), carries the
 * front as ValueInfo.text, and is a categorical input from there on (categorical.ts gives it its
 * table). A graph without a front is returned as it is.
 */
export function cutTextFront(g: Graph, maxTokens = DEFAULT_MAX_TOKENS): Graph {
  if (!g.nodes.some((n) => (n.op === 'Tokenizer' && n.domain === MS) || n.op === 'StringNormalizer')) return g;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new ZkonnxError('BAD_ARGUMENT', `--max-tokens must be a positive integer, got ${maxTokens}`);
  const readers = readersOf(g.nodes);
  const cut = new Set<Node>();
  const bridges: Node[] = [];
  const shapes = new Map(g.shapes);
  const inputs: ValueInfo[] = g.inputs.map((v) => {
    if (v.dtype !== STRING_TYPE) return v;
    let value = v.name;
    let dims = v.shape;
    /** the front's nodes, each with the shape of its output */
    const chain: { node: Node; dims: number[] }[] = [];
    let normalize: TextSpec['normalize'];
    let tokenize: TextSpec['tokenize'];
    while (!tokenize) {
      const rs = readers.get(value) ?? [];
      const next = rs[0];
      if (!next || (!MOVES.has(next.op) && next.op !== 'StringNormalizer' && !(next.op === 'Tokenizer' && next.domain === MS))) break;
      const fail = (m: string): never => {
        throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(next)}: ${m}`, { file: g.source, node: next.name, op: next.op, hint: 'a text input\'s front (value moves, StringNormalizer, Tokenizer) runs outside the circuit and must be a chain of those ops alone' });
      };
      if (rs.length > 1) {
        if (rs.some((r) => r.op === 'StringNormalizer' || r.op === 'Tokenizer')) fail(`the strings '${value}' are read by ${rs.length} nodes (${rs.map((r) => r.op).join(', ')}); zkonnx runs a text input's StringNormalizer and Tokenizer outside the circuit only where they alone read it`);
        break;
      }
      if (next.op === 'StringNormalizer') {
        if (normalize) fail('a second StringNormalizer in a text input\'s front');
        const a = next.attrs;
        const caseChange = String(a.case_change_action ?? 'NONE').toUpperCase();
        if (!['LOWER', 'UPPER', 'NONE'].includes(caseChange)) fail(`case_change_action ${JSON.stringify(a.case_change_action)} is none of LOWER, UPPER, NONE`);
        const stopwords = Array.isArray(a.stopwords) ? (a.stopwords as string[]) : [];
        // onnxruntime drops stopwords from the tensor: its shape then depends on the input, except for one string ('' is left)
        if (stopwords.length && sizeOf(dims) > 1) fail(`stopwords on ${sizeOf(dims)} strings: onnxruntime drops the ones that are stopwords, so the shape depends on the input`);
        if (dims.length > 2 || (dims.length === 2 && dims[0] !== 1)) fail(`input of shape [${dims}]: onnxruntime's StringNormalizer takes [C] or [1, C]`);
        normalize = { caseChange: caseChange as 'LOWER' | 'UPPER' | 'NONE', caseSensitive: Number(a.is_case_sensitive ?? 0) !== 0, stopwords };
      } else if (next.op === 'Tokenizer') {
        const a = next.attrs;
        if (dims.length !== 1 && dims.length !== 2) fail(`input of shape [${dims}]: the Tokenizer takes [C] or [N, C]`);
        const separators = Array.isArray(a.separators) ? (a.separators as string[]) : undefined;
        const tokenexp = typeof a.tokenexp === 'string' ? a.tokenexp : undefined;
        if (!separators?.length && !tokenexp) fail('it sets neither separators nor tokenexp');
        const mincharnum = Number(a.mincharnum ?? 1);
        if (!(mincharnum >= 1)) fail(`mincharnum=${a.mincharnum} (onnxruntime requires a positive value)`);
        const pad = typeof a.pad_value === 'string' ? a.pad_value : fail('it has no pad_value');
        tokenize = { mark: Number(a.mark ?? 0) !== 0, mincharnum, pad, ...(separators?.length ? { separators } : { tokenexp: tokenexp! }) };
        textMatchers(tokenize, nodeLabel(next)); // a pattern zkonnx cannot read fails here, at compile
        dims = [...dims, maxTokens];
      } else {
        dims = movedShape(g, next, dims, fail);
      }
      chain.push({ node: next, dims });
      value = next.outputs[0]!;
    }
    if (!normalize && !tokenize) return v;
    // the moves after the last StringNormalizer/Tokenizer stay in the graph
    let last = chain.length - 1;
    while (chain[last]!.node.op !== 'StringNormalizer' && chain[last]!.node.op !== 'Tokenizer') last--;
    const front = chain.slice(0, last + 1);
    const frontDims = front[front.length - 1]!.dims;
    for (const { node } of front) cut.add(node);
    bridges.push({ name: `${v.name}:text`, op: 'Identity', domain: '', inputs: [v.name], outputs: [front[front.length - 1]!.node.outputs[0]!], attrs: {} });
    shapes.set(v.name, frontDims);
    const spec: TextSpec = { shape: v.shape, ...(tokenize ? { tokens: maxTokens, tokenize } : {}), ...(normalize ? { normalize } : {}) };
    return { ...v, shape: frontDims, text: spec };
  });
  if (!cut.size) return g;
  // Tokenizers that are no string input's front (on computed strings) stay, and fold refuses them
  const nodes = g.nodes.filter((n) => !cut.has(n));
  return { ...g, inputs, nodes: [...bridges, ...nodes], shapes };
}

/** Where a pool string is the Tokenizer's padding, counts would depend on the padding: refused. */
export function checkPadding(g: Graph, input: ValueInfo, pool: readonly string[], node: Node): void {
  const pad = input.text?.tokenize?.pad;
  if (pad !== undefined && pool.includes(pad)) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${nodeLabel(node)}: its pool lists the Tokenizer's pad_value ${JSON.stringify(pad)} of text input '${input.name}', so its counts would depend on how many tokens the longest text of a batch has`, {
      file: g.source, node: node.name, op: node.op, hint: 'export with a pad_value outside the vocabulary (sklearn-onnx picks one)',
    });
  }
}
