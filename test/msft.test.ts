// The com.microsoft operators of onnxruntime's transformer optimizer (src/onnx/msft.ts): small
// models written with our ONNX writer, one per op (seeded weights), compiled, the integer
// executor checked within tolerance of onnxruntime-web (which runs the contrib kernels) on every
// calibration sample; circom builds the same constraint system for one model; one Attention with
// a KV cache, a causal mask and a mask input is proven and verified, and its mask bits are
// constrained (a flipped one breaks a constraint); and the forms that are refused are refused
// with the node's name. FusedConv, FusedGemm and FusedMatMul (onnxruntime's saved optimized
// graphs) are checked in float against onnxruntime-web, and one network of them compiles.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConformanceModel } from '../benchmarks/conformance-lib.js';
import { compile } from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../src/circom/witness.js';
import { ZkonnxError } from '../src/errors.js';
import { linearize } from '../src/ir/linearize.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { attr, buildModel, type InitializerSpec, type ModelSpec, type NodeSpec, type ValueSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { compare, rand } from './helpers/ml-models.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { quantize } from '../src/quantize/quantize.js';
import { releaseCurves } from '../src/snark.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-msft-'));
afterAll(async () => { await releaseCurves(); });

const MS = 'com.microsoft';
const wave = (n: number, a: number, b: number, amp: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * a + b) * amp);
const numel = (s: (number | string)[]) => s.reduce<number>((a, d) => a * (d as number), 1);
const init = (name: string, dims: number[], a: number, b: number, amp: number): InitializerSpec => ({ name, dims, data: wave(numel(dims), a, b, amp) });

/** An input's values for sample k: waves for floats, `ints(k)` for int32 inputs. */
type Ints = Record<string, (k: number, n: number) => number[]>;

interface Case {
  spec: ModelSpec;
  ints?: Ints;
  samples?: number;
}

function sampleOf(inputs: ValueSpec[], ints: Ints, k: number): { input_data: number[][] } {
  return {
    input_data: inputs.map((v, j) => {
      const n = numel(v.shape);
      return v.type === 'int32' ? ints[v.name]!(k, n) : Array.from(wave(n, 0.37 * (k + 1), k + j, 1));
    }),
  };
}

function writeCase(name: string, c: Case): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'network.onnx'), buildModel(c.spec));
  const n = c.samples ?? 6;
  writeFileSync(join(dir, 'input.json'), JSON.stringify(sampleOf(c.spec.inputs, c.ints ?? {}, n)));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(Array.from({ length: n }, (_, k) => sampleOf(c.spec.inputs, c.ints ?? {}, k))));
  return dir;
}

// ---------------------------------------------------------------- models

interface AttnOpts {
  S: number; P?: number; Din: number; N: number;
  sizes?: [number, number, number];
  mask?: '2d' | '3d' | 'const' | 'none';
  attrs?: NodeSpec['attrs'];
  present?: boolean;
  /** a constant attention_bias [1, N, S, T] (input 5) */
  attnBias?: boolean;
}

function attentionCase(o: AttnOpts): Case {
  const { S, Din, N } = o;
  const P = o.P ?? 0;
  const T = P + S;
  const [D, , Dv] = o.sizes ?? [Din, Din, Din];
  const h = D / N;
  const inputs: ValueSpec[] = [{ name: 'x', shape: [1, S, Din] }];
  const initializers = [init('W', [Din, 2 * D + Dv], 0.71, 0.3, 0.5), init('b', [2 * D + Dv], 1.3, 0.2, 0.2)];
  const mask = o.mask ?? 'none';
  if (mask === '2d') inputs.push({ name: 'mask', shape: [1, T], type: 'int32' });
  if (mask === '3d') inputs.push({ name: 'mask', shape: [1, S, T], type: 'int32' });
  if (mask === 'const') initializers.push({ name: 'mask', dims: [1, T], data: Int32Array.from({ length: T }, (_, t) => (t === 1 ? 0 : 1)) });
  if (P) inputs.push({ name: 'past', shape: [2, 1, N, P, h] });
  const outputs: ValueSpec[] = [{ name: 'y', shape: [1, S, Dv] }, ...(o.present ? [{ name: 'present', shape: [2, 1, N, T, h] }] : [])];
  if (o.attnBias) initializers.push(init('ab', [1, N, S, T], 0.83, 0.4, 1.5));
  const nodeInputs = ['x', 'W', 'b', mask === 'none' ? '' : 'mask', P ? 'past' : '', o.attnBias ? 'ab' : ''];
  while (nodeInputs.at(-1) === '') nodeInputs.pop();
  return {
    spec: {
      graphName: 'attention', inputs, outputs, initializers, opset: 14,
      nodes: [{ name: '/attn', op: 'Attention', domain: MS, inputs: nodeInputs, outputs: o.present ? ['y', 'present'] : ['y'], attrs: { num_heads: N, ...(o.sizes ? { qkv_hidden_sizes: o.sizes } : {}), ...o.attrs } }],
    },
    // masks: 0/1 (and a 2, which onnxruntime keeps: mask > 0), a zero that moves with the sample,
    // and in sample 2 every position masked (a shift of every score by mask_filter_value: the
    // scores' own softmax; with float's lowest, every score the same: uniform, future ones too)
    ints: { mask: (k, n) => Array.from({ length: n }, (_, i) => (k === 2 || (i + k) % 3 === 0 ? 0 : (i + k) % 4 === 1 ? 2 : 1)) },
  };
}

/** One com.microsoft node over float inputs x (and skip), with the given initializers. */
function opCase(op: string, nodeInputs: string[], initializers: InitializerSpec[], outputs: string[], attrs: NodeSpec['attrs'] = {}, domain = MS): Case {
  const H = 8;
  const shape = [1, 3, H];
  const inputs: ValueSpec[] = [{ name: 'x', shape }, ...(nodeInputs.includes('skip') ? [{ name: 'skip', shape }] : [])];
  return {
    spec: {
      graphName: op, inputs, initializers, opset: 14,
      outputs: outputs.filter(Boolean).map((name) => ({ name, shape })),
      nodes: [{ name: `/${op}`, op, domain, inputs: nodeInputs, outputs, attrs }],
    },
  };
}
const H8 = (name: string, b: number, amp = 0.4, base = 0) => ({ name, dims: [8], data: Float32Array.from(wave(8, 0.9, b, amp), (v) => v + base) });

function embedCase(withPositions: boolean): Case {
  const S = 4;
  const H = 8;
  const inputs: ValueSpec[] = [
    { name: 'ids', shape: [1, S], type: 'int32' },
    { name: 'segments', shape: [1, S], type: 'int32' },
    { name: 'mask', shape: [1, S], type: 'int32' },
    ...(withPositions ? [{ name: 'positions', shape: [1, S], type: 'int32' as const }] : []),
  ];
  return {
    spec: {
      graphName: 'embed', inputs, opset: 14,
      initializers: [init('word', [12, H], 0.61, 0.1, 0.8), init('pos', [6, H], 1.1, 0.5, 0.3), init('seg', [2, H], 0.4, 0.9, 0.2), H8('gamma', 0.2, 0.3, 1), H8('beta', 1.4, 0.2)],
      outputs: [{ name: 'out', shape: [1, S, H] }, { name: 'mask_index', shape: [1], type: 'int32' }, { name: 'sum', shape: [1, S, H] }],
      nodes: [{
        name: '/embed', op: 'EmbedLayerNormalization', domain: MS,
        inputs: ['ids', 'segments', 'word', 'pos', 'seg', 'gamma', 'beta', 'mask', ...(withPositions ? ['positions'] : [])],
        outputs: ['out', 'mask_index', 'sum'], attrs: { epsilon: 1e-5 },
      }],
    },
    ints: {
      ids: (k, n) => Array.from({ length: n }, (_, i) => (i * 5 + k * 3) % 12),
      segments: (k, n) => Array.from({ length: n }, (_, i) => (i + k) % 2),
      mask: (k, n) => Array.from({ length: n }, (_, i) => (i < n - (k % 3) ? 1 : 0)),
      positions: (k, n) => Array.from({ length: n }, (_, i) => (i + k) % 6),
    },
  };
}

/** embedCase's tables, gamma and beta quantized to uint8 (per tensor) under QEmbedLayerNormalization, as quantize_dynamic writes it. */
function qEmbedCase(): Case {
  const c = embedCase(false);
  const quant = (t: InitializerSpec): InitializerSpec[] => {
    const v = Array.from(t.data as Float32Array);
    const lo = Math.min(0, ...v);
    const hi = Math.max(0, ...v);
    const scale = Math.fround((hi - lo) / 255);
    const zero = Math.round(-lo / scale);
    return [{ name: `${t.name}_q`, dims: t.dims, data: Uint8Array.from(v, (x) => Math.max(0, Math.min(255, Math.round(x / scale) + zero))) },
      { name: `${t.name}_s`, dims: [], data: Float32Array.from([scale]) }, { name: `${t.name}_z`, dims: [], data: Uint8Array.from([zero]) }];
  };
  const names = ['word', 'pos', 'seg', 'gamma', 'beta'];
  return {
    ...c,
    spec: {
      ...c.spec, graphName: 'qembed', opsets: { [MS]: 1 },
      initializers: c.spec.initializers.flatMap(quant),
      outputs: c.spec.outputs.slice(0, 2),
      nodes: [{
        name: '/qembed', op: 'QEmbedLayerNormalization', domain: MS, outputs: ['out', 'mask_index'], attrs: { epsilon: 1e-5 },
        inputs: ['ids', 'segments', ...names.map((n) => `${n}_q`), 'mask', ...names.map((n) => `${n}_s`), ...names.map((n) => `${n}_z`)],
      }],
    },
  };
}

// ---------------------------------------------------------------- executor vs onnxruntime-web

async function within(name: string, c: Case, checkCircom = false) {
  const dir = writeCase(name, c);
  const { settings } = await compile({ model: join(dir, 'network.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), outDir: join(work, `${name}-build`), checkCircom });
  if (checkCircom) expect(settings.circuit.checkCircom?.same).toBe(true);
  expect(settings.accuracy.samples).toBe(c.samples ?? 6);
  expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
  return settings;
}

describe('com.microsoft operators within tolerance of onnxruntime-web', () => {
  it('Attention, bidirectional, with a 2-D mask input (0/1/2), default mask_filter_value; circom builds the same system', async () => {
    await within('attn-mask2d', attentionCase({ S: 3, Din: 8, N: 2, mask: '2d' }), true);
  }, 120_000);

  it('Attention, GPT-2 style: past, unidirectional, mask input, mask_filter_value = float lowest, present', async () => {
    await within('attn-gpt2', attentionCase({ S: 2, P: 2, Din: 8, N: 2, mask: '2d', present: true, attrs: { unidirectional: 1, mask_filter_value: attr.float(-3.4028234663852886e38) } }));
  }, 120_000);

  it('Attention with qkv_hidden_sizes (V wider), scale, a 3-D mask input, unidirectional', async () => {
    await within('attn-qkv', attentionCase({ S: 3, Din: 6, N: 2, sizes: [4, 4, 8], mask: '3d', attrs: { scale: 0.4, unidirectional: 1 } }));
  }, 120_000);

  it('Attention with a constant mask and attention_bias; with no mask', async () => {
    await within('attn-const', attentionCase({ S: 3, Din: 8, N: 2, mask: 'const', attnBias: true }));
    await within('attn-none', attentionCase({ S: 2, Din: 4, N: 1 }));
  }, 120_000);

  it('EmbedLayerNormalization: segments, mask (mask_index), embedding_sum; positions 0‥S−1 or position_ids', async () => {
    await within('embed', embedCase(false));
    await within('embed-pos', embedCase(true));
  }, 120_000);

  it('QEmbedLayerNormalization (quantize_dynamic\'s): uint8 tables, gamma and beta dequantized, then as EmbedLayerNormalization', async () => {
    await within('qembed', qEmbedCase());
  }, 120_000);

  it('SkipLayerNormalization: bias, beta, input_skip_bias_sum', async () => {
    await within('skipln', opCase('SkipLayerNormalization', ['x', 'skip', 'gamma', 'beta', 'bias'], [H8('gamma', 0.1, 0.3, 1), H8('beta', 0.7), H8('bias', 1.9)], ['y', '', '', 'sum'], { epsilon: 1e-5 }));
  }, 60_000);

  it('SkipSimplifiedLayerNormalization and SimplifiedLayerNormalization (RMS)', async () => {
    await within('skipsln', opCase('SkipSimplifiedLayerNormalization', ['x', 'skip', 'gamma', 'bias'], [H8('gamma', 0.1, 0.3, 1), H8('bias', 1.9)], ['y', '', '', 'sum'], { epsilon: 1e-5 }));
    await within('sln', opCase('SimplifiedLayerNormalization', ['x', 'gamma'], [H8('gamma', 0.5, 0.3, 1)], ['y'], { epsilon: 1e-5 }, ''));
  }, 60_000);

  for (const [op, ins, inits, attrs] of [
    ['FastGelu', ['x', 'bias'], [H8('bias', 0.3)], {}],
    ['BiasGelu', ['x', 'bias'], [H8('bias', 0.3)], {}],
    ['Gelu', ['x'], [], {}],
    ['QuickGelu', ['x'], [], { alpha: 1.5 }],
  ] as [string, string[], InitializerSpec[], NodeSpec['attrs']][]) {
    it(`${op}`, async () => { await within(op, opCase(op, ins, inits, ['y'], attrs)); }, 60_000);
  }

  it('BiasAdd (not in onnxruntime-web): the executor computes x + bias + skip', () => {
    const c = opCase('BiasAdd', ['x', 'bias', 'skip'], [H8('bias', 0.3)], ['y']);
    const f = join(work, 'biasadd.onnx');
    writeFileSync(f, buildModel(c.spec));
    const ag = linearize(inferAndFold(readOnnx(f)));
    const samples = [0, 1, 2].map((k) => sampleOf(c.spec.inputs, {}, k).input_data.map((x) => Float64Array.from(x)));
    const qg = quantize(ag, calibrate(ag, samples));
    const out = execQuant(qg, quantizeInputs(qg, samples[1]!)).outputs[0]!;
    const [x, skip] = samples[1]!;
    const bias = c.spec.initializers[0]!.data;
    const scale = 2 ** qg.outputs[0]!.scale;
    Array.from(out, (q, i) => Number(q) / scale).forEach((v, i) => expect(v).toBeCloseTo(x![i]! + skip![i]! + Number(bias[i % 8]!), 2));
  });
});

describe('onnxruntime\'s fused Conv, Gemm and MatMul match onnxruntime-web', () => {
  const fused = (name: string, op: string, inputs: ValueSpec[], inits: InitializerSpec[], y: number[], attrs: NodeSpec['attrs']): ModelSpec => ({
    graphName: name, opset: 14, inputs, initializers: inits, outputs: [{ name: 'y', shape: y }],
    nodes: [{ name: `/${name}`, op, domain: MS, inputs: [...inputs.map((v) => v.name).slice(0, 1), ...inits.map((i) => i.name), ...inputs.map((v) => v.name).slice(1)], outputs: ['y'], attrs }],
  });
  const draws = (inputs: ValueSpec[], n: number) => Array.from({ length: n }, (_, k) => inputs.map((v, j) => rand(numel(v.shape), 50 + 7 * k + j, 1.5)));

  it('FusedConv: each activation, with and without the summed input Z', async () => {
    const x: ValueSpec = { name: 'x', shape: [1, 2, 5, 5] };
    const z: ValueSpec = { name: 'z', shape: [1, 3, 3, 3] };
    const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] };
    for (const [act, params] of [['', []], ['Relu', []], ['Tanh', []], ['Sigmoid', []], ['LeakyRelu', [0.1]], ['Clip', [-0.5, 0.75]], ['HardSigmoid', [0.3, 0.4]]] as [string, number[]][]) {
      for (const inputs of [[x], [x, z]]) {
        const attrs = { ...conv, ...(act ? { activation: act } : {}), ...(params.length ? { activation_params: attr.floats(params) } : {}) };
        const m = fused(`fconv_${act || 'none'}_${inputs.length}`, 'FusedConv', inputs, [init('W', [3, 2, 3, 3], 0.7, 0.2, 0.6), init('B', [3], 1.1, 0.4, 0.3)], [1, 3, 3, 3], attrs);
        await compare(m, draws(inputs, 3));
      }
    }
  });

  it('FusedGemm: transposes, alpha and beta, activations with activation_alpha / activation_beta', async () => {
    const a: ValueSpec = { name: 'a', shape: [2, 4] };
    for (const [act, extra] of [['Relu', {}], ['LeakyRelu', { activation_alpha: attr.float(0.2) }], ['HardSigmoid', { activation_alpha: attr.float(0.3), activation_beta: attr.float(0.45) }], ['Elu', { activation_alpha: attr.float(0.5) }], ['Tanh', {}]] as [string, NodeSpec['attrs']][]) {
      const m = fused(`fgemm_${act}`, 'FusedGemm', [a], [init('B', [3, 4], 0.9, 0.1, 0.7), init('C', [3], 0.5, 0.3, 0.4)], [2, 3], { transB: 1, alpha: attr.float(0.5), beta: attr.float(2), activation: act, ...extra });
      await compare(m, draws([a], 3));
    }
  });

  it('FusedMatMul: alpha, transA and transB on batched operands', async () => {
    const a: ValueSpec = { name: 'a', shape: [2, 4, 3] };
    const b: ValueSpec = { name: 'b', shape: [2, 5, 4] };
    await compare({ ...fused('fmatmul', 'FusedMatMul', [a, b], [], [2, 3, 5], { transA: 1, transB: 1, alpha: attr.float(0.25) }), nodes: [{ name: '/fmatmul', op: 'FusedMatMul', domain: MS, inputs: ['a', 'b'], outputs: ['y'], attrs: { transA: 1, transB: 1, alpha: attr.float(0.25) } }] }, draws([a, b], 3));
  });

  it('CDist (sklearn-onnx\'s cdist with optim=\'cdist\'): sqeuclidean and euclidean, against constant training rows', async () => {
    const a: ValueSpec = { name: 'a', shape: [2, 3] };
    for (const metric of ['sqeuclidean', 'euclidean']) {
      const m = fused(`cdist_${metric}`, 'CDist', [a], [init('B', [5, 3], 1.3, 0.2, 0.9)], [2, 5], { metric });
      await compare(m, draws([a], 3), 1e-3);
    }
  });

  it('a FusedConv + FusedGemm network compiles within tolerance of onnxruntime-web', async () => {
    const spec: ModelSpec = {
      graphName: 'fused', opset: 14, inputs: [{ name: 'x', shape: [1, 2, 5, 5] }], outputs: [{ name: 'y', shape: [1, 3] }],
      initializers: [init('W', [3, 2, 3, 3], 0.7, 0.2, 0.6), init('B', [3], 1.1, 0.4, 0.3), init('G', [3, 27], 0.3, 0.8, 0.3), init('C', [3], 0.5, 0.3, 0.2), { name: 'shape', dims: [2], data: BigInt64Array.from([1n, 27n]) }],
      nodes: [
        { name: '/conv', op: 'FusedConv', domain: MS, inputs: ['x', 'W', 'B'], outputs: ['h'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], activation: 'Clip', activation_params: attr.floats([0, 1]) } },
        { name: '/flat', op: 'Reshape', inputs: ['h', 'shape'], outputs: ['f'] },
        { name: '/gemm', op: 'FusedGemm', domain: MS, inputs: ['f', 'G', 'C'], outputs: ['y'], attrs: { transB: 1, activation: 'LeakyRelu', activation_alpha: attr.float(0.1) } },
      ],
    };
    await within('fused-net', { spec });
  }, 60_000);
});

describe('com.microsoft Attention proven', () => {
  it('an Attention with a KV cache, a causal mask and a mask input proves, verifies and matches the float model; the mask bits are constrained', async () => {
    const dir = writeCase('attn-proof', attentionCase({ S: 2, P: 1, Din: 4, N: 2, mask: '2d', present: true, attrs: { unidirectional: 1 } }));
    const row = await runConformanceModel(dir, join(work, 'builds'), { files: { model: join(dir, 'network.onnx'), input: join(dir, 'input.json'), calibration: join(dir, 'calibration.json') } });
    expect(row.message).toBe('');
    expect(row.status).toBe('pass');
    // the kept/masked bits (mask > 0, a comparison on the mask input) are constrained: flipping
    // one in the witness breaks a constraint
    const build = join(work, 'builds', 'attn-proof');
    const paths = new BuildPaths(build);
    const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    const keep = qg.acts.find((a) => a.nodes.some((n) => n.includes('/Greater')))!;
    expect(keep.size).toBe(3);
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(paths.proofFile('default', 'witness'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    for (let i = 0; i < keep.size; i++) {
      const wire = sym.get(`main.v[${keep.offset + i}]`)!;
      expect(wire).toBeGreaterThan(0);
      const bad = w.slice();
      bad[wire] = 1n - bad[wire]!;
      expect((await checkConstraints(r1cs, bad)).ok).toBe(false);
    }
  }, 240_000);
});

describe('com.microsoft refusals name the node', () => {
  const refused = (c: Case, dims?: Record<string, number>): ZkonnxError => {
    const f = join(work, `bad-${Math.random().toString(36).slice(2)}.onnx`);
    writeFileSync(f, buildModel(c.spec));
    try { inferAndFold(readOnnx(f, dims ? { dims } : {})); } catch (e) { return e as ZkonnxError; }
    throw new Error('accepted');
  };

  it('inconsistent symbolic dims: total_sequence_length ≠ past + sequence', () => {
    const c = attentionCase({ S: 2, P: 2, Din: 8, N: 2, mask: '2d' });
    c.spec.inputs = c.spec.inputs.map((v) => (v.name === 'mask' ? { ...v, shape: [1, 'total'] } : v.name === 'past' ? { ...v, shape: [2, 1, 2, 'past', 4] } : { ...v, shape: [1, 'seq', 8] }));
    const e = refused(c, { seq: 2, past: 2, total: 2 });
    expect(e.code).toBe('ONNX_SHAPE');
    expect(e.message).toMatch(/\/attn \(Attention\): mask_index has shape \[1, 2\], expected \[1, 4\]: total_sequence_length 4 = past_sequence_length 2 .* \+ sequence_length 2/);
    expect(() => refused(c, { seq: 2, past: 2, total: 4 })).toThrow('accepted');
  });

  it('1-D mask_index, rotary, mean/inv_std_var outputs, unknown com.microsoft ops', () => {
    const oneD = attentionCase({ S: 2, Din: 4, N: 1 });
    oneD.spec.inputs.push({ name: 'lens', shape: [1], type: 'int32' });
    oneD.spec.nodes[0]!.inputs = ['x', 'W', 'b', 'lens'];
    expect(refused(oneD).message).toMatch(/\/attn \(Attention\).*mask_index of shape \[1\] \(sequence end \(and start\) positions\) is not supported/);
    expect(refused(attentionCase({ S: 2, Din: 4, N: 1, attrs: { do_rotary: 1 } })).message).toMatch(/\/attn.*do_rotary/);
    const stats = opCase('SkipLayerNormalization', ['x', 'skip', 'gamma'], [H8('gamma', 0.1)], ['y', 'mean']);
    expect(refused(stats).message).toMatch(/\/SkipLayerNormalization.*output 1 \(mean\) is not supported/);
    const other = opCase('DecoderMaskedSelfAttention', ['x'], [], ['y']);
    const e = refused(other);
    expect(e.code).toBe('ONNX_UNSUPPORTED_OP');
    expect(e.message).toMatch(/the com.microsoft operator DecoderMaskedSelfAttention is not supported/);
    expect(e.hint).toMatch(/Attention, EmbedLayerNormalization/);
  });
});
