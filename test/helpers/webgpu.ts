// WebGPU for the kernel tests: the process's context, software renderers allowed (CI runs Mesa's
// llvmpipe). Test files await this at the top and `describe.skipIf(!gpu)`, printing why.
import { getGpu, type GpuContext } from '../../src/prover/webgpu/device.js';

export async function testGpu(): Promise<GpuContext | null> {
  try {
    return await getGpu({ allowSoftware: true });
  } catch (e) {
    console.warn(`WebGPU tests skipped: ${(e as Error).message}`);
    return null;
  }
}

/** Deterministic random bigints (xorshift128+ over 64-bit words), for reproducible failures. */
export function rng(seed: number) {
  let s0 = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  let s1 = (BigInt(seed) + 0x632be59bd9b4e019n) * 0xbf58476d1ce4e5b9n;
  const M = (1n << 64n) - 1n;
  s0 &= M;
  s1 &= M;
  const next64 = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & M;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (s1 + y) & M;
  };
  return {
    /** Uniform in [0, 2^bits). */
    bits(bits: number): bigint {
      let x = 0n;
      for (let i = 0; i < bits; i += 64) x = (x << 64n) | next64();
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
      return Number(next64() % BigInt(n));
    },
  };
}
