// BN254's base field Fq and its quadratic extension Fq2 = Fq[u]/(u² + 1), emitted as WebAssembly
// with wasmbuilder for the CPU MSM (msm.ts). An Fq element is 9 limbs of 29 bits, each in a u32
// (36 bytes), in Montgomery form with R = 2^261. 29-bit limbs make a limb product 58 bits, so
// a column's 9 products of a·b and 9 of the Montgomery reduction add up in one i64 without
// carries (the wasm MSM of Mitscha-Baude, ZPrize 2022); Karatsuba's identities save products on
// top (montMul). Values are kept below 2p (4p < R, so a product of two stays below 2p without a
// final subtraction); fq_reduce makes one canonical (< p). Points are stored canonical, so
// equality of coordinates is limb equality; isZero accepts both forms of zero (0 and p).
//
// ffjavascript keeps Fq as 8 × 32-bit words with R = 2^256; fromFfj / toFfj convert with one
// multiplication by 2^266 / 2^256 mod p.
import type { Code, CodeBuilder, FunctionBuilder, ModuleBuilder } from 'wasmbuilder';

export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** BN254's scalar field: the NTTs of the quotient run in it. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const LIMBS = 9;
export const LIMB_BITS = 29;
export const FQ_BYTES = LIMBS * 4;
const MASK = (1 << LIMB_BITS) - 1;
const R_BITS = LIMBS * LIMB_BITS;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b = mod(b, m);
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** Limb j (an i64 below 2^29) of the 32 little-endian bytes at p + offset: an 8-byte load inside them, shifted and masked. */
export function unpackLimb(c: CodeBuilder, p: Code, offset: number, j: number): Code {
  const bit = j * LIMB_BITS;
  const byte = Math.min(Math.floor(bit / 8), 24);
  return c.i64_and(c.i64_shr_u(c.i64_load(p, offset + byte), c.i64_const(bit - 8 * byte)), c.i64_const(MASK));
}

/** 29-bit limbs of x, least significant first. */
export function limbs(x: bigint): number[] {
  const out: number[] = [];
  for (let j = 0; j < LIMBS; j++) out.push(Number((x >> BigInt(j * LIMB_BITS)) & BigInt(MASK)));
  return out;
}

/** An element as stored in memory: x·2^261 mod p in limbs. */
export function toMont(x: bigint, p = Q): Uint8Array {
  return rawBytes(mod(x << BigInt(R_BITS), p));
}

export function fromMont(bytes: Uint8Array, offset = 0, p = Q): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, FQ_BYTES);
  let x = 0n;
  for (let j = LIMBS - 1; j >= 0; j--) x = (x << BigInt(LIMB_BITS)) | BigInt(v.getUint32(j * 4, true));
  return mod(x * modPow(2n, BigInt(R_BITS) * (p - 2n), p), p);
}

function rawBytes(x: bigint): Uint8Array {
  const out = new Uint8Array(FQ_BYTES);
  const v = new DataView(out.buffer);
  limbs(x).forEach((l, j) => v.setUint32(j * 4, l, true));
  return out;
}

/**
 * A prime field's emitted functions (prefix) and constants in memory: one (R mod p), and the
 * plain integers kIn = 2^266, kOut = 2^256 and 1 mod p for the conversions (montmul(x·2^256, kIn)
 * = x·2^261; montmul(x·2^261, kOut) = x·2^256; montmul(x·2^261, 1) = x).
 */
export interface PrimeSpec {
  name: 'fq' | 'fr';
  p: bigint;
  one: number;
  kIn: number;
  kOut: number;
  plain1: number;
}

/** Fq's `one` is followed by zeros: read as an Fq2 element at the same address it is 1 + 0u. */
export const FQ: PrimeSpec = { name: 'fq', p: Q, one: 0, kIn: 128, kOut: 192, plain1: 256 };
export const FR: PrimeSpec = { name: 'fr', p: R, one: 320, kIn: 384, kOut: 448, plain1: 512 };
export const HEAP_START = 16384;

/** Constant data at the bottom of memory (scratch slots for the emitted functions follow). */
export function constData(): Array<[number, Uint8Array]> {
  return [FQ, FR].flatMap((s) => [
    [s.one, toMont(1n, s.p)],
    [s.kIn, rawBytes(mod(1n << 266n, s.p))],
    [s.kOut, rawBytes(mod(1n << 256n, s.p))],
    [s.plain1, rawBytes(1n)],
  ] as Array<[number, Uint8Array]>);
}

/** Scratch addresses handed out to the emitters, each slot owned by one function. */
export class Scratch {
  private next = 1024;
  take(bytes: number): number {
    const a = this.next;
    this.next += (bytes + 7) & ~7;
    if (this.next > HEAP_START) throw new Error('wasm scratch region overflow');
    return a;
  }
}

/** A function with i32 pointer parameters; returns it and its code builder. */
export function fn(m: ModuleBuilder, name: string, params: string[], locals: Array<[string, 'i32' | 'i64']> = [], ret?: 'i32'): [FunctionBuilder, CodeBuilder] {
  const f = m.addFunction(name);
  for (const p of params) f.addParam(p, 'i32');
  for (const [l, t] of locals) f.addLocal(l, t);
  if (ret) f.setReturnType(ret);
  return [f, f.getCodeBuilder()];
}

/** −p^−1 mod 2^29 (Newton iteration on the 2-adic inverse). */
function negInv29(p: bigint): number {
  let inv = 1n;
  for (let i = 0; i < 6; i++) inv = (inv * (2n - p * inv)) & ((1n << 64n) - 1n);
  return Number(mod(-inv, 1n << 29n));
}

const li = (j: number) => `t${j}`;

/** Carries locals <pre>0..<pre>8 (signed, any size) into 29-bit limbs; the signed rest stays in <pre>8. */
export function normalize(c: CodeBuilder, pre: string): Code {
  const out: Code = [];
  for (let j = 0; j < LIMBS - 1; j++) {
    out.push(...c.setLocal(`${pre}${j + 1}`, c.i64_add(c.getLocal(`${pre}${j + 1}`), c.i64_shr_s(c.getLocal(`${pre}${j}`), c.i64_const(LIMB_BITS)))));
    out.push(...c.setLocal(`${pre}${j}`, c.i64_and(c.getLocal(`${pre}${j}`), c.i64_const(MASK))));
  }
  return out;
}

const store = (c: CodeBuilder, r: Code, pre: string) => {
  const s: Code = [];
  for (let j = 0; j < LIMBS; j++) s.push(...c.i64_store32(r, j * 4, c.getLocal(`${pre}${j}`)));
  return s;
};

/**
 * Normalizes locals t0..t8, subtracts m (q or 2q) once if the value is ≥ m, and stores the result
 * at `r`. The value must lie in [0, 2m). Uses locals u0..u8 too.
 */
export function finish(c: CodeBuilder, r: Code, m: number[]): Code {
  const out: Code = normalize(c, 't');
  for (let j = 0; j < LIMBS; j++) out.push(...c.setLocal(`u${j}`, c.i64_sub(c.getLocal(`t${j}`), c.i64_const(m[j]!))));
  out.push(...normalize(c, 'u'));
  out.push(...c.if(c.i64_ge_s(c.getLocal(`u${LIMBS - 1}`), c.i64_const(0)), store(c, r, 'u'), store(c, r, 't')));
  return out;
}

const tuLocals = (): Array<[string, 'i64']> => [...Array.from({ length: LIMBS }, (_, j) => [`t${j}`, 'i64'] as [string, 'i64']), ...Array.from({ length: LIMBS }, (_, j) => [`u${j}`, 'i64'] as [string, 'i64'])];

const range = (k: number) => Array.from({ length: k }, (_, j) => j);

/** a0..a8 (and b0..b8) = the limbs at pa (and pb), a limb of each in turn (~3% faster than all of a first). */
function loadLimbs(c: CodeBuilder, square: boolean): Code {
  const ops = square ? [['pa', 'a']] : [['pa', 'a'], ['pb', 'b']];
  return range(LIMBS).flatMap((j) => ops.flatMap(([ptr, pre]) => c.setLocal(`${pre}${j}`, c.i64_load32_u(c.getLocal(ptr!), j * 4))));
}

/** The i64 locals montMul reads (a, and b unless squaring) and uses. */
export function montLocals(square: boolean): Array<[string, 'i64']> {
  const names = ['acc', ...range(LIMBS).flatMap((j) => [`a${j}`, `q${j}`, `e${j}`, ...(square ? [] : [`b${j}`])])];
  // Karatsuba's parts: sums u, v of the operands' parts; each part product's 6 limb products
  if (!square) names.push(...range(3 * 3).flatMap((j) => [`u${j}`, `v${j}`]), ...range(6 * 6).map((j) => `x${j}`));
  return names.map((x) => [x, 'i64']);
}

/**
 * Code for a·b·2^-261 mod p (a² where `square`), a and b in locals a0..a8 and b0..b8: limb j of
 * the result (29 bits; the last one takes the rest) is handed to `out` in order, once no operand
 * limb is read any more. Below 2p where a·b < 2^261·p (both below 2p: 4p < 2^261).
 *
 * Product scanning: column k of a·b + Q·p (Q = Σ q_i·2^(29i), the Montgomery multiples) in one
 * accumulator, q_k chosen to clear column k's low 29 bits (k < 9), the columns from 9 on the
 * result. The only chain from column to column is q_(k−1) and the carry: everything else of a
 * column is summed before the accumulator joins (adding into it term by term is ~30% slower).
 *  - a·b by Karatsuba on three parts of 3 limbs (X = 2^87): A_g·B_h + A_h·B_g = (A_g + A_h)(B_g +
 *    B_h) − A_g·B_g − A_h·B_h, and each of the six 3×3 part products by the same identity on
 *    limbs: 36 limb products for 81. A square's column is its cross products once, doubled (45).
 *  - Q·p limb by limb (81 products, + 9 for the q's), except for a square: there the pairs of
 *    q's known before the column take the identity too, q_i·p_j + q_j·p_i = (q_i + q_j)(p_i +
 *    p_j) − e_i − e_j with e_i = q_i·p_i (60 + 9). For a·b, whose Karatsuba already adds many
 *    additions, that measured ~10% slower (the products are no longer what limits it).
 *  - r ≡ 2^28 + 1 (mod 2^29): for Fr, q_k = acc·(2^28 − 1) and q_k·r_0 = q_k·2^28 + q_k by shifts.
 * Bounds: i64 add, sub and mul are exact mod 2^64, where the identities hold, so whatever
 * Karatsuba's sums and differences do on the way, a column comes out as its true value mod 2^64;
 * that value must lie in [0, 2^63), and does: Σ a_i·b_j (9 products of limbs below 2^29) + Σ
 * q_i·p_j (9 more) + the carry (below 2^35) < 18·2^58 + 2^35 < 2^63. (Signed operand limbs of up
 * to 2^30 keep |column| below 27·2^58: the carries are arithmetic shifts and q_k depends on the
 * low bits only, so such operands — wasm-ntt.ts's — would do too.)
 */
export function montMul(c: CodeBuilder, p: bigint, square: boolean, out: (j: number, v: Code) => Code): Code {
  const P = limbs(p);
  const L = (x: string) => c.getLocal(x);
  const K = (x: number) => c.i64_const(x);
  const A = (i: number) => L(`a${i}`);
  const B = (i: number) => L(square ? `a${i}` : `b${i}`);
  const sum = (xs: Code[]) => xs.reduce((x, y) => c.i64_add(x, y));
  const mul = c.i64_mul.bind(c);
  const add = c.i64_add.bind(c);
  const rTrick = P[0] === 2 ** 28 + 1; // then −p^−1 ≡ 2^28 − 1 (mod 2^29)
  const negInv = negInv29(p);
  const code: Code = [];
  // part product n of 3-limb x and y into locals x<6n>…x<6n+5>: x_i·y_i, then (x_i + x_j)(y_i + y_j);
  // its column m (< 5) with x_i·y_j + x_j·y_i = (x_i + x_j)(y_i + y_j) − x_i·y_i − x_j·y_j
  const PAIRS = [[0, 1], [0, 2], [1, 2]] as const;
  const part = (n: number, x: (i: number) => Code, y: (i: number) => Code) => {
    range(3).forEach((i) => code.push(...c.setLocal(`x${6 * n + i}`, mul(x(i), y(i)))));
    PAIRS.forEach(([i, j], t) => code.push(...c.setLocal(`x${6 * n + 3 + t}`, mul(add(x(i), x(j)), add(y(i), y(j))))));
  };
  const col = (n: number, m: number): Code => {
    const d = (i: number) => L(`x${6 * n + i}`);
    const e = (t: number) => c.i64_sub(L(`x${6 * n + 3 + t}`), add(d(PAIRS[t]![0]), d(PAIRS[t]![1])));
    return [d(0), e(0), add(e(1), d(1)), e(2), d(2)][m]!;
  };
  if (!square) {
    range(3).forEach((g) => part(g, (i) => A(3 * g + i), (i) => B(3 * g + i)));
    PAIRS.forEach(([g, h], t) => {
      for (const i of range(3)) {
        code.push(...c.setLocal(`u${3 * t + i}`, add(A(3 * g + i), A(3 * h + i))));
        code.push(...c.setLocal(`v${3 * t + i}`, add(B(3 * g + i), B(3 * h + i))));
      }
      part(3 + t, (i) => L(`u${3 * t + i}`), (i) => L(`v${3 * t + i}`));
    });
  }
  for (let k = 0; k < 2 * LIMBS - 1; k++) {
    const lo = Math.max(0, k - (LIMBS - 1));
    const hi = Math.min(LIMBS - 1, k);
    const terms: Code[] = [];
    const minus: Code[] = [];
    if (square) {
      const cross = range(hi + 1).filter((i) => i >= lo && i < k - i).map((i) => mul(A(i), A(k - i)));
      if (cross.length) terms.push(c.i64_shl(sum(cross), K(1)));
      if (k % 2 === 0) terms.push(mul(A(k / 2), A(k / 2)));
    } else {
      // a·b = Σ A_g·B_g·X^2g + Σ_(g<h) ((A_g + A_h)(B_g + B_h) − A_g·B_g − A_h·B_h)·X^(g+h)
      for (let g = 0; g < 3; g++) if (k - 6 * g >= 0 && k - 6 * g < 5) terms.push(col(g, k - 6 * g));
      PAIRS.forEach(([g, h], t) => {
        const m = k - 3 * (g + h);
        if (m < 0 || m >= 5) return;
        terms.push(col(3 + t, m));
        minus.push(col(g, m), col(h, m));
      });
    }
    // Q·p's terms: q_i·p_(k−i) for the q's known, the newest (q_(k−1), k < 9) apart
    const top = k < LIMBS ? k - 1 : LIMBS - 1;
    const paired = new Set<number>();
    if (square) {
      const free = (i: number) => i >= Math.max(lo, 1) && i <= top && !(k < LIMBS && i === k - 1);
      for (let i = 1; i < k - i; i++) {
        if (!free(i) || !free(k - i)) continue;
        terms.push(mul(add(L(`q${i}`), L(`q${k - i}`)), K(P[i]! + P[k - i]!)));
        minus.push(L(`e${i}`), L(`e${k - i}`));
        paired.add(i).add(k - i);
      }
      if (k % 2 === 0 && free(k / 2)) {
        terms.push(L(`e${k / 2}`));
        paired.add(k / 2);
      }
    }
    const newest: Code[] = [];
    for (let i = lo; i <= top; i++) {
      if (paired.has(i)) continue;
      (k < LIMBS && i === k - 1 ? newest : terms).push(mul(L(`q${i}`), K(P[k - i]!)));
    }
    let v = sum(terms);
    if (minus.length) v = c.i64_sub(v, sum(minus));
    if (newest.length) v = add(v, newest[0]!);
    if (k > 0) v = add(v, c.i64_shr_s(L('acc'), K(LIMB_BITS)));
    code.push(...c.setLocal('acc', v));
    if (k < LIMBS) {
      const q = `q${k}`;
      if (rTrick) {
        code.push(...c.setLocal(q, c.i64_and(c.i64_sub(c.i64_shl(L('acc'), K(28)), L('acc')), K(MASK))));
        code.push(...c.setLocal('acc', add(add(L('acc'), L(q)), c.i64_shl(L(q), K(28)))));
      } else {
        code.push(...c.setLocal(q, c.i64_and(mul(L('acc'), K(negInv)), K(MASK)))); // acc's low 29 bits decide
        code.push(...c.setLocal('acc', add(L('acc'), mul(L(q), K(P[0]!)))));
      }
      if (square && k > 0) code.push(...c.setLocal(`e${k}`, mul(L(q), K(P[k]!))));
    } else {
      code.push(...out(k - LIMBS, c.i64_and(L('acc'), K(MASK))));
    }
  }
  code.push(...out(LIMBS - 1, c.i64_shr_s(L('acc'), K(LIMB_BITS))));
  return code;
}

/** Emits <p>_* functions: mul, add, sub, neg, reduce, copy, eq, isZero, inv, fromFfj, toFfj, toCanon. */
export function emitPrime(m: ModuleBuilder, scratch: Scratch, spec: PrimeSpec): void {
  const F = spec.name;
  const P = limbs(spec.p);
  const P2 = limbs(2n * spec.p);
  // <p>_mul(a, b, r) and <p>_sqr(a, r): a·b·2^-261 and a²·2^-261 (montMul). The operands are read
  // into locals before anything is stored: r may be a or b.
  {
    const [f, c] = fn(m, `${F}_mul`, ['pa', 'pb', 'pr'], montLocals(false));
    f.addCode([...loadLimbs(c, false), ...montMul(c, spec.p, false, (j, v) => c.i64_store32(c.getLocal('pr'), j * 4, v))]);
  }
  {
    const [f, c] = fn(m, `${F}_sqr`, ['pa', 'pr'], montLocals(true));
    f.addCode([...loadLimbs(c, true), ...montMul(c, spec.p, true, (j, v) => c.i64_store32(c.getLocal('pr'), j * 4, v))]);
  }
  // fq_add(a, b, r) and fq_sub(a, b, r) = a − b + 2q: both in [0, 4q) before finish.
  for (const [name, op] of [[`${F}_add`, 'add'], [`${F}_sub`, 'sub']] as const) {
    const [f, c] = fn(m, name, ['pa', 'pb', 'pr'], tuLocals());
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) {
      const a = c.i64_load32_u(c.getLocal('pa'), j * 4);
      const b = c.i64_load32_u(c.getLocal('pb'), j * 4);
      code.push(...c.setLocal(li(j), op === 'add' ? c.i64_add(a, b) : c.i64_add(c.i64_sub(a, b), c.i64_const(P2[j]!))));
    }
    code.push(...finish(c, c.getLocal('pr'), P2));
    f.addCode(code);
  }
  // fq_neg(a, r) = 2q − a, below 2q (2q − 0 finishes to 0)
  {
    const [f, c] = fn(m, `${F}_neg`, ['pa', 'pr'], tuLocals());
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) code.push(...c.setLocal(li(j), c.i64_sub(c.i64_const(P2[j]!), c.i64_load32_u(c.getLocal('pa'), j * 4))));
    code.push(...finish(c, c.getLocal('pr'), P2));
    f.addCode(code);
  }
  // fq_reduce(a, r): the canonical value (< q) of a (< 2q)
  {
    const [f, c] = fn(m, `${F}_reduce`, ['pa', 'pr'], tuLocals());
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) code.push(...c.setLocal(li(j), c.i64_load32_u(c.getLocal('pa'), j * 4)));
    code.push(...finish(c, c.getLocal('pr'), P));
    f.addCode(code);
  }
  emitCopyEq(m, F, FQ_BYTES, P);
  // fq_inv(a, r): a^(q−2), square and multiply over q − 2's bits from the top (a = 0 gives 0).
  {
    const acc = scratch.take(FQ_BYTES);
    const base = scratch.take(FQ_BYTES);
    const [f, c] = fn(m, `${F}_inv`, ['pa', 'pr']);
    const code: Code = [...c.call(`${F}_copy`, c.getLocal('pa'), c.i32_const(base)), ...c.call(`${F}_copy`, c.i32_const(base), c.i32_const(acc))];
    const e = (spec.p - 2n).toString(2);
    for (let i = 1; i < e.length; i++) {
      code.push(...c.call(`${F}_mul`, c.i32_const(acc), c.i32_const(acc), c.i32_const(acc)));
      if (e[i] === '1') code.push(...c.call(`${F}_mul`, c.i32_const(acc), c.i32_const(base), c.i32_const(acc)));
    }
    code.push(...c.call(`${F}_copy`, c.i32_const(acc), c.getLocal('pr')));
    f.addCode(code);
  }
  // fq_fromFfj(src, r): 32 bytes little-endian x·2^256 (ffjavascript) → limbs of x·2^261.
  {
    const tmp = scratch.take(FQ_BYTES);
    const [f, c] = fn(m, `${F}_fromFfj`, ['ps', 'pr'], [['w', 'i64']]);
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) code.push(...c.i64_store32(c.i32_const(tmp), j * 4, unpackLimb(c, c.getLocal('ps'), 0, j)));
    code.push(...c.call(`${F}_mul`, c.i32_const(tmp), c.i32_const(spec.kIn), c.getLocal('pr')));
    code.push(...c.call(`${F}_reduce`, c.getLocal('pr'), c.getLocal('pr')));
    f.addCode(code);
  }
  // <p>_toFfj(src, r): limbs of x·2^261 → 32 bytes of x·2^256; <p>_toCanon(src, r): → 32 bytes of x
  for (const [name, k] of [['toFfj', spec.kOut], ['toCanon', spec.plain1]] as const) {
    const tmp = scratch.take(FQ_BYTES);
    const [f, c] = fn(m, `${F}_${name}`, ['ps', 'pr']);
    const code: Code = [...c.call(`${F}_mul`, c.getLocal('ps'), c.i32_const(k), c.i32_const(tmp)), ...c.call(`${F}_reduce`, c.i32_const(tmp), c.i32_const(tmp))];
    // 4 words of 64 bits from 29-bit limbs
    for (let w = 0; w < 4; w++) {
      const parts: Code[] = [];
      for (let j = 0; j < LIMBS; j++) {
        const lo = j * LIMB_BITS;
        const hi = lo + LIMB_BITS;
        if (hi <= w * 64 || lo >= (w + 1) * 64) continue;
        const l = c.i64_load32_u(c.i32_const(tmp), j * 4);
        parts.push(lo >= w * 64 ? c.i64_shl(l, c.i64_const(lo - w * 64)) : c.i64_shr_u(l, c.i64_const(w * 64 - lo)));
      }
      const v = parts.reduce((a, b) => c.i64_or(a, b));
      code.push(...c.i64_store32(c.getLocal('pr'), w * 8, v));
      code.push(...c.i64_store32(c.getLocal('pr'), w * 8 + 4, c.i64_shr_u(v, c.i64_const(32))));
    }
    f.addCode(code);
  }
}

/** <p>_copy(a, r), <p>_eq(a, b) (canonical values), <p>_isZero(a) for elements of `bytes` bytes. */
function emitCopyEq(m: ModuleBuilder, p: string, bytes: number, P?: number[]): void {
  {
    const [f, c] = fn(m, `${p}_copy`, ['pa', 'pr']);
    const code: Code = [];
    for (let j = 0; j < bytes / 4; j++) code.push(...c.i32_store(c.getLocal('pr'), j * 4, c.i32_load(c.getLocal('pa'), j * 4)));
    f.addCode(code);
  }
  {
    const [f, c] = fn(m, `${p}_eq`, ['pa', 'pb'], [], 'i32');
    let acc = c.i32_const(0);
    for (let j = 0; j < bytes / 4; j++) acc = c.i32_or(acc, c.i32_ne(c.i32_load(c.getLocal('pa'), j * 4), c.i32_load(c.getLocal('pb'), j * 4)));
    f.addCode(c.i32_eqz(acc));
  }
  if (P) {
    // 0 or p
    const [f, c] = fn(m, `${p}_isZero`, ['pa'], [], 'i32');
    let zero = c.i32_const(0);
    let isQ = c.i32_const(0);
    for (let j = 0; j < LIMBS; j++) {
      zero = c.i32_or(zero, c.i32_load(c.getLocal('pa'), j * 4));
      isQ = c.i32_or(isQ, c.i32_ne(c.i32_load(c.getLocal('pa'), j * 4), c.i32_const(P[j]!)));
    }
    f.addCode(c.i32_or(c.i32_eqz(zero), c.i32_eqz(isQ)));
  } else {
    const [f, c] = fn(m, 'fq2_isZero', ['pa'], [], 'i32');
    f.addCode(c.i32_and(c.call('fq_isZero', c.getLocal('pa')), c.call('fq_isZero', c.i32_add(c.getLocal('pa'), c.i32_const(FQ_BYTES)))));
  }
}

/** Emits fq2_* functions over (c0, c1) pairs of Fq elements, u² = −1. */
export function emitFq2(m: ModuleBuilder, scratch: Scratch): void {
  const E = FQ_BYTES;
  const at = (c: CodeBuilder, p: string, k: 0 | 1) => (k === 0 ? c.getLocal(p) : c.i32_add(c.getLocal(p), c.i32_const(E)));
  for (const op of ['add', 'sub'] as const) {
    const [f, c] = fn(m, `fq2_${op}`, ['pa', 'pb', 'pr']);
    f.addCode([0, 1].flatMap((k) => c.call(`fq_${op}`, at(c, 'pa', k as 0 | 1), at(c, 'pb', k as 0 | 1), at(c, 'pr', k as 0 | 1))));
  }
  for (const op of ['neg', 'reduce'] as const) {
    const [f, c] = fn(m, `fq2_${op}`, ['pa', 'pr']);
    f.addCode([0, 1].flatMap((k) => c.call(`fq_${op}`, at(c, 'pa', k as 0 | 1), at(c, 'pr', k as 0 | 1))));
  }
  emitCopyEq(m, 'fq2', 2 * E);
  // Karatsuba: v0 = a0b0, v1 = a1b1, r0 = v0 − v1, r1 = (a0 + a1)(b0 + b1) − v0 − v1
  {
    const [v0, v1, s1, s2] = [scratch.take(E), scratch.take(E), scratch.take(E), scratch.take(E)];
    const [f, c] = fn(m, 'fq2_mul', ['pa', 'pb', 'pr']);
    const k = (x: number) => c.i32_const(x);
    f.addCode([
      ...c.call('fq_mul', at(c, 'pa', 0), at(c, 'pb', 0), k(v0)),
      ...c.call('fq_mul', at(c, 'pa', 1), at(c, 'pb', 1), k(v1)),
      ...c.call('fq_add', at(c, 'pa', 0), at(c, 'pa', 1), k(s1)),
      ...c.call('fq_add', at(c, 'pb', 0), at(c, 'pb', 1), k(s2)),
      ...c.call('fq_mul', k(s1), k(s2), k(s1)),
      ...c.call('fq_sub', k(s1), k(v0), k(s1)),
      ...c.call('fq_sub', k(s1), k(v1), at(c, 'pr', 1)),
      ...c.call('fq_sub', k(v0), k(v1), at(c, 'pr', 0)),
    ]);
  }
  // (a0 + a1u)² = (a0 + a1)(a0 − a1) + 2·a0·a1·u: two products
  {
    const [t0, t1, t2] = [scratch.take(E), scratch.take(E), scratch.take(E)];
    const [f, c] = fn(m, 'fq2_sqr', ['pa', 'pr']);
    const k = (x: number) => c.i32_const(x);
    f.addCode([
      ...c.call('fq_add', at(c, 'pa', 0), at(c, 'pa', 1), k(t0)),
      ...c.call('fq_sub', at(c, 'pa', 0), at(c, 'pa', 1), k(t1)),
      ...c.call('fq_mul', at(c, 'pa', 0), at(c, 'pa', 1), k(t2)),
      ...c.call('fq_mul', k(t0), k(t1), at(c, 'pr', 0)),
      ...c.call('fq_add', k(t2), k(t2), at(c, 'pr', 1)),
    ]);
  }
  // (a0 + a1u)^-1 = (a0 − a1u) / (a0² + a1²)
  {
    const [n, t] = [scratch.take(E), scratch.take(E)];
    const [f, c] = fn(m, 'fq2_inv', ['pa', 'pr']);
    const k = (x: number) => c.i32_const(x);
    f.addCode([
      ...c.call('fq_mul', at(c, 'pa', 0), at(c, 'pa', 0), k(n)),
      ...c.call('fq_mul', at(c, 'pa', 1), at(c, 'pa', 1), k(t)),
      ...c.call('fq_add', k(n), k(t), k(n)),
      ...c.call('fq_inv', k(n), k(n)),
      ...c.call('fq_mul', at(c, 'pa', 0), k(n), at(c, 'pr', 0)),
      ...c.call('fq_mul', at(c, 'pa', 1), k(n), k(t)),
      ...c.call('fq_neg', k(t), at(c, 'pr', 1)),
    ]);
  }
  for (const dir of ['fromFfj', 'toFfj'] as const) {
    const [f, c] = fn(m, `fq2_${dir}`, ['ps', 'pr']);
    const src = (k: 0 | 1) => (k === 0 ? c.getLocal('ps') : c.i32_add(c.getLocal('ps'), c.i32_const(dir === 'fromFfj' ? 32 : E)));
    const dst = (k: 0 | 1) => (k === 0 ? c.getLocal('pr') : c.i32_add(c.getLocal('pr'), c.i32_const(dir === 'fromFfj' ? E : 32)));
    f.addCode([0, 1].flatMap((k) => c.call(`fq_${dir}`, src(k as 0 | 1), dst(k as 0 | 1))));
  }
}


/**
 * fq_affTail(lam, pa, pb, pr): the end of an affine addition or doubling, given λ: x3 = λ² − xa −
 * xb, y3 = λ(xa − x3) − ya, written to pr (which may be pa or pb: everything is read first). One
 * function with every intermediate in locals, where the batched addition (wasm-curve.ts) made six
 * calls and two copies through memory. Points are x ‖ y (FQ_BYTES each); all values below 2q.
 */
export function emitAffineTail(m: ModuleBuilder): void {
  const P2 = limbs(2n * Q);
  const P4 = limbs(4n * Q);
  const names = new Set([...montLocals(false).map(([x]) => x), ...['s', 'd', 'u'].flatMap((p) => range(LIMBS).map((j) => `${p}${j}`))]);
  const [f, c] = fn(m, 'fq_affTail', ['plam', 'pa', 'pb', 'pr'], [...names].map((x) => [x, 'i64'] as [string, 'i64']));
  const L = (x: string) => c.getLocal(x);
  const ld = (p: string, j: number, y = false) => c.i64_load32_u(L(p), (y ? FQ_BYTES : 0) + j * 4);
  const set = (pre: string, v: (j: number) => Code) => range(LIMBS).flatMap((j) => c.setLocal(`${pre}${j}`, v(j)));
  /** <pre> (normalized, below 4q) less 2q where that stays ≥ 0 */
  const below2q = (pre: string) => [
    ...set('u', (j) => c.i64_sub(L(`${pre}${j}`), c.i64_const(P2[j]!))),
    ...normalize(c, 'u'),
    ...c.if(c.i64_ge_s(L(`u${LIMBS - 1}`), c.i64_const(0)), set(pre, (j) => L(`u${j}`))),
  ];
  f.addCode([
    ...set('a', (j) => ld('plam', j)),
    // s = λ² − xa − xb + 4q, in (0, 6q): below 2q after two conditional subtractions
    ...montMul(c, Q, true, (j, v) => c.setLocal(`s${j}`, v)),
    ...set('s', (j) => c.i64_add(c.i64_sub(c.i64_sub(L(`s${j}`), ld('pa', j)), ld('pb', j)), c.i64_const(P4[j]!))),
    ...normalize(c, 's'), ...below2q('s'), ...below2q('s'),
    // b = xa − x3 + 2q; d = λ·b; y3 = d − ya + 2q
    ...set('b', (j) => c.i64_add(c.i64_sub(ld('pa', j), L(`s${j}`)), c.i64_const(P2[j]!))),
    ...normalize(c, 'b'), ...below2q('b'),
    ...montMul(c, Q, false, (j, v) => c.setLocal(`d${j}`, v)),
    ...set('d', (j) => c.i64_add(c.i64_sub(L(`d${j}`), ld('pa', j, true)), c.i64_const(P2[j]!))),
    ...normalize(c, 'd'), ...below2q('d'),
    ...range(LIMBS).flatMap((j) => [...c.i64_store32(L('pr'), j * 4, L(`s${j}`)), ...c.i64_store32(L('pr'), FQ_BYTES + j * 4, L(`d${j}`))]),
  ]);
}
