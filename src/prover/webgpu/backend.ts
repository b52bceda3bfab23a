// The `webgpu` backend: the G1 MSMs (msm.ts) and the quotient's NTTs (ntt.ts) on the GPU, the G2
// MSM on the CPU (ffjavascript's wasm curve on worker threads), overlapped with the GPU work:
// groth16.ts starts all of them at once. GPU calls are queued one after another here, because
// the kernels share per-device workspaces; the CPU's G2 MSM runs beside the queue.
//
// G1 bases are uploaded and converted once per bases array: the converted GPU copy is kept in a
// WeakMap keyed by the Uint8Array object, so a prepared prover (prepared.ts), which passes the
// same section arrays on every proof, uploads its key once. A copy is freed by releaseBases (a
// one-shot groth16Prove calls it when its proof is done), by release(), or at the latest when
// its array is garbage-collected.
import type { ProverBackend } from '../backend.js';
import { bn128 } from '../curve.js';
import type { BasesKeeper } from '../groth16.js';
import { WasmBackend } from '../wasm.js';
import { getGpu, type GetGpuOptions, type GpuContext } from './device.js';
import { gpuMsmG1, uploadBasesG1, type GpuBases } from './msm.js';
import { gpuQuotient } from './ntt.js';

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

  private constructor(readonly ctx: GpuContext, private cpu: WasmBackend) {
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

  /** The converted GPU copy of `bases`, uploaded on its first use. Runs on the GPU queue. */
  private async uploaded(bases: Uint8Array): Promise<GpuBases> {
    let h = this.onGpuBases.get(bases);
    if (!h || !this.held.has(h)) { // none yet, or freed by release()
      h = await uploadBasesG1(this.ctx, bases);
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
    return this.onGpu(async () => gpuMsmG1(this.ctx, await this.uploaded(bases), scalars));
  }

  async msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    // the wasm curve may have been ended since (releaseCurves): then a new one does the G2 MSM
    if (this.cpu.curve !== (await bn128())) this.cpu = await WasmBackend.create();
    return this.cpu.msmG2(bases, scalars);
  }

  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    return this.onGpu(() => gpuQuotient(this.ctx, a, b, c, power));
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
