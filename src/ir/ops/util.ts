// Helpers shared by the generic ops: attributes, operands that must be constants, and index maps
// (a data-movement op is an index map from output elements to input elements, computed from the
// shapes alone and then applied to elements of any algebra).
import type { Tensor } from '../graph.js';
import { sizeOf } from '../graph.js';
import { strides } from '../shape.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';

/** An op implementation, generic over the element algebra. */
export type OpFn = <T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]) => Tens<T>[] | undefined;

export type SymArg<T> = { kind: 'sym'; t: Tens<T> };
export const isSym = <T>(a: Arg<T>): a is SymArg<T> => a?.kind === 'sym';

export function attrNum(ctx: OpContext, key: string, dflt: number): number {
  const v = ctx.node.attrs[key];
  return typeof v === 'number' ? v : dflt;
}

export function attrList(ctx: OpContext, key: string): number[] | undefined {
  const v = ctx.node.attrs[key];
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v];
  return undefined;
}

export function attrStr(ctx: OpContext, key: string, dflt: string): string {
  const v = ctx.node.attrs[key];
  return typeof v === 'string' ? v : dflt;
}

/** Fails unless the string attribute `key` is one of `allowed`; returns its value. */
export function attrChoice<S extends string>(ctx: OpContext, key: string, dflt: S, allowed: readonly S[]): S {
  const v = attrStr(ctx, key, dflt);
  if (!(allowed as readonly string[]).includes(v)) {
    ctx.fail(`attribute ${key}='${v}' is not supported (supported: ${allowed.join(', ')})`);
  }
  return v as S;
}

/** A constant tensor lifted to elements. */
export function lift<T>(alg: Algebra<T>, t: Tensor): Tens<T> {
  const data = new Array<T>(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = alg.constant(t.data[i]!);
  return { shape: t.dims, data };
}

export function asTens<T>(alg: Algebra<T>, a: Arg<T>): Tens<T> | undefined {
  if (!a) return undefined;
  return a.kind === 'sym' ? a.t : lift(alg, a.t);
}

/** The data operand (input 0), which every op needs. */
export function input0<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T> {
  const x = asTens(alg, args[0]);
  if (!x) ctx.fail('input 0 is missing');
  return x;
}

export const shapeOfArg = <T>(a: NonNullable<Arg<T>>): number[] => (a.kind === 'sym' ? a.t.shape : a.t.dims);

/** Input i, which must be a constant when present (weights, indices, shape operands). */
export function constArg<T>(ctx: OpContext, args: Arg<T>[], i: number, what: string): Tensor | undefined {
  const a = args[i];
  if (!a) return undefined;
  if (a.kind === 'sym') ctx.fail(`input ${i} (${what}) must be a constant, it depends on the model input`, 'zkonnx needs it at compile time');
  return a.t;
}

/**
 * Integer list given as input `i` (newer opsets) or as attribute `key` (older opsets). Reads
 * whichever is present, so that both dialects load; undefined when neither is.
 */
export function intsArg<T>(ctx: OpContext, args: Arg<T>[], i: number, key: string): number[] | undefined {
  const t = constArg(ctx, args, i, key);
  if (t) return Array.from(t.data);
  return attrList(ctx, key);
}

export function normAxisChecked(ctx: OpContext, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.fail(`${what}=${axis} is out of range for rank ${rank}`);
  return a;
}

/** Output element i = x[src[i]], or the constant `fill` where src[i] < 0. */
export function take<T>(alg: Algebra<T>, x: Tens<T>, shape: number[], src: ArrayLike<number>, fill = 0): Tens<T> {
  const n = src.length;
  const data = new Array<T>(n);
  let f: T | undefined;
  for (let i = 0; i < n; i++) {
    const j = src[i]!;
    data[i] = j >= 0 ? x.data[j]! : (f ??= alg.constant(fill));
  }
  return { shape, data };
}

/**
 * Index map of a separable movement: output coordinate o along axis d reads input coordinate
 * maps[d][o] (−1: outside, the element becomes the fill constant). The output shape is the
 * lengths of the maps.
 */
export function separableIndex(inShape: readonly number[], maps: readonly ArrayLike<number>[]): Int32Array {
  const outShape = maps.map((m) => m.length);
  const is = strides(inShape);
  const n = sizeOf(outShape);
  const out = new Int32Array(n);
  const r = outShape.length;
  if (n === 0) return out;
  const coord = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < r; d++) {
      const c = maps[d]![coord[d]!]!;
      if (c < 0) { s = -1; break; }
      s += c * is[d]!;
    }
    out[i] = s;
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < outShape[d]!) break;
      coord[d] = 0;
    }
  }
  return out;
}

/** Index map of a transposition: output element i reads input element out[i]. */
export function permuteIndex(shape: readonly number[], perm: readonly number[]): Int32Array {
  const dims = perm.map((p) => shape[p]!);
  const is = strides(shape);
  const ps = perm.map((p) => is[p]!);
  const n = sizeOf(dims);
  const out = new Int32Array(n);
  const r = dims.length;
  if (n === 0) return out;
  const coord = new Array<number>(r).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    out[i] = src;
    for (let d = r - 1; d >= 0; d--) {
      src += ps[d]!;
      if (++coord[d]! < dims[d]!) break;
      src -= ps[d]! * dims[d]!;
      coord[d] = 0;
    }
  }
  return out;
}

export const iota = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/** Numbers: constant folding. */
export const NUMBER_ALGEBRA: Algebra<number> = {
  combine(xs, ws, c = 0) {
    let s = c;
    for (let i = 0; i < xs.length; i++) s += ws[i]! * xs[i]!;
    return s;
  },
  constant: (c) => c,
};

/**
 * Shape inference: elements carry nothing. Heavy ops (Conv, MatMul, pools, reductions) compare
 * `alg === SHAPE_ALGEBRA` to skip their inner loops; every shape computation still runs.
 */
export const SHAPE_ALGEBRA: Algebra<null> = { combine: () => null, constant: () => null };

export const shapeOnly = <T>(alg: Algebra<T>): boolean => (alg as Algebra<unknown>) === SHAPE_ALGEBRA;
