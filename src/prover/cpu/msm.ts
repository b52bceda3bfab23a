// Multi-scalar multiplication on our own WebAssembly (wasm-*.ts) and worker threads (pool.ts):
// Pippenger's buckets, each bucket summed with batched affine additions (worker-body.ts).
// Arranged for what a Groth16 witness looks like:
//  - zero scalars and points at infinity are dropped;
//  - a scalar above r/2 is replaced by r − s on the negated point: the small negative values
//    of a quantized model (r − 3, say) then cost as little as small positive ones, and only the
//    windows under the largest |s|'s top bit are computed;
//  - the window width comes from a cost model of additions against bucket reductions for the
//    points that are left.
// Points are cut into blocks when there are fewer windows than threads or too many points for
// one worker's memory; every window of a block is a task of its own.
import type { PointOps } from '../curve.js';
import { BN254_R } from '../../circom/r1cs.js';
import { cpuPool } from './pool.js';
import type { WindowTask } from './worker-body.js';

export type Group = 'G1' | 'G2';

const SCALAR = 32;
/** Points per block at most: a block then takes ~0.4 GiB (G1) or ~0.8 GiB (G2) of a thread's wasm memory (4 GiB at most). */
const MAX_BLOCK = 1 << 21;
/** A bucket's share of a window's reduction, in the time a point costs a window (measured here: the widths it picks are the fastest). */
const REDUCE_COST = 3.5;
/**
 * Threads that share a block at most, where there are many: each converts the block's points for
 * itself (~150 ns a point), and a block's bucket reductions are paid once per block.
 */
const THREADS_PER_BLOCK = 4;
/** Block ids, for the threads' cache of converted blocks. */
let nextBlock = 0;

const words = (x: bigint) => Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(32 * i)) & 0xffffffffn));
const R = words(BN254_R);
const HALF = words(BN254_R >> 1n);

function u32(bytes: Uint8Array): Uint32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
}

function shared(bytes: number): Uint8Array {
  return typeof SharedArrayBuffer === 'function' ? new Uint8Array(new SharedArrayBuffer(bytes)) : new Uint8Array(bytes);
}

interface Prepared {
  bases: Uint8Array;
  scalars: Uint8Array;
  neg: Uint8Array;
  bits: number;
}

/** Drops zero terms, folds scalars above r/2 onto negated points; `sBase`: bytes of a base. */
export function prepare(bases: Uint8Array, scalars: Uint8Array, sBase: number): Prepared {
  const n = scalars.byteLength / SCALAR;
  const sw = u32(scalars);
  const bw = u32(bases);
  const keep = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    let nz = 0;
    for (let j = 0; j < 8; j++) nz |= sw[i * 8 + j]!;
    if (!nz) continue;
    let zb = 0;
    for (let j = (i * sBase) >> 2, e = j + (sBase >> 2); j < e; j++) zb |= bw[j]!;
    if (!zb) continue;
    keep[i] = 1;
    count++;
  }
  const out: Prepared = { bases: shared(count * sBase), scalars: shared(count * SCALAR), neg: shared(count), bits: 0 };
  const os = u32(out.scalars);
  let k = 0;
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    out.bases.set(bases.subarray(i * sBase, (i + 1) * sBase), k * sBase);
    const s = i * 8;
    // s > r/2 ?
    let j = 7;
    while (j > 0 && sw[s + j] === HALF[j]) j--;
    const neg = sw[s + j]! > HALF[j]!;
    if (neg) {
      let borrow = 0;
      for (let w = 0; w < 8; w++) {
        const d = R[w]! - sw[s + w]! - borrow;
        os[k * 8 + w] = d >>> 0;
        borrow = d < 0 ? 1 : 0;
      }
      out.neg[k] = 1;
    } else {
      for (let w = 0; w < 8; w++) os[k * 8 + w] = sw[s + w]!;
    }
    let hi = 7;
    while (hi > 0 && os[k * 8 + hi] === 0) hi--;
    const bits = hi * 32 + 32 - Math.clz32(os[k * 8 + hi]!);
    if (bits > top) top = bits;
    k++;
  }
  out.bits = top;
  return out;
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
  const p = prepare(bases, scalars, sBase);
  const n = p.neg.length;
  if (n === 0) return G.zero;
  const pool = await cpuPool();
  const T = pool.concurrency;
  // blocks: enough for every thread to work when windows are few; to bound memory; and with many
  // threads, one block per THREADS_PER_BLOCK threads, each converting only the blocks it works on
  let c = windowBits(n, p.bits);
  let W = windowCount(p.bits, c);
  const blocks = Math.max(Math.ceil(n / (opts.maxBlock ?? MAX_BLOCK)), Math.min(Math.max(Math.floor(T / W), Math.floor(T / THREADS_PER_BLOCK)), Math.ceil(n / 4096)), 1);
  const size = Math.ceil(n / blocks);
  c = opts.windowBits ?? windowBits(size, p.bits);
  W = windowCount(p.bits, c);
  const jobs: Promise<Uint8Array>[] = [];
  for (let b0 = 0; b0 < n; b0 += size) {
    const m = Math.min(size, n - b0);
    const sub = { bases: p.bases.subarray(b0 * sBase, (b0 + m) * sBase), scalars: p.scalars.subarray(b0 * SCALAR, (b0 + m) * SCALAR), neg: p.neg.subarray(b0, b0 + m) };
    // one task per window: the pool's threads take them as they free up (a thread keeps the
    // block it converted, so its next window of the block costs no conversion)
    const id = nextBlock++;
    const parts: Array<Promise<Array<[number, Uint8Array]>>> = [];
    for (let w = 0; w < W; w++) {
      const task: WindowTask = { op: 'windows', id, n: m, group: group === 'G1' ? 'g1' : 'g2', ...sub, c, W, windows: [w] };
      parts.push(pool.run(task).then((rs) => [[w, rs[0]!] as [number, Uint8Array]]));
    }
    // Σ_w W_w·2^(c·w), by Horner from the top window
    jobs.push(Promise.all(parts).then((all) => {
      const byW = new Map(all.flat());
      let acc = G.zero;
      for (let w = W - 1; w >= 0; w--) {
        if (w < W - 1) for (let d = 0; d < c; d++) acc = G.double(acc);
        acc = G.add(acc, byW.get(w)!);
      }
      return acc;
    }));
  }
  let sum = G.zero;
  for (const part of await Promise.all(jobs)) sum = G.add(sum, part);
  return sum;
}
