// Whether the points of a ptau or zkey section are on BN254's curves: the prover's wasm
// (<g>_offCurveN: y² = x³ + b and coordinates below q, ~5 products a point) over the points as
// ffjavascript writes them, on this thread, a slice at a time so that it runs beside the MSM
// workers. The random linear combinations of the setup checks are only meaningful for points
// on the curve; for G1 (cofactor 1) this is membership, for G2 the twist, not the subgroup.
import { later } from '../../prover/cpu/pool.js';
import type { Group } from '../../prover/cpu/msm.js';
import { HEAP_START, instantiate, msmModule, type MsmExports } from '../../prover/cpu/wasm-module.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Points a call: 2 MiB of G2 (the call returns to the event loop between slices). */
const SLICE = 1 << 14;
const B_AT = HEAP_START;
const SRC = HEAP_START + 128;

let instance: Promise<{ exports: MsmExports; memory: WebAssembly.Memory }> | undefined;

/** The index of the first point of `points` (ffjavascript affine, LEM) off `group`'s curve, or −1. */
export async function firstOffCurve(curve: any, group: Group, points: Uint8Array): Promise<number> {
  const { exports: ex, memory } = await (instance ??= msmModule().then((m) => instantiate(m, Math.ceil((SRC + SLICE * 128) / 65536))));
  const G = curve[group];
  const size = G.F.n8 * 2;
  const check = group === 'G1' ? ex.g1_offCurveN : ex.g2_offCurveN;
  const mem = new Uint8Array(memory.buffer);
  const n = Math.floor(points.byteLength / size);
  for (let from = 0; from < n; from += SLICE) {
    if (from) await new Promise<void>((resolve) => later(resolve));
    const m = Math.min(SLICE, n - from);
    // b and the slice written anew each call: other checks share the instance between yields
    mem.set(G.b, B_AT);
    mem.set(points.subarray(from * size, (from + m) * size), SRC);
    const bad = check(SRC, m, B_AT);
    if (bad) return from + bad - 1;
  }
  return -1;
}
