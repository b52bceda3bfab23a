// Graph → AffineGraph. Every linear op on signals (Gemm, MatMul, Add, Sub, Mul/Div by constants,
// reshapes) is folded symbolically into affine expressions over the materialized values; only
// the non-linear ops become values of their own. Linear algebra thus costs no constraint.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { ActValue, AffineGraph, AffineOutput, Graph, InputValue, LinExpr, Node, Tensor } from './graph.js';
import { sizeOf } from './graph.js';
import { broadcastIndex, broadcastShape, strides } from './shape.js';
import { attrInt, transposeConst } from '../onnx/fold.js';

interface Sym {
  shape: number[];
  expr: LinExpr[];
}

const identity = (i: number): LinExpr => ({ idx: [i], w: [1], c: 0 });

/** Σ_j weights[j]·exprs[j] + c, merging terms on the same value. */
function combine(exprs: LinExpr[], weights: number[], c = 0): LinExpr {
  const acc = new Map<number, number>();
  let cc = c;
  for (let j = 0; j < exprs.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    const e = exprs[j]!;
    cc += w * e.c;
    for (let t = 0; t < e.idx.length; t++) acc.set(e.idx[t]!, (acc.get(e.idx[t]!) ?? 0) + w * e.w[t]!);
  }
  const idx: number[] = [];
  const ws: number[] = [];
  for (const [i, w] of [...acc.entries()].sort((a, b) => a[0] - b[0])) {
    if (w !== 0) { idx.push(i); ws.push(w); }
  }
  return { idx, w: ws, c: cc };
}

function permuteSym(s: Sym, perm: number[]): Sym {
  const dims = perm.map((p) => s.shape[p]!);
  const is = strides(s.shape);
  const os = strides(dims);
  const expr = new Array<LinExpr>(s.expr.length);
  for (let f = 0; f < expr.length; f++) {
    let rem = f;
    let src = 0;
    for (let d = 0; d < dims.length; d++) {
      const c = Math.floor(rem / os[d]!);
      rem -= c * os[d]!;
      src += c * is[perm[d]!]!;
    }
    expr[f] = s.expr[src]!;
  }
  return { shape: dims, expr };
}

/** out[..., m, n] = Σ_k x[..., m, k]·W[k, n] (symLeft) or Σ_k W[m, k]·x[..., k, n]. */
function matmulSym(x: Sym, w: Tensor, symLeft: boolean, fail: (m: string) => never): Sym {
  if (w.dims.length > 2) fail(`a constant operand of rank ${w.dims.length} is not supported (rank ≤ 2)`);
  let xs = x.shape;
  let ws = w.dims;
  const squeeze: number[] = [];
  if (symLeft) {
    if (xs.length === 1) { xs = [1, xs[0]!]; squeeze.push(-2); }
    if (ws.length === 1) { ws = [ws[0]!, 1]; squeeze.push(-1); }
  } else {
    if (ws.length === 1) { ws = [1, ws[0]!]; squeeze.push(-2); }
    if (xs.length === 1) { xs = [xs[0]!, 1]; squeeze.push(-1); }
  }
  const batch = xs.slice(0, -2);
  const nb = sizeOf(batch);
  const [M, K, N] = symLeft ? [xs[xs.length - 2]!, xs[xs.length - 1]!, ws[1]!] : [ws[0]!, ws[1]!, xs[xs.length - 1]!];
  if ((symLeft ? ws[0] : xs[xs.length - 2]) !== K) fail(`inner dimensions differ: [${x.shape}] and [${w.dims}]`);
  const expr: LinExpr[] = [];
  const col = new Array<LinExpr>(K);
  const wk = new Array<number>(K);
  for (let b = 0; b < nb; b++) {
    const base = b * (symLeft ? M * K : K * N);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          col[k] = x.expr[base + (symLeft ? m * K + k : k * N + n)]!;
          wk[k] = symLeft ? w.data[k * N + n]! : w.data[m * K + k]!;
        }
        expr.push(combine(col, wk));
      }
    }
  }
  let shape = [...batch, M, N];
  for (const s of squeeze) shape = shape.filter((_, i) => i !== shape.length + s);
  return { shape, expr };
}

function broadcastSym(a: Sym | Tensor, shape: number[]): (i: number) => LinExpr | number {
  const dims = 'expr' in a ? a.shape : a.dims;
  const map = broadcastIndex(shape, dims);
  return 'expr' in a ? (i) => a.expr[map[i]!]! : (i) => a.data[map[i]!]!;
}

export function linearize(g: Graph): AffineGraph {
  const syms = new Map<string, Sym>();
  const inputs: InputValue[] = [];
  const acts: ActValue[] = [];
  let offset = 0;
  g.inputs.forEach((v, inputIndex) => {
    const size = sizeOf(v.shape);
    inputs.push({ kind: 'input', name: v.name, shape: v.shape, offset, size, inputIndex });
    syms.set(v.name, { shape: v.shape, expr: Array.from({ length: size }, (_, i) => identity(offset + i)) });
    offset += size;
  });
  const reluOf = new Set<number>(); // offsets of values that are already ReLU outputs

  for (const node of g.nodes) {
    const fail = (m: string, hint?: string): never => {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: ${m}`, { file: g.source, node: node.name, op: node.op, hint });
    };
    const arg = (i: number): Sym | Tensor | undefined => {
      const name = node.inputs[i];
      if (!name) return undefined;
      return syms.get(name) ?? g.constants.get(name);
    };
    const isSym = (v: Sym | Tensor | undefined): v is Sym => v !== undefined && 'expr' in v;
    const a = arg(0);
    const b = arg(1);
    let out: Sym;
    switch (node.op) {
      case 'Identity': case 'Cast': case 'Dropout': case 'Flatten': case 'Reshape':
        out = { shape: g.shapes.get(node.outputs[0]!)!, expr: (a as Sym).expr };
        break;
      case 'Neg':
        out = { shape: (a as Sym).shape, expr: (a as Sym).expr.map((e) => combine([e], [-1])) };
        break;
      case 'Add': case 'Sub': case 'Mul': case 'Div': {
        const shape = broadcastShape(isSym(a) ? a.shape : a!.dims, isSym(b) ? b.shape : b!.dims)!;
        const fa = broadcastSym(a!, shape);
        const fb = broadcastSym(b!, shape);
        const sign = node.op === 'Sub' ? -1 : 1;
        const expr: LinExpr[] = [];
        for (let i = 0; i < sizeOf(shape); i++) {
          const x = fa(i);
          const y = fb(i);
          if (node.op === 'Add' || node.op === 'Sub') {
            if (typeof x === 'number') expr.push(combine([y as LinExpr], [sign], x));
            else if (typeof y === 'number') expr.push(combine([x], [1], sign * y));
            else expr.push(combine([x, y], [1, sign]));
          } else if (node.op === 'Mul') {
            if (typeof x !== 'number' && typeof y !== 'number') fail('the product of two signal tensors is not supported yet', 'Mul needs one constant operand');
            expr.push(typeof x === 'number' ? combine([y as LinExpr], [x]) : combine([x], [y as number]));
          } else {
            if (typeof y !== 'number') fail('division by a signal tensor is not supported yet', 'Div needs a constant divisor');
            if (y === 0) fail('division by a constant zero');
            if (typeof x === 'number') fail('a constant divided by a signal is not supported yet');
            expr.push(combine([x as LinExpr], [1 / (y as number)]));
          }
        }
        out = { shape, expr };
        break;
      }
      case 'MatMul': {
        if (isSym(a) && isSym(b)) fail('the product of two signal tensors is not supported yet', 'MatMul needs one constant operand');
        out = isSym(a) ? matmulSym(a, b as Tensor, true, fail) : matmulSym(b as Sym, a as Tensor, false, fail);
        break;
      }
      case 'Gemm': {
        if (isSym(a) && isSym(b)) fail('the product of two signal tensors is not supported yet', 'Gemm needs constant A or B');
        const alpha = (node.attrs.alpha as number | undefined) ?? 1;
        const beta = (node.attrs.beta as number | undefined) ?? 1;
        const ta = attrInt(node, 'transA', 0) === 1;
        const tb = attrInt(node, 'transB', 0) === 1;
        const A = ta ? (isSym(a) ? permuteSym(a, [1, 0]) : transposeConst(a!, [1, 0])) : a!;
        const B = tb ? (isSym(b) ? permuteSym(b, [1, 0]) : transposeConst(b!, [1, 0])) : b!;
        const prod = isSym(A) ? matmulSym(A, B as Tensor, true, fail) : matmulSym(B as Sym, A, false, fail);
        const c = arg(2);
        if (isSym(c)) fail('a signal bias C is not supported yet', 'Gemm needs a constant C');
        const fc = c ? broadcastSym(c, prod.shape) : () => 0;
        out = { shape: prod.shape, expr: prod.expr.map((e, i) => combine([e], [alpha], beta * (fc(i) as number))) };
        break;
      }
      case 'Relu': {
        const x = a as Sym;
        const single = x.expr.every((e, i) => e.c === 0 && e.idx.length === 1 && e.w[0] === 1 && reluOf.has(e.idx[0]!) && (i === 0 || e.idx[0] === x.expr[i - 1]!.idx[0]! + 1));
        if (single) { out = x; break; } // ReLU is idempotent: relu(relu(v)) = relu(v)
        out = materialize(node, x, 'relu');
        break;
      }
      default:
        fail(`operator ${node.op} is not supported on signals`);
    }
    syms.set(node.outputs[0]!, out!);
  }

  function materialize(node: Node, x: Sym, act: 'relu' | 'none'): Sym {
    const size = x.expr.length;
    const v: ActValue = { kind: 'act', name: node.outputs[0]!, shape: x.shape, offset, size, act, expr: x.expr, nodes: [node.name] };
    acts.push(v);
    const expr = Array.from({ length: size }, (_, i) => identity(offset + i));
    if (act === 'relu') for (let i = 0; i < size; i++) reluOf.add(offset + i);
    offset += size;
    return { shape: x.shape, expr };
  }

  const outputs: AffineOutput[] = g.outputs.map((o) => {
    const s = syms.get(o.name)!;
    return { name: o.name, shape: s.shape, expr: s.expr };
  });
  return { name: g.name, source: g.source, inputs, acts, outputs, totalValues: offset };
}

/** Float evaluation of the affine program: calibration data and a check against onnxruntime. */
export function evalAffine(ag: AffineGraph, inputs: Float64Array[]): { values: Float64Array; pre: Map<string, Float64Array>; outputs: Float64Array[] } {
  const values = new Float64Array(ag.totalValues);
  ag.inputs.forEach((v) => values.set(inputs[v.inputIndex]!, v.offset));
  const evalExpr = (e: LinExpr) => {
    let s = e.c;
    for (let t = 0; t < e.idx.length; t++) s += e.w[t]! * values[e.idx[t]!]!;
    return s;
  };
  const pre = new Map<string, Float64Array>();
  for (const a of ag.acts) {
    const p = Float64Array.from(a.expr, evalExpr);
    pre.set(a.name, p);
    for (let i = 0; i < a.size; i++) values[a.offset + i] = a.act === 'relu' ? Math.max(0, p[i]!) : p[i]!;
  }
  return { values, pre, outputs: ag.outputs.map((o) => Float64Array.from(o.expr, evalExpr)) };
}
