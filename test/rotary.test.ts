// RotaryEmbedding (ONNX opset 23 and com.microsoft) against onnxruntime-web: 4-D and 3-D inputs,
// halves and interleaved pairs, partial rotary sizes, caches read at constant positions, at
// positions from the input (a Gather by equality) and given per position; one model in a circuit.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AttrValue, InitializerSpec, ModelSpec, ValueSpec } from '../src/onnx/write.js';
import { compileSpec } from './helpers/compiled.js';
import { compare, rand } from './helpers/ml-models.js';

const MS = 'com.microsoft';
const [B, S, N, H] = [2, 3, 2, 8];
const MAX_POS = 6;
const cache = (name: string, half: number, f: (x: number) => number): InitializerSpec =>
  ({ name, dims: [MAX_POS, half], data: Float32Array.from({ length: MAX_POS * half }, (_, i) => f(Math.floor(i / half) / 10 ** ((i % half) / half))) });

function rope(name: string, x: ValueSpec, extra: { inputs?: ValueSpec[]; inits?: InitializerSpec[]; ins: string[]; attrs?: Record<string, AttrValue>; domain?: string }): ModelSpec {
  return {
    graphName: name, opset: extra.domain ? 17 : 23, ...(extra.domain ? { opsets: { [MS]: 1 } } : {}),
    inputs: [x, ...(extra.inputs ?? [])], outputs: [{ name: 'y', shape: x.shape }], initializers: extra.inits ?? [],
    nodes: [{ name: `/${name}`, op: 'RotaryEmbedding', domain: extra.domain ?? '', inputs: ['x', ...extra.ins], outputs: ['y'], attrs: extra.attrs ?? {} }],
  };
}
const numel = (s: (number | string)[]) => (s as number[]).reduce((a, b) => a * b, 1);
const draws = (shape: number[], n: number, seed: number) => Array.from({ length: n }, (_, k) => rand(numel(shape), seed + k, 2));

describe('RotaryEmbedding (opset 23) matches onnxruntime-web', () => {
  const x4: ValueSpec = { name: 'x', shape: [B, N, S, H] };
  const full = [cache('cos', H / 2, Math.cos), cache('sin', H / 2, Math.sin)];
  const posConst: InitializerSpec = { name: 'pos', dims: [B, S], data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n]) };

  it('4-D input, constant positions: halves and interleaved pairs', async () => {
    for (const interleaved of [0, 1]) {
      await compare(rope(`r23_${interleaved}`, x4, { inits: [...full, posConst], ins: ['cos', 'sin', 'pos'], attrs: { interleaved } }), draws([B, N, S, H], 2, 10 + interleaved).map((d) => [d]), 1e-4);
    }
  });

  it('3-D input with num_heads and a partial rotary size; caches given per position (no position_ids)', async () => {
    const x3: ValueSpec = { name: 'x', shape: [B, S, N * H] };
    const part = [cache('cos', 2, Math.cos), cache('sin', 2, Math.sin)];
    await compare(rope('r23_partial', x3, { inits: [...part, posConst], ins: ['cos', 'sin', 'pos'], attrs: { num_heads: N, rotary_embedding_dim: 4, interleaved: 1 } }), draws([B, S, N * H], 2, 20).map((d) => [d]), 1e-4);
    const perPos = full.map((c) => ({ ...c, dims: [B, S, H / 2], data: (c.data as Float32Array).slice(0, B * S * H / 2) }));
    await compare(rope('r23_cached', x3, { inits: perPos, ins: ['cos', 'sin'], attrs: { num_heads: N } }), draws([B, S, N * H], 2, 30).map((d) => [d]), 1e-4);
  });

  it('positions from the input (int64 position_ids)', async () => {
    const pos: ValueSpec = { name: 'pos', shape: [B, S], type: 'int64' };
    await compare(rope('r23_input_pos', x4, { inputs: [pos], inits: full, ins: ['cos', 'sin', 'pos'] }), draws([B, N, S, H], 2, 40).map((d, k) => [d, [5, 0, 3, 1 + k, 2, 4]]), 1e-4);
  });
});

describe('com.microsoft RotaryEmbedding matches onnxruntime-web', () => {
  const full = [cache('cos', H / 2, Math.cos), cache('sin', H / 2, Math.sin)];

  it('3-D input, heads from the cache width, one position_ids value as the first position', async () => {
    const x3: ValueSpec = { name: 'x', shape: [B, S, N * H] };
    const off: ValueSpec = { name: 'pos', shape: [1], type: 'int64' };
    await compare(rope('ms_offset', x3, { inputs: [off], inits: full, ins: ['pos', 'cos', 'sin'], domain: MS }), draws([B, S, N * H], 2, 50).map((d, k) => [d, [k + 1]]), 1e-4);
  });

  it('4-D [B, heads, S, head] input, position_ids [B, S], interleaved', async () => {
    const x4: ValueSpec = { name: 'x', shape: [B, N, S, H] };
    const pos: ValueSpec = { name: 'pos', shape: [B, S], type: 'int64' };
    await compare(rope('ms_4d', x4, { inputs: [pos], inits: full, ins: ['pos', 'cos', 'sin'], attrs: { interleaved: 1, num_heads: N }, domain: MS }), draws([B, N, S, H], 2, 60).map((d) => [d, [0, 1, 2, 2, 3, 4]]), 1e-4);
  });
});

describe('RotaryEmbedding in a circuit', () => {
  it('positions from the input: compiles within tolerance, circom builds the same system', async () => {
    const x: ValueSpec = { name: 'x', shape: [1, 1, 3, 4] };
    const pos: ValueSpec = { name: 'pos', shape: [1, 3], type: 'int64' };
    const m = rope('r23_circuit', x, { inputs: [pos], inits: [cache('cos', 2, Math.cos), cache('sin', 2, Math.sin)], ins: ['cos', 'sin', 'pos'] });
    const cal = draws([1, 1, 3, 4], 6, 70).map((d, k) => ({ input_data: [d, [k % 4, (k + 1) % 6, (k + 3) % 6]] }));
    const c = await compileSpec(m, mkdtempSync(join(tmpdir(), 'zkonnx-rope-')), cal, true);
    expect(c.settings.circuit.constraints).toBeGreaterThan(0);
  }, 120_000);
});
