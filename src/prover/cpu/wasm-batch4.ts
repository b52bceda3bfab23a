// g1_batchAdd four additions at a time (WebAssembly SIMD, wasm-simd.ts): the batch-affine
// addition of wasm-curve.ts, whose six field products an addition are most of a G1 MSM's time,
// with entry k in lane k mod 4 of group ⌊k/4⌋. Each lane keeps its own chain of prefix products
// (Montgomery's trick); the four chains' totals share one inversion. Per group:
//  1. the four entries' coordinates read into lanes (kept in runs for step 4); d = xb − xa + 2q
//     and the slope's numerator yb − ya + 2q. Where every point is finite and no d ≡ 0 (the
//     rule), all four are ADD; otherwise the group is done entry by entry as wasm-curve.ts does
//     (kinds ADD, DBL, COPY, INF; 3·xa² over 2·ya for a doubling), COPY and INF entries and lanes
//     past n getting d = 1 so that their lane's chain goes on unchanged.
//  2. prefix products of d, lane by lane.
//  3. the four totals' inverses (one fq_inv, Montgomery's trick again).
//  4. from the last group back: 1/d, λ, x3 = λ² − xa − xb, y3 = λ(xa − x3) − ya; lanes of ADD and
//     DBL entries stored, COPY and INF entries done as wasm-curve.ts does them. A lane whose point
//     is at infinity computes garbage in that lane only (lanes never mix) and is not stored.
// The products are calls of fq_mul4 (wasm-simd.ts emitMul4 says why). A result may overwrite its
// own entry's inputs (pr = pa), not another entry's: everything is read in step 1.
import type { Code, ModuleBuilder } from 'wasmbuilder';
import { FQ, FQ_BYTES, LIMBS, Q, limbs, type Scratch } from './wasm-field.js';
import { emitMul4, normalize4, simdFn, simdOps } from './wasm-simd.js';

const E = FQ_BYTES;
const RUN = 4 * E;
const INF_MARK_OFFSET = 32;
const [ADD, DBL, COPY, INF] = [0, 1, 2, 3];
const P2 = limbs(2n * Q);
const P4 = limbs(4n * Q);
const range = (k: number) => Array.from({ length: k }, (_, j) => j);

/** Bytes of scratch g1_batchAdd takes at `pref` for n entries: runs of d, numerators, prefix products, xa, xb, ya. */
export const batch4ScratchBytes = (n: number) => 6 * Math.ceil(n / 4) * RUN;

export function emitBatchAdd4(m: ModuleBuilder, scratch: Scratch): void {
  emitMul4(m, Q, 'fq_mul4');
  const [tot, invs, tmp] = [scratch.take(RUN), scratch.take(RUN), scratch.take(E)];
  // runs in memory for the products' operands: the inverse I, 1/d then λ in Lm, x3 and y3
  const [sI, sL, sX, sY, sOne] = range(5).map(() => scratch.take(RUN));
  const vecs = ['XA', 'XB', 'YA', 'YB', 'X3', 'Y3', 'V', 'U'].flatMap((p) => range(LIMBS).map((j) => [`${p}${j}`, 'v128'] as [string, 'v128']));
  const ptrs = range(4).flatMap((l) => [[`pa${l}`, 'i32'], [`pb${l}`, 'i32']] as Array<[string, 'i32']>);
  const [f, c] = simdFn(m, 'g1_batchAdd', ['list', 'n', 'pref'], [
    ...(['k', 'e', 'pa', 'pb', 'kind', 'g', 'ng', 'D', 'N', 'PF', 'RXA', 'RXB', 'RYA', 'dk', 'nk', 'pr', 'end'].map((x) => [x, 'i32'] as [string, 'i32'])),
    ...ptrs, ...vecs,
  ]);
  const v = simdOps(c);
  const L = (x: string) => c.getLocal(x);
  const K = (x: number) => c.i32_const(x);
  const set4 = (pre: string, val: (j: number) => Code) => range(LIMBS).flatMap((j) => c.setLocal(`${pre}${j}`, val(j)));
  const run = (base: string, g: Code) => c.i32_add(L(base), c.i32_mul(g, K(RUN)));
  const mul = (a: Code, b: Code, r: Code) => c.call('fq_mul4', a, b, r);
  const storeRun = (p: Code, pre: string) => range(LIMBS).flatMap((j) => v.store(p, 16 * j, L(`${pre}${j}`)));
  /** <pre> (normalized, below 4q) less 2q in the lanes where that stays ≥ 0 */
  const below2q = (pre: string) => [
    ...set4('V', (j) => v.sub32(L(`${pre}${j}`), v.splat32(P2[j]!))),
    ...normalize4(c, 'V'),
    // lanes where V went negative keep <pre>
    ...c.setLocal('U0', v.shrS32(L(`V${LIMBS - 1}`), 31)),
    ...set4(pre, (j) => v.select(L(`${pre}${j}`), L(`V${j}`), L('U0'))),
  ];
  const isInf = (p: Code) => c.i32_eq(c.i32_load(p, INF_MARK_OFFSET), K(-1));
  const entry = (k: Code) => c.i32_add(L('list'), c.i32_mul(k, K(16)));
  const el = (base: string, k: Code) => c.i32_add(L(base), c.i32_mul(k, K(E)));

  const lanePtr = (l: number) => [
    // entries past n read entry 4g's points (their lanes are not stored)
    ...c.setLocal('k', c.i32_add(c.i32_shl(L('g'), K(2)), K(l))),
    ...c.if(c.i32_ge_u(L('k'), L('n')), c.setLocal('k', c.i32_shl(L('g'), K(2)))),
    ...c.setLocal(`pa${l}`, c.i32_load(entry(L('k')), 0)),
    ...c.setLocal(`pb${l}`, c.i32_load(entry(L('k')), 4)),
  ];
  const gather = (pre: string, p: 'pa' | 'pb', offset: number) =>
    range(LIMBS).flatMap((j) => range(4).flatMap((l) => c.setLocal(`${pre}${j}`, v.load32Lane(L(`${p}${l}`), offset + 4 * j, L(`${pre}${j}`), l))));

  // 1. entry by entry (a group whose points are not all finite, or with d ≡ 0 in a lane): kinds,
  // d's and numerators in the usual form in the group's runs, moved to lane form after
  const y = (p: string) => c.i32_add(L(p), K(E));
  const slow = [
    ...c.setLocal('k', c.i32_shl(L('g'), K(2))),
    ...c.setLocal('end', c.i32_add(L('k'), K(4))),
    ...c.block(c.loop(
      c.br_if(1, c.i32_ge_u(L('k'), L('end'))),
      c.setLocal('dk', el('D', L('k'))),
      c.setLocal('nk', el('N', L('k'))),
      c.setLocal('kind', K(COPY)), // lanes past n too
      c.if(c.i32_lt_u(L('k'), L('n')), [
        ...c.setLocal('e', entry(L('k'))),
        ...c.setLocal('pa', c.i32_load(L('e'), 0)),
        ...c.setLocal('pb', c.i32_load(L('e'), 4)),
        ...c.if(c.i32_eqz(c.i32_or(isInf(L('pa')), isInf(L('pb')))), [
          ...c.call('fq_sub', L('pb'), L('pa'), L('dk')),
          ...c.call('fq_sub', y('pb'), y('pa'), L('nk')),
          ...c.setLocal('kind', K(ADD)),
          ...c.if(c.call('fq_isZero', L('dk')),
            c.if(c.i32_and(c.call('fq_isZero', L('nk')), c.i32_eqz(c.call('fq_isZero', y('pa')))), [
              ...c.setLocal('kind', K(DBL)),
              ...c.call('fq_add', y('pa'), y('pa'), L('dk')),
              ...c.call('fq_sqr', L('pa'), L('nk')),
              ...c.call('fq_add', L('nk'), L('nk'), K(tmp)),
              ...c.call('fq_add', L('nk'), K(tmp), L('nk')),
            ], c.setLocal('kind', K(INF)))),
        ]),
        ...c.i32_store(L('e'), 12, L('kind')),
      ]),
      c.if(c.i32_ge_u(L('kind'), K(COPY)), [...c.call('fq_copy', K(FQ.one), L('dk')), ...c.call('fq_copy', K(FQ.one), L('nk'))]),
      c.setLocal('k', c.i32_add(L('k'), K(1))),
      c.br(0),
    )),
    ...c.call('ntt_lanes', run('D', L('g')), K(1), K(1)),
    ...c.call('ntt_lanes', run('N', L('g')), K(1), K(1)),
  ];
  // d ≡ 0 (mod q) in a lane: d = xb − xa + 2q is in (0, 4q), so d ∈ {q, 2q, 3q}, limb for limb
  const zeroLanes = [1n, 2n, 3n].map((t) => {
    const kq = limbs(t * Q);
    return range(LIMBS).map((j) => v.eq32(L(`V${j}`), v.splat32(kq[j]!))).reduce((a, b) => v.and(a, b));
  }).reduce((a, b) => v.or(a, b));
  const anyInf = range(4).map((l) => c.i32_or(isInf(L(`pa${l}`)), isInf(L(`pb${l}`)))).reduce((a, b) => c.i32_or(a, b));
  const phase1 = c.block(c.loop(
    c.br_if(1, c.i32_ge_u(L('g'), L('ng'))),
    range(4).flatMap(lanePtr),
    gather('XA', 'pa', 0), gather('XB', 'pb', 0), gather('YA', 'pa', E), gather('YB', 'pb', E),
    storeRun(run('RXA', L('g')), 'XA'), storeRun(run('RXB', L('g')), 'XB'), storeRun(run('RYA', L('g')), 'YA'),
    set4('V', (j) => v.add32(v.sub32(L(`XB${j}`), L(`XA${j}`)), v.splat32(P2[j]!))),
    normalize4(c, 'V'),
    c.if(c.i32_or(anyInf, v.anyTrue(zeroLanes)), slow, [
      ...storeRun(run('D', L('g')), 'V'),
      ...set4('V', (j) => v.add32(v.sub32(L(`YB${j}`), L(`YA${j}`)), v.splat32(P2[j]!))),
      ...normalize4(c, 'V'),
      ...storeRun(run('N', L('g')), 'V'),
      ...range(4).flatMap((l) => {
        const k = c.i32_add(c.i32_shl(L('g'), K(2)), K(l));
        return c.if(c.i32_lt_u(k, L('n')), c.i32_store(entry(k), 12, K(ADD)));
      }),
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

  // 3. the four totals' inverses, in the usual form at invs, then in lanes at sI
  const t = (i: number) => K(tot + i * E);
  const iv = (i: number) => K(invs + i * E);
  const phase3 = [
    ...range(RUN / 8).flatMap((w) => c.i64_store(K(tot), 8 * w, c.i64_load(run('PF', c.i32_sub(L('ng'), K(1))), 8 * w))),
    ...c.call('ntt_lanes', K(tot), K(1), K(0)),
    // invs[1] = t0·t1, invs[2] = t0·t1·t2, invs[3] = all four; their inverse; then back down
    ...c.call('fq_mul', t(0), t(1), iv(1)),
    ...c.call('fq_mul', iv(1), t(2), iv(2)),
    ...c.call('fq_mul', iv(2), t(3), iv(3)),
    ...c.call('fq_inv', iv(3), K(tmp)), // 1/(t0 t1 t2 t3)
    ...c.call('fq_mul', K(tmp), iv(2), iv(3)), // 1/t3
    ...c.call('fq_mul', K(tmp), t(3), K(tmp)), // 1/(t0 t1 t2)
    ...c.call('fq_mul', K(tmp), iv(1), iv(2)), // 1/t2
    ...c.call('fq_mul', K(tmp), t(2), K(tmp)), // 1/(t0 t1)
    ...c.call('fq_mul', K(tmp), t(0), iv(1)), // 1/t1
    ...c.call('fq_mul', K(tmp), t(1), iv(0)), // 1/t0
    ...c.call('ntt_lanes', K(invs), K(1), K(1)),
    ...range(RUN / 8).flatMap((w) => c.i64_store(K(sI), 8 * w, c.i64_load(K(invs), 8 * w))),
  ];

  // 4. from the last group back
  const storeLane = (l: number) => [
    ...c.setLocal('pr', c.i32_load(L('e'), 8)),
    ...range(LIMBS).flatMap((j) => [...v.store32Lane(L('pr'), 4 * j, L(`X3${j}`), l), ...v.store32Lane(L('pr'), E + 4 * j, L(`Y3${j}`), l)]),
  ];
  const copyPoint = (from: Code) => range((2 * E) / 4).flatMap((w) => c.i32_store(L('pr'), 4 * w, c.i32_load(from, 4 * w)));
  const finishLane = (l: number) => c.if(c.i32_lt_u(c.i32_add(c.i32_shl(L('g'), K(2)), K(l)), L('n')), [
    ...c.setLocal('e', entry(c.i32_add(c.i32_shl(L('g'), K(2)), K(l)))),
    ...c.setLocal('kind', c.i32_load(L('e'), 12)),
    ...c.if(c.i32_lt_u(L('kind'), K(COPY)), storeLane(l), [
      ...c.setLocal('pr', c.i32_load(L('e'), 8)),
      ...c.if(c.i32_eq(L('kind'), K(INF)), c.i32_store(L('pr'), INF_MARK_OFFSET, K(-1)),
        c.if(isInf(L(`pa${l}`)), copyPoint(L(`pb${l}`)), copyPoint(L(`pa${l}`)))),
    ]),
  ]);
  const phase4 = c.block(c.loop(
    range(4).flatMap(lanePtr), // for COPY entries
    ...[['XA', 'RXA'], ['XB', 'RXB'], ['YA', 'RYA']].map(([pre, r]) => set4(pre!, (j) => v.load(run(r!, L('g')), 16 * j))),
    // 1/d = I·PF[g − 1] (I itself at g = 0); I = I·D[g]; λ = numerator · 1/d
    c.if(L('g'), [
      ...mul(K(sI), run('PF', c.i32_sub(L('g'), K(1))), K(sL)),
      ...mul(K(sI), run('D', L('g')), K(sI)),
      ...mul(run('N', L('g')), K(sL), K(sL)),
    ], mul(run('N', L('g')), K(sI), K(sL))),
    // x3 = λ² − xa − xb + 4q, in (0, 6q): below 2q after two conditional subtractions
    mul(K(sL), K(sL), K(sX)),
    set4('X3', (j) => v.add32(v.sub32(v.sub32(v.load(K(sX), 16 * j), L(`XA${j}`)), L(`XB${j}`)), v.splat32(P4[j]!))),
    normalize4(c, 'X3'), below2q('X3'), below2q('X3'),
    // y3 = λ·(xa − x3 + 2q) − ya + 2q
    set4('Y3', (j) => v.add32(v.sub32(L(`XA${j}`), L(`X3${j}`)), v.splat32(P2[j]!))),
    normalize4(c, 'Y3'), below2q('Y3'),
    storeRun(K(sY), 'Y3'),
    mul(K(sL), K(sY), K(sY)),
    set4('Y3', (j) => v.add32(v.sub32(v.load(K(sY), 16 * j), L(`YA${j}`)), v.splat32(P2[j]!))),
    normalize4(c, 'Y3'), below2q('Y3'),
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
    ...c.setLocal('g', K(0)),
    ...phase1,
    ...range(LIMBS).flatMap((j) => v.store(K(sOne), 16 * j, v.load32Splat(K(FQ.one), 4 * j))),
    ...c.setLocal('g', K(0)),
    ...phase2,
    ...phase3,
    ...c.setLocal('g', c.i32_sub(L('ng'), K(1))),
    ...phase4,
  ]);
}

