// CPU reference, in BigInt, of G2: the twist E': y² = x³ + b' over Fq2 = Fq[u]/(u² + 1), with
// b' = 3/(9 + u). Textbook affine formulas, the complete projective ones exactly as the WGSL
// computes them (curve.ts), and ffjavascript's G2 byte layouts. Slow and obviously right.
import { completeFormulas, fromFFMont, mod, modInv, readLE, toFFMont, writeLE, type RefGroup } from './reference.js';

// ---------------------------------------------------------------------------------------------
// Fq2: c0 + c1·u, components canonical (0 ≤ c < p).

export type Fq2 = readonly [bigint, bigint];

export const FQ2_ZERO: Fq2 = [0n, 0n];
export const FQ2_ONE: Fq2 = [1n, 0n];
export const fq2 = (c0: bigint, c1 = 0n): Fq2 => [mod(c0), mod(c1)];
export const fq2Add = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];
export const fq2Sub = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] - b[0]), mod(a[1] - b[1])];
export const fq2Neg = (a: Fq2): Fq2 => [mod(-a[0]), mod(-a[1])];
export const fq2Mul = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
export const fq2Sqr = (a: Fq2): Fq2 => fq2Mul(a, a);
export const fq2Eq = (a: Fq2, b: Fq2): boolean => a[0] === b[0] && a[1] === b[1];
export const fq2IsZero = (a: Fq2): boolean => a[0] === 0n && a[1] === 0n;

/** 1/(c0 + c1·u) = (c0 − c1·u)/(c0² + c1²). */
export function fq2Inv(a: Fq2): Fq2 {
  const n = modInv(mod(a[0] * a[0] + a[1] * a[1]));
  return [mod(a[0] * n), mod(-a[1] * n)];
}

/** b' = 3/(9 + u). */
export const TWIST_B: Fq2 = fq2Mul(fq2(3n), fq2Inv(fq2(9n, 1n)));
/** 3·b' = 9/(9 + u) = (81 − 9u)/82. */
const B3: Fq2 = fq2Mul(fq2(3n), TWIST_B);

// ---------------------------------------------------------------------------------------------
// G2 points. Affine with null for the identity; projective (X : Y : Z), x = X/Z, y = Y/Z,
// identity (0 : 1 : 0).

export type Affine2 = { x: Fq2; y: Fq2 } | null;
export type Proj2 = { X: Fq2; Y: Fq2; Z: Fq2 };

/** BN254's standard G2 generator (EIP-197's, ffjavascript's curve.G2.g). */
export const G2_GENERATOR: Affine2 = {
  x: [
    10857046999023057135944570762232829481370756359578518086990519993285655852781n,
    11559732032986387107991004021392285783925812861821192530917403151452391805634n,
  ],
  y: [
    8495653923123431417604973247489272438418190587263600148770280649306958101930n,
    4082367875863433681332203403145435568316851327593401208105741076214120093531n,
  ],
};
export const PROJ2_ZERO: Proj2 = { X: FQ2_ZERO, Y: FQ2_ONE, Z: FQ2_ZERO };

export const onCurve2 = (a: Affine2): boolean =>
  a === null || fq2IsZero(fq2Sub(fq2Sqr(a.y), fq2Add(fq2Mul(fq2Sqr(a.x), a.x), TWIST_B)));

export const negAffine2 = (a: Affine2): Affine2 => (a === null ? null : { x: a.x, y: fq2Neg(a.y) });

/** Affine addition by the textbook chord-and-tangent cases. */
export function addAffine2(a: Affine2, b: Affine2): Affine2 {
  if (a === null) return b;
  if (b === null) return a;
  if (fq2Eq(a.x, b.x)) {
    if (fq2IsZero(fq2Add(a.y, b.y))) return null;
    return doubleAffine2(a);
  }
  const l = fq2Mul(fq2Sub(b.y, a.y), fq2Inv(fq2Sub(b.x, a.x)));
  const x = fq2Sub(fq2Sub(fq2Sqr(l), a.x), b.x);
  return { x, y: fq2Sub(fq2Mul(l, fq2Sub(a.x, x)), a.y) };
}

export function doubleAffine2(a: Affine2): Affine2 {
  if (a === null || fq2IsZero(a.y)) return null;
  const l = fq2Mul(fq2Mul(fq2(3n), fq2Sqr(a.x)), fq2Inv(fq2Add(a.y, a.y)));
  const x = fq2Sub(fq2Sqr(l), fq2Add(a.x, a.x));
  return { x, y: fq2Sub(fq2Mul(l, fq2Sub(a.x, x)), a.y) };
}

/** k·a by double-and-add; k is taken as is (not reduced mod r), so k = r checks the order. */
export function mulAffine2(a: Affine2, k: bigint): Affine2 {
  if (k < 0n) return mulAffine2(negAffine2(a), -k);
  let r: Affine2 = null;
  let q = a;
  while (k > 0n) {
    if (k & 1n) r = addAffine2(r, q);
    q = doubleAffine2(q);
    k >>= 1n;
  }
  return r;
}

export const toProj2 = (a: Affine2): Proj2 => (a === null ? { ...PROJ2_ZERO } : { X: a.x, Y: a.y, Z: FQ2_ONE });

export function projToAffine2(p: Proj2): Affine2 {
  if (fq2IsZero(p.Z)) return null;
  const zi = fq2Inv(p.Z);
  return { x: fq2Mul(p.X, zi), y: fq2Mul(p.Y, zi) };
}

export const projEq2 = (a: Proj2, b: Proj2): boolean => {
  const A = projToAffine2(a);
  const B = projToAffine2(b);
  return A === null || B === null ? A === B : fq2Eq(A.x, B.x) && fq2Eq(A.y, B.y);
};

const g2Formulas = completeFormulas<Fq2>({ add: fq2Add, sub: fq2Sub, mul: fq2Mul, mulB3: (a) => fq2Mul(B3, a), of: (k) => fq2(k), isZero: fq2IsZero });
/** RCB algorithm 7 over G2, as the WGSL computes it. */
export const addProj2 = g2Formulas.add;
/** RCB algorithm 8 over G2: mixed addition with an affine point that is not the identity. */
export const addMixed2 = g2Formulas.addMixed;
/** RCB algorithm 9 over G2. */
export const doubleProj2 = g2Formulas.double;

export const negProj2 = (p: Proj2): Proj2 => ({ X: p.X, Y: fq2Neg(p.Y), Z: p.Z });

export const G2_REF: RefGroup<{ x: Fq2; y: Fq2 }, Proj2> = {
  zero: () => ({ ...PROJ2_ZERO }),
  toProj: toProj2,
  add: addProj2,
  addMixed: addMixed2,
  double: doubleProj2,
  negAffine: (a) => negAffine2(a)!,
  eq: projEq2,
  toAffine: projToAffine2,
};

// ---------------------------------------------------------------------------------------------
// ffjavascript layouts: an Fq2 is c0 ‖ c1, each 32 bytes LE in ffjavascript's Montgomery form.

const writeFq2 = (buf: Uint8Array, off: number, a: Fq2): void => {
  writeLE(buf, off, toFFMont(a[0]));
  writeLE(buf, off + 32, toFFMont(a[1]));
};
const readFq2 = (buf: Uint8Array, off: number): Fq2 => [fromFFMont(readLE(buf, off)), fromFFMont(readLE(buf, off + 32))];

/** Affine G2 bases in ffjavascript's layout: n × 128 bytes (x.c0, x.c1, y.c0, y.c1), all zero for the identity. */
export function encodeBasesFF2(points: Affine2[]): Uint8Array {
  const out = new Uint8Array(points.length * 128);
  points.forEach((pt, i) => {
    if (pt === null) return;
    writeFq2(out, i * 128, pt.x);
    writeFq2(out, i * 128 + 64, pt.y);
  });
  return out;
}

export function decodeBasesFF2(buf: Uint8Array): Affine2[] {
  const out: Affine2[] = [];
  for (let o = 0; o < buf.length; o += 128) {
    const x = readFq2(buf, o);
    const y = readFq2(buf, o + 64);
    out.push(fq2IsZero(x) && fq2IsZero(y) ? null : { x, y });
  }
  return out;
}

/** A projective point as ffjavascript's 192-byte Jacobian (X·Z, Y·Z², Z); zero = (0, 1, 0). */
export function projToJacobianFF2(p: Proj2): Uint8Array {
  const out = new Uint8Array(192);
  if (fq2IsZero(p.Z)) {
    writeFq2(out, 64, FQ2_ONE);
    return out;
  }
  writeFq2(out, 0, fq2Mul(p.X, p.Z));
  writeFq2(out, 64, fq2Mul(p.Y, fq2Sqr(p.Z)));
  writeFq2(out, 128, p.Z);
  return out;
}

/** ffjavascript's 192-byte Jacobian (x = X/Z², y = Y/Z³) → affine. */
export function jacobianFF2ToAffine(buf: Uint8Array, off = 0): Affine2 {
  const X = readFq2(buf, off);
  const Y = readFq2(buf, off + 64);
  const Z = readFq2(buf, off + 128);
  if (fq2IsZero(Z)) return null;
  const zi = fq2Inv(Z);
  const zi2 = fq2Sqr(zi);
  return { x: fq2Mul(X, zi2), y: fq2Mul(fq2Mul(Y, zi2), zi) };
}
