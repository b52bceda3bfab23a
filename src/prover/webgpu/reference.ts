// CPU reference, in BigInt, of every GPU stage: field arithmetic, G1 formulas (affine and the
// complete projective ones the WGSL uses), the signed-window digits, bucket sums, window
// reductions, and a naive MSM. Slow and obviously right; tests and the debug mode compare the
// kernels' buffers with it.
import { FIELD_MODULI, type FieldName } from './wgsl/field.js';
import { modPow } from '../../bigint.js';

export const P = FIELD_MODULI.fq;
export const R = FIELD_MODULI.fr;

export const mod = (a: bigint, m: bigint = P): bigint => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

export { modPow };

export const modInv = (a: bigint, m: bigint = P): bigint => {
  if (mod(a, m) === 0n) throw new RangeError('inverse of zero');
  return modPow(a, m - 2n, m);
};

/** Field operations mod p for `f`, on canonical bigints. */
export function refField(f: FieldName) {
  const p = FIELD_MODULI[f];
  return {
    p,
    add: (a: bigint, b: bigint) => mod(a + b, p),
    sub: (a: bigint, b: bigint) => mod(a - b, p),
    mul: (a: bigint, b: bigint) => mod(a * b, p),
    neg: (a: bigint) => mod(-a, p),
    inv: (a: bigint) => modInv(a, p),
  };
}

// ---------------------------------------------------------------------------------------------
// G1: y² = x³ + 3 over Fq. Affine points with null for the identity; projective (X : Y : Z)
// with x = X/Z, y = Y/Z and identity (0 : 1 : 0); Jacobian (X, Y, Z) with x = X/Z², y = Y/Z³.

export type Affine = { x: bigint; y: bigint } | null;
export type Proj = { X: bigint; Y: bigint; Z: bigint };

export const G1_GENERATOR: Affine = { x: 1n, y: 2n };
export const PROJ_ZERO: Proj = { X: 0n, Y: 1n, Z: 0n };
const B3 = 9n; // 3·b

export const onCurve = (a: Affine): boolean => a === null || mod(a.y * a.y - a.x * a.x * a.x - 3n) === 0n;

export const negAffine = (a: Affine): Affine => (a === null ? null : { x: a.x, y: mod(-a.y) });

/** Affine addition by the textbook chord-and-tangent cases. */
export function addAffine(a: Affine, b: Affine): Affine {
  if (a === null) return b;
  if (b === null) return a;
  if (a.x === b.x) {
    if (mod(a.y + b.y) === 0n) return null;
    return doubleAffine(a);
  }
  const l = mod((b.y - a.y) * modInv(mod(b.x - a.x)));
  const x = mod(l * l - a.x - b.x);
  return { x, y: mod(l * (a.x - x) - a.y) };
}

export function doubleAffine(a: Affine): Affine {
  if (a === null || a.y === 0n) return null;
  const l = mod(3n * a.x * a.x * modInv(mod(2n * a.y)));
  const x = mod(l * l - 2n * a.x);
  return { x, y: mod(l * (a.x - x) - a.y) };
}

export function mulAffine(a: Affine, k: bigint): Affine {
  let r: Affine = null;
  let q = a;
  k = mod(k, R);
  while (k > 0n) {
    if (k & 1n) r = addAffine(r, q);
    q = doubleAffine(q);
    k >>= 1n;
  }
  return r;
}

export const toProj = (a: Affine): Proj => (a === null ? { ...PROJ_ZERO } : { X: a.x, Y: a.y, Z: 1n });

export function projToAffine(p: Proj): Affine {
  if (mod(p.Z) === 0n) return null;
  const zi = modInv(p.Z);
  return { x: mod(p.X * zi), y: mod(p.Y * zi) };
}

export const projEq = (a: Proj, b: Proj): boolean => {
  const A = projToAffine(a);
  const B = projToAffine(b);
  return A === null || B === null ? A === B : A.x === B.x && A.y === B.y;
};

/** The field operations the complete formulas need: Fq for G1 (below), Fq2 for G2 (reference-g2.ts). */
export interface FormulaField<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** Times 3·b, the curve's constant. */
  mulB3(a: T): T;
  /** A small integer of the field. */
  of(k: bigint): T;
  isZero(a: T): boolean;
}

/**
 * Extended Jacobian ("XYZZ") coordinates: x = X/ZZ, y = Y/ZZZ with ZZ³ = ZZZ²; the identity has
 * ZZ = 0. Where the MSM's buckets add affine bases one after another, a mixed addition costs
 * 8M + 2S here against 11M + 2·m(3b) for the complete projective one.
 */
export type Xyzz<T> = { X: T; Y: T; ZZ: T; ZZZ: T };

/**
 * Renes–Costello–Batina 2016, algorithms 7 (complete addition), 8 (mixed, the affine operand
 * not the identity) and 9 (doubling) for a = 0, step for step as curve.ts's WGSL template: one
 * text for both groups, so a slip in either shows in the coordinate-exact kernel tests.
 */
export function completeFormulas<T>(F: FormulaField<T>) {
  type Pt = { X: T; Y: T; Z: T };
  const { add, sub, mul, mulB3 } = F;
  // the steps algorithms 7 and 8 end with (curve.ts's `add_end`)
  const end = (x1x2: T, t1: T, t2: T, t3: T, t4: T, Y3: T): Pt => {
    let t0 = x1x2;
    let X3 = add(t0, t0);
    t0 = add(X3, t0);
    t2 = mulB3(t2);
    let Z3 = add(t1, t2);
    t1 = sub(t1, t2);
    Y3 = mulB3(Y3);
    X3 = mul(t4, Y3);
    t2 = mul(t3, t1);
    X3 = sub(t2, X3);
    Y3 = mul(Y3, t0);
    t1 = mul(t1, Z3);
    Y3 = add(t1, Y3);
    t0 = mul(t0, t3);
    Z3 = mul(Z3, t4);
    Z3 = add(Z3, t0);
    return { X: X3, Y: Y3, Z: Z3 };
  };
  const one = F.of(1n);
  return {
    xyzzFromAffine: (q: { x: T; y: T }): Xyzz<T> => ({ X: q.x, Y: q.y, ZZ: one, ZZZ: one }),
    /**
     * p + q, q affine and not the identity (madd-2008-s), step for step as curve.ts's WGSL: p = q
     * through the same products as dbl-2008-s-1 (P = 2·Y1, R = 3·X1², X3 without PPP), p = −q
     * gives ZZ = 0 by the formula, p the identity is replaced by q.
     */
    addMixedXyzz(p: Xyzz<T>, q: { x: T; y: T }): Xyzz<T> {
      const pd0 = sub(mul(q.x, p.ZZ), p.X);
      const r0 = sub(mul(q.y, p.ZZZ), p.Y);
      const dbl = F.isZero(pd0) && F.isZero(r0);
      const xx = dbl ? mul(p.X, p.X) : undefined;
      const P = dbl ? add(p.Y, p.Y) : pd0;
      const R = xx !== undefined ? add(add(xx, xx), xx) : r0;
      const PP = mul(P, P);
      const PPP = mul(P, PP);
      const Q = mul(p.X, PP);
      let X3 = sub(mul(R, R), add(Q, Q));
      if (!dbl) X3 = sub(X3, PPP);
      const out = { X: X3, Y: sub(mul(R, sub(Q, X3)), mul(p.Y, PPP)), ZZ: mul(p.ZZ, PP), ZZZ: mul(p.ZZZ, PPP) };
      return F.isZero(p.ZZ) ? { X: q.x, Y: q.y, ZZ: one, ZZZ: one } : out;
    },
    /** To homogeneous projective: (X·ZZZ : Y·ZZ : ZZ·ZZZ), the identity (0 : 1 : 0). */
    xyzzToProj(p: Xyzz<T>): Pt {
      if (F.isZero(p.ZZ)) return { X: F.of(0n), Y: one, Z: F.of(0n) };
      return { X: mul(p.X, p.ZZZ), Y: mul(p.Y, p.ZZ), Z: mul(p.ZZ, p.ZZZ) };
    },
    add(p: Pt, q: Pt): Pt {
      const { X: X1, Y: Y1, Z: Z1 } = p;
      const { X: X2, Y: Y2, Z: Z2 } = q;
      const t0 = mul(X1, X2);
      const t1 = mul(Y1, Y2);
      const t2 = mul(Z1, Z2);
      let t3 = mul(add(X1, Y1), add(X2, Y2));
      let t4 = add(t0, t1);
      t3 = sub(t3, t4);
      t4 = mul(add(Y1, Z1), add(Y2, Z2));
      let X3 = add(t1, t2);
      t4 = sub(t4, X3);
      X3 = mul(add(X1, Z1), add(X2, Z2));
      const Y3 = sub(X3, add(t0, t2));
      return end(t0, t1, t2, t3, t4, Y3);
    },
    addMixed(p: Pt, q: { x: T; y: T }): Pt {
      const { X: X1, Y: Y1, Z: Z1 } = p;
      const { x: X2, y: Y2 } = q;
      const t0 = mul(X1, X2);
      const t1 = mul(Y1, Y2);
      let t3 = mul(add(X2, Y2), add(X1, Y1));
      const t4 = add(t0, t1);
      t3 = sub(t3, t4);
      return end(t0, t1, Z1, t3, add(mul(Y2, Z1), Y1), add(mul(X2, Z1), X1)); // Z2 = 1
    },
    double(p: Pt): Pt {
      const { X, Y, Z } = p;
      let t0 = mul(Y, Y);
      let Z3 = mul(F.of(8n), t0);
      let t1 = mul(Y, Z);
      let t2 = mulB3(mul(Z, Z));
      let X3 = mul(t2, Z3);
      let Y3 = add(t0, t2);
      Z3 = mul(t1, Z3);
      t1 = add(t2, t2);
      t2 = add(t1, t2);
      t0 = sub(t0, t2);
      Y3 = add(X3, mul(t0, Y3));
      t1 = mul(X, Y);
      X3 = mul(t0, t1);
      X3 = add(X3, X3);
      return { X: X3, Y: Y3, Z: Z3 };
    },
  };
}

const g1Formulas = completeFormulas<bigint>({
  add: (a, b) => mod(a + b),
  sub: (a, b) => mod(a - b),
  mul: (a, b) => mod(a * b),
  mulB3: (a) => mod(B3 * a),
  of: (k) => mod(k),
  isZero: (a) => a === 0n,
});
/** RCB algorithm 7 over G1. */
export const addProj = g1Formulas.add;
/** RCB algorithm 8 over G1: mixed addition with an affine point that is not the identity. */
export const addMixed = g1Formulas.addMixed;
/** RCB algorithm 9 over G1. */
export const doubleProj = g1Formulas.double;
/** XYZZ mixed addition over G1 and its conversions (the MSM's first accumulation level). */
export const { xyzzFromAffine, addMixedXyzz, xyzzToProj } = g1Formulas;

export const negProj = (p: Proj): Proj => ({ X: p.X, Y: mod(-p.Y), Z: p.Z });

/** k·p by double-and-add (k ≥ 0), projective. */
export function mulProj(p: Proj, k: bigint): Proj {
  let r: Proj = { ...PROJ_ZERO };
  for (let i = k.toString(2).length - 1; i >= 0 && k > 0n; i--) {
    r = doubleProj(r);
    if ((k >> BigInt(i)) & 1n) r = addProj(r, p);
  }
  return r;
}

/** Σ k_i·P_i, one scalar multiplication at a time. */
export function naiveMsm(bases: Affine[], scalars: bigint[]): Proj {
  let acc: Proj = { ...PROJ_ZERO };
  bases.forEach((b, i) => {
    acc = addProj(acc, mulProj(toProj(b), mod(scalars[i]!, R)));
  });
  return acc;
}

/**
 * The point operations the Pippenger stages below need: G1 here (`G1_REF`), G2 in
 * reference-g2.ts (`G2_REF`). `A` is an affine point (null: the identity), `Pr` a projective one;
 * add, addMixed and double are the complete formulas exactly as the WGSL computes them.
 */
export interface RefGroup<A, Pr> {
  /** The projective identity. */
  zero(): Pr;
  toProj(a: A | null): Pr;
  add(p: Pr, q: Pr): Pr;
  /** q is not the identity. */
  addMixed(p: Pr, q: A): Pr;
  double(p: Pr): Pr;
  negAffine(a: A): A;
  /** Equal as points (any projective representatives). */
  eq(p: Pr, q: Pr): boolean;
  /** The affine point (null: the identity). */
  toAffine(p: Pr): A | null;
}

export const G1_REF: RefGroup<{ x: bigint; y: bigint }, Proj> = {
  zero: () => ({ ...PROJ_ZERO }),
  toProj,
  add: addProj,
  addMixed,
  double: doubleProj,
  negAffine: (a) => negAffine(a)!,
  eq: projEq,
  toAffine: projToAffine,
};

// ---------------------------------------------------------------------------------------------
// ffjavascript byte layouts (32-byte LE, Montgomery = x·2^256 mod p)

const R256 = 1n << 256n;

export function readLE(buf: Uint8Array, off: number, len = 32): bigint {
  let x = 0n;
  for (let i = len - 1; i >= 0; i--) x = (x << 8n) | BigInt(buf[off + i]!);
  return x;
}

export function writeLE(buf: Uint8Array, off: number, x: bigint, len = 32): void {
  for (let i = 0; i < len; i++) {
    buf[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

const R256_INV_P = modInv(R256 % P, P);
export const fromFFMont = (x: bigint): bigint => mod(x * R256_INV_P);
export const toFFMont = (x: bigint): bigint => mod(x * R256);

/** Affine G1 bases in ffjavascript's layout: n × 64 bytes, (0, 0) for the identity. */
export function encodeBasesFF(points: Affine[]): Uint8Array {
  const out = new Uint8Array(points.length * 64);
  points.forEach((pt, i) => {
    if (pt === null) return;
    writeLE(out, i * 64, toFFMont(pt.x));
    writeLE(out, i * 64 + 32, toFFMont(pt.y));
  });
  return out;
}

export function decodeBasesFF(buf: Uint8Array): Affine[] {
  const out: Affine[] = [];
  for (let o = 0; o < buf.length; o += 64) {
    const x = readLE(buf, o);
    const y = readLE(buf, o + 32);
    out.push(x === 0n && y === 0n ? null : { x: fromFFMont(x), y: fromFFMont(y) });
  }
  return out;
}

export function encodeScalars(scalars: bigint[]): Uint8Array {
  const out = new Uint8Array(scalars.length * 32);
  scalars.forEach((s, i) => writeLE(out, i * 32, s));
  return out;
}

export function decodeScalars(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let o = 0; o < buf.length; o += 32) out.push(readLE(buf, o));
  return out;
}

/** A projective point as ffjavascript's 96-byte Jacobian (X·Z, Y·Z², Z), Montgomery; zero = (0, 1, 0). */
export function projToJacobianFF(p: Proj): Uint8Array {
  const out = new Uint8Array(96);
  if (mod(p.Z) === 0n) {
    writeLE(out, 32, toFFMont(1n));
    return out;
  }
  writeLE(out, 0, toFFMont(mod(p.X * p.Z)));
  writeLE(out, 32, toFFMont(mod(p.Y * p.Z * p.Z)));
  writeLE(out, 64, toFFMont(mod(p.Z)));
  return out;
}

/** ffjavascript's 96-byte Jacobian → affine. */
export function jacobianFFToAffine(buf: Uint8Array, off = 0): Affine {
  const X = fromFFMont(readLE(buf, off));
  const Y = fromFFMont(readLE(buf, off + 32));
  const Z = fromFFMont(readLE(buf, off + 64));
  if (Z === 0n) return null;
  const zi = modInv(Z);
  const zi2 = mod(zi * zi);
  return { x: mod(X * zi2), y: mod(Y * zi2 * zi) };
}

// ---------------------------------------------------------------------------------------------
// Pippenger stages

/** Bits of the largest scalar magnitude after folding: |s| ≤ (r − 1)/2 < 2^253. */
export const MAX_SCALAR_BITS = 253;

/**
 * c-bit signed windows for magnitudes of at most `bits` bits: the top digit may carry one more,
 * so the windows cover bits + 1. No bits (every scalar zero): one window, all digits 0.
 */
export const numWindows = (c: number, bits = MAX_SCALAR_BITS): number => Math.max(1, Math.ceil((bits + 1) / c));

/**
 * s mod r as a sign and a magnitude ≤ (r − 1)/2: above r/2, s ≡ −(r − s). A witness's small
 * negatives (r − 3, say) then cost what small positives do, in digits and in windows.
 */
export function foldScalar(s: bigint): { mag: bigint; neg: boolean } {
  s = mod(s, R);
  return s > R >> 1n ? { mag: R - s, neg: true } : { mag: s, neg: false };
}

/** Bit length of the largest folded magnitude among the scalars of finite bases (0 if none). */
export function scalarBits(bases: readonly unknown[], scalars: readonly bigint[]): number {
  let bits = 0;
  scalars.forEach((s, i) => {
    const { mag } = foldScalar(s);
    if (bases[i] !== null && mag !== 0n) bits = Math.max(bits, mag.toString(2).length);
  });
  return bits;
}

/**
 * Signed c-bit digits of s (canonical, < 2^256 is accepted and reduced mod r), least significant
 * first, over K windows: s ≡ Σ d_k·2^(c·k) (mod r), d_k ∈ [−2^(c−1), 2^(c−1)]. The digits are
 * those of the folded magnitude, negated where s was folded.
 */
export function signedDigits(s: bigint, c: number, K = numWindows(c)): number[] {
  const { mag, neg } = foldScalar(s);
  const half = 1 << (c - 1);
  const out: number[] = [];
  let carry = 0;
  for (let k = 0; k < K; k++) {
    let d = Number((mag >> BigInt(c * k)) & ((1n << BigInt(c)) - 1n)) + carry;
    carry = 0;
    if (d > half) {
      d -= 1 << c;
      carry = 1;
    }
    out.push(neg ? -d : d);
  }
  if (carry !== 0 || mag >> BigInt(c * K) !== 0n) throw new Error(`signed digits: ${K} windows of ${c} bits do not hold the scalar`);
  return out;
}

/**
 * Precomputed multiples of the bases: with c-bit windows and V windows per copy, copy j of base i
 * is 2^(c·V·j)·P_i, stored at index j·n + i (copy 0 is the base itself). Window k of a scalar
 * then reads copy ⌊k/V⌋ at window k mod V: V windows of buckets instead of K, and with t ≥ K
 * copies (V = 1) no doublings between windows at all.
 */
export interface Multiples {
  /** Window width the copies were made for. */
  readonly c: number;
  /** Windows per copy: consecutive copies are c·V doublings apart. */
  readonly V: number;
  /** Copies, the base itself included. */
  readonly t: number;
}

/** Copies ⌈K/V⌉ for V windows a copy over full-size scalars' K windows: t copies asked → V = ⌈K/t⌉. */
export function multiplesFor(c: number, copies: number): Multiples {
  const K = numWindows(c);
  const V = Math.ceil(K / Math.max(1, Math.min(copies, K)));
  return { c, V, t: Math.ceil(K / V) };
}

/** The CPU twin of the precompute kernel: t·n affine points in the layout of `Multiples`. */
export function precomputeMultiples<A, Pr>(g: RefGroup<A, Pr>, bases: readonly (A | null)[], m: Multiples): (A | null)[] {
  const out: (A | null)[] = [...bases];
  let cur = bases.map((b) => g.toProj(b));
  for (let j = 1; j < m.t; j++) {
    cur = cur.map((p) => {
      for (let s = 0; s < m.c * m.V; s++) p = g.double(p);
      return p;
    });
    out.push(...cur.map((p) => g.toAffine(p)));
  }
  return out;
}

/**
 * Bucket sums: for window k and bucket b ∈ 1…2^(c−1), Σ sign·P_i over the points whose digit in
 * window k is ±b. Index: k·2^(c−1) + (b − 1). Identity bases contribute nothing. With `pre`
 * (bases then hold pre.t copies of n points, `Multiples`' layout), window k adds copy ⌊k/V⌋'s
 * points to window k mod V's buckets: min(K, V) windows of buckets.
 */
export function bucketSums<A, Pr>(
  g: RefGroup<A, Pr>,
  bases: readonly (A | null)[],
  scalars: readonly bigint[],
  c: number,
  K = numWindows(c),
  pre?: { V: number; n: number },
): Pr[] {
  const H = 1 << (c - 1);
  const V = pre ? Math.min(K, pre.V) : K;
  const n = pre ? pre.n : bases.length;
  const buckets: Pr[] = Array.from({ length: V * H }, () => g.zero());
  for (let i = 0; i < Math.min(n, scalars.length); i++) {
    if (bases[i] === null) continue;
    signedDigits(scalars[i]!, c, K).forEach((d, k) => {
      if (d === 0) return;
      const key = (k % V) * H + Math.abs(d) - 1;
      const pt = bases[Math.floor(k / V) * n + i]!;
      buckets[key] = g.addMixed(buckets[key]!, d < 0 ? g.negAffine(pt) : pt);
    });
  }
  return buckets;
}

/** Window sums W_k = Σ_b b·B_(k,b), by the running sum. */
export function windowSums<A, Pr>(g: RefGroup<A, Pr>, buckets: readonly Pr[], c: number): Pr[] {
  const H = 1 << (c - 1);
  const K = buckets.length / H;
  const out: Pr[] = [];
  for (let k = 0; k < K; k++) {
    let run = g.zero();
    let sum = g.zero();
    for (let b = H; b >= 1; b--) {
      run = g.add(run, buckets[k * H + b - 1]!);
      sum = g.add(sum, run);
    }
    out.push(sum);
  }
  return out;
}

/** Σ 2^(c·k)·W_k by Horner's rule. */
export function combineWindows<A, Pr>(g: RefGroup<A, Pr>, windows: readonly Pr[], c: number): Pr {
  let acc = g.zero();
  for (let k = windows.length - 1; k >= 0; k--) {
    for (let i = 0; i < c; i++) acc = g.double(acc);
    acc = g.add(acc, windows[k]!);
  }
  return acc;
}
