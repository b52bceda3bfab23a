// A phase-2 contribution to a Groth16 key, as snarkjs's `zkey contribute` and `zkey beacon` make
// it (zkey_contribute.js, zkey_beacon.js): the same randomness, transcript and file, byte for byte
// for a beacon, with the one heavy step, every point of the C and H sections times 1/δ, done by
// kernels.ts scaleG1 (GLV, batches of affine operations on the CPU prover's threads) instead of
// ffjavascript's batchApplyKey (254 doublings a point). The new δ and 1/δ are overwritten when
// done; the random generator's state is not ours to clear.
import { ZkonnxError } from '../errors.js';
import { snarkjs } from '../snark.js';
import { scaleG1 } from './fast/kernels.js';
import { snarkjsInternals, type Blake2bHasher, type WasmCurve } from './fast/snarkjs-internals.js';
import { zkeyInternals, type ZkeyInternals } from './fast/zkey-internals.js';

/** The randomness of the contribution: a participant's entropy (mixed with the system's), or a public beacon. */
export type Phase2Source = { entropy: string } | { beaconHash: string; iterationsExp: number };

/* eslint-disable @typescript-eslint/no-explicit-any */
type Curve = WasmCurve & { Fr: WasmCurve['Fr'] & { fromRng(rng: unknown): Uint8Array; inv(a: Uint8Array): Uint8Array } } & Record<string, any>;

/** Writes `newZkey`: `oldZkey` with one more contribution; returns the contribution's hash (snarkjs's). */
export async function contributePhase2(oldZkey: string, newZkey: string, name: string, source: Phase2Source): Promise<Uint8Array> {
  const I = await snarkjsInternals();
  const Z = await zkeyInternals();
  const { fd: fdOld, sections } = await I.binFileUtils.readBinFile(oldZkey, 'zkey', 2);
  let fdNew: any;
  const secrets: Uint8Array[] = [];
  try {
    const zkey = await Z.zkeyUtils.readHeader(fdOld, sections);
    if (zkey.protocol !== 'groth16') throw new ZkonnxError('SETUP_FAILED', `${oldZkey} is not a Groth16 key (${zkey.protocol})`, { file: oldZkey });
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
    if (zkey.q !== curve.q) throw new ZkonnxError('SETUP_FAILED', `${oldZkey} is not over BN254`, { file: oldZkey });
    const { Fr, G1, G2 } = curve;
    const mpcParams = await Z.zkeyUtils.readMPCParams(fdOld, curve, sections);
    fdNew = await I.binFileUtils.createBinFile(newZkey, 'zkey', 1, 10);

    const rng = 'entropy' in source ? await Z.misc.getRandomRng(source.entropy) : await Z.misc.rngFromBeaconParams(Z.misc.hex2ByteArray(source.beaconHash), source.iterationsExp);
    const transcriptHasher = I.blake2b.create({ dkLen: 64 });
    transcriptHasher.update(mpcParams.csHash);
    for (const c of mpcParams.contributions) Z.zkeyUtils.hashPubKey(transcriptHasher, curve, c);
    const delta = Fr.fromRng(rng);
    secrets.push(delta);
    const { transcript, ...proof } = deltaProof(curve, Z, transcriptHasher, rng, delta);
    zkey.vk_delta_1 = G1.timesFr(zkey.vk_delta_1, delta);
    zkey.vk_delta_2 = G2.timesFr(zkey.vk_delta_2, delta);
    const contribution: Record<string, unknown> = { delta: { prvKey: delta, ...proof }, transcript, deltaAfter: zkey.vk_delta_1 };
    if ('entropy' in source) contribution.type = 0;
    else Object.assign(contribution, { type: 1, numIterationsExp: source.iterationsExp, beaconHash: Z.misc.hex2ByteArray(source.beaconHash) });
    if (name) contribution.name = name;
    mpcParams.contributions.push(contribution);

    await Z.zkeyUtils.writeHeader(fdNew, zkey);
    for (const id of [3, 4, 5, 6, 7]) await I.binFileUtils.copySection(fdOld, sections, fdNew, id); // IC, coefficients, A, B1, B2
    const invDelta = Fr.inv(delta);
    secrets.push(invDelta);
    for (const id of [8, 9]) { // C (L) and H
      const points = await I.binFileUtils.readSection(fdOld, sections, id);
      await I.binFileUtils.startWriteSection(fdNew, id);
      await fdNew.write(await scaleG1(curve, points, invDelta));
      await I.binFileUtils.endWriteSection(fdNew);
    }
    await Z.zkeyUtils.writeMPCParams(fdNew, curve, mpcParams);
    const hasher = I.blake2b.create({ dkLen: 64 });
    Z.zkeyUtils.hashPubKey(hasher, curve, contribution);
    return hasher.digest();
  } catch (cause) {
    if (cause instanceof ZkonnxError) throw cause;
    throw new ZkonnxError('SETUP_FAILED', `the phase-2 contribution to ${oldZkey} failed: ${(cause as Error)?.message ?? String(cause)}`, { file: oldZkey, cause });
  } finally {
    for (const s of secrets) s.fill(0);
    await fdOld.close();
    if (fdNew) await fdNew.close();
  }
}

/**
 * The proof of knowledge of a contribution's δ, as zkey_contribute.js makes it: s·G1 from the
 * contribution's random generator, (δ·s)·G1, both hashed onto the transcript (which already
 * holds the circuit hash and the earlier contributions), and δ times the transcript's point of G2.
 */
export function deltaProof(curve: WasmCurve, Z: ZkeyInternals, transcriptHasher: Blake2bHasher, rng: unknown, delta: Uint8Array) {
  const { G1, G2 } = curve as Curve;
  const g1_s = G1.toAffine(G1.fromRng(rng));
  const g1_sx = G1.toAffine(G1.timesFr(g1_s, delta));
  Z.zkeyUtils.hashG1(transcriptHasher, curve, g1_s);
  Z.zkeyUtils.hashG1(transcriptHasher, curve, g1_sx);
  const transcript = transcriptHasher.digest();
  const g2_sp = Z.hashToG2(curve, transcript);
  return { g1_s, g1_sx, g2_sp, g2_spx: G2.toAffine(G2.timesFr(g2_sp, delta)), transcript };
}
