// `zkonnx prove` and `zkonnx verify` on a split build (compile --split / --max-constraints):
// every chunk proven in turn, the set verified with its links (src/split.ts).
import { join } from 'node:path';
import type { Progress } from '../log.js';
import type { ProverBackend } from '../prover/index.js';
import type { OutputTensor } from '../settings.js';
import { proveSplit, readSplitProof, verifySplit } from '../split.js';

type VerbResult = { ok: boolean; text: string; json: unknown };

/** `  name [shape] = [values]`; class labels as their strings, with the proven codes. */
export function outputLine(t: OutputTensor): string {
  const values = `[${t.values.map((v) => +v.toFixed(6)).join(', ')}]`;
  return t.labels ? `  ${t.name} [${t.shape}] = [${t.labels.map((l) => JSON.stringify(l)).join(', ')}] (codes ${values})` : `  ${t.name} [${t.shape}] = ${values}`;
}

export async function proveSplitVerb(buildDir: string, input: string, o: { name?: string; backend?: ProverBackend; allowSoftwareGpu?: boolean; weights?: string }, progress: Progress): Promise<VerbResult> {
  const r = await proveSplit(buildDir, input, { name: o.name, backend: o.backend, allowSoftwareGpu: o.allowSoftwareGpu, progress, ...(o.weights ? { weights: o.weights } : {}) });
  const lines = r.outputs.map(outputLine);
  if (r.verification.weights) lines.push(`  weights commitments (per chunk): ${r.verification.weights.map((w) => w || '-').join(', ')}`);
  if (r.salts) lines.push(`  salts (private: they open the commitments) → ${join(r.proofDir, 'salts.json')}`);
  const per = r.chunks.map((c) => `${c.seconds.prove.toFixed(2)} s`).join(', ');
  return {
    ok: r.verification.ok,
    json: { proofDir: r.proofDir, outputs: r.outputs, ...(r.salts ? { salts: r.salts } : {}), chunks: r.chunks.map((c) => ({ index: c.index, publicSignals: c.publicSignals, seconds: c.seconds })), verification: r.verification, seconds: r.seconds },
    text: [`proved ${r.chunks.length} chunks (${per}), links verified → ${r.proofDir}`, ...lines].join('\n'),
  };
}

export async function verifySplitVerb(buildDir: string, name: string | undefined): Promise<VerbResult> {
  const r = await verifySplit({ buildDir, proofs: readSplitProof(buildDir, name) });
  const weights = r.weights ? `; weights commitments (per chunk): ${r.weights.map((w) => w || '-').join(', ')}` : '';
  return { ok: r.ok, json: { verified: r.ok, ...r }, text: r.ok ? `verified: ${r.chunks.length} chunk proofs and ${r.links.length} link(s)${weights}` : `INVALID: ${r.errors.join('; ')}` };
}
