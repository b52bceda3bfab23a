// Number-theoretic transforms over BN254's scalar field Fr, emitted as WebAssembly with
// wasmbuilder: what the wasm backend's quotient runs (worker-body.ts 'coset' and 'join').
// Elements are 36 bytes (9 limbs of 29 bits, Montgomery 2^261: wasm-field.ts).
//  - fr_unpackN(src, dst, n): n ffjavascript elements (32 bytes, x·2^256) split into limbs as
//    they are: our form of x·2^-5, with no product (fr_coset's scale takes the 2^5). Below 2r.
//    dst may start 4n bytes before src (in place).
//  - fr_coset(data, n, w, inc, invN, tmp): the quotient's coset evaluation in place: inverse
//    NTT of the n evaluations (natural order, w of order n), coefficient i times
//    2^5·invN·inc^i, forward NTT (natural order out, below 2r). The inverse is Cooley-Tukey with
//    a twiddle per block (natural order in, bit-reversed out), the forward the usual decimation
//    in time (bit-reversed in), so there is no bit-reversal pass: the scale is applied in
//    bit-reversed order, in the pass between them (the inverse's last, the forward's first).
//    The passes within blocks of BLOCK elements run block by block, the others over the whole
//    array; those with pairs 4 or more apart four at a time (WebAssembly SIMD, wasm-simd.ts).
//    tmp: (3n/2 + 2B + n/B + 4) elements, B = min(n, BLOCK).
//  - fr_join(a, b, c, out, n): out[i] = a[i]·b[i] − c[i] as 32 canonical bytes (H's scalars).
// The butterflies inline the Montgomery product (wasm-field.ts's montMul: Karatsuba, and shifts
// for r's low limb) and reduce nothing: every butterfly is u ± v·w, which adds less than 2r to a bound
// that the products still take, and one pass at the end brings the values below 2r.
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { FQ_BYTES, FR, LIMBS, LIMB_BITS, R, fn, limbs, montLocals, montMul as fieldMontMul, normalize, unpackLimb, type Scratch } from './wasm-field.js';
import { emitLanes, mont4Locals, montMul4, normalize4, simdFn, simdOps } from './wasm-simd.js';

const E = FQ_BYTES;
const MASK = (1 << LIMB_BITS) - 1;
const P = limbs(R);
const P2 = limbs(2n * R);
/** Elements per block of the passes run block by block (its data, scale and twiddles fit in L2). */
export const BLOCK = 4096;

if (P[0] !== 2 ** 28 + 1) throw new Error('wasm-ntt: expects r ≡ 2^28 + 1 (mod 2^29)');
// the butterflies' bound (below): a product of an operand below 58r and one below 2r is below 2r
if (116n * R >= 1n << BigInt(LIMBS * LIMB_BITS)) throw new Error('wasm-ntt: bound');
/** ⌈2^52 / (r's top limb + 1)⌉: reduce's division as a product */
const DIV_M = Math.ceil(2 ** 52 / (P[LIMBS - 1]! + 1));

const range = (k: number) => Array.from({ length: k }, (_, j) => j);
/** The i64 locals the inlined arithmetic uses: t (product), s, d (sums), q, and the product's own (a, b among them). */
const ARITH: Array<[string, 'i64']> = [
  ...[...['t', 's', 'd'].flatMap((p) => range(LIMBS).map((j) => `${p}${j}`)), 'q'].map((x) => [x, 'i64'] as [string, 'i64']),
  ...montLocals(false),
];

export function emitNtt(m: ModuleBuilder, scratch: Scratch): void {
  const L = (c: CodeBuilder, x: string) => c.getLocal(x);
  const K = (c: CodeBuilder, x: number) => c.i64_const(x);
  const load = (c: CodeBuilder, p: string, j: number) => c.i64_load32_u(L(c, p), j * 4);
  /** <pre>j = f(j) for every limb */
  const set = (c: CodeBuilder, pre: string, f: (j: number) => Code) => range(LIMBS).flatMap((j) => c.setLocal(`${pre}${j}`, f(j)));
  const at = (c: CodeBuilder, base: string, i: Code) => c.i32_add(L(c, base), c.i32_mul(i, c.i32_const(E)));
  const inc = (c: CodeBuilder, x: string, by: Code) => c.setLocal(x, c.i32_add(L(c, x), by));
  /** for (x = from; x < to; x += step) body — `to`, `step` re-evaluated each time */
  const forLoop = (c: CodeBuilder, x: string, from: Code, to: Code, step: Code, body: Code[]) => [
    ...c.setLocal(x, from),
    ...c.block(c.loop(c.br_if(1, c.i32_ge_u(L(c, x), to)), ...body, inc(c, x, step), c.br(0))),
  ];
  const loopWhile = (c: CodeBuilder, cond: Code, body: Code[]) => c.block(c.loop(c.br_if(1, c.i32_eqz(cond)), ...body, c.br(0)));
  const halve = (c: CodeBuilder, x: string) => c.setLocal(x, c.i32_shr_u(L(c, x), c.i32_const(1)));
  const double = (c: CodeBuilder, x: string) => c.setLocal(x, c.i32_shl(L(c, x), c.i32_const(1)));

  /**
   * t = a·b·2^-261, carried, for a and b in locals (wasm-field.ts's product, with r's shifts): below
   * 2r where a·b < r·2^261 (b below 2r and a below 58r here; a's limbs may be signed and up to
   * 2^30, a sum or difference not carried: the columns stay below 27·2^58 < 2^63).
   */
  const montMul = (c: CodeBuilder) => fieldMontMul(c, R, false, (j, v) => c.setLocal(`t${j}`, v));
  const store = (c: CodeBuilder, pre: string, p: string) => range(LIMBS).flatMap((j) => c.i64_store32(L(c, p), j * 4, L(c, `${pre}${j}`)));
  /**
   * <pre> (carried, below 2^261) less k·r, k = ⌊top limb / (r's top limb + 1)⌋: below 2r (the
   * rest of the estimate is below 2^(232 + log2(k + 2)), far below r). No branch. The quotient
   * as (top·DIV_M) >> 52, exact for a top limb below 2^29.
   */
  const reduce = (c: CodeBuilder, pre: string) => [
    ...c.setLocal('q', c.i64_shr_u(c.i64_mul(L(c, `${pre}8`), K(c, DIV_M)), K(c, 52))),
    ...set(c, pre, (j) => c.i64_sub(L(c, `${pre}${j}`), c.i64_mul(L(c, 'q'), K(c, P[j]!)))),
    ...normalize(c, pre),
  ];
  // Butterflies u, v → u + t, u − t + 2r (t = v·w below 2r) on the elements at pu and pv,
  // carried, not reduced: a pass adds less than 2r to the bound, which goes from 2r (inputs)
  // to 2·log·r over the inverse's passes, 2r more in the middle pass (before its scale, whose
  // products start again below 2r), and from 4r to (2 + 2·log)·r over the forward's; the
  // products take an operand below 58r (log ≤ 28): a·w < 116r² < r·2^261 keeps them below 2r.
  const tail = (c: CodeBuilder) => [
    ...set(c, 's', (j) => c.i64_add(load(c, 'pu', j), L(c, `t${j}`))),
    ...set(c, 'd', (j) => c.i64_add(c.i64_sub(load(c, 'pu', j), L(c, `t${j}`)), K(c, P2[j]!))),
    ...normalize(c, 's'), ...store(c, 's', 'pu'),
    ...normalize(c, 'd'), ...store(c, 'd', 'pv'),
  ];
  const butterfly = (c: CodeBuilder) => [...set(c, 'a', (j) => load(c, 'pv', j)), ...montMul(c), ...tail(c)]; // w in b
  const unit = (c: CodeBuilder) => [...set(c, 't', (j) => load(c, 'pv', j)), ...reduce(c, 't'), ...tail(c)]; // w = 1

  // ntt_mul(a, b, r): a·b·2^-261 (the tables' products)
  {
    const [f, c] = fn(m, 'ntt_mul', ['pa', 'pb', 'pr'], ARITH);
    f.addCode([...set(c, 'a', (j) => load(c, 'pa', j)), ...set(c, 'b', (j) => load(c, 'pb', j)), ...montMul(c), ...store(c, 't', 'pr')]);
  }

  // fr_unpackN(src, dst, n). A value of 2^256 or more is first brought below 2r (k·r off,
  // k = ⌊top limb / (r's top limb + 1)⌋): ffjavascript's are below r.
  {
    const [f, c] = fn(m, 'fr_unpackN', ['src', 'dst', 'n'], [['i', 'i32'], ['ps', 'i32'], ['pd', 'i32'], ...ARITH]);
    const split = range(LIMBS).flatMap((j) => c.setLocal(`s${j}`, unpackLimb(c, L(c, 'ps'), 0, j)));
    f.addCode([
      ...c.setLocal('ps', L(c, 'src')),
      ...c.setLocal('pd', L(c, 'dst')),
      ...forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
        split, // all 32 bytes read before the first store (in place, dst overtakes src)
        c.if(c.i64_ge_s(L(c, 's8'), K(c, P[LIMBS - 1]! + 1)), reduce(c, 's')),
        store(c, 's', 'pd'),
        inc(c, 'ps', c.i32_const(32)),
        inc(c, 'pd', c.i32_const(E)),
      ]),
    ]);
  }

  // ntt_brPowers(dst, m, g, start): dst[i] = start·g^bitrev(i), i < m, bitrev over log2 m bits.
  // Doubling: bitrev(len + i) = bitrev(i) + m/2len for i < len.
  {
    const x = scratch.take(E);
    const [f, c] = fn(m, 'ntt_brPowers', ['dst', 'm', 'g', 'start'], [['len', 'i32'], ['i', 'i32'], ['k', 'i32']]);
    f.addCode([
      ...c.call('fr_copy', L(c, 'start'), L(c, 'dst')),
      ...forLoop(c, 'len', c.i32_const(1), L(c, 'm'), L(c, 'len'), [
        // x = g^(m/2len)
        c.call('fr_copy', L(c, 'g'), c.i32_const(x)),
        forLoop(c, 'k', c.i32_shl(L(c, 'len'), c.i32_const(1)), L(c, 'm'), L(c, 'k'), [
          c.call('fr_sqr', c.i32_const(x), c.i32_const(x)),
        ]),
        forLoop(c, 'i', c.i32_const(0), L(c, 'len'), c.i32_const(1), [
          c.call('ntt_mul', at(c, 'dst', L(c, 'i')), c.i32_const(x), at(c, 'dst', c.i32_add(L(c, 'len'), L(c, 'i')))),
        ]),
      ]),
    ]);
  }

  // ntt_twiddles(tw, w, n): the forward's, tw[h + j] = w^(j·n/2h) for j < h, h = 1, 2 … n/2 (a
  // pass's row, unit stride). The top row by doubling, w^(len + i) = w^i·w^len: products that do
  // not depend on each other, in memory order (taking it from the inverse's bit-reversed powers
  // by negation instead, as before, read those out of order: 2.5× slower at 2^20); the rows below
  // it are its every other, every fourth … element.
  {
    const x = scratch.take(E);
    const [f, c] = fn(m, 'ntt_twiddles', ['tw', 'w', 'n'], [['half', 'i32'], ['h', 'i32'], ['j', 'i32'], ['len', 'i32']]);
    const row = (h: Code, j: Code) => at(c, 'tw', c.i32_add(h, j));
    f.addCode([
      ...c.setLocal('half', c.i32_shr_u(L(c, 'n'), c.i32_const(1))),
      ...c.call('fr_copy', c.i32_const(FR.one), row(L(c, 'half'), c.i32_const(0))),
      ...c.call('fr_copy', L(c, 'w'), c.i32_const(x)),
      ...forLoop(c, 'len', c.i32_const(1), L(c, 'half'), L(c, 'len'), [
        forLoop(c, 'j', c.i32_const(0), L(c, 'len'), c.i32_const(1), [
          c.call('ntt_mul', row(L(c, 'half'), L(c, 'j')), c.i32_const(x), row(L(c, 'half'), c.i32_add(L(c, 'len'), L(c, 'j')))),
        ]),
        c.call('fr_sqr', c.i32_const(x), c.i32_const(x)),
      ]),
      ...c.setLocal('h', L(c, 'half')),
      ...loopWhile(c, c.i32_gt_u(L(c, 'h'), c.i32_const(1)), [
        halve(c, 'h'),
        forLoop(c, 'j', c.i32_const(0), L(c, 'h'), c.i32_const(1), [
          c.call('fr_copy', row(c.i32_shl(L(c, 'h'), c.i32_const(1)), c.i32_shl(L(c, 'j'), c.i32_const(1))), row(L(c, 'h'), L(c, 'j'))),
        ]),
      ]),
    ]);
  }

  // The passes over len elements at base, pairs h apart.
  const passLocals: Array<[string, 'i32' | 'i64']> = [['hE', 'i32'], ['end', 'i32'], ['blk', 'i32'], ['mid', 'i32'], ['pu', 'i32'], ['pv', 'i32'], ['pw', 'i32'], ...ARITH];
  /** hE = h·E and `before`, then for each block of 2h elements in [base, base + len): mid = blk + hE (its v's), `body` */
  const overBlocks = (c: CodeBuilder, before: Code[], body: Code[]) => [
    ...c.setLocal('hE', c.i32_mul(L(c, 'h'), c.i32_const(E))),
    ...c.setLocal('end', at(c, 'base', L(c, 'len'))),
    ...before.flat(),
    ...forLoop(c, 'blk', L(c, 'base'), L(c, 'end'), c.i32_shl(L(c, 'hE'), c.i32_const(1)), [c.setLocal('mid', c.i32_add(L(c, 'blk'), L(c, 'hE'))), ...body]),
  ];
  // ntt_ctPass(base, len, h, z, first): the inverse's; the array's block k (of 2h elements)
  // splits X^2h − σ² into X^h ∓ σ, σ = w^-(h·bitrev(k)), bitrev over log2(n/2h) bits: that is
  // z[k] = w^-bitrev(k) over log2(n/2) bits, one table for every pass. The first block's σ is 1
  // when `first` (base is the array's first block).
  {
    const [f, c] = fn(m, 'ntt_ctPass', ['base', 'len', 'h', 'z', 'first'], passLocals);
    const each = (body: Code) => forLoop(c, 'pu', L(c, 'blk'), L(c, 'mid'), c.i32_const(E), [c.setLocal('pv', c.i32_add(L(c, 'pu'), L(c, 'hE'))), body]);
    f.addCode(overBlocks(c, [c.setLocal('pw', L(c, 'z'))], [
      c.if(L(c, 'first'),
        [...c.setLocal('first', c.i32_const(0)), ...each(unit(c))],
        [...set(c, 'b', (j) => load(c, 'pw', j)), ...each(butterfly(c))]),
      inc(c, 'pw', c.i32_const(E)),
    ]));
  }
  // ntt_ditPass(base, len, h, tw): the forward's; twiddle w^(j·n/2h) = tw[h + j] for pair j of a block
  {
    const [f, c] = fn(m, 'ntt_ditPass', ['base', 'len', 'h', 'tw'], passLocals);
    f.addCode(overBlocks(c, [], [
      c.setLocal('pu', L(c, 'blk')),
      c.setLocal('pv', L(c, 'mid')),
      unit(c), // j = 0
      c.setLocal('pw', at(c, 'tw', c.i32_add(L(c, 'h'), c.i32_const(1)))),
      forLoop(c, 'pu', c.i32_add(L(c, 'blk'), c.i32_const(E)), L(c, 'mid'), c.i32_const(E), [
        c.setLocal('pv', c.i32_add(L(c, 'pu'), L(c, 'hE'))),
        set(c, 'b', (j) => load(c, 'pw', j)),
        butterfly(c),
        inc(c, 'pw', c.i32_const(E)),
      ]),
    ]));
  }

  // The same passes four pairs at a time (wasm-simd.ts), for h ≥ 4 on data in lane form: the
  // pairs j … j + 3 of a block are a run of u's and a run of v's. The twiddle w = 1 is multiplied
  // like any other (one product more a block).
  const pass4Locals: Array<[string, 'i32' | 'v128']> = [['hE', 'i32'], ['end', 'i32'], ['blk', 'i32'], ['mid', 'i32'], ['pu', 'i32'], ['pv', 'i32'], ['pw', 'i32'],
    ...mont4Locals(), ...['T', 'S', 'D'].flatMap((p) => range(LIMBS).map((j) => [`${p}${j}`, 'v128'] as [string, 'v128']))];
  const butterfly4 = (c: CodeBuilder) => {
    const v = simdOps(c);
    const set4 = (pre: string, f: (j: number) => Code) => range(LIMBS).flatMap((j) => c.setLocal(`${pre}${j}`, f(j)));
    return [
      ...set4('A', (j) => v.load(L(c, 'pv'), 16 * j)),
      ...montMul4(c, R, (j, x) => c.setLocal(`T${j}`, x)),
      ...set4('S', (j) => v.load(L(c, 'pu'), 16 * j)),
      ...set4('D', (j) => v.add32(v.sub32(L(c, `S${j}`), L(c, `T${j}`)), v.splat32(P2[j]!))),
      ...set4('S', (j) => v.add32(L(c, `S${j}`), L(c, `T${j}`))),
      ...normalize4(c, 'S'), ...range(LIMBS).flatMap((j) => v.store(L(c, 'pu'), 16 * j, L(c, `S${j}`))),
      ...normalize4(c, 'D'), ...range(LIMBS).flatMap((j) => v.store(L(c, 'pv'), 16 * j, L(c, `D${j}`))),
    ];
  };
  const RUN = 4 * E;
  // ntt_ctPass4(base, len, h, z): ntt_ctPass's, z in the usual form (a block's σ in every lane)
  {
    const [f, c] = simdFn(m, 'ntt_ctPass4', ['base', 'len', 'h', 'z'], pass4Locals);
    const v = simdOps(c);
    f.addCode(overBlocks(c, [c.setLocal('pw', L(c, 'z'))], [
      range(LIMBS).flatMap((j) => c.setLocal(`B${j}`, v.load32Splat(L(c, 'pw'), 4 * j))),
      forLoop(c, 'pu', L(c, 'blk'), L(c, 'mid'), c.i32_const(RUN), [c.setLocal('pv', c.i32_add(L(c, 'pu'), L(c, 'hE'))), butterfly4(c)]),
      inc(c, 'pw', c.i32_const(E)),
    ]));
  }
  // ntt_ditPass4(base, len, h, tw): ntt_ditPass's, tw in lane form (tw[h + j … h + j + 3] a run)
  {
    const [f, c] = simdFn(m, 'ntt_ditPass4', ['base', 'len', 'h', 'tw'], pass4Locals);
    const v = simdOps(c);
    f.addCode(overBlocks(c, [], [
      c.setLocal('pw', at(c, 'tw', L(c, 'h'))),
      forLoop(c, 'pu', L(c, 'blk'), L(c, 'mid'), c.i32_const(RUN), [
        c.setLocal('pv', c.i32_add(L(c, 'pu'), L(c, 'hE'))),
        range(LIMBS).flatMap((j) => c.setLocal(`B${j}`, v.load(L(c, 'pw'), 16 * j))),
        butterfly4(c),
        inc(c, 'pw', c.i32_const(RUN)),
      ]),
    ]));
  }
  emitLanes(m);

  // ntt_midPass(base, len, z, s): on pairs (2i, 2i + 1): the inverse's last pass (twiddle z[i]),
  // times s[2i] and s[2i + 1], the forward's first pass (twiddle 1; below 4r out). u ± v·z[i]
  // go into the scale's products uncarried.
  {
    const [f, c] = fn(m, 'ntt_midPass', ['base', 'len', 'z', 's'], [['end', 'i32'], ['pu', 'i32'], ['pv', 'i32'], ['pz', 'i32'], ['ps', 'i32'], ...ARITH]);
    f.addCode([
      ...c.setLocal('end', at(c, 'base', L(c, 'len'))),
      ...c.setLocal('pz', L(c, 'z')),
      ...c.setLocal('ps', L(c, 's')),
      ...forLoop(c, 'pu', L(c, 'base'), L(c, 'end'), c.i32_const(2 * E), [
        c.setLocal('pv', c.i32_add(L(c, 'pu'), c.i32_const(E))),
        set(c, 'a', (j) => load(c, 'pv', j)),
        set(c, 'b', (j) => load(c, 'pz', j)),
        montMul(c),
        set(c, 's', (j) => c.i64_add(load(c, 'pu', j), L(c, `t${j}`))),
        set(c, 'd', (j) => c.i64_add(c.i64_sub(load(c, 'pu', j), L(c, `t${j}`)), K(c, P2[j]!))),
        set(c, 'a', (j) => L(c, `s${j}`)),
        set(c, 'b', (j) => load(c, 'ps', j)),
        montMul(c),
        set(c, 's', (j) => L(c, `t${j}`)),
        set(c, 'a', (j) => L(c, `d${j}`)),
        set(c, 'b', (j) => c.i64_load32_u(L(c, 'ps'), E + j * 4)),
        montMul(c),
        set(c, 'd', (j) => c.i64_add(c.i64_sub(L(c, `s${j}`), L(c, `t${j}`)), K(c, P2[j]!))),
        set(c, 's', (j) => c.i64_add(L(c, `s${j}`), L(c, `t${j}`))),
        normalize(c, 's'), store(c, 's', 'pu'),
        normalize(c, 'd'), store(c, 'd', 'pv'),
        inc(c, 'pz', c.i32_const(E)),
        inc(c, 'ps', c.i32_const(2 * E)),
      ]),
    ]);
  }

  // ntt_reducePass(base, len): every element below 2r
  {
    const [f, c] = fn(m, 'ntt_reducePass', ['base', 'len'], [['end', 'i32'], ['pu', 'i32'], ...ARITH]);
    f.addCode([
      ...c.setLocal('end', at(c, 'base', L(c, 'len'))),
      ...forLoop(c, 'pu', L(c, 'base'), L(c, 'end'), c.i32_const(E), [set(c, 's', (j) => load(c, 'pu', j)), reduce(c, 's'), store(c, 's', 'pu')]),
    ]);
  }

  // fr_coset(data, n, w, inc, invN, tmp). The bit-reversed scale of element b·B + i (block b):
  // 2^5·invN·inc^bitrev(b·B + i) = sb[i]·st[b], sb[i] = 2^5·invN·(inc^(n/B))^bitrev(i) (B of
  // them), st[b] = inc^bitrev(b) (n/B): a block's scale is one product an element.
  // From n = 8 on, the passes with h ≥ 4 run four pairs at a time on the data in lane form
  // (ntt_ctPass4, ntt_ditPass4; tw in lane form too); a block goes back to the usual form for
  // its passes with h < 4 (pairs within a run), which keep the scalar code, tw2 its twiddles.
  {
    const [c32, gB, mu] = [scratch.take(E), scratch.take(E), scratch.take(E)];
    const [f, c] = fn(m, 'fr_coset', ['data', 'n', 'w', 'inc', 'invN', 'tmp'],
      [['B', 'i32'], ['nb', 'i32'], ['tw', 'i32'], ['tw2', 'i32'], ['z', 'i32'], ['sb', 'i32'], ['blk', 'i32'], ['st', 'i32'], ['scale', 'i32'], ['h', 'i32'], ['k', 'i32'], ['b', 'i32'], ['base', 'i32'], ['i', 'i32'], ['simd', 'i32']]);
    const ct = (base: Code, len: Code, z: Code, first: Code) => c.call('ntt_ctPass', base, len, L(c, 'h'), z, first);
    const ct4 = (base: Code, len: Code, z: Code) => c.call('ntt_ctPass4', base, len, L(c, 'h'), z);
    const dit4 = (base: Code, len: Code) => c.call('ntt_ditPass4', base, len, L(c, 'h'), L(c, 'tw'));
    const lanes = (base: Code, len: Code, to: number) => c.if(L(c, 'simd'), c.call('ntt_lanes', base, c.i32_shr_u(len, c.i32_const(2)), c.i32_const(to)));
    const zAt = () => at(c, 'z', c.i32_mul(L(c, 'b'), L(c, 'k')));
    f.addCode([
      ...c.call('fr_copy', L(c, 'invN'), c.i32_const(c32)),
      ...range(5).flatMap(() => c.call('fr_add', c.i32_const(c32), c.i32_const(c32), c.i32_const(c32))),
      ...c.if(c.i32_eq(L(c, 'n'), c.i32_const(1)), [...c.call('ntt_mul', L(c, 'data'), c.i32_const(c32), L(c, 'data')), ...c.ret([])]),
      ...c.setLocal('simd', c.i32_ge_u(L(c, 'n'), c.i32_const(8))),
      ...c.setLocal('B', L(c, 'n')),
      ...c.setLocal('nb', c.i32_const(1)),
      ...c.if(c.i32_gt_u(L(c, 'n'), c.i32_const(BLOCK)), [
        ...c.setLocal('B', c.i32_const(BLOCK)),
        ...c.setLocal('nb', c.i32_shr_u(L(c, 'n'), c.i32_const(Math.log2(BLOCK)))),
      ]),
      ...c.setLocal('tw', L(c, 'tmp')),
      ...c.setLocal('z', at(c, 'tw', L(c, 'n'))),
      ...c.setLocal('sb', at(c, 'z', c.i32_shr_u(L(c, 'n'), c.i32_const(1)))),
      ...c.setLocal('blk', at(c, 'sb', L(c, 'B'))),
      ...c.setLocal('st', at(c, 'blk', L(c, 'B'))),
      // the twiddles
      ...c.call('fr_inv', L(c, 'w'), c.i32_const(mu)),
      ...c.call('ntt_brPowers', L(c, 'z'), c.i32_shr_u(L(c, 'n'), c.i32_const(1)), c.i32_const(mu), c.i32_const(FR.one)),
      ...c.call('ntt_twiddles', L(c, 'tw'), L(c, 'w'), L(c, 'n')),
      ...c.setLocal('tw2', L(c, 'tw')),
      ...c.if(L(c, 'simd'), [
        ...c.setLocal('tw2', at(c, 'st', L(c, 'nb'))),
        ...range(4).flatMap((i) => c.call('fr_copy', at(c, 'tw', c.i32_const(i)), at(c, 'tw2', c.i32_const(i)))),
      ]),
      ...lanes(L(c, 'tw'), L(c, 'n'), 1),
      ...lanes(L(c, 'data'), L(c, 'n'), 1),
      // the scale
      ...c.call('fr_copy', L(c, 'inc'), c.i32_const(gB)),
      ...forLoop(c, 'i', c.i32_const(1), L(c, 'nb'), L(c, 'i'), [c.call('fr_sqr', c.i32_const(gB), c.i32_const(gB))]),
      ...c.call('ntt_brPowers', L(c, 'sb'), L(c, 'B'), c.i32_const(gB), c.i32_const(c32)),
      ...c.call('ntt_brPowers', L(c, 'st'), L(c, 'nb'), L(c, 'inc'), c.i32_const(FR.one)),
      // the inverse's passes across blocks (h ≥ B > 4)
      ...c.setLocal('h', c.i32_shr_u(L(c, 'n'), c.i32_const(1))),
      ...loopWhile(c, c.i32_ge_u(L(c, 'h'), L(c, 'B')), [ct4(L(c, 'data'), L(c, 'n'), L(c, 'z')), halve(c, 'h')]),
      // block by block: the rest of the inverse, the scale, the forward's passes within a block
      ...forLoop(c, 'b', c.i32_const(0), L(c, 'nb'), c.i32_const(1), [
        c.setLocal('base', at(c, 'data', c.i32_mul(L(c, 'b'), L(c, 'B')))),
        c.setLocal('h', c.i32_shr_u(L(c, 'B'), c.i32_const(1))),
        c.setLocal('k', c.i32_const(1)), // B/2h, blocks of the pass in this one
        loopWhile(c, c.i32_ge_u(L(c, 'h'), c.i32_const(4)), [ct4(L(c, 'base'), L(c, 'B'), zAt()), halve(c, 'h'), double(c, 'k')]),
        lanes(L(c, 'base'), L(c, 'B'), 0),
        loopWhile(c, c.i32_ge_u(L(c, 'h'), c.i32_const(2)), [ct(L(c, 'base'), L(c, 'B'), zAt(), c.i32_eqz(L(c, 'b'))), halve(c, 'h'), double(c, 'k')]),
        c.setLocal('scale', L(c, 'sb')), // st[0] = 1
        c.if(L(c, 'b'), [
          ...forLoop(c, 'i', c.i32_const(0), L(c, 'B'), c.i32_const(1), [
            c.call('ntt_mul', at(c, 'sb', L(c, 'i')), at(c, 'st', L(c, 'b')), at(c, 'blk', L(c, 'i'))),
          ]),
          ...c.setLocal('scale', L(c, 'blk')),
        ]),
        c.call('ntt_midPass', L(c, 'base'), L(c, 'B'), zAt(), L(c, 'scale')), // k = B/2
        c.setLocal('h', c.i32_const(2)),
        c.if(c.i32_lt_u(L(c, 'h'), L(c, 'B')), [...c.call('ntt_ditPass', L(c, 'base'), L(c, 'B'), L(c, 'h'), L(c, 'tw2')), ...double(c, 'h')]),
        lanes(L(c, 'base'), L(c, 'B'), 1),
        loopWhile(c, c.i32_lt_u(L(c, 'h'), L(c, 'B')), [dit4(L(c, 'base'), L(c, 'B')), double(c, 'h')]),
      ]),
      // the forward's passes across blocks
      ...c.setLocal('h', L(c, 'B')),
      ...loopWhile(c, c.i32_lt_u(L(c, 'h'), L(c, 'n')), [dit4(L(c, 'data'), L(c, 'n')), double(c, 'h')]),
      ...lanes(L(c, 'data'), L(c, 'n'), 0),
      ...c.call('ntt_reducePass', L(c, 'data'), L(c, 'n')),
    ]);
  }

  // fr_join(a, b, c, out, n)
  {
    const t = scratch.take(E);
    const [f, c] = fn(m, 'fr_join', ['a', 'b', 'c', 'out', 'n'], [['i', 'i32']]);
    f.addCode(forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
      c.call('ntt_mul', at(c, 'a', L(c, 'i')), at(c, 'b', L(c, 'i')), c.i32_const(t)),
      c.call('fr_sub', c.i32_const(t), at(c, 'c', L(c, 'i')), c.i32_const(t)),
      c.call('fr_toCanon', c.i32_const(t), c.i32_add(L(c, 'out'), c.i32_mul(L(c, 'i'), c.i32_const(32)))),
    ]));
  }
}
