// A ReLU next to a max pool of a convolution's values (baked weights), in either order: max,
// ReLU and the rescale's rounding are monotone, so the pool takes the maxima of the unrescaled
// values and one rescale+ReLU follows each window (src/ir/linearize.ts reluBeforePool,
// poolBeforeRelu), instead of a rescale+ReLU for every value and comparisons after. The same
// integers come out; the maxima are the Max2 template's, on wider operands.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { circuitWitness } from '../src/compiler/circuit.js';
import type { ModelSpec } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { compileSpec, satisfiedFlipped } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-pool-relu-'));
afterAll(async () => { await releaseCurves(); });

const H = 8;
const C = 3;
const wave = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + k) * 0.4);
/** x → Conv 3×3 (3 channels) → `act` and MaxPool 2×2 in `order` → Flatten → MatMul; `keep`: the first one's values are an output too */
function spec(name: string, order: 'relu-pool' | 'pool-relu', keep = false, act: 'Relu' | 'LeakyRelu' = 'Relu'): ModelSpec {
  const relu = (inputs: string[], outputs: string[]) => ({ name: '/relu', op: act, inputs, outputs, ...(act === 'LeakyRelu' ? { attrs: { alpha: 0.1 } } : {}) });
  const [first, second] = order === 'relu-pool'
    ? [relu(['c'], ['r']), { name: '/pool', op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }]
    : [{ name: '/pool', op: 'MaxPool', inputs: ['c'], outputs: ['r'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }, relu(['r'], ['p'])];
  const pooled = C * (H / 2) * (H / 2);
  return {
    graphName: name,
    inputs: [{ name: 'x', shape: [1, 1, H, H] }],
    outputs: [{ name: 'y', shape: [1, 4] }, ...(keep ? [{ name: 'r', shape: order === 'relu-pool' ? [1, C, H, H] : [1, C, H / 2, H / 2] }] : [])],
    initializers: [
      { name: 'K', dims: [C, 1, 3, 3], data: wave(C * 9, 1) },
      { name: 'B', dims: [C], data: Float32Array.from([0.05, -0.1, 0.02]) },
      { name: 'S', dims: [2], data: BigInt64Array.from([1n, BigInt(pooled)]) },
      { name: 'W', dims: [pooled, 4], data: wave(pooled * 4, 2) },
    ],
    nodes: [
      { name: '/conv', op: 'Conv', inputs: ['x', 'K', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      first, second,
      { name: '/flat', op: 'Reshape', inputs: ['p', 'S'], outputs: ['f'] },
      { name: '/fc', op: 'MatMul', inputs: ['f', 'W'], outputs: ['y'] },
    ],
  };
}
const sample = (k: number) => Array.from({ length: H * H }, (_, i) => Math.round((Math.cos(i * 0.9 + k * 2.3) * 0.5 + 0.5) * 100) / 100);
const calibration = Array.from({ length: 6 }, (_, k) => ({ input_data: [sample(k)] }));

type Compiled = Awaited<ReturnType<typeof compileSpec>>;

/** `c` computes the integers of `kept` (an activation for every value) on 6 inputs; its witness holds, a changed maximum or activation output does not. */
async function sameIntegersAndSound(c: Compiled, kept: Compiled, seed: number): Promise<void> {
  for (let k = 0; k < 6; k++) {
    const x = [Float64Array.from(sample(seed + k))];
    expect(execQuant(c.qg, quantizeInputs(c.qg, x)).outputs[0]).toEqual(execQuant(kept.qg, quantizeInputs(kept.qg, x)).outputs[0]);
  }
  const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, [Float64Array.from(sample(seed))]) }, c.paths.file('r1cs'));
  expect(await satisfiedFlipped(c, w, '/pool')).toBe(false);
  expect(await satisfiedFlipped(c, w, '/relu')).toBe(false);
}

describe('ReLU and MaxPool of a convolution', () => {
  it('one rescale+ReLU a window, in either order: the same integers as a rescale+ReLU a value, a quarter of the rescales, circom builds the same system', async () => {
    const kept = await compileSpec(spec('kept', 'relu-pool', true), work, calibration);
    // the ReLU's values are read by an output too: a rescale+ReLU for each of the 192
    expect(kept.qg.acts.map((a) => [a.op.kind, a.size])).toEqual([['rescale', C * H * H], ['max', C * 16]]);
    for (const [order, checkCircom] of [['relu-pool', true], ['pool-relu', false]] as const) {
      const c = await compileSpec(spec(order, order), work, calibration, checkCircom);
      expect(c.qg.acts.map((a) => [a.op.kind, a.size, 'relu' in a.op ? a.op.relu : undefined])).toEqual([['max', C * 16, undefined], ['rescale', C * 16, true]]);
      // the maxima are of the convolution's unrescaled values: rows of 9 taps and a bias
      const max = c.qg.acts[0]!;
      expect(max.args.rowStart[1]! - max.args.rowStart[0]!).toBeGreaterThan(1);
      expect(c.settings.circuit.constraints).toBeLessThan(0.8 * kept.settings.circuit.constraints);
      console.log(`${order}: ${c.settings.circuit.constraints} constraints; a rescale+ReLU a value: ${kept.settings.circuit.constraints}`);
      await sameIntegersAndSound(c, kept, 10);
    }
  }, 120_000);

  it('LeakyReLU (α = 0.1) likewise: the maxima rescaled once a window, then max(x, αx), in either order; the same integers', async () => {
    const kept = await compileSpec(spec('leaky-kept', 'relu-pool', true, 'LeakyRelu'), work, calibration);
    expect(kept.qg.acts.map((a) => [a.op.kind, a.size])).toEqual([['rescale', C * H * H], ['max', C * H * H], ['max', C * 16]]);
    for (const order of ['relu-pool', 'pool-relu'] as const) {
      const c = await compileSpec(spec(`leaky-${order}`, order, false, 'LeakyRelu'), work, calibration, order === 'relu-pool');
      expect(c.qg.acts.map((a) => [a.op.kind, a.size])).toEqual([['max', C * 16], ['rescale', C * 16], ['max', C * 16]]);
      expect(c.settings.circuit.constraints).toBeLessThan(0.6 * kept.settings.circuit.constraints);
      console.log(`LeakyReLU ${order}: ${c.settings.circuit.constraints} constraints; an activation a value: ${kept.settings.circuit.constraints}`);
      await sameIntegersAndSound(c, kept, 20);
    }
  }, 120_000);
});
