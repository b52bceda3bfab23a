// Linear ONNX ops, generic over the element algebra (see types.ts): used with numbers for
// constant folding, with a dummy algebra for shape inference, and with affine expressions for
// linearization. Returns undefined when the op is not linear for these operands (e.g. the
// product of two signal tensors), so that the caller can lower it as a non-linear op.
// Data movement lives in movement.ts, sliding windows in conv.ts, reductions in reduce.ts,
// Resize/Upsample in resize.ts, scatters in scatter.ts; this file holds the arithmetic and the dispatch.
import type { Tensor } from '../graph.js';
import { sizeOf } from '../graph.js';
import { broadcastIndex, broadcastShape } from '../shape.js';
import { CONV_OPS } from './conv.js';
import { MOVEMENT_OPS } from './movement.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { SCATTER_OPS } from './scatter.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';
import { asTens, attrNum, constArg, input0, isSym, lift, type OpFn, permuteIndex, shapeOfArg, shapeOnly } from './util.js';

export { asTens, attrNum, lift } from './util.js';

export function permute<T>(x: Tens<T>, perm: number[]): Tens<T> {
  const src = permuteIndex(x.shape, perm);
  return { shape: perm.map((p) => x.shape[p]!), data: Array.from(src, (i) => x.data[i]!) };
}

export function constPermute(t: Tensor, perm: number[]): Tensor {
  const src = permuteIndex(t.dims, perm);
  return { dims: perm.map((p) => t.dims[p]!), data: Float64Array.from(src, (i) => t.data[i]!) };
}

/**
 * numpy matmul of a tensor of elements by a constant: x·W (symLeft) or W·x, with 1-D operands
 * promoted and batch dimensions broadcast.
 */
export function matmulConst<T>(alg: Algebra<T>, ctx: OpContext, x: Tens<T>, w: Tensor, symLeft: boolean): Tens<T> {
  const left = symLeft ? x.shape : w.dims;
  const right = symLeft ? w.dims : x.shape;
  if (left.length === 0 || right.length === 0) ctx.fail('MatMul operands must have rank ≥ 1');
  const A = left.length === 1 ? [1, left[0]!] : left;
  const B = right.length === 1 ? [right[0]!, 1] : right;
  const M = A[A.length - 2]!;
  const K = A[A.length - 1]!;
  const N = B[B.length - 1]!;
  if (B[B.length - 2] !== K) ctx.fail(`inner dimensions differ: [${left}] × [${right}]`);
  const ab = A.slice(0, -2);
  const bb = B.slice(0, -2);
  const batch = broadcastShape(ab, bb);
  if (!batch) ctx.fail(`batch dimensions of [${left}] and [${right}] do not broadcast`);
  const ia = broadcastIndex(batch, ab);
  const ib = broadcastIndex(batch, bb);
  const nb = sizeOf(batch);
  const data = new Array<T>(nb * M * N);
  if (shapeOnly(alg)) data.fill(alg.constant(0));
  else for (let b = 0; b < nb; b++) {
    const aOff = ia[b]! * M * K;
    const bOff = ib[b]! * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const xs: T[] = [];
        const ws: number[] = [];
        for (let k = 0; k < K; k++) {
          const ai = aOff + m * K + k;
          const bi = bOff + k * N + n;
          const wv = symLeft ? w.data[bi]! : w.data[ai]!;
          if (wv === 0) continue;
          xs.push(symLeft ? x.data[ai]! : x.data[bi]!);
          ws.push(wv);
        }
        data[(b * M + m) * N + n] = alg.combine(xs, ws);
      }
    }
  }
  const shape = [...batch, M, N];
  if (right.length === 1) shape.splice(shape.length - 1, 1);
  if (left.length === 1) shape.splice(shape.length - 2, 1);
  return { shape, data };
}

/** Element-wise binary op with numpy broadcasting; f gets both elements. */
export function broadcast2<T, U>(
  a: { shape: number[]; at: (i: number) => U }, b: { shape: number[]; at: (i: number) => U },
  ctx: OpContext, f: (x: U, y: U) => T,
): Tens<T> {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) ctx.fail(`shapes [${a.shape}] and [${b.shape}] do not broadcast`);
  const ia = broadcastIndex(shape, a.shape);
  const ib = broadcastIndex(shape, b.shape);
  const data = new Array<T>(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = f(a.at(ia[i]!), b.at(ib[i]!));
  return { shape, data };
}

type Elem<T> = { sym: T } | { c: number };
const view = <T>(a: NonNullable<Arg<T>>) =>
  a.kind === 'sym'
    ? { shape: a.t.shape, at: (i: number): Elem<T> => ({ sym: a.t.data[i]! }) }
    : { shape: a.t.dims, at: (i: number): Elem<T> => ({ c: a.t.data[i]! }) };

function need<T>(ctx: OpContext, args: Arg<T>[], n: number): NonNullable<Arg<T>>[] {
  for (let i = 0; i < n; i++) if (!args[i]) ctx.fail(`input ${i} is missing`);
  return args.slice(0, n) as NonNullable<Arg<T>>[];
}

function addSub<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const [a, b] = need(ctx, args, 2);
  const sign = ctx.node.op === 'Sub' ? -1 : 1;
  return [broadcast2(view(a!), view(b!), ctx, (x: Elem<T>, y: Elem<T>) => {
    if ('c' in x && 'c' in y) return alg.constant(x.c + sign * y.c);
    if ('c' in x) return alg.combine([(y as { sym: T }).sym], [sign], x.c);
    if ('c' in y) return alg.combine([x.sym], [1], sign * y.c);
    return alg.combine([x.sym, y.sym], [1, sign]);
  })];
}

function mulDiv<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const [a, b] = need(ctx, args, 2);
  const div = ctx.node.op === 'Div';
  if (isSym(b) && (div || isSym(a))) return undefined; // signal × signal, or ÷ signal
  return [broadcast2(view(a!), view(b!), ctx, (x: Elem<T>, y: Elem<T>) => {
    if (div) {
      const d = (y as { c: number }).c;
      if ('c' in x) return alg.constant(x.c / d);
      if (d === 0) ctx.fail('division by a constant zero');
      return alg.combine([x.sym], [1 / d]);
    }
    if ('c' in x && 'c' in y) return alg.constant(x.c * y.c);
    if ('c' in x) return alg.combine([(y as { sym: T }).sym], [x.c]);
    return alg.combine([x.sym], [(y as { c: number }).c]);
  })];
}

function matmul<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const [a, b] = need(ctx, args, 2);
  if (isSym(a) && isSym(b)) return undefined;
  if (isSym(a)) return [matmulConst(alg, ctx, a.t, b!.t as Tensor, true)];
  if (isSym(b)) return [matmulConst(alg, ctx, b.t, a!.t as Tensor, false)];
  return [matmulConst(alg, ctx, lift(alg, a!.t), b!.t, true)];
}

function gemm<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const [a, b] = need(ctx, args, 2);
  if (isSym(a) && isSym(b)) return undefined;
  const alpha = attrNum(ctx, 'alpha', 1);
  const beta = attrNum(ctx, 'beta', 1);
  const ta = attrNum(ctx, 'transA', 0) === 1;
  const tb = attrNum(ctx, 'transB', 0) === 1;
  for (const [v, name] of [[a, 'A'], [b, 'B']] as const) {
    if (shapeOfArg(v).length !== 2) ctx.fail(`input ${name} of shape [${shapeOfArg(v)}] is not 2-D`);
  }
  const tr = (x: NonNullable<Arg<T>>, t: boolean): NonNullable<Arg<T>> =>
    !t ? x : x.kind === 'sym' ? { kind: 'sym', t: permute(x.t, [1, 0]) } : { kind: 'const', t: constPermute(x.t, [1, 0]) };
  const A = tr(a!, ta);
  const B = tr(b!, tb);
  const prod = isSym(A) ? matmulConst(alg, ctx, A.t, B.t as Tensor, true)
    : isSym(B) ? matmulConst(alg, ctx, B.t, A.t, false)
      : matmulConst(alg, ctx, lift(alg, A.t), B.t, true);
  const c = args[2];
  if (!c) return [alpha === 1 ? prod : { shape: prod.shape, data: prod.data.map((e) => alg.combine([e], [alpha])) }];
  const cShape = shapeOfArg(c);
  const bs = broadcastShape(prod.shape, cShape);
  if (!bs || bs.length !== 2 || bs[0] !== prod.shape[0] || bs[1] !== prod.shape[1]) ctx.fail(`bias C of shape [${cShape}] does not broadcast to [${prod.shape}]`);
  const ci = broadcastIndex(prod.shape, cShape);
  const data = prod.data.map((e, i) =>
    c.kind === 'sym' ? alg.combine([e, c.t.data[ci[i]!]!], [alpha, beta]) : alg.combine([e], [alpha], beta * c.t.data[ci[i]!]!));
  return [{ shape: prod.shape, data }];
}

function neg<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  return [{ shape: x.shape, data: x.data.map((e) => alg.combine([e], [-1])) }];
}

/** Sum and Mean of any number of operands, with multidirectional broadcasting. */
function sumMean<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const ops = args.filter((a): a is NonNullable<Arg<T>> => a !== undefined);
  if (ops.length === 0) ctx.fail('no inputs');
  let shape: number[] | undefined = [];
  for (const o of ops) {
    shape = broadcastShape(shape, shapeOfArg(o));
    if (!shape) ctx.fail(`input shapes ${ops.map((q) => `[${shapeOfArg(q)}]`).join(', ')} do not broadcast`);
  }
  const k = ctx.node.op === 'Mean' ? 1 / ops.length : 1;
  const maps = ops.map((o) => broadcastIndex(shape!, shapeOfArg(o)));
  const data = new Array<T>(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const xs: T[] = [];
    let c = 0;
    ops.forEach((o, j) => {
      if (o.kind === 'sym') xs.push(o.t.data[maps[j]![i]!]!);
      else c += o.t.data[maps[j]![i]!]!;
    });
    data[i] = alg.combine(xs, new Array<number>(xs.length).fill(k), c * k);
  }
  return [{ shape, data }];
}

/** Inference-mode BatchNormalization with constant parameters: one affine map per channel. */
function batchNorm<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  if (attrNum(ctx, 'training_mode', 0) !== 0) ctx.fail('attribute training_mode=1 is not supported (supported: 0, inference)');
  if (attrNum(ctx, 'spatial', 1) !== 1) ctx.fail('attribute spatial=0 is not supported (supported: 1)');
  if (ctx.node.outputs.slice(1).some((o) => o !== '')) ctx.fail('the training outputs (running mean and variance) are not supported', 'export the model in eval mode');
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  const [scale, bias, mean, vari] = names.map((n, i) => {
    const t = constArg(ctx, args, i + 1, n);
    if (!t) ctx.fail(`input ${i + 1} (${n}) is missing`);
    return t;
  }) as [Tensor, Tensor, Tensor, Tensor];
  if (x.shape.length < 2) ctx.fail(`input of shape [${x.shape}] has no channel axis`);
  const C = x.shape[1]!;
  for (const [t, n] of [[scale, 'scale'], [bias, 'B'], [mean, 'input_mean'], [vari, 'input_var']] as const) {
    if (t.data.length !== C) ctx.fail(`${n} has ${t.data.length} elements, ${C} channels expected`);
  }
  const eps = attrNum(ctx, 'epsilon', 1e-5);
  const inner = sizeOf(x.shape.slice(2));
  const data = new Array<T>(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % C;
    const a = scale.data[c]! / Math.sqrt(vari.data[c]! + eps);
    data[i] = alg.combine([x.data[i]!], [a], bias.data[c]! - mean.data[c]! * a);
  }
  return [{ shape: x.shape, data }];
}

/** ImageScaler (opsets ≤ 9, CoreML and Caffe exports): y = scale·x + bias[c] per channel. */
function imageScaler<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  if (x.shape.length < 2) ctx.fail(`input of shape [${x.shape}] has no channel axis`);
  const scale = attrNum(ctx, 'scale', 1);
  const raw = ctx.node.attrs.bias;
  const C = x.shape[1]!;
  const bias = Array.isArray(raw) ? (raw as number[]) : new Array<number>(C).fill(0);
  if (bias.length !== C) ctx.fail(`attribute bias has ${bias.length} values, ${C} channels expected`);
  const inner = sizeOf(x.shape.slice(2));
  const data = x.data.map((e, i) => alg.combine([e], [scale], bias[Math.floor(i / inner) % C]!));
  return [{ shape: x.shape, data }];
}

/** CumSum along a constant axis (exclusive, reverse). */
function cumSum<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  const axT = constArg(ctx, args, 1, 'axis');
  if (!axT || axT.data.length !== 1) ctx.fail('input 1 (axis) must be a scalar constant');
  const r = x.shape.length;
  const raw = axT.data[0]!;
  const axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= r) ctx.fail(`axis=${raw} is out of range for rank ${r}`);
  const exclusive = attrNum(ctx, 'exclusive', 0) === 1;
  const reverse = attrNum(ctx, 'reverse', 0) === 1;
  const len = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const data = new Array<T>(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < len; k++) {
        const xs: T[] = [];
        const from = reverse ? k + (exclusive ? 1 : 0) : 0;
        const to = reverse ? len : k + (exclusive ? 0 : 1);
        for (let j = from; j < to; j++) xs.push(x.data[(o * len + j) * inner + i]!);
        data[(o * len + k) * inner + i] = alg.combine(xs, new Array<number>(xs.length).fill(1));
      }
    }
  }
  return [{ shape: x.shape, data }];
}

/** Where with a constant condition: a selection between two tensors (a movement, no arithmetic). */
function whereConst<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  if (isSym(args[0])) return undefined;
  const [cond, a, b] = need(ctx, args, 3);
  const ta = asTens(alg, a)!;
  const tb = asTens(alg, b)!;
  const cs = (cond as { t: Tensor }).t;
  const s1 = broadcastShape(cs.dims, ta.shape);
  const shape = s1 && broadcastShape(s1, tb.shape);
  if (!shape) ctx.fail(`shapes [${cs.dims}], [${ta.shape}] and [${tb.shape}] do not broadcast`);
  const ic = broadcastIndex(shape, cs.dims);
  const ia = broadcastIndex(shape, ta.shape);
  const ib = broadcastIndex(shape, tb.shape);
  const data = new Array<T>(ic.length);
  for (let i = 0; i < data.length; i++) data[i] = cs.data[ic[i]!] ? ta.data[ia[i]!]! : tb.data[ib[i]!]!;
  return [{ shape, data }];
}

const ARITH_OPS: Record<string, OpFn> = {
  Add: addSub,
  Sub: addSub,
  Mul: mulDiv,
  Div: mulDiv,
  MatMul: matmul,
  Gemm: gemm,
  Neg: neg,
  Sum: sumMean,
  Mean: sumMean,
  BatchNormalization: batchNorm,
  ImageScaler: imageScaler,
  CumSum: cumSum,
  Where: whereConst,
};

const OPS: Record<string, OpFn> = { ...ARITH_OPS, ...MOVEMENT_OPS, ...CONV_OPS, ...REDUCE_OPS, ...RESIZE_OPS, ...SCATTER_OPS };

/** The ops applyLinear may handle (for some operands: see its return value). */
export const LINEAR_OPS: ReadonlySet<string> = new Set(Object.keys(OPS));

/**
 * The linear ops. Returns the output tensors, or undefined when `node` is not a linear op for
 * these operands (the caller then lowers it as a non-linear op or reports it unsupported).
 * `outShape` is not needed (every op computes its shapes from its operands); it is checked
 * against when given.
 */
export function applyLinear<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[], outShape?: number[]): Tens<T>[] | undefined {
  const f = OPS[ctx.node.op];
  if (!f) return undefined;
  const out = f(alg, ctx, args);
  if (out && outShape && (out[0]!.shape.length !== outShape.length || out[0]!.shape.some((d, i) => d !== outShape[i]))) {
    ctx.fail(`computed output shape [${out[0]!.shape}] differs from the inferred shape [${outShape}]`);
  }
  return out;
}
