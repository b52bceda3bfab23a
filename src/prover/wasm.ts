// The `wasm` backend. MSMs: our own WebAssembly on our own worker threads (cpu/msm.ts: batched
// affine additions, a third of the field multiplications of ffjavascript's Jacobian buckets).
// Quotient: ffjavascript's BN254 wasm curve on its worker threads (the engine snarkjs proves
// with), the three NTT chains at once, one worker task each, joined in one task per worker
// (snarkjs joins in a single task below 2^22 points).
import type { ProverBackend } from './backend.js';
import { cpuMsm } from './cpu/msm.js';
import { cpuPool } from './cpu/pool.js';
import { bn128, type ProverCurve } from './curve.js';

const N8 = 32;

export class WasmBackend implements ProverBackend {
  readonly name = 'wasm' as const;
  readonly description: string;

  private constructor(readonly curve: ProverCurve, threads: number) {
    this.description = `wasm, ${threads} thread${threads === 1 ? '' : 's'}`;
  }

  static async create(): Promise<WasmBackend> {
    const [curve, pool] = await Promise.all([bn128(), cpuPool()]);
    return new WasmBackend(curve, pool.concurrency);
  }

  msmG1(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return cpuMsm(this.curve.G1 as never, 'G1', bases, scalars);
  }

  msmG2(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
    return cpuMsm(this.curve.G2 as never, 'G2', bases, scalars);
  }

  async quotient(a: Uint8Array, b: Uint8Array, c: Uint8Array, power: number): Promise<Uint8Array> {
    const [ao, bo, co] = await Promise.all([a, b, c].map((x) => this.coset(x, power)));
    return this.joinABC(ao!, bo!, co!);
  }

  /**
   * Inverse NTT, times inc^i, NTT: the evaluations on the coset where x^n − 1 = −2, inc being a
   * 2^(power+1)-th root of unity. One task per polynomial with wasmcurves' in-place frm_ifft /
   * frm_fft (bit reversal included): the same numbers as ffjavascript's Fr.ifft / batchApplyKey /
   * Fr.fft, without their main-thread bit reversals and round trips between phases, which left
   * the workers idle; the MSMs queued beside keep the other threads busy.
   */
  private async coset(x: Uint8Array, power: number): Promise<Uint8Array> {
    const { Fr } = this.curve;
    const n = 2 ** power;
    const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1]!;
    const buff = x.byteOffset === 0 && x.byteLength === x.buffer.byteLength ? x : x.slice();
    const [out] = await this.curve.tm.queueAction([
      { cmd: 'ALLOCSET', var: 0, buff },
      { cmd: 'ALLOCSET', var: 1, buff: Fr.one },
      { cmd: 'ALLOCSET', var: 2, buff: inc },
      { cmd: 'ALLOC', var: 3, len: n * N8 },
      { cmd: 'CALL', fnName: 'frm_ifft', params: [{ var: 0 }, { val: n }] },
      { cmd: 'CALL', fnName: 'frm_batchApplyKey', params: [{ var: 0 }, { val: n }, { var: 1 }, { var: 2 }, { var: 3 }] },
      { cmd: 'CALL', fnName: 'frm_fft', params: [{ var: 3 }, { val: n }] },
      { cmd: 'GET', out: 0, var: 3, len: n * N8 },
    ]);
    return out!;
  }

  /** A·B − C per point, out of Montgomery form: the H scalars. */
  private async joinABC(a: Uint8Array, b: Uint8Array, c: Uint8Array): Promise<Uint8Array> {
    const n = a.byteLength / N8;
    const chunk = Math.max(1 << 10, Math.ceil(n / this.curve.tm.concurrency));
    const jobs: Promise<Uint8Array[]>[] = [];
    for (let i = 0; i < n; i += chunk) {
      const m = Math.min(chunk, n - i);
      const part = (x: Uint8Array) => x.slice(i * N8, (i + m) * N8);
      const [pa, pb, pc] = [part(a), part(b), part(c)];
      jobs.push(this.curve.tm.queueAction([
        { cmd: 'ALLOCSET', var: 0, buff: pa },
        { cmd: 'ALLOCSET', var: 1, buff: pb },
        { cmd: 'ALLOCSET', var: 2, buff: pc },
        { cmd: 'ALLOC', var: 3, len: m * N8 },
        { cmd: 'CALL', fnName: 'qap_joinABC', params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: m }, { var: 3 }] },
        { cmd: 'CALL', fnName: 'frm_batchFromMontgomery', params: [{ var: 3 }, { val: m }, { var: 3 }] },
        { cmd: 'GET', out: 0, var: 3, len: m * N8 },
      ], [pa.buffer as ArrayBuffer, pb.buffer as ArrayBuffer, pc.buffer as ArrayBuffer]));
    }
    const out = new Uint8Array(n * N8);
    (await Promise.all(jobs)).forEach((r, k) => out.set(r[0]!, k * chunk * N8));
    return out;
  }
}
