// The headers bound into every public commitment: what the committed integers mean. Every
// producer and checker of a commitment builds its header here, so the training circuit's weights
// commitment and a compiled model's stay the same function. Pure (no Node built-ins, no
// circomlibjs): the page computes the IVs of a model's circuit too.
import { sha256 } from '@noble/hashes/sha256';

/**
 * What a commitment's integers mean: its kind and every fact needed to read them back as numbers
 * (shapes, scales, width, offset, layout). Its digest starts the Poseidon chain (the IV), so the
 * same integers under another header (a scale of 2^10 instead of 2^12, other shapes, another kind)
 * give another commitment.
 */
export type CommitHeader = { kind: string; n: number; bits: number } & Record<string, unknown>;

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(typeof x === 'bigint' ? x.toString() : x);
}

/** The IV of a header: sha256 of "zkonnx-commit/1" and its canonical JSON, cut to 248 bits (< r). */
export function headerIv(h: CommitHeader): bigint {
  const d = sha256(new TextEncoder().encode(`zkonnx-commit/1\n${canonical(h)}`));
  let v = 0n;
  for (let i = 0; i < 31; i++) v = (v << 8n) | BigInt(d[i]!);
  return v;
}

/** How many `bits`-bit values share one field element: k·bits ≤ 253 < log2(p). */
export const packPerElement = (bits: number) => Math.floor(253 / bits);

/** Constraints of one Poseidon of 15 inputs (t = 16: 8 full and 64 partial rounds), measured. */
export const POSEIDON16_CONSTRAINTS = 600;

/** The IV of a commitment without a header (chunk links of a split build): n·256 + bits. */
export const plainIv = (n: number, bits: number): bigint => BigInt(n) * 256n + BigInt(bits);

/** A tensor as a header lists it: its shape and its scale (real ≈ q / 2^scale). */
export interface TensorMeaning { shape: readonly number[]; scale: number }

const tensor = (t: TensorMeaning) => ({ shape: [...t.shape], scale: t.scale });
const size = (t: TensorMeaning) => t.shape.reduce((a, b) => a * b, 1);

/** A model's weights (--weights hashed, and the training circuits' h0/h1): signed, committed as w + 2^(bits−1), tensors in order. */
export function weightsHeader(tensors: readonly TensorMeaning[], bits: number): CommitHeader {
  return { kind: 'weights', n: tensors.reduce((n, t) => n + size(t), 0), bits, offset: (1n << BigInt(bits - 1)).toString(), tensors: tensors.map(tensor) };
}

/** A model input (--input hashed): committed as q − lo. */
export function inputHeader(t: TensorMeaning & { name: string; lo: bigint }, bits: number): CommitHeader {
  return { kind: 'input', n: size(t), bits, offset: (-t.lo).toString(), name: t.name, ...tensor(t) };
}

/** A model output (--output hashed): committed as q + bound. */
export function outputHeader(t: TensorMeaning & { name: string; bound: bigint }, bits: number): CommitHeader {
  return { kind: 'output', n: size(t), bits, offset: t.bound.toString(), name: t.name, ...tensor(t) };
}

/** One dataset sample, the leaf of a committed dataset: [x_0 … x_(F−1), y], signed, committed as v + 2^(bits−1). */
export function sampleHeader(d: { features: number; bits: number; featureScale: number; labelScale: number; labels: string }): CommitHeader {
  return {
    kind: 'dataset-sample', n: d.features + 1, bits: d.bits, offset: (1n << BigInt(d.bits - 1)).toString(),
    features: d.features, featureScale: d.featureScale, labelScale: d.labelScale, labels: d.labels, layout: 'x..., y',
  };
}


/** The IVs of a compiled model's commitments, from its quantized graph's inputs and outputs. */
export const modelIvs = {
  input: (inp: { name: string; shape: readonly number[]; scale: number; lo: bigint; bits: number }): bigint => headerIv(inputHeader(inp, inp.bits)),
  output: (o: { name: string; shape: readonly number[]; scale: number; bound: bigint }, bits: number): bigint => headerIv(outputHeader(o, bits)),
  weights: (ws: readonly { shape: readonly number[]; scale: number; bits: number }[]): bigint => headerIv(weightsHeader(ws, ws[0]!.bits)),
};
