// Shape inference and constant folding. After this pass every tensor has a static shape, every
// value computable without the input is a constant, and the remaining nodes compute on signals.
import { ZkonnxError, nodeLabel } from '../errors.js';
import type { AttrValue, Graph, Node, Tensor } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { broadcastIndex, broadcastShape, normAxis, reshapeTarget, strides } from '../ir/shape.js';

/** Ops that may compute on signals in this release, with the float Cast targets allowed. */
export const SIGNAL_OPS = new Set([
  'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Relu', 'Flatten', 'Reshape', 'Identity', 'Cast', 'Dropout',
]);
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

type Ctx = { g: Graph; node: Node };

function fail(ctx: Ctx, msg: string, hint?: string, code: 'ONNX_SHAPE' | 'ONNX_UNSUPPORTED_ATTR' | 'ONNX_MALFORMED' = 'ONNX_SHAPE'): never {
  throw new ZkonnxError(code, `${nodeLabel(ctx.node)}: ${msg}`, { file: ctx.g.source, node: ctx.node.name, op: ctx.node.op, hint });
}

export function attrInt(n: Node, key: string, dflt: number): number {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
}
export function attrInts(n: Node, key: string): number[] | undefined {
  const v = n.attrs[key];
  return Array.isArray(v) ? (v as number[]) : undefined;
}

function t(dims: number[], data: Float64Array | number[]): Tensor {
  return { dims, data: data instanceof Float64Array ? data : Float64Array.from(data) };
}

function elementwise(ctx: Ctx, a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShape(a.dims, b.dims);
  if (!shape) fail(ctx, `shapes [${a.dims}] and [${b.dims}] do not broadcast`);
  const ia = broadcastIndex(shape, a.dims);
  const ib = broadcastIndex(shape, b.dims);
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!);
  return t(shape, out);
}

/** 2-D matrix product of constants (used by folding Gemm/MatMul on constants). */
function matmul2(a: Tensor, b: Tensor, m: number, k: number, n: number, ta = false, tb = false): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a.data[ta ? q * m + i : i * k + q]! * b.data[tb ? j * k + q : q * n + j]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

export function transposeConst(x: Tensor, perm: number[]): Tensor {
  const dims = perm.map((p) => x.dims[p]!);
  const is = strides(x.dims);
  const os = strides(dims);
  const out = new Float64Array(x.data.length);
  for (let f = 0; f < out.length; f++) {
    let rem = f;
    let src = 0;
    for (let d = 0; d < dims.length; d++) {
      const c = Math.floor(rem / os[d]!);
      rem -= c * os[d]!;
      src += c * is[perm[d]!]!;
    }
    out[f] = x.data[src]!;
  }
  return t(dims, out);
}

/** Output shapes of a signal node, checking the attributes zkonnx handles. */
function inferShapes(ctx: Ctx, shapeOf: (name: string) => number[], constOf: (name: string) => Tensor | undefined): number[][] {
  const { node } = ctx;
  const ins = node.inputs.map((n) => (n ? shapeOf(n) : []));
  const a = ins[0]!;
  switch (node.op) {
    case 'Identity': case 'Relu': case 'Neg': case 'Dropout':
      return [a];
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      if (!FLOAT_TYPES.has(to)) fail(ctx, `Cast of a signal to type ${to} is not supported`, 'only casts between float types are supported on signals', 'ONNX_UNSUPPORTED_ATTR');
      return [a];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const s = broadcastShape(a, ins[1]!);
      if (!s) fail(ctx, `shapes [${a}] and [${ins[1]}] do not broadcast`);
      return [s];
    }
    case 'Flatten': {
      const axis = normAxis(attrInt(node, 'axis', 1), a.length);
      return [[sizeOf(a.slice(0, axis)), sizeOf(a.slice(axis))]];
    }
    case 'Reshape': {
      const spec = constOf(node.inputs[1]!);
      if (!spec) fail(ctx, `the target shape '${node.inputs[1]}' is not a constant`, 'zkonnx needs shapes it can resolve at compile time');
      const r = reshapeTarget(a, Array.from(spec.data), attrInt(node, 'allowzero', 0) === 1);
      if (typeof r === 'string') fail(ctx, r);
      return [r];
    }
    case 'MatMul': {
      const b = ins[1]!;
      const A = a.length === 1 ? [1, a[0]!] : a;
      const B = b.length === 1 ? [b[0]!, 1] : b;
      const k = A[A.length - 1]!;
      if (B[B.length - 2] !== k) fail(ctx, `inner dimensions differ: [${a}] × [${b}]`);
      const batch = broadcastShape(A.slice(0, -2), B.slice(0, -2));
      if (!batch) fail(ctx, `batch dimensions of [${a}] and [${b}] do not broadcast`);
      const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
      if (a.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.splice(out.length - 1, 1);
      return [out];
    }
    case 'Gemm': {
      const b = ins[1]!;
      if (a.length !== 2 || b.length !== 2) fail(ctx, `Gemm needs 2-D operands, got [${a}] and [${b}]`);
      const ta = attrInt(node, 'transA', 0) === 1;
      const tb = attrInt(node, 'transB', 0) === 1;
      const [m, k] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
      const [k2, n] = tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
      if (k !== k2) fail(ctx, `inner dimensions differ: A is [${a}]${ta ? 'ᵀ' : ''}, B is [${b}]${tb ? 'ᵀ' : ''}`);
      if (node.inputs[2] && !broadcastShape([m, n], ins[2]!)) fail(ctx, `bias of shape [${ins[2]}] does not broadcast to [${m}, ${n}]`);
      return [[m, n]];
    }
    default:
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: operator ${node.op} is not supported on signals`, {
        file: ctx.g.source, node: node.name, op: node.op,
        hint: `supported: ${[...SIGNAL_OPS].join(', ')}; ops on constants fold at compile time`,
      });
  }
}

/** Evaluates a node whose inputs are all constants; undefined when zkonnx cannot fold the op. */
function foldNode(ctx: Ctx, ins: (Tensor | undefined)[], shapeOf: (n: string) => number[]): Tensor[] | undefined {
  const { node } = ctx;
  const a = ins[0];
  switch (node.op) {
    case 'Constant': {
      const v: AttrValue | undefined = node.attrs.value ?? node.attrs.value_float ?? node.attrs.value_floats ?? node.attrs.value_int ?? node.attrs.value_ints;
      if (v === undefined) fail(ctx, 'Constant without a value, value_float(s) or value_int(s) attribute', undefined, 'ONNX_UNSUPPORTED_ATTR');
      if (typeof v === 'number') return [t([], [v])];
      if (Array.isArray(v)) return [t([v.length], v as number[])];
      if (typeof v === 'string') fail(ctx, 'string constants are not supported', undefined, 'ONNX_UNSUPPORTED_ATTR');
      return [v as Tensor];
    }
    case 'Shape': {
      const s = shapeOf(node.inputs[0]!);
      const start = normAxis(attrInt(node, 'start', 0), s.length);
      const end = node.attrs.end === undefined ? s.length : normAxis(attrInt(node, 'end', s.length), s.length);
      const dims = s.slice(start, end);
      return [t([dims.length], dims)];
    }
    case 'ConstantOfShape': {
      const dims = Array.from(a!.data);
      const v = node.attrs.value as Tensor | undefined;
      return [t(dims, new Float64Array(sizeOf(dims)).fill(v ? v.data[0]! : 0))];
    }
    case 'Identity': case 'Dropout': case 'Cast':
      return [a!];
    case 'Neg': return [t(a!.dims, a!.data.map((x) => -x))];
    case 'Relu': return [t(a!.dims, a!.data.map((x) => Math.max(0, x)))];
    case 'Sqrt': return [t(a!.dims, a!.data.map(Math.sqrt))];
    case 'Add': return [elementwise(ctx, a!, ins[1]!, (x, y) => x + y)];
    case 'Sub': return [elementwise(ctx, a!, ins[1]!, (x, y) => x - y)];
    case 'Mul': return [elementwise(ctx, a!, ins[1]!, (x, y) => x * y)];
    case 'Div': return [elementwise(ctx, a!, ins[1]!, (x, y) => x / y)];
    case 'Reshape': case 'Flatten': {
      const [shape] = inferShapes(ctx, (n) => shapeOf(n), (n) => (n === node.inputs[1] ? ins[1] : undefined));
      return [t(shape!, a!.data)];
    }
    case 'Unsqueeze': case 'Squeeze': {
      const axesT = ins[1];
      let axes = axesT ? Array.from(axesT.data) : attrInts(node, 'axes');
      let dims = [...a!.dims];
      if (node.op === 'Unsqueeze') {
        const rank = dims.length + (axes?.length ?? 0);
        axes = (axes ?? []).map((x) => normAxis(x, rank)).sort((x, y) => x - y);
        for (const ax of axes) dims.splice(ax, 0, 1);
      } else {
        const drop = new Set((axes ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((x) => normAxis(x, dims.length)));
        dims = dims.filter((_, i) => !drop.has(i));
      }
      return [t(dims, a!.data)];
    }
    case 'Concat': {
      const axis = normAxis(attrInt(node, 'axis', 0), a!.dims.length);
      const parts = ins as Tensor[];
      const dims = [...a!.dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
      const outer = sizeOf(dims.slice(0, axis));
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = sizeOf(p.dims.slice(axis));
          for (let i = 0; i < chunk; i++) out.push(p.data[o * chunk + i]!);
        }
      }
      return [t(dims, out)];
    }
    case 'Gather': {
      const axis = normAxis(attrInt(node, 'axis', 0), a!.dims.length);
      const idx = ins[1]!;
      const outer = sizeOf(a!.dims.slice(0, axis));
      const inner = sizeOf(a!.dims.slice(axis + 1));
      const len = a!.dims[axis]!;
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of idx.data) {
          const j = raw < 0 ? raw + len : raw;
          for (let i = 0; i < inner; i++) out.push(a!.data[(o * len + j) * inner + i]!);
        }
      }
      return [t([...a!.dims.slice(0, axis), ...idx.dims, ...a!.dims.slice(axis + 1)], out)];
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? a!.dims.map((_, i) => a!.dims.length - 1 - i);
      return [transposeConst(a!, perm)];
    }
    case 'MatMul': {
      const b = ins[1]!;
      if (a!.dims.length !== 2 || b.dims.length !== 2) return undefined;
      const [m, k] = a!.dims as [number, number];
      return [t([m, b.dims[1]!], matmul2(a!, b, m, k, b.dims[1]!))];
    }
    case 'Gemm': {
      const b = ins[1]!;
      const ta = attrInt(node, 'transA', 0) === 1;
      const tb = attrInt(node, 'transB', 0) === 1;
      const m = ta ? a!.dims[1]! : a!.dims[0]!;
      const k = ta ? a!.dims[0]! : a!.dims[1]!;
      const n = tb ? b.dims[0]! : b.dims[1]!;
      const alpha = (node.attrs.alpha as number | undefined) ?? 1;
      const beta = (node.attrs.beta as number | undefined) ?? 1;
      let out = t([m, n], matmul2(a!, b, m, k, n, ta, tb).map((x) => alpha * x));
      if (ins[2]) out = elementwise(ctx, out, ins[2], (x, y) => x + beta * y);
      return [out];
    }
    default:
      return undefined;
  }
}

/** Infers every shape and folds every constant sub-graph; returns the signal-only graph. */
export function inferAndFold(g: Graph): Graph {
  const constants = new Map(g.constants);
  const shapes = new Map(g.shapes);
  const nodes: Node[] = [];
  const shapeOf = (ctx: Ctx) => (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) {
      fail(ctx, `input '${name}' is not produced by any earlier node, initializer or graph input`, 'the graph must be topologically sorted', 'ONNX_MALFORMED');
    }
    return s;
  };
  for (const node of g.nodes) {
    const ctx = { g, node };
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: custom domain '${node.domain}' is not supported`, {
        file: g.source, node: node.name, op: node.op, hint: 'only the default ONNX domain is supported',
      });
    }
    const present = node.inputs.filter((n) => n !== '');
    const allConst = present.every((n) => constants.has(n)) || node.op === 'Shape';
    if (allConst) {
      if (node.op === 'Shape') shapeOf(ctx)(node.inputs[0]!);
      const folded = foldNode(ctx, node.inputs.map((n) => (n ? constants.get(n) : undefined)), shapeOf(ctx));
      if (folded) {
        folded.forEach((v, i) => {
          const out = node.outputs[i];
          if (out) { constants.set(out, v); shapes.set(out, v.dims); }
        });
        continue;
      }
      if (!SIGNAL_OPS.has(node.op)) {
        throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${nodeLabel(node)}: operator ${node.op} is not supported`, {
          file: g.source, node: node.name, op: node.op, hint: `supported: ${[...SIGNAL_OPS].join(', ')} and constant folding of shape ops`,
        });
      }
    }
    const outShapes = inferShapes(ctx, shapeOf(ctx), (n) => constants.get(n));
    node.outputs.forEach((out, i) => { if (out && outShapes[i]) shapes.set(out, outShapes[i]!); });
    nodes.push(node);
  }
  const outputs = g.outputs.map((o) => {
    const shape = shapes.get(o.name);
    if (!shape) throw new ZkonnxError('ONNX_MALFORMED', `${g.source}: graph output '${o.name}' is produced by no node`, { file: g.source });
    if (constants.has(o.name)) {
      throw new ZkonnxError('ONNX_SHAPE', `${g.source}: graph output '${o.name}' is a constant that does not depend on the input`, {
        file: g.source, hint: 'there is nothing to prove about a constant output',
      });
    }
    return { name: o.name, shape };
  });
  return { ...g, constants, shapes, nodes, outputs };
}
