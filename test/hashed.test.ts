/**
 * Hashed visibility: --input/--output/--weights hashed. The commitments in the public signals
 * equal the TypeScript ones; one verification key serves other weights of the architecture; a
 * witness whose private weights or inputs disagree with the committed ones fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../src/circom/witness.js';
import { headerIv, inputHeader, outputHeader, weightsHeader } from '../src/commit/headers.js';
import { packedCommit, signedCommit } from '../src/commit/poseidon.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-hashed-'));
afterAll(async () => { await releaseCurves(); });

const mlp = (w1: number[], b1: number[], w2: number[], b2: number[]): ModelSpec => ({
  graphName: 'mlp', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 2] }],
  initializers: [
    { name: 'W1', dims: [4, 3], data: new Float32Array(w1) }, { name: 'B1', dims: [3], data: new Float32Array(b1) },
    { name: 'W2', dims: [3, 2], data: new Float32Array(w2) }, { name: 'B2', dims: [2], data: new Float32Array(b2) },
  ],
  nodes: [
    { name: '/fc1/Gemm', op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'] },
    { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
    { name: '/fc2/MatMul', op: 'MatMul', inputs: ['r', 'W2'], outputs: ['m'] },
    { name: '/fc2/Add', op: 'Add', inputs: ['m', 'B2'], outputs: ['y'] },
  ],
});
const W = [[0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.5, 0.3, -0.7, 0.9], [0.1, 0.2, -0.3], [0.6, -0.4, 0.2, 0.8, -0.9, 0.1], [0.05, -0.05]] as const;
const W_OTHER = [W[0].map((x) => -x), [0.3, 0.1, 0.2], W[2].map((x) => x / 2), [0.5, 0.25]] as const;
const input = { input_data: [[0.5, -0.25, 1, 0.75]] };

function writeModel(name: string, spec: ModelSpec): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildModel(spec));
  writeFileSync(join(dir, 'input.json'), JSON.stringify(input));
  return join(dir, 'model.onnx');
}

describe('hashed input, output and weights', { timeout: 240_000 }, () => {
  let build: string;
  let settings: api.Settings;
  beforeAll(async () => {
    const model = writeModel('mlp', mlp(...(W as unknown as [number[], number[], number[], number[]])));
    writeModel('mlp-other', mlp(...(W_OTHER as unknown as [number[], number[], number[], number[]])));
    build = join(work, 'build-mlp');
    settings = (await api.compile({ model, outDir: build, visibility: { input: 'hashed', output: 'hashed', weights: 'hashed' }, params: { weightBits: 10 } })).settings;
    await api.setup({ buildDir: build });
  }, 240_000);

  it('lays out the public signals: output commitment, input commitment, weights commitment', () => {
    expect(settings.publicSignals.map((r) => [r.signal, r.start, r.count])).toEqual([['out0_commit', 0, 1], ['in0_commit', 1, 1], ['weights_commit', 2, 1]]);
    expect(settings.circuit.publicOutputs + settings.circuit.publicInputs).toBe(3);
    expect(settings.weights!.tensors.map((t) => t.name)).toEqual(['W1', 'B1', 'W2', 'B2']);
    // no weight is a constant of the circuit any more
    const src = readFileSync(new BuildPaths(build).file('circuit'), 'utf8');
    expect(src).toContain(`component weights_c = PackedCommit(23, 10, ${headerIv(weightsHeader(settings.weights!.tensors, 10))})`);
  });

  it('proves and verifies; the commitments are the TypeScript ones over the quantized values', async () => {
    const r = await api.prove({ buildDir: build, input, name: 'p1' });
    expect(await api.verify({ buildDir: build, name: 'p1' })).toBe(true);
    // each commitment starts from its header's IV, built here from what settings.json publishes
    const qg = JSON.parse(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8')) as { inputs: { scale: number; lo: string; bits: number }[]; outputs: { bound: string }[] };
    const x = qg.inputs[0]!;
    const sx = settings.inputs[0]!;
    const qx = input.input_data[0]!.map((v) => BigInt(Math.round(v * 2 ** x.scale)));
    const xIv = headerIv(inputHeader({ name: sx.name, shape: sx.shape, scale: sx.scale, lo: BigInt(sx.range[0]) }, sx.bits));
    expect(r.publicSignals[1]).toBe((await packedCommit(qx.map((v) => v - BigInt(x.lo)), x.bits, 'x', { iv: xIv })).toString());
    const qw = settings.weights!.tensors.flatMap((t, k) => W[k]!.map((v) => BigInt(Math.round(v * 2 ** t.scale))));
    expect(r.publicSignals[2]).toBe((await signedCommit(qw, 10, 'w', { iv: headerIv(weightsHeader(settings.weights!.tensors, 10)) })).toString());
    expect(r.publicSignals[2]).toBe(settings.weights!.commitment);
    // the same integers read at other scales (4x the weights) or without a header commit differently
    const quarter = settings.weights!.tensors.map((t) => ({ ...t, scale: t.scale - 2 }));
    for (const iv of [headerIv(weightsHeader(quarter, 10)), undefined]) expect((await signedCommit(qw, 10, 'w', { iv })).toString()).not.toBe(r.publicSignals[2]);
    const so = settings.outputs[0]!;
    const bound = BigInt(qg.outputs[0]!.bound);
    const bits = (2n * bound).toString(2).length;
    const oIv = headerIv(outputHeader({ name: so.name, shape: so.shape, scale: so.scale, bound: BigInt(so.bound) }, bits));
    expect(r.publicSignals[0]).toBe((await packedCommit(r.outputs[0]!.raw.map((v) => BigInt(v) + bound), bits, 'y', { iv: oIv })).toString());
    expect(r.reference!.maxAbsError).toBeLessThan(0.05);
  });

  it('one key serves other weights of the architecture; their commitment differs', async () => {
    const r = await api.prove({ buildDir: build, input, name: 'p2', weights: join(work, 'mlp-other', 'model.onnx') });
    expect(await api.verify({ buildDir: build, name: 'p2' })).toBe(true);
    expect(r.publicSignals[2]).not.toBe(settings.weights!.commitment);
    expect(r.publicSignals[1]).toBe(JSON.parse(readFileSync(join(build, 'proofs', 'p1', 'public.json'), 'utf8'))[1]);
    // swapping in the registered commitment makes the proof invalid
    expect(await api.verify({ buildDir: build, proof: r.proof, publicSignals: [r.publicSignals[0]!, r.publicSignals[1]!, settings.weights!.commitment] })).toBe(false);
  });

  it('a witness whose weights, input or products differ from the committed ones fails', async () => {
    const paths = new BuildPaths(build);
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(paths.proofFile('p1', 'witness'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    for (const sig of ['main.in1[0]', 'main.in4[1]', 'main.in0[2]']) {
      const idx = sym.get(sig)!;
      expect(idx).toBeGreaterThan(0);
      const bad = w.slice();
      bad[idx] = bad[idx]! + 1n;
      expect((await checkConstraints(r1cs, bad)).ok, sig).toBe(false);
    }
    const prod = [...sym.entries()].find(([k, i]) => k.includes('_prod[') && i > 0);
    expect(prod, 'a dot-product signal kept its wire').toBeDefined();
    const bad = w.slice();
    bad[prod![1]] = bad[prod![1]]! + 1n;
    expect((await checkConstraints(r1cs, bad)).ok).toBe(false);
  });

  it('weights that do not fit the committed width are refused before proving', async () => {
    const big = mlp(W[0].map((x) => x * 64), [...W[1]], [...W[2]], [...W[3]]);
    await expect(api.prove({ buildDir: build, input, name: 'p3', weights: writeModel('mlp-big', big) })).rejects.toThrow(/weight 'W1'\[\d+\] = .* outside the circuit's 10-bit signed weights/);
  });
});

describe('--salt: salted input and output commitments', { timeout: 240_000 }, () => {
  it('circom builds the same system; each proof has fresh salts; a commitment is Poseidon(header-bound commitment, salt); a forged salt or commitment fails', async () => {
    const model = join(work, 'mlp', 'model.onnx');
    const build = join(work, 'build-salted');
    const { settings: s } = await api.compile({ model, outDir: build, visibility: { input: 'hashed', output: 'hashed' }, salt: true, checkCircom: true });
    expect(s.circuit.checkCircom?.same).toBe(true);
    expect(s.visibility.salt).toBe(true);
    expect(s.circuit.privateInputs).toBe(4 + 2); // x, then the salts of in0 and out0
    await api.setup({ buildDir: build });
    const a = await api.prove({ buildDir: build, input, name: 'a' });
    const b = await api.prove({ buildDir: build, input, name: 'b' });
    expect(await api.verify({ buildDir: build, name: 'a' })).toBe(true);
    // the same input, other salts: unlinkable commitments
    expect(a.publicSignals[1]).not.toBe(b.publicSignals[1]);
    expect(a.publicSignals[0]).not.toBe(b.publicSignals[0]);
    const salts = JSON.parse(readFileSync(join(build, 'proofs', 'a', 'salts.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(salts)).toEqual(['in0_salt', 'out0_salt']);
    const sx = s.inputs[0]!;
    const qx = input.input_data[0]!.map((v) => BigInt(Math.round(v * 2 ** sx.scale)) - BigInt(sx.range[0]));
    const xIv = headerIv(inputHeader({ name: sx.name, shape: sx.shape, scale: sx.scale, lo: BigInt(sx.range[0]) }, sx.bits));
    expect(a.publicSignals[1]).toBe((await packedCommit(qx, sx.bits, 'x', { iv: xIv, salt: BigInt(salts.in0_salt!) })).toString());
    // given salts reproduce a commitment
    const c = await api.prove({ buildDir: build, input, name: 'c', salts: { in0_salt: BigInt(salts.in0_salt!), out0_salt: BigInt(salts.out0_salt!) } });
    expect(c.publicSignals).toEqual(a.publicSignals);
    // the witness: another salt under the same commitment, or another commitment, breaks a constraint
    const paths = new BuildPaths(build);
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(paths.proofFile('a', 'witness'))]);
    for (const sig of ['main.in0_salt', 'main.out0_salt', 'main.in0_commit']) {
      const bad = w.slice();
      bad[sym.get(sig)!] = bad[sym.get(sig)!]! + 1n;
      expect((await checkConstraints(r1cs, bad)).ok, sig).toBe(false);
    }
    await expect(api.compile({ model, outDir: join(work, 'build-salt-none'), salt: true })).rejects.toThrow(/--salt salts the hashed input and output commitments, and this build hashes neither/);
  });
});
