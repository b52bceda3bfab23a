// Normalizations and small ops of later opsets, rewritten into ops zkonnx proves (EXPANSIONS,
// expand.ts). Every normalization goes through LayerNormalization, whose circuit states the bound
// |y| < √(n − 1) that a division by the standard deviation needs:
//
//   GroupNormalization          x [N, C, …] as [N, G, C/G·…]: LayerNormalization of each group,
//                               then scale and bias per channel (opset 21) or per group (18)
//   MeanVarianceNormalization   the axes moved last and flattened: LayerNormalization (ε = 1e−9)
//   RMSNormalization            x / √(mean x² + ε) · scale (msft.ts's RMS normalization)
//   LpNormalization             x / ‖x‖₁ or ‖x‖₂ along the axis (ReduceL1 / ReduceL2, Div)
//   LRN                         x · (bias + α/size · Σ of x² over `size` channels)^−β: the squares,
//                               a 1×1 Conv with a constant band kernel, one Pow, one Mul (its
//                               constants are hyperparameters: public under --weights hashed)
//   ReduceLogSum                Log(ReduceSum)
//   Shrink                      x + bias below −λ, x − bias above λ, else 0: two Wheres
//   Trilu                       x times a constant 0/1 mask of its last two axes
//   Xor                         Not(Equal) of booleans
//   IsNaN, IsInf                false: zkonnx's inputs are finite numbers
//   DFT, STFT                   linear: a constant matrix of cos and sin per transformed axis
//                               (STFT: the frames gathered, windowed, transformed)
//   EyeLike                     a constant of the input's shape
//   ReduceProd                  the reduced axes flattened, one Mul (a product) per factor
import { sizeOf } from '../ir/graph.js';
import { simplifiedLayerNorm } from './msft.js';
import { axisIn, num, nums, type Expansion, type RewriteContext } from './rewrite.js';

/** LayerNormalization without scale or bias over the last axis of x (rank ≥ 2). */
const normalizeLast = (c: RewriteContext, x: string, eps: number): string =>
  c.e.node('LayerNormalization', [x, c.e.constant([1], [1], 'public')], { axis: -1, epsilon: eps });

export const NORMALIZATIONS: Record<string, Expansion> = {
  GroupNormalization(node, c) {
    const [x, scale, bias] = node.inputs as [string, string, string];
    const s = c.shapeOf(x);
    if (s.length < 3) c.fail(`input of shape [${s}] is not N×C×…`);
    const [N, C] = [s[0]!, s[1]!];
    const G = num(node.attrs.num_groups, 0);
    if (!Number.isInteger(G) || G < 1 || C % G) c.fail(`num_groups=${G} does not divide the ${C} channels`);
    const grouped = c.e.node('Reshape', [x, c.e.constant([3], [N, G, sizeOf(s) / (N * G)])]);
    const y = c.e.node('Reshape', [normalizeLast(c, grouped, num(node.attrs.epsilon, 1e-5)), c.e.constant([s.length], s)]);
    // scale and bias: one per channel (opset 21), or one per group (opset 18) for its C/G channels
    const perChannel = (name: string): number[] => {
      const t = c.constOf(name);
      if (!t) c.fail(`${name === scale ? 'scale' : 'bias'} must be a constant`);
      const v = Array.from(t!.data);
      if (v.length === C) return v;
      if (v.length === G) return Array.from({ length: C }, (_, ch) => v[Math.floor(ch / (C / G))]!);
      return c.fail(`${name === scale ? 'scale' : 'bias'} has ${v.length} values for ${C} channels in ${G} groups`);
    };
    const bshape = [C, ...s.slice(2).map(() => 1)];
    const scaled = c.e.node('Mul', [y, c.e.constant(bshape, perChannel(scale))]);
    c.e.node('Add', [scaled, c.e.constant(bshape, perChannel(bias))], {}, [node.outputs[0]!]);
  },

  MeanVarianceNormalization(node, c) {
    const x = node.inputs[0]!;
    const s = c.shapeOf(x);
    const axes = [...new Set((node.attrs.axes !== undefined ? nums(node.attrs.axes) : [0, 2, 3]).map((a) => axisIn(c, a, s.length)))].sort((a, b) => a - b);
    const rest = s.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...rest, ...axes];
    const moved = c.e.node('Transpose', [x], { perm });
    const flat = c.e.node('Reshape', [moved, c.e.constant([2], [sizeOf(rest.map((i) => s[i]!)), sizeOf(axes.map((i) => s[i]!))])]);
    // the ONNX function adds 1e−9 to the standard deviation; under the square root it is as small
    const y = c.e.node('Reshape', [normalizeLast(c, flat, 1e-9), c.e.constant([s.length], perm.map((i) => s[i]!))]);
    c.e.node('Transpose', [y], { perm: perm.map((_, i) => perm.indexOf(i)) }, [node.outputs[0]!]);
  },

  RMSNormalization: simplifiedLayerNorm,

  LpNormalization(node, c) {
    const x = node.inputs[0]!;
    const p = num(node.attrs.p, 2);
    if (p !== 1 && p !== 2) c.fail(`p=${p} is not supported (supported: 1, 2)`);
    const axis = axisIn(c, num(node.attrs.axis, -1), c.shapeOf(x).length);
    const norm = c.e.node(p === 1 ? 'ReduceL1' : 'ReduceL2', [x], { axes: [axis], keepdims: 1 });
    c.e.node('Div', [x, norm], {}, [node.outputs[0]!]);
  },

  LRN(node, c) {
    const x = node.inputs[0]!;
    const s = c.shapeOf(x);
    if (s.length < 3) c.fail(`input of shape [${s}] is not N×C×…`);
    const size = num(node.attrs.size, 0);
    if (!Number.isInteger(size) || size < 1) c.fail(`size ${size} is not a positive integer`);
    const [alpha, beta, bias] = [num(node.attrs.alpha, 1e-4), num(node.attrs.beta, 0.75), num(node.attrs.bias, 1)];
    if (!(bias > 0)) c.fail(`bias ${bias} is not positive: (bias + …)^−β has no bound where the squares are 0`);
    const C = s[1]!;
    // channel c sums channels c − ⌊(size − 1)/2⌋ … c + ⌈(size − 1)/2⌉ that exist, weighted α/size
    const band = new Array<number>(C * C).fill(0);
    for (let o = 0; o < C; o++) {
      for (let i = Math.max(0, o - Math.floor((size - 1) / 2)); i <= Math.min(C - 1, o + Math.ceil((size - 1) / 2)); i++) band[o * C + i] = alpha / size;
    }
    const ones = new Array<number>(s.length - 2).fill(1);
    const sum = c.e.node('Conv', [c.e.node('Mul', [x, x]), c.e.constant([C, C, ...ones], band, 'public')], { kernel_shape: ones });
    const scale = c.e.node('Pow', [c.e.node('Add', [sum, c.e.constant([], [bias], 'public')]), c.e.constant([], [-beta])]);
    c.e.node('Mul', [x, scale], {}, [node.outputs[0]!]);
  },

  ReduceLogSum(node, c) {
    c.e.node('Log', [c.e.node('ReduceSum', node.inputs, node.attrs)], {}, [node.outputs[0]!]);
  },

  Shrink(node, c) {
    const x = node.inputs[0]!;
    const [bias, lambd] = [num(node.attrs.bias, 0), num(node.attrs.lambd, 0.5)];
    const k = (v: number) => c.e.constant([], [v]);
    const above = c.e.node('Where', [c.e.node('Greater', [x, k(lambd)]), c.e.node('Sub', [x, k(bias)]), k(0)]);
    c.e.node('Where', [c.e.node('Less', [x, k(-lambd)]), c.e.node('Add', [x, k(bias)]), above], {}, [node.outputs[0]!]);
  },

  Trilu(node, c) {
    const [x, kName] = node.inputs as [string, string | undefined];
    const kT = kName ? c.constOf(kName) : undefined;
    if (kName && !kT) c.fail('k must be a constant');
    const k = kT ? kT.data[0]! : 0;
    const s = c.shapeOf(x);
    if (s.length < 2) c.fail(`input of shape [${s}] has fewer than 2 axes`);
    const [R, C] = [s[s.length - 2]!, s[s.length - 1]!];
    const upper = num(node.attrs.upper, 1) !== 0;
    const mask = Array.from({ length: R * C }, (_, f) => {
      const [i, j] = [Math.floor(f / C), f % C];
      return (upper ? j - i >= k : j - i <= k) ? 1 : 0;
    });
    c.e.node('Mul', [x, c.e.constant([R, C], mask)], {}, [node.outputs[0]!]);
  },

  Xor(node, c) {
    c.e.node('Not', [c.e.node('Equal', [node.inputs[0]!, node.inputs[1]!])], {}, [node.outputs[0]!]);
  },

  IsNaN(node, c) {
    if (c.constOf(node.inputs[0]!)) return false; // a constant's NaNs fold as they are
    const s = c.shapeOf(node.inputs[0]!);
    c.e.node('Cast', [c.e.constant(s, new Array<number>(sizeOf(s)).fill(0))], { to: 9 }, [node.outputs[0]!]);
  },
};
NORMALIZATIONS.IsInf = NORMALIZATIONS.IsNaN!;

/**
 * The DFT as a constant matrix: [n·cd] inputs (n samples, cd = 1 real or 2 complex components)
 * to [K·2] outputs (K bins of real, imaginary), length L (samples past L dropped, missing ones 0),
 * onesided K = ⌊L/2⌋ + 1, inverse with e^{+2πikt/L}/L.
 */
function dftMatrix(n: number, cd: number, L: number, K: number, inverse: boolean): number[] {
  const W = new Array<number>(n * cd * K * 2).fill(0);
  for (let t = 0; t < Math.min(n, L); t++) {
    for (let k = 0; k < K; k++) {
      const th = ((inverse ? 2 : -2) * Math.PI * ((k * t) % L)) / L;
      const [cos, sin] = [Math.cos(th) / (inverse ? L : 1), Math.sin(th) / (inverse ? L : 1)];
      const at = (row: number, col: number, v: number) => { W[row * K * 2 + col] = v; };
      at(t * cd, k * 2, cos);
      at(t * cd, k * 2 + 1, sin);
      if (cd === 2) { at(t * cd + 1, k * 2, -sin); at(t * cd + 1, k * 2 + 1, cos); }
    }
  }
  return W;
}

/** A constant scalar input (dft_length, frame_step…), or undefined where the input is absent. */
const scalarInput = (c: RewriteContext, name: string | undefined, what: string): number | undefined => {
  if (!name) return undefined;
  const t = c.constOf(name);
  if (!t || t.data.length !== 1) c.fail(`${what} must be a constant scalar`);
  return t!.data[0]!;
};

/** x [..., n, cd] times the DFT matrix: [..., K, 2]. */
function dftLast(c: RewriteContext, x: string, lead: number[], n: number, cd: number, L: number, K: number, inverse: boolean, out?: string): string {
  const P = sizeOf(lead);
  const flat = c.e.node('Reshape', [x, c.e.constant([2], [P, n * cd])]);
  const y = c.e.node('MatMul', [flat, c.e.constant([n * cd, K * 2], dftMatrix(n, cd, L, K, inverse))]);
  return c.e.node('Reshape', [y, c.e.constant([lead.length + 2], [...lead, K, 2])], {}, out ? [out] : undefined);
}

NORMALIZATIONS.DFT = (node, c) => {
  const [x, lenName, axisName] = node.inputs as [string, string | undefined, string | undefined];
  const s = c.shapeOf(x);
  const r = s.length;
  const cd = s[r - 1]!;
  if (r < 3 || (cd !== 1 && cd !== 2)) c.fail(`input of shape [${s}] is not [batch, signal…, 1 or 2]`);
  // opset 20 takes the axis as input 2 (default −2), opset 17 as an attribute (default 1)
  const a0 = scalarInput(c, axisName, 'axis') ?? (c.opset >= 20 ? -2 : num(node.attrs.axis, 1));
  const a = a0 < 0 ? a0 + r : a0;
  if (a < 1 || a >= r - 1) c.fail(`axis ${a0} is not a signal axis of the input [${s}]`);
  const inverse = num(node.attrs.inverse, 0) !== 0;
  const onesided = num(node.attrs.onesided, 0) !== 0;
  if (onesided && (inverse || cd !== 1)) c.fail('onesided is supported for the forward DFT of a real input only');
  const n = s[a]!;
  const L = scalarInput(c, lenName, 'dft_length') ?? n;
  if (!Number.isInteger(L) || L < 1) c.fail(`dft_length ${L} must be a positive integer`);
  const K = onesided ? Math.floor(L / 2) + 1 : L;
  // the axis next to the complex components, transformed, and moved back
  const perm = [...s.keys()].filter((i) => i !== a && i !== r - 1).concat([a, r - 1]);
  const moved = c.e.node('Transpose', [x], { perm });
  const lead = perm.slice(0, -2).map((i) => s[i]!);
  const y = dftLast(c, moved, lead, n, cd, L, K, inverse);
  c.e.node('Transpose', [y], { perm: perm.map((_, i) => perm.indexOf(i)) }, [node.outputs[0]!]);
};

NORMALIZATIONS.STFT = (node, c) => {
  const [x, stepName, windowName, lenName] = node.inputs as [string, string, string | undefined, string | undefined];
  const s = c.shapeOf(x);
  if (s.length !== 3 || (s[2] !== 1 && s[2] !== 2)) c.fail(`signal of shape [${s}] is not [batch, length, 1 or 2]`);
  const [B, N, cd] = s as [number, number, number];
  const step = scalarInput(c, stepName, 'frame_step');
  const win = windowName ? c.constOf(windowName) : undefined;
  if (windowName && !win) c.fail('the window must be a constant');
  const L = scalarInput(c, lenName, 'frame_length') ?? (win ? win.data.length : undefined);
  if (L === undefined || step === undefined) c.fail('frame_step and a window or frame_length are needed');
  if (win && win.data.length !== L) c.fail(`the window has ${win.data.length} values, frame_length is ${L}`);
  const onesided = num(node.attrs.onesided, 1) !== 0;
  if (onesided && cd !== 1) c.fail('onesided is supported for a real signal only');
  const frames = Math.floor((N - L!) / step!) + 1;
  if (frames < 1) c.fail(`frame_length ${L} is longer than the signal (${N})`);
  // frames gathered (constant indices), windowed, and transformed
  const at = Array.from({ length: frames * L! }, (_, i) => Math.floor(i / L!) * step! + (i % L!));
  let f = c.e.node('Reshape', [c.e.node('Gather', [x, c.e.constant([frames * L!], at)], { axis: 1 }), c.e.constant([4], [B, frames, L!, cd])]);
  if (win) f = c.e.node('Mul', [f, c.e.constant([L!, 1], Array.from(win.data))]);
  const K = onesided ? Math.floor(L! / 2) + 1 : L!;
  dftLast(c, f, [B, frames], L!, cd, L!, K, false, node.outputs[0]!);
};

/** EyeLike: ones on the k-th diagonal of a matrix of the input's shape (a constant). */
NORMALIZATIONS.EyeLike = (node, c) => {
  const s = c.shapeOf(node.inputs[0]!);
  if (s.length !== 2) c.fail(`input of shape [${s}] is not a matrix`);
  const k = num(node.attrs.k, 0);
  const [R, C] = s as [number, number];
  c.e.node('Identity', [c.e.constant(s, Array.from({ length: R * C }, (_, f) => (f % C) - Math.floor(f / C) === k ? 1 : 0))], {}, [node.outputs[0]!]);
};

/** ReduceProd of signals: the reduced axes moved last and flattened, then one Mul per factor. */
NORMALIZATIONS.ReduceProd = (node, c) => {
  const [x, axesName] = node.inputs as [string, string | undefined];
  if (c.constOf(x)) return false; // a constant folds as it is
  const s = c.shapeOf(x);
  const listed = axesName ? c.constOf(axesName) : undefined;
  if (axesName && !listed) c.fail('axes must be a constant');
  const given = listed ? Array.from(listed.data) : nums(node.attrs.axes);
  if (!given.length && num(node.attrs.noop_with_empty_axes, 0)) { c.e.node('Identity', [x], {}, [node.outputs[0]!]); return; }
  const axes = given.length ? [...new Set(given.map((a) => axisIn(c, a, s.length)))].sort((a, b) => a - b) : [...s.keys()];
  const rest = [...s.keys()].filter((i) => !axes.includes(i));
  const n = sizeOf(axes.map((a) => s[a]!));
  const R = sizeOf(rest.map((i) => s[i]!));
  const flat = c.e.node('Reshape', [c.e.node('Transpose', [x], { perm: [...rest, ...axes] }), c.e.constant([2], [R, n])]);
  const col = (j: number) => c.e.node('Gather', [flat, c.e.constant([1], [j])], { axis: 1 });
  let acc = col(0);
  for (let j = 1; j < n; j++) acc = c.e.node('Mul', [acc, col(j)]);
  const keep = num(node.attrs.keepdims, 1) !== 0;
  const out = keep ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : rest.map((i) => s[i]!);
  c.e.node('Reshape', [acc, c.e.constant([out.length], out)], {}, [node.outputs[0]!]);
};
