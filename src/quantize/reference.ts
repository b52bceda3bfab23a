// The float reference: onnxruntime-web (WebAssembly backend) running the original ONNX file.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ValueInfo } from '../ir/graph.js';
import { externalDataFiles } from '../onnx/decode.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

let cached: { path: string; session: ort.InferenceSession } | undefined;

async function session(modelPath: string): Promise<ort.InferenceSession> {
  if (cached?.path === modelPath) return cached.session;
  const opts: ort.InferenceSession.SessionOptions = {};
  // PyTorch ≥ 2.5 writes weights to a side file (named in the model: model.onnx.data, or the name
  // the file had when it was exported); ORT-web must be handed its bytes.
  const files = new Set(externalDataFiles(modelPath));
  if (existsSync(`${modelPath}.data`)) files.add(basename(`${modelPath}.data`));
  const side = [...files].filter((f) => existsSync(join(dirname(modelPath), f)));
  if (side.length) opts.externalData = side.map((f) => ({ path: f, data: readFileSync(join(dirname(modelPath), f)) }));
  const s = await ort.InferenceSession.create(readFileSync(modelPath), opts);
  cached = { path: modelPath, session: s };
  return s;
}

/** An input tensor of the element type the model declares (inputs are given as floats). */
function tensorOf(v: ValueInfo, x: ArrayLike<number>): ort.Tensor {
  switch (v.dtype) {
    case 7: return new ort.Tensor('int64', BigInt64Array.from(Array.from(x, (e) => BigInt(Math.round(e)))), v.shape);
    case 6: return new ort.Tensor('int32', Int32Array.from(x, Math.round), v.shape);
    case 9: return new ort.Tensor('bool', Uint8Array.from(x, (e) => (e ? 1 : 0)), v.shape);
    case 11: return new ort.Tensor('float64', Float64Array.from(x), v.shape);
    default: return new ort.Tensor('float32', Float32Array.from(x), v.shape);
  }
}

/** Runs the model on one sample (flat float inputs in graph-input order). */
export async function runReference(modelPath: string, inputs: ValueInfo[], sample: ArrayLike<number>[], outputs: ValueInfo[]): Promise<Float64Array[]> {
  const s = await session(modelPath);
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((v, i) => { feeds[v.name] = tensorOf(v, sample[i]!); });
  const r = await s.run(feeds);
  // integer and bool outputs (ArgMax, comparisons) come back as BigInt64Array / Uint8Array
  return outputs.map((o) => Float64Array.from(r[o.name]!.data as ArrayLike<number | bigint>, Number));
}

/** Folder of a model file, for side files that travel with it. */
export const modelDir = (p: string) => dirname(p) || '.';
export const sideFile = (p: string, name: string) => join(modelDir(p), name);
