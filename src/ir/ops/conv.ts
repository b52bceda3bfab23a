// Sliding-window linear ops, generic over the element algebra: Conv, ConvTranspose, AveragePool,
// GlobalAveragePool. Each output element is one combine() over precomputed taps (input offset,
// weight offset), so the work is index arithmetic, not closures per element. The window
// geometry (output sizes and pads under auto_pad / ceil_mode) is shared with the shape rules of
// the non-linear pools (MaxPool, LpPool) in src/onnx/fold.ts.
import { sizeOf, type Tensor } from '../graph.js';
import { strides as stridesOf } from '../shape.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';
import { attrChoice, attrList, attrNum, constArg, input0, isSym, type OpFn, shapeOnly } from './util.js';

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

/** A list attribute with one entry per spatial axis (default `dflt` everywhere). */
function perAxis(ctx: OpContext, key: string, r: number, dflt: number, len = r): number[] {
  const v = attrList(ctx, key);
  if (!v) return new Array<number>(len).fill(dflt);
  if (v.length !== len) ctx.fail(`attribute ${key}=[${v}] has ${v.length} entries, ${len} expected for ${r} spatial axes`);
  return v;
}

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin and end pads per spatial axis. */
  pb: number[];
  pe: number[];
  out: number[];
}

/**
 * The window geometry of Conv and the pools from the node's attributes: kernel, strides,
 * dilations, pads or auto_pad, and (pools) ceil_mode.
 */
export function windowOf(ctx: OpContext, inSp: number[], kernel: number[], pool: boolean): Window {
  const r = inSp.length;
  const strides = perAxis(ctx, 'strides', r, 1);
  const dilations = perAxis(ctx, 'dilations', r, 1);
  const autoPad = attrChoice(ctx, 'auto_pad', 'NOTSET', AUTO_PADS);
  const ceil = pool && attrNum(ctx, 'ceil_mode', 0) === 1;
  if (strides.some((s) => s < 1) || dilations.some((d) => d < 1)) ctx.fail(`strides [${strides}] and dilations [${dilations}] must be positive`);
  const pads = autoPad === 'NOTSET' ? perAxis(ctx, 'pads', r, 0, 2 * r) : new Array<number>(2 * r).fill(0);
  const pb = pads.slice(0, r);
  const pe = pads.slice(r);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const ext = (kernel[i]! - 1) * dilations[i]! + 1;
    const s = strides[i]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(inSp[i]! / s);
      const total = Math.max(0, (o - 1) * s + ext - inSp[i]!);
      const small = Math.floor(total / 2);
      pb[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pe[i] = total - pb[i]!;
      out.push(o);
      continue;
    }
    const span = inSp[i]! + pb[i]! + pe[i]! - ext;
    if (span < 0) ctx.fail(`the window (extent ${ext}) is larger than the padded input (${inSp[i]! + pb[i]! + pe[i]!}) on spatial axis ${i}`);
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // ceil_mode: a last window that starts inside the end padding is dropped (onnxruntime, ONNX ≥ 19)
    if (ceil && (o - 1) * s >= inSp[i]! + pb[i]!) o--;
    out.push(o);
  }
  return { kernel, strides, dilations, pb, pe, out };
}

/**
 * Per spatial output position p, the taps (flat input offset, flat kernel offset) whose input
 * lies inside the (unpadded) input: taps of p are [start[p], start[p+1]).
 */
export function convTaps(inSp: number[], w: Window): { start: Int32Array; inOff: Int32Array; kOff: Int32Array } {
  const r = inSp.length;
  // per axis and output coordinate: the valid (input coordinate, kernel coordinate) pairs
  const axis: { i: number[]; k: number[] }[][] = [];
  for (let d = 0; d < r; d++) {
    const list: { i: number[]; k: number[] }[] = [];
    for (let o = 0; o < w.out[d]!; o++) {
      const e = { i: [] as number[], k: [] as number[] };
      for (let k = 0; k < w.kernel[d]!; k++) {
        const i = o * w.strides[d]! - w.pb[d]! + k * w.dilations[d]!;
        if (i >= 0 && i < inSp[d]!) { e.i.push(i); e.k.push(k); }
      }
      list.push(e);
    }
    axis.push(list);
  }
  return cartesian(inSp, w.kernel, w.out, axis);
}

/** Flattens per-axis tap lists into per-output-position lists over all spatial axes. */
function cartesian(inSp: number[], kernel: number[], out: number[], axis: { i: number[]; k: number[] }[][]) {
  const r = inSp.length;
  const is = stridesOf(inSp);
  const ks = stridesOf(kernel);
  const nOut = sizeOf(out);
  const inOff: number[] = [];
  const kOff: number[] = [];
  const start = new Int32Array(nOut + 1);
  const coord = new Array<number>(r).fill(0);
  const rec = (d: number, io: number, ko: number) => {
    if (d === r) { inOff.push(io); kOff.push(ko); return; }
    const e = axis[d]![coord[d]!]!;
    for (let t = 0; t < e.i.length; t++) rec(d + 1, io + e.i[t]! * is[d]!, ko + e.k[t]! * ks[d]!);
  };
  for (let p = 0; p < nOut; p++) {
    start[p] = inOff.length;
    rec(0, 0, 0);
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < out[d]!) break;
      coord[d] = 0;
    }
  }
  start[nOut] = inOff.length;
  return { start, inOff: Int32Array.from(inOff), kOff: Int32Array.from(kOff) };
}

/** Bias element per output channel: a constant, a signal element, or nothing. */
function biasOf<T>(ctx: OpContext, args: Arg<T>[], M: number): { c: (m: number) => number; e?: (m: number) => T } {
  const b = args[2];
  if (!b) return { c: () => 0 };
  const len = b.kind === 'sym' ? b.t.data.length : b.t.data.length;
  if (len !== M) ctx.fail(`bias B has ${len} elements, ${M} output channels expected`);
  return b.kind === 'sym' ? { c: () => 0, e: (m) => b.t.data[m]! } : { c: (m) => b.t.data[m]! };
}

/** Conv with constant weights; undefined when the weights are signals. */
function conv<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  if (isSym(args[1])) return undefined;
  const x = input0(alg, ctx, args);
  const W = constArg(ctx, args, 1, 'W');
  if (!W) ctx.fail('input 1 (W) is missing');
  const r = x.shape.length - 2;
  if (r < 1 || W.dims.length !== r + 2) ctx.fail(`input [${x.shape}] and weights [${W.dims}] do not form an N-D convolution`);
  const [N, C] = x.shape as [number, number];
  const inSp = x.shape.slice(2);
  const [M, Cg] = W.dims as [number, number];
  const kernel = W.dims.slice(2);
  const ks = attrList(ctx, 'kernel_shape');
  if (ks && (ks.length !== r || ks.some((k, i) => k !== kernel[i]))) ctx.fail(`attribute kernel_shape=[${ks}] differs from the weights' kernel [${kernel}]`);
  const group = attrNum(ctx, 'group', 1);
  if (group < 1 || C % group !== 0 || M % group !== 0 || C / group !== Cg) {
    ctx.fail(`attribute group=${group} does not fit ${C} input channels, weights [${W.dims}]`);
  }
  const Mg = M / group;
  const win = windowOf(ctx, inSp, kernel, false);
  const taps = convTaps(inSp, win);
  const bias = biasOf(ctx, args, M);
  const inSize = sizeOf(inSp);
  const kSize = sizeOf(kernel);
  const nOut = sizeOf(win.out);
  const data = new Array<T>(N * M * nOut);
  if (shapeOnly(alg)) return [{ shape: [N, M, ...win.out], data: data.fill(alg.constant(0)) }];
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let p = 0; p < nOut; p++) {
        const xs: T[] = [];
        const ws: number[] = [];
        for (let c = 0; c < Cg; c++) {
          const xBase = (n * C + g * Cg + c) * inSize;
          const wBase = (m * Cg + c) * kSize;
          for (let t = taps.start[p]!; t < taps.start[p + 1]!; t++) {
            const wv = W.data[wBase + taps.kOff[t]!]!;
            if (wv === 0) continue;
            xs.push(x.data[xBase + taps.inOff[t]!]!);
            ws.push(wv);
          }
        }
        if (bias.e) { xs.push(bias.e(m)); ws.push(1); }
        data[(n * M + m) * nOut + p] = alg.combine(xs, ws, bias.c(m));
      }
    }
  }
  return [{ shape: [N, M, ...win.out], data }];
}

/** ConvTranspose with constant weights (onnxruntime's conventions for output_shape and auto_pad). */
function convTranspose<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  if (isSym(args[1])) return undefined;
  const x = input0(alg, ctx, args);
  const W = constArg(ctx, args, 1, 'W');
  if (!W) ctx.fail('input 1 (W) is missing');
  const r = x.shape.length - 2;
  if (r < 1 || W.dims.length !== r + 2) ctx.fail(`input [${x.shape}] and weights [${W.dims}] do not form an N-D transposed convolution`);
  const [N, C] = x.shape as [number, number];
  const inSp = x.shape.slice(2);
  const kernel = W.dims.slice(2);
  const ks = attrList(ctx, 'kernel_shape');
  if (ks && (ks.length !== r || ks.some((k, i) => k !== kernel[i]))) ctx.fail(`attribute kernel_shape=[${ks}] differs from the weights' kernel [${kernel}]`);
  const group = attrNum(ctx, 'group', 1);
  if (group < 1 || C % group !== 0 || W.dims[0] !== C) ctx.fail(`attribute group=${group} does not fit ${C} input channels, weights [${W.dims}]`);
  const Cg = C / group;
  const Mg = W.dims[1]!;
  const M = Mg * group;
  const strides = perAxis(ctx, 'strides', r, 1);
  const dilations = perAxis(ctx, 'dilations', r, 1);
  const adj = perAxis(ctx, 'output_padding', r, 0);
  const autoPad = attrChoice(ctx, 'auto_pad', 'NOTSET', AUTO_PADS);
  const pads = autoPad === 'NOTSET' ? perAxis(ctx, 'pads', r, 0, 2 * r) : new Array<number>(2 * r).fill(0);
  let outShape = attrList(ctx, 'output_shape');
  if (outShape) {
    if (outShape.length === r + 2) outShape = outShape.slice(2);
    if (outShape.length !== r) ctx.fail(`attribute output_shape=[${outShape}] does not give ${r} spatial sizes`);
  }
  const pb: number[] = [];
  const out: number[] = [];
  for (let d = 0; d < r; d++) {
    const natural = (inSp[d]! - 1) * strides[d]! + adj[d]! + (kernel[d]! - 1) * dilations[d]! + 1;
    const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
    if (outShape || same) {
      const o = outShape ? outShape[d]! : inSp[d]! * strides[d]!;
      const total = Math.max(0, natural - o);
      const half = Math.floor(total / 2);
      // onnxruntime: SAME_LOWER puts the odd pad at the head, every other mode at the tail
      pb.push(autoPad === 'SAME_LOWER' ? total - half : half);
      out.push(o);
    } else {
      pb.push(pads[d]!);
      out.push(natural - pads[d]! - pads[d + r]!);
    }
    if (out[d]! < 1) ctx.fail(`the output would be empty on spatial axis ${d} (pads [${pads}])`);
  }
  // per axis and output coordinate o: the (i, k) with o = i·s − pb + k·dil
  const axis: { i: number[]; k: number[] }[][] = [];
  for (let d = 0; d < r; d++) {
    const list: { i: number[]; k: number[] }[] = [];
    for (let o = 0; o < out[d]!; o++) {
      const e = { i: [] as number[], k: [] as number[] };
      for (let k = 0; k < kernel[d]!; k++) {
        const t = o + pb[d]! - k * dilations[d]!;
        if (t < 0 || t % strides[d]! !== 0) continue;
        const i = t / strides[d]!;
        if (i < inSp[d]!) { e.i.push(i); e.k.push(k); }
      }
      list.push(e);
    }
    axis.push(list);
  }
  const taps = cartesian(inSp, kernel, out, axis);
  const bias = biasOf(ctx, args, M);
  const inSize = sizeOf(inSp);
  const kSize = sizeOf(kernel);
  const nOut = sizeOf(out);
  const data = new Array<T>(N * M * nOut);
  if (shapeOnly(alg)) return [{ shape: [N, M, ...out], data: data.fill(alg.constant(0)) }];
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      const mg = m - g * Mg;
      for (let p = 0; p < nOut; p++) {
        const xs: T[] = [];
        const ws: number[] = [];
        for (let c = 0; c < Cg; c++) {
          const xBase = (n * C + g * Cg + c) * inSize;
          const wBase = ((g * Cg + c) * Mg + mg) * kSize;
          for (let t = taps.start[p]!; t < taps.start[p + 1]!; t++) {
            const wv = W.data[wBase + taps.kOff[t]!]!;
            if (wv === 0) continue;
            xs.push(x.data[xBase + taps.inOff[t]!]!);
            ws.push(wv);
          }
        }
        if (bias.e) { xs.push(bias.e(m)); ws.push(1); }
        data[(n * M + m) * nOut + p] = alg.combine(xs, ws, bias.c(m));
      }
    }
  }
  return [{ shape: [N, M, ...out], data }];
}

/** Mean over each window of every channel (count_include_pad: divide by the window clipped to the padded input). */
function poolMean<T>(alg: Algebra<T>, x: Tens<T>, inSp: number[], win: Window, countIncludePad: boolean): Tens<T> {
  const [N, C] = x.shape as [number, number];
  const taps = convTaps(inSp, win);
  const r = inSp.length;
  const nOut = sizeOf(win.out);
  // count_include_pad: the window clipped to the padded extent [−pb, in + pe), per axis
  const padCount: number[][] = [];
  for (let d = 0; d < r; d++) {
    const list: number[] = [];
    for (let o = 0; o < win.out[d]!; o++) {
      let cnt = 0;
      for (let k = 0; k < win.kernel[d]!; k++) {
        const i = o * win.strides[d]! - win.pb[d]! + k * win.dilations[d]!;
        if (i >= -win.pb[d]! && i < inSp[d]! + win.pe[d]!) cnt++;
      }
      list.push(cnt);
    }
    padCount.push(list);
  }
  const divisor = new Float64Array(nOut);
  const coord = new Array<number>(r).fill(0);
  for (let p = 0; p < nOut; p++) {
    let div = taps.start[p + 1]! - taps.start[p]!;
    if (countIncludePad) {
      div = 1;
      for (let d = 0; d < r; d++) div *= padCount[d]![coord[d]!]!;
    }
    divisor[p] = div;
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < win.out[d]!) break;
      coord[d] = 0;
    }
  }
  const inSize = sizeOf(inSp);
  const data = new Array<T>(N * C * nOut);
  if (shapeOnly(alg)) return { shape: [N, C, ...win.out], data: data.fill(alg.constant(0)) };
  for (let nc = 0; nc < N * C; nc++) {
    for (let p = 0; p < nOut; p++) {
      const k = taps.start[p + 1]! - taps.start[p]!;
      const xs = new Array<T>(k);
      for (let t = 0; t < k; t++) xs[t] = x.data[nc * inSize + taps.inOff[taps.start[p]! + t]!]!;
      data[nc * nOut + p] = alg.combine(xs, new Array<number>(k).fill(divisor[p] ? 1 / divisor[p]! : 0));
    }
  }
  return { shape: [N, C, ...win.out], data };
}

/** Pool kernel from kernel_shape, checked against the input's rank. */
export function poolKernel(ctx: OpContext, shape: number[]): number[] {
  const r = shape.length - 2;
  if (r < 1) ctx.fail(`input of shape [${shape}] has no spatial axes (N, C, D1, …)`);
  const k = attrList(ctx, 'kernel_shape');
  if (!k || k.length !== r) ctx.fail(`attribute kernel_shape=[${k ?? ''}] must give ${r} sizes for input [${shape}]`);
  return k;
}

function averagePool<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const inSp = x.shape.slice(2);
  const win = windowOf(ctx, inSp, poolKernel(ctx, x.shape), true);
  return [poolMean(alg, x, inSp, win, attrNum(ctx, 'count_include_pad', 0) === 1)];
}

function globalAveragePool<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] | undefined {
  const x = input0(alg, ctx, args);
  const inSp = x.shape.slice(2);
  if (inSp.length < 1) ctx.fail(`input of shape [${x.shape}] has no spatial axes (N, C, D1, …)`);
  const win: Window = { kernel: inSp, strides: inSp.map(() => 1), dilations: inSp.map(() => 1), pb: inSp.map(() => 0), pe: inSp.map(() => 0), out: inSp.map(() => 1) };
  return [poolMean(alg, x, inSp, win, false)];
}

/** One output of a traced convolution: Σ x[xs[t]]·W[ws[t]] (flat indices), plus bias element b (−1: none) or the constant c. */
export interface ConvTerm { xs: number[]; ws: number[]; b: number; c: number }

/**
 * Which input and weight elements each output of a Conv or ConvTranspose multiplies, from the
 * ops' own geometry: the op runs on an algebra whose elements are these lists, with weights that
 * are their flat indices (+1, never 0). For weights that are signals (--weights hashed), where
 * every pair is a product of two signals. `bias`: a signal (its elements are named by b), a
 * constant, or none.
 */
export function convTerms(ctx: OpContext, op: 'Conv' | 'ConvTranspose', xShape: number[], wShape: number[], bias?: 'signal' | Tensor): Tens<ConvTerm> {
  const alg: Algebra<ConvTerm> = {
    constant: (c) => ({ xs: [], ws: [], b: -1, c }),
    combine: (items, ws, c = 0) => {
      const out: ConvTerm = { xs: [], ws: [], b: -1, c };
      items.forEach((e, j) => { if (e.b >= 0) out.b = e.b; else { out.xs.push(e.xs[0]!); out.ws.push(ws[j]! - 1); } });
      return out;
    },
  };
  const x: Tens<ConvTerm> = { shape: xShape, data: Array.from({ length: sizeOf(xShape) }, (_, i) => ({ xs: [i], ws: [], b: -1, c: 0 })) };
  const W: Tensor = { dims: wShape, data: Float64Array.from({ length: sizeOf(wShape) }, (_, i) => i + 1) };
  const M = op === 'Conv' ? wShape[0]! : wShape[1]! * attrNum(ctx, 'group', 1);
  const b: Arg<ConvTerm> = bias === 'signal' ? { kind: 'sym', t: { shape: [M], data: Array.from({ length: M }, (_, m) => ({ xs: [], ws: [], b: m, c: 0 })) } }
    : bias ? { kind: 'const', t: bias } : undefined;
  return (op === 'Conv' ? conv : convTranspose)(alg, ctx, [{ kind: 'sym', t: x }, { kind: 'const', t: W }, b])![0]!;
}

export const CONV_OPS: Record<string, OpFn> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
