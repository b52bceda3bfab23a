// The circuit of a build folder (a whole model, or one chunk of a split one): its files, the
// quantized graph it was written from, and the --check-circom cross-check. Shared by api.ts and
// split.ts, so that a whole model and a chunk go through the same code.
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { QuantGraph } from '../ir/graph.js';
import { quantGraphFromJson, quantGraphLines } from '../ir/serialize.js';
import type { Progress } from '../log.js';
import { BuildPaths, circuitsDir } from '../paths.js';
import { checkCircom, type CircomCheck } from './check-circom.js';
import { circuitWitness, writeCircuit, type WrittenCircuit } from './circuit.js';
import { emitCircuitLines, inputSignal, type ChunkLinks, type CircuitVisibility } from './emit.js';
import type { CircuitInputs } from './model-circuit.js';

/**
 * The build's quantized graph, which the witness is computed from: it must be the one circuit.r1cs
 * was written from (settings.json records its hash), or the witness would not fit the keys.
 */
export function loadQuantGraph(dir: string, expectSha256?: string): QuantGraph {
  const file = new BuildPaths(dir).require('qgraph', 'compile');
  // hashed as the bytes on disk (compile hashed the text it wrote, UTF-8: the same digest),
  // decoded once: reading as text and hashing that re-encodes 34 MB (mnist-burn-bn), ~0.1 s
  const bytes = readFileSync(file);
  if (expectSha256 && createHash('sha256').update(bytes).digest('hex') !== expectSha256) {
    throw new ZkonnxError('WITNESS_MISMATCH', `${file} is not the quantized graph that circuit.r1cs was written from (its hash differs from the one in settings.json)`, {
      file, hint: 'the build folder was changed after compile: compile again',
    });
  }
  return quantGraphFromJson(bytes);
}

/**
 * A model's (or chunk's) circuit in a build folder: circuit.circom and the template libraries
 * (for audit, circom users and --check-circom), circuit.r1cs and circuit.sym (written by zkonnx).
 */
export async function writeModelCircuit(paths: BuildPaths, qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks, progress?: Progress): Promise<WrittenCircuit> {
  writeLines(paths.file('circuit'), emitCircuitLines(qg, vis, 'zkonnx.circom', links));
  copyFileSync(join(circuitsDir(), 'zkonnx.circom'), paths.file('library'));
  copyFileSync(join(circuitsDir(), 'commit.circom'), paths.file('commitLibrary'));
  return writeCircuit(qg, vis, links, paths.file('r1cs'), paths.file('sym'), progress);
}

/** Writes `lines` joined by newlines, a batch at a time (the whole may be past V8's longest string); returns their sha256. */
export function writeLines(file: string, lines: readonly string[]): string {
  const fd = openSync(file, 'w');
  const hash = createHash('sha256');
  try {
    let batch: string[] = [];
    let size = 0;
    const flush = () => { const text = batch.join('\n'); hash.update(text); writeSync(fd, text); batch = []; size = 0; };
    lines.forEach((line, i) => {
      batch.push(line);
      size += line.length;
      if (size > 1 << 24 && i + 1 < lines.length) { batch.push(''); flush(); } // '' ends the batch with the newline
    });
    flush();
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** qgraph.json, an act a line (no size limit); returns its sha256, which settings.json records. */
export function writeQuantGraph(file: string, qg: QuantGraph): string {
  return writeLines(file, quantGraphLines(qg));
}

/** The main component's input signals of a circuit input: in<i>, link_in of a split chunk, a salted build's salts. */
export function circuitInputSignals(inputs: CircuitInputs): Record<string, string[]> {
  const rec: Record<string, string[]> = {};
  inputs.qin.forEach((v, i) => { rec[inputSignal(i)] = v.map(String); });
  if (inputs.linkIn) rec.link_in = inputs.linkIn.map(String);
  for (const [name, salt] of Object.entries(inputs.salts ?? {})) rec[name] = [String(salt)];
  return rec;
}

/** --check-circom: circom's system for the folder's circuit.circom must be the one zkonnx wrote. */
export async function checkAgainstCircom(paths: BuildPaths, qg: QuantGraph, vis: CircuitVisibility, links: ChunkLinks, sample: CircuitInputs, progress?: Progress): Promise<CircomCheck> {
  const ours = await circuitWitness(qg, vis, links, sample, paths.file('r1cs'));
  const check = await checkCircom({
    circuitPath: paths.file('circuit'), r1csPath: paths.file('r1cs'), symPath: paths.file('sym'),
    witness: { input: circuitInputSignals(sample), ours }, progress,
  });
  if (!check.same) {
    throw new ZkonnxError('CIRCUIT_MISMATCH', `${paths.file('circuit')}: circom builds another constraint system than the one zkonnx wrote:\n  ${check.differences.join('\n  ')}`, {
      file: paths.file('circuit'), hint: 'this is a bug in zkonnx: please report it with the model',
    });
  }
  progress?.info?.(`check-circom: circom --O1 builds the same ${check.constraints} constraints and ${check.wires} wires, and the same witness (circom ${check.circomSeconds.toFixed(1)} s)`);
  return check;
}

