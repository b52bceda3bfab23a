// TfIdfVectorizer: the counts of a pool's n-grams in a sequence of integers (token ids, or a text
// input's token codes, text.ts), as onnxruntime counts them:
//
//   E[p, d]   = [x_p = d]                       one Equal per position and distinct pool token
//   unigram d : Σ_p E[p, d]                     (counted once, whatever max_skip_count)
//   n-gram    : Σ_{s ≤ max_skip} Σ_p Π_k E[p + k(s+1), d_k]      one product per factor after the first
//
// then placed at their ngram_indexes columns (and weighted: TFIDF count·w, IDF w where the count
// is > 0) by one constant matrix, which is linear: no constraints. N-grams whose length lies
// outside [min_gram_length, max_gram_length] stay 0.
import { CODES_ATTR } from './categorical.js';
import { nums, num, str, type Expansion } from './rewrite.js';
import { maxOf } from '../arrays.js';

const floats = (v: unknown): number[] => (v instanceof Float32Array ? Array.from(v) : Array.isArray(v) ? v.map(Number) : []);

export const tfIdfVectorizer: Expansion = (node, c) => {
  const a = node.attrs;
  const x = node.inputs[0]!;
  const shape = c.shapeOf(x);
  if (shape.length !== 1 && shape.length !== 2) c.fail(`input of shape [${shape}]: TfIdfVectorizer takes [C] or [N, C]`);
  if (!c.intValued(x)) c.fail('its input is not integer-valued: it counts token ids (int32/int64) or the tokens of a text input');
  const pool = a[CODES_ATTR] !== undefined ? nums(a[CODES_ATTR]) : nums(a.pool_int64s);
  if (!pool.length) c.fail('its pool is empty (neither pool_int64s nor pool_strings)');
  const starts = nums(a.ngram_counts);
  const indexes = nums(a.ngram_indexes);
  const minN = num(a.min_gram_length, 1);
  const maxN = num(a.max_gram_length, 1);
  const maxSkip = num(a.max_skip_count, 0);
  const mode = str(a.mode, 'TF');
  if (!['TF', 'IDF', 'TFIDF'].includes(mode)) c.fail(`mode ${JSON.stringify(mode)} is none of TF, IDF, TFIDF`);
  if (!(minN >= 1 && maxN >= minN && maxSkip >= 0)) c.fail(`min_gram_length=${minN}, max_gram_length=${maxN}, max_skip_count=${maxSkip}: need 1 ≤ min ≤ max and skips ≥ 0`);
  const weights = floats(a.weights);

  // the pool's n-grams, in pool order: length n from ngram_counts' start offsets
  const grams: { items: number[]; n: number }[] = [];
  starts.forEach((start, i) => {
    const n = i + 1;
    const end = starts[i + 1] ?? pool.length;
    if ((end - start) % n !== 0 || end < start) c.fail(`ngram_counts [${starts}] does not cut its pool of ${pool.length} into ${n}-grams at ${start}…${end}`);
    for (let p = start; p < end; p += n) grams.push({ items: pool.slice(p, p + n), n });
  });
  if (indexes.length !== grams.length) c.fail(`ngram_indexes has ${indexes.length} entries for the pool's ${grams.length} n-grams`);
  if (weights.length && weights.length !== grams.length) c.fail(`weights has ${weights.length} entries for the pool's ${grams.length} n-grams`);
  const width = maxOf(indexes) + 1;
  if (!Number.isInteger(width) || indexes.some((i) => !Number.isInteger(i) || i < 0)) c.fail(`ngram_indexes [${indexes.slice(0, 8)}…] are not column indices`);

  const counted = grams.map((gr, j) => ({ ...gr, j })).filter((gr) => gr.n >= minN && gr.n <= maxN);
  const rank = shape.length;
  const C = shape[rank - 1]!;
  if (!counted.length) c.fail(`no n-gram of its pool has a length in [${minN}, ${maxN}]: every count is 0`);

  // E[.., p, d] = [x_p = d] for the distinct tokens d the counted n-grams use
  const tokens = [...new Set(counted.flatMap((gr) => gr.items))];
  const col = new Map(tokens.map((d, i) => [d, i]));
  const eq = c.e.node('Cast', [c.e.node('Equal', [
    c.e.node('Unsqueeze', [x, c.e.constant([1], [rank])]),
    c.e.constant([tokens.length], tokens, 'public', 'pool'),
  ])], { to: 1 });
  const slice = (t: string, from: number, len: number) => c.e.node('Slice', [t, c.e.constant([1], [from]), c.e.constant([1], [from + len]), c.e.constant([1], [rank - 1])]);
  const sumPositions = (t: string) => c.e.node('ReduceSum', [t, c.e.constant([1], [rank - 1])], { keepdims: 0 });

  // counts by length, each [.., grams of that length], concatenated in pool order
  const parts: string[] = [];
  const order: number[] = [];
  for (let n = minN; n <= maxN; n++) {
    const of = counted.filter((gr) => gr.n === n);
    if (!of.length) continue;
    const factor = (k: number) => c.e.node('Gather', [eq, c.e.constant([of.length], of.map((gr) => col.get(gr.items[k]!)!))], { axis: rank });
    const factors = Array.from({ length: n }, (_, k) => factor(k));
    let total: string | undefined;
    for (let s = 0; s <= (n === 1 ? 0 : maxSkip); s++) {
      const span = (n - 1) * (s + 1);
      if (span >= C) break;
      let prod = slice(factors[0]!, 0, C - span);
      for (let k = 1; k < n; k++) prod = c.e.node('Mul', [prod, slice(factors[k]!, k * (s + 1), C - span)]);
      const cnt = sumPositions(prod);
      total = total ? c.e.node('Add', [total, cnt]) : cnt;
    }
    if (!total) continue; // no n-gram this long fits in C tokens: its counts are 0
    parts.push(total);
    order.push(...of.map((gr) => gr.j));
  }
  if (!parts.length) c.fail(`its input holds ${C} tokens, fewer than any counted n-gram needs`);
  const counts = parts.length === 1 ? parts[0]! : c.e.node('Concat', parts, { axis: rank - 1 });
  // column placement and weights: one constant [counted, width] matrix
  const w = (j: number) => (mode === 'TF' || !weights.length ? 1 : weights[j]!);
  const place = new Float64Array(order.length * width);
  order.forEach((j, r) => { place[r * width + indexes[j]!] += w(j); });
  const present = mode === 'IDF' ? c.e.node('Cast', [c.e.node('Greater', [counts, c.e.constant([], [0], 'public')])], { to: 1 }) : counts;
  // with --weights hashed the TF-IDF weights are committed; a TF placement is the model's structure
  const weighted = mode !== 'TF' && weights.length > 0;
  c.e.node('MatMul', [present, c.e.constant([order.length, width], place, weighted ? 'weight' : 'public', weighted ? 'weights' : 'columns')], {}, [node.outputs[0]!]);
};
