// The seam between the Groth16 prover's stages (src/prover/groth16.ts) and the heavy arithmetic.
// A backend does the multi-scalar multiplications and the quotient polynomial; the stages around
// them (reading the zkey and witness, the A/B/C evaluations, r and s, the final assembly) are
// shared, so both backends make the same proof from the same randomness.
//
// Byte layouts are ffjavascript's, the ones zkey and wtns files use, so sections go to a backend
// without conversion:
//   - Fr / Fq element: 32 bytes little-endian; "Montgomery" means x·2^256 mod p.
//   - G1 affine base: 64 bytes, x ‖ y, Fq Montgomery; (0, 0) is the point at infinity.
//   - G2 affine base: 128 bytes, x ‖ y, each Fq2 = c0 ‖ c1, Fq Montgomery; all zero = infinity.
//   - G1 / G2 Jacobian result: 96 / 192 bytes, X ‖ Y ‖ Z in Montgomery form (Z = 0: infinity).

import type { Zkey } from './zkey.js';

export type BackendName = 'wasm' | 'webgpu';

export interface ProverBackend {
  readonly name: BackendName;
  /** Adapter or thread description for logs and benchmarks, e.g. "wasm, 2 threads". */
  readonly description: string;
  /**
   * Σ scalars[i]·bases[i] over G1. `bases`: n × 64 bytes (affine, Montgomery); `scalars`:
   * n × 32 bytes, canonical little-endian (NOT Montgomery), as in a .wtns file.
   * Returns the sum as a 96-byte Jacobian point.
   */
  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  /** Same over G2: n × 128-byte bases, 192-byte Jacobian result. */
  msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  /**
   * The quotient evaluations that multiply the zkey's H points (section 9). `a`, `b`, `c`: the
   * evaluations of A, B and C = A∘B on the domain of size 2^power (n × 32 bytes, Fr Montgomery).
   * For each: inverse NTT, multiply coefficient i by inc^i where inc is a primitive 2^(power+1)-th
   * root of unity (Fr.w[power+1]; Fr.shift when power = 28), NTT. Returns the n values
   * A'·B' − C' in canonical form (n × 32 bytes, NOT Montgomery), ready to be MSM scalars.
   */
  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array>;
  /**
   * Optional: pi_c's H part from the witness on, for a backend that keeps the data where it
   * computes (a GPU): the A/B/C evaluations from the key's coefficients (section 4), the quotient,
   * and msmG1(bases, prefix ‖ quotient), nothing brought back but the point. `prefix`: scalars
   * before the quotient's (C's witness part where C and H share one MSM; may be empty). `marks`
   * are called as the evaluations and the quotient are done (the stage timings). `bases` may still
   * be arriving (a key being read: openZkey): only H's MSM waits for them.
   */
  quotientFromWitness?(zkey: Zkey, witness: Uint8Array, bases: Uint8Array | Promise<Uint8Array>, prefix: Uint8Array, marks?: { abc?(): void; quotient?(): void }): Promise<Uint8Array>;
  /**
   * Optional: `witness` will not change until the returned function is called (a proof's span).
   * A backend that copies scalars to a device may then copy it once and read every MSM's scalars
   * that are a view of it, and `quotientFromWitness`'s, from that copy. The function frees it.
   */
  holdWitness?(witness: Uint8Array): () => Promise<void>;
  /**
   * Optional: `bases` (G1) will be one msmG1's bases, whose scalars are not known yet (H's,
   * while the quotient runs; uniform, so almost never zero): a backend may prepare them meanwhile.
   */
  basesAhead?(bases: Uint8Array): void;
  /** Frees GPU buffers / worker threads held by the backend. */
  release?(): Promise<void>;
}
