// Normalizations and small ops of later opsets, rewritten into ops zkonnx proves (EXPANSIONS,
// expand.ts). Every normalization goes through LayerNormalization, whose circuit states the bound
// |y| < √(n − 1) that a division by the standard deviation needs:
//
//   GroupNormalization          x [N, C, …] as [N, G, C/G·…]: LayerNormalization of each group,
//                               then scale and bias per channel (opset 21) or per group (18)
//   MeanVarianceNormalization   the axes moved last and flattened: LayerNormalization (ε = 1e−9)
//   RMSNormalization            x / √(mean x² + ε) · scale (msft.ts's RMS normalization)
//   LpNormalization             x / ‖x‖₁ or ‖x‖₂ along the axis (ReduceL1 / ReduceL2, Div)
//   ReduceLogSum                Log(ReduceSum)
//   Shrink                      x + bias below −λ, x − bias above λ, else 0: two Wheres
//   Trilu                       x times a constant 0/1 mask of its last two axes
//   Xor                         Not(Equal) of booleans
//   IsNaN, IsInf                false: zkonnx's inputs are finite numbers
import { sizeOf } from '../ir/graph.js';
import { simplifiedLayerNorm } from './msft.js';
import { num, nums, type Expansion, type RewriteContext } from './rewrite.js';

const axisOf = (c: RewriteContext, a: number, rank: number): number => {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) c.fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
};

/** LayerNormalization without scale or bias over the last axis of x (rank ≥ 2). */
const normalizeLast = (c: RewriteContext, x: string, eps: number): string =>
  c.e.node('LayerNormalization', [x, c.e.constant([1], [1])], { axis: -1, epsilon: eps });

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
    const axes = [...new Set((node.attrs.axes !== undefined ? nums(node.attrs.axes) : [0, 2, 3]).map((a) => axisOf(c, a, s.length)))].sort((a, b) => a - b);
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
    const axis = axisOf(c, num(node.attrs.axis, -1), c.shapeOf(x).length);
    const norm = c.e.node(p === 1 ? 'ReduceL1' : 'ReduceL2', [x], { axes: [axis], keepdims: 1 });
    c.e.node('Div', [x, norm], {}, [node.outputs[0]!]);
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
