// The `webgpu` backend: everything from the witness on runs on the GPU. The MSMs (msm.ts, G1 and
// G2), and pi_c's H part in one go (quotientFromWitness): the A/B/C evaluations from the key's
// coefficients (abc.ts), the quotient's NTTs (ntt.ts) and H's MSM, reading one another's buffers
// on the device. On a software adapter (llvmpipe) the G2 MSM runs on the CPU instead (our wasm on
// worker threads), overlapped with the GPU work: there the CPU's wasm is faster than the emulated
// GPU. GPU calls are queued one after another here, because the kernels share per-device
// workspaces.
//
// Bases and coefficients are uploaded once per array: the GPU copy is kept in a WeakMap keyed by
// the Uint8Array object, so a prepared prover (prepared.ts), which passes the same section arrays
// on every proof, uploads its key once. A copy is freed by releaseBases (a one-shot groth16Prove
// calls it when its proof is done), by release(), or at the latest when its array is
// garbage-collected.
import type { ProverBackend } from '../backend.js';
import { bn128 } from '../curve.js';
import type { BasesKeeper } from '../groth16.js';
import { buildABC } from '../qap.js';
import { WasmBackend } from '../wasm.js';
import type { Zkey } from '../zkey.js';
import { coefsFit, gpuABC, uploadCoefs, type GpuCoefs } from './abc.js';
import { getGpu, type GetGpuOptions, type GpuContext } from './device.js';
import { storageBuffer, uploadBuffer } from './gpu.js';
import { formatMsmTuning, gpuMsmG1, gpuMsmG2, parseMsmTuning, unrolledMul, uploadBasesG1, uploadBasesG2, type GpuBases, type GpuScalars, type MsmTuning } from './msm.js';
import { gpuQuotient, gpuQuotientOnDevice } from './ntt.js';

export interface WebGpuBackendOptions extends GetGpuOptions {
  /**
   * Where the G2 MSM runs: 'gpu', or 'cpu' (our wasm on worker threads, beside the GPU queue).
   * Default: 'gpu' on a hardware adapter, 'cpu' on a software one; ZKONNX_GPU_G2 overrides it.
   */
  g2?: 'gpu' | 'cpu';
  /**
   * MSM parameters that change speed only (limb width, workgroup size, task size, …), for every
   * MSM of this backend; an unrolled Montgomery product (unroll=1) for its NTTs and A/B/C too.
   * Default: env ZKONNX_GPU_MSM (`limbs=12,unroll=1,wg=128`, parseMsmTuning), else the built-in
   * defaults. Its `precompute` (pre=t) applies to a prepared key's sections only (keepBases):
   * copies made once and kept, not for a one-shot proof, which would pay for them every time.
   */
  msm?: MsmTuning;
}

export class WebGpuBackend implements ProverBackend, BasesKeeper {
  readonly name = 'webgpu' as const;
  readonly description: string;
  /** Bases arrays uploaded and converted so far, coefficient sections (a cached array counts once), and held witnesses copied. */
  readonly stats = { baseUploads: 0, coefUploads: 0, witnessUploads: 0 };
  /** Witnesses held for a proof (holdWitness): copied to the device on first use. */
  private readonly witnesses = new Set<{ array: Uint8Array; buffer?: GPUBuffer }>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly copies = new WeakMap<Uint8Array, Held>();
  /** Arrays a prepared key keeps (keepBases): uploaded with the tuning's precomputed multiples. */
  private readonly keptArrays = new WeakSet<Uint8Array>();
  /** The same handles, for release() (a WeakMap cannot be listed). */
  private readonly held = new Set<Held>();
  // an array collected without releaseBases: its GPU copy goes after the work queued before
  private readonly collected = new FinalizationRegistry<Held>((h) => void this.onGpu(async () => this.free(h)));

  private constructor(readonly ctx: GpuContext, private cpu: WasmBackend, readonly g2: 'gpu' | 'cpu', readonly msm: MsmTuning) {
    const where = g2 === 'gpu' ? 'G2 on the GPU' : `G2 on ${cpu.description}`;
    const tuned = formatMsmTuning(msm);
    this.description = `webgpu, ${ctx.adapterName}${ctx.software ? ' [software]' : ''}; ${where}${tuned === 'default' ? '' : `; MSM ${tuned}`}`;
  }

  /** Fails (ZkonnxError) without a suitable adapter: a software one only with allowSoftware. */
  static async create(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const ctx = await getGpu(opts);
    const env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {};
    const g2env = env['ZKONNX_GPU_G2'];
    const g2 = opts.g2 ?? (g2env === 'gpu' || g2env === 'cpu' ? g2env : ctx.software ? 'cpu' : 'gpu');
    const msm = opts.msm ?? parseMsmTuning(env['ZKONNX_GPU_MSM'] ?? '');
    return new WebGpuBackend(ctx, await WasmBackend.create(), g2, msm);
  }

  /** Runs GPU work after the work queued before it (errors do not block the queue). */
  private onGpu<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The GPU copy of `array`, made by `make` on its first use (or after release()). Runs on the GPU queue. */
  private async kept<H extends Held>(array: Uint8Array, kind: (h: Held) => h is H, make: () => Promise<H> | H): Promise<H> {
    const h = this.copies.get(array);
    if (h && this.held.has(h) && kind(h)) return h;
    const made = await make();
    this.copies.set(array, made);
    this.held.add(made);
    this.collected.register(array, made, made);
    return made;
  }

  /** The converted GPU copy of `bases` (with precomputed multiples where kept and the tuning asks). */
  private uploaded(bases: Uint8Array, group: 'g1' | 'g2'): Promise<GpuBases> {
    return this.kept(bases, (h): h is GpuBases => 'group' in h && h.group === group, () => {
      this.stats.baseUploads++;
      const opts = this.keptArrays.has(bases) ? this.msm : { ...this.msm, precompute: undefined };
      return (group === 'g1' ? uploadBasesG1 : uploadBasesG2)(this.ctx, bases, opts);
    });
  }

  /**
   * A prepared key's section: uploaded on first use like any other, but with the tuning's
   * precomputed multiples (`pre=t`), which later proofs reuse. A copy made before without them
   * is dropped so that the next use makes them.
   */
  async keepBases(bases: Uint8Array): Promise<void> {
    if (this.keptArrays.has(bases)) return;
    this.keptArrays.add(bases);
    if ((this.msm.precompute ?? 0) > 1) await this.releaseBases(bases);
  }

  /** Device bytes of the copies this backend holds now (a prepared key's: see gpuPreparedBytes). */
  heldBytes(): number {
    let n = 0;
    for (const h of this.held) n += h.bytes;
    return n;
  }

  private free(h: Held): void {
    if (!this.held.delete(h)) return;
    this.collected.unregister(h);
    h.release();
  }

  /**
   * The witness stays as it is until the returned function runs: the MSMs and the A/B/C
   * evaluations that read it (or a view of it) read one device copy, made on first use.
   */
  holdWitness(witness: Uint8Array): () => Promise<void> {
    const h: { array: Uint8Array; buffer?: GPUBuffer } = { array: witness };
    this.witnesses.add(h);
    // after the GPU work queued so far, which includes every use of this copy
    return () => this.onGpu(async () => {
      this.witnesses.delete(h);
      h.buffer?.destroy();
    });
  }

  /** `scalars` on the device where they are a view of a held witness (copied now if not yet); else as they are. Call on the GPU queue. */
  private onDevice(scalars: Uint8Array): Uint8Array | GpuScalars {
    for (const h of this.witnesses) {
      const a = h.array;
      const offset = scalars.byteOffset - a.byteOffset;
      if (scalars.buffer !== a.buffer || offset < 0 || offset + scalars.byteLength > a.byteLength || offset % 4 !== 0) continue;
      if (!h.buffer) {
        h.buffer = uploadBuffer(this.ctx.device, a, 0, 'witness');
        this.stats.witnessUploads++;
      }
      return { buffer: h.buffer, offset, n: scalars.byteLength / 32 };
    }
    return scalars;
  }

  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return this.onGpu(async () => gpuMsmG1(this.ctx, await this.uploaded(bases, 'g1'), this.onDevice(scalars), this.msm));
  }

  async msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    if (this.g2 === 'gpu') return this.onGpu(async () => gpuMsmG2(this.ctx, await this.uploaded(bases, 'g2'), this.onDevice(scalars), this.msm));
    // the wasm curve may have been ended since (releaseCurves): then a new one does the G2 MSM
    if (this.cpu.curve !== (await bn128())) this.cpu = await WasmBackend.create();
    return this.cpu.msmG2(bases, scalars);
  }

  /**
   * One MSM over this backend's copy of `bases` (its precomputed multiples where kept) with every
   * stage timed (MsmOptions.profile: the host waits for the GPU after each stage): milliseconds per
   * stage, for bench:prove, which reports where an MSM's time goes beside its unprofiled time.
   * Undefined where this backend runs that MSM on the CPU (G2 beside a software adapter).
   */
  async profileMsm(group: 'g1' | 'g2', bases: Uint8Array, scalars: Uint8Array): Promise<Record<string, number> | undefined> {
    if (group === 'g2' && this.g2 !== 'gpu') return undefined;
    const st: Record<string, number> = {};
    const profile = (stage: string, ms: number) => (st[stage] = (st[stage] ?? 0) + ms);
    await this.onGpu(async () => (group === 'g1' ? gpuMsmG1 : gpuMsmG2)(this.ctx, await this.uploaded(bases, group), this.onDevice(scalars), { ...this.msm, profile }));
    return st;
  }

  quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    return this.onGpu(() => gpuQuotient(this.ctx, a, b, c, power, { unrolled: unrolledMul(this.msm) }));
  }

  /**
   * A, B, C from the coefficients on the device (a key whose records do not fit one binding: from
   * the CPU's), the quotient, and H's MSM over it; `prefix` goes in front of the quotient in one
   * scalars buffer.
   */
  quotientFromWitness(zkey: Zkey, witness: Uint8Array, bases: Uint8Array | Promise<Uint8Array>, prefix: Uint8Array, marks: { abc?(): void; quotient?(): void } = {}): Promise<Uint8Array> {
    const power = zkey.header.power;
    // A/B/C and the quotient now; H's MSM once its bases are in, queued after the GPU work
    // queued by then (a key being read: the A, B1, B2 and C MSMs, whose sections come first)
    const q = this.onGpu(async () => {
      let abc: [GPUBuffer, GPUBuffer, GPUBuffer] | [Uint8Array, Uint8Array, Uint8Array];
      if (coefsFit(this.ctx, zkey)) {
        const coefs = await this.kept(zkey.coefs, (h): h is GpuCoefs => 'order' in h, () => {
          this.stats.coefUploads++;
          return uploadCoefs(this.ctx, zkey);
        });
        abc = await gpuABC(this.ctx, coefs, zkey, this.onDevice(witness.subarray(0, zkey.header.nVars * 32)), { unrolled: unrolledMul(this.msm) });
      } else {
        const e = await buildABC(zkey, witness);
        abc = [e.a, e.b, e.c];
      }
      marks.abc?.();
      const out = await gpuQuotientOnDevice(this.ctx, abc[0], abc[1], abc[2], power, { unrolled: unrolledMul(this.msm) });
      marks.quotient?.();
      return out;
    });
    return Promise.all([q, bases]).then(
      ([qBuf, b]) => this.onGpu(() => this.hMsm(qBuf, power, b, prefix)),
      async (e: unknown) => {
        // the quotient's buffer, if it was made, is freed after the queued work
        const qBuf = await q.catch(() => undefined);
        if (qBuf) await this.onGpu(async () => qBuf.destroy());
        throw e;
      },
    );
  }

  /** msmG1(bases, prefix ‖ quotient) with the quotient on the device; frees it. Call on the GPU queue. */
  private async hMsm(q: GPUBuffer, power: number, bases: Uint8Array, prefix: Uint8Array): Promise<Uint8Array> {
    const dev = this.ctx.device;
    let joined: GPUBuffer | undefined;
    try {
      const n = 2 ** power;
      let scalars: GpuScalars = { buffer: q, offset: 0, n };
      if (prefix.byteLength > 0) {
        joined = storageBuffer(dev, prefix.byteLength + n * 32, 0, 'prefix ‖ quotient');
        const enc = dev.createCommandEncoder();
        const pre = this.onDevice(prefix);
        if (pre instanceof Uint8Array) dev.queue.writeBuffer(joined, 0, pre.buffer, pre.byteOffset, pre.byteLength);
        else enc.copyBufferToBuffer(pre.buffer, pre.offset, joined, 0, prefix.byteLength);
        enc.copyBufferToBuffer(q, 0, joined, prefix.byteLength, n * 32);
        dev.queue.submit([enc.finish()]);
        scalars = { buffer: joined, offset: 0, n: prefix.byteLength / 32 + n };
      }
      return await gpuMsmG1(this.ctx, await this.uploaded(bases, 'g1'), scalars, this.msm);
    } finally {
      // the MSM's commands that read them have completed when it returns
      q.destroy();
      joined?.destroy();
    }
  }

  /** Frees the GPU copy of one bases array (after the GPU work queued so far); a later use uploads it again. */
  releaseBases(bases: Uint8Array): Promise<void> {
    return this.onGpu(async () => {
      const h = this.copies.get(bases);
      if (!h) return;
      this.copies.delete(bases);
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

/** A GPU copy the backend keeps for an array: converted bases, or a key's coefficients. */
type Held = GpuBases | GpuCoefs;
