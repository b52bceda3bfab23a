// zkonnx writes circuit.r1cs and circuit.sym itself and computes the witness itself; circom
// stays the cross-check. `compile --check-circom` has circom (circom2, --O1) build the system of
// the emitted circuit.circom and compares: the same counts, the same wire for every signal name,
// the same constraints (each up to a factor) and the same witness. Here on every EZKL model, on
// the bundled MLP (the CNN: mnist-cnn.test.ts), on hashed inputs, outputs and weights, and on the
// chunks of split models (plain and hashed). A mismatch fails compile with CIRCUIT_MISMATCH.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listConformanceModels } from '../benchmarks/conformance-lib.js';
import { compile } from '../src/api.js';
import { readR1cs } from '../src/circom/r1cs.js';
import { readSymbols } from '../src/circom/witness.js';
import { canonical, compareSystems } from '../src/compiler/check-circom.js';
import { inverse } from '../src/compiler/system.js';
import { ZkonnxError } from '../src/errors.js';
import { buildModel } from '../src/onnx/write.js';
import { BuildPaths, packageRoot } from '../src/paths.js';
import { CONFORMANCE_DIR, hasConformance } from './helpers/conformance.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-check-circom-'));
const mlp = join(packageRoot(), 'models', 'mnist-mlp');

describe.skipIf(!hasConformance)('every EZKL model: circom builds the system zkonnx wrote', () => {
  it('59 models, each compiled with --check-circom', async () => {
    const models = listConformanceModels(CONFORMANCE_DIR);
    expect(models.length).toBeGreaterThanOrEqual(59);
    const failed: string[] = [];
    for (const m of models) {
      try {
        const { settings } = await compile({ model: join(CONFORMANCE_DIR, m, 'network.onnx'), input: join(CONFORMANCE_DIR, m, 'input.json'), outDir: join(work, 'ezkl', m), checkCircom: true });
        const c = settings.circuit.checkCircom!;
        expect(c.same).toBe(true);
        expect(c.constraints).toBe(settings.circuit.constraints);
        expect(c.witnessCompared).toBe(settings.circuit.wires);
      } catch (e) {
        failed.push(`${m}: ${(e as Error).message.slice(0, 400)}`);
      }
    }
    expect(failed).toEqual([]);
  }, 900_000);
});

describe('visibility, committed weights and split models', () => {
  const cases: [string, Parameters<typeof compile>[0]['visibility'], Parameters<typeof compile>[0]['split']][] = [
    ['public input, private output', { input: 'public', output: 'private' }, undefined],
    ['hashed input and output', { input: 'hashed', output: 'hashed' }, undefined],
    // (the chunk links are the same commitments with or without hashed ends: one split case)
    ['split in 3 chunks, hashed input and output', { input: 'hashed', output: 'hashed' }, { chunks: 3 }],
  ];
  for (const [name, visibility, split] of cases) {
    it(`mnist-mlp, ${name}`, async () => {
      const { settings } = await compile({
        model: join(mlp, 'model.onnx'), calibration: join(mlp, 'calibration.json'), input: join(mlp, 'input.json'),
        outDir: join(work, name.replace(/\W+/g, '-')), visibility, split, checkCircom: true,
      });
      expect(settings.circuit.checkCircom?.same).toBe(true);
      expect(settings.circuit.checkCircom!.witnessCompared).toBe(settings.circuit.wires);
    }, 300_000);
  }

  it('committed (hashed) weights, on a small model', async () => {
    // a 4-3-2 MLP written here (the project's own files only: the suite runs without ../shared)
    const dir = join(work, 'wh-model');
    mkdirSync(dir, { recursive: true });
    const f = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + k) * 0.8);
    writeFileSync(join(dir, 'model.onnx'), buildModel({
      graphName: 'mlp', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 2] }],
      initializers: [{ name: 'W1', dims: [3, 4], data: f(12, 1) }, { name: 'B1', dims: [3], data: f(3, 2) }, { name: 'W2', dims: [2, 3], data: f(6, 3) }, { name: 'B2', dims: [2], data: f(2, 4) }],
      nodes: [
        { name: '/fc1/Gemm', op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'], attrs: { transB: 1 } },
        { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { name: '/fc2/Gemm', op: 'Gemm', inputs: ['r', 'W2', 'B2'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    }));
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ input_data: [[0.5, -0.25, 1, 0.75]] }));
    const { settings } = await compile({ model: join(dir, 'model.onnx'), input: join(dir, 'input.json'), outDir: join(work, 'wh'), visibility: { weights: 'hashed' }, checkCircom: true });
    expect(settings.circuit.checkCircom?.same).toBe(true);
  }, 300_000);
});

describe('the comparison itself', () => {
  it('tells systems apart that differ in one coefficient, and not those that differ by a factor per row', async () => {
    const dir = join(work, 'ezkl-cmp');
    await compile({ model: join(mlp, 'model.onnx'), calibration: join(mlp, 'calibration.json'), input: join(mlp, 'input.json'), outDir: dir });
    const p = new BuildPaths(dir);
    const [r1cs, sym] = await Promise.all([readR1cs(p.file('r1cs')), readSymbols(p.file('sym'))]);
    expect(compareSystems(r1cs, r1cs, sym, sym)).toEqual([]);
    // every row times its own factor: the same system
    const scaled = { ...r1cs, constraints: r1cs.constraints.map((c, i) => {
      const f = BigInt(i + 2);
      const mul = (m: Map<number, bigint>, k: bigint) => new Map([...m].map(([w, x]) => [w, (x * k) % r1cs.header.prime]));
      return { a: mul(c.a, f), b: mul(c.b, 3n), c: mul(c.c, f * 3n) };
    }) };
    expect(compareSystems(scaled, r1cs, sym, sym)).toEqual([]);
    // one coefficient changed: not the same
    const at = r1cs.constraints.findIndex((c) => c.c.size > 1);
    const changed = { ...r1cs, constraints: r1cs.constraints.map((c, i) => (i === at ? { ...c, c: new Map([...c.c].map(([w, x], j) => [w, j === 0 ? (x + 1n) % r1cs.header.prime : x])) } : c)) };
    expect(compareSystems(changed, r1cs, sym, sym).join()).toMatch(/constraints differ: 1 of circom's/);
    // one signal renamed: not the same
    const renamed = new Map(sym);
    renamed.set('main.v[200]', 5);
    expect(compareSystems(r1cs, r1cs, renamed, sym).join()).toMatch(/signal\(s\) differ/);
    // the canonical form of a product is symmetric in A and B
    const inv = (x: bigint) => inverse(x);
    const c0 = r1cs.constraints.find((c) => c.a.size > 0)!;
    expect(canonical({ a: c0.b, b: c0.a, c: c0.c }, inv)).toBe(canonical(c0, inv));
  }, 120_000);

  it('a build whose circuit.circom says something else fails with CIRCUIT_MISMATCH', async () => {
    // compile, then make the emitted circuit disagree with the written system: circom's system differs
    const { checkAgainstCircom } = await import('../src/api.js');
    const { quantGraphFromJson } = await import('../src/ir/serialize.js');
    const { quantizeInputs } = await import('../src/qexec/exec.js');
    const { loadSample } = await import('../src/inputs.js');
    const dir = join(work, 'mismatch');
    await compile({ model: join(mlp, 'model.onnx'), calibration: join(mlp, 'calibration.json'), input: join(mlp, 'input.json'), outDir: dir });
    const p = new BuildPaths(dir);
    const qg = quantGraphFromJson(readFileSync(p.file('qgraph'), 'utf8'));
    writeFileSync(p.file('circuit'), readFileSync(p.file('circuit'), 'utf8').replace(/Rescale\((\d+), /, (_m, k) => `Rescale(${Number(k) + 1}, `));
    const err = await checkAgainstCircom(p, qg, { input: 'private', output: 'public' }, {}, { qin: quantizeInputs(qg, loadSample(join(mlp, 'input.json'))) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('CIRCUIT_MISMATCH');
  }, 120_000);
});
