// The MSMs' scalar preparation (msm.ts prepare and addOffset) as WebAssembly, emitted with
// wasmbuilder into the prover's module and run on the thread that hands out the MSM's tasks: in
// JavaScript a 2^20 MSM's fold and offset took ~150 ms there, time in which H's windows (the
// proof's last stage) could not start.
//  - sc_fold(src, dst, neg, n) → top·2^20 + nonzero: for n canonical scalars s (32 bytes each,
//    little-endian, below r), |s| = s, or r − s where s > (r − 1)/2 (then neg[i] = 1, else 0), as
//    nine u32 words at dst + 36i (the ninth 0, for addOffset's carry); top is the largest |s|'s
//    bit length, nonzero how many |s| are not 0. n < 2^20.
//  - sc_offset(dst, n, off): adds the nine-word value at off to each of n nine-word values at dst
//    (36 bytes apart); a carry out of the ninth word is dropped (msm.ts's offsets leave room).
// Branch-free where the data decides (a uniform scalar is above r/2 half the time).
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { R, fn } from './wasm-field.js';

const words64 = (x: bigint) => Array.from({ length: 4 }, (_, i) => (x >> BigInt(64 * i)) & ((1n << 64n) - 1n));
const RW = words64(R);
const HW = words64(R >> 1n);
const range = (k: number) => Array.from({ length: k }, (_, j) => j);

export function emitScalars(m: ModuleBuilder): void {
  const L = (c: CodeBuilder, x: string) => c.getLocal(x);
  const forN = (c: CodeBuilder, body: Code[]) => [
    ...c.setLocal('i', c.i32_const(0)),
    ...c.block(c.loop(c.br_if(1, c.i32_ge_u(L(c, 'i'), L(c, 'n'))), ...body, c.setLocal('i', c.i32_add(L(c, 'i'), c.i32_const(1))), c.br(0))),
  ];

  // sc_fold(src, dst, neg, n) → top·2^20 + nonzero
  {
    const i64s = ['s', 'd', 'o'].flatMap((p) => range(4).map((w) => `${p}${w}`));
    const [f, c] = fn(m, 'sc_fold', ['src', 'dst', 'neg', 'n'], [
      ['i', 'i32'], ['gt', 'i32'], ['bw', 'i32'], ['b', 'i32'], ['top', 'i32'], ['nz', 'i32'], ['ps', 'i32'], ['pd', 'i32'],
      ...i64s.map((x) => [x, 'i64'] as [string, 'i64']), ['mask', 'i64'],
    ], 'i32');
    const s = (w: number) => L(c, `s${w}`);
    const code: Code = [];
    // gt = s > HALF, from the top word down
    let gt: Code = c.i64_gt_u(s(0), c.i64_const(HW[0]!));
    for (let w = 1; w < 4; w++) {
      gt = c.i32_or(c.i64_gt_u(s(w), c.i64_const(HW[w]!)), c.i32_and(c.i64_eq(s(w), c.i64_const(HW[w]!)), gt));
    }
    const body: Code[] = [
      c.setLocal('ps', c.i32_add(L(c, 'src'), c.i32_shl(L(c, 'i'), c.i32_const(5)))),
      c.setLocal('pd', c.i32_add(L(c, 'dst'), c.i32_mul(L(c, 'i'), c.i32_const(36)))),
      ...range(4).map((w) => c.setLocal(`s${w}`, c.i64_load(L(c, 'ps'), 8 * w))),
      c.setLocal('gt', gt),
      c.i32_store8(c.i32_add(L(c, 'neg'), L(c, 'i')), 0, L(c, 'gt')),
      // d = R − s, the borrow in bw
      c.setLocal('bw', c.i32_const(0)),
      ...range(4).flatMap((w) => [
        c.setLocal(`d${w}`, c.i64_sub(c.i64_sub(c.i64_const(RW[w]!), s(w)), c.i64_extend_i32_u(L(c, 'bw')))),
        c.setLocal('bw', c.i32_or(c.i64_lt_u(c.i64_const(RW[w]!), s(w)), c.i32_and(c.i64_eq(c.i64_const(RW[w]!), s(w)), L(c, 'bw')))),
      ]),
      // o = gt ? d : s
      c.setLocal('mask', c.i64_sub(c.i64_const(0), c.i64_extend_i32_u(L(c, 'gt')))),
      ...range(4).flatMap((w) => [
        c.setLocal(`o${w}`, c.i64_xor(s(w), c.i64_and(c.i64_xor(s(w), L(c, `d${w}`)), L(c, 'mask')))),
        c.i64_store(L(c, 'pd'), 8 * w, L(c, `o${w}`)),
      ]),
      c.i32_store(L(c, 'pd'), 32, c.i32_const(0)),
    ];
    // b = the bit length of o, from the top word down
    const bits = (w: number): Code => c.if(
      c.i64_ne(L(c, `o${w}`), c.i64_const(0)),
      c.setLocal('b', c.i32_sub(c.i32_const(64 * w + 64), c.i32_wrap_i64(c.i64_clz(L(c, `o${w}`))))),
      w > 0 ? bits(w - 1) : undefined,
    );
    body.push(c.setLocal('b', c.i32_const(0)), bits(3));
    body.push(c.setLocal('nz', c.i32_add(L(c, 'nz'), c.i32_ne(L(c, 'b'), c.i32_const(0)))));
    body.push(c.if(c.i32_gt_u(L(c, 'b'), L(c, 'top')), c.setLocal('top', L(c, 'b'))));
    code.push(...c.setLocal('top', c.i32_const(0)), ...c.setLocal('nz', c.i32_const(0)), ...forN(c, body));
    code.push(...c.i32_add(c.i32_shl(L(c, 'top'), c.i32_const(20)), L(c, 'nz')));
    f.addCode(code);
  }

  // sc_offset(dst, n, off)
  {
    const [f, c] = fn(m, 'sc_offset', ['dst', 'n', 'off'], [
      ['i', 'i32'], ['pd', 'i32'], ['x', 'i64'], ...range(9).map((w) => [`f${w}`, 'i64'] as [string, 'i64']),
    ]);
    const code: Code = range(9).flatMap((w) => c.setLocal(`f${w}`, c.i64_load32_u(L(c, 'off'), 4 * w)));
    const body: Code[] = [c.setLocal('pd', c.i32_add(L(c, 'dst'), c.i32_mul(L(c, 'i'), c.i32_const(36))))];
    for (let w = 0; w < 9; w++) {
      const sum = c.i64_add(c.i64_load32_u(L(c, 'pd'), 4 * w), L(c, `f${w}`));
      body.push(c.setLocal('x', w ? c.i64_add(sum, c.i64_shr_u(L(c, 'x'), c.i64_const(32))) : sum));
      body.push(c.i64_store32(L(c, 'pd'), 4 * w, L(c, 'x')));
    }
    code.push(...forN(c, body));
    f.addCode(code);
  }
}
