// The QAP's A and B evaluations on the domain and C = A∘B (qap.ts, worker-body.ts 'abc'),
// emitted as WebAssembly with wasmbuilder over wasm-field.ts's fr_* functions.
//  - fr_abcAcc(rec, n, wit, a, b, from, to, nVars): for each of n coefficient records (44 bytes:
//    u32 m, c, s, 32-byte value) with from ≤ c < to, out_m[c − from] += value·w[s]; records of
//    other constraints are skipped. Returns 0, or i + 1 for the first record i with m > 1 or
//    s ≥ nVars (nothing is read out of bounds). wit: nVars × 32 bytes, canonical.
//  - fr_abcOut(a, b, n, oa, ob, oc): A, B and A∘B, n each, as ffjavascript's 32-byte Fr.
//
// The arithmetic stays in ffjavascript's representation: a value's bytes v stand for x·2^256, the
// witness w is canonical, and out_m[c] must be ffjavascript's Σ v·w·2^-256 (x·w·2^256). Our
// Montgomery product divides by 2^261, so w is taken times 2^5: v·32w·2^-261 = v·w·2^-256, with
// v's bytes and w's (shifted by 5 bits) split into limbs as they are loaded, no conversion
// (qap_mulAdd: fr_mul fused with the split and the accumulation). v < 2^256 and 32w < 32r keep
// the product below 2^261·r, so the result stays below 2r as fr_mul's does. C the same way:
// a·32b·2^-261 from the packed (reduced) A and B.
// Zeros cost nothing: a record whose w[s] is 0 is skipped, and C is 0 without a product where A
// or B is: a model's witness is often half zeros (ReLU outputs, one-hot bits).
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { FQ_BYTES, LIMBS, LIMB_BITS, R, fn, limbs, finish, montLocals, montMul, type Scratch } from './wasm-field.js';

const E = FQ_BYTES;
const REC = 44;
const MASK = (1 << LIMB_BITS) - 1;

/** Limb j of x·2^up (up ≤ 5) for x in 32 bytes little-endian at the local `ps`: an 8-byte load inside them. */
function limb(c: CodeBuilder, ps: string, j: number, up: number): Code {
  const bit = j * LIMB_BITS - up;
  const byte = Math.min(Math.max(Math.floor(bit / 8), 0), 24);
  const v = c.i64_load(c.getLocal(ps), byte);
  return c.i64_and(bit < 0 ? c.i64_shl(v, c.i64_const(-bit)) : c.i64_shr_u(v, c.i64_const(bit - byte * 8)), c.i64_const(MASK));
}

export function emitQap(m: ModuleBuilder, scratch: Scratch): void {
  const L = (c: CodeBuilder, x: string) => c.getLocal(x);
  const at = (c: CodeBuilder, base: string, i: Code, size: number) => c.i32_add(L(c, base), c.i32_mul(i, c.i32_const(size)));

  // qap_pack(src, r): limbs (< 2r) → 32 bytes little-endian of the value mod r
  {
    const tmp = scratch.take(E);
    const [f, c] = fn(m, 'qap_pack', ['ps', 'pr']);
    const code: Code = [...c.call('fr_reduce', L(c, 'ps'), c.i32_const(tmp))];
    for (let w = 0; w < 4; w++) {
      const parts: Code[] = [];
      for (let j = 0; j < LIMBS; j++) {
        const lo = j * LIMB_BITS;
        if (lo + LIMB_BITS <= w * 64 || lo >= (w + 1) * 64) continue;
        const l = c.i64_load32_u(c.i32_const(tmp), j * 4);
        parts.push(lo >= w * 64 ? c.i64_shl(l, c.i64_const(lo - w * 64)) : c.i64_shr_u(l, c.i64_const(w * 64 - lo)));
      }
      code.push(...c.i64_store(L(c, 'pr'), w * 8, parts.reduce((a, b) => c.i64_or(a, b))));
    }
    f.addCode(code);
  }

  // qap_mulAdd(pv, pw, pd): d += v·32w·2^-261 for v and w in 32 bytes (v < 2^256, w < r), d in
  // limbs below 2r: wasm-field.ts's product on the limbs split from the bytes as they are loaded,
  // and the sum (below 4r) brought below 2r with one conditional subtraction.
  {
    const P2 = limbs(2n * R);
    const loc: Array<[string, 'i64']> = [...montLocals(false), ...Array.from({ length: LIMBS }, (_, j) => [`t${j}`, 'i64'] as [string, 'i64'])];
    const [f, c] = fn(m, 'qap_mulAdd', ['pv', 'pw', 'pd'], loc);
    const G = (x: string) => c.getLocal(x);
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) code.push(...c.setLocal(`a${j}`, limb(c, 'pv', j, 0)), ...c.setLocal(`b${j}`, limb(c, 'pw', j, 5)));
    code.push(...montMul(c, R, false, (j, v) => c.setLocal(`t${j}`, v)));
    // + d (below 4r), then carried, less 2r where that stays ≥ 0
    for (let j = 0; j < LIMBS; j++) {
      const d = c.i64_load32_u(G('pd'), j * 4);
      code.push(...c.setLocal(`t${j}`, c.i64_add(G(`t${j}`), d)));
    }
    code.push(...finish(c, G('pd'), P2));
    f.addCode(code);
  }

  // fr_abcAcc
  {
    const [f, c] = fn(m, 'fr_abcAcc', ['rec', 'n', 'wit', 'a', 'b', 'from', 'to', 'nVars'], [['i', 'i32'], ['o', 'i32'], ['c', 'i32'], ['s', 'i32'], ['mm', 'i32'], ['pw', 'i32'], ['pd', 'i32']], 'i32');
    const body = [
      ...c.setLocal('o', at(c, 'rec', L(c, 'i'), REC)),
      ...c.setLocal('c', c.i32_sub(c.i32_load(L(c, 'o'), 4), L(c, 'from'))),
      // another range's constraint (unsigned: below `from` wraps around)
      ...c.br_if(0, c.i32_ge_u(L(c, 'c'), c.i32_sub(L(c, 'to'), L(c, 'from')))),
      ...c.setLocal('mm', c.i32_load(L(c, 'o'), 0)),
      ...c.setLocal('s', c.i32_load(L(c, 'o'), 8)),
      ...c.if(c.i32_or(c.i32_gt_u(L(c, 'mm'), c.i32_const(1)), c.i32_ge_u(L(c, 's'), L(c, 'nVars'))),
        c.ret(c.i32_add(L(c, 'i'), c.i32_const(1)))),
      // w[s] = 0 adds nothing (a model's witness has many: ReLU outputs, one-hot bits)
      ...c.setLocal('pw', at(c, 'wit', L(c, 's'), 32)),
      ...c.br_if(0, c.i32_eqz(Array.from({ length: 8 }, (_, k) => c.i32_load(L(c, 'pw'), 4 * k)).reduce((x, y) => c.i32_or(x, y)))),
      ...c.setLocal('pd', at(c, 'a', L(c, 'c'), E)),
      ...c.if(L(c, 'mm'), c.setLocal('pd', at(c, 'b', L(c, 'c'), E))),
      ...c.call('qap_mulAdd', c.i32_add(L(c, 'o'), c.i32_const(12)), L(c, 'pw'), L(c, 'pd')),
    ];
    f.addCode([
      ...c.setLocal('i', c.i32_const(0)),
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L(c, 'i'), L(c, 'n'))),
        c.block(body), // br 0 inside: the next record
        c.setLocal('i', c.i32_add(L(c, 'i'), c.i32_const(1))),
        c.br(0),
      )),
      ...c.i32_const(0),
    ]);
  }

  // fr_abcOut: A and B packed, then C = qap_mulAdd(a, b, 0) from the packed bytes, or 0 without a
  // product where A or B is 0
  {
    const t = scratch.take(E);
    const [f, c] = fn(m, 'fr_abcOut', ['a', 'b', 'n', 'oa', 'ob', 'oc'], [['i', 'i32'], ['pa', 'i32'], ['pb', 'i32'], ['pc', 'i32']]);
    const zero = (p: string) => c.i32_eqz(Array.from({ length: 8 }, (_, k) => c.i32_load(L(c, p), 4 * k)).reduce((x, y) => c.i32_or(x, y)));
    f.addCode([
      ...c.setLocal('i', c.i32_const(0)),
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L(c, 'i'), L(c, 'n'))),
        c.setLocal('pa', at(c, 'oa', L(c, 'i'), 32)),
        c.setLocal('pb', at(c, 'ob', L(c, 'i'), 32)),
        c.setLocal('pc', at(c, 'oc', L(c, 'i'), 32)),
        c.call('qap_pack', at(c, 'a', L(c, 'i'), E), L(c, 'pa')),
        c.call('qap_pack', at(c, 'b', L(c, 'i'), E), L(c, 'pb')),
        c.if(c.i32_or(zero('pa'), zero('pb')),
          [0, 8, 16, 24].flatMap((k) => c.i64_store(L(c, 'pc'), k, c.i64_const(0))),
          [
            ...Array.from({ length: LIMBS }, (_, j) => c.i32_store(c.i32_const(t), j * 4, c.i32_const(0))).flat(),
            ...c.call('qap_mulAdd', L(c, 'pa'), L(c, 'pb'), c.i32_const(t)),
            ...c.call('qap_pack', c.i32_const(t), L(c, 'pc')),
          ]),
        c.setLocal('i', c.i32_add(L(c, 'i'), c.i32_const(1))),
        c.br(0),
      )),
    ]);
  }
}
