// BN254's base field Fq and its quadratic extension Fq2 = Fq[u]/(u² + 1), emitted as WebAssembly
// with wasmbuilder for the CPU MSM (msm.ts). An Fq element is 9 limbs of 29 bits, each in a u32
// (36 bytes), in Montgomery form with R = 2^261. 29-bit limbs make a limb product 58 bits, so
// the 18 products a Montgomery step adds to one accumulator stay below 2^64 without carries: the
// multiplication propagates carries once, at the end (the wasm MSM of Mitscha-Baude, ZPrize
// 2022). Values are kept below 2p (4p < R, so a product of two stays below 2p without a final
// subtraction); fq_reduce makes one canonical (< p). Points are stored canonical, so equality of
// coordinates is limb equality; isZero accepts both forms of zero (0 and p).
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
function normalize(c: CodeBuilder, pre: string): Code {
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
 * at `r`. The value must lie in [0, 2m).
 */
function finish(c: CodeBuilder, r: Code, m: number[]): Code {
  const out: Code = normalize(c, 't');
  for (let j = 0; j < LIMBS; j++) out.push(...c.setLocal(`u${j}`, c.i64_sub(c.getLocal(`t${j}`), c.i64_const(m[j]!))));
  out.push(...normalize(c, 'u'));
  out.push(...c.if(c.i64_ge_s(c.getLocal(`u${LIMBS - 1}`), c.i64_const(0)), store(c, r, 'u'), store(c, r, 't')));
  return out;
}

const tuLocals = (): Array<[string, 'i64']> => [...Array.from({ length: LIMBS }, (_, j) => [`t${j}`, 'i64'] as [string, 'i64']), ...Array.from({ length: LIMBS }, (_, j) => [`u${j}`, 'i64'] as [string, 'i64'])];

/** Emits <p>_* functions: mul, add, sub, neg, reduce, copy, eq, isZero, inv, fromFfj, toFfj, toCanon. */
export function emitPrime(m: ModuleBuilder, scratch: Scratch, spec: PrimeSpec): void {
  const F = spec.name;
  const P = limbs(spec.p);
  const P2 = limbs(2n * spec.p);
  const NEG_INV = negInv29(spec.p);
  // fq_mul(a, b, r): Montgomery product a·b·2^-261, operand scanning with lazy carries.
  {
    const loc: Array<[string, 'i64']> = [...tuLocals(), ['q', 'i64'], ['x', 'i64']];
    for (let j = 0; j < LIMBS; j++) loc.push([`a${j}`, 'i64'], [`b${j}`, 'i64']);
    const [f, c] = fn(m, `${F}_mul`, ['pa', 'pb', 'pr'], loc);
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) {
      code.push(...c.setLocal(`a${j}`, c.i64_load32_u(c.getLocal('pa'), j * 4)));
      code.push(...c.setLocal(`b${j}`, c.i64_load32_u(c.getLocal('pb'), j * 4)));
    }
    const prod = (x: string, y: string) => c.i64_mul(c.getLocal(x), c.getLocal(y));
    for (let i = 0; i < LIMBS; i++) {
      code.push(...c.setLocal('x', c.i64_add(c.getLocal('t0'), prod(`a${i}`, 'b0'))));
      code.push(...c.setLocal('q', c.i64_and(c.i64_mul(c.i64_and(c.getLocal('x'), c.i64_const(MASK)), c.i64_const(NEG_INV)), c.i64_const(MASK))));
      code.push(...c.setLocal('x', c.i64_shr_u(c.i64_add(c.getLocal('x'), c.i64_mul(c.getLocal('q'), c.i64_const(P[0]!))), c.i64_const(LIMB_BITS))));
      for (let j = 1; j < LIMBS; j++) {
        let e = c.i64_add(prod(`a${i}`, `b${j}`), c.i64_mul(c.getLocal('q'), c.i64_const(P[j]!)));
        if (j < LIMBS - 1) e = c.i64_add(c.getLocal(li(j)), e);
        if (j === 1) e = c.i64_add(e, c.getLocal('x'));
        code.push(...c.setLocal(li(j - 1), e));
      }
    }
    code.push(...c.setLocal(li(LIMBS - 1), c.i64_const(0)));
    code.push(...normalize(c, 't'), ...store(c, c.getLocal('pr'), 't'));
    f.addCode(code);
  }
  // <p>_sqr(a, r): a²·2^-261, product scanning (FIPS): a column's cross products once, doubled,
  // and its Montgomery terms q_i·p_j into one 64-bit accumulator (at most 18·2^58 with the carry):
  // 45 limb products and 81 + 9 for the reduction, where <p>_mul takes 171.
  {
    const loc: Array<[string, 'i64']> = [['acc', 'i64']];
    for (let j = 0; j < LIMBS; j++) loc.push([`a${j}`, 'i64'], [`q${j}`, 'i64']);
    const [f, c] = fn(m, `${F}_sqr`, ['pa', 'pr'], loc);
    const L = (x: string) => c.getLocal(x);
    const code: Code = [];
    for (let j = 0; j < LIMBS; j++) code.push(...c.setLocal(`a${j}`, c.i64_load32_u(L('pa'), j * 4)));
    for (let k = 0; k <= 2 * (LIMBS - 1); k++) {
      const lo = Math.max(0, k - (LIMBS - 1));
      const hi = Math.min(LIMBS - 1, k);
      const cross: Code[] = [];
      for (let i = lo; i <= hi; i++) if (i < k - i) cross.push(c.i64_mul(L(`a${i}`), L(`a${k - i}`)));
      if (cross.length) code.push(...c.setLocal('acc', c.i64_add(L('acc'), c.i64_shl(cross.reduce((x, y) => c.i64_add(x, y)), c.i64_const(1)))));
      if (k % 2 === 0) code.push(...c.setLocal('acc', c.i64_add(L('acc'), c.i64_mul(L(`a${k / 2}`), L(`a${k / 2}`)))));
      // reduction terms q_i·p_(k−i) of the q's known so far
      for (let i = lo; i <= Math.min(hi, k < LIMBS ? k - 1 : LIMBS - 1); i++) {
        code.push(...c.setLocal('acc', c.i64_add(L('acc'), c.i64_mul(L(`q${i}`), c.i64_const(P[k - i]!)))));
      }
      if (k < LIMBS) {
        code.push(...c.setLocal(`q${k}`, c.i64_and(c.i64_mul(c.i64_and(L('acc'), c.i64_const(MASK)), c.i64_const(NEG_INV)), c.i64_const(MASK))));
        code.push(...c.setLocal('acc', c.i64_add(L('acc'), c.i64_mul(L(`q${k}`), c.i64_const(P[0]!)))));
      } else {
        code.push(...c.i64_store32(L('pr'), (k - LIMBS) * 4, c.i64_and(L('acc'), c.i64_const(MASK))));
      }
      code.push(...c.setLocal('acc', c.i64_shr_u(L('acc'), c.i64_const(LIMB_BITS))));
    }
    code.push(...c.i64_store32(L('pr'), (LIMBS - 1) * 4, L('acc')));
    f.addCode(code);
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
    for (let j = 0; j < LIMBS; j++) {
      const bit = j * LIMB_BITS;
      const byte = Math.min(Math.floor(bit / 8), 24); // an 8-byte load inside the 32 bytes
      const shift = bit - byte * 8;
      code.push(...c.i64_store32(c.i32_const(tmp), j * 4, c.i64_and(c.i64_shr_u(c.i64_load(c.getLocal('ps'), byte), c.i64_const(shift)), c.i64_const(MASK))));
    }
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

