/**
 * The IR, at the three levels the pipeline moves through:
 *   Graph        ONNX-level ops on named tensors, after import, shape inference and folding
 *   AffineGraph  every linear op folded into affine maps between the non-linear points
 *   QuantGraph   the same structure in integers: scales, bit bounds, exact coefficients
 * Each stage takes one and returns the next; no stage reaches into another's internals.
 */

/** A constant tensor. ONNX numeric types are widened to float64 (int64 shape data included). */
export interface Tensor {
  dims: number[];
  data: Float64Array;
  /** ONNX element type, where the file states it (a quantization zero point's decides its range). */
  dtype?: number;
  /** A string tensor's strings (data NaN): src/onnx/categorical.ts replaces it by codes. */
  strings?: string[];
}

export type AttrValue = number | number[] | string | string[] | Tensor | SubGraph;

/** A graph attribute (If's branches, Scan's body): its nodes, its own initializers, its inputs' and outputs' names. */
export interface SubGraph {
  subgraph: true;
  nodes: Node[];
  constants: Map<string, Tensor>;
  /** Formal inputs (a Scan body's state and scan slices; an If branch has none). */
  inputs: string[];
  outputs: string[];
}

export interface Node {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  shape: number[];
  /** ONNX element type of a graph input (1 float, 7 int64, 9 bool, …), when the file states it. */
  dtype?: number;
  /** 'weight': a model weight made a private input by --weights hashed (src/ir/weights.ts). */
  role?: 'weight';
  /** A committed weight that is only compared with signals (a tree's thresholds), never multiplied. */
  compared?: true;
  /**
   * A categorical (string) input (src/onnx/categorical.ts): the circuit takes the index of the
   * string in this table (its category code); any other string is code categories.length.
   * A graph output of computed strings (class labels): its integer is the index of its string here.
   */
  categories?: string[];
  /** OneHotEncoders with zeros=0 that read this input: each refuses every code but its own categories'. */
  closedBy?: ClosedCategories[];
  /** A text input (src/onnx/text.ts): the strings the user gives, and what makes them the codes of `shape`. */
  text?: TextSpec;
}

/** A text input's front (src/onnx/text.ts): what onnxruntime does to each string before the circuit sees its tokens (src/tokenize.ts). */
export interface TextSpec {
  /** The strings the user gives: the graph input's shape (e.g. [1, 1], one text). */
  shape: number[];
  /** Tokens per string in the circuit (compile --max-tokens), with a Tokenizer: a text's tokens, then padding codes. */
  tokens?: number;
  /** The model's StringNormalizer, where it has one before the Tokenizer. */
  normalize?: { caseChange: 'LOWER' | 'UPPER' | 'NONE'; caseSensitive: boolean; stopwords: string[] };
  /** The Tokenizer's attributes (mark: start/end marker tokens \x02 and \x03); without one, each string is one code. */
  tokenize?: { mark: boolean; mincharnum: number; pad: string; separators?: string[]; tokenexp?: string };
}

/** A node that refuses codes outside `codes` (a OneHotEncoder with zeros=0): the circuit cannot prove them. */
export interface ClosedCategories {
  node: string;
  codes: number[];
}

export interface Graph {
  name: string;
  /** Where it came from (file path), for error messages. */
  source: string;
  opset: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Initializers and folded values. */
  constants: Map<string, Tensor>;
  /** Nodes that compute on signals (after folding), in topological order. */
  nodes: Node[];
  /** Static shape of every tensor, signal or constant. */
  shapes: Map<string, number[]>;
  /** Graph inputs given fixed values at compile time (compile --fix-input): constants of the circuit, fed to the float reference. */
  fixed?: FixedInput[];
  /** What --weights hashed does with constants that rewrites made of a node's attributes (ParamRole). */
  paramRoles?: Map<string, ParamRole>;
}

/**
 * A rewritten node's constant under --weights hashed (src/ir/weights.ts): 'weight' is committed,
 * 'threshold' is committed and only compared (a tree's branch values), 'public' is the model's
 * structure (a tree's paths, a label table) and stays a constant of the circuit.
 */
export type ParamRole = 'weight' | 'threshold' | 'public';

/** A graph input whose value compile fixed (a sample rate, a mode flag): it is a constant of the circuit. */
export interface FixedInput extends ValueInfo {
  data: Float64Array;
}

/** Suffix of the value that proves a Gather's indices from signals in range (nonlinear.ts; exec.ts names it in its message). */
export const IN_RANGE = ':in_range';

/** The nodes that read each value (graph rewrites that look at a value's consumers). */
export function readersOf(nodes: readonly Node[]): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.inputs) if (i) m.set(i, [...(m.get(i) ?? []), n]);
  return m;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------- AffineGraph (float)

/** Σ w[t]·value[idx[t]] + c over the materialized values of the program. */
export interface LinExpr {
  idx: number[];
  w: number[];
  c: number;
}

/**
 * Attributes by which a rewrite (src/onnx/qdq.ts) shapes a Div by a signal: BOUND_ATTR states a
 * bound on the quotient that the interval analysis cannot see (its range check is sized from it,
 * and so enforces it: a wrong bound leaves an honest prover without a witness, never a wrong value
 * with one); INTEGER_ATTR asks for the quotient rounded to an integer (half up), as a quantizer's
 * round(x / scale) with a computed scale.
 */
export const BOUND_ATTR = 'zkonnx_quotient_bound';
export const INTEGER_ATTR = 'zkonnx_integer_quotient';

/**
 * A non-linear op, computed element by element from each element's operands (affine
 * expressions). These are the only points where the circuit pays constraints.
 *   rescale  x rounded to a coarser scale; relu: max(0, ·) on the same bits   args [x]
 *   max      max of the operands                                             args [x1, …, xn]
 *   mul      Σ a_i·b_i (+ c) rescaled: a product, or a dot product of signals  args [a1, b1, …, an, bn (, c)]
 *            (relu: max(0, ·), a ReLU right after it fused into its rescale)
 *   fn       a univariate function (sigmoid, tanh, exp, …), piecewise polynomial args [x]
 *   div      a / b rounded, b > 0 proven                                       args [a, b]
 *   sqrt     √x rounded down, x ≥ 0 proven                                    args [x]
 *   argmax   index of the first largest operand                               args [x1, …, xn]
 *   less     1 if a < b else 0                                                 args [a, b]
 *   equal    1 if a = b else 0                                                 args [a, b]
 *   select   c ? a : b for a boolean value c                                  args [c, a, b]
 *   round    x / d rounded to an integer by `mode` (output scale 0), or with rem the
 *            remainder x − d·q (at x's scale); d > 0 a constant operand           args [x, d]
 */
export type NonLinear =
  /**
   * whole: range-checked to its interval alone, not to the calibrated range's headroom (a short
   * operand of a product rescaled for precision: an input calibration never saw, such as dynamic
   * quantization's scale of an all-zero tensor, must still have a witness)
   */
  | { kind: 'rescale'; relu: boolean; whole?: boolean }
  | { kind: 'max' }
  /** bound: |value| ≤ bound (real units) is known (a normalized value); the range check enforces it */
  | { kind: 'mul'; bound?: number; relu?: boolean }
  /**
   * clamp: where f is constant (real units): the circuit clamps x there, if its range reaches past.
   * reluMinus: the value is relu(x) − f(x) (GELU: f = h, which saturates at 0 on both sides)
   */
  | { kind: 'fn'; fn: string; params: number[]; clamp?: { lo?: number; hi?: number }; reluMinus?: boolean }
  /**
   * bound: |quotient| ≤ bound (real units) is known (DynamicQuantizeLinear's 255·x / range); the
   * range check enforces it. integer: the quotient rounded half up to an integer (scale 0).
   * fine: bits past the calibrated scale (Softmax's 1/Σ, which a product then rescales)
   */
  | { kind: 'div'; bound?: number; integer?: boolean; fine?: number }
  /** radicandMax: the radicand is at most this integer (a Gather's in-range check: 0); the root's width enforces it */
  | { kind: 'sqrt'; radicandMax?: number }
  | { kind: 'argmax' }
  | { kind: 'less' }
  | { kind: 'equal' }
  | { kind: 'select' }
  /** floor, ceil, trunc (toward zero), even (to nearest, ties to even): Floor, Ceil, Round, Cast to int; rem: Mod */
  | { kind: 'round'; mode: RoundMode; rem?: boolean };

export type RoundMode = 'floor' | 'ceil' | 'trunc' | 'even';

/** A tensor whose elements are circuit values (signals), laid out at [offset, offset+size). */
export interface ValueTensor {
  /** ONNX tensor name it stands for. */
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface InputValue extends ValueTensor {
  kind: 'input';
  inputIndex: number;
  /** ONNX element type the model declares (the float reference feeds that type). */
  dtype?: number;
  role?: 'weight';
  compared?: true;
  /** A categorical (string) input: its table of categories (ValueInfo.categories). */
  categories?: string[];
  closedBy?: ClosedCategories[];
  text?: TextSpec;
}

/** op(args[i]) for every element i. */
export interface ActValue extends ValueTensor {
  kind: 'act';
  op: NonLinear;
  /** Per element: its operands. */
  args: LinExpr[][];
  /** ONNX nodes lowered into this value (for messages and reports). */
  nodes: string[];
  /** 'mul' of two signal matrices (Conv, MatMul, Gemm): its products as blocks Z = A·B. */
  mm?: MatBlock[];
}

/**
 * One matrix product Z = A·B of a 'mul' act whose operands are both signals: element
 * elem[m·N + n] is Σ_k A[m,k]·B[k,n] (plus its odd last operand, a bias). A and B name operands
 * the act's own rows hold, as (element, position) pairs: a[2(m·K + k)] is the element, a[…+1]
 * the position in its rows; element −1 is a zero. The circuit may check a block's M·N·K products
 * with about M·K + K·N + M·N constraints instead (compiler/freivalds.ts).
 */
export interface MatBlock { M: number; K: number; N: number; elem: number[]; a: number[]; b: number[] }

export interface AffineOutput {
  name: string;
  shape: number[];
  expr: LinExpr[];
  /** An output of computed strings (class labels): the strings its integer codes index (ValueInfo.categories). */
  categories?: string[];
}

export interface AffineGraph {
  name: string;
  source: string;
  inputs: InputValue[];
  acts: ActValue[];
  outputs: AffineOutput[];
  totalValues: number;
}

// ---------------------------------------------------------------- QuantGraph (integer)

/** Compressed sparse rows of an integer affine map over circuit values. */
export interface QAffine {
  rowStart: number[];
  index: number[];
  coef: bigint[];
  bias: bigint[];
}

export interface QInput extends ValueTensor {
  dtype?: number;
  /** 'weight': a committed model weight (--weights hashed), range [−2^(bits−1), 2^(bits−1)). */
  role?: 'weight';
  /** real ≈ q / 2^scale */
  scale: number;
  /** Range check: q ∈ [lo, lo + 2^bits). */
  lo: bigint;
  bits: number;
  /** The calibrated float range the bounds came from. */
  calibrated: { min: number; max: number };
  /**
   * A categorical (string) input: the table its integer codes index (scale 0, range [0, k] at
   * least, k = categories.length standing for every other string); quantizeInputs maps strings.
   */
  categories?: string[];
  closedBy?: ClosedCategories[];
  /** A text input: quantizeInputs tokenizes its strings into the codes (src/tokenize.ts). */
  text?: TextSpec;
}

/** Piecewise polynomial of a `fn` value: see circuits/zkonnx.circom PiecewisePoly. */
export interface QPoly {
  /** x − lo is decomposed into segBits + lowBits bits; the top segBits pick the segment. */
  lo: bigint;
  segBits: number;
  lowBits: number;
  /**
   * The lowest dropBits of the low bits are left out of t (t = ⌊(x − lo) mod 2^lowBits / 2^dropBits⌋):
   * f is evaluated at the input's top bits only, as fine as the output needs (absent: 0).
   */
  dropBits?: number;
  degree: number;
  /** coef[seg·(degree+1) + k]: coefficient of t^k, at scale 2^polyScale. */
  coef: bigint[];
  polyScale: number;
  /** Largest |f(x) − dequantized output| over every admissible x (computed exhaustively). */
  maxError: number;
}

export interface QAct extends ValueTensor {
  op: NonLinear;
  nodes: string[];
  /** Output scale: real ≈ q / 2^scale. */
  scale: number;
  /** All operand rows at one scale; element i owns rows [argStart[i], argStart[i+1]). */
  args: QAffine;
  argStart: number[];
  argScale: number;
  /** Rescale amount of the result (rescale, mul, fn), else 0. */
  shift: number;
  /** Per element: the output is constrained to [−2^b, 2^b) (rescale, mul, fn, div, sqrt). */
  bits: number[];
  /**
   * Per element, op-specific widths: max/argmax/less: bits of each comparison difference;
   * div: bits of the denominator; sqrt: bits of the radicand; fn: bits of x − lo;
   * round: bits of the remainder (its floor quotient has `bits`).
   */
  aux: number[];
  /** Largest |intermediate| any admissible witness can reach (proves no wrap-around). */
  accBound: bigint;
  poly?: QPoly;
  /**
   * fn whose input range reaches past where f is constant: x is clamped to [lo, hi] (either end
   * optional) by comparisons (Max2) of width bits[i] before the polynomial. fused (both ends):
   * hi = lo + 2^B − 1 (B the polynomial's domain bits) and one ClampedPoly decomposes x − lo + 2^W,
   * W = bits[i], to clamp and to evaluate. relu (fused, lo = −2^(B−1)): the value is
   * ⌊x / 2^relu⌋·[x ≥ 0] minus the polynomial, from the same decomposition (GELU: relu(x) − h(x)).
   */
  clamp?: { lo?: bigint; hi?: bigint; bits: number[]; fused?: boolean; relu?: number };
  /** 'mul' of two signal matrices: ActValue.mm (the positions index each element's rows from argStart). */
  mm?: MatBlock[];
  /**
   * 'mul' at shift 0 whose every output interval its operands' proven intervals already imply (no
   * calibration cap, no stated bound, no ReLU, no block check): the products alone, not
   * range-checked again (products of 0/1 equalities: an n-gram's tokens).
   */
  plain?: true;
}

export interface QOutput {
  name: string;
  shape: number[];
  scale: number;
  affine: QAffine;
  /** Largest |value| any admissible witness can produce. */
  bound: bigint;
  /** An output of computed strings (class labels): value k stands for categories[k]. */
  categories?: string[];
}

export type Visibility = 'public' | 'private' | 'hashed';
export type WeightVisibility = 'baked' | 'hashed';

export interface QuantParams {
  activationBits: number;
  weightBits: number;
  /** Fixed scale of hashed weights (default: the largest that fits the weights in weightBits). */
  weightScale?: number;
  /** Bits past a rescale's calibrated range that its range check admits (default 4; 64: the whole interval, the default with committed weights). */
  headroomBits?: number;
}

export interface QuantGraph {
  name: string;
  inputs: QInput[];
  acts: QAct[];
  outputs: QOutput[];
  totalValues: number;
  params: QuantParams;
  /**
   * Per value index: the interval [lo, hi] the constraints guarantee for it (inputs: their range
   * check; acts: the bound analysis). What a chunk of a split model range-checks its incoming
   * link values to (src/split.ts). Absent in graphs written before it was recorded.
   */
  valueBounds?: { lo: bigint; hi: bigint }[];
}
