// The `wasm` backend: our own WebAssembly (src/prover/cpu/, built with wasmbuilder) on our own
// worker threads, in Node and in a page. MSMs: cpu/msm.ts (Pippenger, buckets summed with batched
// affine additions: about 6 field multiplications an addition where ffjavascript's Jacobian
// buckets take 11). Quotient: cpu/quotient.ts (NTTs over Fr). ffjavascript's curve (the one
// snarkjs proves with) supplies constants and the point operations of the final assembly.
import type { ProverBackend } from './backend.js';
import type { BasesKeeper } from './groth16.js';
import { cpuMsm, forgetBases, keepBases, layoutEarly } from './cpu/msm.js';
import { cpuQuotient } from './cpu/quotient.js';
import { cpuPool } from './cpu/pool.js';
import { bn128, type ProverCurve } from './curve.js';


export class WasmBackend implements ProverBackend, BasesKeeper {
  readonly name = 'wasm' as const;
  readonly description: string;

  private constructor(readonly curve: ProverCurve, threads: number) {
    this.description = `wasm, ${threads} thread${threads === 1 ? '' : 's'}`;
  }

  static async create(): Promise<WasmBackend> {
    const [curve, pool] = await Promise.all([bn128(), cpuPool()]);
    return new WasmBackend(curve, pool.concurrency);
  }

  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return cpuMsm(this.curve.G1 as never, 'G1', bases, scalars);
  }

  msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return cpuMsm(this.curve.G2 as never, 'G2', bases, scalars);
  }

  /** H's points found and copied while the quotient runs: that copy (~0.1–0.2 s at 2^20) is then off the critical path. */
  basesAhead(bases: Uint8Array): void {
    layoutEarly('G1', bases);
  }

  /** The threads convert a kept array's points once and hold them for every proof (cpu/msm.ts). */
  async keepBases(bases: Uint8Array): Promise<void> {
    keepBases(bases);
  }

  async releaseBases(bases: Uint8Array): Promise<void> {
    forgetBases(bases);
  }

  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    return cpuQuotient(this.curve.Fr, a, b, c, power);
  }
}
