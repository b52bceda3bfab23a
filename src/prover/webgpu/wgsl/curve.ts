// G1 of BN254 (y² = x³ + 3 over Fq) in WGSL, on top of the field library (`fq_*`).
//
// Homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z, identity (0 : 1 : 0), with
// the complete formulas of Renes, Costello and Batina (2016, algorithms 7–9 for a = 0): one code
// path for P + Q, P + P, P + (−P) and P + O, so no branch can pick the wrong case and warps do
// not diverge. Mixed addition (algorithm 8) is complete too, except that its affine operand
// cannot be the identity: MSM kernels never feed it one (infinity bases are skipped when the
// digits are made). Field elements are in the field library's Montgomery form.

export function curveWgsl(): string {
  return `
struct G1A { x: BigInt, y: BigInt }
struct G1P { x: BigInt, y: BigInt, z: BigInt }

fn g1_identity() -> G1P { return G1P(fq_zero(), fq_one(), fq_zero()); }
fn g1_is_identity(p: G1P) -> bool { return fq_is_zero(p.z); }
fn g1_from_affine(a: G1A) -> G1P { return G1P(a.x, a.y, fq_one()); }
fn g1_neg(p: G1P) -> G1P { return G1P(p.x, fq_neg(p.y), p.z); }
fn g1_neg_affine(a: G1A) -> G1A { return G1A(a.x, fq_neg(a.y)); }

// 3·b = 9 for b = 3: four additions are cheaper than a product.
fn g1_mul_b3(a: BigInt) -> BigInt {
  let a8 = fq_double(fq_double(fq_double(a)));
  return fq_add(a8, a);
}

// RCB algorithm 7: 12M + 2·m(3b).
fn g1_add(p: G1P, q: G1P) -> G1P {
  var t0 = fq_mul(p.x, q.x);
  var t1 = fq_mul(p.y, q.y);
  var t2 = fq_mul(p.z, q.z);
  var t3 = fq_mul(fq_add(p.x, p.y), fq_add(q.x, q.y));
  var t4 = fq_add(t0, t1);
  t3 = fq_sub(t3, t4);
  t4 = fq_mul(fq_add(p.y, p.z), fq_add(q.y, q.z));
  var x3 = fq_add(t1, t2);
  t4 = fq_sub(t4, x3);
  x3 = fq_mul(fq_add(p.x, p.z), fq_add(q.x, q.z));
  var y3 = fq_add(t0, t2);
  y3 = fq_sub(x3, y3);
  x3 = fq_add(t0, t0);
  t0 = fq_add(x3, t0);
  t2 = g1_mul_b3(t2);
  var z3 = fq_add(t1, t2);
  t1 = fq_sub(t1, t2);
  y3 = g1_mul_b3(y3);
  x3 = fq_mul(t4, y3);
  t2 = fq_mul(t3, t1);
  x3 = fq_sub(t2, x3);
  y3 = fq_mul(y3, t0);
  t1 = fq_mul(t1, z3);
  y3 = fq_add(t1, y3);
  t0 = fq_mul(t0, t3);
  z3 = fq_mul(z3, t4);
  z3 = fq_add(z3, t0);
  return G1P(x3, y3, z3);
}

// RCB algorithm 8: p + q with q affine and not the identity; 11M + 2·m(3b).
fn g1_add_mixed(p: G1P, q: G1A) -> G1P {
  var t0 = fq_mul(p.x, q.x);
  var t1 = fq_mul(p.y, q.y);
  var t3 = fq_mul(fq_add(q.x, q.y), fq_add(p.x, p.y));
  var t4 = fq_add(t0, t1);
  t3 = fq_sub(t3, t4);
  t4 = fq_add(fq_mul(q.y, p.z), p.y);
  var y3 = fq_add(fq_mul(q.x, p.z), p.x);
  var x3 = fq_add(t0, t0);
  t0 = fq_add(x3, t0);
  var t2 = g1_mul_b3(p.z);
  var z3 = fq_add(t1, t2);
  t1 = fq_sub(t1, t2);
  y3 = g1_mul_b3(y3);
  x3 = fq_mul(t4, y3);
  t2 = fq_mul(t3, t1);
  x3 = fq_sub(t2, x3);
  y3 = fq_mul(y3, t0);
  t1 = fq_mul(t1, z3);
  y3 = fq_add(t1, y3);
  t0 = fq_mul(t0, t3);
  z3 = fq_mul(z3, t4);
  z3 = fq_add(z3, t0);
  return G1P(x3, y3, z3);
}

// RCB algorithm 9: 6M + 2S + 1·m(3b).
fn g1_double(p: G1P) -> G1P {
  var t0 = fq_sqr(p.y);
  var z3 = fq_double(fq_double(fq_double(t0)));
  var t1 = fq_mul(p.y, p.z);
  var t2 = fq_sqr(p.z);
  t2 = g1_mul_b3(t2);
  var x3 = fq_mul(t2, z3);
  var y3 = fq_add(t0, t2);
  z3 = fq_mul(t1, z3);
  t1 = fq_add(t2, t2);
  t2 = fq_add(t1, t2);
  t0 = fq_sub(t0, t2);
  y3 = fq_mul(t0, y3);
  y3 = fq_add(x3, y3);
  t1 = fq_mul(p.x, p.y);
  x3 = fq_mul(t0, t1);
  x3 = fq_double(x3);
  return G1P(x3, y3, z3);
}
`;
}

/**
 * Storage (un)packing for points: a coordinate is 8 u32 words (the canonical 256-bit value of
 * its Montgomery form), so an affine point is 16 words and a projective one 24. `buf` names a
 * module-scope `array<u32>` storage variable; the functions are named `${prefix}_load_a` etc.
 */
export function pointIoWgsl(buf: string, prefix: string, writable: boolean): string {
  const ld = `fn ${prefix}_words(o: u32) -> array<u32, 8> {
  var w: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { w[j] = ${buf}[o + j]; }
  return w;
}
fn ${prefix}_load_a(i: u32) -> G1A {
  return G1A(fq_from_words(${prefix}_words(i * 16u)), fq_from_words(${prefix}_words(i * 16u + 8u)));
}
fn ${prefix}_load_p(i: u32) -> G1P {
  return G1P(fq_from_words(${prefix}_words(i * 24u)), fq_from_words(${prefix}_words(i * 24u + 8u)), fq_from_words(${prefix}_words(i * 24u + 16u)));
}
`;
  if (!writable) return ld;
  return `${ld}fn ${prefix}_put(o: u32, a: BigInt) {
  let w = fq_to_words(a);
  for (var j = 0u; j < 8u; j++) { ${buf}[o + j] = w[j]; }
}
fn ${prefix}_store_p(i: u32, p: G1P) {
  ${prefix}_put(i * 24u, p.x);
  ${prefix}_put(i * 24u + 8u, p.y);
  ${prefix}_put(i * 24u + 16u, p.z);
}
fn ${prefix}_store_a(i: u32, a: G1A) {
  ${prefix}_put(i * 16u, a.x);
  ${prefix}_put(i * 16u + 8u, a.y);
}
`;
}
