// <g>_batchAdd four additions at a time (WebAssembly SIMD, wasm-simd.ts): the batch-affine
// addition of wasm-curve.ts, whose six field products an addition are most of an MSM's time,
// with entry k in lane k mod 4 of group ⌊k/4⌋. Each lane keeps its own chain of prefix products
// (Montgomery's trick); the four chains' totals share one inversion. Per group:
//  1. the four entries' coordinates read into lanes (kept in runs for step 4); d = xb − xa + 2q
//     and the slope's numerator yb − ya + 2q. Where every point is finite and no d ≡ 0 (the
//     rule), all four are ADD; otherwise the group is done entry by entry as wasm-curve.ts does
//     (kinds ADD, DBL, COPY, INF below; 3·xa² over 2·ya for a doubling), COPY and INF entries and lanes
//     past n getting d = 1 so that their lane's chain goes on unchanged.
//  2. prefix products of d, lane by lane.
//  3. the four totals' inverses (one inversion, Montgomery's trick again).
//  4. from the last group back: 1/d, λ, x3 = λ² − xa − xb, y3 = λ(xa − x3) − ya; lanes of ADD and
//     DBL entries stored, COPY and INF entries done as wasm-curve.ts does them. A lane whose point
//     is at infinity computes garbage in that lane only (lanes never mix) and is not stored.
// A result may overwrite its own entry's inputs (pr = pa), not another entry's: everything is read
// in step 1. G1 over Fq; G2 over Fq2, an element's lane form being its c0 run then its c1 run.
// The products are calls (wasm-simd.ts emitMul4 says why): fq_mul4, and fq2_mul4 by Karatsuba.
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { FQ, FQ_BYTES, LIMBS, Q, limbs, unpackLimb, type Scratch } from './wasm-field.js';
import { emitMul4, normalize4, simdFn, simdOps } from './wasm-simd.js';

const FE = FQ_BYTES;
/** Bytes of a run of four Fq elements in lane form */
const FRUN = 4 * FE;
const INF_MARK_OFFSET = 32;
/** an entry's kind: an addition, a doubling, one operand at infinity (the other copied), P + (−P) */
const [ADD, DBL, COPY, INF] = [0, 1, 2, 3];
const P2 = limbs(2n * Q);
const P4 = limbs(4n * Q);
const range = (k: number) => Array.from({ length: k }, (_, j) => j);
const components = (g: 'g1' | 'g2') => (g === 'g1' ? 1 : 2);

/** Bytes of scratch <g>_batchAdd takes at `pref` for n entries: runs of d, numerators, prefix products, xa, xb, ya. */
export const batch4ScratchBytes = (g: 'g1' | 'g2', n: number) => 6 * Math.ceil(n / 4) * FRUN * components(g);

/** Lane-form Fq arithmetic on v128 locals <pre>0_j … (component, limb), for the emitters below. */
function lanes(c: CodeBuilder) {
  const v = simdOps(c);
  const L = (x: string) => c.getLocal(x);
  const name = (pre: string, k: number, j: number) => `${pre}${k}_${j}`;
  const set = (pre: string, k: number, val: (j: number) => Code) => range(LIMBS).flatMap((j) => c.setLocal(name(pre, k, j), val(j)));
  const get = (pre: string, k: number) => (j: number) => L(name(pre, k, j));
  const load = (pre: string, k: number, p: Code) => set(pre, k, (j) => v.load(p, 16 * j));
  const store = (p: Code, pre: string, k: number) => range(LIMBS).flatMap((j) => v.store(p, 16 * j, L(name(pre, k, j))));
  /** <pre>k normalized: the carries of its signed limbs */
  const norm = (pre: string, k: number) => normalize4(c, `${pre}${k}_`);
  /** <pre>k (normalized) less the constant of limbs `by` in the lanes where that stays ≥ 0 (uses V0_ and MASK) */
  const less = (pre: string, k: number, by: number[]) => [
    ...set('V', 0, (j) => v.sub32(L(name(pre, k, j)), v.splat32(by[j]!))),
    ...normalize4(c, 'V0_'),
    ...c.setLocal('MASK', v.shrS32(L(name('V', 0, LIMBS - 1)), 31)), // lanes where V went negative keep <pre>
    ...set(pre, k, (j) => v.select(L(name(pre, k, j)), L(name('V', 0, j)), L('MASK'))),
  ];
  /** <pre>k below 4q → below 2q */
  const below2q = (pre: string, k: number) => less(pre, k, P2);
  return { v, L, name, set, get, load, store, norm, less, below2q };
}
/** v128 locals <pre>k_j for each prefix, component and limb; and below2q's (V0_j, MASK) */
const vecLocals = (pres: string[], comps: number): Array<[string, 'v128']> =>
  pres.flatMap((p) => range(comps).flatMap((k) => range(LIMBS).map((j) => [`${p}${k}_${j}`, 'v128'] as [string, 'v128'])));
const below2qLocals = (): Array<[string, 'v128']> => [...vecLocals(['V'], 1), ['MASK', 'v128']];

/**
 * fq2_mul4(pa, pb, pr): runs of four Fq2 elements (c0 run ‖ c1 run), pr may be pa or pb. Karatsuba
 * as fq2_mul: v0 = a0b0, v1 = a1b1, r0 = v0 − v1, r1 = (a0 + a1)(b0 + b1) − v0 − v1. The sums are
 * below 4q, so their product (16q² < 2^261·q) is below 2q too.
 */
function emitFq2Mul4(m: ModuleBuilder, scratch: Scratch): void {
  const [v0, v1, sa, sb] = range(4).map(() => scratch.take(FRUN));
  const [f, c] = simdFn(m, 'fq2_mul4', ['pa', 'pb', 'pr'], [...vecLocals(['A', 'B', 'M'], 1), ...below2qLocals()]);
  const { v, L, get, set, load, store, norm, below2q } = lanes(c);
  const K = (x: number) => c.i32_const(x);
  const hi = (p: string) => c.i32_add(L(p), K(FRUN));
  const sum = (p: string, to: number) => [...load('A', 0, L(p)), ...load('B', 0, hi(p)), ...set('A', 0, (j) => v.add32(get('A', 0)(j), get('B', 0)(j))), ...norm('A', 0), ...store(K(to), 'A', 0)];
  f.addCode([
    ...c.call('fq_mul4', L('pa'), L('pb'), K(v0)),
    ...c.call('fq_mul4', hi('pa'), hi('pb'), K(v1)),
    ...sum('pa', sa), ...sum('pb', sb),
    ...c.call('fq_mul4', K(sa), K(sb), K(sa)),
    ...load('A', 0, K(v0)), ...load('B', 0, K(v1)),
    // r1 = s − v0 − v1 + 4q, in (0, 6q); r0 = v0 − v1 + 2q, in (0, 4q)
    ...set('M', 0, (j) => v.add32(v.sub32(v.sub32(v.load(K(sa), 16 * j), get('A', 0)(j)), get('B', 0)(j)), v.splat32(P4[j]!))),
    ...set('A', 0, (j) => v.add32(v.sub32(get('A', 0)(j), get('B', 0)(j)), v.splat32(P2[j]!))),
    ...norm('A', 0), ...below2q('A', 0), ...store(L('pr'), 'A', 0),
    ...set('B', 0, (j) => get('M', 0)(j)),
    ...norm('B', 0), ...below2q('B', 0), ...below2q('B', 0), ...store(hi('pr'), 'B', 0),
  ]);
}

export function emitBatchAdd4(m: ModuleBuilder, scratch: Scratch, g: 'g1' | 'g2'): void {
  const comps = components(g);
  const E = comps * FE; // a field element in the usual form
  const RUN = comps * FRUN; // four of them in lane form
  const F = g === 'g1' ? 'fq' : 'fq2';
  if (g === 'g1') emitMul4(m, Q, 'fq_mul4');
  else emitFq2Mul4(m, scratch);
  const [tot, invs, tmp, slowD, slowN] = [scratch.take(RUN), scratch.take(4 * E), scratch.take(E), scratch.take(4 * E), scratch.take(4 * E)];
  // runs in memory for the products' operands: the inverse I, 1/d then λ in sL, x3 and y3, one
  const [sI, sL, sX, sY, sOne] = range(5).map(() => scratch.take(RUN));
  const ptrs = range(4).flatMap((l) => [[`pa${l}`, 'i32'], [`pb${l}`, 'i32']] as Array<[string, 'i32']>);
  const [f, c] = simdFn(m, `${g}_batchAdd`, ['list', 'n', 'pref'], [
    ...(['k', 'e', 'pa', 'pb', 'kind', 'g', 'ng', 'D', 'N', 'PF', 'RXA', 'RXB', 'RYA', 'dk', 'nk', 'pr', 'end'].map((x) => [x, 'i32'] as [string, 'i32'])),
    ...ptrs, ...vecLocals(['XA', 'XB', 'YA', 'YB', 'X3', 'Y3', 'W'], comps), ...below2qLocals(),
  ]);
  const { v, L, name, set, get, store, norm, below2q } = lanes(c);
  const K = (x: number) => c.i32_const(x);
  const each = (fn: (k: number) => Code): Code => range(comps).flatMap(fn);
  const run = (base: string, grp: Code) => c.i32_add(L(base), c.i32_mul(grp, K(RUN)));
  const comp = (p: Code, k: number) => (k === 0 ? p : c.i32_add(p, K(k * FRUN)));
  const loadRun = (pre: string, p: Code) => each((k) => set(pre, k, (j) => v.load(comp(p, k), 16 * j)));
  const storeRun = (p: Code, pre: string) => each((k) => store(comp(p, k), pre, k));
  const mul = (a: Code, b: Code, r: Code) => c.call(`${F}_mul4`, a, b, r);
  const isInf = (p: Code) => c.i32_eq(c.i32_load(p, INF_MARK_OFFSET), K(-1));
  const entry = (k: Code) => c.i32_add(L('list'), c.i32_mul(k, K(16)));
  const el = (base: number, k: Code) => c.i32_add(K(base), c.i32_mul(k, K(E)));
  const laneK = (l: number) => c.i32_add(c.i32_shl(L('g'), K(2)), K(l));
  /** four elements in the usual form at src → a run in lane form at dst (and back) */
  const toRun = (src: Code, dst: Code) => each((k) => [
    ...range(4).flatMap((e) => c.call('fq_copy', c.i32_add(src, K(E * e + FE * k)), c.i32_add(dst, K(FRUN * k + FE * e)))),
    ...c.call('ntt_lanes', comp(dst, k), K(1), K(1)),
  ]);
  const fromRun = (src: Code, dst: number) => each((k) => [
    ...c.call('ntt_lanes', comp(src, k), K(1), K(0)),
    ...range(4).flatMap((e) => c.call('fq_copy', c.i32_add(comp(src, k), K(FE * e)), K(dst + E * e + FE * k))),
  ]);

  // the four entries' points: entries past n read entry 4g's (their lanes are not stored)
  const lanePtr = (l: number) => [
    ...c.setLocal('k', laneK(l)),
    ...c.if(c.i32_ge_u(L('k'), L('n')), c.setLocal('k', c.i32_shl(L('g'), K(2)))),
    ...c.setLocal(`pa${l}`, c.i32_load(entry(L('k')), 0)),
    ...c.setLocal(`pb${l}`, c.i32_load(entry(L('k')), 4)),
  ];
  const gather = (pre: string, p: 'pa' | 'pb', offset: number) => each((k) => range(LIMBS).flatMap((j) =>
    range(4).flatMap((l) => c.setLocal(name(pre, k, j), v.load32Lane(L(`${p}${l}`), offset + FE * k + 4 * j, L(name(pre, k, j)), l)))));

  // 1, entry by entry (a group whose points are not all finite, or with d ≡ 0 in a lane): kinds,
  // d's and numerators in the usual form, then into the group's runs
  const y = (p: string) => c.i32_add(L(p), K(E));
  const slow = [
    ...c.setLocal('k', K(0)),
    ...c.block(c.loop(
      c.br_if(1, c.i32_ge_u(L('k'), K(4))),
      c.setLocal('dk', el(slowD, L('k'))),
      c.setLocal('nk', el(slowN, L('k'))),
      c.setLocal('kind', K(COPY)), // lanes past n too
      c.setLocal('e', entry(c.i32_add(c.i32_shl(L('g'), K(2)), L('k')))),
      c.if(c.i32_lt_u(c.i32_add(c.i32_shl(L('g'), K(2)), L('k')), L('n')), [
        ...c.setLocal('pa', c.i32_load(L('e'), 0)),
        ...c.setLocal('pb', c.i32_load(L('e'), 4)),
        ...c.if(c.i32_eqz(c.i32_or(isInf(L('pa')), isInf(L('pb')))), [
          ...c.call(`${F}_sub`, L('pb'), L('pa'), L('dk')),
          ...c.call(`${F}_sub`, y('pb'), y('pa'), L('nk')),
          ...c.setLocal('kind', K(ADD)),
          ...c.if(c.call(`${F}_isZero`, L('dk')),
            c.if(c.i32_and(c.call(`${F}_isZero`, L('nk')), c.i32_eqz(c.call(`${F}_isZero`, y('pa')))), [
              ...c.setLocal('kind', K(DBL)),
              ...c.call(`${F}_add`, y('pa'), y('pa'), L('dk')),
              ...c.call(`${F}_sqr`, L('pa'), L('nk')),
              ...c.call(`${F}_add`, L('nk'), L('nk'), K(tmp)),
              ...c.call(`${F}_add`, L('nk'), K(tmp), L('nk')),
            ], c.setLocal('kind', K(INF)))),
        ]),
        ...c.i32_store(L('e'), 12, L('kind')),
      ]),
      c.if(c.i32_ge_u(L('kind'), K(COPY)), [...c.call(`${F}_copy`, K(FQ.one), L('dk')), ...c.call(`${F}_copy`, K(FQ.one), L('nk'))]),
      c.setLocal('k', c.i32_add(L('k'), K(1))),
      c.br(0),
    )),
    ...toRun(K(slowD), run('D', L('g'))),
    ...toRun(K(slowN), run('N', L('g'))),
  ];
  // d ≡ 0 (mod q) in a lane: each component of d = xb − xa + 2q is in (0, 4q), so in {q, 2q, 3q}
  // (and 0 < d: the components are limb for limb one of those or not zero)
  const zero = (k: number) => [1n, 2n, 3n].map((t) => {
    const kq = limbs(t * Q);
    return range(LIMBS).map((j) => v.eq32(get('W', k)(j), v.splat32(kq[j]!))).reduce((a, b) => v.and(a, b));
  }).reduce((a, b) => v.or(a, b));
  const zeroLanes = range(comps).map(zero).reduce((a, b) => v.and(a, b));
  const anyInf = range(4).map((l) => c.i32_or(isInf(L(`pa${l}`)), isInf(L(`pb${l}`)))).reduce((a, b) => c.i32_or(a, b));
  const diff = (a: string, b: string) => each((k) => [...set('W', k, (j) => v.add32(v.sub32(get(b, k)(j), get(a, k)(j)), v.splat32(P2[j]!))), ...norm('W', k)]);
  // a group of four doublings by the entries' pointers (pa = pb: a scalar multiplication's steps,
  // worker-body.ts 'scale'), none at infinity: d = 2·ya and the numerator 3·xa² in lanes too
  const dblLanes = range(4).map((l) => c.i32_eq(L(`pa${l}`), L(`pb${l}`))).reduce((a, b) => c.i32_and(a, b));
  // 2·ya ≡ 0: ya ≡ 0, 2·ya (in [0, 4q)) is 0 or 2q
  const zeroOrTwoQ = (k: number) => [0n, 2n].map((t) => {
    const kq = limbs(t * Q);
    return range(LIMBS).map((j) => v.eq32(get('W', k)(j), v.splat32(kq[j]!))).reduce((a, b) => v.and(a, b));
  }).reduce((a, b) => v.or(a, b));
  const kinds = (kind: number) => range(4).flatMap((l) => c.if(c.i32_lt_u(laneK(l), L('n')), c.i32_store(entry(laneK(l)), 12, K(kind))));
  const doublings = [
    ...each((k) => [...set('W', k, (j) => v.add32(get('YA', k)(j), get('YA', k)(j))), ...norm('W', k)]),
    ...c.if(v.anyTrue(range(comps).map(zeroOrTwoQ).reduce((a, b) => v.and(a, b))), slow, [
      ...storeRun(run('D', L('g')), 'W'),
      ...mul(run('RXA', L('g')), run('RXA', L('g')), run('N', L('g'))),
      // 3·xa² from below 2q: below 6q, then below 4q (the products take operands below 4q)
      ...each((k) => [
        ...set('W', k, (j) => v.load(comp(run('N', L('g')), k), 16 * j)),
        ...set('W', k, (j) => v.add32(v.add32(get('W', k)(j), get('W', k)(j)), get('W', k)(j))),
        ...norm('W', k), ...below2q('W', k),
      ]),
      ...storeRun(run('N', L('g')), 'W'),
      ...kinds(DBL),
    ]),
  ];
  const phase1 = c.block(c.loop(
    c.br_if(1, c.i32_ge_u(L('g'), L('ng'))),
    range(4).flatMap(lanePtr),
    gather('XA', 'pa', 0), gather('XB', 'pb', 0), gather('YA', 'pa', E), gather('YB', 'pb', E),
    storeRun(run('RXA', L('g')), 'XA'), storeRun(run('RXB', L('g')), 'XB'), storeRun(run('RYA', L('g')), 'YA'),
    c.if(c.i32_and(c.i32_eqz(anyInf), dblLanes), doublings, [
      ...diff('XA', 'XB'),
      ...c.if(c.i32_or(anyInf, v.anyTrue(zeroLanes)), slow, [
        ...storeRun(run('D', L('g')), 'W'),
        ...diff('YA', 'YB'),
        ...storeRun(run('N', L('g')), 'W'),
        ...kinds(ADD),
      ]),
    ]),
    c.setLocal('g', c.i32_add(L('g'), K(1))),
    c.br(0),
  ));

  // 2. prefix products: PF[g] = D[0]·…·D[g] lane by lane
  const phase2 = c.block(c.loop(
    c.br_if(1, c.i32_ge_u(L('g'), L('ng'))),
    c.if(L('g'), c.setLocal('pr', run('PF', c.i32_sub(L('g'), K(1)))), c.setLocal('pr', K(sOne))),
    mul(L('pr'), run('D', L('g')), run('PF', L('g'))),
    c.setLocal('g', c.i32_add(L('g'), K(1))),
    c.br(0),
  ));

  // 3. the four totals' inverses, in the usual form at invs, then in lane form at sI
  const t = (i: number) => K(tot + i * E);
  const iv = (i: number) => K(invs + i * E);
  const fm = (a: Code, b: Code, r: Code) => c.call(`${F}_mul`, a, b, r);
  const phase3 = [
    ...range(RUN / 8).flatMap((w) => c.i64_store(K(sX), 8 * w, c.i64_load(run('PF', c.i32_sub(L('ng'), K(1))), 8 * w))),
    ...fromRun(K(sX), tot),
    // invs[1] = t0·t1, invs[2] = t0·t1·t2, invs[3] = all four; their inverse; then back down
    ...fm(t(0), t(1), iv(1)),
    ...fm(iv(1), t(2), iv(2)),
    ...fm(iv(2), t(3), iv(3)),
    ...c.call(`${F}_inv`, iv(3), K(tmp)), // 1/(t0 t1 t2 t3)
    ...fm(K(tmp), iv(2), iv(3)), // 1/t3
    ...fm(K(tmp), t(3), K(tmp)), // 1/(t0 t1 t2)
    ...fm(K(tmp), iv(1), iv(2)), // 1/t2
    ...fm(K(tmp), t(2), K(tmp)), // 1/(t0 t1)
    ...fm(K(tmp), t(0), iv(1)), // 1/t1
    ...fm(K(tmp), t(1), iv(0)), // 1/t0
    ...toRun(K(invs), K(sI)),
  ];

  // 4. from the last group back
  const storeLane = (l: number) => [
    ...c.setLocal('pr', c.i32_load(L('e'), 8)),
    ...each((k) => range(LIMBS).flatMap((j) => [
      ...v.store32Lane(L('pr'), FE * k + 4 * j, L(name('X3', k, j)), l),
      ...v.store32Lane(L('pr'), E + FE * k + 4 * j, L(name('Y3', k, j)), l),
    ])),
  ];
  const copyPoint = (from: Code) => range((2 * E) / 4).flatMap((w) => c.i32_store(L('pr'), 4 * w, c.i32_load(from, 4 * w)));
  const finishLane = (l: number) => c.if(c.i32_lt_u(laneK(l), L('n')), [
    ...c.setLocal('e', entry(laneK(l))),
    ...c.setLocal('kind', c.i32_load(L('e'), 12)),
    ...c.if(c.i32_lt_u(L('kind'), K(COPY)), storeLane(l), [
      ...c.setLocal('pr', c.i32_load(L('e'), 8)),
      ...c.if(c.i32_eq(L('kind'), K(INF)), c.i32_store(L('pr'), INF_MARK_OFFSET, K(-1)),
        c.if(isInf(L(`pa${l}`)), copyPoint(L(`pb${l}`)), copyPoint(L(`pa${l}`)))),
    ]),
  ]);
  const phase4 = c.block(c.loop(
    range(4).flatMap(lanePtr), // for COPY entries
    loadRun('XA', run('RXA', L('g'))), loadRun('XB', run('RXB', L('g'))), loadRun('YA', run('RYA', L('g'))),
    // 1/d = I·PF[g − 1] (I itself at g = 0); I = I·D[g]; λ = numerator · 1/d
    c.if(L('g'), [
      ...mul(K(sI), run('PF', c.i32_sub(L('g'), K(1))), K(sL)),
      ...mul(K(sI), run('D', L('g')), K(sI)),
      ...mul(run('N', L('g')), K(sL), K(sL)),
    ], mul(run('N', L('g')), K(sI), K(sL))),
    // x3 = λ² − xa − xb + 4q, in (0, 6q): below 2q after two conditional subtractions
    mul(K(sL), K(sL), K(sX)),
    each((k) => [
      ...set('X3', k, (j) => v.add32(v.sub32(v.sub32(v.load(comp(K(sX), k), 16 * j), get('XA', k)(j)), get('XB', k)(j)), v.splat32(P4[j]!))),
      ...norm('X3', k), ...below2q('X3', k), ...below2q('X3', k),
      // y3 = λ·(xa − x3 + 2q) − ya + 2q
      ...set('Y3', k, (j) => v.add32(v.sub32(get('XA', k)(j), get('X3', k)(j)), v.splat32(P2[j]!))),
      ...norm('Y3', k), ...below2q('Y3', k),
    ]),
    storeRun(K(sY), 'Y3'),
    mul(K(sL), K(sY), K(sY)),
    each((k) => [
      ...set('Y3', k, (j) => v.add32(v.sub32(v.load(comp(K(sY), k), 16 * j), get('YA', k)(j)), v.splat32(P2[j]!))),
      ...norm('Y3', k), ...below2q('Y3', k),
    ]),
    range(4).flatMap(finishLane),
    c.br_if(1, c.i32_eqz(L('g'))),
    c.setLocal('g', c.i32_sub(L('g'), K(1))),
    c.br(0),
  ));

  f.addCode([
    ...c.if(c.i32_eqz(L('n')), c.ret([])),
    ...c.setLocal('ng', c.i32_shr_u(c.i32_add(L('n'), K(3)), K(2))),
    ...c.setLocal('D', L('pref')),
    ...c.setLocal('N', run('D', L('ng'))),
    ...c.setLocal('PF', run('N', L('ng'))),
    ...c.setLocal('RXA', run('PF', L('ng'))),
    ...c.setLocal('RXB', run('RXA', L('ng'))),
    ...c.setLocal('RYA', run('RXB', L('ng'))),
    // one in lane form (Fq2's: 1 + 0u)
    ...range(RUN / 8).flatMap((w) => c.i64_store(K(sOne), 8 * w, c.i64_const(0))),
    ...range(LIMBS).flatMap((j) => v.store(K(sOne), 16 * j, v.load32Splat(K(FQ.one), 4 * j))),
    ...c.setLocal('g', K(0)),
    ...phase1,
    ...c.setLocal('g', K(0)),
    ...phase2,
    ...phase3,
    ...c.setLocal('g', c.i32_sub(L('ng'), K(1))),
    ...phase4,
  ]);
}

/**
 * <g>_fromFfjN(src, dst, n): n points from ffjavascript's affine form (32-byte coordinates,
 * Montgomery 2^256; all zero = infinity) to ours, as <g>_fromFfj does one (unpacked to 29-bit
 * limbs, times 2^266 mod q, made canonical), four at a time: each coordinate of four points
 * unpacked into a lane-form run, one fq_mul4 for the four, the subtraction of q where it stays
 * ≥ 0 in lanes. A worker converts every block of points it works on: 111–124 ns a G1 point one
 * at a time (~7% of a real 2^20 proof's thread time), 77 ns so. The last n mod 4 go one at a time.
 */
export function emitFromFfjN(m: ModuleBuilder, scratch: Scratch, g: 'g1' | 'g2'): void {
  const comps = 2 * components(g); // Fq coordinates a point: x, y (G1); x.c0, x.c1, y.c0, y.c1 (G2)
  const ffjPS = 32 * comps;
  const PS = FE * comps;
  const [run, kin] = [scratch.take(FRUN), scratch.take(FRUN)];
  const [f, c] = simdFn(m, `${g}_fromFfjN`, ['src', 'dst', 'n'], [['i', 'i32'], ['ps', 'i32'], ['pd', 'i32'], ...vecLocals(['X'], 1), ...below2qLocals()]);
  const { v, L, get, load, less } = lanes(c);
  const K = (x: number) => c.i32_const(x);
  const point = (base: string, l: number, size: number) => c.i32_add(L(base), c.i32_mul(c.i32_add(L('i'), K(l)), K(size)));
  const group: Code = [];
  for (let k = 0; k < comps; k++) {
    // limb j of coordinate k of point l at run + 16j + 4l
    for (let l = 0; l < 4; l++) {
      group.push(...c.setLocal('ps', point('src', l, ffjPS)));
      for (let j = 0; j < LIMBS; j++) group.push(...c.i64_store32(K(run), 16 * j + 4 * l, unpackLimb(c, L('ps'), 32 * k, j)));
    }
    group.push(...c.call('fq_mul4', K(run), K(kin), K(run)));
    // below 2q: less q where that stays ≥ 0 (canonical), then each lane to its point
    group.push(...load('X', 0, K(run)), ...less('X', 0, limbs(Q)));
    for (let l = 0; l < 4; l++) {
      group.push(...c.setLocal('pd', point('dst', l, PS)));
      for (let j = 0; j < LIMBS; j++) group.push(...v.store32Lane(L('pd'), FE * k + 4 * j, get('X', 0)(j), l));
    }
  }
  // a point at infinity (all zero) gets the mark instead (its coordinates are 0, unused)
  for (let l = 0; l < 4; l++) {
    let any = c.i32_const(0);
    for (let w = 0; w < ffjPS / 4; w++) any = c.i32_or(any, c.i32_load(point('src', l, ffjPS), 4 * w));
    group.push(...c.if(c.i32_eqz(any), c.i32_store(point('dst', l, PS), INF_MARK_OFFSET, K(-1))));
  }
  f.addCode([
    // 2^266 mod q in every lane
    ...range(LIMBS).flatMap((j) => v.store(K(kin), 16 * j, v.load32Splat(K(FQ.kIn), 4 * j))),
    ...c.setLocal('i', K(0)),
    ...c.block(c.loop(
      c.br_if(1, c.i32_gt_u(c.i32_add(L('i'), K(4)), L('n'))),
      group,
      c.setLocal('i', c.i32_add(L('i'), K(4))),
      c.br(0),
    )),
    ...c.block(c.loop(
      c.br_if(1, c.i32_ge_u(L('i'), L('n'))),
      c.call(`${g}_fromFfj`, point('src', 0, ffjPS), point('dst', 0, PS), K(0)),
      c.setLocal('i', c.i32_add(L('i'), K(1))),
      c.br(0),
    )),
  ]);
}
