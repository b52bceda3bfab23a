// Weight-only quantization: onnxruntime's MatMulNBits (com.microsoft; 2-, 4- and 8-bit weights in
// blocks along K, packed zero points or float ones, g_idx, bias) and the blocked DequantizeLinear
// of opset 21 on int4/uint4 weights (and QuantizeLinear to int4 on a signal). The weights fold to
// constants at compile time: the float rewrite matches onnxruntime-web, and a model compiles.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type InitializerSpec, type ModelSpec } from '../src/onnx/write.js';
import { compileSpec } from './helpers/compiled.js';
import { compare, expectErr, floatSamples, rng } from './helpers/ml-models.js';

const MS = 'com.microsoft';

/** n values in [lo, hi], integers. */
function ints(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.min(hi, Math.floor(lo + ((r() + 1) / 2) * (hi - lo + 1))));
}

/** Row-major values packed `bits` at a time from the low bit of each byte, each row padded to `perRow` bytes. */
function pack(values: number[], rows: number, perRow: number, bits: number): Uint8Array {
  const out = new Uint8Array(rows * perRow);
  const per = values.length / rows;
  values.forEach((v, i) => {
    const n = Math.floor(i / per);
    const bit = (i % per) * bits;
    out[n * perRow + (bit >> 3)]! |= v << (bit & 7);
  });
  return out;
}

/** The weights [K, N] MatMulNBits stands for, dequantized here from the same values. */
function dequantized(o: NBits, seed: number): number[] {
  const blocks = Math.ceil(o.K / o.block);
  const qs = ints(o.N * blocks * o.block, seed, 0, 2 ** o.bits - 1);
  const scales = ints(o.N * blocks, seed + 1, 1, 40).map((v) => v / 512);
  const zps = o.zeros ? ints(o.N * blocks, seed + 2, 0, 2 ** o.bits - 1).map((v) => v + (o.zeros === 'float' ? 0.25 : 0)) : undefined;
  const w = new Array<number>(o.K * o.N);
  for (let n = 0; n < o.N; n++) {
    for (let k = 0; k < o.K; k++) {
      const j = n * blocks + Math.floor(k / o.block);
      w[k * o.N + n] = (qs[n * blocks * o.block + k]! - (zps ? zps[j]! : 2 ** (o.bits - 1))) * scales[j]!;
    }
  }
  return w;
}

interface NBits { K: number; N: number; bits: number; block: number; zeros?: 'packed' | 'float'; gIdx?: boolean; bias?: boolean }

/** x [2, K] → MatMulNBits → y [2, N]. */
function nbits(o: NBits, seed: number): ModelSpec {
  const { K, N, bits, block } = o;
  const blocks = Math.ceil(K / block);
  const qs = ints(N * blocks * block, seed, 0, 2 ** bits - 1);
  const inits: InitializerSpec[] = [
    { name: 'B', dims: [N, blocks, (block * bits) / 8], data: pack(qs, N, (blocks * block * bits) / 8, bits) },
    { name: 'scales', dims: [N * blocks], data: Float32Array.from(ints(N * blocks, seed + 1, 1, 40), (v) => v / 512) },
  ];
  const inputs = ['x', 'B', 'scales'];
  if (o.zeros === 'packed') {
    const perRow = Math.ceil((blocks * bits) / 8);
    inits.push({ name: 'zp', dims: [N * perRow], data: pack(ints(N * blocks, seed + 2, 0, 2 ** bits - 1).flatMap((v, i) => (i % blocks === blocks - 1 ? [v, ...new Array<number>(perRow * 8 / bits - blocks).fill(0)] : [v])), N, perRow, bits) });
    inputs.push('zp');
  } else if (o.zeros === 'float') {
    inits.push({ name: 'zp', dims: [N * blocks], data: Float32Array.from(ints(N * blocks, seed + 2, 0, 2 ** bits - 1), (v) => v + 0.25) });
    inputs.push('zp');
  } else inputs.push('');
  if (o.gIdx) {
    inits.push({ name: 'g', dims: [K], data: Int32Array.from({ length: K }, (_, k) => (k * 7) % blocks) });
    inputs.push('g');
  } else inputs.push('');
  if (o.bias) {
    inits.push({ name: 'bias', dims: [N], data: Float32Array.from(ints(N, seed + 3, -50, 50), (v) => v / 64) });
    inputs.push('bias');
  }
  while (inputs.at(-1) === '') inputs.pop();
  return {
    graphName: `nbits${bits}_${K}x${N}_b${block}`, opset: 17, opsets: { [MS]: 1 }, inputs: [{ name: 'x', shape: [2, K] }], outputs: [{ name: 'y', shape: [2, N] }],
    initializers: inits, nodes: [{ name: '/nbits', op: 'MatMulNBits', domain: MS, inputs, outputs: ['y'], attrs: { K, N, bits, block_size: block } }],
  };
}

/** x [1, K] → DequantizeLinear (opset 21, int4/uint4 W [K, N] in blocks along `axis`) → MatMul → y [1, N]. */
function blockedDq(axis: 0 | 1, type: 'int4' | 'uint4', zeros: boolean): ModelSpec {
  const K = 40;
  const N = 6;
  const block = axis === 0 ? 16 : 4;
  const shape = axis === 0 ? [Math.ceil(K / block), N] : [K, Math.ceil(N / block)];
  const [lo, hi] = type === 'int4' ? [-8, 7] : [0, 15];
  const wq = ints(K * N, 11 + axis, lo, hi);
  const n = shape[0]! * shape[1]!;
  const inits: InitializerSpec[] = [
    { name: 'W', dims: [K, N], data: type === 'int4' ? Int8Array.from(wq) : Uint8Array.from(wq), type },
    { name: 'scale', dims: shape, data: Float32Array.from(ints(n, 13, 1, 30), (v) => v / 256) },
  ];
  if (zeros) inits.push({ name: 'zp', dims: shape, data: type === 'int4' ? Int8Array.from(ints(n, 14, -3, 3)) : Uint8Array.from(ints(n, 14, 5, 10)), type });
  return {
    graphName: `dq21_${type}_axis${axis}`, opset: 21, inputs: [{ name: 'x', shape: [1, K] }], outputs: [{ name: 'y', shape: [1, N] }], initializers: inits,
    nodes: [
      { name: '/dq', op: 'DequantizeLinear', inputs: ['W', 'scale', ...(zeros ? ['zp'] : [])], outputs: ['wd'], attrs: { axis, block_size: block } },
      { name: '/mm', op: 'MatMul', inputs: ['x', 'wd'], outputs: ['y'] },
    ],
  };
}

/** x [1, 12] → QuantizeLinear to int4 (output_dtype, per tensor) → DequantizeLinear → y: activations on the int4 grid. */
function int4Activations(): ModelSpec {
  return {
    graphName: 'q_int4', opset: 21, inputs: [{ name: 'x', shape: [1, 12] }], outputs: [{ name: 'y', shape: [1, 12] }],
    initializers: [{ name: 's', dims: [], data: Float32Array.from([0.25]) }, { name: 'z', dims: [], data: Int8Array.from([1]), type: 'int4' }],
    nodes: [
      { name: '/q', op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] },
      { name: '/dq', op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] },
    ],
  };
}

/** ids [3] (int64) → GatherBlockQuantized (a [V, D] table in blocks of 16 along D: int4, uint4 or 4-bit packed in uint8) → y [3, D]. */
function gatherBlocks(type: 'int4' | 'uint4' | 'packed', zeros: boolean): ModelSpec {
  const V = 5;
  const D = 48;
  const nb = D / 16;
  const q = ints(V * D, 31, 0, 15);
  const packed = (vals: number[], rows: number) => pack(vals, rows, Math.ceil(vals.length / rows / 2), 4);
  const data: InitializerSpec = type === 'packed' ? { name: 'T', dims: [V, D / 2], data: packed(q, V) }
    : { name: 'T', dims: [V, D], data: type === 'int4' ? Int8Array.from(q, (v) => v - 8) : Uint8Array.from(q), type };
  const inits: InitializerSpec[] = [data, { name: 's', dims: [V, nb], data: Float32Array.from(ints(V * nb, 32, 1, 30), (v) => v / 64) }];
  if (zeros) {
    const z = ints(V * nb, 33, type === 'int4' ? -8 : 0, type === 'int4' ? 7 : 15);
    inits.push(type === 'packed' ? { name: 'z', dims: [V, Math.ceil(nb / 2)], data: pack(z.flatMap((v, i) => (i % nb === nb - 1 ? [v, 0] : [v])), V, Math.ceil(nb / 2), 4) }
      : { name: 'z', dims: [V, nb], data: type === 'int4' ? Int8Array.from(z) : Uint8Array.from(z), type });
  }
  return {
    graphName: `gbq_${type}${zeros ? '_z' : ''}`, opset: 17, opsets: { [MS]: 1 }, inputs: [{ name: 'ids', shape: [3], type: 'int64' }], outputs: [{ name: 'y', shape: [3, D] }], initializers: inits,
    nodes: [{ name: '/gbq', op: 'GatherBlockQuantized', domain: MS, inputs: ['T', 'ids', 's', ...(zeros ? ['z'] : [])], outputs: ['y'], attrs: { block_size: 16, gather_axis: 0, quantize_axis: 1 } }],
  };
}

describe('weight-only quantization matches onnxruntime-web', () => {
  it('GatherBlockQuantized: int4, uint4 and packed uint8 tables, with and without zero points', async () => {
    for (const type of ['int4', 'uint4', 'packed'] as const) for (const zeros of [false, true]) await compare(gatherBlocks(type, zeros), [[[4, 0, 2]], [[1, 1, 3]]], 1e-6);
  });

  it('MatMulNBits: 4 bits, K a multiple of block_size or not, with packed zero points, bias', async () => {
    await compare(nbits({ K: 32, N: 3, bits: 4, block: 16 }, 1), floatSamples([2, 32], 4, 10), 1e-5);
    await compare(nbits({ K: 40, N: 5, bits: 4, block: 16, zeros: 'packed', bias: true }, 2), floatSamples([2, 40], 4, 20), 1e-5);
    await compare(nbits({ K: 64, N: 4, bits: 4, block: 32, zeros: 'packed' }, 3), floatSamples([2, 64], 4, 30), 1e-5);
  });

  it('MatMulNBits: 8 and 2 bits, float zero points', async () => {
    await compare(nbits({ K: 48, N: 3, bits: 8, block: 16, zeros: 'packed' }, 4), floatSamples([2, 48], 4, 40), 1e-5);
    await compare(nbits({ K: 32, N: 3, bits: 2, block: 16, zeros: 'packed' }, 5), floatSamples([2, 32], 4, 50), 1e-5);
    await compare(nbits({ K: 32, N: 3, bits: 4, block: 16, zeros: 'float' }, 6), floatSamples([2, 32], 4, 60), 1e-5);
  });

  it('DequantizeLinear with int4 and uint4 weights in blocks along either axis, with and without zero points', async () => {
    for (const axis of [0, 1] as const) for (const type of ['int4', 'uint4'] as const) for (const zeros of [false, true]) await compare(blockedDq(axis, type, zeros), floatSamples([1, 40], 3, 80), 1e-5);
  });

  it('QuantizeLinear to int4 on a signal saturates at [−8, 7]', async () => {
    const refs = await compare(int4Activations(), floatSamples([1, 12], 6, 90, 3), 1e-6);
    const q = refs.flatMap((r) => Array.from(r[0]!, (v) => v / 0.25 + 1));
    expect(Math.min(...q)).toBe(-8);
    expect(Math.max(...q)).toBe(7);
  });

  it('refuses what it cannot read, naming the node', () => {
    const m = nbits({ K: 32, N: 3, bits: 4, block: 16 }, 1);
    expectErr({ ...m, nodes: [{ ...m.nodes[0]!, attrs: { K: 32, N: 3, bits: 3, block_size: 16 } }] }, 'node /nbits (MatMulNBits): bits=3 is not supported');
    expectErr({ ...m, nodes: [{ ...m.nodes[0]!, attrs: { K: 32, N: 4, bits: 4, block_size: 16 } }] }, 'B holds 48 bytes');
    expectErr(nbits({ K: 32, N: 3, bits: 4, block: 16, gIdx: true }, 1), 'g_idx is not supported');
    const d = blockedDq(0, 'int4', false);
    expectErr({ ...d, nodes: [{ ...d.nodes[0]!, attrs: { axis: 0, block_size: 8 } }, d.nodes[1]!] }, 'node /dq (DequantizeLinear): the blocked scale has shape [3,6], block_size 8 along axis 0 of [40,6] needs [5,6]');
  });
});

describe('weight-only quantized models in a circuit', () => {
  it('a MatMulNBits layer and an int4 blocked one compile within tolerance of onnxruntime-web', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkonnx-nbits-'));
    const o: NBits = { K: 40, N: 5, bits: 4, block: 16, zeros: 'packed' };
    const calib = floatSamples([2, 40], 8, 100).map((s) => ({ input_data: s }));
    const c = await compileSpec(nbits(o, 2), dir, calib);
    // the weights are constants: the circuit is the float MatMul's by the dequantized weights
    const m = nbits(o, 2);
    const float: ModelSpec = { ...m, graphName: 'float_twin', opsets: {}, initializers: [{ name: 'W', dims: [40, 5], data: Float32Array.from(dequantized(o, 2)) }], nodes: [{ name: '/mm', op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }] };
    await compare(float, floatSamples([2, 40], 2, 105), 1e-5);
    expect(c.settings.circuit.constraints).toBe((await compileSpec(float, dir, calib)).settings.circuit.constraints);
    await compileSpec(blockedDq(1, 'int4', true), dir, floatSamples([1, 40], 8, 110).map((s) => ({ input_data: s })));
  }, 120_000);
});
