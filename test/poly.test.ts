// The piecewise polynomials behind every `fn` value (sigmoid, tanh, erf, exp, …): the stated
// error is the true worst case over the whole admissible domain, it meets the tolerance the
// quantizer asks for, and the integer evaluation is what the circuit template computes.
import { describe, expect, it } from 'vitest';
import { rescale } from '../src/quantize/int.js';
import { evalPoly, fitPiecewise, tightenClamp } from '../src/quantize/poly.js';
import { SATURATION, SCALAR_FNS } from '../src/ir/ops/scalar.js';

const CASES: { fn: string; params?: number[]; lo: number; bits: number; inScale: number; outScale: number }[] = [
  { fn: 'sigmoid', lo: -4096, bits: 13, inScale: 9, outScale: 12 },
  { fn: 'tanh', lo: -4096, bits: 13, inScale: 10, outScale: 12 },
  { fn: 'erf', lo: -2048, bits: 12, inScale: 9, outScale: 12 },
  { fn: 'exp', lo: -4096, bits: 12, inScale: 9, outScale: 12 }, // x ≤ 0 as in softmax
  { fn: 'softplus', lo: -2048, bits: 12, inScale: 9, outScale: 9 },
  { fn: 'gelu', lo: -2048, bits: 12, inScale: 9, outScale: 10 },
  { fn: 'gelu_tanh', lo: -2048, bits: 12, inScale: 9, outScale: 10 },
  { fn: 'elu', params: [1], lo: -2048, bits: 12, inScale: 9, outScale: 10 },
  { fn: 'selu', params: [1.6732632, 1.050701], lo: -2048, bits: 12, inScale: 9, outScale: 9 },
  { fn: 'mish', lo: -2048, bits: 12, inScale: 9, outScale: 10 },
  { fn: 'hardswish', lo: -2048, bits: 12, inScale: 8, outScale: 9 },
  { fn: 'log', lo: 256, bits: 12, inScale: 8, outScale: 10 }, // x ∈ [1, 17)
  { fn: 'pow', params: [1.5], lo: 0, bits: 12, inScale: 8, outScale: 6 },
];

describe('piecewise polynomial fits', () => {
  for (const c of CASES) {
    it(`${c.fn}: error over every input of the domain ≤ the tolerance, and stated exactly`, () => {
      const f = (x: number) => SCALAR_FNS[c.fn]!(x, c.params ?? []);
      const tolerance = Math.max(2 ** -c.outScale, 2 ** -10 * 4);
      const fit = fitPiecewise({ f, lo: BigInt(c.lo), domainBits: c.bits, inScale: c.inScale, outScale: c.outScale, tolerance });
      const shift = fit.poly.polyScale - c.outScale;
      let worst = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < 2 ** c.bits; i++) {
        const x = BigInt(c.lo + i);
        const y = rescale(evalPoly(fit.poly, x), shift);
        lo = Math.min(lo, Number(y));
        hi = Math.max(hi, Number(y));
        worst = Math.max(worst, Math.abs(Number(y) / 2 ** c.outScale - f(Number(x) / 2 ** c.inScale)));
      }
      expect(fit.poly.maxError).toBe(worst);
      expect(worst).toBeLessThanOrEqual(tolerance);
      expect([Number(fit.outLo), Number(fit.outHi)]).toEqual([lo, hi]);
      expect(fit.poly.coef).toHaveLength(2 ** fit.poly.segBits * (fit.poly.degree + 1));
    });
  }

  it('prefers cheap fits: a linear function needs one segment of degree 1', () => {
    const fit = fitPiecewise({ f: (x) => 3 * x - 1, lo: -512n, domainBits: 10, inScale: 6, outScale: 6, tolerance: 2 ** -6 });
    expect([fit.poly.segBits, fit.poly.degree]).toEqual([0, 1]);
  });
});

describe('clamps where a function is constant at the output scale', () => {
  // every saturating function: the ends move in, and every x past a new end (down to the old end,
  // where f is constant to 2^−32) is within the stated error of f at the new end
  for (const [fn, sat] of Object.entries(SATURATION)) {
    it(`${fn}: the clamp ends move in no further than the budget allows`, () => {
      const params = ({ celu: [1], elu: [1], selu: [1.6732632, 1.050701], hardsigmoid: [0.2, 0.5] } as Record<string, number[]>)[fn] ?? [];
      const f = (x: number) => SCALAR_FNS[fn]!(x, params);
      const { lo, hi } = sat(params);
      const budget = 2 ** -13;
      const t = tightenClamp(f, lo, hi, budget);
      expect(t.error).toBeLessThanOrEqual(budget);
      for (const [end, from] of [[t.lo, lo], [t.hi, hi]] as const) {
        if (end === undefined || from === undefined) continue;
        expect(Math.abs(end)).toBeLessThanOrEqual(Math.abs(from));
        for (let i = 0; i <= 4000; i++) {
          const x = from + ((end - from) * i) / 4000;
          expect(Math.abs(f(x) - f(end))).toBeLessThanOrEqual(t.error + 2 ** -32);
        }
      }
    });
  }

  it('sigmoid and tanh at a 2^−13 budget: clamped near ±9 and ±5 (not ±23, ±12), exp(x − max) near −9', () => {
    const at = (fn: string) => tightenClamp((x) => SCALAR_FNS[fn]!(x, []), SATURATION[fn]!([]).lo, SATURATION[fn]!([]).hi, 2 ** -13);
    const s = at('sigmoid');
    expect(s.lo).toBeGreaterThan(-9.5);
    expect(s.lo).toBeLessThan(-8.5);
    expect(s.hi).toBeCloseTo(-s.lo!, 5);
    expect(at('tanh').hi).toBeLessThan(5.5);
    expect(at('exp').lo).toBeGreaterThan(-9.5);
  });
});
