// `setup verify`: is a Groth16 key the one the circuit's r1cs and the ptau give, with every
// phase-2 contribution's proof of knowledge in order? The same verdict as snarkjs's `zkey verify`
// (zkey_verify_frominit.js), at the fast setup's speed:
//  - the key as zkey_new.js makes it comes from fast-zkey.ts computeKey (our sparse multi-
//    exponentiations), never written to disk; its circuit hash must be the key's;
//  - sections 3–7 (IC, coefficients, A, B1, B2) must be equal byte for byte;
//  - C (8) holds the points before δ times 1/δ for the δ of the contributions: checked with a
//    random linear combination, e(Σ rᵢ·finalᵢ, δ₂) = e(Σ rᵢ·beforeᵢ, G₂) for fresh 128-bit rᵢ (a
//    wrong point passes with probability 2^−128; snarkjs draws 32-bit ones), both sums on the CPU
//    prover's MSM; H (9) the same way against the ptau's powers of τ, as snarkjs checks it
//    (checkH), and every point of both on the curve (fast/on-curve.ts). C and H serve only the
//    prover: a wrong point there makes proofs that fail, never a false one (the verification
//    key is IC, α, β, γ, δ, all checked exactly), and prove keeps no proof that does not verify;
//  - each contribution: its transcript (the circuit hash and the earlier contributions' public
//    keys, then its own s·G1 and (s·δ)·G1), s and s·δ in the same ratio as the transcript's G2
//    point and its δ-multiple, the running δ times its δ, and a beacon's keys recomputed from
//    the beacon.
import { closeSync, openSync } from 'node:fs';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { cpuMsm } from '../prover/cpu/msm.js';
import { snarkjs } from '../snark.js';
import { blake2b512 } from './fast/blake2b.js';
import { firstOffCurve } from './fast/on-curve.js';
import { readRange } from './fast/read-range.js';
import { inG1, inG2, randomScalars, sameRatio } from './fast/rlc.js';
import { snarkjsInternals } from './fast/snarkjs-internals.js';
import { zkeyInternals, type ZkeyInternals } from './fast/zkey-internals.js';
import { computeKey, type Curve, type KeyHeader } from './fast-zkey.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface Contribution {
  name: string;
  /** snarkjs's contribution hash (the one `zkey contribute` prints), hex */
  hash: string;
  /** a beacon's hash and iterations exponent */
  beacon?: { hash: string; iterationsExp: number };
}

export interface KeyVerification {
  ok: boolean;
  /** what is wrong, each naming the key file and the section or contribution */
  errors: string[];
  contributions: Contribution[];
}

const SECTION = { 3: 'IC', 4: 'coefficients', 5: 'A', 6: 'B1', 7: 'B2', 8: 'C', 9: 'H' } as const;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** Stops the key's computation once the circuit's parameters differ: nothing after can match. */
class Mismatch extends Error {}

export async function verifyZkey(r1csPath: string, ptauPath: string, zkeyPath: string, progress?: Progress): Promise<KeyVerification> {
  const I = await snarkjsInternals();
  const Z = await zkeyInternals();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve & Record<string, any>;
  const { G1, G2 } = curve;
  const isZero = (p: Uint8Array): boolean => (G1 as any).isZero(p);
  const errors: string[] = [];
  const fail = (m: string): void => void errors.push(`${zkeyPath}: ${m}`);
  const { fd, sections } = await I.binFileUtils.readBinFile(zkeyPath, 'zkey', 2);
  const raw = openSync(zkeyPath, 'r');
  try {
    const key = await Z.zkeyUtils.readHeader(fd, sections);
    if (key.protocol !== 'groth16') throw new ZkonnxError('SETUP_FAILED', `${zkeyPath} is not a Groth16 key (${key.protocol})`, { file: zkeyPath });
    if (key.q !== curve.q || key.r !== curve.r) throw new ZkonnxError('SETUP_FAILED', `${zkeyPath} is not over BN254`, { file: zkeyPath });
    const mpc = (await Z.zkeyUtils.readMPCParams(fd, curve, sections)) as { csHash: Uint8Array; contributions: any[] };
    progress?.step?.(`verify keys: ${mpc.contributions.length} contribution(s)`);
    const { delta, contributions } = await checkContributions(curve, Z, mpc, fail);
    if (!G1.eq(key.vk_delta_1, delta)) fail('δ₁ of the header is not the last contribution\'s');
    if (!inG2(curve, key.vk_delta_2)) fail('δ₂ of the header is not a point of G2');
    else if (!(await sameRatio(curve, G1.g, delta, G2.g, key.vk_delta_2))) fail('δ₂ of the header is not δ₁\'s');

    for (let id = 1; id <= 10; id++) if (sections[id]?.length > 1) fail(`section ${id} appears ${sections[id].length} times`);
    const sizeOf = (id: number): number => sections[id]?.[0]?.size ?? -1;
    const finalSection = (id: number): Uint8Array => readRange(raw, sections[id][0].p, sections[id][0].size, zkeyPath);
    const stepsAs = progress && { ...progress, step: (s: string) => progress.step?.(s.replace(/^groth16 keys/, 'verify keys')) };
    const csHash = await computeKey(r1csPath, ptauPath, {
      header: async (h: KeyHeader) => {
        if (h.nVars !== key.nVars || h.nPublic !== key.nPublic || h.domainSize !== key.domainSize) {
          fail(`it is the key of another circuit (${key.nVars} signals, ${key.nPublic} public, domain ${key.domainSize}; the r1cs gives ${h.nVars}, ${h.nPublic}, ${h.domainSize})`);
          throw new Mismatch();
        }
        if (!G1.eq(key.vk_alpha_1, G1.fromRprLEM(h.alphaLEM, 0))) fail('α₁ is not the ptau\'s');
        if (!G1.eq(key.vk_beta_1, G1.fromRprLEM(h.betaLEM, 0))) fail('β₁ is not the ptau\'s');
        if (!G2.eq(key.vk_beta_2, G2.fromRprLEM(h.beta2LEM, 0))) fail('β₂ is not the ptau\'s');
        if (!G2.eq(key.vk_gamma_2, G2.g)) fail('γ₂ is not the generator');
      },
      section: async (id, bytes) => {
        if (sizeOf(id) < 0) fail(`section ${id} (${SECTION[id]}) is missing`);
        else if (!equalBytes(finalSection(id), bytes)) fail(`section ${id} (${SECTION[id]}) is not the one the r1cs and the ptau give`);
      },
      c: async (before) => {
        const sG1 = G1.F.n8 * 2;
        if (sizeOf(8) !== before.byteLength) {
          fail(`section 8 (C) holds ${Math.max(0, sizeOf(8)) / sG1} points, the circuit has ${before.byteLength / sG1}`);
          return;
        }
        if (!before.byteLength) return;
        const r = randomScalars(before.byteLength / sG1, before.byteLength / sG1);
        const final = finalSection(8);
        const ofBefore = await cpuMsm(G1 as never, 'G1', before, r);
        const [ofFinal, bad] = await Promise.all([cpuMsm(G1 as never, 'G1', final, r), firstOffCurve(curve, 'G1', final)]);
        if (bad >= 0) fail(`section 8 (C): its point ${bad} is not on the curve`);
        // Σ rᵢ·finalᵢ = Σ rᵢ·beforeᵢ / δ
        const ok = isZero(ofBefore) ? isZero(ofFinal) : await sameRatio(curve, ofFinal, ofBefore, G2.g, key.vk_delta_2);
        if (!ok) fail('section 8 (C) is not the circuit\'s points times 1/δ');
      },
    }, stepsAs).catch((e: unknown) => {
      if (e instanceof Mismatch) return undefined;
      throw e;
    });
    if (csHash && !equalBytes(csHash, mpc.csHash)) fail('its circuit hash is not the one of the r1cs and the ptau');
    if (csHash) {
      progress?.step?.('verify keys: H');
      if (sizeOf(9) !== key.domainSize * G1.F.n8 * 2) fail(`section 9 (H) holds ${Math.max(0, sizeOf(9)) / (G1.F.n8 * 2)} points, the domain has ${key.domainSize}`);
      else {
        const H = finalSection(9);
        const [ok, bad] = await Promise.all([checkH(curve, ptauPath, H, key.domainSize, key.vk_delta_2), firstOffCurve(curve, 'G1', H)]);
        if (bad >= 0) fail(`section 9 (H): its point ${bad} is not on the curve`);
        if (!ok) fail('section 9 (H) does not match the ptau\'s powers of τ times 1/δ');
      }
    }
    return { ok: errors.length === 0, errors, contributions };
  } finally {
    closeSync(raw);
    await fd.close();
  }
}

/**
 * zkey_verify_frominit.js's sameRatioH with 128-bit coefficients: the key's H points against the
 * ptau's monomial powers (section 2), e(Σ rᵢ·(τ^(i+N) − τ^i)·G1, G2) = e(Σ r'ᵢ·Hᵢ, δ₂) where r' is
 * r (its last entry 0) shifted onto the coset and transformed by the FFT, as snarkjs does. This
 * ties H to τ itself, not only to the ptau's prepared (Lagrange) sections that the keys come from.
 */
async function checkH(curve: any, ptauPath: string, keyH: Uint8Array, N: number, delta2: Uint8Array): Promise<boolean> {
  const I = await snarkjsInternals();
  const { G1, G2, Fr } = curve;
  const sG1 = G1.F.n8 * 2;
  const power = Math.log2(N);
  const r = randomScalars(N, N - 1);
  const { fd, sections } = await I.binFileUtils.readBinFile(ptauPath, 'ptau', 1);
  const raw = openSync(ptauPath, 'r');
  let hi: Uint8Array;
  let lo: Uint8Array;
  try {
    // τ^N … τ^(2N−2) and τ^0 … τ^(N−2): a ptau of power log2(N) holds no τ^(2N−1)
    const base: number = sections[2][0].p;
    hi = readRange(raw, base + N * sG1, (N - 1) * sG1, ptauPath);
    lo = readRange(raw, base, (N - 1) * sG1, ptauPath);
  } finally {
    closeSync(raw);
    await fd.close();
  }
  const rs = r.subarray(0, (N - 1) * 32);
  const lhs = G1.sub(await cpuMsm(G1, 'G1', hi, rs), await cpuMsm(G1, 'G1', lo, rs));
  let t = await Fr.batchToMontgomery(r);
  const first = power < Fr.s ? Fr.neg(Fr.e(2)) : Fr.sub(Fr.exp(Fr.shift, 2 ** Fr.s), Fr.one);
  const inc = power < Fr.s ? Fr.w[power + 1] : Fr.shift;
  t = await Fr.batchFromMontgomery(await Fr.fft(await Fr.batchApplyKey(t, first, inc)));
  const rhs = await cpuMsm(G1, 'G1', keyH, t);
  return sameRatio(curve, lhs, rhs, delta2, G2.g);
}

/** The running δ after every contribution, each one's proof checked (zkey_verify_frominit.js's loop). */
async function checkContributions(curve: any, Z: ZkeyInternals, mpc: { csHash: Uint8Array; contributions: any[] }, fail: (m: string) => void): Promise<{ delta: Uint8Array; contributions: Contribution[] }> {
  const { G1, Fr } = curve;
  let delta: Uint8Array = G1.g;
  const out: Contribution[] = [];
  for (let i = 0; i < mpc.contributions.length; i++) {
    const c = mpc.contributions[i];
    const label = `contribution ${i + 1}${c.name ? ` (${c.name})` : ''}`;
    for (const [what, p] of [['δ key g1_s', c.delta.g1_s], ['δ key g1_sx', c.delta.g1_sx], ['δ after', c.deltaAfter]] as const) if (!inG1(curve, p)) fail(`${label}: its ${what} is not a point of G1`);
    if (!inG2(curve, c.delta.g2_spx)) fail(`${label}: its δ key g2_spx is not a point of G2`);
    // the transcript: circuit hash, the earlier public keys, this one's s·G1 and (s·δ)·G1
    const h = blake2b512();
    h.update(mpc.csHash);
    for (const e of mpc.contributions.slice(0, i)) Z.zkeyUtils.hashPubKey(h, curve, e);
    Z.zkeyUtils.hashG1(h, curve, c.delta.g1_s);
    Z.zkeyUtils.hashG1(h, curve, c.delta.g1_sx);
    if (!equalBytes(h.digest(), c.transcript)) fail(`${label}: its transcript is not the hash of the circuit and the contributions before it`);
    const g2sp = Z.hashToG2(curve, c.transcript);
    if (!(await sameRatio(curve, c.delta.g1_s, c.delta.g1_sx, g2sp, c.delta.g2_spx))) fail(`${label}: its proof of knowledge of δ does not hold (G1 and G2 ratios differ)`);
    if (!(await sameRatio(curve, delta, c.deltaAfter, g2sp, c.delta.g2_spx))) fail(`${label}: its δ after is not the δ before times its δ`);
    if (c.type === 1) {
      const rng = await Z.misc.rngFromBeaconParams(c.beaconHash, c.numIterationsExp);
      const k = Fr.fromRng(rng);
      const s = G1.toAffine(G1.fromRng(rng));
      if (!G1.eq(s, c.delta.g1_s) || !G1.eq(G1.toAffine(G1.timesFr(s, k)), c.delta.g1_sx)) fail(`${label}: its keys are not the beacon's`);
    }
    const ch = blake2b512();
    Z.zkeyUtils.hashPubKey(ch, curve, c);
    out.push({ name: c.name ?? '', hash: hex(ch.digest()), ...(c.type === 1 ? { beacon: { hash: hex(c.beaconHash), iterationsExp: c.numIterationsExp } } : {}) });
    delta = c.deltaAfter;
  }
  return { delta, contributions: out };
}
