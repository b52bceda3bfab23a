// WGSL kernels of the Pippenger MSM over G1 or G2 (host: ../msm.ts). Each kernel is its own small
// shader; those doing curve arithmetic include the field and curve libraries of their group. All
// kernels take a flat invocation index over a 2D grid (`gid.x + gid.y · nwg.x · WG`) and
// bound-check it.
//
// Stages (signed c-bit windows, K windows, H = 2^(c−1) buckets per window, key = k·H + |d| − 1;
// with precomputed multiples, V windows a copy: key = (k mod V)·H + |d| − 1):
//   convert      ffjavascript Montgomery bases → this library's Montgomery, in place (once)
//   precompute   copy j of the bases = 2^(c·V)·copy j − 1, affine (once, optional)
//   bits         per point: scalar mod r folded to ±|s| ≤ r/2; the largest |s|'s bit length
//   digits       per point: signed digits of the folded scalar; count entries per key (atomics), or
//                scatter (point | sign) into the CSR order the counts' exclusive scan gave
//   scan         exclusive prefix sums (block scan + block sums + add), for CSR offsets
//   tasks        per key: ⌈count / S⌉ tasks of at most S entries; max count (one readback)
//   accumulate   per task: Σ of its ≤ S entries by mixed additions of ±bases, or per key when
//                every key has ≤ S
//   runs         later levels: Σ of ≤ S of the previous level's partial sums per task or key
//   reduce       per (window, segment of L buckets): Σ b·B_b by running sums, + offset·Σ B_b
//   runs         the tree sum of segment results per window (groups of F)
import { bigintWgsl, fieldWgsl, FIELD_MODULI, bigintToWords, DEFAULT_FIELD_CONFIG, type FieldConfig } from './field.js';
import { curveWgsl, pointIoWgsl, type GroupName } from './curve.js';

const header = (wg: number) => `
const WG: u32 = ${wg}u;
`;
const entry = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid3: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  let lid = lid3.x;
  let wid = wid3.x + wid3.y * nwg.x;`;

const curveLib = (cfg: FieldConfig, g: GroupName) => bigintWgsl(cfg) + fieldWgsl('fq', cfg) + curveWgsl(g, cfg);
/** u32 words of an affine point: x ‖ y, 8 words an Fq component. */
const affineWords = (g: GroupName) => (g === 'g1' ? 16 : 32);
/** The group's WGSL type names: affine and projective. */
const types = (g: GroupName) => (g === 'g1' ? { A: 'G1A', P: 'G1P' } : { A: 'G2A', P: 'G2P' });

/** Bases ffjavascript → ours, in place. All-zero stays all-zero: the identity marker. */
export function convertBasesWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG, g: GroupName = 'g1'): string {
  return `${curveLib(cfg, g)}${header(wg)}
@group(0) @binding(0) var<storage, read_write> pts: array<u32>;
@group(0) @binding(1) var<uniform> prm: vec4<u32>; // x: n
${pointIoWgsl('pts', 'pts', true, g)}
${entry(wg)}
  if (id >= prm.x) { return; }
  pts_store_a(id, ${g}_affine_from_ff(pts_load_a(id)));
}`;
}

/** Points a precompute invocation converts to affine with one inversion (Montgomery's trick). */
export const PRECOMPUTE_BATCH = 16;

/**
 * Precomputed multiples, one copy per dispatch: pts[dst·n + i] = 2^d·pts[src·n + i] (affine, the
 * layout of reference.ts `Multiples`), the identity kept as (0, 0). Each invocation takes
 * PRECOMPUTE_BATCH consecutive points: d doublings each by the complete formula, kept projective
 * in `tmp` with the running product of their Z in `zs`, then one inversion for the batch and a
 * walk back (Montgomery's trick: 3 products a point instead of an inversion). A point that is or
 * becomes the identity takes Z = 1 and (0, 0) in the product's place, so it comes out as (0, 0).
 */
export function precomputeWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG, g: GroupName = 'g1'): string {
  const T = types(g);
  const f = g === 'g1' ? 'fq' : 'fq2';
  // a coordinate field element in `zs`: 8 words (Fq) or 16 (Fq2: c0 then c1)
  const zsIo =
    g === 'g1'
      ? `fn zs_get(i: u32) -> BigInt { return fq_from_words(zs_words(i * 8u)); }
fn zs_set(i: u32, v: BigInt) { zs_put(i * 8u, v); }`
      : `fn zs_get(i: u32) -> Fq2 { return Fq2(fq_from_words(zs_words(i * 16u)), fq_from_words(zs_words(i * 16u + 8u))); }
fn zs_set(i: u32, v: Fq2) { zs_put(i * 16u, v.c0); zs_put(i * 16u + 8u, v.c1); }`;
  return `${curveLib(cfg, g)}${header(wg)}
const BATCH: u32 = ${PRECOMPUTE_BATCH}u;
struct Params { n: u32, src: u32, dst: u32, d: u32 }
@group(0) @binding(0) var<storage, read_write> pts: array<u32>;
@group(0) @binding(1) var<storage, read_write> tmp: array<u32>;
@group(0) @binding(2) var<storage, read_write> zs: array<u32>;
@group(0) @binding(3) var<uniform> prm: Params;
${pointIoWgsl('pts', 'pts', true, g)}
${pointIoWgsl('tmp', 'tmp', true, g)}
${pointIoWgsl('zs', 'zs', true, g)}
${zsIo}
${entry(wg)}
  let first = id * BATCH;
  if (first >= prm.n) { return; }
  let last = min(first + BATCH, prm.n);
  var c = ${f}_one();
  for (var i = first; i < last; i++) {
    let a = pts_load_a(prm.src * prm.n + i);
    var p = ${T.P}(${f}_zero(), ${f}_zero(), ${f}_one());
    if (!(${f}_is_zero(a.x) && ${f}_is_zero(a.y))) {
      var q = ${g}_from_affine(a);
      for (var s = 0u; s < prm.d; s++) { q = ${g}_double(q); }
      if (!${f}_is_zero(q.z)) { p = q; }
    }
    c = ${f}_mul(c, p.z);
    tmp_store_p(i, p);
    zs_set(i, c);
  }
  var inv = ${f}_inv(c);
  for (var k = last; k > first; k--) {
    let i = k - 1u;
    let p = tmp_load_p(i);
    var before = ${f}_one();
    if (i > first) { before = zs_get(i - 1u); }
    let zi = ${f}_mul(inv, before);
    inv = ${f}_mul(inv, p.z);
    pts_store_a(prm.dst * prm.n + i, ${T.A}(${f}_mul(p.x, zi), ${f}_mul(p.y, zi)));
  }
}`;
}

/**
 * s mod r for any 256-bit s, folded to a magnitude ≤ (r − 1)/2 and a sign: above r/2, s ≡ −(r − s)
 * (reference.ts foldScalar). Bindings `scalars` and `bases` as in the kernels below.
 */
function foldWgsl(g: GroupName): string {
  const r = bigintToWords(FIELD_MODULI.fr);
  const half = bigintToWords(FIELD_MODULI.fr >> 1n);
  const words = (w: Uint32Array) => Array.from(w, (x) => `${x}u`).join(', ');
  return `
const RW = array<u32, 8>(${words(r)});
const HALF = array<u32, 8>(${words(half)}); // (r − 1)/2

// a ≥ b, comparing from the top word down.
fn ge8(a: array<u32, 8>, b: array<u32, 8>) -> bool {
  for (var j = 7i; j >= 0i; j--) {
    if (a[j] != b[j]) { return a[j] > b[j]; }
  }
  return true;
}

// a − b for a ≥ b.
fn sub8(a: array<u32, 8>, b: array<u32, 8>) -> array<u32, 8> {
  var d: array<u32, 8>;
  var borrow = 0u;
  for (var j = 0u; j < 8u; j++) {
    d[j] = a[j] - b[j] - borrow;
    borrow = select(0u, 1u, a[j] < b[j] || (a[j] == b[j] && borrow == 1u));
  }
  return d;
}

struct Folded { mag: array<u32, 8>, neg: u32 }

// Scalar i mod r (at most five subtractions: 2^256 < 6r), folded.
fn folded_scalar(i: u32) -> Folded {
  var s: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { s[j] = scalars[i * 8u + j]; }
  for (var it = 0u; it < 6u; it++) {
    if (!ge8(s, RW)) { break; }
    s = sub8(s, RW);
  }
  // s > (r − 1)/2: the magnitude r − s, negated.
  var neg = 0u;
  if (!ge8(HALF, s)) { s = sub8(RW, s); neg = 1u; }
  return Folded(s, neg);
}

// Identity bases, all zero, contribute nothing.
fn base_is_identity(i: u32) -> bool {
  var inf = 0u;
  for (var j = 0u; j < ${affineWords(g)}u; j++) { inf = inf | bases[i * ${affineWords(g)}u + j]; }
  return inf == 0u;
}
`;
}

/**
 * Before the digits: the bit length of the largest folded magnitude → atomicMax(stats[1]), and the
 * count of nonzero scalars on finite bases → stats[2] (the window width and count come from them).
 */
export function scalarBitsWgsl(wg: number, g: GroupName = 'g1'): string {
  return `${header(wg)}
@group(0) @binding(0) var<storage, read> scalars: array<u32>;
@group(0) @binding(1) var<storage, read> bases: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> prm: vec4<u32>; // x: n
var<workgroup> wbits: atomic<u32>;
var<workgroup> wcount: atomic<u32>;
${foldWgsl(g)}
${entry(wg)}
  var bits = 0u;
  if (id < prm.x && !base_is_identity(id)) {
    let f = folded_scalar(id);
    for (var j = 7i; j >= 0i; j--) {
      if (f.mag[j] != 0u) { bits = u32(j) * 32u + firstLeadingBit(f.mag[j]) + 1u; break; }
    }
  }
  if (bits > 0u) {
    atomicMax(&wbits, bits);
    atomicAdd(&wcount, 1u);
  }
  workgroupBarrier();
  // One global atomic per workgroup, not per point: a hot address serializes.
  if (lid == 0u) {
    atomicMax(&stats[1], atomicLoad(&wbits));
    atomicAdd(&stats[2], atomicLoad(&wcount));
  }
}`;
}

/**
 * Signed digits of every folded scalar over prm.K windows. `scatter` false: counts[key] += 1 per
 * nonzero digit; true: entries[cursor[key]++] = point | sign << 31, the sign the digit's, flipped
 * where the scalar was folded. Identity bases produce no entries. With precomputed multiples
 * (prm.V < prm.K) window k's key is in window k mod V and its point in copy ⌊k/V⌋.
 */
export function digitsWgsl(wg: number, scatter: boolean, g: GroupName = 'g1'): string {
  const use = scatter
    ? `let pos = atomicAdd(&ctr[key], 1u);
        entries[pos] = ((k / prm.V) * prm.stride + id) | ((neg ^ f.neg) << 31u);`
    : `atomicAdd(&ctr[key], 1u);`;
  return `${header(wg)}
// V: windows a copy of the bases covers (K without precomputed multiples); stride: points a copy
struct Params { n: u32, c: u32, K: u32, H: u32, V: u32, stride: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> scalars: array<u32>;
@group(0) @binding(1) var<storage, read> bases: array<u32>;
@group(0) @binding(2) var<storage, read_write> ctr: array<atomic<u32>>;
${scatter ? '@group(0) @binding(3) var<storage, read_write> entries: array<u32>;\n@group(0) @binding(4)' : '@group(0) @binding(3)'} var<uniform> prm: Params;
${foldWgsl(g)}
${entry(wg)}
  if (id >= prm.n) { return; }
  if (base_is_identity(id)) { return; }
  let f = folded_scalar(id);
  let s = f.mag;
  let c = prm.c;
  let full = (1u << c) - 1u;
  var carry = 0u;
  for (var k = 0u; k < prm.K; k++) {
    let o = k * c;
    let wi = o >> 5u;
    let sh = o & 31u;
    var raw = 0u;
    if (wi < 8u) { raw = s[wi] >> sh; }
    if (sh + c > 32u && wi < 7u) { raw = raw | (s[wi + 1u] << (32u - sh)); }
    var d = (raw & full) + carry;
    carry = 0u;
    var neg = 0u;
    // Digits above 2^(c−1) become d − 2^c (negative) and carry one into the next window.
    if (d > prm.H) { d = (1u << c) - d; neg = 1u; carry = 1u; }
    if (d != 0u) {
      let key = (k % prm.V) * prm.H + d - 1u;
      ${use}
    }
  }
}`;
}

/** Exclusive scan, phase 1: per block of WG values, prefix sums and the block's total. */
export function scanBlockWgsl(wg: number): string {
  return `${header(wg)}
@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> outp: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;
@group(0) @binding(3) var<uniform> prm: vec4<u32>; // x: n
var<workgroup> tmp: array<u32, ${wg}>;
${entry(wg)}
  var v = 0u;
  if (id < prm.x) { v = inp[id]; }
  tmp[lid] = v;
  workgroupBarrier();
  // Hillis–Steele inclusive scan in workgroup memory.
  for (var off = 1u; off < WG; off = off * 2u) {
    var t = 0u;
    if (lid >= off) { t = tmp[lid - off]; }
    workgroupBarrier();
    tmp[lid] = tmp[lid] + t;
    workgroupBarrier();
  }
  if (id < prm.x) { outp[id] = tmp[lid] - v; }
  // Grids split over 2D may hold spare workgroups past the last block: they write nothing.
  if (lid == WG - 1u && wid * WG < prm.x) { sums[wid] = tmp[lid]; }
}`;
}

/** Exclusive scan, phase 2: add each block's scanned offset. */
export function scanAddWgsl(wg: number): string {
  return `${header(wg)}
@group(0) @binding(0) var<storage, read_write> outp: array<u32>;
@group(0) @binding(1) var<storage, read> offs: array<u32>;
@group(0) @binding(2) var<uniform> prm: vec4<u32>; // x: n
${entry(wg)}
  if (id >= prm.x) { return; }
  outp[id] = outp[id] + offs[wid];
}`;
}

/** Tasks per key, ⌈count / S⌉, over nk + 1 entries (the last count is 0); max count → stats[0]. */
export function tasksWgsl(wg: number): string {
  return `${header(wg)}
@group(0) @binding(0) var<storage, read> counts: array<u32>;
@group(0) @binding(1) var<storage, read_write> tasks: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> prm: vec4<u32>; // x: nk + 1, y: S
var<workgroup> wmax: atomic<u32>;
${entry(wg)}
  if (id < prm.x) {
    let c = counts[id];
    tasks[id] = (c + prm.y - 1u) / prm.y;
    atomicMax(&wmax, c);
  }
  workgroupBarrier();
  // One global atomic per workgroup, not per key: a hot address serializes.
  if (lid == 0u) { atomicMax(&stats[0], atomicLoad(&wmax)); }
}`;
}

/**
 * The run of CSR entries invocation `id` sums, as `key`, `start`, `end` (returns early when there
 * is none). prm.z = 1 (per key): one invocation per key (every key has ≤ S entries); prm.z = 0
 * (per task): one per task of at most S = prm.y entries, its key found by binary search in the
 * task offsets. nk = prm.x keys.
 */
const taskRange = (ret: string) => `
  let nk = prm.x;
  var key: u32;
  var start: u32;
  var end: u32;
  if (prm.z == 1u) {
    if (id >= nk) { ${ret} }
    key = id;
    start = offsets[key];
    end = start + counts[key];
  } else {
    if (id >= toffs[nk]) { ${ret} }
    // The key whose tasks contain id: the largest key with toffs[key] <= id.
    var lo = 0u;
    var hi = nk;
    while (hi - lo > 1u) {
      let mid = (lo + hi) / 2u;
      if (toffs[mid] <= id) { lo = mid; } else { hi = mid; }
    }
    key = lo;
    start = offsets[key] + (id - toffs[key]) * prm.y;
    end = min(start + prm.y, offsets[key] + counts[key]);
  }`;

/**
 * The first accumulation level: sums runs of CSR entries, point indices with a sign bit, by mixed
 * additions of ±bases (complete projective, or `xyzz`: in XYZZ coordinates, curve.ts, then one
 * conversion to projective); writes dst[task] (prm.z = 0) or dst[key] (prm.z = 1, see taskRange).
 */
export function accumulateWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG, g: GroupName = 'g1', xyzz = false): string {
  const T = types(g);
  return `${curveLib(cfg, g)}${header(wg)}
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> entries: array<u32>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> toffs: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<uniform> prm: vec4<u32>; // x: nk, y: S, z: per key
${pointIoWgsl('src', 'src', false, g)}
${pointIoWgsl('dst', 'dst', true, g)}
fn entry_point(pos: u32) -> ${T.A} {
  let e = entries[pos];
  let a = src_load_a(e & 0x7fffffffu);
  if ((e >> 31u) == 1u) { return ${g}_neg_affine(a); }
  return a;
}
${entry(wg)}${taskRange('return;')}
  var acc = ${g}_identity();
  if (end > start) {${
    xyzz
      ? `
    var z = ${g}_xyzz_from_affine(entry_point(start));
    for (var pos = start + 1u; pos < end; pos++) { z = ${g}_xyzz_add_mixed(z, entry_point(pos)); }
    acc = ${g}_xyzz_to_proj(z);`
      : `
    acc = ${g}_from_affine(entry_point(start));
    for (var pos = start + 1u; pos < end; pos++) { acc = ${g}_add_mixed(acc, entry_point(pos)); }`
  }
  }
  dst_store_p(select(id, key, prm.z == 1u), acc);
}`;
}

/** prm.z of runsWgsl: which runs an invocation sums. */
export const RUNS = { tasks: 0, keys: 1, groups: 2 } as const;

/**
 * Sums of runs of projective points, one inlined point addition: the later accumulation levels
 * (prm = (nk, S, tasks | keys): taskRange's run of the previous level's partial sums, written to
 * dst[task] or dst[key]) and the window sums' tree (prm = (G groups of M points, groups, MO =
 * ⌈M/F⌉, F): sums of F consecutive points, written in order).
 */
export function runsWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG, g: GroupName = 'g1'): string {
  return `${curveLib(cfg, g)}${header(wg)}
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> toffs: array<u32>;
@group(0) @binding(4) var<storage, read_write> dst: array<u32>;
struct Params { x: u32, y: u32, z: u32, w: u32, f: u32, p1: u32, p2: u32, p3: u32 }
@group(0) @binding(5) var<uniform> prm: Params;
${pointIoWgsl('src', 'src', false, g)}
${pointIoWgsl('dst', 'dst', true, g)}

// The run of src a tasks/keys invocation sums: (first index, end, output index, 1); w = 0 past
// the last key or task.
fn run_of(id: u32) -> vec4<u32> {${taskRange('return vec4<u32>(0u);')}
  return vec4<u32>(start, end, select(id, key, prm.z == 1u), 1u);
}
${entry(wg)}
  var r: vec4<u32>;
  if (prm.z == ${RUNS.groups}u) {
    if (id >= prm.x * prm.w) { return; }
    let lo = (id % prm.w) * prm.f;
    let grp = id / prm.w;
    r = vec4<u32>(grp * prm.y + lo, grp * prm.y + min(lo + prm.f, prm.y), id, 1u);
  } else {
    r = run_of(id);
    if (r.w == 0u) { return; }
  }
  var acc = ${g}_identity();
  if (r.y > r.x) {
    acc = src_load_p(r.x);
    for (var pos = r.x + 1u; pos < r.y; pos++) { acc = ${g}_add(acc, src_load_p(pos)); }
  }
  dst_store_p(r.z, acc);
}`;
}

/**
 * Per (window k, segment j of L buckets): Σ_{b in segment} b·B_b = the running sum over the
 * segment (weights 1…L) + (j·L)·Σ_{b in segment} B_b, the latter by double-and-add. Buckets of
 * window k sit at k·H … k·H + H − 1 (bucket b at index b − 1). Every step is one call of the
 * complete addition (doubling is P + P), so the shader inlines a single point addition.
 */
export function bucketReduceWgsl(wg: number, cfg: FieldConfig = DEFAULT_FIELD_CONFIG, g: GroupName = 'g1'): string {
  const T = types(g);
  return `${curveLib(cfg, g)}${header(wg)}
struct Params { H: u32, L: u32, nseg: u32, K: u32 }
@group(0) @binding(0) var<storage, read> buckets: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> prm: Params;
${pointIoWgsl('buckets', 'bk', false, g)}
${pointIoWgsl('dst', 'dst', true, g)}
${entry(wg)}
  if (id >= prm.K * prm.nseg) { return; }
  let k = id / prm.nseg;
  let j = id % prm.nseg;
  let top = k * prm.H + (j + 1u) * prm.L - 1u; // index of bucket (j + 1)·L
  let m = j * prm.L;
  let mbits = select(firstLeadingBit(m) + 1u, 0u, m == 0u); // bits of m
  let n1 = 2u * prm.L;                          // running sums: run += B, sum += run
  let n2 = n1 + 2u * mbits;                     // acc = 2·acc (+ run), top bit first
  var run = ${g}_identity();
  var sum = ${g}_identity();
  var acc = ${g}_identity();
  for (var s = 0u; s <= n2; s++) {
    var x: ${T.P};
    var y: ${T.P};
    if (s < n1) {
      if ((s & 1u) == 0u) { x = run; y = bk_load_p(top - s / 2u); } else { x = sum; y = run; }
    } else if (s < n2) {
      let t = s - n1;
      if ((t & 1u) == 0u) {
        x = acc; y = acc;
      } else {
        if (((m >> (mbits - 1u - t / 2u)) & 1u) == 0u) { continue; }
        x = acc; y = run;
      }
    } else {
      x = sum; y = acc;
    }
    let r = ${g}_add(x, y);
    if (s < n1) {
      if ((s & 1u) == 0u) { run = r; } else { sum = r; }
    } else if (s < n2) {
      acc = r;
    } else {
      sum = r;
    }
  }
  dst_store_p(id, sum);
}`;
}
