// Lowering of the non-linear ONNX ops into circuit values (ActValue): each op becomes a few
// element-wise primitives (rescale/relu, max, mul, fn, div, sqrt, argmax, less, equal, select)
// whose operands are affine expressions; min, clip, abs, comparisons and the like are written
// with them and linear algebra, so that every primitive has one sound circuit template.
import type { ActValue, InputValue, LinExpr, MatBlock, NonLinear, Tensor, ValueInfo } from './graph.js';
import { BOUND_ATTR, IN_RANGE, INTEGER_ATTR, sizeOf } from './graph.js';
import { combine, constantExpr, isSimple, valueExpr } from './affine.js';
import { broadcastIndex, broadcastShape, normAxis, strides } from './shape.js';
import { SATURATION, SCALAR_FNS, UNARY_FNS } from './ops/scalar.js';
import type { Arg, OpContext, Tens } from './ops/types.js';
import { convTaps, convTerms, poolKernel, windowOf, type Window } from './ops/conv.js';
import { reductionGroups, reductionOf } from './ops/reduce.js';

/** A product's operand of at most this many terms enters its constraint as it is (no rescale first). */
const SHORT_TERMS = 8;
/** How much smaller (2^8) than the largest coefficient of a product's operands a short operand's may be. */
const SHORT_SPREAD = 2 ** 8;

/** Allocates circuit values: inputs first, then each non-linear op's outputs in graph order. */
export class ValueBuilder {
  readonly inputs: InputValue[] = [];
  readonly acts: ActValue[] = [];
  offset = 0;
  /** Values known to be ≥ 0 outputs of ReLU (ReLU is idempotent). */
  readonly reluOf = new Set<number>();

  input(v: ValueInfo, inputIndex: number): Tens<LinExpr> {
    const size = sizeOf(v.shape);
    this.inputs.push({
      kind: 'input', name: v.name, shape: v.shape, offset: this.offset, size, inputIndex, dtype: v.dtype, ...(v.role ? { role: v.role } : {}), ...(v.compared ? { compared: true } : {}),
      ...(v.categories ? { categories: v.categories } : {}), ...(v.closedBy ? { closedBy: v.closedBy } : {}), ...(v.text ? { text: v.text } : {}),
    });
    return this.alloc(v.shape, size);
  }

  act(name: string, nodes: string[], shape: number[], op: NonLinear, args: LinExpr[][]): Tens<LinExpr> {
    const size = args.length;
    this.acts.push({ kind: 'act', name, shape, offset: this.offset, size, op, args, nodes });
    if ((op.kind === 'rescale' || op.kind === 'mul') && op.relu) for (let i = 0; i < size; i++) this.reluOf.add(this.offset + i);
    return this.alloc(shape, size);
  }

  private alloc(shape: number[], size: number): Tens<LinExpr> {
    const data = Array.from({ length: size }, (_, i) => valueExpr(this.offset + i));
    this.offset += size;
    return { shape, data };
  }
}

/**
 * max(0, x) as the last act's own rescale, where that act is a dot product of signals and x[i]
 * is its value i plus terms of earlier values (a bias): the ReLU then costs one constraint an
 * element instead of a second decomposition. The caller checks that nothing else reads the act's
 * values. Undefined where x is not of that form.
 */
export function fuseRelu(vb: ValueBuilder, x: Tens<LinExpr>, node: string): Tens<LinExpr> | undefined {
  const m = vb.acts[vb.acts.length - 1];
  if (!m || m.op.kind !== 'mul' || m.op.relu || m.op.bound !== undefined || m.size !== x.data.length) return undefined;
  const end = m.offset + m.size;
  const rest: LinExpr[] = [];
  for (const [i, e] of x.data.entries()) {
    const at = e.idx.indexOf(m.offset + i);
    if (at < 0 || e.w[at] !== 1 || e.idx.some((v, t) => t !== at && v >= m.offset && v < end)) return undefined;
    rest.push({ idx: e.idx.filter((_, t) => t !== at), w: e.w.filter((_, t) => t !== at), c: e.c });
  }
  m.args.forEach((row, i) => {
    const r = rest[i]!;
    if (!r.idx.length && r.c === 0) return;
    if (row.length % 2) row[row.length - 1] = combine([row[row.length - 1]!, r], [1, 1]);
    else row.push(r);
  });
  m.op = { ...m.op, relu: true };
  m.nodes.push(node);
  for (let i = m.offset; i < end; i++) vb.reluOf.add(i);
  return { shape: x.shape, data: Array.from({ length: m.size }, (_, i) => valueExpr(m.offset + i)) };
}

/**
 * A 'mul' act's products as matrix blocks Z = A·B (graph.ts MatBlock): block g's cell (m, n) is
 * element cells[g].elem[m·N + n], whose pair j multiplies A[m,k]·B[k,n] for k = key(e, j) (−1: a
 * zero pair), A's operand at position 2j + aAt of the element's rows, B's at the other.
 * Undefined where the rows do not form such products: an operand that differs between the
 * elements that share it, or a k twice in one element.
 */
function matBlocks(rows: LinExpr[][], cells: { M: number; K: number; N: number; elem: number[] }[], key: (e: number, j: number) => number, aAt: 0 | 1): MatBlock[] | undefined {
  const out: MatBlock[] = [];
  for (const { M, K, N, elem } of cells) {
    const a = new Array<number>(2 * M * K).fill(-1);
    const b = new Array<number>(2 * K * N).fill(-1);
    // one slot: set it to (e, pos), or check that the operand there is the same
    const put = (ref: number[], at: number, e: number, pos: number) => {
      if (ref[2 * at]! < 0) { ref[2 * at] = e; ref[2 * at + 1] = pos; return true; }
      return rows[ref[2 * at]!]![ref[2 * at + 1]!] === rows[e]![pos];
    };
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const e = elem[m * N + n]!;
        const seen = new Set<number>();
        for (let j = 0; j < rows[e]!.length >> 1; j++) {
          const k = key(e, j);
          if (k < 0) continue;
          if (k >= K || seen.has(k) || !put(a, m * K + k, e, 2 * j + aAt) || !put(b, k * N + n, e, 2 * j + 1 - aAt)) return undefined;
          seen.add(k);
        }
      }
    }
    out.push({ M, K, N, elem, a, b });
  }
  return out;
}

/** Σ x[2i]·x[2i+1], plus the last operand when their number is odd (the float side of 'mul'). */
function dot(x: number[]): number {
  let s = x.length % 2 ? x[x.length - 1]! : 0;
  for (let i = 0; i + 1 < x.length; i += 2) s += x[i]! * x[i + 1]!;
  return s;
}

/** Float semantics of a primitive: calibration and the float check of the lowering. */
export function evalAct(op: NonLinear, x: number[]): number {
  switch (op.kind) {
    case 'rescale': return op.relu ? Math.max(0, x[0]!) : x[0]!;
    case 'max': return Math.max(...x);
    case 'mul': return op.relu ? Math.max(0, dot(x)) : dot(x);
    case 'fn': {
      const c = op.clamp;
      const v = c ? Math.min(Math.max(x[0]!, c.lo ?? -Infinity), c.hi ?? Infinity) : x[0]!;
      const y = SCALAR_FNS[op.fn]!(v, op.params);
      return op.reluMinus ? Math.max(0, x[0]!) - y : y;
    }
    case 'div': return op.integer ? Math.floor(x[0]! / x[1]! + 0.5) : x[0]! / x[1]!;
    case 'sqrt': return Math.sqrt(Math.max(0, x[0]!));
    case 'argmax': { let j = 0; for (let i = 1; i < x.length; i++) if (x[i]! > x[j]!) j = i; return j; }
    case 'less': return x[0]! < x[1]! ? 1 : 0;
    case 'equal': return x[0] === x[1] ? 1 : 0;
    case 'select': return x[0]! >= 0.5 ? x[1]! : x[2]!;
    case 'round': {
      const v = x[0]! / x[1]!;
      const q = op.mode === 'floor' ? Math.floor(v) : op.mode === 'ceil' ? Math.ceil(v) : op.mode === 'trunc' ? Math.trunc(v) : roundHalfEven(v);
      return op.rem ? x[0]! - x[1]! * q : q;
    }
  }
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

type SymArg = { kind: 'sym'; t: Tens<LinExpr> };

/** Broadcasts n operands (signals or constants) to one shape: per output element, its operands. */
function broadcastArgs(ctx: OpContext, args: NonNullable<Arg<LinExpr>>[]): { shape: number[]; rows: LinExpr[][] } {
  const shapes = args.map((a) => (a.kind === 'sym' ? a.t.shape : a.t.dims));
  let shape: number[] | undefined = shapes[0]!;
  for (const s of shapes.slice(1)) {
    shape = broadcastShape(shape!, s);
    if (!shape) ctx.fail(`operand shapes ${shapes.map((x) => `[${x}]`).join(', ')} do not broadcast`);
  }
  const maps = shapes.map((s) => broadcastIndex(shape!, s));
  const rows = Array.from({ length: sizeOf(shape!) }, (_, i) => args.map((a, j) => {
    const k = maps[j]![i]!;
    return a.kind === 'sym' ? a.t.data[k]! : constantExpr(a.t.data[k]!);
  }));
  return { shape: shape!, rows };
}

/** Flat indices of each group reduced over `axes`, and the output shape. */
export function reduceGroups(shape: number[], axes: number[], keepdims: boolean): { shape: number[]; groups: number[][] } {
  const { groups } = reductionGroups(shape, axes);
  const red = new Set(axes);
  const outShape = keepdims ? shape.map((d, i) => (red.has(i) ? 1 : d)) : shape.filter((_, i) => !red.has(i));
  return { shape: outShape, groups: groups.map((g) => Array.from(g)) };
}

const attr = (ctx: OpContext, k: string, d: number) => { const v = ctx.node.attrs[k]; return typeof v === 'number' ? v : d; };

/**
 * Lowers one non-linear node. Returns its output tensors, or undefined when zkonnx has no
 * lowering for the op (the caller reports it as unsupported).
 */
export function lowerNonlinear(vb: ValueBuilder, ctx: OpContext, args: Arg<LinExpr>[], outShapes: (number[] | undefined)[]): Tens<LinExpr>[] | undefined {
  const { node, fail } = ctx;
  const out0 = node.outputs[0]!;
  const nodes = [node.name];
  const sym = (i: number): Tens<LinExpr> => {
    const a = args[i];
    if (a?.kind !== 'sym') fail(`input ${i} must be a signal here`);
    return (a as SymArg).t;
  };
  /** Operands the templates take directly: materialize (rescale) any element that is not simple. */
  const simple = (t: Tens<LinExpr>, tag: string): Tens<LinExpr> =>
    t.data.every(isSimple) ? t : vb.act(`${out0}:${tag}`, nodes, t.shape, { kind: 'rescale', relu: false }, t.data.map((e) => [e]));
  const simpleArg = (a: Arg<LinExpr>, tag: string): NonNullable<Arg<LinExpr>> =>
    a?.kind === 'sym' ? { kind: 'sym', t: simple(a.t, tag) } : a!;
  const act = (name: string, shape: number[], op: NonLinear, rows: LinExpr[][]) => vb.act(name, nodes, shape, op, rows);
  const neg = (e: LinExpr) => combine([e], [-1]);
  const unary = (x: Tens<LinExpr>, op: NonLinear, name = out0) => act(name, x.shape, op, x.data.map((e) => [e]));
  /** max over each row; min via −max(−·). */
  const maxRows = (name: string, shape: number[], rows: LinExpr[][], min = false): Tens<LinExpr> => {
    const t = act(name, shape, { kind: 'max' }, min ? rows.map((r) => r.map(neg)) : rows);
    return min ? { shape, data: t.data.map(neg) } : t;
  };
  const mulRows = (name: string, shape: number[], rows: LinExpr[][]) => act(name, shape, { kind: 'mul' }, rows);
  /** The last act's products as matrix blocks, where its rows form them (matBlocks). */
  const withBlocks = (rows: LinExpr[][], cells: Parameters<typeof matBlocks>[1], key: (e: number, j: number) => number, aAt: 0 | 1 = 0) => {
    const mm = matBlocks(rows, cells, key, aAt);
    if (mm) vb.acts[vb.acts.length - 1]!.mm = mm;
  };
  /**
   * f(x) for a univariate f, its input clamped where f saturates (scalar.ts SATURATION) and to
   * `known`, an interval x lies in that the bound analysis cannot see (x − max ≤ 0).
   */
  const fnOf = (name: string, x: Tens<LinExpr>, fn: string, params: number[] = [], known: { lo?: number; hi?: number } = {}, reluMinus = false): Tens<LinExpr> => {
    const sat = { ...SATURATION[fn]?.(params) };
    if (known.lo !== undefined) sat.lo = Math.max(sat.lo ?? -Infinity, known.lo);
    if (known.hi !== undefined) sat.hi = Math.min(sat.hi ?? Infinity, known.hi);
    const clamp = sat.lo !== undefined || sat.hi !== undefined ? { clamp: sat } : {};
    return unary(x, { kind: 'fn', fn, params, ...clamp, ...(reluMinus ? { reluMinus } : {}) }, name);
  };
  /** log Σ: the sum of exp(x − max) is ≥ 1 (exp(0) = 1 is one of its terms), which the bound analysis cannot see: clamped there. */
  const logOfSum = (name: string, s: Tens<LinExpr>): Tens<LinExpr> => fnOf(name, s, 'log', [], { lo: 1 });

  switch (node.op) {
    case 'Relu': {
      const x = sym(0);
      if (x.data.every((e) => e.c === 0 && e.idx.length === 1 && e.w[0]! > 0 && vb.reluOf.has(e.idx[0]!))) return [x];
      return [unary(x, { kind: 'rescale', relu: true })];
    }
    case 'LeakyRelu': case 'PRelu': {
      const x = simple(sym(0), 'x');
      let slope: (i: number) => number;
      if (node.op === 'LeakyRelu') {
        const a = attr(ctx, 'alpha', 0.01);
        slope = () => a;
      } else if (args[1]?.kind === 'sym') {
        // a committed slope (--weights hashed): y = relu(x) + a·(x − relu(x)), a product an element
        const a = (args[1] as SymArg).t;
        if (!broadcastShape(x.shape, a.shape)?.every((d, i) => d === x.shape[i])) fail(`slope of shape [${a.shape}] does not broadcast to [${x.shape}]`);
        const map = broadcastIndex(x.shape, a.shape);
        const r = unary(x, { kind: 'rescale', relu: true }, `${out0}:relu`);
        return [mulRows(out0, x.shape, x.data.map((e, i) => [combine([e, r.data[i]!], [1, -1]), a.data[map[i]!]!, r.data[i]!]))];
      } else {
        const s = args[1];
        if (s?.kind !== 'const') fail('a signal slope is not supported', 'PRelu needs a constant slope');
        const map = broadcastIndex(x.shape, (s as { t: Tensor }).t.dims);
        if (!broadcastShape(x.shape, (s as { t: Tensor }).t.dims)?.every((d, i) => d === x.shape[i])) fail(`slope of shape [${(s as { t: Tensor }).t.dims}] does not broadcast to [${x.shape}]`);
        slope = (i) => (s as { t: Tensor }).t.data[map[i]!]!;
      }
      // α ≤ 1: max(x, αx); α > 1: min(x, αx) = −max(−x, −αx)
      const t = act(out0, x.shape, { kind: 'max' }, x.data.map((e, i) => {
        const a = slope(i);
        return a <= 1 ? [e, combine([e], [a])] : [neg(e), combine([e], [-a])];
      }));
      return [{ shape: x.shape, data: t.data.map((e, i) => (slope(i) <= 1 ? e : neg(e))) }];
    }
    case 'Abs': {
      const x = simple(sym(0), 'x');
      return [maxRows(out0, x.shape, x.data.map((e) => [e, neg(e)]))];
    }
    case 'Max': case 'Min': {
      const { shape, rows } = broadcastArgs(ctx, args.filter((a) => a).map((a, i) => simpleArg(a, `x${i}`)));
      return [maxRows(out0, shape, rows, node.op === 'Min')];
    }
    case 'Clip': {
      let x = simple(sym(0), 'x');
      const bound = (i: number, key: string): number | undefined => {
        const a = args[i];
        if (a) { if (a.kind !== 'const') fail(`a signal ${key} is not supported`); return (a as { t: Tensor }).t.data[0]; }
        const v = node.attrs[key];
        return typeof v === 'number' ? v : undefined;
      };
      const lo = bound(1, 'min');
      const hi = bound(2, 'max');
      if (lo !== undefined) x = maxRows(hi === undefined ? out0 : `${out0}:lo`, x.shape, x.data.map((e) => [e, constantExpr(lo)]));
      if (hi !== undefined) x = maxRows(out0, x.shape, x.data.map((e) => [e, constantExpr(hi)]), true);
      return [x];
    }
    case 'Mul': case 'Div': {
      // here both operands are signals (or a constant numerator of Div). Each element of a Mul
      // is one product, so an operand that is a short linear combination (x − sv, an RBF
      // kernel's with committed support vectors) enters it as it is, not rescaled first
      const short = (k: number) => { const x = args[k]; return node.op === 'Mul' && x?.kind === 'sym' && x.t.data.every((e) => e.idx.length <= SHORT_TERMS); };
      const operand = (k: number, tag: string) => (short(k) ? args[k]! : simpleArg(args[k], tag));
      let a = operand(0, 'a');
      // x·x: one operand, so that each product is a square (≥ 0: an RBF kernel's distance)
      const same = node.inputs[1] === node.inputs[0];
      let b = same ? a : operand(1, 'b');
      // every coefficient of both operands is quantized at the largest one's scale: a short
      // operand whose coefficients are far smaller (dynamic quantization's scale product,
      // range·w_scale/255, against the int32 accumulator) would keep few of its bits; it is
      // rescaled at its own scale instead, range-checked to its interval (an input calibration
      // never saw, an all-zero tensor's scale of 1, keeps a witness)
      const span = (x: Arg<LinExpr>) => {
        let lo = Infinity;
        let hi = 0;
        if (x?.kind === 'sym') for (const e of x.t.data) for (const w of e.w) if (w !== 0) { lo = Math.min(lo, Math.abs(w)); hi = Math.max(hi, Math.abs(w)); }
        return { lo, hi };
      };
      const sa = span(a);
      const sb = same ? sa : span(b);
      const top = Math.max(sa.hi, sb.hi);
      const own = (k: number, tag: string) => { const x = args[k] as SymArg; return { kind: 'sym' as const, t: unary(x.t, { kind: 'rescale', relu: false, whole: true }, `${out0}:${tag}`) }; };
      if (short(0) && sa.lo * SHORT_SPREAD < top) { a = own(0, 'a'); if (same) b = a; }
      if (!same && short(1) && sb.lo * SHORT_SPREAD < top) b = own(1, 'b');
      const { shape, rows } = broadcastArgs(ctx, [a, b]);
      // a rewrite that knows the quotient's size states it, or wants it an integer (qdq.ts)
      const bound = node.attrs[BOUND_ATTR];
      const div: NonLinear = { kind: 'div', ...(typeof bound === 'number' ? { bound } : {}), ...(node.attrs[INTEGER_ATTR] === 1 ? { integer: true } : {}) };
      return [act(out0, shape, node.op === 'Mul' ? { kind: 'mul' } : div, rows)];
    }
    case 'MatMul': case 'Gemm': {
      // both operands are signals (weights made private by --weights hashed, attention scores):
      // each output is one dot product, Σ a·b (+ the bias), one constraint per product
      let a = simple(sym(0), 'a');
      let b = simple(sym(1), 'b');
      const T = (t: Tens<LinExpr>) => ({ shape: [t.shape[1]!, t.shape[0]!], data: t.data.map((_, i) => t.data[(i % t.shape[0]!) * t.shape[1]! + Math.floor(i / t.shape[0]!)]!) });
      if (node.op === 'Gemm') {
        if (a.shape.length !== 2 || b.shape.length !== 2) fail(`Gemm operands [${a.shape}] and [${b.shape}] must be 2-D`);
        if (attr(ctx, 'transA', 0)) a = T(a);
        if (attr(ctx, 'transB', 0)) b = T(b);
        const alpha = attr(ctx, 'alpha', 1);
        if (alpha !== 1) a = { shape: a.shape, data: a.data.map((e) => combine([e], [alpha])) };
      }
      if (node.op === 'MatMul' && b.shape.length > 2) {
        // batched (attention: Q·Kᵀ, scores·V): A [..., M, K] × B [..., K, N], the batch dims broadcast
        const A = a.shape.length === 1 ? { shape: [1, a.shape[0]!], data: a.data } : a;
        const [M, K] = A.shape.slice(-2) as [number, number];
        const [K2, N] = b.shape.slice(-2) as [number, number];
        if (K !== K2) fail(`inner dimensions differ: [${a.shape}] × [${b.shape}]`);
        const batchA = A.shape.slice(0, -2);
        const batchB = b.shape.slice(0, -2);
        const batch = broadcastShape(batchA, batchB);
        if (!batch) fail(`batch dimensions of [${a.shape}] and [${b.shape}] do not broadcast`);
        const ia = broadcastIndex(batch!, batchA);
        const ib = broadcastIndex(batch!, batchB);
        const rows: LinExpr[][] = [];
        for (let t = 0; t < sizeOf(batch!); t++) {
          for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
              const r: LinExpr[] = [];
              for (let k = 0; k < K; k++) r.push(A.data[(ia[t]! * M + m) * K + k]!, b.data[(ib[t]! * K + k) * N + n]!);
              rows.push(r);
            }
          }
        }
        const t = act(out0, [...batch!, ...(a.shape.length === 1 ? [] : [M]), N], { kind: 'mul' }, rows);
        const cells = Array.from({ length: sizeOf(batch!) }, (_, b) => ({ M, K, N, elem: Array.from({ length: M * N }, (_, i) => b * M * N + i) }));
        withBlocks(rows, cells, (_, j) => j);
        return [t];
      }
      if (b.shape.length > 2 || a.shape.length < 1) fail(`a product of two signals needs B of rank 1 or 2, got [${a.shape}] × [${b.shape}]`);
      const K = a.shape[a.shape.length - 1]!;
      const N = b.shape.length === 1 ? 1 : b.shape[1]!;
      if (b.shape[0] !== K) fail(`inner dimensions differ: [${a.shape}] × [${b.shape}]`);
      const M = a.data.length / K;
      const shape = [...a.shape.slice(0, -1), ...(b.shape.length === 1 ? [] : [N])];
      let bias: ((m: number, n: number) => LinExpr) | undefined;
      const c = node.op === 'Gemm' ? args[2] : undefined;
      if (c) {
        const beta = attr(ctx, 'beta', 1);
        const dims = c.kind === 'sym' ? c.t.shape : c.t.dims;
        const bs = broadcastShape([M, N], dims);
        if (!bs || bs[0] !== M || bs[1] !== N) fail(`bias C of shape [${dims}] does not broadcast to [${M},${N}]`);
        const map = broadcastIndex([M, N], dims);
        bias = (m, n) => { const k = map[m * N + n]!; return c.kind === 'sym' ? combine([c.t.data[k]!], [beta]) : constantExpr(beta * c.t.data[k]!); };
      }
      const rows: LinExpr[][] = [];
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          const r: LinExpr[] = [];
          for (let k = 0; k < K; k++) r.push(a.data[m * K + k]!, b.data[k * N + n]!);
          if (bias) r.push(bias(m, n));
          rows.push(r);
        }
      }
      const t = act(out0, shape, { kind: 'mul' }, rows);
      withBlocks(rows, [{ M, K, N, elem: Array.from({ length: M * N }, (_, i) => i) }], (_, j) => j);
      return [t];
    }
    case 'Conv': case 'ConvTranspose': {
      // weights that are signals (--weights hashed): each output is one dot product of the taps
      // inside the input with their weights, Σ x·w (+ the bias), one constraint per product; the
      // taps come from the ops' own geometry (convTerms). A product takes linear combinations as
      // they are: an input that is a short one (an AveragePool's window) is not rescaled first; a
      // long one is, as every tap repeats its terms
      const x0 = sym(0);
      const x = x0.data.every((e) => e.idx.length <= SHORT_TERMS) ? x0 : simple(x0, 'x');
      const w = simple(sym(1), 'W');
      if (x.shape.length < 3 || w.shape.length !== x.shape.length) fail(`input [${x.shape}] and weights [${w.shape}] do not form an N-D convolution`);
      const b = args[2];
      const bias = b?.kind === 'sym' ? simple(b.t, 'B') : undefined;
      const terms = convTerms(ctx, node.op, x.shape, w.shape, bias ? 'signal' : b?.kind === 'const' ? b.t : undefined);
      const rows = terms.data.map((t) => {
        const row: LinExpr[] = [];
        t.xs.forEach((xi, k) => row.push(x.data[xi]!, w.data[t.ws[k]!]!));
        if (!row.length) row.push(constantExpr(0), constantExpr(0)); // a window wholly in the padding
        if (t.b >= 0) row.push(bias!.data[t.b]!);
        else if (t.c !== 0) row.push(constantExpr(t.c));
        return row;
      });
      const y = act(out0, terms.shape, { kind: 'mul' }, rows);
      if (node.op === 'Conv') {
        // per group, Z[m, n] = Σ_k W[m, k]·X[k, n]: m an output channel, n a batch and position,
        // k a weight of the channel's kernel (input channel and tap); a window wholly in the
        // padding has no pairs but its constant zero one
        const G = attr(ctx, 'group', 1);
        const [B, C] = terms.shape as [number, number];
        const P = sizeOf(terms.shape.slice(2));
        const Mg = C / G;
        const WK = sizeOf(w.shape.slice(1));
        const cells = Array.from({ length: G }, (_, g) => ({
          M: Mg, K: WK, N: B * P,
          elem: Array.from({ length: Mg * B * P }, (_, i) => { const m = Math.floor(i / (B * P)); const n = i % (B * P); return (Math.floor(n / P) * C + g * Mg + m) * P + (n % P); }),
        }));
        withBlocks(rows, cells, (e, j) => {
          const ws = terms.data[e]!.ws;
          if (j >= ws.length) return -1;
          return Math.floor(ws[j]! / WK) === Math.floor(e / P) % C ? ws[j]! % WK : Number.MAX_SAFE_INTEGER;
        }, 1); // a row's pairs are (x, w): A is the kernel, at the odd positions
      }
      return [y];
    }
    case 'Reciprocal': {
      const x = simple(sym(0), 'x');
      return [act(out0, x.shape, { kind: 'div' }, x.data.map((e) => [constantExpr(1), e]))];
    }
    case 'Sqrt': return [unary(simple(sym(0), 'x'), { kind: 'sqrt' })];
    case 'Pow': {
      const e = args[1];
      if (e?.kind !== 'const' || (e as { t: Tensor }).t.data.length !== 1) fail('only a constant scalar exponent is supported');
      const p = (e as { t: Tensor }).t.data[0]!;
      const x = simple(sym(0), 'x');
      if (p === 1) return [x];
      if (p === 0.5) return [unary(x, { kind: 'sqrt' })];
      if (Number.isInteger(p) && p >= 2 && p <= 16) {
        // square and multiply
        let acc: Tens<LinExpr> | undefined;
        let sq = x;
        let n = p;
        let step = 0;
        for (;;) {
          if (n & 1) acc = acc ? mulRows(n === 1 ? out0 : `${out0}:p${step}`, x.shape, acc.data.map((v, i) => [v, sq.data[i]!])) : sq;
          n >>= 1;
          if (!n) break;
          sq = mulRows(`${out0}:sq${step++}`, x.shape, sq.data.map((v) => [v, v]));
        }
        return [acc!];
      }
      return [unary(x, { kind: 'fn', fn: 'pow', params: [p] })];
    }
    case 'Gelu': {
      // relu(x) − h(x), h(x) = |x|·Φ(−|x|): h saturates at 0 on both sides (clamped there), so any
      // input range works, where GELU itself grows like x. One decomposition of the pre-activation
      // (ClampedPoly) gives h's polynomial and the ReLU; x·Φ(x) took a rescale of x, Φ and a product
      const approx = node.attrs.approximate === 'tanh';
      return [fnOf(out0, sym(0), approx ? 'gelu_tanh_h' : 'gelu_h', [], {}, true)];
    }
    case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'Equal': {
      const { shape, rows } = broadcastArgs(ctx, [simpleArg(args[0], 'a'), simpleArg(args[1], 'b')]);
      if (node.op === 'Equal') return [act(out0, shape, { kind: 'equal' }, rows)];
      const swap = node.op === 'Greater' || node.op === 'LessOrEqual';
      const t = act(out0, shape, { kind: 'less' }, rows.map(([a, b]) => (swap ? [b!, a!] : [a!, b!])));
      // a ≤ b ⇔ ¬(b < a); a ≥ b ⇔ ¬(a < b)
      return [node.op.endsWith('OrEqual') ? { shape, data: t.data.map((e) => combine([e], [-1], 1)) } : t];
    }
    case 'Not': {
      const x = sym(0);
      return [{ shape: x.shape, data: x.data.map((e) => combine([e], [-1], 1)) }];
    }
    case 'And': case 'Or': {
      const { shape, rows } = broadcastArgs(ctx, [simpleArg(args[0], 'a'), simpleArg(args[1], 'b')]);
      const p = mulRows(node.op === 'And' ? out0 : `${out0}:ab`, shape, rows);
      return [node.op === 'And' ? p : { shape, data: rows.map(([a, b], i) => combine([a!, b!, p.data[i]!], [1, 1, -1])) }];
    }
    case 'Where': {
      const { shape, rows } = broadcastArgs(ctx, [simpleArg(args[0], 'c'), simpleArg(args[1], 'a'), simpleArg(args[2], 'b')]);
      return [act(out0, shape, { kind: 'select' }, rows)];
    }
    case 'Floor': case 'Ceil': case 'Round': {
      // x / 1 rounded: an integer at scale 0, from any affine x (Round: half to even, as ONNX)
      const x = sym(0);
      const mode = node.op === 'Floor' ? 'floor' : node.op === 'Ceil' ? 'ceil' : 'even';
      return [act(out0, x.shape, { kind: 'round', mode }, x.data.map((e) => [e, constantExpr(1)]))];
    }
    case 'Mod': {
      // by a constant d: the remainder x − |d|·q of floor (fmod=0) or truncated (fmod=1) division.
      // fmod=1 (C fmod) has the dividend's sign: fmod(x, d) = fmod(x, |d|); fmod=0 (Python) has
      // the divisor's sign: for d < 0, x mod d = −((−x) mod |d|)
      if (args[1]?.kind !== 'const') fail('a divisor that depends on the model input is not supported', 'zkonnx computes Mod by a constant divisor');
      const fmod = attr(ctx, 'fmod', 0) === 1;
      const { shape, rows } = broadcastArgs(ctx, [args[0]!, args[1]!]);
      const flip = rows.map(([, d]) => {
        if (d!.c === 0 || !Number.isFinite(d!.c)) fail(`the divisor holds ${d!.c}`);
        return !fmod && d!.c < 0;
      });
      const t = act(out0, shape, { kind: 'round', mode: fmod ? 'trunc' : 'floor', rem: true },
        rows.map(([e, d], i) => [flip[i] ? neg(e!) : e!, constantExpr(Math.abs(d!.c))]));
      return [{ shape, data: t.data.map((e, i) => (flip[i] ? neg(e) : e)) }];
    }
    case 'Sign': {
      const x = simple(sym(0), 'x');
      const zero = constantExpr(0);
      const pos = act(`${out0}:pos`, x.shape, { kind: 'less' }, x.data.map((e) => [zero, e]));
      const negv = act(`${out0}:neg`, x.shape, { kind: 'less' }, x.data.map((e) => [e, zero]));
      return [{ shape: x.shape, data: pos.data.map((p, i) => combine([p, negv.data[i]!], [1, -1])) }];
    }
    case 'MaxPool': case 'GlobalMaxPool': case 'LpPool': {
      if (node.outputs[1]) fail('the Indices output of MaxPool is not supported');
      if (attr(ctx, 'storage_order', 0) !== 0) fail('storage_order=1 is not supported');
      const p = attr(ctx, 'p', 2);
      // LpPool = (Σ |x|^p)^(1/p) over the window; p = 1 and p = 2 only
      if (node.op === 'LpPool' && p !== 1 && p !== 2) fail(`p=${p} is not supported (p = 1 or 2)`);
      const x = ctx.wideOperands && node.op !== 'LpPool' ? sym(0) : simple(sym(0), 'x');
      const inSp = x.shape.slice(2);
      const win: Window = node.op === 'GlobalMaxPool'
        ? { kernel: inSp, strides: inSp.map(() => 1), dilations: inSp.map(() => 1), pb: inSp.map(() => 0), pe: inSp.map(() => 0), out: inSp.map(() => 1) }
        : windowOf(ctx, inSp, poolKernel(ctx, x.shape), true);
      const taps = convTaps(inSp, win);
      const plane = sizeOf(inSp);
      const nOut = taps.start.length - 1;
      const shape = [x.shape[0]!, x.shape[1]!, ...win.out];
      const windows = (vals: LinExpr[]) => {
        const rows: LinExpr[][] = [];
        for (let nc = 0; nc < x.shape[0]! * x.shape[1]!; nc++) {
          for (let o = 0; o < nOut; o++) {
            const r: LinExpr[] = [];
            for (let t = taps.start[o]!; t < taps.start[o + 1]!; t++) r.push(vals[nc * plane + taps.inOff[t]!]!);
            rows.push(r);
          }
        }
        return rows;
      };
      if (node.op !== 'LpPool') return [maxRows(out0, shape, windows(x.data))];
      const mag = p === 1
        ? maxRows(`${out0}:abs`, x.shape, x.data.map((e) => [e, neg(e)]))
        : mulRows(`${out0}:sq`, x.shape, x.data.map((e) => [e, e]));
      const sums = { shape, data: windows(mag.data).map((r) => combine(r, r.map(() => 1))) };
      return [p === 1 ? sums : unary(simple(sums, 'sum'), { kind: 'sqrt' })];
    }
    case 'Gather': case 'GatherElements': {
      // indices that depend on the input: out = Σ_j [idx = j]·data_j, one equality per index
      // element and candidate (shared by every output that index picks for: an embedding row),
      // and a product per candidate where the data are signals too; a constant table (a token
      // embedding) is linear in the equalities. Constant indices never get here: they are linear.
      const table = args[0]?.kind === 'const' ? (args[0] as { t: Tensor }).t : undefined;
      const data: Tens<LinExpr> = table ? { shape: table.dims, data: Array.from(table.data, (v) => constantExpr(v)) } : simple(sym(0), 'data');
      const idx = simple(sym(1), 'idx');
      const axis = normAxis(attr(ctx, 'axis', 0), data.shape.length);
      const n = data.shape[axis]!;
      const ds = strides(data.shape);
      const shape = outShapes[0]!;
      const os = strides(shape);
      const cand: LinExpr[][] = []; // per output element: data elements j = 0..n−1 along axis
      for (let f = 0; f < sizeOf(shape); f++) {
        const coord = shape.map((_, d) => Math.floor(f / os[d]!) % shape[d]!);
        const r: LinExpr[] = [];
        for (let j = 0; j < n; j++) {
          let off = 0;
          if (node.op === 'GatherElements') coord.forEach((c, d) => { off += (d === axis ? j : c) * ds[d]!; });
          else {
            // Gather: data coords = out[:axis] + j + out[axis + rank(idx):]
            const ir = shape.length - data.shape.length + 1;
            data.shape.forEach((_, d) => { off += (d < axis ? coord[d]! : d === axis ? j : coord[d + ir - 1]!) * ds[d]!; });
          }
          r.push(data.data[off]!);
        }
        cand.push(r);
      }
      const irank = idx.shape.length;
      const iStr = strides(idx.shape);
      const idxOf = (f: number): number => {
        if (node.op === 'GatherElements') return f;
        let k = 0; // the output coordinates [axis, axis + rank(idx)) index the indices tensor
        for (let d = 0; d < irank; d++) k += (Math.floor(f / os[axis + d]!) % shape[axis + d]!) * iStr[d]!;
        return k;
      };
      // the index elements used, each with its n equalities
      const used = [...new Set(cand.map((_, f) => idxOf(f)))].sort((a, b) => a - b);
      const slot = new Map(used.map((k, i) => [k, i]));
      const eqRows: LinExpr[][] = [];
      for (const k of used) for (let j = 0; j < n; j++) eqRows.push([idx.data[k]!, constantExpr(j)]);
      const eq = act(`${out0}:eq`, [eqRows.length], { kind: 'equal' }, eqRows);
      // each index is one of 0 … n − 1 (ONNX leaves others undefined; a negative one would wrap):
      // the equalities sum to 1, which √(Σ − 1) existing proves (FloorSqrt: radicand ≥ 0; at most
      // one equality holds, so Σ − 1 ≤ 0: a 1-bit root)
      act(`${out0}${IN_RANGE}`, [used.length], { kind: 'sqrt', radicandMax: 0 }, used.map((_, s) => [combine(eq.data.slice(s * n, s * n + n), new Array<number>(n).fill(1), -1)]));
      const eqOf = (f: number, j: number) => eq.data[slot.get(idxOf(f))! * n + j]!;
      if (table) return [{ shape, data: cand.map((r, f) => combine(r.map((_, j) => eqOf(f, j)), r.map((x) => x.c))) }];
      const prod = mulRows(`${out0}:pick`, [cand.length * n], cand.flatMap((r, f) => r.map((x, j) => [eqOf(f, j), x])));
      return [{ shape, data: cand.map((_, f) => combine(prod.data.slice(f * n, f * n + n), new Array<number>(n).fill(1))) }];
    }
    case 'TopK': {
      // by selection: pass p bubbles the largest remaining element to position p with
      // compare-exchanges. Values only: max is a constraint, min = a + b − max is linear. With
      // the indices (output 1: k-NN's neighbours): the swap bit s = [a < b] selects the front
      // value (s ? b : a, a select; the back one is a + b − front) and the front index likewise
      // (linear in s while the indices are the starting positions). Equal values keep their order
      // in the lane (ties in the integers go to the element in front).
      const x = simple(sym(0), 'x');
      const axis = normAxis(attr(ctx, 'axis', -1), x.shape.length);
      const kArg = args[1];
      const k = kArg ? (kArg.kind === 'const' ? kArg.t.data[0]! : fail('k must be a constant')) : attr(ctx, 'k', 1);
      const n = x.shape[axis]!;
      if (!Number.isInteger(k) || k < 0 || k > n) fail(`k=${k} must be an integer in [0, ${n}]`);
      const largest = attr(ctx, 'largest', 1) === 1;
      const { groups } = reduceGroups(x.shape, [axis], true);
      // work on −x for the smallest: the same network, negated back at the end
      let lanes = groups.map((g) => g.map((f) => (largest ? x.data[f]! : neg(x.data[f]!))));
      const withIndices = Boolean(node.outputs[1]);
      let where = groups.map(() => Array.from({ length: n }, (_, j) => constantExpr(j)));
      /** s ? back : front at position i − 1 and the other one at i, in every lane */
      const exchange = (ls: LinExpr[][], i: number, s: LinExpr[], name: string): LinExpr[][] => {
        const constant = ls.every((l) => !l[i - 1]!.idx.length && !l[i]!.idx.length);
        const front = constant
          ? ls.map((l, g) => combine([s[g]!], [l[i]!.c - l[i - 1]!.c], l[i - 1]!.c))
          : act(name, [ls.length], { kind: 'select' }, ls.map((l, g) => [s[g]!, l[i]!, l[i - 1]!])).data;
        return ls.map((l, g) => {
          const next = l.slice();
          next[i - 1] = front[g]!;
          next[i] = combine([l[i - 1]!, l[i]!, front[g]!], [1, 1, -1]);
          return next;
        });
      };
      let step = 0;
      for (let p = 0; p < k; p++) {
        for (let i = n - 1; i > p; i--, step++) {
          if (!withIndices) {
            const m = act(`${out0}:cx${step}`, [lanes.length], { kind: 'max' }, lanes.map((l) => [l[i - 1]!, l[i]!]));
            lanes = lanes.map((l, g) => {
              const next = l.slice();
              next[i - 1] = m.data[g]!;
              next[i] = combine([l[i - 1]!, l[i]!, m.data[g]!], [1, 1, -1]);
              return next;
            });
            continue;
          }
          const swap = act(`${out0}:lt${step}`, [lanes.length], { kind: 'less' }, lanes.map((l) => [l[i - 1]!, l[i]!])).data;
          lanes = exchange(lanes, i, swap, `${out0}:xv${step}`);
          where = exchange(where, i, swap, `${out0}:xi${step}`);
        }
      }
      const outShape = x.shape.map((d, i) => (i === axis ? k : d));
      const { groups: outGroups } = reduceGroups(outShape, [axis], true);
      const data = new Array<LinExpr>(sizeOf(outShape));
      const indices = new Array<LinExpr>(sizeOf(outShape));
      outGroups.forEach((g, gi) => g.forEach((f, j) => { data[f] = largest ? lanes[gi]![j]! : neg(lanes[gi]![j]!); indices[f] = where[gi]![j]!; }));
      return withIndices ? [{ shape: outShape, data }, { shape: outShape, data: indices }] : [{ shape: outShape, data }];
    }
    case 'ReduceMax': case 'ReduceMin': case 'ReduceL1': case 'ReduceL2': case 'ReduceSumSquare': case 'ReduceLogSumExp': {
      const x = simple(sym(0), 'x');
      const red = reductionOf(ctx, args, x.shape);
      if (red.noop) return [x];
      const { shape, groups } = reduceGroups(x.shape, red.axes, red.keepdims);
      const rows = groups.map((g) => g.map((f) => x.data[f]!));
      const sum = (vals: LinExpr[]) => combine(vals, vals.map(() => 1));
      switch (node.op) {
        case 'ReduceMax': return [maxRows(out0, shape, rows)];
        case 'ReduceMin': return [maxRows(out0, shape, rows, true)];
        case 'ReduceL1': {
          const abs = maxRows(`${out0}:abs`, x.shape, x.data.map((e) => [e, neg(e)]));
          return [{ shape, data: groups.map((g) => sum(g.map((f) => abs.data[f]!))) }];
        }
        default: {
          if (node.op === 'ReduceLogSumExp') {
            const m = maxRows(`${out0}:max`, shape, rows);
            const d = x.data.map((e, f) => combine([e, m.data[groups.findIndex((g) => g.includes(f))]!], [1, -1]));
            const ex = fnOf(`${out0}:exp`, { shape: x.shape, data: d }, 'exp', [], { hi: 0 });
            const s = simple({ shape, data: groups.map((g) => sum(g.map((f) => ex.data[f]!))) }, 'sum');
            const lg = logOfSum(`${out0}:log`, s);
            return [{ shape, data: lg.data.map((e, i) => combine([e, m.data[i]!], [1, 1])) }];
          }
          const s = mulRows(`${out0}:sq`, shape, groups.map((g) => g.flatMap((f) => [x.data[f]!, x.data[f]!]))); // Σ x² per group
          return [node.op === 'ReduceSumSquare' ? s : unary(simple(s, 'sum'), { kind: 'sqrt' })];
        }
      }
    }
    case 'ArgMax': case 'ArgMin': {
      const x = simple(sym(0), 'x');
      const axis = normAxis(attr(ctx, 'axis', 0), x.shape.length);
      const { shape, groups } = reduceGroups(x.shape, [axis], attr(ctx, 'keepdims', 1) === 1);
      const last = attr(ctx, 'select_last_index', 0) === 1;
      const n = x.shape[axis]!;
      // ArgMin = argmax of −x; the last index = n − 1 − (first index in reversed order)
      const rows = groups.map((g) => (last ? [...g].reverse() : g).map((f) => (node.op === 'ArgMin' ? neg(x.data[f]!) : x.data[f]!)));
      const t = act(out0, shape, { kind: 'argmax' }, rows);
      return [last ? { shape, data: t.data.map((e) => combine([e], [-1], n - 1)) } : t];
    }
    case 'Softmax': case 'LogSoftmax': {
      const x = simple(sym(0), 'x');
      const rank = x.shape.length;
      const axis = normAxis(attr(ctx, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
      // before opset 13 the input is coerced to 2-D at `axis`
      const axes = ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
      const { groups } = reduceGroups(x.shape, axes, true);
      const groupOf = new Int32Array(x.data.length);
      groups.forEach((g, gi) => { for (const f of g) groupOf[f] = gi; });
      const gshape = [groups.length];
      const m = maxRows(`${out0}:max`, gshape, groups.map((g) => g.map((f) => x.data[f]!)));
      const d = x.data.map((e, f) => combine([e, m.data[groupOf[f]!]!], [1, -1]));
      const ex = fnOf(`${out0}:exp`, { shape: x.shape, data: d }, 'exp', [], { hi: 0 });
      const sum = groups.map((g) => combine(g.map((f) => ex.data[f]!), g.map(() => 1)));
      if (node.op === 'Softmax') {
        // Σ exp(x − max) ≥ 1 (one term is exp(0)), which the interval of a fitted exp (it may dip
        // a step below 0) cannot show: max(Σ, 1) gives the division a denominator proven ≥ 1
        const s = maxRows(`${out0}:sum`, gshape, sum.map((e) => [e, constantExpr(1)]));
        if (groups[0]!.length < 2) return [act(out0, x.shape, { kind: 'div' }, ex.data.map((e, f) => [e, s.data[groupOf[f]!]!]))];
        // one division a row, then a product an element: a division costs three range checks of
        // the denominator's width (b ≥ 1, r ≥ 0, r < 2b), a product's rescale one of its shift.
        // 1/Σ takes one bit past its calibrated scale, which is the output's (the row's largest
        // element has exp(0) = 1, so its p is 1/Σ): p is then within 3/4 of a step of e·2^s/Σ
        const inv = act(`${out0}:inv`, gshape, { kind: 'div', fine: 1 }, s.data.map((e) => [constantExpr(1), e]));
        return [act(out0, x.shape, { kind: 'mul' }, ex.data.map((e, f) => [e, inv.data[groupOf[f]!]!]))];
      }
      const s = simple({ shape: gshape, data: sum }, 'sum');
      const lg = logOfSum(`${out0}:log`, s);
      return [{ shape: x.shape, data: d.map((e, f) => combine([e, lg.data[groupOf[f]!]!], [1, -1])) }];
    }
    case 'InstanceNormalization': case 'LayerNormalization': {
      const x = sym(0);
      const rank = x.shape.length;
      const eps = attr(ctx, 'epsilon', 1e-5);
      const first = node.op === 'InstanceNormalization' ? 2 : normAxis(attr(ctx, 'axis', -1), rank);
      const axes = Array.from({ length: rank - first }, (_, i) => first + i);
      const { groups } = reduceGroups(x.shape, axes, true);
      const groupOf = new Int32Array(x.data.length);
      groups.forEach((g, gi) => { for (const f of g) groupOf[f] = gi; });
      const gshape = [groups.length];
      const mean = groups.map((g) => combine(g.map((f) => x.data[f]!), g.map(() => 1 / g.length)));
      const d = simple({ shape: x.shape, data: x.data.map((e, f) => combine([e, mean[groupOf[f]!]!], [1, -1])) }, 'centered');
      // Σ d² per group as one sum of products: one rescale per group, not one per element
      const sq = mulRows(`${out0}:sq`, gshape, groups.map((g) => g.flatMap((f) => [d.data[f]!, d.data[f]!])));
      const variance = simple({ shape: gshape, data: groups.map((g, gi) => combine([sq.data[gi]!], [1 / g.length], eps)) }, 'var');
      const sd = unary(variance, { kind: 'sqrt' }, `${out0}:std`);
      const inv = act(`${out0}:inv`, gshape, { kind: 'div' }, sd.data.map((e) => [constantExpr(1), e]));
      // |y| < √(n − 1) for every input (n values per group, population variance): the bound
      // analysis cannot see it through 1/σ, so it is stated (and the rescale's range check enforces it)
      const perGroup = groups[0]!.length;
      const y = act(`${out0}:norm`, x.shape, { kind: 'mul', bound: Math.sqrt(Math.max(1, perGroup - 1)) * 1.01 + 1 }, d.data.map((e, f) => [e, inv.data[groupOf[f]!]!]));
      // per-channel (Instance) or per-position (Layer) scale and bias
      const scaleArg = args[1];
      const biasArg = args[2];
      /** the element of a scale or bias (a constant, or a committed weight: a signal) that f uses */
      const inner = sizeOf(x.shape.slice(first));
      const maps = new Map<NonNullable<Arg<LinExpr>>, ArrayLike<number>>();
      const at = (a: NonNullable<Arg<LinExpr>>, f: number): number => {
        if (node.op === 'InstanceNormalization') return Math.floor(f / sizeOf(x.shape.slice(2))) % x.shape[1]!;
        let m = maps.get(a);
        if (!m) maps.set(a, (m = broadcastIndex(x.shape.slice(first), a.kind === 'sym' ? a.t.shape : a.t.dims)));
        return m[f % inner]!;
      };
      const term = (a: Arg<LinExpr>, f: number, dflt: number): LinExpr => {
        if (!a) return constantExpr(dflt);
        return a.kind === 'sym' ? a.t.data[at(a, f)]! : constantExpr(a.t.data[at(a, f)]!);
      };
      // a scale that is a signal (--weights hashed): one product an element, the bias its odd operand
      if (scaleArg?.kind === 'sym') return [mulRows(out0, x.shape, y.data.map((e, f) => [e, term(scaleArg, f, 1), term(biasArg, f, 0)]))];
      const coef = (f: number) => (scaleArg ? (scaleArg as { t: Tensor }).t.data[at(scaleArg, f)]! : 1);
      return [{ shape: x.shape, data: y.data.map((e, f) => combine([e, term(biasArg, f, 0)], [coef(f), 1])) }];
    }
    default: {
      const u = UNARY_FNS[node.op];
      if (!u) return undefined;
      const params = u.params ? u.params((k, d) => attr(ctx, k, d)) : [];
      void outShapes;
      // f saturating on both sides takes its affine argument as it is (a pre-activation at the
      // weights' scale): its one clamping decomposition drops the low bits f cannot see, which
      // costs less than rescaling the argument first (a remainder and an output range check)
      const sat = SATURATION[u.fn]?.(params);
      const x = sat?.lo !== undefined && sat.hi !== undefined ? sym(0) : simple(sym(0), 'x');
      return [fnOf(out0, x, u.fn, params)];
    }
  }
}
