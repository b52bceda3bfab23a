// BN254 prime-field arithmetic in WGSL, generated with the moduli's constants filled in.
//
// Representation: an element is `BigInt`, NL limbs of W bits (W = 13, NL = 20: 260 bits) in
// u32 words, least significant first, always normalized (every limb < 2^W) and fully reduced
// (value < p). Montgomery form here is x·R mod p with R = 2^(W·NL) = 2^260, NOT ffjavascript's
// 2^256: `from_ff` / `to_ff` convert between the two.
//
// Why 13-bit limbs: WGSL has no 64-bit integers and no mul-hi, so a 32×32 product is out of
// reach. A 13×13 product is < 2^26, so a u32 can accumulate 2·NL = 40 of them (< 2^31.4) before
// it could overflow, and the Montgomery product needs no carry propagation until the very end
// (lazy carries). That is what Derei & Koh measured fastest (ZPrize 2023 WebGPU MSM). W is a
// parameter (10…13) so that other widths can be measured; `checkConfig` proves the u32 bound.
//
// Every function is emitted fully unrolled: limb indices are literals, so a GPU compiler keeps
// the limbs in registers instead of spilling indexed arrays to local memory.
import { modPow } from '../../../bigint.js';

export type FieldName = 'fq' | 'fr';

/** BN254 base field (coordinates of G1) and scalar field (group order) moduli. */
export const FIELD_MODULI: Readonly<Record<FieldName, bigint>> = Object.freeze({
  fq: 21888242871839275222246405745257275088696311157297823662689037894645226208583n,
  fr: 21888242871839275222246405745257275088548364400416034343698204186575808495617n,
});

/** Limb width of the default configuration. */
export const LIMB_BITS = 13;
/** Limbs per element in the default configuration: ceil(256 / LIMB_BITS). */
export const NUM_LIMBS = 20;

export interface FieldConfig {
  /** Bits per limb, 10…13. */
  readonly limbBits: number;
  /** Limbs per element: ceil(256 / limbBits), so that any 256-bit word string can be held. */
  readonly numLimbs: number;
  /**
   * Emit the Montgomery product's outer loop (over a's limbs) as a WGSL loop instead of NL
   * unrolled copies. The inner loop stays unrolled (its limbs stay in registers). The code is
   * NL times smaller: compilers that inline every call (Mesa's) build far faster, and a GPU's
   * instruction cache holds a whole point addition.
   */
  readonly rolledMul: boolean;
}

export const DEFAULT_FIELD_CONFIG: FieldConfig = Object.freeze({ limbBits: LIMB_BITS, numLimbs: NUM_LIMBS, rolledMul: true });

/** A configuration for another limb width (for measurements); throws if u32 lazy carries could overflow. */
export function fieldConfig(limbBits: number, rolledMul = DEFAULT_FIELD_CONFIG.rolledMul): FieldConfig {
  return checkConfig({ limbBits, numLimbs: Math.ceil(256 / limbBits), rolledMul });
}

function checkConfig(cfg: FieldConfig): FieldConfig {
  const { limbBits: w, numLimbs: n } = cfg;
  if (!Number.isInteger(w) || w < 10 || w > 13 || n * w < 256) throw new RangeError(`limb width ${w} not supported (10…13)`);
  // Montgomery loop bound (see fieldWgsl's mul): a limb holds at most 2·NL products of two
  // W-bit limbs plus one carry < 2^(33−W); that must stay below 2^32.
  const maxLimb = 2n * BigInt(n) * (2n ** BigInt(w) - 1n) ** 2n + 2n ** BigInt(33 - w);
  if (maxLimb >= 2n ** 32n) throw new RangeError(`limb width ${w}: lazy carries would overflow a u32`);
  return cfg;
}
checkConfig(DEFAULT_FIELD_CONFIG);

// ---------------------------------------------------------------------------------------------
// TypeScript helpers: canonical values ↔ 8 little-endian u32 words (the layout of 32-byte LE
// buffers read as Uint32Array on a little-endian host, and of `from_words` / `to_words`).

const MASK32 = 0xffffffffn;

/** x (0 ≤ x < 2^256) as 8 u32 words, least significant first. */
export function bigintToWords(x: bigint, out: Uint32Array = new Uint32Array(8), offset = 0): Uint32Array {
  if (x < 0n || x >> 256n !== 0n) throw new RangeError('value does not fit in 256 bits');
  for (let i = 0; i < 8; i++) {
    out[offset + i] = Number(x & MASK32);
    x >>= 32n;
  }
  return out;
}

/** The value of 8 u32 words at `offset`, least significant first. */
export function wordsToBigint(w: Uint32Array, offset = 0): bigint {
  let x = 0n;
  for (let i = 7; i >= 0; i--) x = (x << 32n) | BigInt(w[offset + i]!);
  return x;
}

/** Many values packed back to back, 8 words each. */
export function packBigints(xs: readonly bigint[]): Uint32Array {
  const out = new Uint32Array(xs.length * 8);
  xs.forEach((x, i) => bigintToWords(x, out, i * 8));
  return out;
}

/** `count` values from back-to-back 8-word groups. */
export function unpackBigints(w: Uint32Array, count = w.length / 8): bigint[] {
  return Array.from({ length: count }, (_, i) => wordsToBigint(w, i * 8));
}

/** x split into `cfg.numLimbs` limbs of `cfg.limbBits` bits (the `BigInt` struct's contents). */
export function bigintToLimbs(x: bigint, cfg: FieldConfig = DEFAULT_FIELD_CONFIG): number[] {
  const w = BigInt(cfg.limbBits);
  const mask = (1n << w) - 1n;
  const out: number[] = [];
  for (let i = 0; i < cfg.numLimbs; i++) {
    out.push(Number(x & mask));
    x >>= w;
  }
  if (x !== 0n) throw new RangeError('value does not fit in the limbs');
  return out;
}

/** This library's Montgomery radix R = 2^(W·NL). */
export function montgomeryR(cfg: FieldConfig = DEFAULT_FIELD_CONFIG): bigint {
  return 1n << BigInt(cfg.limbBits * cfg.numLimbs);
}

/** a⁻¹ mod 2^k for odd a, by Newton's iteration (each step doubles the correct low bits). */
function inv2k(a: bigint, k: bigint): bigint {
  const m = (1n << k) - 1n;
  let x = 1n; // correct mod 2 for odd a
  for (let bits = 1n; bits < k; bits *= 2n) x = (x * (2n - a * x)) & m;
  return x & m;
}

// ---------------------------------------------------------------------------------------------
// WGSL generation

const u = (x: number) => `${x}u`;
/** x as a WGSL `BigInt` literal (x < 2^(W·NL); Montgomery form is the caller's business). */
export const bigintLiteral = (x: bigint, cfg: FieldConfig = DEFAULT_FIELD_CONFIG) =>
  `BigInt(array<u32, ${cfg.numLimbs}>(${bigintToLimbs(x, cfg).map(u).join(', ')}))`;

/**
 * Shared definitions, included once per shader: the `BigInt` struct, limb width constants and
 * the modulus-independent word (un)packing used by every field's from_words / to_words.
 */
export function bigintWgsl(cfg: FieldConfig = DEFAULT_FIELD_CONFIG): string {
  checkConfig(cfg);
  const { limbBits: w, numLimbs: n } = cfg;
  const mask = (1 << w) - 1;
  const lines: string[] = [];
  lines.push(`// BigInt: ${n} limbs of ${w} bits, least significant first; every limb < 2^${w}.`);
  lines.push(`const NL: u32 = ${u(n)};`);
  lines.push(`const LB: u32 = ${u(w)};`);
  lines.push(`const LMASK: u32 = ${u(mask)};`);
  lines.push(`struct BigInt { l: array<u32, ${n}> }`);
  // Word → limb repacking: limb i holds bits [w·i, w·i + w), which straddle at most two words.
  lines.push(`fn bi_from_words(x: array<u32, 8>) -> BigInt {`);
  lines.push(`  var r: BigInt;`);
  for (let i = 0; i < n; i++) {
    const lo = w * i;
    const wi = lo >> 5;
    const sh = lo & 31;
    if (wi >= 8) {
      lines.push(`  r.l[${i}] = 0u;`);
      continue;
    }
    let e = sh === 0 ? `x[${wi}]` : `(x[${wi}] >> ${u(sh)})`;
    if (sh + w > 32 && wi + 1 < 8) e += ` | (x[${wi + 1}] << ${u(32 - sh)})`;
    lines.push(`  r.l[${i}] = (${e}) & LMASK;`);
  }
  lines.push(`  return r;`);
  lines.push(`}`);
  // Limb → word repacking: word j collects every limb overlapping bits [32j, 32j + 32).
  lines.push(`fn bi_to_words(a: BigInt) -> array<u32, 8> {`);
  lines.push(`  var x: array<u32, 8>;`);
  for (let j = 0; j < 8; j++) {
    const terms: string[] = [];
    for (let i = 0; i < n; i++) {
      const lo = w * i;
      const hi = lo + w;
      if (hi <= 32 * j || lo >= 32 * j + 32) continue;
      const sh = lo - 32 * j;
      terms.push(sh >= 0 ? (sh === 0 ? `a.l[${i}]` : `(a.l[${i}] << ${u(sh)})`) : `(a.l[${i}] >> ${u(-sh)})`);
    }
    lines.push(`  x[${j}] = ${terms.join(' | ')};`);
  }
  lines.push(`  return x;`);
  lines.push(`}`);
  // Add with carry propagation; the caller guarantees the sum fits in NL limbs.
  lines.push(`fn bi_add(a: BigInt, b: BigInt) -> BigInt {`);
  lines.push(`  var r: BigInt;`);
  lines.push(`  var c = 0u;`);
  for (let i = 0; i < n; i++) {
    lines.push(`  c = a.l[${i}] + b.l[${i}] + c; r.l[${i}] = c & LMASK; c = c >> LB;`);
  }
  lines.push(`  return r;`);
  lines.push(`}`);
  lines.push(`fn bi_is_zero(a: BigInt) -> bool {`);
  lines.push(`  return (${Array.from({ length: n }, (_, i) => `a.l[${i}]`).join(' | ')}) == 0u;`);
  lines.push(`}`);
  lines.push(`fn bi_eq(a: BigInt, b: BigInt) -> bool {`);
  lines.push(`  return (${Array.from({ length: n }, (_, i) => `(a.l[${i}] ^ b.l[${i}])`).join(' | ')}) == 0u;`);
  lines.push(`}`);
  return lines.join('\n') + '\n';
}

/** The constants a field's WGSL is generated from (exported for tests and host code). */
export function fieldConstants(f: FieldName, cfg: FieldConfig = DEFAULT_FIELD_CONFIG) {
  const p = FIELD_MODULI[f];
  const r = montgomeryR(cfg);
  const wBits = BigInt(cfg.limbBits);
  // −p⁻¹ mod 2^W: the Montgomery factor that clears the low limb.
  const nInv = Number(((1n << wBits) - inv2k(p, wBits)) % (1n << wBits));
  return {
    p,
    r,
    nInv,
    /** R mod p: one in Montgomery form. */
    one: r % p,
    /** R² mod p: mont_mul(x, r2) = x·R. */
    r2: (r * r) % p,
    /** from_ff multiplies by this: mont_mul(x·2^256, c) = x·R needs c = R²/2^256. */
    fromFF: (r * r * modPow(2n, p - 1n - 256n, p)) % p,
    /** to_ff multiplies by this: mont_mul(x·R, c) = x·2^256 needs c = 2^256. */
    toFF: (1n << 256n) % p,
  };
}

/**
 * WGSL functions for one modulus, all prefixed with `f_` (`fq_` or `fr_`). Inputs and outputs
 * are normalized and < p unless a function says otherwise. Needs `bigintWgsl()` once before.
 */
export function fieldWgsl(f: FieldName, cfg: FieldConfig = DEFAULT_FIELD_CONFIG): string {
  checkConfig(cfg);
  const n = cfg.numLimbs;
  const k = fieldConstants(f, cfg);
  const pl = bigintToLimbs(k.p, cfg);
  const P = f.toUpperCase();
  const L: string[] = [];
  const range = (m: number) => Array.from({ length: m }, (_, i) => i);

  L.push(`// ---- ${f}: p = ${k.p}`);
  L.push(`const ${P}_P = ${bigintLiteral(k.p, cfg)};`);
  L.push(`const ${P}_ONE = ${bigintLiteral(k.one, cfg)};`);
  L.push(`const ${P}_R2 = ${bigintLiteral(k.r2, cfg)};`);
  L.push(`const ${P}_FROM_FF = ${bigintLiteral(k.fromFF, cfg)};`);
  L.push(`const ${P}_TO_FF = ${bigintLiteral(k.toFF, cfg)};`);
  L.push(`const ${P}_RAW_ONE = ${bigintLiteral(1n, cfg)};`);

  L.push(`fn ${f}_zero() -> BigInt { var r: BigInt; return r; }`);
  L.push(`fn ${f}_one() -> BigInt { return ${P}_ONE; }`);
  L.push(`fn ${f}_eq(a: BigInt, b: BigInt) -> bool { return bi_eq(a, b); }`);
  L.push(`fn ${f}_is_zero(a: BigInt) -> bool { return bi_is_zero(a); }`);
  L.push(`fn ${f}_from_words(x: array<u32, 8>) -> BigInt { return bi_from_words(x); }`);
  L.push(`fn ${f}_to_words(a: BigInt) -> array<u32, 8> { return bi_to_words(a); }`);

  // a − p if a ≥ p, else a; for normalized a < 2p. The borrow of the last limb says a < p.
  L.push(`fn ${f}_reduce(a: BigInt) -> BigInt {`);
  L.push(`  var s: BigInt;`);
  L.push(`  var d: u32;`);
  L.push(`  var b = 0u;`);
  for (const i of range(n)) {
    // |d| < 2^(W+1): as a wrapped u32 its top bit is the borrow.
    L.push(`  d = a.l[${i}] - ${u(pl[i]!)} - b; s.l[${i}] = d & LMASK; b = d >> 31u;`);
  }
  L.push(`  if (b == 1u) { return a; }`);
  L.push(`  return s;`);
  L.push(`}`);

  // a + b < 2p < 2^(W·NL): one conditional subtraction.
  L.push(`fn ${f}_add(a: BigInt, b: BigInt) -> BigInt { return ${f}_reduce(bi_add(a, b)); }`);
  L.push(`fn ${f}_double(a: BigInt) -> BigInt { return ${f}_reduce(bi_add(a, a)); }`);

  // a − b; on a final borrow add p back, masked so that there is no branch.
  L.push(`fn ${f}_sub(a: BigInt, b: BigInt) -> BigInt {`);
  L.push(`  var r: BigInt;`);
  L.push(`  var d: u32;`);
  L.push(`  var bw = 0u;`);
  for (const i of range(n)) L.push(`  d = a.l[${i}] - b.l[${i}] - bw; r.l[${i}] = d & LMASK; bw = d >> 31u;`);
  L.push(`  let m = 0u - bw;`); // all ones when a < b
  L.push(`  var c = 0u;`);
  for (const i of range(n)) L.push(`  c = r.l[${i}] + (${u(pl[i]!)} & m) + c; r.l[${i}] = c & LMASK; c = c >> LB;`);
  L.push(`  return r;`);
  L.push(`}`);
  L.push(`fn ${f}_neg(a: BigInt) -> BigInt { return ${f}_sub(${f}_zero(), a); }`);

  // Montgomery product a·b·R⁻¹ mod p, CIOS with lazy carries. t holds the running value in
  // NL−1 unnormalized limbs t0…t(NL−2). Per outer step i: t += a_i·b; m makes the low limb
  // divisible by 2^W; t += m·p; t >>= W (a renaming: t_j ← t_(j+1)). Only the low limb's carry
  // is propagated, into the next limb. Each limb thus gains at most two products < 2^(2W) per
  // step, 2·NL in all, plus one carry (bound checked in checkConfig). With b < p and any
  // a < R (each a_i < 2^W), every step keeps t < 2p, so one conditional subtraction ends it.
  L.push(`fn ${f}_mul(a: BigInt, b: BigInt) -> BigInt {`);
  L.push(`  var ai: u32;`);
  L.push(`  var m: u32;`);
  L.push(`  var c: u32;`);
  const T = range(n - 1).map((j) => `t${j}`);
  for (const j of range(n - 1)) L.push(`  var t${j} = 0u;`);
  // One outer step; `first` drops the terms that are known zeros (unrolled form only).
  const step = (ai: string, first: boolean, ind: string) => {
    L.push(`${ind}ai = ${ai};`);
    L.push(first ? `${ind}t0 = ai * b.l[0];` : `${ind}t0 = t0 + ai * b.l[0];`);
    L.push(`${ind}m = (t0 * ${u(k.nInv)}) & LMASK;`);
    L.push(`${ind}c = (t0 + m * ${u(pl[0]!)}) >> LB;`);
    for (let j = 1; j < n; j++) {
      const prev = j < n - 1 && !first ? `${T[j]} + ` : '';
      const mp = pl[j] === 0 ? '' : ` + m * ${u(pl[j]!)}`;
      L.push(`${ind}${T[j - 1]} = ${prev}ai * b.l[${j}]${mp}${j === 1 ? ' + c' : ''};`);
    }
  };
  if (cfg.rolledMul) {
    L.push(`  for (var i = 0u; i < ${u(n)}; i++) {`);
    step('a.l[i]', false, '    ');
    L.push(`  }`);
  } else {
    for (const i of range(n)) step(`a.l[${i}]`, i === 0, '  ');
  }
  // Normalize: carry through the limbs; the top limb gets the last carry (t < 2p fits).
  L.push(`  var r: BigInt;`);
  L.push(`  r.l[0] = t0 & LMASK; c = t0 >> LB;`);
  for (let j = 1; j < n - 1; j++) L.push(`  c = t${j} + c; r.l[${j}] = c & LMASK; c = c >> LB;`);
  L.push(`  r.l[${n - 1}] = c;`);
  L.push(`  return ${f}_reduce(r);`);
  L.push(`}`);
  L.push(`fn ${f}_sqr(a: BigInt) -> BigInt { return ${f}_mul(a, a); }`);
  // a^(p−2) = a⁻¹ (Fermat), 0 for 0: square-and-multiply from the top bit. ~256 squarings and
  // ~128 products: for one-off work (the MSM's precomputed multiples), not inner loops.
  const pm2 = bigintToWords(k.p - 2n);
  L.push(`const ${P}_PM2 = array<u32, 8>(${Array.from(pm2, (w) => `${w}u`).join(', ')});`);
  L.push(`fn ${f}_inv(a: BigInt) -> BigInt {`);
  L.push(`  var e = ${P}_PM2;`);
  L.push(`  var r = ${P}_ONE;`);
  L.push(`  for (var w = 7i; w >= 0i; w--) {`);
  L.push(`    for (var b = 31i; b >= 0i; b--) {`);
  L.push(`      r = ${f}_mul(r, r);`);
  L.push(`      if (((e[w] >> u32(b)) & 1u) == 1u) { r = ${f}_mul(r, a); }`);
  L.push(`    }`);
  L.push(`  }`);
  L.push(`  return r;`);
  L.push(`}`);

  L.push(`fn ${f}_to_mont(a: BigInt) -> BigInt { return ${f}_mul(a, ${P}_R2); }`);
  L.push(`fn ${f}_from_mont(a: BigInt) -> BigInt { return ${f}_mul(a, ${P}_RAW_ONE); }`);
  // ffjavascript's Montgomery (x·2^256) ↔ ours (x·2^(W·NL)): one product with a constant each.
  L.push(`fn ${f}_from_ff(a: BigInt) -> BigInt { return ${f}_mul(a, ${P}_FROM_FF); }`);
  L.push(`fn ${f}_to_ff(a: BigInt) -> BigInt { return ${f}_mul(a, ${P}_TO_FF); }`);
  return L.join('\n') + '\n';
}
