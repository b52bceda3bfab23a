// Quantized models in QDQ form (QuantizeLinear / DequantizeLinear around every op, as onnxruntime's
// quantize_static writes them): int8 weights with per-channel scales, int32 biases, uint8 and int8
// activations. The float rewrite matches onnxruntime-web to within a quantum of the output, the
// compiled circuit's outputs equal onnxruntime's, and its witness satisfies the constraints.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { buildModel, type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { quantizeInputs } from '../src/qexec/exec.js';
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

  it('refuses blocked quantization and a scale that depends on the input, naming the node', () => {
    const m = qdqCnn();
    const blocked = { ...m, nodes: m.nodes.map((n) => (n.name === '/dqw2' ? { ...n, attrs: { block_size: 16 } } : n)) };
    expectErr(blocked, 'node /dqw2 (DequantizeLinear): blocked quantization (block_size) is not supported');
    const dynamic = { ...m, nodes: m.nodes.map((n) => (n.name === '/qc' ? { ...n, inputs: ['c', 'x', 'zc'] } : n)) };
    expectErr(dynamic, "node /qc (QuantizeLinear): the scale 'x' is not a constant");
  });
});

describe('a QDQ model in a circuit', () => {
  it('compiles to onnxruntime-web\'s outputs exactly on 24 inputs; the witness satisfies the constraints', async () => {
    const work = mkdtempSync(join(tmpdir(), 'zkonnx-qdq-'));
    const file = join(work, 'qdq.onnx');
    writeFileSync(file, buildModel(qdqCnn()));
    const samples = inputs(24, 50).map((s) => ({ input_data: s }));
    const build = join(work, 'build');
    const { settings } = await compile({ model: file, outDir: build, calibration: samples });
    // the circuit's integers are the int8 model's: every dequantized output equals onnxruntime's
    expect(settings.accuracy.maxAbsError).toBe(0);
    const paths = new BuildPaths(build);
    const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    const r1cs = await readR1cs(paths.file('r1cs'));
    const w = await circuitWitness(qg, settings.visibility, {}, { qin: quantizeInputs(qg, samples[0]!.input_data) }, paths.file('r1cs'));
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
  }, 120_000);
});
