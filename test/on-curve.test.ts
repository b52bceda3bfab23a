// firstOffCurve (src/setup/fast/on-curve.ts, wasm <g>_offCurveN): the first point of a section
// that is not on BN254's curve (G1) or twist (G2), or whose coordinate is not below q; points at
// infinity (all zero) pass; indices count across the slices a call is cut into.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstOffCurve } from '../src/setup/fast/on-curve.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { twistPoint } from './helpers/twist-point.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

let curve: any;
beforeAll(async () => { curve = await snarkjs.curves.getCurveFromName('bn128'); });
afterAll(async () => { await releaseCurves(); });

/** n points of `group` as sections store them (affine, LEM): k·g for k = 1, 2, …, 97 over and over. */
function points(group: 'G1' | 'G2', n: number): Uint8Array {
  const G = curve[group];
  const size = G.F.n8 * 2;
  const distinct = Math.min(n, 97);
  const out = new Uint8Array(n * size);
  let p = G.g;
  for (let i = 0; i < distinct; i++, p = G.add(p, G.g)) G.toRprLEM(out, i * size, G.toAffine(p));
  for (let i = distinct; i < n; i++) out.copyWithin(i * size, (i % distinct) * size, (i % distinct + 1) * size);
  return out;
}

/** x + q as 32 little-endian bytes (x < 2^256 − q): the same field element, not canonical. */
function plusQ(x: Uint8Array): Uint8Array {
  const v = BigInt(`0x${Buffer.from(x).reverse().toString('hex')}`) + BigInt(curve.q);
  return new Uint8Array(Buffer.from(v.toString(16).padStart(64, '0'), 'hex').reverse());
}

describe('firstOffCurve', () => {
  for (const group of ['G1', 'G2'] as const) {
    const size = group === 'G1' ? 64 : 128;
    it(`${group}: points on the curve and at infinity pass; a changed y is found, across slices`, async () => {
      const n = 40_000; // three slices of 2^14
      const pts = points(group, n);
      pts.fill(0, 5 * size, 6 * size); // infinity
      expect(await firstOffCurve(curve, group, pts)).toBe(-1);
      for (const at of [0, 16_383, 16_384, 39_999]) {
        const bad = pts.slice();
        bad[at * size + size / 2] ^= 1; // y's lowest byte
        expect(await firstOffCurve(curve, group, bad)).toBe(at);
      }
    });
    it(`${group}: a coordinate written as x + q is refused`, async () => {
      const pts = points(group, 10);
      const x = pts.subarray(7 * size, 7 * size + 32);
      expect(BigInt(`0x${Buffer.from(x).reverse().toString('hex')}`) + BigInt(curve.q) < 2n ** 256n).toBe(true);
      pts.set(plusQ(x), 7 * size);
      expect(await firstOffCurve(curve, group, pts)).toBe(7);
    });
  }
  it('G2: a twist point outside the subgroup is on the curve (the subgroup is not what this checks)', async () => {
    const pts = points('G2', 3);
    pts.set((await twistPoint()).subarray(0, 128), 128);
    expect(await firstOffCurve(curve, 'G2', pts)).toBe(-1);
  });
});
