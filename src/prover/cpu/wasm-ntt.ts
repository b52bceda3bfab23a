// Number-theoretic transforms over BN254's scalar field Fr (wasm-field.ts's fr_* functions),
// emitted as WebAssembly with wasmbuilder: what the wasm backend's quotient runs (worker-body.ts
// 'coset' and 'join'). Elements are 36 bytes (9 limbs of 29 bits, Montgomery 2^261, below 2r).
//  - fr_fft(data, n, log, tab): in place, natural order in and out (bit reversal first, then
//    log radix-2 passes); tab holds w^j for j < n/2, w of order n. The inverse transform is the
//    forward one followed by fr_revTail and a scaling by 1/n.
//  - fr_scale(data, n, start, inc): data[i] ·= start·inc^i (the coset shift, 1/n folded in).
//  - fr_join(a, b, c, out, n): out[i] = a[i]·b[i] − c[i] as 32 canonical bytes (H's scalars).
import type { Code, CodeBuilder, ModuleBuilder } from 'wasmbuilder';
import { FQ_BYTES, FR, fn, type Scratch } from './wasm-field.js';

const E = FQ_BYTES;

export function emitNtt(m: ModuleBuilder, scratch: Scratch): void {
  const at = (c: CodeBuilder, base: string, i: Code) => c.i32_add(c.getLocal(base), c.i32_mul(i, c.i32_const(E)));
  const L = (c: CodeBuilder, x: string) => c.getLocal(x);
  const inc = (c: CodeBuilder, x: string, by: Code = c.i32_const(1)) => c.setLocal(x, c.i32_add(c.getLocal(x), by));
  /** for (x = from; x < to; x += step) body — `to`, `step` re-evaluated each time */
  const forLoop = (c: CodeBuilder, x: string, from: Code, to: Code, step: Code, body: Code[]) => [
    ...c.setLocal(x, from),
    ...c.block(c.loop(c.br_if(1, c.i32_ge_u(L(c, x), to)), ...body, inc(c, x, step), c.br(0))),
  ];

  // fr_fromFfjN(src, dst, n): n elements from ffjavascript's 32-byte Montgomery form
  {
    const [f, c] = fn(m, 'fr_fromFfjN', ['src', 'dst', 'n'], [['i', 'i32']]);
    f.addCode(forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
      c.call('fr_fromFfj', c.i32_add(L(c, 'src'), c.i32_mul(L(c, 'i'), c.i32_const(32))), at(c, 'dst', L(c, 'i'))),
    ]));
  }

  // fr_roots(tab, w, half): tab[j] = w^j for j < half
  {
    const [f, c] = fn(m, 'fr_roots', ['tab', 'w', 'half'], [['j', 'i32']]);
    f.addCode([
      ...c.call('fr_copy', c.i32_const(FR.one), L(c, 'tab')),
      ...forLoop(c, 'j', c.i32_const(1), L(c, 'half'), c.i32_const(1), [
        c.call('fr_mul', at(c, 'tab', c.i32_sub(L(c, 'j'), c.i32_const(1))), L(c, 'w'), at(c, 'tab', L(c, 'j'))),
      ]),
    ]);
  }

  // swap of two elements through a scratch slot
  const tmp = scratch.take(E);
  const swap = (c: CodeBuilder, a: Code, b: Code) => [
    ...c.call('fr_copy', a, c.i32_const(tmp)), ...c.call('fr_copy', b, a), ...c.call('fr_copy', c.i32_const(tmp), b),
  ];

  // fr_revTail(data, n): data[i] ↔ data[n − i] for 0 < i < n/2
  {
    const [f, c] = fn(m, 'fr_revTail', ['data', 'n'], [['i', 'i32']]);
    f.addCode(forLoop(c, 'i', c.i32_const(1), c.i32_shr_u(L(c, 'n'), c.i32_const(1)), c.i32_const(1), [
      swap(c, at(c, 'data', L(c, 'i')), at(c, 'data', c.i32_sub(L(c, 'n'), L(c, 'i')))),
    ]));
  }

  // fr_fft(data, n, log, tab)
  {
    const t = scratch.take(E);
    const [f, c] = fn(m, 'fr_fft', ['data', 'n', 'log', 'tab'], [['i', 'i32'], ['r', 'i32'], ['x', 'i32'], ['b', 'i32'], ['half', 'i32'], ['step', 'i32'], ['k', 'i32'], ['j', 'i32'], ['pu', 'i32'], ['pv', 'i32']]);
    const bitrev = forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
      c.setLocal('r', c.i32_const(0)),
      c.setLocal('x', L(c, 'i')),
      forLoop(c, 'b', c.i32_const(0), L(c, 'log'), c.i32_const(1), [
        c.setLocal('r', c.i32_or(c.i32_shl(L(c, 'r'), c.i32_const(1)), c.i32_and(L(c, 'x'), c.i32_const(1)))),
        c.setLocal('x', c.i32_shr_u(L(c, 'x'), c.i32_const(1))),
      ]),
      c.if(c.i32_lt_u(L(c, 'i'), L(c, 'r')), swap(c, at(c, 'data', L(c, 'i')), at(c, 'data', L(c, 'r')))),
    ]);
    // butterflies: u, v → u + v·w, u − v·w; w = tab[j·step] (w^0 = 1: no product)
    const butterfly = [
      c.setLocal('pu', at(c, 'data', c.i32_add(L(c, 'k'), L(c, 'j')))),
      c.setLocal('pv', c.i32_add(L(c, 'pu'), c.i32_mul(L(c, 'half'), c.i32_const(E)))),
      c.if(L(c, 'j'),
        c.call('fr_mul', L(c, 'pv'), at(c, 'tab', c.i32_mul(L(c, 'j'), L(c, 'step'))), c.i32_const(t)),
        c.call('fr_copy', L(c, 'pv'), c.i32_const(t))),
      c.call('fr_sub', L(c, 'pu'), c.i32_const(t), L(c, 'pv')),
      c.call('fr_add', L(c, 'pu'), c.i32_const(t), L(c, 'pu')),
    ];
    const passes = [
      ...c.setLocal('half', c.i32_const(1)),
      ...c.setLocal('step', c.i32_shr_u(L(c, 'n'), c.i32_const(1))),
      ...c.block(c.loop(
        c.br_if(1, c.i32_ge_u(L(c, 'half'), L(c, 'n'))),
        forLoop(c, 'k', c.i32_const(0), L(c, 'n'), c.i32_shl(L(c, 'half'), c.i32_const(1)), [
          forLoop(c, 'j', c.i32_const(0), L(c, 'half'), c.i32_const(1), butterfly),
        ]),
        c.setLocal('half', c.i32_shl(L(c, 'half'), c.i32_const(1))),
        c.setLocal('step', c.i32_shr_u(L(c, 'step'), c.i32_const(1))),
        c.br(0),
      )),
    ];
    f.addCode([...bitrev, ...passes]);
  }

  // fr_scale(data, n, start, inc)
  {
    const acc = scratch.take(E);
    const [f, c] = fn(m, 'fr_scale', ['data', 'n', 'start', 'inc'], [['i', 'i32']]);
    f.addCode([
      ...c.call('fr_copy', L(c, 'start'), c.i32_const(acc)),
      ...forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
        c.call('fr_mul', at(c, 'data', L(c, 'i')), c.i32_const(acc), at(c, 'data', L(c, 'i'))),
        c.call('fr_mul', c.i32_const(acc), L(c, 'inc'), c.i32_const(acc)),
      ]),
    ]);
  }

  // fr_join(a, b, c, out, n)
  {
    const t = scratch.take(E);
    const [f, c] = fn(m, 'fr_join', ['a', 'b', 'c', 'out', 'n'], [['i', 'i32']]);
    f.addCode(forLoop(c, 'i', c.i32_const(0), L(c, 'n'), c.i32_const(1), [
      c.call('fr_mul', at(c, 'a', L(c, 'i')), at(c, 'b', L(c, 'i')), c.i32_const(t)),
      c.call('fr_sub', c.i32_const(t), at(c, 'c', L(c, 'i')), c.i32_const(t)),
      c.call('fr_toCanon', c.i32_const(t), c.i32_add(L(c, 'out'), c.i32_mul(L(c, 'i'), c.i32_const(32)))),
    ]));
  }
}
