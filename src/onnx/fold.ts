// Shape inference and constant folding. After this pass every tensor has a static shape, every
// value computable without the input is a constant, and the remaining nodes compute on signals.
//
// Linear ops have one implementation (src/ir/ops/, generic over the element algebra): folding
// runs it on numbers, shape inference runs it on a dummy algebra, so neither can disagree with
// linearization. Non-linear ops fold with the float code below and have shape rules here.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { AttrValue, Graph, Node, ParamRole, Tensor } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { broadcastIndex, broadcastShape, strides } from '../ir/shape.js';
import { windowOf, poolKernel } from '../ir/ops/conv.js';
import { applyLinear, LINEAR_OPS, constPermute } from '../ir/ops/linear.js';
import { ML_DOMAIN, mlExpansion } from './ml.js';
import { MS_DOMAIN, msftExpansion } from './msft.js';
import { EXPANSIONS } from './expand.js';
import { CONTROL_DOMAIN, IF_SELECT, inlineIf, LOOP_NEXT, type LoopContinuation, selectIf, unrollLoop, unrollScan } from './control.js';
import { encodeCategorical } from './categorical.js';
import { divideLate } from './divide-late.js';
import { geluForms } from './gelu-forms.js';
import { softmaxForms } from './softmax-forms.js';
import { emitter } from './rewrite.js';
import { reductionGroups, reductionOf } from '../ir/ops/reduce.js';
import { SCALAR_FNS, UNARY_FNS } from '../ir/ops/scalar.js';
import type { Arg, OpContext, Tens } from '../ir/ops/types.js';
import { attrChoice, attrNum, intsArg, normAxisChecked, NUMBER_ALGEBRA, SHAPE_ALGEBRA } from '../ir/ops/util.js';
import { maxOf, minOf } from '../arrays.js';
import { roundEven } from '../quantize/int.js';

type Ctx = { g: Graph; node: Node };
type Code = 'ONNX_SHAPE' | 'ONNX_UNSUPPORTED_ATTR' | 'ONNX_MALFORMED' | 'ONNX_UNSUPPORTED_OP';

function fail(ctx: Ctx, msg: string, hint?: string, code: Code = 'ONNX_SHAPE'): never {
  throw new ZkonnxError(code, `${nodeLabel(ctx.node)}: ${msg}`, { file: ctx.g.source, node: ctx.node.name, op: ctx.node.op, hint });
}

function opContext(g: Graph, node: Node): OpContext {
  return { node, opset: g.opset, fail: (msg, hint) => fail({ g, node }, msg, hint, 'ONNX_UNSUPPORTED_ATTR') };
}

export function attrInt(n: Node, key: string, dflt: number): number {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
}
export function attrInts(n: Node, key: string): number[] | undefined {
  const v = n.attrs[key];
  return Array.isArray(v) ? (v as number[]) : undefined;
}

export function transposeConst(x: Tensor, perm: number[]): Tensor {
  return constPermute(x, perm);
}

function t(dims: number[], data: Float64Array | number[]): Tensor {
  return { dims, data: data instanceof Float64Array ? data : Float64Array.from(data) };
}

// ---------------------------------------------------------------- element types

const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
const BOOL = 9;

/** Casts a number to an ONNX data type the way onnxruntime does (ints truncate, float32 rounds). */
function castTo(to: number, x: number): number {
  if (to === BOOL) return x !== 0 && !Number.isNaN(x) ? 1 : 0;
  if (INT_TYPES.has(to)) return Number.isFinite(x) ? Math.trunc(x) : 0;
  if (to === 1) return Math.fround(x);
  return x;
}

/** Ops whose output is integer-typed when their data operands are (same-type ops in ONNX). */
const TYPE_PRESERVING = new Set([
  'Concat', 'Add', 'Sub', 'Mul', 'Div', 'Mod', 'Neg', 'Abs', 'Max', 'Min', 'Sum', 'Clip', 'Where', 'ReduceSum', 'ReduceProd',
  'ReduceMax', 'ReduceMin', 'CumSum', 'Range', 'Sign', 'Relu',
]);
/** Ops that only move data: the output has input 0's type. */
const MOVEMENT = new Set([
  'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Slice', 'Gather', 'GatherElements',
  'Expand', 'Tile', 'Split', 'Pad', 'DepthToSpace', 'SpaceToDepth', 'Dropout', 'ScatterND', 'ScatterElements', 'Scatter',
]);
const BOOL_OUT = new Set(['Less', 'Greater', 'Equal', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

// ---------------------------------------------------------------- float folding

/** Element-wise op over any number of broadcast constants. */
function elementwise(ctx: Ctx, ins: Tensor[], f: (xs: number[]) => number): Tensor {
  let shape: number[] | undefined = [];
  for (const x of ins) {
    shape = broadcastShape(shape, x.dims);
    if (!shape) fail(ctx, `shapes ${ins.map((i) => `[${i.dims}]`).join(', ')} do not broadcast`);
  }
  const maps = ins.map((x) => broadcastIndex(shape!, x.dims));
  const out = new Float64Array(sizeOf(shape));
  const xs = new Array<number>(ins.length);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < ins.length; j++) xs[j] = ins[j]!.data[maps[j]![i]!]!;
    out[i] = f(xs);
  }
  return t(shape, out);
}

/** Univariate float ops: (x, attribute reader) → y. */
const UNARY_FLOAT: Record<string, (x: number, a: (k: string, d: number) => number) => number> = {
  Relu: (x) => Math.max(0, x),
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Sign: Math.sign,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: roundEven,
  Not: (x) => (x ? 0 : 1),
  IsNaN: (x) => (Number.isNaN(x) ? 1 : 0),
  IsInf: (x) => (x === Infinity || x === -Infinity ? 1 : 0),
  LeakyRelu: (x, a) => (x >= 0 ? x : a('alpha', 0.01) * x),
  ThresholdedRelu: (x, a) => (x > a('alpha', 1) ? x : 0),
  Tan: Math.tan,
  Atan: Math.atan,
  Asin: Math.asin,
  Acos: Math.acos,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
};
for (const [op, spec] of Object.entries(UNARY_FNS)) {
  const fn = SCALAR_FNS[spec.fn]!;
  UNARY_FLOAT[op] = (x, a) => fn(x, spec.params ? spec.params(a) : []);
}

const BINARY_FLOAT: Record<string, (x: number, y: number) => number> = {
  Pow: (x, y) => x ** y,
  Less: (x, y) => (x < y ? 1 : 0),
  Greater: (x, y) => (x > y ? 1 : 0),
  Equal: (x, y) => (x === y ? 1 : 0),
  LessOrEqual: (x, y) => (x <= y ? 1 : 0),
  GreaterOrEqual: (x, y) => (x >= y ? 1 : 0),
  And: (x, y) => (x && y ? 1 : 0),
  Or: (x, y) => (x || y ? 1 : 0),
  Xor: (x, y) => ((x ? 1 : 0) !== (y ? 1 : 0) ? 1 : 0),
  PRelu: (x, s) => (x < 0 ? s * x : x),
};

const REDUCE_FLOAT: Record<string, (xs: number[]) => number> = {
  ReduceMax: maxOf,
  ReduceMin: minOf,
  ReduceProd: (xs) => xs.reduce((p, q) => p * q, 1),
  ReduceL1: (xs) => xs.reduce((p, q) => p + Math.abs(q), 0),
  ReduceL2: (xs) => Math.sqrt(xs.reduce((p, q) => p + q * q, 0)),
  ReduceSumSquare: (xs) => xs.reduce((p, q) => p + q * q, 0),
  ReduceLogSum: (xs) => Math.log(xs.reduce((p, q) => p + q, 0)),
  ReduceLogSumExp: (xs) => {
    const m = maxOf(xs);
    return m + Math.log(xs.reduce((p, q) => p + Math.exp(q - m), 0));
  },
};

/** Along `axis`, each lane of the tensor: the flat indices of its elements. */
function lanes(shape: number[], axis: number): number[][] {
  const len = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const out: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) out.push(Array.from({ length: len }, (_, k) => (o * len + k) * inner + i));
  }
  return out;
}

/**
 * Evaluates a non-linear (or type-sensitive) op whose inputs are all constants; undefined when
 * the op is not one of these (the caller then tries the linear ops).
 */
function foldFloat(ctx: Ctx, oc: OpContext, ins: (Tensor | undefined)[], isInt: boolean[], shapeOf: (n: string) => number[]): Tensor[] | undefined {
  const { node } = ctx;
  const a = ins[0];
  const attr = (k: string, d: number) => attrInt(node, k, d);
  const present = ins.filter((x): x is Tensor => x !== undefined);
  const anyInt = isInt.some((x) => x);
  switch (node.op) {
    case 'Constant': {
      if (node.attrs.sparse_value !== undefined) fail(ctx, 'attribute sparse_value is not supported (supported: value, value_float(s), value_int(s))', undefined, 'ONNX_UNSUPPORTED_ATTR');
      if (node.attrs.value_string !== undefined || node.attrs.value_strings !== undefined) fail(ctx, 'string constants are not supported', undefined, 'ONNX_UNSUPPORTED_ATTR');
      const v: AttrValue | undefined = node.attrs.value ?? node.attrs.value_float ?? node.attrs.value_floats ?? node.attrs.value_int ?? node.attrs.value_ints;
      if (v === undefined) fail(ctx, 'Constant without a value, value_float(s) or value_int(s) attribute', undefined, 'ONNX_UNSUPPORTED_ATTR');
      if (typeof v === 'number') return [t([], [v])];
      if (Array.isArray(v)) return [t([v.length], v as number[])];
      if (typeof v === 'string') fail(ctx, 'string constants are not supported', undefined, 'ONNX_UNSUPPORTED_ATTR');
      return [v as Tensor];
    }
    case 'Shape': {
      const s = shapeOf(node.inputs[0]!);
      const clampAxis = (x: number) => Math.min(Math.max(x < 0 ? x + s.length : x, 0), s.length);
      const start = clampAxis(attrInt(node, 'start', 0));
      const end = node.attrs.end === undefined ? s.length : clampAxis(attrInt(node, 'end', s.length));
      const dims = s.slice(start, Math.max(start, end));
      return [t([dims.length], dims)];
    }
    case 'Size':
      return [t([], [sizeOf(shapeOf(node.inputs[0]!))])];
    case 'ConstantOfShape': {
      const dims = a ? Array.from(a.data) : [];
      const v = node.attrs.value as Tensor | undefined;
      return [t(dims, new Float64Array(sizeOf(dims)).fill(v ? v.data[0]! : 0))];
    }
    case 'Range': {
      const [s, l, d] = present.map((x) => x.data[0]!) as [number, number, number];
      if (d === 0) fail(ctx, 'delta is 0');
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return [t([n], Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case 'EyeLike': {
      if (a!.dims.length !== 2) fail(ctx, `input of rank ${a!.dims.length} is not 2-D`);
      const [r, c] = a!.dims as [number, number];
      const k = attrInt(node, 'k', 0);
      return [t([r, c], Array.from({ length: r * c }, (_, i) => (Math.floor(i / c) + k === i % c ? 1 : 0)))];
    }
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      return [t(a!.dims, a!.data.map((x) => castTo(to, x)))];
    }
    case 'CastLike':
      return [isInt[1] ? t(a!.dims, a!.data.map((x) => castTo(7, x))) : a!];
    case 'Div': case 'Mod': {
      const fmod = attrInt(node, 'fmod', 0) === 1;
      return [elementwise(ctx, [a!, ins[1]!], ([x, y]) => {
        if (node.op === 'Div') return anyInt ? (y === 0 ? 0 : Math.trunc(x! / y!)) : x! / y!;
        const r = x! % y!;
        if (fmod) return r; // C fmod: the sign of the dividend
        return r !== 0 && (r < 0) !== (y! < 0) ? r + y! : r; // the sign of the divisor
      })];
    }
    case 'Max': case 'Min':
      return [elementwise(ctx, present, (xs) => (node.op === 'Max' ? Math.max(...xs) : Math.min(...xs)))];
    case 'Where':
      return [elementwise(ctx, [a!, ins[1]!, ins[2]!], ([c, x, y]) => (c ? x! : y!))];
    case 'Clip': {
      const lo = ins[1]?.data[0] ?? (typeof node.attrs.min === 'number' ? node.attrs.min : -Infinity);
      const hi = ins[2]?.data[0] ?? (typeof node.attrs.max === 'number' ? node.attrs.max : Infinity);
      return [t(a!.dims, a!.data.map((x) => Math.min(Math.max(x, lo), hi)))];
    }
    case 'Gelu': {
      const approx = attrChoice(oc, 'approximate', 'none', ['none', 'tanh'] as const);
      const fn = SCALAR_FNS[approx === 'tanh' ? 'gelu_tanh' : 'gelu']!;
      return [t(a!.dims, a!.data.map((x) => fn(x, [])))];
    }
    case 'BitShift': {
      const left = attrChoice(oc, 'direction', 'LEFT', ['LEFT', 'RIGHT'] as const) === 'LEFT';
      return [elementwise(ctx, [a!, ins[1]!], ([x, y]) => (left ? x! * 2 ** y! : Math.floor(x! / 2 ** y!)))];
    }
    case 'ArgMax': case 'ArgMin': {
      const r = a!.dims.length;
      const axis = normAxisChecked(oc, attrInt(node, 'axis', 0), r);
      const last = attrInt(node, 'select_last_index', 0) === 1;
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const out = lanes(a!.dims, axis).map((lane) => {
        let best = 0;
        lane.forEach((f, k) => {
          const v = a!.data[f]!;
          const b = a!.data[lane[best]!]!;
          const better = node.op === 'ArgMax' ? v > b || (last && v === b) : v < b || (last && v === b);
          if (better) best = k;
        });
        return best;
      });
      const dims = keep ? a!.dims.map((d, i) => (i === axis ? 1 : d)) : a!.dims.filter((_, i) => i !== axis);
      return [t(dims, out)];
    }
    case 'Softmax': case 'LogSoftmax': case 'Hardmax': {
      const r = a!.dims.length;
      const axis = normAxisChecked(oc, attrInt(node, 'axis', oc.opset >= 13 ? -1 : 1), r);
      // before opset 13 the input is coerced to 2-D at `axis`: one lane per row
      const ls = oc.opset >= 13 ? lanes(a!.dims, axis) : lanes([sizeOf(a!.dims.slice(0, axis)), sizeOf(a!.dims.slice(axis))], 1);
      const out = new Float64Array(a!.data.length);
      for (const lane of ls) {
        const xs = lane.map((f) => a!.data[f]!);
        const m = maxOf(xs);
        if (node.op === 'Hardmax') { const k = xs.indexOf(m); lane.forEach((f, j) => { out[f] = j === k ? 1 : 0; }); continue; }
        const s = xs.reduce((p, q) => p + Math.exp(q - m), 0);
        lane.forEach((f, j) => { out[f] = node.op === 'Softmax' ? Math.exp(xs[j]! - m) / s : xs[j]! - m - Math.log(s); });
      }
      return [t(a!.dims, out)];
    }
    case 'NonZero': {
      const nz: number[] = [];
      a!.data.forEach((x, f) => { if (x !== 0) nz.push(f); });
      const st = strides(a!.dims);
      const r = a!.dims.length;
      const out = new Float64Array(r * nz.length);
      nz.forEach((f, j) => {
        let rem = f;
        for (let d = 0; d < r; d++) { const c = Math.floor(rem / st[d]!); rem -= c * st[d]!; out[d * nz.length + j] = c; }
      });
      return [t([r, nz.length], out)];
    }
    default:
      break;
  }
  const un = UNARY_FLOAT[node.op];
  if (un) return [t(a!.dims, a!.data.map((x) => un(x, attr)))];
  const bin = BINARY_FLOAT[node.op];
  if (bin) return [elementwise(ctx, [a!, ins[1]!], ([x, y]) => bin(x!, y!))];
  const red = REDUCE_FLOAT[node.op];
  if (red) {
    const args: Arg<number>[] = ins.map((x) => (x ? { kind: 'const', t: x } : undefined));
    const r = reductionOf(oc, args, a!.dims);
    if (r.noop) return [a!];
    const { groups } = reductionGroups(a!.dims, r.axes);
    return [t(r.outShape, groups.map((gr) => red(Array.from(gr, (i) => a!.data[i]!))))];
  }
  return undefined;
}

// ---------------------------------------------------------------- shape rules of non-linear ops

type ShapeRule = (ctx: Ctx, oc: OpContext, ins: number[][], args: Arg<null>[]) => number[][];

function broadcastAll(ctx: Ctx, ins: number[][]): number[] {
  let s: number[] | undefined = [];
  for (const x of ins) {
    s = broadcastShape(s, x);
    if (!s) fail(ctx, `shapes ${ins.map((i) => `[${i}]`).join(', ')} do not broadcast`);
  }
  return s;
}

const same: ShapeRule = (_c, _o, ins) => [ins[0]!];
const bcast: ShapeRule = (c, _o, ins) => [broadcastAll(c, ins.filter((x) => x !== undefined))];
const axisSame: ShapeRule = (_c, oc, ins) => {
  normAxisChecked(oc, attrNum(oc, 'axis', oc.opset >= 13 ? -1 : 1), ins[0]!.length);
  return [ins[0]!];
};

const pool: ShapeRule = (_c, oc, ins) => {
  const x = ins[0]!;
  if (oc.node.op === 'MaxPool') {
    if (oc.node.outputs[1]) oc.fail('output Indices is not supported', 'use MaxPool with one output');
    if (attrNum(oc, 'storage_order', 0) !== 0) oc.fail('attribute storage_order=1 is not supported (supported: 0)');
  }
  const w = windowOf(oc, x.slice(2), poolKernel(oc, x), true);
  return [[x[0]!, x[1]!, ...w.out]];
};
const globalPool: ShapeRule = (_c, oc, ins) => {
  const x = ins[0]!;
  if (x.length < 3) oc.fail(`input of shape [${x}] has no spatial axes (N, C, D1, …)`);
  return [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]];
};
const reduce: ShapeRule = (_c, oc, ins, args) => [reductionOf(oc, args, ins[0]!).outShape];

function matmulShape(ctx: Ctx, a: number[], b: number[]): number[] {
  if (a.length === 0 || b.length === 0) fail(ctx, 'MatMul operands must have rank ≥ 1');
  const A = a.length === 1 ? [1, a[0]!] : a;
  const B = b.length === 1 ? [b[0]!, 1] : b;
  const k = A[A.length - 1]!;
  if (B[B.length - 2] !== k) fail(ctx, `inner dimensions differ: [${a}] × [${b}]`);
  const batch = broadcastShape(A.slice(0, -2), B.slice(0, -2));
  if (!batch) fail(ctx, `batch dimensions of [${a}] and [${b}] do not broadcast`);
  const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
  if (b.length === 1) out.splice(out.length - 1, 1);
  if (a.length === 1) out.splice(out.length - 2, 1);
  return out;
}

/** Shape rules of the ops linearize lowers as non-linear (or as products of two signals). */
const NONLINEAR_SHAPES: Record<string, ShapeRule> = {
  Relu: same, Abs: same, Sqrt: same, Reciprocal: same, Sign: same, Not: same, LeakyRelu: same,
  Floor: same, Ceil: same, Round: same, Mod: bcast,
  ...Object.fromEntries(Object.keys(UNARY_FNS).map((op) => [op, same])),
  Gelu: (c, oc, ins) => { attrChoice(oc, 'approximate', 'none', ['none', 'tanh'] as const); return same(c, oc, ins, []); },
  Softmax: axisSame, LogSoftmax: axisSame, Hardmax: axisSame,
  Clip: same,
  PRelu: (c, _o, ins) => {
    const s = broadcastShape(ins[0]!, ins[1]!);
    if (!s || s.length !== ins[0]!.length || s.some((d, i) => d !== ins[0]![i])) fail(c, `slope of shape [${ins[1]}] does not broadcast to the input [${ins[0]}]`);
    return [ins[0]!];
  },
  InstanceNormalization: same,
  LayerNormalization: (_c, oc, ins) => {
    const x = ins[0]!;
    const axis = normAxisChecked(oc, attrNum(oc, 'axis', -1), x.length);
    const stat = x.map((d, i) => (i >= axis ? 1 : d));
    return [x, stat, stat];
  },
  Mul: bcast, Div: bcast, Pow: bcast, Max: bcast, Min: bcast, Where: bcast,
  Less: bcast, Greater: bcast, Equal: bcast, LessOrEqual: bcast, GreaterOrEqual: bcast, And: bcast, Or: bcast,
  MatMul: (c, _o, ins) => [matmulShape(c, ins[0]!, ins[1]!)],
  Gemm: (c, oc, ins) => {
    const [a, b] = ins as [number[], number[]];
    if (a.length !== 2 || b.length !== 2) fail(c, `Gemm needs 2-D operands, got [${a}] and [${b}]`);
    const ta = attrNum(oc, 'transA', 0) === 1;
    const tb = attrNum(oc, 'transB', 0) === 1;
    const [m, k] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
    const [k2, n] = tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
    if (k !== k2) fail(c, `inner dimensions differ: A is [${a}]${ta ? 'ᵀ' : ''}, B is [${b}]${tb ? 'ᵀ' : ''}`);
    if (ins[2] && c.node.inputs[2] && !broadcastShape([m, n], ins[2])) fail(c, `bias of shape [${ins[2]}] does not broadcast to [${m}, ${n}]`);
    return [[m, n]];
  },
  ReduceMax: reduce, ReduceMin: reduce, ReduceL1: reduce, ReduceL2: reduce, ReduceLogSumExp: reduce, ReduceSumSquare: reduce,
  ArgMax: (_c, oc, ins) => {
    const x = ins[0]!;
    const axis = normAxisChecked(oc, attrNum(oc, 'axis', 0), x.length);
    return [attrNum(oc, 'keepdims', 1) === 1 ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis)];
  },
  TopK: (_c, oc, ins, args) => {
    const x = ins[0]!;
    const axis = normAxisChecked(oc, attrNum(oc, 'axis', -1), x.length);
    const k = (intsArg(oc, args, 1, 'k') ?? [])[0];
    if (k === undefined) oc.fail('k is missing (input 1 from opset 10, attribute k before)');
    if (k < 0 || k > x[axis]!) oc.fail(`k=${k} is out of range for axis ${axis} of size ${x[axis]}`);
    const s = x.map((d, i) => (i === axis ? k : d));
    return [s, s];
  },
  MaxPool: pool, LpPool: pool, GlobalMaxPool: globalPool, GlobalLpPool: globalPool,
};
NONLINEAR_SHAPES.ArgMin = NONLINEAR_SHAPES.ArgMax!;
// with indices that depend on the input (constant indices are linear, above)
NONLINEAR_SHAPES.GatherElements = (c, oc, ins) => {
  const [data, idx] = [ins[0]!, ins[1]!];
  if (data.length !== idx.length) fail(c, `data [${data}] and indices [${idx}] must have the same rank`);
  normAxisChecked(oc, attrInt(c.node, 'axis', 0), data.length);
  return [idx];
};
NONLINEAR_SHAPES.Gather = (_c, oc, ins) => {
  const [data, idx] = [ins[0]!, ins[1]!];
  const axis = normAxisChecked(oc, attrInt(oc.node, 'axis', 0), data.length);
  return [[...data.slice(0, axis), ...idx, ...data.slice(axis + 1)]];
};

/** Every op zkonnx infers shapes for on signals (linear ops and the non-linear ops linearize lowers). */
export const SIGNAL_OPS: ReadonlySet<string> = new Set([...LINEAR_OPS, ...Object.keys(NONLINEAR_SHAPES), ...Object.keys(EXPANSIONS)].sort());

/** Inputs that decide shapes and so must be constants on signal nodes: op → [index, what]. */
const SHAPE_INPUTS: Record<string, [number, string][]> = {
  Reshape: [[1, 'target shape']],
  Squeeze: [[1, 'axes']], Unsqueeze: [[1, 'axes']],
  Slice: [[1, 'starts'], [2, 'ends'], [3, 'axes'], [4, 'steps']],
  Pad: [[1, 'pads'], [3, 'axes']],
  Expand: [[1, 'shape']], Tile: [[1, 'repeats']], Split: [[1, 'split']],
  Resize: [[1, 'roi'], [2, 'scales'], [3, 'sizes']], Upsample: [[1, 'scales']],
  ReduceSum: [[1, 'axes']], ReduceMean: [[1, 'axes']], ReduceMax: [[1, 'axes']], ReduceMin: [[1, 'axes']],
  ReduceL1: [[1, 'axes']], ReduceL2: [[1, 'axes']], ReduceLogSumExp: [[1, 'axes']], ReduceSumSquare: [[1, 'axes']],
  TopK: [[1, 'k']], CumSum: [[1, 'axis']],
};

// ---------------------------------------------------------------- the pass

/** Infers every shape and folds every constant sub-graph; returns the signal-only graph. */
export function inferAndFold(graph: Graph): Graph {
  // string inputs become category codes, compared by the ops that read them (categorical.ts)
  const g = encodeCategorical(graph);
  const constants = new Map(g.constants);
  const shapes = new Map(g.shapes);
  /** Constants known to be integer-typed (shape arithmetic: Div truncates). */
  const ints = new Set<string>();
  /** Signals whose values are integers (int or bool inputs, ArgMax, comparisons), and those that are 0/1. */
  const intSignals = new Set<string>(g.inputs.filter((v) => v.categories !== undefined || (v.dtype !== undefined && (INT_TYPES.has(v.dtype) || v.dtype === BOOL))).map((v) => v.name));
  const boolSignals = new Set<string>(g.inputs.filter((v) => v.dtype === BOOL).map((v) => v.name));
  const nodes: Node[] = [];
  const paramRoles = new Map<string, ParamRole>();
  const shapeOf = (ctx: Ctx) => (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) {
      fail(ctx, `input '${name}' is not produced by any earlier node, initializer or graph input`, 'the graph must be topologically sorted', 'ONNX_MALFORMED');
    }
    return s;
  };
  const pending = [...g.nodes];
  /** what follows each unrolled Loop iteration (control.ts) */
  const loops = new Map<string, LoopContinuation>();
  for (let at = 0; at < pending.length; at++) {
    const node = pending[at]!;
    const ctx: Ctx = { g, node };
    const oc = opContext(g, node);
    // ai.onnx.ml operators (ml.ts), com.microsoft operators (msft.ts) and the ops lowered to
    // others (expand.ts) are rewritten into default-domain ops now that their input shapes are
    // known; those are inferred next
    const expansion = node.domain === ML_DOMAIN ? mlExpansion(node, g.source)
      : node.domain === MS_DOMAIN ? msftExpansion(node, g.source)
      : !node.domain || node.domain === 'ai.onnx' ? EXPANSIONS[node.op] : undefined;
    if (expansion) {
      for (const n of node.inputs) if (n) shapeOf(ctx)(n);
      const added: Node[] = [];
      const kept = expansion(node, {
        // an ML node's parameters are attributes: its rule names those --weights hashed commits to
        e: emitter(node, added, constants, shapes, 'x', paramRoles, node.domain === ML_DOMAIN ? 'public' : undefined),
        shapeOf: shapeOf(ctx),
        constOf: (n) => constants.get(n),
        intValued: (n) => intSignals.has(n) || ints.has(n) || (constants.get(n)?.data.every(Number.isInteger) ?? false),
        fail: (msg, hint) => fail(ctx, msg, hint, 'ONNX_UNSUPPORTED_ATTR'),
        opset: g.opset,
        isBool: (n) => boolSignals.has(n) || constants.get(n)?.dtype === BOOL,
      }) === false;
      if (!kept) {
        pending.splice(at + 1, 0, ...added);
        continue;
      }
    }
    if (node.op === 'If' && (!node.domain || node.domain === 'ai.onnx')) {
      // static control flow: the branch a known condition takes replaces the If
      shapeOf(ctx)(node.inputs[0]!);
      const cond = constants.get(node.inputs[0]!);
      const malformed = (m: string) => fail(ctx, m, undefined, 'ONNX_MALFORMED');
      pending.splice(at + 1, 0, ...(cond ? inlineIf(node, cond, constants, shapes, malformed) : selectIf(node, node.inputs[0]!, constants, shapes, malformed)));
      continue;
    }
    if (node.op === IF_SELECT && node.domain === CONTROL_DOMAIN) {
      // an output of an If on a condition from the input: both branches' values, selected
      const [cond, a, b] = node.inputs as [string, string, string];
      const [sc, sa, sb] = [shapeOf(ctx)(cond), shapeOf(ctx)(a), shapeOf(ctx)(b)];
      if (sizeOf(sc) !== 1) fail(ctx, `the condition '${cond}' holds ${sizeOf(sc)} values, not one`, undefined, 'ONNX_MALFORMED');
      if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
        fail(ctx, `output ${node.outputs[0]} has shape [${sa}] in the then branch and [${sb}] in the else branch: a shape that depends on the input cannot be proven`, 'make both branches give the same shape, or fix the condition\'s inputs with --fix-input', 'ONNX_UNSUPPORTED_OP');
      }
      pending.splice(at + 1, 0, { name: node.name, op: 'Where', domain: '', inputs: [cond, a, b], outputs: node.outputs, attrs: {} });
      continue;
    }
    if (node.op === 'Loop' && (!node.domain || node.domain === 'ai.onnx')) {
      for (const n of node.inputs) if (n) shapeOf(ctx)(n);
      pending.splice(at + 1, 0, ...unrollLoop(node, constants, shapes, loops, (m) => fail(ctx, m, undefined, 'ONNX_UNSUPPORTED_OP')));
      continue;
    }
    if (node.op === LOOP_NEXT && node.domain === CONTROL_DOMAIN) {
      // after an unrolled Loop iteration: its condition, folded, decides what follows
      const next = loops.get(node.name)!;
      loops.delete(node.name);
      pending.splice(at + 1, 0, ...next(constants.get(node.inputs[0]!)));
      continue;
    }
    if (node.op === 'Scan' && (!node.domain || node.domain === 'ai.onnx')) {
      pending.splice(at + 1, 0, ...unrollScan(node, g.opset, shapeOf(ctx), constants, shapes, (m) => fail(ctx, m, undefined, 'ONNX_UNSUPPORTED_ATTR')));
      continue;
    }
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: custom domain '${node.domain}' is not supported`, {
        file: g.source, node: node.name, op: node.op, hint: `supported domains: ai.onnx, ${ML_DOMAIN}, ${MS_DOMAIN}`,
      });
    }
    for (const n of node.inputs) if (n) shapeOf(ctx)(n);
    const present = node.inputs.filter((n) => n !== '');
    const allConst = present.every((n) => constants.has(n)) || node.op === 'Shape' || node.op === 'Size';
    if (allConst) {
      const folded = foldConstNode(ctx, oc, shapeOf(ctx), constants, ints);
      folded.forEach((v, i) => {
        const out = node.outputs[i];
        if (out) { constants.set(out, v); shapes.set(out, v.dims); }
      });
      const intOut = MOVEMENT.has(node.op) ? ints.has(node.inputs[0]!)
        : TYPE_PRESERVING.has(node.op) ? node.inputs.some((n, i) => ints.has(n) && !(node.op === 'Where' && i === 0))
          : BOOL_OUT.has(node.op) || ['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero'].includes(node.op)
            || (node.op === 'Cast' && (INT_TYPES.has(attrInt(node, 'to', 1)) || attrInt(node, 'to', 1) === BOOL))
            || (node.op === 'CastLike' && ints.has(node.inputs[1]!))
            || (node.op === 'Constant' && (node.attrs.value_int !== undefined || node.attrs.value_ints !== undefined));
      if (intOut) node.outputs.forEach((o) => o && ints.add(o));
      continue;
    }
    if (node.op === 'Cast') {
      // on signals, a cast to bool is x ≠ 0; a cast to an integer type is an identity on integer
      // values, and truncates the others (below)
      const to = attrInt(node, 'to', 1);
      const x = node.inputs[0]!;
      if (to === BOOL && !boolSignals.has(x)) {
        // x ≠ 0 (CountVectorizer(binary=True): counts to presence): Not(Equal(x, 0)), exact where
        // x holds integers; a fraction is nonzero where its quantized integer is
        const added: Node[] = [];
        const e = emitter(node, added, constants, shapes, 'nonzero');
        e.node('Not', [e.node('Equal', [x, e.constant([], [0])])], {}, node.outputs);
        pending.splice(at + 1, 0, ...added);
        continue;
      }
      if (INT_TYPES.has(to) && !intSignals.has(x)) {
        // values that may hold fractions: ONNX truncates toward zero, x − fmod(x, 1), then casts
        // what now is an integer (the Sub's output is one: it is marked before it is reached)
        const added: Node[] = [];
        const e = emitter(node, added, constants, shapes, 'trunc');
        const frac = e.node('Mod', [x, e.constant([], [1])], { fmod: 1 });
        const whole = e.node('Sub', [x, frac]);
        intSignals.add(whole);
        e.node('Cast', [whole], node.attrs, node.outputs);
        pending.splice(at + 1, 0, ...added);
        continue;
      }
    }
    const outShapes = signalShapes(ctx, oc, shapeOf(ctx), constants);
    node.outputs.forEach((out, i) => { if (out && outShapes[i]) shapes.set(out, outShapes[i]!); });
    const isBool = BOOL_OUT.has(node.op) || ((node.op === 'Cast' || MOVEMENT.has(node.op) || node.op === 'Identity') && boolSignals.has(node.inputs[0]!));
    const isInt = isBool || ['ArgMax', 'ArgMin', 'Floor', 'Ceil', 'Round'].includes(node.op) || ((node.op === 'Cast' || MOVEMENT.has(node.op) || node.op === 'Identity') && intSignals.has(node.inputs[0]!))
      || (node.op === 'Mod' && intSignals.has(node.inputs[0]!) && (constants.get(node.inputs[1]!)?.data.every(Number.isInteger) ?? false));
    for (const o of node.outputs) { if (!o) continue; if (isInt) intSignals.add(o); if (isBool) boolSignals.add(o); }
    // TopK's indices; an integer table picked by an index computed from the input (class labels)
    if (node.op === 'TopK' && node.outputs[1]) intSignals.add(node.outputs[1]);
    if ((node.op === 'Gather' || node.op === 'GatherElements') && constants.get(node.inputs[0]!)?.data.every(Number.isInteger)) intSignals.add(node.outputs[0]!);
    nodes.push(node);
  }
  // TopK's indices cost a less bit and two selects per compare-exchange: exporters name them even
  // where nothing reads them, and the values-only network is cheaper
  const read = new Set<string>([...nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  nodes.forEach((n, i) => { if (n.op === 'TopK' && n.outputs[1] && !read.has(n.outputs[1])) nodes[i] = { ...n, outputs: [n.outputs[0]!, ''] }; });
  const outputs = g.outputs.map((o) => {
    const shape = shapes.get(o.name);
    if (!shape) throw new ZkonnxError('ONNX_MALFORMED', `${g.source}: graph output '${o.name}' is produced by no node`, { file: g.source });
    if (constants.has(o.name)) {
      throw new ZkonnxError('ONNX_SHAPE', `${g.source}: graph output '${o.name}' is a constant that does not depend on the input`, {
        file: g.source, hint: 'there is nothing to prove about a constant output',
      });
    }
    return { ...o, shape };
  });
  // GELU and softmax written out become the ops (gelu-forms.ts, softmax-forms.ts); divisions of a row by its norm move
  // past the linear map that reads them (divide-late.ts)
  return divideLate(softmaxForms(geluForms({ ...g, constants, shapes, nodes, outputs, ...(paramRoles.size ? { paramRoles } : {}) })));
}

/** Folds a node whose inputs are all constants (Shape and Size: whose input shapes are known). */
function foldConstNode(ctx: Ctx, oc: OpContext, shapeOf: (n: string) => number[], constants: Map<string, Tensor>, ints: Set<string>): Tensor[] {
  const { node } = ctx;
  const ins = node.inputs.map((n) => (n ? constants.get(n) : undefined));
  const isInt = node.inputs.map((n) => ints.has(n));
  const f = foldFloat(ctx, oc, ins, isInt, shapeOf);
  if (f) return f;
  if (LINEAR_OPS.has(node.op)) {
    // input 0 as elements (numbers), the others as constants: every linear op reads its data from input 0
    const args: Arg<number>[] = ins.map((x, i) => (!x ? undefined : i === 0 ? { kind: 'sym', t: { shape: x.dims, data: Array.from(x.data) } } : { kind: 'const', t: x }));
    const out = applyLinear(NUMBER_ALGEBRA, oc, args);
    if (out) return out.map((o) => t(o.shape, o.data));
  }
  if (SIGNAL_OPS.has(node.op)) {
    throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: operator ${node.op} on constants (inputs that do not depend on the model input) is not supported`, {
      file: ctx.g.source, node: node.name, op: node.op, hint: 'zkonnx computes this op on signals only; fold it in the exporter',
    });
  }
  throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: operator ${node.op} is not supported`, {
    file: ctx.g.source, node: node.name, op: node.op, hint: `supported: ${[...SIGNAL_OPS].join(', ')} and constant folding of shape ops`,
  });
}

/** Output shapes of a node that computes on signals. */
function signalShapes(ctx: Ctx, oc: OpContext, shapeOf: (n: string) => number[], constants: Map<string, Tensor>): number[][] {
  const { node } = ctx;
  for (const [i, what] of SHAPE_INPUTS[node.op] ?? []) {
    const name = node.inputs[i];
    if (name && !constants.has(name)) fail(ctx, `the ${what} '${name}' is not a constant`, 'zkonnx needs shapes it can resolve at compile time');
  }
  if (node.op === 'Cast') {
    const to = attrInt(node, 'to', 1);
    if (!FLOAT_TYPES.has(to) && !INT_TYPES.has(to) && to !== BOOL) fail(ctx, `Cast of a signal to type ${to} is not supported`, 'supported on signals: float and integer types, and bool of boolean values', 'ONNX_UNSUPPORTED_ATTR');
  }
  const args: Arg<null>[] = node.inputs.map((n) => {
    if (!n) return undefined;
    const c = constants.get(n);
    if (c) return { kind: 'const', t: c };
    const shape = shapeOf(n);
    const tn: Tens<null> = { shape, data: new Array<null>(sizeOf(shape)).fill(null) };
    return { kind: 'sym', t: tn };
  });
  if (LINEAR_OPS.has(node.op)) {
    const out = applyLinear(SHAPE_ALGEBRA, oc, args);
    if (out) return out.map((o) => o.shape);
  }
  const rule = NONLINEAR_SHAPES[node.op];
  if (rule) return rule(ctx, oc, args.map((a) => (a ? (a.kind === 'sym' ? a.t.shape : a.t.dims) : undefined)) as number[][], args);
  const why = LINEAR_OPS.has(node.op) ? notLinearWhy(node, args) : '';
  throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: operator ${node.op} is not supported on signals${why}`, {
    file: ctx.g.source, node: node.name, op: node.op,
    hint: `supported: ${[...SIGNAL_OPS].join(', ')}; ops on constants fold at compile time`,
  });
}

/** Why a linear op gave up on these operands (for the message). */
function notLinearWhy(node: Node, args: Arg<null>[]): string {
  const symIdx = args.flatMap((a, i) => (a?.kind === 'sym' && i > 0 ? [i] : []));
  if (symIdx.length === 0) return '';
  const names: Record<string, string[]> = {
    Conv: ['X', 'W', 'B'], ConvTranspose: ['X', 'W', 'B'], Gather: ['data', 'indices'], GatherElements: ['data', 'indices'], Where: ['condition', 'X', 'Y'],
  };
  if (node.op === 'Where') return ' with a condition that depends on the input';
  const what = symIdx.map((i) => names[node.op]?.[i] ?? `input ${i}`).join(', ');
  return ` when ${what} ${symIdx.length > 1 ? 'depend' : 'depends'} on the model input (it must be a constant)`;
}
