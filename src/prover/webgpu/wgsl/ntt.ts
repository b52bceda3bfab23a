// WGSL generators for the BN254 Fr NTT kernels (radix-2, in place), on top of the field library
// (wgsl/field.ts). Each function returns a whole shader module with its constants filled in.
//
// Buffers hold elements as 8 little-endian u32 words (32 bytes, the ffjavascript layout). Between
// passes the words are the library's Montgomery form (fr_to_words of a BigInt); only the first
// pass reads ffjavascript Montgomery (`convertIn`) and only the last writes ffjavascript or
// canonical words, so no separate conversion pass touches memory.
//
// The index trick behind every pass: an NTT of 2^bits points is `bits` butterfly stages, stage q
// pairing the elements whose indices differ in bit q alone. A pass owns a range of L consecutive
// bits [q0, q0+L): the 2^L elements that agree on every other bit form a closed group, so one
// workgroup loads them into workgroup memory and runs all L stages there, behind barriers.
//   - DIF (Gentleman–Sande): stages from the top bit down; natural order in, bit-reversed out.
//   - DIT (Cooley–Tukey): stages from bit 0 up; bit-reversed in, natural order out.
// iNTT by DIF then NTT by DIT meets in bit-reversed order in the middle, so the quotient needs no
// bit-reversal pass at all; the coset scale sits between the two in the pass over bits [0, L).
//
// Twiddles ("stage layout"): entry h + k = ω_2h^k for span h = 2^q and k < h, so one stage reads a
// contiguous run; entry 0 is unused. Scale tables are in bit-reversed position order.
import { bigintWgsl, fieldConfig, fieldWgsl, LIMB_BITS } from './field.js';

/** Elementwise conversion applied as an element is loaded or stored. */
export type Convert = 'none' | 'fromFf' | 'toFf' | 'toCanonical';

/** 32-bit words per element in buffers and in workgroup memory. */
export const ELEMENT_WORDS = 8;
export const ELEMENT_BYTES = 32;

/** The field library; `unrolled`: the Montgomery product's outer loop unrolled (same limbs, same values). */
function frLibrary(unrolled = false): string {
  const cfg = fieldConfig(LIMB_BITS, !unrolled);
  return `${bigintWgsl(cfg)}\n${fieldWgsl('fr', cfg)}\n`;
}

/**
 * Buffer load/store helpers for one storage array (WGSL cannot pass storage pointers around).
 * Arrays are declared array<vec4<u32>>: an element is two 16-byte accesses, not eight 4-byte ones.
 */
function loadStore(name: string, writable: boolean): string {
  const load = `
fn load_${name}(i: u32) -> BigInt {
  let v0 = ${name}[2u * i];
  let v1 = ${name}[2u * i + 1u];
  return fr_from_words(array<u32, 8>(v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w));
}`;
  const store = `
fn store_${name}(i: u32, x: BigInt) {
  let w = fr_to_words(x);
  ${name}[2u * i] = vec4<u32>(w[0], w[1], w[2], w[3]);
  ${name}[2u * i + 1u] = vec4<u32>(w[4], w[5], w[6], w[7]);
}`;
  return writable ? load + store : load;
}

function convertExpr(conv: Convert, x: string): string {
  switch (conv) {
    case 'none': return x;
    case 'fromFf': return `fr_from_ff(${x})`;
    case 'toFf': return `fr_to_ff(${x})`;
    case 'toCanonical': return `fr_from_mont(${x})`;
  }
}

/** 1-D index from a 2-D grid: more than 65535 workgroups are dispatched as x × y. */
const FLAT_GROUP = 'wid.y * nwg.x + wid.x';

export interface PassKernelOptions {
  /** Stages in this pass: the workgroup holds 2^stages elements. */
  stages: number;
  /** Invocations per workgroup (a power of two ≤ 2^(stages−1)). */
  threads: number;
  /** Read the elements as ffjavascript Montgomery words. */
  convertIn: boolean;
  /** DIF stages over bits [q0, q0+stages), top bit first, with twiddles `tw_dif`. */
  dif: boolean;
  /** Multiply element at position p by `scale[p]`, after the DIF stages and before the DIT ones. */
  scale: boolean;
  /** DIT stages over the same bits, bit q0 first, with twiddles `tw_dit`. */
  dit: boolean;
  /** Conversion on the way out: 'none', 'toFf' or 'toCanonical'. */
  convertOut: Convert;
  /** The Montgomery product unrolled (MsmTuning's unroll=1; the default is the rolled loop). */
  unrolled?: boolean;
}

/** Binding numbers of the pass kernel; only those the options use are declared. */
export const PASS_BINDINGS = { data: 0, params: 1, twDif: 2, scale: 3, twDit: 4 } as const;

/**
 * One pass: up to `stages` butterfly stages on groups of 2^stages elements in workgroup memory.
 * Uniform `q0` is the lowest bit of the pass's range. Dispatch n / 2^stages workgroups.
 */
export function passKernelWgsl(o: PassKernelOptions): string {
  const L = o.stages;
  const C = 1 << L;
  const T = o.threads;
  if (L < 1 || T < 1 || T > C / 2 || (C / 2) % T !== 0) throw new RangeError(`passKernelWgsl: bad stages/threads ${L}/${T}`);
  const perThread = C / 2 / T;
  const B = PASS_BINDINGS;
  // The last DIF stage and the first DIT stage (local span 1) pair the same two elements, and
  // the scale is elementwise: when all three run, do them in registers, saving a barrier and a
  // round trip through workgroup memory.
  const fuseMiddle = o.dif && o.dit;
  const difLast = fuseMiddle ? 1 : 0;
  const ditFirst = fuseMiddle ? 1 : 0;

  const decls = [
    `@group(0) @binding(${B.data}) var<storage, read_write> data: array<vec4<u32>>;`,
    `struct Params { q0: u32, _p1: u32, _p2: u32, _p3: u32 }`,
    `@group(0) @binding(${B.params}) var<uniform> params: Params;`,
    o.dif ? `@group(0) @binding(${B.twDif}) var<storage, read> tw_dif: array<vec4<u32>>;` : '',
    o.scale ? `@group(0) @binding(${B.scale}) var<storage, read> scale: array<vec4<u32>>;` : '',
    o.dit ? `@group(0) @binding(${B.twDit}) var<storage, read> tw_dit: array<vec4<u32>>;` : '',
  ].join('\n');

  // Workgroup memory is structure-of-arrays (word j of element m at j·C + m), so neighbouring
  // invocations touch neighbouring banks.
  return `${frLibrary(o.unrolled)}
${decls}
${loadStore('data', true)}
${o.dif ? loadStore('tw_dif', false) : ''}
${o.scale ? loadStore('scale', false) : ''}
${o.dit ? loadStore('tw_dit', false) : ''}

const L: u32 = ${L}u;
const C: u32 = ${C}u;
const T: u32 = ${T}u;
const PER_THREAD: u32 = ${perThread}u;

var<workgroup> sh: array<u32, ${ELEMENT_WORDS * C}>;

fn sh_load(m: u32) -> BigInt {
  var w: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { w[j] = sh[j * C + m]; }
  return fr_from_words(w);
}

fn sh_store(m: u32, x: BigInt) {
  let w = fr_to_words(x);
  for (var j = 0u; j < 8u; j++) { sh[j * C + m] = w[j]; }
}

// Local butterfly b of a stage with local span 2^s: the lower element's local index.
fn lower(b: u32, s: u32) -> u32 {
  return ((b >> s) << (s + 1u)) | (b & ((1u << s) - 1u));
}

@compute @workgroup_size(${T})
fn main(@builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let q0 = params.q0;
  let g = ${FLAT_GROUP};
  // Global index of local element m: the group's other bits around m placed at bit q0.
  let low = g & ((1u << q0) - 1u);
  let base = ((g >> q0) << (q0 + L)) | low;

  for (var e = lid.x; e < C; e += T) {
    sh_store(e, ${convertExpr(o.convertIn ? 'fromFf' : 'none', 'load_data(base | (e << q0))')});
  }
  workgroupBarrier();
${o.dif ? `
  // DIF: (x, y) ← (x + y, (x − y)·ω_2h^k), span h = 2^(q0+s), k = global index mod h.
  for (var i = 0u; i < L - ${difLast}u; i++) {
    let s = L - 1u - i;
    for (var r = 0u; r < PER_THREAD; r++) {
      let b = lid.x + r * T;
      let m = lower(b, s);
      let h = 1u << (q0 + s);
      let k = (base | (m << q0)) & (h - 1u);
      let x = sh_load(m);
      let y = sh_load(m + (1u << s));
      sh_store(m, fr_add(x, y));
      sh_store(m + (1u << s), fr_mul(fr_sub(x, y), load_tw_dif(h + k)));
    }
    workgroupBarrier();
  }` : ''}
${fuseMiddle ? `
  // DIF at span h = 2^q0, the scale, DIT at span h, on the same pair (m, m + 1) in registers.
  for (var r = 0u; r < PER_THREAD; r++) {
    let b = lid.x + r * T;
    let m = 2u * b;
    let h = 1u << q0;
    let i = base | (m << q0);
    let j = i | h;
    let x0 = sh_load(m);
    let y0 = sh_load(m + 1u);
    var x = fr_add(x0, y0);
    var y = fr_sub(x0, y0);
    // Span 1 (the usual case, q0 = 0) has the single twiddle ω_2^0 = 1.
    if (q0 != 0u) { y = fr_mul(y, load_tw_dif(h + (i & (h - 1u)))); }
    ${o.scale ? 'x = fr_mul(x, load_scale(i));\n    y = fr_mul(y, load_scale(j));' : ''}
    var t = y;
    if (q0 != 0u) { t = fr_mul(y, load_tw_dit(h + (i & (h - 1u)))); }
    sh_store(m, fr_add(x, t));
    sh_store(m + 1u, fr_sub(x, t));
  }
  workgroupBarrier();` : o.scale ? `
  for (var e = lid.x; e < C; e += T) {
    sh_store(e, fr_mul(sh_load(e), load_scale(base | (e << q0))));
  }
  workgroupBarrier();` : ''}
${o.dit ? `
  // DIT: (x, y) ← (x + y·ω_2h^k, x − y·ω_2h^k).
  for (var s = ${ditFirst}u; s < L; s++) {
    for (var r = 0u; r < PER_THREAD; r++) {
      let b = lid.x + r * T;
      let m = lower(b, s);
      let h = 1u << (q0 + s);
      let k = (base | (m << q0)) & (h - 1u);
      let x = sh_load(m);
      let t = fr_mul(sh_load(m + (1u << s)), load_tw_dit(h + k));
      sh_store(m, fr_add(x, t));
      sh_store(m + (1u << s), fr_sub(x, t));
    }
    workgroupBarrier();
  }` : ''}

  for (var e = lid.x; e < C; e += T) {
    store_data(base | (e << q0), ${convertExpr(o.convertOut, 'sh_load(e)')});
  }
}
`;
}

export interface PermuteKernelOptions {
  workgroupSize: number;
  convertIn: Convert;
  convertOut: Convert;
}

/**
 * dst[bitrev(i)] = convertOut(convertIn(src[i])), for i < n = 2^bits; out of place. Only the
 * natural-order NTT entry points need it: the quotient's DIF → DIT pipeline does not.
 */
export function permuteKernelWgsl(o: PermuteKernelOptions): string {
  return `${frLibrary()}
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
struct Params { bits: u32, n: u32, _p2: u32, _p3: u32 }
@group(0) @binding(2) var<uniform> params: Params;
${loadStore('src', false)}
${loadStore('dst', true)}

@compute @workgroup_size(${o.workgroupSize})
fn main(@builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (${FLAT_GROUP}) * ${o.workgroupSize}u + lid.x;
  if (i >= params.n) { return; }
  // reverseBits reverses all 32 bits; the shift keeps the low \`bits\` of the result (bits ≥ 1).
  let j = reverseBits(i) >> (32u - params.bits);
  store_dst(j, ${convertExpr(o.convertOut, convertExpr(o.convertIn, 'load_src(i)'))});
}
`;
}

/**
 * The quotient's last step: out[i] = canonical(a[i]·b[i] − c[i]), snarkjs's qap_joinABC followed
 * by frm_batchFromMontgomery, in one kernel.
 */
export function joinKernelWgsl(workgroupSize: number, unrolled = false): string {
  return `${frLibrary(unrolled)}
@group(0) @binding(0) var<storage, read> a: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> c: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<u32>>;
struct Params { n: u32, _p1: u32, _p2: u32, _p3: u32 }
@group(0) @binding(4) var<uniform> params: Params;
${loadStore('a', false)}
${loadStore('b', false)}
${loadStore('c', false)}
${loadStore('out', true)}

@compute @workgroup_size(${workgroupSize})
fn main(@builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (${FLAT_GROUP}) * ${workgroupSize}u + lid.x;
  if (i >= params.n) { return; }
  store_out(i, fr_from_mont(fr_sub(fr_mul(load_a(i), load_b(i)), load_c(i))));
}
`;
}

/**
 * Expands a table of powers g^e from two small ones: g^e = lo[e mod 2^loBits] · hi[e >> loBits],
 * one multiplication per entry, so the host only computes about 2·√n powers. lo and hi are in
 * ffjavascript Montgomery form (any constant factor, such as 1/n, may be folded into lo).
 * mode 0, "stages": entry j = h + k (h = 2^⌊log2 j⌋) gets e = k·n/(2h), i.e. ω_2h^k; entry 0 gets e = 0.
 * mode 1, "bitrev": entry j gets e = bitrev(j) on `bits` bits.
 */
export function powersKernelWgsl(workgroupSize: number): string {
  return `${frLibrary()}
@group(0) @binding(0) var<storage, read> lo: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> hi: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<u32>>;
struct Params { n: u32, bits: u32, lo_bits: u32, mode: u32 }
@group(0) @binding(3) var<uniform> params: Params;
${loadStore('lo', false)}
${loadStore('hi', false)}
${loadStore('out', true)}

@compute @workgroup_size(${workgroupSize})
fn main(@builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = (${FLAT_GROUP}) * ${workgroupSize}u + lid.x;
  if (j >= params.n) { return; }
  var e = 0u;
  if (params.mode == 0u) {
    if (j > 0u) {
      let q = firstLeadingBit(j);
      e = (j - (1u << q)) << (params.bits - 1u - q);
    }
  } else if (params.bits > 0u) {
    e = reverseBits(j) >> (32u - params.bits);
  }
  let x = fr_mul(fr_from_ff(load_lo(e & ((1u << params.lo_bits) - 1u))), fr_from_ff(load_hi(e >> params.lo_bits)));
  store_out(j, x);
}
`;
}
