/// <reference types="@webgpu/types" />
// Small helpers every kernel host uses: cached pipelines, storage buffers, uploads, readbacks,
// and dispatches whose workgroup count is split over two dimensions when one is not enough.
import type { GpuContext } from './device.js';

// WebGPU's usage flags as numbers, so that this module does not depend on Dawn's globals.
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
const MAP_MODE_READ = 0x0001;

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** Device memory in buffers made here: bytes live now, and the most live since resetGpuPeak. */
export interface GpuMemory {
  readonly live: number;
  readonly peak: number;
}
const meters = new WeakMap<GPUDevice, { live: number; peak: number }>();
const meter = (device: GPUDevice) => {
  let m = meters.get(device);
  if (!m) meters.set(device, (m = { live: 0, peak: 0 }));
  return m;
};

/** What the prover's buffers take on `device` (every buffer is made by the helpers below). */
export function gpuMemory(device: GPUDevice): GpuMemory {
  const { live, peak } = meter(device);
  return { live, peak };
}

/** Starts a new peak from what is live now (before a proof, to see what the proof adds). */
export function resetGpuPeak(device: GPUDevice): void {
  const m = meter(device);
  m.peak = m.live;
}

/** Creates a buffer counted by gpuMemory until it is destroyed. */
function created(device: GPUDevice, desc: GPUBufferDescriptor): GPUBuffer {
  const buf = device.createBuffer(desc);
  const m = meter(device);
  m.live += buf.size;
  m.peak = Math.max(m.peak, m.live);
  const destroy = buf.destroy.bind(buf);
  let gone = false;
  buf.destroy = () => {
    if (!gone) m.live -= buf.size;
    gone = true;
    destroy();
  };
  return buf;
}

/**
 * A compute pipeline for (device, WGSL text, entry point), compiled once. Compilation errors
 * reject with the compiler's messages (createComputePipelineAsync).
 */
export function pipeline(device: GPUDevice, code: string, entryPoint = 'main'): Promise<GPUComputePipeline> {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  const key = `${entryPoint}\u0000${code}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const module = device.createShaderModule({ code });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        throw new Error(`WGSL compilation failed (${entryPoint}):\n${errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n')}`);
      }
      return device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint } });
    })();
    p.catch(() => cache!.delete(key)); // a failed compile is not cached
    cache.set(key, p);
  }
  return p;
}

/** Rounds a byte size up to WebGPU's 4-byte granularity (and to at least 4 bytes). */
const size4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** A zero-filled storage buffer. */
export function storageBuffer(device: GPUDevice, byteLength: number, extraUsage = 0, label?: string): GPUBuffer {
  return created(device, {
    size: size4(byteLength),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST | extraUsage,
    label,
  });
}

/** A storage buffer holding `data` (mapped at creation: no staging copy). */
export function uploadBuffer(device: GPUDevice, data: ArrayBufferView, extraUsage = 0, label?: string): GPUBuffer {
  const buf = created(device, {
    size: size4(data.byteLength),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST | extraUsage,
    mappedAtCreation: true,
    label,
  });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buf.unmap();
  return buf;
}

/** A uniform buffer of u32 parameters. */
export function uniformU32(device: GPUDevice, words: readonly number[]): GPUBuffer {
  const buf = created(device, {
    size: Math.max(16, Math.ceil((words.length * 4) / 16) * 16),
    usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Uint32Array(buf.getMappedRange()).set(words.map((w) => w >>> 0));
  buf.unmap();
  return buf;
}

/** Copies `byteLength` bytes of `src` from `offset` back to the host. */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, offset = 0, byteLength = src.size - offset): Promise<Uint8Array> {
  const size = size4(byteLength);
  const staging = created(device, { size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_MODE_READ);
  const out = new Uint8Array(staging.getMappedRange().slice(0, byteLength));
  staging.unmap();
  staging.destroy();
  return out;
}

/** `readBuffer` viewed as u32 words. */
export async function readU32(device: GPUDevice, src: GPUBuffer, offset = 0, byteLength = src.size - offset): Promise<Uint32Array> {
  const b = await readBuffer(device, src, offset, byteLength);
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/**
 * Workgroup grid (x, y) for `groups` workgroups: x ≤ the per-dimension limit. Kernels recover
 * a linear index as `gid.x + gid.y * nwg.x * WG` (see `LINEAR_ID_WGSL`) and bound-check it.
 */
export function workgroupGrid(groups: number, maxPerDim: number): [number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`${groups} workgroups exceed the device's grid`);
  return [Math.ceil(groups / y), y];
}

/** WGSL for a flattened invocation index: paste into a kernel whose workgroup size is `wg`. */
export const linearIdWgsl = (wg: number) =>
  `gid.x + gid.y * nwg.x * ${wg}u`;

/** Encodes one dispatch of `threads` invocations (workgroup size `wg`) with the given bindings. */
export function dispatch(
  ctx: GpuContext,
  enc: GPUCommandEncoder,
  pipe: GPUComputePipeline,
  buffers: readonly GPUBuffer[],
  threads: number,
  wg: number,
): void {
  if (threads <= 0) return;
  const bind = ctx.device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const [x, y] = workgroupGrid(Math.ceil(threads / wg), ctx.limits.maxComputeWorkgroupsPerDimension);
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(x, y);
  pass.end();
}

/** Largest power-of-two workgroup size ≤ `want` that the device allows. */
export function workgroupSize(ctx: GpuContext, want: number): number {
  const max = Math.min(ctx.limits.maxComputeInvocationsPerWorkgroup, ctx.limits.maxComputeWorkgroupSizeX, want);
  let wg = 1;
  while (wg * 2 <= max) wg *= 2;
  return wg;
}
