// JSON form of the QuantGraph (qgraph.json): bigints as decimal strings.
import type { QuantGraph } from './graph.js';

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

export function quantGraphToJson(qg: QuantGraph): string {
  return quantGraphLines(qg).join('\n');
}

/**
 * qgraph.json as lines: the graph's other fields, then its acts one a line. Joined by newlines
 * it is the JSON of the graph; written a line at a time and read back an act at a time it has no
 * size limit (ResNet-20's is 505 MB, V8's longest string 512 MiB). JSON escapes newlines in
 * strings, so a raw newline only ever separates two of these lines.
 */
export function quantGraphLines(qg: QuantGraph): string[] {
  const { acts, ...rest } = qg;
  const head = JSON.stringify(rest, big);
  return [`${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"acts":[`, ...acts.map((a, i) => JSON.stringify(a, big) + (i + 1 < acts.length ? ',' : '')), ']}'];
}

/** Text past this many bytes is parsed a line at a time (quantGraphLines' layout). */
const WHOLE_PARSE_BYTES = 1 << 28;

function parseQuantGraph(src: string | Uint8Array, wholeBelow: number): QuantGraph {
  if (typeof src === 'string') return JSON.parse(src) as QuantGraph;
  const dec = new TextDecoder();
  if (src.length < wholeBelow) return JSON.parse(dec.decode(src)) as QuantGraph;
  const lines: Uint8Array[] = [];
  for (let at = 0; at < src.length;) {
    let end = src.indexOf(10, at);
    if (end < 0) end = src.length;
    lines.push(src.subarray(at, end));
    at = end + 1;
  }
  const first = dec.decode(lines[0]);
  const last = dec.decode(lines[lines.length - 1]);
  if (lines.length < 2 || !first.endsWith('"acts":[') || last !== ']}') return JSON.parse(dec.decode(src)) as QuantGraph; // an older build's one line
  const head = JSON.parse(`${first.slice(0, -'"acts":['.length).replace(/,$/, '')}}`) as QuantGraph;
  head.acts = lines.slice(1, -1).map((l) => JSON.parse(dec.decode(l).replace(/,$/, '')) as QuantGraph['acts'][number]);
  return head;
}

/** The quantized graph from qgraph.json's text or bytes (bytes: any size; past `wholeBelow` bytes, read a line at a time). */
export function quantGraphFromJson(src: string | Uint8Array, wholeBelow = WHOLE_PARSE_BYTES): QuantGraph {
  const raw = parseQuantGraph(src, wholeBelow);
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
