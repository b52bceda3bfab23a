// A fast local powers-of-tau: a PREPARED .ptau file in snarkjs's exact format, computed straight
// from fresh toxic waste (τ, α, β) without the elliptic-curve FFT of `powersoftau prepare phase2`.
//
// snarkjs's prepared sections 12–15 hold, for every level k (domain size m = 2^k, ω = Fr.w[k]),
// the inverse FFT of the first m points of sections 2–5: the Lagrange basis at τ,
//     L_i(τ) = (τ^m − 1)/m · ω^i / (τ − ω^i),
// times G1 (tauG1), G2 (tauG2), α·G1 (alphaTauG1) and β·G1 (betaTauG1). Section 12 has one more
// level, 2^(power+1), made from the 2^(power+1) − 1 points of section 2 and a zero point; its
// scalars are L_i(τ) − τ^(M−1)·ω^i/M. Every ω_m^i is ω_M^(i·M/m) for the largest domain M, so one
// batched inversion of (τ − ω_M^j), j < M, serves all levels, and each point is one fixed-base
// multiplication (kernels.ts: a batch-affine comb on worker threads): about 12·2^power G1 and
// 3·2^power G2 multiplications in all, against snarkjs's power·2^power of each for the FFT.
//
// The file carries one contribution (section 7) made the way `snarkjs powersoftau contribute`
// makes it on top of `powersoftau new`: the proof-of-knowledge keys for τ, α, β against the first
// challenge hash, the partial response hash and the next challenge hash, so that
// `snarkjs powersoftau verify` accepts it. The toxic waste lives only in memory and every buffer
// derived from it is overwritten before returning.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ZkonnxError } from '../errors.js';
import { removeStale } from '../fsafe.js';
import type { Progress } from '../log.js';
import { snarkjs } from '../snark.js';
import { blake2b512, firstChallengeHash } from './fast/blake2b.js';
import { combTimes, combWindow } from './fast/kernels.js';
import { drawSecretScalar } from './fast/toxic.js';
import { snarkjsInternals, type SnarkjsInternals, type WasmCurve } from './fast/snarkjs-internals.js';

/** Section 12's extra level is 2^(power+1), and snarkjs's plain inverse FFT stops at 2^Fr.s = 2^28. */
export const FAST_PTAU_MAX_POWER = 27;

export interface FastPtauOptions {
  progress?: Progress;
  /** Contribution name stored in section 7. */
  name?: string;
}

export async function generatePreparedPtau(power: number, outPath: string, opts: FastPtauOptions = {}): Promise<{ seconds: number }> {
  if (!Number.isInteger(power) || power < 1 || power > FAST_PTAU_MAX_POWER) {
    throw new ZkonnxError('BAD_ARGUMENT', `powers of tau 2^${power} is outside the fast local setup's range 2^1..2^${FAST_PTAU_MAX_POWER}`);
  }
  const t0 = performance.now();
  const { progress } = opts;
  const I = await snarkjsInternals();
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve;
  const tmp = `${outPath}.tmp-${process.pid}`;
  mkdirSync(dirname(outPath), { recursive: true });
  removeStale(outPath); // an interrupted run's partial file
  const wipe: Uint8Array[] = [];
  try {
    await writeFile(I, curve, power, tmp, wipe, opts.name ?? 'zkonnx fast local setup (single party)', progress);
    renameSync(tmp, outPath);
  } catch (cause) {
    rmSync(tmp, { force: true });
    if (cause instanceof ZkonnxError) throw cause;
    throw new ZkonnxError('SETUP_FAILED', `fast powers of tau 2^${power} failed: ${(cause as Error)?.message ?? String(cause)}`, { file: outPath, cause });
  } finally {
    for (const b of wipe) b.fill(0);
  }
  return { seconds: (performance.now() - t0) / 1000 };
}

async function writeFile(I: SnarkjsInternals, curve: WasmCurve, power: number, file: string, wipe: Uint8Array[], name: string, progress?: Progress): Promise<void> {
  const { Fr, G1, G2 } = curve;
  const n = 2 ** power;
  const M = 2 * n;
  // comb windows from how many points each group gets: sections 2, 4, 5, 12, 14, 15 and 3, 13
  const combBits = { G1: combWindow(12 * n), G2: combWindow(3 * n) };
  // Points are queued on the CPU prover's threads as soon as their scalars exist, and written and
  // hashed in order while later ones are computed; combTimes copies the scalars before it returns
  // (its first await), so the caller zeroes them at once. (A failure is awaited in order; the catch only keeps Node from
  // calling a rejection that is awaited later unhandled.)
  const generatorTimes = (group: 'G1' | 'G2', scalars: Uint8Array): Promise<Uint8Array> => {
    const job = combTimes(curve, group, scalars, combBits[group]);
    job.catch(() => {});
    return job;
  };
  const keep = <T extends Uint8Array>(b: T): T => {
    wipe.push(b);
    return b;
  };

  // ---- toxic waste ------------------------------------------------------------------------
  const drawScalar = () => drawSecretScalar(Fr, keep);
  let tau = drawScalar();
  // τ must not be a root of unity of any domain (τ − ω^j would have no inverse): probability ~2^-225.
  while (Fr.eq(keep(Fr.exp(tau, M)), Fr.one)) tau = drawScalar();
  const alpha = drawScalar();
  const beta = drawScalar();

  // ---- contribution key (proofs of knowledge of τ, α, β), as snarkjs's createPTauKey makes it --
  const gU = (group: 'G1' | 'G2'): Uint8Array => {
    const G = curve[group] as WasmCurve['G1'] & { toRprUncompressed(b: Uint8Array, o: number, p: Uint8Array): void };
    const b = new Uint8Array(G.F.n8 * 2);
    G.toRprUncompressed(b, 0, G.g);
    return b;
  };
  const challenge = firstChallengeHash(gU('G1'), gU('G2'), power);
  const seedBytes = keep(randomBytes(32));
  const seed = Array.from({ length: 8 }, (_, i) => seedBytes.readUInt32BE(i * 4));
  const rng = new I.ChaCha(seed);
  type PubKey = { prvKey: Uint8Array; g1_s?: Uint8Array; g1_sx?: Uint8Array; g2_sp?: Uint8Array; g2_spx?: Uint8Array };
  const key: { tau: PubKey; alpha: PubKey; beta: PubKey } = { tau: { prvKey: tau }, alpha: { prvKey: alpha }, beta: { prvKey: beta } };
  ([key.tau, key.alpha, key.beta] as PubKey[]).forEach((k, personalization) => {
    k.g1_s = G1.toAffine(G1.fromRng(rng));
    k.g1_sx = G1.toAffine(G1.timesFr(k.g1_s, k.prvKey));
    k.g2_sp = G2.toAffine(I.keyPair.getG2sp(curve, personalization, challenge, k.g1_s, k.g1_sx));
    k.g2_spx = G2.toAffine(G2.timesFr(k.g2_sp, k.prvKey));
  });

  const fd = await I.binFileUtils.createBinFile(file, 'ptau', 1, 11);
  try {
    await I.ptauUtils.writePTauHeader(fd, curve, power);

    // ---- sections 2–6: τ^i, α·τ^i, β·τ^i, β (what `contribute` writes on a new accumulator) ----
    // (noble's hasher: its partial state goes into section 7)
    const responseHasher = I.blake2b.create({ dkLen: 64 });
    responseHasher.update(challenge);
    const written: { group: 'G1' | 'G2'; chunks: Uint8Array[] }[] = [];
    const powersSection = async (id: number, group: 'G1' | 'G2', nPoints: number, first: Uint8Array, label: string): Promise<Uint8Array[]> => {
      progress?.step?.(`fast ptau 2^${power}: ${label}`);
      const G = curve[group];
      const n8r = Fr.n8;
      const chunkPoints = 1 << 16;
      const ones = new Uint8Array(Math.min(nPoints, chunkPoints) * n8r);
      for (let i = 0; i < ones.byteLength; i += n8r) ones.set(Fr.one, i);
      await I.binFileUtils.startWriteSection(fd, id);
      const chunks: Uint8Array[] = [];
      const jobs: Promise<Uint8Array>[] = [];
      let t: Uint8Array = keep(first.slice());
      for (let i = 0; i < nPoints; i += chunkPoints) {
        const m = Math.min(nPoints - i, chunkPoints);
        const scalars = keep(await Fr.batchApplyKey(ones.subarray(0, m * n8r), t, tau)); // first·τ^i
        jobs.push(generatorTimes(group, scalars));
        scalars.fill(0);
        t = keep(Fr.mul(t, keep(Fr.exp(tau, m))));
      }
      for (const job of jobs) {
        const pts = await job;
        await fd.write(pts);
        responseHasher.update(await G.batchLEMtoC(pts));
        chunks.push(pts);
      }
      await I.binFileUtils.endWriteSection(fd);
      written.push({ group, chunks });
      return chunks;
    };
    const s2 = await powersSection(2, 'G1', M - 1, Fr.one, 'tauG1');
    const s3 = await powersSection(3, 'G2', n, Fr.one, 'tauG2');
    const s4 = await powersSection(4, 'G1', n, alpha, 'alphaTauG1');
    const s5 = await powersSection(5, 'G1', n, beta, 'betaTauG1');
    const s6 = await powersSection(6, 'G2', 1, beta, 'betaG2');

    // ---- section 7: the contribution ------------------------------------------------------
    const partialHash = I.misc.toPartialHash(responseHasher);
    const buffKey = new Uint8Array(curve.F1.n8 * 2 * 6 + curve.F2.n8 * 2 * 3);
    I.ptauUtils.toPtauPubKeyRpr(buffKey, 0, curve, key, false);
    responseHasher.update(buffKey);
    const hashResponse = responseHasher.digest();
    const next = blake2b512();
    next.update(hashResponse);
    for (const s of written) for (const c of s.chunks) next.update(await curve[s.group].batchLEMtoU(c));
    const contribution = {
      name,
      type: 0,
      tauG1: G1.fromRprLEM(s2[0]!, 64),
      tauG2: G2.fromRprLEM(s3[0]!, 128),
      alphaG1: G1.fromRprLEM(s4[0]!, 0),
      betaG1: G1.fromRprLEM(s5[0]!, 0),
      betaG2: G2.fromRprLEM(s6[0]!, 0),
      key,
      partialHash,
      nextChallenge: next.digest(),
    };
    written.length = 0;
    await I.ptauUtils.writeContributions(fd, curve, [contribution]);

    // ---- sections 12–15: Lagrange bases at τ, level by level ------------------------------
    progress?.step?.(`fast ptau 2^${power}: Lagrange scalars`);
    const n8 = Fr.n8;
    const onesFr = new Uint8Array(M * n8);
    for (let i = 0; i < M; i++) onesFr.set(Fr.one, i * n8);
    const w = await Fr.batchApplyKey(onesFr, Fr.one, Fr.w[power + 1]!); // ω_M^j
    const diff = keep(new Uint8Array(M * n8));
    for (let j = 0; j < M; j++) {
      const d = Fr.sub(tau, w.subarray(j * n8, (j + 1) * n8));
      diff.set(d, j * n8);
      d.fill(0);
    }
    const inv = keep(await Fr.batchInverse(diff));
    const e = keep(new Uint8Array(M * n8)); // ω_M^j / (τ − ω_M^j)
    for (let j = 0; j < M; j++) {
      const x = Fr.mul(w.subarray(j * n8, (j + 1) * n8), inv.subarray(j * n8, (j + 1) * n8));
      e.set(x, j * n8);
      x.fill(0);
    }
    inv.fill(0);
    diff.fill(0);
    // c_k = (τ^m − 1)/m for m = 2^k, k = 0..power+1
    const c: Uint8Array[] = [];
    let tauM = tau;
    for (let k = 0; k <= power + 1; k++) {
      const m = 2 ** k;
      c.push(keep(Fr.mul(keep(Fr.sub(tauM, Fr.one)), Fr.inv(Fr.e(m)))));
      tauM = keep(Fr.square(tauM));
    }
    const lagrangeScalars = async (k: number, factor: Uint8Array): Promise<Uint8Array> => {
      const m = 2 ** k;
      const stride = M / m;
      const gathered = keep(new Uint8Array(m * n8));
      for (let i = 0; i < m; i++) gathered.set(e.subarray(i * stride * n8, (i * stride + 1) * n8), i * n8);
      const s = keep(await Fr.batchApplyKey(gathered, keep(Fr.mul(factor, c[k]!)), Fr.one));
      gathered.fill(0);
      return s;
    };
    const lagrangeSection = async (id: number, group: 'G1' | 'G2', factor: Uint8Array, label: string, extraLevel: boolean): Promise<void> => {
      progress?.step?.(`fast ptau 2^${power}: Lagrange ${label}`);
      await I.binFileUtils.startWriteSection(fd, id);
      const jobs: Promise<Uint8Array>[] = [];
      for (let k = 0; k <= power; k++) {
        const s = await lagrangeScalars(k, factor);
        jobs.push(generatorTimes(group, s));
        s.fill(0);
      }
      if (extraLevel) {
        // ifft of (τ^0..τ^(M−2), 0): L_i(τ) − τ^(M−1)·ω^i/M
        const s = await lagrangeScalars(power + 1, factor);
        const last = keep(Fr.mul(keep(Fr.exp(tau, M - 1)), Fr.inv(Fr.e(M))));
        const corr = keep(await Fr.batchApplyKey(w, last, Fr.one));
        for (let i = 0; i < M; i++) {
          const x = Fr.sub(s.subarray(i * n8, (i + 1) * n8), corr.subarray(i * n8, (i + 1) * n8));
          s.set(x, i * n8);
          x.fill(0);
        }
        corr.fill(0);
        jobs.push(generatorTimes(group, s));
        s.fill(0);
      }
      for (const job of jobs) await fd.write(await job);
      await I.binFileUtils.endWriteSection(fd);
    };
    await lagrangeSection(12, 'G1', Fr.one, 'tauG1', true);
    await lagrangeSection(13, 'G2', Fr.one, 'tauG2', false);
    await lagrangeSection(14, 'G1', alpha, 'alphaTauG1', false);
    await lagrangeSection(15, 'G1', beta, 'betaTauG1', false);
    e.fill(0);
  } finally {
    await fd.close();
  }
}
