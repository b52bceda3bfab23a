// The QAP's A/B/C evaluations (src/prover/qap.ts on the CPU pool, cpu/wasm-qap.ts) against
// bigint arithmetic and ffjavascript's qap_buildABC, on records a key can have: duplicates of the
// same (m, c, s), signal 0, values 0 and r − 1, every constraint (so the cuts between tasks have
// records on both sides), sorted as zkonnx writes them, in runs as snarkjs does, and in no order;
// and records with m, c or s out of range fail with the record in the message. The same for the
// GPU's evaluations (src/prover/webgpu/abc.ts, on llvmpipe where there is no GPU).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { ZkonnxError } from '../src/errors.js';
import { releaseCpuPool } from '../src/prover/cpu/pool.js';
import { bn128 } from '../src/prover/curve.js';
import { buildABC } from '../src/prover/qap.js';
import { coefOrder, gpuABC, uploadCoefs } from '../src/prover/webgpu/abc.js';
import { readBuffer } from '../src/prover/webgpu/gpu.js';
import { testGpu } from './helpers/webgpu.js';
import type { Zkey } from '../src/prover/zkey.js';
import { releaseCurves } from '../src/snark.js';

afterAll(async () => {
  await releaseCpuPool();
  await releaseCurves();
});

const r = BN254_R;
const R_INV = modPow(2n, 256n * (r - 2n), r); // 2^-256 mod r

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let x = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) x = (x * b) % m;
  return x;
}
const rand = () => {
  let v = 0n;
  for (const b of randomBytes(40)) v = (v << 8n) | BigInt(b);
  return v % r;
};
const int = (n: number) => Math.floor(Math.random() * n);
const putLE = (out: Uint8Array, at: number, x: bigint) => {
  for (let i = 0; i < 32; i++, x >>= 8n) out[at + i] = Number(x & 0xffn);
};
const getLE = (b: Uint8Array, at: number) => {
  let x = 0n;
  for (let i = 31; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i]!);
  return x;
};

type Rec = [m: number, c: number, s: number, v: bigint];

interface Case { zkey: Zkey; witness: Uint8Array; recs: Rec[]; w: bigint[] }

/** A Zkey with just what buildABC reads; `offset`: bytes before the section in its buffer. */
function makeCase(recs: Rec[], domainSize: number, w: bigint[], offset = 0): Case {
  const buf = new Uint8Array(offset + recs.length * 44);
  const view = new DataView(buf.buffer);
  recs.forEach(([m, c, s, v], i) => {
    const at = offset + i * 44;
    view.setUint32(at, m, true);
    view.setUint32(at + 4, c, true);
    view.setUint32(at + 8, s, true);
    putLE(buf, at + 12, v);
  });
  const witness = new Uint8Array(w.length * 32);
  w.forEach((x, i) => putLE(witness, i * 32, x));
  const zkey = { file: 'test.zkey', nCoef: recs.length, coefs: buf.subarray(offset), header: { domainSize, nVars: w.length, n8r: 32 } } as unknown as Zkey;
  return { zkey, witness, recs, w };
}

/**
 * Records for every constraint of the domain (1 to `per`), some duplicated, signal 0 and the
 * values 0 and r − 1 among them, sorted by constraint.
 */
function records(domainSize: number, nVars: number, per: number): Rec[] {
  const recs: Rec[] = [];
  for (let c = 0; c < domainSize; c++) {
    for (let k = 1 + int(per); k > 0; k--) {
      const v = [0n, 1n, r - 1n][int(8)] ?? rand();
      const rec: Rec = [int(2), c, int(5) === 0 ? 0 : int(nVars), v];
      recs.push(rec);
      if (int(6) === 0) recs.push([...rec]); // the same (m, c, s) again
    }
  }
  return recs;
}

/**
 * The same records in runs as snarkjs writes them (A's, B's, then 20 public-input records at the
 * domain's end) and in no order.
 */
function reordered(base: Rec[], domainSize: number): { runs: Rec[]; shuffled: Rec[] } {
  const runs = [...base.filter((x) => x[0] === 0), ...base.filter((x) => x[0] === 1), ...Array.from({ length: 20 }, (_, i): Rec => [0, domainSize - 20 + i, i, rand()])];
  const shuffled = [...base];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return { runs, shuffled };
}

function witness(nVars: number): bigint[] {
  return Array.from({ length: nVars }, (_, i) => (i === 0 ? 1n : [0n, 1n, r - 1n][int(8)] ?? rand()));
}

/** ffjavascript's representation: a value's bytes v stand for v·2^-256, the witness is canonical. */
function expected({ zkey, recs, w }: Case) {
  const n = zkey.header.domainSize;
  const out = [new Array<bigint>(n).fill(0n), new Array<bigint>(n).fill(0n)];
  for (const [m, c, s, v] of recs) out[m]![c] = (out[m]![c]! + ((v * w[s]!) % r) * R_INV) % r;
  const [a, b] = out as [bigint[], bigint[]];
  return { a, b, c: a.map((x, i) => (((x * b[i]!) % r) * R_INV) % r) };
}

function check(got: { a: Uint8Array; b: Uint8Array; c: Uint8Array }, want: ReturnType<typeof expected>) {
  for (const k of ['a', 'b', 'c'] as const) {
    const bad: string[] = [];
    for (let i = 0; i < want[k].length && bad.length < 5; i++) {
      const x = getLE(got[k], i * 32);
      if (x !== want[k][i]) bad.push(`${k}[${i}] = ${x}, expected ${want[k][i]}`);
    }
    expect(bad).toEqual([]);
  }
}

/** ffjavascript's qap_buildABC on one thread of its pool (what buildABC ran before). */
async function ffjavascript({ zkey, witness }: Case): Promise<Uint8Array[]> {
  const curve = await bn128();
  const n = zkey.header.domainSize * 32;
  return curve.tm.queueAction([
    { cmd: 'ALLOCSET', var: 0, buff: zkey.coefs.slice() },
    { cmd: 'ALLOCSET', var: 1, buff: witness.slice() },
    { cmd: 'ALLOC', var: 2, len: n },
    { cmd: 'ALLOC', var: 3, len: n },
    { cmd: 'ALLOC', var: 4, len: n },
    { cmd: 'CALL', fnName: 'qap_buildABC', params: [{ var: 0 }, { val: zkey.nCoef }, { var: 1 }, { var: 2 }, { var: 3 }, { var: 4 }, { val: 0 }, { val: zkey.header.domainSize }, { val: 0 }, { val: zkey.header.nVars }] },
    { cmd: 'GET', out: 0, var: 2, len: n },
    { cmd: 'GET', out: 1, var: 3, len: n },
    { cmd: 'GET', out: 2, var: 4, len: n },
  ]);
}

describe('buildABC on the CPU pool', () => {
  it('a few records (one task) equal bigint arithmetic and ffjavascript', async () => {
    const t = makeCase(records(64, 40, 3), 64, witness(40));
    const got = await buildABC(t.zkey, t.witness);
    check(got, expected(t));
    const [a, b, c] = await ffjavascript(t);
    expect([got.a, got.b, got.c]).toEqual([a, b, c]);
  });

  it('2^12 and more records, split between tasks, sorted as zkonnx writes them', async () => {
    const t = makeCase(records(2048, 3000, 4), 2048, witness(3000));
    expect(t.zkey.nCoef).toBeGreaterThanOrEqual(1 << 12);
    const got = await buildABC(t.zkey, t.witness);
    check(got, expected(t));
    const [a, b, c] = await ffjavascript(t);
    expect([got.a, got.b, got.c]).toEqual([a, b, c]);
    // a second proof with the same key (its layout kept) and another witness
    const t2 = { ...makeCase(t.recs, 2048, witness(3000)), zkey: t.zkey };
    check(await buildABC(t2.zkey, t2.witness), expected(t2));
  });

  it('records in runs (A, B, then the inputs, as snarkjs writes them) and in no order', async () => {
    const base = records(1500, 800, 4);
    const { runs, shuffled } = reordered(base, 1500);
    const w = witness(800);
    for (const recs of [runs, shuffled]) {
      const t = makeCase(recs, 1500, w, 3); // a section at an odd offset in its buffer
      check(await buildABC(t.zkey, t.witness), expected(t));
    }
  });

  it('without SharedArrayBuffer (a page that is not cross-origin isolated) the tasks get copies of their spans', async () => {
    const t = makeCase(records(1500, 800, 4), 1500, witness(800), 1);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    vi.resetModules();
    try {
      expect(typeof SharedArrayBuffer).toBe('undefined');
      expect(t.zkey.nCoef).toBeGreaterThanOrEqual(1 << 12);
      const qap = await import('../src/prover/qap.js');
      const pool = await import('../src/prover/cpu/pool.js'); // the fresh module graph's pool
      try {
        check(await qap.buildABC(t.zkey, t.witness), expected(t));
      } finally {
        await pool.releaseCpuPool();
      }
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  it('a record with m > 1, c ≥ domainSize or s ≥ nVars fails naming the record and the file', async () => {
    for (const nRecs of [100, 5000]) {
      const domainSize = nRecs === 100 ? 32 : 1024;
      for (const [field, value] of [[0, 2], [1, domainSize], [2, 50]] as const) {
        const recs = records(domainSize, 50, 8).slice(0, nRecs);
        const i = Math.floor(recs.length * 0.7);
        recs[i]![field] = value;
        const t = makeCase(recs, domainSize, witness(50));
        const [m, c, s] = recs[i]!;
        const err = await buildABC(t.zkey, t.witness).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(ZkonnxError);
        expect((err as Error).message).toBe(`test.zkey: zkey coefficient ${i} of ${recs.length} is (matrix ${m}, constraint ${c}, signal ${s}); expected matrix 0 or 1, constraint < ${domainSize}, signal < 50`);
      }
    }
  });
});

describe('A/B/C on the GPU', async () => {
  const gpu = await testGpu();
  /** gpuABC's three buffers read back, as buildABC returns them. */
  const onGpu = async ({ zkey, witness }: Case, unrolled = false) => {
    const coefs = uploadCoefs(gpu!, zkey);
    try {
      const bufs = await gpuABC(gpu!, coefs, zkey, witness, { unrolled });
      const [a, b, c] = await Promise.all(bufs.map((x) => readBuffer(gpu!.device, x, 0, zkey.header.domainSize * 32)));
      bufs.forEach((x) => x.destroy());
      return { a: a!, b: b!, c: c! };
    } finally {
      coefs.release();
    }
  };

  it.skipIf(!gpu)('equal buildABC byte for byte: sorted records, runs as snarkjs writes them, no order, duplicates, empty constraints', async () => {
    const base = records(1024, 600, 4);
    const { runs, shuffled } = reordered(base, 1024);
    const sparse = base.filter(([, c]) => c % 3 !== 0); // constraints with no record at all
    const w = witness(600);
    for (const recs of [base, runs, shuffled, sparse]) {
      const t = makeCase(recs, 1024, w, 3);
      const got = await onGpu(t);
      check(got, expected(t));
      const cpu = await buildABC(t.zkey, t.witness);
      expect([got.a, got.b, got.c]).toEqual([cpu.a, cpu.b, cpu.c]);
    }
    // the unrolled Montgomery product (MsmTuning unroll=1) computes the same bytes
    const t = makeCase(base, 1024, w, 3);
    check(await onGpu(t, true), expected(t));
  }, 120_000);

  it('a record out of range fails as on the CPU, before anything is uploaded', () => {
    const recs = records(32, 50, 8);
    recs[7]![2] = 50;
    const t = makeCase(recs, 32, witness(50));
    const [m, c, s] = recs[7]!;
    expect(() => coefOrder(t.zkey)).toThrow(`test.zkey: zkey coefficient 7 of ${recs.length} is (matrix ${m}, constraint ${c}, signal ${s}); expected matrix 0 or 1, constraint < 32, signal < 50`);
  });
});
