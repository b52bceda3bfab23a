// AffineGraph + calibrated ranges → QuantGraph. Picks power-of-two scales, turns every affine
// map into exact integers, and runs the bound analysis that sizes each decomposition and proves
// that no admissible witness can wrap around the BN254 scalar field.
import { ZkonnxError } from '../errors.js';
import type { AffineGraph, LinExpr, QAct, QAffine, QInput, QOutput, QuantGraph, QuantParams } from '../ir/graph.js';
import type { Ranges } from './calibrate.js';

export const DEFAULT_PARAMS: QuantParams = { activationBits: 12, weightBits: 12 };

/** Every |value| an equation in the circuit handles stays below this (p ≈ 2^253.6; p/2 > 2^252). */
export const FIELD_SAFE_BITS = 252;

const log2ceil = (x: number) => Math.ceil(Math.log2(x));
/** Smallest n ≥ 0 with 2^n > v (v ≥ 0). */
export const bitlen = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length);

/** Scale s such that maxabs·2^s ≤ 2^bits. */
export function scaleFor(maxabs: number, bits: number): number {
  return maxabs > 0 && Number.isFinite(maxabs) ? bits - log2ceil(maxabs) : bits;
}

export function roundBig(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`cannot quantize ${x}`);
  return BigInt(Math.round(x));
}

/** Weight scale: the smallest exact power of two when the weights have one (reshapes, ±1), else the cap. */
function weightScale(exprs: LinExpr[], weightBits: number): number {
  let maxw = 0;
  for (const e of exprs) for (const w of e.w) maxw = Math.max(maxw, Math.abs(w));
  const cap = scaleFor(maxw, weightBits);
  for (let s = Math.min(0, cap); s <= cap; s++) {
    const f = 2 ** s;
    if (exprs.every((e) => e.w.every((w) => Math.abs(w * f - Math.round(w * f)) <= 1e-12 * Math.max(1, Math.abs(w * f))))) return s;
  }
  return cap;
}

interface Interval { lo: bigint; hi: bigint }

function quantizeAffine(exprs: LinExpr[], scaleOf: (idx: number) => number, params: QuantParams): { affine: QAffine; accScale: number } {
  const sw = weightScale(exprs, params.weightBits);
  let smax = -Infinity;
  for (const e of exprs) for (const i of e.idx) smax = Math.max(smax, scaleOf(i));
  const accScale = sw + (Number.isFinite(smax) ? smax : params.activationBits);
  const affine: QAffine = { rowStart: [0], index: [], coef: [], bias: [] };
  for (const e of exprs) {
    for (let t = 0; t < e.idx.length; t++) {
      const q = roundBig(e.w[t]! * 2 ** (accScale - scaleOf(e.idx[t]!)));
      if (q !== 0n) { affine.index.push(e.idx[t]!); affine.coef.push(q); }
    }
    affine.rowStart.push(affine.index.length);
    affine.bias.push(roundBig(e.c * 2 ** accScale));
  }
  return { affine, accScale };
}

/** Interval of each row of an integer affine map, from the intervals of the values. */
function affineBounds(a: QAffine, iv: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let r = 0; r < a.bias.length; r++) {
    let lo = a.bias[r]!;
    let hi = lo;
    for (let t = a.rowStart[r]!; t < a.rowStart[r + 1]!; t++) {
      const c = a.coef[t]!;
      const v = iv[a.index[t]!]!;
      if (c > 0n) { lo += c * v.lo; hi += c * v.hi; } else { lo += c * v.hi; hi += c * v.lo; }
    }
    out.push({ lo, hi });
  }
  return out;
}

export function floorDiv(a: bigint, d: bigint): bigint {
  const q = a / d;
  return a % d !== 0n && (a < 0n) !== (d < 0n) ? q - 1n : q;
}

/** q = floor((acc + 2^(k−1)) / 2^k), the circuit's rounding (half up). */
export function rescale(acc: bigint, k: number): bigint {
  return k === 0 ? acc : floorDiv(acc + (1n << BigInt(k - 1)), 1n << BigInt(k));
}

const absMax = (v: Interval) => (-v.lo > v.hi ? -v.lo : v.hi);

export function quantize(ag: AffineGraph, ranges: Ranges, params: QuantParams = DEFAULT_PARAMS): QuantGraph {
  const scales = new Float64Array(ag.totalValues);
  const iv: Interval[] = new Array(ag.totalValues);

  const inputs: QInput[] = ag.inputs.map((v, i) => {
    const { min, max } = ranges.inputs[i]!;
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw new ZkonnxError('INPUT_INVALID', `input '${v.name}': calibration saw no finite values`, { hint: 'check the calibration file' });
    }
    const scale = scaleFor(Math.max(Math.abs(min), Math.abs(max)), params.activationBits);
    const qmin = roundBig(min * 2 ** scale);
    const qmax = roundBig(max * 2 ** scale);
    // Non-negative data (pixels) needs no sign bit; otherwise a symmetric power-of-two range.
    let lo: bigint;
    let bits: number;
    if (qmin >= 0n) { lo = 0n; bits = Math.max(1, bitlen(qmax)); } else {
      const b = bitlen(-qmin > qmax ? -qmin : qmax);
      lo = -(1n << BigInt(b)); bits = b + 1;
    }
    if (bits + 1 > FIELD_SAFE_BITS) {
      throw new ZkonnxError('QUANT_OVERFLOW', `input '${v.name}' needs a ${bits}-bit range check, more than the field allows`, { hint: 'lower --activation-bits' });
    }
    for (let j = 0; j < v.size; j++) { scales[v.offset + j] = scale; iv[v.offset + j] = { lo, hi: lo + (1n << BigInt(bits)) - 1n }; }
    return { name: v.name, shape: v.shape, offset: v.offset, size: v.size, scale, lo, bits, calibrated: { min, max } };
  });

  const acts: QAct[] = ag.acts.map((a) => {
    const { affine, accScale } = quantizeAffine(a.expr, (i) => scales[i]!, params);
    let scale = scaleFor(ranges.acts.get(a.name) ?? 0, params.activationBits);
    if (scale > accScale) scale = accScale; // never scale up: k ≥ 0
    const shift = accScale - scale;
    const acc = affineBounds(affine, iv);
    let accBound = 0n;
    const bits = acc.map((r, j) => {
      const qlo = rescale(r.lo, shift);
      const qhi = rescale(r.hi, shift);
      const b = Math.max(bitlen(-qlo > 0n ? -qlo - 1n : 0n) , bitlen(qhi));
      // the constraints guarantee q ∈ [−2^b, 2^b): downstream bounds use that, not the analysis
      const top = (1n << BigInt(b)) - 1n;
      iv[a.offset + j] = a.act === 'relu' ? { lo: 0n, hi: top } : { lo: -(1n << BigInt(b)), hi: top };
      scales[a.offset + j] = scale;
      const m = absMax(r);
      if (m > accBound) accBound = m;
      if (bitlen(m) + 1 > FIELD_SAFE_BITS || b + shift + 2 > FIELD_SAFE_BITS) {
        throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: element ${j} of '${a.name}' needs ${b + shift + 2} bits, more than the field allows (${FIELD_SAFE_BITS})`, {
          node: a.nodes[0], hint: 'lower --activation-bits or --weight-bits',
        });
      }
      return b;
    });
    return { name: a.name, shape: a.shape, offset: a.offset, size: a.size, act: a.act, scale, accScale, shift, affine, bits, accBound, nodes: a.nodes };
  });

  const outputs: QOutput[] = ag.outputs.map((o) => {
    const { affine, accScale } = quantizeAffine(o.expr, (i) => scales[i]!, params);
    const bound = affineBounds(affine, iv).reduce((m, r) => (absMax(r) > m ? absMax(r) : m), 0n);
    if (bitlen(bound) > FIELD_SAFE_BITS) {
      throw new ZkonnxError('QUANT_OVERFLOW', `output '${o.name}' can reach ${bitlen(bound)} bits, more than the field allows`, { hint: 'lower --weight-bits' });
    }
    return { name: o.name, shape: o.shape, scale: accScale, affine, bound };
  });
  return { name: ag.name, inputs, acts, outputs, totalValues: ag.totalValues, params };
}
