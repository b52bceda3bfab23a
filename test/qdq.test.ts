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
