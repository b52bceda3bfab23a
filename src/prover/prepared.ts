// A prepared prover: one build's proving key read, checked and parsed once, then any number of
// witnesses proved with it. The key's sections are copied into one compact buffer (C and H
// adjacent: the bases of pi_c's MSM, which groth16Prove concatenates per proof; a key past 2 GiB
// keeps a buffer per section and joins C and H once), so the file's bytes can go, and the same
// section arrays reach the backend on every proof: a backend keeps its converted or uploaded
// copies per array (the WebGPU backend uploads the key once).
//
// createProver reads a build folder (Node); createProverFromKey takes the key's bytes (the
// in-browser page, which fetches them) or a key file's path (Node). The build-folder modules are
// imported only by createProver: the page's bundle never runs their Node-only code.
import { ZkonnxError } from '../errors.js';
import type { BackendName, ProverBackend as Backend } from './backend.js';
import type { BinSource } from './bin-source.js';
import { bn128 } from './curve.js';
import { groth16ProveParsed, type BasesKeeper, type Groth16ProveOptions, type Groth16Result, type ParsedZkey } from './groth16.js';
import { autoBackend, loadBackend, type ProverBackend } from './index.js';
import { WasmBackend } from './wasm.js';
import { mergeWorkspace, msmWorkspace, multiplesOf, type MsmTuning } from './webgpu/msm.js';
import { BULK_SECTIONS, openZkey, parseZkey, type Zkey } from './zkey.js';

export interface PreparedProver {
  /** The backend it proves with (`auto` resolved). */
  readonly name: BackendName;
  /** The backend and its threads or adapter, e.g. "wasm, 2 threads". */
  readonly description: string;
  /** log2 of the key's domain size. */
  readonly power: number;
  readonly nVars: number;
  /** Bytes of the prepared key held in memory: the sum of its sections (estimate ahead: preparedBytes). */
  readonly memoryBytes: number;
  /** One proof; `wtns`: a .wtns path, snarkjs's `{ type: 'mem', data }`, or the file's bytes. */
  prove(wtns: BinSource | Uint8Array, opts?: Groth16ProveOptions): Promise<Groth16Result>;
  /** Waits for the proofs in progress, then frees the key and what the backend keeps for it. Idempotent. */
  release(): Promise<void>;
}

export interface CreateProverOptions {
  /** A compiled and set-up build folder (circuit_final.zkey, verification_key.json, keys.json). */
  buildDir: string;
  /** wasm, webgpu, or auto (WebGPU on a hardware adapter, else wasm; ZKONNX_BACKEND overrides). Default auto. */
  backend?: ProverBackend;
  /** webgpu: accept a software adapter (llvmpipe, SwiftShader): correct, slower than wasm. */
  allowSoftware?: boolean;
}

export interface ProverFromKeyOptions {
  /** webgpu by name: accept a software adapter. */
  allowSoftware?: boolean;
  /** The key's name in messages. */
  file?: string;
  /** Keys above this many bytes keep a buffer per section instead of one compact buffer (default 2 GiB; lower in tests). */
  compactMaxBytes?: number;
}

const G1 = 64;
const G2 = 128;
const COEF = 44;

/**
 * Bytes a prepared key holds, ahead of reading it: 320 per variable (A, B1 and C: 64 each; B2:
 * 128), 64 per domain point (H) and 44 per coefficient of the A and B matrices (`nCoef`, exact
 * when given; by default 3 per constraint, on the safe side: a chain of products has 2, the MNIST
 * MLP 2.5). With nVars ≈ 2^k that is about 516 bytes per 2^k: 2^16 ≈ 32 MiB, 2^20 ≈ 516 MiB.
 */
export function preparedBytes(power: number, nVars: number, nCoef = 3 * 2 ** power): number {
  return (2 * G1 + G2 + G1) * nVars + G1 * 2 ** power + COEF * nCoef + 3 * G1 + 3 * G2;
}

/**
 * Device bytes a prepared key holds on a GPU (the webgpu backend), planned ahead: the points of
 * A, B1, C (64 bytes a variable each) and B2 (128: the G2 MSM runs on a hardware GPU), H (64 a
 * domain point) and C‖H (the one MSM of both, for a witness with large values), and the
 * coefficients with their order (48 each) and offsets (8 a domain point). With nVars ≈ 2^k and 3
 * coefficients a constraint that is 664 bytes per 2^k: 2^20 ≈ 664 MiB, 2^24 ≈ 10.4 GiB. A proof
 * adds its scratch on top (gpuProofBytes). `msm`: the backend's tuning, whose precomputed copies
 * (pre=t, with its c if set) multiply each section's points by the copies its upload makes (13 at
 * 2^20 with pre=16, c = 20: 6.7 GiB for the key instead of 0.65).
 */
export function gpuPreparedBytes(power: number, nVars: number, nCoef = 3 * 2 ** power, msm: Pick<MsmTuning, 'precompute' | 'windowBits'> = {}): number {
  const n = 2 ** power;
  const t = (m: number) => multiplesOf(m, msm)?.t ?? 1;
  return (2 * G1 + G1) * nVars * t(nVars) + G2 * nVars * t(nVars) + G1 * n * t(n) + G1 * (nVars + n) * t(nVars + n) + (COEF + 4) * nCoef + 8 * n;
}

/**
 * Device bytes one proof adds on a GPU on top of its key's (gpuPreparedBytes), planned ahead, at
 * most: the witness (32 bytes a variable), the NTTs' three twiddle tables (kept per domain size),
 * A, B, C and the quotient (32 bytes a domain point each), C's scalars in front of the quotient
 * when C and H share an MSM, and the MSMs' shared scratch (msmWorkspace: the largest of A, B1,
 * B2 (G2) and C‖H's needs, per buffer). `g2`: whether the G2 MSM runs on the GPU (a hardware
 * adapter's default). With nVars ≈ 2^k: 0.85 GiB at 2^20, 8.9 GiB at 2^24 (beside the key's 10.4).
 * `tuning`: the backend's MSM tuning (an MSM over precomputed copies has scratch of its own size).
 */
export function gpuProofBytes(power: number, nVars: number, nPublic: number, g2 = true, tuning: Pick<MsmTuning, 'precompute' | 'windowBits'> = {}): number {
  const n = 2 ** power;
  const nC = nVars - nPublic - 1;
  const msm = mergeWorkspace(
    msmWorkspace(nVars, 'g1', tuning),
    msmWorkspace(nC + n, 'g1', tuning),
    msmWorkspace(n, 'g1', tuning),
    ...(g2 ? [msmWorkspace(nVars, 'g2', tuning)] : []),
  );
  const quotient = 4 * 32 * n; // A, B, C transformed in place, and the quotient
  const hMsm = 32 * n + 32 * (nC + n); // the quotient, and C's scalars ‖ a copy of it
  return 32 * nVars + 3 * 32 * n + Math.max(quotient, hMsm) + msm;
}

/**
 * Reads the build's circuit_final.zkey once, checks it against keys.json (KEY_CHANGED when it is
 * not the key setup wrote, as `prove` does) and prepares it for `backend`.
 */
export async function createProver(opts: CreateProverOptions): Promise<PreparedProver> {
  const [{ BuildPaths }, { checkKeysAsync }] = await Promise.all([import('../paths.js'), import('../setup/keys.js')]);
  const paths = new BuildPaths(opts.buildDir);
  const zkeyPath = paths.require('zkey', 'setup');
  const backend = await pickBackend(opts.backend ?? 'auto', opts.allowSoftware); // an unavailable backend fails before the read
  try {
    // read once, and hashed beside the read (the page cache serves both); a changed key is named
    // as such (KEY_CHANGED) whatever the reader made of it
    const [read, keys] = await Promise.allSettled([readWhole(zkeyPath), checkKeysAsync(zkeyPath, paths.file('vkey'))]);
    if (keys.status === 'rejected') throw keys.reason;
    if (read.status === 'rejected') throw read.reason;
    return prepare(read.value, backend, true, zkeyPath);
  } catch (e) {
    await backend.release?.();
    throw e;
  }
}

/** A key file read section by section (openZkey: past 2 GiB too), all of it. */
async function readWhole(path: string): Promise<Zkey> {
  const opened = await openZkey(path);
  try {
    await Promise.all(BULK_SECTIONS.map((s) => opened.ready[s]));
    return opened.zkey;
  } finally {
    await opened.close();
  }
}

/**
 * A prepared prover from a key's bytes, or a key file's path (no keys.json check: the caller
 * vouches for the key). `backend`: a name, loaded here (and released with the prover), or a
 * backend instance the caller owns (release() then frees only what it keeps for this key).
 */
export async function createProverFromKey(zkey: Uint8Array | string, backend: ProverBackend | Backend = 'auto', opts: ProverFromKeyOptions = {}): Promise<PreparedProver> {
  const own = typeof backend === 'string';
  const b = own ? await pickBackend(backend, opts.allowSoftware) : backend;
  try {
    const file = opts.file ?? (typeof zkey === 'string' ? zkey : '<in-memory zkey>');
    return prepare(typeof zkey === 'string' ? await readWhole(zkey) : parseZkey(zkey, file), b, own, file, opts.compactMaxBytes);
  } catch (e) {
    if (own) await b.release?.();
    throw e;
  }
}

async function pickBackend(name: ProverBackend, allowSoftware?: boolean): Promise<Backend> {
  if (name !== 'auto' && name !== 'wasm' && name !== 'webgpu') {
    throw new ZkonnxError('BAD_ARGUMENT', `unknown prover backend '${String(name)}'`, { hint: 'use wasm, webgpu or auto' });
  }
  return name === 'auto' ? autoBackend() : loadBackend(name, { allowSoftware });
}

/** Largest compact buffer: past it (2^23 constraints and up) the sections stay in their own buffers. */
const COMPACT_MAX = 2 ** 31;

/**
 * The key's sections copied into one 8-byte-aligned buffer, C and H adjacent (CH); a key too big
 * for one buffer keeps its sections (a buffer each, as openZkey read them) and joins C and H.
 */
function compact(z: Zkey, maxBytes = COMPACT_MAX): { key: ParsedZkey; bytes: number } {
  const h = z.header;
  const points = [h.vk_alpha_1, h.vk_beta_1, h.vk_beta_2, h.vk_gamma_2, h.vk_delta_1, h.vk_delta_2];
  const parts = [z.coefs, z.A, z.B1, z.B2, z.C, z.H, ...points];
  const pad = (n: number) => Math.ceil(n / 8) * 8;
  const total = parts.reduce((s, p) => s + pad(p.byteLength), 0);
  if (total > maxBytes) {
    const CH = new Uint8Array(z.C.byteLength + z.H.byteLength);
    CH.set(z.C);
    CH.set(z.H, z.C.byteLength);
    return { key: { ...z, CH }, bytes: total + CH.byteLength };
  }
  const buf = new Uint8Array(total);
  let at = 0;
  const put = (x: Uint8Array) => {
    const v = buf.subarray(at, at + x.byteLength);
    v.set(x);
    at += pad(x.byteLength);
    return v;
  };
  const coefs = put(z.coefs);
  const A = put(z.A);
  const B1 = put(z.B1);
  const B2 = put(z.B2);
  const C = put(z.C); // a multiple of 64 bytes: H follows without a gap
  const H = put(z.H);
  const CH = buf.subarray(C.byteOffset - buf.byteOffset, H.byteOffset - buf.byteOffset + H.byteLength);
  const [vk_alpha_1, vk_beta_1, vk_beta_2, vk_gamma_2, vk_delta_1, vk_delta_2] = points.map(put) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const key: ParsedZkey = {
    file: z.file, nCoef: z.nCoef, coefs, A, B1, B2, C, H, CH,
    header: { ...h, vk_alpha_1, vk_beta_1, vk_beta_2, vk_gamma_2, vk_delta_1, vk_delta_2 },
  };
  return { key, bytes: buf.byteLength };
}

function prepare(zkey: Zkey, backend: Backend, ownBackend: boolean, file: string, compactMax?: number): PreparedProver {
  const { key: parsed, bytes } = compact(zkey, compactMax);
  let key: ParsedZkey | undefined = parsed;
  let b = backend;
  const { power, nVars } = parsed.header;
  const inFlight = new Set<Promise<unknown>>();
  const kept = new WeakSet<Backend>();
  let released: Promise<void> | undefined;
  return {
    name: backend.name,
    description: backend.description,
    power,
    nVars,
    memoryBytes: bytes,
    prove(wtns, opts) {
      const k = key;
      if (!k || released) return Promise.reject(new ZkonnxError('BAD_ARGUMENT', `the prepared prover of ${file} was released`, { hint: 'create another one' }));
      const run = (async () => {
        // the wasm curve may have been ended since (releaseCurves): a wasm backend on a live one
        if (b instanceof WasmBackend && b.curve !== (await bn128())) b = await WasmBackend.create();
        if (!kept.has(b)) {
          // the backend keeps the sections converted from the first proof on (wasm: its threads)
          kept.add(b);
          const keeper = b as Partial<BasesKeeper>;
          await Promise.all([k.A, k.B1, k.B2, k.C, k.H, k.CH].map((x) => keeper.keepBases?.(x)));
        }
        return groth16ProveParsed(k, wtns, b, opts);
      })();
      inFlight.add(run);
      run.then(() => inFlight.delete(run), () => inFlight.delete(run));
      return run;
    },
    release() {
      released ??= (async () => {
        await Promise.allSettled([...inFlight]);
        const k = key;
        key = undefined;
        const keeper = b as Partial<BasesKeeper>;
        if (k && keeper.releaseBases) await Promise.all([k.A, k.B1, k.B2, k.C, k.H, k.CH, k.coefs].map((x) => keeper.releaseBases!(x)));
        if (ownBackend) await b.release?.();
      })();
      return released;
    },
  };
}
