// Affine expressions over circuit values (LinExpr): the element algebra of linearization.
import type { LinExpr } from './graph.js';
import type { Algebra } from './ops/types.js';

export const constantExpr = (c: number): LinExpr => ({ idx: [], w: [], c });
export const valueExpr = (i: number): LinExpr => ({ idx: [i], w: [1], c: 0 });

/** Σ_j weights[j]·exprs[j] + c, merging terms on the same value. */
export function combine(exprs: readonly LinExpr[], weights: readonly number[], c = 0): LinExpr {
  const acc = new Map<number, number>();
  let cc = c;
  for (let j = 0; j < exprs.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    const e = exprs[j]!;
    cc += w * e.c;
    for (let t = 0; t < e.idx.length; t++) acc.set(e.idx[t]!, (acc.get(e.idx[t]!) ?? 0) + w * e.w[t]!);
  }
  const idx: number[] = [];
  const ws: number[] = [];
  for (const [i, w] of [...acc.entries()].sort((a, b) => a[0] - b[0])) {
    if (w !== 0) { idx.push(i); ws.push(w); }
  }
  return { idx, w: ws, c: cc };
}

/** Affine expressions over circuit values: the algebra the generic ops linearize with. */
export const LIN: Algebra<LinExpr> = { combine, constant: constantExpr };

/** At most one value term: an operand the non-linear templates take as it is. */
export const isSimple = (e: LinExpr) => e.idx.length <= 1;
