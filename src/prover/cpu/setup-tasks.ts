// What a CPU prover thread runs for the Groth16 setup (src/setup/fast/kernels.ts, sparse-msm.ts):
// shipped as source text with worker-body.ts (Function.prototype.toString), so, like it, it uses
// nothing from outside its own body. All three do their point additions through the module's
// <g>_batchAdd (affine, one inversion for a batch, four at a time in SIMD lanes) and their sums
// of many points through <g>_gather and <g>_round, as an MSM's windows do.

/**
 * k·P_i for one scalar k and many G1 points P_i (a proving key's 1/δ), by GLV: k = k1 + k2·λ,
 * φ(P) = (β·x, y) = λ·P, and the width-5 NAF digits of k1 and k2 (signed, the signs of k1 and k2
 * in them; least significant first) walked from the top for every point in step: one batch of
 * affine doublings a digit position, one batch of affine additions a nonzero digit. Replies the
 * points, ffjavascript affine bytes (all zero: infinity). The digits are secret (1/δ's): zeroed.
 */
export interface ScaleTask {
  op: 'scale';
  /** n points, ffjavascript affine (64 bytes each, all zero: infinity) */
  points: Uint8Array;
  naf1: Int8Array;
  naf2: Int8Array;
  /** β, ffjavascript Fq (32 bytes, Montgomery) */
  beta: Uint8Array;
}

/**
 * s_i·G for many scalars s_i and a fixed generator G (every point of a powers-of-tau file), by a
 * comb: a table T[j][d] = d·2^(w·j)·G, d < 2^w, kept in the thread (a kept block of its own), and
 * for every point one affine addition a nonzero w-bit window, all points' additions of a window
 * in batches. With s < r no addition is a doubling or P + (−P): after windows 0..j−1 the sum is
 * (s mod 2^(wj))·G, and the table point d·2^(wj)·G, with 0 ≤ s mod 2^(wj) < 2^(wj) ≤ d·2^(wj) ≤
 * s < r (batchAdd would do them right anyway). Replies the points, ffjavascript affine bytes (all
 * zero: infinity, s = 0). The scalars are secret (τ^i, α·τ^i, …): their copies are zeroed.
 */
export interface CombTask {
  op: 'comb';
  group: 'g1' | 'g2';
  w: number;
  /** G, ffjavascript affine (64 or 128 bytes) */
  gen: Uint8Array;
  /** n scalars, ffjavascript Fr (32 bytes, Montgomery) */
  scalars: Uint8Array;
}

/**
 * Many small multi-scalar multiplications: out_j = Σ_t c_t·P_t over the terms t of column j (a
 * proving key's A, B1, B2, C and IC sections: a circuit variable's r1cs coefficients times the
 * ptau's Lagrange points). Each |c_t| as width-w NAF digits (odd, |d| < 2^(w−1), at least w bits
 * apart): the term's point's multiple |d|·P, negated where the digit's sign and the term's own
 * say, goes to bucket (j, b) for each nonzero digit at bit b; every bucket is summed as a tree of
 * batched additions (<g>_round); then each column by Horner's rule from its top bit, all columns
 * in step (a batch of doublings, a batch of additions a bit). w = 2 is the plain NAF (the points
 * themselves: a −1, a power of two or a layer's weight is one to four additions); full-width
 * coefficients (a Poseidon's MDS products) take a wider w, whose odd multiples 3P, 5P, … are
 * made once per distinct point of the task and shared by every term on it: about 254/(w + 1)
 * additions a term instead of 254/3.
 */
export interface SparseTask {
  op: 'sparse';
  group: 'g1' | 'g2';
  /** the task's U distinct points, ffjavascript affine */
  bases: Uint8Array;
  /**
   * each term's point (the terms column after column): u < U is bases' u, U + u is φ of it,
   * φ(x, y) = (ω·x, y), the endomorphism that acts as λ (a coefficient split as k1 + k2·λ)
   */
  point: Uint32Array;
  /** ω, ffjavascript Fq (32 bytes, Montgomery), where a term is on a φ point */
  omega?: Uint8Array;
  /** each term's |c|, little-endian, in its column's width of bytes */
  scalars: Uint8Array;
  /** 1: the term's coefficient is −|c| */
  neg: Uint8Array;
  /** column j's terms are [ptr[j], ptr[j + 1]) */
  ptr: Uint32Array;
  /** bytes of each column's |c| (0: the column sums to infinity) */
  width: Uint8Array;
  /** the widest NAF the task may take (7; 2, the plain NAF, for bench:setup-keys's baseline) */
  maxWindow: number;
}

export type SetupTask = ScaleTask | CombTask | SparseTask;

/** What a task needs of its thread (worker-body.ts). */
export interface SetupEnv {
  ex(): Record<string, (...a: number[]) => number | void>;
  memory(): WebAssembly.Memory;
  /** grows the memory to `bytes` */
  ensure(bytes: number): void;
  /** batched additions at `list` with scratch at `pref` (worker-body.ts) */
  batcher(g: 'g1' | 'g2', list: number, pref: number): { emit(pa: number, pb: number, pr: number): void; flush(): void };
  /** the first byte a task may use (after the blocks the thread keeps) */
  scratch(): number;
  /** the address of kept block `id`, made by `make` at it the first time */
  kept(id: number, bytes: number, make: (at: number) => void): number;
}

export function setupTasks(env: SetupEnv): { run(t: SetupTask): Uint8Array[] } {
  const FQ = 36;
  const BATCH = 2048;
  const ENTRY = 16;
  const INF = 32 / 4; // u32 index of the infinity mark in a point (wasm-curve.ts)

  /** Scratch from env.scratch() up, a batch of additions (list, pending entries) on it. */
  function arena(g: 'g1' | 'g2', sizes: number[]) {
    const E = g === 'g1' ? FQ : 2 * FQ;
    let at = env.scratch();
    const take = (bytes: number) => { const a = at; at += (bytes + 7) & ~7; return a; };
    const LIST = take(BATCH * ENTRY);
    const PREF = take(6 * BATCH * E); // batchAdd's scratch (wasm-batch4.ts batch4ScratchBytes)
    const blocks = sizes.map(take);
    env.ensure(at);
    const mem8 = new Uint8Array(env.memory().buffer);
    const mem32 = new Uint32Array(env.memory().buffer);
    return { E, PS: 2 * E, blocks, ex: env.ex(), mem8, mem32, ...env.batcher(g, LIST, PREF), LIST, PREF };
  }

  /** ffjavascript affine bytes of our affine point at p (zeros for infinity) into out at o. */
  function toFfj(a: ReturnType<typeof arena>, p: number, out: Uint8Array, o: number, stage: number) {
    const ffjPS = a.E === FQ ? 64 : 128;
    if (a.mem32[(p >>> 2) + INF] === 0xffffffff) { out.fill(0, o, o + ffjPS); return; }
    for (let k = 0; k < ffjPS / 32; k++) a.ex.fq_toFfj!(p + k * FQ, stage + k * 32);
    out.set(a.mem8.subarray(stage, stage + ffjPS), o);
  }

  function scale(t: ScaleTask): Uint8Array[] {
    const ODD = 8; // P, 3P, …, 15P: width-5 NAF digits are odd, |d| ≤ 15
    const n = t.points.byteLength / 64;
    // a point's 32 table entries: ±(2j+1)·P then ±(2j+1)·φ(P)
    const a = arena('g1', [n * 72, n * 4 * ODD * 72, n * 72, FQ, n * 64]);
    const { E, PS, ex, mem8, mem32, emit, flush } = a;
    const [BASES, TABLE, R, BETA, STAGE] = a.blocks as [number, number, number, number, number];
    mem8.set(t.points, STAGE);
    ex.g1_fromFfjN!(STAGE, BASES, n);
    mem8.set(t.beta, STAGE);
    ex.fq_fromFfj!(STAGE, BETA);
    const slot = (i: number, phi: number, d: number) => TABLE + (i * 4 * ODD + phi * 2 * ODD + (d < 0 ? ODD : 0) + ((Math.abs(d) - 1) >> 1)) * PS;
    const copy = (from: number, to: number) => mem8.copyWithin(to, from, from + PS);
    const all = (f: (i: number) => void) => {
      for (let i = 0; i < n; i++) f(i);
      flush();
    };
    // odd multiples: 2P (in R for now), then (2j+1)·P = (2j−1)·P + 2P; φ and the negations
    // coordinate by coordinate (infinity's mark is in x, which φ's product would overwrite)
    all((i) => copy(BASES + i * PS, slot(i, 0, 1)));
    all((i) => emit(BASES + i * PS, BASES + i * PS, R + i * PS));
    for (let j = 3; j < 2 * ODD; j += 2) all((i) => emit(slot(i, 0, j - 2), R + i * PS, slot(i, 0, j)));
    for (let i = 0; i < n; i++) {
      for (let j = 1; j < 2 * ODD; j += 2) {
        const p = slot(i, 0, j);
        const f = slot(i, 1, j);
        copy(p, f);
        if (mem32[(p >>> 2) + INF] !== 0xffffffff) ex.fq_mul!(p, BETA, f);
        for (const [src, dst] of [[p, slot(i, 0, -j)], [f, slot(i, 1, -j)]] as const) {
          copy(src, dst);
          if (mem32[(src >>> 2) + INF] !== 0xffffffff) ex.fq_neg!(src + E, dst + E);
        }
      }
    }
    // the walk: R starts at the first nonzero digit's multiple
    const naf = [t.naf1, t.naf2];
    let started = false;
    for (let b = Math.max(t.naf1.length, t.naf2.length) - 1; b >= 0; b--) {
      if (started) all((i) => emit(R + i * PS, R + i * PS, R + i * PS));
      for (let phi = 0; phi < 2; phi++) {
        const d = naf[phi]![b] ?? 0;
        if (d === 0) continue;
        if (started) all((i) => emit(R + i * PS, slot(i, phi, d), R + i * PS));
        else for (let i = 0; i < n; i++) copy(slot(i, phi, d), R + i * PS);
        started = true;
      }
    }
    t.naf1.fill(0);
    t.naf2.fill(0);
    const out = new Uint8Array(n * 64);
    if (started) for (let i = 0; i < n; i++) toFfj(a, R + i * PS, out, i * 64, STAGE);
    return [out];
  }

  /** The comb table of (group, w), a kept block (id −1 − w, −33 − w for G2): built once a thread. */
  function combTable(g: 'g1' | 'g2', w: number, gen: Uint8Array): number {
    const PS = g === 'g1' ? 2 * FQ : 4 * FQ;
    const W = Math.ceil(254 / w);
    const D = (1 << w) - 1; // T[j][d] for 1 ≤ d ≤ D at row j
    return env.kept(-1 - w - (g === 'g2' ? 32 : 0), W * D * PS, (T) => {
      const a = arena(g, [2 * PS]);
      const { mem8, emit, flush, ex } = a;
      const [STAGE] = a.blocks as [number];
      const cell = (j: number, d: number) => T + (j * D + d - 1) * PS;
      // row bases 2^(w·j)·G by doublings (w a row, one at a time), then every row's multiples:
      // T[2^l] = 2·T[2^(l−1)], and T[2^l + e] = T[e] + T[2^l] for 0 < e < 2^l, all rows in a batch
      mem8.set(gen, STAGE);
      ex[`${g}_fromFfj`]!(STAGE, cell(0, 1), 0);
      for (let j = 1; j < W; j++) {
        mem8.copyWithin(STAGE, cell(j - 1, 1), cell(j - 1, 1) + PS);
        for (let b = 0; b < w; b++) { emit(STAGE, STAGE, STAGE); flush(); }
        mem8.copyWithin(cell(j, 1), STAGE, STAGE + PS);
      }
      for (let h = 2; h <= D; h *= 2) {
        for (let j = 0; j < W; j++) emit(cell(j, h / 2), cell(j, h / 2), cell(j, h));
        flush();
        for (let j = 0; j < W; j++) for (let e = 1; e < h && h + e <= D; e++) emit(cell(j, e), cell(j, h), cell(j, h + e));
        flush();
      }
    });
  }

  function comb(t: CombTask): Uint8Array[] {
    const { group: g, w } = t;
    const W = Math.ceil(254 / w);
    const D = (1 << w) - 1;
    const n = t.scalars.byteLength / 32;
    const T = combTable(g, w, t.gen);
    const a = arena(g, [n * (g === 'g1' ? 72 : 144), 64 + 36, 128]);
    const { PS, ex, mem8, emit, flush } = a;
    const [R, S, STAGE] = a.blocks as [number, number, number];
    // the scalars' w-bit windows, through their canonical bytes (then zeroed, as the copies)
    const digits = new Uint16Array(n * W);
    for (let i = 0; i < n; i++) {
      mem8.set(t.scalars.subarray(i * 32, i * 32 + 32), S);
      ex.fr_fromFfj!(S, S + 64);
      ex.fr_toCanon!(S + 64, S);
      for (let j = 0; j < W; j++) {
        const bit = j * w;
        const byte = bit >> 3;
        let v = 0;
        for (let b = 0; b < 4 && byte + b < 32; b++) v |= mem8[S + byte + b]! << (8 * b);
        digits[i * W + j] = (v >>> (bit & 7)) & D;
      }
    }
    mem8.fill(0, S, S + 64 + 36);
    t.scalars.fill(0);
    const started = new Uint8Array(n);
    for (let j = 0; j < W; j++) {
      for (let i = 0; i < n; i++) {
        const d = digits[i * W + j]!;
        if (d === 0) continue;
        const cell = T + (j * D + d - 1) * PS;
        const r = R + i * PS;
        if (!started[i]) {
          mem8.copyWithin(r, cell, cell + PS);
          started[i] = 1;
          continue;
        }
        emit(r, cell, r);
      }
      flush();
    }
    digits.fill(0);
    const ffjPS = g === 'g1' ? 64 : 128;
    const out = new Uint8Array(n * ffjPS);
    for (let i = 0; i < n; i++) if (started[i]) toFfj(a, R + i * PS, out, i * ffjPS, STAGE);
    return [out];
  }

  /**
   * The NAF width for a sparse task: the one with the fewest additions, its table's (2^(w−2) a
   * distinct point: 2P, then 3P … (2^(w−1) − 1)·P; φ's are products, not additions) and its
   * digits' (about one a w + 1 bits), among those whose table (of `tablePoints`, φ's included)
   * has no more entries than the plain NAF has digits (about one a 3 bits), so that the task's
   * arena stays within what sparse-msm.ts plans for it.
   */
  function sparseWindow(points: number, tablePoints: number, termBits: number, maxWindow: number): number {
    let best = 2;
    let bestCost = termBits / 3;
    for (let w = 3; w <= maxWindow; w++) {
      const cost = points * 2 ** (w - 2) + termBits / (w + 1);
      if (tablePoints * 2 ** (w - 2) <= termBits / 3 && cost < bestCost) [best, bestCost] = [w, cost];
    }
    return best;
  }

  function sparse(t: SparseTask): Uint8Array[] {
    const g = t.group;
    const m = t.ptr.length - 1;
    const ffjPS = g === 'g1' ? 64 : 128;
    const U = t.bases.byteLength / ffjPS;
    const PU = t.omega ? 2 * U : U; // the table's points: φ's after the bases'
    // buckets: 1 + off[j] + b for column j's bit b (NAF: up to 8·width + 1 bits); 0 is none
    const bits = new Uint32Array(m);
    const first = new Uint32Array(m + 1);
    let termBits = 0;
    for (let j = 0; j < m; j++) {
      bits[j] = t.width[j] ? 8 * t.width[j]! + 1 : 0;
      first[j + 1] = first[j]! + bits[j]!;
      termBits += (t.ptr[j + 1]! - t.ptr[j]!) * 8 * t.width[j]!;
    }
    const K = 1 + first[m]!;
    const w = sparseWindow(U, PU, termBits, t.maxWindow);
    const ODD = 1 << (w - 2); // table entries a point: P, 3P, …, (2·ODD − 1)·P
    const full = 1 << w;
    const half = full >> 1;
    // width-w NAF digits of each |c| (bit by bit, with the carry): count, then place. At an odd
    // remainder the w bits from i (plus the carry) are the digit, less 2^w past 2^(w−1) (which
    // carries one to bit i + w); either way bits i … i + w − 1 are then zero.
    const cnt32 = new Uint32Array(K);
    let entries = 0;
    const naf = (width: number, at: number, f: (b: number, d: number) => void) => {
      const top = 8 * width;
      const bit = (i: number) => (i < top ? (t.scalars[at + (i >> 3)]! >> (i & 7)) & 1 : 0);
      let carry = 0;
      for (let i = 0; i <= top;) {
        const v = bit(i) + carry;
        if ((v & 1) === 0) {
          carry = v >> 1;
          i++;
          continue;
        }
        let win = carry;
        for (let q = 0; q < w; q++) win += bit(i + q) << q;
        if (win >= half) {
          f(i, win - full);
          carry = 1;
        } else {
          f(i, win);
          carry = 0;
        }
        i += w;
      }
    };
    const scalarAt = new Uint32Array(m);
    for (let j = 0, at = 0; j < m; j++) {
      scalarAt[j] = at;
      at += (t.ptr[j + 1]! - t.ptr[j]!) * t.width[j]!;
    }
    for (let j = 0; j < m; j++) {
      const wd = t.width[j]!;
      if (!wd) continue;
      for (let k = t.ptr[j]!; k < t.ptr[j + 1]!; k++) {
        naf(wd, scalarAt[j]! + (k - t.ptr[j]!) * wd, (b) => { cnt32[1 + first[j]! + b]!++; entries++; });
      }
    }
    const E = g === 'g1' ? FQ : 2 * FQ;
    const PS = 2 * E;
    const own = ODD > 1 || PU > U; // the table needs a block of its own
    const a = arena(g, [U * PS, own ? (PU * ODD + (ODD > 1 ? U : 0)) * PS : 0, entries * 4, entries * PS, (Math.ceil(entries / 2) + K) * PS, (Math.ceil(entries / 4) + K) * PS, K * PS, K * 4, K * 4, K * 4, m * PS, FQ, U * ffjPS + 128]);
    const { ex, mem8, mem32, emit, flush, LIST, PREF } = a;
    const [BASES, ODDS, IDX, SORTED, S1, S2, FIN, CNT, OFF, PTRS, ACC, OMEGA, STAGE] = a.blocks as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number];
    mem8.set(t.bases, STAGE);
    ex[`${g}_fromFfjN`]!(STAGE, BASES, U);
    // the table: entry u·ODD + i is (2i + 1)·P_u, made by 2P_u (at the end of the block) and
    // ODD − 1 batches of additions, then entry (U + u)·ODD + i is φ of it, ω times each of x's
    // coordinates (x's first word holds infinity's mark, which the product would overwrite); the
    // plain NAF on bases alone (ODD = 1, no φ) takes the points themselves
    let TABLE = BASES;
    if (own) {
      TABLE = ODDS;
      const DBL = ODDS + PU * ODD * PS;
      for (let u = 0; u < U; u++) mem8.copyWithin(TABLE + u * ODD * PS, BASES + u * PS, BASES + (u + 1) * PS);
      if (ODD > 1) {
        for (let u = 0; u < U; u++) emit(BASES + u * PS, BASES + u * PS, DBL + u * PS);
        flush();
      }
      for (let i = 1; i < ODD; i++) {
        for (let u = 0; u < U; u++) emit(TABLE + (u * ODD + i - 1) * PS, DBL + u * PS, TABLE + (u * ODD + i) * PS);
        flush();
      }
      if (t.omega) {
        mem8.set(t.omega, STAGE);
        ex.fq_fromFfj!(STAGE, OMEGA);
        for (let e = 0; e < U * ODD; e++) {
          const src = TABLE + e * PS;
          const dst = TABLE + (U * ODD + e) * PS;
          mem8.copyWithin(dst, src, src + PS);
          if (mem32[(src >>> 2) + INF] === 0xffffffff) continue;
          for (let c = 0; c < E; c += FQ) ex.fq_mul!(src + c, OMEGA, dst + c);
        }
      }
    }
    // each entry: its table point's index, the top bit set where that point goes in negated
    const cnt = new Uint32Array(env.memory().buffer, CNT, K);
    const off = new Uint32Array(env.memory().buffer, OFF, K);
    const idx = new Uint32Array(env.memory().buffer, IDX, entries);
    let pos = 0;
    for (let b = 1; b < K; b++) {
      cnt[b] = cnt32[b]!;
      off[b] = pos;
      pos += cnt32[b]!;
    }
    for (let j = 0; j < m; j++) {
      const wd = t.width[j]!;
      if (!wd) continue;
      for (let k = t.ptr[j]!; k < t.ptr[j + 1]!; k++) {
        const flip = t.neg[k]!;
        const entry = t.point[k]! * ODD;
        naf(wd, scalarAt[j]! + (k - t.ptr[j]!) * wd, (b, d) => {
          idx[off[1 + first[j]! + b]!++] = ((entry + ((Math.abs(d) - 1) >> 1)) | ((d < 0 ? 1 : 0) ^ flip ? 0x80000000 : 0)) >>> 0;
        });
      }
    }
    for (let b = 1; b < K; b++) off[b] = off[b]! - cnt[b]!;
    ex[`${g}_gather`]!(IDX, entries, TABLE, SORTED);
    mem32.fill(0, PTRS >>> 2, (PTRS >>> 2) + K);
    const round = ex[`${g}_round`]! as (...x: number[]) => number;
    let src = SORTED;
    let dst = S1;
    while (round(CNT, OFF, K, src, dst, LIST, PREF, FIN, PTRS)) {
      src = dst;
      dst = dst === S1 ? S2 : S1;
    }
    // Horner's rule, every column in step from the top bit: acc = 2·acc + bucket(j, b)
    const started = new Uint8Array(m);
    let top = 0;
    for (let j = 0; j < m; j++) top = Math.max(top, bits[j]!);
    for (let b = top - 1; b >= 0; b--) {
      for (let j = 0; j < m; j++) if (started[j] && b < bits[j]!) emit(ACC + j * PS, ACC + j * PS, ACC + j * PS);
      flush();
      for (let j = 0; j < m; j++) {
        if (b >= bits[j]!) continue;
        const p = mem32[(PTRS >>> 2) + 1 + first[j]! + b]!;
        if (!p) continue;
        if (started[j]) emit(ACC + j * PS, p, ACC + j * PS);
        else {
          mem8.copyWithin(ACC + j * PS, p, p + PS);
          started[j] = 1;
        }
      }
      flush();
    }
    const out = new Uint8Array(m * ffjPS);
    for (let j = 0; j < m; j++) if (started[j]) toFfj(a, ACC + j * PS, out, j * ffjPS, STAGE);
    return [out];
  }

  return {
    run(t: SetupTask): Uint8Array[] {
      return t.op === 'scale' ? scale(t) : t.op === 'comb' ? comb(t) : sparse(t);
    },
  };
}
