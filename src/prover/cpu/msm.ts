// Multi-scalar multiplication on our own WebAssembly (wasm-*.ts) and worker threads (pool.ts):
// Pippenger's buckets, each bucket summed with batched affine additions (worker-body.ts).
// Arranged for what a Groth16 witness looks like:
//  - zero scalars and points at infinity are dropped;
//  - a scalar above r/2 is replaced by r − s and its digits negated: the small negative values of
//    a quantized model (r − 3, say) then cost as little as small positive ones, and only the
//    windows under the largest |s|'s top bit are computed;
//  - the window width comes from a cost model of additions against bucket reductions for the
//    points that are left.
// Points are cut into blocks when there are fewer windows than threads or too many points for
// one worker's memory; every window of a block is a task of its own. A thread converts a block's
// points to its wasm form once and keeps them: a kept bases array (keepBases: a prepared key's
// sections) has fixed blocks, converted once for all its proofs.
import type { PointOps } from '../curve.js';
import { ZkonnxError } from '../../errors.js';
import { cpuPool, cpuPoolNow, later, releaseShared, sharedBytes } from './pool.js';
import type { WindowTask } from './worker-body.js';
import { HEAP_START, instantiate, msmModule, type MsmExports } from './wasm-module.js';

export type Group = 'G1' | 'G2';

const SCALAR = 32;
/** u32 words a point's digit source takes (worker-body.ts reads them): s + offset can pass 2^256. */
export const DIGIT_WORDS = 9;
/** Points per block at most: a block then takes ~0.4 GiB (G1) or ~0.8 GiB (G2) of a thread's wasm memory (4 GiB at most). */
const MAX_BLOCK = 1 << 21;
/** A bucket's share of a window's reduction, in the time a point costs a window (measured here: the widths it picks are the fastest). */
const REDUCE_COST = 3.5;
/**
 * Threads that share a block at most, where there are many: each converts the block's points for
 * itself (~80 ns a point), and a block's bucket reductions are paid once per block.
 */
const THREADS_PER_BLOCK = 4;
/**
 * Scalars prepared between yields to the event loop (a few ms): this thread hands the pool's
 * threads their next tasks (pool.ts dispatch), so one long loop here (a 2^20 MSM's preparation:
 * ~0.1 s) would leave them idle.
 */
const SLICE = 1 << 16;
const breathe = () => new Promise<void>((resolve) => later(resolve));
/** Block ids, for the threads' caches of converted blocks. */
let nextBlock = 0;

function u32(bytes: Uint8Array): Uint32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
}

/** A kept bases array: its finite points (indices into the array, and a shared copy) in fixed blocks. */
interface Kept {
  idx: Uint32Array;
  bases: Uint8Array;
  blocks: Array<{ id: number; start: number; size: number }>;
}

/** Arrays to keep (keepBases), and the ones laid out already (on their first MSM). */
const toKeep = new WeakMap<Uint8Array, { maxBlock?: number }>();
const kept = new WeakMap<Uint8Array, Kept>();

/** Whether point i is not ffjavascript's infinity (all zero): its first word decides all but ~2^−32 of the time. */
function finite(bw: Uint32Array, i: number, sBase: number): boolean {
  for (let j = (i * sBase) >>> 2, e = j + (sBase >>> 2); j < e; j++) if (bw[j] !== 0) return true;
  return false;
}

/**
 * Rows order[from … from + m) of `src` (`words` u32 each) to dst from word `at`: runs of
 * consecutive rows in one copy, short runs (a witness's zeros are scattered) word by word (a
 * subarray and a set() for each cost more than the copy).
 */
function gatherRows(src: Uint32Array, words: number, order: Uint32Array, from: number, m: number, dst: Uint32Array, at: number): void {
  for (let k = from, e = from + m; k < e;) {
    const i = order[k]!;
    let j = k + 1;
    while (j < e && order[j] === i + (j - k)) j++;
    const o = at + (k - from) * words;
    if (j - k >= 16) dst.set(src.subarray(i * words, (i + j - k) * words), o);
    else for (let x = i * words, y = o, end = (i + j - k) * words; x < end;) dst[y++] = src[x++]!;
    k = j;
  }
}

/**
 * The points order[…] (increasing indices) in a shared buffer: `bases` itself where the order
 * keeps them all and it is shared already (a key's section as openZkey reads it), else a copy.
 */
function copyPoints(bases: Uint8Array, order: Uint32Array, sBase: number): Uint8Array {
  if (order.length === bases.byteLength / sBase && typeof SharedArrayBuffer === 'function' && bases.buffer instanceof SharedArrayBuffer && bases.byteOffset % 4 === 0) return bases;
  const out = sharedBytes(order.length * sBase, false);
  gatherRows(u32(bases), sBase >>> 2, order, 0, order.length, new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2), 0);
  return out;
}

/**
 * Keeps `bases` (a prepared key's section) for the MSMs to come: from its first MSM on, its finite
 * points in fixed blocks, which the threads convert once and keep (worker-body.ts) as long as
 * their memory allows. Zero scalars then stay in (a point whose digits are all 0 costs a
 * counting-sort step). `opts.maxBlock` for tests: points per block at most.
 */
export function keepBases(bases: Uint8Array, opts: { maxBlock?: number } = {}): void {
  if (!toKeep.has(bases)) toKeep.set(bases, opts);
}

/** Lays a kept array out (keepBases) on its first MSM; `store`: remember it as kept. */
function layout(bases: Uint8Array, sBase: number, T: number, opts: { maxBlock?: number }, store = true): Kept {
  const n = bases.byteLength / sBase;
  const bw = u32(bases);
  const keep = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) if (finite(bw, i, sBase)) { keep[i] = 1; count++; }
  const idx = new Uint32Array(count);
  for (let i = 0, k = 0; i < n; i++) if (keep[i]) idx[k++] = i;
  const nBlocks = Math.max(Math.ceil(count / (opts.maxBlock ?? MAX_BLOCK)), Math.min(Math.floor(T / THREADS_PER_BLOCK), Math.ceil(count / 4096)), 1);
  const size = Math.ceil(count / nBlocks) || 1;
  const blocks = [];
  for (let start = 0; start < count; start += size) blocks.push({ id: nextBlock++, start, size: Math.min(size, count - start) });
  const k = { idx, bases: copyPoints(bases, idx, sBase), blocks };
  if (store) kept.set(bases, k);
  return k;
}

/** Arrays laid out ahead of their one MSM (layoutEarly), not kept after it. */
const early = new WeakMap<Uint8Array, Kept>();

/**
 * Lays `bases` out now (its finite points found and copied, in blocks) for one MSM to come whose
 * scalars are not known yet: H's, while the quotient runs (that copy is then off the proof's
 * critical path). Every finite point stays in, as for a kept array, so a zero scalar costs a
 * conversion and a sorting step (none is wrong): for H's uniform scalars. Needs the pool
 * started; else the MSM lays them out itself.
 */
export function layoutEarly(group: Group, bases: Uint8Array): void {
  const pool = cpuPoolNow();
  const sBase = group === 'G1' ? 64 : 128;
  if (!pool || kept.has(bases) || toKeep.has(bases) || early.has(bases) || bases.byteLength % sBase) return;
  const k = layout(bases, sBase, pool.concurrency, {}, false);
  early.set(bases, k);
  // and each block converted by any thread that runs out of work before the MSM starts
  for (const { id, start, size } of k.blocks) {
    pool.whenIdle({ op: 'windows', id, keep: false, n: size, group: group === 'G1' ? 'g1' : 'g2', bases: k.bases.subarray(start * sBase, (start + size) * sBase), scalars: NONE, neg: NONE, c: 0, W: 0, windows: [] });
  }
}

const NONE = new Uint8Array(0);

/** Forgets a kept array, or one laid out early (the threads drop its blocks when they need the memory). */
export function forgetBases(bases: Uint8Array): void {
  toKeep.delete(bases);
  kept.delete(bases);
  const ahead = early.get(bases);
  early.delete(bases);
  if (ahead) cpuPoolNow()?.dropIdle(ahead.blocks.map((b) => b.id));
}

export interface Prepared {
  /** the points, ffjavascript affine (a kept array's shared copy, or the finite points with nonzero scalars) */
  bases: Uint8Array;
  /** per point DIGIT_WORDS u32 words: |s| (s or r − s), the window offset added later (addOffset) */
  scalars: Uint8Array;
  /** 1 where the point's scalar is r − |s|: its digits are negated */
  neg: Uint8Array;
  /** bits of the largest |s| */
  bits: number;
  /** points with a nonzero scalar */
  nonzero: number;
}

/**
 * This thread's own instance of the module, for the scalar work of prepare and addOffset
 * (wasm-scalars.ts), SLICE scalars at a time: its memory, allocated once, is never grown.
 */
const SC = { src: HEAP_START, dst: HEAP_START + SLICE * SCALAR, neg: HEAP_START + SLICE * (SCALAR + 36), off: HEAP_START + SLICE * (SCALAR + 37) };
let local: Promise<{ exports: MsmExports; memory: WebAssembly.Memory }> | undefined;
const scalarWasm = () => (local ??= msmModule().then((mod) => instantiate(mod, Math.ceil((SC.off + 64) / 65536))));

/**
 * Folds scalars above r/2 to r − s (neg = 1). `k`: a kept array (every finite point stays, in its
 * order); else zero terms and points at infinity are dropped. `sBase`: bytes of a base.
 */
export async function prepare(bases: Uint8Array, scalars: Uint8Array, sBase: number, k?: Kept): Promise<Prepared> {
  const sw = u32(scalars);
  let n: number;
  let pts: Uint8Array;
  let order: Uint32Array;
  if (k) {
    order = k.idx;
    n = order.length;
    pts = k.bases;
  } else {
    const all = scalars.byteLength / SCALAR;
    const bw = u32(bases);
    const keep = new Uint8Array(all);
    n = 0;
    for (let i = 0; i < all; i++) {
      if (i % SLICE === SLICE - 1) await breathe();
      let j = i * 8;
      const e = j + 8;
      while (j < e && sw[j] === 0) j++;
      if (j < e && finite(bw, i, sBase)) { keep[i] = 1; n++; }
    }
    order = new Uint32Array(n);
    for (let i = 0, j = 0; i < all; i++) if (keep[i]) order[j++] = i;
    pts = copyPoints(bases, order, sBase);
  }
  const out: Prepared = { bases: pts, scalars: sharedBytes(n * DIGIT_WORDS * 4, false), neg: sharedBytes(n, false), bits: 0, nonzero: 0 };
  const { exports: ex, memory } = await scalarWasm();
  const mem8 = new Uint8Array(memory.buffer);
  const mem32 = new Uint32Array(memory.buffer);
  for (let from = 0; from < n; from += SLICE) {
    if (from) await breathe();
    const m = Math.min(SLICE, n - from);
    gatherRows(sw, 8, order, from, m, mem32, SC.src >>> 2);
    const r = ex.sc_fold(SC.src, SC.dst, SC.neg, m);
    out.bits = Math.max(out.bits, r >>> 20);
    out.nonzero += r & 0xfffff;
    out.scalars.set(mem8.subarray(SC.dst, SC.dst + m * DIGIT_WORDS * 4), from * DIGIT_WORDS * 4);
    out.neg.set(mem8.subarray(SC.neg, SC.neg + m), from);
  }
  return out;
}

/**
 * Adds 2^(c−1)·Σ_{w<W−1} 2^(c·w) to every |s|: then window w of the sum, less 2^(c−1) (not for
 * the top window), is the signed digit of |s| in [−2^(c−1), 2^(c−1)), the carries already in:
 * every window's digits can be read on their own (worker-body.ts), by the thread that adds it.
 */
export async function addOffset(p: Prepared, c: number, W: number): Promise<void> {
  const off = new Uint32Array(DIGIT_WORDS);
  for (let w = 0; w < W - 1; w++) {
    const bit = w * c + c - 1;
    off[bit >>> 5]! |= 1 << (bit & 31);
  }
  const { exports: ex, memory } = await scalarWasm();
  const mem8 = new Uint8Array(memory.buffer);
  const row = DIGIT_WORDS * 4;
  const n = p.neg.length;
  for (let from = 0; from < n; from += SLICE) {
    if (from) await breathe();
    // the instance serves every MSM, whose preparations interleave at the yields: each slice
    // writes its offset, and its scalars in and out, with no yield between
    const m = Math.min(SLICE, n - from);
    new Uint32Array(memory.buffer, SC.off, DIGIT_WORDS).set(off);
    mem8.set(p.scalars.subarray(from * row, (from + m) * row), SC.dst);
    ex.sc_offset(SC.dst, m, SC.off);
    p.scalars.set(mem8.subarray(SC.dst, SC.dst + m * row), from * row);
  }
}

/** Windows of c-bit signed digits for scalars of `bits` bits: the top one takes the last carry. */
export const windowCount = (bits: number, c: number) => Math.ceil((bits + 1) / c);

/** Window width minimizing windows × (points + REDUCE_COST · buckets), buckets 2^(c−1). */
export function windowBits(points: number, bits: number): number {
  let best = 2;
  let cost = Infinity;
  for (let c = 2; c <= 21; c++) {
    const k = windowCount(bits, c) * (points + REDUCE_COST * 2 ** (c - 1));
    if (k < cost) [best, cost] = [c, k];
  }
  return best;
}

/**
 * Σ scalars[i]·bases[i]: affine Montgomery bases (ffjavascript), canonical scalars; Jacobian result.
 * `opts` for tests: points per block at most, a fixed window width.
 */
export async function cpuMsm(G: PointOps & { double(p: Uint8Array): Uint8Array }, group: Group, bases: Uint8Array, scalars: Uint8Array, opts: { maxBlock?: number; windowBits?: number } = {}): Promise<Uint8Array> {
  const sBase = G.F.n8 * 2;
  if (bases.byteLength % sBase || scalars.byteLength % SCALAR || bases.byteLength / sBase !== scalars.byteLength / SCALAR) {
    throw new ZkonnxError('BAD_ARGUMENT', `${group} MSM: ${bases.byteLength} bytes of bases (${sBase} a point) and ${scalars.byteLength} bytes of scalars (${SCALAR} each) are not one scalar a point`);
  }
  // no await where the pool runs already: a small MSM's first windows start before the caller goes
  // on (groth16.ts evaluates A, B and C meanwhile); a large one's preparation yields (SLICE)
  const pool = cpuPoolNow() ?? (await cpuPool());
  const T = pool.concurrency;
  const keep = toKeep.get(bases);
  let k = kept.get(bases);
  if (keep && !k) k = layout(bases, sBase, T, keep);
  // laid out ahead (layoutEarly): used once, its blocks not kept by the threads
  const ahead = k ? undefined : early.get(bases);
  early.delete(bases);
  const isKept = !!k;
  k ??= ahead;
  const p = await prepare(bases, scalars, sBase, k);
  if (p.nonzero === 0) {
    releaseShared(p.scalars, p.neg, ...(isKept ? [] : [p.bases]));
    return G.zero;
  }
  const n = p.neg.length;
  // blocks: a kept array's own; else enough for every thread to work when windows are few; to
  // bound memory; and with many threads, one block per THREADS_PER_BLOCK threads, each
  // converting only the blocks it works on
  let blocks = k?.blocks;
  if (!blocks) {
    const W0 = windowCount(p.bits, windowBits(n, p.bits));
    const count = Math.max(Math.ceil(n / (opts.maxBlock ?? MAX_BLOCK)), Math.min(Math.max(Math.floor(T / W0), Math.floor(T / THREADS_PER_BLOCK)), Math.ceil(n / 4096)), 1);
    const size = Math.ceil(n / count);
    blocks = [];
    for (let start = 0; start < n; start += size) blocks.push({ id: nextBlock++, start, size: Math.min(size, n - start) });
  }
  const c = opts.windowBits ?? windowBits(Math.ceil(p.nonzero / blocks.length), p.bits);
  const W = windowCount(p.bits, c);
  await addOffset(p, c, W);
  const jobs = blocks.map(({ id, start, size: m }) => {
    const sub = {
      bases: p.bases.subarray(start * sBase, (start + m) * sBase),
      scalars: p.scalars.subarray(start * DIGIT_WORDS * 4, (start + m) * DIGIT_WORDS * 4),
      neg: p.neg.subarray(start, start + m),
    };
    // one task per window: the pool's threads take them as they free up (a thread keeps the
    // blocks it converted, so its next window of a block costs no conversion)
    const parts = Array.from({ length: W }, (_, w) => {
      const task: WindowTask = { op: 'windows', id, keep: isKept, n: m, group: group === 'G1' ? 'g1' : 'g2', ...sub, c, W, windows: [w] };
      return pool.run(task).then((rs) => rs[0]!);
    });
    // Σ_w W_w·2^(c·w), by Horner from the top window
    return Promise.all(parts).then((byW) => {
      let acc = G.zero;
      for (let w = W - 1; w >= 0; w--) {
        if (w < W - 1) for (let d = 0; d < c; d++) acc = G.double(acc);
        acc = G.add(acc, byW[w]!);
      }
      return acc;
    });
  });
  // the windows are queued: the threads that have not converted a block ahead do it with its first
  // window (dropped only now: the preparation above takes a while, and a thread may be idle meanwhile)
  if (ahead) pool.dropIdle(ahead.blocks.map((b) => b.id));
  let sum = G.zero;
  for (const part of await Promise.all(jobs)) sum = G.add(sum, part);
  // every task has replied: this MSM's own shared buffers can serve the next (a kept array's stay)
  releaseShared(p.scalars, p.neg, ...(isKept ? [] : [p.bases]));
  return sum;
}
