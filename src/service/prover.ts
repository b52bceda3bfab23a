// A worker's prover: each model's artifacts (settings, integer graph, the r1cs's wire map, zkey
// and verification key) are read from disk once and kept in memory; every proof of that model
// reuses them (snarkjs reads keys and witnesses from memory buffers as well as from files).
// The checks are those of api.prove: the circuit's public signals must be exactly the integer
// executor's, and the proof must verify, before a result is returned.
import type { ProofInput } from './common.js';
import { checkKeys } from '../setup/keys.js';
import { readFileSync } from 'node:fs';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import type { OutputTensor, Settings } from '../settings.js';
import { encodeWtns } from '../circom/witness.js';
import { expectedPublicSignals } from '../commit/public.js';
import { circuitWitness, readWireMap, type WireMap } from '../compiler/circuit.js';
import { ZkonnxError } from '../errors.js';
import type { QuantGraph } from '../ir/graph.js';
import { quantGraphFromJson } from '../ir/serialize.js';
import { loadSample } from '../inputs.js';
import { BuildPaths } from '../paths.js';
import { dequantize, execQuant, quantizeInputs } from '../qexec/exec.js';
import { snarkjs } from '../snark.js';
import type { ModelInfo } from './models.js';

type Mem = { type: 'mem'; data?: Uint8Array };
// snarkjs (fastfile) takes { type: 'mem', data } wherever its typings say a file name
const asFile = (m: Mem | Uint8Array) => m as unknown as string;

interface Artifacts {
  version: string;
  settings: Settings;
  qg: QuantGraph;
  wires: WireMap;
  zkey: Uint8Array;
  vkey: VerificationKey;
  weights: Float64Array[];
  loadedAt: number;
}

export interface CachedProof {
  proof: Groth16Proof;
  publicSignals: string[];
  outputs: OutputTensor[];
  seconds: { witness: number; prove: number };
}

export class ArtifactCache {
  private byModel = new Map<string, Artifacts>();
  private loads = new Map<string, number>();

  /** How many times this worker read the model's artifacts from disk: 1 unless it was rebuilt. */
  loadsOf(id: string): number {
    return this.loads.get(id) ?? 0;
  }

  async get(model: ModelInfo): Promise<Artifacts> {
    const hit = this.byModel.get(model.id);
    if (hit && hit.version === model.version) return hit;
    const p = new BuildPaths(model.buildDir);
    const settings = model.settings;
    const weights = settings.weights
      ? (JSON.parse(readFileSync(p.require('weights', 'compile --weights hashed'), 'utf8')) as { weights: { values: number[] }[] }).weights.map((w) => Float64Array.from(w.values))
      : [];
    const zkey = new Uint8Array(readFileSync(p.require('zkey', 'setup')));
    checkKeys(p.file('zkey'), p.file('vkey'), zkey); // the keys setup wrote, not a damaged or swapped file
    const a: Artifacts = {
      version: model.version,
      settings,
      qg: quantGraphFromJson(readFileSync(p.require('qgraph', 'compile'), 'utf8')),
      wires: await readWireMap(p.require('r1cs', 'compile')),
      zkey,
      vkey: JSON.parse(readFileSync(p.require('vkey', 'setup'), 'utf8')) as VerificationKey,
      weights,
      loadedAt: Date.now(),
    };
    this.loads.set(model.id, this.loadsOf(model.id) + 1);
    this.byModel.set(model.id, a);
    return a;
  }

  /** Witness, proof, the executor check and verification, all from memory. */
  async prove(model: ModelInfo, input: ProofInput, onStep?: (step: 'witness' | 'prove' | 'verify') => Promise<void>): Promise<CachedProof> {
    const a = await this.get(model);
    const sample = loadSample(input);
    const qin = quantizeInputs(a.qg, [...sample, ...a.weights]);
    const q = execQuant(a.qg, qin);

    await onStep?.('witness');
    const t0 = performance.now();
    const wtns: Mem = { type: 'mem', data: encodeWtns(await circuitWitness(a.qg, a.settings.visibility, {}, { qin }, a.wires, q)) };
    const t1 = performance.now();
    await onStep?.('prove');
    const { proof, publicSignals } = await snarkjs.groth16.prove(asFile(a.zkey), asFile(wtns));
    const t2 = performance.now();

    await onStep?.('verify');
    const expected = await expectedPublicSignals(a.qg, a.settings.publicSignals, qin, q);
    const mismatch = expected.findIndex((e, i) => e !== publicSignals[i]);
    if (mismatch >= 0 || expected.length !== publicSignals.length) {
      throw new ZkonnxError('WITNESS_MISMATCH', `model '${model.id}': public signal ${mismatch} is ${publicSignals[mismatch]} in the circuit but ${expected[mismatch]} in the integer executor`, {
        hint: 'the build folder may be stale: compile again',
      });
    }
    if (!(await snarkjs.groth16.verify(a.vkey, publicSignals, proof))) {
      throw new ZkonnxError('PROOF_INVALID', `model '${model.id}': the proof just made does not verify with the model's verification key`);
    }
    const outputs: OutputTensor[] = a.qg.outputs.map((o, i) => ({
      name: o.name, shape: o.shape, scale: o.scale,
      raw: q.outputs[i]!.map(String), values: q.outputs[i]!.map((x) => dequantize(x, o.scale)),
    }));
    return { proof, publicSignals, outputs, seconds: { witness: (t1 - t0) / 1000, prove: (t2 - t1) / 1000 } };
  }
}
