// Quantized models in QDQ form (QuantizeLinear / DequantizeLinear around every op, as onnxruntime's
// quantize_static writes them): int8 weights with per-channel scales, int32 biases, uint8 and int8
// activations, and the QOperator form (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger).
// The float rewrite matches onnxruntime-web, the compiled circuit's outputs are within a quantum of
// onnxruntime's (its float32 requantization decides near-ties), its witness satisfies the constraints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec, satisfiedFlipped } from './helpers/compiled.js';
import { compare, expectErr, rand, rng } from './helpers/ml-models.js';

const OUT_SCALE = 0.03125;

function ints(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.round(lo + ((r() + 1) / 2) * (hi - lo)));
}

/**
 * x [1, 1, 6, 6] → Q/DQ (uint8) → Conv (int8 weights, per-channel scales, int32 bias) → Q/DQ → Relu
 * → Q/DQ → Reshape → MatMul (int8) + bias (int32) → Q/DQ (int8 output).
 */
function qdqCnn(opts: { constQuant?: boolean } = {}): ModelSpec {
  const sx = 0.015625;
  const sw = [0.0078125, 0.01, 0.0125, 0.009];
  const sConv = 0.0625;
  const sRelu = 0.03125;
  const sw2 = 0.005;
  const scalar = (name: string, v: number): InitializerSpec => ({ name, dims: [], data: Float32Array.from([v]) });
  const inits: InitializerSpec[] = [
    scalar('sx', sx), { name: 'zx', dims: [], data: Uint8Array.from([128]) },
    { name: 'sw', dims: [4], data: Float32Array.from(sw) }, { name: 'zw', dims: [4], data: Int8Array.from([0, 0, 0, 0]) },
    { name: 'sb', dims: [4], data: Float32Array.from(sw.map((s) => s * sx)) },
    { name: 'B', dims: [4], data: Int32Array.from(ints(4, 3, -400, 400)) },
    scalar('sc', sConv), { name: 'zc', dims: [], data: Uint8Array.from([100]) },
    scalar('sr', sRelu), { name: 'zr', dims: [], data: Uint8Array.from([0]) },
    scalar('sw2', sw2), { name: 'zw2', dims: [], data: Int8Array.from([0]) },
    { name: 'W2', dims: [64, 3], data: Int8Array.from(ints(64 * 3, 5, -127, 127)) },
    scalar('sb2', sw2 * sRelu), { name: 'B2', dims: [3], data: Int32Array.from(ints(3, 7, -2000, 2000)) },
    scalar('so', OUT_SCALE), { name: 'zo', dims: [], data: Int8Array.from([-3]) },
    { name: 'flat', dims: [2], data: BigInt64Array.from([1n, 64n]) },
  ];
  const nodes: NodeSpec[] = [];
  if (opts.constQuant) {
    // float weights quantized in the graph (a constant QuantizeLinear, folded at compile time)
    inits.push({ name: 'Wf', dims: [4, 1, 3, 3], data: Float32Array.from(rand(36, 9, 1.2)) });
    nodes.push({ name: '/qw', op: 'QuantizeLinear', inputs: ['Wf', 'sw', 'zw'], outputs: ['W'], attrs: { axis: 0 } });
  } else {
    inits.push({ name: 'W', dims: [4, 1, 3, 3], data: Int8Array.from(ints(36, 9, -127, 127)) });
  }
  nodes.push(
    { name: '/qx', op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
    { name: '/dqx', op: 'DequantizeLinear', inputs: ['xq', 'sx', 'zx'], outputs: ['xd'] },
    { name: '/dqw', op: 'DequantizeLinear', inputs: ['W', 'sw', 'zw'], outputs: ['wd'], attrs: { axis: 0 } },
    { name: '/dqb', op: 'DequantizeLinear', inputs: ['B', 'sb'], outputs: ['bd'], attrs: { axis: 0 } },
    { name: '/conv', op: 'Conv', inputs: ['xd', 'wd', 'bd'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
    { name: '/qc', op: 'QuantizeLinear', inputs: ['c', 'sc', 'zc'], outputs: ['cq'] },
    { name: '/dqc', op: 'DequantizeLinear', inputs: ['cq', 'sc', 'zc'], outputs: ['cd'] },
    { name: '/relu', op: 'Relu', inputs: ['cd'], outputs: ['r'] },
    { name: '/qr', op: 'QuantizeLinear', inputs: ['r', 'sr', 'zr'], outputs: ['rq'] },
    { name: '/dqr', op: 'DequantizeLinear', inputs: ['rq', 'sr', 'zr'], outputs: ['rd'] },
    { name: '/reshape', op: 'Reshape', inputs: ['rd', 'flat'], outputs: ['f'] },
    { name: '/dqw2', op: 'DequantizeLinear', inputs: ['W2', 'sw2', 'zw2'], outputs: ['w2d'] },
    { name: '/matmul', op: 'MatMul', inputs: ['f', 'w2d'], outputs: ['m'] },
    { name: '/dqb2', op: 'DequantizeLinear', inputs: ['B2', 'sb2'], outputs: ['b2d'] },
    { name: '/add', op: 'Add', inputs: ['m', 'b2d'], outputs: ['a'] },
    { name: '/qo', op: 'QuantizeLinear', inputs: ['a', 'so', 'zo'], outputs: ['oq'] },
    { name: '/dqo', op: 'DequantizeLinear', inputs: ['oq', 'so', 'zo'], outputs: ['y'] },
  );
  return { graphName: 'qdq_cnn', opset: 13, inputs: [{ name: 'x', shape: [1, 1, 6, 6] }], outputs: [{ name: 'y', shape: [1, 3] }], initializers: inits, nodes };
}

const inputs = (n: number, seed: number) => Array.from({ length: n }, (_, k) => [rand(36, seed + k, 1.9)]);

describe('QDQ models match onnxruntime-web', () => {
  it('a QDQ CNN: int8 per-channel weights, int32 biases, uint8 and int8 activations, within a quantum of the output', async () => {
    const refs = await compare(qdqCnn(), inputs(16, 10), OUT_SCALE * 1.01);
    // the outputs are the int8 grid: multiples of the output scale
    for (const r of refs) for (const v of r[0]!) expect(Math.abs(v / OUT_SCALE - Math.round(v / OUT_SCALE))).toBeLessThan(1e-4);
    // saturation is exercised: some outputs sit at the int8 ends
    expect(refs.some((r) => r[0]!.some((v) => Math.round(v / OUT_SCALE) + -3 === 127 || Math.round(v / OUT_SCALE) + -3 === -128))).toBe(true);
  });

  it('a constant QuantizeLinear (float weights quantized in the graph) folds', async () => {
    await compare(qdqCnn({ constQuant: true }), inputs(4, 30), OUT_SCALE * 1.01);
  });

  it('refuses blocked parameters of the wrong shape and a scale that depends on the input, naming the node', () => {
    const m = qdqCnn();
    const blocked = { ...m, nodes: m.nodes.map((n) => (n.name === '/dqw2' ? { ...n, attrs: { block_size: 16 } } : n)) };
    expectErr(blocked, 'node /dqw2 (DequantizeLinear): the blocked scale has shape [], block_size 16 along axis 1 of [64,3] needs [64,1]');
    const dynamic = { ...m, nodes: m.nodes.map((n) => (n.name === '/qc' ? { ...n, inputs: ['c', 'x', 'zc'] } : n)) };
    expectErr(dynamic, "node /qc (QuantizeLinear): the scale 'x' is not a constant");
  });
});

/** The same CNN in QOperator form: QLinearConv (Relu folded into its output range) and QLinearMatMul. */
function qopCnn(): ModelSpec {
  const m = qdqCnn();
  const keep = new Set(['sx', 'zx', 'sw', 'zw', 'W', 'B', 'sr', 'zr', 'sw2', 'so', 'flat']);
  // onnxruntime's QLinearMatMul is uint8 throughout here: the int8 weights shifted by 128
  const w2 = m.initializers.find((i) => i.name === 'W2')!.data as Int8Array;
  return {
    ...m, graphName: 'qop_cnn',
    initializers: [...m.initializers.filter((i) => keep.has(i.name)), { name: 'W2', dims: [64, 3], data: Uint8Array.from(w2, (v) => v + 128) }, { name: 'zw2', dims: [], data: Uint8Array.from([128]) }, { name: 'zo', dims: [], data: Uint8Array.from([125]) }],
    nodes: [
      { name: '/qx', op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
      { name: '/qconv', op: 'QLinearConv', inputs: ['xq', 'sx', 'zx', 'W', 'sw', 'zw', 'sr', 'zr', 'B'], outputs: ['rq'], attrs: { kernel_shape: [3, 3] } },
      { name: '/reshape', op: 'Reshape', inputs: ['rq', 'flat'], outputs: ['f'] },
      { name: '/qmatmul', op: 'QLinearMatMul', inputs: ['f', 'sr', 'zr', 'W2', 'sw2', 'zw2', 'so', 'zo'], outputs: ['oq'] },
      { name: '/dqo', op: 'DequantizeLinear', inputs: ['oq', 'so', 'zo'], outputs: ['y'] },
    ],
  };
}

/** ConvInteger and MatMulInteger on a quantized input: int32 products, cast and scaled. */
function integerOps(): ModelSpec {
  const m = qdqCnn();
  const keep = new Set(['sx', 'zx', 'W', 'W2', 'flat']);
  return {
    graphName: 'integer_ops', opset: 13, inputs: m.inputs, outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [...m.initializers.filter((i) => keep.has(i.name)), { name: 'zw', dims: [], data: Int8Array.from([-2]) }, { name: 'zw2', dims: [3], data: Int8Array.from([0, 2, -1]) }, { name: 'k', dims: [], data: Float32Array.from([2 ** -14]) }, { name: 'k2', dims: [], data: Float32Array.from([300]) }],
    nodes: [
      { name: '/qx', op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
      { name: '/conv', op: 'ConvInteger', inputs: ['xq', 'W', 'zx', 'zw'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
      { name: '/reshape', op: 'Reshape', inputs: ['c', 'flat'], outputs: ['f'] },
      { name: '/cast', op: 'Cast', inputs: ['f'], outputs: ['ff'], attrs: { to: 1 } },
      { name: '/q2', op: 'QuantizeLinear', inputs: ['ff', 'k2'], outputs: ['fq'] },
      { name: '/matmul', op: 'MatMulInteger', inputs: ['fq', 'W2', '', 'zw2'], outputs: ['mi'] },
      { name: '/castout', op: 'Cast', inputs: ['mi'], outputs: ['mf'], attrs: { to: 1 } },
      { name: '/scale', op: 'Mul', inputs: ['mf', 'k'], outputs: ['y'] },
    ],
  };
}

describe('QOperator models match onnxruntime-web', () => {
  it('QLinearConv (per-channel int8 weights, int32 bias) and QLinearMatMul', async () => {
    await compare(qopCnn(), inputs(12, 70), OUT_SCALE * 1.01);
  });

  it('ConvInteger and MatMulInteger (zero points per tensor and per column)', async () => {
    await compare(integerOps(), inputs(8, 90), 1e-6);
  });
});

describe('a QDQ model in a circuit', () => {
  it('compiles (circom builds the same system) to within a quantum of onnxruntime-web\'s outputs; the witness satisfies the constraints, a changed quantized value does not', async () => {
    const samples = inputs(24, 50).map((s) => ({ input_data: s }));
    const c = await compileSpec(qdqCnn(), mkdtempSync(join(tmpdir(), 'zkonnx-qdq-')), samples, true);
    // the circuit's integers are the int8 model's: every output equals onnxruntime's, or sits one
    // quantum off where onnxruntime's float32 requantization lands next to a .5 boundary
    expect(c.settings.accuracy.maxAbsError).toBeLessThanOrEqual(OUT_SCALE);
    const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, samples[0]!.input_data) }, c.paths.file('r1cs'));
    expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
    // a quantized activation (the conv's rounding) changed: the constraints fail
    expect(await satisfiedFlipped(c, w, '/qc/Round')).toBe(false);
  }, 120_000);

  it('the QOperator form compiles to within a quantum of onnxruntime-web\'s outputs', async () => {
    const c = await compileSpec(qopCnn(), mkdtempSync(join(tmpdir(), 'zkonnx-qop-')), inputs(16, 110).map((s) => ({ input_data: s })));
    expect(c.settings.accuracy.maxAbsError).toBeLessThanOrEqual(OUT_SCALE);
  }, 120_000);
});

/**
 * x [1, 2, 4, 4] (float) → QuantizeLinear → `op` (com.microsoft) → DequantizeLinear → y: one
 * QOperator op between the model's float ends.
 */
function msOp(op: string, inputs: (q: string) => string[], attrs: Record<string, unknown>, outShape: number[], extra: InitializerSpec[] = [], domain = 'com.microsoft', sy = MS_SY): ModelSpec {
  const scalar = (name: string, v: number): InitializerSpec => ({ name, dims: [], data: Float32Array.from([v]) });
  // dyadic scales: x / scale is exact in float32 too, so ties round alike (half to even) on both sides
  return {
    graphName: `ms_${op}`, opset: 13, opsets: { 'com.microsoft': 1 }, inputs: [{ name: 'x', shape: [1, 2, 4, 4] }], outputs: [{ name: 'y', shape: outShape }],
    initializers: [scalar('sx', 2 ** -6), { name: 'zx', dims: [], data: Uint8Array.from([120]) }, scalar('sy', sy), { name: 'zy', dims: [], data: Uint8Array.from([sy < MS_SY ? 0 : 100]) }, ...extra],
    nodes: [
      { name: '/q', op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['q'] },
      { name: `/${op}`, op, domain, inputs: inputs('q'), outputs: ['o'], attrs: attrs as NodeSpec['attrs'] },
      { name: '/dq', op: 'DequantizeLinear', inputs: ['o', 'sy', 'zy'], outputs: ['y'] },
    ],
  };
}

const MS_SY = 2 ** -5;
const unary = (q: string) => [q, 'sx', 'zx', 'sy', 'zy'];
const MS_OPS: [string, ModelSpec][] = [
  ['QLinearAdd', msOp('QLinearAdd', (q) => [q, 'sx', 'zx', q, 'sx', 'zx', 'sy', 'zy'], {}, [1, 2, 4, 4])],
  ['QLinearMul', msOp('QLinearMul', (q) => [q, 'sx', 'zx', q, 'sx', 'zx', 'sy', 'zy'], {}, [1, 2, 4, 4])],
  ['QLinearSigmoid', msOp('QLinearSigmoid', unary, {}, [1, 2, 4, 4])],
  ['QLinearLeakyRelu', msOp('QLinearLeakyRelu', unary, { alpha: 0.1 }, [1, 2, 4, 4])],
  ['QLinearAveragePool', msOp('QLinearAveragePool', unary, { kernel_shape: [2, 2], strides: [2, 2] }, [1, 2, 2, 2])],
  ['QLinearAveragePool (channels_last)', msOp('QLinearAveragePool', unary, { kernel_shape: [2, 2], channels_last: 1 }, [1, 1, 3, 4])],
  ['QLinearGlobalAveragePool', msOp('QLinearGlobalAveragePool', unary, {}, [1, 2, 1, 1])],
  ['QLinearSoftmax (axis 2)', msOp('QLinearSoftmax', unary, { axis: 2, opset: 13 }, [1, 2, 4, 4])],
  ['QLinearSoftmax (opset 11 rows from axis 1)', msOp('QLinearSoftmax', unary, { axis: 1, opset: 11 }, [1, 2, 4, 4])],
  ['QLinearConcat', msOp('QLinearConcat', (q) => ['sy', 'zy', q, 'sx', 'zx', q, 'sx', 'zx'], { axis: 1 }, [1, 4, 4, 4])],
  ['QLinearWhere', msOp('QLinearWhere', (q) => ['mask', q, 'sx', 'zx', q, 'sx', 'zx', 'sy', 'zy'], {}, [1, 2, 4, 4], [{ name: 'mask', dims: [1, 1, 4, 4], data: Uint8Array.from({ length: 16 }, (_, i) => i % 3 ? 1 : 0), type: 'bool' }])],
  ['com.microsoft DequantizeLinear', msOp('DequantizeLinear', (q) => [q, 'sx', 'zx'], {}, [1, 2, 4, 4]).nodes.length ? { ...msOp('Identity', (q) => [q], {}, [1, 2, 4, 4], [], ''), graphName: 'ms_dq', nodes: [
    { name: '/q', op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['q'], domain: 'com.microsoft' },
    { name: '/dq', op: 'DequantizeLinear', inputs: ['q', 'sx', 'zx'], outputs: ['y'], domain: 'com.microsoft' },
  ] } : msOp('', unary, {}, [])],
];

/** x → Q → QGemm (A [2, 16] uint8, B int8 per column, int32 C, alpha) → y float, or quantized then DQ. */
function qgemm(quantOut: boolean, transB: 0 | 1): ModelSpec {
  const b = Int8Array.from(ints(16 * 3, 21, -127, 127));
  const m = msOp('QGemm', (q) => [q, 'sx', 'zx', 'B', 'sb', 'zb', 'C', ...(quantOut ? ['sy', 'zy'] : [])], { alpha: { kind: 'float', value: 0.5 }, transB }, [2, 3], [
    { name: 'B', dims: transB ? [3, 16] : [16, 3], data: b }, { name: 'sb', dims: [3], data: Float32Array.from([2 ** -5, 2 ** -4, 2 ** -6]) }, { name: 'zb', dims: [3], data: Int8Array.from([0, 0, 0]) },
    { name: 'C', dims: [3], data: Int32Array.from(ints(3, 22, -3000, 3000)) }, { name: 'flat', dims: [2], data: BigInt64Array.from([2n, 16n]) },
  ]);
  const [q, g, d] = m.nodes as [NodeSpec, NodeSpec, NodeSpec];
  const nodes = [q, { name: '/flat', op: 'Reshape', inputs: ['q', 'flat'], outputs: ['qf'] }, { ...g, inputs: ['qf', ...g.inputs.slice(1)], outputs: [quantOut ? 'o' : 'y'] }, ...(quantOut ? [d] : [])];
  return { ...m, graphName: `qgemm_${quantOut ? 'q' : 'f'}_${transB}`, nodes };
}

describe('the QOperator form\'s com.microsoft ops match onnxruntime-web', () => {
  const xs = (n: number, seed: number) => Array.from({ length: n }, (_, k) => [rand(32, seed + k, 2.4)]);
  for (const [name, m] of MS_OPS) {
    it(name, async () => { await compare(m, xs(6, 200), MS_SY * 1.01); });
  }
  it('QGemm: float and quantized outputs, B per column, transposed or not; alpha scales the bias too', async () => {
    for (const t of [0, 1] as const) {
      await compare(qgemm(false, t), xs(6, 230), 1e-4);
      await compare(qgemm(true, t), xs(6, 240), MS_SY * 1.01);
    }
  });

  it('QGemm and QLinearSoftmax compile within a quantum of onnxruntime-web', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkonnx-qms-'));
    const c = await compileSpec(qgemm(true, 1), dir, xs(12, 250).map((s) => ({ input_data: s })));
    expect(c.settings.accuracy.maxAbsError).toBeLessThanOrEqual(MS_SY);
    // probabilities at 2^-8 (a quantum under the tolerance of 0.01: the exp polynomial may round a value the other way)
    const soft = msOp('QLinearSoftmax', unary, { axis: 1, opset: 11 }, [1, 2, 4, 4], [], 'com.microsoft', 2 ** -8);
    const p = await compileSpec(soft, dir, xs(12, 260).map((s) => ({ input_data: s })));
    expect(p.settings.accuracy.maxAbsError).toBeLessThanOrEqual(2 ** -8);
  }, 120_000);
});
