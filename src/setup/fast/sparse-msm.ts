// Many small multi-scalar multiplications at once, on the CPU prover's threads: the zkey sections
// A, B1, B2, C and IC are, for every circuit variable s, Σ_c M[c][s]·P_c over the Lagrange points
// P_c of the ptau and the r1cs coefficients M[c][s].
//
// snarkjs's zkey_new.js makes the same sums with ffjavascript's wasm (g?m_multiexpAffine, or
// g?m_timesScalarAffine for a single term), and packs up to 2^15 terms into one task, waiting for
// `concurrency` tasks at a time, so that a circuit below ~2^15 terms per section runs every
// section on ONE thread. Here the outputs are packed into tasks of balanced cost (about 8 tasks
// per thread, at most a few in flight per thread to bound memory), an output with very many terms
// is split into partial sums over several tasks, every coefficient c > (r−1)/2 is used as −(r − c)
// (the point negated), and each output's scalars are packed at the byte width of its largest |c|;
// a task (setup-tasks.ts 'sparse') sums each output by its coefficients' NAF digits: buckets per
// bit summed by batched affine additions, then Horner's rule, so a coefficient −1 costs one
// addition and a 12-bit weight about four; full-width ones (Poseidon's) take wider digits, on odd
// multiples made once for each distinct point of the task. The sums are group elements: the
// affine results are the bytes snarkjs gets.
import { cpuPool } from '../../prover/cpu/pool.js';
import type { SparseTask } from '../../prover/cpu/setup-tasks.js';
import type { WasmCurve } from './snarkjs-internals.js';

/** r1cs coefficients in signed form: |c| (normal form, little-endian, 32 bytes), sign, width. */
export interface SignedCoefs {
  abs: Uint8Array;
  neg: Uint8Array;
  /** bytes needed for |c| (0 when c = 0) */
  len: Uint8Array;
}

/** Compressed sparse columns: output j sums the terms ptr[j] .. ptr[j+1]−1. */
export interface Columns {
  ptr: Uint32Array;
  /** which base set each term's point comes from */
  set: Uint8Array;
  /** the point's index in its base set */
  point: Uint32Array;
  /** the term's coefficient index in SignedCoefs */
  coef: Uint32Array;
}

const N8R = 32;

/** Signed form of `count` 32-byte little-endian normal-form coefficients of the BN254 scalar field. */
export function signedCoefs(r: bigint, raw: Uint8Array, count: number): SignedCoefs {
  const rb = new Uint8Array(N8R);
  const half = new Uint8Array(N8R); // (r − 1)/2
  let x = r;
  let h = (r - 1n) / 2n;
  for (let i = 0; i < N8R; i++) {
    rb[i] = Number(x & 0xffn);
    half[i] = Number(h & 0xffn);
    x >>= 8n;
    h >>= 8n;
  }
  const abs = new Uint8Array(count * N8R);
  const neg = new Uint8Array(count);
  const len = new Uint8Array(count);
  for (let t = 0; t < count; t++) {
    const o = t * N8R;
    // c > (r−1)/2 ?
    let gt = false;
    for (let i = N8R - 1; i >= 0; i--) {
      const a = raw[o + i]!;
      const b = half[i]!;
      if (a !== b) {
        gt = a > b;
        break;
      }
    }
    if (gt) {
      neg[t] = 1;
      let borrow = 0;
      for (let i = 0; i < N8R; i++) {
        let d = rb[i]! - raw[o + i]! - borrow;
        borrow = d < 0 ? 1 : 0;
        if (d < 0) d += 256;
        abs[o + i] = d;
      }
    } else {
      abs.set(raw.subarray(o, o + N8R), o);
    }
    let l = N8R;
    while (l > 0 && abs[o + l - 1] === 0) l--;
    len[t] = l;
  }
  return { abs, neg, len };
}

/** The widest NAF a task may take: 7 (bench:setup-keys sets 2, the plain NAF, for its baseline). */
export const sparseTuning = { maxWindow: 7 };

/** Outputs with more terms than this are split into partial sums over several tasks. */
const SPLIT_TERMS = 1 << 13;
const MAX_TASK_TERMS = 1 << 15;
/**
 * A task's wasm arena (setup-tasks.ts 'sparse') at most: its buckets are per output and bit, so
 * many outputs with full-width coefficients (a Poseidon circuit's) need far more memory than
 * their terms suggest; one thread's memory must stay well inside wasm32's 4 GiB (a G2 task of
 * 2^15 one-term outputs of 254-bit coefficients took about 4 GiB before this bound).
 */
const MAX_TASK_BYTES = 768 * 2 ** 20;

interface Job {
  out: number;
  from: number;
  to: number;
  width: number;
}

export interface SparseMsmResult {
  /** affine points, snarkjs's LEM encoding, one per output */
  lem: Uint8Array;
  /** the same points uncompressed (what zkey_new.js hashes), when asked for */
  u?: Uint8Array;
}

/**
 * out_j = Σ_{k in column j} c_k·P_k for every column of `cols` (P_k from bases[set_k] at point_k).
 * `splitTerms` (tests only) lowers the size above which an output is split into partial sums.
 */
export async function sparseMsm(curve: WasmCurve, group: 'G1' | 'G2', bases: Uint8Array[], cols: Columns, coefs: SignedCoefs, wantU: boolean, splitTerms = SPLIT_TERMS, maxTaskBytes = MAX_TASK_BYTES): Promise<SparseMsmResult & { tasks: number }> {
  const G = curve[group] as WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; zero: Uint8Array; fromRprLEM(b: Uint8Array, o: number): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void };
  const sG = G.F.n8 * 2;
  const nOut = cols.ptr.length - 1;

  // ---- jobs: whole outputs, or slices of a big one -----------------------------------------
  const jobs: Job[] = [];
  const bigOutputs: number[] = [];
  let totalCost = 0;
  const widthOf = (from: number, to: number): number => {
    let w = 0;
    for (let k = from; k < to; k++) {
      const l = coefs.len[cols.coef[k]!]!;
      if (l > w) w = l;
    }
    return w;
  };
  const cost = (j: Job): number => 16 + j.width * 8 + (j.to - j.from) * j.width * 4;
  // the task's arena by its blocks (setup-tasks.ts sparse): points and bucket lists per NAF digit
  // (at most 4·width + 1 a coefficient), and three blocks of points per bucket (8·width + 1 an output)
  const PS = group === 'G1' ? 72 : 144;
  const digits = (j: Job): number => (j.to - j.from) * (4 * j.width + 1);
  const buckets = (j: Job): number => 8 * j.width + 1;
  const arenaBytes = (terms: number, entries: number, k: number): number => PS * (2 * terms + 1.75 * entries + 3.2 * k) + 4 * entries + 12 * k;
  for (let out = 0; out < nOut; out++) {
    const from = cols.ptr[out]!;
    const to = cols.ptr[out + 1]!;
    if (to - from > splitTerms) {
      bigOutputs.push(out);
      continue;
    }
    const job = { out, from, to, width: widthOf(from, to) };
    jobs.push(job);
    totalCost += cost(job);
  }

  const lem = new Uint8Array(nOut * sG);
  // the base sets as 32-bit words (a copy where a set's bytes are not 4-aligned)
  const w32 = sG / 4;
  const words = bases.map((b) => (b.byteOffset % 4 ? new Uint32Array(b.slice().buffer) : new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2)));

  // ---- tasks: the CPU prover's threads (setup-tasks.ts 'sparse') ------------------------------
  const g = group === 'G1' ? 'g1' : 'g2';
  const buildTask = (list: Job[]): SparseTask => {
    let nTerms = 0;
    let nScalarBytes = 0;
    for (const j of list) {
      nTerms += j.to - j.from;
      nScalarBytes += (j.to - j.from) * j.width;
    }
    // each distinct point once (a wide NAF's odd multiples are made a point, not a term)
    const local = new Map<number, number>();
    const point = new Uint32Array(nTerms);
    for (let i = 0, t = 0; i < list.length; i++) {
      for (let k = list[i]!.from; k < list[i]!.to; k++, t++) {
        const key = cols.set[k]! * 2 ** 32 + cols.point[k]!;
        let u = local.get(key);
        if (u === undefined) local.set(key, (u = local.size));
        point[t] = u;
      }
    }
    const bBases = new Uint8Array(local.size * sG);
    // word copies, no view a point: a subarray per term made half of this loop's time garbage
    const out32 = new Uint32Array(bBases.buffer);
    for (const [key, u] of local) {
      const from = words[Math.floor(key / 2 ** 32)]!;
      const src = (key % 2 ** 32) * w32;
      for (let q = 0; q < w32; q++) out32[u * w32 + q] = from[src + q]!;
    }
    const bScalars = new Uint8Array(nScalarBytes);
    const neg = new Uint8Array(nTerms);
    const ptr = new Uint32Array(list.length + 1);
    const width = new Uint8Array(list.length);
    const abs = coefs.abs;
    let t = 0;
    let pS = 0;
    list.forEach((j, i) => {
      width[i] = j.width;
      for (let k = j.from; k < j.to; k++, t++) {
        const c = cols.coef[k]!;
        for (let q = 0, a = c * N8R; q < j.width; q++) bScalars[pS + q] = abs[a + q]!;
        neg[t] = coefs.neg[c]!;
        pS += j.width;
      }
      ptr[i + 1] = t;
    });
    return { op: 'sparse', group: g, bases: bBases, point, scalars: bScalars, neg, ptr, width, maxWindow: sparseTuning.maxWindow };
  };
  const transfers = (t: SparseTask) => [t.bases.buffer, t.point.buffer, t.scalars.buffer, t.neg.buffer, t.ptr.buffer, t.width.buffer] as ArrayBuffer[];

  // a bounded number of tasks in flight
  const cpu = await cpuPool();
  const inFlight = new Set<Promise<void>>();
  const limit = Math.max(2, cpu.concurrency * 2);
  const submit = async (task: SparseTask, done: (r: Uint8Array) => void): Promise<void> => {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const p: Promise<void> = cpu.run(task, 0, transfers(task)).then((r) => done(r[0]!));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
  };

  const targetCost = Math.max(1 << 14, totalCost / (cpu.concurrency * 8));
  let batch: Job[] = [];
  let batchCost = 0;
  let batchTerms = 0;
  let batchDigits = 0;
  let batchBuckets = 0;
  let tasks = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const list = batch;
    batch = [];
    batchCost = 0;
    batchTerms = 0;
    batchDigits = 0;
    batchBuckets = 0;
    tasks++;
    await submit(buildTask(list), (r) => {
      list.forEach((j, i) => lem.set(r.subarray(i * sG, (i + 1) * sG), j.out * sG));
    });
  };
  for (const j of jobs) {
    const n = j.to - j.from;
    const big = arenaBytes(batchTerms + n, batchDigits + digits(j), batchBuckets + buckets(j)) > maxTaskBytes;
    if (batch.length > 0 && (batchCost + cost(j) > targetCost || batchTerms + n > MAX_TASK_TERMS || big)) await flush();
    batch.push(j);
    batchCost += cost(j);
    batchTerms += n;
    batchDigits += digits(j);
    batchBuckets += buckets(j);
  }
  await flush();

  // big outputs: partial sums in parallel, added up here
  const partials = new Map<number, Uint8Array[]>();
  for (const out of bigOutputs) {
    const from = cols.ptr[out]!;
    const to = cols.ptr[out + 1]!;
    partials.set(out, []);
    for (let a = from; a < to; a += splitTerms) {
      const b = Math.min(to, a + splitTerms);
      tasks++;
      await submit(buildTask([{ out, from: a, to: b, width: widthOf(a, b) }]), (r) => {
        partials.get(out)!.push(r);
      });
    }
  }
  await Promise.all(inFlight);
  for (const [out, parts] of partials) {
    let acc = G.zero;
    for (const p of parts) if (p.some((x) => x !== 0)) acc = G.add(acc, G.fromRprLEM(p, 0)); // all zero: infinity
    G.toRprLEM(lem, out * sG, G.toAffine(acc));
  }
  return { lem, u: wantU ? await G.batchLEMtoU(lem) : undefined, tasks };
}
