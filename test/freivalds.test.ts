/**
 * Matrix products of two signals checked at once (compiler/freivalds.ts): a CNN with committed
 * weights whose second convolution's accumulators are hints that one identity confines, at a
 * random point drawn in the circuit from a hash of what the prover chose. circom builds the same
 * system; the proof verifies; a prover who computes everything else honestly from one wrong
 * accumulator, the challenge included, is caught by the identity; a changed product fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { loadQuantGraph } from '../src/compiler/build.js';
import { circuitWitness, writeCircuit } from '../src/compiler/circuit.js';
import { freivaldsPlan, productCost } from '../src/compiler/freivalds.js';
import { loadWeights } from '../src/model-weights.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { quantizeInputs } from '../src/qexec/exec.js';
import { rng as seeded } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import { readSettings } from '../src/settings.js';
import { chunkInputs, chunkLinksOf, type ChunkFile } from '../src/split.js';
import { committedWitness } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-freivalds-'));
afterAll(async () => { await releaseCurves(); });

/**
 * Conv(3→6, 3×3, pad 1, bias) → Relu → Conv(6→8, 3×3) → GlobalAveragePool → Gemm, on 6×6: with
 * batchProducts 0.5 the second convolution (8 × 54 × 16, its check about 0.4 of its products) is
 * checked as a block, the first (6 × 27 × 36, about 0.64) product by product.
 */
function cnn(seed: number): ModelSpec {
  const next = seeded(seed);
  const arr = (n: number, k = 1) => Float32Array.from({ length: n }, () => (next() - 0.5) * k);
  return {
    graphName: 'fv', inputs: [{ name: 'x', shape: [1, 3, 6, 6] }], outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      { name: 'K1', dims: [6, 3, 3, 3], data: arr(162, 0.6) }, { name: 'B1', dims: [6], data: arr(6) },
      { name: 'K2', dims: [8, 6, 3, 3], data: arr(432, 0.4) },
      { name: 'W3', dims: [3, 8], data: arr(24) },
    ],
    nodes: [
      { name: '/c1', op: 'Conv', inputs: ['x', 'K1', 'B1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { name: '/r1', op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { name: '/c2', op: 'Conv', inputs: ['r1', 'K2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3] } },
      { name: '/gap', op: 'GlobalAveragePool', inputs: ['c2'], outputs: ['g'] },
      { name: '/flat', op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { name: '/fc', op: 'Gemm', inputs: ['f', 'W3'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  };
}

const next = seeded(7);
const image = () => Array.from({ length: 108 }, () => next());
const calibration = Array.from({ length: 6 }, () => ({ input_data: [image()] }));
const input = { input_data: [image()] };

describe('Freivalds checks of signal matrix products', { timeout: 300_000 }, () => {
  let build: string;
  let settings: api.Settings;
  beforeAll(async () => {
    const dir = join(work, 'fv');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), buildModel(cnn(1)));
    build = join(work, 'build');
    // a share of a half: this small a model's checks cost more than the default quarter of its products
    settings = (await api.compile({ model: join(dir, 'model.onnx'), outDir: build, calibration, visibility: { weights: 'hashed' }, batchProducts: 0.5, checkCircom: true })).settings;
    await api.setup({ buildDir: build });
  }, 300_000);

  it('checks the second convolution as a block, in fewer constraints than its products; circom builds the same system', async () => {
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    const c = await committedWitness(build, settings, calibration[0]!.input_data[0]!);
    const plan = freivaldsPlan(c.qg)!;
    expect(plan.acts.map((a) => c.qg.acts[a.j]!.nodes[0])).toEqual(['/c2']);
    // the same graph with each product its own constraint
    const direct = writeCircuit({ ...c.qg, acts: c.qg.acts.map(({ mm: _, ...a }) => a) }, settings.visibility, {}, join(work, 'direct.r1cs'), join(work, 'direct.sym'));
    expect(direct.constraints - settings.circuit.constraints).toBeGreaterThan(0.3 * plan.acts.reduce((s, a) => s + productCost(c.qg.acts[a.j]!), 0));
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
    // by default (a quarter) this small a model keeps its products; a share past 1 is refused
    const model = join(work, 'fv', 'model.onnx');
    await api.compile({ model, outDir: join(work, 'default'), calibration, visibility: { weights: 'hashed' } });
    expect(freivaldsPlan(loadQuantGraph(join(work, 'default')))).toBeUndefined();
    await expect(api.compile({ model, outDir: join(work, 'bad'), calibration, visibility: { weights: 'hashed' }, batchProducts: 2 })).rejects.toThrow('batchProducts must be a share in [0, 1], got 2');
  });

  it('proves and verifies', async () => {
    const p = await api.prove({ buildDir: build, input, name: 'a' });
    expect(await api.verify({ buildDir: build, name: 'a' })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThanOrEqual(p.reference!.tolerance);
  });

  it('a wrong accumulator, everything after it (the challenge included) computed from it, fails the identity', async () => {
    const paths = new BuildPaths(build);
    const c = await committedWitness(build, settings, input.input_data[0]!);
    const j = freivaldsPlan(c.qg)!.acts[0]!.j;
    const qin = quantizeInputs(c.qg, [Float64Array.from(input.input_data[0]!), ...loadWeights(paths, settings)]);
    const witness = (accOf?: (j: number, i: number, acc: bigint) => bigint) => circuitWitness(c.qg, settings.visibility, {}, { qin, accOf }, paths.file('r1cs'));
    // honest: the same witness as the prover's
    expect(await witness((_, __, z) => z)).toEqual(c.w);
    // off by one unit of the rescale, by one in the remainder, either way
    for (const [i, d] of [[5, 1n << BigInt(c.qg.acts[j]!.shift)], [100, 1n], [3, -1n]] as const) {
      await expect(witness((jj, ii, z) => (jj === j && ii === i ? z + d : z)), `element ${i} + ${d}`).rejects.toThrow(/does not satisfy/);
    }
  });

  it('a witness whose check product or accumulator differs fails the constraints', async () => {
    const c = await committedWitness(build, settings, input.input_data[0]!);
    const j = freivaldsPlan(c.qg)!.acts[0]!.j;
    for (const name of [`main.f${j}_0_pb[3]`, `main.f${j}_0_pk[0]`, `main.a${j}_acc[2]`, 'main.fs_pow[1]']) {
      const wire = c.sym.get(name);
      expect(wire, name).toBeGreaterThan(0);
      const bad = c.w.slice();
      bad[wire!] = bad[wire!]! + 1n;
      expect((await checkConstraints(c.r1cs, bad)).ok, name).toBe(false);
    }
  });

  it('split in two: the second chunk checks the convolution, its challenge hashing the received values; each chunk\'s witness satisfies its system', async () => {
    const split = join(work, 'split');
    await api.compile({ model: join(work, 'fv', 'model.onnx'), outDir: split, calibration, visibility: { weights: 'hashed' }, batchProducts: 0.5, split: { chunks: 2 } });
    const vis = readSettings(split).visibility;
    const inputs = chunkInputs(split, input);
    const checked: string[][] = [];
    for (const k of [0, 1]) {
      const dir = new BuildPaths(split).chunkDir(k);
      const qg = loadQuantGraph(dir);
      checked.push(freivaldsPlan(qg)?.acts.map((a) => qg.acts[a.j]!.nodes[0]!) ?? []);
      const file = JSON.parse(readFileSync(join(dir, 'chunk.json'), 'utf8')) as ChunkFile;
      const big = (name: string) => (inputs[k]!.input[name] ?? []).map(BigInt);
      const qin = qg.inputs.map((_, i) => big(`in${i}`));
      const r1cs = new BuildPaths(dir).file('r1cs');
      const w = await circuitWitness(qg, vis, chunkLinksOf(file), { qin, linkIn: big('link_in') }, r1cs);
      expect((await checkConstraints(await readR1cs(r1cs), w)).ok, `chunk ${k}`).toBe(true);
    }
    expect(checked).toEqual([[], ['/c2']]);
  });
});
