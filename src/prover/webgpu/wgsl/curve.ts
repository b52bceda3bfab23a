// G1 (y² = x³ + 3 over Fq) and G2 (the twist y² = x³ + 3/(9+u) over Fq2 = Fq[u]/(u² + 1)) of
// BN254 in WGSL, on top of the field library (`fq_*`).
//
// Homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z, identity (0 : 1 : 0), with
// the complete formulas of Renes, Costello and Batina (2016, algorithms 7–9 for a = 0): one code
// path for P + Q, P + P, P + (−P) and P + O, so no branch can pick the wrong case and warps do
// not diverge. Mixed addition (algorithm 8) is complete too, except that its affine operand
// cannot be the identity: MSM kernels never feed it one (infinity bases are skipped when the
// digits are made). Field elements are in the field library's Montgomery form.
//
// The formulas only need a = 0 and the constant 3·b, so one template serves both groups: it is
// instantiated over the coordinate field (`fq` / `BigInt` or `fq2` / `Fq2`) and the group's
// multiplication by 3·b.
import { bigintLiteral, DEFAULT_FIELD_CONFIG, FIELD_MODULI, montgomeryR, type FieldConfig } from './field.js';
import { modPow } from '../../../bigint.js';

export type GroupName = 'g1' | 'g2';

/** 9·x in Fq as a WGSL expression (x is evaluated twice: pass a name). */
const times9 = (x: string) => `fq_add(fq_double(fq_double(fq_double(${x}))), ${x})`;

/**
 * Fq2 = Fq[u]/(u² + 1): c0 + c1·u. Only what the curve formulas and the bases conversion need.
 */
function fq2Wgsl(): string {
  return `
struct Fq2 { c0: BigInt, c1: BigInt }
fn fq2_zero() -> Fq2 { return Fq2(fq_zero(), fq_zero()); }
fn fq2_one() -> Fq2 { return Fq2(fq_one(), fq_zero()); }
fn fq2_is_zero(a: Fq2) -> bool { return fq_is_zero(a.c0) && fq_is_zero(a.c1); }
fn fq2_add(a: Fq2, b: Fq2) -> Fq2 { return Fq2(fq_add(a.c0, b.c0), fq_add(a.c1, b.c1)); }
fn fq2_sub(a: Fq2, b: Fq2) -> Fq2 { return Fq2(fq_sub(a.c0, b.c0), fq_sub(a.c1, b.c1)); }
fn fq2_neg(a: Fq2) -> Fq2 { return Fq2(fq_neg(a.c0), fq_neg(a.c1)); }
fn fq2_double(a: Fq2) -> Fq2 { return Fq2(fq_double(a.c0), fq_double(a.c1)); }
// Karatsuba: 3 products instead of 4.
fn fq2_mul(a: Fq2, b: Fq2) -> Fq2 {
  let v0 = fq_mul(a.c0, b.c0);
  let v1 = fq_mul(a.c1, b.c1);
  let s = fq_mul(fq_add(a.c0, a.c1), fq_add(b.c0, b.c1));
  return Fq2(fq_sub(v0, v1), fq_sub(s, fq_add(v0, v1)));
}
// (a0 + a1·u)² = (a0 + a1)(a0 − a1) + 2·a0·a1·u: 2 products.
fn fq2_sqr(a: Fq2) -> Fq2 {
  return Fq2(fq_mul(fq_add(a.c0, a.c1), fq_sub(a.c0, a.c1)), fq_double(fq_mul(a.c0, a.c1)));
}
fn fq2_from_ff(a: Fq2) -> Fq2 { return Fq2(fq_from_ff(a.c0), fq_from_ff(a.c1)); }
// 1/(a0 + a1·u) = (a0 − a1·u)/(a0² + a1²); 0 for 0.
fn fq2_inv(a: Fq2) -> Fq2 {
  let t = fq_inv(fq_add(fq_mul(a.c0, a.c0), fq_mul(a.c1, a.c1)));
  return Fq2(fq_mul(a.c0, t), fq_neg(fq_mul(a.c1, t)));
}
`;
}

/** A group's instantiation of the template: coordinate field prefix and type, 3·b, preamble. */
interface GroupSpec {
  readonly f: string;
  readonly T: string;
  readonly preamble: string;
  readonly mulB3: string;
}

function groupSpec(group: GroupName, cfg: FieldConfig): GroupSpec {
  if (group === 'g1') {
    return {
      f: 'fq',
      T: 'BigInt',
      preamble: '',
      // 3·b = 9 for b = 3: four additions are cheaper than a product.
      mulB3: `fn g1_mul_b3(a: BigInt) -> BigInt { return ${times9('a')}; }`,
    };
  }
  // 3·b' = 9/(9 + u) = (9/82)·(9 − u), and (a0 + a1·u)(9 − u) = (9·a0 + a1) + (9·a1 − a0)·u: two
  // products by the Fq constant 9/82 and a few additions, cheaper than a general fq2_mul.
  const p = FIELD_MODULI.fq;
  const k = (9n * modPow(82n, p - 2n, p) * montgomeryR(cfg)) % p;
  return {
    f: 'fq2',
    T: 'Fq2',
    preamble: `${fq2Wgsl()}const G2_B3_K = ${bigintLiteral(k, cfg)}; // 9/82, Montgomery form\n`,
    mulB3: `fn g2_mul_b3(a: Fq2) -> Fq2 {
  let c0 = fq_add(${times9('a.c0')}, a.c1);
  let c1 = fq_sub(${times9('a.c1')}, a.c0);
  return Fq2(fq_mul(c0, G2_B3_K), fq_mul(c1, G2_B3_K));
}`,
  };
}

/**
 * Extended Jacobian (XYZZ) for the MSM's first accumulation level (G1: MsmOptions.accumulate).
 * x = X/ZZ, y = Y/ZZZ, identity ZZ = 0 (reference.ts Xyzz); 8M + 2S a mixed addition, against
 * 11M + 2·m(3b) for RCB's; P + P costs one squaring more, under a branch.
 */
function xyzzWgsl(f: string, T: string, G: string, g: string): string {
  return `
struct ${G}Z { x: ${T}, y: ${T}, zz: ${T}, zzz: ${T} }
fn ${g}_xyzz_from_affine(a: ${G}A) -> ${G}Z { return ${G}Z(a.x, a.y, ${f}_one(), ${f}_one()); }
// madd-2008-s: p + q, q affine and not the identity. p = q (as points) goes through the same
// products as dbl-2008-s-1 (P = 2·Y1, R = 3·X1², X3 without the PPP term): the only extra work
// is a squaring under a branch, so a thread that does not take it (llvmpipe runs untaken branches
// masked) pays little. p + (−p) gives ZZ = 0 by the formula; p the identity is replaced by q.
fn ${g}_xyzz_add_mixed(p: ${G}Z, q: ${G}A) -> ${G}Z {
  let pd0 = ${f}_sub(${f}_mul(q.x, p.zz), p.x);
  let r0 = ${f}_sub(${f}_mul(q.y, p.zzz), p.y);
  let dbl = ${f}_is_zero(pd0) && ${f}_is_zero(r0);
  var pd = pd0;
  var r = r0;
  if (dbl) {
    pd = ${f}_add(p.y, p.y);
    let xx = ${f}_sqr(p.x);
    r = ${f}_add(${f}_add(xx, xx), xx);
  }
  let pp = ${f}_sqr(pd);
  let ppp = ${f}_mul(pd, pp);
  let qq = ${f}_mul(p.x, pp);
  var x3 = ${f}_sub(${f}_sqr(r), ${f}_add(qq, qq));
  if (!dbl) { x3 = ${f}_sub(x3, ppp); }
  let y3 = ${f}_sub(${f}_mul(r, ${f}_sub(qq, x3)), ${f}_mul(p.y, ppp));
  var out = ${G}Z(x3, y3, ${f}_mul(p.zz, pp), ${f}_mul(p.zzz, ppp));
  if (${f}_is_zero(p.zz)) { out = ${g}_xyzz_from_affine(q); }
  return out;
}
// (X·ZZZ : Y·ZZ : ZZ·ZZZ); the identity (0 : 1 : 0).
fn ${g}_xyzz_to_proj(p: ${G}Z) -> ${G}P {
  if (${f}_is_zero(p.zz)) { return ${g}_identity(); }
  return ${G}P(${f}_mul(p.x, p.zzz), ${f}_mul(p.y, p.zz), ${f}_mul(p.zz, p.zzz));
}
`;
}

/**
 * The curve library of `group` ('g1': G1A, G1P, g1_add…; 'g2': the Fq2 library, G2A, G2P,
 * g2_add…). Needs `bigintWgsl(cfg) + fieldWgsl('fq', cfg)` before it; the two groups' names do
 * not clash, so one shader may hold both.
 */
export function curveWgsl(group: GroupName = 'g1', cfg: FieldConfig = DEFAULT_FIELD_CONFIG): string {
  const { f, T, preamble, mulB3 } = groupSpec(group, cfg);
  const g = group;
  const G = group.toUpperCase();
  return `${preamble}
struct ${G}A { x: ${T}, y: ${T} }
struct ${G}P { x: ${T}, y: ${T}, z: ${T} }

fn ${g}_identity() -> ${G}P { return ${G}P(${f}_zero(), ${f}_one(), ${f}_zero()); }
fn ${g}_is_identity(p: ${G}P) -> bool { return ${f}_is_zero(p.z); }
fn ${g}_from_affine(a: ${G}A) -> ${G}P { return ${G}P(a.x, a.y, ${f}_one()); }
fn ${g}_neg(p: ${G}P) -> ${G}P { return ${G}P(p.x, ${f}_neg(p.y), p.z); }
fn ${g}_neg_affine(a: ${G}A) -> ${G}A { return ${G}A(a.x, ${f}_neg(a.y)); }
// (X/Z, Y/Z); the identity (Z = 0) becomes (0, 0), the bases' identity marker.
fn ${g}_to_affine(p: ${G}P) -> ${G}A {
  let zi = ${f}_inv(p.z);
  return ${G}A(${f}_mul(p.x, zi), ${f}_mul(p.y, zi));
}
// ffjavascript's Montgomery form (bases as uploaded) to ours.
fn ${g}_affine_from_ff(a: ${G}A) -> ${G}A { return ${G}A(${f}_from_ff(a.x), ${f}_from_ff(a.y)); }

${mulB3}

// The steps RCB algorithms 7 and 8 end with, from t0 = X1·X2, t1 = Y1·Y2, t2 = Z1·Z2,
// t3 = X1·Y2 + X2·Y1, t4 = Y1·Z2 + Y2·Z1 and y3 = X1·Z2 + X2·Z1: 6M + 2·m(3b).
fn ${g}_add_end(x1x2: ${T}, y1y2: ${T}, z1z2: ${T}, t3: ${T}, t4: ${T}, xz: ${T}) -> ${G}P {
  var t0 = x1x2;
  var t1 = y1y2;
  var t2 = z1z2;
  var y3 = xz;
  var x3 = ${f}_add(t0, t0);
  t0 = ${f}_add(x3, t0);
  t2 = ${g}_mul_b3(t2);
  var z3 = ${f}_add(t1, t2);
  t1 = ${f}_sub(t1, t2);
  y3 = ${g}_mul_b3(y3);
  x3 = ${f}_mul(t4, y3);
  t2 = ${f}_mul(t3, t1);
  x3 = ${f}_sub(t2, x3);
  y3 = ${f}_mul(y3, t0);
  t1 = ${f}_mul(t1, z3);
  y3 = ${f}_add(t1, y3);
  t0 = ${f}_mul(t0, t3);
  z3 = ${f}_mul(z3, t4);
  z3 = ${f}_add(z3, t0);
  return ${G}P(x3, y3, z3);
}

// RCB algorithm 7: 12M + 2·m(3b).
fn ${g}_add(p: ${G}P, q: ${G}P) -> ${G}P {
  var t0 = ${f}_mul(p.x, q.x);
  var t1 = ${f}_mul(p.y, q.y);
  var t2 = ${f}_mul(p.z, q.z);
  var t3 = ${f}_mul(${f}_add(p.x, p.y), ${f}_add(q.x, q.y));
  var t4 = ${f}_add(t0, t1);
  t3 = ${f}_sub(t3, t4);
  t4 = ${f}_mul(${f}_add(p.y, p.z), ${f}_add(q.y, q.z));
  var x3 = ${f}_add(t1, t2);
  t4 = ${f}_sub(t4, x3);
  x3 = ${f}_mul(${f}_add(p.x, p.z), ${f}_add(q.x, q.z));
  var y3 = ${f}_add(t0, t2);
  y3 = ${f}_sub(x3, y3);
  return ${g}_add_end(t0, t1, t2, t3, t4, y3);
}

// RCB algorithm 8: p + q with q affine and not the identity; 11M + 2·m(3b).
fn ${g}_add_mixed(p: ${G}P, q: ${G}A) -> ${G}P {
  var t0 = ${f}_mul(p.x, q.x);
  var t1 = ${f}_mul(p.y, q.y);
  var t3 = ${f}_mul(${f}_add(q.x, q.y), ${f}_add(p.x, p.y));
  var t4 = ${f}_add(t0, t1);
  t3 = ${f}_sub(t3, t4);
  t4 = ${f}_add(${f}_mul(q.y, p.z), p.y);
  let y3 = ${f}_add(${f}_mul(q.x, p.z), p.x);
  return ${g}_add_end(t0, t1, p.z, t3, t4, y3); // Z2 = 1
}

${group === 'g1' ? xyzzWgsl(f, T, G, g) : ''}// RCB algorithm 9: 6M + 2S + 1·m(3b).
fn ${g}_double(p: ${G}P) -> ${G}P {
  var t0 = ${f}_sqr(p.y);
  var z3 = ${f}_double(${f}_double(${f}_double(t0)));
  var t1 = ${f}_mul(p.y, p.z);
  var t2 = ${f}_sqr(p.z);
  t2 = ${g}_mul_b3(t2);
  var x3 = ${f}_mul(t2, z3);
  var y3 = ${f}_add(t0, t2);
  z3 = ${f}_mul(t1, z3);
  t1 = ${f}_add(t2, t2);
  t2 = ${f}_add(t1, t2);
  t0 = ${f}_sub(t0, t2);
  y3 = ${f}_mul(t0, y3);
  y3 = ${f}_add(x3, y3);
  t1 = ${f}_mul(p.x, p.y);
  x3 = ${f}_mul(t0, t1);
  x3 = ${f}_double(x3);
  return ${G}P(x3, y3, z3);
}
`;
}

/**
 * Storage (un)packing for points of `group`: an Fq value is 8 u32 words (the canonical 256-bit
 * value of its Montgomery form). G1: affine 16 words (x, y), projective 24 (x, y, z). G2: each
 * coordinate is c0 then c1, so affine 32 words (x.c0, x.c1, y.c0, y.c1: ffjavascript's 128-byte
 * layout, so uploaded bases are read in place) and projective 48. `buf` names a module-scope
 * `array<u32>` storage variable; the functions are named `${prefix}_load_a` etc.
 */
export function pointIoWgsl(buf: string, prefix: string, writable: boolean, group: GroupName = 'g1'): string {
  const G = group.toUpperCase();
  const d = group === 'g1' ? 1 : 2; // Fq values per coordinate
  const aw = 16 * d;
  const pw = 24 * d;
  const at = (stride: number, k: number) => (k === 0 ? `i * ${stride}u` : `i * ${stride}u + ${8 * k}u`);
  const fq = (stride: number, k: number) => `fq_from_words(${prefix}_words(${at(stride, k)}))`;
  const coord = (stride: number, j: number) => (d === 1 ? fq(stride, j) : `Fq2(${fq(stride, 2 * j)}, ${fq(stride, 2 * j + 1)})`);
  const coords = (stride: number, m: number) => Array.from({ length: m }, (_, j) => coord(stride, j)).join(', ');
  const ld = `fn ${prefix}_words(o: u32) -> array<u32, 8> {
  var w: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { w[j] = ${buf}[o + j]; }
  return w;
}
fn ${prefix}_load_a(i: u32) -> ${G}A {
  return ${G}A(${coords(aw, 2)});
}
fn ${prefix}_load_p(i: u32) -> ${G}P {
  return ${G}P(${coords(pw, 3)});
}
`;
  if (!writable) return ld;
  const puts = (stride: number, cs: string[]) =>
    cs
      .flatMap((c) => (d === 1 ? [c] : [`${c}.c0`, `${c}.c1`]))
      .map((c, k) => `  ${prefix}_put(${at(stride, k)}, ${c});\n`)
      .join('');
  return `${ld}fn ${prefix}_put(o: u32, a: BigInt) {
  let w = fq_to_words(a);
  for (var j = 0u; j < 8u; j++) { ${buf}[o + j] = w[j]; }
}
fn ${prefix}_store_p(i: u32, p: ${G}P) {
${puts(pw, ['p.x', 'p.y', 'p.z'])}}
fn ${prefix}_store_a(i: u32, a: ${G}A) {
${puts(aw, ['a.x', 'a.y'])}}
`;
}
