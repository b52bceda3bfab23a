// BN254's GLV endomorphism on G1, for multiplying many points by one scalar (kernels.ts scaleG1).
// φ(x, y) = (β·x, y) with β a cube root of unity in Fq acts on G1 as multiplication by λ, a cube
// root of unity in Fr. A scalar k splits as k ≡ k1 + k2·λ (mod r) with |k1|, |k2| ≈ √r, by the
// short lattice basis of {(a, b) : a + b·λ ≡ 0 (mod r)} that the extended Euclidean algorithm on
// (r, λ) gives (Gallant, Lambert, Vanstone, CRYPTO 2001, §4). Which of the two cube roots λ goes
// with β is fixed by `glvConstants` checking φ(G) = λ·G on the curve itself.
import { modPow } from '../../bigint.js';

export interface GlvConstants {
  r: bigint;
  q: bigint;
  beta: bigint;
  lambda: bigint;
  v1: [bigint, bigint];
  v2: [bigint, bigint];
}

/** A primitive cube root of unity mod a prime p ≡ 1 (mod 3). */
export function cubeRoot(p: bigint): bigint {
  for (let g = 2n; ; g++) {
    const w = modPow(g, (p - 1n) / 3n, p);
    if (w !== 1n) return w;
  }
}

/** The short basis of the lattice of (a, b) with a + b·λ ≡ 0 (mod r). */
export function shortBasis(r: bigint, lambda: bigint): { v1: [bigint, bigint]; v2: [bigint, bigint] } {
  const sqrt = sqrtFloor(r);
  // remainders r_i = s_i·r + t_i·λ, so (r_i, −t_i) is in the lattice
  let [r0, r1] = [r, lambda];
  let [t0, t1] = [0n, 1n];
  while (r1 >= sqrt) {
    const qt = r0 / r1;
    [r0, r1] = [r1, r0 - qt * r1];
    [t0, t1] = [t1, t0 - qt * t1];
  }
  // now r0 ≥ √r > r1: v1 = (r1, −t1); v2 the shorter of (r0, −t0) and the next one
  const qt = r0 / r1;
  const r2 = r0 - qt * r1;
  const t2 = t0 - qt * t1;
  const v1: [bigint, bigint] = [r1, -t1];
  const a: [bigint, bigint] = [r0, -t0];
  const b: [bigint, bigint] = [r2, -t2];
  const norm = (v: [bigint, bigint]): bigint => v[0] * v[0] + v[1] * v[1];
  return { v1, v2: norm(a) <= norm(b) ? a : b };
}

/** ⌊√n⌋ by Newton's iteration (from above, so it stops at the floor) */
function sqrtFloor(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** round(a / b) for b > 0 */
function divRound(a: bigint, b: bigint): bigint {
  return a >= 0n ? (2n * a + b) / (2n * b) : -((-2n * a + b) / (2n * b));
}

/** k ≡ k1 + k2·λ (mod r) with small k1, k2 (both below 2^128 in absolute value for BN254). */
export function decompose(k: bigint, c: GlvConstants): [bigint, bigint] {
  const [a1, b1] = c.v1;
  const [a2, b2] = c.v2;
  const det = a1 * b2 - a2 * b1;
  const s = det < 0n ? -1n : 1n;
  const c1 = divRound(s * b2 * k, s * det);
  const c2 = divRound(-s * b1 * k, s * det);
  const k1 = k - c1 * a1 - c2 * a2;
  const k2 = -c1 * b1 - c2 * b2;
  if ((((k1 + k2 * c.lambda - k) % c.r) + c.r) % c.r !== 0n) throw new Error('GLV decomposition does not recombine');
  const bound = 1n << 128n;
  if (k1 >= bound || -k1 >= bound || k2 >= bound || -k2 >= bound) throw new Error('GLV decomposition is not short');
  return [k1, k2];
}

/** Width-w NAF of k ≥ 0, least significant digit first; nonzero digits are odd, |d| < 2^(w−1). */
export function wnaf(k: bigint, w: number): Int8Array {
  const digits: number[] = [];
  const mod = 1n << BigInt(w);
  const half = mod >> 1n;
  while (k > 0n) {
    let d = 0n;
    if (k & 1n) {
      d = k % mod;
      if (d >= half) d -= mod;
      k -= d;
    }
    digits.push(Number(d));
    k >>= 1n;
  }
  return Int8Array.from(digits);
}
