// Groth16 proving: our prover (groth16.ts, snarkjs's stages and formats) behind a backend seam
// (backend.ts). `wasm`: ffjavascript's wasm curve on worker threads; `webgpu`: our WGSL kernels
// (webgpu/). `auto` picks WebGPU on a hardware adapter. Adding a backend is one case in loadBackend.
// getProver proves from files, one key read per proof; createProver (prepared.ts) reads a build's
// key once and proves many witnesses with it.
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { snarkjs } from '../snark.js';
import type { Groth16Proof } from 'snarkjs';
import type { BackendName, ProverBackend as Backend } from './backend.js';
import type { BinSource } from './bin-source.js';
import { groth16Prove } from './groth16.js';
import { WasmBackend } from './wasm.js';
import type { OpenedZkey } from './zkey.js';
import type { MsmTuning } from './webgpu/msm.js';

export type ProverBackend = BackendName | 'auto';
export type { Backend, BackendName };
export { groth16Prove };
export { createProver, createProverFromKey, gpuPreparedBytes, gpuProofBytes, preparedBytes, type CreateProverOptions, type PreparedProver, type ProverFromKeyOptions } from './prepared.js';
export { gpuMemory, resetGpuPeak, type GpuMemory } from './webgpu/gpu.js';

export interface Groth16Prover {
  readonly name: BackendName;
  /** The backend and its threads or adapter, e.g. "wasm, 2 threads". */
  readonly description: string;
  /**
   * `zkeyPath` / `wtnsPath`: a path, or snarkjs's in-memory `{ type: 'mem', data }` cast to string;
   * the key may also be one opened already (openZkey: its sections read while the caller computes
   * the witness), which the proof closes.
   */
  prove(zkeyPath: string | Promise<OpenedZkey>, wtnsPath: string, progress?: Progress): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
}

export interface LoadBackendOptions {
  /** webgpu: accept a software adapter (e.g. Mesa's llvmpipe, SwiftShader) too; `auto` takes only hardware. */
  allowSoftware?: boolean;
  /** webgpu: the MSM's speed parameters (WebGpuBackendOptions.msm). */
  msm?: MsmTuning;
  /** webgpu: where the G2 MSM runs (WebGpuBackendOptions.g2). */
  g2?: 'gpu' | 'cpu';
}

/**
 * A backend instance; throws a ZkonnxError when it cannot load (no adapter, a software adapter
 * without allowSoftware). The WebGPU code (and Dawn, in Node) is loaded only when asked for.
 */
export async function loadBackend(name: BackendName, opts: LoadBackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'wasm':
      return WasmBackend.create();
    case 'webgpu': {
      const { WebGpuBackend } = await import('./webgpu/backend.js');
      return WebGpuBackend.create(opts);
    }
    default:
      throw new ZkonnxError('BAD_ARGUMENT', `unknown prover backend '${String(name)}'`, { hint: 'use wasm, webgpu or auto' });
  }
}

/**
 * `auto`: WebGPU on a hardware adapter, the wasm backend otherwise (a software adapter is slower
 * than the CPU's wasm). ZKONNX_BACKEND=wasm|webgpu overrides the choice.
 */
export async function autoBackend(): Promise<Backend> {
  const forced = typeof process !== 'undefined' ? process.env?.['ZKONNX_BACKEND'] : undefined;
  if (forced === 'wasm' || forced === 'webgpu') return loadBackend(forced);
  return loadBackend('webgpu').catch(() => loadBackend('wasm'));
}

/**
 * A prover with its backend loaded: an unavailable backend fails here, before any work.
 * `auto` resolves to the backend it picked (the prover's `name` says which).
 */
export async function getProver(backend: ProverBackend = 'auto', opts: LoadBackendOptions = {}): Promise<Groth16Prover> {
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'webgpu') {
    throw new ZkonnxError('BAD_ARGUMENT', `unknown prover backend '${String(backend)}'`, { hint: 'use wasm, webgpu or auto' });
  }
  const b = backend === 'auto' ? await autoBackend() : await loadBackend(backend, opts);
  return {
    name: b.name,
    description: b.description,
    async prove(zkey, wtns, progress) {
      // the wasm curve may have been released since (releaseCurves): a wasm backend is cheap to get again
      const run = b.name === 'wasm' ? await loadBackend('wasm') : b;
      const { proof, publicSignals } = await groth16Prove(zkey as BinSource | Promise<OpenedZkey>, wtns as BinSource, run, { progress });
      return { proof, publicSignals };
    },
  };
}

/** Runs the circuit's witness calculator (circom's WebAssembly) into a .wtns file. */
export async function computeWitness(wasmPath: string, input: Record<string, unknown>, wtnsPath: string): Promise<void> {
  try {
    await snarkjs.wtns.calculate(input, wasmPath, wtnsPath);
  } catch (e) {
    throw new ZkonnxError('WITNESS_MISMATCH', `the circuit rejected the witness: ${(e as Error).message.split('\n')[0]}`, {
      cause: e, hint: 'the input may lie outside the calibrated range, or the build folder is stale',
    });
  }
}
