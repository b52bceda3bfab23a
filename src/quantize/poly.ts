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
  const t = (u & ((1n << BigInt(p.lowBits)) - 1n)) >> BigInt(p.dropBits ?? 0);
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
  /**
   * Let the fit leave the input's lowest bits out of the polynomial where f varies less than the
   * tolerance across them (dropBits): fewer bits in t^k, a smaller final rescale.
   */
  allowDrop?: boolean;
}

export interface Fit {
  poly: QPoly;
  /** Output integers (after the rescale) over the domain: their exact range. */
  outLo: bigint;
  outHi: bigint;
  /** outLo/outHi are exact: every polynomial input of the domain was evaluated. */
  exhaustive: boolean;
  /** Largest |Σ C·t^k| before the rescale. */
  accBound: bigint;
  /** Estimated constraint cost. */
  cost: number;
}

const topOf = (req: FitRequest) => req.hi ?? req.lo + (1n << BigInt(req.domainBits)) - 1n;

/** At most this many distinct polynomial inputs: every one is evaluated (the output range is exact). */
const exhaustive = (bits: number, drop: number) => bits - drop <= 16;

/**
 * Points to check in [lo, hi]: all of them for small domains; both ends of every run of 2^drop
 * inputs that share one polynomial input when there are few runs (an input far finer than the
 * output needs, e.g. a pre-activation at the weights' scale: f varies by less than a quarter of
 * the tolerance across a run, monotone on so short a span); else segment ends plus a dense stride.
 */
function checkPoints(lo: bigint, bits: number, lowBits: number, hi: bigint, drop = 0): bigint[] {
  const n = Number(hi - lo) + 1; // ≤ 2^53: domains are at most FIELD_SAFE_BITS wide, far less in practice
  if (bits <= 16) return Array.from({ length: n }, (_, i) => lo + BigInt(i));
  if (exhaustive(bits, drop)) {
    const run = 2 ** drop;
    const pts: bigint[] = [];
    for (let s = 0; s < n; s += run) pts.push(lo + BigInt(s), lo + BigInt(Math.min(s + run, n) - 1));
    return pts;
  }
  const pts: bigint[] = [];
  const stride = Math.max(1, Math.floor(n / EXHAUSTIVE));
  for (let i = 0; i < n; i += stride) pts.push(lo + BigInt(i));
  const seg = 2 ** lowBits;
  for (let s = 0; s < n; s += seg) pts.push(lo + BigInt(s), lo + BigInt(Math.min(s + seg, n) - 1));
  pts.push(hi);
  return pts;
}

/** The coefficients of one (segments, degree, dropped bits) choice. */
function buildPoly(req: FitRequest, segBits: number, degree: number, drop = 0): { poly: QPoly; accBound: bigint } {
  const { f, lo, domainBits: B, inScale, outScale } = req;
  const lowBits = B - segBits;
  const tBits = lowBits - drop; // bits of t
  const polyScale = outScale + 4 + tBits * degree;
  const coef: bigint[] = [];
  let accBound = 0n;
  const w = 2 ** lowBits;
  const step = 2 ** drop;
  const top = Number(topOf(req));
  for (let seg = 0; seg < 1 << segBits; seg++) {
    const base = Number(lo) + seg * w;
    if (base > top) { for (let k = 0; k <= degree; k++) coef.push(0n); continue; } // never reached
    // fit over the segment's reachable t ∈ [0, min(2^tBits − 1, ⌊(top − base) / step⌋)]; t stands
    // for the inputs base + t·step … base + t·step + step − 1, so f is taken at their middle
    const span = Math.max(1, Math.min(2 ** tBits - 1, Math.floor((top - base) / step)));
    const c = chebFit((u) => f((base + u * span * step + (step - 1) / 2) / 2 ** inScale), degree);
    let bound = 0n;
    for (let k = 0; k <= degree; k++) {
      const q = roundBig((c[k]! / span ** k) * 2 ** polyScale);
      coef.push(q);
      bound += (q < 0n ? -q : q) * (1n << BigInt(tBits * k));
    }
    if (bound > accBound) accBound = bound;
  }
  return { poly: { lo, segBits, lowBits, ...(drop ? { dropBits: drop } : {}), degree, coef, polyScale, maxError: 0 }, accBound };
}

/**
 * The most low bits of the input that f can ignore: the largest `drop` with f varying by at most
 * tolerance/2 over any 2^drop consecutive inputs (sampled over [lo, hi]), so evaluating f at the
 * middle of each run of inputs costs at most a quarter of the error budget (the fit measures it).
 */
function droppableBits(req: FitRequest): number {
  const lo = Number(req.lo) / 2 ** req.inScale;
  const hi = Number(topOf(req)) / 2 ** req.inScale;
  const n = 4096;
  let drop = 0;
  for (let d = 1; d < req.domainBits; d++) {
    const h = 2 ** (d - req.inScale);
    let worst = 0;
    for (let i = 0; i <= n; i++) {
      const x = lo + ((hi - lo) * i) / n;
      const a = req.f(x);
      const b = req.f(Math.min(x + h, hi));
      if (Number.isFinite(a) && Number.isFinite(b)) worst = Math.max(worst, Math.abs(b - a));
    }
    if (worst > req.tolerance / 2) break;
    drop = d;
  }
  return drop;
}

/** Check points as offsets from lo with f there, shared by the candidates with the same points. */
type Screen = { u: Float64Array; ref: Float64Array };
function screenPoints(req: FitRequest, lowBits: number, drop: number, cache: Map<string, Screen>): Screen {
  const key = req.domainBits <= 16 ? '' : exhaustive(req.domainBits, drop) ? `d${drop}` : `l${lowBits}`;
  let sc = cache.get(key);
  if (!sc) {
    const pts = checkPoints(req.lo, req.domainBits, lowBits, topOf(req), drop);
    sc = { u: Float64Array.from(pts, (x) => Number(x - req.lo)), ref: Float64Array.from(pts, (x) => req.f(Number(x) / 2 ** req.inScale)) };
    cache.set(key, sc);
  }
  return sc;
}

/** The error in float arithmetic: a fast screen of candidates (the chosen one is measured exactly); stops past `limit`. */
function screenError(p: QPoly, sc: Screen, limit: number): number {
  const coef = p.coef.map(Number);
  const mask = 2 ** p.lowBits;
  const step = 2 ** (p.dropBits ?? 0);
  const scale = 2 ** -p.polyScale;
  let worst = 0;
  for (let i = 0; i < sc.u.length; i++) {
    const u = sc.u[i]!;
    const seg = Math.floor(u / mask);
    const t = Math.floor((u - seg * mask) / step);
    let y = 0;
    for (let k = p.degree; k >= 0; k--) y = y * t + coef[seg * (p.degree + 1) + k]!;
    const ref = sc.ref[i]!;
    if (Number.isFinite(ref)) worst = Math.max(worst, Math.abs(y * scale - ref));
    if (worst > limit) return worst;
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
  const exact = exhaustive(B, poly.dropBits ?? 0);
  for (const x of checkPoints(lo, B, poly.lowBits, topOf(req), poly.dropBits)) {
    const q = rescale(evalPoly(poly, x), shift);
    if (outLo === undefined || q < outLo) outLo = q;
    if (outHi === undefined || q > outHi) outHi = q;
    const ref = f(Number(x) / 2 ** inScale);
    if (Number.isFinite(ref)) maxError = Math.max(maxError, Math.abs(Number(q) / 2 ** outScale - ref));
  }
  if (!exact) { // sampled: widen the range by the bound of a segment's variation
    const slack = rescale(accBound, shift) / 64n + 1n;
    outLo! -= slack; outHi! += slack;
  }
  poly.maxError = maxError;
  const outBits = Math.max(1, (outHi! < 0n ? -outHi! : outHi!).toString(2).length, (outLo! < 0n ? -outLo! : outLo!).toString(2).length);
  const cost = B + (2 ** poly.segBits - 1) + poly.degree + shift + outBits + 3; // Horner: a product a degree
  return { poly, outLo: outLo!, outHi: outHi!, exhaustive: exact, accBound, cost };
}

/**
 * Where f is constant *at the output scale*: the clamp ends [lo, hi] (real units, from where f is
 * constant to within 2^−32) moved inward while f stays within `budget` of its value at the new end,
 * over every input between (sampled densely; the ends are where f saturates, smooth there). An x
 * past the new end then costs at most budget + 2^−32 of error, and the polynomial covers a
 * narrower domain: fewer bits, fewer pieces. `lo`/`hi` absent: that side is not clamped.
 */
export function tightenClamp(f: (x: number) => number, lo: number | undefined, hi: number | undefined, budget: number): { lo?: number; hi?: number; error: number } {
  const N = 512;
  let error = 0;
  const walk = (from: number, to: number): number => {
    // the farthest point p on [from, to] with |f(x) − f(p)| ≤ budget for every sampled x in [from, p]
    const f0 = f(from);
    if (!Number.isFinite(f0)) return from;
    let best = from;
    let bestErr = 0;
    let mn = f0;
    let mx = f0;
    for (let i = 1; i <= N; i++) {
      const x = from + ((to - from) * i) / N;
      const y = f(x);
      if (!Number.isFinite(y)) break;
      mn = Math.min(mn, y);
      mx = Math.max(mx, y);
      const dev = Math.max(y - mn, mx - y); // every sample so far against f(x), the value past the end
      if (dev > budget) break;
      best = x;
      bestErr = dev;
    }
    error = Math.max(error, bestErr);
    return best;
  };
  // never past the middle of the two ends (or past 0 for one end): the polynomial keeps a domain
  const mid = lo !== undefined && hi !== undefined ? (lo + hi) / 2 : lo !== undefined ? Math.max(lo, 0) : Math.min(hi!, 0);
  const nlo = lo !== undefined && lo < mid ? walk(lo, mid) : lo;
  const nhi = hi !== undefined && hi > mid ? walk(hi, mid) : hi;
  return { ...(nlo !== undefined ? { lo: nlo } : {}), ...(nhi !== undefined ? { hi: nhi } : {}), error };
}

/** The cheapest piecewise polynomial within tolerance (or the most accurate one tried). */
export function fitPiecewise(req: FitRequest): Fit {
  const cands: { s: number; d: number; drop: number; est: number }[] = [];
  const droppable = req.allowDrop ? droppableBits(req) : 0;
  for (let d = 1; d <= 3; d++) {
    for (let s = 0; s <= Math.min(MAX_SEG_BITS, req.domainBits); s++) {
      // with the dropped bits, one fewer (when the fit needs that bit), none: cheapest first
      for (const drop of new Set([droppable, droppable - 1, 0].map((k) => Math.max(0, Math.min(k, req.domainBits - s))))) {
        cands.push({ s, d, drop, est: 2 ** s + d + 4 + (req.domainBits - s - drop) * d });
      }
    }
  }
  cands.sort((a, b) => a.est - b.est);
  let best: { built: ReturnType<typeof buildPoly>; err: number } | undefined;
  const cache = new Map<string, Screen>();
  for (const c of cands) {
    const built = buildPoly(req, c.s, c.d, c.drop);
    // (a candidate past the tolerance is screened in full only while none has come closer)
    const err = screenError(built.poly, screenPoints(req, req.domainBits - c.s, c.drop, cache), best ? Math.max(req.tolerance, best.err) : Infinity);
    if (err <= req.tolerance) {
      const fit = measure(req, built);
      if (fit.poly.maxError <= req.tolerance) return fit;
    }
    if (!best || err < best.err) best = { built, err };
  }
  return measure(req, best!.built);
}
