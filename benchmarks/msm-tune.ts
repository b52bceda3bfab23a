// The GPU MSM's speed parameters chosen by measurement on the adapter at hand (bench:prove --tune):
// limb width and the Montgomery product's form (its outer loop unrolled or not), curve kernels'
// workgroup size, accumulation task size, the bucket reduction's parallelism and the first
// accumulation level's coordinates (XYZZ or complete projective). A coordinate
// search from the defaults: one parameter at a time, each value measured (best of `runs` G1 MSMs
// at 2^power, random bases and scalars), a new value kept only when it beats the best so far by
// more than 2% (run-to-run noise). Every result is compared
// with ffjavascript's; a configuration that gives a wrong point is reported as such, never chosen.
// Then one profiled MSM each for the defaults and the winner says where the time goes per stage.
import { formatMsmTuning, gpuMsmG1, uploadBasesG1, type GpuBases, type MsmTuning } from '../src/prover/webgpu/msm.js';
import type { GpuContext } from '../src/prover/webgpu/device.js';
import { fieldConfig, LIMB_BITS } from '../src/prover/webgpu/wgsl/field.js';

export interface TuneRow { tuning: string; ms?: number; vsDefault?: number; error?: string }
export interface TuneResult {
  power: number;
  adapter: string;
  runs: number;
  rows: TuneRow[];
  /** The winner, in parseMsmTuning's form (what ZKONNX_GPU_MSM takes); 'default' if none beat the defaults. */
  winner: string;
  tuning: MsmTuning;
  defaultMs: number;
  bestMs: number;
  /** Milliseconds per MSM stage, one profiled run each (the waits between stages included). */
  stages: { default: Record<string, number>; tuned: Record<string, number> };
}

type Dim = keyof MsmTuning;

/** Values tried per parameter, in search order; the first of each is the default. */
function space(ctx: GpuContext): [Dim, MsmTuning[Dim][]][] {
  const reduce = ctx.software ? 1 << 10 : 1 << 16;
  return [
    // the Montgomery product's outer loop rolled (the default: Mesa builds it far faster) or
    // unrolled (literal limb indices: what a GPU compiler may need to keep a limb in a register)
    ['field', [undefined, fieldConfig(LIMB_BITS, false), fieldConfig(LIMB_BITS - 1), fieldConfig(LIMB_BITS - 1, false)]],
    ['curveWorkgroup', [undefined, 32, 128, 256]],
    ['taskSize', [undefined, 16, 64]],
    // not the window width: the best one depends on the MSM's size and scalars (chooseWindow
    // picks it per MSM), and a tuning applies to every MSM of a backend
    ['reduceThreads', [undefined, reduce / 4, reduce * 4]],
    // the first accumulation level in complete projective coordinates (more products, no branch)
    ['accumulate', [undefined, 'rcb']],
  ];
}

export async function tuneMsm(
  ctx: GpuContext,
  bases: Uint8Array,
  scalars: Uint8Array,
  expected: Uint8Array,
  G1: { eq(a: Uint8Array, b: Uint8Array): boolean },
  power: number,
  runs: number,
  log: (msg: string) => void = () => {},
): Promise<TuneResult> {
  // converted bases per limb width (the Montgomery form depends on it)
  const uploads = new Map<number, GpuBases>();
  const upload = async (t: MsmTuning) => {
    const w = t.field?.limbBits ?? LIMB_BITS;
    let h = uploads.get(w);
    if (!h) uploads.set(w, (h = await uploadBasesG1(ctx, bases, t)));
    return h;
  };
  const rows: TuneRow[] = [];
  const measure = async (t: MsmTuning): Promise<number> => {
    const row: TuneRow = { tuning: formatMsmTuning(t) };
    rows.push(row);
    try {
      const h = await upload(t);
      let ms = Infinity;
      // one untimed run compiles the kernels
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const got = await gpuMsmG1(ctx, h, scalars, t);
        if (i > 0) ms = Math.min(ms, performance.now() - t0);
        if (!G1.eq(got, expected)) throw new Error('wrong result: differs from ffjavascript');
      }
      row.ms = ms;
    } catch (e) {
      row.error = ((e as Error).message ?? String(e)).split('\n')[0];
    }
    log(`tune 2^${power} ${row.tuning}: ${row.ms !== undefined ? `${row.ms.toFixed(1)} ms` : row.error}`);
    return row.ms ?? Infinity;
  };
  try {
    const defaultMs = await measure({});
    if (!Number.isFinite(defaultMs)) throw new Error(`GPU MSM with the default parameters failed: ${rows[0]!.error}`);
    let best: MsmTuning = {};
    let bestMs = defaultMs;
    for (const [dim, values] of space(ctx)) {
      let pick: MsmTuning | undefined;
      let pickMs = bestMs * 0.98;
      for (const v of values.slice(1)) {
        const cand = { ...best, [dim]: v };
        const ms = await measure(cand);
        if (ms < pickMs) [pick, pickMs] = [cand, ms];
      }
      if (pick) [best, bestMs] = [pick, pickMs];
    }
    for (const r of rows) if (r.ms !== undefined) r.vsDefault = r.ms / defaultMs;
    const profile = async (t: MsmTuning) => {
      const st: Record<string, number> = {};
      await gpuMsmG1(ctx, await upload(t), scalars, { ...t, profile: (s, ms) => (st[s] = (st[s] ?? 0) + ms) });
      return st;
    };
    const stages = { default: await profile({}), tuned: await profile(best) };
    return { power, adapter: ctx.adapterName, runs, rows, winner: formatMsmTuning(best), tuning: best, defaultMs, bestMs, stages };
  } finally {
    for (const h of uploads.values()) h.release();
  }
}
