// LSTM, GRU and RNN on signals, unrolled over the static sequence length into the ops zkonnx
// already proves: per step and direction, products with constant weights (MatMul, linear), the
// gate activations (Sigmoid, Tanh, … : clamped approximations) and element-wise products of two
// signals (Mul). Equations and gate orders as in the ONNX operator specification:
//
//   LSTM  W = [Wi Wo Wf Wc]   i = f(x·Wiᵀ + h·Riᵀ + Pi⊙c + b)   f, o likewise (o peeks at the new c)
//                             c' = f⊙c + i⊙g(x·Wcᵀ + h·Rcᵀ + b)   h' = o⊙h(c')
//   GRU   W = [Wz Wr Wh]      z, r = f(…)   h~ = g(x·Whᵀ + (r⊙h)·Rhᵀ + b)  (or r⊙(h·Rhᵀ + Rbh))
//                             h' = h~ + z⊙(h − h~)
//   RNN                       h' = f(x·Wᵀ + h·Rᵀ + b)
//
// Directions forward, reverse and bidirectional; layout 0 and 1; initial states; activations as
// listed (with their alpha/beta); clip. sequence_lens must be absent or the full length.
//
// com.microsoft DynamicQuantizeLSTM (what quantize_dynamic makes of an LSTM) is the LSTM with int8
// W [D, I, 4H] and R [D, H, 4H] (transposed), their scales and zero points per direction or per
// column: as onnxruntime computes it (measured on onnxruntime-web), X is quantized once for the
// whole sequence and h at each step (DynamicQuantizeLinear), x·W and h·R are MatMulIntegers scaled
// by the two scales' product.
import type { Node, Tensor } from '../ir/graph.js';
import { integerProduct } from './qdq.js';
import { nums, num, str, strs, type Emit, type RewriteContext } from './rewrite.js';

type Cell = 'LSTM' | 'GRU' | 'RNN';
const GATES: Record<Cell, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTS: Record<Cell, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };
/** Activations whose attributes take alpha (and beta), in the order they consume activation_alpha/beta. */
const TAKES_ALPHA = new Set(['affine', 'leakyrelu', 'thresholdedrelu', 'scaledtanh', 'hardsigmoid', 'elu']);
const TAKES_BETA = new Set(['affine', 'scaledtanh', 'hardsigmoid']);
const ACT_OPS: Record<string, string> = {
  sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', softsign: 'Softsign', softplus: 'Softplus',
  leakyrelu: 'LeakyRelu', thresholdedrelu: 'ThresholdedRelu', hardsigmoid: 'HardSigmoid', elu: 'Elu',
};

type Act = (x: string) => string;

/** DynamicQuantizeLSTM's int8 weights: scales and zero points per direction ([D]) or per column ([D, 4H]). */
export interface QuantizedWeights { ws: Float64Array; wz?: Float64Array; rs: Float64Array; rz?: Float64Array }

export function expandRecurrent(node: Node, c: RewriteContext, quant?: QuantizedWeights): void {
  const cell = (quant ? 'LSTM' : node.op) as Cell;
  const { e, fail } = c;
  const G = GATES[cell];
  const [X, W, R, B, seqLens, h0, c0, P] = node.inputs;
  const Wt = c.constOf(W ?? '');
  const Rt = c.constOf(R ?? '');
  if (!Wt || !Rt) fail('the weights W and R must be constants');
  const layout = num(node.attrs.layout, 0);
  if (layout !== 0 && layout !== 1) fail(`layout ${layout} is not supported (0 or 1)`);
  const direction = str(node.attrs.direction, 'forward');
  const dirs = direction === 'bidirectional' ? [false, true] : direction === 'reverse' ? [true] : direction === 'forward' ? [false] : fail(`direction ${direction} is not supported`);
  const D = dirs.length;
  const xs = c.shapeOf(X!);
  if (xs.length !== 3) fail(`X must have rank 3, got [${xs}]`);
  const [S, Bn, I] = layout === 0 ? [xs[0]!, xs[1]!, xs[2]!] : [xs[1]!, xs[0]!, xs[2]!];
  const H = num(node.attrs.hidden_size, Wt!.dims[1]! / G);
  const shapeW = quant ? [D, I, G * H] : [D, G * H, I];
  const shapeR = quant ? [D, H, G * H] : [D, G * H, H];
  if (Wt!.dims.join() !== shapeW.join()) fail(`W has shape [${Wt!.dims}], expected [${shapeW}]`);
  if (Rt!.dims.join() !== shapeR.join()) fail(`R has shape [${Rt!.dims}], expected [${shapeR}]`);
  if (S < 1) fail('the sequence is empty');
  if (seqLens) {
    const sl = c.constOf(seqLens);
    if (!sl || Array.from(sl.data).some((v) => v !== S)) fail('sequence_lens is supported only absent or a constant equal to the sequence length for every sample', 'pad to one length and drop sequence_lens');
  }
  const Bt = B ? c.constOf(B) : undefined;
  if (B && !Bt) fail('the bias B must be a constant');
  const Pt = P ? c.constOf(P) : undefined;
  if (P && !Pt) fail('the peepholes P must be a constant');
  if (cell === 'LSTM' && num(node.attrs.input_forget, 0) !== 0 && num(node.attrs.input_forget, 0) !== 1) fail('input_forget must be 0 or 1');
  const clip = typeof node.attrs.clip === 'number' ? node.attrs.clip : undefined;
  const acts = activations(node, cell, D, e, fail);

  // constants: per direction and gate, Wᵀ [I, H], Rᵀ [H, H], bias Wb + Rb [H] (DynamicQuantizeLSTM's
  // W and R are stored transposed already)
  const block = (t: Tensor, d: number, g: number, cols: number): string => {
    const out = new Float64Array(cols * H);
    for (let r = 0; r < H; r++) {
      for (let k = 0; k < cols; k++) out[k * H + r] = t.data[quant ? (d * cols + k) * G * H + g * H + r : (d * G * H + g * H + r) * cols + k]!;
    }
    return e.constant([cols, H], out);
  };
  // a quantized gate's scale or zero point: per direction (a scalar) or per column ([H])
  const perGate = (v: Float64Array | undefined, d: number, g: number, what: string): string | undefined => {
    if (!v) return undefined;
    if (v.length === D) return e.constant([], [v[d]!]);
    if (v.length !== D * G * H) fail(`the ${what} has ${v.length} values, expected ${D} or ${D * G * H}`);
    return e.constant([H], v.slice(d * G * H + g * H, d * G * H + (g + 1) * H));
  };
  /** a quantized operand (q, its scale, its zero point) times int8 weights, scaled back. */
  const intProduct = (q: [string, string, string], w: string, ws: string, wz: string | undefined) => integerProduct(e, q[0], w, q[1], ws, q[2], wz);
  const base = node.name || node.op;
  let quantized = 0;
  const dynamicQuantize = (x: string): [string, string, string] => {
    const names = ['q', 's', 'z'].map((t) => `${base}:dq${quantized}_${t}`) as [string, string, string];
    quantized++;
    e.node('DynamicQuantizeLinear', [x], {}, names);
    return names;
  };
  // X once for the whole sequence, as onnxruntime quantizes the input projection's operand
  const xq = quant ? dynamicQuantize(X!) : undefined;
  const bias = (d: number, g: number, which: 0 | 1 | 2): string | undefined => {
    if (!Bt) return undefined;
    const out = new Float64Array(H);
    for (let r = 0; r < H; r++) {
      const wb = Bt.data[d * 2 * G * H + g * H + r]!;
      const rb = Bt.data[d * 2 * G * H + G * H + g * H + r]!;
      out[r] = which === 0 ? wb + rb : which === 1 ? wb : rb;
    }
    return out.some((v) => v !== 0) ? e.constant([H], out) : undefined;
  };
  const add = (a: string, b: string | undefined) => (b ? e.node('Add', [a, b]) : a);
  const clipped = (x: string) => (clip === undefined ? x : e.node('Min', [e.node('Max', [x, e.constant([], [-clip])]), e.constant([], [clip])]));
  const initial = (name: string | undefined, d: number): string => {
    const shape = layout === 0 ? [D, Bn, H] : [Bn, D, H];
    if (!name) return e.constant([Bn, H], new Float64Array(Bn * H));
    if (c.shapeOf(name).join() !== shape.join()) fail(`initial state '${name}' has shape [${c.shapeOf(name)}], expected [${shape}]`);
    return e.node('Gather', [name, e.constant([], [d])], { axis: layout === 0 ? 0 : 1 });
  };

  const Y: string[][] = Array.from({ length: S }, () => []); // [t][d] → [B, H]
  const lastH: string[] = [];
  const lastC: string[] = [];
  dirs.forEach((reverse, d) => {
    const Wg = Array.from({ length: G }, (_, g) => block(Wt!, d, g, I));
    const Rg = Array.from({ length: G }, (_, g) => block(Rt!, d, g, H));
    const scales = quant && Array.from({ length: G }, (_, g) => ({
      ws: perGate(quant.ws, d, g, 'W scale')!, wz: perGate(quant.wz, d, g, 'W zero point'), rs: perGate(quant.rs, d, g, 'R scale')!, rz: perGate(quant.rz, d, g, 'R zero point'),
    }));
    let h = initial(h0, d);
    let cs = cell === 'LSTM' ? initial(c0, d) : '';
    const [f, g, hAct] = acts[d]!;
    for (let s = 0; s < S; s++) {
      const t = reverse ? S - 1 - s : s;
      const step = (v: string) => e.node('Gather', [v, e.constant([], [t])], { axis: layout === 0 ? 0 : 1 }); // [B, I]
      const x = step(X!);
      // quantized: step t of the quantized X, and h quantized at this step (shared by the gates)
      const xt: [string, string, string] | undefined = xq && [step(xq[0]), xq[1], xq[2]];
      const hq = quant ? dynamicQuantize(h) : undefined;
      const pre = (k: number, withR = true) => {
        const xw = scales ? intProduct(xt!, Wg[k]!, scales[k]!.ws, scales[k]!.wz) : e.node('MatMul', [x, Wg[k]!]);
        if (!withR) return xw;
        return e.node('Add', [xw, scales ? intProduct(hq!, Rg[k]!, scales[k]!.rs, scales[k]!.rz) : e.node('MatMul', [h, Rg[k]!])]);
      };
      if (cell === 'RNN') {
        h = f!(clipped(add(pre(0), bias(d, 0, 0))));
      } else if (cell === 'GRU') {
        const z = f!(clipped(add(pre(0), bias(d, 0, 0))));
        const r = f!(clipped(add(pre(1), bias(d, 1, 0))));
        let hp: string;
        if (num(node.attrs.linear_before_reset, 0) === 0) {
          hp = add(add(pre(2, false), e.node('MatMul', [e.node('Mul', [r, h]), Rg[2]!])), bias(d, 2, 0));
        } else {
          hp = add(add(pre(2, false), bias(d, 2, 1)), e.node('Mul', [r, add(e.node('MatMul', [h, Rg[2]!]), bias(d, 2, 2))]));
        }
        const ht = g!(clipped(hp));
        h = e.node('Add', [ht, e.node('Mul', [z, e.node('Sub', [h, ht])])]);
      } else {
        const peep = (k: number, state: string) => (Pt ? e.node('Mul', [state, e.constant([H], Pt.data.slice((d * 3 + k) * H, (d * 3 + k + 1) * H))]) : undefined);
        const i = f!(clipped(add(add(pre(0), bias(d, 0, 0)), peep(0, cs))));
        const fg = num(node.attrs.input_forget, 0) === 1
          ? e.node('Sub', [e.constant([], [1]), i])
          : f!(clipped(add(add(pre(2), bias(d, 2, 0)), peep(2, cs))));
        const gg = g!(clipped(add(pre(3), bias(d, 3, 0))));
        cs = e.node('Add', [e.node('Mul', [fg, cs]), e.node('Mul', [i, gg])]);
        const o = f!(clipped(add(add(pre(1), bias(d, 1, 0)), peep(1, cs))));
        h = e.node('Mul', [o, hAct!(cs)]);
      }
      Y[t]![d] = h;
    }
    lastH.push(h);
    lastC.push(cs);
  });

  // outputs: Y [S, D, B, H] (layout 1: [B, S, D, H]), Y_h and Y_c [D, B, H] (layout 1: [B, D, H])
  const [yOut, hOut, cOut] = node.outputs;
  const reshape = (x: string, dims: number[], out?: string[]) => e.node('Reshape', [x, e.constant([dims.length], dims)], {}, out);
  const concat = (parts: string[], axis: number, out?: string[]) => (parts.length === 1 && !out ? parts[0]! : e.node('Concat', parts, { axis }, out));
  if (yOut) {
    const steps = Y.map((byDir) => concat(byDir.map((y) => reshape(y, layout === 0 ? [1, 1, Bn, H] : [Bn, 1, 1, H])), layout === 0 ? 1 : 2));
    concat(steps, layout === 0 ? 0 : 1, [yOut]);
  }
  const finals = (hs: string[], out: string) => concat(hs.map((y) => reshape(y, layout === 0 ? [1, Bn, H] : [Bn, 1, H])), layout === 0 ? 0 : 1, [out]);
  if (hOut) finals(lastH, hOut);
  if (cOut) {
    if (cell !== 'LSTM') fail('has an output 2 (Y_c), which only LSTM has');
    finals(lastC, cOut);
  }
}

/** The f, g, h activations per direction as functions that emit their nodes. */
function activations(node: Node, cell: Cell, D: number, e: Emit, fail: (m: string, hint?: string) => never): Act[][] {
  const n = DEFAULT_ACTS[cell].length;
  let names = strs(node.attrs.activations);
  if (names.length === 0) names = Array.from({ length: D }, () => DEFAULT_ACTS[cell]).flat();
  else if (names.length === n && D === 2) names = [...names, ...names];
  if (names.length !== n * D) fail(`${names.length} activations listed, ${cell} with ${D} direction(s) needs ${n * D}`);
  const alphas = nums(node.attrs.activation_alpha);
  const betas = nums(node.attrs.activation_beta);
  let ai = 0;
  let bi = 0;
  const acts = names.map((name): Act => {
    const key = name.toLowerCase();
    const alpha = TAKES_ALPHA.has(key) ? alphas[ai++] : undefined;
    const beta = TAKES_BETA.has(key) ? betas[bi++] : undefined;
    if (key === 'affine') return (x) => e.node('Add', [e.node('Mul', [x, e.constant([], [alpha ?? 1])]), e.constant([], [beta ?? 0])]);
    if (key === 'scaledtanh') return (x) => e.node('Mul', [e.node('Tanh', [e.node('Mul', [x, e.constant([], [beta ?? 1])])]), e.constant([], [alpha ?? 1])]);
    const op = ACT_OPS[key];
    if (!op) fail(`activation ${name} is not supported`, `supported: ${['Affine', 'ScaledTanh', ...Object.values(ACT_OPS)].join(', ')}`);
    const attrs = { ...(alpha !== undefined ? { alpha } : {}), ...(beta !== undefined ? { beta } : {}) };
    return (x) => e.node(op!, [x], attrs);
  });
  return Array.from({ length: D }, (_, d) => acts.slice(d * n, (d + 1) * n));
}
