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
}

export type AttrValue = number | number[] | string | string[] | Tensor;

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

export type Activation = 'relu' | 'none';

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
}

/** act(expr) for every element: the points where the circuit pays constraints. */
export interface ActValue extends ValueTensor {
  kind: 'act';
  act: Activation;
  expr: LinExpr[];
  /** ONNX nodes folded into this value (for messages and reports). */
  nodes: string[];
}

export interface AffineOutput {
  name: string;
  shape: number[];
  expr: LinExpr[];
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
  /** real ≈ q / 2^scale */
  scale: number;
  /** Range check: q ∈ [lo, lo + 2^bits). */
  lo: bigint;
  bits: number;
  /** The calibrated float range the bounds came from. */
  calibrated: { min: number; max: number };
}

export interface QAct extends ValueTensor {
  act: Activation;
  scale: number;
  /** Accumulator scale; shift = accScale − scale. */
  accScale: number;
  shift: number;
  affine: QAffine;
  /** Per element: quotient constrained to [−2^b, 2^b). */
  bits: number[];
  /** Largest |accumulator| any admissible witness can reach (proves no wrap-around). */
  accBound: bigint;
  nodes: string[];
}

export interface QOutput {
  name: string;
  shape: number[];
  scale: number;
  affine: QAffine;
  /** Largest |value| any admissible witness can produce. */
  bound: bigint;
}

export type Visibility = 'public' | 'private';

export interface QuantParams {
  activationBits: number;
  weightBits: number;
}

export interface QuantGraph {
  name: string;
  inputs: QInput[];
  acts: QAct[];
  outputs: QOutput[];
  totalValues: number;
  params: QuantParams;
}
