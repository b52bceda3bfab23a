// Fixed-generator scalar multiplication in batches on ffjavascript's wasm curve, spread over its
// worker threads: one thread-manager task per chunk computes `s_i · G` (g?m_timesFrAffine, scalar
// in Montgomery form) for every scalar of the chunk and converts the chunk to affine with one
// batched inversion (g?m_batchToAffine). The result is in snarkjs's point encoding (LEM: affine,
// little-endian, Montgomery), which is what .ptau sections hold.
import type { WasmCurve } from './snarkjs-internals.js';

const CHUNK_POINTS = 1 << 11;

export async function generatorTimes(curve: WasmCurve, group: 'G1' | 'G2', scalars: Uint8Array): Promise<Uint8Array> {
  const G = curve[group];
  const n8r = curve.Fr.n8;
  const sAff = G.F.n8 * 2;
  const sJac = G.F.n8 * 3;
  const n = scalars.byteLength / n8r;
  if (!Number.isInteger(n)) throw new Error('scalar buffer size is not a multiple of the field size');
  const prefix = group === 'G1' ? 'g1m' : 'g2m';
  const jobs: Promise<Uint8Array[]>[] = [];
  for (let start = 0; start < n; start += CHUNK_POINTS) {
    const m = Math.min(CHUNK_POINTS, n - start);
    const task: unknown[] = [
      { cmd: 'ALLOCSET', var: 0, buff: G.oneAffine },
      { cmd: 'ALLOCSET', var: 1, buff: scalars.slice(start * n8r, (start + m) * n8r) },
      { cmd: 'ALLOC', var: 2, len: m * sJac },
    ];
    for (let i = 0; i < m; i++) {
      task.push({ cmd: 'CALL', fnName: `${prefix}_timesFrAffine`, params: [{ var: 0 }, { var: 1, offset: i * n8r }, { var: 2, offset: i * sJac }] });
    }
    task.push({ cmd: 'CALL', fnName: `${prefix}_batchToAffine`, params: [{ var: 2 }, { val: m }, { var: 2 }] });
    task.push({ cmd: 'GET', out: 0, var: 2, len: m * sAff });
    // the scalars derive from the toxic waste: leave no copy in the worker's wasm memory
    task.push({ cmd: 'SET', var: 1, buff: new Uint8Array(m * n8r) });
    jobs.push(curve.tm.queueAction(task));
  }
  const out = new Uint8Array(n * sAff);
  const results = await Promise.all(jobs);
  results.forEach((r, k) => out.set(r[0]!, k * CHUNK_POINTS * sAff));
  return out;
}
