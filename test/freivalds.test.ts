/**
 * Matrix products of two signals checked at once (compiler/freivalds.ts): a CNN with committed
 * weights whose convolutions' accumulators are hints that one identity per block confines, at a
 * random point drawn in the circuit from a hash of what the prover chose. circom builds the same
 * system; the proof verifies; a prover who computes everything else honestly from one wrong
 * accumulator, the challenge included, is caught by the identity; a changed product fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { circuitWitness, writeCircuit } from '../src/compiler/circuit.js';
import { freivaldsPlan, productCost } from '../src/compiler/freivalds.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { loadWeights } from '../src/model-weights.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { quantizeInputs } from '../src/qexec/exec.js';
import { rng as seeded } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import { proveSplit, verifySplit } from '../src/split.js';
import { committedWitness } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-freivalds-'));
afterAll(async () => { await releaseCurves(); });

/** Conv(3→6, 3×3, pad 1, bias) → Relu → Conv(6→6, stride 2) → GlobalAveragePool → Gemm, on 6×6. */
function cnn(seed: number): ModelSpec {
  const next = seeded(seed);
  const arr = (n: number, k = 1) => Float32Array.from({ length: n }, () => (next() - 0.5) * k);
  return {
    graphName: 'fv', inputs: [{ name: 'x', shape: [1, 3, 6, 6] }], outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      { name: 'K1', dims: [6, 3, 3, 3], data: arr(162, 0.6) }, { name: 'B1', dims: [6], data: arr(6) },
      { name: 'K2', dims: [6, 6, 3, 3], data: arr(324, 0.4) },
      { name: 'W3', dims: [3, 6], data: arr(18) },
    ],
    nodes: [
      { name: '/c1', op: 'Conv', inputs: ['x', 'K1', 'B1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { name: '/r1', op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { name: '/c2', op: 'Conv', inputs: ['r1', 'K2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
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
    settings = (await api.compile({ model: join(dir, 'model.onnx'), outDir: build, calibration, visibility: { weights: 'hashed' }, checkCircom: true })).settings;
    await api.setup({ buildDir: build });
  }, 300_000);

  it('checks both convolutions as blocks, in fewer constraints than their products; circom builds the same system', async () => {
    expect(settings.circuit.checkCircom?.same).toBe(true);
    expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
    const c = await committedWitness(build, settings, calibration[0]!.input_data[0]!);
    const plan = freivaldsPlan(c.qg)!;
    expect(plan.acts.map((a) => c.qg.acts[a.j]!.nodes[0])).toEqual(['/c1', '/c2']);
    // the same graph with each product its own constraint
    const direct = writeCircuit({ ...c.qg, acts: c.qg.acts.map(({ mm: _, ...a }) => a) }, settings.visibility, {}, join(work, 'direct.r1cs'), join(work, 'direct.sym'));
    expect(direct.constraints - settings.circuit.constraints).toBeGreaterThan(0.3 * plan.acts.reduce((s, a) => s + productCost(c.qg.acts[a.j]!), 0));
    expect((await checkConstraints(c.r1cs, c.w)).ok).toBe(true);
  });

  it('proves and verifies', async () => {
    const p = await api.prove({ buildDir: build, input, name: 'a' });
    expect(await api.verify({ buildDir: build, name: 'a' })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThanOrEqual(p.reference!.tolerance);
  });

  it('a wrong accumulator, everything after it (the challenge included) computed from it, fails the identity', async () => {
    const paths = new BuildPaths(build);
    const c = await committedWitness(build, settings, input.input_data[0]!);
    const [j1, j2] = freivaldsPlan(c.qg)!.acts.map((a) => a.j) as [number, number];
    const qin = quantizeInputs(c.qg, [Float64Array.from(input.input_data[0]!), ...loadWeights(paths, settings)]);
    const witness = (accOf?: (j: number, i: number, acc: bigint) => bigint) => circuitWitness(c.qg, settings.visibility, {}, { qin, accOf }, paths.file('r1cs'));
    // honest: the same witness as the prover's
    expect(await witness((_, __, z) => z)).toEqual(c.w);
    // off by one unit of the rescale, by one in the remainder, in either block
    for (const [j, i, d] of [[j1, 5, 1n << BigInt(c.qg.acts[j1]!.shift)], [j1, 100, 1n], [j2, 3, -1n]] as const) {
      await expect(witness((jj, ii, z) => (jj === j && ii === i ? z + d : z)), `act ${j} element ${i} + ${d}`).rejects.toThrow(/does not satisfy/);
    }
  });

  it('a witness whose check product or accumulator differs fails the constraints', async () => {
    const c = await committedWitness(build, settings, input.input_data[0]!);
    const [j1, j2] = freivaldsPlan(c.qg)!.acts.map((a) => a.j);
    for (const name of [`main.f${j1}_0_pb[3]`, `main.f${j1}_0_pk[0]`, `main.a${j2}_acc[2]`]) {
      const wire = c.sym.get(name);
      expect(wire, name).toBeGreaterThan(0);
      const bad = c.w.slice();
      bad[wire!] = bad[wire!]! + 1n;
      expect((await checkConstraints(c.r1cs, bad)).ok, name).toBe(false);
    }
  });

  it('split in two: the cut falls between the checked convolutions, each chunk checks its own (its challenge hashes the link); proofs verify', async () => {
    const split = join(work, 'split');
    await api.compile({ model: join(work, 'fv', 'model.onnx'), outDir: split, calibration, visibility: { weights: 'hashed' }, split: { chunks: 2 } });
    await api.setup({ buildDir: split });
    const checked = [0, 1].map((k) => {
      const qg = quantGraphFromJson(readFileSync(new BuildPaths(new BuildPaths(split).chunkDir(k)).file('qgraph'), 'utf8'));
      return freivaldsPlan(qg)?.acts.map((a) => qg.acts[a.j]!.nodes[0]) ?? [];
    });
    expect(checked).toEqual([['/c1'], ['/c2']]);
    const r = await proveSplit(split, input);
    expect((await verifySplit({ buildDir: split, proofs: r.chunks })).ok).toBe(true);
  });
});

