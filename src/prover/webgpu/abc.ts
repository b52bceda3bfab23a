/// <reference types="@webgpu/types" />
// The A/B/C evaluations on the GPU (wgsl/abc.ts), for the webgpu backend: the zkey's coefficient
// records go to the device once per key (a prepared key keeps them there), the witness once per
// proof, and A, B, C = A∘B stay there for the quotient (ntt.ts), whose output H's MSM reads in
// turn: from the witness on, nothing comes back to the host but the MSMs' points.
//
// The kernel takes one constraint per invocation, so it reads each constraint's records through
// an order sorted by (matrix, constraint): a counting sort on the host, once per key, that also
// checks every record as the CPU path does (qap.ts).
import { ZkonnxError } from '../../errors.js';
import type { GpuContext } from './device.js';
import type { GpuScalars } from './msm.js';
import { dispatch, pipeline, storageBuffer, uniformU32, uploadBuffer, workgroupSize } from './gpu.js';
import { badRecord } from '../qap.js';
import type { Zkey } from '../zkey.js';
import { abcWgsl, RECORD_WORDS } from './wgsl/abc.js';
import { fieldConfig, LIMB_BITS } from './wgsl/field.js';

/** A key's coefficients on the device. */
export interface GpuCoefs {
  readonly recs: GPUBuffer;
  readonly order: GPUBuffer;
  readonly offs: GPUBuffer;
  /** Device bytes the three take. */
  readonly bytes: number;
  release(): void;
}

interface Order {
  /** record indices by (matrix, constraint) */
  order: Uint32Array;
  /** A's domainSize + 1 offsets into `order`, then B's */
  offs: Uint32Array;
}

const orders = new WeakMap<Uint8Array, Order>();

function u32View(bytes: Uint8Array): Uint32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
}

/** The records' order by (matrix, constraint), every record checked; kept per coefficient section. */
export function coefOrder(zkey: Zkey): Order {
  const known = orders.get(zkey.coefs);
  if (known) return known;
  const { domainSize: n, nVars } = zkey.header;
  const rec = u32View(zkey.coefs);
  const start = new Uint32Array(2 * n + 1);
  for (let i = 0, o = 0; i < zkey.nCoef; i++, o += RECORD_WORDS) {
    const [m, c, s] = [rec[o]!, rec[o + 1]!, rec[o + 2]!];
    if (m > 1 || c >= n || s >= nVars) badRecord(zkey, rec, i);
    start[m * n + c + 1]++;
  }
  for (let k = 1; k <= 2 * n; k++) start[k] += start[k - 1]!;
  const order = new Uint32Array(Math.max(1, zkey.nCoef));
  const at = start.slice(0, 2 * n);
  for (let i = 0, o = 0; i < zkey.nCoef; i++, o += RECORD_WORDS) order[at[rec[o]! * n + rec[o + 1]!]!++] = i;
  const offs = new Uint32Array(2 * n + 2);
  offs.set(start.subarray(0, n + 1));
  offs.set(start.subarray(n), n + 1);
  const r = { order, offs };
  orders.set(zkey.coefs, r);
  return r;
}

/** Whether the key's records fit one storage binding of the device (else the CPU evaluates). */
export function coefsFit(ctx: GpuContext, zkey: Zkey): boolean {
  const lim = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  return zkey.coefs.byteLength <= lim && zkey.header.domainSize * 32 <= lim && zkey.header.nVars * 32 <= lim;
}

export function uploadCoefs(ctx: GpuContext, zkey: Zkey): GpuCoefs {
  const { order, offs } = coefOrder(zkey);
  const dev = ctx.device;
  const bufs = [uploadBuffer(dev, zkey.coefs, 0, 'zkey coefficients'), uploadBuffer(dev, order, 0, 'coefficient order'), uploadBuffer(dev, offs, 0, 'coefficient offsets')];
  return { recs: bufs[0]!, order: bufs[1]!, offs: bufs[2]!, bytes: bufs.reduce((s, b) => s + b.size, 0), release: () => bufs.forEach((b) => b.destroy()) };
}

/**
 * A, B and C = A∘B for `witness` (canonical, nVars × 32 bytes): three storage buffers of
 * domainSize × 32 bytes in ffjavascript's Montgomery form, as gpuQuotientOnDevice takes them (the
 * caller owns them). Resolves when the GPU has computed them.
 */
export async function gpuABC(ctx: GpuContext, coefs: GpuCoefs, zkey: Zkey, witness: Uint8Array | GpuScalars, opts: { unrolled?: boolean } = {}): Promise<[GPUBuffer, GPUBuffer, GPUBuffer]> {
  const dev = ctx.device;
  const n = zkey.header.domainSize;
  const wg = workgroupSize(ctx, 64);
  const pipe = await pipeline(dev, abcWgsl(wg, fieldConfig(LIMB_BITS, !opts.unrolled)));
  const onHost = witness instanceof Uint8Array;
  if (!onHost && (witness.offset !== 0 || witness.n < zkey.header.nVars)) throw new ZkonnxError('BAD_ARGUMENT', `A/B/C: the witness on the device must start at byte 0 and hold ${zkey.header.nVars} values`);
  const wit = onHost ? uploadBuffer(dev, witness.subarray(0, zkey.header.nVars * 32), 0, 'witness') : witness.buffer;
  const prm = uniformU32(dev, [n, 0, 0, 0]);
  const out = [0, 1, 2].map((i) => storageBuffer(dev, n * 32, 0, `${'ABC'[i]} evaluations`)) as [GPUBuffer, GPUBuffer, GPUBuffer];
  try {
    const enc = dev.createCommandEncoder();
    dispatch(ctx, enc, pipe, [coefs.recs, coefs.order, coefs.offs, wit, ...out, prm], n, wg);
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
    return out;
  } catch (e) {
    out.forEach((b) => b.destroy());
    throw e;
  } finally {
    if (onHost) wit.destroy();
    prm.destroy();
  }
}
