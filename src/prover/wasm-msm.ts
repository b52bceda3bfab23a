// Multi-scalar multiplication on ffjavascript's wasm curve: Pippenger windows computed by
// wasmcurves' g?m_multiexpAffine_chunk (the very routine behind G1.multiExpAffine), arranged for
// what a Groth16 witness looks like:
//  - zero scalars and points at infinity are dropped, and scalars equal to 1 are summed in a
//    one-bit window of their own. In a quantized model most witness values are 0 or 1 (bit
//    decompositions): the A, B and C MSMs shrink to a fraction of their points.
//  - only the windows under the largest scalar's top bit are computed, the top one no wider
//    than the bits left (a smaller bucket table to reduce).
//  - bases and scalars go to the workers in a SharedArrayBuffer where there is one (Node; a
//    cross-origin-isolated page): a task then costs no structured clone of the points on the
//    main thread, which multiExpAffine pays for each of its ~20–30 window tasks.
//  - with more threads than windows, the points are cut into blocks so that every thread works.
import type { PointOps, ProverCurve } from './curve.js';

const SCALAR = 32;
/** ffjavascript's window width by log2(points) (engine_multiexp.js); measured best here too. */
const WINDOW_BITS = [1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 13, 14, 15, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17];
/** Points per task at most (wasm memory of a worker), as multiExpAffine. */
const MAX_POINTS = 1 << 22;
/** Points per block at least, when blocks are cut for many threads. */
const MIN_BLOCK = 1 << 12;
/** Scalars equal to 1 are summed in tasks of this many points. */
const ONES_CHUNK = 1 << 16;

export type Group = 'G1' | 'G2';

const windowBits = (points: number) => WINDOW_BITS[Math.floor(Math.log2(points))]!;

/** A zeroed buffer the workers can read without a copy on the main thread, where supported. */
function shared(bytes: number): Uint8Array {
  return typeof SharedArrayBuffer === 'function' ? new Uint8Array(new SharedArrayBuffer(bytes)) : new Uint8Array(bytes);
}

/** Aligned u32 view, copying only a range that is not 4-byte aligned. */
function words(bytes: Uint8Array): Uint32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

const DROP = 0;
const ONE = 1;
const GENERAL = 2;

interface Split {
  /** Points with scalars ≥ 2, and their scalars. */
  bases: Uint8Array;
  scalars: Uint8Array;
  /** Points whose scalar is 1. */
  ones: Uint8Array;
  /** Bit length of the largest scalar in `scalars`. */
  bits: number;
}

/** One pass to classify every point, a second to copy them out run by run. */
function split(bases: Uint8Array, scalars: Uint8Array, sBase: number): Split {
  const n = scalars.byteLength / SCALAR;
  const sw = words(scalars);
  const bw = words(bases);
  const bWords = sBase / 4;
  const kind = new Uint8Array(n);
  let nOnes = 0;
  let nGeneral = 0;
  let top = 0;
  for (let i = 0; i < n; i++) {
    let hi = 7;
    while (hi >= 0 && sw[i * 8 + hi] === 0) hi--;
    if (hi < 0) continue;
    let zeroBase = true;
    for (let j = i * bWords, e = j + bWords; j < e && zeroBase; j++) zeroBase = bw[j] === 0;
    if (zeroBase) continue;
    if (hi === 0 && sw[i * 8] === 1) {
      kind[i] = ONE;
      nOnes++;
      continue;
    }
    kind[i] = GENERAL;
    nGeneral++;
    const bits = hi * 32 + (32 - Math.clz32(sw[i * 8 + hi]!));
    if (bits > top) top = bits;
  }
  const out: Split = { bases: shared(nGeneral * sBase), scalars: shared(nGeneral * SCALAR), ones: shared(nOnes * sBase), bits: top };
  let g = 0;
  let o = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && kind[j] === kind[i]) j++;
    if (kind[i] === GENERAL) {
      out.bases.set(bases.subarray(i * sBase, j * sBase), g * sBase);
      out.scalars.set(scalars.subarray(i * SCALAR, j * SCALAR), g * SCALAR);
      g += j - i;
    } else if (kind[i] === ONE) {
      out.ones.set(bases.subarray(i * sBase, j * sBase), o * sBase);
      o += j - i;
    }
    i = j;
  }
  return out;
}

/** Σ scalars[i]·bases[i]: affine Montgomery bases, canonical 32-byte scalars; Jacobian result. */
export async function wasmMsm(curve: ProverCurve, group: Group, bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
  const G: PointOps & { double(p: Uint8Array): Uint8Array; isZero(p: Uint8Array): boolean } = curve[group] as never;
  const sBase = G.F.n8 * 2;
  const sJac = G.F.n8 * 3;
  const fn = `${group === 'G1' ? 'g1m' : 'g2m'}_multiexpAffine_chunk`;
  const s = split(bases, scalars, sBase);
  const parts: Promise<Uint8Array>[] = [];

  // Σ of the points with scalar 1: a one-bit window over one-byte scalars.
  const nOnes = s.ones.byteLength / sBase;
  const oneBytes = new Uint8Array(Math.min(nOnes, ONES_CHUNK) + 4).fill(1); // +4: getChunk reads a u32
  for (let i = 0; i < nOnes; i += ONES_CHUNK) {
    const m = Math.min(ONES_CHUNK, nOnes - i);
    parts.push(curve.tm.queueAction([
      { cmd: 'ALLOCSET', var: 0, buff: s.ones.subarray(i * sBase, (i + m) * sBase) },
      { cmd: 'ALLOCSET', var: 1, buff: oneBytes },
      { cmd: 'ALLOC', var: 2, len: sJac },
      { cmd: 'CALL', fnName: fn, params: [{ var: 0 }, { var: 1 }, { val: 1 }, { val: m }, { val: 0 }, { val: 1 }, { var: 2 }] },
      { cmd: 'GET', out: 0, var: 2, len: sJac },
    ]).then((r) => r[0]!));
  }

  // The rest: one task per window of c bits up to the top bit (the queue hands them out as
  // threads free up, so a thread slowed by other processes is made up for by the others), then
  // Σ_w W_w·2^(c·w) by Horner from the top window. Points are cut into blocks when there are too
  // few windows to keep every thread busy twice over (many cores), or past MAX_POINTS.
  const n = s.scalars.byteLength / SCALAR;
  const T = curve.tm.concurrency;
  const blocks = n === 0 ? 0 : Math.max(Math.ceil(n / MAX_POINTS), Math.min(Math.ceil((2 * T) / Math.ceil(s.bits / windowBits(n))), Math.floor(n / MIN_BLOCK)));
  const blockSize = Math.ceil(n / Math.max(blocks, 1));
  for (let p0 = 0; p0 < n; p0 += blockSize) {
    const m = Math.min(blockSize, n - p0);
    const c = windowBits(m);
    const b = s.bases.subarray(p0 * sBase, (p0 + m) * sBase);
    const sc = s.scalars.subarray(p0 * SCALAR, (p0 + m) * SCALAR);
    const windows: Promise<Uint8Array>[] = [];
    for (let start = 0; start < s.bits; start += c) {
      windows.push(curve.tm.queueAction([
        { cmd: 'ALLOCSET', var: 0, buff: b },
        { cmd: 'ALLOCSET', var: 1, buff: sc },
        { cmd: 'ALLOC', var: 2, len: sJac },
        // the top window only as wide as the bits left: a smaller bucket table to reduce
        { cmd: 'CALL', fnName: fn, params: [{ var: 0 }, { var: 1 }, { val: SCALAR }, { val: m }, { val: start }, { val: Math.min(c, s.bits - start) }, { var: 2 }] },
        { cmd: 'GET', out: 0, var: 2, len: sJac },
      ]).then((r) => r[0]!));
    }
    parts.push(Promise.all(windows).then((ws) => {
      let acc = G.zero;
      for (let w = ws.length - 1; w >= 0; w--) {
        if (!G.isZero(acc)) for (let d = 0; d < c; d++) acc = G.double(acc);
        acc = G.add(acc, ws[w]!);
      }
      return acc;
    }));
  }
  let sum = G.zero;
  for (const part of await Promise.all(parts)) sum = G.add(sum, part);
  return sum;
}
