// The `webgpu` backend: the MSMs (msm.ts, G1 and G2) and the quotient's NTTs (ntt.ts) on the GPU;
// the quotient stays on the device and H's MSM reads it there (quotientMsmG1: no readback). On a
// software adapter (llvmpipe) the G2 MSM runs on the CPU instead (our wasm on worker threads),
// overlapped with the GPU work: there the CPU's wasm is faster than the emulated GPU. GPU calls
// are queued one after another here, because the kernels share per-device workspaces.
//
// Bases are uploaded and converted once per bases array: the converted GPU copy is kept in a
// WeakMap keyed by the Uint8Array object, so a prepared prover (prepared.ts), which passes the
// same section arrays on every proof, uploads its key once. A copy is freed by releaseBases (a
// one-shot groth16Prove calls it when its proof is done), by release(), or at the latest when
// its array is garbage-collected.
import type { ProverBackend } from '../backend.js';
import { bn128 } from '../curve.js';
import type { BasesKeeper } from '../groth16.js';
import { WasmBackend } from '../wasm.js';
import { getGpu, type GetGpuOptions, type GpuContext } from './device.js';
import { storageBuffer } from './gpu.js';
import { gpuMsmG1, gpuMsmG2, uploadBasesG1, uploadBasesG2, type GpuBases, type GpuScalars } from './msm.js';
import { gpuQuotient, gpuQuotientOnDevice } from './ntt.js';

export interface WebGpuBackendOptions extends GetGpuOptions {
  /**
   * Where the G2 MSM runs: 'gpu', or 'cpu' (our wasm on worker threads, beside the GPU queue).
   * Default: 'gpu' on a hardware adapter, 'cpu' on a software one; ZKONNX_GPU_G2 overrides it.
   */
  g2?: 'gpu' | 'cpu';
}

export class WebGpuBackend implements ProverBackend, BasesKeeper {
  readonly name = 'webgpu' as const;
  readonly description: string;
  /** `baseUploads`: bases arrays uploaded and converted so far (a cached array counts once). */
  readonly stats = { baseUploads: 0 };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onGpuBases = new WeakMap<Uint8Array, GpuBases>();
  /** The same handles, for release() (a WeakMap cannot be listed). */
  private readonly held = new Set<GpuBases>();
  // an array collected without releaseBases: its GPU copy goes after the work queued before
  private readonly collected = new FinalizationRegistry<GpuBases>((h) => void this.onGpu(async () => this.free(h)));

  private constructor(readonly ctx: GpuContext, private cpu: WasmBackend, readonly g2: 'gpu' | 'cpu') {
    const where = g2 === 'gpu' ? 'G2 on the GPU' : `G2 on ${cpu.description}`;
    this.description = `webgpu, ${ctx.adapterName}${ctx.software ? ' [software]' : ''}; ${where}`;
  }

  /** Fails (ZkonnxError) without a suitable adapter: a software one only with allowSoftware. */
  static async create(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const ctx = await getGpu(opts);
    const env = typeof process !== 'undefined' ? process.env?.['ZKONNX_GPU_G2'] : undefined;
    const g2 = opts.g2 ?? (env === 'gpu' || env === 'cpu' ? env : ctx.software ? 'cpu' : 'gpu');
    return new WebGpuBackend(ctx, await WasmBackend.create(), g2);
  }

  /** Runs GPU work after the work queued before it (errors do not block the queue). */
  private onGpu<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The converted GPU copy of `bases`, uploaded on its first use. Runs on the GPU queue. */
  private async uploaded(bases: Uint8Array, group: 'g1' | 'g2'): Promise<GpuBases> {
    let h = this.onGpuBases.get(bases);
    if (!h || !this.held.has(h) || h.group !== group) { // none yet, or freed by release()
      h = await (group === 'g1' ? uploadBasesG1 : uploadBasesG2)(this.ctx, bases);
      this.stats.baseUploads++;
      this.onGpuBases.set(bases, h);
      this.held.add(h);
      this.collected.register(bases, h, h);
    }
    return h;
  }

  private free(h: GpuBases): void {
    if (!this.held.delete(h)) return;
    this.collected.unregister(h);
    h.release();
  }

  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return this.onGpu(async () => gpuMsmG1(this.ctx, await this.uploaded(bases, 'g1'), scalars));
  }

  async msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    if (this.g2 === 'gpu') return this.onGpu(async () => gpuMsmG2(this.ctx, await this.uploaded(bases, 'g2'), scalars));
    // the wasm curve may have been ended since (releaseCurves): then a new one does the G2 MSM
    if (this.cpu.curve !== (await bn128())) this.cpu = await WasmBackend.create();
    return this.cpu.msmG2(bases, scalars);
  }

  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    return this.onGpu(() => gpuQuotient(this.ctx, a, b, c, power));
  }

  /** The quotient stays on the device; `prefix` goes in front of it in one scalars buffer. */
  quotientMsmG1(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number, bases: Uint8Array, prefix: Uint8Array, onQuotient?: () => void): Promise<Uint8Array> {
    return this.onGpu(async () => {
      const dev = this.ctx.device;
      const q = await gpuQuotientOnDevice(this.ctx, a, b, c, power);
      onQuotient?.();
      let joined: GPUBuffer | undefined;
      try {
        const n = 2 ** power;
        let scalars: GpuScalars = { buffer: q, offset: 0, n };
        if (prefix.byteLength > 0) {
          joined = storageBuffer(dev, prefix.byteLength + n * 32, 0, 'prefix ‖ quotient');
          dev.queue.writeBuffer(joined, 0, prefix.buffer, prefix.byteOffset, prefix.byteLength);
          const enc = dev.createCommandEncoder();
          enc.copyBufferToBuffer(q, 0, joined, prefix.byteLength, n * 32);
          dev.queue.submit([enc.finish()]);
          scalars = { buffer: joined, offset: 0, n: prefix.byteLength / 32 + n };
        }
        return await gpuMsmG1(this.ctx, await this.uploaded(bases, 'g1'), scalars);
      } finally {
        // the MSM's commands that read them have completed when it returns
        q.destroy();
        joined?.destroy();
      }
    });
  }

  /** Frees the GPU copy of one bases array (after the GPU work queued so far); a later use uploads it again. */
  releaseBases(bases: Uint8Array): Promise<void> {
    return this.onGpu(async () => {
      const h = this.onGpuBases.get(bases);
      if (!h) return;
      this.onGpuBases.delete(bases);
      this.free(h);
    });
  }

  /**
   * Frees every bases copy this backend holds, after the GPU work queued so far. The device and
   * its kernels' scratch buffers are the process's (device.ts, shared by every backend) and stay.
   */
  release(): Promise<void> {
    return this.onGpu(async () => {
      for (const h of [...this.held]) this.free(h); // the WeakMap's stale entries are ignored (`held`)
    });
  }
}
