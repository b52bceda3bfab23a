// AffineGraph + calibrated ranges → QuantGraph. Picks power-of-two scales, turns every affine
// map into exact integers, and runs the bound analysis that sizes each decomposition and proves
// that no admissible witness can wrap around the BN254 scalar field.
import { ZkonnxError } from '../errors.js';
import type { ActValue, AffineGraph, InputValue, LinExpr, QAct, QAffine, QInput, QOutput, QuantGraph, QuantParams } from '../ir/graph.js';
import { SCALAR_FNS } from '../ir/ops/scalar.js';
import { FIELD_SAFE_BITS, absBig, bitlen, divConst, divConstParams, divRound, floorDiv, rescale, roundBig, scaleFor } from './int.js';
import { fitPiecewise, tightenClamp } from './poly.js';
import type { Ranges } from './calibrate.js';

export const DEFAULT_PARAMS: QuantParams = { activationBits: 12, weightBits: 12, headroomBits: 4 };
/** headroomBits from which there is no cap: every quotient gets its whole interval. */
export const NO_HEADROOM_CAP = 64;
export { FIELD_SAFE_BITS, bitlen, scaleFor, roundBig, floorDiv, rescale } from './int.js';

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

const absMax = (v: Interval) => (-v.lo > v.hi ? -v.lo : v.hi);

export function quantize(ag: AffineGraph, ranges: Ranges, params: QuantParams = DEFAULT_PARAMS): QuantGraph {
  const scales = new Float64Array(ag.totalValues);
  const iv: Interval[] = new Array(ag.totalValues);

  // committed weights: each tensor at its own scale, none finer than the finest kernel's (rank ≥ 2)
  const own = ag.inputs.map((v, i) => (v.role === 'weight' ? weightScaleOf(Math.max(Math.abs(ranges.inputs[i]!.min), Math.abs(ranges.inputs[i]!.max)), params.weightBits) : NaN));
  const kernels = ag.inputs.flatMap((v, i) => (v.role === 'weight' && v.shape.length >= 2 ? [own[i]!] : []));
  const kernelCap = kernels.length ? Math.max(...kernels) : Infinity;
  const inputs: QInput[] = ag.inputs.map((v, i) => {
    const { min, max } = ranges.inputs[i]!;
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw new ZkonnxError('INPUT_INVALID', `input '${v.name}': calibration saw no finite values`, { hint: 'check the calibration file' });
    }
    // thresholds are compared, never multiplied: no kernel's scale bounds theirs
    if (v.role === 'weight') return weightInput(v, min, max, params, params.weightScale ?? (v.compared ? own[i]! : Math.min(own[i]!, kernelCap)), scales, iv);
    if (v.categories) return categoricalInput(v, scales, iv);
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
    return { name: v.name, shape: v.shape, dtype: v.dtype, offset: v.offset, size: v.size, scale, lo, bits, calibrated: { min, max } };
  });

  const wide = sqrtFed(ag);
  const acts: QAct[] = ag.acts.map((a, j) => quantizeAct(a, ranges.acts.get(a.name) ?? 0, scales, iv,
    wide.has(j) ? { ...params, activationBits: Math.min(2 * params.activationBits, SQRT_INPUT_BITS) } : params, ranges.operands?.get(a.name)));

  const outputs: QOutput[] = ag.outputs.map((o) => {
    const { affine, accScale } = quantizeAffine(o.expr, (i) => scales[i]!, params);
    const bound = affineBounds(affine, iv).reduce((m, r) => (absMax(r) > m ? absMax(r) : m), 0n);
    if (bitlen(bound) > FIELD_SAFE_BITS) {
      throw new ZkonnxError('QUANT_OVERFLOW', `output '${o.name}' can reach ${bitlen(bound)} bits, more than the field allows`, { hint: 'lower --weight-bits' });
    }
    return { name: o.name, shape: o.shape, scale: accScale, affine, bound, ...(o.categories ? { categories: o.categories } : {}) };
  });
  const valueBounds = Array.from({ length: ag.totalValues }, (_, j) => (iv[j] ? { lo: iv[j]!.lo, hi: iv[j]!.hi } : { lo: 0n, hi: 0n }));
  return { name: ag.name, inputs, acts, outputs, totalValues: ag.totalValues, params, valueBounds };
}

/** Extra coefficient bits of a round's operands (past weightBits), where their coefficients need them. */
const ROUND_WEIGHT_BITS = 12;

/** Most bits a round's operands are lifted by (past scale 0) to make its divisor an integer (argScale → S). */
const ROUND_LIFT_MAX = 32;

/** Cap of the doubled precision of a square root's operands (sqrtFed). */
const SQRT_INPUT_BITS = 32;

/**
 * The products and rescales whose values flow only into square roots (a magnitude spectrum
 * √(re² + im²), an L2 norm): √ halves the bits, so at the activation width a small magnitude next
 * to a large one rounds to 0 (√ of a sum of squares at step 2 is 0 or 1.4). They get twice the
 * activation bits, so √'s output keeps the activation width's precision.
 */
function sqrtFed(ag: AffineGraph): Set<number> {
  const owner = new Int32Array(ag.totalValues).fill(-1);
  ag.acts.forEach((a, j) => owner.fill(j, a.offset, a.offset + a.size));
  const consumers = ag.acts.map(() => new Set<number>()); // -1: a graph output
  ag.acts.forEach((a, j) => { for (const row of a.args) for (const e of row) for (const i of e.idx) if (owner[i]! >= 0) consumers[owner[i]!]!.add(j); });
  for (const o of ag.outputs) for (const e of o.expr) for (const i of e.idx) if (owner[i]! >= 0) consumers[owner[i]!]!.add(-1);
  const wide = new Set<number>();
  // consumers come later in topological order: decide from the last act back
  for (let j = ag.acts.length - 1; j >= 0; j--) {
    const k = ag.acts[j]!.op.kind;
    const cs = consumers[j]!;
    if ((k === 'mul' || k === 'rescale') && cs.size && [...cs].every((c) => c >= 0 && (ag.acts[c]!.op.kind === 'sqrt' || wide.has(c)))) wide.add(j);
  }
  return wide;
}

/** The largest scale at which |w| ≤ maxabs rounds into wb-bit signed integers. */
function weightScaleOf(maxabs: number, wb: number): number {
  const half = 1n << BigInt(wb - 1);
  let scale = scaleFor(maxabs, wb - 1);
  while (scale > -64 && roundBig(maxabs * 2 ** scale) >= half) scale--;
  return scale;
}

/**
 * A committed weight tensor (--weights hashed): signed weightBits-bit integers at `scale`: its
 * own, the largest at which its largest |w| fits (a BatchNorm-fused kernel and a bias each use
 * the whole width) but no finer than the finest kernel's (a tiny bias at its own scale would lift
 * every operand of its layer's dot products to that scale), or the one --weight-scale gives
 * every tensor. Its range is the full signed range, not the weights' own, so that the bound
 * analysis and with it the circuit hold for any weights of this architecture at these scales.
 */
function weightInput(v: InputValue, min: number, max: number, params: QuantParams, scale: number, scales: Float64Array, iv: Interval[]): QInput {
  const wb = params.weightBits;
  const half = 1n << BigInt(wb - 1);
  const maxabs = Math.max(Math.abs(min), Math.abs(max));
  const top = roundBig(maxabs * 2 ** scale);
  if (top >= half) {
    throw new ZkonnxError('QUANT_OVERFLOW', `weight '${v.name}': |w| up to ${maxabs} is ${top} at scale 2^${scale}, outside ${wb}-bit signed integers`, {
      hint: 'raise --weight-bits or lower --weight-scale',
    });
  }
  for (let j = 0; j < v.size; j++) { scales[v.offset + j] = scale; iv[v.offset + j] = { lo: -half, hi: half - 1n }; }
  return { name: v.name, shape: v.shape, dtype: v.dtype, role: 'weight', offset: v.offset, size: v.size, scale, lo: -half, bits: wb, calibrated: { min, max } };
}

/**
 * A categorical (string) input: integer category codes at scale 0, range-checked to [0, 2^b) with
 * 2^b > k = the number of categories, so that every code, "unknown" (k) included, is admissible
 * whatever the calibration samples held. Codes above k match no category, as k does.
 */
function categoricalInput(v: InputValue, scales: Float64Array, iv: Interval[]): QInput {
  const k = v.categories!.length;
  const bits = Math.max(1, bitlen(BigInt(k)));
  for (let j = 0; j < v.size; j++) { scales[v.offset + j] = 0; iv[v.offset + j] = { lo: 0n, hi: (1n << BigInt(bits)) - 1n }; }
  return {
    name: v.name, shape: v.shape, dtype: v.dtype, offset: v.offset, size: v.size, scale: 0, lo: 0n, bits, calibrated: { min: 0, max: k },
    categories: v.categories!, ...(v.closedBy ? { closedBy: v.closedBy } : {}), ...(v.text ? { text: v.text } : {}),
  };
}

/** The limit that was hit, named in the message: the field's, or the function approximation's domain. */
const overflow = (a: ActValue, what: string, bits: number, limit = `the field allows (${FIELD_SAFE_BITS})`, hint = 'lower --activation-bits or --weight-bits'): never => {
  throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: ${what} of '${a.name}' needs ${bits} bits, more than ${limit}`, {
    node: a.nodes[0], op: a.nodes[0], hint,
  });
};
/** Widest input domain a piecewise polynomial covers, in bits at the input's scale (2^24 inputs). */
const FN_DOMAIN_BITS = 24;
const big = (n: number) => 1n << BigInt(n);
/** Bits b with v ∈ [−2^b, 2^b) for every v in the interval. */
const signedBits = (r: Interval) => Math.max(bitlen(r.lo < 0n ? -r.lo - 1n : 0n), bitlen(r.hi));
const mulIv = (x: Interval, y: Interval): Interval => {
  const p = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi];
  return { lo: p.reduce((m, v) => (v < m ? v : m)), hi: p.reduce((m, v) => (v > m ? v : m)) };
};

/** Interval of x²: ≥ 0, which mulIv(x, x) cannot see (an RBF kernel's (x − sv)² with committed sv). */
const squareIv = (x: Interval): Interval => {
  const [a, b] = [x.lo * x.lo, x.hi * x.hi];
  return { lo: x.lo <= 0n && x.hi >= 0n ? 0n : a < b ? a : b, hi: a > b ? a : b };
};

/**
 * Interval of Σ x[2i]·x[2i+1] (+ an odd last operand · 2^argScale): see exec.ts mulAcc.
 * `square(2i)`: the pair is one row twice, so its product is a square.
 */
function mulAccIv(r: Interval[], argScale: number, square: (t: number) => boolean): Interval {
  const s = r.length % 2 ? { lo: r[r.length - 1]!.lo * big(argScale), hi: r[r.length - 1]!.hi * big(argScale) } : { lo: 0n, hi: 0n };
  for (let i = 0; i + 1 < r.length; i += 2) { const p = square(i) ? squareIv(r[i]!) : mulIv(r[i]!, r[i + 1]!); s.lo += p.lo; s.hi += p.hi; }
  return s;
}

/**
 * One non-linear value: its operands as integer rows, its output scale from the calibrated
 * range, and the bit widths of every decomposition from the intervals the constraints guarantee,
 * so that no admissible witness can wrap around the field. A rescale's or product's quotient is
 * range-checked to the smaller of its interval and headroomBits past its calibrated range (2^4 =
 * 16 times the largest value calibration saw, by default): the interval of a deep network's last
 * layers grows about 3 bits a layer (ResNet-20's 64 bits where its values take 13), and its
 * check is what keeps every later interval small. The check is a constraint like any other: an
 * input that drives a value past it has no witness (prove names the node), never a wrong one.
 */
function quantizeAct(a: ActValue, range: number, scales: Float64Array, iv: Interval[], params: QuantParams, operandRange?: number): QAct {
  const argStart = [0];
  const rowsFlat: LinExpr[] = [];
  for (const r of a.args) { rowsFlat.push(...r); argStart.push(rowsFlat.length); }
  // a rounding's operand gets ROUND_WEIGHT_BITS more coefficient bits where its coefficients are
  // no exact dyadic fractions (a QuantizeLinear's x / scale): its integer flips at every .5 boundary
  const argParams = a.op.kind === 'round' ? { ...params, weightBits: params.weightBits + ROUND_WEIGHT_BITS } : params;
  let { affine: args, accScale: argScale } = quantizeAffine(rowsFlat, (i) => scales[i]!, argParams);
  let rows = affineBounds(args, iv);
  const elemRows = (i: number) => rows.slice(argStart[i]!, argStart[i + 1]!);
  const calibrated = scaleFor(range, params.activationBits);
  const bits: number[] = [];
  const aux: number[] = [];
  let accBound = rows.reduce((m, r) => (absMax(r) > m ? absMax(r) : m), 0n);
  let shift = 0;
  let scale = argScale;
  const set = (i: number, r: Interval) => { iv[a.offset + i] = r; scales[a.offset + i] = scale; };
  const op = a.op;
  let poly: QAct['poly'];
  let clamp: QAct['clamp'];
  let plain = op.kind === 'mul' && !op.relu && !a.mm;

  switch (op.kind) {
    case 'rescale': case 'mul': {
      const inScale = op.kind === 'mul' ? 2 * argScale : argScale;
      scale = Math.min(calibrated, inScale); // never scale up: k ≥ 0
      shift = inScale - scale;
      // the calibrated values' bits plus the headroom (no cap where calibration saw only zeros)
      const headroom = params.headroomBits ?? DEFAULT_PARAMS.headroomBits!;
      const cap = range > 0 && Number.isFinite(range) && headroom < NO_HEADROOM_CAP && !(op.kind === 'rescale' && op.whole) ? bitlen(BigInt(Math.ceil(range * 2 ** scale))) + headroom : Infinity;
      for (let i = 0; i < a.size; i++) {
        const r = elemRows(i);
        const acc = op.kind === 'mul' ? mulAccIv(r, argScale, (t) => isMultiple(args, argStart[i]! + t, argStart[i]! + t + 1, 1n)) : r[0]!;
        if (absMax(acc) > accBound) accBound = absMax(acc);
        if (op.kind === 'mul') for (let t = 0; t + 1 < r.length; t += 2) { const p = absMax(mulIv(r[t]!, r[t + 1]!)); if (p > accBound) accBound = p; }
        // a stated bound (a normalized value) narrows what the range check admits, and so enforces it
        const known = op.kind === 'mul' && op.bound !== undefined ? BigInt(Math.ceil(op.bound * 2 ** scale)) : undefined;
        const qlo = rescale(acc.lo, shift);
        const qhi = rescale(acc.hi, shift);
        const b = Math.min(cap, signedBits(known === undefined ? { lo: qlo, hi: qhi } : { lo: qlo < -known ? -known : qlo, hi: qhi > known ? known : qhi }));
        // the range check adds nothing where the product is exact and its interval is the operands'
        if (shift !== 0 || known !== undefined || b < signedBits({ lo: qlo, hi: qhi })) plain = false;
        if (b + shift + 2 > FIELD_SAFE_BITS || bitlen(absMax(acc)) + 1 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, b + shift + 2);
        bits.push(b);
        aux.push(0);
        // the constraints guarantee q ∈ [−2^b, 2^b): downstream bounds use that, not the analysis
        // q is a monotone function of the accumulator, whose interval is guaranteed: so is q's
        const env = { lo: -big(b), hi: big(b) - 1n };
        const q = { lo: qlo > env.lo ? qlo : env.lo, hi: qhi < env.hi ? qhi : env.hi };
        set(i, op.relu ? { lo: q.lo > 0n ? q.lo : 0n, hi: q.hi > 0n ? q.hi : 0n } : q);
      }
      break;
    }
    case 'max': case 'argmax': {
      for (let i = 0; i < a.size; i++) {
        const r = elemRows(i);
        const lo = r.reduce((m, x) => (x.lo < m ? x.lo : m), r[0]!.lo);
        const hi = r.reduce((m, x) => (x.hi > m ? x.hi : m), r[0]!.hi);
        const d = Math.max(1, bitlen(hi - lo)); // every comparison difference lies in [−(hi − lo), hi − lo]
        if (d + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, d + 2);
        aux.push(d);
        bits.push(0);
        if (op.kind === 'max') {
          // max(x, −x) = |x| ≥ 0, which the interval of each operand alone cannot show
          const absLike = r.length === 2 && isMultiple(args, argStart[i]!, argStart[i]! + 1, -1n);
          const mlo = r.reduce((m, x) => (x.lo > m ? x.lo : m), r[0]!.lo);
          set(i, { lo: absLike && mlo < 0n ? 0n : mlo, hi });
        } else {
          scales[a.offset + i] = 0;
          iv[a.offset + i] = { lo: 0n, hi: BigInt(r.length - 1) };
        }
      }
      if (op.kind === 'argmax') scale = 0;
      break;
    }
    case 'less': case 'equal': {
      scale = 0;
      for (let i = 0; i < a.size; i++) {
        const [x, y] = elemRows(i);
        const d = { lo: y!.lo - x!.hi - 1n, hi: y!.hi - x!.lo - 1n };
        const b = Math.max(1, signedBits(d));
        if (b + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, b + 2);
        aux.push(b);
        bits.push(0);
        iv[a.offset + i] = { lo: 0n, hi: 1n };
        scales[a.offset + i] = 0;
      }
      break;
    }
    case 'select': {
      // the condition row is at argScale: c·2^argScale with c ∈ {0, 1}, enforced in the circuit
      for (let i = 0; i < a.size; i++) {
        const [, x, y] = elemRows(i);
        bits.push(0);
        aux.push(0);
        set(i, { lo: x!.lo < y!.lo ? x!.lo : y!.lo, hi: x!.hi > y!.hi ? x!.hi : y!.hi });
      }
      break;
    }
    case 'div': {
      // q = round(A·2^scale / B) with B ∈ [1, 2^aux) proven; a denominator that is always
      // ≤ 0 is negated with the numerator, one that may change sign is refused
      scale = op.integer ? 0 : calibrated + (op.fine ?? 0);
      for (let i = 0; i < a.size; i++) {
        const [, den] = elemRows(i);
        if (den!.lo < 0n && den!.hi > 0n) {
          throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: the denominator of '${a.name}'[${i}] can take both signs`, {
            node: a.nodes[0], hint: 'zkonnx divides by values of one sign; bound the denominator away from zero',
          });
        }
      }
      const negate = a.args.map((_, i) => elemRows(i)[1]!.hi <= 0n);
      if (negate.some((n) => n)) {
        args = { ...args, coef: args.coef.slice(), bias: args.bias.slice() };
        for (let i = 0; i < a.size; i++) {
          if (!negate[i]) continue;
          for (let r = argStart[i]!; r < argStart[i + 1]!; r++) {
            args.bias[r] = -args.bias[r]!;
            for (let t = args.rowStart[r]!; t < args.rowStart[r + 1]!; t++) args.coef[t] = -args.coef[t]!;
          }
        }
        rows = affineBounds(args, iv);
      }
      // a stated bound on the quotient narrows what the range check admits, and so enforces it
      const known = op.bound !== undefined ? BigInt(Math.ceil(op.bound * 2 ** scale)) + 1n : undefined;
      for (let i = 0; i < a.size; i++) {
        const [num, den] = elemRows(i);
        const bb = Math.max(1, bitlen(den!.hi)); // B − 1 ∈ [0, 2^bb)
        // |q| ≤ |A|·2^scale / B + 1/2, and B is at least d0, its interval's low end (≥ 1: the range check)
        const d0 = den!.lo > 1n ? den!.lo : 1n;
        const wide = (absMax(num!) * big(scale)) / d0 + 1n;
        const qmax = known !== undefined && known < wide ? known : wide;
        const bq = bitlen(qmax);
        const worst = bitlen(absMax(num!) * big(scale + 1)) + bb + 3;
        if (worst > FIELD_SAFE_BITS || bq + bb + 3 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, Math.max(worst, bq + bb + 3));
        if (absMax(num!) * big(scale + 1) > accBound) accBound = absMax(num!) * big(scale + 1);
        bits.push(bq);
        aux.push(bb);
        // q is monotone in the numerator and, for a fixed numerator sign, in the denominator
        const corners = [num!.lo, num!.hi].flatMap((n) => [d0, den!.hi > d0 ? den!.hi : d0].map((d) => divRound(n * big(scale), d)));
        // the constraints guarantee q ∈ [−2^bq, 2^bq): downstream bounds use that where it is tighter
        const lo = corners.reduce((m, v) => (v < m ? v : m));
        const hi = corners.reduce((m, v) => (v > m ? v : m));
        set(i, { lo: lo > -big(bq) ? lo : -big(bq), hi: hi < big(bq) - 1n ? hi : big(bq) - 1n });
      }
      break;
    }
    case 'round': {
      // x / d rounded (DivConst): exact at a scale S where every D = d·2^S is an integer (the
      // operand rows are lifted from argScale to S: x·2^lift, exactly); a divisor that is no
      // dyadic fraction there is rounded to D/2^S at S = argScale + ROUND_LIFT_MAX
      const ds = a.args.map((r) => r[1]!.c);
      if (a.args.some((r) => r[1]!.idx.length > 0 || !(r[1]!.c > 0))) throw new Error(`'${a.name}': round needs a positive constant divisor`);
      let lift = 0;
      while (lift < Math.max(0, -argScale) + ROUND_LIFT_MAX && !ds.every((d) => Number.isInteger(d * 2 ** (argScale + lift)))) lift++;
      if (lift > 0) {
        const f = big(lift);
        args = { ...args, coef: args.coef.map((c) => c * f), bias: args.bias.map((c) => c * f) };
        argScale += lift;
      }
      args.bias = args.bias.slice();
      for (let i = 0; i < a.size; i++) {
        const D = roundBig(ds[i]! * 2 ** argScale);
        if (D < 1n) {
          throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: the divisor ${ds[i]} of '${a.name}'[${i}] is 0 at scale 2^${argScale}`, {
            node: a.nodes[0], hint: 'zkonnx divides by constants of at least 2^-32 times the operand\'s step',
          });
        }
        args.bias[argStart[i]! + 1] = D;
      }
      rows = affineBounds(args, iv);
      accBound = rows.reduce((m, r) => (absMax(r) > m ? absMax(r) : m), 0n);
      scale = op.rem ? argScale : 0;
      for (let i = 0; i < a.size; i++) {
        const [x, d] = elemRows(i);
        const D = d!.lo;
        const { off } = divConstParams(op.mode, D);
        const f = { lo: floorDiv(x!.lo + off, D), hi: floorDiv(x!.hi + off, D) };
        const b = Math.max(1, signedBits(f));
        const m = bitlen(D - 1n); // the remainder's bits: D = 2^m, or m bits twice (r and D − 1 − r)
        if (bitlen(D) + b + 3 > FIELD_SAFE_BITS || bitlen(absMax(x!) + off) + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, bitlen(D) + b + 3);
        if (D * big(b + 1) > accBound) accBound = D * big(b + 1);
        bits.push(b);
        aux.push(m);
        // q is monotone in x; the remainder lies in [0, D) (floor) or (−D, D) with x's sign (trunc)
        const q = { lo: divConst(x!.lo, D, op.mode).q, hi: divConst(x!.hi, D, op.mode).q };
        if (!op.rem) { set(i, q); continue; }
        if (q.lo === q.hi) { set(i, { lo: x!.lo - q.lo * D, hi: x!.hi - q.lo * D }); continue; }
        if (op.mode === 'floor') set(i, { lo: 0n, hi: D - 1n });
        else if (op.mode === 'trunc') set(i, { lo: x!.lo >= 0n ? 0n : 1n - D, hi: x!.hi <= 0n ? 0n : D - 1n });
        else set(i, { lo: 1n - D, hi: D - 1n });
      }
      break;
    }
    case 'sqrt': {
      // y = ⌊√(X·2^(2·scale − argScale))⌋; the scale is raised until that shift is ≥ 0
      scale = Math.max(calibrated, Math.ceil(argScale / 2));
      shift = 2 * scale - argScale;
      for (let i = 0; i < a.size; i++) {
        const [x] = elemRows(i);
        // a stated most radicand narrows the root's width, which then enforces it (y < 2^by ⇒ n < 2^(2·by))
        const top = op.radicandMax !== undefined && BigInt(op.radicandMax) < x!.hi ? BigInt(op.radicandMax) : x!.hi;
        const n = (top > 0n ? top : 0n) * big(shift);
        const by = Math.max(1, Math.ceil(bitlen(n) / 2));
        if (2 * by + 3 > FIELD_SAFE_BITS || bitlen(absMax(x!)) + shift + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, 2 * by + 3);
        bits.push(by);
        aux.push(by + 1);
        set(i, { lo: 0n, hi: big(by) - 1n });
      }
      break;
    }
    case 'fn': {
      const f = SCALAR_FNS[op.fn]!;
      let lo = rows[0]!.lo;
      let hi = rows[0]!.hi;
      for (const r of rows) { if (r.lo < lo) lo = r.lo; if (r.hi > hi) hi = r.hi; }
      // where f is constant, clamp x instead of fitting it there: a comparison, not bits
      // the fit's error budget; an eighth of it moves the clamp ends in to where f is constant at
      // the output scale (not merely to 2^−32): a narrower domain, fewer bits and pieces
      const tolerance = Math.max(2 ** -calibrated, (Number.isFinite(range) ? range : 1) * 2 ** -10);
      const cl = op.clamp && tightenClamp((x) => f(x, op.params), op.clamp.lo, op.clamp.hi, tolerance / 8);
      const L = cl?.lo !== undefined ? BigInt(Math.ceil(cl.lo * 2 ** argScale)) : undefined;
      const H = cl?.hi !== undefined ? BigInt(Math.floor(cl.hi * 2 ** argScale)) : undefined;
      /** A ClampedPoly's W for each element: x − base ∈ [−2^W, 2^W) over x's interval, within [least, most]. */
      const widths = (base: bigint, least: number, most = Infinity) => Array.from({ length: a.size }, (_, i) => {
        const r = elemRows(i)[0]!;
        const far = [r.lo - base, r.hi - base].reduce((m, v) => (v < 0n ? (-v > m ? -v : m) : (v + 1n > m ? v + 1n : m)), 0n);
        const w = Math.max(least, Math.min(bitlen(far), most));
        if (w + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, w + 2);
        return w;
      });
      /** Takes the fit's polynomial and rescale; its output's bits, and the range the constraints guarantee. */
      const adopt = (fit: ReturnType<typeof fitPiecewise>) => {
        poly = fit.poly;
        shift = poly.polyScale - scale;
        const b = Math.max(1, signedBits({ lo: fit.outLo, hi: fit.outHi }));
        if (bitlen(fit.accBound) + 2 > FIELD_SAFE_BITS || b + shift + 2 > FIELD_SAFE_BITS) overflow(a, `the polynomial of ${op.fn}`, bitlen(fit.accBound) + 2);
        if (fit.accBound > accBound) accBound = fit.accBound;
        // the output is a function of x alone (unique digits, fixed coefficients, unique rescale):
        // when every x was evaluated, its exact range is what the constraints guarantee
        return { b, out: fit.exhaustive ? { lo: fit.outLo, hi: fit.outHi } : { lo: -big(b), hi: big(b) - 1n } };
      };
      if (op.reluMinus) {
        // relu(x) − f(x), f saturating on both sides (GELU's h, kinked at 0): one ClampedPoly over
        // [−2^(B−1), 2^(B−1)), so that 0 starts a segment and x ≥ 0 is bit B−1 of x − lo, its bits
        // giving ⌊x / 2^k⌋ too. The floor is a step low on average: f takes half a step off at x ≥ 0
        scale = Math.min(calibrated, argScale);
        const k = argScale - scale;
        const half = 2 ** -(scale + 1);
        const cover = [L === undefined || -lo < -L ? -lo : -L, H === undefined || hi < H ? hi + 1n : H + 1n, 1n << BigInt(k)].reduce((m, v) => (v > m ? v : m));
        const B = bitlen(cover - 1n) + 1;
        const dlo = -(1n << BigInt(B - 1));
        // the headroom, as a rescale's: |x| up to 2^headroom times the largest calibrated |x|, which
        // keeps the output's interval, and later ones, small
        const headroom = params.headroomBits ?? DEFAULT_PARAMS.headroomBits!;
        const xr = operandRange ?? 0;
        const capW = xr > 0 && Number.isFinite(xr) && headroom < NO_HEADROOM_CAP ? bitlen((BigInt(Math.ceil(xr * 2 ** argScale)) << BigInt(headroom)) - dlo) : Infinity;
        const ws = widths(dlo, B + 1, capW);
        const wMax = ws.reduce((m, w) => Math.max(m, w), 0);
        if (big(wMax + 1 - k) > accBound) accBound = big(wMax + 1 - k); // |⌊x / 2^k⌋| and the ReLU's product
        const [cLo, cHi] = [cl?.lo ?? -Infinity, cl?.hi ?? Infinity];
        const g = (x: number) => f(Math.min(Math.max(x, cLo), cHi), op.params) - (k > 0 && x >= 0 ? half : 0);
        const fit = fitPiecewise({ f: g, lo: dlo, hi: -dlo - 1n, domainBits: B, inScale: argScale, outScale: scale, tolerance: tolerance - (cl?.error ?? 0) - (k > 0 ? half : 0), allowDrop: true });
        const { b, out: p } = adopt(fit);
        fit.poly.maxError += (cl?.error ?? 0) + (k > 0 ? half : 0);
        clamp = { lo: dlo, hi: -dlo - 1n, bits: ws, fused: true, relu: k };
        for (let i = 0; i < a.size; i++) {
          // ⌊x / 2^k⌋·[x ≥ 0] − p: x is at most its interval's top, and below dlo + 2^W (the decomposition)
          const r = elemRows(i)[0]!.hi;
          const top = r < dlo + big(ws[i]!) - 1n ? r : dlo + big(ws[i]!) - 1n;
          bits.push(b);
          aux.push(B);
          set(i, { lo: -p.hi, hi: (top > 0n ? floorDiv(top, big(k)) : 0n) - p.lo });
        }
        break;
      }
      const needLo = L !== undefined && lo < L;
      const needHi = H !== undefined && hi > H;
      if (needLo || needHi) {
        const cbits: number[] = [];
        for (let i = 0; i < a.size; i++) {
          const r = elemRows(i)[0]!;
          let mn = r.lo;
          let mx = r.hi;
          for (const k of [needLo ? L : undefined, needHi ? H : undefined]) if (k !== undefined) { if (k < mn) mn = k; if (k > mx) mx = k; }
          const d = Math.max(1, bitlen(mx - mn)); // every comparison difference lies in [−(mx − mn), mx − mn]
          if (d + 2 > FIELD_SAFE_BITS) overflow(a, `element ${i}`, d + 2);
          cbits.push(d);
        }
        clamp = { ...(needLo ? { lo: L } : {}), ...(needHi ? { hi: H } : {}), bits: cbits };
        if (needLo) { if (lo < L!) lo = L!; if (hi < L!) hi = L!; }
        if (needHi) { if (hi > H!) hi = H!; if (lo > H!) lo = H!; }
      }
      const domainBits = Math.max(1, bitlen(hi - lo));
      let capAt: number | undefined; // fused: the fit takes f at min(x, H) (its value there, or unreachable)
      if (needLo && needHi) {
        // both ends: one ClampedPoly clamps x to [L, L + 2^B − 1] (f is constant past H there too)
        // and evaluates it, from one decomposition of x − L + 2^W, x − L ∈ [−2^W, 2^W), W > B
        hi = L! + (1n << BigInt(domainBits)) - 1n;
        clamp = { lo: L!, hi, bits: widths(L!, domainBits + 1), fused: true };
        capAt = Number(H!) / 2 ** argScale;
      }
      // a domain wider than FN_DOMAIN_BITS is fine where the fit can drop the extra low bits (an
      // input far finer than the output needs): checked on the fit below
      const tooWide = (bits: number) => overflow(a, `the input domain of ${op.fn}`, bits, `a piecewise polynomial covers (${FN_DOMAIN_BITS})`,
        `${op.fn} is not constant outside the calibrated input range, so it cannot be clamped there: lower --activation-bits, or calibrate with inputs closer to the proving ones`);
      if (domainBits > FN_DOMAIN_BITS + 24) tooWide(domainBits);
      scale = calibrated;
      // outside f's domain (log, pow at x ≤ 0) the fit takes f at the smallest positive input
      const tiny = 2 ** -argScale;
      const g0 = (x: number) => { const y = f(x, op.params); return Number.isFinite(y) ? y : f(Math.max(x, tiny), op.params); };
      // past H, f is constant (saturation) or x never gets there (exp(x − max)): either way f(H)
      const g = capAt === undefined ? g0 : (x: number) => g0(Math.min(x, capAt!));
      let fit: ReturnType<typeof fitPiecewise>;
      try {
        fit = fitPiecewise({ f: g, lo, hi, domainBits, inScale: argScale, outScale: scale, tolerance: tolerance - (cl?.error ?? 0), allowDrop: true });
      } catch (e) {
        // a function value that is not a finite number over the domain (log of 0, pow of a negative)
        throw new ZkonnxError('QUANT_OVERFLOW', `node ${a.nodes.join(', ')}: ${op.fn} of '${a.name}' has no finite value somewhere on its input domain [${Number(lo) / 2 ** argScale}, ${Number(hi) / 2 ** argScale}]: ${(e as Error).message}`, {
          node: a.nodes[0], cause: e, hint: 'calibrate with inputs that keep the function finite',
        });
      }
      // the stated error covers inputs past the clamp too: f there is within cl.error (+ 2^−32) of f at the end
      if (cl?.error) fit.poly.maxError += cl.error;
      if (domainBits - (fit.poly.dropBits ?? 0) > FN_DOMAIN_BITS) tooWide(domainBits - (fit.poly.dropBits ?? 0));
      const { b, out } = adopt(fit);
      for (let i = 0; i < a.size; i++) {
        bits.push(b);
        aux.push(domainBits);
        set(i, out);
      }
      break;
    }
  }
  void absBig;
  return {
    name: a.name, shape: a.shape, offset: a.offset, size: a.size, op, nodes: a.nodes, scale,
    args, argStart, argScale, shift, bits, aux, accBound, poly, ...(clamp ? { clamp } : {}), ...(a.mm ? { mm: a.mm } : {}), ...(plain ? { plain: true as const } : {}),
  };
}

/** Row b of the map is exactly `sign`·(row a): −1 a negation, 1 the same row. */
function isMultiple(m: QAffine, a: number, b: number, sign: 1n | -1n): boolean {
  const [sa, ea, sb, eb] = [m.rowStart[a]!, m.rowStart[a + 1]!, m.rowStart[b]!, m.rowStart[b + 1]!];
  if (ea - sa !== eb - sb || m.bias[b] !== sign * m.bias[a]!) return false;
  for (let t = 0; t < ea - sa; t++) if (m.index[sa + t] !== m.index[sb + t] || m.coef[sb + t] !== sign * m.coef[sa + t]!) return false;
  return true;
}
