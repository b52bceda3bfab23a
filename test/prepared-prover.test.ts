// The prepared prover (issue 19, src/prover/prepared.ts): a build's proving key read, checked
// against keys.json and parsed once, then several witnesses proved with it. Both proofs verify
// with snarkjs; the zkey is parsed once (a counter on parseZkey) and not read again (the file is
// moved away after createProver); with r = s = 0 the proof equals groth16Prove's byte for byte;
// a key that is not the one setup recorded fails at createProver with KEY_CHANGED; the service's
// worker cache proves two jobs with one prover; and on WebGPU (llvmpipe where there is no GPU)
// each bases array and the coefficients are uploaded once for both proofs.
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as api from '../src/api.js';
import { encodeWtns } from '../src/circom/witness.js';
import { circuitWitness, readWireMap } from '../src/compiler/circuit.js';
import { ZkonnxError } from '../src/errors.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { buildModel } from '../src/onnx/write.js';
import { tinyMlp } from './helpers/tiny-mlp.js';
import { groth16Prove } from '../src/prover/groth16.js';
import { createProver, createProverFromKey, gpuPreparedBytes, gpuProofBytes, loadBackend, preparedBytes } from '../src/prover/index.js';
import { gpuMemory, resetGpuPeak } from '../src/prover/webgpu/gpu.js';
import { parseZkey } from '../src/prover/zkey.js';
import type { WebGpuBackend } from '../src/prover/webgpu/backend.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { loadModel } from '../src/service/models.js';
import { ArtifactCache } from '../src/service/prover.js';
import { releaseCurves } from '../src/snark.js';
import { testGpu } from './helpers/webgpu.js';

// every read of a zkey, counted: a parse of its bytes or an opened file (the prover modules import both from here)
const parses = vi.hoisted(() => ({ n: 0 }));
vi.mock('../src/prover/zkey.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/prover/zkey.js')>();
  return {
    ...orig,
    parseZkey: (...a: Parameters<typeof orig.parseZkey>) => { parses.n++; return orig.parseZkey(...a); },
    openZkey: (...a: Parameters<typeof orig.openZkey>) => { parses.n++; return orig.openZkey(...a); },
  };
});

const mlp = tinyMlp;
const inputs = [{ input_data: [[0.5, -0.25, 1, 0.75]] }, { input_data: [[-1, 1, -0.5, 0.25]] }];
const calibration = [...inputs, { input_data: [[1, 1, 1, -1]] }, { input_data: [[-1, -1, 0, 1]] }];

const work = mkdtempSync(join(tmpdir(), 'zkonnx-prepared-'));
const buildDir = join(work, 'mlp');
let vkey: api.VerificationKey;
let zkeyPath: string;

/** The .wtns bytes of an input, from the compiler's own witness (as the service computes it). */
async function wtnsOf(dir: string, input: { input_data: number[][] }): Promise<Uint8Array> {
  const settings = api.readSettings(dir);
  const qg = quantGraphFromJson(readFileSync(join(dir, 'qgraph.json'), 'utf8'));
  const qin = quantizeInputs(qg, [...input.input_data.map((v) => Float64Array.from(v))]);
  const q = execQuant(qg, qin);
  return encodeWtns(await circuitWitness(qg, settings.visibility, {}, { qin }, await readWireMap(join(dir, 'circuit.r1cs')), q));
}

const verifies = (r: { proof: unknown; publicSignals: string[] }) => snarkjs.groth16.verify(vkey as never, r.publicSignals, r.proof as never);

beforeAll(async () => {
  const onnx = join(work, 'mlp.onnx');
  writeFileSync(onnx, buildModel(mlp));
  writeFileSync(join(work, 'calibration.json'), JSON.stringify(calibration));
  await api.compile({ model: onnx, outDir: buildDir, calibration: join(work, 'calibration.json') });
  await api.setup({ buildDir });
  vkey = JSON.parse(readFileSync(join(buildDir, 'verification_key.json'), 'utf8'));
  zkeyPath = join(buildDir, 'circuit_final.zkey');
}, 60_000);

afterAll(async () => {
  await releaseCurves();
  rmSync(work, { recursive: true, force: true });
});

describe('createProver (wasm)', () => {
  it('reads and parses the key once and proves two witnesses; both verify', async () => {
    const [w1, w2] = [await wtnsOf(buildDir, inputs[0]!), await wtnsOf(buildDir, inputs[1]!)];
    const before = parses.n;
    const prover = await createProver({ buildDir, backend: 'wasm' });
    expect(parses.n - before).toBe(1);
    expect(prover.name).toBe('wasm');
    expect(prover.description).toMatch(/^wasm/);
    // the sections it holds: the file less its IC section and section headers; about what preparedBytes says
    const size = statSync(zkeyPath).size;
    expect(prover.memoryBytes).toBeLessThan(size);
    expect(prover.memoryBytes).toBeGreaterThan(size / 2);
    expect(preparedBytes(prover.power, prover.nVars)).toBeGreaterThan(prover.memoryBytes / 2);
    expect(preparedBytes(prover.power, prover.nVars)).toBeLessThan(prover.memoryBytes * 2);

    const moved = `${zkeyPath}.away`;
    renameSync(zkeyPath, moved); // nothing reads the file again
    try {
      const r1 = await prover.prove(w1);
      const r2 = await prover.prove({ type: 'mem', data: w2 });
      expect(await verifies(r1)).toBe(true);
      expect(await verifies(r2)).toBe(true);
      expect(r1.publicSignals).not.toEqual(r2.publicSignals); // different inputs, different public outputs
      expect(parses.n - before).toBe(1);
    } finally {
      renameSync(moved, zkeyPath);
    }

    // the same proof as the one-shot path, byte for byte, with the blinding fixed
    const rs = { r: 0n, s: 0n };
    const prepared = await prover.prove(w1, { rs });
    const oneShot = await groth16Prove(zkeyPath, { type: 'mem', data: w1 }, await loadBackend('wasm'), { rs });
    expect(prepared.proof).toEqual(oneShot.proof);
    expect(prepared.publicSignals).toEqual(oneShot.publicSignals);

    await prover.release();
    await prover.release(); // idempotent
    await expect(prover.prove(w1)).rejects.toThrow(/was released/);
  }, 30_000);

  it('from a key file (no keys.json check), a key past the compact limit keeping a buffer per section: the same proof', async () => {
    const w1 = await wtnsOf(buildDir, inputs[0]!);
    const rs = { r: 0n, s: 0n };
    const compact = await createProverFromKey(zkeyPath, 'wasm');
    const split = await createProverFromKey(zkeyPath, 'wasm', { compactMaxBytes: 0 });
    // the split key holds C ‖ H besides C and H
    expect(split.memoryBytes).toBeGreaterThan(compact.memoryBytes);
    const [a, b] = [await compact.prove(w1, { rs }), await split.prove(w1, { rs })];
    expect(b.proof).toEqual(a.proof);
    expect(await verifies(b)).toBe(true);
    await Promise.all([compact.release(), split.release()]);
  }, 30_000);

  it('a key that is not the one setup recorded fails at createProver with KEY_CHANGED (hashed beside the read)', async () => {
    const dir = join(work, 'tampered');
    cpSync(buildDir, dir, { recursive: true });
    const zkey = join(dir, 'circuit_final.zkey');
    const bytes = readFileSync(zkey);
    bytes[bytes.length - 1]! ^= 1; // last byte of the H points
    writeFileSync(zkey, bytes);
    const err = await createProver({ buildDir: dir, backend: 'wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('KEY_CHANGED');
    // named so also where the key's layout is broken too (truncated: the reader fails as well)
    writeFileSync(zkey, bytes.subarray(0, bytes.length - 100));
    expect(await createProver({ buildDir: dir, backend: 'wasm' }).catch((e: unknown) => (e as ZkonnxError).code)).toBe('KEY_CHANGED');
    // a build without a key says which step makes it
    rmSync(zkey);
    await expect(createProver({ buildDir: dir, backend: 'wasm' })).rejects.toThrow(/circuit_final\.zkey/);
  }, 30_000);

  it('the worker cache (service) proves two jobs with one prepared prover, each verified', async () => {
    const model = loadModel('mlp', buildDir)!;
    const cache = new ArtifactCache({ backend: 'wasm' });
    expect(cache.backend).toBe('wasm');
    const before = parses.n;
    const a = await cache.prove(model, inputs[0]!);
    const b = await cache.prove(model, inputs[1]!);
    expect(parses.n - before).toBe(1);
    expect(cache.loadsOf('mlp')).toBe(1);
    expect(await verifies(a)).toBe(true);
    expect(await verifies(b)).toBe(true);
    expect(a.outputs[0]!.raw).not.toEqual(b.outputs[0]!.raw);
    await cache.release();
  }, 30_000);
});

describe('createProverFromKey on WebGPU (Mesa llvmpipe where there is no GPU)', async () => {
  const gpu = await testGpu();

  it.skipIf(!gpu)('uploads each bases array once for two proofs; both verify', async () => {
    const backend = (await loadBackend('webgpu', { allowSoftware: true })) as WebGpuBackend;
    const prover = await createProverFromKey(new Uint8Array(readFileSync(zkeyPath)), backend);
    expect(prover.name).toBe('webgpu');
    const dev = backend.ctx.device;
    const before = gpuMemory(dev).live;
    resetGpuPeak(dev);
    const r1 = await prover.prove(await wtnsOf(buildDir, inputs[0]!));
    const uploads = backend.stats.baseUploads;
    {
      // the device memory the first proof took at its peak (key uploads, scratch), against the plan
      const z = parseZkey(new Uint8Array(readFileSync(zkeyPath)), zkeyPath);
      const { power, nVars, nPublic } = z.header;
      const used = gpuMemory(dev).peak - before;
      const plan = gpuPreparedBytes(power, nVars, z.nCoef) + gpuProofBytes(power, nVars, nPublic, backend.g2 === 'gpu');
      console.log(`GPU memory at the first proof's peak: ${used} bytes, planned ${plan}`);
      expect(used).toBeLessThanOrEqual(plan);
      expect(used).toBeGreaterThan(plan / 4);
    }
    // A, B1, C and H (a model's witness is small: C's MSM runs on its own, early); B2 is a G2 MSM, on the CPU
    expect(uploads).toBe(4);
    expect(backend.stats.coefUploads).toBe(1); // the A/B/C evaluations run on the GPU, from the key's coefficients kept there
    // one copy of the witness on the device per proof, read by A/B/C and the A, B1 and C MSMs
    expect(backend.stats.witnessUploads).toBe(1);
    const r2 = await prover.prove(await wtnsOf(buildDir, inputs[1]!));
    expect(backend.stats.baseUploads).toBe(uploads);
    expect(backend.stats.coefUploads).toBe(1);
    expect(backend.stats.witnessUploads).toBe(2);
    expect(await verifies(r1)).toBe(true);
    expect(await verifies(r2)).toBe(true);
    // the device memory it holds is what gpuPreparedBytes plans, less what this key does not use
    // here (B2: the G2 MSM runs on the CPU beside a software adapter; C‖H: the witness is small)
    const z = parseZkey(new Uint8Array(readFileSync(zkeyPath)), zkeyPath);
    const { power, nVars, nPublic } = z.header;
    const planned = gpuPreparedBytes(power, nVars, z.nCoef);
    const unused = 128 * nVars + 64 * (nVars + 2 ** power) + 64 * (nPublic + 1);
    expect(backend.heldBytes()).toBeLessThanOrEqual(planned);
    expect(backend.heldBytes()).toBeGreaterThanOrEqual(planned - unused);
    await prover.release(); // frees its GPU copies; the backend is the caller's and stays usable
    expect(backend.heldBytes()).toBe(0);
    // a one-shot proof uploads its own arrays (and frees them when done)
    const r3 = await groth16Prove(zkeyPath, { type: 'mem', data: await wtnsOf(buildDir, inputs[0]!) }, backend);
    expect(backend.stats.baseUploads).toBe(uploads + 4);
    expect(backend.stats.coefUploads).toBe(2);
    expect(backend.stats.witnessUploads).toBe(3);
    expect(await verifies(r3)).toBe(true);
    // its G2 MSMs run on the CPU beside a software adapter: nothing to profile on the GPU
    if (backend.g2 === 'cpu') expect(await backend.profileMsm('g2', new Uint8Array(128), new Uint8Array(32))).toBeUndefined();
    await backend.release();
  }, 60_000);

  it.skipIf(!gpu)('with precomputed multiples (pre=4, G2 on the GPU too): the kept sections hold their copies, proofs equal the wasm backend\'s; a one-shot proof makes none', async () => {
    const backend = (await loadBackend('webgpu', { allowSoftware: true, msm: { precompute: 4 }, g2: 'gpu' })) as WebGpuBackend;
    const wasm = await loadBackend('wasm');
    const key = new Uint8Array(readFileSync(zkeyPath));
    const z = parseZkey(key, zkeyPath);
    const { power, nVars, nPublic } = z.header;
    const rs = { r: 0n, s: 0n };
    const prover = await createProverFromKey(key, backend);
    const reference = await createProverFromKey(key, wasm);
    try {
      for (const input of inputs) {
        const w = await wtnsOf(buildDir, input);
        const got = await prover.prove(w, { rs });
        expect(got.proof).toEqual((await reference.prove(w, { rs })).proof);
        expect(await verifies(await prover.prove(w))).toBe(true);
      }
      // each kept section with its copies (4 for any section of up to 2^20 points): within the
      // plan with pre=4, and more than a key without copies holds
      const held = backend.heldBytes();
      console.log(`GPU memory of a prepared key with pre=4: ${held} bytes, planned ${gpuPreparedBytes(power, nVars, z.nCoef, { precompute: 4 })}`);
      expect(held).toBeLessThanOrEqual(gpuPreparedBytes(power, nVars, z.nCoef, { precompute: 4 }));
      expect(held).toBeGreaterThan(gpuPreparedBytes(power, nVars, z.nCoef));
      // bench:prove's profiled MSM: every stage timed (G2 too: it runs on the GPU here)
      const scalars = new Uint8Array(nVars * 32);
      for (let i = 0; i < nVars; i++) scalars[i * 32] = (i % 250) + 1;
      const st = await backend.profileMsm('g1', z.A, scalars);
      expect(Object.keys(st!)).toEqual(expect.arrayContaining(['bits', 'digits', 'buckets', 'reduce', 'tree', 'combine']));
      expect(Object.values(st!).every((ms) => ms >= 0)).toBe(true);
      expect(await backend.profileMsm('g2', z.B2, scalars)).toHaveProperty('reduce');
    } finally {
      await prover.release();
      await reference.release();
    }
    // a one-shot proof on the same backend uploads plain bases: its peak fits the plan without copies
    const dev = backend.ctx.device;
    const before = gpuMemory(dev).live;
    resetGpuPeak(dev);
    const r = await groth16Prove(zkeyPath, { type: 'mem', data: await wtnsOf(buildDir, inputs[0]!) }, backend);
    expect(await verifies(r)).toBe(true);
    expect(gpuMemory(dev).peak - before).toBeLessThanOrEqual(gpuPreparedBytes(power, nVars, z.nCoef) + gpuProofBytes(power, nVars, nPublic, true));
    await backend.release();
    // a tuning's c above 16 is the copies' width: a one-shot proof's MSMs pick their own windows
    const wide = (await loadBackend('webgpu', { allowSoftware: true, msm: { precompute: 4, windowBits: 18 } })) as WebGpuBackend;
    expect(await verifies(await groth16Prove(zkeyPath, { type: 'mem', data: await wtnsOf(buildDir, inputs[0]!) }, wide))).toBe(true);
    await wide.release();
  }, 180_000);
});
