// Resize and Upsample, generic over the element algebra. Nearest is an index map; linear
// (N-linear interpolation) and cubic are combinations with constant weights: all are linear ops.
// Coordinates are computed in float32 as onnxruntime computes them, so that ties round alike.
import { sizeOf } from '../graph.js';
import { strides } from '../shape.js';
import type { Algebra, Arg, OpContext, Tens } from './types.js';
import { attrChoice, attrList, attrNum, attrStr, constArg, input0, normAxisChecked, type OpFn } from './util.js';

const f32 = Math.fround;

const COORD_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'] as const;
type CoordMode = (typeof COORD_MODES)[number];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
type NearestMode = (typeof NEAREST_MODES)[number] | 'simple';

/** x_resized → x_original, as onnxruntime computes it (float32). */
function original(mode: CoordMode, x: number, scale: number, outLen: number, inLen: number, roiStart: number, roiEnd: number): number {
  switch (mode) {
    case 'half_pixel': return f32(f32(f32(x + 0.5) / scale) - 0.5);
    case 'half_pixel_symmetric': {
      const adjustment = f32(outLen / f32(scale * inLen));
      const center = f32(inLen / 2);
      const offset = f32(center * f32(1 - adjustment));
      return f32(f32(offset + f32(f32(x + 0.5) / scale)) - 0.5);
    }
    case 'pytorch_half_pixel': return outLen > 1 ? f32(f32(f32(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners': return outLen === 1 ? 0 : f32(f32(x * (inLen - 1)) / (outLen - 1));
    case 'asymmetric': return f32(x / scale);
    case 'tf_half_pixel_for_nn': return f32(f32(x + 0.5) / scale);
    case 'tf_crop_and_resize':
      return outLen > 1
        ? f32(f32(roiStart * (inLen - 1)) + f32(f32(f32(x * f32(roiEnd - roiStart)) * (inLen - 1)) / (outLen - 1)))
        : f32(f32(0.5 * f32(roiStart + roiEnd)) * (inLen - 1));
  }
}

const cRound = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x)); // std::round: half away from zero

function nearest(mode: NearestMode, x: number, down: boolean): number {
  switch (mode) {
    case 'round_prefer_floor': return x === Math.trunc(x) + 0.5 ? Math.floor(x) : cRound(x);
    case 'round_prefer_ceil': return cRound(x);
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'simple': return down ? Math.ceil(x) : Math.trunc(x);
  }
}

/** Per axis and output coordinate: the input coordinates read and their weights (−1: extrapolate). */
type Taps = { i: number[]; w: number[] }[];

function resizeImpl<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const x = input0(alg, ctx, args);
  const r = x.shape.length;
  const legacy = ctx.node.op === 'Upsample' || ctx.opset < 11;
  const mode = attrStr(ctx, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear' && !(mode === 'cubic' && !legacy)) {
    ctx.fail(`attribute mode='${mode}' is not supported (supported: nearest, linear${legacy ? '' : ', cubic'})`);
  }
  const cubicA = attrNum(ctx, 'cubic_coeff_a', -0.75);
  const excludeOutside = attrNum(ctx, 'exclude_outside', 0) === 1;
  if (attrNum(ctx, 'antialias', 0) !== 0) ctx.fail('attribute antialias=1 is not supported (supported: 0)');
  const coord: CoordMode = legacy ? 'asymmetric' : attrChoice(ctx, 'coordinate_transformation_mode', 'half_pixel', COORD_MODES);
  const nmode: NearestMode = legacy ? 'simple' : attrChoice(ctx, 'nearest_mode', 'round_prefer_floor', NEAREST_MODES);
  const present = (i: number, what: string) => {
    const t = constArg(ctx, args, i, what);
    return t && t.data.length > 0 ? Array.from(t.data) : undefined;
  };
  let scalesIn: number[] | undefined;
  let sizesIn: number[] | undefined;
  let roi: number[] | undefined;
  if (legacy) {
    scalesIn = present(1, 'scales') ?? attrList(ctx, 'scales');
  } else {
    roi = present(1, 'roi');
    scalesIn = present(2, 'scales');
    sizesIn = present(3, 'sizes');
  }
  const axesAttr = attrList(ctx, 'axes');
  const axes = axesAttr ? axesAttr.map((a) => normAxisChecked(ctx, a, r, 'axes entry')) : x.shape.map((_, i) => i);
  const scales = x.shape.map(() => 1);
  const out = [...x.shape];
  if (scalesIn && sizesIn) ctx.fail('inputs scales and sizes are both given (only one may be)');
  if (scalesIn) {
    if (scalesIn.length !== axes.length) ctx.fail(`scales has ${scalesIn.length} entries, ${axes.length} expected`);
    axes.forEach((a, k) => {
      const s = f32(scalesIn![k]!);
      if (!(s > 0)) ctx.fail(`scale ${s} on axis ${a} must be positive`);
      scales[a] = s;
      out[a] = Math.trunc(f32(s * x.shape[a]!));
    });
  } else if (sizesIn) {
    if (sizesIn.length !== axes.length) ctx.fail(`sizes has ${sizesIn.length} entries, ${axes.length} expected`);
    const policy = legacy ? 'stretch' : attrChoice(ctx, 'keep_aspect_ratio_policy', 'stretch', ['stretch', 'not_larger', 'not_smaller'] as const);
    if (policy === 'stretch') {
      axes.forEach((a, k) => { out[a] = sizesIn![k]!; scales[a] = f32(sizesIn![k]! / x.shape[a]!); });
    } else {
      const ratios = axes.map((a, k) => f32(sizesIn![k]! / x.shape[a]!));
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => { scales[a] = s; out[a] = cRound(f32(s * x.shape[a]!)); });
    }
  } else {
    ctx.fail('neither scales nor sizes is given');
  }
  if (coord === 'tf_crop_and_resize' && (!roi || roi.length !== 2 * axes.length)) {
    ctx.fail(`coordinate_transformation_mode='tf_crop_and_resize' needs an roi input with ${2 * axes.length} entries`);
  }
  const roiOf = (a: number): [number, number] => {
    const k = axes.indexOf(a);
    return roi && k >= 0 && roi.length === 2 * axes.length ? [roi[k]!, roi[k + axes.length]!] : [0, 1];
  };
  const extrapolate = coord === 'tf_crop_and_resize';
  const fill = attrNum(ctx, 'extrapolation_value', 0);
  const taps: Taps[] = x.shape.map((inLen, a) => {
    const list: Taps = [];
    const [rs, re] = roiOf(a);
    for (let o = 0; o < out[a]!; o++) {
      const xo = original(coord, o, scales[a]!, out[a]!, inLen, rs, re);
      if (extrapolate && (xo < 0 || xo > inLen - 1)) { list.push({ i: [-1], w: [1] }); continue; }
      if (mode === 'nearest') {
        if (scales[a] === 1 && out[a] === inLen) { list.push({ i: [o], w: [1] }); continue; } // onnxruntime: unscaled axes map identically
        const i = Math.min(Math.max(nearest(nmode, xo, scales[a]! < 1), 0), inLen - 1);
        list.push({ i: [i], w: [1] });
      } else if (mode === 'cubic') {
        list.push(cubicTaps(xo, inLen, cubicA, excludeOutside));
      } else {
        const c = f32(Math.max(0, Math.min(xo, inLen - 1)));
        const i1 = Math.min(Math.trunc(c), inLen - 1);
        const i2 = Math.min(i1 + 1, inLen - 1);
        let d1 = f32(Math.abs(c - i1));
        let d2 = f32(Math.abs(c - i2));
        if (i1 === i2) { d1 = 0.5; d2 = 0.5; }
        const e = { i: [] as number[], w: [] as number[] };
        if (d2 !== 0) { e.i.push(i1); e.w.push(d2); }
        if (d1 !== 0) { e.i.push(i2); e.w.push(d1); }
        list.push(e);
      }
    }
    return list;
  });
  return [separableCombine(alg, x, out, taps, fill)];
}

/** Cubic convolution (Keys, coefficient a) at x over 4 neighbours, clamped at the edges. */
function cubicTaps(x: number, inLen: number, a: number, exclude: boolean): { i: number[]; w: number[] } {
  const xi = Math.floor(x);
  const s = f32(x - xi);
  const k = (t: number) => {
    const u = Math.abs(t);
    if (u <= 1) return ((a + 2) * u - (a + 3)) * u * u + 1;
    if (u < 2) return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
    return 0;
  };
  const e = { i: [] as number[], w: [] as number[] };
  let sum = 0;
  const raw: [number, number][] = [];
  for (let j = -1; j <= 2; j++) {
    const idx = xi + j;
    let w = k(j - s);
    if (exclude && (idx < 0 || idx >= inLen)) w = 0;
    sum += w;
    raw.push([Math.min(Math.max(idx, 0), inLen - 1), w]);
  }
  for (const [idx, w] of raw) {
    const ww = exclude ? w / sum : w;
    if (ww === 0) continue;
    const at = e.i.indexOf(idx);
    if (at >= 0) e.w[at]! += ww;
    else { e.i.push(idx); e.w.push(ww); }
  }
  return e;
}

/** out[o] = Σ over the product of per-axis taps of (Π weights)·x[…]; an extrapolated tap gives `fill`. */
function separableCombine<T>(alg: Algebra<T>, x: Tens<T>, out: number[], taps: Taps[], fill: number): Tens<T> {
  const r = out.length;
  const is = strides(x.shape);
  const n = sizeOf(out);
  const data = new Array<T>(n);
  const coord = new Array<number>(r).fill(0);
  let fillElem: T | undefined;
  for (let f = 0; f < n; f++) {
    let idx = [0];
    let ws = [1];
    let outside = false;
    for (let d = 0; d < r && !outside; d++) {
      const e = taps[d]![coord[d]!]!;
      if (e.i[0] === -1) { outside = true; break; }
      if (e.i.length === 1) {
        const off = e.i[0]! * is[d]!;
        const w = e.w[0]!;
        for (let t = 0; t < idx.length; t++) { idx[t]! += off; ws[t]! *= w; }
      } else {
        const ni: number[] = [];
        const nw: number[] = [];
        for (let t = 0; t < idx.length; t++) {
          for (let k = 0; k < e.i.length; k++) { ni.push(idx[t]! + e.i[k]! * is[d]!); nw.push(ws[t]! * e.w[k]!); }
        }
        idx = ni;
        ws = nw;
      }
    }
    if (outside) data[f] = (fillElem ??= alg.constant(fill));
    else if (idx.length === 1 && ws[0] === 1) data[f] = x.data[idx[0]!]!;
    else data[f] = alg.combine(idx.map((i) => x.data[i]!), ws);
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < out[d]!) break;
      coord[d] = 0;
    }
  }
  return { shape: out, data };
}

export const RESIZE_OPS: Record<string, OpFn> = {
  Resize: resizeImpl,
  Upsample: resizeImpl,
};
