// The WebGPU NTT and Groth16 quotient (src/prover/webgpu/ntt.ts) against the BigInt reference
// (ntt-reference.ts), and both against snarkjs's own pipeline run by ffjavascript. Here the GPU is
// Mesa's llvmpipe (software); the same code runs on a hardware adapter.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkonnxError } from '../src/errors.js';
import { getGpu } from '../src/prover/webgpu/device.js';
import { gpuNtt, gpuQuotient, passRanges, releaseNtt, type NttGpu } from '../src/prover/webgpu/ntt.js';
import {
  FR_MODULUS, cosetNtt, evaluate, frFromBytes, frMul, frPow, frToBytes, intt, ntt, quotientCosetShift,
  quotientReference, rootOfUnity,
} from '../src/prover/webgpu/ntt-reference.js';
import { keepingCurve, type WasmCurve, type WasmField } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves, snarkjs } from '../src/snark.js';

type FftField = WasmField & {
  fft(buff: Uint8Array): Promise<Uint8Array>;
  ifft(buff: Uint8Array): Promise<Uint8Array>;
  shift: Uint8Array;
};

/** Fresh random elements of Fr, with 0, 1 and r − 1 mixed in (the edges of every reduction). */
function randomFr(n: number): bigint[] {
  const bytes = randomBytes(32 * n);
  const out = frFromBytes(bytes, false).map((x) => x % FR_MODULUS);
  const edges = [0n, 1n, FR_MODULUS - 1n];
  for (let i = 0; i < Math.min(n, 3); i++) out[(i * 7919) % n] = edges[i]!;
  return out;
}

/** First index where two arrays differ, for a readable failure. */
function firstDiff(a: readonly bigint[], b: readonly bigint[]): string {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  const i = a.findIndex((x, k) => x !== b[k]);
  return i < 0 ? 'equal' : `index ${i}: ${a[i]} vs ${b[i]}`;
}

let curve: WasmCurve;
let Fr: FftField;

beforeAll(async () => {
  curve = await keepingCurve(async () => (await snarkjs.curves.getCurveFromName('bn128')) as unknown as WasmCurve);
  Fr = curve.Fr as FftField;
});

afterAll(async () => {
  await releaseCurves();
});

/** snarkjs's groth16_prove.js quotient: ifft, batchApplyKey(·, 1, inc), fft, then joinABC as it runs it. */
async function snarkjsQuotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
  const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1]!;
  const [ao, bo, co] = await Promise.all([a, b, c].map(async (x) => Fr.fft(await Fr.batchApplyKey(await Fr.ifft(x), Fr.e(1), inc))));
  const n = a.byteLength / 32;
  const [out] = await curve.tm.queueAction([
    { cmd: 'ALLOCSET', var: 0, buff: ao },
    { cmd: 'ALLOCSET', var: 1, buff: bo },
    { cmd: 'ALLOCSET', var: 2, buff: co },
    { cmd: 'ALLOC', var: 3, len: n * 32 },
    { cmd: 'CALL', fnName: 'qap_joinABC', params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: n }, { var: 3 }] },
    { cmd: 'CALL', fnName: 'frm_batchFromMontgomery', params: [{ var: 3 }, { val: n }, { var: 3 }] },
    { cmd: 'GET', out: 0, var: 3, len: n * 32 },
  ]);
  return out!;
}

describe('NTT reference (BigInt)', () => {
  it('uses ffjavascript\'s roots of unity and coset shift', () => {
    for (let k = 0; k <= Fr.s; k++) expect(frFromBytes(Fr.w[k]!, true)[0], `w[${k}]`).toBe(rootOfUnity(k));
    expect(frFromBytes(Fr.shift, true)[0]).toBe(quotientCosetShift(Fr.s));
  });

  it('matches Fr.fft / Fr.ifft', async () => {
    for (const power of [1, 2, 3, 6, 9]) {
      const x = randomFr(2 ** power);
      const bytes = frToBytes(x, true);
      expect(firstDiff(ntt(x), frFromBytes(await Fr.fft(bytes), true)), `fft 2^${power}`).toBe('equal');
      expect(firstDiff(intt(x), frFromBytes(await Fr.ifft(bytes), true)), `ifft 2^${power}`).toBe('equal');
    }
  });

  it('matches direct O(n²) evaluation, on the domain and on a coset', () => {
    for (const power of [1, 3, 5]) {
      const n = 2 ** power;
      const coeffs = randomFr(n);
      const w = rootOfUnity(power);
      const g = quotientCosetShift(power);
      expect(ntt(coeffs)).toEqual(coeffs.map((_, i) => evaluate(coeffs, frPow(w, i))));
      expect(cosetNtt(coeffs, g)).toEqual(coeffs.map((_, i) => evaluate(coeffs, frMul(g, frPow(w, i)))));
      expect(intt(ntt(coeffs))).toEqual(coeffs);
    }
  });

  it('quotientReference equals snarkjs\'s pipeline byte for byte', async () => {
    for (const power of [1, 2, 7]) {
      const [a, b, c] = [0, 1, 2].map(() => randomFr(2 ** power));
      const ref = frToBytes(quotientReference(a!, b!, c!, power), false);
      const js = await snarkjsQuotient(frToBytes(a!, true), frToBytes(b!, true), frToBytes(c!, true), power);
      expect(Buffer.from(ref).equals(Buffer.from(js)), `2^${power}`).toBe(true);
    }
  });

  it('splits the bits into even passes', () => {
    expect(passRanges(1, 9)).toEqual([{ q0: 0, stages: 1 }]);
    expect(passRanges(9, 9)).toEqual([{ q0: 0, stages: 9 }]);
    expect(passRanges(10, 9)).toEqual([{ q0: 0, stages: 5 }, { q0: 5, stages: 5 }]);
    expect(passRanges(20, 9)).toEqual([{ q0: 0, stages: 7 }, { q0: 7, stages: 7 }, { q0: 14, stages: 6 }]);
  });
});

const gpu = await getGpu({ allowSoftware: true }).catch(() => undefined);

describe.skipIf(!gpu)(gpu ? `WebGPU NTT on ${gpu.adapterName}` : 'WebGPU NTT (skipped: no WebGPU adapter at all)', () => {
  const ctx = gpu as NttGpu;

  afterAll(async () => {
    if (gpu) await releaseNtt(ctx);
  });

  const nttOf = async (x: bigint[], opts?: Parameters<typeof gpuNtt>[2]) =>
    frFromBytes(await gpuNtt(ctx, frToBytes(x, true), opts), true);

  it('NTT and iNTT match the reference for 2^1 … 2^10 and 2^12', async () => {
    for (const power of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]) {
      const x = randomFr(2 ** power);
      expect(firstDiff(await nttOf(x), ntt(x)), `NTT 2^${power}`).toBe('equal');
      expect(firstDiff(await nttOf(x, { inverse: true }), intt(x)), `iNTT 2^${power}`).toBe('equal');
    }
  });

  it('iNTT(NTT(x)) = x', async () => {
    for (const power of [1, 4, 11]) {
      const x = randomFr(2 ** power);
      expect(firstDiff(await nttOf(await nttOf(x), { inverse: true }), x), `2^${power}`).toBe('equal');
    }
  });

  it('coset NTT equals direct evaluation at g·ω^i', async () => {
    for (const power of [1, 3, 6]) {
      const n = 2 ** power;
      const coeffs = randomFr(n);
      const w = rootOfUnity(power);
      const g = quotientCosetShift(power);
      const direct = coeffs.map((_, i) => evaluate(coeffs, frMul(g, frPow(w, i))));
      expect(firstDiff(await nttOf(coeffs, { shift: g }), direct), `2^${power}`).toBe('equal');
    }
    // More stages than one pass holds: against the reference instead of O(n²).
    const x = randomFr(2 ** 11);
    expect(firstDiff(await nttOf(x, { shift: 5n }), cosetNtt(x, 5n)), '2^11').toBe('equal');
  });

  it('gpuQuotient is byte-equal to snarkjs\'s pipeline', async () => {
    for (const power of [1, 2, 3, 8, 10, 12]) {
      const [a, b, c] = [0, 1, 2].map(() => frToBytes(randomFr(2 ** power), true)) as [Uint8Array, Uint8Array, Uint8Array];
      const want = await snarkjsQuotient(a, b, c, power);
      const got = await gpuQuotient(ctx, a, b, c, power);
      expect(got.byteLength).toBe(want.byteLength);
      expect(firstDiff(frFromBytes(got, false), frFromBytes(want, false)), `2^${power}`).toBe('equal');
    }
  });

  it('many passes (few stages each) give the same values', async () => {
    // 2^19 points are needed before the default pass size makes 3 passes; force them small here.
    const x = randomFr(2 ** 10);
    for (const maxStages of [1, 3, 4]) {
      expect(firstDiff(await nttOf(x, { maxStages }), ntt(x)), `NTT, ${maxStages} stages/pass`).toBe('equal');
      expect(firstDiff(await nttOf(x, { inverse: true, maxStages }), intt(x)), `iNTT, ${maxStages} stages/pass`).toBe('equal');
      expect(firstDiff(await nttOf(x, { shift: 3n, maxStages }), cosetNtt(x, 3n)), `coset, ${maxStages} stages/pass`).toBe('equal');
    }
    const power = 9;
    const [a, b, c] = [0, 1, 2].map(() => frToBytes(randomFr(2 ** power), true)) as [Uint8Array, Uint8Array, Uint8Array];
    const want = await snarkjsQuotient(a, b, c, power);
    for (const maxStages of [2, 4]) {
      const got = await gpuQuotient(ctx, a, b, c, power, { maxStages });
      expect(Buffer.from(got).equals(Buffer.from(want)), `quotient 2^${power}, ${maxStages} stages/pass`).toBe(true);
    }
  });

  it('the unrolled Montgomery product (MsmTuning unroll=1) gives the same NTTs and quotient', async () => {
    const x = randomFr(2 ** 6);
    expect(firstDiff(await nttOf(x, { unrolled: true, maxStages: 3 }), ntt(x)), 'NTT').toBe('equal');
    expect(firstDiff(await nttOf(x, { unrolled: true, shift: 5n }), cosetNtt(x, 5n)), 'coset').toBe('equal');
    const power = 7;
    const [a, b, c] = [0, 1, 2].map(() => frToBytes(randomFr(2 ** power), true)) as [Uint8Array, Uint8Array, Uint8Array];
    const got = await gpuQuotient(ctx, a, b, c, power, { unrolled: true, maxStages: 4 });
    expect(Buffer.from(got).equals(Buffer.from(await snarkjsQuotient(a, b, c, power)))).toBe(true);
  });

  it('gpuQuotient accepts unaligned views and rejects wrong sizes with what it expected', async () => {
    const power = 3;
    const backing = new Uint8Array(1 + 3 * 256);
    const [a, b, c] = [0, 1, 2].map((i) => {
      const v = backing.subarray(1 + i * 256, 1 + (i + 1) * 256);
      v.set(frToBytes(randomFr(8), true));
      return v;
    }) as [Uint8Array, Uint8Array, Uint8Array];
    expect(Buffer.from(await gpuQuotient(ctx, a, b, c, power)).equals(Buffer.from(await snarkjsQuotient(a, b, c, power)))).toBe(true);

    const err = await gpuQuotient(ctx, a, b, c.subarray(32), power).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    expect((err as ZkonnxError).code).toBe('BAD_ARGUMENT');
    expect((err as Error).message).toMatch(/expected 8 elements \(256 bytes\), got 224 bytes/);
    await expect(gpuQuotient(ctx, a, b, c, 0)).rejects.toThrow(/power must be an integer in \[1, 28\], got 0/);
  });
});
