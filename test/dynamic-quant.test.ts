// Dynamic quantization as onnxruntime's quantize_dynamic writes it (DynamicQuantizeLinear, then
// MatMulInteger / ConvInteger with the computed zero point, Cast, and the product of the two
// scales), and onnxruntime's fused forms (com.microsoft MatMulIntegerToFloat and
// DynamicQuantizeMatMul): the float rewrite matches onnxruntime-web, the compiled circuit stays
// within its tolerance of onnxruntime's outputs, and its witness satisfies the constraints where a
// changed quantized activation does not.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec } from './helpers/compiled.js';
import { compare, rand, rng } from './helpers/ml-models.js';

const MS = 'com.microsoft';

function int8s(n: number, seed: number): Int8Array {
  const r = rng(seed);
  return Int8Array.from({ length: n }, () => Math.round(r() * 127));
}

/** Y = Cast(MatMulInteger(q, W, zq, Wz)) · (s · Ws) + b: what quantize_dynamic writes for a MatMul. */
function dynamicMatMul(p: string, x: string, W: InitializerSpec, ws: number[], wz: number[] | undefined, b: number[], out: string): { nodes: NodeSpec[]; inits: InitializerSpec[] } {
  const n = W.dims[1]!;
  const inits: InitializerSpec[] = [W, { name: `${p}_ws`, dims: ws.length > 1 ? [n] : [], data: Float32Array.from(ws) }, { name: `${p}_b`, dims: [n], data: Float32Array.from(b) }];
  if (wz) inits.push({ name: `${p}_wz`, dims: wz.length > 1 ? [n] : [], data: Int8Array.from(wz) });
  return {
    inits,
    nodes: [
      { name: `/${p}/dql`, op: 'DynamicQuantizeLinear', inputs: [x], outputs: [`${p}_q`, `${p}_s`, `${p}_z`] },
      { name: `/${p}/mmi`, op: 'MatMulInteger', inputs: [`${p}_q`, W.name, `${p}_z`, ...(wz ? [`${p}_wz`] : [])], outputs: [`${p}_i`] },
      { name: `/${p}/cast`, op: 'Cast', inputs: [`${p}_i`], outputs: [`${p}_f`], attrs: { to: 1 } },
      { name: `/${p}/scales`, op: 'Mul', inputs: [`${p}_s`, `${p}_ws`], outputs: [`${p}_sw`] },
      { name: `/${p}/scale`, op: 'Mul', inputs: [`${p}_f`, `${p}_sw`], outputs: [`${p}_y`] },
      { name: `/${p}/bias`, op: 'Add', inputs: [`${p}_y`, `${p}_b`], outputs: [out] },
    ],
  };
}

/** x [1, 16] → dynamic MatMul (per-tensor int8 weights) → Relu → dynamic MatMul (per-column scales and zero points) → y [1, 3]. */
function dynamicMlp(): ModelSpec {
  const l1 = dynamicMatMul('l1', 'x', { name: 'W1', dims: [16, 8], data: int8s(128, 1) }, [0.011], undefined, rand(8, 2, 0.5), 'h');
  const l2 = dynamicMatMul('l2', 'r', { name: 'W2', dims: [8, 3], data: int8s(24, 3) }, [0.009, 0.014, 0.006], [0, 3, -2], rand(3, 4, 0.5), 'y');
  return {
    graphName: 'dynamic_mlp', opset: 13, inputs: [{ name: 'x', shape: [1, 16] }], outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [...l1.inits, ...l2.inits],
    nodes: [...l1.nodes, { name: '/relu', op: 'Relu', inputs: ['h'], outputs: ['r'] }, ...l2.nodes],
  };
}

/** x [1, 1, 6, 6] → DynamicQuantizeLinear → ConvInteger → Cast · scales + bias → Relu → Reshape → dynamic MatMul → y [1, 3]. */
function dynamicCnn(): ModelSpec {
  const fc = dynamicMatMul('fc', 'f', { name: 'W2', dims: [64, 3], data: int8s(192, 5) }, [0.004], undefined, rand(3, 6, 0.5), 'y');
  return {
    graphName: 'dynamic_cnn', opset: 13, inputs: [{ name: 'x', shape: [1, 1, 6, 6] }], outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      { name: 'W', dims: [4, 1, 3, 3], data: int8s(36, 7) }, { name: 'ws', dims: [], data: Float32Array.from([0.02]) },
      { name: 'B', dims: [1, 4, 1, 1], data: Float32Array.from(rand(4, 8, 0.5)) }, { name: 'flat', dims: [2], data: BigInt64Array.from([1n, 64n]) },
      ...fc.inits,
    ],
    nodes: [
      { name: '/dql', op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
      { name: '/conv', op: 'ConvInteger', inputs: ['xq', 'W', 'xz'], outputs: ['ci'], attrs: { kernel_shape: [3, 3] } },
      { name: '/cast', op: 'Cast', inputs: ['ci'], outputs: ['cf'], attrs: { to: 1 } },
      { name: '/scales', op: 'Mul', inputs: ['xs', 'ws'], outputs: ['sw'] },
      { name: '/scale', op: 'Mul', inputs: ['cf', 'sw'], outputs: ['cy'] },
      { name: '/bias', op: 'Add', inputs: ['cy', 'B'], outputs: ['c'] },
      { name: '/relu', op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { name: '/reshape', op: 'Reshape', inputs: ['r', 'flat'], outputs: ['f'] },
      ...fc.nodes,
    ],
  };
}

/** The MLP as onnxruntime's optimizer saves it: DynamicQuantizeMatMul, then DynamicQuantizeLinear + MatMulIntegerToFloat. */
function fusedMlp(): ModelSpec {
  const m = dynamicMlp();
  return {
    ...m, graphName: 'fused_mlp', opsets: { [MS]: 1 },
    nodes: [
      { name: '/l1', op: 'DynamicQuantizeMatMul', domain: MS, inputs: ['x', 'W1', 'l1_ws', '', 'l1_b'], outputs: ['h'] },
      { name: '/relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { name: '/l2/dql', op: 'DynamicQuantizeLinear', inputs: ['r'], outputs: ['l2_q', 'l2_s', 'l2_z'] },
      { name: '/l2', op: 'MatMulIntegerToFloat', domain: MS, inputs: ['l2_q', 'W2', 'l2_s', 'l2_ws', 'l2_z', 'l2_wz', 'l2_b'], outputs: ['y'] },
    ],
  };
}

/** x → DynamicQuantizeLinear → DequantizeLinear with its computed scale and zero point → y: x on its own uint8 grid. */
function dqlRoundTrip(): ModelSpec {
  return {
    graphName: 'dql_dq', opset: 13, inputs: [{ name: 'x', shape: [2, 5] }], outputs: [{ name: 'y', shape: [2, 5] }], initializers: [],
    nodes: [
      { name: '/dql', op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['q', 's', 'z'] },
      { name: '/dq', op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] },
    ],
  };
}

/** DynamicQuantizeLinear alone: its three outputs. */
function dqlOnly(): ModelSpec {
  return {
    graphName: 'dql', opset: 11, inputs: [{ name: 'x', shape: [2, 5] }],
    outputs: [{ name: 'y', shape: [2, 5], type: 'uint8' }, { name: 's', shape: [] }, { name: 'z', shape: [], type: 'uint8' }],
    initializers: [], nodes: [{ name: '/dql', op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 's', 'z'] }],
  };
}

/**
 * n samples of float32 values in (−scale, scale), not dyadic: x / (range / 255) lands on an exact
 * .5 only by chance, where onnxruntime's float32 quotient and the exact one may round apart.
 */
/**
 * X [S, 1, I] → com.microsoft DynamicQuantizeLSTM (int8 W [D, I, 4H], R [D, H, 4H]; scales (and zero
 * points, which onnxruntime requires 0) per direction or per column) → Y [S, D, 1, H] and Y_h; initial states as inputs where asked.
 */
function quantLstm(o: { S: number; I: number; H: number; bidirectional?: boolean; perColumn?: boolean; states?: boolean; peepholes?: boolean }): ModelSpec {
  const D = o.bidirectional ? 2 : 1;
  const G4 = 4 * o.H;
  const n = o.perColumn ? D * G4 : D;
  const pd = o.perColumn ? [D, G4] : [D];
  const r = rng(77);
  const inits: InitializerSpec[] = [
    { name: 'W', dims: [D, o.I, G4], data: int8s(D * o.I * G4, 11) }, { name: 'R', dims: [D, o.H, G4], data: int8s(D * o.H * G4, 12) },
    { name: 'B', dims: [D, 2 * G4], data: Float32Array.from({ length: D * 2 * G4 }, () => r() * 0.3) },
    { name: 'ws', dims: pd, data: Float32Array.from({ length: n }, () => 0.003 + 0.002 * (r() + 1)) }, { name: 'wz', dims: pd, data: new Int8Array(n) },
    { name: 'rs', dims: pd, data: Float32Array.from({ length: n }, () => 0.004 + 0.002 * (r() + 1)) }, { name: 'rz', dims: pd, data: new Int8Array(n) },
  ];
  if (o.peepholes) inits.push({ name: 'P', dims: [D, 3 * o.H], data: Float32Array.from({ length: D * 3 * o.H }, () => r() * 0.5) });
  const inputs = [{ name: 'X', shape: [o.S, 1, o.I] }, ...(o.states ? [{ name: 'h0', shape: [D, 1, o.H] }, { name: 'c0', shape: [D, 1, o.H] }] : [])];
  return {
    graphName: `qlstm_${D}${o.perColumn ? '_col' : ''}${o.states ? '_h0' : ''}`, opset: 13, opsets: { [MS]: 1 }, inputs,
    outputs: [{ name: 'Y', shape: [o.S, D, 1, o.H] }, { name: 'Yh', shape: [D, 1, o.H] }], initializers: inits,
    nodes: [{
      name: '/lstm', op: 'DynamicQuantizeLSTM', domain: MS, outputs: ['Y', 'Yh'],
      inputs: ['X', 'W', 'R', 'B', '', o.states ? 'h0' : '', o.states ? 'c0' : '', o.peepholes ? 'P' : '', 'ws', 'wz', 'rs', 'rz'],
      attrs: { hidden_size: o.H, ...(o.bidirectional ? { direction: 'bidirectional' } : {}) },
    }],
  };
}

/** x [1, S, 8] → DynamicQuantizeLinear → com.microsoft QAttention (int8 W [8, 24], per tensor or per column; 2 heads; causal where asked) → y. */
function qAttention(o: { S: number; perColumn?: boolean; unidirectional?: boolean }): ModelSpec {
  const r = rng(91);
  const n = o.perColumn ? 24 : 1;
  return {
    graphName: `qattention_${o.S}`, opset: 14, opsets: { [MS]: 1 }, inputs: [{ name: 'x', shape: [1, o.S, 8] }], outputs: [{ name: 'y', shape: [1, o.S, 8] }],
    initializers: [
      { name: 'W', dims: [8, 24], data: int8s(192, 93) }, { name: 'b', dims: [24], data: Float32Array.from({ length: 24 }, () => r() * 0.3) },
      { name: 'ws', dims: o.perColumn ? [24] : [], data: Float32Array.from({ length: n }, () => 0.006 + 0.003 * (r() + 1)) },
      { name: 'wz', dims: o.perColumn ? [24] : [], data: new Int8Array(n) },
    ],
    nodes: [
      { name: '/dql', op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
      { name: '/attn', op: 'QAttention', domain: MS, inputs: ['xq', 'W', 'b', 'xs', 'ws', '', 'xz', 'wz'], outputs: ['y'], attrs: { num_heads: 2, ...(o.unidirectional ? { unidirectional: 1 } : {}) } },
    ],
  };
}

const samples = (n: number, size: number, seed: number, scale = 1.5) => Array.from({ length: n }, (_, k) => {
  const r = rng(seed * 31 + k);
  return [Array.from({ length: size }, () => Math.fround(r() * scale))];
});

describe('dynamic quantization matches onnxruntime-web', () => {
  it('DynamicQuantizeLinear: the uint8 values, scale and zero point (also all-positive, all-negative and all-zero inputs)', async () => {
    const xs = [...samples(12, 10, 20), [rand(10, 40, 2).map(Math.abs)], [rand(10, 41, 2).map((v) => -Math.abs(v))], [new Array<number>(10).fill(0)]];
    const refs = await compare(dqlOnly(), xs, 1e-6);
    // an all-zero input: scale 1, zero point 0 (onnxruntime's choice for an empty range)
    expect([refs.at(-1)![1]![0], refs.at(-1)![2]![0]]).toEqual([1, 0]);
    expect(refs.at(-3)![2]![0]).toBe(0); // all ≥ 0: the zero point is 0
    expect(refs.at(-2)![2]![0]).toBe(255); // all ≤ 0: 255
  });

  it('DequantizeLinear of its output with the computed scale and zero point', async () => {
    await compare(dqlRoundTrip(), samples(8, 10, 50), 1e-6);
  });

  it('MatMulInteger and ConvInteger with the computed zero point (MLP and CNN)', async () => {
    await compare(dynamicMlp(), samples(12, 16, 60), 1e-5);
    await compare(dynamicCnn(), samples(8, 36, 80), 1e-5);
  });

  it('com.microsoft DynamicQuantizeLSTM: forward, bidirectional with per-column scales, initial states, peepholes', async () => {
    await compare(quantLstm({ S: 4, I: 6, H: 5 }), samples(6, 24, 300), 1e-5);
    await compare(quantLstm({ S: 3, I: 4, H: 3, bidirectional: true, perColumn: true, peepholes: true }), samples(6, 12, 310), 1e-5);
    const withStates = samples(6, 3 * 4 + 2 * 3 + 2 * 3, 320).map(([x]) => [x!.slice(0, 12), x!.slice(12, 18), x!.slice(18, 24)]);
    await compare(quantLstm({ S: 3, I: 4, H: 3, bidirectional: true, states: true }), withStates, 1e-5);
  });

  it('com.microsoft QAttention: per-tensor and per-column weight scales, causal', async () => {
    await compare(qAttention({ S: 4 }), samples(6, 32, 400), 1e-5);
    await compare(qAttention({ S: 3, perColumn: true, unidirectional: true }), samples(6, 24, 410), 1e-5);
  });

  it('com.microsoft DynamicQuantizeMatMul and MatMulIntegerToFloat', async () => {
    await compare(fusedMlp(), samples(12, 16, 60), 1e-5);
  });
});

describe('a dynamically quantized model in a circuit', () => {
  it('compiles (circom builds the same system) within tolerance of onnxruntime-web; the witness holds, a changed quantized activation and an all-zero input\'s range do not break it', async () => {
    const calib = samples(24, 16, 100).map((s) => ({ input_data: s }));
    const c = await compileSpec(dynamicMlp(), mkdtempSync(join(tmpdir(), 'zkonnx-dq-')), calib, true);
    for (const x of [calib[0]!.input_data[0] as number[], new Array<number>(16).fill(0)]) {
      const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, [Float64Array.from(x)]) }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      // the first layer's uint8 activations: one of them one step off fails the constraints
      const q = c.qg.acts.find((a) => a.nodes.some((n) => n.startsWith('/l1/dql')) && a.op.kind === 'div' && a.size === 16)!;
      const wire = c.sym.get(`main.v[${q.offset + 3}]`)!;
      const bad = w.slice();
      bad[wire] = bad[wire]! + 1n;
      expect((await checkConstraints(c.r1cs, bad)).ok).toBe(false);
    }
  }, 180_000);

  it('DynamicQuantizeLinear alone: with inputs at 20 bits the circuit\'s uint8 values and zero point equal onnxruntime-web\'s on every calibration input', async () => {
    // at the default 12 bits an input's own rounding (2^-10 here) moves 255·x / r by up to 0.02,
    // and a value that close to a .5 boundary rounds the other way
    const c = await compileSpec(dqlOnly(), mkdtempSync(join(tmpdir(), 'zkonnx-dq-')), [...samples(24, 10, 160, 4), [new Array<number>(10).fill(0)]].map((s) => ({ input_data: s })), false, { activationBits: 20 });
    // integers against integers (the scale's error is ~1e-6): no value one step off
    expect(c.settings.accuracy.maxAbsError).toBeLessThan(0.01);
  }, 120_000);

  it('the CNN, the fused forms, a bidirectional DynamicQuantizeLSTM and a causal QAttention compile within tolerance of onnxruntime-web', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkonnx-dq-'));
    await compileSpec(quantLstm({ S: 3, I: 4, H: 3, bidirectional: true, perColumn: true }), dir, samples(16, 12, 330).map((s) => ({ input_data: s })));
    await compileSpec(qAttention({ S: 3, perColumn: true, unidirectional: true }), dir, samples(16, 24, 340).map((s) => ({ input_data: s })));
    await compileSpec(dynamicCnn(), dir, samples(16, 36, 120).map((s) => ({ input_data: s })));
    await compileSpec(fusedMlp(), dir, samples(16, 16, 140).map((s) => ({ input_data: s })));
  }, 180_000);
});
