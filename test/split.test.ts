/**
 * Split models (compile --split): chunk circuits proven independently and linked by Poseidon
 * commitments. Every chunk proof verifies, the links match, the output is exactly the unsplit
 * model's; a chunk proof of another input breaks a link, and a receiving chunk whose link values
 * are edited (same commitment) or leave their interval fails its constraints. With --weights
 * hashed each chunk commits to the weight elements it reads; a changed weight fails its chunk.
 */
import { modelIvs } from '../src/commit/headers.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../src/circom/witness.js';
import { packedCommit, pack } from '../src/commit/poseidon.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { loadWeights } from '../src/model-weights.js';
import { BuildPaths } from '../src/paths.js';
import { writeSettings } from '../src/settings.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { startAnvil } from '../src/verifier/anvil.js';
import { deploySplitVerifier } from '../src/verifier/split.js';
import { chunkInputs, chunkLinksOf, estimateConstraints, planChunks, proveChunk, proveSplit, verifySplit, type ChunkFile, type ChunkProof } from '../src/split.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-split-'));
afterAll(async () => { await releaseCurves(); });

// x → relu(Gemm) = h1 → relu(Gemm) = h2 → relu(Gemm(h2 + h1)) = h3 → Gemm = y: h1 skips a layer,
// so split into 3 (one layer each) the link from chunk 2 to chunk 3 carries h1 through chunk 2
const rnd = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed * 7.1 + i * 3.7) * 80) / 100);
const skipModel: ModelSpec = {
  graphName: 'skip3', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 3] }],
  initializers: [
    { name: 'W1', dims: [4, 5], data: new Float32Array(rnd(20, 1)) }, { name: 'B1', dims: [5], data: new Float32Array(rnd(5, 2)) },
    { name: 'W2', dims: [5, 5], data: new Float32Array(rnd(25, 3)) }, { name: 'B2', dims: [5], data: new Float32Array(rnd(5, 4)) },
    { name: 'W3', dims: [5, 4], data: new Float32Array(rnd(20, 5)) }, { name: 'B3', dims: [4], data: new Float32Array(rnd(4, 6)) },
    { name: 'W4', dims: [4, 3], data: new Float32Array(rnd(12, 7)) }, { name: 'B4', dims: [3], data: new Float32Array(rnd(3, 8)) },
  ],
  nodes: [
    { name: '/fc1/Gemm', op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['g1'] },
    { name: '/relu1/Relu', op: 'Relu', inputs: ['g1'], outputs: ['h1'] },
    { name: '/fc2/Gemm', op: 'Gemm', inputs: ['h1', 'W2', 'B2'], outputs: ['g2'] },
    { name: '/relu2/Relu', op: 'Relu', inputs: ['g2'], outputs: ['h2'] },
    { name: '/skip/Add', op: 'Add', inputs: ['h2', 'h1'], outputs: ['s'] },
    { name: '/fc3/Gemm', op: 'Gemm', inputs: ['s', 'W3', 'B3'], outputs: ['g3'] },
    { name: '/relu3/Relu', op: 'Relu', inputs: ['g3'], outputs: ['h3'] },
    { name: '/fc4/Gemm', op: 'Gemm', inputs: ['h3', 'W4', 'B4'], outputs: ['y'] },
  ],
};
const inputA = { input_data: [[0.5, -0.25, 1, 0.75]] };
const inputB = { input_data: [[-0.9, 0.6, 0.1, -0.4]] };
const calibration = [inputA, inputB, { input_data: [[1, 1, -1, -1]] }, { input_data: [[-1, -1, 1, 1]] }];

function writeModel(name: string, spec: ModelSpec): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildModel(spec));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(calibration));
  return join(dir, 'model.onnx');
}

const chunkFile = (build: string, k: number) => JSON.parse(readFileSync(new BuildPaths(new BuildPaths(build).chunkDir(k)).file('chunk'), 'utf8')) as ChunkFile;
/** The integers the whole-model executor gives (on the build's committed weights, where it has them). */
function qexec(build: string, input: { input_data: number[][] }) {
  const paths = new BuildPaths(build);
  const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
  const settings = api.readSettings(build);
  const weights = settings.weights ? loadWeights(paths, settings) : [];
  const qin = quantizeInputs(qg, [...input.input_data.map((r) => Float64Array.from(r)), ...weights]);
  return { qg, qin, q: execQuant(qg, qin) };
}

describe('a 3-layer model with a skip connection, split into 3 and 2 chunks', { timeout: 300_000 }, () => {
  let model: string;
  let whole: string;
  let split3: string;
  let unsplitOut: string[];
  let proofsA: ChunkProof[];
  let midB: ChunkProof;
  beforeAll(async () => {
    model = writeModel('skip3', skipModel);
    const calib = join(work, 'skip3', 'calibration.json');
    whole = join(work, 'build-whole');
    split3 = join(work, 'build-split3');
    await api.compile({ model, outDir: whole, calibration: calib });
    await api.compile({ model, outDir: split3, calibration: calib, split: { chunks: 3 } });
    await api.setup({ buildDir: whole });
    await api.setup({ buildDir: split3 });
    const r = await api.prove({ buildDir: whole, input: inputA });
    unsplitOut = r.publicSignals;
  }, 300_000);

  it('cuts at the layers; the last link carries h1 through the middle chunk', () => {
    const s = api.readSettings(split3);
    expect(s.split!.chunks.map((c) => c.pieces)).toEqual([[{ act: 0, from: 0, to: 5 }], [{ act: 1, from: 0, to: 5 }], [{ act: 2, from: 0, to: 4 }]]);
    expect(s.split!.chunks.map((c) => c.publicSignals.map((r) => r.signal))).toEqual([['link_out_commit'], ['link_in_commit', 'link_out_commit'], ['out0', 'link_in_commit']]);
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(split3).file('qgraph'), 'utf8'));
    const [h1, h2] = [qg.acts[0]!, qg.acts[1]!];
    const range = (a: { offset: number; size: number }) => Array.from({ length: a.size }, (_, i) => a.offset + i);
    expect(chunkFile(split3, 1).linkIn!.values).toEqual(range(h1));
    expect(chunkFile(split3, 2).linkIn!.values).toEqual([...range(h1), ...range(h2)]);
    // every received value is range-checked to the width of its interval
    const c2 = chunkFile(split3, 2).linkIn!;
    c2.values.forEach((g, i) => {
      const b = qg.valueBounds![g]!;
      expect(BigInt(c2.lo[i]!)).toBe(b.lo);
      expect(b.hi - b.lo).toBeLessThan(1n << BigInt(c2.bits[i]!));
    });
    expect(s.circuit.constraints).toBe(s.split!.chunks.reduce((n, c) => n + c.constraints, 0));
  });

  it('plans by a constraint budget: every element once, in order, no chunk over the budget but a lone element', () => {
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(split3).file('qgraph'), 'utf8'));
    const cost = (p: { act: number; from: number; to: number }) => { let n = 0; for (let i = p.from; i < p.to; i++) n += estimateConstraints(qg.acts[p.act]!, i); return n; };
    for (const budget of [1, 40, 100, 10_000]) {
      const plan = planChunks(qg, { maxConstraints: budget });
      const flat = plan.flat().flatMap((p) => Array.from({ length: p.to - p.from }, (_, i) => `${p.act}:${p.from + i}`));
      expect(flat).toEqual(qg.acts.flatMap((a, j) => Array.from({ length: a.size }, (_, i) => `${j}:${i}`)));
      for (const c of plan) {
        const n = c.reduce((t, p) => t + cost(p), 0);
        if (c.length > 1 || c[0]!.to - c[0]!.from > 1) expect(n).toBeLessThanOrEqual(budget);
      }
      if (budget === 10_000) expect(plan).toHaveLength(1);
    }
    expect(() => planChunks(qg, { chunks: 15 })).toThrow(/cannot split skip3 into 15 chunks/);
  });

  it('one-circuit verbs refuse a split build and say what to use', async () => {
    await expect(api.prove({ buildDir: split3, input: inputA })).rejects.toThrow(/split build/);
    await expect(api.verify({ buildDir: split3 })).rejects.toThrow(/split build/);
  });

  it('chunk proofs verify, links match, the output is the unsplit proof\'s and qexec\'s exactly', async () => {
    const dir = join(work, 'proofs-A');
    proofsA = [];
    for (const ci of chunkInputs(split3, inputA)) proofsA.push(await proveChunk({ buildDir: split3, index: ci.index, input: ci.input, outDir: join(dir, String(ci.index)) }));
    const v = await verifySplit({ buildDir: split3, proofs: proofsA, expect: { outputs: unsplitOut } });
    expect(v.errors).toEqual([]);
    expect(v).toMatchObject({ ok: true, chunks: [true, true, true], links: [true, true] });
    expect(v.outputs).toEqual(unsplitOut);
    expect(v.outputValues).toEqual(qexec(split3, inputA).q.outputs[0]!.map(String));
    // the chunk proofs of one inference do not depend on each other: their order of proving does not matter
    expect(JSON.parse(readFileSync(join(dir, '1', 'public.json'), 'utf8'))).toEqual(proofsA[1]!.publicSignals);
    // expectations the proofs do not meet are refused
    const wrong = [...unsplitOut]; wrong[0] = (BigInt(wrong[0]!) + 1n).toString();
    expect((await verifySplit({ buildDir: split3, proofs: proofsA, expect: { outputs: wrong } })).ok).toBe(false);
  });

  it('a chunk proof from another input in the middle breaks the links', async () => {
    const ins = chunkInputs(split3, inputB);
    const mid = await proveChunk({ buildDir: split3, index: 1, input: ins[1]!.input, outDir: join(work, 'proofs-B1') });
    midB = mid;
    const v = await verifySplit({ buildDir: split3, proofs: [proofsA[0]!, mid, proofsA[2]!] });
    expect(v.chunks).toEqual([true, true, true]); // each proof is valid on its own
    expect(v.links).toEqual([false, false]);
    expect(v.ok).toBe(false);
    // swapping chunk proofs' order, or dropping one, is refused too
    expect((await verifySplit({ buildDir: split3, proofs: [proofsA[0]!, proofsA[2]!] })).ok).toBe(false);
    expect((await verifySplit({ buildDir: split3, proofs: [proofsA[1]!, proofsA[0]!, proofsA[2]!] })).ok).toBe(false);
  });

  it('SplitVerifier.sol on anvil accepts the chunk proofs and refuses a broken link', async () => {
    const anvil = await startAnvil();
    try {
      const d = await deploySplitVerifier({ buildDir: split3, rpc: anvil.rpcUrl });
      try {
        expect(d.verifiers).toHaveLength(3);
        expect(await d.verify(proofsA)).toBe(true);
        expect(await d.estimateGas(proofsA)).toBeGreaterThan(3 * 180_000); // three pairing checks
        expect(await d.verify([proofsA[0]!, midB, proofsA[2]!])).toBe(false);
        expect(await d.verify([proofsA[0]!, proofsA[1]!])).toBe(false);
        const forged = { ...proofsA[2]!, publicSignals: proofsA[2]!.publicSignals.map((x, i) => (i === 0 ? (BigInt(x) + 1n).toString() : x)) };
        expect(await d.verify([proofsA[0]!, proofsA[1]!, forged])).toBe(false); // another output: the chunk proof fails
      } finally { d.close(); }
    } finally { await anvil.stop(); }
  });

  it('a receiving chunk fails its constraints when a link value is edited, the commitment kept', async () => {
    const paths = new BuildPaths(new BuildPaths(split3).chunkDir(2));
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(join(work, 'proofs-A', '2', 'witness.wtns'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    const commit = sym.get('main.link_in_commit')!;
    for (const i of [0, 3, 7]) {
      const bad = w.slice();
      bad[sym.get(`main.link_in[${i}]`)!]! += 1n;
      expect(bad[commit]).toBe(w[commit]);
      expect((await checkConstraints(r1cs, bad)).ok, `link_in[${i}]`).toBe(false);
    }
  });

  it('a link value outside its interval fails the receiving chunk\'s range check', async () => {
    const li = chunkFile(split3, 2).linkIn!;
    const input = chunkInputs(split3, inputA)[2]!.input;
    const v = input.link_in!.map(BigInt);
    // (v0 + 2^W, v1 − 1) packs to the same field element as (v0, v1): only the range check tells them apart
    const W = li.commitBits;
    const lo = li.lo.map(BigInt);
    const packed = (xs: bigint[]) => xs.reduce((e, x, i) => e + (x - lo[i]!) * (1n << BigInt(W * i)), 0n);
    const cheat = [v[0]! + (1n << BigInt(W)), v[1]! - 1n, ...v.slice(2)];
    expect(packed(cheat)).toBe(packed(v));
    expect(pack(v.map((x, i) => x - lo[i]!), W)[0]).toBe(packed(v));
    const paths = new BuildPaths(new BuildPaths(split3).chunkDir(2));
    // zkonnx's witness generator checks every constraint as it goes: the range check of link 0 refuses
    const graph = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    const links = chunkLinksOf(chunkFile(split3, 2));
    await expect(circuitWitness(graph, { input: 'private', output: 'public' }, links, { qin: [], linkIn: cheat }, paths.file('r1cs'))).rejects.toThrow(/main\.lrc\[0\]/);
    // the library refuses it before the witness, naming the value
    await expect(proveChunk({ buildDir: split3, index: 2, input: { link_in: cheat.map(String) }, outDir: join(work, 'cheat') })).rejects.toThrow(/link value 0 = .* is outside/);
  });

  it('hashed input and output: the end chunks carry the model\'s commitments', async () => {
    const build = join(work, 'build-split2h');
    await api.compile({ model, outDir: build, calibration: join(work, 'skip3', 'calibration.json'), split: { chunks: 2 }, visibility: { input: 'hashed', output: 'hashed' } });
    await api.setup({ buildDir: build });
    const r = await proveSplit(build, inputA);
    const { qg, qin, q } = qexec(build, inputA);
    const x = qg.inputs[0]!;
    const o = qg.outputs[0]!;
    // the whole model's commitments, headers included: a split build's end chunks carry the same
    const ob = (2n * o.bound).toString(2).length;
    const inCommit = (await packedCommit(qin[0]!.map((v) => v - x.lo), x.bits, 'x', { iv: modelIvs.input(x) })).toString();
    const outCommit = (await packedCommit(q.outputs[0]!.map((v) => v + o.bound), ob, 'y', { iv: modelIvs.output(o, ob) })).toString();
    const v = await verifySplit({ buildDir: build, proofs: r.chunks, expect: { inputs: [inCommit], outputs: [outCommit] } });
    expect(v).toMatchObject({ ok: true, inputs: [inCommit], outputs: [outCommit], links: [true] });
    expect(r.outputs[0]!.raw).toEqual(q.outputs[0]!.map(String));
  });

  it('--salt: the end commitments and every link are salted afresh for each proof set; circom builds the same systems; a link salt cannot be swapped', async () => {
    const build = join(work, 'build-split3s');
    const { settings } = await api.compile({ model, outDir: build, calibration: join(work, 'skip3', 'calibration.json'), split: { chunks: 3 }, visibility: { input: 'hashed', output: 'hashed' }, salt: true, checkCircom: true });
    expect(settings.circuit.checkCircom?.same).toBe(true);
    await api.setup({ buildDir: build });
    const a = await proveSplit(build, inputA, { name: 'a' });
    const b = await proveSplit(build, inputA, { name: 'b' });
    expect(Object.keys(a.salts!)).toEqual(['in0_salt', 'out0_salt']);
    expect(JSON.parse(readFileSync(join(new BuildPaths(build).proofDir('a'), 'salts.json'), 'utf8'))).toEqual(a.salts);
    // the same input twice: every commitment differs (model ends and links), and each set verifies
    const va = await verifySplit({ buildDir: build, proofs: a.chunks });
    const vb = await verifySplit({ buildDir: build, proofs: b.chunks });
    expect([va.ok, vb.ok, va.links, vb.links]).toEqual([true, true, [true, true], [true, true]]);
    for (let k = 0; k < 3; k++) for (const sig of a.chunks[k]!.publicSignals) expect(b.chunks[k]!.publicSignals).not.toContain(sig);
    // the model commitments are the unsplit rule's, salted: Poseidon(commitment, salt)
    const { qg, qin, q } = qexec(build, inputA);
    const x = qg.inputs[0]!;
    const o = qg.outputs[0]!;
    const ob = (2n * o.bound).toString(2).length;
    expect(va.inputs).toEqual([(await packedCommit(qin[0]!.map((v) => v - x.lo), x.bits, 'x', { iv: modelIvs.input(x), salt: BigInt(a.salts!.in0_salt!) })).toString()]);
    expect(va.outputs).toEqual([(await packedCommit(q.outputs[0]!.map((v) => v + o.bound), ob, 'y', { iv: modelIvs.output(o, ob), salt: BigInt(a.salts!.out0_salt!) })).toString()]);
    // given model salts reproduce the end commitments (the links' salts are fresh all the same)
    const c = await proveSplit(build, inputA, { name: 'c', salts: { in0_salt: BigInt(a.salts!.in0_salt!), out0_salt: BigInt(a.salts!.out0_salt!) } });
    expect([c.verification.inputs, c.verification.outputs]).toEqual([va.inputs, va.outputs]);
    // proof sets do not mix: chunk 2 of one set with chunks 1 and 3 of another breaks both links
    expect((await verifySplit({ buildDir: build, proofs: [a.chunks[0]!, b.chunks[1]!, a.chunks[2]!] })).links).toEqual([false, false]);
    // the middle chunk's witness: another link salt under the same commitment fails its constraints
    const paths = new BuildPaths(new BuildPaths(build).chunkDir(1));
    const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(join(new BuildPaths(build).proofDir('a'), 'chunks', '1', 'witness.wtns'))]);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    for (const sig of ['main.link_in_salt', 'main.link_out_salt']) {
      const bad = w.slice();
      bad[sym.get(sig)!]! += 1n;
      expect((await checkConstraints(r1cs, bad)).ok, sig).toBe(false);
    }
  });

  it('setup contribute, beacon and verify go chunk by chunk; chunk proofs verify with the new keys', async () => {
    const c = await api.contribute({ buildDir: split3, name: 'carol' });
    expect(new Set(c.chunkHashes).size).toBe(3); // a δ of its own in each chunk
    expect(c.contributionHash).toBe(c.chunkHashes![0]);
    expect((await api.beacon({ buildDir: split3, beaconHash: '0a0b0c0d', iterationsExp: 10 })).chunkHashes).toHaveLength(3);
    const v = await api.verifySetup({ buildDir: split3 });
    expect(v).toMatchObject({ ok: true, errors: [] });
    const settings = api.readSettings(split3);
    expect(v.chunkPtaus).toEqual(settings.setup!.chunkPtaus); // each chunk's own (their powers differ)
    // a split build set up before chunkPtaus was recorded: chunks on another ptau fail, with a hint
    const { chunkPtaus, ...older } = settings.setup!;
    writeSettings(split3, { ...settings, setup: older });
    const old = await api.verifySetup({ buildDir: split3 });
    writeSettings(split3, settings);
    if (new Set(chunkPtaus).size > 1) expect(old.errors.join('\n')).toMatch(/did not record each chunk's ptau/);
    else expect(old.ok).toBe(true);
    expect(v.contributions.map((k) => k.name)).toEqual(['zkonnx fast setup (single party)', 'carol', 'zkonnx beacon']);
    const r = await proveSplit(split3, inputA);
    expect((await verifySplit({ buildDir: split3, proofs: r.chunks })).ok).toBe(true);
    // one chunk's key swapped for another chunk's: that chunk is named
    const [k0, k1] = [0, 1].map((i) => new BuildPaths(new BuildPaths(split3).chunkDir(i)).file('zkey'));
    writeFileSync(k1!, readFileSync(k0!));
    const bad = await api.verifySetup({ buildDir: split3 });
    expect(bad.ok).toBe(false);
    expect(bad.errors.join('\n')).toContain(k1!);
    expect(bad.errors.join('\n')).not.toContain(k0!);
  });
});

describe('mnist-mlp split inside its one hidden layer', { timeout: 300_000 }, () => {
  it('2 chunks: proofs verify, the link matches, the output is qexec\'s exactly', async () => {
    const build = join(work, 'build-mlp2');
    const dir = 'models/mnist-mlp';
    const c = await api.compile({ model: join(dir, 'model.onnx'), outDir: build, calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), split: { chunks: 2 } });
    const chunks = c.settings.split!.chunks;
    expect(chunks.map((ch) => ch.pieces.length)).toEqual([1, 1]);
    expect(chunks[0]!.pieces[0]!.to).toBe(chunks[1]!.pieces[0]!.from); // the 32 neurons, cut in two
    await api.setup({ buildDir: build });
    const input = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as { input_data: number[][] };
    const r = await proveSplit(build, input);
    expect(r.verification).toMatchObject({ ok: true, chunks: [true, true], links: [true] });
    expect(r.verification.outputValues).toEqual(qexec(build, input).q.outputs[0]!.map(String));
  }, 300_000);

});

describe('--split with --weights hashed', { timeout: 300_000 }, () => {
  // the skip model's weights committed; split in 3, its middle layer cut between neurons
  const other: ModelSpec = { ...skipModel, initializers: skipModel.initializers.map((t, i) => ({ ...t, data: new Float32Array(rnd(t.dims.reduce((a, b) => a * b, 1), 40 + i)) })) };
  let build: string;
  let settings: api.Settings;
  beforeAll(async () => {
    build = join(work, 'build-hashed-split');
    writeModel('skip3-other', other);
    settings = (await api.compile({ model: writeModel('skip3-hashed', skipModel), outDir: build, calibration, split: { chunks: 3 }, visibility: { weights: 'hashed' }, checkCircom: true })).settings;
    await api.setup({ buildDir: build });
  }, 300_000);

  it('each chunk commits to the weight elements it reads; circom builds the same systems', () => {
    expect(settings.circuit.checkCircom?.same).toBe(true);
    const files = settings.split!.chunks.map((_, k) => chunkFile(build, k));
    // every element of every tensor is read by some chunk; a layer cut between neurons splits its columns
    for (const t of settings.weights!.tensors) {
      const read = new Set(files.flatMap((f) => (f.weights ?? []).filter((w) => w.name === t.name).flatMap((w) => w.elements)));
      expect(read.size, t.name).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    expect(settings.weights!.chunks).toHaveLength(3);
    files.forEach((f, k) => expect(settings.weights!.chunks![k] !== '', `chunk ${k}`).toBe(!!f.weights));
  });

  it('proves and verifies with the chunks\' commitments of the build\'s weights; another model\'s weights prove under the same keys, their commitments differ', async () => {
    const a = await proveSplit(build, inputA);
    expect(a.verification).toMatchObject({ ok: true, weights: settings.weights!.chunks });
    expect(a.verification.outputValues).toEqual(qexec(build, inputA).q.outputs[0]!.map(String));
    const b = await proveSplit(build, inputA, { name: 'other', weights: join(work, 'skip3-other', 'model.onnx') });
    expect(b.verification.ok).toBe(true);
    expect(b.verification.weights!.every((w, k) => w === '' || w !== settings.weights!.chunks![k])).toBe(true);
    const v = await verifySplit({ buildDir: build, proofs: b.chunks, expect: { weights: settings.weights!.chunks } });
    expect(v.ok).toBe(false);
    expect(v.errors).toContain('the chunks\' weights commitments are not the expected ones');
    // SplitVerifier.sol takes the chunks' commitments as public signals like any other
    const anvil = await startAnvil();
    try {
      const d = await deploySplitVerifier({ buildDir: build, rpc: anvil.rpcUrl });
      try {
        expect(await d.verify(a.chunks)).toBe(true);
        expect(await d.verify(b.chunks)).toBe(true);
      } finally { d.close(); }
    } finally { await anvil.stop(); }
  }, 300_000);

  it('a chunk\'s witness with one weight element changed fails its constraints', async () => {
    const k = settings.weights!.chunks!.findIndex((w) => w !== '');
    const paths = new BuildPaths(new BuildPaths(build).chunkDir(k));
    const graph = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
    const file = chunkFile(build, k);
    const ci = chunkInputs(build, inputA)[k]!;
    const qin = graph.inputs.map((_, i) => ci.input[`in${i}`]!.map(BigInt));
    const linkIn = (ci.input.link_in ?? []).map(BigInt);
    const [r1cs, sym] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym'))]);
    const w = await circuitWitness(graph, settings.visibility, chunkLinksOf(file), { qin, linkIn }, paths.file('r1cs'));
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    const weight = graph.inputs.findIndex((i) => i.role === 'weight');
    const wire = sym.get(`main.in${weight}[0]`)!;
    expect(wire).toBeGreaterThan(0);
    const bad = w.slice();
    bad[wire] = bad[wire]! + 1n;
    expect((await checkConstraints(r1cs, bad)).ok).toBe(false);
  }, 120_000);
});
