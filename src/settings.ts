// settings.json: what compile records about a build (scales, shapes, visibility, bit bounds,
// the circuit's counts, accuracy, tool versions), read by every later step.
import type { TextSpec } from './ir/graph.js';
import { writeFileSync } from 'node:fs';
import type { CircomCheck } from './compiler/check-circom.js';
import type { PublicRun } from './compiler/emit.js';
import { readJson } from './inputs.js';
import type { QuantParams, Visibility, WeightVisibility } from './ir/graph.js';
import { BuildPaths } from './paths.js';
import type { SplitSettings } from './split.js';

export interface Settings {
  zkonnx: string;
  /** dims: the values given to the model's symbolic dimensions (compile --dim); fixed: inputs fixed at compile time (--fix-input) */
  /** maxTokens: tokens per string of a text input (compile --max-tokens), where the model has one */
  model: { name: string; path: string; sha256: string; dims?: Record<string, number>; fixed?: Record<string, number[]>; maxTokens?: number };
  /** salt: compile --salt (hashed input and output commitments are salted per proof) */
  visibility: { input: Visibility; output: Visibility; weights: WeightVisibility; salt?: boolean };
  params: QuantParams;
  /** The public signals in snarkjs's order: runs of outputs, commitments and public inputs. */
  publicSignals: PublicRun[];
  /**
   * With --weights hashed: the committed tensors, their scale and width, the commitment, and the
   * digest of the public architecture (src/ir/weights.ts architectureOf) other weights must share.
   * A split build's proofs carry a commitment per chunk, to the weight elements it reads
   * (`chunks`, '' for a chunk that reads none); `commitment` is then the whole model's, as an
   * unsplit build would carry it.
   */
  weights?: { tensors: { name: string; shape: number[]; scale: number }[]; bits: number; commitment: string; architecture?: string; chunks?: string[] };
  /**
   * categories: a string (categorical) input's table: the circuit's input is the index of the string in it, categories.length for any other string;
   * text: a text input's front (src/onnx/text.ts): the user gives strings of text.shape, each normalized and tokenized into `shape`'s codes
   */
  inputs: { name: string; signal: string; shape: number[]; scale: number; range: [string, string]; bits: number; calibrated: { min: number; max: number }; constraints: number; categories?: string[]; text?: TextSpec }[];
  /** categories: an output of computed strings (class labels): value k is categories[k] */
  outputs: { name: string; signal: string; shape: number[]; scale: number; bound: string; categories?: string[] }[];
  layers: { name: string; nodes: string[]; op: string; size: number; scale: number; shift: number; maxBits: number; accBound: string; maxError?: number; constraints: number }[];
  circuit: {
    constraints: number; wires: number; publicInputs: number; publicOutputs: number; privateInputs: number; compileSeconds: number;
    /** nonzero coefficients of the r1cs (A, B and C) */
    nonzeros?: number;
    /** sha256 of qgraph.json, the graph the r1cs was written from (prove checks it) */
    qgraphSha256?: string;
    /** compile --check-circom: circom's system for circuit.circom compared with the one zkonnx wrote */
    checkCircom?: Omit<CircomCheck, 'differences'>;
  };
  calibration: { source: string; samples: number };
  accuracy: AccuracyReport;
  /** ptau: the one of the largest power; a split build's chunks may each take another (chunkPtaus, by chunk). */
  setup?: { power: number; ptau: string; singleParty: boolean; seconds: number; chunkPtaus?: string[] };
  /** compile --split / --max-constraints: the chunk circuits under chunks/<k>/ (src/split.ts). */
  split?: SplitSettings;
  tools: Record<string, string>;
}

export interface AccuracyReport {
  /** Largest |dequantized circuit output − onnxruntime-web output| over the samples. */
  maxAbsError: number;
  /** Largest |onnxruntime-web output|. */
  maxAbsReference: number;
  /** max(1e-2, 1% of maxAbsReference): the bound the tests hold the error to. */
  tolerance: number;
  samples: number;
  /**
   * The sample worst off against its own tolerance, max(1e-2, 1% of its largest output): compile
   * refuses the build when that error is over it, unless allowInaccurate.
   */
  worst?: { sample: number; maxAbsError: number; tolerance: number };
  /** compile --allow-inaccurate: kept although some sample is off by more than its tolerance. */
  allowInaccurate?: boolean;
}

export function readSettings(buildDir: string): Settings {
  return readJson(new BuildPaths(buildDir).require('settings', 'compile')) as Settings;
}

export function writeSettings(buildDir: string, s: Settings): void {
  writeFileSync(new BuildPaths(buildDir).file('settings'), JSON.stringify(s, null, 2));
}

export interface OutputTensor {
  name: string;
  shape: number[];
  scale: number;
  /** The circuit's integers (signed decimal strings). */
  raw: string[];
  /** raw / 2^scale */
  values: number[];
  /** An output of computed strings (class labels): the table its codes index, and each value's string. */
  categories?: string[];
  labels?: string[];
}

