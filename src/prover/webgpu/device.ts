/// <reference types="@webgpu/types" />
// One WebGPU device per process for the prover's kernels (MSM, NTT).
//
// Browser: navigator.gpu. Node: Dawn (npm `webgpu`), hardware first (Vulkan on Linux, the
// platform default elsewhere); Mesa's OpenGL ES software renderer (llvmpipe) only when the
// caller allows software, which tests do and `auto` backend selection does not: a software
// adapter is correct but far slower than the wasm prover.
import { ZkonnxError } from '../../errors.js';

export interface GpuContext {
  readonly device: GPUDevice;
  /** Human-readable adapter description, e.g. "NVIDIA H100 (vulkan)". */
  readonly adapterName: string;
  /** True for software rasterizers (llvmpipe, lavapipe, SwiftShader). */
  readonly software: boolean;
  /** The device's limits (we request the adapter's maxima for what the kernels use). */
  readonly limits: GPUSupportedLimits;
}

export interface GetGpuOptions {
  /** Accept a software adapter (tests, CI). Default false. */
  allowSoftware?: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

/** Whether an adapter's info names a software renderer. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  return SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

function describeAdapter(info: GPUAdapterInfo, backend: string): string {
  const parts = [info.vendor, info.device || info.description, info.architecture].filter((s) => s && s.length > 0);
  return `${parts.join(' ') || 'unknown adapter'} (${backend})`;
}

// Limits the kernels benefit from; each is requested up to what the adapter offers.
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize',
] as const;

async function openDevice(adapter: GPUAdapter, backend: string): Promise<GpuContext> {
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info;
  const ctx: GpuContext = {
    device,
    adapterName: describeAdapter(info, backend),
    software: isSoftwareAdapter(info),
    limits: device.limits,
  };
  // A lost device (driver reset, destroy()) must not be handed out again.
  void device.lost.then(() => lost.add(device));
  return ctx;
}

type DawnModule = { create(options: string[]): GPU; globals: object };
let dawn: Promise<DawnModule> | undefined;
// Keep Dawn's GPU instances reachable for the process's lifetime: devices belong to them.
const instances: GPU[] = [];

async function loadDawn(): Promise<DawnModule> {
  dawn ??= (async () => {
    const mod = (await import('webgpu')) as unknown as DawnModule;
    // Dawn's constants (GPUBufferUsage, GPUMapMode, …) as browsers have them on globalThis.
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    return mod;
  })();
  return dawn;
}

/** Dawn in Node; null in a browser without navigator.gpu, or where the package does not load. */
async function dawnOrNull(): Promise<DawnModule | null> {
  if (typeof process === 'undefined') return null;
  return loadDawn().catch(() => null);
}

async function tryAdapter(gpu: GPU, backend: string, opts?: GPURequestAdapterOptions): Promise<GpuContext | null> {
  const adapter = await gpu.requestAdapter(opts);
  return adapter ? openDevice(adapter, backend) : null;
}

/** Hardware (or whatever the platform's default adapter is); null when there is none. */
async function acquireDefault(): Promise<GpuContext | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return tryAdapter(nav.gpu, 'browser', { powerPreference: 'high-performance' });
  if (typeof process === 'undefined') return null;
  // Linux: Vulkan is Dawn's backend for real GPUs; elsewhere the default (Metal, D3D12). Without
  // a Vulkan loader there is no hardware adapter to find: do not load Dawn (a 20 MB native
  // module, on every `auto` prove) only for it to print a warning and find nothing.
  if (process.platform === 'linux' && !(await hasVulkanLoader())) return null;
  const mod = await dawnOrNull();
  if (!mod) return null;
  const first = process.platform === 'linux' ? ['backend=vulkan'] : [];
  const gpu = mod.create(first);
  instances.push(gpu);
  const ctx = await tryAdapter(gpu, first[0]?.slice(8) ?? 'default', { powerPreference: 'high-performance' });
  if (ctx) return ctx;
  if (first.length === 0) return null;
  const gpu2 = mod.create([]);
  instances.push(gpu2);
  return tryAdapter(gpu2, 'default', { powerPreference: 'high-performance' });
}

/** Whether libvulkan.so.1 is where the dynamic loader looks (LD_LIBRARY_PATH, the usual lib folders). */
async function hasVulkanLoader(): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/usr/local/lib'];
  return dirs.some((d) => d && existsSync(`${d}/libvulkan.so.1`));
}

/** Mesa's OpenGL ES renderer through Dawn's compatibility mode (no GPU, no Vulkan needed). */
async function acquireSoftware(): Promise<GpuContext | null> {
  const mod = await dawnOrNull();
  if (!mod) return null;
  // EGL without a display: read by Mesa when the device is created.
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
  const gpu = mod.create(['backend=opengles']);
  instances.push(gpu);
  return tryAdapter(gpu, 'opengles', { featureLevel: 'compatibility' } as GPURequestAdapterOptions);
}

let hardware: Promise<GpuContext | null> | undefined;
let software: Promise<GpuContext | null> | undefined;
const lost = new WeakSet<GPUDevice>();

/**
 * The process's GPU context. Refuses a software adapter (ZkonnxError BAD_ARGUMENT, with a
 * hint) unless `allowSoftware`; throws the same when there is no adapter at all.
 */
export async function getGpu(opts: GetGpuOptions = {}): Promise<GpuContext> {
  hardware ??= acquireDefault().catch(() => null);
  let hw = await hardware;
  if (hw && lost.has(hw.device)) {
    hardware = acquireDefault().catch(() => null);
    hw = await hardware;
  }
  if (hw && (!hw.software || opts.allowSoftware)) return hw;
  if (hw && !opts.allowSoftware) {
    throw new ZkonnxError('BAD_ARGUMENT', `WebGPU adapter ${hw.adapterName} is a software renderer`, {
      adapter: hw.adapterName,
      hint: 'use the wasm backend (faster on a CPU), or pass allowSoftware to run the WebGPU kernels anyway',
    });
  }
  if (opts.allowSoftware) {
    software ??= acquireSoftware().catch(() => null);
    let sw = await software;
    if (sw && lost.has(sw.device)) {
      software = acquireSoftware().catch(() => null);
      sw = await software;
    }
    if (sw) return sw;
  }
  throw new ZkonnxError('BAD_ARGUMENT', opts.allowSoftware ? 'no WebGPU adapter found, not even a software renderer' : 'no hardware WebGPU adapter found', {
    hint: opts.allowSoftware
      ? 'install a GPU driver with Vulkan, or Mesa for the software renderer (libegl1 libegl-mesa0 libgl1-mesa-dri libgles2)'
      : 'install a GPU driver with Vulkan support, use the wasm backend, or allow a software renderer (--allow-software-gpu)',
  });
}
