// Decodes an ONNX file into the Graph of src/ir: tensors widened to float64, attributes typed,
// dialect differences (initializers listed as inputs, Constant nodes, external data) absorbed.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { ModelProto, DataType, AttrType } from './schema.js';
import { ZkonnxError } from '../errors.js';
import type { AttrValue, FixedInput, Graph, Node, SubGraph, Tensor, ValueInfo } from '../ir/graph.js';
import { sizeOf } from '../ir/graph.js';
import { cutTextFront } from './text.js';

type Long = { low: number; high: number; unsigned?: boolean; toNumber?: () => number } | number | string;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Pb = any;

function num(v: Long | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v.toNumber === 'function') return v.toNumber();
  return v.high * 4294967296 + (v.low >>> 0);
}

function half2float(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** n 4-bit values packed two a byte (ONNX's INT4/UINT4: the first in the low nibble). */
export function nibbles(bytes: ArrayLike<number>, n: number, signed: boolean): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = (bytes[i >> 1]! >> ((i & 1) * 4)) & 15;
    out[i] = signed && v >= 8 ? v - 16 : v;
  }
  return out;
}

function rawToFloat64(bytes: Uint8Array, dataType: number, n: number, where: string): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(n);
  const need = (w: number) => {
    if (bytes.byteLength < n * w) {
      throw new ZkonnxError('ONNX_MALFORMED', `${where}: raw data holds ${bytes.byteLength} bytes, ${n} elements need ${n * w}`);
    }
  };
  switch (dataType) {
    case DataType.FLOAT: need(4); for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true); break;
    case DataType.DOUBLE: need(8); for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true); break;
    case DataType.FLOAT16: need(2); for (let i = 0; i < n; i++) out[i] = half2float(view.getUint16(i * 2, true)); break;
    case DataType.BFLOAT16: need(2); for (let i = 0; i < n; i++) { const b = new DataView(new ArrayBuffer(4)); b.setUint16(2, view.getUint16(i * 2, true)); out[i] = b.getFloat32(0); } break;
    case DataType.INT64: need(8); for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true)); break;
    case DataType.UINT64: need(8); for (let i = 0; i < n; i++) out[i] = Number(view.getBigUint64(i * 8, true)); break;
    case DataType.INT32: need(4); for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true); break;
    case DataType.UINT32: need(4); for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true); break;
    case DataType.INT16: need(2); for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true); break;
    case DataType.UINT16: need(2); for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true); break;
    case DataType.INT8: need(1); for (let i = 0; i < n; i++) out[i] = view.getInt8(i); break;
    case DataType.UINT8: case DataType.BOOL: need(1); for (let i = 0; i < n; i++) out[i] = view.getUint8(i); break;
    case DataType.INT4: case DataType.UINT4: {
      // two values a byte, the first in the low nibble; INT4 sign-extended
      if (bytes.byteLength < Math.ceil(n / 2)) throw new ZkonnxError('ONNX_MALFORMED', `${where}: raw data holds ${bytes.byteLength} bytes, ${n} 4-bit elements need ${Math.ceil(n / 2)}`);
      out.set(nibbles(bytes, n, dataType === DataType.INT4));
      break;
    }
    default:
      throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${where}: tensor data type ${dataType} is not supported`, {
        hint: 'supported: float, double, float16, bfloat16 and the integer types (int4 and uint4 included)',
      });
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads a TensorProto, following external data into the side file next to the model. */
export function decodeTensor(t: Pb, modelDir: string, where: string): Tensor {
  const dims: number[] = (t.dims ?? []).map(num);
  const n = sizeOf(dims);
  const dataType: number = t.data_type ?? DataType.FLOAT;
  const label = `${where} tensor '${t.name ?? ''}'`;
  if (dataType === DataType.STRING) {
    // class names (sklearn-onnx's classes[ArgMax]) and string lookups: categorical.ts turns them
    // into codes before anything computes on them
    const strings = (t.string_data ?? []).map(text);
    if (strings.length !== n) throw new ZkonnxError('ONNX_MALFORMED', `${label}: holds ${strings.length} strings, its dims [${dims}] need ${n}`);
    return { dims, data: new Float64Array(n).fill(Number.NaN), dtype: dataType, strings };
  }
  if (t.data_location === 1) {
    const entries = new Map<string, string>((t.external_data ?? []).map((e: Pb) => [e.key, e.value]));
    const location = entries.get('location');
    if (!location) throw new ZkonnxError('ONNX_MALFORMED', `${label}: external data without a location`);
    const file = join(modelDir, location);
    if (!existsSync(file)) {
      throw new ZkonnxError('ONNX_MALFORMED', `${label}: external data file ${file} not found`, {
        file, hint: 'keep the .onnx.data file next to the .onnx file',
      });
    }
    const buf = readFileSync(file);
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : buf.byteLength - offset;
    if (offset + length > buf.byteLength) {
      throw new ZkonnxError('ONNX_MALFORMED', `${label}: external data [${offset}, ${offset + length}) lies past the end of ${basename(file)} (${buf.byteLength} bytes)`);
    }
    return { dims, data: rawToFloat64(buf.subarray(offset, offset + length), dataType, n, label), dtype: dataType };
  }
  if (t.raw_data && t.raw_data.length > 0) {
    return { dims, data: rawToFloat64(t.raw_data, dataType, n, label), dtype: dataType };
  }
  let src: ArrayLike<number | Long> | undefined;
  if (t.float_data?.length) src = t.float_data;
  else if (t.double_data?.length) src = t.double_data;
  else if (t.int64_data?.length) src = t.int64_data;
  else if (t.uint64_data?.length) src = t.uint64_data;
  else if (t.int32_data?.length) {
    src = t.int32_data;
    if (dataType === DataType.FLOAT16) src = Array.from(t.int32_data as number[], half2float);
    // int4/uint4 in int32_data: each entry one byte of two packed values
    if (dataType === DataType.INT4 || dataType === DataType.UINT4) {
      const packed = t.int32_data as number[];
      if (packed.length !== Math.ceil(n / 2)) throw new ZkonnxError('ONNX_MALFORMED', `${label}: holds ${packed.length} packed bytes, its dims [${dims}] need ${Math.ceil(n / 2)}`);
      return { dims, data: nibbles(Array.from(packed, (v) => num(v) & 255), n, dataType === DataType.INT4), dtype: dataType };
    }
  }
  const data = new Float64Array(n);
  if (src) {
    if (src.length !== n) throw new ZkonnxError('ONNX_MALFORMED', `${label}: holds ${src.length} values, its dims [${dims}] need ${n}`);
    for (let i = 0; i < n; i++) data[i] = num(src[i] as Long);
  } else if (n > 0) {
    throw new ZkonnxError('ONNX_MALFORMED', `${label}: no data`);
  }
  return { dims, data, dtype: dataType };
}

function decodeAttr(a: Pb, modelDir: string, where: string): AttrValue {
  const type: number = a.type ?? 0;
  switch (type) {
    case AttrType.FLOAT: return a.f ?? 0;
    case AttrType.INT: return num(a.i);
    case AttrType.STRING: return text(a.s ?? new Uint8Array());
    case AttrType.TENSOR: return decodeTensor(a.t, modelDir, where);
    case AttrType.FLOATS: return [...(a.floats ?? [])];
    case AttrType.INTS: return (a.ints ?? []).map(num);
    case AttrType.STRINGS: return (a.strings ?? []).map(text);
    case AttrType.GRAPH: return decodeSubgraph(a.g, modelDir, `${where}: attribute '${a.name}'`);
    case AttrType.GRAPHS:
      throw new ZkonnxError('ONNX_UNSUPPORTED_OP', `${where}: control flow (subgraphs in attribute '${a.name}') is not supported`, {
        hint: 'Loop and Scan are not proven; export the model with the loop unrolled',
      });
    default:
      // IR < 2 files carry no type: infer from whichever field is present.
      if (a.t) return decodeTensor(a.t, modelDir, where);
      if (a.ints?.length) return a.ints.map(num);
      if (a.floats?.length) return [...a.floats];
      if (a.s?.length) return text(a.s);
      if (a.i !== undefined && a.i !== null && num(a.i) !== 0) return num(a.i);
      if (a.f) return a.f;
      throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${where}: attribute '${a.name}' has type ${type}, which zkonnx does not read`, {
        hint: 'graph, sparse tensor and type attributes (control flow) are not supported',
      });
  }
}

/** An If branch or a Scan body: its nodes (subgraphs of their own decoded the same way), initializers, inputs and outputs. */
function decodeSubgraph(g: Pb, modelDir: string, where: string): SubGraph {
  if (!g) throw new ZkonnxError('ONNX_MALFORMED', `${where}: the graph attribute is empty`);
  const constants = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) constants.set(t.name, decodeTensor(t, modelDir, `${where}: initializer`));
  const names = (vs: Pb[] | undefined) => (vs ?? []).map((v: Pb) => v.name as string);
  return { subgraph: true, nodes: decodeNodes(g.node ?? [], modelDir, where), constants, inputs: names(g.input), outputs: names(g.output) };
}

function decodeNodes(nodes: Pb[], modelDir: string, source: string): Node[] {
  return nodes.map((n: Pb, i: number) => {
    const name = n.name || `${n.op_type}_${i}`;
    const where = `${source}: node ${name} (${n.op_type})`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) attrs[a.name] = decodeAttr(a, modelDir, where);
    return { name, op: n.op_type ?? '', domain: n.domain ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
}

/** Options of reading a model. */
export interface ReadOptions {
  /** Values of symbolic dimensions by name (`dim_param`), e.g. { seq_len: 16 }; a circuit has static shapes. */
  dims?: Record<string, number>;
  /**
   * Graph inputs fixed at compile time by name (flat values), e.g. { sr: [16000] }: constants of
   * the circuit, so control flow on them folds (an If on the sample rate takes one branch).
   */
  fixed?: Record<string, number[]>;
  /** Tokens per string of a text input (the Tokenizer's output, src/onnx/text.ts); 64 by default. */
  maxTokens?: number;
}

/** Reads the declared shape: named symbolic dims from `dims`, else a symbolic leading dim (batch) becomes 1. */
function decodeShape(v: Pb, file: string, role: string, fixed: Record<string, number>, batchNames: Set<string>): number[] {
  const dims: Pb[] = v.type?.tensor_type?.shape?.dim ?? [];
  return dims.map((d: Pb, i: number) => {
    const value = num(d.dim_value);
    if (d.dim_value !== undefined && d.dim_value !== null && value > 0) return value;
    const param: string | undefined = d.dim_param || undefined;
    if (param !== undefined && fixed[param] !== undefined) return fixed[param]!;
    if (i === 0 || (param !== undefined && batchNames.has(param))) return 1; // batch: a proof is about one sample
    throw new ZkonnxError('ONNX_SHAPE', `${role} '${v.name}' has a symbolic dimension ${i} ('${param ?? '?'}') that is not the batch dimension${param ? `: give its size with --dim ${param}=N` : ''}`, {
      file, hint: param ? 'a circuit has static shapes: each proof is about inputs of the sizes fixed at compile time' : 'export the model with static shapes except the batch dimension',
    });
  });
}

/** Checks --dim values: names of symbolic dimensions, each a positive integer. */
function checkDims(dims: Record<string, number>, source: string): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1 || v > 1 << 24) {
      throw new ZkonnxError('BAD_ARGUMENT', `symbolic dimension '${k}' must be a positive integer, got ${v}`, { file: source });
    }
  }
}

export function decodeOnnx(bytes: Uint8Array, source = '<memory>', opts: ReadOptions = {}): Graph {
  const fixed = opts.dims ?? {};
  checkDims(fixed, source);
  let model: Pb;
  try {
    model = ModelProto.decode(bytes);
  } catch (e) {
    throw new ZkonnxError('ONNX_MALFORMED', `${source} is not a valid ONNX protobuf: ${(e as Error).message}`, { file: source, cause: e });
  }
  const g = model.graph;
  if (!g || !g.node) {
    throw new ZkonnxError('ONNX_MALFORMED', `${source} holds no graph`, { file: source, hint: 'is this an ONNX model file?' });
  }
  const modelDir = source === '<memory>' ? '.' : dirname(source);
  const opsetEntry = (model.opset_import ?? []).find((o: Pb) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? num(opsetEntry.version) : 1;

  const constants = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) constants.set(t.name, decodeTensor(t, modelDir, `${source}: initializer`));

  const shapes = new Map<string, number[]>();
  const inputs: ValueInfo[] = [];
  const params = dimParams(g.input ?? [], constants);
  // a name that is some input's leading dim is the batch wherever it occurs (a KV cache's [2, batch, …])
  const batchNames = new Set(params.filter((p) => p.axis === 0).map((p) => p.name));
  const fixedInputs: FixedInput[] = [];
  const given = opts.fixed ?? {};
  for (const v of g.input ?? []) {
    if (constants.has(v.name)) continue; // older exporters list initializers again as inputs
    const shape = decodeShape(v, source, 'input', fixed, batchNames);
    const dtype = num(v.type?.tensor_type?.elem_type);
    const info: ValueInfo = dtype ? { name: v.name, shape, dtype } : { name: v.name, shape };
    shapes.set(v.name, shape);
    const value = given[v.name];
    if (value === undefined) { inputs.push(info); continue; }
    if (dtype === DataType.STRING) throw new ZkonnxError('BAD_ARGUMENT', `${source}: input '${v.name}' holds strings and cannot be fixed (--fix-input takes numbers)`, { file: source });
    const size = shape.reduce((a, b) => a * b, 1);
    if (value.length !== size || value.some((x) => !Number.isFinite(x))) {
      throw new ZkonnxError('BAD_ARGUMENT', `${source}: input '${v.name}' of shape [${shape}] needs ${size} finite value(s) to be fixed, got ${value.length}`, { file: source });
    }
    const data = Float64Array.from(value);
    fixedInputs.push({ ...info, data });
    constants.set(v.name, { dims: shape, data });
  }
  for (const k of Object.keys(given)) {
    if (!fixedInputs.some((f) => f.name === k)) throw new ZkonnxError('BAD_ARGUMENT', `${source}: --fix-input names '${k}', which is not an input of the model`, { file: source });
  }
  const names = new Set(params.map((p) => p.name));
  for (const k of Object.keys(fixed)) {
    if (!names.has(k)) {
      throw new ZkonnxError('BAD_ARGUMENT', `${source}: no input has a symbolic dimension named '${k}' (${names.size ? `its symbolic dimensions: ${[...names].join(', ')}` : 'its inputs have static shapes'})`, { file: source });
    }
  }
  for (const [name, t] of constants) shapes.set(name, t.dims);
  const outputs: ValueInfo[] = (g.output ?? []).map((v: Pb) => ({ name: v.name, shape: [] }));

  const nodes = decodeNodes(g.node as Pb[], modelDir, source);
  if (inputs.length === 0) throw new ZkonnxError('ONNX_MALFORMED', `${source}: the graph has no inputs besides initializers`, { file: source });
  if (outputs.length === 0) throw new ZkonnxError('ONNX_MALFORMED', `${source}: the graph has no outputs`, { file: source });
  const graph: Graph = { name: g.name || basename(source, '.onnx'), source, opset, inputs, outputs, constants, nodes, shapes, ...(fixedInputs.length ? { fixed: fixedInputs } : {}) };
  // a text input's StringNormalizer and Tokenizer run outside the circuit (text.ts)
  return cutTextFront(graph, opts.maxTokens);
}

export function readOnnx(path: string, opts: ReadOptions = {}): Graph {
  if (!existsSync(path)) throw new ZkonnxError('ARTIFACT_MISSING', `model file ${path} not found`, { file: path });
  if (statSync(path).isDirectory()) throw new ZkonnxError('BAD_ARGUMENT', `${path} is a folder: pass the .onnx file`, { file: path });
  return decodeOnnx(readFileSync(path), path, opts);
}

/** The external data files the model's initializers name (ONNX external data), relative to it. */
export function externalDataFiles(path: string): string[] {
  let model: Pb;
  try {
    model = ModelProto.decode(readFileSync(path));
  } catch {
    return [];
  }
  const files = new Set<string>();
  for (const t of (model.graph?.initializer ?? []) as Pb[]) {
    if (t.data_location !== 1) continue;
    const loc = ((t.external_data ?? []) as Pb[]).find((e) => e.key === 'location')?.value;
    if (typeof loc === 'string' && loc) files.add(loc);
  }
  return [...files];
}

/** Every symbolic dimension of the graph inputs that are not initializers: name, input, axis. */
function dimParams(inputs: Pb[], initializers: { has(name: string): boolean }): { name: string; input: string; axis: number }[] {
  return inputs.filter((v) => !initializers.has(v.name)).flatMap((v) => ((v.type?.tensor_type?.shape?.dim ?? []) as Pb[]).flatMap((d, axis) =>
    (d.dim_param && !(num(d.dim_value) > 0) ? [{ name: d.dim_param as string, input: v.name as string, axis }] : [])));
}

/** The named symbolic dimensions of the model's inputs: name → where it first occurs (input, axis). */
export function symbolicDims(path: string): Map<string, { input: string; axis: number }> {
  const model: Pb = ModelProto.decode(readFileSync(path));
  const inits = new Set(((model.graph?.initializer ?? []) as Pb[]).map((t) => t.name as string));
  const out = new Map<string, { input: string; axis: number }>();
  for (const p of dimParams(model.graph?.input ?? [], inits)) if (!out.has(p.name)) out.set(p.name, { input: p.input, axis: p.axis });
  return out;
}
