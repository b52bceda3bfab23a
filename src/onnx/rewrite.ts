// Rewrites of one ONNX node into default-domain nodes (new value names, new constants), shared by
// the ai.onnx.ml rules (ml.ts) and the ops zkonnx lowers to other ops (recurrent.ts, expand.ts),
// all run by shape inference (fold.ts) as it reaches the node.
import type { AttrValue, Node, ParamRole, Tensor } from '../ir/graph.js';

export interface Emit {
  /** Adds a default-domain node; returns its first output (a fresh name unless `outputs` is given). */
  node(op: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs?: string[]): string;
  /**
   * Adds a constant (what --weights hashed does with it: `role`, else the emitter's default;
   * `label` names it after the node, as committed weights are listed); returns its name.
   */
  constant(dims: number[], data: ArrayLike<number>, role?: ParamRole, label?: string): string;
}

/** What a rewrite during shape inference sees (src/onnx/fold.ts). */
export interface RewriteContext {
  e: Emit;
  shapeOf(name: string): number[];
  /** The constant's value, or undefined for a signal. */
  constOf(name: string): Tensor | undefined;
  /** Whether every value of the tensor is an integer (integer or bool inputs, category codes, comparisons, ArgMax). */
  intValued(name: string): boolean;
  /** Whether the tensor is boolean (a bool input or constant, a comparison). */
  isBool(name: string): boolean;
  fail(msg: string, hint?: string): never;
  /** The model's default-domain opset (an op's inputs and defaults change with it). */
  opset: number;
}

/**
 * Rewrites one node into others (through `c.e`) once its input shapes are known; returns false,
 * having emitted nothing, to keep the node as it is (an op that needs a rewrite only for some
 * attributes or operands).
 */
export type Expansion = (node: Node, c: RewriteContext) => void | false;

/**
 * An Emit for the rewrite of `owner`: nodes go to `sink`, constants and their shapes to the maps,
 * and the roles of constants given one (or `defaultRole`) to `roles`.
 */
export function emitter(owner: Node, sink: Node[], constants: Map<string, Tensor>, shapes: Map<string, number[]>, tag: string, roles?: Map<string, ParamRole>, defaultRole?: ParamRole): Emit {
  const base = owner.name || owner.op;
  let k = 0;
  return {
    node(op, inputs, attrs = {}, outputs) {
      const outs = outputs ?? [`${base}:${tag}${k++}`];
      sink.push({ name: `${base}/${op}${k++}`, op, domain: '', inputs, outputs: outs, attrs });
      return outs[0]!;
    },
    constant(dims, data, role = defaultRole, label) {
      const name = label && !constants.has(`${base}:${label}`) ? `${base}:${label}` : `${base}:${label ?? `${tag}c`}${k++}`;
      constants.set(name, { dims, data: Float64Array.from(data) });
      shapes.set(name, dims);
      if (role) roles?.set(name, role);
      return name;
    },
  };
}

export const nums = (v: AttrValue | undefined): number[] => (Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v] : []);
export const strs = (v: AttrValue | undefined): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);
export const str = (v: AttrValue | undefined, d: string) => (typeof v === 'string' ? v : d);
export const num = (v: AttrValue | undefined, d: number) => (typeof v === 'number' ? v : d);

/** Axis a (negative: from the end) of a tensor of rank `rank`, or the rewrite fails naming it. */
export function axisIn(c: RewriteContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(r) || r < 0 || r >= rank) c.fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
}
