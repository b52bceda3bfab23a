// Scalars as u32 words, 8 a scalar (canonical mod r, little-endian, as in a .wtns file): the fold
// to a magnitude, for the prover's choice of MSMs (groth16.ts fitsBits); the wasm MSMs fold the
// same way in WebAssembly (cpu/wasm-scalars.ts sc_fold). A quantized model's negative values are
// r − |s|: they cost, and count, as |s|.
import { BN254_R } from '../circom/r1cs.js';

const words = (x: bigint) => Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(32 * i)) & 0xffffffffn));
const R = words(BN254_R);
const HALF = words(BN254_R >> 1n);

/** Writes |s| of the scalar at sw[s … s + 8) to out[o … o + 8): s, or r − s where s > r/2 (then returns true). */
export function foldScalar(sw: Uint32Array, s: number, out: Uint32Array, o: number): boolean {
  let j = 7;
  while (j > 0 && sw[s + j] === HALF[j]) j--;
  if (sw[s + j]! > HALF[j]!) {
    let borrow = 0;
    for (let w = 0; w < 8; w++) {
      const d = R[w]! - sw[s + w]! - borrow;
      out[o + w] = d >>> 0;
      borrow = d < 0 ? 1 : 0;
    }
    return true;
  }
  for (let w = 0; w < 8; w++) out[o + w] = sw[s + w]!;
  return false;
}

/** Bits of the 8-word value at x[o …] (0 for zero). */
export function wordBits(x: Uint32Array, o: number): number {
  let hi = 7;
  while (hi > 0 && x[o + hi] === 0) hi--;
  return x[o + hi] ? hi * 32 + 32 - Math.clz32(x[o + hi]!) : 0;
}
