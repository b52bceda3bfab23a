import { describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import type { AffineGraph } from '../src/ir/graph.js';
import { evalAffine, linearize } from '../src/ir/linearize.js';
import { decodeOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { buildModel } from '../src/onnx/write.js';
import { dequantize, execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { floorDiv, quantize, rescale, scaleFor } from '../src/quantize/quantize.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** A 3-layer MLP 8 → 16 → 8 → 4 with random weights. */
function mlp(seed = 1): AffineGraph {
  const r = rng(seed);
  const w = (n: number) => Float32Array.from({ length: n }, r);
  const bytes = buildModel({
    graphName: 'mlp3', inputs: [{ name: 'x', shape: [1, 8] }], outputs: [{ name: 'y', shape: [1, 4] }],
    initializers: [
      { name: 'W1', dims: [8, 16], data: w(128) }, { name: 'b1', dims: [16], data: w(16) },
      { name: 'W2', dims: [16, 8], data: w(128) }, { name: 'b2', dims: [8], data: w(8) },
      { name: 'W3', dims: [8, 4], data: w(32) }, { name: 'b3', dims: [4], data: w(4) },
    ],
    nodes: [
      { name: 'fc1', op: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h1'] },
      { name: 'relu1', op: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { name: 'fc2', op: 'Gemm', inputs: ['a1', 'W2', 'b2'], outputs: ['h2'] },
      { name: 'relu2', op: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { name: 'fc3', op: 'Gemm', inputs: ['a2', 'W3', 'b3'], outputs: ['y'] },
    ],
  });
  return linearize(inferAndFold(decodeOnnx(bytes)));
}

const samples = (n: number, seed: number, scale = 2) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => [Float64Array.from({ length: 8 }, () => scale * r())]);
};

describe('integer arithmetic', () => {
  it('floorDiv floors toward −∞ and rescale rounds half up, for both signs', () => {
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(-8n, 2n)).toBe(-4n);
    expect(rescale(12n, 3)).toBe(2n); // 1.5 → 2
    expect(rescale(-12n, 3)).toBe(-1n); // −1.5 → −1 (half up)
    expect(rescale(-13n, 3)).toBe(-2n); // −1.625 → −2
    expect(rescale(5n, 0)).toBe(5n);
    for (let a = -100n; a <= 100n; a++) expect(rescale(a, 3)).toBe(BigInt(Math.floor(Number(a) / 8 + 0.5)));
  });

  it('scaleFor gives the largest power of two that keeps maxabs within the bits', () => {
    expect(scaleFor(1, 12)).toBe(12);
    expect(scaleFor(1.5, 12)).toBe(11);
    expect(scaleFor(0.3, 8)).toBe(9);
    expect(scaleFor(0, 8)).toBe(8);
    expect(1.5 * 2 ** scaleFor(1.5, 12)).toBeLessThanOrEqual(2 ** 12);
  });
});

describe('quantization and the integer executor', () => {
  const ag = mlp();
  const calib = samples(32, 2);
  const qg = quantize(ag, calibrate(ag, calib));

  it('the dequantized output stays within 1e-2 of the float program on unseen inputs in range', () => {
    let worst = 0;
    for (const s of samples(50, 3, 1.5)) {
      const f = evalAffine(ag, s).outputs[0]!;
      const q = execQuant(qg, quantizeInputs(qg, s)).outputs[0]!;
      q.forEach((x, i) => { worst = Math.max(worst, Math.abs(dequantize(x, qg.outputs[0]!.scale) - f[i]!)); });
    }
    expect(worst).toBeLessThan(1e-2);
  });

  it('bound analysis covers the extreme inputs of the range check (no decomposition overflows)', () => {
    const inp = qg.inputs[0]!;
    const lo = Number(inp.lo) / 2 ** inp.scale;
    const hi = Number(inp.lo + (1n << BigInt(inp.bits)) - 1n) / 2 ** inp.scale;
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      // corners of the admissible box are where worst cases live
      const x = [Float64Array.from({ length: 8 }, () => (r() > 0 ? hi : lo))];
      const res = execQuant(qg, quantizeInputs(qg, x)); // throws QUANT_OVERFLOW if a bound were wrong
      for (const a of qg.acts) {
        for (let j = 0; j < a.size; j++) {
          const v = res.values[a.offset + j]!;
          expect(v < 1n << BigInt(a.bits[j]!)).toBe(true);
        }
      }
      res.outputs[0]!.forEach((v) => expect((v < 0n ? -v : v) <= qg.outputs[0]!.bound).toBe(true));
    }
  });

  it('sizes each decomposition from the bounds, not at 254 bits', () => {
    for (const a of qg.acts) for (const b of a.bits) expect(b).toBeLessThan(40);
    expect(qg.acts.map((a) => a.shift).every((k) => k > 0 && k < 30)).toBe(true);
  });

  it('an input outside the calibrated range is an error that names it', () => {
    const x = [Float64Array.from({ length: 8 }, () => 0)];
    x[0]![5] = 1e6;
    try {
      quantizeInputs(qg, x);
      throw new Error('expected an error');
    } catch (e) {
      expect((e as ZkonnxError).code).toBe('INPUT_OUT_OF_RANGE');
      expect((e as Error).message).toContain("'x'[5]");
    }
  });

  it('an input of the wrong size is an error', () => {
    expect(() => quantizeInputs(qg, [new Float64Array(7)])).toThrow(/needs 8 values, got 7/);
  });

  it('precision too large for the field is refused by the bound analysis', () => {
    expect(() => quantize(ag, calibrate(ag, calib), { activationBits: 250, weightBits: 12 })).toThrow(ZkonnxError);
  });
});
