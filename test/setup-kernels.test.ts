// The setup's point kernels (src/setup/fast/kernels.ts, on the CPU prover's threads) against
// ffjavascript's own scalar multiplication: the batch-affine comb for s·G in G1 and G2 and the GLV multiplication k·P_i,
// on random scalars and on the edges (1, 2, r − 1, powers of two, the top window full); and the
// OpenSSL BLAKE2b that replaces snarkjs's pure-JavaScript one where no partial state is needed.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { releaseCpuPool } from '../src/prover/cpu/pool.js';
import { combTimes, scaleG1 } from '../src/setup/fast/kernels.js';
import { blake2b512, firstChallengeHash } from '../src/setup/fast/blake2b.js';
import { decompose, shortBasis, wnaf, cubeRoot } from '../src/setup/fast/glv.js';
import { snarkjsInternals } from '../src/setup/fast/snarkjs-internals.js';
import type { WasmCurve } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves, snarkjs } from '../src/snark.js';

afterAll(async () => {
  await releaseCpuPool();
  await releaseCurves();
});

/* eslint-disable @typescript-eslint/no-explicit-any */
const curve = async (): Promise<any> => (await snarkjs.curves.getCurveFromName('bn128')) as any;

const r = BN254_R;
function randomScalar(): bigint {
  let x = 0n;
  for (const b of randomBytes(40)) x = (x << 8n) | BigInt(b);
  return x % r;
}
const edges = [1n, 2n, 3n, r - 1n, r - 2n, 1n << 13n, (1n << 13n) - 1n, 1n << 252n, (1n << 253n) + 12345n, r - (1n << 200n), 0x1fffn << 240n];

/** Fr elements in Montgomery form, as ffjavascript keeps them */
function frBuffer(c: any, xs: bigint[]): Uint8Array {
  const out = new Uint8Array(xs.length * 32);
  xs.forEach((x, i) => out.set(c.Fr.e(x), i * 32));
  return out;
}

function expectPoints(c: any, group: 'G1' | 'G2', got: Uint8Array, want: Uint8Array[]): void {
  const G = c[group];
  const sA = G.F.n8 * 2;
  expect(got.byteLength).toBe(want.length * sA);
  // byte for byte: the files keep the affine coordinates in canonical Montgomery form
  const bytes = new Uint8Array(sA);
  want.forEach((w, i) => {
    G.toRprLEM(bytes, 0, G.toAffine(w));
    if (!Buffer.from(got.subarray(i * sA, (i + 1) * sA)).equals(Buffer.from(bytes))) throw new Error(`${group} point ${i} differs`);
  });
}

describe('GLV split', () => {
  it('recombines and stays below 2^128 on random and edge scalars', async () => {
    const c = await curve();
    const lambda = cubeRoot(r);
    const basis = shortBasis(r, lambda);
    const consts = { r, q: c.q as bigint, beta: 0n, lambda, ...basis };
    for (const k of [...edges, 0n, ...Array.from({ length: 200 }, randomScalar)]) {
      const [k1, k2] = decompose(k, consts); // throws if it does not recombine or is long
      expect(((k1 + k2 * lambda - k) % r + r) % r).toBe(0n);
    }
  });

  it('width-5 NAF digits are odd, below 16 and sum back', () => {
    for (const k of [1n, 31n, 32n, 1n << 127n, (1n << 128n) - 1n, randomScalar() >> 126n]) {
      const d = wnaf(k, 5);
      let v = 0n;
      for (let i = d.length - 1; i >= 0; i--) v = 2n * v + BigInt(d[i]!);
      expect(v).toBe(k);
      for (const x of d) if (x !== 0) expect(Math.abs(x) % 2 === 1 && Math.abs(x) < 16).toBe(true);
    }
  });
});

describe('comb: s·G, batch-affine', () => {
  for (const group of ['G1', 'G2'] as const) {
    for (const w of [4, 7, 13]) {
      it(`${group}, window ${w}: equals timesScalar on random and edge scalars`, async () => {
        const c = await curve();
        const xs = [...edges, ...Array.from({ length: 300 }, randomScalar)];
        const got = await combTimes(c as WasmCurve, group, frBuffer(c, xs), w);
        expectPoints(c, group, got, xs.map((x) => c[group].timesScalar(c[group].g, x)));
      }, 60_000);
    }
  }

  it('zero scalars give the point at infinity (zeros) and leave the others intact', async () => {
    const c = await curve();
    const xs = [0n, 5n, 0n, r - 1n];
    const got = await combTimes(c as WasmCurve, 'G1', frBuffer(c, xs), 8);
    expect(got.subarray(0, 64).every((b) => b === 0)).toBe(true);
    expect(got.subarray(128, 192).every((b) => b === 0)).toBe(true);
    expectPoints(c, 'G1', got.subarray(64, 128), [c.G1.timesScalar(c.G1.g, 5n)]);
  });

  it('the scalar buffer passed in is not changed, also when it is a pooled Node Buffer', async () => {
    const c = await curve();
    const buf = frBuffer(c, [7n, 8n]);
    const copy = buf.slice();
    await combTimes(c as WasmCurve, 'G1', buf, 6);
    expect(buf).toEqual(copy);
    // a Buffer's slice is a view into a shared pool: transferring it would detach the pool
    const xs = Array.from({ length: 200 }, (_, i) => BigInt(i + 1));
    const pooled = Buffer.from(frBuffer(c, xs));
    const neighbour = Buffer.from('still here');
    const got = await combTimes(c as WasmCurve, 'G1', pooled, 6);
    expect(pooled.equals(Buffer.from(frBuffer(c, xs)))).toBe(true);
    expect(neighbour.toString()).toBe('still here');
    expectPoints(c, 'G1', got, xs.map((x) => c.G1.timesScalar(c.G1.g, x)));
    const lem = Buffer.from(got);
    const scaled = await scaleG1(c as WasmCurve, lem, c.Fr.e(3n));
    expect(lem.equals(Buffer.from(got))).toBe(true);
    expectPoints(c, 'G1', scaled, xs.map((x) => c.G1.timesScalar(c.G1.g, 3n * x)));
  });

  it('copies the scalars before it returns: a caller may zero them at once (fast-ptau.ts does)', async () => {
    const c = await curve();
    const xs = Array.from({ length: 100 }, randomScalar);
    const buf = frBuffer(c, xs);
    const job = combTimes(c as WasmCurve, 'G2', buf, 5);
    buf.fill(0);
    expectPoints(c, 'G2', await job, xs.map((x) => c.G2.timesScalar(c.G2.g, x)));
  });
});

describe('scale: k·P_i with GLV', () => {
  it('equals timesScalar for random points, random and edge k, infinity and repeated points', async () => {
    const c = await curve();
    const G = c.G1;
    const pts = [...Array.from({ length: 150 }, () => G.timesScalar(G.g, randomScalar())), G.g, G.g, G.zero, G.neg(G.g)];
    const lem = new Uint8Array(pts.length * 64);
    pts.forEach((p, i) => G.toRprLEM(lem, i * 64, G.toAffine(p)));
    for (const k of [randomScalar(), randomScalar(), 1n, 2n, r - 1n, 1n << 200n, r - (1n << 130n)]) {
      const got = await scaleG1(c as WasmCurve, lem, c.Fr.e(k));
      expectPoints(c, 'G1', got, pts.map((p) => G.timesScalar(p, k)));
    }
  }, 60_000);
});

describe('BLAKE2b-512 from OpenSSL', () => {
  it('equals snarkjs\'s noble blake2b({ dkLen: 64 }) over several updates', async () => {
    const I = await snarkjsInternals();
    for (const sizes of [[0], [1], [127, 1, 128], [100_000, 3, 65_536]]) {
      const a = I.blake2b.create({ dkLen: 64 });
      const b = blake2b512();
      for (const n of sizes) {
        const d = randomBytes(n);
        a.update(d);
        b.update(d);
      }
      expect(Buffer.from(b.digest()).toString('hex')).toBe(Buffer.from(a.digest()).toString('hex'));
    }
  });

  it('gives snarkjs\'s first challenge hash of a new accumulator', async () => {
    const I = await snarkjsInternals();
    const c = await curve();
    const g1 = new Uint8Array(64);
    const g2 = new Uint8Array(128);
    c.G1.toRprUncompressed(g1, 0, c.G1.g);
    c.G2.toRprUncompressed(g2, 0, c.G2.g);
    for (const power of [1, 4, 15]) {
      const want = I.ptauUtils.calculateFirstChallengeHash(c, power);
      expect(Buffer.from(firstChallengeHash(g1, g2, power)).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    }
  }, 60_000);
});
