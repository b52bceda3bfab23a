// Groth16 proving key in one pass: the FINAL zkey that snarkjs's `zkey new` followed by
// `zkey contribute` would write, with one phase-2 contribution (a fresh δ), byte for byte in
// snarkjs's format (sections 1–10 in the order `zkey contribute` writes them).
//
// What differs from snarkjs (zkey_new.js + zkey_contribute.js), measured at domain 2^12 where
// newZKey + contribute took ~15 s:
//  - A, B1, B2, C and IC (nearly all of newZKey's time) are computed by sparse-msm.ts: the same
//    wasm multi-exponentiations, but over all worker threads (snarkjs runs any section below
//    2^15 terms on one thread), with signed coefficients (−1 costs an addition, not a 254-bit
//    multiplication) and scalars packed at the width of each variable's largest coefficient.
//  - 1/δ is applied to the C (L) and H sections as they are made, not by reading back and
//    rewriting a first file, and with the GLV endomorphism (kernels.ts scaleG1: 128 doublings a
//    point instead of snarkjs's 254, ~1.8× faster than ffjavascript's batchApplyKey).
//  - Only the ptau's domain level of sections 12–15 and the 2·domain level of section 12 are read,
//    as snarkjs does.
// The circuit hash (section 10) is computed over the same bytes in the same order as zkey_new.js
// (including its reading of section 2 for the H points), so `zkey verify` recomputes it exactly.
// δ lives in memory only and is overwritten before returning. The key's computation (computeKey,
// everything but δ) is shared with `setup verify` (verify-zkey.ts), which compares instead of
// writing.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ZkonnxError } from '../errors.js';
import { removeStale } from '../fsafe.js';
import type { Progress } from '../log.js';
import { snarkjs } from '../snark.js';
import { signedCoefs, sparseMsm, type Columns } from './fast/sparse-msm.js';
import { blake2b512 } from './fast/blake2b.js';
import { readRange } from './fast/read-range.js';
import { scaleG1 } from './fast/kernels.js';
import { deltaProof } from './phase2.js';
import { drawSecretScalar } from './fast/toxic.js';
import { snarkjsInternals, type WasmCurve } from './fast/snarkjs-internals.js';
import { zkeyInternals } from './fast/zkey-internals.js';

export interface FastZkeyOptions {
  r1csPath: string;
  ptauPath: string;
  zkeyPath: string;
  progress?: Progress;
  /** Name of the phase-2 contribution stored in section 10. */
  name?: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Curve = WasmCurve & {
  q: bigint;
  r: bigint;
  G1: WasmCurve['G1'] & { sub(a: Uint8Array, b: Uint8Array): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void; toRprUncompressed(b: Uint8Array, o: number, p: Uint8Array): void; F: { n8: number } };
  G2: WasmCurve['G2'] & { toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void; toRprUncompressed(b: Uint8Array, o: number, p: Uint8Array): void };
  Fr: WasmCurve['Fr'] & { toRprLE(b: Uint8Array, o: number, e: Uint8Array): void; batchToMontgomery(b: Uint8Array): Promise<Uint8Array> };
};

export async function fastGroth16Keys(opts: FastZkeyOptions): Promise<{ seconds: number }> {
  const t0 = performance.now();
  const tmp = `${opts.zkeyPath}.tmp-${process.pid}`;
  mkdirSync(dirname(opts.zkeyPath), { recursive: true });
  removeStale(opts.zkeyPath); // an interrupted run's partial key
  const wipe: Uint8Array[] = [];
  try {
    await writeZkey(opts, tmp, wipe);
    renameSync(tmp, opts.zkeyPath);
  } catch (cause) {
    rmSync(tmp, { force: true });
    if (cause instanceof ZkonnxError) throw cause;
    throw new ZkonnxError('SETUP_FAILED', `groth16 keys failed: ${(cause as Error)?.message ?? String(cause)}`, { file: opts.zkeyPath, cause });
  } finally {
    for (const b of wipe) b.fill(0);
  }
  return { seconds: (performance.now() - t0) / 1000 };
}

interface R1cs {
  nVars: number;
  nPublic: number;
  nConstraints: number;
  prime: bigint;
  /** every term of A, B, C in r1cs order, then one term (coefficient 1) per public signal and ONE */
  matrix: Uint8Array;
  constraint: Uint32Array;
  signal: Uint32Array;
  /** 32-byte little-endian normal-form coefficients, one per term */
  coef: Uint8Array;
  nTerms: number;
}

async function readR1cs(I: Awaited<ReturnType<typeof snarkjsInternals>>, path: string): Promise<R1cs> {
  const { fd, sections } = await I.binFileUtils.readBinFile(path, 'r1cs', 1);
  try {
    const h = await I.binFileUtils.readSection(fd, sections, 1);
    const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const n8 = hv.getUint32(0, true);
    if (n8 !== 32) throw new ZkonnxError('SETUP_FAILED', `${path}: the r1cs field is not the BN254 scalar field (${n8}-byte elements)`, { file: path });
    let prime = 0n;
    for (let i = n8 - 1; i >= 0; i--) prime = (prime << 8n) | BigInt(h[4 + i]!);
    const o = 4 + n8;
    const nVars = hv.getUint32(o, true);
    const nOutputs = hv.getUint32(o + 4, true);
    const nPubInputs = hv.getUint32(o + 8, true);
    const nConstraints = hv.getUint32(o + 24, true);
    const nPublic = nOutputs + nPubInputs;
    const size: number = sections[2][0].size;
    if (size >= 2 ** 31) throw new ZkonnxError('SETUP_FAILED', `${path}: constraint section above 2 GiB is not supported by the fast setup`, { file: path });
    const raw = openSync(path, 'r');
    let body: Uint8Array;
    try {
      body = readRange(raw, sections[2][0].p, size, path);
    } finally {
      closeSync(raw);
    }
    const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    // count terms
    let p = 0;
    let nTerms = 0;
    for (let c = 0; c < nConstraints; c++) {
      for (let m = 0; m < 3; m++) {
        const n = bv.getUint32(p, true);
        nTerms += n;
        p += 4 + n * (4 + n8);
      }
    }
    const total = nTerms + nPublic + 1;
    const matrix = new Uint8Array(total);
    const constraint = new Uint32Array(total);
    const signal = new Uint32Array(total);
    const coef = new Uint8Array(total * 32);
    p = 0;
    let t = 0;
    for (let c = 0; c < nConstraints; c++) {
      for (let m = 0; m < 3; m++) {
        const n = bv.getUint32(p, true);
        p += 4;
        for (let k = 0; k < n; k++, t++) {
          matrix[t] = m;
          constraint[t] = c;
          signal[t] = bv.getUint32(p, true);
          coef.set(body.subarray(p + 4, p + 4 + n8), t * 32);
          p += 4 + n8;
        }
      }
    }
    for (let s = 0; s <= nPublic; s++, t++) {
      matrix[t] = 3; // zkey_new.js's extra A term (ONE and public signals), coefficient 1
      constraint[t] = nConstraints + s;
      signal[t] = s;
      coef[t * 32] = 1;
    }
    return { nVars, nPublic, nConstraints, prime, matrix, constraint, signal, coef, nTerms: total };
  } finally {
    await fd.close();
  }
}

/** Base sets of the G1 sections: the ptau's Lagrange points at the domain level. */
const TAU = 0;
const ALPHA = 1;
const BETA = 2;

/** CSR columns for outputs [first, first + count) from the terms `pick` maps to a base set (or −1). */
function columns(r: R1cs, first: number, count: number, pick: (matrix: number) => number): Columns {
  const ptr = new Uint32Array(count + 1);
  for (let t = 0; t < r.nTerms; t++) {
    const s = r.signal[t]! - first;
    if (s >= 0 && s < count && pick(r.matrix[t]!) >= 0) ptr[s + 1]!++;
  }
  for (let j = 0; j < count; j++) ptr[j + 1]! += ptr[j]!;
  const n = ptr[count]!;
  const set = new Uint8Array(n);
  const point = new Uint32Array(n);
  const coef = new Uint32Array(n);
  const fill = ptr.slice(0, count);
  for (let t = 0; t < r.nTerms; t++) {
    const s = r.signal[t]! - first;
    if (s < 0 || s >= count) continue;
    const b = pick(r.matrix[t]!);
    if (b < 0) continue;
    const k = fill[s]!++;
    set[k] = b;
    point[k] = r.constraint[t]!;
    coef[k] = t;
  }
  return { ptr, set, point, coef };
}

/** The header values of a circuit's key that come from the ptau and the r1cs. */
export interface KeyHeader {
  curve: Curve;
  nVars: number;
  nPublic: number;
  domainSize: number;
  /** α·G1, β·G1, β·G2 from the ptau, Montgomery little-endian as the ptau holds them */
  alphaLEM: Uint8Array;
  betaLEM: Uint8Array;
  beta2LEM: Uint8Array;
}

/**
 * Receives a circuit's key as computeKey makes it, in this order: header; sections 3 and 4; the
 * C points before δ; sections 5, 6 and 7; the H points before δ. Sections 3–7 are every key's of
 * the circuit (no δ in them); a key's sections 8 and 9 hold C and H times 1/δ.
 */
export interface KeySink {
  header(h: KeyHeader): Promise<void>;
  section(id: 3 | 4 | 5 | 6 | 7, bytes: Uint8Array): Promise<void>;
  c(points: Uint8Array): Promise<void>;
  /** not read from the ptau where absent */
  h?(points: Uint8Array): Promise<void>;
}

/**
 * Computes the key of the r1cs on the ptau (zkey_new.js's, without its file) into `sink`, and
 * returns the circuit hash that a key's MPC section starts from.
 */
export async function computeKey(r1csPath: string, ptauPath: string, sink: KeySink, progress?: Progress): Promise<Uint8Array> {
  const I = await snarkjsInternals();
  const Z = await zkeyInternals();
  await snarkjs.curves.getCurveFromName('bn128');
  const { fd: fdPTau, sections: sPTau } = await I.binFileUtils.readBinFile(ptauPath, 'ptau', 1);
  const raw = openSync(ptauPath, 'r');
  const at = (pos: number, len: number): Uint8Array => readRange(raw, pos, len, ptauPath);
  try {
    const { curve: c0, power } = await Z.readPTauHeader(fdPTau, sPTau);
    const curve = c0 as unknown as Curve;
    const { Fr, G1, G2 } = curve;
    const sG1 = G1.F.n8 * 2;
    const sG2 = G2.F.n8 * 2;
    const r1cs = await readR1cs(I, r1csPath);
    if (r1cs.prime !== curve.r) throw new ZkonnxError('SETUP_FAILED', `${r1csPath} is not over the curve of ${ptauPath}`, { file: r1csPath });
    const n = r1cs.nConstraints + r1cs.nPublic;
    const cirPower = Math.floor(Math.log2(Math.max(1, n))) + 1;
    if (cirPower > power) {
      throw new ZkonnxError('PTAU_TOO_SMALL', `${ptauPath} is too small: the circuit (${r1cs.nConstraints} constraints) needs powers of tau 2^${cirPower}`, {
        file: ptauPath,
        hint: `use a ptau file of power ${cirPower} or more`,
      });
    }
    if (!sPTau[12]) throw new ZkonnxError('SETUP_FAILED', `${ptauPath} is not prepared for phase 2 (no Lagrange sections)`, { file: ptauPath, hint: 'run snarkjs powersoftau prepare phase2 on it' });
    if (cirPower > Fr.s) throw new ZkonnxError('SETUP_FAILED', `circuit too big for this curve (domain 2^${cirPower})`);
    const domainSize = 2 ** cirPower;
    const { nVars, nPublic } = r1cs;
    const csHasher = blake2b512();
    const hashU32 = (v: number): void => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, v, false);
      csHasher.update(b);
    };

    // ---- header ---------------------------------------------------------------------------
    const alphaLEM = await fdPTau.read(sG1, sPTau[4][0].p);
    const betaLEM = await fdPTau.read(sG1, sPTau[5][0].p);
    const beta2LEM = await fdPTau.read(sG2, sPTau[6][0].p);
    csHasher.update(await G1.batchLEMtoU(alphaLEM));
    csHasher.update(await G1.batchLEMtoU(betaLEM));
    csHasher.update(await G2.batchLEMtoU(beta2LEM));
    const bg1U = new Uint8Array(sG1);
    G1.toRprUncompressed(bg1U, 0, G1.g);
    const bg2U = new Uint8Array(sG2);
    G2.toRprUncompressed(bg2U, 0, G2.g);
    csHasher.update(bg2U); // gamma2
    csHasher.update(bg1U); // delta1 of the initial key
    csHasher.update(bg2U); // delta2 of the initial key
    await sink.header({ curve, nVars, nPublic, domainSize, alphaLEM, betaLEM, beta2LEM });

    // ---- ptau levels ------------------------------------------------------------------------
    progress?.step?.(`groth16 keys: reading ptau level 2^${cirPower}`);
    const level = (id: number, sG: number) => at(sPTau[id][0].p + (domainSize - 1) * sG, domainSize * sG);
    const tauG1 = level(12, sG1);
    const tauG2 = level(13, sG2);
    const alphaTauG1 = level(14, sG1);
    const betaTauG1 = level(15, sG1);
    const g1Sets = [tauG1, alphaTauG1, betaTauG1];
    const coefs = signedCoefs(curve.r, r1cs.coef, r1cs.nTerms);

    // ---- IC (section 3) ---------------------------------------------------------------------
    // L-type sums: β·A + α·B + C (+ the extra β term of ONE and the public signals)
    const lPick = (m: number): number => (m === 0 || m === 3 ? BETA : m === 1 ? ALPHA : TAU);
    progress?.step?.('groth16 keys: IC');
    const ic = await sparseMsm(curve, 'G1', g1Sets, columns(r1cs, 0, nPublic + 1, lPick), coefs, true);
    hashU32(nPublic + 1);
    csHasher.update(ic.u!);
    await sink.section(3, ic.lem);

    // ---- coefficients (section 4): A and B terms in r1cs order, then the extra A terms ----------
    {
      const idx: number[] = [];
      for (let t = 0; t < r1cs.nTerms; t++) if (r1cs.matrix[t] !== 2) idx.push(t);
      const raw = new Uint8Array(idx.length * 32);
      idx.forEach((t, i) => raw.set(r1cs.coef.subarray(t * 32, t * 32 + 32), i * 32));
      // zkey_new.js writes Fr.toRprLE(Fr.fromRprLE(c)·R²): c·R² mod r, i.e. Montgomery form twice
      const m2 = await Fr.batchToMontgomery(await Fr.batchToMontgomery(raw));
      const out = new Uint8Array(4 + idx.length * 44);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, idx.length, true);
      idx.forEach((t, i) => {
        const o = 4 + i * 44;
        const m = r1cs.matrix[t]!;
        dv.setUint32(o, m === 3 ? 0 : m, true);
        dv.setUint32(o + 4, r1cs.constraint[t]!, true);
        dv.setUint32(o + 8, r1cs.signal[t]!, true);
        out.set(m2.subarray(i * 32, i * 32 + 32), o + 12);
      });
      await sink.section(4, out);
    }

    // ---- H points of the circuit hash: τ^(i+N)·G1 − τ^i·G1, read as zkey_new.js reads them ----
    // hashHPoints reads min(N − 1, 2^14) points for every chunk of 2^14, the last one too: above
    // 2^14 it hashes N points, not N − 1, the last from τ^(2N−1), past section 2 where the ptau's
    // power is log2(N) (the bytes that follow it, read as a point). The differences are a sparse
    // sum of two terms each (+1, −1); that odd last one, if any, is ffjavascript's as snarkjs's.
    progress?.step?.('groth16 keys: H hash');
    hashU32(domainSize - 1);
    {
      const CHUNK = 1 << 14;
      const m = Math.min(domainSize - 1, CHUNK);
      const count = Math.ceil((domainSize - 1) / CHUNK) * m;
      const inSection = Math.min(count, sPTau[2][0].size / sG1 - domainSize);
      const powers = at(sPTau[2][0].p, (domainSize + inSection) * sG1);
      const cols: Columns = { ptr: new Uint32Array(inSection + 1), set: new Uint8Array(2 * inSection), point: new Uint32Array(2 * inSection), coef: new Uint32Array(2 * inSection) };
      for (let i = 0; i < inSection; i++) {
        cols.ptr[i + 1] = 2 * i + 2;
        cols.point[2 * i] = i + domainSize;
        cols.point[2 * i + 1] = i;
        cols.coef[2 * i + 1] = 1;
      }
      const plusMinus = { abs: new Uint8Array(64), neg: Uint8Array.of(0, 1), len: Uint8Array.of(1, 1) };
      plusMinus.abs[0] = plusMinus.abs[32] = 1;
      csHasher.update((await sparseMsm(curve, 'G1', [powers], cols, plusMinus, true)).u!);
      for (let i = inSection; i < count; i++) {
        const past = at(sPTau[2][0].p + (i + domainSize) * sG1, sG1);
        const u = new Uint8Array(sG1);
        G1.toRprUncompressed(u, 0, G1.sub(G1.fromRprLEM(past, 0), G1.fromRprLEM(powers, i * sG1)));
        csHasher.update(u);
      }
    }

    // ---- C before δ (hashed before A; section 8 of a key) ------------------------------------
    progress?.step?.('groth16 keys: C');
    const nC = nVars - nPublic - 1;
    const cInit = await sparseMsm(curve, 'G1', g1Sets, columns(r1cs, nPublic + 1, nC, lPick), coefs, true);
    hashU32(nC);
    csHasher.update(cInit.u!);
    await sink.c(cInit.lem);

    // ---- A, B1, B2 (sections 5, 6, 7) --------------------------------------------------------
    const points = async (id: 5 | 6 | 7, group: 'G1' | 'G2', sets: Uint8Array[], cols: Columns, label: string): Promise<void> => {
      progress?.step?.(`groth16 keys: ${label}`);
      const res = await sparseMsm(curve, group, sets, cols, coefs, true);
      hashU32(nVars);
      csHasher.update(res.u!);
      await sink.section(id, res.lem);
    };
    await points(5, 'G1', g1Sets, columns(r1cs, 0, nVars, (m) => (m === 0 || m === 3 ? TAU : -1)), 'A');
    const bCols = columns(r1cs, 0, nVars, (m) => (m === 1 ? TAU : -1));
    await points(6, 'G1', g1Sets, bCols, 'B1');
    await points(7, 'G2', [tauG2], bCols, 'B2');

    // ---- H before δ: the odd points of section 12's level 2·N ----------------------------------
    if (!sink.h) return csHasher.digest();
    progress?.step?.('groth16 keys: H');
    let hPoints: Uint8Array;
    if (cirPower < Fr.s) {
      const l2 = at(sPTau[12][0].p + (domainSize * 2 - 1) * sG1, domainSize * 2 * sG1);
      hPoints = new Uint8Array(domainSize * sG1);
      for (let i = 0; i < domainSize; i++) hPoints.set(l2.subarray((i * 2 + 1) * sG1, (i * 2 + 2) * sG1), i * sG1);
    } else {
      hPoints = at(sPTau[12][0].p + (2 ** (cirPower + 1) - 1) * sG1 + domainSize * sG1, domainSize * sG1);
    }
    await sink.h(hPoints);
    return csHasher.digest();
  } finally {
    closeSync(raw);
    await fdPTau.close();
  }
}

/** The key with one contribution of a fresh δ, sections in the order `zkey contribute` writes them. */
async function writeZkey(opts: FastZkeyOptions, file: string, wipe: Uint8Array[]): Promise<void> {
  const keep = <T extends Uint8Array>(b: T): T => {
    wipe.push(b);
    return b;
  };
  const I = await snarkjsInternals();
  const Z = await zkeyInternals();
  let fdZ: any;
  let curve!: Curve;
  let delta!: Uint8Array;
  let invDelta!: Uint8Array;
  let delta1!: Uint8Array;
  let cFinal: Uint8Array | undefined;
  const write = async (id: number, bytes: Uint8Array): Promise<void> => {
    await I.binFileUtils.startWriteSection(fdZ, id);
    await fdZ.write(bytes);
    await I.binFileUtils.endWriteSection(fdZ);
  };
  try {
    const csHash = await computeKey(opts.r1csPath, opts.ptauPath, {
      header: async (h) => {
        curve = h.curve;
        const { Fr, G1, G2 } = curve;
        delta = drawSecretScalar(Fr, keep);
        invDelta = keep(Fr.inv(delta));
        delta1 = G1.timesFr(G1.g, delta);
        fdZ = await I.binFileUtils.createBinFile(file, 'zkey', 1, 10);
        await Z.zkeyUtils.writeHeader(fdZ, {
          q: curve.q,
          r: curve.r,
          nVars: h.nVars,
          nPublic: h.nPublic,
          domainSize: h.domainSize,
          vk_alpha_1: G1.fromRprLEM(h.alphaLEM, 0),
          vk_beta_1: G1.fromRprLEM(h.betaLEM, 0),
          vk_beta_2: G2.fromRprLEM(h.beta2LEM, 0),
          vk_gamma_2: G2.g,
          vk_delta_1: delta1,
          vk_delta_2: G2.timesFr(G2.g, delta),
        });
      },
      section: async (id, bytes) => {
        await write(id, bytes);
        // C/δ was made before A (the circuit hash's order); a key holds it after B2
        if (id === 7) await write(8, cFinal!);
      },
      c: async (points) => void (cFinal = await scaleG1(curve, points, invDelta)),
      h: async (points) => write(9, await scaleG1(curve, points, invDelta)),
    }, opts.progress);

    // ---- contribution (section 10), as zkey_contribute.js makes it ---------------------------
    const seedBytes = keep(randomBytes(32));
    const rng = new I.ChaCha(Array.from({ length: 8 }, (_, i) => seedBytes.readUInt32BE(i * 4)));
    const transcriptHasher = blake2b512();
    transcriptHasher.update(csHash);
    const { g1_s, g1_sx, g2_spx, transcript } = deltaProof(curve, Z, transcriptHasher, rng, delta);
    await Z.zkeyUtils.writeMPCParams(fdZ, curve, {
      csHash,
      contributions: [{ deltaAfter: delta1, delta: { g1_s, g1_sx, g2_spx }, transcript, type: 0, name: opts.name ?? 'zkonnx fast setup (single party)' }],
    });
  } finally {
    if (fdZ) await fdZ.close();
  }
}
