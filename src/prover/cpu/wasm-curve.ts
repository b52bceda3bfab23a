// G1 (over Fq) and G2 (over Fq2) point arithmetic for the CPU MSM, emitted as WebAssembly with
// wasmbuilder on top of wasm-field.ts. y² = x³ + b on both, so a = 0 in every formula.
//  - <g>_batchAdd (wasm-batch4.ts): a list of independent affine additions with one field
//    inversion for all of them (Montgomery's trick): about 6 multiplications an addition, where a
//    mixed Jacobian one costs 11. Doubling and P + (−P) are detected and done right, not assumed
//    away. Its entries: pa, pb, pr, kind (ENTRY_BYTES).
//  - Jacobian add, mixed add and double (EFD add-2007-bl, madd-2007-bl, dbl-2009-l) for the
//    running sums that turn buckets into a window's sum.
// Affine point: x ‖ y; the point at infinity has 0xffffffff in x's ninth limb (never a canonical
// limb). Jacobian: X ‖ Y ‖ Z, Z = 0 at infinity.
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { FQ, FQ_BYTES, LIMBS, LIMB_BITS, Q, fn, limbs, type Scratch } from './wasm-field.js';

export const INF_MARK_OFFSET = 32;
/** Batch entry: pa, pb, pr (u32 addresses), kind (written by batchAdd). */
export const ENTRY_BYTES = 16;
/** Additions a batch at most in <g>_round (one inversion each): list and pref scratch are sized by it. */
export const BATCH = 2048;
/** How many points ahead the gather touches the point it will copy (8…32 measured alike). */
const GATHER_AHEAD = 16;
/** Points copied before their negations are done (<g>_gather). */
const GATHER_CHUNK = 64;
const P2 = limbs(2n * Q);
const LIMB_MASK = 2 ** LIMB_BITS - 1;

export interface GroupSpec {
  g: 'g1' | 'g2';
  /** field prefix of the emitted field functions */
  f: 'fq' | 'fq2';
  /** bytes of one field element here, and in ffjavascript */
  E: number;
  ffjE: number;
}

export const G1: GroupSpec = { g: 'g1', f: 'fq', E: FQ_BYTES, ffjE: 32 };
export const G2: GroupSpec = { g: 'g2', f: 'fq2', E: 2 * FQ_BYTES, ffjE: 64 };

/** Field calls on addresses given as code; constant addresses through k(). */
function ops(c: CodeBuilder, f: string) {
  return {
    k: (x: number) => c.i32_const(x),
    mul: (a: Code, b: Code, r: Code) => c.call(`${f}_mul`, a, b, r),
    sqr: (a: Code, r: Code) => c.call(`${f}_sqr`, a, r),
    add: (a: Code, b: Code, r: Code) => c.call(`${f}_add`, a, b, r),
    sub: (a: Code, b: Code, r: Code) => c.call(`${f}_sub`, a, b, r),
    copy: (a: Code, r: Code) => c.call(`${f}_copy`, a, r),
    eq: (a: Code, b: Code) => c.call(`${f}_eq`, a, b),
    isZero: (a: Code) => c.call(`${f}_isZero`, a),
  };
}

export function emitGroup(m: ModuleBuilder, scratch: Scratch, s: GroupSpec): void {
  const { g, f, E, ffjE } = s;
  const off = (c: CodeBuilder, p: Code, bytes: number) => (bytes === 0 ? p : c.i32_add(p, c.i32_const(bytes)));
  const isInf = (c: CodeBuilder, p: Code) => c.i32_eq(c.i32_load(p, INF_MARK_OFFSET), c.i32_const(-1));
  const setInf = (c: CodeBuilder, p: Code) => c.i32_store(p, INF_MARK_OFFSET, c.i32_const(-1));
  /** Copies `bytes` (a multiple of 4): 8 at a time, the last 4 alone when a Jacobian point ends on them. */
  const copyBytes = (c: CodeBuilder, from: Code, to: Code, bytes: number) => {
    const code: Code = [];
    let j = 0;
    for (; j + 8 <= bytes; j += 8) code.push(...c.i64_store(to, j, c.i64_load(from, j)));
    if (j < bytes) code.push(...c.i32_store(to, j, c.i32_load(from, j)));
    return code;
  };

  // <g>_fromFfj(src, r, neg): ffjavascript affine (x ‖ y, Montgomery 2^256; all zero = infinity)
  {
    const [fb, c] = fn(m, `${g}_fromFfj`, ['ps', 'pr', 'neg'], [['acc', 'i32']]);
    let any = c.i32_const(0);
    for (let j = 0; j < (2 * ffjE) / 4; j++) any = c.i32_or(any, c.i32_load(c.getLocal('ps'), j * 4));
    fb.addCode([
      ...c.if(c.i32_eqz(any), [...setInf(c, c.getLocal('pr')), ...c.ret([])]),
      ...c.call(`${f}_fromFfj`, c.getLocal('ps'), c.getLocal('pr')),
      ...c.call(`${f}_fromFfj`, off(c, c.getLocal('ps'), ffjE), off(c, c.getLocal('pr'), E)),
      // −y (below 2p: batchAdd tells equal coordinates by a difference ≡ 0, none need be canonical)
      ...c.if(c.getLocal('neg'), c.call(`${f}_neg`, off(c, c.getLocal('pr'), E), off(c, c.getLocal('pr'), E))),
    ]);
  }

  // fq_ffjCanon(p): 1 when the 32 bytes at p, little-endian, are below q (ffjavascript writes
  // nothing else; fromFfj's product needs it: a value past 2q would come out wrong). Once, with G1.
  if (g === 'g1') {
    const [fb, c] = fn(m, 'fq_ffjCanon', ['ps'], [], 'i32');
    const qw = Array.from({ length: 4 }, (_, w) => (Q >> BigInt(64 * w)) & ((1n << 64n) - 1n));
    const code: Code = [];
    for (let w = 3; w >= 0; w--) {
      const x = c.i64_load(c.getLocal('ps'), 8 * w);
      code.push(...c.if(c.i64_lt_u(x, c.i64_const(qw[w]!)), c.ret(c.i32_const(1))));
      code.push(...c.if(c.i64_gt_u(x, c.i64_const(qw[w]!)), c.ret(c.i32_const(0))));
    }
    fb.addCode([...code, ...c.i32_const(0)]); // equal to q
  }

  // <g>_offCurveN(src, n, pb): 1 + the index of the first of n ffjavascript affine points at src
  // that is not on the curve y² = x³ + b (b at pb, ffjavascript form) or has a coordinate ≥ q;
  // 0 when every one is (all zero: the point at infinity). For G1 that is membership (cofactor
  // 1); for G2 it says nothing of the subgroup.
  {
    const [P, X2, X3, Y2, B] = [scratch.take(2 * E), scratch.take(E), scratch.take(E), scratch.take(E), scratch.take(E)];
    const [fb, c] = fn(m, `${g}_offCurveN`, ['src', 'n', 'pb'], [['i', 'i32'], ['ps', 'i32']], 'i32');
    const o = ops(c, f);
    const L = (x: string) => c.getLocal(x);
    let any = c.i32_const(0);
    for (let j = 0; j < (2 * ffjE) / 4; j++) any = c.i32_or(any, c.i32_load(L('ps'), j * 4));
    const canon: Code = [];
    for (let j = 0; j < (2 * ffjE) / 32; j++) canon.push(...c.if(c.i32_eqz(c.call('fq_ffjCanon', off(c, L('ps'), 32 * j))), c.ret(c.i32_add(L('i'), c.i32_const(1)))));
    const reduce = (a: number) => c.call(`${f}_reduce`, o.k(a), o.k(a));
    fb.addCode([
      ...c.call(`${f}_fromFfj`, L('pb'), o.k(B)),
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L('i'), L('n'))),
        c.setLocal('ps', c.i32_add(L('src'), c.i32_mul(L('i'), c.i32_const(2 * ffjE)))),
        c.if(any, [
          ...canon,
          ...c.call(`${g}_fromFfj`, L('ps'), o.k(P), c.i32_const(0)),
          ...o.sqr(o.k(P + E), o.k(Y2)),
          ...o.sqr(o.k(P), o.k(X2)),
          ...o.mul(o.k(X2), o.k(P), o.k(X3)),
          ...o.add(o.k(X3), o.k(B), o.k(X3)),
          ...reduce(X3),
          ...reduce(Y2),
          ...c.if(c.i32_eqz(o.eq(o.k(X3), o.k(Y2))), c.ret(c.i32_add(L('i'), c.i32_const(1)))),
        ]),
        c.setLocal('i', c.i32_add(L('i'), c.i32_const(1))),
        c.br(0),
      )),
      ...c.i32_const(0),
    ]);
  }

  // <g>_gather(idx, n, base, dst): dst[i] = ±base[idx[i] & 0x7fffffff], negated where the top bit
  // of idx[i] is set (a negative signed digit). Points in bucket order, so that the additions after
  // it read memory in sequence: a copy loop has no dependency between iterations, and the
  // processor keeps many of its loads from memory in flight (measured: a first round that reads
  // the points through the indices instead, with no copy, made windows 8–10% slower). Each step
  // also touches both cache lines of the point GATHER_AHEAD places on (a load whose value is
  // dropped: wasm has no prefetch, and a load that may trap is never removed), so that its
  // misses, and its page walk, start early: 21 → 15 ms a window of 2^18 points here. The
  // negations come after each GATHER_CHUNK points' copies, on points in cache: inside the copy
  // loop their dependent chains left fewer of its loads in flight (2^20 points, half of them
  // negated: 66 → 43 ms).
  {
    const [fb, c] = fn(m, `${g}_gather`, ['idx', 'n', 'base', 'dst'], [['i', 'i32'], ['j', 'i32'], ['end', 'i32'], ['e', 'i32'], ['s', 'i32'], ['d', 'i32'], ['t', 'i32'], ['v', 'i32']]);
    const L = (x: string) => c.getLocal(x);
    const copy = copyBytes(c, L('s'), L('d'), 2 * E);
    const ahead = c.i32_add(L('j'), c.i32_const(GATHER_AHEAD));
    const touch = c.if(c.i32_lt_u(ahead, L('n')), [
      ...c.setLocal('t', c.i32_add(L('base'), c.i32_mul(c.i32_and(c.i32_load(c.i32_add(L('idx'), c.i32_mul(ahead, c.i32_const(4)))), c.i32_const(0x7fffffff)), c.i32_const(2 * E)))),
      ...c.drop(c.i32_load(L('t'), 0)),
      ...c.drop(c.i32_load(L('t'), 2 * E - 4)),
    ]);
    const entry = c.i32_load(c.i32_add(L('idx'), c.i32_mul(L('j'), c.i32_const(4))));
    // y ← 2q − y in place, limb by limb (y canonical: one borrow chain, and 2q − y > 0)
    const negY: Code = [];
    for (let part = 0; part < E / FQ_BYTES; part++) {
      for (let j = 0; j < LIMBS; j++) {
        const at = E + part * FQ_BYTES + 4 * j;
        const v = c.i32_sub(c.i32_const(P2[j]!), c.i32_load(L('d'), at));
        negY.push(...c.setLocal('v', j ? c.i32_add(v, c.i32_shr_s(L('v'), c.i32_const(LIMB_BITS))) : v));
        negY.push(...c.i32_store(L('d'), at, j < LIMBS - 1 ? c.i32_and(L('v'), c.i32_const(LIMB_MASK)) : L('v')));
      }
    }
    const loopTo = (body: Code) => c.block(c.loop(c.br_if(1, c.i32_ge_u(L('j'), L('end'))), body, c.setLocal('j', c.i32_add(L('j'), c.i32_const(1))), c.br(0)));
    const at = (j: Code) => c.i32_add(L('dst'), c.i32_mul(j, c.i32_const(2 * E)));
    fb.addCode([
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L('i'), L('n'))),
        c.setLocal('end', c.i32_add(L('i'), c.i32_const(GATHER_CHUNK))),
        c.if(c.i32_gt_u(L('end'), L('n')), c.setLocal('end', L('n'))),
        c.setLocal('j', L('i')),
        c.setLocal('d', at(L('i'))),
        loopTo([
          ...touch,
          ...c.setLocal('s', c.i32_add(L('base'), c.i32_mul(c.i32_and(entry, c.i32_const(0x7fffffff)), c.i32_const(2 * E)))),
          ...copy,
          ...c.setLocal('d', c.i32_add(L('d'), c.i32_const(2 * E))),
        ]),
        c.setLocal('j', L('i')),
        c.setLocal('d', at(L('i'))),
        // a point at infinity stays one (its y is not a coordinate)
        loopTo([
          ...c.if(c.i32_and(c.i32_lt_s(entry, c.i32_const(0)), c.i32_eqz(isInf(c, L('d')))), negY),
          ...c.setLocal('d', c.i32_add(L('d'), c.i32_const(2 * E))),
        ]),
        c.setLocal('i', L('end')),
        c.br(0),
      )),
    ]);
  }

  // <g>_batchAdd(list, n, pref): entries (pa, pb, pr, kind), wasm-batch4.ts (four at a time).
  // A result may overwrite its own entry's inputs (pr = pa), not another entry's.

  // <g>_round(cnt, off, k, src, dst, list, pref, fin, ptrs) → more: one round of the bucket trees.
  // Bucket b (1 ≤ b < k) has cnt[b] points from src + off[b]; pairs of them are added (batches of
  // BATCH entries at list, one inversion each) into dst, an odd one copied along, and cnt/off
  // updated to the sums' run in dst. A bucket of one point is final: copied to fin[b], ptrs[b]
  // set, cnt[b] = 0. Returns whether a bucket still has two points or more (another round).
  {
    const [fb, c] = fn(m, `${g}_round`, ['cnt', 'off', 'k', 'src', 'dst', 'list', 'pref', 'fin', 'ptrs'],
      [['b', 'i32'], ['m', 'i32'], ['s', 'i32'], ['o', 'i32'], ['j', 'i32'], ['pairs', 'i32'], ['nm', 'i32'], ['pending', 'i32'], ['more', 'i32'], ['e', 'i32']]);
    fb.setReturnType('i32');
    const L = (x: string) => c.getLocal(x);
    const k = (x: number) => c.i32_const(x);
    const at4 = (base: string, i: Code) => c.i32_add(L(base), c.i32_mul(i, k(4)));
    const pt = (base: string, i: Code) => c.i32_add(L(base), c.i32_mul(i, k(2 * E)));
    const copyPoint = (from: Code, to: Code) => copyBytes(c, from, to, 2 * E);
    const finalize = (from: Code) => [
      ...copyPoint(from, pt('fin', L('b'))),
      ...c.i32_store(at4('ptrs', L('b')), 0, pt('fin', L('b'))),
      ...c.i32_store(at4('cnt', L('b')), 0, k(0)),
    ];
    const flush = c.if(L('pending'), [...c.call(`${g}_batchAdd`, L('list'), L('pending'), L('pref')), ...c.setLocal('pending', k(0))]);
    const emit = [
      ...c.setLocal('e', c.i32_add(L('list'), c.i32_mul(L('pending'), k(ENTRY_BYTES)))),
      ...c.i32_store(L('e'), 0, pt('src', c.i32_add(L('s'), c.i32_shl(L('j'), k(1))))),
      ...c.i32_store(L('e'), 4, pt('src', c.i32_add(c.i32_add(L('s'), c.i32_shl(L('j'), k(1))), k(1)))),
      ...c.i32_store(L('e'), 8, pt('dst', c.i32_add(L('o'), L('j')))),
      ...c.setLocal('pending', c.i32_add(L('pending'), k(1))),
      ...c.if(c.i32_eq(L('pending'), k(BATCH)), flush),
    ];
    const bucket = [
      ...c.setLocal('m', c.i32_load(at4('cnt', L('b')))),
      ...c.if(c.i32_eqz(L('m')), c.br(1)), // continue (the block below is the loop body)
      ...c.setLocal('s', c.i32_load(at4('off', L('b')))),
      ...c.if(c.i32_eq(L('m'), k(1)), [...finalize(pt('src', L('s'))), ...c.br(1)]),
      ...c.setLocal('pairs', c.i32_shr_u(L('m'), k(1))),
      ...c.setLocal('j', k(0)),
      ...c.block(c.loop(c.br_if(1, c.i32_ge_u(L('j'), L('pairs'))), emit, c.setLocal('j', c.i32_add(L('j'), k(1))), c.br(0))),
      ...c.if(c.i32_and(L('m'), k(1)), copyPoint(pt('src', c.i32_sub(c.i32_add(L('s'), L('m')), k(1))), pt('dst', c.i32_add(L('o'), L('pairs'))))),
      ...c.setLocal('nm', c.i32_add(L('pairs'), c.i32_and(L('m'), k(1)))),
      ...c.i32_store(at4('off', L('b')), 0, L('o')),
      ...c.i32_store(at4('cnt', L('b')), 0, L('nm')),
      ...c.setLocal('o', c.i32_add(L('o'), L('nm'))),
      ...c.if(c.i32_gt_u(L('nm'), k(1)), c.setLocal('more', k(1))),
    ];
    fb.addCode([
      ...c.setLocal('b', k(1)),
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L('b'), L('k'))),
        c.block(bucket),
        c.setLocal('b', c.i32_add(L('b'), k(1))),
        c.br(0),
      )),
      ...flush,
      // the last round: every bucket is now one point in dst
      ...c.if(c.i32_eqz(L('more')), [
        ...c.setLocal('b', k(1)),
        ...c.block(c.loop(
          c.br_if(1, c.i32_ge_u(L('b'), L('k'))),
          c.if(c.i32_eq(c.i32_load(at4('cnt', L('b'))), k(1)), finalize(pt('dst', c.i32_load(at4('off', L('b')))))),
          c.setLocal('b', c.i32_add(L('b'), k(1))),
          c.br(0),
        )),
      ]),
      ...L('more'),
    ]);
  }

  const X = (c: CodeBuilder, p: Code) => p;
  const Y = (c: CodeBuilder, p: Code) => off(c, p, E);
  const Z = (c: CodeBuilder, p: Code) => off(c, p, 2 * E);
  const jZero = (c: CodeBuilder, p: Code) => {
    const code: Code = [];
    for (let j = 0; j < (3 * E) / 4; j++) code.push(...c.i32_store(p, j * 4, c.i32_const(0)));
    return code;
  };

  // <g>_jDouble(p, r)
  {
    const [A, B, C, D, Ee, Fv, x3, y3, z3] = Array.from({ length: 9 }, () => scratch.take(E));
    const [fb, c] = fn(m, `${g}_jDouble`, ['p', 'r']);
    const F = ops(c, f);
    const p = c.getLocal('p');
    const r = c.getLocal('r');
    const k = F.k;
    fb.addCode([
      ...c.if(F.isZero(Z(c, p)), [...copyBytes(c, p, r, 3 * E), ...c.ret([])]),
      ...F.sqr(X(c, p), k(A)),
      ...F.sqr(Y(c, p), k(B)),
      ...F.sqr(k(B), k(C)),
      ...F.add(X(c, p), k(B), k(D)), ...F.sqr(k(D), k(D)), ...F.sub(k(D), k(A), k(D)), ...F.sub(k(D), k(C), k(D)), ...F.add(k(D), k(D), k(D)),
      ...F.add(k(A), k(A), k(Ee)), ...F.add(k(Ee), k(A), k(Ee)),
      ...F.sqr(k(Ee), k(Fv)),
      ...F.sub(k(Fv), k(D), k(x3)), ...F.sub(k(x3), k(D), k(x3)),
      ...F.mul(Y(c, p), Z(c, p), k(z3)), ...F.add(k(z3), k(z3), k(z3)),
      ...F.sub(k(D), k(x3), k(y3)), ...F.mul(k(Ee), k(y3), k(y3)),
      ...F.add(k(C), k(C), k(C)), ...F.add(k(C), k(C), k(C)), ...F.add(k(C), k(C), k(C)),
      ...F.sub(k(y3), k(C), k(y3)),
      ...F.copy(k(x3), X(c, r)), ...F.copy(k(y3), Y(c, r)), ...F.copy(k(z3), Z(c, r)),
    ]);
  }

  // <g>_jAdd(p, q, r) (q Jacobian) and <g>_jAddMixed(p, q, r) (q affine, Z2 = 1)
  for (const mixed of [false, true]) {
    const [z1z1, z2z2, u1, u2, s1, s2, H, rr, I, J, V, x3, y3, z3] = Array.from({ length: 14 }, () => scratch.take(E));
    const [fb, c] = fn(m, mixed ? `${g}_jAddMixed` : `${g}_jAdd`, ['p', 'q', 'r']);
    const F = ops(c, f);
    const p = c.getLocal('p');
    const q = c.getLocal('q');
    const r = c.getLocal('r');
    const k = F.k;
    const code: Code = [];
    if (mixed) {
      code.push(...c.if(isInf(c, q), [...copyBytes(c, p, r, 3 * E), ...c.ret([])]));
      code.push(...c.if(F.isZero(Z(c, p)), [...copyBytes(c, q, r, 2 * E), ...F.copy(k(FQ.one), Z(c, r)), ...c.ret([])]));
      code.push(...F.copy(X(c, p), k(u1)), ...F.copy(Y(c, p), k(s1)));
    } else {
      code.push(...c.if(F.isZero(Z(c, p)), [...copyBytes(c, q, r, 3 * E), ...c.ret([])]));
      code.push(...c.if(F.isZero(Z(c, q)), [...copyBytes(c, p, r, 3 * E), ...c.ret([])]));
      code.push(...F.sqr(Z(c, q), k(z2z2)));
      code.push(...F.mul(X(c, p), k(z2z2), k(u1)));
      code.push(...F.mul(Y(c, p), Z(c, q), k(s1)), ...F.mul(k(s1), k(z2z2), k(s1)));
    }
    code.push(
      ...F.sqr(Z(c, p), k(z1z1)),
      ...F.mul(X(c, q), k(z1z1), k(u2)),
      ...F.mul(Y(c, q), Z(c, p), k(s2)), ...F.mul(k(s2), k(z1z1), k(s2)),
      ...F.sub(k(u2), k(u1), k(H)),
      ...F.sub(k(s2), k(s1), k(rr)), ...F.add(k(rr), k(rr), k(rr)),
      ...c.if(F.isZero(k(H)), [
        ...c.if(F.isZero(k(rr)), c.call(`${g}_jDouble`, p, r), jZero(c, r)),
        ...c.ret([]),
      ]),
      ...F.add(k(H), k(H), k(I)), ...F.sqr(k(I), k(I)),
      ...F.mul(k(H), k(I), k(J)),
      ...F.mul(k(u1), k(I), k(V)),
      ...F.sqr(k(rr), k(x3)), ...F.sub(k(x3), k(J), k(x3)), ...F.sub(k(x3), k(V), k(x3)), ...F.sub(k(x3), k(V), k(x3)),
      ...F.sub(k(V), k(x3), k(y3)), ...F.mul(k(rr), k(y3), k(y3)),
      ...F.mul(k(s1), k(J), k(s1)), ...F.add(k(s1), k(s1), k(s1)), ...F.sub(k(y3), k(s1), k(y3)),
    );
    if (mixed) {
      // Z3 = (Z1 + H)² − Z1Z1 − HH = 2·Z1·H
      code.push(...F.mul(Z(c, p), k(H), k(z3)), ...F.add(k(z3), k(z3), k(z3)));
    } else {
      // Z3 = ((Z1 + Z2)² − Z1Z1 − Z2Z2)·H = 2·Z1·Z2·H
      code.push(...F.mul(Z(c, p), Z(c, q), k(z3)), ...F.add(k(z3), k(z3), k(z3)), ...F.mul(k(z3), k(H), k(z3)));
    }
    code.push(...F.copy(k(x3), X(c, r)), ...F.copy(k(y3), Y(c, r)), ...F.copy(k(z3), Z(c, r)));
    fb.addCode(code);
  }

  // <g>_reduce(ptrs, K, out): Σ k·B_k for k < K, B_k the affine point at ptrs[k] (0: empty), by
  // running sums from the top bucket; out is Jacobian.
  {
    const [S, T] = [scratch.take(3 * E), scratch.take(3 * E)];
    const [fb, c] = fn(m, `${g}_reduce`, ['ptrs', 'K', 'out'], [['k', 'i32'], ['a', 'i32']]);
    const F = ops(c, f);
    const L = (x: string) => c.getLocal(x);
    fb.addCode([
      ...jZero(c, F.k(S)), ...jZero(c, F.k(T)),
      ...c.setLocal('k', c.i32_sub(L('K'), c.i32_const(1))),
      ...c.block(c.loop(
        c.br_if(1, c.i32_eqz(L('k'))),
        c.setLocal('a', c.i32_load(c.i32_add(L('ptrs'), c.i32_mul(L('k'), c.i32_const(4))), 0)),
        c.if(L('a'), c.call(`${g}_jAddMixed`, F.k(S), L('a'), F.k(S))),
        c.if(c.i32_eqz(F.isZero(Z(c, F.k(S)))), c.call(`${g}_jAdd`, F.k(T), F.k(S), F.k(T))),
        c.setLocal('k', c.i32_sub(L('k'), c.i32_const(1))),
        c.br(0),
      )),
      ...copyBytes(c, F.k(T), L('out'), 3 * E),
    ]);
  }

  // <g>_toFfjJac(src, r): Jacobian here → ffjavascript's Jacobian bytes
  {
    const [fb, c] = fn(m, `${g}_toFfjJac`, ['ps', 'pr']);
    fb.addCode([0, 1, 2].flatMap((i) => c.call(`${f}_toFfj`, off(c, c.getLocal('ps'), i * E), off(c, c.getLocal('pr'), i * ffjE))));
  }
}
