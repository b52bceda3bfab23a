// Max and min of arrays of any length. Math.max(...xs) passes every element as an argument, and
// past ~10^5 of them V8 throws "Maximum call stack size exceeded": a big forest's class ids, a
// dataset's labels and a large constant are all that long.

/** The largest element (-Infinity for none), as Math.max would give. */
export function maxOf(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x > m || Number.isNaN(x) || (x === 0 && m === 0 && Object.is(m, -0))) m = x; // max(-0, 0) is 0
    if (Number.isNaN(m)) return NaN;
  }
  return m;
}

/** The smallest element (Infinity for none), as Math.min would give. */
export function minOf(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x < m || Number.isNaN(x) || (x === 0 && m === 0 && Object.is(x, -0))) m = x; // min(0, -0) is -0
    if (Number.isNaN(m)) return NaN;
  }
  return m;
}
