// Piecewise polynomials for univariate functions (sigmoid, tanh, exp, …) over the whole domain a
// value can take. The domain [lo, lo + 2^B) is cut into 2^s equal segments by the top s bits of
// x − lo; on each, f is a polynomial of degree d in the low bits t, with integer coefficients at
// scale 2^E. The circuit and the executor both compute Σ C[seg][k]·t^k exactly and rescale it,
// so the only approximation is the fit, and it is measured over every admissible input.
import type { QPoly } from '../ir/graph.js';
import { rescale, roundBig } from './int.js';

const MAX_SEG_BITS = 8;
/** Inputs checked exhaustively up to this domain size; sampled beyond. */
const EXHAUSTIVE = 1 << 16;

/** Chebyshev interpolation of g on [0, 1] at degree d: coefficients of 1, u, …, u^d. */
function chebFit(g: (u: number) => number, d: number): number[] {
  const n = d + 1;
  const us = Array.from({ length: n }, (_, i) => (n === 1 ? 0.5 : 0.5 - 0.5 * Math.cos(((2 * i + 1) * Math.PI) / (2 * n))));
  const ys = us.map(g);
  // Newton divided differences, then expand to the monomial basis
  const c = ys.slice();
  for (let j = 1; j < n; j++) for (let i = n - 1; i >= j; i--) c[i] = (c[i]! - c[i - 1]!) / (us[i]! - us[i - j]!);
  let poly = [c[n - 1]!];
  for (let i = n - 2; i >= 0; i--) {
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let k = 0; k < poly.length; k++) { next[k + 1]! += poly[k]!; next[k]! -= us[i]! * poly[k]!; }
    next[0]! += c[i]!;
    poly = next;
  }
  return poly;
}

export function evalPoly(p: QPoly, x: bigint): bigint {
  const u = x - p.lo;
  const seg = Number(u >> BigInt(p.lowBits));
  const t = u & ((1n << BigInt(p.lowBits)) - 1n);
  let y = 0n;
  let tk = 1n;
  for (let k = 0; k <= p.degree; k++) { y += p.coef[seg * (p.degree + 1) + k]! * tk; tk *= t; }
  return y;
}

export interface FitRequest {
  f: (x: number) => number;
  /** Domain: x ∈ [lo, lo + 2^domainBits), x at scale 2^inScale. */
  lo: bigint;
  domainBits: number;
  /**
   * The largest input the constraints admit (default lo + 2^domainBits − 1): the fit, its error
   * and its output range are taken over [lo, hi] only; segments past hi are never reached.
   */
  hi?: bigint;
  inScale: number;
  outScale: number;
  /** Accept the cheapest fit whose max error is at most this (real units). */
  tolerance: number;
}

export interface Fit {
  poly: QPoly;
  /** Output integers (after the rescale) over the domain: their exact range. */
  outLo: bigint;
  outHi: bigint;
  /** outLo/outHi are exact: every input of the domain was evaluated. */
  exhaustive: boolean;
  /** Largest |Σ C·t^k| before the rescale. */
  accBound: bigint;
  /** Estimated constraint cost. */
  cost: number;
}

const topOf = (req: FitRequest) => req.hi ?? req.lo + (1n << BigInt(req.domainBits)) - 1n;

/** Points to check in [lo, hi]: all of them for small domains; else segment ends plus a dense stride. */
function checkPoints(lo: bigint, bits: number, lowBits: number, hi: bigint): bigint[] {
  const n = Math.min(1 << Math.min(bits, 30), Number(hi - lo) + 1);
  if (bits <= 16) return Array.from({ length: n }, (_, i) => lo + BigInt(i));
  const pts: bigint[] = [];
  const stride = Math.max(1, Math.floor(n / EXHAUSTIVE));
  for (let i = 0; i < n; i += stride) pts.push(lo + BigInt(i));
  const seg = 1 << lowBits;
  for (let s = 0; s < n; s += seg) pts.push(lo + BigInt(s), lo + BigInt(Math.min(s + seg, n) - 1));
  pts.push(hi);
  return pts;
}

/** The coefficients of one (segments, degree) choice. */
function buildPoly(req: FitRequest, segBits: number, degree: number): { poly: QPoly; accBound: bigint } {
  const { f, lo, domainBits: B, inScale, outScale } = req;
  const lowBits = B - segBits;
  const polyScale = outScale + 4 + lowBits * degree;
  const coef: bigint[] = [];
  let accBound = 0n;
  const w = 2 ** lowBits;
  const top = Number(topOf(req));
  for (let seg = 0; seg < 1 << segBits; seg++) {
    const base = Number(lo) + seg * w;
    if (base > top) { for (let k = 0; k <= degree; k++) coef.push(0n); continue; } // never reached
    // fit over the segment's reachable integer points t ∈ [0, min(w − 1, top − base)]
    const span = Math.max(1, Math.min(w - 1, top - base));
    const c = chebFit((u) => f((base + u * span) / 2 ** inScale), degree);
    let bound = 0n;
    for (let k = 0; k <= degree; k++) {
      const q = roundBig((c[k]! / span ** k) * 2 ** polyScale);
      coef.push(q);
      bound += (q < 0n ? -q : q) * (1n << BigInt(lowBits * k));
    }
    if (bound > accBound) accBound = bound;
  }
  return { poly: { lo, segBits, lowBits, degree, coef, polyScale, maxError: 0 }, accBound };
}

/** The error in float arithmetic: a fast screen of candidates (the chosen one is measured exactly). */
function screenError(req: FitRequest, p: QPoly): number {
  const coef = p.coef.map(Number);
  const mask = 2 ** p.lowBits;
  const scale = 2 ** -p.polyScale;
  let worst = 0;
  for (const x of checkPoints(req.lo, req.domainBits, p.lowBits, topOf(req))) {
    const u = Number(x - req.lo);
    const seg = Math.floor(u / mask);
    const t = u - seg * mask;
    let y = 0;
    for (let k = p.degree; k >= 0; k--) y = y * t + coef[seg * (p.degree + 1) + k]!;
    const ref = req.f(Number(x) / 2 ** req.inScale);
    if (Number.isFinite(ref)) worst = Math.max(worst, Math.abs(y * scale - ref));
  }
  return worst;
}

/** Exact integers over the domain: the error, the output range, the cost. */
function measure(req: FitRequest, built: { poly: QPoly; accBound: bigint }): Fit {
  const { poly, accBound } = built;
  const { f, lo, domainBits: B, inScale, outScale } = req;
  const shift = poly.polyScale - outScale;
  let maxError = 0;
  let outLo: bigint | undefined;
  let outHi: bigint | undefined;
  for (const x of checkPoints(lo, B, poly.lowBits, topOf(req))) {
    const q = rescale(evalPoly(poly, x), shift);
    if (outLo === undefined || q < outLo) outLo = q;
    if (outHi === undefined || q > outHi) outHi = q;
    const ref = f(Number(x) / 2 ** inScale);
    if (Number.isFinite(ref)) maxError = Math.max(maxError, Math.abs(Number(q) / 2 ** outScale - ref));
  }
  if (B > 16) { // sampled: widen the range by the bound of a segment's variation
    const slack = rescale(accBound, shift) / 64n + 1n;
    outLo! -= slack; outHi! += slack;
  }
  poly.maxError = maxError;
  const outBits = Math.max(1, (outHi! < 0n ? -outHi! : outHi!).toString(2).length, (outLo! < 0n ? -outLo! : outLo!).toString(2).length);
  const cost = B + (2 ** poly.segBits - 1) + 2 * poly.degree + shift + outBits + 3;
  return { poly, outLo: outLo!, outHi: outHi!, exhaustive: B <= 16, accBound, cost };
}

/** The cheapest piecewise polynomial within tolerance (or the most accurate one tried). */
export function fitPiecewise(req: FitRequest): Fit {
  const cands: { s: number; d: number; est: number }[] = [];
  for (let d = 1; d <= 3; d++) {
    for (let s = 0; s <= Math.min(MAX_SEG_BITS, req.domainBits); s++) {
      cands.push({ s, d, est: 2 ** s + 2 * d + 4 + (req.domainBits - s) * d });
    }
  }
  cands.sort((a, b) => a.est - b.est);
  let best: { built: ReturnType<typeof buildPoly>; err: number } | undefined;
  for (const c of cands) {
    const built = buildPoly(req, c.s, c.d);
    const err = screenError(req, built.poly);
    if (err <= req.tolerance) {
      const fit = measure(req, built);
      if (fit.poly.maxError <= req.tolerance) return fit;
    }
    if (!best || err < best.err) best = { built, err };
  }
  return measure(req, best!.built);
}
