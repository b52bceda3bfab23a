// WebGPU for the kernel tests: the process's context, software renderers allowed (CI runs Mesa's
// llvmpipe). Test files await this at the top and `describe.skipIf(!gpu)`, printing why.
import { rng as seeded } from '../../src/random.js';
import { getGpu, type GpuContext } from '../../src/prover/webgpu/device.js';

export async function testGpu(): Promise<GpuContext | null> {
  try {
    return await getGpu({ allowSoftware: true });
  } catch (e) {
    console.warn(`WebGPU tests skipped: ${(e as Error).message}`);
    return null;
  }
}

/** Deterministic random bigints on the project's seedable generator, for reproducible failures. */
export function rng(seed: number) {
  const next = seeded(seed);
  const next32 = () => BigInt(Math.floor(next() * 2 ** 32));
  return {
    /** Uniform in [0, 2^bits). */
    bits(bits: number): bigint {
      let x = 0n;
      for (let i = 0; i < bits; i += 32) x = (x << 32n) | next32();
      return x & ((1n << BigInt(bits)) - 1n);
    },
    /** Uniform in [0, m) (rejection sampling). */
    below(m: bigint): bigint {
      const bits = m.toString(2).length;
      for (;;) {
        const x = this.bits(bits);
        if (x < m) return x;
      }
    },
    int(n: number): number {
      return Math.floor(next() * n);
    },
  };
}

/** ffjavascript's group operations the kernel tests compare with (bytes in its layouts). */
interface FfGroup {
  g: Uint8Array;
  zero: Uint8Array;
  timesFr(p: Uint8Array, s: Uint8Array): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  isZero(p: Uint8Array): boolean;
  multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
}

/** ffjavascript's bn128 curve, as `snarkjs.curves.getCurveFromName('bn128')` gives it, typed for the tests. */
export interface FfCurve {
  Fr: { e(x: bigint): Uint8Array };
  G1: FfGroup;
  G2: FfGroup;
}
