// The headroom of rescales (QuantParams.headroomBits): a quotient's range check admits its
// calibrated values' bits plus the headroom, not the whole interval the bound analysis allows,
// which grows with every layer. Checked: the widths, that the range check is a constraint (an
// input that drives a value past it has no witness, and prove names the node), and that
// --headroom-bits 64 gives back the intervals' widths.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { ZkonnxError } from '../src/errors.js';
import { buildModel } from '../src/onnx/write.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { compileSpec } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-headroom-'));
afterAll(async () => { await releaseCurves(); });

const N = 64;
// five layers of all-positive weights: each widens the interval by log2(64·w) bits, while
// calibration on one-hot inputs sees each layer's values stay small
const spec = (name: string, layers = 5) => {
  const inits = [];
  const nodes = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    inits.push({ name: `W${l}`, dims: [N, N], data: Float32Array.from({ length: N * N }, (_, i) => ((i * 7 + l) % 5) / 40) });
    nodes.push({ name: `/fc${l}`, op: 'MatMul', inputs: [x, `W${l}`], outputs: [`h${l}`] });
    nodes.push({ name: `/relu${l}`, op: 'Relu', inputs: [`h${l}`], outputs: [`a${l}`] });
    x = `a${l}`;
  }
  return { graphName: name, inputs: [{ name: 'x', shape: [1, N] }], outputs: [{ name: x, shape: [1, N] }], initializers: inits, nodes };
};
const oneHot = (k: number) => Array.from({ length: N }, (_, i) => (i === k ? 1 : 0));
const calibration = Array.from({ length: 8 }, (_, k) => ({ input_data: [oneHot(k * 8)] }));
const allOnes = [new Float64Array(N).fill(1)];

describe('rescale headroom', () => {
  it('range-checks each quotient to its calibrated bits + 4, where the intervals grow layer by layer; 64 gives the intervals back', async () => {
    const c = await compileSpec(spec('headroom4'), work, calibration);
    expect(c.settings.params.headroomBits).toBe(4);
    const dir64 = join(work, 'h64');
    writeFileSync(join(work, 'h64.onnx'), buildModel(spec('headroom64')));
    const wide = await api.compile({ model: join(work, 'h64.onnx'), outDir: dir64, calibration, params: { headroomBits: 64 } });
    const { qg } = c;
    const qg64 = (await import('../src/compiler/build.js')).loadQuantGraph(dir64);
    const bits = qg.acts.map((a) => Math.max(...a.bits));
    const bits64 = qg64.acts.map((a) => Math.max(...a.bits));
    for (const [j, a] of qg.acts.entries()) {
      expect(bits[j]).toBeLessThanOrEqual(bits64[j]!);
      // the calibrated values' bits: 12 at the default activation bits (the scale is chosen so)
      expect(bits[j]).toBeLessThanOrEqual(12 + 4);
      expect(a.op.kind).toBe('rescale');
    }
    console.log(`quotient bits by layer: ${bits.join(', ')}; with --headroom-bits 64: ${bits64.join(', ')}`);
    expect(bits64[bits64.length - 1]!).toBeGreaterThan(bits64[0]!); // the intervals grow
    expect(bits64[bits64.length - 1]!).toBeGreaterThan(bits[bits.length - 1]!);
    expect(c.settings.circuit.constraints).toBeLessThan(wide.settings.circuit.constraints);
    // committed weights are swapped at prove time for weights calibration never saw: no cap
    writeFileSync(join(work, 'h1.onnx'), buildModel(spec('hashed', 1)));
    const hashed = await api.compile({ model: join(work, 'h1.onnx'), outDir: join(work, 'hashed'), calibration, visibility: { weights: 'hashed' } });
    expect(hashed.settings.params.headroomBits).toBe(64);
  });

  it('an input that drives a value past its headroom has no witness: the executor refuses it naming the node, and the constraints fail', async () => {
    const c = await compileSpec(spec('headroom_refuse'), work, calibration);
    let err: unknown;
    try { execQuant(c.qg, quantizeInputs(c.qg, allOnes)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('QUANT_OVERFLOW');
    expect((err as ZkonnxError).message).toMatch(/^node \/relu0: 'a0'\[\d+\] = \d+ exceeds its \d+-bit decomposition/);
    expect((err as ZkonnxError).hint).toMatch(/--headroom-bits/);
    // the decomposition is a constraint: the witness the templates compute from it fails them
    const w = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, allOnes) }, c.paths.file('r1cs')).catch((e: unknown) => e);
    if (Array.isArray(w)) expect((await checkConstraints(c.r1cs, w)).ok).toBe(false);
    else expect(w).toBeInstanceOf(Error);
    // within the headroom: a witness, and the constraints hold
    const ok = await circuitWitness(c.qg, c.settings.visibility, {}, { qin: quantizeInputs(c.qg, [Float64Array.from(oneHot(3))]) }, c.paths.file('r1cs'));
    expect((await checkConstraints(c.r1cs, ok)).ok).toBe(true);
  });
});
