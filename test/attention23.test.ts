// ONNX Attention (opset 23, src/onnx/attention.ts) against onnxruntime-web: 4-D and 3-D layouts,
// grouped key/value heads, past keys and values with the present outputs, is_causal (with and
// without past keys), float and bool masks, a given scale; one of them compiled into a circuit
// that circom checks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec, NodeSpec, ValueSpec } from '../src/onnx/write.js';
import { compileSpec } from './helpers/compiled.js';
import { compare, rand } from './helpers/ml-models.js';

const numel = (s: (number | string)[]) => (s as number[]).reduce((a, b) => a * b, 1);
function attn(name: string, ins: ValueSpec[], outs: ValueSpec[], attrs: NodeSpec['attrs'], inputs?: string[]): ModelSpec {
  return { graphName: name, opset: 23, inputs: ins, outputs: outs, initializers: [], nodes: [{ name: `/${name}`, op: 'Attention', inputs: inputs ?? ins.map((v) => v.name), outputs: outs.map((o) => o.name), attrs }] };
}
const draws = (ins: ValueSpec[], n: number, seed: number) => Array.from({ length: n }, (_, k) => ins.map((v, j) => (v.type === 'bool' ? rand(numel(v.shape), seed + 7 * k + j).map((x) => (x > -0.5 ? 1 : 0)) : rand(numel(v.shape), seed + 7 * k + j, 1.5))));

describe('ONNX Attention (opset 23) matches onnxruntime-web', () => {
  it('4-D Q, K, V; a given scale; is_causal (query i sees keys ≤ i)', async () => {
    const q: ValueSpec = { name: 'q', shape: [1, 2, 3, 4] };
    const kv = (n: string): ValueSpec => ({ name: n, shape: [1, 2, 5, 4] });
    const y: ValueSpec = { name: 'y', shape: [1, 2, 3, 4] };
    await compare(attn('att4', [q, kv('k'), kv('v')], [y], {}), draws([q, kv('k'), kv('v')], 3, 10), 1e-3);
    await compare(attn('att4_scale', [q, kv('k'), kv('v')], [y], { scale: 0.3 }), draws([q, kv('k'), kv('v')], 2, 20), 1e-3);
    await compare(attn('att4_causal', [q, kv('k'), kv('v')], [y], { is_causal: 1 }), draws([q, kv('k'), kv('v')], 3, 30), 1e-3);
  });

  it('past_key and past_value before K and V, with present_key and present_value', async () => {
    const ins: ValueSpec[] = [
      { name: 'q', shape: [1, 2, 1, 4] }, { name: 'k', shape: [1, 2, 1, 4] }, { name: 'v', shape: [1, 2, 1, 4] },
      { name: 'pk', shape: [1, 2, 3, 4] }, { name: 'pv', shape: [1, 2, 3, 4] },
    ];
    const outs: ValueSpec[] = [{ name: 'y', shape: [1, 2, 1, 4] }, { name: 'present_k', shape: [1, 2, 4, 4] }, { name: 'present_v', shape: [1, 2, 4, 4] }];
    await compare(attn('att_past', ins, outs, {}, ['q', 'k', 'v', '', 'pk', 'pv']), draws(ins, 3, 40), 1e-3);
    const ins2: ValueSpec[] = ins.map((v) => (['q', 'k', 'v'].includes(v.name) ? { ...v, shape: [1, 2, 2, 4] } : v));
    const outs2: ValueSpec[] = [{ name: 'y', shape: [1, 2, 2, 4] }, { name: 'present_k', shape: [1, 2, 5, 4] }, { name: 'present_v', shape: [1, 2, 5, 4] }];
    await compare(attn('att_past_causal', ins2, outs2, { is_causal: 1 }, ['q', 'k', 'v', '', 'pk', 'pv']), draws(ins2, 3, 45), 1e-3);
  });

  it('3-D layout with grouped heads (4 query heads, 2 key/value heads) and a float mask; a bool mask input', async () => {
    const ins3: ValueSpec[] = [{ name: 'q', shape: [1, 3, 8] }, { name: 'k', shape: [1, 5, 4] }, { name: 'v', shape: [1, 5, 6] }, { name: 'm', shape: [3, 5] }];
    await compare(attn('att3_gqa', ins3, [{ name: 'y', shape: [1, 3, 12] }], { q_num_heads: 4, kv_num_heads: 2 }), draws(ins3, 3, 50), 1e-3);
    const insB: ValueSpec[] = [{ name: 'q', shape: [1, 2, 3, 4] }, { name: 'k', shape: [1, 2, 5, 4] }, { name: 'v', shape: [1, 2, 5, 4] }, { name: 'm', shape: [1, 1, 3, 5], type: 'bool' }];
    // each query keeps its first key (a row with every key masked is not compared)
    const samples = draws(insB, 3, 60).map((s) => [...s.slice(0, 3), s[3]!.map((v, i) => (i % 5 === 0 ? 1 : v))]);
    await compare(attn('att_bool', insB, [{ name: 'y', shape: [1, 2, 3, 4] }], {}), samples, 1e-3);
  });

  it('refuses softcap and the qk_matmul_output output, naming the node', async () => {
    const q: ValueSpec = { name: 'q', shape: [1, 2, 3, 4] };
    const kv = (n: string): ValueSpec => ({ name: n, shape: [1, 2, 5, 4] });
    const y: ValueSpec = { name: 'y', shape: [1, 2, 3, 4] };
    await expect(compare(attn('att_softcap', [q, kv('k'), kv('v')], [y], { softcap: 30 }), [])).rejects.toThrow('node /att_softcap (Attention): softcap is not supported');
  });
});

describe('ONNX Attention in a circuit', () => {
  it('a causal 4-D attention compiles within tolerance of onnxruntime-web; circom builds the same system', async () => {
    const q: ValueSpec = { name: 'q', shape: [1, 1, 3, 2] };
    const kv = (n: string): ValueSpec => ({ name: n, shape: [1, 1, 3, 2] });
    const m = attn('att_circuit', [q, kv('k'), kv('v')], [{ name: 'y', shape: [1, 1, 3, 2] }], { is_causal: 1 });
    const c = await compileSpec(m, mkdtempSync(join(tmpdir(), 'zkonnx-att23-')), draws([q, kv('k'), kv('v')], 8, 70).map((s) => ({ input_data: s })), true);
    expect(c.settings.circuit.constraints).toBeGreaterThan(0);
  }, 120_000);
});
