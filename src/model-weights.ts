// The committed weights a proof of a --weights hashed build uses: the build's own (weights.json),
// or another model's of the same architecture (prove --weights other.onnx), in the circuit's order.
import { resolve } from 'node:path';
import { nodeLabel, ZkonnxError } from './errors.js';
import { readJson } from './inputs.js';
import type { Graph } from './ir/graph.js';
import { architectureOf, liftWeights } from './ir/weights.js';
import { readOnnx } from './onnx/decode.js';
import { inferAndFold } from './onnx/fold.js';
import type { BuildPaths } from './paths.js';
import type { Settings } from './settings.js';

/** The committed weights' floats, in the circuit's order: the build's own, or another model's. */
export function loadWeights(paths: BuildPaths, settings: Settings, modelPath?: string): Float64Array[] {
  const want = settings.weights!.tensors;
  let got: { name: string; shape: number[]; values: ArrayLike<number> }[];
  if (modelPath) {
    const read = readOnnx(resolve(modelPath), { dims: settings.model.dims, fixed: settings.model.fixed, maxTokens: settings.model.maxTokens });
    const lifted = liftWeights(inferAndFold(read));
    got = lifted.weights.map((w) => ({ name: w.name, shape: w.shape, values: w.data }));
    if (settings.weights!.architecture) sameArchitecture(paths, settings.weights!.architecture, architectureOf(lifted.graph, lifted.weights), lifted.graph, modelPath);
  } else {
    got = (readJson(paths.require('weights', 'compile --weights hashed')) as { weights: { name: string; shape: number[]; values: number[] }[] }).weights;
  }
  const where = modelPath ?? paths.file('weights');
  if (got.length !== want.length) {
    throw new ZkonnxError('INPUT_INVALID', `${where}: ${got.length} weight tensors, the circuit commits to ${want.length} (${want.map((w) => w.name).join(', ')})`, { file: where });
  }
  return want.map((w, k) => {
    const g = got[k]!;
    if (g.shape.join(',') !== w.shape.join(',')) {
      throw new ZkonnxError('INPUT_INVALID', `${where}: weight ${k} '${g.name}' has shape [${g.shape}], the circuit's '${w.name}' is [${w.shape}]`, { file: where });
    }
    return Float64Array.from(g.values);
  });
}

/**
 * Refuses weights from a model whose public architecture differs from the build's (another
 * tree's paths, another constant baked into the circuit): the circuit would compute the build's
 * architecture on them, not that model. Names the model's first node that differs.
 */
function sameArchitecture(paths: BuildPaths, digest: string, other: ReturnType<typeof architectureOf>, g: Graph, modelPath: string): void {
  if (other.digest === digest) return;
  const own = (readJson(paths.require('weights', 'compile --weights hashed')) as { architecture?: string[] }).architecture ?? [];
  const k = other.nodes.findIndex((d, j) => d !== own[j]);
  const node = g.nodes[k];
  const where = node ? `its node ${k}, ${nodeLabel(node)}, differs from the build's` : `its ${other.nodes.length} nodes or its outputs differ from the build's ${own.length}`;
  throw new ZkonnxError('INPUT_INVALID', `${modelPath}: not the architecture this circuit was compiled for (${where}): only its committed weights may change`, {
    file: modelPath, ...(node ? { node: node.name, op: node.op } : {}),
    hint: 'compile this model into a build of its own (a retrained tree ensemble has other branches: a circuit of its own)',
  });
}

