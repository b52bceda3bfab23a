// Heads and activations that used to stop compile: Softmax / LogSoftmax over wide logits (exp of
// x − max fitted down to −∞), and saturating functions (Sigmoid, Tanh) over a wide input range.
// Where a function is constant at the output scale the circuit clamps its input (a comparison)
// instead of fitting a polynomial there; each model compiles, proves, verifies and stays within
// tolerance of onnxruntime-web, and circom builds the same system (check-circom).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConformanceModel } from '../benchmarks/conformance-lib.js';
import { compile } from '../src/api.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { releaseCurves } from '../src/snark.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-saturation-'));
afterAll(async () => { await releaseCurves(); });

/** x (1×8) → Gemm with wide weights → op → y */
function head(op: string, scale: number, extra: Partial<ModelSpec> = {}): ModelSpec {
  const w = Float32Array.from({ length: 8 * 10 }, (_, i) => Math.sin(i * 1.7) * scale);
  return {
    graphName: op, inputs: [{ name: 'x', shape: [1, 8] }], outputs: [{ name: 'y', shape: [1, 10] }],
    initializers: [{ name: 'W', dims: [10, 8], data: w }, { name: 'B', dims: [10], data: Float32Array.from({ length: 10 }, (_, i) => i - 5) }],
    nodes: [
      { name: '/fc/Gemm', op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['z'], attrs: { transB: 1 } },
      { name: `/head/${op}`, op, inputs: ['z'], outputs: ['y'], ...(op.endsWith('Softmax') ? { attrs: { axis: 1 } } : {}) },
    ],
    ...extra,
  };
}

function writeCase(name: string, spec: ModelSpec, samples: number[][]): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'network.onnx'), buildModel(spec));
  writeFileSync(join(dir, 'input.json'), JSON.stringify({ input_data: [samples[0]] }));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(samples.map((s) => ({ input_data: [s] }))));
  return dir;
}

const samples = Array.from({ length: 8 }, (_, k) => Array.from({ length: 8 }, (_, i) => Math.cos(k * 3.1 + i) * (1 + k / 4)));

describe('wide logits and saturating activations', () => {
  // (Tanh at ±32: its slope at 0 is 1, so 12 bits over ±80 would already lose 0.016 in the input)
  for (const [op, scale] of [['Softmax', 12], ['LogSoftmax', 12], ['Sigmoid', 10], ['Tanh', 4]] as const) {
    it(`${op} over logits of about ±${scale * 8}: compiles, proves and stays within tolerance`, async () => {
      const dir = writeCase(op, head(op, scale), samples);
      const { settings } = await compile({ model: join(dir, 'network.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), outDir: join(work, `${op}-check`), checkCircom: true });
      expect(settings.circuit.checkCircom?.same).toBe(true);
      expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
      const row = await runConformanceModel(dir, join(work, 'builds'));
      expect(row.message).toBe('');
      expect(row.status).toBe('pass');
    }, 240_000);
  }

});
