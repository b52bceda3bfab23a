// What every setup verification checks points with: random linear combinations (fresh 128-bit
// coefficients, so a wrong point passes with probability 2^−128, where snarkjs draws 32-bit ones)
// and one pairing equation for the sums.
import { randomBytes } from 'node:crypto';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** n canonical scalars of 32 bytes, the first `random` of them drawn at 128 bits, the rest 0. */
export function randomScalars(n: number, random = n): Uint8Array {
  const r = new Uint8Array(n * 32);
  const bits = randomBytes(random * 16);
  for (let i = 0; i < random; i++) r.set(bits.subarray(i * 16, i * 16 + 16), i * 32);
  return r;
}

/** e(a, d) = e(b, c), none of the four the point at infinity (snarkjs's misc.sameRatio). */
export async function sameRatio(curve: any, a: Uint8Array, b: Uint8Array, c: Uint8Array, d: Uint8Array): Promise<boolean> {
  if (curve.G1.isZero(a) || curve.G1.isZero(b) || curve.G2.isZero(c) || curve.G2.isZero(d)) return false;
  return curve.pairingEq(a, d, curve.G1.neg(b), c);
}

/** On the curve (G1 has cofactor 1, so that is the group). */
export const inG1 = (curve: any, p: Uint8Array): boolean => curve.G1.isValid(p);

/** On the twist and in its order-r subgroup (r·P = 0): pairing checks are meaningful only there. */
export const inG2 = (curve: any, p: Uint8Array): boolean => curve.G2.isValid(p) && curve.G2.isZero(curve.G2.timesScalar(p, curve.r));
