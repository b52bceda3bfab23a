// ScatterND, ScatterElements and Scatter (opsets 9–10: ScatterElements without reduction) with
// constant indices, generic over the element algebra. With reduction 'none' each output element
// is a data element or the update written last to it (onnxruntime applies duplicate indices in
// order), a pure re-indexing; with 'add' it is the data element plus its updates, a sum. Neither
// costs a constraint. 'mul', 'max' and 'min' are rewritten before shape inference into
// Mul/Max/Min of the elements they touch (src/onnx/expand.ts), so they never reach these ops.
import type { Tensor } from '../graph.js';
import { sizeOf } from '../graph.js';
import { strides } from '../shape.js';
import type { Algebra, Arg, Fail, OpContext, Tens } from './types.js';
import { asTens, attrChoice, attrNum, input0, normAxisChecked, type OpFn } from './util.js';

/** The hint of the refusal of indices that depend on the model input. */
const SIGNAL_INDICES_HINT = 'zkonnx proves a scatter at positions known at compile time (indices computed from shapes fold to constants); '
  + 'at data-dependent positions each output element would need an equality test against every index and a selection (Equal and Where in the model), '
  + 'or fix the inputs the indices depend on with --fix-input';

/**
 * For each update element, in row-major order, the flat index of the data element it writes
 * (`axis`: ScatterElements and Scatter; without: ScatterND). Negative indices count from the end.
 */
export function scatterTargets(fail: Fail, data: number[], idx: Tensor, updates: number[], axis?: number): Int32Array {
  const r = data.length;
  const ds = strides(data);
  const norm = (v: number, d: number) => {
    const j = v < 0 ? v + data[d]! : v;
    if (!Number.isInteger(j) || j < 0 || j >= data[d]!) fail(`index ${v} is out of range for axis ${d} of size ${data[d]}`);
    return j;
  };
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (axis === undefined) {
    // ScatterND: indices [...q, k] address slices data[i0, …, ik−1, :, …], updates [...q, data[k:]]
    const k = idx.dims[idx.dims.length - 1];
    if (k === undefined || k < 1 || k > r) fail(`indices of shape [${idx.dims}] must end in a dimension 1‥${r} (the data's rank)`);
    const want = [...idx.dims.slice(0, -1), ...data.slice(k)];
    if (!same(updates, want)) fail(`updates of shape [${updates}] differ from [${want}] (indices [${idx.dims}] on data [${data}])`);
    const slice = sizeOf(data.slice(k));
    const out = new Int32Array(sizeOf(updates));
    for (let t = 0; t < sizeOf(idx.dims.slice(0, -1)); t++) {
      let base = 0;
      for (let d = 0; d < k; d++) base += norm(idx.data[t * k + d]!, d) * ds[d]!;
      for (let s = 0; s < slice; s++) out[t * slice + s] = base + s;
    }
    return out;
  }
  // ScatterElements: updates[c] goes to data[c with c[axis] = indices[c]]
  if (idx.dims.length !== r) fail(`indices of rank ${idx.dims.length} differ from the data's rank ${r}`);
  if (!same(updates, idx.dims)) fail(`updates of shape [${updates}] differ from the indices' [${idx.dims}]`);
  if (idx.dims.some((n, d) => d !== axis && n > data[d]!)) fail(`indices of shape [${idx.dims}] exceed the data's shape [${data}] off axis ${axis}`);
  const is = strides(idx.dims);
  const out = new Int32Array(idx.data.length);
  for (let f = 0; f < out.length; f++) {
    let s = 0;
    for (let d = 0; d < r; d++) s += (d === axis ? norm(idx.data[f]!, d) : Math.floor(f / is[d]!) % idx.dims[d]!) * ds[d]!;
    out[f] = s;
  }
  return out;
}

/** The axis of ScatterElements / Scatter, or undefined for ScatterND. */
function scatterAxis(ctx: OpContext, rank: number): number | undefined {
  return ctx.node.op === 'ScatterND' ? undefined : normAxisChecked(ctx, attrNum(ctx, 'axis', 0), rank);
}

function scatter<T>(alg: Algebra<T>, ctx: OpContext, args: Arg<T>[]): Tens<T>[] {
  const { op, inputs } = ctx.node;
  if (args[1]?.kind === 'sym') ctx.fail(`indices '${inputs[1]}' depend on the model input: ${op} is supported with constant indices only`, SIGNAL_INDICES_HINT);
  const x = input0(alg, ctx, args);
  const idx = args[1]?.t as Tensor | undefined;
  const upd = asTens(alg, args[2]);
  if (!idx || !upd) ctx.fail('inputs 1 (indices) and 2 (updates) are required');
  const reduction = attrChoice(ctx, 'reduction', 'none', ['none', 'add'] as const);
  const targets = scatterTargets(ctx.fail, x.shape, idx, upd.shape, scatterAxis(ctx, x.shape.length));
  const data = x.data.slice();
  if (reduction === 'none') {
    targets.forEach((t, u) => { data[t] = upd.data[u]!; });
  } else {
    const terms = x.data.map((e) => [e]);
    targets.forEach((t, u) => terms[t]!.push(upd.data[u]!));
    terms.forEach((xs, i) => { if (xs.length > 1) data[i] = alg.combine(xs, xs.map(() => 1)); });
  }
  return [{ shape: x.shape, data }];
}

export const SCATTER_OPS: Record<string, OpFn> = { ScatterND: scatter, ScatterElements: scatter, Scatter: scatter };
