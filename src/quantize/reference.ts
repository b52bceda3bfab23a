// The float reference: onnxruntime-web (WebAssembly backend) running the original ONNX file.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ValueInfo } from '../ir/graph.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

let cached: { path: string; session: ort.InferenceSession } | undefined;

async function session(modelPath: string): Promise<ort.InferenceSession> {
  if (cached?.path === modelPath) return cached.session;
  const opts: ort.InferenceSession.SessionOptions = {};
  // PyTorch ≥ 2.5 writes weights to a side file; ORT-web must be handed its bytes.
  const side = `${modelPath}.data`;
  if (existsSync(side)) opts.externalData = [{ path: basename(side), data: readFileSync(side) }];
  const s = await ort.InferenceSession.create(readFileSync(modelPath), opts);
  cached = { path: modelPath, session: s };
  return s;
}

/** Runs the model on one sample (flat float inputs in graph-input order). */
export async function runReference(modelPath: string, inputs: ValueInfo[], sample: ArrayLike<number>[], outputs: ValueInfo[]): Promise<Float64Array[]> {
  const s = await session(modelPath);
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((v, i) => { feeds[v.name] = new ort.Tensor('float32', Float32Array.from(sample[i]!), v.shape); });
  const r = await s.run(feeds);
  return outputs.map((o) => Float64Array.from(r[o.name]!.data as Float32Array));
}

/** Folder of a model file, for side files that travel with it. */
export const modelDir = (p: string) => dirname(p) || '.';
export const sideFile = (p: string, name: string) => join(modelDir(p), name);
