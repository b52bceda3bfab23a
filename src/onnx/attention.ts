// ONNX Attention (opset 23: what exporters write for scaled dot-product attention), rewritten into
// the ops zkonnx proves, as onnxruntime computes it:
//
//   Q, K, V          [B, heads, S, head] (4-D) or [B, S, heads·head] (3-D, with q_num_heads and
//                    kv_num_heads) as [B, heads, S, head]; past_key / past_value before K and V
//                    (present_key / present_value: the concatenation)
//   grouped KV       each of the kv_num_heads serves q_num_heads / kv_num_heads query heads (a
//                    Gather of constant head indices)
//   scores           scale·Q·Kᵀ (scale 1/√head by default), plus a float attn_mask, or a bool one
//                    keeping positions where it is true; is_causal keeps key j ≤ P + query i
//                    (P past keys; without them the upper-left alignment, as onnxruntime does);
//                    a masked score becomes a constant far below every score (msft.ts: −10000),
//                    so its probability is 0 as with onnxruntime's −∞ (a row with every key
//                    masked is uniform here, NaN there)
//   Y                Softmax(scores)·V, in Q's layout
//
// Refused with a message: softcap, the qk_matmul_output output, and a mask of another rank.
import { LOWEST } from './msft.js';
import { num, type Expansion, type RewriteContext } from './rewrite.js';

const fmt = (s: number[]) => `[${s.join(', ')}]`;

/** x [B, S, heads·h] (3-D) or [B, heads, S, h] (4-D) as [B, heads, S, h]; its heads and head size. */
function heads(c: RewriteContext, x: string, n: number | undefined, what: string): { t: string; n: number; h: number; S: number } {
  const s = c.shapeOf(x);
  if (s.length === 4) return { t: x, n: s[1]!, h: s[3]!, S: s[2]! };
  if (s.length !== 3) c.fail(`${what} has shape ${fmt(s)}, expected 3-D [batch, sequence, hidden] or 4-D [batch, heads, sequence, head_size]`);
  if (!n || s[2]! % n) c.fail(`${what} of shape ${fmt(s)} is 3-D: q_num_heads and kv_num_heads must split its hidden size`);
  const h = s[2]! / n!;
  const t = c.e.node('Transpose', [c.e.node('Reshape', [x, c.e.constant([4], [s[0]!, s[1]!, n!, h])])], { perm: [0, 2, 1, 3] });
  return { t, n: n!, h, S: s[1]! };
}

export const attention23: Expansion = (node, c) => {
  const { e } = c;
  const [Qn, Kn, Vn, maskN, pastK, pastV] = node.inputs;
  const [Y, presentK, presentV, qkOut] = node.outputs;
  if (qkOut) c.fail('output qk_matmul_output is not supported');
  if (num(node.attrs.softcap, 0) !== 0) c.fail('softcap is not supported');
  const qRank = c.shapeOf(Qn!).length;
  const B = c.shapeOf(Qn!)[0]!;
  const Q = heads(c, Qn!, num(node.attrs.q_num_heads, 0) || undefined, 'Q');
  let K = heads(c, Kn!, num(node.attrs.kv_num_heads, 0) || undefined, 'K');
  let V = heads(c, Vn!, num(node.attrs.kv_num_heads, 0) || undefined, 'V');
  if (K.h !== Q.h) c.fail(`Q and K head sizes differ (${Q.h}, ${K.h})`);
  if (K.n !== V.n || Q.n % K.n) c.fail(`${Q.n} query heads cannot share ${K.n} key and ${V.n} value heads`);
  // past keys and values before the current ones
  const extend = (cur: typeof K, past: string | undefined, out: string | undefined) => {
    const t = past ? e.node('Concat', [past, cur.t], { axis: 2 }, out ? [out] : undefined) : out ? e.node('Identity', [cur.t], {}, [out]) : cur.t;
    return { ...cur, t, S: past ? c.shapeOf(past)[2]! + cur.S : cur.S };
  };
  const P = pastK ? c.shapeOf(pastK)[2]! : 0;
  K = extend(K, pastK, presentK);
  V = extend(V, pastV, presentV);
  const T = K.S;
  // grouped heads: query head i reads key/value head ⌊i / (Q.n / K.n)⌋
  const share = (x: typeof K) => (x.n === Q.n ? x.t : e.node('Gather', [x.t, e.constant([Q.n], Array.from({ length: Q.n }, (_, i) => Math.floor(i / (Q.n / x.n))))], { axis: 1 }));
  const scale = num(node.attrs.scale, 0) || 1 / Math.sqrt(Q.h);
  let scores = e.node('Mul', [e.node('MatMul', [Q.t, e.node('Transpose', [share(K)], { perm: [0, 1, 3, 2] })]), e.constant([], [scale])]);
  if (maskN) {
    const ms = c.shapeOf(maskN);
    if (ms.length < 2 || ms.length > 4 || ms[ms.length - 1] !== T || (ms[ms.length - 2] !== Q.S && ms[ms.length - 2] !== 1)) {
      c.fail(`attn_mask has shape ${fmt(ms)}, expected […, ${Q.S} or 1, ${T}] (query sequence ${Q.S}, total sequence ${T})`);
    }
    scores = c.isBool(maskN) ? e.node('Where', [maskN, scores, e.constant([], [LOWEST])]) : e.node('Add', [scores, maskN]);
  }
  if (num(node.attrs.is_causal, 0) !== 0) {
    const keep = Array.from({ length: Q.S * T }, (_, i) => (i % T <= P + Math.floor(i / T) ? 1 : 0));
    scores = e.node('Where', [e.node('Cast', [e.constant([Q.S, T], keep)], { to: 9 }), scores, e.constant([], [LOWEST])]);
  }
  const y = e.node('MatMul', [e.node('Softmax', [scores], { axis: -1 }), share(V)]); // [B, Q.n, S, V.h]
  if (qRank === 4) { e.node('Identity', [y], {}, [Y!]); return; }
  e.node('Reshape', [e.node('Transpose', [y], { perm: [0, 2, 1, 3] }), e.constant([3], [B, Q.S, Q.n * V.h])], {}, [Y!]);
};
