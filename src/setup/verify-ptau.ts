// `ptau verify`: is a powers-of-tau file what its contributions say? The verdict of snarkjs's
// `powersoftau verify` (powersoftau_verify.js) on the CPU prover's MSM:
//  - every contribution: its proofs of knowledge of τ, α, β (against the challenge before it),
//    its first powers following the previous contribution's, a beacon's keys recomputed from the
//    beacon;
//  - sections 2–5 (τ^i·G1, τ^i·G2, α·τ^i·G1, β·τ^i·G1): consecutive points in the ratio τ, one
//    random linear combination a section, e(Σ rᵢ·Pᵢ, τ·G2) = e(Σ rᵢ·Pᵢ₊₁, G2), and their first
//    points the last contribution's; section 6 (β·G2) the last contribution's;
//  - the hash of the points: the last contribution's next challenge (only for a file of the
//    ceremony's own size: a truncated one, as the public ceremonies publish, cannot be hashed
//    back, and snarkjs skips it too);
//  - the prepared sections 12–15: each level 2^p of them the Lagrange basis of the first 2^p
//    powers (section 12's top level, one power longer than section 2, on all but its last
//    coordinate, as snarkjs checks it); these and the ratio checks are fast/powers-check.ts.
// snarkjs checks each with random 32-bit coefficients: two MSMs a section, then an FFT and two
// MSMs a level. Here the coefficients are the powers of one random ρ ∈ Fr (checkPowers), so each
// check is a polynomial identity in ρ (a false file passes with probability < 2^−225) and one
// MSM over a powers section serves its ratio check and the τ side of all its levels. Every
// contribution's points must be in G1 and G2 (on the curve; G2's also r·P = 0), and every
// section point on its curve (G2's on the twist: the subgroup would cost a scalar multiplication
// a point; fast/on-curve.ts), where snarkjs takes them as read. Every failure is collected.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { cacheDir } from '../paths.js';
import { snarkjs } from '../snark.js';
import { blake2b512, firstChallengeHash } from './fast/blake2b.js';
import { checkPowers, PointSection, type Group } from './fast/powers-check.js';
import { readRange } from './fast/read-range.js';
import { inG1, inG2, sameRatio } from './fast/rlc.js';
import { snarkjsInternals, type SnarkjsInternals } from './fast/snarkjs-internals.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface PtauContribution {
  name: string;
  /** the hash its contributor published (the response hash), hex */
  responseHash: string;
  /** the challenge that the next contributor answered, hex */
  nextChallenge: string;
  beacon?: { hash: string; iterationsExp: number };
}

export interface PtauVerification {
  ok: boolean;
  /** what is wrong, each naming the file and the section or contribution */
  errors: string[];
  power: number;
  ceremonyPower: number;
  /** holds the Lagrange sections (12–15) that phase 2 needs */
  prepared: boolean;
  contributions: PtauContribution[];
  /** checks that this file cannot have (a truncated file's hash; Lagrange sections absent) */
  notes: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function verifyPtau(ptauPath: string, progress?: Progress): Promise<PtauVerification> {
  if (!existsSync(ptauPath)) throw new ZkonnxError('ARTIFACT_MISSING', `ptau file ${ptauPath} not found`, { file: ptauPath });
  const I = await snarkjsInternals();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Record<string, any>;
  const { G1, G2 } = curve;
  const errors: string[] = [];
  const notes: string[] = [];
  const fail = (m: string): void => void errors.push(`${ptauPath}: ${m}`);
  // binfileutils leaves its descriptor open when it refuses a file: look at the magic first
  const magic = Buffer.alloc(4);
  try {
    const probe = openSync(ptauPath, 'r');
    try {
      readSync(probe, magic, 0, 4, 0);
    } finally {
      closeSync(probe);
    }
  } catch (e) {
    throw new ZkonnxError('SETUP_FAILED', `${ptauPath} cannot be read: ${(e as Error).message}`, { file: ptauPath });
  }
  if (magic.toString('latin1') !== 'ptau') throw new ZkonnxError('SETUP_FAILED', `${ptauPath} is not a ptau file: it does not start with 'ptau'`, { file: ptauPath });
  let file: { fd: any; sections: any };
  try {
    file = await I.binFileUtils.readBinFile(ptauPath, 'ptau', 1);
  } catch (e) {
    throw new ZkonnxError('SETUP_FAILED', `${ptauPath} is not a ptau file: ${(e as Error).message}`, { file: ptauPath });
  }
  const { fd, sections } = file;
  const raw = openSync(ptauPath, 'r');
  try {
    let header: { power: number; ceremonyPower: number; contributions: any[] };
    try {
      const h = await I.ptauUtils.readPTauHeader(fd, sections);
      if ((h.curve as any).q !== curve.q) throw new Error('its curve is not BN254');
      header = { power: h.power, ceremonyPower: h.ceremonyPower, contributions: await I.ptauUtils.readContributions(fd, curve as never, sections) };
    } catch (e) {
      throw new ZkonnxError('SETUP_FAILED', `${ptauPath}: unreadable header or contributions: ${(e as Error).message}`, { file: ptauPath });
    }
    const { power, ceremonyPower, contributions } = header;
    if (!(power >= 1 && power <= ceremonyPower && ceremonyPower <= 28)) fail(`its header says power 2^${power} of a ceremony of 2^${ceremonyPower}`);
    for (let id = 1; id <= 15; id++) if (sections[id]?.length > 1) fail(`section ${id} appears ${sections[id].length} times`);
    const N = 2 ** power;
    const sG = { G1: G1.F.n8 * 2, G2: G2.F.n8 * 2 } as const;
    const sizes: Record<number, [Group, number]> = { 2: ['G1', 2 * N - 1], 3: ['G2', N], 4: ['G1', N], 5: ['G1', N], 6: ['G2', 1] };
    const prepared = [12, 13, 14, 15].every((id) => sections[id]);
    if (prepared) Object.assign(sizes, { 12: ['G1', 4 * N - 1], 13: ['G2', 2 * N - 1], 14: ['G1', 2 * N - 1], 15: ['G1', 2 * N - 1] });
    for (const [id, [g, n]] of Object.entries(sizes)) {
      const size = sections[id]?.[0]?.size;
      if (size !== n * sG[g]) fail(`section ${id} holds ${size === undefined ? 'nothing' : `${size} bytes`}, 2^${power} needs ${n} ${g} points (${n * sG[g]} bytes)`);
    }
    const out = contributions.map((c) => ({
      name: c.name ?? '',
      responseHash: hex(c.responseHash),
      nextChallenge: hex(c.nextChallenge),
      ...(c.type === 1 ? { beacon: { hash: hex(c.beaconHash), iterationsExp: c.numIterationsExp } } : {}),
    }));
    const result = (): PtauVerification => ({ ok: errors.length === 0, errors, power, ceremonyPower, prepared, contributions: out, notes });
    if (!contributions.length) fail('it holds no contribution: its powers are of τ = 1');
    if (errors.length) return result();

    progress?.step?.(`verify ptau: ${contributions.length} contribution(s)`);
    const initial = {
      tauG1: G1.g, tauG2: G2.g, alphaG1: G1.g, betaG1: G1.g, betaG2: G2.g,
      nextChallenge: await initialChallenge(curve, ceremonyPower, progress),
    };
    for (let i = 0; i < contributions.length; i++) {
      const label = `contribution ${i + 1}${contributions[i].name ? ` (${contributions[i].name})` : ''}`;
      await checkContribution(curve, I, contributions[i], i ? contributions[i - 1] : initial, (m) => fail(`${label}: ${m}`));
    }

    const last = contributions[contributions.length - 1];
    // the points' hash goes after the last response hash, as the next contributor's challenge
    const hasher = power === ceremonyPower ? blake2b512().update(last.responseHash) : undefined;
    if (!hasher) notes.push(`truncated from a ceremony of 2^${ceremonyPower}: its points cannot be hashed back to the last contribution's next challenge (snarkjs skips this check too)`);
    if (contributions.length === 1) notes.push('one contribution: the file is as trustworthy as its one contributor (a public ceremony has many)');
    if (!prepared) notes.push('not prepared for phase 2 (no Lagrange sections 12–15): run snarkjs powersoftau prepare phase2 on it before setup');
    if (prepared && power + 1 > curve.Fr.s) throw new ZkonnxError('SETUP_FAILED', `${ptauPath}: a prepared file of 2^${power} has a level 2^${power + 1}, beyond BN254's 2^${curve.Fr.s} roots of unity`, { file: ptauPath });
    let done = 0;
    let total = 0;
    const advance = (points: number): void => progress?.tick?.(Math.min(total, (done += points)));
    const section = (id: number) => new PointSection(raw, ptauPath, sections[id][0].p, sizes[id][0], sizes[id][1], curve, advance);
    const G1ratio = (R1: Uint8Array, R2: Uint8Array) => sameRatio(curve, R1, R2, G2.g, last.tauG2);
    const checks = [
      [2, 12, 'tauG1', power + 1, G1ratio],
      [3, 13, 'tauG2', power, (R1: Uint8Array, R2: Uint8Array) => sameRatio(curve, G1.g, last.tauG1, R1, R2)],
      [4, 14, 'alphaTauG1', power, G1ratio],
      [5, 15, 'betaTauG1', power, G1ratio],
    ] as const;
    const firsts: Record<number, { first: Uint8Array; second: Uint8Array }> = {};
    for (const [id, lagrangeId, label, top, ratio] of checks) {
      [done, total] = [0, sizes[id][1] + (prepared ? sizes[lagrangeId][1] : 0)];
      progress?.step?.(`verify ptau: ${label}${prepared ? ' and its Lagrange levels' : ''}`, total);
      const [T, L] = [section(id), prepared ? section(lagrangeId) : undefined];
      const r = await checkPowers(T, L, top, ratio, hasher);
      firsts[id] = r;
      for (const [s, sid, what] of [[T, id, label], [L, lagrangeId, `Lagrange ${label}`]] as const) {
        if (s?.offCurve !== undefined) fail(`section ${sid} (${what}): its point ${s.offCurve} is not on the curve${s.group === 'G2' ? ' of G2 (the twist)' : ''}`);
      }
      if (!r.consecutive) fail(`section ${id} (${label}): its points are not consecutive powers of τ`);
      for (const p of r.badLevels) fail(`section ${lagrangeId} (Lagrange ${label}): its level 2^${p} is not the Lagrange basis of section ${id}'s first 2^${p} points`);
    }
    if (!G1.eq(firsts[2].first, G1.g)) fail('section 2 (tauG1): its first point is not the generator');
    if (!G1.eq(firsts[2].second, last.tauG1)) fail('section 2 (tauG1): its second point is not the last contribution\'s τ·G1');
    if (!G2.eq(firsts[3].first, G2.g)) fail('section 3 (tauG2): its first point is not the generator');
    if (!G2.eq(firsts[3].second, last.tauG2)) fail('section 3 (tauG2): its second point is not the last contribution\'s τ·G2');
    if (!G1.eq(firsts[4].first, last.alphaG1)) fail('section 4 (alphaTauG1): its first point is not the last contribution\'s α·G1');
    if (!G1.eq(firsts[5].first, last.betaG1)) fail('section 5 (betaTauG1): its first point is not the last contribution\'s β·G1');
    const beta2 = readRange(raw, sections[6][0].p, sG.G2, ptauPath);
    hasher?.update(await G2.batchLEMtoU(beta2));
    if (!G2.eq(G2.fromRprLEM(beta2, 0), last.betaG2)) fail('section 6 (betaG2): it is not the last contribution\'s β·G2');
    if (hasher && Buffer.compare(hasher.digest(), last.nextChallenge) !== 0) fail('the hash of its points is not the last contribution\'s next challenge');
    return result();
  } finally {
    closeSync(raw);
    await fd.close();
  }
}

/** powersoftau_verify.js's verifyContribution: `prev` is the contribution before (or the initial accumulator). */
async function checkContribution(curve: any, I: SnarkjsInternals, cur: any, prev: any, fail: (m: string) => void): Promise<void> {
  const { G1, G2 } = curve;
  const names = ['tau', 'alpha', 'beta'] as const;
  // its points on the curve, the G2 ones in the prime-order subgroup (r·P = 0): the pairing
  // checks below are only meaningful there (the sections' first points are compared to these)
  const points: [string, Uint8Array, boolean][] = [
    ['τ·G1', cur.tauG1, false], ['τ·G2', cur.tauG2, true], ['α·G1', cur.alphaG1, false], ['β·G1', cur.betaG1, false], ['β·G2', cur.betaG2, true],
    ...names.flatMap((n) => [[`${n} key g1_s`, cur.key[n].g1_s, false], [`${n} key g1_sx`, cur.key[n].g1_sx, false], [`${n} key g2_spx`, cur.key[n].g2_spx, true]] as [string, Uint8Array, boolean][]),
  ];
  for (const [what, p, g2] of points) if (!(g2 ? inG2(curve, p) : inG1(curve, p))) fail(`its ${what} is not a point of ${g2 ? 'G2' : 'G1'}`);
  if (cur.type === 1) {
    const k = await I.ptauUtils.keyFromBeacon(curve, prev.nextChallenge, cur.beaconHash, cur.numIterationsExp);
    const same = names.every((n) => G1.eq(cur.key[n].g1_s, k[n].g1_s) && G1.eq(cur.key[n].g1_sx, k[n].g1_sx) && G2.eq(cur.key[n].g2_spx, k[n].g2_spx));
    if (!same) fail('its keys are not the beacon\'s');
  }
  const sp: Record<string, Uint8Array> = {};
  for (const [i, n] of names.entries()) {
    const k = cur.key[n];
    sp[n] = G2.toAffine(I.keyPair.getG2sp(curve, i, prev.nextChallenge, k.g1_s, k.g1_sx));
    if (!(await sameRatio(curve, k.g1_s, k.g1_sx, sp[n], k.g2_spx))) fail(`its proof of knowledge of ${n} does not hold`);
  }
  const { tau, alpha, beta } = cur.key;
  if (!(await sameRatio(curve, prev.tauG1, cur.tauG1, sp.tau, tau.g2_spx))) fail('its τ·G1 does not follow the contribution before');
  if (!(await sameRatio(curve, tau.g1_s, tau.g1_sx, prev.tauG2, cur.tauG2))) fail('its τ·G2 does not follow the contribution before');
  if (!(await sameRatio(curve, prev.alphaG1, cur.alphaG1, sp.alpha, alpha.g2_spx))) fail('its α·G1 does not follow the contribution before');
  if (!(await sameRatio(curve, prev.betaG1, cur.betaG1, sp.beta, beta.g2_spx))) fail('its β·G1 does not follow the contribution before');
  if (!(await sameRatio(curve, beta.g1_s, beta.g1_sx, prev.betaG2, cur.betaG2))) fail('its β·G2 does not follow the contribution before');
}

/**
 * The challenge of `powersoftau new`'s accumulator for a ceremony of 2^ceremonyPower: a hash of
 * ~100 GiB at 2^28 (the public ceremonies' size, ~2 minutes), so kept in the cache once made;
 * it depends on nothing but the power.
 */
export async function initialChallenge(curve: any, ceremonyPower: number, progress?: Progress): Promise<Uint8Array> {
  const cached = join(cacheDir(), 'ptau', `first-challenge-bn128-${ceremonyPower}.hex`);
  if (ceremonyPower >= 20 && existsSync(cached)) {
    const h = readFileSync(cached, 'utf8').trim();
    if (/^[0-9a-f]{128}$/.test(h)) return new Uint8Array(Buffer.from(h, 'hex'));
  }
  if (ceremonyPower >= 20) progress?.step?.(`verify ptau: the initial challenge of a 2^${ceremonyPower} ceremony (hashed once, then cached in ${cached})`);
  const u = (g: Group): Uint8Array => {
    const b = new Uint8Array(curve[g].F.n8 * 2);
    curve[g].toRprUncompressed(b, 0, curve[g].g);
    return b;
  };
  const h = firstChallengeHash(u('G1'), u('G2'), ceremonyPower);
  if (ceremonyPower >= 20) {
    mkdirSync(join(cacheDir(), 'ptau'), { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}`;
    writeFileSync(tmp, hex(h));
    renameSync(tmp, cached);
  }
  return h;
}
