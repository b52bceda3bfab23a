// The service's seam to model splitting (src/split.ts); chunk artifacts stay in memory there.
import type { ProofInput } from './common.js';
import { existsSync, readFileSync } from 'node:fs';
import type { Groth16Proof } from 'snarkjs';
import type { OutputTensor } from '../settings.js';
import { quantGraphFromJson } from '../ir/serialize.js';
import { loadSample } from '../inputs.js';
import { BuildPaths } from '../paths.js';
import { execQuant, outputTensor, quantizeInputs } from '../qexec/exec.js';
import type { ModelInfo } from './models.js';

/** What the service uses of src/split.ts. */
export interface SplitModule {
  /** `salts`: a salted build's model salts the request gave (else fresh ones are drawn). */
  chunkInputs(buildDir: string, input: ProofInput, weights?: string, salts?: Record<string, bigint>): { index: number; input: Record<string, string[]> }[] | Promise<{ index: number; input: Record<string, string[]> }[]>;
  /** The model salts among chunk inputs (in<i>_salt, out<j>_salt), decimal. */
  modelSaltsOf(chunks: readonly { input: Record<string, string[]> }[]): Record<string, string> | undefined;
  proveChunk(opts: { buildDir: string; index: number; input: Record<string, string[]>; outDir: string }): Promise<{ proof: Groth16Proof; publicSignals: string[]; seconds: { witness: number; prove: number } }>;
  verifySplit(opts: { buildDir: string; proofs: { proof: Groth16Proof; publicSignals: string[] }[] }): Promise<{ ok: boolean; errors: string[] }>;
  splitOutputs?(buildDir: string, input: ProofInput): OutputTensor[] | Promise<OutputTensor[]>;
}

import * as splitModule from '../split.js';

export function loadSplit(): Promise<SplitModule> {
  return Promise.resolve(splitModule);
}

/** The model's outputs on an input: the integer executor over the whole model's graph. */
export async function splitOutputs(model: ModelInfo, input: ProofInput): Promise<OutputTensor[]> {
  const split = await loadSplit();
  if (split.splitOutputs) return split.splitOutputs(model.buildDir, input);
  const qgraph = new BuildPaths(model.buildDir).file('qgraph');
  if (!existsSync(qgraph)) return [];
  const qg = quantGraphFromJson(readFileSync(qgraph));
  const q = execQuant(qg, quantizeInputs(qg, loadSample(input)));
  return qg.outputs.map((o, i) => outputTensor(o, q.outputs[i]!));
}
