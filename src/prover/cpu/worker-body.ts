// What a CPU MSM worker runs. `workerBody` is shipped as source text (Function.prototype.toString)
// and evaluated in a worker_threads Worker (Node) or a Blob Worker (browser), so it must not use
// anything from outside its own body: no imports, no module-level names.
//
// A task: one block of points (ffjavascript affine bytes, canonical scalars, negation flags) and
// the windows of c bits this worker computes for it. Per window: counting sort of the points by
// digit, then every bucket summed as a tree of affine additions (round 1 adds pairs of points,
// round 2 pairs of those sums, …), each round's additions batched so that one field inversion
// serves thousands of them (wasm <g>_batchAdd); buckets then reduced by running sums (wasm
// <g>_reduce). Memory: the block's converted points, two half-size buffers for the rounds, one
// point per bucket.

export interface WindowTask {
  op: 'windows';
  group: 'g1' | 'g2';
  /** n points, ffjavascript affine (64 or 128 bytes each) */
  bases: Uint8Array;
  /** n canonical 32-byte scalars (already negated where neg[i] = 1) */
  scalars: Uint8Array;
  neg: Uint8Array;
  /** [first bit, width] per window */
  windows: Array<[number, number]>;
}

export interface InitTask {
  op: 'init';
  module: WebAssembly.Module;
  heapStart: number;
}

/** Returns the message handler; `post` sends a reply. Replies: {ok} to init, {results} to windows, {error}. */
export function workerBody(post: (msg: unknown) => void): (msg: InitTask | WindowTask) => Promise<void> {
  type Ex = Record<string, (...a: number[]) => void>;
  let ex: Ex;
  let memory: WebAssembly.Memory;
  let heap = 0;
  const FQ = 36;
  const BATCH = 1024;
  const ENTRY = 16;

  function ensure(bytes: number) {
    const have = memory.buffer.byteLength;
    if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
  }

  function windows(t: WindowTask): Uint8Array[] {
    const g = t.group;
    const E = g === 'g1' ? FQ : 2 * FQ;
    const PS = 2 * E;
    const ffjPS = g === 'g1' ? 64 : 128;
    const ffjJac = g === 'g1' ? 96 : 192;
    const n = t.neg.length;
    const maxC = t.windows.reduce((a, w) => Math.max(a, w[1]), 1);
    const K = 1 << maxC;
    // layout
    let at = heap;
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const LIST = take(BATCH * ENTRY);
    const PREF = take(BATCH * E);
    const JAC = take(3 * E);
    const OUT = take(ffjJac);
    const PTRS = take(K * 4);
    const STAGE = take(1024 * ffjPS);
    const BASES = take(n * PS);
    const IDX = take(n * 4);
    const SORTED = take(n * PS);
    const S1 = take((Math.ceil(n / 2) + K) * PS);
    const S2 = take((Math.ceil(n / 4) + K) * PS);
    const FIN = take(K * PS);
    ensure(at);
    const mem8 = new Uint8Array(memory.buffer);
    const mem32 = new Uint32Array(memory.buffer);

    // the block's points, converted 1024 at a time through a staging area
    const fromFfj = ex[`${g}_fromFfj`]!;
    for (let i = 0; i < n; i += 1024) {
      const m = Math.min(1024, n - i);
      mem8.set(t.bases.subarray(i * ffjPS, (i + m) * ffjPS), STAGE);
      for (let j = 0; j < m; j++) fromFfj(STAGE + j * ffjPS, BASES + (i + j) * PS, t.neg[i + j]!);
    }

    const sw = new Uint32Array(t.scalars.buffer, t.scalars.byteOffset, n * 8);
    const digit = new Uint32Array(n);
    const idx = new Uint32Array(memory.buffer, IDX, n);
    const gather = ex.gather!;
    const cnt = new Uint32Array(K);
    const off = new Uint32Array(K);
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

    for (const [start, c] of t.windows) {
      const k = 1 << c;
      const mask = k - 1;
      const word = start >>> 5;
      const sh = start & 31;
      cnt.fill(0, 0, k);
      for (let i = 0; i < n; i++) {
        let d = sw[i * 8 + word]! >>> sh;
        if (sh + c > 32 && word < 7) d |= sw[i * 8 + word + 1]! << (32 - sh);
        d &= mask;
        digit[i] = d;
        cnt[d]!++;
      }
      let pos = 0;
      for (let b = 1; b < k; b++) {
        off[b] = pos;
        pos += cnt[b]!;
      }
      for (let i = 0; i < n; i++) {
        const d = digit[i]!;
        if (d) idx[off[d]!++] = i;
      }
      for (let b = 1; b < k; b++) off[b] = off[b]! - cnt[b]!;
      gather(IDX, pos, BASES, SORTED, PS);
      mem32.fill(0, PTRS >> 2, (PTRS >> 2) + k);

      // rounds: round 1 reads the points in bucket order, later rounds the previous output
      let src = SORTED;
      let dst = S1;
      for (;;) {
        const addr = (j: number) => src + j * PS;
        let o = 0;
        let more = false;
        for (let b = 1; b < k; b++) {
          const m = cnt[b]!;
          if (m === 0) continue;
          const s = off[b]!;
          if (m === 1) {
            // a bucket of one point is final: to its slot in FIN
            mem8.copyWithin(FIN + b * PS, addr(s), addr(s) + PS);
            mem32[(PTRS >> 2) + b] = FIN + b * PS;
            cnt[b] = 0;
            continue;
          }
          const pairs = m >> 1;
          for (let j = 0; j < pairs; j++) emit(addr(s + 2 * j), addr(s + 2 * j + 1), dst + (o + j) * PS);
          if (m & 1) mem8.copyWithin(dst + (o + pairs) * PS, addr(s + m - 1), addr(s + m - 1) + PS);
          const nm = pairs + (m & 1);
          off[b] = o;
          cnt[b] = nm;
          o += nm;
          if (nm > 1) more = true;
        }
        flush();
        if (!more) {
          // every bucket is now one point in dst (or already final)
          for (let b = 1; b < k; b++) {
            if (cnt[b] === 1) {
              mem8.copyWithin(FIN + b * PS, dst + off[b]! * PS, dst + off[b]! * PS + PS);
              mem32[(PTRS >> 2) + b] = FIN + b * PS;
              cnt[b] = 0;
            }
          }
          break;
        }
        src = dst;
        dst = dst === S1 ? S2 : S1;
      }
      reduce(PTRS, k, JAC);
      toFfj(JAC, OUT);
      results.push(mem8.slice(OUT, OUT + ffjJac));
    }
    return results;
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
        post({ results: windows(msg) });
      }
    } catch (e) {
      post({ error: String((e as Error)?.stack ?? e) });
    }
  };
}
