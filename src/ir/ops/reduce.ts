// Reductions. ReduceSum and ReduceMean are linear and implemented here generically; the axes
// logic (attribute or input by opset, keepdims, noop_with_empty_axes) is shared with the shape
// rules of the non-linear reductions (ReduceMax, ReduceL2, …) in src/onnx/fold.ts.
import { sizeOf } from '../graph.js';
import { strides } from '../shape.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';
import { attrNum, input0, intsArg, normAxisChecked, type OpFn, shapeOnly } from './util.js';

export interface Reduction {
  /** Reduced axes, sorted; empty with noop = true means the op is the identity. */
  axes: number[];
  keepdims: boolean;
  noop: boolean;
  outShape: number[];
}

/** Axes and output shape of a ReduceX node on an input of shape `shape`. */
export function reductionOf<T>(ctx: OpContext, args: Arg<T>[], shape: number[]): Reduction {
  const r = shape.length;
  const given = intsArg(ctx, args, 1, 'axes');
  const keepdims = attrNum(ctx, 'keepdims', 1) === 1;
  if (!given || given.length === 0) {
    if (attrNum(ctx, 'noop_with_empty_axes', 0) === 1) return { axes: [], keepdims, noop: true, outShape: [...shape] };
    const axes = shape.map((_, i) => i);
    return { axes, keepdims, noop: false, outShape: keepdims ? shape.map(() => 1) : [] };
  }
  const axes = [...new Set(given.map((a) => normAxisChecked(ctx, a, r, 'axes entry')))].sort((p, q) => p - q);
  const outShape = keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
  return { axes, keepdims, noop: false, outShape };
}

/** For each output element of a reduction, the flat input indices it reduces (in input order). */
export function reductionGroups(shape: number[], axes: number[]): { groups: Int32Array[]; outSize: number } {
  const r = shape.length;
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = strides(kept);
  const outSize = sizeOf(kept);
  const n = sizeOf(shape);
  const per = n / Math.max(1, outSize);
  const groups = Array.from({ length: outSize }, () => new Int32Array(per));
  const fill = new Int32Array(outSize);
  const coord = new Array<number>(r).fill(0);
  for (let f = 0; f < n; f++) {
    let o = 0;
    for (let d = 0; d < r; d++) if (kept[d] !== 1) o += coord[d]! * ks[d]!;
    groups[o]![fill[o]!++] = f;
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  return { groups, outSize };
}

function reduceLinear<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[], mean: boolean): Tens<T>[] {
  const x = input0(alg, ctx, args);
  const red = reductionOf(ctx, args, x.shape);
  if (red.noop) return [x];
  if (shapeOnly(alg)) return [{ shape: red.outShape, data: new Array<T>(sizeOf(red.outShape)).fill(alg.constant(0)) }];
  const { groups } = reductionGroups(x.shape, red.axes);
  const data = groups.map((g) => {
    const xs = Array.from(g, (i) => x.data[i]!);
    return alg.combine(xs, new Array<number>(xs.length).fill(mean && xs.length ? 1 / xs.length : 1));
  });
  return [{ shape: red.outShape, data }];
}

export const REDUCE_OPS: Record<string, OpFn> = {
  ReduceSum: (alg, ctx, args) => reduceLinear(alg, ctx, args, false),
  ReduceMean: (alg, ctx, args) => reduceLinear(alg, ctx, args, true),
};
