// What a CPU MSM worker runs. `workerBody` is shipped as source text (Function.prototype.toString)
// and evaluated in a worker_threads Worker (Node) or a Blob Worker (browser), so it must not use
// anything from outside its own body: no imports, no module-level names.
//
// A task: one block of points (ffjavascript affine bytes, canonical scalars, negation flags) and
// the windows of c bits this worker computes for it. Digits are signed (−2^(c−1) ≤ d < 2^(c−1),
// the top window up to 2^(c−1)): half the buckets, a negative digit adding −P to bucket |d|.
// Per window: counting sort of the points by |digit|, the points gathered in that order (negated
// where the digit is), then every bucket summed as a tree of affine additions (round 1 adds pairs
// of points, round 2 pairs of those sums, …), each round's additions batched so that one field
// inversion serves thousands of them (wasm <g>_batchAdd); buckets then reduced by running sums
// (wasm <g>_reduce). Memory: the block's converted points, the gathered copy, two half-size
// buffers for the rounds, one point per bucket.

export interface WindowTask {
  op: 'windows';
  /** the block's id: a thread keeps the last block it converted (points and digits) for the next task */
  id: number;
  /** points in the block (bases, scalars and neg are empty when the thread has the block already) */
  n: number;
  group: 'g1' | 'g2';
  /** n points, ffjavascript affine (64 or 128 bytes each) */
  bases: Uint8Array;
  /** n canonical 32-byte scalars (already negated where neg[i] = 1) */
  scalars: Uint8Array;
  neg: Uint8Array;
  /** window width in bits, the block's number of windows, and the windows of this task */
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
}

/** A·B − C over a range of coset evaluations (as 'coset' returns them): H's scalars, canonical bytes. */
export interface JoinTask {
  op: 'join';
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
}

export type Task = WindowTask | CosetTask | JoinTask;

export interface InitTask {
  op: 'init';
  module: WebAssembly.Module;
  heapStart: number;
}

/** Returns the message handler; `post` sends a reply (transferring `transfer`). Replies: {ok} to init, {results} to a task, {error}. */
export function workerBody(post: (msg: unknown, transfer?: ArrayBuffer[]) => void): (msg: InitTask | Task) => Promise<void> {
  type Ex = Record<string, (...a: number[]) => void>;
  let ex: Ex;
  let memory: WebAssembly.Memory;
  let heap = 0;
  const FQ = 36;
  const BATCH = 1024; // wasm-curve.ts's BATCH: <g>_round fills LIST and PREF up to it too
  const ENTRY = 16;

  function ensure(bytes: number) {
    const have = memory.buffer.byteLength;
    if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
  }

  /** The cached block: its id, every window's digits, and the bytes its points take at `heap`. */
  const block: { id: number; digits: Int32Array[]; bytes: number } = { id: -1, digits: [], bytes: 0 };

  function windows(t: WindowTask): Uint8Array[] {
    const g = t.group;
    const E = g === 'g1' ? FQ : 2 * FQ;
    const PS = 2 * E;
    const ffjPS = g === 'g1' ? 64 : 128;
    const ffjJac = g === 'g1' ? 96 : 192;
    const { n, c, W } = t;
    const half = 1 << (c - 1);
    const K = half + 1;
    // The block (converted points, every window's signed digits) stays from one task to the next:
    // a block's windows come as tasks of their own, mostly to the same thread.
    if (block.id !== t.id) {
      if (t.bases.byteLength !== n * ffjPS) throw new Error(`block ${t.id} was sent without its points and is not the one kept (${block.id})`);
      block.id = -1;
      block.bytes = 0;
      ensure(heap + n * PS + 1024 * ffjPS);
      const mem = new Uint8Array(memory.buffer);
      const stage = heap + n * PS;
      // the points, converted 1024 at a time through a staging area
      const fromFfj = ex[`${g}_fromFfj`]!;
      for (let i = 0; i < n; i += 1024) {
        const m = Math.min(1024, n - i);
        mem.set(t.bases.subarray(i * ffjPS, (i + m) * ffjPS), stage);
        for (let j = 0; j < m; j++) fromFfj(stage + j * ffjPS, heap + (i + j) * PS, t.neg[i + j]!);
      }
      // signed digits, a carry chain from the lowest window up
      const sw = new Uint32Array(t.scalars.buffer, t.scalars.byteOffset, n * 8);
      block.digits = Array.from({ length: W }, () => new Int32Array(n));
      const mask = (1 << c) - 1;
      for (let i = 0; i < n; i++) {
        let carry = 0;
        for (let w = 0; w < W; w++) {
          const bit = w * c;
          const word = bit >>> 5;
          const sh = bit & 31;
          let raw = word < 8 ? sw[i * 8 + word]! >>> sh : 0;
          if (sh + c > 32 && word < 7) raw |= sw[i * 8 + word + 1]! << (32 - sh);
          raw = (raw & mask) + carry;
          carry = 0;
          if (raw >= half && w < W - 1) {
            raw -= 1 << c;
            carry = 1;
          }
          block.digits[w]![i] = raw;
        }
      }
      block.id = t.id;
      block.bytes = n * PS;
    }
    const BASES = heap;
    // this task's scratch, after the block
    let at = heap + n * PS;
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const LIST = take(BATCH * ENTRY);
    const PREF = take(2 * BATCH * E);
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
    const digits = t.windows.map((w) => block.digits[w]!);
    const idx = new Uint32Array(memory.buffer, IDX, n);
    const gather = ex[`${g}_gather`]!;
    const cnt = new Uint32Array(memory.buffer, CNT, K);
    const off = new Uint32Array(memory.buffer, OFF, K);
    const round = ex[`${g}_round`]! as unknown as (...a: number[]) => number;
    const batchAdd = ex[`${g}_batchAdd`]!;
    const reduce = ex[`${g}_reduce`]!;
    const toFfj = ex[`${g}_toFfjJac`]!;
    let pending = 0;
    const flush = () => {
      if (pending) batchAdd(LIST, pending, PREF);
      pending = 0;
    };
    const emit = (pa: number, pb: number, pr: number) => {
      const e = (LIST >> 2) + pending * 4;
      mem32[e] = pa;
      mem32[e + 1] = pb;
      mem32[e + 2] = pr;
      if (++pending === BATCH) flush();
    };
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
        mem32[(SL >> 2) + j * (PS >> 2) + INF_MARK] = 0xffffffff;
        mem32[(TL >> 2) + j * (PS >> 2) + INF_MARK] = 0xffffffff;
      }
      for (let i = SEG; i >= 1; i--) {
        for (let j = 0; j < LANES; j++) {
          const bk = mem32[(PTRS >> 2) + j * SEG + i]!;
          if (bk) emit(SL + j * PS, bk, SL + j * PS);
        }
        flush();
        for (let j = 0; j < LANES; j++) emit(TL + j * PS, SL + j * PS, TL + j * PS);
        flush();
      }
      // Σ_j j·S_j, times SEG (a power of two), plus Σ_j T_j
      for (let j = 0; j < LANES; j++) mem32[(LPTRS >> 2) + j] = j ? SL + j * PS : 0;
      reduce(LPTRS, LANES, JAC);
      for (let s = SEG; s > 1; s >>= 1) jDouble(JAC, JAC);
      mem8.fill(0, JAC2, JAC2 + 3 * E);
      for (let j = 0; j < LANES; j++) jAddMixed(JAC2, TL + j * PS, JAC2);
      jAdd(JAC, JAC2, JAC);
    }

    for (const digit of digits) {
      const k = K;
      cnt.fill(0, 0, k);
      for (let i = 0; i < n; i++) cnt[Math.abs(digit[i]!)]!++;
      let pos = 0;
      for (let b = 1; b < k; b++) {
        off[b] = pos;
        pos += cnt[b]!;
      }
      for (let i = 0; i < n; i++) {
        const d = digit[i]!;
        if (d > 0) idx[off[d]!++] = i;
        else if (d < 0) idx[off[-d]!++] = (i | 0x80000000) >>> 0;
      }
      for (let b = 1; b < k; b++) off[b] = off[b]! - cnt[b]!;
      gather(IDX, pos, BASES, SORTED);
      mem32.fill(0, PTRS >> 2, (PTRS >> 2) + k);

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
    const STAGE = take(n * 32);
    const DATA = take(n * FR);
    const TAB = take(Math.max(1, n >> 1) * FR);
    ensure(at);
    const mem8 = new Uint8Array(memory.buffer);
    for (const [src, dst] of [[t.w, W], [t.inc, INC], [t.invN, INVN]] as const) {
      mem8.set(src, TMP);
      ex.fr_fromFfj!(TMP, dst);
    }
    mem8.set(t.x, STAGE);
    ex.fr_fromFfjN!(STAGE, DATA, n);
    ex.fr_roots!(TAB, W, Math.max(1, n >> 1));
    ex.fr_fft!(DATA, n, t.log, TAB);
    ex.fr_revTail!(DATA, n);
    ex.fr_scale!(DATA, n, INVN, INC);
    ex.fr_fft!(DATA, n, t.log, TAB);
    return [mem8.slice(DATA, DATA + n * FR)];
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
    return [mem8.slice(OUT, OUT + n * 32)];
  }

  return async (msg) => {
    try {
      if (msg.op === 'init') {
        memory = new WebAssembly.Memory({ initial: Math.ceil(msg.heapStart / 65536) + 1 });
        const inst = await WebAssembly.instantiate(msg.module, { env: { memory } });
        ex = inst.exports as unknown as Ex;
        heap = msg.heapStart;
        post({ ok: true });
      } else {
        const results = msg.op === 'windows' ? windows(msg) : msg.op === 'coset' ? coset(msg) : join(msg);
        post({ results }, results.map((r) => r.buffer as ArrayBuffer));
      }
    } catch (e) {
      post({ error: String((e as Error)?.stack ?? e) });
    }
  };
}
