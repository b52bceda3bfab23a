// What a CPU MSM worker runs. `workerBody` is shipped as source text (Function.prototype.toString)
// and evaluated in a worker_threads Worker (Node) or a Blob Worker (browser), so it must not use
// anything from outside its own body: no imports, no module-level names.
//
// A task: one block of points (ffjavascript affine bytes, the scalars' digit sources, negation
// flags) and the window of c bits this worker computes for it. Digits are signed (−2^(c−1) ≤ d <
// 2^(c−1), the top window up to 2^(c−1)): half the buckets, a negative digit adding −P to bucket |d|.
// The converted points stay in the worker's memory for the block's next windows, and a kept
// block (a prepared key's) for the proofs to come; the reply lists the blocks the worker holds.
// Per window: counting sort of the points by |digit|, the points gathered in that order (negated
// where the digit is), then every bucket summed as a tree of affine additions (round 1 adds pairs
// of points, round 2 pairs of those sums, …), each round's additions batched so that one field
// inversion serves thousands of them (wasm <g>_batchAdd); buckets then reduced by running sums
// (wasm <g>_reduce). Memory: the block's converted points, the gathered copy, two half-size
// buffers for the rounds, one point per bucket.

import type { SetupTask, setupTasks as SetupTasks } from './setup-tasks.js';

export type { CombTask, ScaleTask, SetupTask, SparseTask } from './setup-tasks.js';

export interface WindowTask {
  op: 'windows';
  /** the block's id: a thread keeps the blocks it converted (the last one, and kept ones) */
  id: number;
  /** a kept block (a prepared key's): held for later proofs, up to KEPT_BYTES of them */
  keep: boolean;
  /** points in the block (bases is empty when the thread holds the block already) */
  n: number;
  group: 'g1' | 'g2';
  /** n points, ffjavascript affine (64 or 128 bytes each) */
  bases: Uint8Array;
  /** n digit sources of 9 u32 words (msm.ts addOffset): window w's bits, less 2^(c−1) below the top window, are its digit */
  scalars: Uint8Array;
  /** 1: the point's digits are negated (its scalar is r − |s|) */
  neg: Uint8Array;
  /** window width in bits, the block's number of windows, and the windows of this task (none: only convert the block) */
  c: number;
  W: number;
  windows: number[];
}

/** Coset evaluations of one polynomial given on the domain of size 2^log: inverse NTT, times inc^i, NTT. */
export interface CosetTask {
  op: 'coset';
  /** n evaluations, ffjavascript's Fr (32 bytes, Montgomery) */
  x: Uint8Array;
  /** ffjavascript Fr: the domain's root of unity, the coset shift, 1/n */
  w: Uint8Array;
  inc: Uint8Array;
  invN: Uint8Array;
  log: number;
  /** where the evaluations go (36 bytes each, n of them): a shared buffer the caller reuses; else a new array is sent back */
  out?: Uint8Array;
}

/** A·B − C over a range of coset evaluations (as 'coset' returns them): H's scalars, canonical bytes. */
export interface JoinTask {
  op: 'join';
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
  /** where they go (32 bytes each, in a shared buffer); else they are sent back in a new array */
  out?: Uint8Array;
}

/**
 * The QAP's A and B on the constraints [from, to) and C = A∘B (qap.ts, wasm-qap.ts), as
 * ffjavascript's Fr (32 bytes, Montgomery). Replies [status] or, without `out`, [status, abc]:
 * status a u32, 0 or (then alone) the index + 1 of a record with m > 1 or s ≥ nVars; abc the
 * ranges of A, B and C one after another.
 */
export interface AbcTask {
  op: 'abc';
  /** coefficient records (44 bytes: u32 m, c, s, 32-byte value): the whole section, or with `packed` only the spans' records, one after another */
  coefs: Uint8Array;
  packed: boolean;
  /** [lo, hi) pairs of record indices that hold every record of the range (the others in them are skipped) */
  spans: number[];
  /** nVars × 32 bytes, canonical */
  witness: Uint8Array;
  from: number;
  to: number;
  /** A, B and C of the whole domain in SharedArrayBuffers, where the range is written (not replied) */
  out?: [Uint8Array, Uint8Array, Uint8Array];
}

export type Task = WindowTask | CosetTask | JoinTask | AbcTask | SetupTask;

export interface InitTask {
  op: 'init';
  module: WebAssembly.Module;
  heapStart: number;
}

/** Returns the message handler; `post` sends a reply (transferring `transfer`). Replies: {ok} to init, {results, held} to a task (held: the ids of the blocks kept), {error}. */
export function workerBody(post: (msg: unknown, transfer?: ArrayBuffer[]) => void, setupTasks: typeof SetupTasks): (msg: InitTask | Task) => Promise<void> {
  type Ex = Record<string, (...a: number[]) => void>;
  let ex: Ex;
  let memory: WebAssembly.Memory;
  let heap = 0;
  const FQ = 36;
  const BATCH = 2048; // wasm-curve.ts's BATCH: <g>_round fills LIST and PREF up to it too
  const ENTRY = 16;

  function ensure(bytes: number) {
    const have = memory.buffer.byteLength;
    if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
  }

  /**
   * Additions in batches of up to BATCH entries at `list` (wasm <g>_batchAdd, scratch at `pref`):
   * emit(pa, pb, pr) queues pr = pa + pb (pa = pb: a doubling; pr may be pa or pb, no other
   * entry's), flush() runs what is queued. Made after the task's memory has grown.
   */
  function batcher(g: 'g1' | 'g2', list: number, pref: number) {
    const mem32 = new Uint32Array(memory.buffer);
    const batchAdd = ex[`${g}_batchAdd`]!;
    let pending = 0;
    const flush = () => {
      if (pending) batchAdd(list, pending, pref);
      pending = 0;
    };
    const emit = (pa: number, pb: number, pr: number) => {
      const e = (list >>> 2) + pending * 4;
      mem32[e] = pa;
      mem32[e + 1] = pb;
      mem32[e + 2] = pr;
      if (++pending === BATCH) flush();
    };
    return { emit, flush };
  }

  /**
   * Converted points from `heap` up: kept blocks first (at most KEPT_BYTES, all dropped when a new
   * one would pass it), then the last other block; `bytes`: where they end (scratch goes after).
   */
  const KEPT_BYTES = 1 << 30;
  const block = { kept: new Map<number, number>(), keptBytes: 0, last: -1, lastBytes: 0, bytes: 0 };
  const held = () => [...block.kept.keys(), ...(block.last >= 0 ? [block.last] : [])];

  function windows(t: WindowTask): Uint8Array[] {
    const g = t.group;
    const E = g === 'g1' ? FQ : 2 * FQ;
    const PS = 2 * E;
    const ffjPS = g === 'g1' ? 64 : 128;
    const ffjJac = g === 'g1' ? 96 : 192;
    const { n, c, W } = t;
    const half = 1 << (c - 1);
    const K = half + 1;
    // the block's converted points: held from an earlier task, or converted now
    let BASES = block.kept.get(t.id) ?? (block.last === t.id ? heap + block.keptBytes : -1);
    if (BASES < 0) {
      if (t.bases.byteLength !== n * ffjPS) throw new Error(`block ${t.id} was sent without its points and is not held (${held().join(', ')})`);
      const bytes = (n * PS + 7) & ~7;
      if (t.keep) {
        if (block.keptBytes + bytes > KEPT_BYTES) { block.kept.clear(); block.keptBytes = 0; }
        BASES = heap + block.keptBytes;
        block.kept.set(t.id, BASES);
        block.keptBytes += bytes;
        block.last = -1; // overwritten
        block.lastBytes = 0;
      } else {
        BASES = heap + block.keptBytes;
        block.last = t.id;
        block.lastBytes = bytes;
      }
      block.bytes = block.keptBytes + block.lastBytes;
      ensure(heap + block.bytes + 1024 * ffjPS);
      const mem = new Uint8Array(memory.buffer);
      const stage = heap + block.bytes;
      // the points, converted 1024 at a time through a staging area (four at a time in the wasm)
      const fromFfjN = ex[`${g}_fromFfjN`]!;
      for (let i = 0; i < n; i += 1024) {
        const m = Math.min(1024, n - i);
        mem.set(t.bases.subarray(i * ffjPS, (i + m) * ffjPS), stage);
        fromFfjN(stage, BASES + i * PS, m);
      }
    }
    if (t.windows.length === 0) return []; // a conversion ahead of the block's windows (pool.ts whenIdle)
    // this task's scratch, after the blocks held
    let at = heap + block.bytes;
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const LIST = take(BATCH * ENTRY);
    const PREF = take(6 * BATCH * E); // batchAdd's scratch: wasm-batch4.ts batch4ScratchBytes(g, BATCH), six runs of lane form a group of four
    const JAC = take(3 * E);
    const OUT = take(ffjJac);
    const PTRS = take(K * 4);
    const IDX = take(n * 4);
    const SORTED = take(n * PS);
    const S1 = take((Math.ceil(n / 2) + K) * PS);
    const S2 = take((Math.ceil(n / 4) + K) * PS);
    const FIN = take(K * PS);
    const CNT = take(K * 4);
    const OFF = take(K * 4);
    // running sums in lanes (see sumBuckets): lanes × 2 points, and Jacobian accumulators
    const LANES = Math.min(1024, Math.max(1, half >> 5));
    const SEG = half / LANES;
    const SL = take(LANES * PS);
    const TL = take(LANES * PS);
    const LPTRS = take(LANES * 4);
    const JAC2 = take(3 * E);
    ensure(at);
    const mem8 = new Uint8Array(memory.buffer);
    const mem32 = new Uint32Array(memory.buffer);
    const digit = new Int32Array(n);
    const sw = new Uint32Array(t.scalars.buffer, t.scalars.byteOffset, n * 9);
    const idx = new Uint32Array(memory.buffer, IDX, n);
    const gather = ex[`${g}_gather`]!;
    const cnt = new Uint32Array(memory.buffer, CNT, K);
    const off = new Uint32Array(memory.buffer, OFF, K);
    const round = ex[`${g}_round`]! as unknown as (...a: number[]) => number;
    const reduce = ex[`${g}_reduce`]!;
    const toFfj = ex[`${g}_toFfjJac`]!;
    const { emit, flush } = batcher(g, LIST, PREF);
    const results: Uint8Array[] = [];
    const jAddMixed = ex[`${g}_jAddMixed`]!;
    const jAdd = ex[`${g}_jAdd`]!;
    const jDouble = ex[`${g}_jDouble`]!;
    const INF_MARK = 32 / 4; // u32 index of the infinity mark in a point (wasm-curve.ts)

    /**
     * JAC = Σ_k k·B_k over the buckets (PTRS), with batched affine additions: the buckets cut into
     * LANES segments of SEG, k = j·SEG + i. Each lane runs S_j += B_k, T_j += S_j from its top
     * bucket down, all lanes in step (one batch, one inversion, per half step); then
     * Σ k·B_k = Σ_j T_j + SEG·Σ_j j·S_j, the last sum by Jacobian running sums over the lanes.
     * Two affine additions a bucket instead of two Jacobian ones (less than half the multiplications).
     */
    function sumBuckets() {
      for (let j = 0; j < LANES; j++) {
        mem32[(SL >>> 2) + j * (PS >> 2) + INF_MARK] = 0xffffffff;
        mem32[(TL >>> 2) + j * (PS >> 2) + INF_MARK] = 0xffffffff;
      }
      for (let i = SEG; i >= 1; i--) {
        for (let j = 0; j < LANES; j++) {
          const bk = mem32[(PTRS >>> 2) + j * SEG + i]!;
          if (bk) emit(SL + j * PS, bk, SL + j * PS);
        }
        flush();
        for (let j = 0; j < LANES; j++) emit(TL + j * PS, SL + j * PS, TL + j * PS);
        flush();
      }
      // Σ_j j·S_j, times SEG (a power of two), plus Σ_j T_j
      for (let j = 0; j < LANES; j++) mem32[(LPTRS >>> 2) + j] = j ? SL + j * PS : 0;
      reduce(LPTRS, LANES, JAC);
      for (let s = SEG; s > 1; s >>= 1) jDouble(JAC, JAC);
      mem8.fill(0, JAC2, JAC2 + 3 * E);
      for (let j = 0; j < LANES; j++) jAddMixed(JAC2, TL + j * PS, JAC2);
      jAdd(JAC, JAC2, JAC);
    }

    for (const w of t.windows) {
      // this window's signed digits, read off the digit sources (no carries left to propagate)
      const bit = w * c;
      const word = bit >>> 5;
      const sh = bit & 31;
      const mask = (1 << c) - 1;
      const bias = w < W - 1 ? half : 0;
      // branch-free where the data decides (a uniform scalar's digit has a random sign): digits
      // and their counts in one pass, then every point to its bucket's run, the zero digits' to a
      // run after the others (never read)
      const k = K;
      cnt.fill(0, 0, k);
      const neg = t.neg;
      for (let i = 0, o = word; i < n; i++, o += 9) {
        let raw = sw[o]! >>> sh;
        if (sh + c > 32) raw |= sw[o + 1]! << (32 - sh);
        const d = (raw & mask) - bias;
        const s = -neg[i]!;
        const v = (d ^ s) - s;
        digit[i] = v;
        cnt[(v ^ (v >> 31)) - (v >> 31)]!++;
      }
      let pos = 0;
      for (let b = 1; b < k; b++) {
        off[b] = pos;
        pos += cnt[b]!;
      }
      off[0] = pos;
      for (let i = 0; i < n; i++) {
        const d = digit[i]!;
        idx[off[(d ^ (d >> 31)) - (d >> 31)]!++] = (i | (d & 0x80000000)) >>> 0;
      }
      for (let b = 1; b < k; b++) off[b] = off[b]! - cnt[b]!;
      gather(IDX, pos, BASES, SORTED);
      mem32.fill(0, PTRS >>> 2, (PTRS >>> 2) + k);

      // rounds (wasm <g>_round): the first reads the points in bucket order, the next ones the
      // previous round's sums, until every bucket is one point in FIN
      let src = SORTED;
      let dst = S1;
      while (round(CNT, OFF, k, src, dst, LIST, PREF, FIN, PTRS)) {
        src = dst;
        dst = dst === S1 ? S2 : S1;
      }
      if (half >= 4096) sumBuckets();
      else reduce(PTRS, k, JAC);
      toFfj(JAC, OUT);
      results.push(mem8.slice(OUT, OUT + ffjJac));
    }
    return results;
  }

  /** Coset evaluations, 36 bytes an element as the wasm keeps them (for 'join'). */
  function coset(t: CosetTask): Uint8Array[] {
    const n = 1 << t.log;
    const FR = 36;
    let at = heap + block.bytes; // after the cached block: the next window task of it still finds it
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const [W, INC, INVN, TMP] = [take(FR), take(FR), take(FR), take(32)];
    const DATA = take(n * FR);
    const B = Math.min(n, 4096); // wasm-ntt.ts's BLOCK
    const SCRATCH = take((n + (n >> 1) + 2 * B + n / B + 4) * FR); // fr_coset's tables
    ensure(at);
    const mem8 = new Uint8Array(memory.buffer);
    for (const [src, dst] of [[t.w, W], [t.inc, INC], [t.invN, INVN]] as const) {
      mem8.set(src, TMP);
      ex.fr_fromFfj!(TMP, dst);
    }
    // the 32-byte inputs at the end of DATA, unpacked in place to 36 bytes
    mem8.set(t.x, DATA + 4 * n);
    ex.fr_unpackN!(DATA + 4 * n, DATA, n);
    ex.fr_coset!(DATA, n, W, INC, INVN, SCRATCH);
    if (!t.out) return [mem8.slice(DATA, DATA + n * FR)];
    t.out.set(mem8.subarray(DATA, DATA + n * FR));
    return [t.out];
  }

  function join(t: JoinTask): Uint8Array[] {
    const n = t.a.byteLength / 36;
    const base = heap + block.bytes;
    const [A, B, C] = [base, base + n * 36, base + 2 * n * 36];
    const OUT = base + 3 * n * 36;
    ensure(OUT + n * 32);
    const mem8 = new Uint8Array(memory.buffer);
    mem8.set(t.a, A);
    mem8.set(t.b, B);
    mem8.set(t.c, C);
    ex.fr_join!(A, B, C, OUT, n);
    if (!t.out) return [mem8.slice(OUT, OUT + n * 32)];
    t.out.set(mem8.subarray(OUT, OUT + n * 32));
    return [];
  }

  function abc(t: AbcTask): Uint8Array[] {
    const REC = 44;
    const CHUNK = 1 << 15; // records copied into wasm memory at a time
    const nVars = t.witness.byteLength / 32;
    const n = t.to - t.from;
    let at = heap + block.bytes; // after the cached block, as in coset
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const [WIT, A, B, OUT] = [take(nVars * 32), take(n * 36), take(n * 36), take(n * 96)];
    const STAGE = take(CHUNK * REC);
    ensure(at);
    const mem8 = new Uint8Array(memory.buffer);
    mem8.set(t.witness, WIT);
    mem8.fill(0, A, B + n * 36);
    const acc = ex.fr_abcAcc as unknown as (...a: number[]) => number;
    let pos = 0; // record index in t.coefs when packed
    for (let k = 0; k < t.spans.length; k += 2) {
      const hi = t.spans[k + 1]!;
      for (let i = t.spans[k]!; i < hi; i += CHUNK) {
        const m = Math.min(CHUNK, hi - i);
        const src = t.packed ? pos : i;
        pos += m;
        mem8.set(t.coefs.subarray(src * REC, (src + m) * REC), STAGE);
        const bad = acc(STAGE, m, WIT, A, B, t.from, t.to, nVars);
        if (bad) return [new Uint8Array(new Uint32Array([i + bad]).buffer)];
      }
    }
    ex.fr_abcOut!(A, B, n, OUT, OUT + n * 32, OUT + n * 64);
    if (!t.out) return [new Uint8Array(4), mem8.slice(OUT, OUT + n * 96)];
    t.out.forEach((o, k) => o.set(mem8.subarray(OUT + k * n * 32, OUT + (k + 1) * n * 32), t.from * 32));
    return [new Uint8Array(4)];
  }

  /** The tasks of the setup (setup-tasks.ts) on this thread's module and memory. */
  const setup = setupTasks({
    ex: () => ex,
    memory: () => memory,
    ensure,
    batcher,
    scratch: () => heap + block.bytes,
    kept(id: number, bytes: number, make: (at: number) => void): number {
      const have = block.kept.get(id);
      if (have !== undefined) return have;
      const size = (bytes + 7) & ~7;
      if (block.keptBytes + size > KEPT_BYTES) { block.kept.clear(); block.keptBytes = 0; }
      const at = heap + block.keptBytes;
      block.kept.set(id, at);
      block.keptBytes += size;
      block.last = -1; // overwritten
      block.lastBytes = 0;
      block.bytes = block.keptBytes;
      ensure(at + size);
      try {
        make(at);
      } catch (e) {
        // a half-made block is never found again
        block.kept.delete(id);
        block.keptBytes -= size;
        block.bytes = block.keptBytes;
        throw e;
      }
      return at;
    },
  });

  return async (msg) => {
    try {
      if (msg.op === 'init') {
        memory = new WebAssembly.Memory({ initial: Math.ceil(msg.heapStart / 65536) + 1 });
        const inst = await WebAssembly.instantiate(msg.module, { env: { memory } });
        ex = inst.exports as unknown as Ex;
        heap = msg.heapStart;
        post({ ok: true });
      } else {
        const results = msg.op === 'windows' ? windows(msg) : msg.op === 'coset' ? coset(msg) : msg.op === 'abc' ? abc(msg) : msg.op === 'join' ? join(msg) : setup.run(msg);
        // new arrays are moved; a shared buffer (a coset's out) is shared, never in a transfer list
        post({ results, held: held() }, results.map((r) => r.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer));
      }
    } catch (e) {
      post({ error: String((e as Error)?.stack ?? e) });
    }
  };
}
