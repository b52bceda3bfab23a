// The `ai.onnx.ml` operators that sklearn-onnx and onnxmltools emit, rewritten into default-domain
// ops during shape inference, so that they go through the same lowering as every other op:
//
//   Scaler               (x − offset)·scale                                      linear
//   Normalizer           x / max | Σ|x| | √Σx²  per row (a zero row stays 0)   ReduceMax/L1/L2, Div
//   LinearRegressor      x·Wᵀ + b                                                Gemm
//   LinearClassifier     scores x·Wᵀ + b, post-transform, label = argmax        Gemm, Softmax/Sigmoid, ArgMax
//                          binary with one row: label s > 0, scores σ([−s, s]) or [1 − s, s]
//   Binarizer            x > threshold                                           Greater, Cast
//   ZipMap               the probabilities themselves (a tensor, not a map)      Identity
//   ArrayFeatureExtractor  X[..., indices]; indices from the input: one Equal each  Gather
//   FeatureVectorizer    inputs side by side, cut or zero-padded to their widths MatMul (selection), Concat
//   Imputer              x = replaced ? imputed : x (NaN: no input is NaN)       Equal, Where
//   OneHotEncoder        [x = c_j] per category, appended as a last axis         Equal (integers), Less (floats: trunc)
//                          zeros=0: the circuit refuses an unknown category: √(Σ_j onehot_j − 1)
//                          exists only where the sum is 1 (FloorSqrt proves its radicand ≥ 0)
//   LabelEncoder,        default + Σ_j (value_j − default)·[x = key_j]            Equal, MatMul
//     CategoryMapper       keys and values as lists (opsets 1–3) or numeric tensors (opset 4)
//   SVMClassifier        kernels K(x, sv) (LINEAR, POLY, RBF, SIGMOID), one score per pair of classes,
//                          votes, label = most votes; binary: one score s, label = s > 0 ? first : second,
//                          scores [−s, s] (NONE); without support vectors: x·Wᵀ + ρ, label = argmax
//   SVMRegressor         coefficients · kernels + ρ, or coefficients · x + ρ; one_class: ±1 = sign
//   TreeEnsemble-        every branch a comparison of one feature with a constant; a leaf is
//     Classifier/          reached when all the conditions on its path hold (their count equals
//     Regressor            the path's length: one Equal); scores = Σ leaf weights · reached;
//                          binary classifiers as onnxruntime scores and labels them (binaryTrees)
//
// Labels: with 0, 1, …, C − 1 (sklearn's integer classes) the label is the ArgMax itself, with
// evenly spaced integers an affine function of it, with any other integers a lookup (one Equal
// per class). Strings are codes (categorical.ts): string inputs are compared as codes, and string
// labels and values (classlabels_strings, values_strings, cats_strings from integers) are output
// as the codes of a table compile records.
// SVM probabilities (prob_a, prob_b) of k ≥ 3 classes: the exact coupled p (coupledProbabilities).
// --weights hashed commits to the constants a rule marks 'weight' or 'threshold' (a Scaler's
// offset and scale, a Binarizer's threshold; a linear model's coefficients and intercepts; an
// SVM's support vectors, coefficients, rho and Platt parameters; a tree ensemble's branch
// values, leaf weights and base values); every other
// constant of these rewrites (kernel parameters, paths, votes, labels) is public structure.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { AttrValue, Node } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { CODES_ATTR, DEFAULT_CODE_ATTR, tensorStrings, VALUE_CODES_ATTR } from './categorical.js';
import { num, nums, str, strs, type Emit, type Expansion, type RewriteContext } from './rewrite.js';
import { maxOf } from '../arrays.js';

export const ML_DOMAIN = 'ai.onnx.ml';

/** The rewrite of an ai.onnx.ml node (run by shape inference, src/onnx/fold.ts), or an error naming what is supported. */
export function mlExpansion(node: Node, source: string): Expansion {
  const rule = RULES[node.op];
  if (!rule) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: the ai.onnx.ml operator ${node.op} is not supported`, {
      file: source, node: node.name, op: node.op, hint: `supported in ai.onnx.ml: ${Object.keys(RULES).join(', ')}`,
    });
  }
  return (n, c) => rule(n, c.e, c.fail, c);
}

type Rule = (node: Node, e: Emit, fail: (m: string, hint?: string) => never, c: RewriteContext) => void;

/** The output node of a rewrite writes the ML node's own output name. */
const out = (node: Node, i = 0) => [node.outputs[i]!];

/** scores → post_transform → node.outputs[i] */
function postTransform(node: Node, e: Emit, fail: (m: string) => never, scores: string, outIndex: number): void {
  const pt = str(node.attrs.post_transform, 'NONE');
  const target = node.outputs[outIndex];
  if (!target) return;
  if (pt === 'NONE') e.node('Identity', [scores], {}, [target]);
  else if (pt === 'LOGISTIC') e.node('Sigmoid', [scores], {}, [target]);
  else if (pt === 'SOFTMAX') e.node('Softmax', [scores], { axis: -1 }, [target]);
  else fail(`post_transform ${pt} is not supported (supported: NONE, LOGISTIC, SOFTMAX)`);
}

/**
 * label = classlabels[argmax(scores)]: the ArgMax itself where the labels are 0 … C − 1 (string
 * labels are their codes: categorical.ts), affine in it where they are evenly spaced, else a
 * lookup (one Equal per class).
 */
function labelOf(node: Node, e: Emit, fail: (m: string, hint?: string) => never, scores: string, nClasses: number): void {
  const target = node.outputs[0];
  if (!target) return;
  const labels = nums(node.attrs.classlabels_ints ?? node.attrs.classlabels_int64s);
  if (labels.length !== nClasses) fail(`${labels.length} class labels for ${nClasses} scores`);
  const step = labels.length > 1 ? labels[1]! - labels[0]! : 1;
  if (labels.some((l, i) => l !== labels[0]! + i * step)) {
    const at = e.node('ArgMax', [scores], { axis: -1, keepdims: 1 });
    const hit = e.node('Cast', [e.node('Equal', [at, e.constant([nClasses], labels.map((_, j) => j))])], { to: 1 });
    e.node('MatMul', [hit, e.constant([nClasses], labels)], {}, [target]);
    return;
  }
  const idx = e.node('ArgMax', [scores], { axis: -1, keepdims: 0 });
  if (labels[0] === 0 && step === 1) { e.node('Identity', [idx], {}, [target]); return; }
  const scaled = e.node('Mul', [idx, e.constant([], [step])]);
  e.node('Add', [scaled, e.constant([], [labels[0]!])], {}, [target]);
}

/** The values of a tensor attribute (LabelEncoder opset 4: keys_tensor, values_tensor, default_tensor). */
const tensorValues = (v: AttrValue | undefined): number[] | undefined =>
  (v && typeof v === 'object' && 'data' in v ? Array.from(v.data) : undefined);

/**
 * The keys a node compares its input with: the codes of a categorical input's strings (given by
 * categorical.ts), else its first non-empty numeric list or tensor.
 */
function keysOf(node: Node, fail: (m: string, hint?: string) => never, strAttrs: string[], numAttrs: string[]): number[] {
  const codes = node.attrs[CODES_ATTR];
  if (codes !== undefined) return nums(codes);
  const s = [...strAttrs, ...numAttrs].find((k) => (strAttrs.includes(k) && strs(node.attrs[k]).length) || tensorStrings(node.attrs[k]));
  if (s) fail(`${s} compares the input with strings, but the input is not a string graph input`, 'zkonnx compares strings only where they come from a string (categorical) graph input');
  for (const k of numAttrs) {
    const v = tensorValues(node.attrs[k]) ?? nums(node.attrs[k]);
    if (v.length) return v;
  }
  return [];
}

/**
 * The keys that decide: onnxruntime keeps a repeated key's last entry (OneHotEncoder,
 * CategoryMapper, LabelEncoder opset 1: map[key] = …) or its first (LabelEncoder opset 2: emplace).
 */
const decisive = (keys: number[], last: boolean): number[] =>
  keys.map((_, j) => j).filter((j) => (last ? keys.lastIndexOf(keys[j]!) : keys.indexOf(keys[j]!)) === j);

/** A [k, K] 0/1 matrix that puts column i of a [.., k] tensor at column cols[i] of K. */
function scatter(e: Emit, t: string, cols: number[], K: number): string {
  if (cols.length === K && cols.every((j, i) => j === i)) return t;
  const m = new Float64Array(cols.length * K);
  cols.forEach((j, i) => { m[i * K + j] = 1; });
  return e.node('MatMul', [t, e.constant([cols.length, K], m)]);
}

/**
 * [x = key_j] for every key, 0/1 floats along a new last axis: x of shape s gives [...s, K].
 * Integer-valued x (category codes, integer inputs) is compared with Equal; with `trunc`, a float
 * x is first truncated to an integer as onnxruntime casts it to int64 (OneHotEncoder), by two
 * comparisons per key: trunc(x) = k ⇔ [x < k + 1] − [x < k] (k > 0), [x < 1] − [x ≤ −1] (k = 0),
 * [x ≤ k] − [x ≤ k − 1] (k < 0).
 */
function indicators(e: Emit, c: RewriteContext, x: string, keys: number[], trunc: boolean): string {
  const s = c.shapeOf(x);
  const K = keys.length;
  const col = e.node('Reshape', [x, e.constant([s.length + 1], [...s, 1])]);
  const is = (op: string, thr: number[]) => e.node('Cast', [e.node(op, [col, e.constant([thr.length], thr)])], { to: 1 });
  if (!trunc || c.intValued(x)) return is('Equal', keys);
  const all = keys.map((_, j) => j);
  const part = (op: string, cols: number[], thr: (k: number) => number) => (cols.length ? scatter(e, is(op, cols.map((j) => thr(keys[j]!))), cols, K) : undefined);
  const sum = (a: string | undefined, b: string | undefined) => (a && b ? e.node('Add', [a, b]) : (a ?? b)!);
  const upper = sum(part('Less', all.filter((j) => keys[j]! >= 0), (k) => k + 1), part('LessOrEqual', all.filter((j) => keys[j]! < 0), (k) => k));
  const lower = sum(part('Less', all.filter((j) => keys[j]! > 0), (k) => k), part('LessOrEqual', all.filter((j) => keys[j]! <= 0), (k) => k - 1));
  return e.node('Sub', [upper, lower]);
}

/** out = default + Σ_j (value_j − default)·[x = key_j] over the deciding keys: x's shape. */
function lookup(node: Node, e: Emit, c: RewriteContext, fail: (m: string) => never, keys: number[], values: number[], dflt: number, last: boolean): void {
  if (!keys.length) fail('no keys to look up');
  if (values.length !== keys.length) fail(`${keys.length} keys and ${values.length} values`);
  if (![...values, dflt].every(Number.isFinite)) fail(`a value or the default is not a finite number (values [${values}], default ${dflt})`);
  // a NaN or infinite key matches no input (inputs are finite numbers)
  const live = decisive(keys, last).filter((j) => Number.isFinite(keys[j]));
  if (!live.length) fail('no finite keys to look up');
  const hit = indicators(e, c, node.inputs[0]!, live.map((j) => keys[j]!), false);
  const sum = e.node('MatMul', [hit, e.constant([live.length], live.map((j) => values[j]! - dflt))]);
  e.node('Add', [sum, e.constant([], [dflt])], {}, out(node));
}

const RULES: Record<string, Rule> = {
  Scaler(node, e) {
    const offset = nums(node.attrs.offset);
    const scale = nums(node.attrs.scale);
    const x = node.inputs[0]!;
    const d = offset.length ? e.node('Sub', [x, e.constant([offset.length], offset, 'weight', 'offset')]) : x;
    e.node('Mul', [d, e.constant([scale.length || 1], scale.length ? scale : [1], scale.length ? 'weight' : 'public', 'scale')], {}, out(node));
  },

  Normalizer(node, e, fail) {
    const norm = str(node.attrs.norm, 'MAX');
    const reduce = { MAX: 'ReduceMax', L1: 'ReduceL1', L2: 'ReduceL2' }[norm];
    if (!reduce) fail(`norm ${norm} is not supported (supported: MAX, L1, L2)`);
    const x = node.inputs[0]!;
    const n = e.node(reduce!, [x], { axes: [-1], keepdims: 1 });
    // a row of zeros (a text with no word of the vocabulary) stays zeros, as in onnxruntime and
    // sklearn: its norm 0 becomes 1, which leaves every other row's divisor as it is
    const zero = e.node('Cast', [e.node('Equal', [n, e.constant([], [0], 'public', 'zero')])], { to: 1 });
    e.node('Div', [x, e.node('Add', [n, zero])], {}, out(node));
  },

  Binarizer(node, e) {
    const t = typeof node.attrs.threshold === 'number' ? node.attrs.threshold : 0;
    const b = e.node('Greater', [node.inputs[0]!, e.constant([], [t], 'threshold', 'threshold')]);
    e.node('Cast', [b], { to: 1 }, out(node));
  },

  ZipMap(node, e) {
    e.node('Identity', [node.inputs[0]!], {}, out(node));
  },

  Imputer(node, e, fail, c) {
    const a = node.attrs;
    const floats = nums(a.imputed_value_floats);
    const values = floats.length ? floats : nums(a.imputed_value_int64s);
    if (!values.length) fail('no imputed values (imputed_value_floats or imputed_value_int64s)');
    const replaced = floats.length ? num(a.replaced_value_float, 0) : num(a.replaced_value_int64, 0);
    const x = node.inputs[0]!;
    // NaN marks a missing value: inputs are finite numbers (input files hold no NaN), so none is replaced
    if (Number.isNaN(replaced)) { e.node('Identity', [x], {}, out(node)); return; }
    const s = c.shapeOf(x);
    if (!s.length) fail('the input is a scalar (onnxruntime imputes tensors of rank ≥ 1)');
    // onnxruntime: one value per column of dim 1 when there are that many, else the first for all
    const stride = s.length === 1 ? s[0]! : s[1]!;
    const imputed = Array.from({ length: sizeOf(s) }, (_, i) => (values.length === stride ? values[i % stride]! : values[0]!));
    const hit = e.node('Equal', [x, e.constant([], [replaced])]);
    e.node('Where', [hit, e.constant(s, imputed), x], {}, out(node));
  },

  OneHotEncoder(node, e, fail, c) {
    const keys = keysOf(node, fail, ['cats_strings'], ['cats_int64s']);
    if (!keys.length) fail('no categories (cats_strings or cats_int64s)');
    const K = keys.length;
    const live = decisive(keys, true);
    const hot = scatter(e, indicators(e, c, node.inputs[0]!, live.map((j) => keys[j]!), true), live, K);
    const target = node.outputs[0]!;
    e.node('Identity', [hot], {}, [target]);
    if (num(node.attrs.zeros, 1) === 0) {
      // an unknown category is an error in onnxruntime: the circuit refuses it, for √(Σ onehot − 1)
      // exists only where the one-hot sums to 1 (FloorSqrt proves its radicand ≥ 0)
      const n = e.node('MatMul', [hot, e.constant([K], new Array<number>(K).fill(1))]);
      e.node('Sqrt', [e.node('Add', [n, e.constant([], [-1])])], {}, [`${target}:known_category`]);
    }
  },

  LabelEncoder(node, e, fail, c) {
    const a = node.attrs;
    const v1 = strs(a.classes_strings).length > 0;
    // string values (categorical.ts): their codes, and the default's
    const coded = a[VALUE_CODES_ATTR] !== undefined ? nums(a[VALUE_CODES_ATTR]) : undefined;
    const codedDefault = num(a[DEFAULT_CODE_ATTR], -1);
    if (v1) {
      // opset 1: a string's index among classes_strings, else default_int64; from integers,
      // classes_strings[x] (a code), else default_string
      if (coded) { lookup(node, e, c, fail, coded.map((_, j) => j), coded, codedDefault, true); return; }
      const keys = keysOf(node, fail, ['classes_strings'], []);
      lookup(node, e, c, fail, keys, keys.map((_, j) => j), num(a.default_int64, -1), true);
      return;
    }
    // opsets 2–4: the keys_* and values_* lists, else (opset 4) keys_tensor and values_tensor;
    // default_tensor (opset 4) before default_int64 / default_float
    const keys = keysOf(node, fail, ['keys_strings'], ['keys_int64s', 'keys_floats', 'keys_tensor']);
    if (coded) { lookup(node, e, c, fail, keys, coded, codedDefault, false); return; }
    const ints = nums(a.values_int64s);
    const floats = nums(a.values_floats);
    const tensor = tensorValues(a.values_tensor);
    const values = ints.length ? ints : floats.length ? floats : tensor;
    if (!values) fail('no values (values_int64s, values_floats or values_tensor)');
    const dt = tensorValues(a.default_tensor);
    if (dt && !dt.length) fail('default_tensor is empty');
    // without default_tensor, onnxruntime's default for values_tensor follows its element type (−1 for integers, 0 for floats)
    if (!dt && values === tensor) fail('values_tensor without default_tensor', 'give the node a default_tensor: its default then depends on the element type, which zkonnx does not keep');
    lookup(node, e, c, fail, keys, values!, dt ? dt[0]! : ints.length ? num(a.default_int64, -1) : num(a.default_float, -0), false);
  },

  CategoryMapper(node, e, fail, c) {
    const a = node.attrs;
    // integers to strings: cats_int64s to the codes of cats_strings (categorical.ts), else default_string's
    if (a[VALUE_CODES_ATTR] !== undefined) { lookup(node, e, c, fail, nums(a.cats_int64s), nums(a[VALUE_CODES_ATTR]), num(a[DEFAULT_CODE_ATTR], -1), true); return; }
    if (a[CODES_ATTR] === undefined) fail('its input holds no strings, and it has no strings to map integers to');
    lookup(node, e, c, fail, nums(a[CODES_ATTR]), nums(a.cats_int64s), num(a.default_int64, -1), true);
  },

  /** X[..., indices] along the last axis (a [F] input as one row [1, F], as onnxruntime does); indices constant. */
  ArrayFeatureExtractor(node, e, fail, c) {
    const [x, at] = node.inputs as [string, string | undefined];
    if (!at) fail('the indices (input 1) are missing');
    const s = c.shapeOf(x);
    const F = s[s.length - 1] ?? 1;
    const rows = s.length > 1 ? x : e.node('Reshape', [x, e.constant([2], [1, F])]);
    const idx = c.constOf(at!);
    if (!idx) {
      // indices computed from the input: sklearn-onnx's label of most classifiers (MLP, k-NN,
      // naive Bayes, voting, bagging, calibrated) is classes[ArgMax(probabilities)]. Every index
      // element, flattened as onnxruntime reads them, picks along the last axis: a Gather whose
      // index depends on the input (one Equal per candidate; an index outside [0, F) selects
      // nothing, where onnxruntime fails)
      const n = sizeOf(c.shapeOf(at!));
      e.node('Gather', [rows, e.node('Reshape', [at!, e.constant([1], [n])])], { axis: -1 }, out(node));
      return;
    }
    const cols = Array.from(idx.data);
    if (!cols.length || cols.some((k) => !Number.isInteger(k) || k < 0 || k >= F)) fail(`indices [${cols}] are not all in [0, ${F})`);
    e.node('Gather', [rows, e.constant([cols.length], cols)], { axis: -1 }, out(node));
  },

  /** Inputs [N, C_i] side by side, each cut or zero-padded to inputdimensions[i] (a [C] input as [1, C]). */
  FeatureVectorizer(node, e, fail, c) {
    const dims = nums(node.attrs.inputdimensions);
    const ins = node.inputs.filter((i) => i);
    if (dims.length !== ins.length) fail(`${ins.length} inputs and ${dims.length} inputdimensions`);
    const parts = ins.map((x, i) => {
      const s = c.shapeOf(x);
      if (s.length > 2) fail(`input '${x}' has shape [${s}] (supported: [N, C] or [C])`);
      const C = s[s.length - 1] ?? 1;
      const rows = s.length === 2 ? x : e.node('Reshape', [x, e.constant([2], [1, C])]);
      // the first min(C, d) columns, then zeros: one selection matrix
      const d = dims[i]!;
      const m = new Float64Array(C * d);
      for (let k = 0; k < Math.min(C, d); k++) m[k * d + k] = 1;
      return { n: s.length === 2 ? s[0]! : 1, part: e.node('MatMul', [rows, e.constant([C, d], m)]) };
    });
    if (new Set(parts.map((p) => p.n)).size > 1) fail(`the inputs have different numbers of rows (${parts.map((p) => p.n)})`);
    e.node('Concat', parts.map((p) => p.part), { axis: -1 }, out(node));
  },

  LinearRegressor(node, e, fail) {
    const coef = nums(node.attrs.coefficients);
    const targets = typeof node.attrs.targets === 'number' ? node.attrs.targets : 1;
    const b = nums(node.attrs.intercepts);
    if (coef.length % targets) fail(`${coef.length} coefficients do not split into ${targets} targets`);
    const f = coef.length / targets;
    const scores = e.node('Gemm', [node.inputs[0]!, e.constant([targets, f], coef, 'weight', 'coefficients'), e.constant([targets], b.length ? b : new Array<number>(targets).fill(0), 'weight', 'intercepts')], { transB: 1 });
    postTransform(node, e, fail, scores, 0);
  },

  LinearClassifier(node, e, fail, c) {
    const coef = nums(node.attrs.coefficients);
    const b = nums(node.attrs.intercepts);
    const labels = nums(node.attrs.classlabels_ints ?? node.attrs.classlabels_int64s).length || strs(node.attrs.classlabels_strings).length;
    const rows = b.length || labels;
    if (!rows || coef.length % rows) fail(`${coef.length} coefficients do not split into ${rows} classes`);
    const f = coef.length / rows;
    const scores = e.node('Gemm', [node.inputs[0]!, e.constant([rows, f], coef, 'weight', 'coefficients'), e.constant([rows], b.length ? b : new Array<number>(rows).fill(0), 'weight', 'intercepts')], { transB: 1 });
    if (rows === 1) {
      // binary, one score s (onnxruntime-web 1.30): label = s > 0 ? second : first, scores
      // σ([−s, s]) (LOGISTIC), else [1 − s, s] untransformed
      if (labels !== 2) fail(`one row of coefficients for ${labels} classes`);
      const pt = str(node.attrs.post_transform, 'NONE');
      if (!['NONE', 'LOGISTIC', 'SOFTMAX', 'SOFTMAX_ZERO'].includes(pt)) fail(`post_transform ${pt} is not supported on a binary LinearClassifier (supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO)`);
      binaryLabel(node, e, fail, e.node('Greater', [scores, e.constant([], [0])]), c.shapeOf(node.inputs[0]!)[0] ?? 1);
      if (node.outputs[1]) twoColumns(e, scores, pt === 'LOGISTIC' ? 'logistic' : 'complement', node.outputs[1]);
      return;
    }
    postTransform(node, e, fail, scores, 1);
    labelOf(node, e, fail, scores, rows); // the post-transforms are monotone: the same argmax
  },

  SVMClassifier: svmClassifier,
  SVMRegressor: svmRegressor,

  TreeEnsembleRegressor(node, e, fail) {
    const n = typeof node.attrs.n_targets === 'number' ? node.attrs.n_targets : 1;
    const pt = str(node.attrs.post_transform, 'NONE');
    if (n === 1 && pt !== 'NONE') fail(`post_transform ${pt} on one target is not supported`, 'onnxruntime ignores post_transform on a one-target tree regressor where the ONNX spec applies it: export without one');
    const scores = treeScores(node, e, fail, 'target', n, nums(node.attrs.base_values));
    postTransform(node, e, fail, scores, 0);
  },

  TreeEnsembleClassifier(node, e, fail, c) {
    const labels = nums(node.attrs.classlabels_ints ?? node.attrs.classlabels_int64s).length || strs(node.attrs.classlabels_strings).length;
    if (labels < 2) fail(`${labels} class labels`);
    if (labels === 2) { binaryTrees(node, e, fail, c); return; }
    const columns = maxOf(nums(node.attrs.class_ids)) + 1;
    if (columns !== labels) fail(`${columns} score columns for ${labels} classes`);
    const scores = treeScores(node, e, fail, 'class', labels, nums(node.attrs.base_values));
    postTransform(node, e, fail, scores, 1);
    labelOf(node, e, fail, scores, labels);
  },

  /**
   * TreeEnsemble (ai.onnx.ml opset 5, which replaces the two above): nodes indexed from 0 with
   * tree_roots, each branch naming a node or a leaf (nodes_trueleafs/falseleafs), one target and
   * weight per leaf, modes and enums as integers. Read into TreeEnsembleRegressor's attributes
   * and scored as it is. post_transform is refused: onnxruntime-web 1.30 reads its integers with its own enum (1
   * LOGISTIC, 2 SOFTMAX), not the spec's (1 SOFTMAX, 2 LOGISTIC).
   */
  TreeEnsemble(node, e, fail) {
    const a = node.attrs;
    const features = nums(a.nodes_featureids);
    const splits = tensorValues(a.nodes_splits) ?? [];
    const modes = tensorValues(a.nodes_modes) ?? [];
    const [trueIds, trueLeaf, falseIds, falseLeaf] = [nums(a.nodes_truenodeids), nums(a.nodes_trueleafs), nums(a.nodes_falsenodeids), nums(a.nodes_falseleafs)];
    const targets = nums(a.leaf_targetids);
    const weights = tensorValues(a.leaf_weights) ?? [];
    const roots = nums(a.tree_roots);
    const n = features.length;
    if ([splits, modes, trueIds, trueLeaf, falseIds, falseLeaf].some((v) => v.length !== n)) fail('the nodes_* attributes do not all have one entry per node');
    if (targets.length !== weights.length) fail(`${targets.length} leaf_targetids and ${weights.length} leaf_weights`);
    if (!roots.length) fail('no trees (tree_roots is empty)');
    const MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ', 'BRANCH_MEMBER'];
    // the members of each BRANCH_MEMBER node, in node order, NaN-separated in membership_values
    const memberLists: number[][] = [[]];
    for (const v of tensorValues(a.membership_values) ?? []) { if (Number.isNaN(v)) memberLists.push([]); else memberLists.at(-1)!.push(v); }
    const memberOf = new Map<number, number[]>();
    let m = 0;
    for (let i = 0; i < n; i++) if (modes[i] === 6) memberOf.set(i, memberLists[m++] ?? []);
    // v3 form, tree by tree: branch i is node i, leaf k is node n + k
    const v3 = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], values: [] as number[], modes: [] as string[], trueids: [] as number[], falseids: [] as number[] };
    const w = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
    const members = new Map<number, number[]>();
    roots.forEach((root, t) => {
      const seen = new Set<number>();
      const leaf = (k: number) => {
        if (k < 0 || k >= targets.length) fail(`tree ${t} names leaf ${k} of ${targets.length}`);
        if (seen.has(n + k)) return;
        seen.add(n + k);
        v3.treeids.push(t); v3.nodeids.push(n + k); v3.featureids.push(0); v3.values.push(0); v3.modes.push('LEAF'); v3.trueids.push(0); v3.falseids.push(0);
        w.treeids.push(t); w.nodeids.push(n + k); w.ids.push(targets[k]!); w.weights.push(weights[k]!);
      };
      const branch = (i: number, depth: number): void => {
        if (i < 0 || i >= n) fail(`tree ${t} names node ${i} of ${n}`);
        if (depth > 64) fail('a tree deeper than 64 levels (or with a cycle)');
        if (seen.has(i)) return;
        seen.add(i);
        const mode = MODES[modes[i]!];
        if (!mode) fail(`node ${i} has mode ${modes[i]} (supported: 0 to 6)`);
        if (mode === 'BRANCH_MEMBER') members.set(v3.modes.length, memberOf.get(i)!);
        v3.treeids.push(t); v3.nodeids.push(i); v3.featureids.push(features[i]!); v3.values.push(splits[i]!); v3.modes.push(mode!);
        v3.trueids.push(trueLeaf[i] ? n + trueIds[i]! : trueIds[i]!); v3.falseids.push(falseLeaf[i] ? n + falseIds[i]! : falseIds[i]!);
        for (const [id, isLeaf] of [[trueIds[i]!, trueLeaf[i]], [falseIds[i]!, falseLeaf[i]]] as const) { if (isLeaf) leaf(id); else branch(id, depth + 1); }
      };
      branch(root, 0);
    });
    const agg = ['AVERAGE', 'SUM', 'MIN', 'MAX'][num(a.aggregate_function, 1)];
    const pt = num(a.post_transform, 0);
    if (pt !== 0) fail(`post_transform ${pt} is not supported (supported: 0, NONE)`, 'onnxruntime reads 1 as LOGISTIC and 2 as SOFTMAX, the ONNX spec as SOFTMAX and LOGISTIC: export without one and put a Sigmoid or Softmax node after the ensemble');
    const regressor: Node = {
      ...node, op: 'TreeEnsembleRegressor',
      attrs: {
        nodes_treeids: v3.treeids, nodes_nodeids: v3.nodeids, nodes_featureids: v3.featureids, nodes_values: v3.values, nodes_modes: v3.modes,
        nodes_truenodeids: v3.trueids, nodes_falsenodeids: v3.falseids,
        target_treeids: w.treeids, target_nodeids: w.nodeids, target_ids: w.ids, target_weights: w.weights,
        aggregate_function: agg ?? String(a.aggregate_function),
      },
    };
    // post_transform is refused above: the scores are the output
    e.node('Identity', [treeScores(regressor, e, fail, 'target', num(a.n_targets, 1), [], members)], {}, out(node));
  },
};

/** The input of an SVM as [N, F]: onnxruntime takes [F] as one row. */
function svmRows(node: Node, e: Emit, fail: (m: string) => never, c: RewriteContext): { x: string; N: number; F: number } {
  const x = node.inputs[0]!;
  const s = c.shapeOf(x);
  if (s.length === 2) return { x, N: s[0]!, F: s[1]! };
  if (s.length !== 1) fail(`the input has shape [${s}]: onnxruntime's SVMs take [N, F] or [F]`);
  return { x: e.node('Reshape', [x, e.constant([2], [1, s[0]!])]), N: 1, F: s[0]! };
}

/** Support vectors, and the kernels K(x, sv_v) of the [N, F] input: [N, V]. */
function svmKernels(node: Node, e: Emit, fail: (m: string) => never, x: string, N: number, F: number, V: number): string {
  const sv = nums(node.attrs.support_vectors);
  if (!V || sv.length % V) fail(`${sv.length} support vector values do not split into ${V} vectors`);
  if (sv.length / V !== F) fail(`the input has ${F} features, the support vectors ${sv.length / V}`);
  return kernel(node, e, fail, x, sv, V, F, N);
}

/**
 * SVMClassifier as onnxruntime computes it. With support vectors (SVC): kernels k_v = K(x, sv_v),
 * one score per pair of classes i < j (the two classes' coefficient blocks · k + rho), a vote for
 * i where the score is > 0 and for j otherwise, label = the first class with the most votes,
 * the pair scores as the score output. Binary SVC: the one score s gives label = s > 0 ? first :
 * second and two score columns (binaryScores).
 * Without support vectors (linear): scores x·Wᵀ + rho[0], label = argmax; binary: the second
 * label where the second score wins or the first exceeds 0 (0.5 when no coefficient is negative).
 */
function svmClassifier(node: Node, e: Emit, fail: (m: string, hint?: string) => never, c: RewriteContext): void {
  const a = node.attrs;
  const labels = nums(a.classlabels_ints ?? a.classlabels_int64s).length || strs(a.classlabels_strings).length;
  const coef = nums(a.coefficients);
  const rho = nums(a.rho);
  const perClass = nums(a.vectors_per_class);
  const [probA, probB] = [nums(a.prob_a), nums(a.prob_b)];
  if (probA.length && !perClass.length) fail('probability outputs (prob_a, prob_b) without support vectors are not supported');
  if (labels < 2) fail(`${labels} class labels`);
  const { x, N, F } = svmRows(node, e, fail, c);
  let scores: string;
  if (perClass.length) {
    const V = perClass.reduce((s, v) => s + v, 0);
    if (perClass.length !== labels) fail(`vectors_per_class has ${perClass.length} entries for ${labels} classes`);
    const P = (labels * (labels - 1)) / 2;
    if (coef.length < (labels - 1) * V || rho.length < P) fail(`coefficients or rho are too short for ${labels} classes and ${V} support vectors`);
    const k = svmKernels(node, e, fail, x, N, F, V); // [N, V]
    const start = perClass.map((_, i) => perClass.slice(0, i).reduce((s, v) => s + v, 0));
    const A = new Float64Array(V * P); // kernels → pair scores
    const votes = new Float64Array(P * labels); // [score > 0] → votes
    const base = new Float64Array(labels);
    let p = 0;
    for (let i = 0; i < labels - 1; i++) {
      for (let j = i + 1; j < labels; j++, p++) {
        for (let m = 0; m < perClass[i]!; m++) A[(start[i]! + m) * P + p] = coef[(j - 1) * V + start[i]! + m]!;
        for (let m = 0; m < perClass[j]!; m++) A[(start[j]! + m) * P + p] = coef[i * V + start[j]! + m]!;
        votes[p * labels + i] += 1;
        votes[p * labels + j] -= 1;
        base[j]! += 1;
      }
    }
    scores = e.node('Add', [e.node('MatMul', [k, e.constant([V, P], A, 'weight', 'coefficients')]), e.constant([P], rho.slice(0, P), 'weight', 'rho')]);
    if (labels === 2) {
      binaryLabel(node, e, fail, e.node('LessOrEqual', [scores, e.constant([], [0])]), N);
      if (probA.length) plattScores(node, e, fail, scores, probA[0]!, probB[0] ?? 0);
      else binaryScores(node, e, fail, scores);
      return;
    }
    const won = e.node('Cast', [e.node('Greater', [scores, e.constant([], [0])])], { to: 1 });
    const tally = e.node('Add', [e.node('MatMul', [won, e.constant([P, labels], votes)]), e.constant([labels], base)]);
    labelOf(node, e, fail, tally, labels);
    if (probA.length) {
      if (probA.length < P || probB.length < P) fail(`prob_a and prob_b need ${P} values (one per pair of classes), got ${probA.length} and ${probB.length}`);
      scores = coupledProbabilities(e, scores, labels, probA.slice(0, P), probB.slice(0, P));
    }
  } else {
    if (coef.length % labels) fail(`${coef.length} coefficients do not split into ${labels} classes`);
    const f = coef.length / labels;
    if (f !== F) fail(`the input has ${F} features, the coefficients ${f} per class`);
    const r = rho[0] ?? 0;
    scores = e.node('Gemm', [x, e.constant([labels, F], coef, 'weight', 'coefficients'), e.constant([labels], new Array<number>(labels).fill(r), 'weight', 'rho')], { transB: 1 });
    if (labels === 2) {
      // onnxruntime (ChooseClass): the second label where argmax = 1, or where the first score
      // s0 > 0 (≥ 0.5 when all coefficients are ≥ 0); both linear in the scores
      const diff = e.node('MatMul', [scores, e.constant([2, 1], [-1, 1])]); // s1 − s0
      const s0 = e.node('MatMul', [scores, e.constant([2, 1], [1, 0])]);
      const positive = coef.every((v) => v >= 0);
      const first = e.node(positive ? 'GreaterOrEqual' : 'Greater', [s0, e.constant([], [positive ? 0.5 : 0])]);
      binaryLabel(node, e, fail, e.node('Or', [e.node('Greater', [diff, e.constant([], [0])]), first]), N);
    } else {
      labelOf(node, e, fail, scores, labels);
    }
  }
  postTransform(node, e, fail, scores, 1);
}

/** label = classlabels[flag] for a boolean flag of N elements ([N, 1]); `labels` overrides classlabels. */
function binaryLabel(node: Node, e: Emit, fail: (m: string, hint?: string) => never, flag: string, N: number, labels?: [number, number]): void {
  const target = node.outputs[0];
  if (!target) return;
  const [l0, l1] = labels ?? (nums(node.attrs.classlabels_ints ?? node.attrs.classlabels_int64s) as [number, number]);
  const idx = e.node('Reshape', [e.node('Cast', [flag], { to: 1 }), e.constant([1], [N])]);
  e.node('Add', [e.node('Mul', [idx, e.constant([], [l1 - l0])]), e.constant([], [l0])], {}, [target]);
}

/** Two score columns from one score column s: [−s, s], [1 − s, s], or σ([−s, s]). */
function twoColumns(e: Emit, s: string, form: 'negate' | 'complement' | 'logistic', target: string): void {
  const two = e.node('MatMul', [s, e.constant([1, 2], [-1, 1])]);
  if (form === 'negate') e.node('Identity', [two], {}, [target]);
  else if (form === 'logistic') e.node('Sigmoid', [two], {}, [target]);
  else e.node('Add', [two, e.constant([2], [1, 0])], {}, [target]);
}

/**
 * onnxruntime's two score columns of a binary SVC from its one score s: [−s, s] (NONE),
 * σ([−s, s]) (LOGISTIC), [1 − s, s] untransformed (SOFTMAX, SOFTMAX_ZERO), as onnxruntime-web 1.30 writes them.
 */
function binaryScores(node: Node, e: Emit, fail: (m: string) => never, s: string): void {
  const target = node.outputs[1];
  if (!target) return;
  const pt = str(node.attrs.post_transform, 'NONE');
  if (!['NONE', 'LOGISTIC', 'SOFTMAX', 'SOFTMAX_ZERO'].includes(pt)) fail(`post_transform ${pt} is not supported on a binary SVC (supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO)`);
  twoColumns(e, s, pt === 'NONE' ? 'negate' : pt === 'LOGISTIC' ? 'logistic' : 'complement', target);
}

/**
 * A binary SVC's probabilities (probability=True: Platt scaling of the pair score s), as
 * onnxruntime writes them: [r, 1 − r] with r = 1 / (1 + exp(s·A + B)), the first class's. The
 * label stays the vote's. onnxruntime clamps r to [1e−7, 1 − 1e−7] and couples the two classes
 * iteratively (r within its tolerance); the circuit computes r itself.
 */
function plattScores(node: Node, e: Emit, fail: (m: string) => never, s: string, A: number, B: number): void {
  const target = node.outputs[1];
  if (!target) return;
  const pt = str(node.attrs.post_transform, 'NONE');
  if (pt !== 'NONE') fail(`post_transform ${pt} on probabilities (prob_a, prob_b) is not supported (supported: NONE)`);
  const second = e.node('Sigmoid', [e.node('Add', [e.node('Mul', [s, e.constant([], [A], 'weight', 'prob_a')]), e.constant([], [B], 'weight', 'prob_b')])]); // 1 − r
  twoColumns(e, second, 'complement', target);
}

/**
 * The class probabilities of an SVC with probability=True and k ≥ 3 classes, as libsvm and
 * onnxruntime define them (method 2 of Wu, Lin and Weng): Platt's pair probabilities
 * r_ij = 1 − σ(s·A + B) (r_ji = 1 − r_ij), Q_tt = Σ_{j≠t} r_jt², Q_tj = −r_jt·r_tj, and the p that
 * minimizes pᵀQp with Σp = 1. onnxruntime iterates towards that p and stops once its optimality
 * residual is under 0.005/k (≤ 3e-3 from it in 12,000 random trials of 3 to 8 classes); the circuit
 * computes it exactly, p = adj(Q)·e / eᵀ·adj(Q)·e (Cramer's rule on the bordered system), whose
 * denominator stays ≥ 1.5 for every r ∈ [0, 1] we tried (k = 3 … 6) where Q itself may be
 * singular. Q is affine in u = σ(s·A + B) and u² (one square a pair); the cofactors are the
 * (k − 1)-minors of Q, each expanded along its first row over memoized smaller minors: one
 * product of two signals per term (k = 3: 12, k = 4: 58, k = 5: 200, k = 10: 27,118).
 */
function coupledProbabilities(e: Emit, s: string, k: number, A: number[], B: number[]): string {
  const P = A.length;
  const u = e.node('Sigmoid', [e.node('Add', [e.node('Mul', [s, e.constant([P], A, 'weight', 'prob_a')]), e.constant([P], B, 'weight', 'prob_b')])]); // r_ji of pair (i, j)
  const u2 = e.node('Mul', [u, u]);
  // Q (row-major, k²) = [u, u²]·W + c: for pair p = (i, j), r_ji = u and r_ij = 1 − u, so u² joins
  // Q_ii, (1 − u)² = 1 − 2u + u² joins Q_jj, and Q_ij = Q_ji = −u·(1 − u) = u² − u
  const W = new Float64Array(2 * P * k * k);
  const c = new Float64Array(k * k);
  const at = (row: number, a: number, b: number, v: number) => { W[row * k * k + a * k + b] += v; };
  let p = 0;
  for (let i = 0; i < k - 1; i++) {
    for (let j = i + 1; j < k; j++, p++) {
      at(P + p, i, i, 1);
      at(P + p, j, j, 1); at(p, j, j, -2); c[j * k + j] += 1;
      for (const [a, b] of [[i, j], [j, i]] as const) { at(P + p, a, b, 1); at(p, a, b, -1); }
    }
  }
  const q = e.node('Add', [e.node('MatMul', [e.node('Concat', [u, u2], { axis: -1 }), e.constant([2 * P, k * k], W)]), e.constant([k * k], c)]);

  // minors by (row mask, column mask); level m holds the m×m ones, level 1 is Q itself
  const all = (1 << k) - 1;
  const bitsOf = (mask: number) => Array.from({ length: k }, (_, b) => b).filter((b) => mask & (1 << b));
  const key = (rows: number, cols: number) => rows * (1 << k) + cols;
  const levels: Map<number, number>[] = Array.from({ length: k }, () => new Map());
  const need = (rows: number, cols: number, m: number) => {
    const id = key(rows, cols);
    if (m === 1 || levels[m]!.has(id)) return;
    levels[m]!.set(id, levels[m]!.size);
    const a = bitsOf(rows)[0]!;
    for (const col of bitsOf(cols)) need(rows & ~(1 << a), cols & ~(1 << col), m - 1);
  };
  for (let r = 0; r < k; r++) for (let i = r; i < k; i++) need(all & ~(1 << r), all & ~(1 << i), k - 1); // Q symmetric: M_ri = M_ir
  let prev = q;
  const indexIn = (m: number, rows: number, cols: number) => (m === 1 ? bitsOf(rows)[0]! * k + bitsOf(cols)[0]! : levels[m]!.get(key(rows, cols))!);
  for (let m = 2; m < k; m++) {
    const left: number[] = [];
    const right: number[] = [];
    const sign: [number, number][] = []; // (term, minor) → ±1
    for (const [id, at] of levels[m]!) {
      const rows = Math.floor(id / (1 << k));
      const cols = id % (1 << k);
      const a = bitsOf(rows)[0]!;
      bitsOf(cols).forEach((col, n) => {
        left.push(a * k + col);
        right.push(indexIn(m - 1, rows & ~(1 << a), cols & ~(1 << col)));
        sign.push([n % 2 ? -1 : 1, at]);
      });
    }
    const T = left.length;
    const S = new Float64Array(T * levels[m]!.size);
    sign.forEach(([v, at], t) => { S[t * levels[m]!.size + at] = v; });
    const prod = e.node('Mul', [e.node('Gather', [q, e.constant([T], left)], { axis: -1 }), e.node('Gather', [prev, e.constant([T], right)], { axis: -1 })]);
    prev = e.node('MatMul', [prod, e.constant([T, levels[m]!.size], S)]);
  }
  // y_i = det(Q with column i replaced by ones) = Σ_r (−1)^(r+i)·M_ri
  const top = k - 1;
  const size = levels[top]!.size;
  const Y = new Float64Array(size * k);
  for (let r = 0; r < k; r++) {
    for (let i = 0; i < k; i++) {
      const [lo, hi] = r <= i ? [r, i] : [i, r];
      Y[indexIn(top, all & ~(1 << lo), all & ~(1 << hi)) * k + i] += (r + i) % 2 ? -1 : 1;
    }
  }
  const y = e.node('MatMul', [prev, e.constant([size, k], Y)]);
  // the division needs its denominator proven positive, which interval arithmetic over the
  // cofactors cannot show: max(Σy, 1/2), below every value Σy takes
  const sum = e.node('Max', [e.node('MatMul', [y, e.constant([k, 1], new Array<number>(k).fill(1))]), e.constant([], [0.5])]);
  return e.node('Div', [y, sum]);
}

/**
 * SVMRegressor as onnxruntime computes it: coefficients · K(x, sv) + rho[0] with support vectors
 * (n_supports > 0), else coefficients · x + rho[0]; one_class: 1 where that is > 0, else −1.
 */
function svmRegressor(node: Node, e: Emit, fail: (m: string, hint?: string) => never, c: RewriteContext): void {
  const a = node.attrs;
  const pt = str(a.post_transform, 'NONE');
  if (pt !== 'NONE') fail(`post_transform ${pt} is not supported (supported: NONE)`, 'onnxruntime ignores post_transform on SVMRegressor where the ONNX spec applies it: export without one');
  const coef = nums(a.coefficients);
  const rho = nums(a.rho);
  if (!coef.length || !rho.length) fail('coefficients or rho are missing');
  const V = num(a.n_supports, 0);
  const { x, N, F } = svmRows(node, e, fail, c);
  let y: string;
  if (V > 0) {
    if (coef.length < V) fail(`${coef.length} coefficients for ${V} support vectors`);
    const k = svmKernels(node, e, fail, x, N, F, V); // [N, V]
    y = e.node('Add', [e.node('MatMul', [k, e.constant([V, 1], coef.slice(0, V), 'weight', 'coefficients')]), e.constant([], [rho[0]!], 'weight', 'rho')]);
  } else {
    if (coef.length !== F) fail(`the input has ${F} features, the coefficients ${coef.length}`);
    y = e.node('Gemm', [x, e.constant([1, F], coef, 'weight', 'coefficients'), e.constant([1], [rho[0]!], 'weight', 'rho')], { transB: 1 });
  }
  if (num(a.one_class, 0) === 0) { e.node('Identity', [y], {}, out(node)); return; }
  const pos = e.node('Cast', [e.node('Greater', [y, e.constant([], [0])])], { to: 1 });
  e.node('Add', [e.node('Mul', [pos, e.constant([], [2])]), e.constant([], [-1])], {}, out(node));
}

/** K(x, sv_v) of the [N, F] input for every support vector: [N, V]. */
function kernel(node: Node, e: Emit, fail: (m: string) => never, x: string, sv: number[], V: number, F: number, N: number): string {
  const type = str(node.attrs.kernel_type, 'LINEAR');
  const [gamma = 0, coef0 = 0, degree = 0] = nums(node.attrs.kernel_params);
  const svs = e.constant([V, F], sv, 'weight', 'support_vectors');
  if (type === 'RBF') {
    // exp(−γ·Σ_f (x_f − sv_vf)²): the squares are products of a signal with itself, so ≥ 0
    const d = e.node('Sub', [N === 1 ? x : e.node('Reshape', [x, e.constant([3], [N, 1, F])]), svs]); // [(N,) V, F]
    const dist = e.node('MatMul', [e.node('Mul', [d, d]), e.constant([F, 1], new Array<number>(F).fill(1))]);
    return e.node('Reshape', [e.node('Exp', [e.node('Mul', [dist, e.constant([], [-gamma])])]), e.constant([2], [N, V])]);
  }
  const dot = e.node('Gemm', [x, svs], { transB: 1 }); // [N, V]
  if (type === 'LINEAR') return dot;
  const lin = e.node('Add', [e.node('Mul', [dot, e.constant([], [gamma])]), e.constant([], [coef0])]);
  if (type === 'SIGMOID') return e.node('Tanh', [lin]);
  if (type === 'POLY') {
    if (!Number.isInteger(degree) || degree < 1 || degree > 8) fail(`POLY kernel degree ${degree} is not supported (an integer from 1 to 8)`);
    let out = lin;
    for (let i = 1; i < degree; i++) out = e.node('Mul', [out, lin]);
    return out;
  }
  return fail(`kernel_type ${type} is not supported (supported: LINEAR, POLY, RBF, SIGMOID)`);
}

/**
 * A binary TreeEnsembleClassifier as onnxruntime computes it (labels and scores checked against
 * onnxruntime-web 1.30 in test/tree-ensembles.test.ts):
 *   one score column (class_ids all 0), as sklearn, XGBoost and LightGBM converters write every
 *     binary classifier: s = Σ leaf weights (+ base_values[0]); label = s > t ? second : first,
 *     t = 0.5 when no leaf weight is negative (a forest's probability of the second class) else 0;
 *     scores σ([−s, s]) (LOGISTIC), else [1 − s, s] (weights ≥ 0) or [−s, s] (NONE, SOFTMAX, SOFTMAX_ZERO)
 *   two score columns: scores post_transform([s0 (+ base_values[0]), s1]); label 1 where s1 > 0,
 *     else 0, whatever the class labels (onnxruntime's positive and negative labels)
 */
function binaryTrees(node: Node, e: Emit, fail: (m: string, hint?: string) => never, c: RewriteContext): void {
  const a = node.attrs;
  const used = new Set(nums(a.class_ids));
  const base = nums(a.base_values);
  const pt = str(a.post_transform, 'NONE');
  const xs = c.shapeOf(node.inputs[0]!);
  const N = xs.length > 1 ? sizeOf(xs.slice(0, -1)) : 1;
  if (base.length > 1) fail(`${base.length} base_values on a binary classifier (supported: at most one, added to the first score column)`);
  if (used.size === 1 && used.has(0)) {
    if (!['NONE', 'LOGISTIC', 'SOFTMAX', 'SOFTMAX_ZERO'].includes(pt)) fail(`post_transform ${pt} is not supported on a binary tree ensemble with one score column (supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO)`);
    const positive = nums(a.class_weights).every((w) => w >= 0);
    const s = treeScores(node, e, fail, 'class', 1, base); // [N, 1]
    binaryLabel(node, e, fail, e.node('Greater', [s, e.constant([], [positive ? 0.5 : 0])]), N);
    const target = node.outputs[1];
    if (target) twoColumns(e, s, pt === 'LOGISTIC' ? 'logistic' : positive ? 'complement' : 'negate', target);
    return;
  }
  if (used.size !== 2 || !used.has(0) || !used.has(1)) fail(`class_ids [${[...used].sort((x, y) => x - y)}] on two classes (supported: 0 alone, the one score column converters write, or 0 and 1)`);
  // onnxruntime takes the second column's score for the label only where a reached leaf wrote one
  const withSecond = new Set<string>();
  const [wTree, wNode, wId] = [nums(a.class_treeids), nums(a.class_nodeids), nums(a.class_ids)];
  wId.forEach((id, j) => { if (id === 1) withSecond.add(`${wTree[j]}:${wNode[j]}`); });
  const modes = strs(a.nodes_modes);
  const [tIds, nIds] = [nums(a.nodes_treeids), nums(a.nodes_nodeids)];
  const bare = modes.findIndex((m, i) => m === 'LEAF' && !withSecond.has(`${tIds[i]}:${nIds[i]}`));
  if (bare >= 0) fail(`leaf ${nIds[bare]} of tree ${tIds[bare]} has no weight for class 1 (onnxruntime's label then depends on which leaves are reached)`, 'give every leaf a weight for each class (0 where it has none)');
  const scores = treeScores(node, e, fail, 'class', 2, base.length ? [base[0]!, 0] : []);
  postTransform(node, e, fail, scores, 1);
  const s1 = e.node('MatMul', [scores, e.constant([2, 1], [0, 1])]);
  binaryLabel(node, e, fail, e.node('Greater', [s1, e.constant([], [0])]), N, [0, 1]);
}

/** A branch's comparison; BRANCH_NEQ is Not(Equal), BRANCH_MEMBER (TreeEnsemble) a sum of Equals. */
const MODE_OP: Record<string, string> = { BRANCH_LEQ: 'LessOrEqual', BRANCH_LT: 'Less', BRANCH_GTE: 'GreaterOrEqual', BRANCH_GT: 'Greater', BRANCH_EQ: 'Equal', BRANCH_NEQ: 'Equal', BRANCH_MEMBER: 'Equal' };

/**
 * Σ over trees of the reached leaf's weights, per output column (class or target), + base values.
 * Branch conditions c_n = [x_f ⋚ t]; leaf ℓ is reached when Σ_path (taken true ? c_n : 1 − c_n)
 * equals the path's length: an Equal per leaf on a linear combination of the conditions.
 */
function treeScores(node: Node, e: Emit, fail: (m: string, hint?: string) => never, kind: 'class' | 'target', columns: number, base: number[], members?: Map<number, number[]>): string {
  const a = node.attrs;
  const treeIds = nums(a.nodes_treeids);
  const nodeIds = nums(a.nodes_nodeids);
  const features = nums(a.nodes_featureids);
  const values = nums(a.nodes_values);
  const modes = strs(a.nodes_modes);
  const trueIds = nums(a.nodes_truenodeids);
  const falseIds = nums(a.nodes_falsenodeids);
  const N = treeIds.length;
  if ([nodeIds, features, values, modes, trueIds, falseIds].some((v) => v.length !== N)) fail('the nodes_* attributes do not all have one entry per node');
  const key = (t: number, n: number) => `${t}:${n}`;
  const at = new Map<string, number>();
  for (let i = 0; i < N; i++) at.set(key(treeIds[i]!, nodeIds[i]!), i);
  // branches, in node order: the comparisons, grouped by mode
  const branches = [...Array(N).keys()].filter((i) => modes[i] !== 'LEAF');
  for (const i of branches) if (!MODE_OP[modes[i]!] || (modes[i] === 'BRANCH_MEMBER' && !members?.has(i))) fail(`node mode ${modes[i]} is not supported`);
  // leaves and their paths from each tree's root
  const leaves: { i: number; path: [number, boolean][] }[] = [];
  const roots = new Map<number, number>();
  const isChild = new Set<string>();
  for (const i of branches) { isChild.add(key(treeIds[i]!, trueIds[i]!)); isChild.add(key(treeIds[i]!, falseIds[i]!)); }
  for (let i = 0; i < N; i++) if (!isChild.has(key(treeIds[i]!, nodeIds[i]!)) && !roots.has(treeIds[i]!)) roots.set(treeIds[i]!, i);
  const walk = (i: number, path: [number, boolean][], depth: number) => {
    if (depth > 64) fail('a tree deeper than 64 levels (or with a cycle)');
    if (modes[i] === 'LEAF') { leaves.push({ i, path }); return; }
    for (const [child, taken] of [[trueIds[i]!, true], [falseIds[i]!, false]] as const) {
      const c = at.get(key(treeIds[i]!, child));
      if (c === undefined) fail(`tree ${treeIds[i]} node ${nodeIds[i]} points to a node ${child} that does not exist`);
      walk(c!, [...path, [i, taken]], depth + 1);
    }
  };
  for (const r of roots.values()) walk(r, [], 0);
  // leaf weights: <kind>_treeids, <kind>_nodeids, <kind>_ids, <kind>_weights
  const wTree = nums(a[`${kind}_treeids`]);
  const wNode = nums(a[`${kind}_nodeids`]);
  const wId = nums(a[`${kind}_ids`]);
  const wVal = nums(a[`${kind}_weights`]);
  const leafRow = new Map(leaves.map((l, r) => [key(treeIds[l.i]!, nodeIds[l.i]!), r]));
  const W = new Float64Array(leaves.length * columns);
  for (let j = 0; j < wVal.length; j++) {
    const r = leafRow.get(key(wTree[j]!, wNode[j]!));
    if (r === undefined) fail(`a ${kind} weight names tree ${wTree[j]} node ${wNode[j]}, which is not a leaf`);
    if (wId[j]! < 0 || wId[j]! >= columns) fail(`a ${kind} weight names column ${wId[j]} of ${columns}`);
    W[r! * columns + wId[j]!] += wVal[j]!;
  }
  const agg = str(a.aggregate_function, 'SUM');
  if (agg !== 'SUM' && agg !== 'AVERAGE') fail(`aggregate_function ${agg} is not supported (supported: SUM, AVERAGE)`);
  if (agg === 'AVERAGE') W.forEach((v, i) => { W[i] = v / roots.size; });

  // conditions, one comparison per branch
  const x = node.inputs[0]!;
  const byMode = new Map<string, number[]>();
  for (const i of branches) byMode.set(modes[i]!, [...(byMode.get(modes[i]!) ?? []), i]);
  const order: number[] = [];
  const parts: string[] = [];
  for (const [mode, idx] of byMode) {
    if (mode === 'BRANCH_MEMBER') {
      // x_f ∈ set: Σ over the set's distinct values of [x_f = v] (one of them at most holds)
      const sets = idx.map((i) => [...new Set(members!.get(i)!)]);
      const at = sets.flatMap((vs, k) => vs.map(() => features[idx[k]!]!));
      const eq = e.node('Cast', [e.node('Equal', [e.node('Gather', [x, e.constant([at.length], at)], { axis: -1 }), e.constant([at.length], sets.flat(), 'threshold', 'members')])], { to: 1 });
      const S = new Float64Array(at.length * idx.length);
      let r = 0;
      sets.forEach((vs, k) => vs.forEach(() => { S[r++ * idx.length + k] = 1; }));
      parts.push(e.node('MatMul', [eq, e.constant([at.length, idx.length], S)]));
    } else {
      const xs = e.node('Gather', [x, e.constant([idx.length], idx.map((i) => features[i]!))], { axis: -1 });
      const c = e.node(MODE_OP[mode]!, [xs, e.constant([idx.length], idx.map((i) => values[i]!), 'threshold', `thresholds_${mode.slice(7).toLowerCase()}`)]);
      parts.push(e.node('Cast', [mode === 'BRANCH_NEQ' ? e.node('Not', [c]) : c], { to: 1 }));
    }
    for (const i of idx) order.push(i);
  }

  const conds = parts.length === 1 ? parts[0]! : e.node('Concat', parts, { axis: -1 });
  const col = new Map(order.map((i, j) => [i, j]));
  // matched_ℓ = Σ_path (taken ? c : 1 − c) = A·c + b; reached = [matched = path length]
  const A = new Float64Array(order.length * leaves.length);
  const bias = new Float64Array(leaves.length);
  const depth = new Float64Array(leaves.length);
  leaves.forEach((l, r) => {
    depth[r] = l.path.length;
    for (const [i, taken] of l.path) {
      A[col.get(i)! * leaves.length + r] += taken ? 1 : -1;
      if (!taken) bias[r] += 1;
    }
  });
  const matched = e.node('Add', [e.node('MatMul', [conds, e.constant([order.length, leaves.length], A)]), e.constant([leaves.length], bias)]);
  const reached = e.node('Cast', [e.node('Equal', [matched, e.constant([leaves.length], depth)])], { to: 1 });
  const scores = e.node('MatMul', [reached, e.constant([leaves.length, columns], W, 'weight', 'leaf_weights')]);
  return base.length ? e.node('Add', [scores, e.constant([columns], base, 'weight', 'base_values')]) : scores;
}
