// Public entry point of the zkonnx library.
export * from './api.js';
export { ZkonnxError, type ZkonnxErrorCode } from './errors.js';
export type { Progress } from './log.js';
export type { Graph, AffineGraph, QuantGraph, QuantParams, Visibility } from './ir/graph.js';
export { readOnnx, decodeOnnx } from './onnx/decode.js';
export { inferAndFold } from './onnx/fold.js';
export { linearize, evalAffine } from './ir/linearize.js';
export { calibrate } from './quantize/calibrate.js';
export { quantize, DEFAULT_PARAMS } from './quantize/quantize.js';
export { execQuant, quantizeInputs, dequantize } from './qexec/exec.js';
export { emitCircuit } from './compiler/emit.js';
export { releaseCurves } from './snark.js';
export type { ProverBackend } from './prover/index.js';
export { startAnvil, type AnvilInstance } from './verifier/anvil.js';
export { exportSolidityVerifier } from './verifier/solidity.js';
export { deployRegistry, connectRegistry, modelLayoutFromSettings, type Registry } from './verifier/registry.js';
export { packedCommit, signedCommit, poseidon } from './commit/poseidon.js';
export { MerkleTree } from './commit/merkle.js';
