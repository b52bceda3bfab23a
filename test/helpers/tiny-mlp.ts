// A 4 → 3 → 2 MLP with a ReLU: compiled and set up in well under a second, for tests of the
// machinery around proofs (the service, the prepared prover) rather than of the model.
import type { ModelSpec } from '../../src/onnx/write.js';

export const tinyMlp: ModelSpec = {
  graphName: 'mlp', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 2] }],
  initializers: [
    { name: 'W1', dims: [4, 3], data: new Float32Array([0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.5, 0.3, -0.7, 0.9]) },
    { name: 'B1', dims: [3], data: new Float32Array([0.1, 0.2, -0.3]) },
    { name: 'W2', dims: [3, 2], data: new Float32Array([0.6, -0.4, 0.2, 0.8, -0.9, 0.1]) },
    { name: 'B2', dims: [2], data: new Float32Array([0.05, -0.05]) },
  ],
  nodes: [
    { name: '/fc1/Gemm', op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'] },
    { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
    { name: '/fc2/MatMul', op: 'MatMul', inputs: ['r', 'W2'], outputs: ['m'] },
    { name: '/fc2/Add', op: 'Add', inputs: ['m', 'B2'], outputs: ['y'] },
  ],
};
