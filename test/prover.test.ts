// Our Groth16 prover (src/prover/groth16.ts) with the `wasm` and `webgpu` backends: its proofs verify with
// snarkjs, with our verifier and on anvil, for the bundled MNIST model and for chain circuits of
// three sizes; blinding with r = s = 0 is deterministic; and every header mismatch fails with a
// clear ZkonnxError before any heavy work (a spy backend sees no call).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainSource } from '../benchmarks/chain-circuit.js';
import { compile, prove, setup, verify, verifyOnChain as verifyBuildOnChain } from '../src/api.js';
import { compileCircom } from '../src/circom/compile.js';
import { ZkonnxError } from '../src/errors.js';
import { BuildPaths } from '../src/paths.js';
import type { ProverBackend } from '../src/prover/backend.js';
import { bn128 } from '../src/prover/curve.js';
import { groth16Prove } from '../src/prover/groth16.js';
import { computeWitness, getProver, gpuPreparedBytes, gpuProofBytes, loadBackend } from '../src/prover/index.js';
import type { WebGpuBackend } from '../src/prover/webgpu/backend.js';
import { gpuMemory, resetGpuPeak } from '../src/prover/webgpu/gpu.js';
import { testGpu } from './helpers/webgpu.js';
import { BN254_Q, BULK_SECTIONS, openZkey, parseZkey } from '../src/prover/zkey.js';
import { combTimes } from '../src/setup/fast/kernels.js';
import type { WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { setupGroth16 } from '../src/setup/groth16.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { startAnvil, type AnvilInstance } from '../src/verifier/anvil.js';
import { verifyOnChain } from '../src/verifier/onchain.js';
import { exportSolidityVerifier } from '../src/verifier/solidity.js';
import type { Groth16Proof } from '../src/verifier/types.js';

interface Circuit { power: number; zkey: string; wtns: string; vkey: Record<string, unknown>; nVars: number; sol: string }

let work: string;
let anvil: AnvilInstance;
const circuits: Circuit[] = [];

/** 2^power − 16 multiplications with a public input: domain 2^power. */
async function chain(power: number): Promise<Circuit> {
  const dir = join(work, `chain${power}`);
  const circuitPath = join(work, `chain${power}.circom`);
  writeFileSync(circuitPath, chainSource(power));
  const c = await compileCircom({ circuitPath, outDir: dir });
  const zkey = join(dir, 'circuit_final.zkey');
  const vkeyPath = join(dir, 'verification_key.json');
  await setupGroth16({ r1csPath: c.r1csPath, zkeyPath: zkey, vkeyPath });
  const wtns = join(dir, 'witness.wtns');
  await computeWitness(c.wasmPath, { x: 3, y: 5 + power }, wtns);
  return { power, zkey, wtns, vkey: JSON.parse(readFileSync(vkeyPath, 'utf8')), nVars: c.wires, sol: await exportSolidityVerifier(zkey) };
}

/** A backend that records calls: header checks must fail before any of them. */
function spy(): ProverBackend & { calls: string[] } {
  const calls: string[] = [];
  const no = (what: string) => async (): Promise<Uint8Array> => { calls.push(what); throw new Error(`${what} must not run`); };
  return { name: 'wasm', description: 'spy', calls, msmG1: no('msmG1'), msmG2: no('msmG2'), quotient: no('quotient') };
}

/** The zkey rebuilt with section `type`'s body cut short by `cut` bytes (sizes kept consistent). */
function shrinkSection(file: string, type: number, cut: number): Uint8Array {
  const buf = new Uint8Array(readFileSync(file));
  const view = new DataView(buf.buffer);
  const parts: Uint8Array[] = [buf.subarray(0, 12)];
  for (let i = 0, pos = 12; i < view.getUint32(8, true); i++) {
    const t = view.getUint32(pos, true);
    const size = Number(view.getBigUint64(pos + 4, true));
    const body = buf.subarray(pos + 12, pos + 12 + size - (t === type ? cut : 0));
    const head = new Uint8Array(12);
    new DataView(head.buffer).setUint32(0, t, true);
    new DataView(head.buffer).setBigUint64(4, BigInt(body.byteLength), true);
    parts.push(head, body);
    pos += 12 + size;
  }
  return Buffer.concat(parts);
}

const snarkVerify = (c: Circuit, r: { proof: Groth16Proof; publicSignals: string[] }) => snarkjs.groth16.verify(c.vkey as never, r.publicSignals, r.proof);
const mem = (data: Uint8Array) => ({ type: 'mem' as const, data });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'zkonnx-prover-'));
  anvil = await startAnvil();
  for (const p of [8, 10, 12]) circuits.push(await chain(p));
}, 300_000);

afterAll(async () => {
  await anvil?.stop();
  await releaseCurves();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('wasm prover on chain circuits of 2^8, 2^10, 2^12', () => {
  it('proofs verify with snarkjs and on anvil, with the same public signals as snarkjs', async () => {
    const prover = await getProver('wasm');
    for (const c of circuits) {
      const r = await prover.prove(c.zkey, c.wtns);
      expect(r.proof.protocol).toBe('groth16');
      expect(r.proof.curve).toBe('bn128');
      expect(await snarkVerify(c, r), `2^${c.power}`).toBe(true);
      expect(r.publicSignals).toEqual((await snarkjs.groth16.prove(c.zkey, c.wtns)).publicSignals);
      const onchain = await verifyOnChain({ verifierSol: c.sol, proof: r.proof, publicSignals: r.publicSignals, rpc: anvil.rpcUrl });
      expect(onchain.verified, `2^${c.power} on chain`).toBe(true);
    }
  }, 180_000);

  it('a proof with pi_a changed fails off-chain and on-chain', async () => {
    const c = circuits[1]!;
    const r = await (await getProver('auto')).prove(c.zkey, c.wtns);
    const bad = structuredClone(r.proof);
    bad.pi_a = ['1', '2', '1']; // the generator: on the curve, the wrong point
    expect(await snarkVerify(c, { proof: bad, publicSignals: r.publicSignals })).toBe(false);
    expect((await verifyOnChain({ verifierSol: c.sol, proof: bad, publicSignals: r.publicSignals, rpc: anvil.rpcUrl })).verified).toBe(false);
  }, 120_000);

  it('with r = s = 0 the proof is deterministic (and still verifies); fresh r, s differ', async () => {
    const c = circuits[0]!;
    const backend = await loadBackend('wasm');
    const rs = { r: 0n, s: 0n };
    const a = await groth16Prove(c.zkey, c.wtns, backend, { rs });
    const b = await groth16Prove(mem(readFileSync(c.zkey)), mem(readFileSync(c.wtns)), backend, { rs }); // snarkjs's in-memory form
    expect(b.proof).toEqual(a.proof);
    expect(await snarkVerify(c, a)).toBe(true);
    const x = await groth16Prove(c.zkey, c.wtns, backend);
    const y = await groth16Prove(c.zkey, c.wtns, backend);
    expect(x.proof.pi_a).not.toEqual(y.proof.pi_a);
    expect(await snarkVerify(c, x)).toBe(true);
    expect(x.timings.total).toBeGreaterThan(0);
  }, 60_000);
});

describe('wasm backend against ffjavascript', () => {
  /** n scalars below 2^253: random, with runs of zeros, ones and small values mixed in. */
  const scalars = (n: number, mix: boolean) => {
    const b = new Uint8Array(randomBytes(n * 32));
    for (let i = 0; i < n; i++) {
      b[i * 32 + 31]! &= 0x1f;
      const k = i % 10;
      if (mix && k < 6) { b.fill(0, i * 32, i * 32 + 32); if (k >= 3) b[i * 32] = k === 5 ? 200 : 1; }
    }
    return b;
  };

  it('msmG1 and msmG2 equal multiExpAffine on dense, mixed, all-one and empty inputs, with points at infinity', async () => {
    const curve = await bn128();
    const backend = await loadBackend('wasm');
    for (const n of [1, 37, 1 << 10]) {
      for (const group of ['G1', 'G2'] as const) {
        const bases = await combTimes(curve as unknown as WasmCurve, group, scalars(n, false));
        const sBase = group === 'G1' ? 64 : 128;
        bases.fill(0, 0, sBase); // the first point at infinity
        const G = curve[group];
        // compared in affine form: with no finite base at all ffjavascript returns (0, 0, 1), which
        // its eq and isZero do not take for infinity, though its affine form is (0, 0) as ours
        const affine = (p: Uint8Array) => Buffer.from(G.toAffine(p)).toString('hex');
        const ones = new Uint8Array(n * 32).map((_, i) => (i % 32 === 0 ? 1 : 0));
        for (const sc of [scalars(n, false), scalars(n, true), ones, new Uint8Array(n * 32)]) {
          const got = await (group === 'G1' ? backend.msmG1(bases, sc) : backend.msmG2(bases, sc));
          expect(affine(got), `${group}, ${n} points`).toBe(affine(await G.multiExpAffine(bases, sc)));
        }
      }
    }
  }, 60_000);

  it('quotient equals Fr.ifft, batchApplyKey, Fr.fft and A·B − C out of Montgomery form', async () => {
    const curve = await bn128();
    const Fr = curve.Fr as typeof curve.Fr & { batchFromMontgomery(b: Uint8Array): Promise<Uint8Array>; sub(a: Uint8Array, b: Uint8Array): Uint8Array };
    const backend = await loadBackend('wasm');
    for (const power of [1, 2, 5, 11, 13]) { // 2^13: two of fr_coset's blocks
      const n = 2 ** power;
      const [a, b, c] = [scalars(n, false), scalars(n, true), scalars(n, false)];
      const inc = Fr.w[power + 1]!;
      const coset = async (x: Uint8Array) => Fr.fft(await Fr.batchApplyKey(await Fr.ifft(x), Fr.e(1), inc));
      const [ao, bo, co] = [await coset(a), await coset(b), await coset(c)];
      const joined = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) {
        const at = (x: Uint8Array) => x.subarray(i * 32, i * 32 + 32);
        joined.set(Fr.sub(Fr.mul(at(ao), at(bo)), at(co)), i * 32);
      }
      expect(Buffer.from(await backend.quotient(a, b, c, power)).equals(Buffer.from(await Fr.batchFromMontgomery(joined))), `2^${power}`).toBe(true);
    }
  }, 60_000);
});

describe('header checks fail before any heavy work', () => {
  const rejects = async (zkey: string | ReturnType<typeof mem>, wtns: string | ReturnType<typeof mem>, code: string, pattern: RegExp) => {
    const s = spy();
    const err = await groth16Prove(zkey, wtns, s).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(pattern) });
    expect(s.calls).toEqual([]);
  };

  it('a witness of another circuit: both lengths in the message', async () => {
    const [small, big] = [circuits[0]!, circuits[1]!];
    await rejects(big.zkey, small.wtns, 'WITNESS_MISMATCH', new RegExp(`${small.nVars} values.*expects ${big.nVars} variables`));
  });

  // in memory, and as a file (openZkey: the layout read from the section headers alone)
  const asFile = (data: Uint8Array) => {
    const f = join(mkdtempSync(join(tmpdir(), 'zkonnx-bad-zkey-')), 'bad.zkey');
    writeFileSync(f, data);
    return f;
  };

  it('a truncated zkey', async () => {
    const data = readFileSync(circuits[0]!.zkey);
    const cut = data.subarray(0, data.byteLength - 1000);
    for (const z of [mem(cut), asFile(cut)]) await rejects(z, circuits[0]!.wtns, 'ARTIFACT_MISSING', new RegExp(`file has ${cut.byteLength}`));
  });

  it('a zkey section of the wrong size (one C point missing)', async () => {
    const c = circuits[0]!;
    const data = shrinkSection(c.zkey, 8, 64);
    for (const z of [mem(data), asFile(data)]) await rejects(z, c.wtns, 'ARTIFACT_MISSING', /section 8 \(C points\) is \d+ bytes, expected \d+/);
  });

  it('a witness over another field: both numbers in the message', async () => {
    const c = circuits[0]!;
    const data = new Uint8Array(readFileSync(c.wtns));
    // header section body: u32 n8 at 24, q at 28 (after the 12-byte file and section headers)
    let q = BN254_Q;
    for (let i = 0; i < 32; i++, q >>= 8n) data[28 + i] = Number(q & 0xffn);
    await rejects(c.zkey, mem(data), 'WITNESS_MISMATCH', new RegExp(`q = ${BN254_Q}.*r = 21888242871839275222246405745257275088548364400416034343698204186575808495617`));
  });

  it('a plonk key, or a file that is not a zkey', async () => {
    const c = circuits[0]!;
    const data = new Uint8Array(readFileSync(c.zkey));
    data[24] = 2; // section 1 body: protocol
    await rejects(mem(data), c.wtns, 'ARTIFACT_MISSING', /protocol is 2, expected 1 \(groth16\)/);
    await rejects(c.wtns, c.wtns, 'ARTIFACT_MISSING', /magic is "wtns", expected "zkey"/);
  });
});

describe('openZkey: a key read section by section while the work starts', () => {
  it('gives what parseZkey gives, read in small chunks; close() stops the reading', async () => {
    const c = circuits[1]!;
    const whole = parseZkey(new Uint8Array(readFileSync(c.zkey)), c.zkey);
    const o = await openZkey(c.zkey, { chunkBytes: 1000 });
    expect(o.zkey.header).toEqual(whole.header);
    expect(o.zkey.nCoef).toBe(whole.nCoef);
    await Promise.all(BULK_SECTIONS.map((s) => o.ready[s]));
    for (const s of BULK_SECTIONS) expect(Buffer.from(o.zkey[s]).equals(Buffer.from(whole[s])), s).toBe(true);
    await o.close();
    // closed before the H points are read: they reject, naming the file
    const early = await openZkey(c.zkey, { chunkBytes: 64 });
    await early.close();
    const err = await early.ready.H.then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toBe(`${c.zkey}: reading stopped before the end`);
  });
});

const mnistModel = join(__dirname, '..', 'models', 'mnist-mlp');
let mnistBuilt: Promise<string> | undefined;
/** The bundled model compiled and set up once for the tests that prove it. */
function mnistBuild(): Promise<string> {
  mnistBuilt ??= (async () => {
    const buildDir = join(work, 'mnist');
    await compile({ model: join(mnistModel, 'model.onnx'), outDir: buildDir, calibration: join(mnistModel, 'calibration.json') });
    await setup({ buildDir });
    return buildDir;
  })();
  return mnistBuilt;
}

describe('bundled MNIST model through the API', () => {
  it('proves with the wasm prover and verifies off-chain and on anvil', async () => {
    const model = mnistModel;
    const buildDir = await mnistBuild();
    const p = await prove({ buildDir, input: join(model, 'input.json'), backend: 'wasm' });
    expect(await verify({ buildDir })).toBe(true);
    const vkey = JSON.parse(readFileSync(new BuildPaths(buildDir).file('vkey'), 'utf8'));
    expect(await snarkjs.groth16.verify(vkey, p.publicSignals, p.proof)).toBe(true);
    expect((await verifyBuildOnChain({ buildDir, rpc: anvil.rpcUrl })).verified).toBe(true);
  }, 300_000);
});

describe('webgpu prover (Mesa llvmpipe where there is no GPU)', async () => {
  const gpu = await testGpu();

  it.skipIf(!gpu)('with r = s = 0 its proofs equal the wasm backend\'s, byte for byte; they verify with snarkjs and on anvil', async () => {
    const webgpu = await loadBackend('webgpu', { allowSoftware: true });
    const wasm = await loadBackend('wasm');
    const rs = { r: 0n, s: 0n };
    const dev = (webgpu as WebGpuBackend).ctx.device;
    for (const c of circuits) {
      const before = gpuMemory(dev).live;
      resetGpuPeak(dev);
      const g = await groth16Prove(c.zkey, c.wtns, webgpu, { rs });
      // the device memory it took at its peak (the key's uploads and the proof's scratch), against the plan
      const { header: h, nCoef } = parseZkey(new Uint8Array(readFileSync(c.zkey)), c.zkey);
      const plan = gpuPreparedBytes(h.power, h.nVars, nCoef) + gpuProofBytes(h.power, h.nVars, h.nPublic, (webgpu as WebGpuBackend).g2 === 'gpu');
      const used = gpuMemory(dev).peak - before;
      console.log(`2^${c.power}: GPU memory at the proof's peak ${used} bytes, planned ${plan}`);
      expect(used, `2^${c.power}`).toBeLessThanOrEqual(plan);
      expect(g.proof, `2^${c.power}`).toEqual((await groth16Prove(c.zkey, c.wtns, wasm, { rs })).proof);
      const r = await groth16Prove(c.zkey, c.wtns, webgpu);
      expect(await snarkVerify(c, r), `2^${c.power}`).toBe(true);
      const onchain = await verifyOnChain({ verifierSol: c.sol, proof: r.proof, publicSignals: r.publicSignals, rpc: anvil.rpcUrl });
      expect(onchain.verified, `2^${c.power} on chain`).toBe(true);
      const bad = structuredClone(r.proof);
      bad.pi_c = ['1', '2', '1'];
      expect(await snarkVerify(c, { proof: bad, publicSignals: r.publicSignals })).toBe(false);
    }
  }, 300_000);

  it.skipIf(!gpu)('proves the bundled MNIST model through the API; verified off-chain and on anvil', async () => {
    const buildDir = await mnistBuild();
    const p = await prove({ buildDir, input: join(mnistModel, 'input.json'), backend: 'webgpu', allowSoftwareGpu: true, name: 'webgpu' });
    expect(p.backend).toMatch(/^webgpu/);
    expect(await verify({ buildDir, name: 'webgpu' })).toBe(true);
    expect((await verifyBuildOnChain({ buildDir, name: 'webgpu', rpc: anvil.rpcUrl })).verified).toBe(true);
  }, 300_000);

  it.skipIf(!gpu?.software)('a software adapter is refused unless asked for, and auto picks wasm then', async () => {
    await expect(getProver('webgpu')).rejects.toThrow(/no hardware WebGPU adapter|is a software renderer/);
    expect((await getProver('auto')).name).toBe('wasm');
    expect((await getProver('webgpu', { allowSoftware: true })).name).toBe('webgpu');
  }, 60_000);
});
