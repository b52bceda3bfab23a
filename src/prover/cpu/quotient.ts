// The quotient's evaluations (ProverBackend.quotient) on our own WebAssembly and worker threads:
// one 'coset' task per polynomial (inverse NTT, times inc^i, NTT: wasm-ntt.ts), then A·B − C in
// one 'join' task. The tasks share the pool with the MSMs at a higher priority: the
// MSM of C and H waits for them, the other MSMs fill the threads meanwhile.
import type { ProverCurve } from '../curve.js';
import { cpuPool, ownBytes } from './pool.js';

const CRITICAL = 1;

export async function cpuQuotient(Fr: ProverCurve['Fr'], a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
  const pool = await cpuPool();
  const n = 2 ** power;
  const w = Fr.w[power]!;
  const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1]!;
  const invN = Fr.inv(Fr.e(n));
  const [ea, eb, ec] = await Promise.all([a, b, c].map(async (x) => (await pool.run({ op: 'coset', x: ownBytes(x), w, inc, invN, log: power }, CRITICAL))[0]!));
  // one task (a multiplication an element): more would wait for threads busy with MSM windows.
  // The evaluations are ours (each its own buffer, from a thread): moved, not copied
  const own = [ea!, eb!, ec!].map((x) => x.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  return (await pool.run({ op: 'join', a: ea!, b: eb!, c: ec! }, CRITICAL, own))[0]!;
}
