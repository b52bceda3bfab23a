// scikit-learn models as sklearn-onnx writes them (its converters' node patterns, written with
// zkonnx's own ONNX writer), for bench:sklearn and the tests: the MLP classifier's
// classes[ArgMax(probabilities)], k-NN's cdist (a Scan over the training rows), TopK, votes and
// classes[ArgMax] (the regressor: the neighbours' mean target), the Gaussian-process regressor's RBF kernel of the same cdist, and a binary SVC
// with Platt probabilities. The callers give the weights and data.
import { attr, type AttrValue, type ModelSpec, type NodeSpec, type TensorSpec } from '../src/onnx/write.js';

const ML = 'ai.onnx.ml';
const f32 = (dims: number[], data: readonly number[]): TensorSpec => ({ dims, data: Float32Array.from(data) });
const i64 = (data: readonly number[]): TensorSpec => ({ dims: [data.length], data: BigInt64Array.from(data.map(BigInt)) });
/** A class table: strings, or int32 (what sklearn-onnx writes for integer classes). */
const classTable = (classes: readonly number[] | readonly string[]): TensorSpec =>
  (typeof classes[0] === 'string' ? { dims: [classes.length], data: [...classes as string[]] } : { dims: [classes.length], data: Int32Array.from(classes as number[]) });
const isStrings = (classes: readonly number[] | readonly string[]) => typeof classes[0] === 'string';

/** sklearn-onnx's cdist(X, XB) of F columns: a Scan over XB's rows with X as the state, Σ (x − row)² per row, transposed to [rows of X, rows of XB]. */
export function cdistNodes(x: string, xb: string, out: string, F: number): NodeSpec[] {
  const body = attr.graph({
    name: 'cdist_body',
    inputs: [{ name: 'next_in', shape: ['n', F] }, { name: 'next', shape: [F] }],
    outputs: [{ name: 'next_out', shape: ['n', F] }, { name: 'scan_out', shape: ['n'] }],
    nodes: [
      { name: 'diff', op: 'Sub', inputs: ['next_in', 'next'], outputs: ['d'], attrs: {} },
      { name: 'norm', op: 'ReduceSumSquare', inputs: ['d'], outputs: ['nrm'], attrs: { axes: [1], keepdims: 0 } },
      { name: 'flat', op: 'Identity', inputs: ['nrm'], outputs: ['scan_out'], attrs: {} },
      { name: 'id', op: 'Identity', inputs: ['next_in'], outputs: ['next_out'], attrs: {} },
    ],
  });
  return [
    { name: `/cdist_${out}/scan`, op: 'Scan', inputs: [x, xb], outputs: [`${out}_u0`, `${out}_u1`], attrs: { body, num_scan_inputs: 1 } },
    { name: `/cdist_${out}/transpose`, op: 'Transpose', inputs: [`${out}_u1`], outputs: [out], attrs: { perm: [1, 0] } },
  ];
}

/** label = classes[index] reshaped to [N] (cast to int64 for integer classes), as sklearn-onnx ends its classifiers. */
function labelNodes(index: string, classes: readonly number[] | readonly string[], pick: 'afe' | 'gather'): NodeSpec[] {
  return [
    pick === 'afe'
      ? { name: '/afe', op: 'ArrayFeatureExtractor', domain: ML, inputs: ['classes', index], outputs: ['picked'], attrs: {} }
      : { name: '/afe', op: 'Gather', inputs: ['classes', index], outputs: ['picked'], attrs: { axis: 0 } },
    ...(isStrings(classes)
      ? [{ name: '/label', op: 'Reshape', inputs: ['picked', 'flat'], outputs: ['label'], attrs: {} }]
      : [{ name: '/cast', op: 'Cast', inputs: ['picked'], outputs: ['picked64'], attrs: { to: 7 } }, { name: '/label', op: 'Reshape', inputs: ['picked64', 'flat'], outputs: ['label'], attrs: {} }]),
  ];
}

export interface MlpWeights { w1: number[]; b1: number[]; w2: number[]; b2: number[] }

/**
 * MLPClassifier: probabilities = softmax(relu(x·W1 + b1)·W2 + b2) on N rows of F features, label =
 * classes[ArgMax] through ArrayFeatureExtractor (`pick` 'gather': a Gather of a Constant node).
 */
export function mlpClassifier(name: string, N: number, F: number, hidden: number, w: MlpWeights, classes: readonly number[] | readonly string[], pick: 'afe' | 'gather' = 'afe'): ModelSpec {
  const C = classes.length;
  const nodes: NodeSpec[] = [
    { name: '/mm1', op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h1'], attrs: {} },
    { name: '/add1', op: 'Add', inputs: ['h1', 'b1'], outputs: ['z1'], attrs: {} },
    { name: '/relu', op: 'Relu', inputs: ['z1'], outputs: ['a1'], attrs: {} },
    { name: '/mm2', op: 'MatMul', inputs: ['a1', 'w2'], outputs: ['h2'], attrs: {} },
    { name: '/add2', op: 'Add', inputs: ['h2', 'b2'], outputs: ['z2'], attrs: {} },
    { name: '/softmax', op: 'Softmax', inputs: ['z2'], outputs: ['probabilities'], attrs: { axis: 1 } },
    { name: '/argmax', op: 'ArgMax', inputs: ['probabilities'], outputs: ['am'], attrs: { axis: 1 } },
    ...labelNodes('am', classes, pick),
  ];
  if (pick === 'gather') nodes.unshift({ name: '/classes', op: 'Constant', inputs: [], outputs: ['classes'], attrs: { value: classTable(classes) } });
  return {
    graphName: name, opsets: { [ML]: 1 },
    inputs: [{ name: 'x', shape: [N, F] }],
    outputs: [{ name: 'label', shape: [N], type: isStrings(classes) ? 'string' : 'int64' }, { name: 'probabilities', shape: [N, C] }],
    initializers: [
      { name: 'w1', ...f32([F, hidden], w.w1) }, { name: 'b1', ...f32([hidden], w.b1) },
      { name: 'w2', ...f32([hidden, C], w.w2) }, { name: 'b2', ...f32([C], w.b2) },
      { name: 'flat', ...i64([-1]) },
      ...(pick === 'afe' ? [{ name: 'classes', ...classTable(classes) }] : []),
    ],
    nodes,
  };
}

/**
 * The k nearest training rows of each input row (euclidean, as sklearn-onnx's k-NN converters
 * find them) and `values`[their indices] as `out` [M, k]; initializers train, k, shape_k (and
 * minus with `negate`) come from the caller.
 */
function neighbourNodes(F: number, negate: boolean, values: string, out: string): NodeSpec[] {
  return [
    ...cdistNodes('x', 'train', 'sq', F),
    { name: '/sqrt', op: 'Sqrt', inputs: ['sq'], outputs: ['dist'], attrs: {} },
    ...(negate
      ? [{ name: '/neg', op: 'Mul', inputs: ['dist', 'minus'], outputs: ['neg'], attrs: {} }, { name: '/topk', op: 'TopK', inputs: ['neg', 'k'], outputs: ['top', 'top_indices'], attrs: { axis: 1 } }]
      : [{ name: '/topk', op: 'TopK', inputs: ['dist', 'k'], outputs: ['top', 'top_indices'], attrs: { axis: 1, largest: 0, sorted: 1 } }]),
    { name: '/flatten', op: 'Flatten', inputs: ['top_indices'], outputs: ['flat_indices'], attrs: {} },
    { name: '/labels', op: 'ArrayFeatureExtractor', domain: ML, inputs: [values, 'flat_indices'], outputs: ['extracted'], attrs: {} },
    { name: '/reshape', op: 'Reshape', inputs: ['extracted', 'shape_k'], outputs: [out], attrs: {} },
  ];
}

/** KNeighborsRegressor (uniform weights): the mean of the k nearest training rows' targets, [M, 1]. */
export function knnRegressor(name: string, M: number, F: number, k: number, train: number[], targets: number[]): ModelSpec {
  return {
    graphName: name, opset: 11, opsets: { [ML]: 1 },
    inputs: [{ name: 'x', shape: [M, F] }], outputs: [{ name: 'y', shape: [M, 1] }],
    initializers: [{ name: 'train', ...f32([targets.length, F], train) }, { name: 'targets', ...f32([targets.length], targets) }, { name: 'k', ...i64([k]) }, { name: 'shape_k', ...i64([-1, k]) }],
    nodes: [
      ...neighbourNodes(F, false, 'targets', 'neighbour_targets'),
      { name: '/mean', op: 'ReduceMean', inputs: ['neighbour_targets'], outputs: ['y'], attrs: { axes: [1], keepdims: 1 } },
    ],
  };
}

/**
 * KNeighborsClassifier (euclidean) on M rows of F features: the training rows [T, F] with their
 * class indices, k neighbours by TopK (the k smallest distances, as opset 11 on writes it;
 * `negate`: the k largest of −distance, as before), their labels by ArrayFeatureExtractor, a vote
 * per class (`distance`: weighted by 1 / max(distance, 1e−6)), probabilities = votes / their sum,
 * label = classes[ArgMax].
 */
export function knnClassifier(name: string, M: number, F: number, k: number, train: number[], trainLabels: number[], classes: readonly number[] | readonly string[], o: { negate?: boolean; distance?: boolean } = {}): ModelSpec {
  const T = trainLabels.length;
  const C = classes.length;
  const weights: NodeSpec[] = o.distance
    ? [{ name: '/floor', op: 'Max', inputs: ['top', 'eps'], outputs: ['top_floor'], attrs: {} }, { name: '/weights', op: 'Reciprocal', inputs: ['top_floor'], outputs: ['wei'], attrs: {} }]
    : [];
  const votes: NodeSpec[] = classes.flatMap((_, cl): NodeSpec[] => [
    { name: `/eq${cl}`, op: 'Equal', inputs: ['neighbour_labels', `cl${cl}`], outputs: [`eq${cl}`], attrs: {} },
    { name: `/cast${cl}`, op: 'Cast', inputs: [`eq${cl}`], outputs: [o.distance ? `hit${cl}` : `votes${cl}`], attrs: { to: 1 } },
    ...(o.distance ? [{ name: `/weigh${cl}`, op: 'Mul', inputs: [`hit${cl}`, 'wei'], outputs: [`votes${cl}`], attrs: {} }] : []),
    { name: `/sum${cl}`, op: 'ReduceSum', inputs: [`votes${cl}`], outputs: [`wh${cl}`], attrs: { axes: [1] } },
  ]);
  return {
    graphName: name, opset: 11, opsets: { [ML]: 1 },
    inputs: [{ name: 'x', shape: [M, F] }],
    outputs: [{ name: 'label', shape: [M], type: isStrings(classes) ? 'string' : 'int64' }, { name: 'probabilities', shape: [M, C] }],
    initializers: [
      { name: 'train', ...f32([T, F], train) }, { name: 'train_labels', ...i64(trainLabels) },
      { name: 'minus', ...f32([1], [-1]) }, { name: 'k', ...i64([k]) }, { name: 'shape_k', ...i64([-1, k]) }, { name: 'flat', ...i64([-1]) },
      { name: 'eps', ...f32([1], [1e-6]) },
      ...classes.map((_, cl) => ({ name: `cl${cl}`, ...i64([cl]) })),
      { name: 'classes', ...classTable(classes) },
    ],
    nodes: [
      ...neighbourNodes(F, o.negate ?? false, 'train_labels', 'neighbour_labels'),
      ...weights,
      ...votes,
      { name: '/concat', op: 'Concat', inputs: classes.map((_, cl) => `wh${cl}`), outputs: ['all'], attrs: { axis: 1 } },
      { name: '/total', op: 'ReduceSum', inputs: ['all'], outputs: ['total'], attrs: { axes: [1], keepdims: 1 } },
      { name: '/probabilities', op: 'Div', inputs: ['all', 'total'], outputs: ['probabilities'], attrs: {} },
      { name: '/argmax', op: 'ArgMax', inputs: ['all'], outputs: ['winner'], attrs: { axis: 1, keepdims: 0 } },
      ...labelNodes('winner', classes, 'afe'),
    ],
  };
}

/**
 * GaussianProcessRegressor with c·RBF(length scale ls): y = c·exp(−½·cdist(x/ls, train/ls))·alpha
 * + mean, on M rows of F features, as [M, 1].
 */
export function gpRegressor(name: string, M: number, F: number, train: number[], ls: number, c: number, alpha: number[], mean: number): ModelSpec {
  const T = alpha.length;
  return {
    graphName: name, opset: 13,
    inputs: [{ name: 'x', shape: [M, F] }], outputs: [{ name: 'y', shape: [M, 1] }],
    initializers: [
      { name: 'train_scaled', ...f32([T, F], train.map((v) => v / ls)) }, { name: 'ls', ...f32([1], [ls]) },
      { name: 'half', ...f32([1], [-0.5]) }, { name: 'c', ...f32([1], [c]) },
      { name: 'alpha', ...f32([T, 1], alpha) }, { name: 'mean', ...f32([1, 1], [mean]) }, { name: 'col', ...i64([-1, 1]) },
    ],
    nodes: [
      { name: '/scale', op: 'Div', inputs: ['x', 'ls'], outputs: ['xs'], attrs: {} },
      ...cdistNodes('xs', 'train_scaled', 'sq', F),
      { name: '/neg_half', op: 'Mul', inputs: ['sq', 'half'], outputs: ['e'], attrs: {} },
      { name: '/exp', op: 'Exp', inputs: ['e'], outputs: ['k_rbf'], attrs: {} },
      { name: '/const', op: 'Mul', inputs: ['k_rbf', 'c'], outputs: ['k'], attrs: {} },
      { name: '/matmul', op: 'MatMul', inputs: ['k', 'alpha'], outputs: ['ym'], attrs: {} },
      { name: '/add', op: 'Add', inputs: ['ym', 'mean'], outputs: ['yb'], attrs: {} },
      { name: '/reshape', op: 'Reshape', inputs: ['yb', 'col'], outputs: ['y'], attrs: {} },
    ],
  };
}

/**
 * An SVC (RBF kernel, γ) with probability=True on M rows of F features: support vectors [V, F]
 * grouped by class (perClass), dual coefficients [k − 1, V], rho and Platt's A and B per pair of
 * classes.
 */
export function svcProbability(name: string, M: number, F: number, gamma: number, supportVectors: number[], perClass: number[], coefficients: number[], rho: number[], platt: [number[], number[]], classes: readonly number[] | readonly string[]): ModelSpec {
  const labels: Record<string, AttrValue> = isStrings(classes) ? { classlabels_strings: [...classes as string[]] } : { classlabels_ints: [...classes as number[]] };
  return {
    graphName: name, opsets: { [ML]: 1 },
    inputs: [{ name: 'x', shape: [M, F] }],
    outputs: [{ name: 'label', shape: [M], type: isStrings(classes) ? 'string' : 'int64' }, { name: 'probabilities', shape: [M, classes.length] }],
    initializers: [],
    nodes: [{
      name: '/svc', op: 'SVMClassifier', domain: ML, inputs: ['x'], outputs: ['label', 'probabilities'], attrs: {
        ...labels, vectors_per_class: perClass, kernel_type: 'RBF', kernel_params: attr.floats([gamma, 0, 3]),
        support_vectors: attr.floats(supportVectors), coefficients: attr.floats(coefficients), rho: attr.floats(rho),
        prob_a: attr.floats(platt[0]), prob_b: attr.floats(platt[1]),
      },
    }],
  };
}

/** A text vectorizer's vocabulary, as sklearn's CountVectorizer / TfidfVectorizer(ngram_range=(1, 2)) holds it. */
export interface TextVocabulary {
  /** The vocabulary's single words, and its word pairs; a pair's words need not be single-word terms. */
  words: readonly string[];
  bigrams: readonly (readonly [string, string])[];
  /** Tokenizer pad_value (sklearn-onnx picks one outside the vocabulary). */
  pad?: string;
  /** binary=True: a term's presence, not its count (sklearn-onnx casts to bool and back). */
  binary?: boolean;
}

export interface TextPipeline extends TextVocabulary {
  /** idf per term and LinearClassifier coefficients [classes × terms], terms in sklearn's (alphabetical) column order. */
  idf: readonly number[];
  coefficients: readonly number[];
  intercepts: readonly number[];
  classes: readonly string[];
}

/** The columns of a text pipeline's terms: sklearn sorts its vocabulary. */
export const textTerms = (t: Pick<TextVocabulary, 'words' | 'bigrams'>): string[] => [...t.words, ...t.bigrams.map((b) => b.join(' '))].sort();

/**
 * What sklearn-onnx writes for the vectorizer of one document, into `out` (term counts or
 * presences in column order): Reshape → StringNormalizer (lower case, the stopword 'the') →
 * Tokenizer (com.microsoft, sklearn-onnx's default tokenexp) → Flatten → TfIdfVectorizer (TF, the
 * pool by n-gram length, each n-gram's sklearn column in ngram_indexes) [→ Cast to bool and back].
 */
function vectorizerNodes(t: TextVocabulary, out: string): NodeSpec[] {
  const terms = textTerms(t);
  const pool = [...t.words.map((w) => [w]), ...t.bigrams];
  const counts = t.binary ? `${out}_counts` : out;
  return [
    { name: 'flatten_in', op: 'Reshape', inputs: ['text', 'flat'], outputs: ['flattened'] },
    { name: 'normalize', op: 'StringNormalizer', inputs: ['flattened'], outputs: ['normalized'], attrs: { case_change_action: 'LOWER', is_case_sensitive: 0, stopwords: ['the'] } },
    { name: 'tokenize', op: 'Tokenizer', domain: 'com.microsoft', inputs: ['normalized'], outputs: ['tokenized'], attrs: { pad_value: t.pad ?? '#', mark: 0, mincharnum: 1, tokenexp: '[a-zA-Z0-9_]+' } },
    { name: 'flatten_tokens', op: 'Flatten', inputs: ['tokenized'], outputs: ['tokens'] },
    {
      name: 'ngrams', op: 'TfIdfVectorizer', inputs: ['tokens'], outputs: [counts],
      attrs: {
        min_gram_length: 1, max_gram_length: 2, mode: 'TF', max_skip_count: 0,
        pool_strings: pool.flat(), ngram_counts: [0, t.words.length],
        ngram_indexes: pool.map((g) => terms.indexOf(g.join(' '))), weights: attr.floats(terms.map(() => 1)),
      },
    },
    ...(t.binary ? [
      { name: 'present', op: 'Cast', inputs: [counts], outputs: ['present'], attrs: { to: 9 } },
      { name: 'present_f', op: 'Cast', inputs: ['present'], outputs: [out], attrs: { to: 1 } },
    ] : []),
  ];
}

const textInput = { inputs: [{ name: 'text', shape: ['N', 1] as (number | string)[], type: 'string' as const }] };

/**
 * Pipeline([TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression()]) on one document with
 * string classes: the vectorizer (vectorizerNodes) → Mul (idf) → Normalizer (L2) →
 * LinearClassifier (SOFTMAX).
 */
export function tfidfClassifier(name: string, t: TextPipeline): ModelSpec {
  const V = textTerms(t).length;
  return {
    graphName: name, opsets: { [ML]: 1, 'com.microsoft': 1, '': 13 }, ...textInput,
    outputs: [{ name: 'label', shape: ['N'], type: 'string' }, { name: 'probabilities', shape: ['N', t.classes.length] }],
    initializers: [{ name: 'flat', ...i64([-1]) }, { name: 'idf', ...f32([V], t.idf) }],
    nodes: [
      ...vectorizerNodes(t, 'tf'),
      { name: 'idf_mul', op: 'Mul', inputs: ['tf', 'idf'], outputs: ['tfidf'] },
      { name: 'l2', op: 'Normalizer', domain: ML, inputs: ['tfidf'], outputs: ['features'], attrs: { norm: 'L2' } },
      {
        name: 'clf', op: 'LinearClassifier', domain: ML, inputs: ['features'], outputs: ['label', 'probabilities'],
        attrs: { coefficients: attr.floats([...t.coefficients]), intercepts: attr.floats([...t.intercepts]), classlabels_strings: [...t.classes], post_transform: 'SOFTMAX' },
      },
    ],
  };
}

/**
 * Pipeline([CountVectorizer(ngram_range=(1, 2)), MultinomialNB()]) as sklearn-onnx converts it:
 * jll = counts · feature_log_prob_ᵀ + class_log_prior_, label = classes[ArgMax(jll)],
 * probabilities = Exp(jll − ReduceLogSumExp(jll)).
 */
export function countNaiveBayes(name: string, t: TextVocabulary & { featureLogProb: readonly number[]; classLogPrior: readonly number[]; classes: readonly string[] }): ModelSpec {
  const V = textTerms(t).length;
  const C = t.classes.length;
  const logProbT = Array.from({ length: V * C }, (_, i) => t.featureLogProb[(i % C) * V + Math.floor(i / C)]!);
  return {
    graphName: name, opsets: { [ML]: 1, 'com.microsoft': 1, '': 13 }, ...textInput,
    outputs: [{ name: 'label', shape: ['N'], type: 'string' }, { name: 'probabilities', shape: ['N', C] }],
    initializers: [
      { name: 'flat', ...i64([-1]) }, { name: 'feature_log_prob', ...f32([V, C], logProbT) }, { name: 'class_log_prior', ...f32([C], t.classLogPrior) },
      { name: 'classes', ...classTable(t.classes) },
    ],
    nodes: [
      ...vectorizerNodes(t, 'counts'),
      { name: '/matmul', op: 'MatMul', inputs: ['counts', 'feature_log_prob'], outputs: ['jl'] },
      { name: '/prior', op: 'Add', inputs: ['jl', 'class_log_prior'], outputs: ['jll'] },
      { name: '/argmax', op: 'ArgMax', inputs: ['jll'], outputs: ['am'], attrs: { axis: 1 } },
      { name: '/lse', op: 'ReduceLogSumExp', inputs: ['jll'], outputs: ['lse'], attrs: { axes: [1], keepdims: 1 } },
      { name: '/log_prob', op: 'Sub', inputs: ['jll', 'lse'], outputs: ['log_prob'] },
      { name: '/probabilities', op: 'Exp', inputs: ['log_prob'], outputs: ['probabilities'] },
      ...labelNodes('am', t.classes, 'afe'),
    ],
  };
}
