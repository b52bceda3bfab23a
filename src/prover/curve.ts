// ffjavascript's BN254 wasm curve as the prover uses it. It is the process-global `curve_bn128`
// that snarkjs shares (worker threads included): getting it through snarkjs builds it once, and
// src/snark.ts `releaseCurves` ends it. Never cache it across proofs: after releaseCurves a
// cached one would be dead, while getCurveFromName builds a new one.
import { snarkjs } from '../snark.js';
import type { WasmCurve } from '../setup/fast/snarkjs-internals.js';

/** A queued worker task: ffjavascript's threadman commands (ALLOCSET, ALLOC, CALL, GET). */
export type WasmTask = Record<string, unknown>[];

export interface PointOps {
  F: { n8: number };
  zero: Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  timesFr(p: Uint8Array, s: Uint8Array): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  /** Affine coordinates as bigints, [x, y, 1] (or [0, 1, 0] for infinity); G2 gives Fq2 pairs. */
  toObject(p: Uint8Array): unknown[];
  multiExpAffine(bases: Uint8Array, scalars: Uint8Array, logger?: unknown, text?: string): Promise<Uint8Array>;
}

export interface ProverCurve {
  name: string;
  Fr: WasmCurve['Fr'] & {
    s: number;
    shift: Uint8Array;
    neg(a: Uint8Array): Uint8Array;
    fft(buff: Uint8Array): Promise<Uint8Array>;
    ifft(buff: Uint8Array): Promise<Uint8Array>;
  };
  G1: PointOps;
  G2: PointOps;
  tm: { concurrency: number; queueAction(task: WasmTask, transfers?: ArrayBuffer[]): Promise<Uint8Array[]> };
}

export async function bn128(): Promise<ProverCurve> {
  return (await snarkjs.curves.getCurveFromName('bn128')) as unknown as ProverCurve;
}
