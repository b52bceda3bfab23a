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
// multiples made once for each distinct point of the task, and those above 128 bits are split in
// two halves by the endomorphism (glvSplit). The sums are group elements: the affine results are
// the bytes snarkjs gets.
import { cpuPool } from '../../prover/cpu/pool.js';
import type { SparseTask } from '../../prover/cpu/setup-tasks.js';
import { decompose } from './glv.js';
import { glvConstants } from './kernels.js';
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

/**
 * Coefficients above 128 bits, each split by BN254's endomorphism: c ≡ k1 + k2·λ (mod r) with
 * |k1|, |k2| < 2^128, so that c·P = k1·P + k2·φ(P), φ(x, y) = (ω·x, y) (ω = β on G1, β² on G2:
 * both act as λ). A sum's Horner walk then runs over 129 bits, not 257: about half the doublings
 * and bucket additions of an output with few terms (a training circuit's variables: ~5 terms of
 * Poseidon's MDS products each). Split once per distinct value (a few thousand in a circuit).
 */
interface GlvSplit {
  /** coefficient index → its split's index, −1 when not split */
  at: Int32Array;
  /** split s: |k1| at 32s, |k2| at 32s + 16 (16 bytes each, little-endian) */
  abs: Uint8Array;
  /** split s: k1 < 0 at 2s, k2 < 0 at 2s + 1 */
  neg: Uint8Array;
  /** split s: bytes of |k1| at 2s, of |k2| at 2s + 1 */
  len: Uint8Array;
}

const splits = new WeakMap<SignedCoefs, GlvSplit>();

function glvSplit(curve: WasmCurve, coefs: SignedCoefs): GlvSplit {
  const done = splits.get(coefs);
  if (done) return done;
  const consts = glvConstants(curve);
  const count = coefs.len.length;
  const at = new Int32Array(count).fill(-1);
  if (!sparseTuning.glv) return { at, abs: new Uint8Array(0), neg: new Uint8Array(0), len: new Uint8Array(0) };
  const byValue = new Map<bigint, number>();
  const parts: bigint[] = [];
  const view = new DataView(coefs.abs.buffer, coefs.abs.byteOffset, coefs.abs.byteLength);
  for (let i = 0; i < count; i++) {
    if (coefs.len[i]! <= 16) continue;
    const o = i * N8R;
    let abs = 0n;
    for (let w = 3; w >= 0; w--) abs = (abs << 64n) | view.getBigUint64(o + 8 * w, true);
    const c = coefs.neg[i] ? consts.r - abs : abs;
    let s = byValue.get(c);
    if (s === undefined) {
      s = byValue.size;
      byValue.set(c, s);
      parts.push(...decompose(c, consts));
    }
    at[i] = s;
  }
  const n = byValue.size;
  const abs = new Uint8Array(n * 32);
  const neg = new Uint8Array(n * 2);
  const len = new Uint8Array(n * 2);
  parts.forEach((k, h) => {
    let x = k < 0n ? -k : k;
    neg[h] = k < 0n ? 1 : 0;
    let l = 0;
    for (let b = 0; x > 0n; b++, x >>= 8n) {
      abs[h * 16 + b] = Number(x & 0xffn);
      l = b + 1;
    }
    len[h] = l;
  });
  const split = { at, abs, neg, len };
  splits.set(coefs, split);
  return split;
}

/**
 * The widest NAF a task may take (7), and whether coefficients above 128 bits are split by the
 * endomorphism: bench:setup-keys's baseline, the algorithm before either, sets 2 and false.
 */
export const sparseTuning = { maxWindow: 7, glv: true };

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
  /** the job's terms once the split coefficients are two each */
  terms: number;
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
  const split = glvSplit(curve, coefs);
  const shape = (from: number, to: number): { width: number; terms: number } => {
    let width = 0;
    let terms = to - from;
    for (let k = from; k < to; k++) {
      const c = cols.coef[k]!;
      const sp = split.at[c]!;
      const l = sp < 0 ? coefs.len[c]! : Math.max(split.len[2 * sp]!, split.len[2 * sp + 1]!);
      if (sp >= 0) terms++;
      if (l > width) width = l;
    }
    return { width, terms };
  };
  const cost = (j: Job): number => 16 + j.width * 8 + j.terms * j.width * 4;
  // the task's arena by its blocks (setup-tasks.ts sparse): points and bucket lists per NAF digit
  // (at most 4·width + 1 a coefficient), and three blocks of points per bucket (8·width + 1 an output)
  const PS = group === 'G1' ? 72 : 144;
  const digits = (j: Job): number => j.terms * (4 * j.width + 1);
  const buckets = (j: Job): number => 8 * j.width + 1;
  const arenaBytes = (terms: number, entries: number, k: number): number => PS * (2 * terms + 1.75 * entries + 3.2 * k) + 4 * entries + 12 * k;
  for (let out = 0; out < nOut; out++) {
    const from = cols.ptr[out]!;
    const to = cols.ptr[out + 1]!;
    if (to - from > splitTerms) {
      bigOutputs.push(out);
      continue;
    }
    const job = { out, from, to, ...shape(from, to) };
    jobs.push(job);
    totalCost += cost(job);
  }

  const lem = new Uint8Array(nOut * sG);
  // the base sets as 32-bit words (a copy where a set's bytes are not 4-aligned)
  const w32 = sG / 4;
  const words = bases.map((b) => (b.byteOffset % 4 ? new Uint32Array(b.slice().buffer) : new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2)));

  // ---- tasks: the CPU prover's threads (setup-tasks.ts 'sparse') ------------------------------
  const g = group === 'G1' ? 'g1' : 'g2';
  // ω of the endomorphism on this group (G2's acts as λ with β²): ffjavascript's Fq form
  const consts = glvConstants(curve);
  const F1 = (curve as unknown as { F1: { e(x: bigint): Uint8Array } }).F1;
  const omega = F1.e(group === 'G1' ? consts.beta : (consts.beta * consts.beta) % consts.q);
  const buildTask = (list: Job[]): SparseTask => {
    let nTerms = 0;
    let nScalarBytes = 0;
    let nOrig = 0;
    for (const j of list) {
      nTerms += j.terms;
      nScalarBytes += j.terms * j.width;
      nOrig += j.to - j.from;
    }
    // each distinct point once (a wide NAF's odd multiples are made a point, not a term)
    const local = new Map<number, number>();
    const uOf = new Uint32Array(nOrig);
    for (let i = 0, t = 0; i < list.length; i++) {
      for (let k = list[i]!.from; k < list[i]!.to; k++, t++) {
        const key = cols.set[k]! * 2 ** 32 + cols.point[k]!;
        let u = local.get(key);
        if (u === undefined) local.set(key, (u = local.size));
        uOf[t] = u;
      }
    }
    const U = local.size;
    const bBases = new Uint8Array(U * sG);
    // word copies, no view a point: a subarray per term made half of this loop's time garbage
    const out32 = new Uint32Array(bBases.buffer);
    for (const [key, u] of local) {
      const from = words[Math.floor(key / 2 ** 32)]!;
      const src = (key % 2 ** 32) * w32;
      for (let q = 0; q < w32; q++) out32[u * w32 + q] = from[src + q]!;
    }
    // terms: a split coefficient is |k1| on the point u and |k2| on φ of it (point U + u)
    const point = new Uint32Array(nTerms);
    const bScalars = new Uint8Array(nScalarBytes);
    const neg = new Uint8Array(nTerms);
    const ptr = new Uint32Array(list.length + 1);
    const width = new Uint8Array(list.length);
    const abs = coefs.abs;
    let t = 0;
    let pS = 0;
    let o = 0;
    let phi = false;
    list.forEach((j, i) => {
      width[i] = j.width;
      for (let k = j.from; k < j.to; k++, o++) {
        const c = cols.coef[k]!;
        const sp = split.at[c]!;
        if (sp < 0) {
          for (let q = 0, a = c * N8R; q < j.width; q++) bScalars[pS + q] = abs[a + q]!;
          point[t] = uOf[o]!;
          neg[t++] = coefs.neg[c]!;
          pS += j.width;
          continue;
        }
        phi = true;
        for (let h = 0; h < 2; h++) {
          for (let q = 0, a = (2 * sp + h) * 16; q < j.width; q++) bScalars[pS + q] = split.abs[a + q]!;
          point[t] = uOf[o]! + h * U;
          neg[t++] = split.neg[2 * sp + h]!;
          pS += j.width;
        }
      }
      ptr[i + 1] = t;
    });
    return { op: 'sparse', group: g, bases: bBases, point, scalars: bScalars, neg, ptr, width, maxWindow: sparseTuning.maxWindow, ...(phi ? { omega: omega.slice() } : {}) };
  };
  const transfers = (t: SparseTask) => [t.bases.buffer, t.point.buffer, t.scalars.buffer, t.neg.buffer, t.ptr.buffer, t.width.buffer, ...(t.omega ? [t.omega.buffer] : [])] as ArrayBuffer[];

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
    const n = j.terms;
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
      await submit(buildTask([{ out, from: a, to: b, ...shape(a, b) }]), (r) => {
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
