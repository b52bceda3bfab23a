// Softmax divides once a row: 1/Σ by a DivRound a row, then p = e·(1/Σ) by a product and its
// rescale an element, where a DivRound an element paid three range checks of Σ's width. The
// integers stay within a step of the exactly rounded quotient e·2^s/Σ of the same exp integers,
// circom builds the same system, and a changed 1/Σ or p fails the constraints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import type { ModelSpec } from '../src/onnx/write.js';
import { divRound } from '../src/quantize/int.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { compileSpec } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-softmax-'));
afterAll(async () => { await releaseCurves(); });

const R = 3;
const F = 6;
/** x (R×F) → MatMul (F×n) → Softmax over rows of n */
function spec(n: number): ModelSpec {
  return {
    graphName: `softmax${n}`, inputs: [{ name: 'x', shape: [R, F] }], outputs: [{ name: 'y', shape: [R, n] }],
    initializers: [{ name: 'W', dims: [F, n], data: Float32Array.from({ length: F * n }, (_, i) => Math.sin(i * 1.7) * 0.9) }],
    nodes: [
      { name: '/fc/MatMul', op: 'MatMul', inputs: ['x', 'W'], outputs: ['z'] },
      { name: '/head/Softmax', op: 'Softmax', inputs: ['z'], outputs: ['y'], attrs: { axis: -1 } },
    ],
  };
}
const sample = (k: number) => Array.from({ length: R * F }, (_, i) => Math.cos(k * 3.1 + i * 0.7) * 1.5);
const calibration = Array.from({ length: 6 }, (_, k) => ({ input_data: [sample(k)] }));

describe('Softmax', () => {
  it('one division a row and a product an element: within a step of e·2^s/Σ, circom builds the same system, a changed 1/Σ or p fails', async () => {
    const n = 24;
    const c = await compileSpec(spec(n), work, calibration, true);
    const kinds = c.qg.acts.map((a) => [a.name, a.op.kind, a.size]);
    expect(kinds).toContainEqual(['y:inv', 'div', R]);
    expect(kinds).toContainEqual(['y', 'mul', R * n]);
    const exp = c.qg.acts.find((a) => a.name === 'y:exp')!;
    const inv = c.qg.acts.find((a) => a.name === 'y:inv')!;
    const out = c.qg.acts.find((a) => a.name === 'y')!;
    // the inverse keeps one bit past the output's scale
    expect(inv.scale).toBe(out.scale + 1);
    let worst = 0n;
    for (let k = 0; k < 6; k++) {
      const { values } = execQuant(c.qg, quantizeInputs(c.qg, [Float64Array.from(sample(10 + k))]));
      for (let r = 0; r < R; r++) {
        const e = Array.from({ length: n }, (_, j) => values[exp.offset + r * n + j]!);
        const sum = e.reduce((a, b) => a + b, 0n);
        const den = sum > 1n << BigInt(exp.scale) ? sum : 1n << BigInt(exp.scale);
        for (let j = 0; j < n; j++) {
          const d = values[out.offset + r * n + j]! - divRound(e[j]! << BigInt(out.scale), den);
          if ((d < 0n ? -d : d) > worst) worst = d < 0n ? -d : d;
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1n);
    const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, [Float64Array.from(sample(3))]) }, c.paths.file('r1cs'));
    expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
    // the values are linear in their decompositions' bits: one step of 1/Σ is its quotient's low
    // bit, one step of p its rescale's; either changed alone (the rest of the witness kept) fails
    const act = (a: typeof inv) => `main.a${c.qg.acts.indexOf(a)}`;
    for (const name of [`${act(inv)}[1].rq.bits[0]`, `${act(out)}[${n + 5}].u[0]`]) {
      const wire = c.sym.get(name)!;
      expect(wire, name).toBeGreaterThan(0);
      const bad = w.slice();
      bad[wire] = 1n - bad[wire]!;
      expect((await checkConstraints(c.r1cs, bad)).ok, name).toBe(false);
    }
  }, 120_000);

  it('a row of one element keeps its one division', async () => {
    const c = await compileSpec(spec(1), work, calibration);
    const last = c.qg.acts.at(-1)!;
    expect([last.name, last.op.kind, last.size]).toEqual(['y', 'div', R]);
    expect(c.qg.acts.some((a) => a.name === 'y:inv')).toBe(false);
  }, 60_000);
});
