// Shape arithmetic shared by constant folding and linearization (numpy broadcasting rules).
import { sizeOf } from './graph.js';

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The broadcast shape of a and b, or undefined when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each flat index of `out`, the flat index of the broadcast operand of shape `inp`. */
export function broadcastIndex(out: readonly number[], inp: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const os = strides(out);
  const is = strides(inp);
  const off = out.length - inp.length;
  for (let f = 0; f < n; f++) {
    let rem = f;
    let j = 0;
    for (let d = 0; d < out.length; d++) {
      const coord = Math.floor(rem / os[d]!);
      rem -= coord * os[d]!;
      const di = d - off;
      if (di >= 0 && inp[di] !== 1) j += coord * is[di]!;
    }
    map[f] = j;
  }
  return map;
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), −1 is inferred. */
export function reshapeTarget(input: readonly number[], spec: readonly number[], allowzero: boolean): number[] | string {
  const out = spec.map((d, i) => (d === 0 && !allowzero ? input[i] ?? NaN : d));
  const total = sizeOf(input);
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) return `shape [${spec}] has more than one -1`;
  if (out.some((d) => Number.isNaN(d) || d < -1)) return `shape [${spec}] is invalid for input [${input}]`;
  if (minus === 1) {
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || total % known !== 0) return `cannot reshape [${input}] to [${spec}]`;
    out[out.indexOf(-1)] = total / known;
  }
  if (sizeOf(out) !== total) return `cannot reshape [${input}] (${total} elements) to [${out}]`;
  return out;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
