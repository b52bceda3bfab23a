// The bundled CNN (circomlib-ml's MNIST architecture, trained on real digits): its circuit is at
// most 1/20 of circomlib-ml's 2,045,276 constraints, circom builds the very system zkonnx writes
// for it (compile --check-circom), the quantized executor agrees with the float model on ≥ 99.5%
// of 1,000 held-out digits, and digits prove and verify end to end.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, prove, readSettings, setup, verify } from '../src/api.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { BuildPaths } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { releaseCurves } from '../src/snark.js';

const dir = join(__dirname, '..', 'models', 'mnist-cnn');
const CIRCOMLIB_ML_CONSTRAINTS = 2_045_276;
export const CNN_PARAMS = { activationBits: 8, weightBits: 8 };
const test = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
const buildDir = join(mkdtempSync(join(tmpdir(), 'zkonnx-cnn-')), 'mnist-cnn');

beforeAll(async () => {
  await compile({ model: join(dir, 'model.onnx'), outDir: buildDir, calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), params: CNN_PARAMS, checkCircom: true });
}, 900_000);
afterAll(async () => { await releaseCurves(); });

describe('models/mnist-cnn', () => {
  it('circom (--O1) builds the same constraint system and witness from circuit.circom', () => {
    const s = readSettings(buildDir);
    expect(s.circuit.checkCircom).toMatchObject({ same: true, constraints: s.circuit.constraints, wires: s.circuit.wires, witnessCompared: s.circuit.wires });
  });

  it('compiles to at most 1/20 of circomlib-ml\'s constraints for the same architecture', () => {
    const s = readSettings(buildDir);
    expect(s.circuit.constraints).toBeLessThanOrEqual(CIRCOMLIB_ML_CONSTRAINTS / 20);
    // every constraint is accounted for by a layer or an input range check
    const parts = s.layers.reduce((n, l) => n + l.constraints, 0) + s.inputs.reduce((n, i) => n + i.constraints, 0);
    expect(parts).toBeGreaterThan(0.95 * s.circuit.constraints);
  });

  it('agrees with the float model on ≥ 99.5% of 1,000 held-out digits; accuracy within 0.5 points', async () => {
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
    const g = { inputs: [{ name: 'input', shape: [1, 1, 28, 28] }], outputs: [{ name: 'digit', shape: [1] }] };
    let agree = 0;
    let rightQ = 0;
    let rightF = 0;
    for (let i = 0; i < test.inputs.length; i++) {
      const x = Float64Array.from(test.inputs[i]!);
      const f = (await runReference(join(dir, 'model.onnx'), g.inputs, [x], g.outputs))[0]![0]!;
      const q = Number(execQuant(qg, quantizeInputs(qg, [x])).outputs[0]![0]!);
      if (q === f) agree++;
      if (q === test.labels[i]) rightQ++;
      if (f === test.labels[i]) rightF++;
    }
    const n = test.inputs.length;
    expect(n).toBe(1000);
    expect(agree / n).toBeGreaterThanOrEqual(0.995);
    expect(Math.abs(rightQ - rightF) / n).toBeLessThanOrEqual(0.005);
  }, 300_000);

  it('proves and verifies held-out digits end to end', async () => {
    await setup({ buildDir });
    for (const i of [0, 1]) {
      const x = test.inputs[i]!;
      const p = await prove({ buildDir, input: { input_data: [x] }, name: `digit${i}` });
      expect(p.outputs[0]!.values[0]).toBe(p.reference!.values[0]![0]);
      expect(await verify({ buildDir, name: `digit${i}` })).toBe(true);
    }
  }, 900_000);
});
