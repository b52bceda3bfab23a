// Integer arithmetic shared by the quantizer, the fits and the executor: the exact rounding the
// circuit templates implement.
import type { RoundMode } from '../ir/graph.js';

/** Every |value| an equation in the circuit handles stays below this (p ≈ 2^253.6; p/2 > 2^252). */
export const FIELD_SAFE_BITS = 252;

/** Smallest n ≥ 0 with 2^n > v (v ≥ 0). */
export const bitlen = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length);
export const absBig = (v: bigint): bigint => (v < 0n ? -v : v);

/** Scale s such that maxabs·2^s ≤ 2^bits. */
export function scaleFor(maxabs: number, bits: number): number {
  return maxabs > 0 && Number.isFinite(maxabs) ? bits - Math.ceil(Math.log2(maxabs)) : bits;
}

/** x rounded to the nearest integer, ties to even (ONNX's Round, onnxruntime's nearbyint). */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
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

/** DivConst's `mode` parameter: the index of the mode here. */
export const ROUND_MODES: readonly RoundMode[] = ['floor', 'ceil', 'trunc', 'even'];

/**
 * DivConst's parameters (circuits/zkonnx.circom) for x / D rounded by `mode`, D ≥ 1: the offset
 * added before the floor division, and the correction after it (0: none; 1: toward zero, +1
 * where x < 0 and the remainder ≠ 0; 2: ties to even, −1 where the remainder is 0 and the
 * quotient odd). Round of an odd D has no ties; D = 1 has no fractions.
 */
export function divConstParams(mode: RoundMode, D: bigint): { off: bigint; fix: 0 | 1 | 2 } {
  switch (mode) {
    case 'floor': return { off: 0n, fix: 0 };
    case 'ceil': return { off: D - 1n, fix: 0 };
    case 'trunc': return { off: 0n, fix: D === 1n ? 0 : 1 };
    case 'even': return { off: D / 2n, fix: D % 2n === 0n ? 2 : 0 };
  }
}

/** x / D rounded by `mode` as DivConst computes it: f = floor((x + off) / D), q the rounded quotient. */
export function divConst(x: bigint, D: bigint, mode: RoundMode): { f: bigint; q: bigint } {
  const { off, fix } = divConstParams(mode, D);
  const f = floorDiv(x + off, D);
  const r = x + off - f * D;
  const q = fix === 1 && f < 0n && r !== 0n ? f + 1n : fix === 2 && r === 0n && (f & 1n) === 1n ? f - 1n : f;
  return { f, q };
}
