/**
 * Gather by indices from the input (a token embedding): each index must be one of 0 … n − 1.
 * ONNX leaves others undefined (onnxruntime refuses them), so the circuit refuses them too: the
 * index's equalities with 0 … n − 1 must sum to 1. Before, an index out of range gathered a row
 * of zeros and proved it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { IN_RANGE } from '../src/ir/graph.js';
import type { ModelSpec } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { compileSpec } from './helpers/compiled.js';

const embedding: ModelSpec = {
  graphName: 'emb', inputs: [{ name: 'ids', shape: [1, 3], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 3, 4] }],
  initializers: [{ name: 'table', dims: [10, 4], data: Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 0.7)) }],
  nodes: [
    { name: '/wte/Gather', op: 'Gather', inputs: ['table', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
    { name: '/act/Tanh', op: 'Tanh', inputs: ['e'], outputs: ['y'] },
  ],
};

describe('Gather by indices from the input', () => {
  it('an index out of 0 … n − 1 is refused naming the node; a witness that admits one fails the constraints', async () => {
    // calibrated on ids 0 … 9: the input's range check admits 0 … 15 (4 bits), the Gather 0 … 9
    const c = await compileSpec(embedding, mkdtempSync(join(tmpdir(), 'zkonnx-gather-')), [{ input_data: [[3, 7, 0]] }, { input_data: [[9, 1, 2]] }], true);
    const ok = quantizeInputs(c.qg, [[3, 7, 9]]);
    expect((await checkConstraints(c.r1cs, await circuitWitness(c.qg, c.settings.visibility, {}, { qin: ok }, c.paths.file('r1cs')))).ok).toBe(true);
    for (const [ids, at] of [[[3, 10, 0], 1], [[15, 2, 0], 0]] as const) {
      expect(() => execQuant(c.qg, quantizeInputs(c.qg, [[...ids]]))).toThrow(`node /wte/Gather: index ${at} of those it reads is not one of 0 … 9`);
    }
    // the witness of a circuit that admitted ids [3, 10, 0] (the radicand of index 1's check
    // lifted by one, so that the all-zero equalities of 10 pass): the real circuit refuses it
    const admit = { ...c.qg, acts: c.qg.acts.map((a) => (a.name.endsWith(IN_RANGE) ? { ...a, args: { ...a.args, bias: a.args.bias.map((b, r) => (r === a.argStart[1] ? b + 1n : b)) } } : a)) };
    const bad = quantizeInputs(c.qg, [[3, 10, 0]]);
    expect(() => execQuant(admit, bad)).not.toThrow();
    const w = await circuitWitness(admit, c.settings.visibility, {}, { qin: bad }, c.paths.file('r1cs'));
    expect((await checkConstraints(c.r1cs, w)).ok).toBe(false);
  }, 120_000);
});
