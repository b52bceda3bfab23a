// CPU reference for the GPU NTT stages (BigInt, BN254 Fr): the radix-2 NTT and its inverse, the
// coset shift, and the Groth16 quotient exactly as snarkjs computes it (iFFT, multiply coefficient
// i by inc^i, FFT, A·B − C). Slow and obvious on purpose: the WGSL kernels are checked against it.
//
// Roots of unity are ffjavascript's, not merely "a" root: Fr.w[k] = nqr^((r−1)/2^28) squared
// 28−k times, nqr = the smallest quadratic non-residue (5 for BN254 Fr), and Fr.shift = nqr².
// A different primitive root would give a different (still valid-looking) H, and a wrong proof.

/** The BN254 scalar field modulus r. */
export const FR_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** 2-adicity of r − 1: the largest NTT domain is 2^28. */
export const FR_TWO_ADICITY = 28;

const R = FR_MODULUS;
/** ffjavascript's Montgomery radix for Fr: 2^256. */
const FF_MONT_R = (1n << 256n) % R;

export const frAdd = (a: bigint, b: bigint): bigint => (a + b) % R;
export const frSub = (a: bigint, b: bigint): bigint => (a - b + R) % R;
export const frMul = (a: bigint, b: bigint): bigint => (a * b) % R;

export function frPow(base: bigint, exp: bigint | number): bigint {
  let e = BigInt(exp);
  let b = base % R;
  let acc = 1n;
  while (e > 0n) {
    if (e & 1n) acc = (acc * b) % R;
    b = (b * b) % R;
    e >>= 1n;
  }
  return acc;
}

/** Inverse by Fermat (r is prime); `a` must be non-zero. */
export function frInv(a: bigint): bigint {
  if (a % R === 0n) throw new RangeError('frInv: zero has no inverse');
  return frPow(a, R - 2n);
}

/** ffjavascript's quadratic non-residue: the first of 2, 3, … with a^((r−1)/2) ≠ 1. */
const NQR = (() => {
  let q = 2n;
  while (frPow(q, (R - 1n) / 2n) === 1n) q++;
  return q;
})();

/** ffjavascript's Fr.shift: the coset generator used when no 2^(power+1)-th root exists. */
export const FR_SHIFT = (NQR * NQR) % R;

const ROOTS: bigint[] = (() => {
  const w: bigint[] = [];
  w[FR_TWO_ADICITY] = frPow(NQR, (R - 1n) >> BigInt(FR_TWO_ADICITY));
  for (let i = FR_TWO_ADICITY - 1; i >= 0; i--) w[i] = (w[i + 1]! * w[i + 1]!) % R;
  return w;
})();

/** Fr.w[bits]: ffjavascript's primitive 2^bits-th root of unity. */
export function rootOfUnity(bits: number): bigint {
  if (!Number.isInteger(bits) || bits < 0 || bits > FR_TWO_ADICITY) throw new RangeError(`rootOfUnity: bits must be in [0, ${FR_TWO_ADICITY}], got ${bits}`);
  return ROOTS[bits]!;
}

/** The coset generator snarkjs's prover uses for a domain of 2^power: Fr.w[power+1], or Fr.shift at power 28. */
export function quotientCosetShift(power: number): bigint {
  return power === FR_TWO_ADICITY ? FR_SHIFT : rootOfUnity(power + 1);
}

export function log2Exact(n: number): number {
  const bits = Math.log2(n);
  if (!Number.isInteger(bits)) throw new RangeError(`length must be a power of two, got ${n}`);
  return bits;
}

/** bitrev of i on `bits` bits. */
export function bitReverse(i: number, bits: number): number {
  let r = 0;
  for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
  return r >>> 0;
}

/**
 * Forward NTT, natural order in and out: out[j] = Σ_i x[i]·ω^(ij), ω = Fr.w[log2 n]
 * (ffjavascript's Fr.fft). `inverse` uses ω^−1 and multiplies by 1/n (Fr.ifft).
 */
export function ntt(x: readonly bigint[], inverse = false): bigint[] {
  const n = x.length;
  const bits = log2Exact(n);
  const a = new Array<bigint>(n);
  for (let i = 0; i < n; i++) a[bitReverse(i, bits)] = x[i]! % R;
  for (let s = 1; s <= bits; s++) {
    const half = 1 << (s - 1);
    const wm = inverse ? frInv(rootOfUnity(s)) : rootOfUnity(s);
    // Powers of wm for this stage, shared by every block.
    const tw = new Array<bigint>(half);
    tw[0] = 1n;
    for (let k = 1; k < half; k++) tw[k] = (tw[k - 1]! * wm) % R;
    for (let blk = 0; blk < n; blk += 2 * half) {
      for (let k = 0; k < half; k++) {
        const u = a[blk + k]!;
        const t = (a[blk + k + half]! * tw[k]!) % R;
        a[blk + k] = (u + t) % R;
        a[blk + k + half] = (u - t + R) % R;
      }
    }
  }
  if (inverse) {
    const nInv = frInv(BigInt(n));
    for (let i = 0; i < n; i++) a[i] = (a[i]! * nInv) % R;
  }
  return a;
}

export const intt = (x: readonly bigint[]): bigint[] => ntt(x, true);

/** Multiplies coefficient i by g^i (ffjavascript's batchApplyKey(buff, 1, g)). */
export function cosetScale(coeffs: readonly bigint[], g: bigint): bigint[] {
  const out = new Array<bigint>(coeffs.length);
  let gi = 1n;
  for (let i = 0; i < coeffs.length; i++) {
    out[i] = (coeffs[i]! * gi) % R;
    gi = (gi * g) % R;
  }
  return out;
}

/** Evaluations of the polynomial with these coefficients on the coset g·⟨ω⟩: NTT of cosetScale. */
export const cosetNtt = (coeffs: readonly bigint[], g: bigint): bigint[] => ntt(cosetScale(coeffs, g));

/** p(x) by Horner: the O(n²) check for NTTs at small n. */
export function evaluate(coeffs: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let i = coeffs.length - 1; i >= 0; i--) acc = (acc * x + coeffs[i]!) % R;
  return acc;
}

/**
 * snarkjs's quotient evaluations (groth16_prove.js): for each of A, B, C (evaluations on the
 * domain of 2^power, canonical) iFFT, shift to the coset inc·⟨ω⟩, FFT; then A'·B' − C'.
 */
export function quotientReference(a: readonly bigint[], b: readonly bigint[], c: readonly bigint[], power: number): bigint[] {
  if (a.length !== 1 << power || b.length !== a.length || c.length !== a.length) {
    throw new RangeError(`quotientReference: expected 3 × ${1 << power} values, got ${a.length}, ${b.length}, ${c.length}`);
  }
  const inc = quotientCosetShift(power);
  const [ao, bo, co] = [a, b, c].map((v) => cosetNtt(intt(v), inc)) as [bigint[], bigint[], bigint[]];
  return ao.map((x, i) => (x * bo[i]! - co[i]! + R * R) % R);
}

// ---- byte layouts (ffjavascript: 32 bytes little-endian per element) ----

/** 32-byte little-endian words → canonical values; `montgomery`: the bytes hold x·2^256 mod r. */
export function frFromBytes(bytes: Uint8Array, montgomery: boolean): bigint[] {
  if (bytes.length % 32 !== 0) throw new RangeError(`frFromBytes: ${bytes.length} bytes is not a whole number of 32-byte elements`);
  const out = new Array<bigint>(bytes.length / 32);
  const rInv = montgomery ? frInv(FF_MONT_R) : 1n;
  for (let i = 0; i < out.length; i++) {
    let v = 0n;
    for (let j = 31; j >= 0; j--) v = (v << 8n) | BigInt(bytes[i * 32 + j]!);
    out[i] = montgomery ? (v * rInv) % R : v;
  }
  return out;
}

/** Canonical values → 32-byte little-endian words, in ffjavascript Montgomery form if asked. */
export function frToBytes(values: readonly bigint[], montgomery: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 32);
  for (let i = 0; i < values.length; i++) {
    let v = montgomery ? (((values[i]! % R) + R) % R * FF_MONT_R) % R : ((values[i]! % R) + R) % R;
    for (let j = 0; j < 32; j++) {
      out[i * 32 + j] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  return out;
}
