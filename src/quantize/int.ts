// Integer arithmetic shared by the quantizer, the fits and the executor: the exact rounding the
// circuit templates implement.

/** Every |value| an equation in the circuit handles stays below this (p ≈ 2^253.6; p/2 > 2^252). */
export const FIELD_SAFE_BITS = 252;

/** Smallest n ≥ 0 with 2^n > v (v ≥ 0). */
export const bitlen = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length);
export const absBig = (v: bigint): bigint => (v < 0n ? -v : v);

/** Scale s such that maxabs·2^s ≤ 2^bits. */
export function scaleFor(maxabs: number, bits: number): number {
  return maxabs > 0 && Number.isFinite(maxabs) ? bits - Math.ceil(Math.log2(maxabs)) : bits;
}

export function roundBig(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`cannot quantize ${x}`);
  return BigInt(Math.round(x));
}

export function floorDiv(a: bigint, d: bigint): bigint {
  const q = a / d;
  return a % d !== 0n && (a < 0n) !== (d < 0n) ? q - 1n : q;
}

/** q = floor((acc + 2^(k−1)) / 2^k), the circuit's rounding (half up). */
export function rescale(acc: bigint, k: number): bigint {
  return k === 0 ? acc : floorDiv(acc + (1n << BigInt(k - 1)), 1n << BigInt(k));
}

/** round(a / b) half up, for b > 0: floor((2a + b) / 2b). */
export function divRound(a: bigint, b: bigint): bigint {
  return floorDiv(2n * a + b, 2n * b);
}

/** floor(√n) for n ≥ 0 (Newton's method from above: exact for any size). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`isqrt of a negative value ${n}`);
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2)); // ≥ √n
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
