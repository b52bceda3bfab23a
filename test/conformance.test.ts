// A fast subset of the conformance runner (npm run conformance runs all 59 EZKL models): each
// model compiles, proves and verifies, and its dequantized output stays within tolerance of
// onnxruntime-web. Plus ops the EZKL set lacks, on small models written here.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConformanceModel } from '../benchmarks/conformance-lib.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { releaseCurves } from '../src/snark.js';
import { CONFORMANCE_DIR, hasConformance } from './helpers/conformance.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-conf-'));
afterAll(async () => { await releaseCurves(); });

const SUBSET = [
  '1l_sigmoid', '1l_conv', '1l_max_pool', '1l_softmax', '1l_batch_norm', '1l_where', '1l_topk',
  '1l_average', '1l_sqrt', '1l_var', '1l_instance_norm', 'clip', '1l_prelu', '1l_upsample',
];

describe.skipIf(!hasConformance)('conformance subset (EZKL models)', () => {
  for (const m of SUBSET) {
    it(m, async () => {
      const row = await runConformanceModel(join(CONFORMANCE_DIR, m), work);
      expect(row.message).toBe('');
      expect(row.status).toBe('pass');
    }, 240_000);
  }
});

/** Writes a model and its input as a conformance-style folder and runs it end to end. */
async function runSpec(name: string, spec: ModelSpec, input: number[][]) {
  const dir = join(work, 'specs', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'network.onnx'), buildModel(spec));
  writeFileSync(join(dir, 'input.json'), JSON.stringify({ input_data: input }));
  return runConformanceModel(dir, join(work, 'builds'));
}

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed * 97 + i * 13.7) * 1000) / 500);

describe('non-linear ops outside the EZKL set, end to end', () => {
  const cases: [string, ModelSpec, number[][]][] = [
    ['gather_signal_indices', {
      graphName: 'g', inputs: [{ name: 'x', shape: [1, 6] }, { name: 'i', shape: [2], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 2] }],
      initializers: [], nodes: [{ name: '/Gather', op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: 1 } }],
    }, [rand(6, 1), [4, 1]]],
    ['attention_batched_matmul', {
      // scaled dot-product attention over 2 heads: Q·Kᵀ and scores·V are batched products of signals
      graphName: 'att', inputs: [{ name: 'q', shape: [1, 2, 3, 4] }, { name: 'k', shape: [1, 2, 3, 4] }, { name: 'v', shape: [1, 2, 3, 4] }],
      outputs: [{ name: 'y', shape: [1, 2, 3, 4] }],
      initializers: [{ name: 'scale', dims: [], data: new Float32Array([0.5]) }],
      nodes: [
        { name: '/attn/Transpose', op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
        { name: '/attn/MatMul', op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
        { name: '/attn/Mul', op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
        { name: '/attn/Softmax', op: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: { axis: -1 } },
        { name: '/attn/MatMul_1', op: 'MatMul', inputs: ['p', 'v'], outputs: ['y'] },
      ],
    }, [rand(24, 8), rand(24, 9), rand(24, 10)]],
    ['transformer_block', {
      // a GPT-style block on token ids: embedding + position, LayerNorm, causal-free single-head
      // attention, residual, LayerNorm, GELU MLP, residual
      graphName: 'blk', inputs: [{ name: 'ids', shape: [1, 3], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 3, 4] }],
      initializers: [
        { name: 'wte', dims: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i * 1.3) * 0.8) },
        { name: 'wpe', dims: [1, 3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9) * 0.3) },
        { name: 'g', dims: [4], data: new Float32Array([1, 0.9, 1.1, 1]) }, { name: 'bt', dims: [4], data: new Float32Array([0, 0.1, -0.1, 0]) },
        { name: 'wq', dims: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.7) * 0.5) },
        { name: 'wk', dims: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => Math.cos(i * 0.6) * 0.5) },
        { name: 'wv', dims: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.5 + 1) * 0.5) },
        { name: 'w1', dims: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => Math.cos(i * 0.4) * 0.4) },
        { name: 'w2', dims: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i * 0.3) * 0.4) },
        { name: 'half', dims: [], data: new Float32Array([0.5]) },
      ],
      nodes: [
        { name: '/wte/Gather', op: 'Gather', inputs: ['wte', 'ids'], outputs: ['te'], attrs: { axis: 0 } },
        { name: '/wpe/Add', op: 'Add', inputs: ['te', 'wpe'], outputs: ['h0'] },
        { name: '/ln1', op: 'LayerNormalization', inputs: ['h0', 'g', 'bt'], outputs: ['n1'], attrs: { axis: -1 } },
        { name: '/q', op: 'MatMul', inputs: ['n1', 'wq'], outputs: ['q'] },
        { name: '/k', op: 'MatMul', inputs: ['n1', 'wk'], outputs: ['k'] },
        { name: '/v', op: 'MatMul', inputs: ['n1', 'wv'], outputs: ['v'] },
        { name: '/kt', op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 2, 1] } },
        { name: '/qk', op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
        { name: '/scale', op: 'Mul', inputs: ['s', 'half'], outputs: ['ss'] },
        { name: '/softmax', op: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: { axis: -1 } },
        { name: '/pv', op: 'MatMul', inputs: ['p', 'v'], outputs: ['att'] },
        { name: '/res1', op: 'Add', inputs: ['h0', 'att'], outputs: ['h1'] },
        { name: '/ln2', op: 'LayerNormalization', inputs: ['h1', 'g', 'bt'], outputs: ['n2'], attrs: { axis: -1 } },
        { name: '/fc1', op: 'MatMul', inputs: ['n2', 'w1'], outputs: ['f1'] },
        { name: '/gelu', op: 'Gelu', inputs: ['f1'], outputs: ['f2'], domain: '' },
        { name: '/fc2', op: 'MatMul', inputs: ['f2', 'w2'], outputs: ['f3'] },
        { name: '/res2', op: 'Add', inputs: ['h1', 'f3'], outputs: ['y'] },
      ],
      opset: 20,
    }, [[3, 7, 0]]],
    ['embedding_constant_table', {
      // a token embedding: a constant table indexed by an int64 input (one-hot by equality, linear in it)
      graphName: 'e', inputs: [{ name: 'ids', shape: [1, 3], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 3, 4] }],
      initializers: [{ name: 'table', dims: [10, 4], data: Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 0.7)) }],
      nodes: [
        { name: '/wte/Gather', op: 'Gather', inputs: ['table', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
        { name: '/act/Tanh', op: 'Tanh', inputs: ['e'], outputs: ['y'] },
      ],
    }, [[3, 7, 0]]],
    ['onehot_of_signal_indices', {
      // OneHot of int64 ids, negative ones counted from the end (one comparison per class and index)
      graphName: 'oh', inputs: [{ name: 'ids', shape: [1, 3], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 3, 4] }],
      initializers: [{ name: 'depth', dims: [], data: new Float32Array([4]) }, { name: 'vals', dims: [2], data: new Float32Array([-0.5, 2]) }],
      nodes: [{ name: '/OneHot', op: 'OneHot', inputs: ['ids', 'depth', 'vals'], outputs: ['y'], attrs: { axis: -1 } }],
      opset: 11,
    }, [[-1, 2, 0]]],
    ['crop_affine_thresholded_relu', {
      // the opset-1 ops that CoreML-era converters wrote (fns-candy): Crop, Affine, ThresholdedRelu
      graphName: 'c', inputs: [{ name: 'x', shape: [1, 2, 5, 5] }], outputs: [{ name: 'y', shape: [1, 2, 3, 2] }],
      initializers: [],
      nodes: [
        { name: '/Crop', op: 'Crop', inputs: ['x'], outputs: ['c'], attrs: { border: [2, 1, 1, 1] } },
        { name: '/Affine', op: 'Affine', inputs: ['c'], outputs: ['a'], attrs: { alpha: 1.5, beta: -0.25 } },
        { name: '/ThresholdedRelu', op: 'ThresholdedRelu', inputs: ['a'], outputs: ['y'], attrs: { alpha: 0.5 } },
      ],
      opset: 7,
    }, [rand(50, 11)]],
    ['svm_classifier_rbf', {
      // sklearn's SVC as SVMClassifier: RBF kernels, one-vs-one scores and votes, label and scores
      graphName: 'svm', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'label', shape: [1], type: 'int64' }, { name: 'scores', shape: [1, 3] }],
      initializers: [],
      nodes: [{
        name: '/SVM', op: 'SVMClassifier', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['label', 'scores'],
        attrs: {
          classlabels_ints: [0, 1, 2], vectors_per_class: [2, 1, 2], kernel_type: 'RBF', kernel_params: [0.5, 0, 3],
          support_vectors: rand(15, 12), coefficients: rand(10, 13), rho: [0.1, -0.2, 0.05], post_transform: 'NONE',
        },
      }],
      opset: 13,
    }, [rand(3, 14)]],
    ['argmax_equal_reciprocal', {
      graphName: 'a', inputs: [{ name: 'x', shape: [1, 5] }], outputs: [{ name: 'am', shape: [1], type: 'int64' }, { name: 'r', shape: [1, 5] }],
      initializers: [{ name: 'one', dims: [1], data: new Float32Array([1]) }],
      nodes: [
        { name: '/ArgMax', op: 'ArgMax', inputs: ['x'], outputs: ['am'], attrs: { axis: 1, keepdims: 0 } },
        { name: '/Abs', op: 'Abs', inputs: ['x'], outputs: ['ax'] },
        { name: '/Add', op: 'Add', inputs: ['ax', 'one'], outputs: ['d'] },
        { name: '/Reciprocal', op: 'Reciprocal', inputs: ['d'], outputs: ['r'] },
      ],
    }, [[0.5, -1.25, 1.75, 1.75, 0.25]]],
    ['layernorm_pow_lppool', {
      graphName: 'l', inputs: [{ name: 'x', shape: [1, 2, 2, 4] }], outputs: [{ name: 'y', shape: [1, 2, 2, 4] }, { name: 'p', shape: [1, 2, 1, 2] }],
      initializers: [{ name: 'g', dims: [4], data: new Float32Array([1, 0.5, -1, 2]) }, { name: 'b', dims: [4], data: new Float32Array([0, 0.1, 0.2, -0.3]) }, { name: 'three', dims: [], data: new Float32Array([3]) }],
      nodes: [
        { name: '/LayerNorm', op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['n'], attrs: { axis: -1 } },
        { name: '/Pow', op: 'Pow', inputs: ['n', 'three'], outputs: ['y'] },
        { name: '/LpPool', op: 'LpPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2], p: 2 } },
      ],
      opset: 18,
    }, [rand(16, 3)]],
    ['matmul_gemm_of_signals', {
      graphName: 'm', inputs: [{ name: 'a', shape: [2, 4] }, { name: 'b', shape: [4, 3] }, { name: 'w', shape: [3, 4] }, { name: 'c', shape: [3] }],
      outputs: [{ name: 'm', shape: [2, 3] }, { name: 'y', shape: [2, 3] }],
      initializers: [],
      nodes: [
        { name: '/MatMul', op: 'MatMul', inputs: ['a', 'b'], outputs: ['m'] },
        { name: '/Gemm', op: 'Gemm', inputs: ['a', 'w', 'c'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5, beta: 1.5 } },
      ],
    }, [rand(8, 4), rand(12, 5), rand(12, 6), rand(3, 7)]],
  ];
  for (const [name, spec, input] of cases) {
    it(name, async () => {
      const row = await runSpec(name, spec, input);
      expect(row.message).toBe('');
      expect(row.status).toBe('pass');
    }, 240_000);
  }
});
