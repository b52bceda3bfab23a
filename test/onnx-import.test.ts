import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import { evalAffine, linearize } from '../src/ir/linearize.js';
import { decodeOnnx, readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { attr, buildModel, type ModelSpec } from '../src/onnx/write.js';
import { ModelProto } from '../src/onnx/schema.js';
import { conformanceModel, hasConformance } from './helpers/conformance.js';

ort.env.wasm.numThreads = 1;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const rand = (n: number, r = rng(n)) => Float32Array.from({ length: n }, r);

async function ortRun(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Float64Array[]> {
  const s = await ort.InferenceSession.create(bytes);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  const r = await s.run(f);
  return s.outputNames.map((n) => Float64Array.from(r[n]!.data as Float32Array));
}

function expectErr(fn: () => unknown, code: string, ...parts: string[]) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZkonnxError);
    expect((e as ZkonnxError).code).toBe(code);
    for (const p of parts) expect((e as Error).message).toContain(p);
    return;
  }
  throw new Error(`expected ${code}`);
}

const mlp = (extra: Partial<ModelSpec> = {}): ModelSpec => ({
  graphName: 'mlp',
  inputs: [{ name: 'x', shape: ['batch', 4] }],
  outputs: [{ name: 'y', shape: ['batch', 3] }],
  initializers: [
    { name: 'W', dims: [3, 4], data: rand(12) },
    { name: 'b', dims: [3], data: rand(3, rng(7)) },
  ],
  nodes: [
    { name: '/fc/Gemm', op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['h'], attrs: { transB: 1, alpha: 0.5, beta: attr.float(2) } },
    { name: '/act/Relu', op: 'Relu', inputs: ['h'], outputs: ['y'] },
  ],
  ...extra,
});

describe('ONNX decoding', () => {
  it.skipIf(!hasConformance)('reads a PyTorch export: symbolic batch fixed to 1, initializers, nodes', () => {
    const g = readOnnx(conformanceModel('1l_mlp'));
    expect(g.inputs).toEqual([{ name: 'input', shape: [1, 3], dtype: 1 }]);
    expect(g.nodes.map((n) => n.op)).toEqual(['Gemm', 'Relu']);
    expect([...g.constants.values()].map((t) => t.dims)).toEqual([[4, 3], [4]]);
    const f = inferAndFold(g);
    expect(f.outputs).toEqual([{ name: 'output', shape: [1, 4] }]);
  });

  it('drops initializers listed again as graph inputs (older exporters)', () => {
    const g = decodeOnnx(buildModel(mlp({ initializersAsInputs: true })));
    expect(g.inputs.map((i) => i.name)).toEqual(['x']);
  });

  it('decodes typed attributes', () => {
    const g = decodeOnnx(buildModel(mlp()));
    expect(g.nodes[0]!.attrs).toMatchObject({ transB: 1, beta: 2 });
    expect(g.nodes[0]!.attrs.alpha).toBeCloseTo(0.5);
  });

  it('reads weights from ONNX external data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkonnx-ext-'));
    const w = rand(12);
    writeFileSync(join(dir, 'model.onnx.data'), Buffer.concat([Buffer.alloc(16), Buffer.from(w.buffer)]));
    const spec = mlp();
    const bytes = buildModel(spec);
    // rewrite W as external: decode, patch, and re-encode with the schema
    const m = ModelProto.decode(bytes) as unknown as { graph: { initializer: Record<string, unknown>[] } };
    const W = m.graph.initializer.find((t) => t.name === 'W')!;
    W.raw_data = new Uint8Array();
    W.data_location = 1;
    W.external_data = [{ key: 'location', value: 'model.onnx.data' }, { key: 'offset', value: '16' }, { key: 'length', value: '48' }];
    writeFileSync(join(dir, 'model.onnx'), ModelProto.encode(m as never).finish());
    const g = readOnnx(join(dir, 'model.onnx'));
    expect(Array.from(g.constants.get('W')!.data)).toEqual(Array.from(w));
  });

  it('rejects a file that is not ONNX, naming the file', () => {
    expectErr(() => decodeOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x07, 1, 2, 3]), 'junk.onnx'), 'ONNX_MALFORMED', 'junk.onnx');
  });

  it('rejects an unsupported op, naming the node and the op', () => {
    const spec = mlp();
    // Unique: its output shape depends on the values, which a circuit cannot have
    spec.nodes[1] = { name: '/act/Unique', op: 'Unique', inputs: ['h'], outputs: ['y'] };
    expectErr(() => inferAndFold(decodeOnnx(buildModel(spec), 'm.onnx')), 'ONNX_UNSUPPORTED_OP', '/act/Unique', 'Unique');
  });

  it('rejects a symbolic dimension that is not the batch', () => {
    const spec = mlp({ inputs: [{ name: 'x', shape: ['batch', 'features'] }] });
    expectErr(() => decodeOnnx(buildModel(spec), 'm.onnx'), 'ONNX_SHAPE', "'x'", 'features');
  });

  it('rejects a reshape whose shape is not a constant, naming the node', () => {
    const spec: ModelSpec = {
      graphName: 'dyn', inputs: [{ name: 'x', shape: [1, 4] }, { name: 's', shape: [2], type: 'int64' }], outputs: [{ name: 'y', shape: [2, 2] }],
      initializers: [], nodes: [{ name: '/r/Reshape', op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }],
    };
    expectErr(() => inferAndFold(decodeOnnx(buildModel(spec), 'm.onnx')), 'ONNX_SHAPE', '/r/Reshape', 'not a constant');
  });
});

describe('shape inference, folding and linearization agree with onnxruntime-web', () => {
  async function check(spec: ModelSpec, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
    const bytes = buildModel(spec);
    const ag = linearize(inferAndFold(decodeOnnx(bytes)));
    const sample = ag.inputs.map((i) => Float64Array.from(feeds[i.name]!.data));
    const ours = evalAffine(ag, sample).outputs;
    const ref = await ortRun(bytes, feeds);
    ref.forEach((r, i) => {
      expect(ours[i]!.length).toBe(r.length);
      r.forEach((x, j) => expect(Math.abs(ours[i]![j]! - x)).toBeLessThan(1e-4 * Math.max(1, Math.abs(x))));
    });
    return ag;
  }

  it('Gemm with alpha, beta, transB, then Relu', async () => {
    const ag = await check(mlp(), { x: { data: rand(4, rng(3)), dims: [1, 4] } });
    expect(ag.acts).toHaveLength(1);
  });

  it('PyTorch-style dynamic reshape (Shape → Gather → Unsqueeze → Concat) folds to a constant', async () => {
    const spec: ModelSpec = {
      graphName: 'reshape', opset: 13,
      inputs: [{ name: 'x', shape: ['N', 2, 3] }], outputs: [{ name: 'y', shape: ['N', 6] }],
      initializers: [
        { name: 'zero', dims: [], data: BigInt64Array.from([0n]) },
        { name: 'axes', dims: [1], data: BigInt64Array.from([0n]) },
        { name: 'minus1', dims: [1], data: BigInt64Array.from([-1n]) },
      ],
      nodes: [
        { name: 'shape', op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { name: 'gather', op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
        { name: 'unsq', op: 'Unsqueeze', inputs: ['n', 'axes'], outputs: ['n1'] },
        { name: 'concat', op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape2'], attrs: { axis: 0 } },
        { name: '/Reshape', op: 'Reshape', inputs: ['x', 'shape2'], outputs: ['y'] },
      ],
    };
    const ag = await check(spec, { x: { data: rand(6), dims: [1, 2, 3] } });
    expect(ag.outputs[0]!.shape).toEqual([1, 6]);
    expect(ag.acts).toHaveLength(0);
  });

  it('MatMul on a 3-D signal, Add/Sub/Mul/Div by constants with broadcasting, Neg, Flatten', async () => {
    const spec: ModelSpec = {
      graphName: 'lin',
      inputs: [{ name: 'x', shape: [1, 2, 3] }], outputs: [{ name: 'y', shape: [1, 8] }],
      initializers: [
        { name: 'W', dims: [3, 4], data: rand(12) },
        { name: 'c', dims: [4], data: rand(4, rng(9)) },
        { name: 'm', dims: [2, 1], data: Float32Array.from([2, -3]) },
        { name: 'd', dims: [], data: Float32Array.from([4]) },
      ],
      nodes: [
        { name: 'mm', op: 'MatMul', inputs: ['x', 'W'], outputs: ['a'] },
        { name: 'add', op: 'Add', inputs: ['a', 'c'], outputs: ['b'] },
        { name: 'mul', op: 'Mul', inputs: ['m', 'b'], outputs: ['e'] },
        { name: 'sub', op: 'Sub', inputs: ['e', 'b'], outputs: ['f'] },
        { name: 'div', op: 'Div', inputs: ['f', 'd'], outputs: ['g'] },
        { name: 'neg', op: 'Neg', inputs: ['g'], outputs: ['h'] },
        { name: 'flat', op: 'Flatten', inputs: ['h'], outputs: ['y'], attrs: { axis: 1 } },
      ],
    };
    await check(spec, { x: { data: rand(6, rng(5)), dims: [1, 2, 3] } });
  });

  it('a constant matrix times a signal, Gemm with transA, and relu of relu', async () => {
    const spec: ModelSpec = {
      graphName: 'left',
      inputs: [{ name: 'x', shape: [3, 2] }], outputs: [{ name: 'y', shape: [4, 5] }],
      initializers: [{ name: 'A', dims: [4, 3], data: rand(12) }, { name: 'B', dims: [2, 5], data: rand(10, rng(4)) }],
      nodes: [
        { name: 'mm', op: 'MatMul', inputs: ['A', 'x'], outputs: ['a'] },
        { name: 'r1', op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { name: 'r2', op: 'Relu', inputs: ['b'], outputs: ['c'] },
        { name: 'gemm', op: 'Gemm', inputs: ['c', 'B'], outputs: ['y'], attrs: { transA: 0 } },
      ],
    };
    const ag = await check(spec, { x: { data: rand(6, rng(11)), dims: [3, 2] } });
    expect(ag.acts).toHaveLength(1); // relu(relu(x)) materializes once
  });
});

describe('symbolic dimensions (compile --dim)', () => {
  const seq: ModelSpec = {
    graphName: 'seq',
    inputs: [{ name: 'x', shape: ['batch', 'seq_len', 4] }, { name: 'past', shape: [2, 'batch', 'past_len', 4] }],
    outputs: [{ name: 'y', shape: ['batch', 'seq_len', 4] }],
    initializers: [],
    nodes: [{ name: '/Relu', op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  };
  const bytes = buildModel(seq);

  it('a non-batch symbolic dim needs a size, and the message says how to give it', () => {
    expectErr(() => decodeOnnx(bytes, 'seq.onnx'), 'ONNX_SHAPE', "'seq_len'", '--dim seq_len=N');
  });

  it('sizes given by name; a name that is some input\'s leading dim is the batch wherever it occurs', () => {
    const g = decodeOnnx(bytes, 'seq.onnx', { dims: { seq_len: 5, past_len: 2 } });
    expect(g.inputs.map((i) => i.shape)).toEqual([[1, 5, 4], [2, 1, 2, 4]]);
  });

  it('refuses a name no input has, and sizes that are not positive integers', () => {
    expectErr(() => decodeOnnx(bytes, 'seq.onnx', { dims: { seq_len: 5, past_len: 2, seqlen: 3 } }), 'BAD_ARGUMENT', "'seqlen'", 'seq_len, past_len');
    expectErr(() => decodeOnnx(bytes, 'seq.onnx', { dims: { seq_len: 0, past_len: 2 } }), 'BAD_ARGUMENT', "'seq_len'", 'positive integer');
  });
});

describe('If on a condition known at compile time (compile --fix-input)', () => {
  // y = sr == 16000 ? relu(x·W + b) (a branch with its own initializer and a nested If on a shape)
  //                : −x (a branch that reuses the name 'h' of the other branch)
  const inner = (k: number) => attr.graph({
    name: `inner${k}`, outputs: [{ name: `o${k}`, shape: [1, 4] }],
    nodes: [{ name: `/inner${k}/Relu`, op: k ? 'Relu' : 'Neg', inputs: ['h'], outputs: [`o${k}`] }],
  });
  const spec: ModelSpec = {
    graphName: 'branchy', opset: 13,
    inputs: [{ name: 'x', shape: [1, 4] }, { name: 'sr', shape: [], type: 'int64' }],
    outputs: [{ name: 'y', shape: [1, 4] }],
    initializers: [{ name: 'rate', dims: [], data: BigInt64Array.of(16000n) }, { name: 'W', dims: [4, 4], data: rand(16, rng(5)) }],
    nodes: [
      { name: '/Equal', op: 'Equal', inputs: ['sr', 'rate'], outputs: ['is16k'] },
      {
        name: '/If', op: 'If', inputs: ['is16k'], outputs: ['y'], attrs: {
          then_branch: attr.graph({
            name: 'then', outputs: [{ name: 'r', shape: [1, 4] }],
            initializers: [{ name: 'b', dims: [4], data: rand(4, rng(6)) }],
            nodes: [
              { name: '/then/MatMul', op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
              { name: '/then/Add', op: 'Add', inputs: ['m', 'b'], outputs: ['h'] },
              { name: '/then/Shape', op: 'Shape', inputs: ['h'], outputs: ['shape'] },
              { name: '/then/Size', op: 'Size', inputs: ['shape'], outputs: ['rank'] },
              { name: '/then/Two', op: 'Constant', inputs: [], outputs: ['two'], attrs: { value: { dims: [], data: BigInt64Array.of(2n) } } },
              { name: '/then/IsMatrix', op: 'Equal', inputs: ['rank', 'two'], outputs: ['c'] },
              { name: '/then/If', op: 'If', inputs: ['c'], outputs: ['r'], attrs: { then_branch: inner(1), else_branch: inner(0) } },
            ],
          }),
          else_branch: attr.graph({ name: 'else', outputs: [{ name: 'h', shape: [1, 4] }], nodes: [{ name: '/else/Neg', op: 'Neg', inputs: ['x'], outputs: ['h'] }] }),
        },
      },
    ],
  };
  const bytes = buildModel(spec);

  it('takes the branch the fixed input selects, as onnxruntime does', async () => {
    const x = rand(4, rng(9));
    const s = await ort.InferenceSession.create(bytes);
    for (const sr of [16000n, 8000n]) {
      const g = inferAndFold(decodeOnnx(bytes, 'branchy.onnx', { fixed: { sr: [Number(sr)] } }));
      expect(g.inputs.map((i) => i.name)).toEqual(['x']);
      expect(g.fixed?.map((f) => [f.name, f.data[0]])).toEqual([['sr', Number(sr)]]);
      const got = evalAffine(linearize(g), [Float64Array.from(x)]).outputs[0]!;
      const want = (await s.run({ x: new ort.Tensor('float32', x, [1, 4]), sr: new ort.Tensor('int64', BigInt64Array.of(sr), []) })).y!.data as Float32Array;
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      expect(g.nodes.some((n) => n.op === (sr === 16000n ? 'Relu' : 'Neg'))).toBe(true);
    }
  });

  it('computes both branches and selects each output where the condition depends on the proven input', async () => {
    const s = await ort.InferenceSession.create(bytes);
    const g = inferAndFold(decodeOnnx(bytes, 'branchy.onnx'));
    expect(g.inputs.map((i) => i.name)).toEqual(['x', 'sr']);
    const ag = linearize(g);
    for (const sr of [16000n, 8000n]) {
      const x = rand(4, rng(Number(sr)));
      const got = evalAffine(ag, [Float64Array.from(x), Float64Array.of(Number(sr))]).outputs[0]!;
      const want = (await s.run({ x: new ort.Tensor('float32', x, [1, 4]), sr: new ort.Tensor('int64', BigInt64Array.of(sr), []) })).y!.data as Float32Array;
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    }
    expect(g.nodes.some((n) => n.op === 'Relu') && g.nodes.some((n) => n.op === 'Neg') && g.nodes.some((n) => n.op === 'Where')).toBe(true);
  });

  it('refuses an If on a condition from the input whose branches give an output different shapes, and a fixed input the model does not have', () => {
    const uneven: ModelSpec = {
      ...spec, graphName: 'uneven',
      nodes: [spec.nodes[0]!, {
        name: '/If', op: 'If', inputs: ['is16k'], outputs: ['y'], attrs: {
          then_branch: attr.graph({ name: 'then', outputs: [{ name: 'h', shape: [1, 4] }], nodes: [{ name: '/then/Neg', op: 'Neg', inputs: ['x'], outputs: ['h'] }] }),
          else_branch: attr.graph({ name: 'else', outputs: [{ name: 'h', shape: [4] }], nodes: [{ name: '/else/Flat', op: 'Reshape', inputs: ['x', 'flat'], outputs: ['h'] }] }),
        },
      }],
      initializers: [...spec.initializers, { name: 'flat', dims: [1], data: BigInt64Array.of(4n) }],
    };
    expectErr(() => inferAndFold(decodeOnnx(buildModel(uneven), 'uneven.onnx')), 'ONNX_UNSUPPORTED_OP', 'output y has shape [1,4] in the then branch and [4] in the else branch');
    expectErr(() => decodeOnnx(bytes, 'branchy.onnx', { fixed: { rate: [1] } }), 'BAD_ARGUMENT', "--fix-input names 'rate'");
    expectErr(() => decodeOnnx(bytes, 'branchy.onnx', { fixed: { sr: [1, 2] } }), 'BAD_ARGUMENT', "input 'sr' of shape [] needs 1 finite value(s)");
  });
});
