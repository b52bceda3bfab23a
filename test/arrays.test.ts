// maxOf / minOf (src/arrays.ts): Math.max's and Math.min's results, at lengths where spreading
// an array into Math.max overflows V8's stack.
import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../src/arrays.js';

describe('maxOf / minOf', () => {
  it('agree with Math.max / Math.min, empty and NaN included', () => {
    for (const xs of [[], [3], [1, -2, 7, 7, 0], [-0, 0], [NaN, 1], [1, NaN], [-Infinity, 5]]) {
      expect(maxOf(xs), String(xs)).toBe(Math.max(...xs));
      expect(minOf(xs), String(xs)).toBe(Math.min(...xs));
    }
    expect(maxOf(new Float64Array([2, 9, 4]))).toBe(9);
  });

  it('take arrays of a million elements (Math.max(...xs) throws there)', () => {
    const xs = Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 1_000_003);
    expect(() => Math.max(...xs)).toThrow(RangeError);
    expect(maxOf(xs)).toBe(xs.reduce((a, b) => (b > a ? b : a)));
    expect(minOf(xs)).toBe(0);
  });
});
