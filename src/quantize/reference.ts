// The float reference: onnxruntime-web (WebAssembly backend) running the original ONNX file.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { FixedInput, ValueInfo } from '../ir/graph.js';
import { externalDataFiles } from '../onnx/decode.js';
import { ModelProto } from '../onnx/schema.js';
import { ZkonnxError } from '../errors.js';

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
  const s = await ort.InferenceSession.create(tensorOutputs(readFileSync(modelPath)), opts);
  cached = { path: modelPath, session: s };
  return s;
}

/**
 * sklearn-onnx's classifiers end in ZipMap, whose output (a sequence of maps) onnxruntime-web
 * cannot hand back: the reference runs the model with each ZipMap replaced by Identity, so that
 * output is the probability tensor, as zkonnx proves it (src/onnx/ml.ts).
 */
function tensorOutputs(bytes: Uint8Array): Uint8Array {
  const model = ModelProto.decode(bytes) as unknown as { graph: { node: { op_type: string; domain?: string; attribute: unknown[]; output: string[] }[]; output: { name: string; type: unknown }[] } };
  const zip = model.graph.node.filter((n) => n.op_type === 'ZipMap' && n.domain === 'ai.onnx.ml');
  if (!zip.length) return bytes;
  for (const n of zip) {
    n.op_type = 'Identity';
    n.domain = '';
    n.attribute = [];
    for (const o of model.graph.output) if (n.output.includes(o.name)) o.type = { tensor_type: { elem_type: 1 } };
  }
  return ModelProto.encode(model as never).finish();
}

/** An input tensor of the element type the model declares (inputs are given as floats; a string input as its strings). */
function tensorOf(v: ValueInfo, given: ArrayLike<number> | readonly string[]): ort.Tensor {
  if (v.dtype === 8) {
    // a categorical input: onnxruntime gets the user's strings themselves, not their codes
    if (given.length && typeof given[0] !== 'string') {
      throw new ZkonnxError('INPUT_INVALID', `input '${v.name}' takes strings (a categorical input), got numbers`, { signal: v.name });
    }
    return new ort.Tensor('string', Array.from(given as readonly string[]), v.text?.shape ?? v.shape);
  }
  const x = given as ArrayLike<number>;
  if (x.length && typeof x[0] !== 'number') throw new ZkonnxError('INPUT_INVALID', `input '${v.name}' takes numbers, got strings`, { signal: v.name });
  switch (v.dtype) {
    case 7: return new ort.Tensor('int64', BigInt64Array.from(Array.from(x, (e) => BigInt(Math.round(e)))), v.shape);
    case 6: return new ort.Tensor('int32', Int32Array.from(x, Math.round), v.shape);
    case 9: return new ort.Tensor('bool', Uint8Array.from(x, (e) => (e ? 1 : 0)), v.shape);
    case 2: return new ort.Tensor('uint8', Uint8Array.from(x, Math.round), v.shape);
    case 3: return new ort.Tensor('int8', Int8Array.from(x, Math.round), v.shape);
    case 4: return new ort.Tensor('uint16', Uint16Array.from(x, Math.round), v.shape);
    case 5: return new ort.Tensor('int16', Int16Array.from(x, Math.round), v.shape);
    case 12: return new ort.Tensor('uint32', Uint32Array.from(x, Math.round), v.shape);
    case 11: return new ort.Tensor('float64', Float64Array.from(x), v.shape);
    default: return new ort.Tensor('float32', Float32Array.from(x), v.shape);
  }
}

/** Makes (and keeps) the session for `modelPath` ahead of runReference. */
export async function warmReference(modelPath: string): Promise<void> {
  await session(modelPath);
}

/** Runs the model on one sample (flat float inputs in graph-input order; strings for a string input). */
export async function runReference(modelPath: string, inputs: ValueInfo[], sample: readonly (ArrayLike<number> | readonly string[])[], outputs: ValueInfo[], fixed: readonly FixedInput[] = []): Promise<Float64Array[]> {
  const s = await session(modelPath);
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((v, i) => { feeds[v.name] = tensorOf(v, sample[i]!); });
  for (const f of fixed) feeds[f.name] = tensorOf(f, f.data); // inputs compile fixed (--fix-input)
  const r = await s.run(feeds);
  // integer and bool outputs (ArgMax, comparisons) come back as BigInt64Array / Uint8Array; an
  // output of strings (class labels) as the codes the circuit computes: indices in its table
  return outputs.map((o) => {
    const data = r[o.name]!.data;
    if (o.categories) return Float64Array.from(data as string[], (x) => o.categories!.indexOf(x));
    return Float64Array.from(data as ArrayLike<number | bigint>, Number);
  });
}

/** Folder of a model file, for side files that travel with it. */
export const modelDir = (p: string) => dirname(p) || '.';
export const sideFile = (p: string, name: string) => join(modelDir(p), name);
