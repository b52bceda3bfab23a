// compile holds every calibration sample to its tolerance: without explicit widths it widens the
// activation and weight bits until the quantized model meets it; with explicit ones it refuses.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { buildModel } from '../src/onnx/write.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-accuracy-'));
// y = 1000·(x0 − x1) + relu(x2): the difference of two inputs in [0, 1] that are 1e-3 apart,
// amplified: at 12 bits the inputs' rounding alone is 0.5 at the output
const model = join(work, 'diff.onnx');
writeFileSync(model, buildModel({
  graphName: 'diff', inputs: [{ name: 'x', shape: [1, 3] }], outputs: [{ name: 'y', shape: [1, 1] }],
  initializers: [{ name: 'W', dims: [3, 1], data: new Float32Array([1000, -1000, 0]) }, { name: 'S', dims: [3, 1], data: new Float32Array([0, 0, 1]) }],
  nodes: [
    { name: '/diff', op: 'MatMul', inputs: ['x', 'W'], outputs: ['d'] },
    { name: '/pick', op: 'MatMul', inputs: ['x', 'S'], outputs: ['p'] },
    { name: '/relu', op: 'Relu', inputs: ['p'], outputs: ['r'] },
    { name: '/add', op: 'Add', inputs: ['d', 'r'], outputs: ['y'] },
  ],
}));
const calibration = Array.from({ length: 8 }, (_, k) => {
  const a = 0.1 + 0.1 * k;
  return { input_data: [[a + 0.0007 * ((k % 3) - 1), a, 0.05 * k]] };
});

describe('compile and the accuracy tolerance', () => {
  it('widens the default 12/12 bits by 4 at a time until every sample is within its tolerance', async () => {
    const { settings } = await api.compile({ model, outDir: join(work, 'auto'), calibration });
    expect(settings.params.activationBits).toBeGreaterThan(12);
    expect(settings.params.activationBits).toBe(settings.params.weightBits);
    expect(settings.accuracy.worst!.maxAbsError).toBeLessThanOrEqual(settings.accuracy.worst!.tolerance);
  });

  it('keeps explicit widths and refuses the build when they miss (QUANT_INACCURATE), naming them', async () => {
    await expect(api.compile({ model, outDir: join(work, 'fixed'), calibration, params: { activationBits: 12, weightBits: 12 } }))
      .rejects.toThrow(/calibration sample \d+: at 12\/12 activation\/weight bits the quantized model's outputs are off by/);
    const kept = await api.compile({ model, outDir: join(work, 'kept'), calibration, params: { activationBits: 12, weightBits: 12 }, allowInaccurate: true });
    expect(kept.settings.accuracy.allowInaccurate).toBe(true);
  });
});
