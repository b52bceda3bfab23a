// Public entry point of the zkonnx library.
export * from './api.js';
export { chunkInputs, proveChunk, verifySplit, proveSplit, readSplitProof, planChunks, type ChunkInput, type ChunkProof, type SplitVerification, type SplitSettings, type SplitOptions } from './split.js';
export { ZkonnxError, type ZkonnxErrorCode } from './errors.js';
export type { Progress } from './log.js';
export type { Graph, AffineGraph, QuantGraph, QuantParams, Visibility } from './ir/graph.js';
export { readOnnx, decodeOnnx } from './onnx/decode.js';
export { inferAndFold } from './onnx/fold.js';
export { linearize, evalAffine } from './ir/linearize.js';
export { calibrate } from './quantize/calibrate.js';
export { quantize, DEFAULT_PARAMS } from './quantize/quantize.js';
export { execQuant, quantizeInputs, dequantize } from './qexec/exec.js';
export { loadSample, loadSamples, categoryCode, encodeSample, type Sample, type InputData } from './inputs.js';
export { emitCircuit } from './compiler/emit.js';
export { releaseCurves } from './snark.js';
export type { ProverBackend } from './prover/index.js';
// a build's proving key read once, many witnesses proved with it (src/prover/prepared.ts)
export { createProver, createProverFromKey, gpuPreparedBytes, gpuProofBytes, preparedBytes, type CreateProverOptions, type PreparedProver, type ProverFromKeyOptions } from './prover/index.js';
export { gpuMemory, resetGpuPeak, type GpuMemory } from './prover/index.js';
export type { Groth16Result, Groth16Timings, Groth16ProveOptions } from './prover/groth16.js';
export { startAnvil, type AnvilInstance } from './verifier/anvil.js';
export { exportSolidityVerifier } from './verifier/solidity.js';
export { deployRegistry, connectRegistry, modelLayoutFromSettings, trainingChainId, type Registry, type ModelRegistration, type Provenance, type ChainState, type LinkTrainingOptions, type TrainingLink } from './verifier/registry.js';
export { packedCommit, signedCommit, poseidon, headerIv, plainIv, type CommitHeader } from './commit/poseidon.js';
export { inputHeader, outputHeader, weightsHeader, sampleHeader } from './commit/headers.js';
export { MerkleTree } from './commit/merkle.js';
export { commitDataset, readDataset, quantizeDataset } from './commit/dataset.js';
export { loadDataset, leafHash, leafHeader, leafIv, type DatasetManifest, type SampleMeaning } from './commit/dataset-format.js';
export { buildMembershipCircuit, proveMembership, verifyMembership } from './commit/membership.js';
