// Einsum as ops zkonnx already proves on signals, with onnxruntime's reading of the equation:
//
//   1. per operand: a repeated index (`ii->i`) is a diagonal, a Gather of the flattened axes;
//      an axis of size 1 that broadcasts against a longer one is dropped (it is constant along
//      that index); indices that no other operand and not the output have are summed (ReduceSum)
//   2. operands folded left to right, each pair as one batched MatMul: indices both share and
//      still need later are the batch, those no one needs later are contracted (K), the others
//      are rows (M) or columns (N); Transposes and Reshapes put each operand in that layout
//   3. a Transpose into the output's order
//
// Every step but the MatMul is data movement (no constraint); a MatMul of two signals costs one
// product per term of its dot products, and a MatMul with a constant operand is linear.
import { sizeOf } from '../ir/graph.js';
import { str, type Expansion, type RewriteContext } from './rewrite.js';

/** An index: a letter, or '.k' for the k-th broadcast dimension of the ellipsis (from the left). */
type Label = string;

/** A tensor being rewritten: its value name, and the index and size of each axis. */
interface Term { name: string; labels: Label[]; dims: number[] }

/** onnxruntime's order of letters in an implicit output: a–z, then A–Z. */
const letterRank = (l: Label) => (l >= 'a' && l <= 'z' ? l.charCodeAt(0) - 97 : 26 + l.charCodeAt(0) - 65);

/** Splits one subscript ("b...ij") into letters and at most one ellipsis. */
function tokens(sub: string, where: string, c: RewriteContext): { before: Label[]; after: Label[]; ellipsis: boolean } {
  const parts = sub.split('...');
  if (parts.length > 2) c.fail(`equation: ${where} '${sub}' has more than one ellipsis`);
  for (const p of parts) {
    const bad = [...p].find((ch) => !/[a-zA-Z]/.test(ch));
    if (bad !== undefined) c.fail(`equation: ${where} '${sub}' holds '${bad}' (indices are letters a–z, A–Z, and '...')`);
  }
  return { before: [...parts[0]!], after: [...(parts[1] ?? '')], ellipsis: parts.length === 2 };
}

/** The equation's indices per operand and of the output, and the size of every index. */
function parse(eq: string, shapes: number[][], c: RewriteContext): { ins: Label[][]; out: Label[]; size: Map<Label, number> } {
  const text = eq.replace(/\s+/g, '');
  const arrow = text.indexOf('->');
  if (arrow !== text.lastIndexOf('->')) c.fail(`equation '${eq}' has more than one '->'`);
  const lhs = (arrow < 0 ? text : text.slice(0, arrow)).split(',');
  if (lhs.length !== shapes.length) c.fail(`equation '${eq}' has ${lhs.length} operand subscripts for ${shapes.length} inputs`);
  // the ellipsis stands for the same broadcast dimensions everywhere, aligned on the right
  const toks = lhs.map((s, i) => tokens(s, `input ${i}`, c));
  const nEll = toks.map((t, i) => {
    const n = shapes[i]!.length - t.before.length - t.after.length;
    if (t.ellipsis ? n < 0 : n !== 0) {
      c.fail(`equation: input ${i} has subscript '${lhs[i]}' (${t.before.length + t.after.length} indices${t.ellipsis ? ' and an ellipsis' : ''}) for shape [${shapes[i]}] of rank ${shapes[i]!.length}`);
    }
    return n;
  });
  const E = Math.max(0, ...nEll);
  const ell = (n: number) => Array.from({ length: n }, (_, k) => `.${E - n + k}`);
  const ins = toks.map((t, i) => [...t.before, ...ell(nEll[i]!), ...t.after]);

  const size = new Map<Label, number>();
  ins.forEach((labels, i) => labels.forEach((l, d) => {
    const n = shapes[i]![d]!;
    const what = l.startsWith('.') ? `broadcast dimension ${l.slice(1)} of the ellipsis` : `index '${l}'`;
    const first = shapes[i]![labels.indexOf(l)]!;
    if (n !== first) c.fail(`equation '${eq}': ${what} repeats in input ${i} (a diagonal) with sizes ${first} and ${n} (shape [${shapes[i]}])`);
    // numpy and onnxruntime broadcast a size of 1 against any other
    const seen = size.get(l);
    if (seen !== undefined && seen !== n && seen !== 1 && n !== 1) c.fail(`equation '${eq}': ${what} has size ${seen} in one input and ${n} in input ${i} (shape [${shapes[i]}])`);
    size.set(l, seen === undefined || seen === 1 ? n : seen);
  }));

  let out: Label[];
  if (arrow >= 0) {
    const t = tokens(text.slice(arrow + 2), 'output', c);
    if (E > 0 && !t.ellipsis) c.fail(`equation '${eq}': the inputs have an ellipsis and the output has none`, 'onnxruntime requires it; write ... in the output');
    out = [...t.before, ...(t.ellipsis ? ell(E) : []), ...t.after];
    const seen = new Set<Label>();
    for (const l of out) {
      if (seen.has(l)) c.fail(`equation '${eq}': output index '${l}' repeats`);
      if (!size.has(l)) c.fail(`equation '${eq}': output index '${l}' is in no input`);
      seen.add(l);
    }
  } else {
    // implicit output: the ellipsis, then the letters that occur once, in onnxruntime's order
    const count = new Map<Label, number>();
    for (const l of ins.flat()) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count].filter(([l, n]) => n === 1 && !l.startsWith('.')).map(([l]) => l).sort((p, q) => letterRank(p) - letterRank(q));
    out = [...ell(E), ...once];
  }
  return { ins, out, size };
}

export const expandEinsum: Expansion = (node, c) => {
  const eq = str(node.attrs.equation, '');
  if (!node.attrs.equation) c.fail('attribute equation is missing');
  if (node.inputs.length === 0 || node.inputs.some((n) => !n)) c.fail('Einsum needs one or more inputs, none omitted');
  const { ins, out, size } = parse(eq, node.inputs.map((n) => c.shapeOf(n)), c);

  // movement helpers that skip what would change nothing
  const reshape = (t: Term, labels: Label[], dims: number[]): Term =>
    t.dims.length === dims.length && t.dims.every((d, i) => d === dims[i]) ? { ...t, labels }
      : { name: c.e.node('Reshape', [t.name, c.e.constant([dims.length], dims)]), labels, dims };
  const permute = (t: Term, perm: number[]): Term => (perm.every((p, i) => p === i) ? t
    : { name: c.e.node('Transpose', [t.name], { perm }), labels: perm.map((p) => t.labels[p]!), dims: perm.map((p) => t.dims[p]!) });
  const transpose = (t: Term, order: Label[]): Term => permute(t, order.map((l) => t.labels.indexOf(l)));
  const sum = (t: Term, drop: Label[]): Term => {
    if (drop.length === 0) return t;
    const axes = drop.map((l) => t.labels.indexOf(l));
    const keep = t.labels.flatMap((l, d) => (axes.includes(d) ? [] : [d]));
    return {
      name: c.e.node('ReduceSum', [t.name, c.e.constant([axes.length], axes)], { keepdims: 0 }),
      labels: keep.map((d) => t.labels[d]!), dims: keep.map((d) => t.dims[d]!),
    };
  };
  const dimsOf = (labels: Label[]) => labels.map((l) => size.get(l)!);

  const terms: Term[] = node.inputs.map((name, i) => {
    let t: Term = { name, labels: ins[i]!, dims: c.shapeOf(name) };
    // diagonals: the axes of a repeated index moved last and flattened; element j of the diagonal
    // is at flat position j·(n^(k−1) + … + n + 1)
    for (const l of new Set(t.labels)) {
      const k = t.labels.filter((x) => x === l).length;
      if (k === 1) continue;
      const rest = t.labels.filter((x) => x !== l);
      const n = t.dims[t.labels.indexOf(l)]!;
      const moved = permute(t, [...t.labels.keys()].sort((p, q) => Number(t.labels[p] === l) - Number(t.labels[q] === l)));
      const flat = reshape(moved, [...rest, l], [...moved.dims.slice(0, rest.length), n ** k]);
      const pick = c.e.constant([n], Array.from({ length: n }, (_, j) => (j * (n ** k - 1)) / (n - 1 || 1)));
      t = { name: c.e.node('Gather', [flat.name, pick], { axis: rest.length }), labels: [...rest, l], dims: [...flat.dims.slice(0, -1), n] };
    }
    // an axis of size 1 against a longer one elsewhere: the operand is constant along that index
    const keep = t.labels.filter((l, d) => t.dims[d] !== 1 || size.get(l) === 1);
    return reshape(t, keep, keep.map((l) => t.dims[t.labels.indexOf(l)]!));
  });

  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) {
    let x = terms[i]!;
    const later = new Set([...out, ...terms.slice(i + 1).flatMap((t) => t.labels)]);
    // what only one of the pair has and no one needs later is summed first
    acc = sum(acc, acc.labels.filter((l) => !x.labels.includes(l) && !later.has(l)));
    x = sum(x, x.labels.filter((l) => !acc.labels.includes(l) && !later.has(l)));
    const both = acc.labels.filter((l) => x.labels.includes(l));
    const batch = both.filter((l) => later.has(l));
    const contract = both.filter((l) => !later.has(l));
    const rows = acc.labels.filter((l) => !x.labels.includes(l));
    const cols = x.labels.filter((l) => !acc.labels.includes(l));
    const [M, K, N] = [rows, contract, cols].map((ls) => sizeOf(dimsOf(ls))) as [number, number, number];
    const a = reshape(transpose(acc, [...batch, ...rows, ...contract]), [], [...dimsOf(batch), M, K]);
    const b = reshape(transpose(x, [...batch, ...contract, ...cols]), [], [...dimsOf(batch), K, N]);
    const prod: Term = { name: c.e.node('MatMul', [a.name, b.name]), labels: [], dims: [...dimsOf(batch), M, N] };
    const labels = [...batch, ...rows, ...cols];
    acc = reshape(prod, labels, dimsOf(labels));
  }
  // what is left of a single operand's indices is summed; the rest is put in the output's order
  acc = transpose(sum(acc, acc.labels.filter((l) => !out.includes(l))), out);
  c.e.node('Identity', [acc.name], {}, [node.outputs[0]!]);
};
