// Data-movement ops, generic over the element algebra: each one computes an index map from its
// shapes and constant operands, then moves elements (signals or numbers) without arithmetic.
// Attributes that moved to inputs across opsets are read from whichever the model has.
import { sizeOf } from '../graph.js';
import { broadcastIndex, broadcastShape, reshapeTarget, strides } from '../shape.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';
import {
  asTens, attrChoice, attrList, attrNum, constArg, input0, intsArg, iota, normAxisChecked, type OpFn,
  permuteIndex, separableIndex, take,
} from './util.js';

function same<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  return [input0(alg, ctx, args)];
}

/** Dropout at inference is the identity; its optional mask output is not provided. */
function dropout<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const training = constArg(ctx, args, 2, 'training_mode');
  if (training && training.data[0]) ctx.fail('input training_mode=1 is not supported (supported: 0, inference)');
  if (ctx.node.outputs[1]) ctx.fail('output mask is not supported', 'use Dropout with one output');
  return [input0(alg, ctx, args)];
}

function flatten<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const raw = attrNum(ctx, 'axis', 1);
  const axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis > r) ctx.fail(`attribute axis=${raw} is out of range for rank ${r}`);
  return [{ shape: [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))], data: x.data }];
}

function reshape<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const spec = intsArg(ctx, args, 1, 'shape');
  if (!spec) ctx.fail('the target shape is missing (input 1, or attribute shape before opset 5)');
  const r = reshapeTarget(x.shape, spec, attrNum(ctx, 'allowzero', 0) === 1);
  if (typeof r === 'string') ctx.fail(r);
  return [{ shape: r, data: x.data }];
}

function squeeze<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const axes = intsArg(ctx, args, 1, 'axes');
  let drop: Set<number>;
  if (axes && axes.length > 0) {
    drop = new Set(axes.map((a) => normAxisChecked(ctx, a, r, 'axes entry')));
    for (const a of drop) if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of shape [${x.shape}]: its size is not 1`);
  } else {
    drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  }
  return [{ shape: x.shape.filter((_, i) => !drop.has(i)), data: x.data }];
}

function unsqueeze<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const axes = intsArg(ctx, args, 1, 'axes');
  if (!axes) ctx.fail('axes are missing (input 1 from opset 13, attribute axes before)');
  const rank = x.shape.length + axes.length;
  const norm = axes.map((a) => normAxisChecked(ctx, a, rank, 'axes entry')).sort((p, q) => p - q);
  if (new Set(norm).size !== norm.length) ctx.fail(`axes [${axes}] repeat an axis`);
  const shape = [...x.shape];
  for (const a of norm) shape.splice(a, 0, 1);
  return [{ shape, data: x.data }];
}

function transpose<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const perm = attrList(ctx, 'perm') ?? x.shape.map((_, i) => r - 1 - i);
  if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) ctx.fail(`attribute perm=[${perm}] is not a permutation of rank ${r}`);
  return [take(alg, x, perm.map((p) => x.shape[p]!), permuteIndex(x.shape, perm))];
}

function concat<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const parts = args.filter((a) => a !== undefined).map((a) => asTens(alg, a)!);
  if (parts.length === 0) ctx.fail('no inputs');
  const r = parts[0]!.shape.length;
  const raw = ctx.node.attrs.axis;
  if (typeof raw !== 'number' && ctx.opset >= 4) ctx.fail('attribute axis is missing');
  const axis = normAxisChecked(ctx, typeof raw === 'number' ? raw : 1, r);
  const shape = [...parts[0]!.shape];
  shape[axis] = 0;
  for (const p of parts) {
    if (p.shape.length !== r || p.shape.some((d, i) => i !== axis && d !== shape[i])) {
      ctx.fail(`inputs of shapes ${parts.map((q) => `[${q.shape}]`).join(', ')} do not concatenate along axis ${axis}`);
    }
    shape[axis] += p.shape[axis]!;
  }
  const outer = sizeOf(shape.slice(0, axis));
  const data: (typeof parts)[number]['data'] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = sizeOf(p.shape.slice(axis));
      for (let i = 0; i < chunk; i++) data.push(p.data[o * chunk + i]!);
    }
  }
  return [{ shape, data }];
}

/** ONNX Slice semantics for one axis: the input coordinates read, in order. */
export function sliceAxis(dim: number, start: number, end: number, step: number): Int32Array {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), dim);
    end = Math.min(Math.max(end, 0), dim);
  } else {
    start = Math.min(Math.max(start, 0), dim - 1);
    end = Math.min(Math.max(end, -1), dim - 1);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  return Int32Array.from({ length: n }, (_, k) => start + k * step);
}

function slice<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const starts = intsArg(ctx, args, 1, 'starts');
  const ends = intsArg(ctx, args, 2, 'ends');
  if (!starts || !ends) ctx.fail('starts and ends are missing (inputs 1 and 2 from opset 10, attributes before)');
  const axes = intsArg(ctx, args, 3, 'axes') ?? starts.map((_, i) => i);
  const steps = constArg(ctx, args, 4, 'steps');
  if (ends.length !== starts.length || axes.length !== starts.length || (steps && steps.data.length !== starts.length)) {
    ctx.fail(`starts, ends, axes and steps differ in length (${starts.length}, ${ends.length}, ${axes.length}${steps ? `, ${steps.data.length}` : ''})`);
  }
  const maps: Int32Array[] = x.shape.map((d) => iota(d));
  axes.forEach((raw, i) => {
    const a = normAxisChecked(ctx, raw, r, 'axes entry');
    const step = steps ? steps.data[i]! : 1;
    if (step === 0) ctx.fail('a step of 0 is invalid');
    maps[a] = sliceAxis(x.shape[a]!, starts[i]!, ends[i]!, step);
  });
  return [take(alg, x, maps.map((m) => m.length), separableIndex(x.shape, maps))];
}

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;

function pad<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const mode = attrChoice(ctx, 'mode', 'constant', PAD_MODES);
  const pads = intsArg(ctx, args, 1, 'pads') ?? attrList(ctx, 'paddings');
  if (!pads) ctx.fail('pads are missing (input 1 from opset 11, attribute pads before)');
  const cv = constArg(ctx, args, 2, 'constant_value');
  const value = cv && cv.data.length > 0 ? cv.data[0]! : attrNum(ctx, 'value', 0);
  const axesIn = intsArg(ctx, args, 3, 'axes');
  const axes = axesIn ? axesIn.map((a) => normAxisChecked(ctx, a, r, 'axes entry')) : x.shape.map((_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries, ${2 * axes.length} expected for ${axes.length} axes`);
  const maps: Int32Array[] = x.shape.map((d) => iota(d));
  axes.forEach((a, k) => {
    const n = x.shape[a]!;
    const pb = pads[k]!;
    const pe = pads[k + axes.length]!;
    const len = n + pb + pe;
    if (len < 0) ctx.fail(`pads [${pads}] crop axis ${a} of size ${n} below zero`);
    if (mode !== 'constant' && n === 0 && len > 0) ctx.fail(`mode '${mode}' cannot pad the empty axis ${a}`);
    const m = new Int32Array(len);
    for (let o = 0; o < len; o++) {
      let i = o - pb;
      if (i < 0 || i >= n) {
        if (mode === 'constant') i = -1;
        else if (mode === 'edge') i = Math.min(Math.max(i, 0), n - 1);
        else if (mode === 'wrap') i = ((i % n) + n) % n;
        else if (n === 1) i = 0;
        else {
          const p = 2 * (n - 1);
          i = ((i % p) + p) % p;
          if (i >= n) i = p - i;
        }
      }
      m[o] = i;
    }
    maps[a] = m;
  });
  return [take(alg, x, maps.map((mm) => mm.length), separableIndex(x.shape, maps), value)];
}

/** Gather with constant indices; undefined (a lookup, not a movement) when the indices are signals. */
function gather<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  if (args[1]?.kind === 'sym') return undefined;
  const x = input0(alg, ctx, args);
  const idx = constArg(ctx, args, 1, 'indices');
  if (!idx) ctx.fail('input 1 (indices) is missing');
  const r = x.shape.length;
  const axis = normAxisChecked(ctx, attrNum(ctx, 'axis', 0), r);
  const len = x.shape[axis]!;
  const sel = Int32Array.from(idx.data, (v) => {
    const j = v < 0 ? v + len : v;
    if (j < 0 || j >= len) ctx.fail(`index ${v} is out of range for axis ${axis} of size ${len}`);
    return j;
  });
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const src = separableIndex([outer, len, inner], [iota(outer), sel, iota(inner)]);
  return [take(alg, x, [...x.shape.slice(0, axis), ...idx.dims, ...x.shape.slice(axis + 1)], src)];
}

function gatherElements<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  if (args[1]?.kind === 'sym') return undefined;
  const x = input0(alg, ctx, args);
  const idx = constArg(ctx, args, 1, 'indices');
  if (!idx) ctx.fail('input 1 (indices) is missing');
  const r = x.shape.length;
  if (idx.dims.length !== r) ctx.fail(`indices of rank ${idx.dims.length} differ from the data's rank ${r}`);
  const axis = normAxisChecked(ctx, attrNum(ctx, 'axis', 0), r);
  const is = strides(x.shape);
  const os = strides(idx.dims);
  const len = x.shape[axis]!;
  const src = new Int32Array(idx.data.length);
  for (let f = 0; f < src.length; f++) {
    let rem = f;
    let s = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / os[d]!);
      rem -= c * os[d]!;
      if (d !== axis && c >= x.shape[d]!) ctx.fail(`indices of shape [${idx.dims}] exceed the data's shape [${x.shape}] on axis ${d}`);
      s += (d === axis ? 0 : c) * is[d]!;
    }
    const v = idx.data[f]!;
    const j = v < 0 ? v + len : v;
    if (j < 0 || j >= len) ctx.fail(`index ${v} is out of range for axis ${axis} of size ${len}`);
    src[f] = s + j * is[axis]!;
  }
  return [take(alg, x, [...idx.dims], src)];
}

function expand<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const target = intsArg(ctx, args, 1, 'shape');
  if (!target) ctx.fail('input 1 (shape) is missing');
  const shape = broadcastShape(x.shape, target);
  if (!shape) ctx.fail(`shape [${x.shape}] does not broadcast to [${target}]`);
  return [take(alg, x, shape, broadcastIndex(shape, x.shape))];
}

function tile<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const reps = intsArg(ctx, args, 1, 'repeats');
  if (!reps || reps.length !== x.shape.length) ctx.fail(`repeats [${reps ?? ''}] must have one entry per axis of [${x.shape}]`);
  if (reps.some((k) => k < 0 || !Number.isInteger(k))) ctx.fail(`repeats [${reps}] must be non-negative integers`);
  const maps = x.shape.map((n, d) => Int32Array.from({ length: n * reps[d]! }, (_, o) => o % n));
  return [take(alg, x, maps.map((m) => m.length), separableIndex(x.shape, maps))];
}

function split<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const axis = normAxisChecked(ctx, attrNum(ctx, 'axis', 0), r);
  const dim = x.shape[axis]!;
  let sizes = intsArg(ctx, args, 1, 'split');
  const nOut = ctx.node.outputs.length;
  if (!sizes || sizes.length === 0) {
    const n = attrNum(ctx, 'num_outputs', nOut);
    if (n < 1) ctx.fail(`num_outputs=${n} is invalid`);
    const chunk = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  if (sizes.reduce((p, q) => p + q, 0) !== dim) ctx.fail(`split [${sizes}] does not sum to the size ${dim} of axis ${axis}`);
  if (sizes.length < nOut) ctx.fail(`split gives ${sizes.length} parts for ${nOut} outputs`);
  const outs: Tens<T>[] = [];
  let at = 0;
  for (const s of sizes) {
    const maps = x.shape.map((d) => iota(d));
    maps[axis] = Int32Array.from({ length: s }, (_, k) => at + k);
    at += s;
    outs.push(take(alg, x, maps.map((m) => m.length), separableIndex(x.shape, maps)));
  }
  return outs;
}

function depthToSpace<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  if (x.shape.length !== 4) ctx.fail(`input of rank ${x.shape.length} is not supported (NCHW, rank 4)`);
  const b = attrNum(ctx, 'blocksize', 0);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (b < 1 || C % (b * b) !== 0) ctx.fail(`blocksize=${b} does not divide the ${C} channels into b² blocks`);
  const c = C / (b * b);
  const mode = attrChoice(ctx, 'mode', 'DCR', ['DCR', 'CRD'] as const);
  const [tmp, perm] = mode === 'DCR'
    ? [[N, b, b, c, H, W], [0, 3, 4, 1, 5, 2]]
    : [[N, c, b, b, H, W], [0, 1, 4, 2, 5, 3]];
  return [take(alg, x, [N, c, H * b, W * b], permuteIndex(tmp, perm))];
}

function spaceToDepth<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  if (x.shape.length !== 4) ctx.fail(`input of rank ${x.shape.length} is not supported (NCHW, rank 4)`);
  const b = attrNum(ctx, 'blocksize', 0);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (b < 1 || H % b !== 0 || W % b !== 0) ctx.fail(`blocksize=${b} does not divide the spatial size ${H}×${W}`);
  return [take(alg, x, [N, C * b * b, H / b, W / b], permuteIndex([N, C, H / b, b, W / b, b], [0, 3, 5, 1, 2, 4]))];
}

export const MOVEMENT_OPS: Record<string, OpFn> = {
  Identity: same,
  Cast: same,
  CastLike: same,
  Dropout: dropout,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  GatherElements: gatherElements,
  Expand: expand,
  Tile: tile,
  Split: split,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
};
