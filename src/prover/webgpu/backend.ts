// The `webgpu` backend: the G1 MSMs (msm.ts) and the quotient's NTTs (ntt.ts) on the GPU, the G2
// MSM on the CPU (ffjavascript's wasm curve on worker threads), overlapped with the GPU work:
// groth16.ts starts all of them at once. GPU calls are queued one after another here, because
// the kernels share per-device workspaces; the CPU's G2 MSM runs beside the queue.
import type { ProverBackend } from '../backend.js';
import { WasmBackend } from '../wasm.js';
import { getGpu, type GetGpuOptions, type GpuContext } from './device.js';
import { gpuMsmG1 } from './msm.js';
import { gpuQuotient } from './ntt.js';

export class WebGpuBackend implements ProverBackend {
  readonly name = 'webgpu' as const;
  readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly ctx: GpuContext, private readonly cpu: WasmBackend) {
    this.description = `webgpu, ${ctx.adapterName}${ctx.software ? ' [software]' : ''}; G2 on ${cpu.description}`;
  }

  /** Fails (ZkonnxError) without a suitable adapter: a software one only with allowSoftware. */
  static async create(opts: GetGpuOptions = {}): Promise<WebGpuBackend> {
    const ctx = await getGpu(opts);
    return new WebGpuBackend(ctx, await WasmBackend.create());
  }

  /** Runs GPU work after the work queued before it (errors do not block the queue). */
  private onGpu<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return this.onGpu(() => gpuMsmG1(this.ctx, bases, scalars));
  }

  msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return this.cpu.msmG2(bases, scalars);
  }

  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    return this.onGpu(() => gpuQuotient(this.ctx, a, b, c, power));
  }
}
