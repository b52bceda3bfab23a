// Groth16 proving behind a backend seam: `wasm` is snarkjs (ffjavascript/wasmcurves, worker
// threads); `webgpu` is reserved for our WGSL prover. `auto` picks the best available.
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { snarkjs, snarkLogger } from '../snark.js';
import type { Groth16Proof } from 'snarkjs';

export type ProverBackend = 'wasm' | 'webgpu' | 'auto';

export interface Groth16Prover {
  readonly name: Exclude<ProverBackend, 'auto'>;
  prove(zkeyPath: string, wtnsPath: string, progress?: Progress): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
}

const wasmProver: Groth16Prover = {
  name: 'wasm',
  prove: (zkey, wtns, progress) => snarkjs.groth16.prove(zkey, wtns, snarkLogger(progress)),
};

export function getProver(backend: ProverBackend = 'auto'): Groth16Prover {
  switch (backend) {
    case 'wasm':
    case 'auto':
      return wasmProver;
    case 'webgpu':
      throw new ZkonnxError('BAD_ARGUMENT', 'the webgpu prover backend is not available in this release', { hint: 'use --backend wasm' });
    default:
      throw new ZkonnxError('BAD_ARGUMENT', `unknown prover backend '${String(backend)}'`, { hint: 'use wasm, webgpu or auto' });
  }
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
