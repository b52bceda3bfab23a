// Proving in the page: artifacts from the server (cached by the browser), the witness from the
// compiler's own circuit description (src/compiler, the code the CLI runs: no circom WebAssembly),
// the Groth16 proof from src/prover (the code the CLI runs) with the
// WebGPU backend when the browser has an adapter and the WebAssembly one otherwise, and a check
// with snarkjs's verifier before the page calls the proof good. The page keeps one prepared
// prover (src/prover/prepared.ts) for the model it proved last: the next proof of that model,
// same key (ETag) and backend choice, does not parse the key again nor upload it to the GPU.
import { BN254_R as R } from '../../circom/r1cs.js';
import { encodeWtns } from '../../circom/witness.js';
import { circuitWitness } from '../../compiler/circuit.js';
import type { CircuitVisibility } from '../../compiler/emit.js';
import type { QuantGraph } from '../../ir/graph.js';
import { execQuant, quantizeInputs } from '../../qexec/exec.js';
import { loadBackend } from '../../prover/index.js';
import type { ProverBackend } from '../../prover/backend.js';
import { createProverFromKey, type PreparedProver } from '../../prover/prepared.js';
import { verifyGroth16 } from '../../verify-proof.js';
import { fetchArtifact, fetchJson, type Fetched } from './artifacts.js';

export type PageBackend = 'auto' | 'webgpu' | 'wasm';

export interface PageProof {
  proof: unknown;
  publicSignals: string[];
  verified: boolean;
  /** The model input that was proven (after the canvas's preprocessing). */
  input: number[];
  /** The backend that made the proof, with its adapter. */
  backend: string;
  seconds: { download: number; witness: number; prove: number; verify: number };
}

export type Report = (text: string, fraction?: number) => void;

/**
 * Bytes a proof needs at its peak in the page: the zkey, its sections copied into the backend,
 * and eight domain-sized Fr buffers for the quotient (an estimate on the safe side).
 */
export function estimateMemory(zkeyBytes: number, constraints: number): number {
  const domain = 2 ** Math.ceil(Math.log2(Math.max(constraints, 2) + 1));
  return 3 * zkeyBytes + 8 * 32 * domain;
}

/** What the page lets a proof use: half the device's memory (as the browser reports it, ≤ 8 GiB), at most 2 GiB; `?memoryMiB=` overrides. */
export function memoryBudget(): number {
  const q = Number(new URLSearchParams(location.search).get('memoryMiB'));
  if (q > 0) return q * 2 ** 20;
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4;
  return Math.min(gib / 2, 2) * 2 ** 30;
}

/** wires.bin: circom's label count, then the label of every wire (u32 little-endian). */
function wireMap(bytes: Uint8Array, file: string) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wireToLabel = new Uint32Array(bytes.byteLength / 4 - 1);
  for (let i = 0; i < wireToLabel.length; i++) wireToLabel[i] = v.getUint32(4 * (i + 1), true);
  return { nLabels: v.getUint32(0, true), wireToLabel, file };
}

async function pickBackend(want: PageBackend): Promise<ProverBackend> {
  if (want !== 'auto') return loadBackend(want, { allowSoftware: true }); // asked for by name: a software adapter will do
  // auto: WebGPU only on a hardware adapter, WebAssembly otherwise
  return loadBackend('webgpu').catch(() => loadBackend('wasm'));
}

/** The prepared prover of the model proved last, and what it was made from. */
let prepared: { id: string; want: PageBackend; etag: string; prover: PreparedProver } | undefined;

/** The last model's prover when the model, its key (ETag) and the backend choice are the same; else a new one (the old one released). */
async function proverFor(id: string, want: PageBackend, zkey: Fetched): Promise<PreparedProver> {
  if (prepared && zkey.etag && prepared.id === id && prepared.want === want && prepared.etag === zkey.etag) return prepared.prover;
  const old = prepared;
  prepared = undefined;
  await old?.prover.release();
  const backend = await pickBackend(want);
  const prover = await createProverFromKey(zkey.bytes, backend, { file: `models/${id}/circuit_final.zkey` });
  if (zkey.etag) prepared = { id, want, etag: zkey.etag, prover };
  return prover;
}

/** `outputsPublic`: the model's outputs are public signals (they come first), so they are checked against the executor. */
export async function proveInPage(id: string, qg: QuantGraph, vis: CircuitVisibility, x: number[], want: PageBackend, report: Report): Promise<PageProof> {
  const outputsPublic = vis.output === 'public';
  const t0 = performance.now();
  const base = `models/${encodeURIComponent(id)}/`;
  report('downloading the proving key…', 0);
  const zkey = await fetchArtifact(`${base}circuit_final.zkey`, (l, t) => report(`proving key ${(l / 2 ** 20).toFixed(1)} / ${(t / 2 ** 20).toFixed(1)} MiB`, 0.4 * (l / t)));
  const wires = await fetchArtifact(`${base}wires.bin`, (l, t) => report(`wire map ${(l / 2 ** 20).toFixed(1)} / ${(t / 2 ** 20).toFixed(1)} MiB`, 0.4 + 0.1 * (l / t)));
  const vkey = await fetchJson<Record<string, unknown>>(`${base}verification_key.json`);
  const t1 = performance.now();

  report('computing the witness…', 0.5);
  const qin = quantizeInputs(qg, [x]);
  const q = execQuant(qg, qin);
  const wtns = encodeWtns(await circuitWitness(qg, vis, {}, { qin }, wireMap(wires.bytes, `${base}wires.bin`), q));
  const t2 = performance.now();

  const prover = await proverFor(id, want, zkey);
  report(`proving with ${prover.description}…`, 0.55);
  // the prover's steps, in order: read, A/B/C evaluations, quotient and MSMs (most of the time), assemble
  const stages = ['read', 'A/B/C', 'quotient', 'assemble'];
  let proved;
  try {
    proved = await prover.prove(wtns, {
      progress: { step: (name) => report(`proving with ${prover.description}: ${name}…`, 0.55 + 0.4 * Math.max(0, stages.findIndex((s) => name.startsWith(s))) / stages.length) },
    });
  } finally {
    if (prepared?.prover !== prover) await prover.release(); // not kept (no ETag): free it now
  }
  const { proof, publicSignals } = proved;
  const t3 = performance.now();

  report('verifying…', 0.95);
  // public outputs must be the executor's integers: the prediction the page showed
  const expected = q.outputs.flat().map((v) => String(((v % R) + R) % R));
  const outputsMatch = !outputsPublic || expected.every((e, i) => publicSignals[i] === e);
  const verified = outputsMatch && (await verifyGroth16(vkey as never, publicSignals, proof as never));
  const t4 = performance.now();
  return {
    proof, publicSignals, verified, input: x, backend: prover.description,
    seconds: { download: (t1 - t0) / 1000, witness: (t2 - t1) / 1000, prove: (t3 - t2) / 1000, verify: (t4 - t3) / 1000 },
  };
}
