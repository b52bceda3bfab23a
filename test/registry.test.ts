// The on-chain registry (verifier-contracts/ZkonnxRegistry.sol) against real components:
// tiny circom circuits with SignedCommit weights commitments → Groth16 (buildStandalone) →
// snarkjs verifiers → solc-js → anvil, through the TypeScript API of src/verifier/registry.ts.
// Training proofs come from a stand-in circuit (benchmarks/registry-circuits.ts) that proves any
// [root, h0, h1, start] for weights it knows: that is all a third party needs to make a valid link
// into someone else's weights (issue 18: one SGD step on crafted data lands on any weights), so the
// attacker's links below are real, valid proofs of their own chains.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { id as keccakId, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { signedCommit } from '../src/commit/poseidon.js';
import { buildStandalone, proveStandalone, readStandalone } from '../src/commit/standalone.js';
import { ZkonnxError } from '../src/errors.js';
import { circuitsDir } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { startAnvil, type AnvilInstance } from '../src/verifier/anvil.js';
import { deployRegistry, modelLayoutFromSettings, trainingChainId, type Registry } from '../src/verifier/registry.js';
import { exportSolidityVerifier } from '../src/verifier/solidity.js';
import type { Groth16Proof } from '../src/verifier/types.js';
import { inferenceSource as sharedInference, standInIv, trainingStandInSource } from '../benchmarks/registry-circuits.js';

const R = BN254_R;
const BITS = 8;
/** anvil's dev accounts 1 and 2 (mnemonic "test test ... junk"); account 0 deploys. */
const KEY1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KEY2 = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

const inferenceSource = (xPublic: boolean) => sharedInference(3, xPublic, BITS);
const TRAINING_SOURCE = trainingStandInSource(BITS);

/** Builds once per source (and commit.circom) into a cache folder under the OS temp dir. */
async function built(name: string, source: string, publicSignals: string[]): Promise<string> {
  const lib = readFileSync(join(circuitsDir(), 'commit.circom'), 'utf8');
  const hash = createHash('sha256').update(source).update(lib).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'zkonnx-registry-test', `${name}-${hash}`);
  if (existsSync(join(dir, 'circuit.json'))) {
    try {
      readStandalone(dir);
      return dir;
    } catch {
      // rebuild below
    }
  }
  await buildStandalone({ dir, source, kind: `registry test: ${name}`, publicSignals });
  return dir;
}

type Proved = { proof: Groth16Proof; publicSignals: string[] };
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const W0 = [0n, 0n, 0n]; // the all-zero initial weights of the honest chain W0 -> W1 -> W2 on ROOT_A
const W1 = [2n, 3n, 4n];
const W2 = [3n, 5n, 7n]; // model A
const W3 = [9n, 9n, 9n];
const WB = [-4n, 6n, 9n]; // model B: same circuit, other weights
const WX = [5n, -6n, 7n]; // an attacker's initial weights
const X = [2n, 3n, 5n];
const ROOT_A = 1234567n;
const ROOT_B = 7654321n;
const ROOT_X = 999n; // an attacker's own dataset
/** Samples one stand-in training proof consumes (its links are 4 apart: start 0, 4, 8). */
const SPP = 4;

let anvil: AnvilInstance | undefined;
let reg: Registry;
let h: { w0: bigint; w1: bigint; w2: bigint; w3: bigint; wb: bigint; wx: bigint };
let v5: { address: string; nPublic: number };
let v2: { address: string; nPublic: number };
let vt: { address: string; nPublic: number };
let pA5: Proved; // model A, 5 signals [commitment, y, x0, x1, x2]
let pB5: Proved; // model B weights, same circuit
let pA2: Proved; // model A weights, private x: [commitment, y]
const t: Record<string, Proved> = {};

/** The ZkonnxError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<ZkonnxError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(ZkonnxError);
  return e as ZkonnxError;
}

beforeAll(async () => {
  const [d5, d2, dt] = [
    await built('inference5', inferenceSource(true), ['commitment', 'y', 'x[0]', 'x[1]', 'x[2]']),
    await built('inference2', inferenceSource(false), ['commitment', 'y']),
    await built('training', TRAINING_SOURCE, ['root', 'h0', 'h1', 'start']),
  ];
  h = {
    w0: await signedCommit(W0, BITS, 'w', { iv: standInIv(3, BITS) }),
    w1: await signedCommit(W1, BITS, 'w', { iv: standInIv(3, BITS) }),
    w2: await signedCommit(W2, BITS, 'w', { iv: standInIv(3, BITS) }),
    w3: await signedCommit(W3, BITS, 'w', { iv: standInIv(3, BITS) }),
    wb: await signedCommit(WB, BITS, 'w', { iv: standInIv(3, BITS) }),
    wx: await signedCommit(WX, BITS, 'w', { iv: standInIv(3, BITS) }),
  };
  const s = (xs: bigint[]) => xs.map(String);
  pA5 = await proveStandalone(d5, { w: s(W2), x: s(X) });
  pB5 = await proveStandalone(d5, { w: s(WB), x: s(X) });
  pA2 = await proveStandalone(d2, { w: s(W2), x: s(X) });
  const train = (root: bigint, a: bigint[], b: bigint[], start: bigint) =>
    proveStandalone(dt, { root: String(root), h0: String(h[keyOf(a)]), h1: String(h[keyOf(b)]), start: String(start), w0: s(a), w1: s(b) });
  // the honest chain (ROOT_A, h0): h0 -> h1 -> h2 on samples [0, 4), [4, 8); then h2 -> hB on [8, 12)
  t.link1 = await train(ROOT_A, W0, W1, 0n);
  t.link2 = await train(ROOT_A, W1, W2, 4n);
  t.fresh = await train(ROOT_A, W2, WB, 8n); // for the negative cases
  t.stay = await train(ROOT_A, W1, W1, 4n); // a step that leaves the weights as they are: (h1, 4) -> (h1, 8)
  t.self = await train(ROOT_A, W0, W0, 0n); // the same from the initial weights
  t.skip = await train(ROOT_A, W1, W3, 8n); // from h1, but skipping samples [4, 8)
  t.restart = await train(ROOT_A, W1, W3, 0n); // from h1, but replaying samples from 0: chain (ROOT_A, h1)
  t.otherRoot = await train(ROOT_B, W1, W3, 0n); // chain (ROOT_B, h1)
  t.backwards = await train(ROOT_A, W3, W0, 0n); // chain (ROOT_A, h3), into the honest initial weights
  // an attacker's chain (ROOT_X, hX): one step on their own data into the honest weights (issue 18)
  t.atkZero = await train(ROOT_X, WX, W0, 0n); // (a) into the all-zero initial weights
  t.atkH1 = await train(ROOT_X, WX, W1, 0n); // (b) into published trained weights
  t.atkH2 = await train(ROOT_X, WX, W2, 0n); // (b) into the model's weights

  anvil = await startAnvil();
  reg = await deployRegistry({ rpc: anvil.rpcUrl });
  v5 = await reg.deployVerifier(await exportSolidityVerifier(join(d5, 'circuit_final.zkey')));
  v2 = await reg.deployVerifier(await exportSolidityVerifier(join(d2, 'circuit_final.zkey')));
  vt = await reg.deployVerifier(await exportSolidityVerifier(join(dt, 'circuit_final.zkey')));
}, 120_000);

function keyOf(w: bigint[]): keyof typeof h {
  const m: [bigint[], keyof typeof h][] = [[W0, 'w0'], [W1, 'w1'], [W2, 'w2'], [W3, 'w3'], [WB, 'wb'], [WX, 'wx']];
  return m.find(([v]) => v === w)![1];
}

afterAll(async () => {
  reg?.close();
  await anvil?.stop();
  await releaseCurves();
});

describe('circuits (sanity)', () => {
  it('carry the TypeScript commitments where the registry will look for them', () => {
    expect(pA5.publicSignals).toEqual([h.w2, 56n, ...X].map(String));
    expect(pB5.publicSignals[0]).toBe(String(h.wb));
    expect(pA2.publicSignals).toEqual([h.w2, 56n].map(String));
    expect(t.link1!.publicSignals).toEqual([ROOT_A, h.w0, h.w1, 0n].map(String));
    expect(t.atkZero!.publicSignals).toEqual([ROOT_X, h.wx, h.w0, 0n].map(String));
    expect([v5.nPublic, v2.nPublic, vt.nPublic]).toEqual([5, 2, 4]);
  });
});

describe('verifier selector', () => {
  it('is keccak of verifyProof(...,uint256[N]) for N of one to three digits', async () => {
    for (const n of [1, 2, 9, 10, 12, 123]) {
      const want = keccakId(`verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}])`).slice(0, 10);
      expect(await reg.contract.getFunction('verifierSelector').staticCall(n)).toBe(want);
    }
  });
});

let modelA: bigint;
let modelA2: bigint;
let modelB: bigint;

describe('models and inference', () => {
  it('registers models (the owner only) and validates the registration', async () => {
    const r = await reg.registerModel({
      verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0,
      datasetRoot: ROOT_A, initialWeights: h.w0, outputStart: 1, outputCount: 1, metadataURI: 'ipfs://model-a',
    });
    modelA = r.modelId;
    expect(modelA).toBe(1n);
    expect(r.gasUsed).toBeGreaterThan(50_000);
    modelA2 = (await reg.registerModel({ verifier: v2.address, nPublic: 2, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 })).modelId;
    modelB = (await reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.wb, weightsIndex: 0, datasetRoot: ROOT_A, initialWeights: h.w0, outputStart: 1, outputCount: 4 })).modelId;
    const info = await reg.getModel(modelA);
    expect(info).toMatchObject({ verifier: v5.address, nPublic: 5, weightsIndex: 0, outputStart: 1, outputCount: 1, weightsCommitment: h.w2, datasetRoot: ROOT_A, initialWeights: h.w0, metadataURI: 'ipfs://model-a' });
    expect((await reg.getModel(modelA2)).initialWeights).toBe(0n);

    const stranger = reg.withSigner(KEY1);
    let e = await rejection(stranger.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(new RegExp(`NotOwner\\(caller: ${new Wallet(KEY1).address}\\)`));
    e = await rejection(stranger.registerTrainingVerifier(vt.address, 4, SPP));
    expect(e.message).toMatch(/NotOwner/);

    // the verifier takes 5 signals, not 4
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 4, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(new RegExp(`VerifierMismatch\\(verifier: ${v5.address}, nPublic: 4\\)`));
    e = await rejection(reg.registerModel({ verifier: reg.wallet.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(/NotAContract/);
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 5, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(/InvalidLayout\(nPublic: 5, weightsIndex: 5, outputStart: 1, outputCount: 1\)/);
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 3, outputCount: 3 }));
    expect(e.message).toMatch(/InvalidLayout/);
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: R, weightsIndex: 0, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(`ValueOutOfField(value: ${R})`);
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, datasetRoot: ROOT_A, initialWeights: R, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(`ValueOutOfField(value: ${R})`);
    // a training claim names its whole chain: the dataset root and the initial weights
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, datasetRoot: ROOT_A, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(`PartialTrainingClaim(datasetRoot: ${ROOT_A}, initialWeights: 0)`);
    expect(e.hint).toMatch(/both/);
    e = await rejection(reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, initialWeights: h.w0, outputStart: 1, outputCount: 1 }));
    expect(e.message).toMatch(`PartialTrainingClaim(datasetRoot: 0, initialWeights: ${h.w0})`);
    expect(await reg.contract.getFunction('modelCount').staticCall()).toBe(3n);
  }, 60_000);

  it('accepts a valid proof and emits the outputs (5 and 2 public signals)', async () => {
    const r = await reg.withSigner(KEY2).submitInference(modelA, pA5.proof, pA5.publicSignals);
    expect(r.outputs).toEqual([56n]);
    expect(r.modelId).toBe(modelA);
    expect(r.submitter).toBe(new Wallet(KEY2).address);
    expect(r.gasUsed).toBeGreaterThan(150_000);
    expect(r.gasUsed).toBeLessThan(600_000);

    const r2 = await reg.submitInference(modelA2, pA2.proof, pA2.publicSignals);
    expect(r2.outputs).toEqual([56n]);
    const rb = await reg.submitInference(modelB, pB5.proof, pB5.publicSignals);
    expect(rb.outputs).toEqual([BigInt(pB5.publicSignals[1]!), ...X]);
  }, 30_000);

  it('rejects an unknown model id', async () => {
    const e = await rejection(reg.submitInference(999n, pA5.proof, pA5.publicSignals));
    expect(e.code).toBe('ONCHAIN_FAILED');
    expect(e.message).toMatch(/UnknownModel\(modelId: 999\)/);
    expect(e.details.revert).toBe('UnknownModel');
    expect(e.hint).toMatch(/register/);
    expect((await rejection(reg.isTrainedOn(0n))).message).toMatch(/UnknownModel\(modelId: 0\)/);
  });

  it('rejects a valid proof made with other weights (same verifier): WrongModel', async () => {
    const e = await rejection(reg.submitInference(modelA, pB5.proof, pB5.publicSignals));
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.message).toMatch(`WrongModel(expected: ${h.w2}, got: ${h.wb})`);
  });

  it('rejects tampered proofs: InvalidProof', async () => {
    const bad = clone(pA5.proof);
    bad.pi_a[0] = (BigInt(bad.pi_a[0]!) + 1n).toString(); // off the curve
    let e = await rejection(reg.submitInference(modelA, bad, pA5.publicSignals));
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.message).toMatch(/reverted: InvalidProof\(\)/);

    const badC = clone(pA5.proof);
    badC.pi_c = ['1', '2', '1']; // a curve point, the wrong one
    e = await rejection(reg.submitInference(modelA, badC, pA5.publicSignals));
    expect(e.message).toMatch(/InvalidProof/);

    const badB = clone(pA5.proof);
    badB.pi_b[0]![0] = (BigInt(badB.pi_b[0]![0]!) + 1n).toString();
    e = await rejection(reg.submitInference(modelA, badB, pA5.publicSignals));
    expect(e.message).toMatch(/InvalidProof/);

    // the right commitment, another output
    const lie = [...pA5.publicSignals];
    lie[1] = '57';
    e = await rejection(reg.submitInference(modelA, pA5.proof, lie));
    expect(e.message).toMatch(/InvalidProof/);
  }, 30_000);

  it('rejects public signals >= r, even aliases of the true values: SignalOutOfField', async () => {
    const aliasedOutput = [...pA5.publicSignals];
    aliasedOutput[1] = (56n + R).toString();
    let e = await rejection(reg.submitInference(modelA, pA5.proof, aliasedOutput));
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.message).toMatch(/SignalOutOfField\(index: 1\)/);

    const aliasedCommitment = [...pA5.publicSignals];
    aliasedCommitment[0] = (h.w2 + R).toString();
    e = await rejection(reg.submitInference(modelA, pA5.proof, aliasedCommitment));
    expect(e.message).toMatch(/SignalOutOfField\(index: 0\)/);
  });

  it('rejects the wrong number of public signals: WrongPublicCount', async () => {
    let e = await rejection(reg.submitInference(modelA, pA5.proof, pA5.publicSignals.slice(0, 4)));
    expect(e.message).toMatch(/WrongPublicCount\(expected: 5, got: 4\)/);
    e = await rejection(reg.submitInference(modelA2, pA5.proof, pA5.publicSignals));
    expect(e.message).toMatch(/WrongPublicCount\(expected: 2, got: 5\)/);
  });
});

describe('training links and provenance', () => {
  let tv: bigint;

  it('registers a training verifier (owner only; 4 signals at least, matching the verifier; its samples per proof)', async () => {
    let e = await rejection(reg.registerTrainingVerifier(vt.address, 3, SPP));
    expect(e.message).toMatch(/InvalidLayout\(nPublic: 3/);
    e = await rejection(reg.registerTrainingVerifier(v5.address, 4, SPP));
    expect(e.message).toMatch(/VerifierMismatch/);
    // the contract refuses 0 and more than 2^32 − 1 samples per proof (sent around the client, which refuses 0 itself)
    const raw = (spp: bigint) => reg.contract.getFunction('registerTrainingVerifier').staticCall(vt.address, 4, spp).catch((x: unknown) => {
      throw reg.decodeError(x, 'registerTrainingVerifier');
    });
    e = await rejection(raw(0n));
    expect(e.message).toMatch(/InvalidSamplesPerProof\(samplesPerProof: 0\)/);
    e = await rejection(raw(1n << 32n));
    expect(e.message).toMatch(`InvalidSamplesPerProof(samplesPerProof: ${1n << 32n})`);
    e = await rejection(reg.registerTrainingVerifier(vt.address, 4, 0));
    expect(e.code).toBe('BAD_ARGUMENT');
    e = await rejection(reg.withSigner(KEY1).registerTrainingVerifier(vt.address, 4, SPP));
    expect(e.message).toMatch(/NotOwner/);
    const r = await reg.registerTrainingVerifier(vt.address, 4, SPP);
    tv = r.trainingVerifierId;
    expect(tv).toBe(1n);
    expect(await reg.getTrainingVerifier(tv)).toMatchObject({ trainingVerifierId: 1n, verifier: vt.address, nPublic: 4, samplesPerProof: SPP });
    expect((await rejection(reg.getTrainingVerifier(2n))).message).toMatch(/UnknownTrainingVerifier\(trainingVerifierId: 2\)/);
  }, 30_000);

  it('is not trained on anything before links are recorded', async () => {
    expect(await reg.isTrainedOn(modelA)).toBe(false);
    expect(await reg.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: false, steps: 0, nextStart: 0n });
    expect(await reg.isTrained(ROOT_A, h.w0, h.w2)).toBe(false);
  });

  it('links a 2-step chain (ROOT_A, h0): provenance, stateOf, isTrainedOn', async () => {
    const l1 = await reg.linkTraining(tv, t.link1!.proof, t.link1!.publicSignals); // start 0: the chain is (ROOT_A, h0)
    expect(l1).toMatchObject({ root: ROOT_A, initialWeights: h.w0, h0: h.w0, h1: h.w1, start: 0n, nextStart: 4n, steps: 1, trainingVerifierId: tv });
    const l2 = await reg.linkTraining(tv, t.link2!.proof, t.link2!.publicSignals, { initialWeights: h.w0 });
    expect(l2).toMatchObject({ root: ROOT_A, initialWeights: h.w0, h0: h.w1, h1: h.w2, start: 4n, nextStart: 8n, steps: 2 });

    expect(await reg.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: true, steps: 2, nextStart: 8n });
    expect(await reg.provenance(ROOT_A, h.w0, h.w1)).toEqual({ trained: true, steps: 1, nextStart: 4n });
    expect(await reg.provenance(ROOT_A, h.w0, h.w0)).toEqual({ trained: false, steps: 0, nextStart: 0n }); // the start is no training
    expect(await reg.provenance(ROOT_B, h.w0, h.w2)).toEqual({ trained: false, steps: 0, nextStart: 0n });
    expect(await reg.stateOf(ROOT_A, h.w0, h.w2, 8n)).toEqual({ steps: 2, trainingVerifierId: tv });
    expect(await reg.stateOf(ROOT_A, h.w0, h.w2, 4n)).toBeNull();
    expect(await reg.contract.getFunction('chainId').staticCall(ROOT_A, h.w0)).toBe(trainingChainId(ROOT_A, h.w0));

    expect(await reg.isTrainedOn(modelA)).toBe(true); // weights h2, chain (ROOT_A, h0)
    expect(await reg.isTrainedOn(modelA2)).toBe(false); // same weights, no training claimed
    expect(await reg.isTrainedOn(modelB)).toBe(false); // weights hB not reached yet
    const reg1 = (c: { root: bigint; init: bigint }) =>
      reg.registerModel({ verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, datasetRoot: c.root, initialWeights: c.init, outputStart: 1, outputCount: 1 }).then((r) => r.modelId);
    expect(await reg.isTrainedOn(await reg1({ root: ROOT_B, init: h.w0 }))).toBe(false); // h2 was trained on root A, not B
    expect(await reg.isTrainedOn(await reg1({ root: ROOT_A, init: h.w1 }))).toBe(false); // nor from h1 as a chain's start
  }, 30_000);

  it('checks the schedule on-chain: a link continues a recorded state at the position where it ended (NotInChain)', async () => {
    // from h1, skipping samples [4, 8): h1 is recorded at 4, not at 8
    let e = await rejection(reg.linkTraining(tv, t.skip!.proof, t.skip!.publicSignals, { initialWeights: h.w0 }));
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.message).toMatch(`NotInChain(root: ${ROOT_A}, initialWeights: ${h.w0}, weights: ${h.w1}, start: 8)`);
    expect(e.hint).toMatch(/start \+ samplesPerProof/);
    // from h1, replaying samples from 0: not a state of the chain (ROOT_A, h0) either
    e = await rejection(reg.linkTraining(tv, t.restart!.proof, t.restart!.publicSignals, { initialWeights: h.w0 }));
    expect(e.message).toMatch(`NotInChain(root: ${ROOT_A}, initialWeights: ${h.w0}, weights: ${h.w1}, start: 0)`);
    // the right proof, named with the wrong chain
    e = await rejection(reg.linkTraining(tv, t.link2!.proof, t.link2!.publicSignals, { initialWeights: h.w1 }));
    expect(e.message).toMatch(`NotInChain(root: ${ROOT_A}, initialWeights: ${h.w1}, weights: ${h.w1}, start: 4)`);
    // a later link without its chain: the client asks for it
    e = await rejection(reg.linkTraining(tv, t.fresh!.proof, t.fresh!.publicSignals));
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toMatch(/starts at sample 8.*initialWeights/);
    expect(await reg.provenance(ROOT_A, h.w0, h.w3)).toEqual({ trained: false, steps: 0, nextStart: 0n });
  }, 30_000);

  it('records each state once (AlreadyLinked), from any sender; a step may leave the weights as they are', async () => {
    let e = await rejection(reg.linkTraining(tv, t.link1!.proof, t.link1!.publicSignals));
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.message).toMatch(`AlreadyLinked(root: ${ROOT_A}, initialWeights: ${h.w0}, weights: ${h.w1}, nextStart: 4)`);
    e = await rejection(reg.withSigner(KEY2).linkTraining(tv, t.link2!.proof, t.link2!.publicSignals, { initialWeights: h.w0 }));
    expect(e.message).toMatch(/AlreadyLinked/);
    // h1 -> h1 on [4, 8): the weights stay, the samples are consumed; h1's furthest state moves to 8
    expect(await reg.linkTraining(tv, t.stay!.proof, t.stay!.publicSignals, { initialWeights: h.w0 })).toMatchObject({ h0: h.w1, h1: h.w1, nextStart: 8n, steps: 2 });
    expect(await reg.provenance(ROOT_A, h.w0, h.w1)).toEqual({ trained: true, steps: 2, nextStart: 8n });
    expect(await reg.stateOf(ROOT_A, h.w0, h.w1, 4n)).toEqual({ steps: 1, trainingVerifierId: tv }); // still there
    expect((await reg.linkTraining(tv, t.self!.proof, t.self!.publicSignals)).nextStart).toBe(4n); // h0 -> h0 on [0, 4)
    expect(await reg.provenance(ROOT_A, h.w0, h.w0)).toEqual({ trained: true, steps: 1, nextStart: 4n });
    expect(await reg.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: true, steps: 2, nextStart: 8n }); // unchanged
  }, 30_000);

  it('lets several chains reach the same weights, each on its own', async () => {
    // h1 starts two more chains, (ROOT_A, h1) and (ROOT_B, h1), both to h3
    const a = await reg.linkTraining(tv, t.restart!.proof, t.restart!.publicSignals);
    expect(a).toMatchObject({ root: ROOT_A, initialWeights: h.w1, h1: h.w3, nextStart: 4n, steps: 1 });
    const b = await reg.linkTraining(tv, t.otherRoot!.proof, t.otherRoot!.publicSignals);
    expect(b).toMatchObject({ root: ROOT_B, initialWeights: h.w1, h1: h.w3, nextStart: 4n, steps: 1 });
    expect(await reg.isTrained(ROOT_A, h.w1, h.w3)).toBe(true);
    expect(await reg.isTrained(ROOT_B, h.w1, h.w3)).toBe(true);
    expect(await reg.isTrained(ROOT_A, h.w0, h.w3)).toBe(false);
    // and one into the honest initial weights, on the honest root, from other initial weights
    await reg.linkTraining(tv, t.backwards!.proof, t.backwards!.publicSignals);
    expect(await reg.isTrained(ROOT_A, h.w3, h.w0)).toBe(true);
    expect(await reg.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: true, steps: 2, nextStart: 8n });
    expect(await reg.isTrainedOn(modelA)).toBe(true);
  }, 30_000);

  it('rejects bad training proofs with the same named errors', async () => {
    const f = t.fresh!;
    const o = { initialWeights: h.w0 };
    let e = await rejection(reg.linkTraining(99n, f.proof, f.publicSignals, o));
    expect(e.message).toMatch(/UnknownTrainingVerifier\(trainingVerifierId: 99\)/);
    e = await rejection(reg.linkTraining(tv, f.proof, f.publicSignals.slice(0, 3), o));
    expect(e.message).toMatch(/WrongPublicCount\(expected: 4, got: 3\)/);
    e = await rejection(reg.linkTraining(tv, t.link1!.proof, t.link1!.publicSignals.slice(0, 3)));
    expect(e.message).toMatch(/WrongPublicCount\(expected: 4, got: 3\)/);
    const aliased = [...f.publicSignals];
    aliased[3] = (8n + R).toString();
    e = await rejection(reg.linkTraining(tv, f.proof, aliased, o));
    expect(e.message).toMatch(/SignalOutOfField\(index: 3\)/);
    const bad = clone(f.proof);
    bad.pi_a[1] = (BigInt(bad.pi_a[1]!) + 1n).toString();
    e = await rejection(reg.linkTraining(tv, bad, f.publicSignals, o));
    expect(e.message).toMatch(/InvalidProof\(\)/);
    const otherH1 = [...f.publicSignals];
    otherH1[2] = String(h.w3);
    e = await rejection(reg.linkTraining(tv, f.proof, otherH1, o));
    expect(e.message).toMatch(/InvalidProof\(\)/);
    const otherStart = [...f.publicSignals];
    otherStart[3] = '4'; // h2 is not a state at 4: refused before the verifier runs
    e = await rejection(reg.linkTraining(tv, f.proof, otherStart, o));
    expect(e.message).toMatch(`NotInChain(root: ${ROOT_A}, initialWeights: ${h.w0}, weights: ${h.w2}, start: 4)`);
    // and the untouched proof links
    expect((await reg.linkTraining(tv, f.proof, f.publicSignals, o)).h1).toBe(h.wb);
    expect(await reg.provenance(ROOT_A, h.w0, h.wb)).toEqual({ trained: true, steps: 3, nextStart: 12n });
    expect(await reg.isTrainedOn(modelB)).toBe(true);
  }, 30_000);
});

// Issue 18, item 1. With the old registry (one link per weights commitment, first come first
// served), (a) made every honest chain from the zero weights revert RootMismatch, and (b) made the
// honest link into published weights revert AlreadyLinked, so isTrainedOn stayed false for good.
// Each scenario runs on a fresh registry: the attacker (another account, no special rights) links
// first, with valid proofs of their own chain; then the honest chain links and the model's claim holds.
describe('training provenance cannot be pre-empted or blocked by a third party (issue 18)', () => {
  async function fresh(): Promise<{ r: Registry; tv: bigint; model: bigint }> {
    const r = await deployRegistry({ rpc: anvil!.rpcUrl });
    const tv = (await r.registerTrainingVerifier(vt.address, 4, SPP)).trainingVerifierId;
    const model = (await r.registerModel({
      verifier: v5.address, nPublic: 5, weightsCommitment: h.w2, weightsIndex: 0, datasetRoot: ROOT_A, initialWeights: h.w0, outputStart: 1, outputCount: 1,
    })).modelId;
    return { r, tv, model };
  }
  async function honestChain(r: Registry, tv: bigint): Promise<void> {
    expect(await r.linkTraining(tv, t.link1!.proof, t.link1!.publicSignals)).toMatchObject({ root: ROOT_A, initialWeights: h.w0, h1: h.w1, steps: 1 });
    expect(await r.linkTraining(tv, t.link2!.proof, t.link2!.publicSignals, { initialWeights: h.w0 })).toMatchObject({ h1: h.w2, steps: 2, nextStart: 8n });
  }

  it('(a) a link of another chain into the all-zero initial weights neither redirects nor blocks chains from them', async () => {
    const { r, tv, model } = await fresh();
    try {
      const attacker = r.withSigner(KEY1);
      // one step on the attacker's own data lands on the zero weights, recorded first
      expect(await attacker.linkTraining(tv, t.atkZero!.proof, t.atkZero!.publicSignals)).toMatchObject({ root: ROOT_X, initialWeights: h.wx, h1: h.w0, steps: 1 });
      // and, on the honest root itself, from other initial weights
      await attacker.linkTraining(tv, t.backwards!.proof, t.backwards!.publicSignals);
      // it is a fact about the attacker's chains only: nothing is said about chains from h0
      expect(await r.provenance(ROOT_X, h.wx, h.w0)).toEqual({ trained: true, steps: 1, nextStart: 4n });
      expect(await r.provenance(ROOT_A, h.w0, h.w0)).toEqual({ trained: false, steps: 0, nextStart: 0n });
      // nor can it pass itself off as the honest chain's start
      const e = await rejection(attacker.linkTraining(tv, t.atkZero!.proof, t.atkZero!.publicSignals, { initialWeights: h.w0 }));
      expect(e.message).toMatch(`NotInChain(root: ${ROOT_X}, initialWeights: ${h.w0}, weights: ${h.wx}, start: 0)`);

      await honestChain(r, tv); // was RootMismatch(h0, ROOT_X, ROOT_A)
      expect(await r.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: true, steps: 2, nextStart: 8n });
      expect(await r.isTrainedOn(model)).toBe(true);
    } finally {
      r.close();
    }
  }, 30_000);

  it('(b) a one-step preimage of published weights, recorded first, does not block the honest link into them', async () => {
    const { r, tv, model } = await fresh();
    try {
      const attacker = r.withSigner(KEY1);
      // the attacker holds the published weights h1 and h2 (the model's) and front-runs links into both
      await attacker.linkTraining(tv, t.atkH1!.proof, t.atkH1!.publicSignals);
      await attacker.linkTraining(tv, t.atkH2!.proof, t.atkH2!.publicSignals);
      expect(await r.isTrained(ROOT_X, h.wx, h.w2)).toBe(true); // true of the attacker's chain...
      expect(await r.isTrained(ROOT_A, h.w0, h.w2)).toBe(false); // ...and of no other
      expect(await r.isTrainedOn(model)).toBe(false);
      // the attacker cannot enter the honest chain with their data or their start
      let e = await rejection(attacker.linkTraining(tv, t.atkH1!.proof, t.atkH1!.publicSignals, { initialWeights: h.w0 }));
      expect(e.message).toMatch(/NotInChain/);
      e = await rejection(attacker.linkTraining(tv, t.link2!.proof, t.link2!.publicSignals, { initialWeights: h.w0 })); // honest proof, out of order
      expect(e.message).toMatch(`NotInChain(root: ${ROOT_A}, initialWeights: ${h.w0}, weights: ${h.w1}, start: 4)`);

      await honestChain(r, tv); // h0 -> h1 was AlreadyLinked(h1)
      expect(await r.isTrainedOn(model)).toBe(true);
      expect(await r.provenance(ROOT_A, h.w0, h.w2)).toEqual({ trained: true, steps: 2, nextStart: 8n });
      expect(await r.provenance(ROOT_X, h.wx, h.w2)).toEqual({ trained: true, steps: 1, nextStart: 4n }); // both facts stand
    } finally {
      r.close();
    }
  }, 30_000);
});

describe('ownership', () => {
  it('moves in two steps, and only the owner registers', async () => {
    const other = await deployRegistry({ rpc: anvil!.rpcUrl });
    try {
      const next = other.withSigner(KEY1);
      const nextAddr = new Wallet(KEY1).address;
      expect((await rejection(next.transferOwnership(nextAddr))).message).toMatch(/NotOwner/);
      await other.transferOwnership(nextAddr);
      expect((await rejection(other.withSigner(KEY2).acceptOwnership())).message).toMatch(/NotPendingOwner/);
      expect(await other.owner()).toBe(other.wallet.address); // not yet moved
      await next.acceptOwnership();
      expect(await other.owner()).toBe(nextAddr);
      const e = await rejection(other.registerModel({ verifier: v2.address, nPublic: 2, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 }));
      expect(e.message).toMatch(`NotOwner(caller: ${other.wallet.address})`);
      expect((await next.registerModel({ verifier: v2.address, nPublic: 2, weightsCommitment: h.w2, weightsIndex: 0, outputStart: 1, outputCount: 1 })).modelId).toBe(1n);
    } finally {
      other.close();
    }
  }, 30_000);
});

describe('modelLayoutFromSettings', () => {
  const run = (signal: string, kind: string, start: number, count: number) => ({ signal, kind, index: 0, start, count });
  it('finds the weights commitment and the outputs in settings.json', () => {
    expect(modelLayoutFromSettings({
      publicSignals: [run('out0', 'output', 0, 10), run('weights_commit', 'weights-commit', 10, 1), run('in0', 'input', 11, 4)],
      weights: { commitment: '123' },
    })).toEqual({ nPublic: 15, weightsCommitment: '123', weightsIndex: 10, outputStart: 0, outputCount: 10 });
    expect(modelLayoutFromSettings({
      publicSignals: [run('out0_commit', 'output-commit', 0, 1), run('in0_commit', 'input-commit', 1, 1), run('weights_commit', 'weights-commit', 2, 1)],
      weights: { commitment: '5' },
    })).toMatchObject({ nPublic: 3, weightsIndex: 2, outputStart: 0, outputCount: 1 });
  });
  it('refuses a model with baked weights', () => {
    let err: unknown;
    try {
      modelLayoutFromSettings({ publicSignals: [run('out0', 'output', 0, 2)] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).message).toMatch(/baked/);
    expect((err as ZkonnxError).hint).toMatch(/--weights hashed/);
  });
});
