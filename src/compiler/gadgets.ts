// The templates of circuits/zkonnx.circom, statement for statement, on a System (system.ts): the
// same signals declared in the same order (outputs, inputs, intermediates), the same `<--` hints
// and the same constraints. circuits/zkonnx.circom stays the specification and holds the soundness
// arguments; check-circom.ts shows that circom builds the same system from it. Each function
// creates the component, states the parent's `<==` into its inputs (so that circom's
// simplification sees the same constraints), and returns the labels of its outputs.
import type { Component, Lin, System } from './system.js';
import { inverse, mod } from './system.js';
import { divConstParams, ROUND_MODES } from '../quantize/int.js';

const pow2 = (n: number) => 1n << BigInt(n);

/** Decomposes `v` (witness mode) into the n boolean signals from label `first`, constrains each
 * boolean, and returns Σ bits·2^i (the template's `lc`). */
function bits(sys: System, first: number, n: number, v: () => bigint): Lin {
  if (sys.witness) {
    // the same values as the loop below, from one binary expansion (each bit by a BigInt shift
    // was a third of a model's witness time): bit i of x (two's complement, as (x >> i) & 1),
    // each 0 or 1, so b·(b − 1) = 0 holds; lc = Σ bits·2^i = x mod 2^n, which the caller's
    // equality then checks against x
    const low = v() & (pow2(n) - 1n);
    const digits = low.toString(2);
    for (let i = 0; i < n; i++) sys.set(first + i, digits.charCodeAt(digits.length - 1 - i) === 49 ? 1n : 0n);
    const lc = sys.lin();
    lc.v = low;
    return lc;
  }
  const x = sys.hint(v);
  const lc = sys.lin();
  for (let i = 0; i < n; i++) {
    const b = first + i;
    sys.set(b, () => (x >> BigInt(i)) & 1n);
    const s = sys.sig(b);
    sys.product(s, s.minus(1n), sys.lin());
    lc.addTerm(b, pow2(i));
  }
  return lc;
}

/**
 * An input of a template instantiated as main itself (tests of one template): the prover
 * supplies it, no constraint defines it; `value` in witness mode.
 */
export class External {
  constructor(readonly value?: bigint) {}
}
export type In = Lin | External;

/** Parent states `child.in <== x` (or, for main's own input, the prover supplies it). */
function feed(sys: System, parent: number, label: number, x: In): void {
  if (x instanceof External) { sys.set(label, () => x.value!); return; }
  sys.owner = parent;
  sys.assign(label, x);
}

/** RangeCheck(n, lo): in ∈ [lo, lo + 2^n). */
export function rangeCheck(parent: Component, name: string, n: number, lo: bigint, x: In): void {
  const { sys } = parent;
  const c = parent.child(name);
  const inp = c.signal('in');
  const b = c.array('bits', n);
  feed(sys, parent.index, inp, x);
  sys.owner = c.index;
  const lc = bits(sys, b, n, () => sys.value(inp) - lo);
  sys.equal(lc, sys.sig(inp).minus(lo));
}

/** Rescale(k, b, relu): out = round(in / 2^k) (relu: max(0, ·)), quotient in [−2^b, 2^b). `in` is
 * stated by the caller: `x` for `in <== x`, or [a, b, c] for `in <== a·b + c`. */
export function rescale(parent: Component, name: string, k: number, b: number, relu: boolean, x: In | [Lin, Lin, Lin]): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const inp = c.signal('in');
  const r = c.array('r', k);
  const u = c.array('u', b + 1);
  sys.owner = parent.index;
  if (Array.isArray(x)) {
    const [p, q, add] = x;
    sys.set(inp, () => p.v * q.v + add.v);
    sys.product(p, q, sys.sig(inp).minus(add));
  } else {
    feed(sys, parent.index, inp, x);
  }
  sys.owner = c.index;
  const half = k > 0 ? pow2(k - 1) : 0n;
  const shifted = () => sys.value(inp) + half + pow2(b + k);
  const lcr = bits(sys, r, k, () => shifted() % pow2(k));
  const lcu = bits(sys, u, b + 1, () => shifted() / pow2(k));
  sys.equal(lcu.times(pow2(k)).plus(lcr), sys.sig(inp).plus(half + pow2(b + k)));
  if (relu) {
    const top = sys.sig(u + b);
    sys.assignProduct(out, top, lcu.minus(top.times(pow2(b))));
  } else {
    sys.assign(out, lcu.minus(pow2(b)));
  }
  return out;
}

/** SignBit(b): out = [in ≥ 0] for in ∈ [−2^b, 2^b). */
export function signBit(parent: Component, name: string, b: number, x: In, feedOwner = parent.index): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const inp = c.signal('in');
  const u = c.array('u', b + 1);
  feed(sys, feedOwner, inp, x);
  sys.owner = c.index;
  const lc = bits(sys, u, b + 1, () => sys.value(inp) + pow2(b));
  sys.equal(lc, sys.sig(inp).plus(pow2(b)));
  sys.assign(out, sys.sig(u + b));
  return out;
}

/** Max2(d): out = max(a, b) for b − a ∈ [−2^d, 2^d). */
export function max2(parent: Component, name: string, d: number, a: In, b: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const ia = c.signal('a');
  const ib = c.signal('b');
  feed(sys, parent.index, ia, a);
  feed(sys, parent.index, ib, b);
  const A = sys.sig(ia);
  const diff = sys.sig(ib).minus(A);
  const s = signBit(c, 's', d, diff, c.index);
  sys.owner = c.index;
  const sv = sys.sig(s);
  sys.set(out, () => A.v + sv.v * diff.v);
  sys.product(sv, diff, sys.sig(out).minus(A));
  return out;
}

/** IsEqual(): out = [a = b]. */
export function isEqual(parent: Component, name: string, a: In, b: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const ia = c.signal('a');
  const ib = c.signal('b');
  const inv = c.signal('inv');
  feed(sys, parent.index, ia, a);
  feed(sys, parent.index, ib, b);
  sys.owner = c.index;
  const d = sys.sig(ia).minus(sys.sig(ib));
  sys.set(inv, () => (d.v !== 0n ? inverse(d.v) : 0n));
  sys.set(out, () => (d.v === 0n ? 1n : 0n));
  sys.product(sys.sig(inv), d, sys.k(1n).minus(sys.sig(out))); // inv in A: see nonZero
  sys.product(d, sys.sig(out), sys.lin());
  return out;
}

/** Select(s): out = c ? a : b for cs = c·2^s, c ∈ {0, 1}. */
export function select(parent: Component, name: string, s: number, cs: In, a: In, b: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const ics = c.signal('cs');
  const ia = c.signal('a');
  const ib = c.signal('b');
  feed(sys, parent.index, ics, cs);
  feed(sys, parent.index, ia, a);
  feed(sys, parent.index, ib, b);
  sys.owner = c.index;
  const CS = sys.sig(ics);
  sys.product(CS, CS.minus(pow2(s)), sys.lin());
  const cond = CS.times(inverse(pow2(s)));
  const d = sys.sig(ia).minus(sys.sig(ib));
  sys.set(out, () => (sys.value(ics) !== 0n ? sys.value(ia) : sys.value(ib)));
  sys.product(cond, d, sys.sig(out).minus(sys.sig(ib)));
  return out;
}

/** DivRound(k, bq, bb): q = round(a·2^k / b) for b ∈ [1, 2^bb], q ∈ [−2^bq, 2^bq). */
export function divRound(parent: Component, name: string, k: number, bq: number, bb: number, a: In, b: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const q = c.signal('q');
  const ia = c.signal('a');
  const ib = c.signal('b');
  const r = c.signal('r');
  const bqv = c.signal('bqv');
  feed(sys, parent.index, ia, a);
  feed(sys, parent.index, ib, b);
  sys.owner = c.index;
  const off = () => 2n * sys.value(ia) * pow2(k) + sys.value(ib) + 2n * sys.value(ib) * pow2(bq);
  sys.set(q, () => off() / (2n * sys.value(ib)) - pow2(bq));
  sys.set(r, () => off() % (2n * sys.value(ib)));
  const B = sys.sig(ib);
  const R = sys.sig(r);
  rangeCheck(c, 'rb', bb, 1n, B);
  rangeCheck(c, 'rq', bq + 1, -pow2(bq), sys.sig(q));
  rangeCheck(c, 'rr', bb + 2, 0n, R);
  rangeCheck(c, 'rt', bb + 2, 0n, B.times(2n).minus(1n).minus(R));
  sys.owner = c.index;
  sys.assignProduct(bqv, B, sys.sig(q));
  sys.equal(sys.sig(ia).times(2n * pow2(k)).plus(B), sys.sig(bqv).times(2n).plus(R));
  return q;
}

/** DivConst(D, m, b, mode, rem): in / D rounded by ROUND_MODES[mode] (rem: the remainder in − q·D). */
export function divConst(parent: Component, name: string, D: bigint, m: number, b: number, mode: number, rem: boolean, x: In): number {
  const { sys } = parent;
  const { off, fix } = divConstParams(ROUND_MODES[mode]!, D);
  const c = parent.child(name);
  const out = c.signal('out');
  const inp = c.signal('in');
  const r = c.array('r', m);
  const u = c.array('u', b + 1);
  const corr = fix !== 0 ? { inv: c.signal('inv'), nz: c.signal('nz'), t: c.signal('t') } : undefined;
  feed(sys, parent.index, inp, x);
  sys.owner = c.index;
  const shifted = () => sys.value(inp) + off + D * pow2(b);
  const lcr = bits(sys, r, m, () => shifted() % D);
  const lcu = bits(sys, u, b + 1, () => shifted() / D);
  sys.equal(lcu.times(D).plus(lcr), sys.sig(inp).plus(off + D * pow2(b)));
  if (D !== pow2(m)) rangeCheck(c, 'rt', m, 0n, sys.k(D - 1n).minus(lcr));
  sys.owner = c.index;
  let q = lcu.minus(pow2(b));
  if (corr) {
    nonZero(sys, lcr, corr.inv, corr.nz);
    if (fix === 1) {
      sys.assignProduct(corr.t, sys.k(1n).minus(sys.sig(u + b)), sys.sig(corr.nz));
      q = q.plus(sys.sig(corr.t));
    } else {
      sys.assignProduct(corr.t, sys.k(1n).minus(sys.sig(corr.nz)), sys.sig(u));
      q = q.minus(sys.sig(corr.t));
    }
  }
  sys.assign(out, rem ? sys.sig(inp).minus(q.times(D)) : q);
  return out;
}

/** FloorSqrt(by): y = floor(√n), y ∈ [0, 2^by). `n` is stated by the caller (`n <== x·2^shift`). */
export function floorSqrt(parent: Component, name: string, by: number, n: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const y = c.signal('y');
  const inp = c.signal('n');
  const y2 = c.signal('y2');
  feed(sys, parent.index, inp, n);
  sys.owner = c.index;
  sys.set(y, () => {
    const nv = sys.value(inp);
    let v = 0n;
    for (let i = by - 1; i >= 0; i--) {
      const t = v + pow2(i);
      if (t * t <= nv) v = t;
    }
    return v;
  });
  const Y = sys.sig(y);
  rangeCheck(c, 'ry', by, 0n, Y);
  sys.owner = c.index;
  sys.assignProduct(y2, Y, Y);
  const e = sys.sig(inp).minus(sys.sig(y2));
  rangeCheck(c, 're', by + 1, 0n, e);
  rangeCheck(c, 'rt', by + 1, 0n, Y.times(2n).minus(e));
  return y;
}

/** ArgMax(n, d): idx = first index of the largest x[i]. */
export function argMax(parent: Component, name: string, d: number, xs: In[]): number {
  const { sys } = parent;
  const n = xs.length;
  const c = parent.child(name);
  const idx = c.signal('idx');
  const x = c.array('x', n);
  const sel = c.array('sel', n);
  const prod = c.array('prod', n);
  xs.forEach((v, i) => feed(sys, parent.index, x + i, v));
  sys.owner = c.index;
  const best = sys.hint(() => {
    let j = 0;
    for (let i = 1; i < n; i++) if (sys.value(x + i) > sys.value(x + j)) j = i;
    return BigInt(j);
  });
  const total = sys.lin();
  const m = sys.lin();
  const id = sys.lin();
  for (let i = 0; i < n; i++) {
    sys.set(sel + i, () => (BigInt(i) === best ? 1n : 0n));
    const s = sys.sig(sel + i);
    sys.product(s, s.minus(1n), sys.lin());
    total.addTerm(sel + i, 1n);
    sys.assignProduct(prod + i, s, sys.sig(x + i));
    m.addTerm(prod + i, 1n);
    id.addTerm(sel + i, BigInt(i));
  }
  sys.equal(total, sys.k(1n));
  sys.assign(idx, id);
  const after = sys.k(1n);
  for (let j = 0; j < n; j++) {
    after.addTerm(sel + j, -1n);
    rangeCheck(c, `rc[${j}]`, d + 1, 0n, m.minus(sys.sig(x + j)).minus(after));
  }
  return idx;
}

export interface PolyParams {
  /** bits of x − lo (B), segment bits (s), low bits left out of t (drop), degree, rescale shift, output bits, lo, coefficients */
  B: number;
  s: number;
  drop: number;
  deg: number;
  shift: number;
  bo: number;
  lo: bigint;
  C: readonly bigint[];
}

/** PiecewisePoly(B, s, drop, deg, shift, bo, lo, C). */
export function piecewisePoly(parent: Component, name: string, p: PolyParams, x: In): number {
  const { sys } = parent;
  const c = parent.child(name);
  const out = c.signal('out');
  const inp = c.signal('in');
  const bs = c.array('bits', p.B);
  const arrays = polyArrays(c, p);
  feed(sys, parent.index, inp, x);
  sys.owner = c.index;
  const lc = bits(sys, bs, p.B, () => sys.value(inp) - p.lo);
  sys.equal(lc, sys.sig(inp).minus(p.lo));
  const m = p.B - p.s;
  return polyOver(c, p, digits(sys, bs, p.drop, m), (j) => sys.sig(bs + m + j), arrays, out);
}

/**
 * ClampedPoly(W, B, s, drop, deg, shift, bo, lo, C, rk): PiecewisePoly of x clamped to
 * [lo, lo + 2^B − 1]; with rk ≥ 1 (lo = −2^(B−1)), ⌊x / 2^(rk−1)⌋·[x ≥ 0] minus it.
 */
export function clampedPoly(parent: Component, name: string, p: PolyParams & { W: number; rk: number }, x: In): number {
  const { sys } = parent;
  const { W, B, s, drop } = p;
  const m = B - s;
  const c = parent.child(name);
  const out = c.signal('out');
  const inp = c.signal('in');
  const bs = c.array('bits', W + 1);
  const inv = c.signal('inv');
  const nz = c.signal('nz');
  const above = c.signal('above');
  const sb = c.array('sb', s > 0 ? s : 1);
  const tk = c.signal('tk');
  const arrays = polyArrays(c, p);
  const rl = p.rk > 0 ? { kb: c.signal('kb'), relu: c.signal('relu') } : undefined;
  feed(sys, parent.index, inp, x);
  sys.owner = c.index;
  const shifted = () => sys.sig(inp).minus(p.lo).plus(pow2(W));
  const lc = bits(sys, bs, W + 1, () => shifted().v);
  sys.equal(lc, shifted());
  const high = sys.lin();
  for (let i = B; i < W; i++) high.addTerm(bs + i, 1n);
  nonZero(sys, high, inv, nz);
  sys.assignProduct(above, sys.sig(nz), sys.sig(bs + W));
  const keep = sys.sig(bs + W).minus(sys.sig(above));
  // the clamped segment bits keep·bit + above, and t clamped as a whole: keep·t + above·(2^(m−drop) − 1)
  if (s === 0) sys.assign(sb, sys.lin());
  for (let j = 0; j < s; j++) {
    sys.set(sb + j, () => keep.v * sys.value(bs + m + j) + sys.value(above));
    sys.product(keep, sys.sig(bs + m + j), sys.sig(sb + j).minus(sys.sig(above)));
  }
  sys.assignProduct(tk, keep, digits(sys, bs, drop, m));
  const t = sys.sig(tk).plus(sys.sig(above).times(pow2(m - drop) - 1n));
  // rk ≥ 1: x ≥ 0 exactly when above, or kept with bits[B−1] set (lo = −2^(B−1)); ⌊x / 2^k⌋ from
  // the bits, x = Σ bits·2^i − 2^W − 2^(B−1) with both constants multiples of 2^k
  const relu = rl && ((ro: number) => {
    const k = p.rk - 1;
    sys.assignProduct(rl.kb, keep, sys.sig(bs + B - 1));
    const fl = digits(sys, bs, k, W + 1).minus(pow2(W - k) + pow2(B - 1 - k));
    sys.assignProduct(rl.relu, sys.sig(above).plus(sys.sig(rl.kb)), fl);
    return sys.sig(rl.relu).minus(sys.sig(ro));
  });
  return polyOver(c, p, t, (j) => sys.sig(sb + j), arrays, out, relu);
}

/**
 * nz = [x ≠ 0], forced by nz = inv·x and x·(1 − nz) = 0 (inv the prover's hint). inv, a full-size
 * field element where every other value is small, goes in A: a wire that appears in some B is a
 * point of the proof's G2 MSM too (B2), where a full-size scalar costs every window at G2's price.
 */
function nonZero(sys: System, x: Lin, inv: number, nz: number): void {
  sys.set(inv, () => (mod(x.v) !== 0n ? inverse(x.v) : 0n));
  sys.set(nz, () => (mod(x.v) !== 0n ? 1n : 0n)); // x·inv, reduced
  sys.product(sys.sig(inv), x, sys.sig(nz));
  sys.product(x, sys.k(1n).minus(sys.sig(nz)), sys.lin());
}

/** The number whose binary digits are bits[from..to), least significant first: t of a polynomial. */
function digits(sys: System, bits: number, from: number, to: number): Lin {
  const t = sys.lin();
  for (let i = from; i < to; i++) t.addIn(sys.sig(bits + i), pow2(i - from));
  return t;
}

/** The selector products and Horner's products of a piecewise polynomial, declared after its bits. */
function polyArrays(c: Component, p: PolyParams): { prod: number; hp: number } {
  const nseg = 2 ** p.s;
  return { prod: c.array('prod', nseg > 2 ? nseg - 2 : 1), hp: c.array('hp', p.deg > 0 ? p.deg : 1) };
}

/** Σ_k C[seg·(deg+1) + k]·t^k rescaled, from t and the segment's bits (Horner: one product a degree). */
function polyOver(c: Component, p: PolyParams, t: Lin, segBit: (j: number) => Lin, a: { prod: number; hp: number }, out: number, finish?: (ro: number) => Lin): number {
  const { sys } = c;
  const { s, deg } = p;
  const nseg = 2 ** s;
  const { prod, hp } = a;

  // one-hot selector of the segment, most significant bit first
  let sel: Lin[] = [sys.k(1n)];
  if (nseg <= 2) sys.assign(prod, sys.lin());
  let np = 0;
  for (let j = s - 1; j >= 0; j--) {
    const b = segBit(j);
    const next: Lin[] = [];
    for (let k = 0; k < sel.length; k++) {
      if (sel.length === 1) {
        next.push(sys.k(1n).minus(b), b);
      } else {
        sys.assignProduct(prod + np, sel[k]!, b);
        const pr = sys.sig(prod + np);
        next.push(sel[k]!.minus(pr), pr);
        np++;
      }
    }
    sel = next;
  }

  const coef = (k: number) => {
    const ck = sys.lin();
    for (let g = 0; g < nseg; g++) ck.addIn(sel[g]!, p.C[g * (deg + 1) + k]!);
    return ck;
  };
  // (…(C_deg·t + C_{deg−1})·t + …)·t + C_0
  if (deg === 0) sys.assign(hp, sys.lin());
  let acc = coef(deg);
  for (let k = deg - 1; k >= 0; k--) {
    sys.assignProduct(hp + k, acc, t);
    acc = sys.sig(hp + k).plus(coef(k));
  }
  const ro = rescale(c, 'r', p.shift, p.bo, false, acc);
  sys.owner = c.index;
  sys.assign(out, finish ? finish(ro) : sys.sig(ro));
  return out;
}
