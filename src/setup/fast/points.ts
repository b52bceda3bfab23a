// Fixed-generator scalar multiplication in batches on ffjavascript's wasm curve, spread over its
// worker threads. A fixed-base comb: the table T[j][d] = d·2^(8j)·G (32 windows × 255 digits,
// affine) is made once per group, and s·G = Σ_j T[j][byte_j(s)] costs at most 32 mixed additions
// (g?m_addMixed) instead of the ~254 doublings and ~85 additions of a NAF multiplication. Each
// thread-manager task carries the table and one CALL per addition; the CALL objects are shared
// between points (one per table entry), which keeps the structured clone of a task small. The
// chunk is converted to affine with one batched inversion (g?m_batchToAffine). Points come out in
// snarkjs's .ptau encoding (LEM: affine, little-endian, Montgomery).
import type { WasmCurve } from './snarkjs-internals.js';

const WINDOW_BITS = 8;
const WINDOWS = 32; // 32 × 8 bits ≥ 254-bit scalars
const DIGITS = (1 << WINDOW_BITS) - 1;
const CHUNK_POINTS = 1 << 12;

const tables = new WeakMap<WasmCurve, { G1?: Uint8Array; G2?: Uint8Array }>();

/** T[j][d−1] = d·2^(8j)·G for j < 32, 1 ≤ d ≤ 255, affine LEM, concatenated. */
function combTable(curve: WasmCurve, group: 'G1' | 'G2'): Uint8Array {
  let entry = tables.get(curve);
  if (!entry) tables.set(curve, (entry = {}));
  const hit = entry[group];
  if (hit) return hit;
  const G = curve[group] as WasmCurve['G1'] & { add(a: Uint8Array, b: Uint8Array): Uint8Array; double(a: Uint8Array): Uint8Array; batchToAffine?: unknown };
  const sAff = G.F.n8 * 2;
  const table = new Uint8Array(WINDOWS * DIGITS * sAff);
  let base = G.g;
  for (let j = 0; j < WINDOWS; j++) {
    let acc = base;
    for (let d = 1; d <= DIGITS; d++) {
      if (d > 1) acc = G.add(acc, base);
      (G as unknown as { toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void }).toRprLEM(table, (j * DIGITS + d - 1) * sAff, G.toAffine(acc));
    }
    base = G.add(acc, base); // 256·base
  }
  entry[group] = table;
  return table;
}

const callCache = new Map<string, object[]>();

/** The CALL objects for g?m_addMixed(acc, T + entry, acc): one per table entry, shared by tasks. */
function addCalls(prefix: string, sAff: number): object[] {
  const hit = callCache.get(prefix);
  if (hit) return hit;
  const calls: object[] = [];
  for (let e = 0; e < WINDOWS * DIGITS; e++) {
    calls.push({ cmd: 'CALL', fnName: `${prefix}_addMixed`, params: [{ var: 1 }, { var: 0, offset: e * sAff }, { var: 1 }] });
  }
  callCache.set(prefix, calls);
  return calls;
}

/**
 * s_i·G for every scalar s_i of `scalars` (Fr elements in Montgomery form, as ffjavascript keeps
 * them). Returns the points as affine LEM.
 */
export async function generatorTimes(curve: WasmCurve, group: 'G1' | 'G2', scalars: Uint8Array): Promise<Uint8Array> {
  const G = curve[group];
  const n8r = curve.Fr.n8;
  const sAff = G.F.n8 * 2;
  const sJac = G.F.n8 * 3;
  const n = scalars.byteLength / n8r;
  if (!Number.isInteger(n)) throw new Error('scalar buffer size is not a multiple of the field size');
  const prefix = group === 'G1' ? 'g1m' : 'g2m';
  const table = combTable(curve, group);
  const adds = addCalls(prefix, sAff);
  const zeroAcc = { cmd: 'CALL', fnName: `${prefix}_zero`, params: [{ var: 1 }] };
  // normal-form scalars: their bytes are the comb digits
  const plain = await (curve.Fr as unknown as { batchFromMontgomery(b: Uint8Array): Promise<Uint8Array> }).batchFromMontgomery(scalars);
  const jobs: Promise<Uint8Array[]>[] = [];
  try {
    for (let start = 0; start < n; start += CHUNK_POINTS) {
      const m = Math.min(CHUNK_POINTS, n - start);
      const task: object[] = [
        { cmd: 'ALLOCSET', var: 0, buff: table },
        { cmd: 'ALLOC', var: 1, len: sJac },
        { cmd: 'ALLOC', var: 2, len: m * sJac },
      ];
      for (let i = 0; i < m; i++) {
        const off = (start + i) * n8r;
        task.push(zeroAcc);
        for (let j = 0; j < WINDOWS; j++) {
          const d = plain[off + j]!;
          if (d !== 0) task.push(adds[j * DIGITS + d - 1]!);
        }
        task.push({ cmd: 'CALL', fnName: `${prefix}_copy`, params: [{ var: 1 }, { var: 2, offset: i * sJac }] });
      }
      task.push({ cmd: 'CALL', fnName: `${prefix}_batchToAffine`, params: [{ var: 2 }, { val: m }, { var: 2 }] });
      task.push({ cmd: 'GET', out: 0, var: 2, len: m * sAff });
      jobs.push(curve.tm.queueAction(task));
    }
  } finally {
    plain.fill(0);
  }
  const out = new Uint8Array(n * sAff);
  const results = await Promise.all(jobs);
  results.forEach((r, k) => out.set(r[0]!, k * CHUNK_POINTS * sAff));
  return out;
}
