/// <reference types="@webgpu/types" />
// NTTs over BN254 Fr on WebGPU, and the Groth16 quotient built from them (ProverBackend.quotient).
//
// gpuQuotient keeps A, B and C on the GPU from upload to the final readback:
//   per polynomial: iNTT by DIF passes (natural → bit-reversed; the first pass converts from
//   ffjavascript Montgomery), then in the bottom pass the coset scale inc^i/n, then the NTT by DIT
//   passes (bit-reversed → natural); finally one join kernel computes A'·B' − C' and writes it in
//   canonical form. Each pass runs up to L butterfly stages in workgroup memory (wgsl/ntt.ts), so
//   2^20 points take 3 to 5 passes per polynomial, not 40, and no bit-reversal pass runs at all.
// Twiddles and the scale table are generated on the GPU once per power and cached per device.
import { ZkonnxError } from '../../errors.js';
import {
  FR_MODULUS, FR_TWO_ADICITY, frInv, frMul, frPow, frToBytes, quotientCosetShift, rootOfUnity,
} from './ntt-reference.js';
import {
  ELEMENT_BYTES, PASS_BINDINGS, joinKernelWgsl, passKernelWgsl, permuteKernelWgsl, powersKernelWgsl,
  type Convert, type PassKernelOptions,
} from './wgsl/ntt.js';
import { pipeline, readBuffer, storageBuffer, uniformU32, uploadBuffer } from './gpu.js';

/** What this module needs of the GPU context (getGpu's result satisfies it). */
export interface NttGpu {
  readonly device: GPUDevice;
}

/** Workgroups per grid row: a power of two ≤ 65535, so power-of-two counts split exactly. */
const GRID_ROW = 32768;
/** Largest pass: 2^10 elements (32 KiB of workgroup memory); more stages give little back. */
const MAX_PASS_STAGES = 10;

interface NttState {
  /** Pipelines by kernel options (the WGSL text is generated only on a miss). */
  readonly pipelines: Map<string, Promise<GPUComputePipeline>>;
  readonly tables: Map<string, Promise<GPUBuffer>>;
  readonly uniforms: Map<string, GPUBuffer>;
  /** Most stages one pass holds (workgroup memory), and the invocations per workgroup allowed. */
  readonly maxStages: number;
  readonly maxThreads: number;
  readonly elementwiseWorkgroup: number;
}

const states = new WeakMap<GPUDevice, NttState>();

function stateOf(device: GPUDevice): NttState {
  let s = states.get(device);
  if (!s) {
    const lim = device.limits;
    const maxStages = Math.min(MAX_PASS_STAGES, Math.floor(Math.log2(lim.maxComputeWorkgroupStorageSize / ELEMENT_BYTES)));
    const maxThreads = 2 ** Math.floor(Math.log2(Math.min(256, lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX)));
    s = { pipelines: new Map(), tables: new Map(), uniforms: new Map(), maxStages, maxThreads, elementwiseWorkgroup: Math.min(64, maxThreads) };
    states.set(device, s);
  }
  return s;
}

/** Frees the cached twiddle tables and uniforms of this device (pipelines are kept). */
export async function releaseNtt(ctx: NttGpu): Promise<void> {
  const s = states.get(ctx.device);
  if (!s) return;
  const tables = await Promise.allSettled(s.tables.values());
  for (const t of tables) if (t.status === 'fulfilled') t.value.destroy();
  for (const u of s.uniforms.values()) u.destroy();
  s.tables.clear();
  s.uniforms.clear();
}

// ---- plumbing ----

function kernel(device: GPUDevice, key: string, source: () => string): Promise<GPUComputePipeline> {
  const s = stateOf(device);
  let p = s.pipelines.get(key);
  if (!p) {
    p = pipeline(device, source());
    p.catch(() => s.pipelines.delete(key));
    s.pipelines.set(key, p);
  }
  return p;
}

/** A 16-byte uniform of four u32, cached by value (there are few distinct ones). */
function uniform(device: GPUDevice, values: [number, number, number, number]): GPUBuffer {
  const s = stateOf(device);
  const key = values.join(',');
  let u = s.uniforms.get(key);
  if (!u) s.uniforms.set(key, (u = uniformU32(device, values)));
  return u;
}

function grid(groups: number): [number, number] {
  const x = Math.min(groups, GRID_ROW);
  return [x, Math.ceil(groups / x)];
}

/** One kernel launch: pipeline, bindings (binding number → buffer), workgroup count. */
interface Dispatch {
  readonly pipe: GPUComputePipeline;
  readonly entries: ReadonlyArray<readonly [number, GPUBuffer]>;
  readonly groups: number;
}

/**
 * Encodes the launches in one compute pass (WebGPU orders dispatches within a pass and makes
 * each one's storage writes visible to the next), submits, and reads `readback` back if given.
 */
async function submit(device: GPUDevice, label: string, launches: readonly Dispatch[], readback?: { src: GPUBuffer; bytes: number }): Promise<Uint8Array | undefined> {
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder({ label });
  const pass = enc.beginComputePass({ label });
  for (const d of launches) {
    pass.setPipeline(d.pipe);
    pass.setBindGroup(0, device.createBindGroup({
      layout: d.pipe.getBindGroupLayout(0),
      entries: d.entries.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    }));
    const [x, y] = grid(d.groups);
    pass.dispatchWorkgroups(x, y);
  }
  pass.end();
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`WebGPU rejected the commands of ${label}: ${err.message}`);
  if (readback) return readBuffer(device, readback.src, 0, readback.bytes);
  await device.queue.onSubmittedWorkDone();
  return undefined;
}

function checkPower(device: GPUDevice, power: number, what: string): number {
  if (!Number.isInteger(power) || power < 1 || power > FR_TWO_ADICITY) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: power must be an integer in [1, ${FR_TWO_ADICITY}], got ${power}`);
  }
  const bytes = 2 ** power * ELEMENT_BYTES;
  const max = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (bytes > max) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: 2^${power} elements need ${bytes} bytes per buffer, the GPU allows ${max}`, {
      hint: 'use the wasm backend for this circuit size',
    });
  }
  return 2 ** power;
}

function checkLength(bytes: Uint8Array, n: number, what: string): void {
  if (bytes.byteLength !== n * ELEMENT_BYTES) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: expected ${n} elements (${n * ELEMENT_BYTES} bytes), got ${bytes.byteLength} bytes`);
  }
}

// ---- tables ----

/**
 * Powers of `base` as a GPU table in the library's Montgomery form: stage layout (entry h + k =
 * ω_2h^k when base = ω_n) or bit-reversed layout (entry p = factor·base^bitrev(p)).
 */
function powersTable(device: GPUDevice, bits: number, base: bigint, layout: 'stages' | 'bitrev', factor = 1n): Promise<GPUBuffer> {
  const s = stateOf(device);
  const key = `${layout}:${bits}:${base}:${factor}`;
  let t = s.tables.get(key);
  if (!t) {
    t = buildPowersTable(device, bits, base, layout, factor);
    t.catch(() => s.tables.delete(key));
    s.tables.set(key, t);
  }
  return t;
}

async function buildPowersTable(device: GPUDevice, bits: number, base: bigint, layout: 'stages' | 'bitrev', factor: bigint): Promise<GPUBuffer> {
  const n = 2 ** bits;
  // Exponents run over [0, n/2) in stage layout, [0, n) bit-reversed; split them as hi·2^loBits + lo.
  const range = layout === 'stages' ? Math.max(1, n / 2) : n;
  const loBits = Math.ceil(Math.log2(range) / 2);
  const lo: bigint[] = [];
  for (let i = 0, x = factor; i < 2 ** loBits; i++, x = frMul(x, base)) lo.push(x);
  const step = frPow(base, 2 ** loBits);
  const hi: bigint[] = [];
  for (let i = 0, x = 1n; i < Math.ceil(range / 2 ** loBits); i++, x = frMul(x, step)) hi.push(x);

  const wg = stateOf(device).elementwiseWorkgroup;
  const pipe = await kernel(device, `ntt-powers:${wg}`, () => powersKernelWgsl(wg));
  const loBuf = uploadBuffer(device, frToBytes(lo, true), 0, 'ntt powers lo');
  const hiBuf = uploadBuffer(device, frToBytes(hi, true), 0, 'ntt powers hi');
  const out = storageBuffer(device, n * ELEMENT_BYTES, 0, `ntt ${layout} table 2^${bits}`);
  try {
    await submit(device, `ntt ${layout} table 2^${bits}`, [
      { pipe, entries: [[0, loBuf], [1, hiBuf], [2, out], [3, uniform(device, [n, bits, loBits, layout === 'stages' ? 0 : 1])]], groups: Math.ceil(n / wg) },
    ]);
  } catch (e) {
    out.destroy();
    throw e;
  } finally {
    loBuf.destroy();
    hiBuf.destroy();
  }
  return out;
}

/** Stage-layout twiddles of ω_n (forward) or ω_n^−1 (inverse), n = 2^bits. */
function twiddles(device: GPUDevice, bits: number, inverse: boolean): Promise<GPUBuffer> {
  const w = rootOfUnity(bits);
  return powersTable(device, bits, inverse ? frInv(w) : w, 'stages');
}

// ---- passes ----

/** Splits bits [0, bits) into ranges of at most maxStages, as even as possible; bottom first. */
export function passRanges(bits: number, maxStages: number): Array<{ q0: number; stages: number }> {
  const count = Math.ceil(bits / maxStages);
  const ranges: Array<{ q0: number; stages: number }> = [];
  for (let i = 0, q0 = 0; i < count; i++) {
    const stages = Math.ceil((bits - q0) / (count - i));
    ranges.push({ q0, stages });
    q0 += stages;
  }
  return ranges;
}

interface PassBuffers {
  twDif?: GPUBuffer;
  scale?: GPUBuffer;
  twDit?: GPUBuffer;
}

async function passLaunch(
  device: GPUDevice, data: GPUBuffer, n: number, q0: number, o: Omit<PassKernelOptions, 'threads'>, bufs: PassBuffers,
): Promise<Dispatch> {
  const threads = Math.min(stateOf(device).maxThreads, 2 ** (o.stages - 1));
  const opts: PassKernelOptions = { ...o, threads };
  const pipe = await kernel(device, `ntt-pass:${JSON.stringify(opts)}`, () => passKernelWgsl(opts));
  const B = PASS_BINDINGS;
  const entries: Array<[number, GPUBuffer]> = [[B.data, data], [B.params, uniform(device, [q0, 0, 0, 0])]];
  if (o.dif) entries.push([B.twDif, bufs.twDif!]);
  if (o.scale) entries.push([B.scale, bufs.scale!]);
  if (o.dit) entries.push([B.twDit, bufs.twDit!]);
  return { pipe, entries, groups: n / 2 ** o.stages };
}

const PLAIN: Omit<PassKernelOptions, 'threads' | 'stages'> = {
  convertIn: false, dif: false, scale: false, dit: false, convertOut: 'none',
};

/** PLAIN with the product's form (the default one leaves the pipeline keys as they were). */
const plainFor = (unrolled: boolean | undefined) => (unrolled ? { ...PLAIN, unrolled: true } : PLAIN);

/**
 * The quotient's per-polynomial passes on `data` (ffjavascript Montgomery evaluations in, library
 * Montgomery evaluations on the coset out): DIF passes top-down, the bottom pass with the scale
 * between its DIF and DIT stages, DIT passes bottom-up.
 */
async function cosetRoundTrip(device: GPUDevice, data: GPUBuffer, bits: number, maxStages: number, bufs: Required<PassBuffers>, unrolled: boolean): Promise<Dispatch[]> {
  const n = 2 ** bits;
  const plain = plainFor(unrolled);
  const ranges = passRanges(bits, maxStages);
  const top = ranges.length - 1;
  const launches: Array<Promise<Dispatch>> = [];
  for (let r = top; r >= 1; r--) {
    launches.push(passLaunch(device, data, n, ranges[r]!.q0, { ...plain, stages: ranges[r]!.stages, convertIn: r === top, dif: true }, bufs));
  }
  launches.push(passLaunch(device, data, n, 0, { ...plain, stages: ranges[0]!.stages, convertIn: top === 0, dif: true, scale: true, dit: true }, bufs));
  for (let r = 1; r <= top; r++) {
    launches.push(passLaunch(device, data, n, ranges[r]!.q0, { ...plain, stages: ranges[r]!.stages, dit: true }, bufs));
  }
  return Promise.all(launches);
}

// ---- entry points ----

export interface PassTuning {
  /**
   * Most butterfly stages per pass. Default: what workgroup memory holds (2^stages × 32 bytes),
   * at most 10. Smaller values only add passes: for tests of the multi-pass paths, and tuning.
   */
  maxStages?: number;
  /** The Montgomery product unrolled in the pass and join kernels (MsmTuning's unroll=1). */
  unrolled?: boolean;
}

function passStages(device: GPUDevice, t: PassTuning, what: string): number {
  const max = stateOf(device).maxStages;
  const v = t.maxStages ?? max;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ZkonnxError('BAD_ARGUMENT', `${what}: maxStages must be an integer in [1, ${max}] on this GPU, got ${v}`);
  return v;
}

/**
 * snarkjs's quotient (groth16_prove.js: ifft, batchApplyKey with inc = Fr.w[power+1], fft, then
 * joinABC and batchFromMontgomery), byte for byte. `a`, `b`, `c`: 2^power × 32 bytes, ffjavascript
 * Montgomery. Returns 2^power × 32 bytes of A'·B' − C' in canonical form.
 */
export async function gpuQuotient(ctx: NttGpu, a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number, tuning: PassTuning = {}): Promise<Uint8Array> {
  const out = await gpuQuotientOnDevice(ctx, a, b, c, power, tuning);
  try {
    return await readBuffer(ctx.device, out, 0, out.size);
  } finally {
    out.destroy();
  }
}

/**
 * gpuQuotient with the result left on the device: a storage buffer of 2^power × 32 bytes (the
 * caller destroys it) that an MSM reads as its scalars (msm.ts GpuScalars), with no readback.
 * A, B and C may be on the device already (abc.ts): such a buffer is transformed in place and
 * destroyed, like the uploaded ones. Resolves when the GPU has finished.
 */
export async function gpuQuotientOnDevice(ctx: NttGpu, a: Uint8Array | GPUBuffer, b: Uint8Array | GPUBuffer, c: Uint8Array | GPUBuffer, power: number, tuning: PassTuning = {}): Promise<GPUBuffer> {
  const device = ctx.device;
  const inputs = [a, b, c];
  // every device buffer of A, B, C, given or uploaded: each is destroyed whatever happens
  let bufs = inputs.filter((x): x is GPUBuffer => !(x instanceof Uint8Array));
  try {
    const n = checkPower(device, power, 'gpuQuotient');
    inputs.forEach((x, i) => {
      if (x instanceof Uint8Array) checkLength(x, n, `gpuQuotient: ${'ABC'[i]}`);
      else if (x.size < n * ELEMENT_BYTES) throw new ZkonnxError('BAD_ARGUMENT', `gpuQuotient: ${'ABC'[i]} is a ${x.size}-byte buffer, 2^${power} elements need ${n * ELEMENT_BYTES}`);
    });
    bufs = inputs.map((x, i) => (x instanceof Uint8Array ? uploadBuffer(device, x, 0, `quotient ${'ABC'[i]}`) : x));
    return await quotientOf(ctx, bufs as [GPUBuffer, GPUBuffer, GPUBuffer], n, power, tuning);
  } catch (e) {
    bufs.forEach((x) => x.destroy());
    throw e;
  }
}

/** The quotient of three device buffers, which it transforms in place and destroys. */
async function quotientOf(ctx: NttGpu, bufs: [GPUBuffer, GPUBuffer, GPUBuffer], n: number, power: number, tuning: PassTuning): Promise<GPUBuffer> {
  const device = ctx.device;
  const maxStages = passStages(device, tuning, 'gpuQuotient');

  // iNTT twiddles (ω^−1), NTT twiddles (ω), and inc^i/n at bit-reversed positions.
  const [twDif, twDit, scale] = await Promise.all([
    twiddles(device, power, true),
    twiddles(device, power, false),
    powersTable(device, power, quotientCosetShift(power), 'bitrev', frInv(BigInt(n))),
  ]);
  const wg = stateOf(device).elementwiseWorkgroup;
  const unrolled = !!tuning.unrolled;
  const join = await kernel(device, `ntt-join:${wg}:${unrolled}`, () => joinKernelWgsl(wg, unrolled));

  const out = storageBuffer(device, n * ELEMENT_BYTES, 0, 'quotient out');
  let kept = false;
  try {
    const launches: Dispatch[] = [];
    for (const buf of bufs) launches.push(...await cosetRoundTrip(device, buf, power, maxStages, { twDif, twDit, scale }, unrolled));
    launches.push({ pipe: join, entries: [[0, bufs[0]!], [1, bufs[1]!], [2, bufs[2]!], [3, out], [4, uniform(device, [n, 0, 0, 0])]], groups: Math.ceil(n / wg) });
    await submit(device, `quotient 2^${power}`, launches);
    kept = true;
    return out;
  } finally {
    for (const buf of bufs) buf.destroy();
    if (!kept) out.destroy();
  }
}

export interface NttOptions extends PassTuning {
  /** iNTT (with the 1/n factor), as ffjavascript's Fr.ifft. */
  inverse?: boolean;
  /** Forward only: evaluate on the coset shift·⟨ω⟩, i.e. NTT of coefficient i times shift^i. */
  shift?: bigint;
}

/**
 * NTT of 2^k elements (ffjavascript Montgomery bytes, natural order in and out), the same values
 * as ffjavascript's Fr.fft / Fr.ifft. For tests and other provers; the quotient does not use it.
 */
export async function gpuNtt(ctx: NttGpu, values: Uint8Array, opts: NttOptions = {}): Promise<Uint8Array> {
  const device = ctx.device;
  const bits = Math.log2(values.byteLength / ELEMENT_BYTES);
  if (!Number.isInteger(bits)) {
    throw new ZkonnxError('BAD_ARGUMENT', `gpuNtt: expected a power-of-two number of 32-byte elements, got ${values.byteLength} bytes`);
  }
  const n = checkPower(device, bits, 'gpuNtt');
  if (opts.inverse && opts.shift !== undefined) throw new ZkonnxError('BAD_ARGUMENT', 'gpuNtt: shift applies to the forward NTT only');

  const s = stateOf(device);
  const plain = plainFor(opts.unrolled);
  const ranges = passRanges(bits, passStages(device, opts, 'gpuNtt'));
  const top = ranges.length - 1;
  const wg = s.elementwiseWorkgroup;
  const permute = (convertIn: Convert, convertOut: Convert) =>
    kernel(device, `ntt-permute:${wg}:${convertIn}:${convertOut}`, () => permuteKernelWgsl({ workgroupSize: wg, convertIn, convertOut }));
  const data = uploadBuffer(device, values, 0, 'ntt data');
  const tmp = storageBuffer(device, n * ELEMENT_BYTES, 0, 'ntt tmp');
  try {
    const launches: Array<Promise<Dispatch>> = [];
    if (opts.shift === undefined) {
      // DIF passes (natural → bit-reversed), the 1/n of the inverse in the bottom pass, then one
      // permutation back to natural order that also converts to ffjavascript form.
      const tw = await twiddles(device, bits, !!opts.inverse);
      const scale = opts.inverse ? await powersTable(device, bits, 1n, 'bitrev', frInv(BigInt(n))) : undefined;
      for (let r = top; r >= 0; r--) {
        launches.push(passLaunch(device, data, n, ranges[r]!.q0,
          { ...plain, stages: ranges[r]!.stages, convertIn: r === top, dif: true, scale: r === 0 && !!scale }, { twDif: tw, scale }));
      }
      launches.push(permute('none', 'toFf').then((pipe) => ({ pipe, entries: [[0, data], [1, tmp], [2, uniform(device, [bits, n, 0, 0])]], groups: Math.ceil(n / wg) })));
    } else {
      // Coset: permute to bit-reversed order (converting in), scale coefficient bitrev(p) at
      // position p, DIT passes back to natural order, converting out in the last one.
      const tw = await twiddles(device, bits, false);
      const scale = await powersTable(device, bits, ((opts.shift % FR_MODULUS) + FR_MODULUS) % FR_MODULUS, 'bitrev');
      launches.push(permute('fromFf', 'none').then((pipe) => ({ pipe, entries: [[0, data], [1, tmp], [2, uniform(device, [bits, n, 0, 0])]], groups: Math.ceil(n / wg) })));
      for (let r = 0; r <= top; r++) {
        launches.push(passLaunch(device, tmp, n, ranges[r]!.q0,
          { ...plain, stages: ranges[r]!.stages, scale: r === 0, dit: true, convertOut: r === top ? 'toFf' : 'none' }, { twDit: tw, scale }));
      }
    }
    return (await submit(device, `ntt 2^${bits}`, await Promise.all(launches), { src: tmp, bytes: n * ELEMENT_BYTES }))!;
  } finally {
    data.destroy();
    tmp.destroy();
  }
}
