// Thin typed access to snarkjs (Groth16 setup, witness and proof formats of the iden3 ecosystem).
// snarkjs keeps a worker-thread curve alive, and the CPU MSM its own threads; `releaseCurves` ends both.
import * as snarkjs from 'snarkjs';
import { readR1csHeader } from './circom/r1cs.js';
import { releaseCpuPool } from './prover/cpu/pool.js';
import type { Progress } from './log.js';

export { snarkjs };

export interface SnarkLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** snarkjs logs through a logger object; route its warnings and errors to our progress. */
export function snarkLogger(progress?: Progress): SnarkLogger {
  return {
    debug: () => {},
    info: () => {},
    warn: (m) => progress?.warn?.(m),
    error: (m) => progress?.warn?.(m),
  };
}

export async function releaseCurves(): Promise<void> {
  await releaseCpuPool();
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  if (g.curve_bn128) {
    const c = g.curve_bn128;
    g.curve_bn128 = null;
    await c.terminate();
  }
}

export { readR1csHeader };
