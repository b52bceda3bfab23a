// RotaryEmbedding (RoPE), rewritten into the ops zkonnx proves, as onnxruntime computes it:
//
//   ONNX opset 23      X [B, heads, S, head] (4-D) or [B, S, heads·head] (3-D, num_heads given);
//                      cos_cache, sin_cache [max_position, rotary/2] read at position_ids [B, S],
//                      or [B, S, rotary/2] without position_ids
//   com.microsoft      input [B, S, heads·head] or [B, heads, S, head]; position_ids [B, S], or one
//                      value: the first position (positions offset + 0 … S − 1); caches
//                      [max_position, rotary/2]; head = 2·(rotary/2) when num_heads is not given
//
// The first `rotary` features of each head turn by the angle of their position: non-interleaved,
// halves x1, x2 → (x1·cos − x2·sin, x2·cos + x1·sin); interleaved, pairs (x[2i], x[2i+1]) likewise;
// the rest of the head passes through. Positions from constants fold into constant cos/sin
// (the products are then linear); positions from the input gather the caches by equality (a
// Gather of a constant table), and each product is one constraint.
import { sizeOf } from '../ir/graph.js';
import { num, type Expansion, type RewriteContext } from './rewrite.js';

const fmt = (s: number[]) => `[${s.join(', ')}]`;

interface Layout {
  /** x as [B, S, heads, head]; and back to x's layout. */
  bsnh: string;
  back: (y: string) => string;
  B: number; S: number; N: number; H: number;
}

/** x as [B, S, heads, head]: 4-D [B, heads, S, head] transposed, 3-D [B, S, heads·head] split into heads. */
function layout(c: RewriteContext, x: string, heads: number, headFromCache: number, out: string): Layout {
  const { e } = c;
  const s = c.shapeOf(x);
  const shape = (t: string, dims: number[]) => e.node('Reshape', [t, e.constant([dims.length], dims)]);
  if (s.length === 4) {
    return { bsnh: e.node('Transpose', [x], { perm: [0, 2, 1, 3] }), back: (y) => e.node('Transpose', [y], { perm: [0, 2, 1, 3] }, [out]), B: s[0]!, N: s[1]!, S: s[2]!, H: s[3]! };
  }
  if (s.length !== 3) c.fail(`input has shape ${fmt(s)}, expected 3-D [batch, sequence, hidden] or 4-D`);
  const [B, S, hidden] = s as [number, number, number];
  const N = heads > 0 ? heads : headFromCache > 0 ? hidden / headFromCache : 0;
  if (!Number.isInteger(N) || N < 1 || hidden % N) c.fail(`a 3-D input of shape ${fmt(s)} needs num_heads that splits its hidden size ${hidden}`);
  const H = hidden / N;
  return { bsnh: shape(x, [B, S, N, H]), back: (y) => e.node('Reshape', [y, e.constant([3], [B, S, hidden])], {}, [out]), B, S, N, H };
}

/** The rotation of x [B, S, N, H] by cos, sin [b, S, 1, rotary/2] (b = B or 1). */
function rotate(c: RewriteContext, l: Layout, cos: string, sin: string, b: number, rotary: number, interleaved: boolean): string {
  const { e } = c;
  const { B, S, N, H } = l;
  // features [from, to) of the last axis: a Gather (its form is the same in every opset)
  const slice = (t: string, from: number, to: number, rank = 4) => e.node('Gather', [t, e.constant([to - from], Array.from({ length: to - from }, (_, i) => from + i))], { axis: rank - 1 });
  const turn = (a: string, b: string, cs: string, sn: string) => [
    e.node('Sub', [e.node('Mul', [a, cs]), e.node('Mul', [b, sn])]),
    e.node('Add', [e.node('Mul', [b, cs]), e.node('Mul', [a, sn])]),
  ] as const;
  const rot = rotary === H ? l.bsnh : slice(l.bsnh, 0, rotary);
  const half = rotary / 2;
  let turned: string;
  if (interleaved) {
    // pairs (x[2i], x[2i + 1]) on a last axis of 2
    const pairs = e.node('Reshape', [rot, e.constant([5], [B, S, N, half, 2])]);
    const cs = e.node('Reshape', [cos, e.constant([5], [b, S, 1, half, 1])]);
    const sn = e.node('Reshape', [sin, e.constant([5], [b, S, 1, half, 1])]);
    const [even, odd] = turn(slice(pairs, 0, 1, 5), slice(pairs, 1, 2, 5), cs, sn);
    turned = e.node('Reshape', [e.node('Concat', [even, odd], { axis: 4 }), e.constant([4], [B, S, N, rotary])]);
  } else {
    const [first, second] = turn(slice(rot, 0, half), slice(rot, half, rotary), cos, sin);
    turned = e.node('Concat', [first, second], { axis: 3 });
  }
  return rotary === H ? turned : e.node('Concat', [turned, slice(l.bsnh, rotary, H)], { axis: 3 });
}

/**
 * cos or sin at the positions, as [b, S, 1, rotary/2]: the cache [max_position, rotary/2]
 * gathered at positions [b, S], or a cache given per position [b, S, rotary/2].
 */
function atPositions(c: RewriteContext, cache: string, positions: { name: string; shape: number[] } | undefined, S: number, what: string): { t: string; b: number } {
  const { e } = c;
  const cs = c.shapeOf(cache);
  if (positions) {
    if (cs.length !== 2) c.fail(`${what} has shape ${fmt(cs)}: with position_ids it is [max_position, rotary/2]`);
    if (positions.shape.length !== 2 || positions.shape[1] !== S) c.fail(`position_ids has shape ${fmt(positions.shape)}, expected [batch, ${S}]`);
    const b = positions.shape[0]!;
    return { t: e.node('Reshape', [e.node('Gather', [cache, positions.name], { axis: 0 }), e.constant([4], [b, S, 1, cs[1]!])]), b };
  }
  if (cs.length !== 3 || cs[1] !== S) c.fail(`${what} has shape ${fmt(cs)}: without position_ids it is [batch, ${S}, rotary/2]`);
  return { t: e.node('Reshape', [cache, e.constant([4], [cs[0]!, S, 1, cs[2]!])]), b: cs[0]! };
}

/** The rotary size (even, at most the head) from rotary_embedding_dim and the cache's width. */
function rotarySize(c: RewriteContext, attr: number, cacheHalf: number, H: number): number {
  const rotary = attr > 0 ? attr : 2 * cacheHalf;
  if (rotary % 2 || rotary > H || rotary / 2 !== cacheHalf) c.fail(`rotary size ${rotary} (rotary_embedding_dim ${attr}) does not fit a head of ${H} with caches of width ${cacheHalf}`);
  return rotary;
}

/** ONNX RotaryEmbedding (opset 23): inputs X, cos_cache, sin_cache, position_ids (optional). */
export const rotaryEmbedding23: Expansion = (node, c) => {
  const [x, cos, sin, pos] = node.inputs as [string, string, string, string | undefined];
  const cacheHalf = c.shapeOf(cos).at(-1)!;
  const l = layout(c, x, num(node.attrs.num_heads, 0), 0, node.outputs[0]!);
  const rotary = rotarySize(c, num(node.attrs.rotary_embedding_dim, 0), cacheHalf, l.H);
  const positions = pos ? { name: pos, shape: c.shapeOf(pos) } : undefined;
  const cs = atPositions(c, cos, positions, l.S, 'cos_cache');
  const sn = atPositions(c, sin, positions, l.S, 'sin_cache');
  l.back(rotate(c, l, cs.t, sn.t, cs.b, rotary, num(node.attrs.interleaved, 0) !== 0));
};

/** com.microsoft RotaryEmbedding: inputs input, position_ids, cos_cache, sin_cache. */
export const rotaryEmbeddingMsft: Expansion = (node, c) => {
  const { e } = c;
  const [x, pos, cos, sin] = node.inputs as [string, string, string, string];
  if (num(node.attrs.is_packed_batching, 0) !== 0) c.fail('is_packed_batching is not supported');
  if (num(node.attrs.scale, 1) !== 1) c.fail(`scale ${num(node.attrs.scale, 1)} is not supported (onnxruntime's CPU kernel leaves it at 1)`);
  const cacheHalf = c.shapeOf(cos).at(-1)!;
  const dim = num(node.attrs.rotary_embedding_dim, 0);
  const l = layout(c, x, num(node.attrs.num_heads, 0), dim > 0 ? 0 : 2 * cacheHalf, node.outputs[0]!);
  const rotary = rotarySize(c, dim, cacheHalf, l.H);
  // one position_ids value is the first position: positions offset + 0 … S − 1
  const ps = c.shapeOf(pos);
  const positions = sizeOf(ps) === 1 && ps.length < 2
    ? { name: e.node('Add', [e.node('Reshape', [pos, e.constant([2], [1, 1])]), e.constant([1, l.S], Array.from({ length: l.S }, (_, i) => i))]), shape: [1, l.S] }
    : { name: pos, shape: ps };
  const cs = atPositions(c, cos, positions, l.S, 'cos_cache');
  const sn = atPositions(c, sin, positions, l.S, 'sin_cache');
  l.back(rotate(c, l, cs.t, sn.t, cs.b, rotary, num(node.attrs.interleaved, 0) !== 0));
};
