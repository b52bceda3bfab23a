// JSON form of the QuantGraph (qgraph.json): bigints as decimal strings.
import type { QuantGraph } from './graph.js';

export function quantGraphToJson(qg: QuantGraph): string {
  return JSON.stringify(qg, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function quantGraphFromJson(text: string): QuantGraph {
  const raw = JSON.parse(text) as QuantGraph;
  // one BigInt per distinct string (BigInts are immutable, so they can be shared): a model's
  // coefficients repeat (a convolution's at every position), mnist-burn-bn's 2.75M are 2,853
  // values, and parsing each took 0.35 s and held millions of BigInts on the heap
  const seen = new Map<string, bigint>();
  const big = (a: unknown[]) => a.map((x) => {
    let v = seen.get(x as string);
    if (v === undefined) seen.set(x as string, (v = BigInt(x as string)));
    return v;
  });
  for (const i of raw.inputs) i.lo = BigInt(i.lo as unknown as string);
  for (const a of raw.acts) {
    a.args.coef = big(a.args.coef);
    a.args.bias = big(a.args.bias);
    if (a.poly) { a.poly.coef = big(a.poly.coef); a.poly.lo = BigInt(a.poly.lo as unknown as string); }
    if (a.clamp) {
      if (a.clamp.lo !== undefined) a.clamp.lo = BigInt(a.clamp.lo as unknown as string);
      if (a.clamp.hi !== undefined) a.clamp.hi = BigInt(a.clamp.hi as unknown as string);
    }
    a.accBound = BigInt(a.accBound as unknown as string);
  }
  for (const o of raw.outputs) {
    o.affine.coef = big(o.affine.coef);
    o.affine.bias = big(o.affine.bias);
    o.bound = BigInt(o.bound as unknown as string);
  }
  if (raw.valueBounds) raw.valueBounds = raw.valueBounds.map((b) => ({ lo: BigInt(b.lo as unknown as string), hi: BigInt(b.hi as unknown as string) }));
  return raw;
}
