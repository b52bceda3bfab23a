// The ONNX writer is checked against the two readers that matter: onnxruntime-web (does it
// load and compute what we meant?) and our own schema (does every field decode back?).
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { attr, buildModel, type ModelSpec } from '../src/onnx/write.js';
import { AttrType, DataType, ModelProto } from '../src/onnx/schema.js';
import { ZkonnxError } from '../src/errors.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  // One test lists initializers among inputs on purpose; ORT warns about that on stderr.
  ort.env.logLevel = 'error';
});

async function run(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, t.dims);
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

/** Decodes with our schema; int64 as numbers, bytes left as Uint8Array. */
function decode(bytes: Uint8Array): any {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false });
}

/** Small deterministic values, so a failure reproduces. */
function seq(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > tol) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

describe('buildModel runs under onnxruntime-web', () => {
  it('Gemm(transB=1) + Relu matches a hand computation', async () => {
    // W is [out=4, in=3]; values chosen so that Relu clips some outputs and not others.
    const bytes = buildModel({
      graphName: 'gemm_relu',
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [2, 4] }],
      initializers: [
        { name: 'W', dims: [4, 3], data: Float32Array.from([1, 0, -1, 2, 1, 0, 0, -1, 1, 1, 1, 1]) },
        { name: 'b', dims: [4], data: Float32Array.from([0.5, -1, 0, -7]) },
      ],
      nodes: [
        { name: '/fc/Gemm', op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['h'], attrs: { transB: 1, alpha: attr.float(1), beta: attr.float(1) } },
        { name: '/relu/Relu', op: 'Relu', inputs: ['h'], outputs: ['y'] },
      ],
    });
    const out = await run(bytes, { x: { data: Float32Array.from([1, 2, 3, -1, 0, 2]), dims: [2, 3] } });
    // row 0: x·W^T + b = [-1.5, 3, 1, -1]; row 1: [-2.5, -3, 2, -6]; then Relu.
    expect(out['y']!.dims).toEqual([2, 4]);
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([0, 3, 1, 0, 0, 0, 2, 0]);
  });

  it('Gemm(transB=0) honours alpha and beta', async () => {
    const [n, k, m] = [3, 5, 2];
    const x = seq(n * k, 1);
    const w = seq(k * m, 2); // [in, out]
    const b = seq(m, 3);
    const bytes = buildModel({
      graphName: 'gemm_ab',
      inputs: [{ name: 'x', shape: [n, k] }],
      outputs: [{ name: 'y', shape: [n, m] }],
      initializers: [{ name: 'W', dims: [k, m], data: w }, { name: 'b', dims: [m], data: b }],
      nodes: [{ name: 'g', op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attrs: { alpha: 0.5, beta: 2.5 } }],
    });
    const expected: number[] = [];
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < m; c++) {
        let acc = 0;
        for (let i = 0; i < k; i++) acc += x[r * k + i]! * w[i * m + c]!;
        expected.push(0.5 * acc + 2.5 * b[c]!);
      }
    }
    const out = await run(bytes, { x: { data: x, dims: [n, k] } });
    expectClose(out['y']!.data as Float32Array, expected);
  });

  it('MatMul + Add with a symbolic batch dim', async () => {
    const [k, m] = [4, 3];
    const w = seq(k * m, 7);
    const b = seq(m, 8);
    const bytes = buildModel({
      graphName: 'matmul_add',
      inputs: [{ name: 'x', shape: ['batch', k] }],
      outputs: [{ name: 'y', shape: ['batch', m] }],
      initializers: [{ name: 'W', dims: [k, m], data: w }, { name: 'b', dims: [m], data: b }],
      nodes: [
        { name: '/mm/MatMul', op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
        { name: '/add/Add', op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
      ],
    });
    for (const n of [1, 5]) {
      const x = seq(n * k, 100 + n);
      const expected: number[] = [];
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < m; c++) {
          let acc = b[c]!;
          for (let i = 0; i < k; i++) acc += x[r * k + i]! * w[i * m + c]!;
          expected.push(acc);
        }
      }
      const out = await run(bytes, { x: { data: x, dims: [n, k] } });
      expect(out['y']!.dims).toEqual([n, m]);
      expectClose(out['y']!.data as Float32Array, expected);
    }
  });

  it('Flatten + Reshape (int64 shape initializer) keep row-major order for any batch', async () => {
    const spec: ModelSpec = {
      graphName: 'flatten_reshape',
      inputs: [{ name: 'x', shape: ['N', 2, 3, 2] }],
      outputs: [{ name: 'y', shape: ['N', 3, 4] }],
      initializers: [{ name: 'shape', dims: [3], data: BigInt64Array.from([-1n, 3n, 4n]) }],
      nodes: [
        { name: '/flat/Flatten', op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: 1 } },
        { name: '/reshape/Reshape', op: 'Reshape', inputs: ['f', 'shape'], outputs: ['y'] },
      ],
    };
    const bytes = buildModel(spec);
    const decoded = decode(bytes);
    expect(decoded.graph.input[0].type.tensor_type.shape.dim).toEqual([
      { dim_param: 'N' }, { dim_value: 2 }, { dim_value: 3 }, { dim_value: 2 },
    ]);
    expect(decoded.graph.initializer[0].data_type).toBe(DataType.INT64);
    for (const n of [1, 3]) {
      const x = Float32Array.from({ length: n * 12 }, (_, i) => i);
      const out = await run(bytes, { x: { data: x, dims: [n, 2, 3, 2] } });
      expect(out['y']!.dims).toEqual([n, 3, 4]);
      expect(Array.from(out['y']!.data as Float32Array)).toEqual(Array.from(x));
    }
  });

  it('a Constant node with a TENSOR attribute, and initializers listed as inputs (old exporters)', async () => {
    const bytes = buildModel({
      graphName: 'constant_add',
      inputs: [{ name: 'x', shape: [1, 3] }],
      outputs: [{ name: 'y', shape: [1, 3] }],
      initializers: [{ name: 'scale', dims: [3], data: Float32Array.from([2, 2, 2]) }],
      initializersAsInputs: true,
      nodes: [
        { name: 'c', op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { dims: [1, 3], data: Float32Array.from([10, 20, 30]) } } },
        { name: 'mul', op: 'Mul', inputs: ['x', 'scale'], outputs: ['xs'] },
        { name: 'add', op: 'Add', inputs: ['xs', 'k'], outputs: ['y'] },
      ],
    });
    expect(decode(bytes).graph.input.map((v: { name: string }) => v.name)).toEqual(['x', 'scale']);
    const out = await run(bytes, { x: { data: Float32Array.from([1, -2, 0.25]), dims: [1, 3] } });
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([12, 16, 30.5]);
  });
});

describe('buildModel encodes the fields our decoder reads', () => {
  it('model header, float32 raw_data little-endian, value infos', () => {
    const bytes = buildModel({
      graphName: 'hdr',
      producer: 'unit-test',
      opset: 17,
      inputs: [{ name: 'x', shape: [1, 2] }],
      outputs: [{ name: 'y', shape: [1, 2], type: 'float32' }],
      initializers: [{ name: 'b', dims: [2], data: Float32Array.from([1.5, -2]) }],
      nodes: [{ name: 'add', op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
      metadata: { source: 'test' },
    });
    const m = decode(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.producer_name).toBe('unit-test');
    expect(m.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(m.metadata_props).toEqual([{ key: 'source', value: 'test' }]);
    expect(m.graph.name).toBe('hdr');
    const init = m.graph.initializer[0];
    expect(init).toMatchObject({ name: 'b', dims: [2], data_type: DataType.FLOAT });
    // 1.5f = 0x3FC00000, -2f = 0xC0000000, least significant byte first.
    expect(Array.from(init.raw_data as Uint8Array)).toEqual([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    expect(m.graph.output[0].type.tensor_type.elem_type).toBe(DataType.FLOAT);
    expect(m.graph.node[0]).toMatchObject({ name: 'add', op_type: 'Add', input: ['x', 'b'], output: ['y'] });
  });

  it('attributes of each type round-trip with the right AttributeProto type', () => {
    const bytes = buildModel({
      graphName: 'attrs',
      inputs: [{ name: 'x', shape: [1] }],
      outputs: [{ name: 'y', shape: [1] }],
      initializers: [],
      nodes: [{
        name: 'n', op: 'Everything', domain: 'test.zkonnx', inputs: ['x'], outputs: ['y'],
        attrs: {
          i: -3,
          big: 2 ** 40,
          f: 0.25,
          whole_f: attr.float(1),
          forced_i: attr.int(7),
          s: 'NOTSET',
          utf8: 'größe',
          ints: [1, -1, 0],
          floats: [0.5, 1],
          floats32: Float32Array.from([1, 2]),
          empty_ints: attr.ints([]),
          strings: ['a', 'bc'],
          t: { dims: [2, 1], data: Float32Array.from([3, 4]) },
        },
      }],
    });
    const byName: Record<string, any> = {};
    for (const a of decode(bytes).graph.node[0].attribute) byName[a.name] = a;
    const text = (b: Uint8Array) => new TextDecoder().decode(b);

    expect(byName['i']).toMatchObject({ type: AttrType.INT, i: -3 });
    expect(byName['big']).toMatchObject({ type: AttrType.INT, i: 2 ** 40 });
    expect(byName['f']).toMatchObject({ type: AttrType.FLOAT, f: 0.25 });
    expect(byName['whole_f']).toMatchObject({ type: AttrType.FLOAT, f: 1 });
    expect(byName['forced_i']).toMatchObject({ type: AttrType.INT, i: 7 });
    expect(byName['s'].type).toBe(AttrType.STRING);
    expect(text(byName['s'].s)).toBe('NOTSET');
    expect(text(byName['utf8'].s)).toBe('größe');
    expect(byName['ints']).toMatchObject({ type: AttrType.INTS, ints: [1, -1, 0] });
    expect(byName['floats']).toMatchObject({ type: AttrType.FLOATS, floats: [0.5, 1] });
    expect(byName['floats32']).toMatchObject({ type: AttrType.FLOATS, floats: [1, 2] });
    expect(byName['empty_ints'].type).toBe(AttrType.INTS);
    expect(byName['empty_ints'].ints ?? []).toEqual([]);
    expect(byName['strings'].type).toBe(AttrType.STRINGS);
    expect(byName['strings'].strings.map(text)).toEqual(['a', 'bc']);
    expect(byName['t'].type).toBe(AttrType.TENSOR);
    expect(byName['t'].t).toMatchObject({ dims: [2, 1], data_type: DataType.FLOAT });
    const raw = byName['t'].t.raw_data as Uint8Array;
    expect(Array.from(new Float32Array(Uint8Array.from(raw).buffer))).toEqual([3, 4]);
  });

  it('a float attribute is stored as float32', () => {
    const bytes = buildModel({
      graphName: 'f32', inputs: [{ name: 'x', shape: [1] }], outputs: [{ name: 'y', shape: [1] }], initializers: [],
      nodes: [{ name: 'lrelu', op: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0.1 } }],
    });
    expect(decode(bytes).graph.node[0].attribute[0].f).toBe(Math.fround(0.1));
  });
});

describe('buildModel rejects malformed specs with ZkonnxError', () => {
  const base = (): ModelSpec => ({
    graphName: 'bad',
    inputs: [{ name: 'x', shape: [1, 2] }],
    outputs: [{ name: 'y', shape: [1, 2] }],
    initializers: [{ name: 'b', dims: [2], data: Float32Array.from([1, 2]) }],
    nodes: [{ name: '/add/Add', op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
  });
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ZkonnxError);
      return { code: (e as ZkonnxError).code, message: (e as ZkonnxError).message };
    }
    throw new Error('expected a ZkonnxError');
  };

  it('an input used before it is defined, naming the node', () => {
    const spec = base();
    spec.nodes[0]!.inputs = ['x', 'missing'];
    const e = codeOf(() => buildModel(spec));
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toContain('node /add/Add (Add)');
    expect(e.message).toContain('missing');
  });

  it('initializer data that does not fill its dims', () => {
    const spec = base();
    spec.initializers[0]!.dims = [3];
    expect(codeOf(() => buildModel(spec)).message).toMatch(/dims \[3\] hold 3 values, data has 2/);
  });

  it('a graph output nobody produces, and a name defined twice', () => {
    const a = base();
    a.outputs = [{ name: 'z', shape: [1] }];
    expect(codeOf(() => buildModel(a)).message).toContain('graph output z');
    const b = base();
    b.nodes[0]!.outputs = ['b'];
    expect(codeOf(() => buildModel(b)).message).toContain('defined twice');
  });

  it('an empty list attribute, whose type cannot be guessed', () => {
    const spec = base();
    spec.nodes[0]!.attrs = { perm: [] };
    expect(codeOf(() => buildModel(spec)).code).toBe('BAD_ARGUMENT');
  });
});
