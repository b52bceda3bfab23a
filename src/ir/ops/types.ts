// One implementation per ONNX op, shared by constant folding (elements are numbers), shape
// inference and linearization (elements are affine expressions over circuit values): the op
// code is generic over the element algebra, so the three uses cannot disagree.
import type { Node, Tensor } from '../graph.js';

/** A tensor of elements of type T, row-major. */
export interface Tens<T> {
  shape: number[];
  data: T[];
}

/** The linear structure the ops need from an element type. */
export interface Algebra<T> {
  /** Σ ws[j]·xs[j] + c */
  combine(xs: readonly T[], ws: readonly number[], c?: number): T;
  /** The element standing for a constant. */
  constant(c: number): T;
}

/** An op's operand: a tensor of elements (signals, or numbers when folding) or a constant. */
export type Arg<T> = { kind: 'sym'; t: Tens<T> } | { kind: 'const'; t: Tensor } | undefined;

/** Throws a ZkonnxError naming the node; `code` defaults to ONNX_UNSUPPORTED_ATTR. */
export type Fail = (msg: string, hint?: string) => never;

export interface OpContext {
  node: Node;
  fail: Fail;
  /** Graph opset (some ops moved attributes to inputs across opsets). */
  opset: number;
  /** MaxPool: take operands that are not single values as they are (linearize.ts, ReLU after the pool). */
  wideOperands?: boolean;
}
