// Indexing ops rewritten into Gather on the flattened data (EXPANSIONS, expand.ts):
//
//   GatherND        each index tuple (i₀ … i_{m−1}) is the flat offset Σ i_d·stride_d, linear in
//                   the indices: constant indices give constant positions (a selection, free),
//                   indices computed from the input one Gather whose index is that sum (an Equal
//                   per candidate); batch_dims leading axes index in step
//   Compress        a constant condition: the positions it keeps (Gather); along no axis, of the
//                   flattened input
//   ReverseSequence each batch entry's first sequence_lens[b] steps reversed (constant lengths)
//   CenterCropPad   Slice the centre of larger axes, Pad smaller ones around it
import { sizeOf } from '../ir/graph.js';
import { axisIn, num, nums, type Expansion, type RewriteContext } from './rewrite.js';

const strides = (s: number[]) => s.map((_, i) => sizeOf(s.slice(i + 1)));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** data flattened and gathered at `positions` (constant), reshaped to `shape`, into `out`. */
function pick(c: RewriteContext, data: string, positions: number[], shape: number[], out: string): void {
  const flat = c.e.node('Reshape', [data, c.e.constant([1], [sizeOf(c.shapeOf(data))])]);
  const got = c.e.node('Gather', [flat, c.e.constant([positions.length], positions)], { axis: 0 });
  c.e.node('Reshape', [got, c.e.constant([shape.length], shape)], {}, [out]);
}

export const INDEXING: Record<string, Expansion> = {
  GatherND(node, c) {
    const [data, indices] = node.inputs as [string, string];
    const ds = c.shapeOf(data);
    const is = c.shapeOf(indices);
    const b = num(node.attrs.batch_dims, 0);
    const m = is[is.length - 1]!;
    if (b < 0 || b >= Math.min(ds.length, is.length) || is.slice(0, b).some((d, i) => d !== ds[i])) c.fail(`batch_dims=${b} does not fit data [${ds}] and indices [${is}]`);
    if (m < 1 || b + m > ds.length) c.fail(`index tuples of ${m} do not fit data [${ds}] past ${b} batch axes`);
    const tail = ds.slice(b + m);
    const T = sizeOf(tail);
    const outShape = [...is.slice(0, -1), ...tail];
    const st = strides(ds);
    const tuples = sizeOf(is.slice(0, -1));
    const perBatch = sizeOf(is.slice(b, -1));
    /** the flat offset of batch entry `bi`'s origin */
    const batchBase = (bi: number) => { let r = bi, off = 0; for (let d = b - 1; d >= 0; d--) { off += (r % ds[d]!) * st[d]!; r = Math.floor(r / ds[d]!); } return off; };
    const idx = c.constOf(indices);
    if (idx) {
      const positions: number[] = [];
      for (let q = 0; q < tuples; q++) {
        let off = batchBase(Math.floor(q / perBatch));
        for (let d = 0; d < m; d++) {
          const v = idx.data[q * m + d]!;
          const size = ds[b + d]!;
          const i = v < 0 ? v + size : v;
          if (!Number.isInteger(i) || i < 0 || i >= size) c.fail(`index ${v} is out of range for axis ${b + d} of size ${size}`);
          off += i * st[b + d]!;
        }
        for (let t = 0; t < T; t++) positions.push(off + t);
      }
      pick(c, data, positions, outShape, node.outputs[0]!);
      return;
    }
    // indices from the input: offset = Σ_d i_d·stride_d (+ the batch origin), one Gather of the
    // flattened data by it. Indices are taken as they are: a negative or out-of-range one (which
    // onnxruntime wraps or refuses) gives another offset or none, not its element
    const flatIdx = c.e.node('Reshape', [indices, c.e.constant([2], [tuples, m])]);
    const dot = c.e.node('MatMul', [flatIdx, c.e.constant([m, 1], range(m).map((d) => st[b + d]!))]);
    const base = c.e.node('Add', [c.e.node('Reshape', [dot, c.e.constant([1], [tuples])]), c.e.constant([tuples], range(tuples).map((q) => batchBase(Math.floor(q / perBatch))))]);
    // each element of the slice after the tuple: base + t
    const offsets = c.e.node('Add', [c.e.node('Reshape', [base, c.e.constant([2], [tuples, 1])]), c.e.constant([1, T], range(T))]);
    const flat = c.e.node('Reshape', [data, c.e.constant([1], [sizeOf(ds)])]);
    const got = c.e.node('Gather', [flat, c.e.node('Reshape', [offsets, c.e.constant([1], [tuples * T])])], { axis: 0 });
    c.e.node('Reshape', [got, c.e.constant([outShape.length], outShape)], {}, [node.outputs[0]!]);
  },

  Compress(node, c) {
    const [x, condName] = node.inputs as [string, string];
    const cond = c.constOf(condName);
    if (!cond) c.fail('the condition depends on the input: the output\'s shape would too');
    const s = c.shapeOf(x);
    const keep = (n: number) => range(Math.min(n, cond!.data.length)).filter((i) => cond!.data[i] !== 0);
    if (node.attrs.axis === undefined) {
      const k = keep(sizeOf(s));
      pick(c, x, k, [k.length], node.outputs[0]!);
      return;
    }
    const a = axisIn(c, num(node.attrs.axis, 0), s.length);
    const k = keep(s[a]!);
    c.e.node('Gather', [x, c.e.constant([k.length], k)], { axis: a }, [node.outputs[0]!]);
  },

  ReverseSequence(node, c) {
    const [x, lensName] = node.inputs as [string, string];
    const lens = c.constOf(lensName);
    if (!lens) c.fail('sequence_lens must be a constant');
    const s = c.shapeOf(x);
    const [ba, ta] = [num(node.attrs.batch_axis, 1), num(node.attrs.time_axis, 0)];
    if (s.length < 2 || ![ba, ta].every((v) => v === 0 || v === 1) || ba === ta) c.fail(`batch_axis ${ba} and time_axis ${ta} must be 0 and 1 in some order`);
    const st = strides(s);
    const positions = range(sizeOf(s)).map((f) => {
      const t = Math.floor(f / st[ta]!) % s[ta]!;
      const bi = Math.floor(f / st[ba]!) % s[ba]!;
      const L = lens!.data[bi]!;
      return t < L ? f + (L - 1 - 2 * t) * st[ta]! : f;
    });
    pick(c, x, positions, s, node.outputs[0]!);
  },

  CenterCropPad(node, c) {
    const [x, shapeName] = node.inputs as [string, string];
    const want = c.constOf(shapeName);
    if (!want) c.fail('the target shape must be a constant');
    const s = c.shapeOf(x);
    const axes = node.attrs.axes !== undefined ? nums(node.attrs.axes).map((a) => axisIn(c, a, s.length)) : range(s.length);
    if (axes.length !== want!.data.length) c.fail(`${want!.data.length} target sizes for ${axes.length} axes`);
    // per axis: the source window [from, from + n) and where it lands in the output
    const target = [...s];
    axes.forEach((a, j) => { target[a] = want!.data[j]!; });
    const st = strides(s);
    const positions: number[] = [];
    const valid: number[] = [];
    for (let f = 0; f < sizeOf(target); f++) {
      let off = 0, inside = true, r = f;
      for (let d = target.length - 1; d >= 0; d--) {
        const o = r % target[d]!;
        r = Math.floor(r / target[d]!);
        // larger: the crop starts at ⌊(n − t)/2⌋; smaller: the input starts at ⌊(t − n)/2⌋ of the output
        const i = s[d]! >= target[d]! ? o + Math.floor((s[d]! - target[d]!) / 2) : o - Math.floor((target[d]! - s[d]!) / 2);
        if (i < 0 || i >= s[d]!) inside = false;
        off += i * st[d]!;
      }
      positions.push(inside ? off : 0);
      valid.push(inside ? 1 : 0);
    }
    const picked = c.e.node('Reshape', [c.e.node('Gather', [c.e.node('Reshape', [x, c.e.constant([1], [sizeOf(s)])]), c.e.constant([positions.length], positions)], { axis: 0 }), c.e.constant([target.length], target)]);
    c.e.node('Mul', [picked, c.e.constant(target, valid)], {}, [node.outputs[0]!]);
  },
};
