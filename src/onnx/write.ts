// A small typed ONNX writer. zkonnx builds its example models and its test fixtures with it,
// so they come from our own code and the schema in schema.ts, not from a Python converter.
import { writeFile } from 'node:fs/promises';
import { AttrType, DataType, ModelProto } from './schema.js';
import { ZkonnxError, nodeLabel } from '../errors.js';

/** Element types a graph input, output or initializer may have. */
export type ElemType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool' | 'string';

const ELEM_CODE: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int32: DataType.INT32,
  int64: DataType.INT64,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
  bool: DataType.BOOL,
  string: DataType.STRING,
};

/** Tensor data; the typed array decides the ONNX data type (Uint8Array is uint8); string[] is a string tensor. */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | string[];

export interface TensorSpec {
  dims: number[];
  data: TensorData;
  /**
   * 'bool': Uint8Array data (0/1) written as a bool tensor; 'int4' / 'uint4': Int8Array /
   * Uint8Array values in [−8, 7] / [0, 15], packed two a byte (the first in the low nibble).
   */
  type?: 'bool' | 'int4' | 'uint4';
}

export interface InitializerSpec extends TensorSpec {
  name: string;
}

export interface ValueSpec {
  name: string;
  /** A number is a fixed dim (dim_value); a string is symbolic (dim_param), e.g. 'batch_size'. */
  shape: (number | string)[];
  /** Default float32. */
  type?: ElemType;
}

/**
 * An attribute given with its ONNX type spelled out. Needed where the shorthand is ambiguous:
 * a float that happens to be whole (Gemm alpha=1.0) or an empty list.
 */
export type TypedAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] | Float32Array }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorSpec }
  | { kind: 'graph'; value: SubgraphSpec };

/** A graph attribute (If's then_branch / else_branch, Scan's body): nodes that may use the outer graph's values. */
export interface SubgraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** Formal inputs (a Scan body's states and scan slices). */
  inputs?: ValueSpec[];
  outputs: ValueSpec[];
}

/**
 * Attribute shorthand: an integer number is INT, any other number FLOAT; number[] is INTS when
 * all entries are integers, else FLOATS; Float32Array is FLOATS; string is STRING; string[] is
 * STRINGS; `{dims, data}` is TENSOR. Use `attr.float(1)` etc. to force a type.
 */
export type AttrValue = number | number[] | Float32Array | string | string[] | TensorSpec | TypedAttr;

export interface NodeSpec {
  name: string;
  op: string;
  /** '' stands for an omitted optional input, as in ONNX. */
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** Operator domain; default '' (ai.onnx). */
  domain?: string;
}

export interface ModelSpec {
  graphName: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: InitializerSpec[];
  nodes: NodeSpec[];
  /** ai.onnx opset version; default 13. */
  opset?: number;
  /** Versions of other operator domains the nodes use (default 1 for each, e.g. 'ai.onnx.ml'). */
  opsets?: Record<string, number>;
  producer?: string;
  producerVersion?: string;
  /** Lists initializers again among graph inputs, as exporters before IR 4 did. */
  initializersAsInputs?: boolean;
  /** ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

/** Explicit attribute constructors for when the shorthand would guess wrong. */
export const attr = {
  int: (value: number): TypedAttr => ({ kind: 'int', value }),
  float: (value: number): TypedAttr => ({ kind: 'float', value }),
  string: (value: string): TypedAttr => ({ kind: 'string', value }),
  ints: (value: number[]): TypedAttr => ({ kind: 'ints', value }),
  floats: (value: number[] | Float32Array): TypedAttr => ({ kind: 'floats', value }),
  strings: (value: string[]): TypedAttr => ({ kind: 'strings', value }),
  tensor: (value: TensorSpec): TypedAttr => ({ kind: 'tensor', value }),
  graph: (value: SubgraphSpec): TypedAttr => ({ kind: 'graph', value }),
};

const IR_VERSION = 8;
const DEFAULT_OPSET = 13;
const utf8 = new TextEncoder();

function bad(message: string, hint?: string): ZkonnxError {
  return new ZkonnxError('BAD_ARGUMENT', message, hint ? { hint } : {});
}

function elemTypeOf(data: Exclude<TensorData, string[]>): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int8Array) return DataType.INT8;
  return DataType.UINT8;
}

/** Little-endian bytes, written through a DataView so the host's byte order does not matter. */
function rawBytes(data: Exclude<TensorData, string[]>): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Float64Array) data.forEach((v, i) => view.setFloat64(i * 8, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
  else if (data instanceof BigInt64Array) data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  else out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}

/** 4-bit values two a byte, the first in the low nibble (ONNX's INT4/UINT4 layout). */
function packNibbles(data: Int8Array | Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 2));
  data.forEach((v, i) => { out[i >> 1]! |= (v & 15) << ((i & 1) * 4); });
  return out;
}

function checkDims(what: string, dims: number[]): number {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw bad(`${what}: dim ${d} is not a non-negative integer`);
  }
  return dims.reduce((a, b) => a * b, 1);
}

function tensorProto(name: string, t: TensorSpec): Record<string, unknown> {
  const count = checkDims(`tensor ${name || '<attr>'}`, t.dims);
  if (count !== t.data.length) {
    throw bad(
      `tensor ${name || '<attr>'}: dims [${t.dims.join(', ')}] hold ${count} values, data has ${t.data.length}`,
    );
  }
  if (Array.isArray(t.data)) return { name, dims: t.dims, data_type: DataType.STRING, string_data: t.data.map((x) => utf8.encode(x)) };
  if (t.type === 'bool' && !(t.data instanceof Uint8Array)) throw bad(`tensor ${name || '<attr>'}: a bool tensor takes Uint8Array data`);
  if (t.type === 'int4' || t.type === 'uint4') return { name, dims: t.dims, data_type: t.type === 'int4' ? DataType.INT4 : DataType.UINT4, raw_data: packNibbles(t.data as Int8Array | Uint8Array) };
  return { name, dims: t.dims, data_type: t.type === 'bool' ? DataType.BOOL : elemTypeOf(t.data), raw_data: rawBytes(t.data) };
}

function isTensorSpec(v: unknown): v is TensorSpec {
  return typeof v === 'object' && v !== null && 'dims' in v && 'data' in v;
}

function isTypedAttr(v: unknown): v is TypedAttr {
  return typeof v === 'object' && v !== null && 'kind' in v && 'value' in v;
}

/** Turns shorthand into an explicit typed attribute. */
function resolveAttr(where: string, v: AttrValue): TypedAttr {
  if (isTypedAttr(v)) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? attr.int(v) : attr.float(v);
  if (typeof v === 'string') return attr.string(v);
  if (v instanceof Float32Array) return attr.floats(v);
  if (isTensorSpec(v)) return attr.tensor(v);
  if (Array.isArray(v)) {
    if (v.length === 0) throw bad(`${where}: an empty list has no type`, 'use attr.ints([]) or attr.floats([])');
    if (v.every((x) => typeof x === 'string')) return attr.strings(v as string[]);
    if (v.every((x) => typeof x === 'number')) {
      const nums = v as number[];
      return nums.every(Number.isInteger) ? attr.ints(nums) : attr.floats(nums);
    }
  }
  throw bad(`${where}: unsupported attribute value`);
}

function attributeProto(where: string, name: string, value: AttrValue): Record<string, unknown> {
  const a = resolveAttr(`${where} attribute ${name}`, value);
  const intCheck = (x: number) => {
    if (!Number.isSafeInteger(x)) throw bad(`${where} attribute ${name}: ${x} is not an integer`);
    return x;
  };
  switch (a.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: intCheck(a.value) };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: utf8.encode(a.value) };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value.map(intCheck) };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: Array.from(a.value) };
    case 'strings':
      return { name, type: AttrType.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: tensorProto('', a.value) };
    case 'graph':
      return {
        name, type: AttrType.GRAPH,
        g: {
          name: a.value.name, node: a.value.nodes.map(nodeProto), initializer: (a.value.initializers ?? []).map((t) => tensorProto(t.name, t)),
          input: (a.value.inputs ?? []).map(valueInfo), output: a.value.outputs.map(valueInfo),
        },
      };
  }
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  const dim = v.shape.map((d) => {
    if (typeof d === 'string') return { dim_param: d };
    checkDims(`value ${v.name}`, [d]);
    return { dim_value: d };
  });
  return { name: v.name, type: { tensor_type: { elem_type: ELEM_CODE[v.type ?? 'float32'], shape: { dim } } } };
}

function elemTypeName(code: number): ElemType {
  const hit = (Object.keys(ELEM_CODE) as ElemType[]).find((k) => ELEM_CODE[k] === code);
  if (!hit) throw bad(`no value type for data type ${code}`);
  return hit;
}

/**
 * Checks what onnxruntime would reject later with a vaguer message: duplicate names,
 * nodes out of topological order, graph outputs nobody produces.
 */
function checkGraph(spec: ModelSpec): void {
  const known = new Set<string>();
  const define = (name: string, what: string) => {
    if (!name) throw bad(`${what} has an empty name`);
    if (known.has(name)) throw bad(`${what}: tensor name ${name} is defined twice`);
    known.add(name);
  };
  for (const v of spec.inputs) define(v.name, `graph input ${v.name}`);
  for (const t of spec.initializers) define(t.name, `initializer ${t.name}`);
  for (const n of spec.nodes) {
    const label = nodeLabel(n);
    for (const i of n.inputs) {
      if (i !== '' && !known.has(i)) {
        throw bad(`${label}: input ${i} is not defined before this node`, 'list nodes in topological order');
      }
    }
    for (const o of n.outputs) if (o !== '') define(o, label); // '' skips an optional output
  }
  for (const v of spec.outputs) {
    if (!known.has(v.name)) throw bad(`graph output ${v.name} is not produced by any node or initializer`);
  }
}

/** Encodes a ModelProto (IR version 8) from a typed description of the graph. */
function nodeProto(n: NodeSpec): Record<string, unknown> {
  return {
    name: n.name,
    op_type: n.op,
    domain: n.domain ?? '',
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attributeProto(nodeLabel(n), k, v)),
  };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  checkGraph(spec);
  const initializer = spec.initializers.map((t) => tensorProto(t.name, t));
  const inputs = spec.inputs.map(valueInfo);
  if (spec.initializersAsInputs) {
    for (const t of spec.initializers) {
      inputs.push(valueInfo({ name: t.name, shape: t.dims, type: Array.isArray(t.data) ? 'string' : elemTypeName(elemTypeOf(t.data)) }));
    }
  }
  const node = spec.nodes.map(nodeProto);
  const model = {
    ir_version: IR_VERSION,
    producer_name: spec.producer ?? 'zkonnx',
    producer_version: spec.producerVersion ?? '',
    opset_import: [
      { domain: '', version: spec.opset ?? DEFAULT_OPSET },
      ...[...new Set(spec.nodes.map((n) => n.domain ?? '').filter((d) => d && d !== 'ai.onnx'))].map((domain) => ({ domain, version: spec.opsets?.[domain] ?? 1 })),
    ],
    graph: {
      name: spec.graphName,
      node,
      initializer,
      input: inputs,
      output: spec.outputs.map(valueInfo),
    },
    metadata_props: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const err = ModelProto.verify(model);
  if (err) throw new ZkonnxError('ONNX_MALFORMED', `model ${spec.graphName}: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** buildModel, then writes the bytes to `path`. */
export async function writeModel(path: string, spec: ModelSpec): Promise<Uint8Array> {
  const bytes = buildModel(spec);
  await writeFile(path, bytes);
  return bytes;
}
