// WebAssembly's 128-bit SIMD for the NTT (wasm-ntt.ts): four field elements at once, in lane form.
// wasmbuilder knows no SIMD opcode or v128 local, so the instructions are emitted as bytes here.
//
// Lane form: a run of 4 elements (144 bytes) keeps limb j of element l at 16·j + 4·l, so limb j of
// all four is one v128 (four u32 lanes). An array of 4k elements in lane form takes the bytes it
// takes in the usual form (element i at 36·i), run by run: ntt_lanes converts in place.
//
// The Montgomery product (montMul4) is wasm-field.ts's, column by column, on four lanes: a limb
// product is i64x2.extmul_(low|high)_i32x4_u (two lanes each), so a column is two i64x2
// accumulators. a·b by the same two-level Karatsuba (36 limb products for 81), Q·p limb by limb;
// q_k = (column k · −p^−1) mod 2^29 by i32x4.mul on the columns' low words. Measured on the
// development machine (Zen 4, V8 11.3): 27–29 ns a product against the scalar one's 40.
import type { Code, CodeBuilder, FunctionBuilder, ModuleBuilder } from 'wasmbuilder';
import { LIMBS, LIMB_BITS, limbs } from './wasm-field.js';

const MASK = (1 << LIMB_BITS) - 1;
const range = (k: number) => Array.from({ length: k }, (_, j) => j);

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const op = (code: number) => [0xfd, ...leb(code)];

/**
 * A function with i32 pointer parameters and i32, i64 and v128 locals (wasmbuilder encodes only
 * the first two: its body's local declarations are written here).
 */
export function simdFn(m: ModuleBuilder, name: string, params: string[], locals: Array<[string, 'i32' | 'i64' | 'v128']>): [FunctionBuilder, CodeBuilder] {
  const f = m.addFunction(name);
  for (const p of params) f.addParam(p, 'i32');
  const ordered = (['i32', 'i64', 'v128'] as const).map((t) => locals.filter(([, u]) => u === t));
  for (const group of ordered) for (const [l, t] of group) f.addLocal(l, t === 'v128' ? 'i64' : t); // index only
  const codes = { i32: 0x7f, i64: 0x7e, v128: 0x7b };
  const decl = ordered.flatMap((g) => (g.length ? [[...leb(g.length), codes[g[0]![1]]]] : []));
  (f as unknown as { getBody(): number[] }).getBody = function (this: { code: number[] }) {
    const body = [...leb(decl.length), ...decl.flat(), ...this.code, 0x0b];
    return [...leb(body.length), ...body];
  };
  return [f, f.getCodeBuilder()];
}

/** The SIMD instructions used, on operand code (stack order as written). */
export function simdOps(c: CodeBuilder) {
  const bin = (code: number) => (a: Code, b: Code): Code => [...a, ...b, ...op(code)];
  const memarg = (offset: number) => [4, ...leb(offset)]; // alignment hint 16 bytes
  return {
    load: (p: Code, offset: number): Code => [...p, ...op(0x00), ...memarg(offset)],
    /** a u32 at p + offset in all four lanes */
    load32Splat: (p: Code, offset: number): Code => [...p, ...op(0x09), 2, ...leb(offset)],
    store: (p: Code, offset: number, v: Code): Code => [...p, ...v, ...op(0x0b), ...memarg(offset)],
    /** v with lane `lane` replaced by the u32 at p + offset */
    load32Lane: (p: Code, offset: number, v: Code, lane: number): Code => [...p, ...v, ...op(0x56), 2, ...leb(offset), lane],
    /** lane `lane` of v to the u32 at p + offset */
    store32Lane: (p: Code, offset: number, v: Code, lane: number): Code => [...p, ...v, ...op(0x5a), 2, ...leb(offset), lane],
    splat32: (x: number): Code => [...c.i32_const(x | 0), ...op(0x11)],
    and: bin(0x4e),
    or: bin(0x50),
    /** whether any bit of v is set (an i32) */
    anyTrue: (a: Code): Code => [...a, ...op(0x53)],
    /** lanes equal: all ones, else 0 */
    eq32: bin(0x37),
    /** a where mask's bits are set, b elsewhere */
    select: (a: Code, b: Code, mask: Code): Code => [...a, ...b, ...mask, ...op(0x52)],
    add32: bin(0xae),
    sub32: bin(0xb1),
    mul32: bin(0xb5),
    shl32: (a: Code, n: number): Code => [...a, ...c.i32_const(n), ...op(0xab)],
    shrS32: (a: Code, n: number): Code => [...a, ...c.i32_const(n), ...op(0xac)],
    add64: bin(0xce),
    sub64: bin(0xd1),
    shrU64: (a: Code, n: number): Code => [...a, ...c.i32_const(n), ...op(0xcd)],
    /** u32 lanes 0, 1 (low) or 2, 3 (high) of a and b multiplied into two u64 lanes */
    mulLo: bin(0xde),
    mulHi: bin(0xdf),
    /** the low u32 of each u64 lane of a, then of b: four u32 lanes */
    narrow: (a: Code, b: Code): Code => [...a, ...b, ...op(0x0d), 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27],
  };
}

/** −p^−1 mod 2^29 */
function negInv29(p: bigint): number {
  let inv = 1n;
  for (let i = 0; i < 6; i++) inv = (inv * (2n - p * inv)) & ((1n << 64n) - 1n);
  return Number((((-inv) % (1n << 29n)) + (1n << 29n)) % (1n << 29n));
}

/** The v128 locals montMul4 uses besides its operands A0..A8 and B0..B8. */
export function mont4Locals(): Array<[string, 'v128']> {
  const names = ['lo', 'hi', ...range(LIMBS).flatMap((j) => [`A${j}`, `B${j}`, `Q${j}`, `U${j}`, `W${j}`]), ...range(36).flatMap((j) => [`xl${j}`, `xh${j}`])];
  return names.map((x) => [x, 'v128']);
}

/**
 * a·b·2^-261 mod p in four lanes, a and b in v128 locals A0..A8 and B0..B8 (u32 limbs below
 * 2^29 each: carried); limb j of the result (an i32x4; the last one takes the rest) is handed to
 * `out` in order. The bound is wasm-field.ts montMul's: below 2p where a·b < 2^261·p. Every
 * column is its true value mod 2^64 (Karatsuba's sums of limbs stay below 2^31, their products
 * below 2^62) and that value lies in [0, 2^63), so the carries are logical shifts.
 */
export function montMul4(c: CodeBuilder, p: bigint, out: (j: number, v: Code) => Code): Code {
  const P = limbs(p);
  const s = simdOps(c);
  const L = (x: string) => c.getLocal(x);
  const set = (x: string, v: Code) => c.setLocal(x, v);
  const negInv = negInv29(p);
  const code: Code = [];
  const PAIRS = [[0, 1], [0, 2], [1, 2]] as const;
  const half = [['l', s.mulLo], ['h', s.mulHi]] as const;
  // part product n of 3-limb x and y into xl/xh<6n>…<6n+5>: x_i·y_i, then (x_i + x_j)(y_i + y_j)
  const part = (n: number, x: (i: number) => Code, y: (i: number) => Code) => {
    for (const [h, mul] of half) {
      range(3).forEach((i) => code.push(...set(`x${h}${6 * n + i}`, mul(x(i), y(i)))));
      PAIRS.forEach(([i, j], t) => code.push(...set(`x${h}${6 * n + 3 + t}`, mul(s.add32(x(i), x(j)), s.add32(y(i), y(j))))));
    }
  };
  const col = (h: string, n: number, m: number): Code => {
    const d = (i: number) => L(`x${h}${6 * n + i}`);
    const e = (t: number) => s.sub64(L(`x${h}${6 * n + 3 + t}`), s.add64(d(PAIRS[t]![0]), d(PAIRS[t]![1])));
    return [d(0), e(0), s.add64(e(1), d(1)), e(2), d(2)][m]!;
  };
  range(3).forEach((g) => part(g, (i) => L(`A${3 * g + i}`), (i) => L(`B${3 * g + i}`)));
  PAIRS.forEach(([g, h], t) => {
    for (const i of range(3)) {
      code.push(...set(`U${3 * t + i}`, s.add32(L(`A${3 * g + i}`), L(`A${3 * h + i}`))));
      code.push(...set(`W${3 * t + i}`, s.add32(L(`B${3 * g + i}`), L(`B${3 * h + i}`))));
    }
    part(3 + t, (i) => L(`U${3 * t + i}`), (i) => L(`W${3 * t + i}`));
  });
  const sum = (xs: Code[]) => xs.reduce((x, y) => s.add64(x, y));
  for (let k = 0; k < 2 * LIMBS - 1; k++) {
    const acc: Record<string, Code> = {};
    for (const [h, mul] of half) {
      const terms: Code[] = [];
      const minus: Code[] = [];
      for (let g = 0; g < 3; g++) if (k - 6 * g >= 0 && k - 6 * g < 5) terms.push(col(h, g, k - 6 * g));
      PAIRS.forEach(([g, gg], t) => {
        const m = k - 3 * (g + gg);
        if (m < 0 || m >= 5) return;
        terms.push(col(h, 3 + t, m));
        minus.push(col(h, g, m), col(h, gg, m));
      });
      for (let i = Math.max(0, k - (LIMBS - 1)); i <= Math.min(LIMBS - 1, k - 1); i++) terms.push(mul(L(`Q${i}`), s.splat32(P[k - i]!)));
      let v = sum(terms);
      if (minus.length) v = s.sub64(v, sum(minus));
      if (k > 0) v = s.add64(v, s.shrU64(L(h === 'l' ? 'lo' : 'hi'), LIMB_BITS));
      acc[h] = v;
    }
    code.push(...set('lo', acc.l!), ...set('hi', acc.h!));
    if (k < LIMBS) {
      code.push(...set(`Q${k}`, s.and(s.mul32(s.narrow(L('lo'), L('hi')), s.splat32(negInv)), s.splat32(MASK))));
      code.push(...set('lo', s.add64(L('lo'), s.mulLo(L(`Q${k}`), s.splat32(P[0]!)))));
      code.push(...set('hi', s.add64(L('hi'), s.mulHi(L(`Q${k}`), s.splat32(P[0]!)))));
    } else {
      code.push(...out(k - LIMBS, s.and(s.narrow(L('lo'), L('hi')), s.splat32(MASK))));
    }
  }
  code.push(...out(LIMBS - 1, s.narrow(s.shrU64(L('lo'), LIMB_BITS), s.shrU64(L('hi'), LIMB_BITS))));
  return code;
}

/**
 * <name>(pa, pb, pr): the product of the runs (lane form) at pa and pb into pr, which may be
 * either. A call, not code inlined: a function with several products inlined grows past what the
 * instruction cache holds (a batch addition with six: 190 KB of machine code, twice as slow).
 */
export function emitMul4(m: ModuleBuilder, p: bigint, name: string): void {
  const [f, c] = simdFn(m, name, ['pa', 'pb', 'pr'], mont4Locals());
  const s = simdOps(c);
  f.addCode([
    ...range(LIMBS).flatMap((j) => [...c.setLocal(`A${j}`, s.load(c.getLocal('pa'), 16 * j)), ...c.setLocal(`B${j}`, s.load(c.getLocal('pb'), 16 * j))]),
    ...montMul4(c, p, (j, v) => s.store(c.getLocal('pr'), 16 * j, v)),
  ]);
}

/** Carries the i32x4 locals <pre>0..<pre>8 (signed limbs) into 29-bit limbs; the rest stays in <pre>8. */
export function normalize4(c: CodeBuilder, pre: string): Code {
  const s = simdOps(c);
  const L = (x: string) => c.getLocal(x);
  const out: Code = [];
  for (let j = 0; j < LIMBS - 1; j++) {
    out.push(...c.setLocal(`${pre}${j + 1}`, s.add32(L(`${pre}${j + 1}`), s.shrS32(L(`${pre}${j}`), LIMB_BITS))));
    out.push(...c.setLocal(`${pre}${j}`, s.and(L(`${pre}${j}`), s.splat32(MASK))));
  }
  return out;
}

/**
 * ntt_lanes(p, runs, toLanes): runs of 4 elements (144 bytes) at p from the usual form to lane
 * form (toLanes ≠ 0) or back, in place.
 */
export function emitLanes(m: ModuleBuilder): void {
  const words = range(36);
  const [f, c] = simdFn(m, 'ntt_lanes', ['p', 'runs', 'toLanes'], [['end', 'i32'], ...words.map((w) => [`w${w}`, 'i32'] as [string, 'i32'])]);
  const L = (x: string) => c.getLocal(x);
  // usual: word 9·l + j; lanes: word 4·j + l (element l, limb j)
  const lanes = (w: number) => 4 * (w % 9) + Math.floor(w / 9);
  const move = (to: (w: number) => number) => [
    ...words.flatMap((w) => c.setLocal(`w${w}`, c.i32_load(L('p'), 4 * w))),
    ...words.flatMap((w) => c.i32_store(L('p'), 4 * to(w), L(`w${w}`))),
  ];
  const usual = (w: number) => 9 * (w % 4) + Math.floor(w / 4);
  f.addCode([
    ...c.setLocal('end', c.i32_add(L('p'), c.i32_mul(L('runs'), c.i32_const(144)))),
    ...c.block(c.loop(
      c.br_if(1, c.i32_ge_u(L('p'), L('end'))),
      // word w of the usual form goes to lanes(w); back, word w of lane form to usual(w)
      c.if(L('toLanes'), move(lanes), move(usual)),
      c.setLocal('p', c.i32_add(L('p'), c.i32_const(144))),
      c.br(0),
    )),
  ]);
}
