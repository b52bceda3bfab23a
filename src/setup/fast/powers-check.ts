// The heavy half of `setup verify-ptau` (verify-ptau.ts): a powers section and its prepared
// (Lagrange) section checked with the powers of one random ρ ∈ Fr, on the CPU prover's MSM.
import { randomBytes } from 'node:crypto';
import { cpuMsm } from '../../prover/cpu/msm.js';
import { firstOffCurve } from './on-curve.js';
import { readRange } from './read-range.js';
import type { Blake2bHasher } from './snarkjs-internals.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Points read and combined at a time: 64 MiB of G1, 128 MiB of G2. */
const CHUNK = 1 << 20;
/** Lagrange levels up to 2^SMALL points are checked together (an MSM call costs ~6 ms however small). */
const SMALL = 10;
export type Group = 'G1' | 'G2';

/** A run of points in the open ptau file, read and combined CHUNK points at a time. */
export class PointSection {
  readonly size: number;
  /** the index of the first point read that is not on the curve (on the twist, for G2) */
  offCurve?: number;
  /** `advance`: told how many points each MSM chunk has combined (a progress bar) */
  constructor(readonly raw: number, readonly file: string, readonly pos: number, readonly group: Group, readonly n: number, readonly curve: any, readonly advance?: (points: number) => void) {
    this.size = curve[group].F.n8 * 2;
  }

  read(from: number, count: number): Uint8Array {
    return readRange(this.raw, this.pos + from * this.size, count * this.size, this.file);
  }

  point(i: number): Uint8Array {
    return this.curve[this.group].fromRprLEM(this.read(i, 1), 0);
  }

  /** Σ scalarsᵢ·P_(from+i) over the scalars given (32 bytes each, canonical); `seen` gets the points in order. */
  async msm(from: number, scalars: Uint8Array, seen?: (points: Uint8Array) => Promise<void>): Promise<Uint8Array> {
    const G = this.curve[this.group];
    let acc = G.zero;
    const count = scalars.byteLength / 32;
    for (let i = 0; i < count; i += CHUNK) {
      const m = Math.min(CHUNK, count - i);
      const points = this.read(from + i, m);
      await seen?.(points);
      const [sum, bad] = await Promise.all([cpuMsm(G, this.group, points, scalars.subarray(i * 32, (i + m) * 32)), firstOffCurve(this.curve, this.group, points)]);
      if (bad >= 0 && (this.offCurve === undefined || from + i + bad < this.offCurve)) this.offCurve = from + i + bad;
      acc = G.add(acc, sum);
      this.advance?.(m);
    }
    return acc;
  }
}

/**
 * A powers section T (n points) and its prepared section L (levels 0..top, level p the 2^p points
 * from 2^p − 1), checked with the powers of one random ρ ∈ Fr:
 *  - Sₚ = Σ_{j < 2^p} ρ^j·Tⱼ for every level, one MSM over T in ranges [2^(p−1), 2^p), the
 *    points hashed on the way;
 *  - consecutive powers: R1 = Σ_{j<n−1} ρ^j·Tⱼ = S − ρ^(n−1)·T_(n−1) and
 *    R2 = Σ_{j<n−1} ρ^j·Tⱼ₊₁ = (S − T₀)/ρ must be in the ratio τ (`ratio`): if some Tⱼ₊₁ ≠ τ·Tⱼ
 *    that is a nonzero polynomial in ρ of degree < n, zero with probability < n/r < 2^−225;
 *  - level p, domain m = 2^p, ω = ω_m: L = IFFT(T₀..T_(m−1)) exactly when
 *    Σᵢ λᵢ·Lᵢ = Sₚ with λᵢ = Σⱼ ρ^j·ω^(ij) = (1 − ρ^m)/(1 − ρ·ω^i) (a polynomial in ρ again).
 *    One batched inversion of 1 − ρ·ω_M^k for the top level M serves all (ω_m^i = ω_M^(i·M/m)).
 * All scalars are full width; the τ side is one MSM for the three checks (snarkjs: two MSMs of
 * 32-bit coefficients, then for every level an FFT and two MSMs).
 */
export async function checkPowers(T: PointSection, L: PointSection | undefined, top: number, ratio: (R1: Uint8Array, R2: Uint8Array) => Promise<boolean>, hasher?: Blake2bHasher): Promise<{ first: Uint8Array; second: Uint8Array; consecutive: boolean; badLevels: number[] }> {
  const { Fr } = T.curve;
  const G = T.curve[T.group];
  const rho = randomFr(Fr);
  const first = T.point(0);
  const second = T.point(1);
  const lastPoint = T.point(T.n - 1);
  const powersOf = async (x: Uint8Array, n: number): Promise<Uint8Array> => Fr.batchApplyKey(ones(Fr, n), Fr.one, x); // x^j, Montgomery
  const pw: Uint8Array = await Fr.batchFromMontgomery(await powersOf(rho, T.n));
  const seen = hasher && (async (points: Uint8Array) => void hasher.update(await G.batchLEMtoU(points)));
  // Sₚ by ranges; the small levels (≤ 2^SMALL points) share the first range and are checked together
  const small = L ? Math.min(top, SMALL) : top;
  const head = Math.min(2 ** small, T.n);
  const prefix: Uint8Array[] = [];
  let S: Uint8Array = await T.msm(0, pw.subarray(0, head * 32), seen);
  prefix[small] = S;
  for (let p = small + 1, from = head; from < T.n; p++) {
    const to = Math.min(2 ** p, T.n);
    S = G.add(S, await T.msm(from, pw.subarray(from * 32, to * 32), seen));
    from = to;
    prefix[p] = S;
  }
  const R1 = G.sub(S, G.timesFr(lastPoint, Fr.exp(rho, T.n - 1)));
  const R2 = G.timesFr(G.sub(S, first), Fr.inv(rho));
  const consecutive = await ratio(R1, R2);
  const badLevels: number[] = [];
  if (!L) return { first, second, consecutive, badLevels };

  const M = 2 ** top;
  const inv: Uint8Array = await Fr.batchInverse(subFr(Fr, Fr.one, await Fr.batchApplyKey(ones(Fr, M), rho, Fr.w[top]))); // 1/(1 − ρ·ω_M^k)
  /** level p's λ times `scale` (Montgomery), as canonical scalars */
  const lambda = async (p: number, scale: Uint8Array): Promise<Uint8Array> => {
    const m = 2 ** p;
    const stride = M / m;
    const gathered = new Uint8Array(m * 32);
    for (let i = 0; i < m; i++) gathered.set(inv.subarray(i * stride * 32, i * stride * 32 + 32), i * 32);
    let l: Uint8Array = await Fr.batchApplyKey(gathered, Fr.mul(scale, Fr.sub(Fr.one, Fr.exp(rho, m))), Fr.one);
    // section 12's top level has one power more than section 2: leave out its last coordinate
    // (λᵢ − ρ^(m−1)·ω^(−i)), whatever prepare phase2 put there (a zero point; truncate copies a
    // bigger ceremony's real τ^(m−1)), as snarkjs does
    if (m > T.n) l = subFr(Fr, l, await Fr.batchApplyKey(ones(Fr, m), Fr.mul(scale, Fr.exp(rho, m - 1)), Fr.inv(Fr.w[p])));
    return Fr.batchFromMontgomery(l);
  };
  const levelOk = async (p: number, Sp: Uint8Array): Promise<boolean> => G.eq(await L.msm(2 ** p - 1, await lambda(p, Fr.one)), Sp);
  // levels 0..small at once: Σₚ μₚ·(Σᵢ λᵢ·Lᵢ − Sₚ) = 0 for random μₚ ∈ Fr, where
  // Σₚ μₚ·Sₚ = Σⱼ ρ^j·(Σ_{p: j < 2^p} μₚ)·Tⱼ; if it fails, each level alone names the wrong ones
  const mu = Array.from({ length: small + 1 }, () => randomFr(Fr));
  const lScalars = new Uint8Array((2 ** (small + 1) - 1) * 32);
  for (let p = 0; p <= small; p++) lScalars.set(await lambda(p, mu[p]!), (2 ** p - 1) * 32);
  const tScalars = new Uint8Array(head * 32);
  let weight = Fr.zero;
  for (let q = small; q >= 0; q--) {
    weight = Fr.add(weight, mu[q]!);
    const from = q ? 2 ** (q - 1) : 0;
    const to = Math.min(2 ** q, T.n);
    if (to > from) tScalars.set(await Fr.batchFromMontgomery(await Fr.batchApplyKey(ones(Fr, to - from), Fr.mul(weight, Fr.exp(rho, from)), rho)), from * 32);
  }
  if (!G.eq(await L.msm(0, lScalars), await T.msm(0, tScalars))) {
    for (let p = 0; p <= small; p++) {
      if (!(await levelOk(p, await T.msm(0, pw.subarray(0, Math.min(2 ** p, T.n) * 32))))) badLevels.push(p);
    }
  }
  for (let p = small + 1; p <= top; p++) if (!(await levelOk(p, prefix[p]!))) badLevels.push(p);
  return { first, second, consecutive, badLevels };
}

/** A uniform element of Fr (512 random bits reduced mod r: bias 2^−258), Montgomery form. */
function randomFr(Fr: any): Uint8Array {
  return Fr.e(BigInt(`0x${randomBytes(64).toString('hex')}`));
}

/** n copies of Fr's one (Montgomery form). */
function ones(Fr: any, n: number): Uint8Array {
  const b = new Uint8Array(n * 32);
  b.set(Fr.one, 0);
  for (let filled = 32; filled < b.byteLength; filled *= 2) b.copyWithin(filled, 0, Math.min(filled, b.byteLength - filled));
  return b;
}

/** a − b for Montgomery elements, elementwise (`a` of one element: the same for all), r added where it borrows. */
function subFr(Fr: any, a: Uint8Array, b: Uint8Array): Uint8Array {
  const words = (x: Uint8Array) => new Uint32Array(x.slice().buffer);
  const r = words(new Uint8Array(Buffer.from(BigInt(Fr.p).toString(16).padStart(64, '0'), 'hex').reverse()));
  const as = words(a);
  const bs = words(b);
  const step = as.length === 8 ? 0 : 8;
  const out = new Uint32Array(bs.length);
  for (let e = 0, ea = 0; e < bs.length; e += 8, ea += step) {
    let borrow = 0;
    for (let w = 0; w < 8; w++) {
      const d = as[ea + w]! - bs[e + w]! - borrow;
      out[e + w] = d >>> 0;
      borrow = d < 0 ? 1 : 0;
    }
    if (borrow) {
      let carry = 0;
      for (let w = 0; w < 8; w++) {
        const t = out[e + w]! + r[w]! + carry;
        out[e + w] = t >>> 0;
        carry = t > 0xffffffff ? 1 : 0;
      }
    }
  }
  return new Uint8Array(out.buffer);
}
