import { readOnnx } from './dist/src/onnx/decode.js';
import { inferAndFold } from './dist/src/onnx/fold.js';
import { affineTerms } from './dist/src/compiler/size.js';
import { sizeOf } from './dist/src/ir/graph.js';
const LIN = new Set(['Conv','ConvTranspose','Gemm','MatMul','Add','Sub','BatchNormalization','Concat','Reshape','Transpose','Flatten','Slice','Split','Squeeze','Unsqueeze','Pad','AveragePool','GlobalAveragePool','Identity','Resize','Upsample','Mul','Div','ReduceMean','ReduceSum','Gather','DepthToSpace','SpaceToDepth','Expand','Tile','Cast','Dropout','Neg','Sum']);
for (const m of process.argv.slice(2)) {
  const g = inferAndFold(readOnnx(`../shared/realworld/${m}/model.onnx`, {}));
  const nl = new Map();
  for (const n of g.nodes) if (!LIN.has(n.op)) { const s = sizeOf(g.shapes.get(n.outputs[0]) ?? []); nl.set(n.op, (nl.get(n.op) ?? 0) + s); }
  let conv = 0, convOut=0; for (const n of g.nodes) if (n.op==='Conv') { convOut += sizeOf(g.shapes.get(n.outputs[0])); conv++; }
  console.log(m, 'terms', (affineTerms(g)/1e6).toFixed(1)+'M', 'convs', conv, 'convOut', convOut, JSON.stringify([...nl]));
}
