// The setup's two heavy point operations, on the CPU prover's threads and wasm module
// (prover/cpu/worker-body.ts 'comb' and 'scale'): s_i·G for many secret scalars (every point of
// a powers-of-tau file) and k·P_i for one secret scalar and many points (1/δ on a proving key's
// C and H sections). Both do their additions in batches of affine ones, four at a time in
// WebAssembly SIMD lanes. A comb table stays in each thread (20 MiB for G1 and 40 MiB for G2 at
// w = 14) for the next powers of tau, within the threads' cap on kept blocks.
import { availableParallelism } from 'node:os';
import { cubeRoot, decompose, shortBasis, wnaf, type GlvConstants } from './glv.js';
import { cpuPool } from '../../prover/cpu/pool.js';
import type { WasmCurve } from './snarkjs-internals.js';

type Curve = WasmCurve & {
  q: bigint;
  r: bigint;
  Fr: WasmCurve['Fr'] & { toObject(a: Uint8Array): bigint };
  F1: WasmCurve['F1'] & { e(a: bigint): Uint8Array };
  G1: WasmCurve['G1'] & { timesScalar(p: Uint8Array, s: bigint): Uint8Array; toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void };
  G2: WasmCurve['G2'] & { toRprLEM(b: Uint8Array, o: number, p: Uint8Array): void };
};

/**
 * bytes [from, to) in a fresh ArrayBuffer of their own, safe to transfer (a Node Buffer's slice
 * is a view, and small Buffers share one pooled ArrayBuffer).
 */
function copyOf(b: Uint8Array, from: number, to: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(to - from);
  out.set(b.subarray(from, to));
  return out;
}

/**
 * The comb window for `points` multiplications in one group: each thread builds its table once,
 * ⌈254/w⌉·(2^w − 1) entries at about the cost of 6 additions each, and a point costs ⌈254/w⌉
 * additions; w is capped at 14 (a G2 table of 40 MiB per thread).
 */
export function combWindow(points: number, threads = availableParallelism()): number {
  const perThread = points / Math.max(1, threads);
  let best = 4;
  let bestCost = Infinity;
  for (let w = 4; w <= 14; w++) {
    const cost = Math.ceil(254 / w) * (6 * 2 ** w + perThread);
    if (cost < bestCost) [best, bestCost] = [w, cost];
  }
  return best;
}

/**
 * s_i·G for every Fr element s_i (Montgomery form, as ffjavascript keeps them) of `scalars`:
 * affine points in snarkjs's LEM encoding (the point at infinity as zeros). `scalars` is left
 * as it was; the copies sent to the workers are zeroed there.
 */
export async function combTimes(curve: WasmCurve, group: 'G1' | 'G2', scalars: Uint8Array, w = combWindow(scalars.byteLength / 32)): Promise<Uint8Array> {
  const c = curve as Curve;
  const n = scalars.byteLength / 32;
  if (!Number.isInteger(n)) throw new Error('scalar buffer size is not a multiple of 32 bytes');
  const G = c[group];
  const sA = G.F.n8 * 2;
  const gen = new Uint8Array(sA);
  G.toRprLEM(gen, 0, G.toAffine(G.g));
  // the copies are made before anything is awaited: a caller zeroes its scalars once this returns
  const chunk = Math.max(64, Math.min(8192, Math.ceil(n / availableParallelism())));
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < n; i += chunk) parts.push(copyOf(scalars, i * 32, Math.min(n, i + chunk) * 32));
  const cpu = await cpuPool().catch((e: unknown) => {
    for (const part of parts) part.fill(0);
    throw e;
  });
  const jobs = parts.map((part) => cpu.run({ op: 'comb', group: group === 'G1' ? 'g1' : 'g2', w, gen, scalars: part }, 0, [part.buffer]));
  const out = new Uint8Array(n * sA);
  (await Promise.all(jobs)).forEach((r, k) => out.set(r[0]!, k * chunk * sA));
  return out;
}

let glv: GlvConstants | undefined;

/** β and λ that belong together on this curve: φ(G) = (β·x, y) must equal λ·G. */
export function glvConstants(curve: WasmCurve): GlvConstants {
  if (glv) return glv;
  const c = curve as Curve;
  const { q, r } = c;
  const beta = cubeRoot(q);
  const l0 = cubeRoot(r);
  const G = c.G1;
  const g = G.toAffine(G.g);
  const n8 = c.F1.n8;
  const phi = new Uint8Array(g.byteLength);
  phi.set(g);
  const x = (c.F1 as unknown as { mul(a: Uint8Array, b: Uint8Array): Uint8Array }).mul(g.subarray(0, n8), c.F1.e(beta));
  phi.set(x, 0);
  let lambda: bigint | undefined;
  for (const l of [l0, (l0 * l0) % r]) if (G.eq(G.timesScalar(G.g, l), phi)) lambda = l;
  if (lambda === undefined) throw new Error('no cube root of unity in Fr matches the endomorphism');
  glv = { q, r, beta, lambda, ...shortBasis(r, lambda) };
  return glv;
}

/**
 * k·P_i for every affine LEM point P_i of `points` (G1) and one Fr element k (Montgomery form):
 * affine LEM points, by the CPU prover's threads (worker-body.ts 'scale': GLV, every point's
 * doublings and additions in batches of affine ones, ~3× ffjavascript's Jacobian ones a point
 * here). The split of k into k1 + k2·λ runs in BigInt, which JavaScript cannot overwrite; those
 * values become garbage when this returns. The digit arrays are zeroed (the copies sent, there).
 */
export async function scaleG1(curve: WasmCurve, points: Uint8Array, k: Uint8Array): Promise<Uint8Array> {
  const c = curve as Curve;
  const sA = curve.G1.F.n8 * 2;
  const n = points.byteLength / sA;
  if (!Number.isInteger(n)) throw new Error('point buffer size is not a multiple of the G1 point size');
  const consts = glvConstants(c);
  const [k1, k2] = decompose(c.Fr.toObject(k), consts);
  // the signs of k1 and k2 go into their digits
  const signed = (x: bigint) => {
    const d = wnaf(x < 0n ? -x : x, 5);
    if (x < 0n) for (let i = 0; i < d.length; i++) d[i] = -d[i]!;
    return d;
  };
  const naf1 = signed(k1);
  const naf2 = signed(k2);
  const beta = c.F1.e(consts.beta);
  const cpu = await cpuPool();
  // ~2.5 KB of wasm memory a point in a task (its table of 32 multiples)
  const chunk = Math.max(64, Math.min(4096, Math.ceil(n / cpu.concurrency)));
  const jobs: Promise<Uint8Array[]>[] = [];
  try {
    for (let i = 0; i < n; i += chunk) {
      const part = copyOf(points, i * sA, Math.min(n, i + chunk) * sA);
      // the digits' copies are transferred, not cloned: the worker zeroes the only copy it gets
      const [d1, d2] = [naf1.slice(), naf2.slice()];
      jobs.push(cpu.run({ op: 'scale', points: part, naf1: d1, naf2: d2, beta: beta.slice() }, 0, [part.buffer, d1.buffer, d2.buffer]));
    }
  } finally {
    naf1.fill(0);
    naf2.fill(0);
  }
  const out = new Uint8Array(n * sA);
  (await Promise.all(jobs)).forEach((r, j) => out.set(r[0]!, j * chunk * sA));
  return out;
}
