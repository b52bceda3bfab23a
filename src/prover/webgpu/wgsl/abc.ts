// WGSL of the A/B/C evaluations (host: ../abc.ts): one invocation per constraint i sums its
// coefficients of A and of B, value × witness, and writes A[i], B[i] and C[i] = A[i]·B[i] as the
// quotient's first pass reads them (ffjavascript Montgomery, 8 words).
//
// The arithmetic, with our Montgomery product mul(x, y) = x·y/R: a zkey value is "doubly
// Montgomery", V = v·2^512, and the witness canonical, so Σ mul(V, w) = a·2^512/R; from_ff (× R/2^256
// in effect) turns that into a·2^256, ffjavascript's form of a; and from_ff(mul(A, B)) is
// a·b·2^256 the same way. Three products a constraint beyond one per coefficient.
import { bigintWgsl, DEFAULT_FIELD_CONFIG, fieldWgsl, type FieldConfig } from './field.js';

/** u32 words of a section-4 record: m, c, s, then the 8-word value. */
export const RECORD_WORDS = 11;

export function abcWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG): string {
  return `${bigintWgsl(cfg)}${fieldWgsl('fr', cfg)}
const WG: u32 = ${wg}u;
@group(0) @binding(0) var<storage, read> recs: array<u32>;    // the records, as in the zkey
@group(0) @binding(1) var<storage, read> order: array<u32>;   // record indices by (matrix, constraint)
@group(0) @binding(2) var<storage, read> offs: array<u32>;    // A's n + 1 offsets into order, then B's
@group(0) @binding(3) var<storage, read> wit: array<u32>;     // the witness, canonical
@group(0) @binding(4) var<storage, read_write> a: array<u32>;
@group(0) @binding(5) var<storage, read_write> b: array<u32>;
@group(0) @binding(6) var<storage, read_write> c: array<u32>;
@group(0) @binding(7) var<uniform> prm: vec4<u32>;            // x: n constraints

fn value_of(r: u32) -> BigInt {
  var x: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { x[j] = recs[r + 3u + j]; }
  return fr_from_words(x);
}

fn witness_of(s: u32) -> BigInt {
  var x: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { x[j] = wit[s * 8u + j]; }
  return fr_from_words(x);
}

// Σ mul(value, w[signal]) over the records order[lo..hi).
fn dot(lo: u32, hi: u32) -> BigInt {
  var acc = fr_zero();
  for (var k = lo; k < hi; k++) {
    let r = order[k] * ${RECORD_WORDS}u;
    acc = fr_add(acc, fr_mul(value_of(r), witness_of(recs[r + 2u])));
  }
  return acc;
}

fn put(i: u32, x: BigInt, which: u32) {
  let w = fr_to_words(x);
  for (var j = 0u; j < 8u; j++) {
    if (which == 0u) { a[i * 8u + j] = w[j]; } else if (which == 1u) { b[i * 8u + j] = w[j]; } else { c[i * 8u + j] = w[j]; }
  }
}

@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let n = prm.x;
  if (i >= n) { return; }
  let av = fr_from_ff(dot(offs[i], offs[i + 1u]));
  let bv = fr_from_ff(dot(offs[n + 1u + i], offs[n + 2u + i]));
  put(i, av, 0u);
  put(i, bv, 1u);
  put(i, fr_from_ff(fr_mul(av, bv)), 2u);
}
`;
}
