// The CPU MSM (src/prover/cpu/): its WebAssembly field and curve kernels against bigint and
// ffjavascript arithmetic, and whole MSMs against ffjavascript's multiExpAffine, on the inputs a
// Groth16 witness has (zeros, ones, small negatives) and the ones batch-affine addition must not
// get wrong (equal points, opposite points, points at infinity).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { DIGIT_WORDS, addOffset, cpuMsm, forgetBases, keepBases, layoutEarly, prepare, windowBits, windowCount } from '../src/prover/cpu/msm.js';
import { Q, fromMont, toMont, FQ_BYTES } from '../src/prover/cpu/wasm-field.js';
import { batch4ScratchBytes } from '../src/prover/cpu/wasm-batch4.js';
import { BATCH } from '../src/prover/cpu/wasm-curve.js';
import { workerBody } from '../src/prover/cpu/worker-body.js';
import { releaseCpuPool, releaseShared, sharedBytes } from '../src/prover/cpu/pool.js';
import { fitsBits } from '../src/prover/groth16.js';
import { HEAP_START, buildMsmWasm, instantiate, moduleBytes, msmModule } from '../src/prover/cpu/wasm-module.js';
import { bn128, type ProverCurve } from '../src/prover/curve.js';
import { combTimes } from '../src/setup/fast/kernels.js';
import type { WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves } from '../src/snark.js';

afterAll(() => releaseCurves());

const rand = (m: bigint) => {
  let v = 0n;
  for (const b of randomBytes(48)) v = (v << 8n) | BigInt(b);
  return v % m;
};
const le = (x: bigint, bytes = 32) => {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
};
const scalarBytes = (xs: bigint[]) => {
  const out = new Uint8Array(xs.length * 32);
  xs.forEach((x, i) => out.set(le(((x % BN254_R) + BN254_R) % BN254_R), i * 32));
  return out;
};
type G = ProverCurve['G1'] & { neg(p: Uint8Array): Uint8Array; eq(a: Uint8Array, b: Uint8Array): boolean; double(p: Uint8Array): Uint8Array };

describe('wasm field kernels', () => {
  it('Fq and Fq2 arithmetic equal bigint arithmetic; results stay below 2q and reduce to canonical', async () => {
    const { exports: x, memory } = await instantiate(await msmModule(), 4);
    const mem = () => new Uint8Array(memory.buffer);
    const [A, B, R] = [HEAP_START, HEAP_START + 128, HEAP_START + 256];
    const raw = (at: number) => {
      const v = new DataView(memory.buffer, at, FQ_BYTES);
      let r = 0n;
      for (let j = 8; j >= 0; j--) r = (r << 29n) | BigInt(v.getUint32(j * 4, true));
      return r;
    };
    const edge = [0n, 1n, 2n, Q - 1n, Q - 2n, (Q - 1n) / 2n, 1n << 253n];
    const values = [...edge, ...Array.from({ length: 60 }, () => rand(Q))];
    for (const a of values) {
      for (const b of [...edge.slice(0, 4), rand(Q), rand(Q)]) {
        mem().set(toMont(a), A);
        mem().set(toMont(b), B);
        for (const [op, want] of [['fq_mul', (a * b) % Q], ['fq_add', (a + b) % Q], ['fq_sub', (((a - b) % Q) + Q) % Q]] as const) {
          (x as unknown as Record<string, (a: number, b: number, r: number) => void>)[op]!(A, B, R);
          expect(fromMont(mem(), R), `${op}(${a}, ${b})`).toBe(want);
          expect(raw(R) < 2n * Q).toBe(true);
          x.fq_reduce(R, R);
          expect(raw(R)).toBe((want << 261n) % Q);
        }
      }
      x.fq_sqr(A, R);
      expect(raw(R) < 2n * Q).toBe(true);
      expect(fromMont(mem(), R)).toBe((a * a) % Q);
      if (a !== 0n) {
        x.fq_inv(A, R);
        expect((fromMont(mem(), R) * a) % Q).toBe(1n);
      }
      // ffjavascript's form (x·2^256 mod q, 32 bytes) in and out
      mem().set(le((a << 256n) % Q), R);
      x.fq_fromFfj(R, A);
      expect(fromMont(mem(), A)).toBe(a);
      x.fq_toFfj(A, B);
      expect(Buffer.from(mem().slice(B, B + 32))).toEqual(Buffer.from(le((a << 256n) % Q)));
    }
    // Fq2: (a0 + a1 u)(b0 + b1 u) with u² = −1, and the inverse
    for (let i = 0; i < 40; i++) {
      const [a0, a1, b0, b1] = i === 0 ? [0n, 1n, 0n, 1n] : [rand(Q), rand(Q), rand(Q), rand(Q)];
      mem().set(toMont(a0), A); mem().set(toMont(a1), A + FQ_BYTES);
      mem().set(toMont(b0), B); mem().set(toMont(b1), B + FQ_BYTES);
      x.fq2_mul(A, B, R);
      expect([fromMont(mem(), R), fromMont(mem(), R + FQ_BYTES)]).toEqual([(((a0 * b0 - a1 * b1) % Q) + Q) % Q, (a0 * b1 + a1 * b0) % Q]);
      x.fq2_sqr(A, R);
      expect([fromMont(mem(), R), fromMont(mem(), R + FQ_BYTES)]).toEqual([(((a0 * a0 - a1 * a1) % Q) + Q) % Q, (2n * a0 * a1) % Q]);
      x.fq2_inv(A, R);
      x.fq2_mul(A, R, R);
      expect([fromMont(mem(), R), fromMont(mem(), R + FQ_BYTES)]).toEqual([1n, 0n]);
    }
  });

  it('Fq and Fr products and Fq squares take lazily reduced inputs up to 2p − 1 (Karatsuba edge limbs) and stay below 2p', async () => {
    const { exports: x, memory } = await instantiate(await msmModule(), 4);
    const ops = x as unknown as Record<string, (...a: number[]) => void>;
    const [A, B, R] = [HEAP_START, HEAP_START + 128, HEAP_START + 256];
    const MASK = (1n << 29n) - 1n;
    const setRaw = (at: number, v: bigint) => {
      const d = new DataView(memory.buffer, at, FQ_BYTES);
      for (let j = 0; j < 9; j++) d.setUint32(j * 4, Number((v >> BigInt(29 * j)) & MASK), true);
    };
    const raw = (at: number) => {
      const d = new DataView(memory.buffer, at, FQ_BYTES);
      let r = 0n;
      for (let j = 8; j >= 0; j--) {
        expect(d.getUint32(j * 4, true) <= Number(MASK)).toBe(true);
        r = (r << 29n) | BigInt(d.getUint32(j * 4, true));
      }
      return r;
    };
    const inv261 = (p: bigint) => {
      let r = 1n;
      for (let b = (1n << 261n) % p, e = p - 2n; e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p;
      return r;
    };
    for (const [F, p] of [['fq', Q], ['fr', BN254_R]] as const) {
      const top = (2n * p) >> 232n; // 2p's top limb
      // raw limb values (Montgomery forms) below 2p: around 2p and p, lower limbs all 2^29 − 1 or alternating
      const low8 = (f: (j: number) => bigint) => Array.from({ length: 8 }, (_, j) => f(j) << BigInt(29 * j)).reduce((a, b) => a | b);
      const edge = [
        2n * p - 1n, 2n * p - 2n, p, p - 1n, p + 1n, 0n, 1n,
        ((top - 1n) << 232n) | low8(() => MASK), low8(() => MASK), low8((j) => (j % 2 ? MASK : 0n)) | ((top - 1n) << 232n),
        low8((j) => (j % 2 ? 0n : MASK)), 2n * p - 1n - MASK, (top << 232n) - 1n,
        ...Array.from({ length: 8 }, () => rand(2n * p)),
      ];
      const ri = inv261(p);
      for (const a of edge) {
        expect(a < 2n * p).toBe(true);
        for (const b of edge) {
          setRaw(A, a);
          setRaw(B, b);
          ops[`${F}_mul`]!(A, B, R);
          const r = raw(R);
          expect(r < 2n * p, `${F}_mul(${a}, ${b})`).toBe(true);
          expect(r % p, `${F}_mul(${a}, ${b})`).toBe((a * b * ri) % p);
        }
        if (F === 'fq') {
          x.fq_sqr(A, R);
          const r = raw(R);
          expect(r < 2n * p).toBe(true);
          expect(r % p, `fq_sqr(${a})`).toBe((a * a * ri) % p);
        }
      }
    }
  });
});

describe('shared buffers given back', () => {
  it('serve a later request they fit (zeroed, the size asked for), not one less than half their size', () => {
    const a = sharedBytes(3000).fill(7);
    releaseShared(a);
    const b = sharedBytes(2000); // fits: the same buffer, zeroed
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteLength).toBe(2000);
    expect(b.every((x) => x === 0)).toBe(true);
    expect(sharedBytes(2000).buffer).not.toBe(a.buffer); // taken: a fresh one
    releaseShared(b);
    expect(sharedBytes(1000).buffer).not.toBe(a.buffer); // 3000 is more than twice 1000
    expect(sharedBytes(3001).buffer).not.toBe(a.buffer); // too small
    expect(sharedBytes(1500).buffer).toBe(a.buffer);
    // not zeroed where the caller writes every byte; a buffer sharedBytes did not make is never taken
    const c = sharedBytes(3000).fill(7);
    releaseShared(c);
    expect(sharedBytes(2500, false).buffer).toBe(c.buffer);
    const other = new Uint8Array(new SharedArrayBuffer(4000));
    releaseShared(other);
    expect(sharedBytes(4000).buffer).not.toBe(other.buffer);
  });
});

describe('CPU MSM against ffjavascript', async () => {
  const curve = await bn128();
  const points = (group: 'G1' | 'G2', n: number) => combTimes(curve as unknown as WasmCurve, group, scalarBytes(Array.from({ length: n }, () => rand(BN254_R))));

  it('points converted four at a time (fromFfjN) equal those converted one at a time, infinity and a last part group included', async () => {
    const { exports: x, memory } = await instantiate(await msmModule(), 8);
    const ex = x as never as Record<string, (...a: number[]) => void>;
    for (const group of ['G1', 'G2'] as const) {
      const ffj = group === 'G1' ? 64 : 128;
      const PS = group === 'G1' ? 72 : 144;
      const g = group === 'G1' ? 'g1' : 'g2';
      const n = 11; // two groups of four and three alone
      const src = await points(group, n);
      src.fill(0, 5 * ffj, 6 * ffj); // infinity in a group
      src.fill(0, 9 * ffj, 10 * ffj); // and among the last three
      const IN = HEAP_START;
      const ONE = IN + n * ffj;
      const MANY = ONE + n * PS;
      new Uint8Array(memory.buffer).set(src, IN);
      for (let i = 0; i < n; i++) ex[`${g}_fromFfj`]!(IN + i * ffj, ONE + i * PS, 0);
      ex[`${g}_fromFfjN`]!(IN, MANY, n);
      const m = new Uint8Array(memory.buffer);
      for (let i = 0; i < n; i++) {
        const one = m.slice(ONE + i * PS, ONE + (i + 1) * PS);
        const many = m.slice(MANY + i * PS, MANY + (i + 1) * PS);
        if (i === 5 || i === 9) expect(new Uint32Array(many.buffer)[8], `${group} point ${i} at infinity`).toBe(0xffffffff);
        else expect(Buffer.from(many).toString('hex'), `${group} point ${i}`).toBe(Buffer.from(one).toString('hex'));
      }
    }
  });

  it('batch-affine addition: P + Q, P + P, P + (−P), ∞ + Q and P + ∞, in one batch, among groups of plain sums and of doublings by pointer', async () => {
    const { exports: x, memory } = await instantiate(await msmModule(), 8);
    for (const group of ['G1', 'G2'] as const) {
      const Gr = curve[group] as G;
      const ffj = group === 'G1' ? 64 : 128;
      const PS = group === 'G1' ? 72 : 144;
      const g = group === 'G1' ? 'g1' : 'g2';
      const [p, q] = [0, 1].map((i) => (points(group, 2) as Promise<Uint8Array>).then((b) => b.slice(i * ffj, (i + 1) * ffj)));
      const P = await p;
      const Qp = await q;
      const negP = Gr.toAffine(Gr.neg(P));
      const inf = new Uint8Array(ffj);
      // four at a time (wasm-batch4.ts): the special cases fill the first two groups, plain sums
      // the next two (entries 7–15)
      const more = await points(group, 12);
      const plain = Array.from({ length: 6 }, (_, i) => [more.slice(2 * i * ffj, (2 * i + 1) * ffj), more.slice((2 * i + 1) * ffj, (2 * i + 2) * ffj)] as [Uint8Array, Uint8Array]);
      // then doublings by pointer (pa = pb, as a scalar multiplication's steps: worker-body.ts
      // 'scale'): a whole group of them (entries 16–19, done in lanes), and one of infinity in a
      // last group with lanes past n (entry by entry)
      const cases: Array<[Uint8Array, Uint8Array]> = [[P, Qp], [P, P], [P, negP], [inf, Qp], [P, inf], [Qp, P], [inf, inf], ...plain, [P, Qp], [Qp, P], [negP, Qp], [P, P], [Qp, Qp], [negP, negP], [P, P], [inf, inf]];
      const byPointer = (i: number) => i >= 16;
      const mem = () => new Uint8Array(memory.buffer);
      const IN = HEAP_START;
      const OUT = IN + cases.length * 2 * PS;
      const LIST = OUT + cases.length * PS;
      const PREF = LIST + cases.length * 16;
      const JAC = PREF + batch4ScratchBytes(g, cases.length);
      const FFJ = JAC + 3 * PS;
      const m32 = new Uint32Array(memory.buffer);
      cases.forEach(([a, b], i) => {
        mem().set(a, FFJ); (x as never as Record<string, (...a: number[]) => void>)[`${g}_fromFfj`]!(FFJ, IN + 2 * i * PS, 0);
        mem().set(b, FFJ); (x as never as Record<string, (...a: number[]) => void>)[`${g}_fromFfj`]!(FFJ, IN + (2 * i + 1) * PS, 0);
        m32.set([IN + 2 * i * PS, IN + (byPointer(i) ? 2 * i : 2 * i + 1) * PS, OUT + i * PS, 0], (LIST >> 2) + 4 * i);
      });
      (x as never as Record<string, (...a: number[]) => void>)[`${g}_batchAdd`]!(LIST, cases.length, PREF);
      // read each sum back through reduce over one bucket (ptrs[1] = the sum): 1·B_1
      for (let i = 0; i < cases.length; i++) {
        m32.set([0, OUT + i * PS], JAC >> 2);
        (x as never as Record<string, (...a: number[]) => void>)[`${g}_reduce`]!(JAC, 2, JAC + 16);
        (x as never as Record<string, (...a: number[]) => void>)[`${g}_toFfjJac`]!(JAC + 16, FFJ);
        const got = mem().slice(FFJ, FFJ + (ffj * 3) / 2);
        const [a, b] = cases[i]!;
        // ffjavascript reads affine (0, 0) as a point, not infinity: its sums only for finite inputs
        const want = a === inf ? b : b === inf ? a : Gr.toAffine(Gr.add(a, b));
        expect(Buffer.from(Gr.toAffine(got)).toString('hex'), `${group} case ${i}`).toBe(Buffer.from(want).toString('hex'));
      }
    }
  });

  it('equals multiExpAffine: random, small signed, duplicate and opposite points, zeros, ones, r − 1, infinity', async () => {
    for (const group of ['G1', 'G2'] as const) {
      const Gr = curve[group] as G;
      const ffj = group === 'G1' ? 64 : 128;
      const n = group === 'G1' ? 1500 : 400;
      const bases = await points(group, n);
      // duplicates and opposites: point 3k+1 = point 3k, point 3k+2 = −point 3k
      for (let i = 0; i + 2 < n; i += 3) {
        bases.copyWithin((i + 1) * ffj, i * ffj, (i + 1) * ffj);
        bases.set(Gr.toAffine(Gr.neg(bases.slice(i * ffj, (i + 1) * ffj))), (i + 2) * ffj);
      }
      bases.fill(0, 5 * ffj, 6 * ffj); // a point at infinity
      const sets: Record<string, bigint[]> = {
        random: Array.from({ length: n }, () => rand(BN254_R)),
        'small signed': Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 41) - 20n),
        'equal (cancelling)': Array.from({ length: n }, () => 5n),
        'zeros, ones, r − 1': Array.from({ length: n }, (_, i) => [0n, 1n, BN254_R - 1n, 2n][i % 4]!),
        empty: Array.from({ length: n }, () => 0n),
      };
      for (const [name, xs] of Object.entries(sets)) {
        const sc = scalarBytes(xs);
        const want = await Gr.multiExpAffine(bases, sc);
        // default; blocks of 128 points; 14-bit windows (8192 buckets: summed in lanes of batched
        // affine additions); 5-bit windows (digits straddle u32 words at other offsets)
        for (const opts of [{}, { maxBlock: 128 }, { windowBits: 14 }, { windowBits: 5 }]) {
          const got = await cpuMsm(Gr, group, bases, sc, opts);
          expect(Buffer.from(Gr.toAffine(got)).toString('hex'), `${group} ${name} ${JSON.stringify(opts)}`).toBe(Buffer.from(Gr.toAffine(want)).toString('hex'));
        }
      }
      // kept bases (a prepared key's section): converted once, every set of scalars in turn, in
      // one block and in blocks of 128 (the threads then hold several kept blocks at once)
      for (const maxBlock of [undefined, 128]) {
        const copy = bases.slice(); // kept by identity: a fresh array for each layout
        keepBases(copy, { maxBlock });
        for (const round of [0, 1]) {
          for (const [name, xs] of Object.entries(sets)) {
            const sc = scalarBytes(xs);
            const got = await cpuMsm(Gr, group, copy, sc);
            expect(Gr.eq(got, await Gr.multiExpAffine(bases, sc)), `${group} kept (blocks ≤ ${maxBlock}) ${name}, pass ${round}`).toBe(true);
          }
        }
        forgetBases(copy);
      }
      // laid out ahead of one MSM (layoutEarly: H's bases while the quotient runs), zeros and the
      // point at infinity included; a second MSM on the same array lays it out itself
      for (const [name, xs] of Object.entries(sets)) {
        const copy = bases.slice();
        const sc = scalarBytes(xs);
        const want = await Gr.multiExpAffine(bases, sc);
        layoutEarly(group, copy);
        expect(Gr.eq(await cpuMsm(Gr, group, copy, sc), want), `${group} laid out early, ${name}`).toBe(true);
        expect(Gr.eq(await cpuMsm(Gr, group, copy, sc), want), `${group} after the early layout, ${name}`).toBe(true);
      }
      // bases in a SharedArrayBuffer, every point finite and every scalar nonzero (H's section as
      // openZkey reads it): the MSM reads them where they are, and never gives their buffer back
      // for reuse (a later MSM's scratch would overwrite the key)
      const finite = bases.slice();
      finite.set(finite.subarray(4 * ffj, 5 * ffj), 5 * ffj);
      const shared = new Uint8Array(new SharedArrayBuffer(finite.byteLength));
      shared.set(finite);
      const xs = Array.from({ length: n }, (_, i) => (i % 3 ? rand(BN254_R) : BigInt(i + 1)));
      for (const how of ['plain', 'early', 'kept'] as const) {
        const sc = scalarBytes(xs);
        if (how === 'early') layoutEarly(group, shared);
        if (how === 'kept') keepBases(shared);
        expect(Gr.eq(await cpuMsm(Gr, group, shared, sc), await Gr.multiExpAffine(finite, sc)), `${group} shared bases, ${how}`).toBe(true);
        if (how === 'kept') forgetBases(shared);
        expect(sharedBytes(shared.byteLength, false).buffer).not.toBe(shared.buffer);
        expect(Buffer.from(shared).equals(Buffer.from(finite)), `${group} shared bases unchanged, ${how}`).toBe(true);
      }
    }
  }, 120_000);

  it('the threads batch as many additions as the module sizes its round for (worker-body.ts cannot import BATCH)', () => {
    expect(workerBody.toString()).toContain(`const BATCH = ${BATCH};`);
  });

  it('MSMs whose preparations yield to the event loop (over 2^16 points) run side by side, with different window offsets', async () => {
    const Gr = curve.G1 as G;
    const few = await points('G1', 1000);
    const n = 100_000;
    const bases = new Uint8Array(n * 64);
    for (let i = 0; i < n; i += 1000) bases.set(few.subarray(0, Math.min(1000, n - i) * 64), i * 64);
    // small signed values, and uniform ones: widths and offsets differ, and their slices interleave
    const sets = [0, 1].map((t) => scalarBytes(Array.from({ length: n }, (_, i) => (i % 5 === t ? 0n : BigInt((i * 7919 + t) % 1000) - 500n))));
    sets.push(scalarBytes(Array.from({ length: n }, (_, i) => (rand(1n << 41n) - (1n << 40n)) * BigInt(i % 7))));
    sets.push(scalarBytes(Array.from({ length: n }, () => rand(BN254_R))));
    const got = await Promise.all(sets.map((sc) => cpuMsm(Gr, 'G1', bases, sc)));
    for (const [i, sc] of sets.entries()) expect(Gr.eq(got[i]!, await Gr.multiExpAffine(bases, sc)), `MSM ${i}`).toBe(true);
  }, 60_000);

  it('a thread that dies fails its MSM with PROVER_FAILED; the next MSM starts a new pool', async () => {
    const Gr = curve.G1 as G;
    const n = 1 << 14; // ~0.15 s of windows
    const bases = await points('G1', n);
    const sc = scalarBytes(Array.from({ length: n }, () => rand(BN254_R)));
    const running = cpuMsm(Gr, 'G1', bases, sc);
    const failed = expect(running).rejects.toMatchObject({ code: 'PROVER_FAILED' });
    await new Promise((r) => setTimeout(r, 20)); // the windows are queued and started
    await releaseCpuPool(); // ends the threads under it
    await failed;
    const again = await cpuMsm(Gr, 'G1', bases, sc);
    expect(Gr.eq(again, await Gr.multiExpAffine(bases, sc))).toBe(true);
  });

  it('prepare and addOffset (WebAssembly, 2^16 scalars at a time) equal bigint folds and offsets: r/2 and word edges, zeros, infinity, kept arrays', async () => {
    const half = BN254_R >> 1n;
    const edges = [1n, 2n, half - 1n, half, half + 1n, half + 2n, BN254_R - 1n, BN254_R - 2n, (1n << 64n) - 1n, 1n << 64n, (1n << 128n) + 1n, BN254_R - (1n << 64n), BN254_R - (1n << 192n) - 1n, 1n << 252n, half - (1n << 200n), 0n];
    const n = 70_000; // more than one slice
    const xs = Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i]! : i % 7 === 0 ? 0n : i % 5 === 0 ? BigInt(i) : i % 3 === 0 ? BN254_R - BigInt(i) : rand(BN254_R)));
    const bases = new Uint8Array(n * 64).fill(1);
    for (const i of [3, 40_000, n - 1]) bases.fill(0, i * 64, (i + 1) * 64); // infinity: dropped with its scalar
    const words = (u8: Uint8Array, k: number) => {
      let v = 0n;
      for (let b = (k + 1) * DIGIT_WORDS * 4 - 1; b >= k * DIGIT_WORDS * 4; b--) v = (v << 8n) | BigInt(u8[b]!);
      return v;
    };
    const check = async (keepAll: boolean) => {
      const order = keepAll ? Array.from({ length: n }, (_, i) => i) : xs.flatMap((x, i) => (x !== 0n && bases[i * 64] !== 0 ? [i] : []));
      const k = keepAll ? { idx: Uint32Array.from(order), bases, blocks: [] } : undefined;
      const p = await prepare(bases, scalarBytes(xs), 64, k);
      expect(p.neg.length).toBe(order.length);
      const folded = order.map((i) => (xs[i]! > half ? BN254_R - xs[i]! : xs[i]!));
      expect(p.nonzero).toBe(folded.filter((v) => v !== 0n).length);
      expect(p.bits).toBe(Math.max(...folded.map((v) => v.toString(2).length * (v === 0n ? 0 : 1))));
      folded.forEach((v, k2) => {
        if (words(p.scalars, k2) !== v || p.neg[k2] !== (xs[order[k2]!]! > half ? 1 : 0)) expect.fail(`scalar ${order[k2]}: ${xs[order[k2]!]}`);
      });
      const c = 13;
      const W = windowCount(p.bits, c);
      let off = 0n;
      for (let w = 0; w < W - 1; w++) off |= 1n << BigInt(w * c + c - 1);
      await addOffset(p, c, W);
      folded.forEach((v, k2) => {
        if (words(p.scalars, k2) !== v + off) expect.fail(`scalar ${order[k2]} with the offset`);
      });
      releaseShared(p.scalars, p.neg);
    };
    await check(false);
    await check(true);
  });

  it('scalars above r/2 go to negated points; windows cover only the bits left', async () => {
    const p = await prepare(new Uint8Array(3 * 64).fill(1), scalarBytes([-3n, 5n, 0n]), 64);
    expect([...p.neg]).toEqual([1, 0]);
    expect([...p.scalars.subarray(0, 4)]).toEqual([3, 0, 0, 0]);
    expect([...p.scalars.subarray(36, 40)]).toEqual([5, 0, 0, 0]);
    expect(p.bits).toBe(3);
    expect(windowBits(1, 3)).toBe(2);
    // one scalar a point, or a clear error
    await expect(cpuMsm(curve.G1 as G, 'G1', new Uint8Array(3 * 64), new Uint8Array(2 * 32))).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/192 bytes of bases .* 64 bytes of scalars/) });
    // groth16.ts runs C's MSM on its own, early, when the witness is this small
    expect(fitsBits(scalarBytes([-3n, 5n, (1n << 128n) - 1n, -(1n << 127n)]), 128)).toBe(true);
    expect(fitsBits(scalarBytes([5n, 1n << 128n]), 128)).toBe(false);
    expect(fitsBits(scalarBytes([-(1n << 128n)]), 128)).toBe(false);
    expect(windowBits(1 << 20, 254)).toBeGreaterThanOrEqual(12);
  });
});

describe('the module\'s bytes in the cache folder', () => {
  it('are written once, read back by the next process, and built again where the file is not a valid module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkonnx-wasm-cache-'));
    const before = process.env.ZKONNX_CACHE;
    process.env.ZKONNX_CACHE = dir;
    try {
      const built = buildMsmWasm();
      expect(Buffer.from(await moduleBytes()).equals(Buffer.from(built))).toBe(true);
      const files = readdirSync(join(dir, 'wasm'));
      expect(files).toHaveLength(1); // no temporary file left
      const file = join(dir, 'wasm', files[0]!);
      expect(readFileSync(file).equals(Buffer.from(built))).toBe(true);
      expect(Buffer.from(await moduleBytes()).equals(Buffer.from(built))).toBe(true);
      // a damaged file (truncated, say) is not used: the module is built, and the file mended
      writeFileSync(file, built.subarray(0, 1000));
      expect(Buffer.from(await moduleBytes()).equals(Buffer.from(built))).toBe(true);
      expect(readFileSync(file).equals(Buffer.from(built))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.ZKONNX_CACHE;
      else process.env.ZKONNX_CACHE = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
