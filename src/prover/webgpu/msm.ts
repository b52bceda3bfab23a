/// <reference types="@webgpu/types" />
// Pippenger multi-scalar multiplication over G1 or G2 on WebGPU (one host and one set of kernels,
// generated per group).
//
// Signed c-bit windows (digits in [−2^(c−1), 2^(c−1)], so H = 2^(c−1) buckets per window and a
// negative digit adds −P, which costs a field negation) over scalars folded to ±|s|, |s| ≤ r/2
// (r − 3 is −3). A first pass finds the largest |s|'s bits and the nonzero count, and the window
// width and count follow from them: a quantized model's witness (|s| < 2^20 on the MNIST CNN)
// takes two windows where 254-bit scalars take sixteen. Bucket accumulation goes through a
// sparse-matrix transpose (CSR): count entries per key (window, bucket), exclusive scan for the
// offsets, scatter the point indices; then every key's run of entries is cut into tasks of at
// most S entries, summed in parallel, and the tasks' partial sums are summed the same way, level
// after level, until every key has one sum. So a bucket that holds half the points (scalars
// like 1 or r − 1 are common in witnesses) costs log_S(n) short levels, not one long thread.
// Buckets are reduced per window by running sums over segments, the segments by a tree sum,
// and the K window sums come back to the CPU for Horner's rule (K·c doublings).
//
// Bases are uploaded and converted to the kernels' Montgomery form once (`uploadBasesG1`); a
// prover keeps the `GpuBases` handle for its several MSMs over the same zkey section. Inputs
// larger than the device's binding size are cut into chunks whose results are added. With
// `precompute` the upload also makes t copies 2^(c·V·j)·P (reference.ts `Multiples`): the
// digits kernel then sends window k's entries to copy ⌊k/V⌋ and window k mod V's buckets, so
// V = ⌈K/t⌉ windows of buckets are summed and reduced instead of K (one, with t ≥ K, and no
// doublings between windows); each MSM takes them where the cost model says they are cheaper.
//
// ZKONNX_GPU_DEBUG=1 (or options.debug) reads every stage's buffers back and compares them with
// the CPU reference (reference.ts); it is slow (BigInt) and meant for small inputs.
import { ZkonnxError } from '../../errors.js';
import type { GpuContext } from './device.js';
import { dispatch, pipeline, readBuffer, storageBuffer, uniformU32, uploadBuffer, workgroupSize } from './gpu.js';
import * as ref from './reference.js';
import * as ref2 from './reference-g2.js';
import type { GroupName } from './wgsl/curve.js';
import { DEFAULT_FIELD_CONFIG, FIELD_MODULI, fieldConfig, montgomeryR, unpackBigints, type FieldConfig } from './wgsl/field.js';
import {
  accumulateWgsl,
  bucketReduceWgsl,
  convertBasesWgsl,
  digitsWgsl,
  precomputeWgsl,
  PRECOMPUTE_BATCH,
  scalarBitsWgsl,
  scanAddWgsl,
  scanBlockWgsl,
  RUNS,
  runsWgsl,
  tasksWgsl,
} from './wgsl/msm.js';

export interface MsmOptions {
  /**
   * Window width c (2…16); default from n (`chooseWindow`). At upload with `precompute`: the
   * width the multiples are made for (2…20; default `choosePrecomputedWindow`); a width above 16
   * is theirs only, and plain MSMs then pick their own.
   */
  windowBits?: number;
  /**
   * At upload: copies of the bases kept on the device, copy j = 2^(c·V·j)·P (reference.ts
   * `Multiples`; 0 or 1: none). t copies cost t times the bases' memory and one-off doublings; an
   * MSM over them sums V = ⌈K/t⌉ windows of buckets instead of K, so larger windows pay (t ≥ K:
   * one window, no doublings between windows). An MSM uses them where the cost model says they
   * are cheaper (small witness scalars may take two plain windows instead).
   */
  precompute?: number;
  /**
   * The first accumulation level's coordinates over G1: 'xyzz' (the default: 8M + 2S a mixed
   * addition, P + P one squaring more under a branch) or 'rcb' (complete projective, 11M +
   * 2·m(3b), no branch). On llvmpipe xyzz's first level takes 0.91-0.93× rcb's time at 2^16;
   * bench:prove --tune measures both on a GPU. G2 keeps rcb (llvmpipe takes ~30 s to compile a
   * G2 addition kernel, so the suite compiles each G2 kernel once).
   */
  accumulate?: 'rcb' | 'xyzz';
  /** Entries per accumulation task (default 32). */
  taskSize?: number;
  /**
   * Invocations the bucket reduction aims for: more, shorter segments, each paying a
   * double-and-add of ~log2(H) steps. Default 2^16 on a GPU (latency-bound, wants parallel
   * work), 2^10 on a software adapter (a few cores: total work matters).
   */
  reduceThreads?: number;
  /** Field limb configuration (for measurements; default DEFAULT_FIELD_CONFIG). */
  field?: FieldConfig;
  /** Compare every stage with the CPU reference (default: env ZKONNX_GPU_DEBUG=1). */
  debug?: boolean;
  /** Receives timing and debug lines. */
  log?: (msg: string) => void;
  /** Largest chunk of points per pass (default: what the device's binding size allows). */
  maxChunk?: number;
  /** Workgroup size of the curve kernels (accumulation, runs, reduction); default 64. */
  curveWorkgroup?: number;
  /**
   * Receives each stage's milliseconds (`bits`, `digits`, `level1`…, `buckets`, `reduce`,
   * `tree`, `combine`). The host then waits for the GPU after every stage, which costs a round
   * trip each: for finding where an MSM's time goes, not for timing it.
   */
  profile?: (stage: string, ms: number) => void;
}

/** The MSM options that change speed, not results: what a tuning sweep varies (bench:prove --tune). */
export type MsmTuning = Pick<MsmOptions, 'windowBits' | 'taskSize' | 'reduceThreads' | 'field' | 'curveWorkgroup' | 'precompute' | 'accumulate'>;

const TUNING_KEYS = ['limbs', 'unroll', 'wg', 'task', 'reduce', 'c', 'pre', 'acc'] as const;

/**
 * A tuning written as `limbs=12,unroll=1,wg=128,task=32,reduce=65536,c=15` (any subset; the env
 * variable ZKONNX_GPU_MSM and bench:prove --tune's output use this form). `unroll=1` emits the
 * Montgomery product's outer loop unrolled (FieldConfig.rolledMul false): limb indices become
 * literals, which a GPU compiler may need to keep an operand in registers; it applies to the
 * backend's NTTs and A/B/C too. Throws naming the bad item.
 */
export function parseMsmTuning(text: string): MsmTuning {
  const t: { -readonly [K in keyof MsmTuning]: MsmTuning[K] } = {};
  let limbs: number | undefined;
  let unroll: boolean | undefined;
  let fieldItem = '';
  for (const item of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [key, value, extra] = item.split('=');
    const v = Number(value);
    const bad = (why: string) => new ZkonnxError('BAD_ARGUMENT', `GPU MSM tuning "${text}": ${why} in "${item}"`, { hint: `write key=value pairs with keys ${TUNING_KEYS.join(', ')}` });
    if (key === 'acc') {
      if (extra !== undefined || (value !== 'rcb' && value !== 'xyzz')) throw bad('expected acc=rcb or acc=xyzz');
      t.accumulate = value;
      continue;
    }
    if (key === 'unroll') {
      if (extra !== undefined || (value !== '0' && value !== '1')) throw bad('expected unroll=0 or unroll=1');
      unroll = value === '1';
      continue;
    }
    if (extra !== undefined || value === undefined || !Number.isInteger(v) || v <= 0) throw bad('expected key=positive integer');
    if (key === 'limbs') {
      limbs = v;
      fieldItem = item;
    } else if (key === 'wg') {
      if ((v & (v - 1)) !== 0) throw bad('the workgroup size must be a power of two');
      t.curveWorkgroup = v;
    } else if (key === 'task') {
      if (v < 2) throw bad('the task size must be at least 2');
      t.taskSize = v;
    } else if (key === 'reduce') t.reduceThreads = v;
    else if (key === 'c') {
      if (v < MIN_C || v > MAX_C_PRE) throw bad(`the window width must be ${MIN_C}…${MAX_C} (${MAX_C_PRE} with pre)`);
      t.windowBits = v;
    } else if (key === 'pre') t.precompute = v;
    else throw bad(`unknown key "${key}"`);
  }
  if (t.windowBits !== undefined && t.windowBits > MAX_C && (t.precompute ?? 0) < 2) {
    throw new ZkonnxError('BAD_ARGUMENT', `GPU MSM tuning "${text}": a window width above ${MAX_C} needs precomputed multiples (pre=2 or more)`, { hint: `write key=value pairs with keys ${TUNING_KEYS.join(', ')}` });
  }
  if (limbs !== undefined || unroll !== undefined) {
    try {
      t.field = fieldConfig(limbs ?? DEFAULT_FIELD_CONFIG.limbBits, unroll === undefined ? DEFAULT_FIELD_CONFIG.rolledMul : !unroll);
    } catch (e) {
      throw new ZkonnxError('BAD_ARGUMENT', `GPU MSM tuning "${text}": ${(e as Error).message} in "${fieldItem}"`, { hint: `write key=value pairs with keys ${TUNING_KEYS.join(', ')}` });
    }
  }
  return t;
}

/** `t` in parseMsmTuning's form (set fields only; a field configuration as the items that differ from the default). */
export function formatMsmTuning(t: MsmTuning): string {
  const parts: string[] = [];
  if (t.field && t.field.limbBits !== DEFAULT_FIELD_CONFIG.limbBits) parts.push(`limbs=${t.field.limbBits}`);
  if (t.field && t.field.rolledMul !== DEFAULT_FIELD_CONFIG.rolledMul) parts.push(`unroll=${t.field.rolledMul ? 0 : 1}`);
  if (t.curveWorkgroup) parts.push(`wg=${t.curveWorkgroup}`);
  if (t.taskSize) parts.push(`task=${t.taskSize}`);
  if (t.reduceThreads) parts.push(`reduce=${t.reduceThreads}`);
  if (t.windowBits) parts.push(`c=${t.windowBits}`);
  if (t.precompute && t.precompute > 1) parts.push(`pre=${t.precompute}`);
  if (t.accumulate === 'rcb') parts.push('acc=rcb');
  return parts.join(',') || 'default';
}

/** Whether a tuning asks for the unrolled Montgomery product (what the backend's NTTs and A/B/C follow). */
export const unrolledMul = (t: MsmTuning): boolean => t.field !== undefined && !t.field.rolledMul;

/** Bases on the GPU, converted, in chunks of at most `maxChunkPoints` points. */
export interface GpuBases {
  readonly ctx: GpuContext;
  readonly group: GroupName;
  readonly n: number;
  /** The field configuration whose Montgomery form the converted bases are in. */
  readonly field: FieldConfig;
  /** Each chunk's buffer holds its n points, then the other copies (`multiples`). */
  readonly chunks: readonly { readonly start: number; readonly n: number; readonly buffer: GPUBuffer }[];
  /** Precomputed multiples the chunks hold (none: undefined). */
  readonly multiples?: ref.Multiples;
  /** Device bytes the chunks take. */
  readonly bytes: number;
  release(): void;
}

const P = FIELD_MODULI.fq;
const MIN_C = 2;
const MAX_C = 16;
/** With precomputed multiples the buckets of one or two windows only: wider windows pay. */
const MAX_C_PRE = 20;

/**
 * What the host needs of a group: byte sizes (an Fq component is 32 bytes in both layouts), the
 * CPU twin's operations, and ffjavascript's encodings. `Pt` is the twin's projective point.
 */
interface GroupSpec<A, Pt> {
  readonly name: GroupName;
  /** Fq components in a coordinate: 1 (G1) or 2 (G2). */
  readonly degree: number;
  readonly affineBytes: number;
  readonly projBytes: number;
  readonly ref: ref.RefGroup<A, Pt>;
  /** Canonical Fq components → an affine point (all zero: null) or a projective one. */
  affine(c: readonly bigint[]): A | null;
  proj(c: readonly bigint[]): Pt;
  decodeBasesFF(bytes: Uint8Array): (A | null)[];
  /** The result: ffjavascript's Jacobian bytes (96 or 192). */
  jacobianFF(p: Pt): Uint8Array;
}

const G1: GroupSpec<{ x: bigint; y: bigint }, ref.Proj> = {
  name: 'g1',
  degree: 1,
  affineBytes: 64,
  projBytes: 96,
  ref: ref.G1_REF,
  affine: ([x, y]) => (x === 0n && y === 0n ? null : { x: x!, y: y! }),
  proj: ([X, Y, Z]) => ({ X: X!, Y: Y!, Z: Z! }),
  decodeBasesFF: ref.decodeBasesFF,
  jacobianFF: ref.projToJacobianFF,
};

const G2: GroupSpec<{ x: ref2.Fq2; y: ref2.Fq2 }, ref2.Proj2> = {
  name: 'g2',
  degree: 2,
  affineBytes: 128,
  projBytes: 192,
  ref: ref2.G2_REF,
  affine: (c) => (c.every((v) => v === 0n) ? null : { x: [c[0]!, c[1]!], y: [c[2]!, c[3]!] }),
  proj: (c) => ({ X: [c[0]!, c[1]!], Y: [c[2]!, c[3]!], Z: [c[4]!, c[5]!] }),
  decodeBasesFF: ref2.decodeBasesFF2,
  jacobianFF: ref2.projToJacobianFF2,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyGroup = GroupSpec<any, any>;
const GROUPS: Record<GroupName, AnyGroup> = { g1: G1, g2: G2 };

/**
 * Window width minimizing K·(n + 3H) for n nonzero scalars of at most `bits` bits (folded): one
 * mixed add per entry, ~3 adds per bucket to reduce.
 */
export function chooseWindow(n: number, bits = ref.MAX_SCALAR_BITS): number {
  let best = MIN_C;
  let bestCost = Infinity;
  for (let c = MIN_C; c <= MAX_C; c++) {
    const cost = ref.numWindows(c, bits) * (n + 3 * 2 ** (c - 1));
    if (cost < bestCost) {
      best = c;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * Window width for `copies` precomputed copies of n bases: minimizes K·n + 3H·V (one mixed add
 * per entry, ~3 adds per bucket of the V windows the copies leave).
 */
export function choosePrecomputedWindow(n: number, copies: number): number {
  let best = MIN_C;
  let bestCost = Infinity;
  for (let c = MIN_C; c <= MAX_C_PRE; c++) {
    const cost = ref.numWindows(c) * n + 3 * 2 ** (c - 1) * ref.multiplesFor(c, copies).V;
    if (cost < bestCost) {
      best = c;
      bestCost = cost;
    }
  }
  return best;
}

/** The multiples an upload of n bases with these options makes (undefined: none). */
export function multiplesOf(n: number, opts: Pick<MsmOptions, 'precompute' | 'windowBits'>): ref.Multiples | undefined {
  const t = opts.precompute ?? 0;
  if (t < 2) return undefined;
  const c = opts.windowBits ?? choosePrecomputedWindow(n, t);
  if (!Number.isInteger(c) || c < MIN_C || c > MAX_C_PRE) throw new ZkonnxError('BAD_ARGUMENT', `MSM window bits for precomputed multiples must be ${MIN_C}…${MAX_C_PRE}, got ${c}`);
  const m = ref.multiplesFor(c, t);
  return m.t > 1 ? m : undefined;
}

/**
 * The most points one pass handles within the device's buffer binding size (with precomputed
 * multiples, `pre`: all of a chunk's copies in one binding).
 */
export function maxChunkPoints(ctx: GpuContext, taskSize = 32, group: GroupName = 'g1', pre: Pick<MsmOptions, 'precompute' | 'windowBits'> = {}): number {
  const g = GROUPS[group];
  const lim = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  for (let n = 1 << 26; n >= 1 << 8; n >>= 1) {
    const m = multiplesOf(n, pre);
    const c = m?.c ?? chooseWindow(n);
    const K = ref.numWindows(c);
    const NK = (m ? m.V : K) * 2 ** (c - 1);
    if (n * (m?.t ?? 1) * g.affineBytes <= lim && n * K * 4 <= lim && (Math.ceil((n * K) / taskSize) + NK) * g.projBytes <= lim) return n;
  }
  return 1 << 8;
}

/**
 * The scratch buffers (by name) an MSM of n points allocates, at most: what `stages` asks the
 * workspace for with the window chosen for n scalars of `bits` bits. The workspace keeps each
 * buffer at the largest size asked so far, so a proof's MSMs together hold the per-name maximum
 * (mergeWorkspace). For planning device memory (gpuProofBytes); a test holds it against the
 * device's measured use.
 */
export function msmWorkspace(n: number, group: GroupName = 'g1', opts: { taskSize?: number; reduceThreads?: number; bits?: number; precompute?: number; windowBits?: number } = {}): Map<string, number> {
  const S = opts.taskSize ?? 32;
  const proj = GROUPS[group].projBytes;
  const bits = opts.bits ?? ref.MAX_SCALAR_BITS;
  const r16 = (b: number) => Math.max(16, Math.ceil(b / 16) * 16);
  const ws = new Map<string, number>();
  const put = (name: string, bytes: number) => ws.set(name, Math.max(ws.get(name) ?? 0, r16(bytes)));
  for (const name of ['stats', 'info', 'none']) put(name, 16);
  put('scalars', n * 32);
  // K windows of digits, W of them with buckets (fewer over precomputed copies)
  const plan = (c: number, W?: number) => {
    const K = ref.numWindows(c, bits);
    W = Math.min(K, W ?? K);
    const H = 2 ** (c - 1);
    const NK = W * H;
    for (const name of ['counts', 'offsets', 'cursor', 'tasksA', 'toffsA', 'tasksB', 'toffsB']) put(name, (NK + 1) * 4);
    put('entries', n * K * 4);
    // the scans' block sums, level by level
    for (let len = NK + 1, d = 0; len > 1; d++) {
      len = Math.ceil(len / 256);
      put(`scanSums${d}`, len * 4);
      put(`scanOffs${d}`, len * 4);
    }
    // partial sums: the first level's tasks; the next level's are fewer
    const T = Math.ceil((n * K) / S) + NK;
    put('partA', T * proj);
    put('partB', (Math.ceil(T / S) + NK) * proj);
    put('buckets', NK * proj);
    const want = Math.max(1, Math.floor((opts.reduceThreads ?? 1 << 16) / W));
    let nseg = 1;
    while (nseg * 2 <= Math.min(H, want)) nseg *= 2;
    put('segs', W * nseg * proj);
    put('sumA', W * Math.ceil(nseg / 8) * proj);
    put('sumB', W * Math.ceil(nseg / 64) * proj);
  };
  plan(chooseWindow(n, bits));
  const pre = multiplesOf(n, opts);
  if (pre) plan(pre.c, pre.V);
  return ws;
}

/** The per-name maximum of several MSMs' workspaces: what the shared workspace grows to. */
export function mergeWorkspace(...all: Map<string, number>[]): number {
  const m = new Map<string, number>();
  for (const ws of all) for (const [k, v] of ws) m.set(k, Math.max(m.get(k) ?? 0, v));
  let total = 0;
  for (const v of m.values()) total += v;
  return total;
}

const debugEnv = () => typeof process !== 'undefined' && process.env?.['ZKONNX_GPU_DEBUG'] === '1';

// ---------------------------------------------------------------------------------------------
// Shader text, generated once per (kernel, workgroup size): the pipeline cache keys on it.

const codeCache = new Map<string, string>();
function code(key: string, gen: () => string): string {
  let c = codeCache.get(key);
  if (c === undefined) codeCache.set(key, (c = gen()));
  return c;
}

/** Scratch buffers per device, grown on demand and reused by later MSMs. */
class Workspace {
  private readonly bufs = new Map<string, GPUBuffer>();
  // Outgrown buffers may still be used by commands recorded but not yet submitted.
  private retired: GPUBuffer[] = [];
  constructor(private readonly device: GPUDevice) {}
  get(name: string, bytes: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let b = this.bufs.get(name);
    if (!b || b.size < size) {
      if (b) this.retired.push(b);
      b = storageBuffer(this.device, size, 0, name);
      this.bufs.set(name, b);
    }
    return b;
  }
  /** Destroys outgrown buffers; call when no recorded work can refer to them. */
  collect(): void {
    this.retired.forEach((b) => b.destroy());
    this.retired = [];
  }
  release(): void {
    this.collect();
    for (const b of this.bufs.values()) b.destroy();
    this.bufs.clear();
  }
}
const workspaces = new WeakMap<GPUDevice, Workspace>();
function workspace(device: GPUDevice): Workspace {
  let w = workspaces.get(device);
  if (!w) workspaces.set(device, (w = new Workspace(device)));
  return w;
}

const turns = new WeakMap<GPUDevice, Promise<unknown>>();
function serialized<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  const run = (turns.get(device) ?? Promise.resolve()).then(fn, fn);
  turns.set(device, run.catch(() => undefined));
  return run;
}

/** Frees the MSM scratch buffers kept for `ctx`'s device. */
export function releaseMsmWorkspace(ctx: GpuContext): void {
  workspaces.get(ctx.device)?.release();
  workspaces.delete(ctx.device);
}

// ---------------------------------------------------------------------------------------------

type UploadOptions = Pick<MsmOptions, 'debug' | 'log' | 'maxChunk' | 'field' | 'taskSize' | 'precompute' | 'windowBits'>;

/** Uploads n affine G1 bases (ffjavascript layout, n × 64 bytes) and converts them on the GPU. */
export function uploadBasesG1(ctx: GpuContext, bases: Uint8Array, opts: UploadOptions = {}): Promise<GpuBases> {
  return uploadBases(ctx, G1, bases, opts);
}

/** Uploads n affine G2 bases (ffjavascript layout, n × 128 bytes) and converts them on the GPU. */
export function uploadBasesG2(ctx: GpuContext, bases: Uint8Array, opts: UploadOptions = {}): Promise<GpuBases> {
  return uploadBases(ctx, G2, bases, opts);
}

async function uploadBases(ctx: GpuContext, g: AnyGroup, bases: Uint8Array, opts: UploadOptions): Promise<GpuBases> {
  const ab = g.affineBytes;
  const G = g.name.toUpperCase();
  if (bases.length % ab !== 0) {
    throw new ZkonnxError('BAD_ARGUMENT', `${G} bases: expected a multiple of ${ab} bytes, got ${bases.length}`);
  }
  const n = bases.length / ab;
  const chunk = Math.max(1, opts.maxChunk ?? maxChunkPoints(ctx, opts.taskSize ?? 32, g.name, opts));
  const multiples = multiplesOf(Math.min(n, chunk), opts);
  const t = multiples?.t ?? 1;
  // entries name a point of a chunk's copies in 31 bits
  if (t * Math.min(n, chunk) > 2 ** 31) throw new ZkonnxError('BAD_ARGUMENT', `${G} bases: ${t} copies of ${Math.min(n, chunk)} points exceed 2^31 points a chunk`, { hint: 'pass a smaller maxChunk or fewer copies' });
  const wg = workgroupSize(ctx, 64);
  const field = opts.field ?? DEFAULT_FIELD_CONFIG;
  const [pipe, pPre] = await Promise.all([
    pipeline(ctx.device, code(`convert/${g.name}/${wg}/${cfgKey(field)}`, () => convertBasesWgsl(wg, field, g.name))),
    multiples ? pipeline(ctx.device, code(`precompute/${g.name}/${wg}/${cfgKey(field)}`, () => precomputeWgsl(wg, field, g.name))) : undefined,
  ]);
  const chunks: { start: number; n: number; buffer: GPUBuffer }[] = [];
  const params: GPUBuffer[] = [];
  // the precompute's scratch: a chunk's points projective and their Z's running products
  const scratch = multiples ? [storageBuffer(ctx.device, Math.min(n, chunk) * g.projBytes, 0, 'precompute points'), storageBuffer(ctx.device, Math.min(n, chunk) * 32 * g.degree, 0, 'precompute products')] : [];
  const t0 = performance.now();
  try {
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const part = bases.subarray(start * ab, (start + m) * ab);
      const buffer = t === 1 ? uploadBuffer(ctx.device, part, 0, `${g.name} bases`) : storageBuffer(ctx.device, t * m * ab, 0, `${g.name} bases ×${t}`);
      chunks.push({ start, n: m, buffer });
      if (t > 1) ctx.device.queue.writeBuffer(buffer, 0, part.buffer, part.byteOffset, part.byteLength);
      const enc = ctx.device.createCommandEncoder();
      const prm = uniformU32(ctx.device, [m]);
      params.push(prm);
      dispatch(ctx, enc, pipe, [buffer, prm], m, wg);
      // One dispatch a copy: c·V doublings a point, an inversion a batch.
      for (let j = 1; j < t; j++) {
        const pj = uniformU32(ctx.device, [m, j - 1, j, multiples!.c * multiples!.V]);
        params.push(pj);
        dispatch(ctx, enc, pPre!, [buffer, scratch[0]!, scratch[1]!, pj], Math.ceil(m / PRECOMPUTE_BATCH), wg);
      }
      ctx.device.queue.submit([enc.finish()]);
      // a chunk at a time: the next chunk's upload waits for this one's kernels
      await ctx.device.queue.onSubmittedWorkDone();
    }
  } catch (e) {
    chunks.forEach((c) => c.buffer.destroy());
    throw e;
  } finally {
    params.forEach((b) => b.destroy());
    scratch.forEach((b) => b.destroy());
  }
  if (multiples) opts.log?.(`${n} ${G} bases: ${t} copies (c = ${multiples.c}, ${multiples.V} windows a copy) in ${(performance.now() - t0).toFixed(0)} ms`);
  const handle: GpuBases = {
    ctx,
    group: g.name,
    n,
    field,
    chunks,
    ...(multiples ? { multiples } : {}),
    bytes: chunks.reduce((s, c) => s + c.buffer.size, 0),
    release: () => chunks.forEach((c) => c.buffer.destroy()),
  };
  if (opts.debug ?? debugEnv()) {
    const want = g.decodeBasesFF(bases);
    for (const c of chunks) {
      const got = decodeOurAffine(g, await readBuffer(ctx.device, c.buffer, 0, t * c.n * ab), field);
      const mine = want.slice(c.start, c.start + c.n);
      const copies = multiples ? ref.precomputeMultiples(g.ref, mine, multiples) : mine;
      got.forEach((p, i) => {
        const w = copies[i]!;
        const where = `base ${c.start + (i % c.n)}${multiples ? `, copy ${Math.floor(i / c.n)}` : ''}`;
        if (!affineEq(p, w)) mismatch(i < c.n ? 'convert' : 'precompute', where, w, p);
      });
    }
    opts.log?.(`debug: ${n} ${G} bases converted${multiples ? ` and their ${t} copies made` : ''} as the CPU does`);
  }
  return handle;
}

/**
 * Scalars already on the device (the quotient's output, say): `n` canonical 32-byte values from
 * byte `offset` of `buffer`. An MSM reads them there, with no trip through the host.
 */
export interface GpuScalars {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly n: number;
}

/**
 * Σ scalars[i]·bases[i] over G1. `bases`: n × 64 bytes (ffjavascript affine Montgomery, (0, 0)
 * = infinity) or an uploaded handle; `scalars`: m × 32 bytes canonical LE with m ≤ n (any
 * 256-bit value is reduced mod r), or m of them on the device. Returns ffjavascript's 96-byte
 * Jacobian (Montgomery).
 */
export function gpuMsmG1(ctx: GpuContext, bases: Uint8Array | GpuBases, scalars: Uint8Array | GpuScalars, opts: MsmOptions = {}): Promise<Uint8Array> {
  return gpuMsm(ctx, G1, bases, scalars, opts);
}

/** The same over G2: n × 128-byte bases (all zero = infinity); returns the 192-byte Jacobian. */
export function gpuMsmG2(ctx: GpuContext, bases: Uint8Array | GpuBases, scalars: Uint8Array | GpuScalars, opts: MsmOptions = {}): Promise<Uint8Array> {
  return gpuMsm(ctx, G2, bases, scalars, opts);
}

async function gpuMsm(ctx: GpuContext, g: AnyGroup, bases: Uint8Array | GpuBases, scalars: Uint8Array | GpuScalars, opts: MsmOptions): Promise<Uint8Array> {
  const onHost = scalars instanceof Uint8Array;
  if (onHost && scalars.length % 32 !== 0) {
    throw new ZkonnxError('BAD_ARGUMENT', `MSM scalars: expected a multiple of 32 bytes, got ${scalars.length}`);
  }
  const owned = bases instanceof Uint8Array;
  if (!owned && bases.ctx.device !== ctx.device) throw new ZkonnxError('BAD_ARGUMENT', 'MSM: the bases were uploaded to another GPU device');
  if (!owned && bases.group !== g.name) throw new ZkonnxError('BAD_ARGUMENT', `MSM over ${g.name.toUpperCase()}: the bases were uploaded as ${bases.group.toUpperCase()} points`);
  if (!onHost && scalars.buffer.size < scalars.offset + scalars.n * 32) {
    throw new ZkonnxError('BAD_ARGUMENT', `MSM scalars: ${scalars.n} from byte ${scalars.offset} do not fit the ${scalars.buffer.size}-byte buffer`);
  }
  const handle = owned ? await uploadBases(ctx, g, bases, opts) : bases;
  try {
    const m = onHost ? scalars.length / 32 : scalars.n;
    if (m > handle.n) {
      throw new ZkonnxError('BAD_ARGUMENT', `MSM: ${m} scalars but only ${handle.n} bases`, {
        hint: 'pass as many bases as scalars (or more)',
      });
    }
    // MSMs on one device take turns: they share its scratch buffers.
    return await serialized(ctx.device, async () => {
      let acc = g.ref.zero();
      for (const c of handle.chunks) {
        const k = Math.min(c.n, m - c.start);
        if (k <= 0) break;
        const part: Scalars = onHost
          ? scalars.subarray(c.start * 32, (c.start + k) * 32)
          : { buffer: scalars.buffer, offset: scalars.offset + c.start * 32, n: k };
        acc = g.ref.add(acc, await msmChunk(ctx, g, { buffer: c.buffer, stride: c.n, multiples: handle.multiples }, k, part, handle.field, opts));
      }
      return g.jacobianFF(acc);
    });
  } finally {
    if (owned) handle.release();
  }
}

type Scalars = Uint8Array | GpuScalars;

/** A chunk's bases on the device: `stride` points a copy, and the copies' multiples if any. */
interface ChunkBases {
  buffer: GPUBuffer;
  stride: number;
  multiples: ref.Multiples | undefined;
}

interface Stage {
  enc: GPUCommandEncoder;
  params: GPUBuffer[];
}

/** One pass over ≤ maxChunk points; returns the sum in canonical projective coordinates. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function msmChunk(ctx: GpuContext, g: AnyGroup, bases: ChunkBases, n: number, scalars: Scalars, field: FieldConfig, opts: MsmOptions): Promise<any> {
  const dev = ctx.device;
  dev.pushErrorScope('out-of-memory');
  dev.pushErrorScope('validation');
  let result: unknown;
  let failure: unknown;
  try {
    result = await msmStages(ctx, g, bases, n, scalars, field, opts);
  } catch (e) {
    failure = e;
  }
  // Pop both scopes whatever happened, so that a failure does not leave them on the stack.
  const errors = [await dev.popErrorScope(), await dev.popErrorScope()].filter((e) => e !== null);
  if (errors.length > 0) {
    throw new ZkonnxError('PROOF_INVALID', `WebGPU MSM failed on ${ctx.adapterName}: ${errors.map((e) => e!.message).join('; ')}`, {
      hint: 'a smaller maxChunk may fit the device; or use the wasm backend',
      cause: failure,
    });
  }
  if (failure !== undefined) throw failure;
  return result;
}

async function msmStages(ctx: GpuContext, g: AnyGroup, bases: ChunkBases, n: number, scalars: Scalars, field: FieldConfig, opts: MsmOptions): Promise<unknown> {
  const params: GPUBuffer[] = [];
  try {
    return await stages(ctx, g, bases, n, scalars, field, opts, params);
  } finally {
    // Submitted work that still uses them keeps them alive until it completes.
    params.forEach((b) => b.destroy());
    workspace(ctx.device).collect();
  }
}

async function stages(ctx: GpuContext, g: AnyGroup, chunk: ChunkBases, n: number, scalars: Scalars, field: FieldConfig, opts: MsmOptions, params: GPUBuffer[]): Promise<unknown> {
  const PROJ_BYTES = g.projBytes;
  const bases = chunk.buffer;
  const dev = ctx.device;
  const debug = opts.debug ?? debugEnv();
  const log = opts.log;
  const t0 = performance.now();
  if (opts.windowBits !== undefined && (!Number.isInteger(opts.windowBits) || opts.windowBits < MIN_C || opts.windowBits > MAX_C_PRE)) {
    throw new ZkonnxError('BAD_ARGUMENT', `MSM window bits must be ${MIN_C}…${MAX_C} (${MAX_C_PRE} for precomputed multiples), got ${opts.windowBits}`);
  }
  // a width above MAX_C is the multiples' (a tuning's c with pre): plain windows then pick their own
  const wc = opts.windowBits !== undefined && opts.windowBits <= MAX_C ? opts.windowBits : undefined;
  const S = opts.taskSize ?? 32;
  if (!Number.isInteger(S) || S < 2) throw new ZkonnxError('BAD_ARGUMENT', `MSM task size must be an integer ≥ 2, got ${S}`);
  const ws = workspace(dev);
  const wgc = workgroupSize(ctx, opts.curveWorkgroup ?? 64); // curve kernels: register-heavy
  const wgs = workgroupSize(ctx, 256); // scans and digits
  const pipe = (key: string, gen: (wg: number) => string, wg: number) => pipeline(dev, code(`${key}/${g.name}/${wg}/${cfgKey(field)}`, () => gen(wg)));

  const [pBits, pDigits, pScatter, pScanBlock, pScanAdd, pTasks] = await Promise.all([
    pipe('bits', (wg) => scalarBitsWgsl(wg, g.name), wgs),
    pipe('digits', (wg) => digitsWgsl(wg, false, g.name), wgs),
    pipe('scatter', (wg) => digitsWgsl(wg, true, g.name), wgs),
    pipe('scanBlock', scanBlockWgsl, wgs),
    pipe('scanAdd', scanAddWgsl, wgs),
    pipe('tasks', tasksWgsl, wgs),
  ]);

  const st: Stage = { enc: dev.createCommandEncoder(), params };
  const prm = (words: number[]) => {
    const b = uniformU32(dev, words);
    st.params.push(b);
    return b;
  };
  const flush = () => {
    dev.queue.submit([st.enc.finish()]);
    st.enc = dev.createCommandEncoder();
  };
  // Profiling: the GPU's time per stage, waiting for it at each mark.
  let tMark = t0;
  const mark = async (stage: string) => {
    if (!opts.profile) return;
    flush();
    await dev.queue.onSubmittedWorkDone();
    const now = performance.now();
    opts.profile(stage, now - tMark);
    tMark = now;
  };
  // Exclusive scan of n u32 from `input` into `output` (recursive over block sums).
  const scan = (input: GPUBuffer, output: GPUBuffer, len: number, depth = 0): void => {
    const blocks = Math.ceil(len / wgs);
    const sums = ws.get(`scanSums${depth}`, blocks * 4);
    dispatch(ctx, st.enc, pScanBlock, [input, output, sums, prm([len])], len, wgs);
    if (blocks > 1) {
      const offs = ws.get(`scanOffs${depth}`, blocks * 4);
      scan(sums, offs, blocks, depth + 1);
      dispatch(ctx, st.enc, pScanAdd, [output, offs, prm([len])], len, wgs);
    }
  };

  // 0. Scalars folded to ±|s| ≤ r/2: the largest |s|'s bits and the nonzero count fix the window
  // width and count (a quantized model's witness is small: a few windows, not 254 bits' worth).
  const scal = ws.get('scalars', n * 32);
  if (scalars instanceof Uint8Array) dev.queue.writeBuffer(scal, 0, scalars.buffer, scalars.byteOffset, n * 32);
  else st.enc.copyBufferToBuffer(scalars.buffer, scalars.offset, scal, 0, n * 32);
  const stats = ws.get('stats', 16);
  const info = ws.get('info', 16);
  st.enc.clearBuffer(stats, 0, 16);
  dispatch(ctx, st.enc, pBits, [scal, bases, stats, prm([n])], n, wgs);
  st.enc.copyBufferToBuffer(stats, 4, info, 0, 8);
  flush();
  const [bits, nonzero] = await readU32s(dev, info, 2);
  await mark('bits');
  if (nonzero === 0) return g.ref.zero();
  // Precomputed multiples where the cost model (one add an entry, ~3 a bucket) says they pay.
  let c = wc ?? chooseWindow(nonzero!, bits);
  let K = ref.numWindows(c, bits);
  let V = K; // windows a copy of the bases covers (the digits kernel's V)
  const pre = chunk.multiples;
  if (pre) {
    const Kp = ref.numWindows(pre.c, bits);
    if (Kp * nonzero! + 3 * 2 ** (pre.c - 1) * Math.min(Kp, pre.V) <= K * (nonzero! + 3 * 2 ** (c - 1))) [c, K, V] = [pre.c, Kp, pre.V];
  }
  const W = Math.min(K, V); // windows of buckets
  const H = 2 ** (c - 1);
  const NK = W * H;
  // Every buffer a kernel binds must fit one binding.
  const lim = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  const fits = (what: string, bytes: number) => {
    if (bytes > lim) {
      throw new ZkonnxError('BAD_ARGUMENT', `MSM of ${n} points with c = ${c}: ${what} needs ${bytes} bytes, the device binds at most ${lim}`, {
        hint: 'pass a smaller maxChunk (or let the window width default)',
      });
    }
  };
  fits('the CSR entries', n * K * 4);
  fits('the buckets', NK * PROJ_BYTES);

  // 1. Digits → counts per key; CSR offsets; scatter; tasks per key and their offsets.
  const counts = ws.get('counts', (NK + 1) * 4);
  const offsets = ws.get('offsets', (NK + 1) * 4);
  const cursor = ws.get('cursor', (NK + 1) * 4);
  const entries = ws.get('entries', n * K * 4);
  const tasksA = ws.get('tasksA', (NK + 1) * 4);
  const toffsA = ws.get('toffsA', (NK + 1) * 4);
  st.enc.clearBuffer(counts, 0, (NK + 1) * 4);
  const digitPrm = prm([n, c, K, H, V, chunk.stride, 0, 0]);
  dispatch(ctx, st.enc, pDigits, [scal, bases, counts, digitPrm], n, wgs);
  scan(counts, offsets, NK + 1);
  st.enc.copyBufferToBuffer(offsets, 0, cursor, 0, (NK + 1) * 4);
  dispatch(ctx, st.enc, pScatter, [scal, bases, cursor, entries, digitPrm], n, wgs);
  dispatch(ctx, st.enc, pTasks, [counts, tasksA, stats, prm([NK + 1, S])], NK + 1, wgs);
  scan(tasksA, toffsA, NK + 1);
  // One small readback: the largest bucket (how many levels) and the task count (sizes).
  st.enc.copyBufferToBuffer(stats, 0, info, 0, 4);
  st.enc.copyBufferToBuffer(offsets, NK * 4, info, 4, 4);
  st.enc.copyBufferToBuffer(toffsA, NK * 4, info, 8, 4);
  flush();
  const [maxCount, totalEntries, totalTasks] = await readU32s(dev, info, 3);
  fits('the partial sums', totalTasks! * PROJ_BYTES);
  await mark('digits');
  const tDigits = performance.now();

  let cpu: CpuModel | undefined;
  if (debug) {
    const scalarBytes = scalars instanceof Uint8Array ? scalars : await readBuffer(dev, scal, 0, n * 32);
    cpu = await cpuModel(dev, g, chunk, n, scalarBytes, c, K, V, field);
    if (cpu.bits !== bits) mismatch('scalar bits', 'stats[1]', cpu.bits, bits);
    await checkCsr(dev, cpu, { counts, offsets, entries, tasks: tasksA, toffs: toffsA }, NK, S, maxCount!, totalEntries!);
    log?.(`debug: digits, counts, CSR entries and tasks match the CPU (c = ${c}, ${W < K ? `${W} windows of ${K} over precomputed copies, ` : ''}${totalEntries} entries)`);
  }

  // 2. Accumulation levels until every key has at most S entries, then one sum per key.
  const xyzz = (opts.accumulate ?? 'xyzz') === 'xyzz' && g.name === 'g1';
  const [pAcc, pRuns, pReduce] = await Promise.all([
    pipe(`acc-${xyzz ? 'xyzz' : 'rcb'}`, (wg) => accumulateWgsl(wg, field, g.name, xyzz), wgc),
    pipe('runs', (wg) => runsWgsl(wg, field, g.name), wgc),
    pipe('reduce', (wg) => bucketReduceWgsl(wg, field, g.name), wgc),
  ]);
  // runs' groups mode reads no CSR: `none` fills those bindings
  const none = ws.get('none', 16);
  let src = bases;
  let affine = true;
  let cnt = counts;
  let off = offsets;
  let tasks = tasksA;
  let toffs = toffsA;
  let maxc = maxCount!;
  let T = totalTasks!;
  const nonEmptyBound = Math.min(NK, T); // each nonempty key has ≥ 1 task at level 0
  let level = 0;
  while (maxc > S) {
    const dst = ws.get(level % 2 === 0 ? 'partA' : 'partB', T * PROJ_BYTES);
    if (affine) dispatch(ctx, st.enc, pAcc, [src, entries, cnt, off, toffs, dst, prm([NK, S, RUNS.tasks])], T, wgc);
    else dispatch(ctx, st.enc, pRuns, [src, cnt, off, toffs, dst, prm([NK, S, RUNS.tasks, 0, 0, 0, 0, 0])], T, wgc);
    // The partial sums are the next level's entries: one per task, grouped by key.
    src = dst;
    affine = false;
    cnt = tasks;
    off = toffs;
    maxc = Math.ceil(maxc / S);
    level++;
    await mark(`level${level}`);
    if (maxc > S) {
      tasks = ws.get(level % 2 === 0 ? 'tasksA' : 'tasksB', (NK + 1) * 4);
      toffs = ws.get(level % 2 === 0 ? 'toffsA' : 'toffsB', (NK + 1) * 4);
      dispatch(ctx, st.enc, pTasks, [cnt, tasks, stats, prm([NK + 1, S])], NK + 1, wgs);
      scan(tasks, toffs, NK + 1);
      T = Math.ceil(T / S) + nonEmptyBound; // Σ ⌈t/S⌉ ≤ Σ (t/S + 1) over nonempty keys
      fits('the partial sums', T * PROJ_BYTES);
    }
  }
  const buckets = ws.get('buckets', NK * PROJ_BYTES);
  {
    // Per key: the task offsets are not read; `off` stands in for the binding.
    if (affine) dispatch(ctx, st.enc, pAcc, [src, entries, cnt, off, off, buckets, prm([NK, S, RUNS.keys])], NK, wgc);
    else dispatch(ctx, st.enc, pRuns, [src, cnt, off, off, buckets, prm([NK, S, RUNS.keys, 0, 0, 0, 0, 0])], NK, wgc);
  }
  await mark('buckets');
  if (debug) {
    flush();
    const got = decodeOurProj(g, await readBuffer(dev, buckets, 0, NK * PROJ_BYTES), field);
    got.forEach((p, key) => {
      if (!g.ref.eq(p, cpu!.buckets[key]!)) mismatch('buckets', `key ${key} (window ${Math.floor(key / H)}, bucket ${(key % H) + 1})`, cpu!.buckets[key], p);
    });
    log?.(`debug: ${NK} bucket sums match the CPU (${level} task levels)`);
  }

  // 3. Window sums: segments of L buckets per invocation, then a tree sum per window.
  const want = Math.max(1, Math.floor((opts.reduceThreads ?? (ctx.software ? 1 << 10 : 1 << 16)) / W));
  let nseg = 1;
  while (nseg * 2 <= Math.min(H, want)) nseg *= 2;
  const L = H / nseg;
  const segs = ws.get('segs', W * nseg * PROJ_BYTES);
  dispatch(ctx, st.enc, pReduce, [buckets, segs, prm([H, L, nseg, W])], W * nseg, wgc);
  await mark('reduce');
  let cur = segs;
  let M = nseg;
  let flip = 0;
  const F = 8;
  while (M > 1) {
    const MO = Math.ceil(M / F);
    const dst = ws.get(flip++ % 2 === 0 ? 'sumA' : 'sumB', W * MO * PROJ_BYTES);
    dispatch(ctx, st.enc, pRuns, [cur, none, none, none, dst, prm([W, M, RUNS.groups, MO, F, 0, 0, 0])], W * MO, wgc);
    cur = dst;
    M = MO;
  }
  flush();
  const windows = decodeOurProj(g, await readBuffer(dev, cur, 0, W * PROJ_BYTES), field);
  await mark('tree');
  const tGpu = performance.now();
  if (debug) {
    const cw = ref.windowSums(g.ref, cpu!.buckets, c);
    windows.forEach((w, k) => {
      if (!g.ref.eq(w, cw[k]!)) mismatch('window sums', `window ${k}`, cw[k], w);
    });
    log?.(`debug: ${W} window sums match the CPU`);
  }
  const result = ref.combineWindows(g.ref, windows, c);
  await mark('combine');
  log?.(
    `msm ${g.name} n=${n} bits=${bits} c=${c} K=${K}${W < K ? ` (${W} over copies)` : ''} levels=${level} entries=${totalEntries} max bucket=${maxCount}: ` +
      `digits+CSR ${(tDigits - t0).toFixed(1)} ms, buckets+windows ${(tGpu - tDigits).toFixed(1)} ms, CPU combine ${(performance.now() - tGpu).toFixed(1)} ms`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Host decoding of the kernels' layouts and the debug comparisons

async function readU32s(dev: GPUDevice, buf: GPUBuffer, count: number): Promise<number[]> {
  const b = await readBuffer(dev, buf, 0, count * 4);
  return Array.from(new Uint32Array(b.buffer, b.byteOffset, count));
}

const cfgKey = (f: FieldConfig) => `${f.limbBits}${f.rolledMul ? 'r' : 'u'}`;
const rInv = new Map<string, bigint>();
/** Our Montgomery form (x·R, R = 2^(W·NL)) → x. */
function canonical(field: FieldConfig): (v: bigint) => bigint {
  const k = cfgKey(field);
  let inv = rInv.get(k);
  if (inv === undefined) rInv.set(k, (inv = ref.modInv(montgomeryR(field) % P, P)));
  return (v) => (v * inv) % P;
}

/** Our affine layout (Montgomery components) → the CPU twin's canonical affine points. */
function decodeOurAffine(g: AnyGroup, bytes: Uint8Array, field: FieldConfig): unknown[] {
  return decodeOur(bytes, field, 2 * g.degree, (c) => g.affine(c));
}

/** Our projective layout → the CPU twin's canonical projective points. */
function decodeOurProj(g: AnyGroup, bytes: Uint8Array, field: FieldConfig): unknown[] {
  return decodeOur(bytes, field, 3 * g.degree, (c) => g.proj(c));
}

function decodeOur<T>(bytes: Uint8Array, field: FieldConfig, per: number, make: (c: bigint[]) => T): T[] {
  const toCanonical = canonical(field);
  const w = unpackBigints(new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)).map(toCanonical);
  const out: T[] = [];
  for (let i = 0; i + per <= w.length; i += per) out.push(make(w.slice(i, i + per)));
  return out;
}

/** Canonical affine points (G1 or G2) or null for the identity. */
const affineEq = (a: unknown, b: unknown) => JSON.stringify(a, big) === JSON.stringify(b, big);
const big = (_k: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x);

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

function mismatch(stage: string, where: string, want: unknown, got: unknown): never {
  throw new ZkonnxError('PROOF_INVALID', `GPU MSM debug: stage "${stage}" differs from the CPU reference at ${where}`, {
    stage,
    expected: show(want),
    received: show(got),
    hint: 'a WGSL kernel or its host code is wrong on this adapter; use the wasm backend and report the adapter',
  });
}

interface CpuModel {
  bits: number;
  lists: Map<number, number[]>; // key → sorted entries (index | sign << 31)
  buckets: unknown[];
}

/**
 * The CPU's view of the same chunk: entries per key and bucket sums, from the GPU's bases (the
 * copies too, window k's points in copy ⌊k/V⌋).
 */
async function cpuModel(dev: GPUDevice, g: AnyGroup, chunk: ChunkBases, n: number, scalarBytes: Uint8Array, c: number, K: number, V: number, field: FieldConfig): Promise<CpuModel> {
  const copies = Math.ceil(K / V);
  const pts = decodeOurAffine(g, await readBuffer(dev, chunk.buffer, 0, copies * chunk.stride * g.affineBytes), field);
  const scalars = ref.decodeScalars(scalarBytes.subarray(0, n * 32));
  const H = 2 ** (c - 1);
  const W = Math.min(K, V);
  const lists = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (pts[i] === null) continue;
    ref.signedDigits(scalars[i]!, c, K).forEach((d, k) => {
      if (d === 0) return;
      const key = (k % W) * H + Math.abs(d) - 1;
      const point = Math.floor(k / W) * chunk.stride + i;
      let l = lists.get(key);
      if (!l) lists.set(key, (l = []));
      l.push((point | (d < 0 ? 0x80000000 : 0)) >>> 0);
    });
  }
  for (const l of lists.values()) l.sort((a, b) => a - b);
  return { bits: ref.scalarBits(pts, scalars), lists, buckets: ref.bucketSums(g.ref, pts, scalars, c, K, { V: W, n: chunk.stride }) };
}

async function checkCsr(
  dev: GPUDevice,
  cpu: CpuModel,
  b: { counts: GPUBuffer; offsets: GPUBuffer; entries: GPUBuffer; tasks: GPUBuffer; toffs: GPUBuffer },
  NK: number,
  S: number,
  maxCount: number,
  total: number,
): Promise<void> {
  const u32 = async (buf: GPUBuffer, len: number) => {
    const x = await readBuffer(dev, buf, 0, len * 4);
    return new Uint32Array(x.buffer, x.byteOffset, len);
  };
  const counts = await u32(b.counts, NK + 1);
  const offsets = await u32(b.offsets, NK + 1);
  const entries = await u32(b.entries, Math.max(1, total));
  const tasks = await u32(b.tasks, NK + 1);
  const toffs = await u32(b.toffs, NK + 1);
  let run = 0;
  let runT = 0;
  let max = 0;
  for (let key = 0; key <= NK; key++) {
    const want = key < NK ? cpu.lists.get(key) ?? [] : [];
    if (counts[key] !== want.length) mismatch('counts', `key ${key}`, want.length, counts[key]);
    if (offsets[key] !== run) mismatch('offsets (scan)', `key ${key}`, run, offsets[key]);
    if (tasks[key] !== Math.ceil(want.length / S)) mismatch('tasks', `key ${key}`, Math.ceil(want.length / S), tasks[key]);
    if (toffs[key] !== runT) mismatch('task offsets (scan)', `key ${key}`, runT, toffs[key]);
    const got = Array.from(entries.subarray(run, run + want.length)).sort((x, y) => x - y);
    if (got.some((g, i) => g !== want[i])) mismatch('scatter', `key ${key}`, want, got);
    run += want.length;
    runT += tasks[key]!;
    max = Math.max(max, want.length);
  }
  if (max !== maxCount) mismatch('max count', 'stats[0]', max, maxCount);
}
