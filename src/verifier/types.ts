/** snarkjs proof.json for Groth16 (coordinates are decimal strings, points projective with z = 1). */
export type { Groth16Proof } from 'snarkjs';

/** snarkjs public.json: the public signals as decimal strings, in circuit order. */
export type PublicSignals = string[];

/** Arguments of the generated verifier's `verifyProof` (and of ProofRecorder.verifyAndRecord). */
export interface SolidityCallArgs {
  pA: [bigint, bigint];
  /** G2 point with each coordinate pair swapped to (imaginary, real), as the EVM precompile expects. */
  pB: [[bigint, bigint], [bigint, bigint]];
  pC: [bigint, bigint];
  pubSignals: bigint[];
}
