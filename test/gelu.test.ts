// GELU as relu(x) − h(x), h(x) = |x|·Φ(−|x|): one ClampedPoly in relu mode over the
// pre-activation, where x·Φ(x) took a rescale of x, Φ's polynomial and a product. Both forms
// (erf and tanh): within the stated error of GELU of the same pre-activation integers, circom
// builds the same system, a changed ReLU part fails the constraints.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { SCALAR_FNS } from '../src/ir/ops/scalar.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel, type InitializerSpec, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { compileSpec } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-gelu-'));
afterAll(async () => { await releaseCurves(); });

const F = 16;
const H = 24;
/** x (2×F) → MatMul + bias → Gelu (opset 20) */
function spec(approximate: 'none' | 'tanh', wscale = 0.6): ModelSpec {
  return {
    graphName: `gelu_${approximate}`, opset: 20, inputs: [{ name: 'x', shape: [2, F] }], outputs: [{ name: 'y', shape: [2, H] }],
    initializers: [
      { name: 'W', dims: [F, H], data: Float32Array.from({ length: F * H }, (_, i) => Math.sin(i * 1.3) * wscale) },
      { name: 'b', dims: [H], data: Float32Array.from({ length: H }, (_, i) => Math.cos(i) * 0.5) },
    ],
    nodes: [
      { name: '/fc/MatMul', op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
      { name: '/fc/Add', op: 'Add', inputs: ['m', 'b'], outputs: ['z'] },
      { name: '/mlp/Gelu', op: 'Gelu', inputs: ['z'], outputs: ['y'], attrs: { approximate } },
    ],
  };
}
const sample = (k: number) => Array.from({ length: 2 * F }, (_, i) => Math.cos(k * 2.3 + i * 0.9) * 1.2);
const calibration = Array.from({ length: 6 }, (_, k) => ({ input_data: [sample(k)] }));

describe('GELU', () => {
  for (const approximate of ['none', 'tanh'] as const) {
    it(`approximate=${approximate}: one ClampedPoly in relu mode an element, within its stated error, circom builds the same system, a changed ReLU part fails`, async () => {
      const c = await compileSpec(spec(approximate), work, calibration, true);
      const gelu = c.qg.acts.find((a) => a.nodes.includes('/mlp/Gelu'))!;
      expect(c.qg.acts.filter((a) => a.nodes.includes('/mlp/Gelu'))).toHaveLength(1);
      expect(gelu.op).toMatchObject({ kind: 'fn', fn: approximate === 'tanh' ? 'gelu_tanh_h' : 'gelu_h', reluMinus: true });
      const k = gelu.argScale - gelu.scale;
      expect(gelu.clamp).toMatchObject({ fused: true, relu: k });
      // the domain is [−2^(B−1), 2^(B−1)): 0 starts a segment
      expect(gelu.poly!.lo).toBe(-(1n << BigInt(gelu.aux[0]! - 1)));
      const layer = c.settings.layers.find((l) => l.name === gelu.name)!;
      expect(layer.constraints / gelu.size).toBeLessThan(100);
      // the integers against GELU of the pre-activation integers: within the stated error
      const gel = (x: number) => Math.max(0, x) - SCALAR_FNS[approximate === 'tanh' ? 'gelu_tanh_h' : 'gelu_h']!(x, []);
      let worst = 0;
      for (let s = 0; s < 6; s++) {
        const { values } = execQuant(c.qg, quantizeInputs(c.qg, [Float64Array.from(sample(20 + s))]));
        const { coef, index, bias, rowStart } = gelu.args;
        for (let i = 0; i < gelu.size; i++) {
          let x = bias[i]!;
          for (let t = rowStart[i]!; t < rowStart[i + 1]!; t++) x += coef[t]! * values[index[t]!]!;
          const err = Math.abs(Number(values[gelu.offset + i]!) / 2 ** gelu.scale - gel(Number(x) / 2 ** gelu.argScale));
          if (err > worst) worst = err;
        }
      }
      expect(worst).toBeLessThanOrEqual(gelu.poly!.maxError + 1e-12);
      const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, [Float64Array.from(sample(3))]) }, c.paths.file('r1cs'));
      expect((await checkConstraints(c.r1cs, w)).ok).toBe(true);
      const name = `main.a${c.qg.acts.indexOf(gelu)}`;
      for (const j of [0, 5, 17]) {
        const wire = c.sym.get(`${name}[${j}].relu`)!;
        expect(wire).toBeGreaterThan(0);
        const bad = w.slice();
        bad[wire] = bad[wire]! + 1n;
        expect((await checkConstraints(c.r1cs, bad)).ok).toBe(false);
      }
    }, 120_000);
  }
});

describe('GELU headroom', () => {
  it('the decomposition covers 2^headroom times the calibrated |x|, not the whole interval: an input past it is refused naming the node', async () => {
    // pre-activations of about ±20, an interval ten times wider, GELU's h constant past ±5
    const capped = await compileSpec({ ...spec('none', 3), graphName: 'gelu_capped' }, work, calibration, false, { headroomBits: 1 });
    const whole = await compileSpec({ ...spec('none', 3), graphName: 'gelu_whole' }, work, calibration, false, { headroomBits: 64 });
    const w = (c: typeof capped) => c.qg.acts.find((a) => a.nodes.includes('/mlp/Gelu'))!.clamp!.bits;
    expect(Math.max(...w(capped))).toBeLessThan(Math.min(...w(whole)));
    // the model's integer inputs times 16 (past the input range check too, which qexec leaves to the circuit)
    const qin = quantizeInputs(capped.qg, [Float64Array.from(sample(4))]).map((v) => v.map((q) => q * 16n));
    expect(() => execQuant(capped.qg, qin)).toThrow(/\/mlp\/Gelu.*exceeds its \d+-bit decomposition/);
    expect(() => execQuant(whole.qg, qin)).not.toThrow();
  }, 60_000);
});

/** x (2×F) → MatMul → a written-out chain from z to y (the nodes given), opset 17 */
function written(name: string, chain: NodeSpec[], consts: Record<string, number>, extraOutputs: string[] = []): ModelSpec {
  const base = spec('none');
  return {
    ...base, graphName: name, opset: 17,
    outputs: [{ name: 'y', shape: [2, H] }, ...extraOutputs.map((o) => ({ name: o, shape: [2, H] }))],
    initializers: [...base.initializers, ...Object.entries(consts).map(([n, v]): InitializerSpec => ({ name: n, dims: [], data: new Float32Array([v]) }))],
    nodes: [...base.nodes.slice(0, 2), ...chain],
  };
}
const n = (op: string, inputs: string[], out: string): NodeSpec => ({ name: `/gelu/${out}`, op, inputs, outputs: [out] });
// torch's nn.GELU: Mul(Mul(z, Add(Erf(Div(z, √2)), 1)), 0.5)
const ERF_LAST = [n('Div', ['z', 'sqrt2'], 'a'), n('Erf', ['a'], 'e'), n('Add', ['e', 'one'], 'p'), n('Mul', ['z', 'p'], 'zp'), n('Mul', ['zp', 'half'], 'y')];
// 0.5·z first, times (1 + erf(z·(1/√2)))
const ERF_FIRST = [n('Mul', ['z', 'half'], 'h'), n('Mul', ['z', 'isqrt2'], 'a'), n('Erf', ['a'], 'e'), n('Add', ['one', 'e'], 'p'), n('Mul', ['h', 'p'], 'y')];
// Hugging Face's NewGELU: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))), z³ by Pow or by two products
const tanhForm = (cube: NodeSpec[]) => [...cube, n('Mul', ['z3', 'c'], 't1'), n('Add', ['z', 't1'], 't2'), n('Mul', ['t2', 'k'], 't3'), n('Tanh', ['t3'], 'th'), n('Add', ['th', 'one'], 'p'), n('Mul', ['half', 'z'], 'h'), n('Mul', ['h', 'p'], 'y')];
const TANH_POW = tanhForm([n('Pow', ['z', 'three'], 'z3')]);
const TANH_MUL = tanhForm([n('Mul', ['z', 'z'], 'z2'), n('Mul', ['z2', 'z'], 'z3')]);
const K = { sqrt2: Math.SQRT2, isqrt2: Math.SQRT1_2, one: 1, half: 0.5, three: 3, c: 0.044715, k: Math.sqrt(2 / Math.PI) };

describe('GELU written out (exports before opset 20) becomes the Gelu op', () => {
  const fold = (m: ModelSpec) => {
    const f = join(work, `${m.graphName}.onnx`);
    writeFileSync(f, buildModel(m));
    return inferAndFold(readOnnx(f));
  };
  for (const [name, chain, approximate] of [['erf_last', ERF_LAST, 'none'], ['erf_first', ERF_FIRST, 'none'], ['tanh_pow', TANH_POW, 'tanh'], ['tanh_mul', TANH_MUL, 'tanh']] as const) {
    it(`${name}: one Gelu (approximate ${approximate}); compiled within tolerance of onnxruntime-web`, async () => {
      const m = written(name, chain, K);
      const g = fold(m);
      expect(g.nodes.filter((x) => x.name.startsWith('/gelu/')).map((x) => [x.op, x.inputs, x.outputs, x.attrs.approximate])).toEqual([['Gelu', ['z'], ['y'], approximate]]);
      await compileSpec(m, work, calibration);
    }, 60_000);
  }

  it('left alone: another function (erf(z) without the 1/√2), a value of the chain that is also an output', () => {
    const other = fold(written('erf_unscaled', [n('Erf', ['z'], 'e'), n('Add', ['e', 'one'], 'p'), n('Mul', ['z', 'p'], 'zp'), n('Mul', ['zp', 'half'], 'y')], K));
    expect(other.nodes.some((x) => x.op === 'Gelu')).toBe(false);
    const shared = fold(written('erf_shared', ERF_LAST, K, ['e']));
    expect(shared.nodes.some((x) => x.op === 'Gelu')).toBe(false);
  });
});
