// One-node ai.onnx.ml models against onnxruntime-web: zkonnx's rewrite, evaluated in float
// (decode → inferAndFold → linearize → evalAffine), must give onnxruntime's outputs on every sample.
import * as ort from 'onnxruntime-web';
import { expect } from 'vitest';
import { ZkonnxError } from '../../src/errors.js';
import { evalAffine, linearize } from '../../src/ir/linearize.js';
import { decodeOnnx } from '../../src/onnx/decode.js';
import { inferAndFold } from '../../src/onnx/fold.js';
import { buildModel, type AttrValue, type ModelSpec, type ValueSpec } from '../../src/onnx/write.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export const ML = 'ai.onnx.ml';

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
/** n values in (−scale, scale), rounded to 1/64 (exact in float32). */
export const rand = (n: number, seed: number, scale = 1) => { const r = rng(seed * 7919 + 13); return Array.from({ length: n }, () => Math.round(r() * scale * 64) / 64); };
const size = (s: (number | string)[]) => (s as number[]).reduce((a, b) => a * b, 1);

export type Sample = (number[] | string[])[]; // one flat array per graph input (strings for a string input)

function ortTensor(v: ValueSpec, data: number[] | string[]): ort.Tensor {
  const dims = v.shape as number[];
  if (v.type === 'string') return new ort.Tensor('string', data as string[], dims);
  if (v.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from((data as number[]).map((x) => BigInt(x))), dims);
  if (v.type === 'bool') return new ort.Tensor('bool', Uint8Array.from(data as number[]), dims);
  return new ort.Tensor('float32', Float32Array.from(data as number[]), dims);
}

/** zkonnx's rewrite (float evaluation of the affine program) against onnxruntime-web on every sample. */
export async function compare(m: ModelSpec, samples: Sample[], tol = 1e-4): Promise<Float64Array[][]> {
  const bytes = buildModel(m);
  const g = inferAndFold(decodeOnnx(bytes, `${m.graphName}.onnx`));
  const ag = linearize(g);
  const s = await ort.InferenceSession.create(bytes);
  const refs: Float64Array[][] = [];
  for (const sample of samples) {
    // a string input is its category code: its index in the input's table, else the table's length
    const codes = sample.map((x, i) => { const t = g.inputs[i]!.categories; return t ? (x as string[]).map((v) => (t.includes(v) ? t.indexOf(v) : t.length)) : (x as number[]); });
    const ours = evalAffine(ag, codes.map((x) => Float64Array.from(x))).outputs;
    const feeds = Object.fromEntries(m.inputs.map((v, i) => [v.name, ortTensor(v, sample[i]!)]));
    const r = await s.run(feeds);
    // a string output (class labels) is the code of each string: its index in the output's table
    const ref = m.outputs.map((o, i) => {
      const t = ag.outputs[i]!.categories;
      if (o.type === 'string') expect(t, `${o.name} holds strings: a table of them`).toBeDefined();
      return t ? Float64Array.from(r[o.name]!.data as string[], (v) => t.indexOf(v)) : Float64Array.from(r[o.name]!.data as ArrayLike<number | bigint>, Number);
    });
    m.outputs.forEach((o, i) => {
      expect(ag.outputs[i]!.shape, `shape of ${o.name}`).toEqual([...r[o.name]!.dims]);
      const exact = o.type === 'int64' || o.type === 'string';
      ref[i]!.forEach((x, j) => {
        const d = Math.abs(ours[i]![j]! - x);
        if (exact ? d > 1e-9 : d > tol * Math.max(1, Math.abs(x))) throw new Error(`${m.graphName} ${o.name}[${j}] on [${sample}]: ours ${ours[i]![j]}, onnxruntime ${x}`);
      });
    });
    refs.push(ref);
  }
  return refs;
}

/** A one-node ai.onnx.ml model. */
export function one(name: string, op: string, x: ValueSpec, outputs: ValueSpec[], attrs: Record<string, AttrValue>, opset = 1): ModelSpec {
  return {
    graphName: name, opsets: { [ML]: opset }, inputs: [x], outputs, initializers: [],
    nodes: [{ name: `/${name}`, op, domain: ML, inputs: [x.name], outputs: outputs.map((o) => o.name), attrs }],
  };
}

export const floatSamples = (shape: number[], n: number, seed: number, scale = 1.5): number[][][] => Array.from({ length: n }, (_, k) => [rand(size(shape), seed + k, scale)]);

export function expectErr(m: ModelSpec | Uint8Array, ...parts: string[]) {
  try {
    inferAndFold(decodeOnnx(m instanceof Uint8Array ? m : buildModel(m), 'm.onnx'));
  } catch (e) {
    if (!(e instanceof ZkonnxError)) throw e;
    expect(e.code).toBe('ONNX_UNSUPPORTED_ATTR');
    for (const p of parts) expect(e.message).toContain(p);
    return;
  }
  throw new Error(`${parts[0]}: accepted`);
}

/** Every label of the runs (ORT's output 0). */
export const labelsOf = (refs: Float64Array[][]) => new Set(refs.flatMap((r) => Array.from(r[0]!)));
