// A worker's prover: each model's artifacts (settings, integer graph, the r1cs's wire map,
// verification key, and a prepared prover holding the parsed proving key) are read from disk once
// and kept in memory; every proof of that model reuses them: the key is not read, parsed or
// uploaded to a GPU again. The checks are those of api.prove: the proving key must be the one
// setup recorded (keys.json, checked when the prover is created), the circuit's public signals
// must be exactly the integer executor's, and the proof must verify, before a result is returned.
//
// Backend: `wasm` unless ZKONNX_BACKEND says `webgpu` or `auto` (or the cache's `backend` option).
import { givenSalts, type ProofInput } from './common.js';
import { readFileSync } from 'node:fs';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import type { OutputTensor, Settings } from '../settings.js';
import { encodeWtns } from '../circom/witness.js';
import { expectedPublicSignals, saltsFor } from '../commit/public.js';
import { circuitWitness, readWireMap, type WireMap } from '../compiler/circuit.js';
import { ZkonnxError } from '../errors.js';
import type { QuantGraph } from '../ir/graph.js';
import { quantGraphFromJson } from '../ir/serialize.js';
import { loadSample } from '../inputs.js';
import { BuildPaths } from '../paths.js';
import { execQuant, outputTensor, quantizeInputs } from '../qexec/exec.js';
import { createProver, type PreparedProver, type ProverBackend } from '../prover/index.js';
import { verifyGroth16 } from '../verify-proof.js';
import type { ModelInfo } from './models.js';

interface Artifacts {
  version: string;
  settings: Settings;
  qg: QuantGraph;
  wires: WireMap;
  /** The proving key, read, checked against keys.json and parsed once. */
  prover: PreparedProver;
  vkey: VerificationKey;
  weights: Float64Array[];
  loadedAt: number;
  /** Proofs using it now; a replaced (stale) entry's prover is released when none is left. */
  users: number;
  stale: boolean;
}

export interface CachedProof {
  proof: Groth16Proof;
  publicSignals: string[];
  outputs: OutputTensor[];
  /** A salted model's salts, when the worker drew them (the input gave none). */
  salts?: Record<string, string>;
  seconds: { witness: number; prove: number };
}

/** The worker's backend: ZKONNX_BACKEND when it names one, `wasm` otherwise. */
function defaultBackend(): ProverBackend {
  const e = process.env['ZKONNX_BACKEND'];
  return e === 'webgpu' || e === 'auto' ? e : 'wasm';
}

export class ArtifactCache {
  private byModel = new Map<string, Artifacts>();
  private loads = new Map<string, number>();
  private loading = new Map<string, Promise<Artifacts>>();
  readonly backend: ProverBackend;

  constructor(opts: { backend?: ProverBackend } = {}) {
    this.backend = opts.backend ?? defaultBackend();
  }

  /** How many times this worker read the model's artifacts from disk: 1 unless it was rebuilt. */
  loadsOf(id: string): number {
    return this.loads.get(id) ?? 0;
  }

  async get(model: ModelInfo): Promise<Artifacts> {
    const hit = this.byModel.get(model.id);
    if (hit && hit.version === model.version) return hit;
    // jobs that ask at once share one load
    const key = `${model.id}\0${model.version}`;
    let p = this.loading.get(key);
    if (!p) {
      p = this.load(model).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private async load(model: ModelInfo): Promise<Artifacts> {
    const p = new BuildPaths(model.buildDir);
    const settings = model.settings;
    const weights = settings.weights
      ? (JSON.parse(readFileSync(p.require('weights', 'compile --weights hashed'), 'utf8')) as { weights: { values: number[] }[] }).weights.map((w) => Float64Array.from(w.values))
      : [];
    const qg = quantGraphFromJson(readFileSync(p.require('qgraph', 'compile')));
    const wires = await readWireMap(p.require('r1cs', 'compile'));
    const vkey = JSON.parse(readFileSync(p.require('vkey', 'setup'), 'utf8')) as VerificationKey;
    // last: it holds the key (and GPU buffers); KEY_CHANGED when the zkey is not the one setup wrote
    const prover = await createProver({ buildDir: model.buildDir, backend: this.backend });
    const a: Artifacts = { version: model.version, settings, qg, wires, prover, vkey, weights, loadedAt: Date.now(), users: 0, stale: false };
    this.loads.set(model.id, this.loadsOf(model.id) + 1);
    const old = this.byModel.get(model.id);
    this.byModel.set(model.id, a);
    if (old) this.retire(old);
    return a;
  }

  private retire(a: Artifacts): void {
    a.stale = true;
    if (a.users === 0) void a.prover.release();
  }

  /** The model's artifacts, marked in use (synchronously after the lookup, so never released under a proof). */
  private async use(model: ModelInfo): Promise<Artifacts> {
    for (;;) {
      const a = await this.get(model);
      if (!a.stale) {
        a.users++;
        return a;
      }
    }
  }

  /** Releases every model's prover (the worker is closing). */
  async release(): Promise<void> {
    const all = [...this.byModel.values()];
    this.byModel.clear();
    await Promise.all(all.map((a) => a.prover.release()));
  }

  /** Witness, proof, the executor check and verification, all from memory. */
  async prove(model: ModelInfo, input: ProofInput, onStep?: (step: 'witness' | 'prove' | 'verify') => Promise<void>): Promise<CachedProof> {
    const a = await this.use(model);
    try {
      return await this.proveWith(a, model, input, onStep);
    } finally {
      a.users--;
      if (a.stale && a.users === 0) void a.prover.release();
    }
  }

  private async proveWith(a: Artifacts, model: ModelInfo, input: ProofInput, onStep?: (step: 'witness' | 'prove' | 'verify') => Promise<void>): Promise<CachedProof> {
    const sample = loadSample(input);
    const qin = quantizeInputs(a.qg, [...sample, ...a.weights]);
    const q = execQuant(a.qg, qin);
    // a salted model's salts: the requester's, or fresh ones (returned with the proof)
    const given = givenSalts(input);
    const salts = saltsFor(a.qg, a.settings.visibility, given);

    await onStep?.('witness');
    const t0 = performance.now();
    const wtns = encodeWtns(await circuitWitness(a.qg, a.settings.visibility, {}, { qin, salts }, a.wires, q));
    const t1 = performance.now();
    await onStep?.('prove');
    const { proof, publicSignals } = await a.prover.prove(wtns);
    const t2 = performance.now();

    await onStep?.('verify');
    const expected = await expectedPublicSignals(a.qg, a.settings.publicSignals, qin, q, salts);
    const mismatch = expected.findIndex((e, i) => e !== publicSignals[i]);
    if (mismatch >= 0 || expected.length !== publicSignals.length) {
      throw new ZkonnxError('WITNESS_MISMATCH', `model '${model.id}': public signal ${mismatch} is ${publicSignals[mismatch]} in the circuit but ${expected[mismatch]} in the integer executor`, {
        hint: 'the build folder may be stale: compile again',
      });
    }
    if (!(await verifyGroth16(a.vkey, publicSignals, proof))) {
      throw new ZkonnxError('PROOF_INVALID', `model '${model.id}': the proof just made does not verify with the model's verification key`);
    }
    const outputs: OutputTensor[] = a.qg.outputs.map((o, i) => outputTensor(o, q.outputs[i]!));
    const drawn = salts && !given ? { salts: Object.fromEntries(Object.entries(salts).map(([k, v]) => [k, v.toString()])) } : {};
    return { proof, publicSignals, outputs, ...drawn, seconds: { witness: (t1 - t0) / 1000, prove: (t2 - t1) / 1000 } };
  }
}
