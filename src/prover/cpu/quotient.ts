// The quotient's evaluations (ProverBackend.quotient) on our own WebAssembly and worker threads:
// one 'coset' task per polynomial (inverse NTT, times inc^i, NTT: wasm-ntt.ts), then A·B − C in
// 'join' tasks (one per thread where the evaluations are in shared memory; H's scalars then are
// too, for the caller to release once H's MSM has read them). The tasks share the pool with the
// MSMs at a higher priority: the MSM of C and H waits for them, the other MSMs fill the threads
// meanwhile.
import type { ProverCurve } from '../curve.js';
import { cpuPool, ownBytes, releaseShared, sharedBytes } from './pool.js';

const CRITICAL = 1;

export async function cpuQuotient(Fr: ProverCurve['Fr'], a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
  const pool = await cpuPool();
  const n = 2 ** power;
  const w = Fr.w[power]!;
  const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1]!;
  const invN = Fr.inv(Fr.e(n));
  // the evaluations into shared buffers reused from proof to proof (pool.ts sharedBytes says why)
  // where there are any; else each comes back in a new array
  const outs = [0, 1, 2].map(() => sharedBytes(n * 36, false)).map((o) => (o.buffer instanceof ArrayBuffer ? undefined : o));
  const [ea, eb, ec] = await Promise.all([a, b, c].map(async (x, i) => (await pool.run({ op: 'coset', x: ownBytes(x), w, inc, invN, log: power, ...(outs[i] ? { out: outs[i] } : {}) }, CRITICAL))[0]!));
  const own = [ea!, eb!, ec!].map((x) => x.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  let h: Uint8Array;
  if (own.length === 0) {
    // shared evaluations: A·B − C in one task per thread, each writing its range of H's scalars
    // (the last step before H's MSM, so a thread left idle here is time lost)
    h = sharedBytes(n * 32, false);
    const parts = Math.min(pool.concurrency, n);
    const size = Math.ceil(n / parts);
    const range = (x: Uint8Array, from: number, to: number, bytes: number) => x.subarray(from * bytes, to * bytes);
    await Promise.all(Array.from({ length: parts }, (_, i) => {
      const [from, to] = [i * size, Math.min(n, (i + 1) * size)];
      return pool.run({ op: 'join', a: range(ea!, from, to, 36), b: range(eb!, from, to, 36), c: range(ec!, from, to, 36), out: range(h, from, to, 32) }, CRITICAL);
    }));
  } else {
    // new arrays (each its own buffer, from a thread) are ours: moved to one task, not copied
    h = (await pool.run({ op: 'join', a: ea!, b: eb!, c: ec! }, CRITICAL, own))[0]!;
  }
  releaseShared(...outs.filter((o): o is Uint8Array => !!o));
  return h;
}
