/**
 * Proofs of training: the generator of the main component of circuits/train.circom for given
 * parameters, its build folder (buildStandalone), the witness input, and the whole flow
 * (trainProof: committed dataset + initial weights → Groth16 proof, weights.json, model.onnx;
 * chainTraining: several proofs whose h1 → h0 and start positions link).
 *
 * Public signals, in this order: [root, h0, h1, start] (public inputs of the main component).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Groth16Proof } from 'snarkjs';
import { normalizeInput } from '../circom/witness.js';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { attr, buildModel, type ModelSpec } from '../onnx/write.js';
import { sizeOf } from '../ir/graph.js';
import { circuitsDir } from '../paths.js';
import type { ProverBackend } from '../prover/index.js';
import { leafHeader, leafIv, loadDataset, type Dataset, type SampleMeaning } from './dataset-format.js';
import { weightsHeader } from './headers.js';
import type { MerkleTree } from './merkle.js';
import { headerIv, signedCommit, type CommitHeader } from './poseidon.js';
import { buildStandalone, proveStandalone, readStandalone, verifyStandalone, type StandaloneInfo } from './standalone.js';
import {
  checkWeights, classesOf, dequantize, planTraining, seededWeights, trainFloat, trainSteps, weightCount, weightsWanted, weightTensors,
  type TrainModel, type TrainParams, type TrainPlan, type TrainResult, type WeightsLayout,
} from './train.js';
import { maxOf } from '../arrays.js';

export const TRAIN_PUBLIC_SIGNALS = ['root', 'h0', 'h1', 'start'] as const;
export const WEIGHTS_FORMAT = 'zkonnx-weights/2';
export const WEIGHTS_RULE = 'SignedCommit(n, wbits, iv)(the n weights in the order of the trained ONNX\'s tensors, each row by row: [w_0, …, w_{F−1}, b] for one output, W[F,C] then C[C] for softmax, W1, B1, W2, B2 for an mlp), iv = headerIv(commitHeader) (weightsHeader of those tensors at weightScale; circuits/commit.circom)';

/** What the training circuit's weights mean: the model's kind and sizes (F, C, H), their scale and width. */
export type WeightsMeaning = WeightsLayout & Pick<TrainParams, 'weightScale' | 'wbits'>;

/**
 * The initializers of the trained ONNX model (trainedOnnx), in order, all at scale s_w: W[F,C]
 * (W[j][c] multiplies feature j into output c) and C[C], the biases, or an mlp's W1[F,H], B1[H],
 * W2[H,C], B2[C]. The weights header lists exactly these tensors, so a model compiled from that
 * ONNX with --weights hashed commits to its weights as h1 does.
 */
export function trainedTensors(p: WeightsMeaning): Array<{ name: string; shape: number[]; scale: number }> {
  return weightTensors(p).map((t) => ({ ...t, scale: p.weightScale }));
}

/** The weights list cut into trainedTensors' values. */
function splitTensors<T>(p: WeightsMeaning, w: readonly T[]): T[][] {
  let at = 0;
  return trainedTensors(p).map((t) => { const n = sizeOf(t.shape); at += n; return w.slice(at - n, at); });
}

/** The header of h0 and h1: weightsHeader over trainedTensors, at wbits. */
export function trainWeightsHeader(p: WeightsMeaning): CommitHeader {
  return weightsHeader(trainedTensors(p).map(({ shape, scale }) => ({ shape, scale })), p.wbits);
}

/** The sample header's fields of the dataset a plan trains on (its leaves' meaning). */
export function sampleMeaning(p: Pick<TrainParams, 'features' | 'dataBits' | 'featureScale' | 'labelScale' | 'labels'>): SampleMeaning {
  return { features: p.features, bits: p.dataBits, featureScale: p.featureScale, labelScale: p.labelScale, labels: p.labels };
}

/** The templates of circuits/train.circom without pragma and includes (they go in the header). */
export function trainTemplates(): string {
  return readFileSync(join(circuitsDir(), 'train.circom'), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(pragma|include)\b/.test(l))
    .join('\n');
}

function varArray(fn: string, values: readonly bigint[]): string {
  const lines = [`function ${fn}() {`, `    var a[${Math.max(1, values.length)}];`];
  if (values.length === 0) lines.push('    a[0] = 0;');
  for (let i = 0; i < values.length; i += 8) lines.push(`    ${values.slice(i, i + 8).map((v, j) => `a[${i + j}] = ${v};`).join(' ')}`);
  lines.push('    return a;', '}');
  return lines.join('\n');
}

/** The template arguments of TrainSGD, named (circuit.json keeps them). */
export function trainTemplateArgs(plan: TrainPlan): Record<string, number | bigint> {
  const p = plan.params;
  if (plan.mlp) return mlpTemplateArgs(plan);
  // the residual's function: the sigmoid (logistic) or exp (softmax); unused by linear
  const s = plan.sigmoid ?? plan.softmax;
  return {
    F: p.features, B: p.batch, K: p.steps, NC: classesOf(p), depth: p.depth, dataBits: p.dataBits, wbits: p.wbits,
    leafIv: leafIv(sampleMeaning(p)), wIv: headerIv(trainWeightsHeader(p)),
    model: p.model === 'softmax' ? 2 : p.model === 'logistic' ? 1 : 0, sx: p.featureScale, ty: plan.ty,
    kz: s?.kz ?? 0, bz: s?.bz ?? 1, dc: s?.dc ?? 1, D: s?.domainBits ?? 1, segBits: s?.poly.segBits ?? 0,
    deg: s?.poly.degree ?? 1, pshift: s?.shift ?? 0, bo: s?.bo ?? 1, C: 0n, k: plan.k, up: plan.up,
    bq: plan.softmax?.bq ?? 1, bb: plan.softmax?.bb ?? 1,
  };
}

/** TrainMLP's arguments, named (circuits/train.circom). */
function mlpTemplateArgs(plan: TrainPlan): Record<string, number | bigint> {
  const p = plan.params;
  const s = plan.softmax!;
  const m = plan.mlp!;
  return {
    F: p.features, H: m.hidden, NC: classesOf(p), B: p.batch, K: p.steps, depth: p.depth, dataBits: p.dataBits, wbits: p.wbits,
    leafIv: leafIv(sampleMeaning(p)), wIv: headerIv(trainWeightsHeader(p)), sx: p.featureScale, k1: m.k1, ba: m.ba, sa: m.actScale,
    kz: s.kz, bz: s.bz, dc: s.dc, D: s.domainBits, segBits: s.poly.segBits, deg: s.poly.degree, pshift: s.shift, bo: s.bo,
    ty: plan.ty, bq: s.bq, bb: s.bb, C: 0n, kd: m.kd, bd: m.bd, k: plan.k, up: plan.up, k2: m.k2, up2: m.up2,
  };
}

/** The circuit without pragma and includes: templates, the sigmoid coefficients, the main component. */
export function trainCircuitBody(plan: TrainPlan): string {
  const a = trainTemplateArgs(plan);
  const fn = plan.sigmoid ?? plan.softmax;
  const coef = fn?.poly.coef ?? [0n];
  const args = Object.entries(a).map(([k, v]) => (k === 'C' ? 'train_poly()' : String(v))).join(', ');
  const p = plan.params;
  return [
    trainTemplates().trim(),
    '',
    `// ${p.model === 'mlp' ? `mlp (${p.hidden} ReLU units, softmax)` : `${p.model} regression`}${classesOf(p) > 1 ? ` over ${classesOf(p)} classes` : ''}, F=${p.features}, B=${p.batch}, k=${p.steps}, depth=${p.depth}, lr=2^-${p.lrShift}`,
    `// bounds: |x| ≤ ${plan.bounds.x}, |w| ≤ ${plan.bounds.w}, |z| ≤ ${plan.bounds.z}, |e| ≤ ${plan.bounds.e}, |g| ≤ ${plan.bounds.g}`,
    `// leaf header (leafIv): ${JSON.stringify(leafHeader(sampleMeaning(p)))}`,
    `// weights header (wIv, h0 and h1): ${JSON.stringify(trainWeightsHeader(p))}`,
    fn ? `// ${plan.sigmoid ? 'sigmoid' : 'exp'}: ${2 ** fn.poly.segBits} pieces of degree ${fn.poly.degree}, max error ${fn.maxError.toExponential(2)}` : '// (no sigmoid or exp: the coefficients below are unused)',
    varArray('train_poly', coef),
    '',
    `component main {public [${TRAIN_PUBLIC_SIGNALS.join(', ')}]} = ${plan.mlp ? 'TrainMLP' : 'TrainSGD'}(${args});`,
    '',
  ].join('\n');
}

export const TRAIN_INCLUDES = ['poseidon.circom', 'zkonnx.circom', 'commit.circom'];

/** The whole circom file (for buildStandalone, which puts zkonnx.circom and commit.circom beside it). */
export function trainCircuitSource(plan: TrainPlan): string {
  return ['pragma circom 2.1.6;', ...TRAIN_INCLUDES.map((f) => `include "${f}";`), '', trainCircuitBody(plan)].join('\n');
}

/** Folder name: <model>-f<F>-b<B>-k<k>-d<depth>-<hash of the source> (scales and widths are in the hash). */
export function trainBuildName(plan: TrainPlan): string {
  const p = plan.params;
  const h = createHash('sha256').update(trainCircuitSource(plan)).digest('hex').slice(0, 8);
  return `${p.model}-f${p.features}-b${p.batch}-k${p.steps}-d${p.depth}-${h}`;
}

/** Builds (compile + Groth16 setup) the training circuit, or reuses the folder when it is complete. */
export async function buildTrainCircuit(plan: TrainPlan, opts: { buildRoot?: string; ptau?: string; progress?: Progress } = {}): Promise<{ dir: string; info: StandaloneInfo; built: boolean }> {
  const dir = resolve(opts.buildRoot ?? join('build', 'train'), trainBuildName(plan));
  if (existsSync(join(dir, 'circuit.json')) && existsSync(join(dir, 'circuit_final.zkey'))) return { dir, info: readStandalone(dir), built: false };
  opts.progress?.step?.(`training circuit ${trainBuildName(plan)}`);
  const info = await buildStandalone({
    dir, source: trainCircuitSource(plan), kind: `proof of training: ${plan.params.steps} SGD step(s), ${plan.params.model} regression`,
    publicSignals: [...TRAIN_PUBLIC_SIGNALS], ptau: opts.ptau, progress: opts.progress,
    params: {
      ...plan.params, template: stringify(trainTemplateArgs(plan)), bounds: plan.bounds, sigmoid: plan.sigmoid ? stringify(plan.sigmoid) : undefined,
      softmax: plan.softmax ? stringify(plan.softmax) : undefined, mlp: plan.mlp,
      leafHeader: leafHeader(sampleMeaning(plan.params)), weightsHeader: trainWeightsHeader(plan.params),
    },
  });
  return { dir, info, built: true };
}

const stringify = (o: object): Record<string, unknown> => JSON.parse(JSON.stringify(o, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

/** The circuit input (signal name → signed integers) for k steps from w0 at `start`. */
export function trainWitnessInput(plan: TrainPlan, d: { x: readonly (readonly bigint[])[]; y: readonly bigint[]; tree: MerkleTree }, w0: readonly bigint[], start: number, h: { h0: bigint; h1: bigint }): Record<string, unknown> {
  const p = plan.params;
  const at = (t: number, i: number) => start + t * p.batch + i;
  const steps = Array.from({ length: p.steps }, (_, t) => t);
  const batch = Array.from({ length: p.batch }, (_, i) => i);
  return {
    root: d.tree.root,
    h0: h.h0,
    h1: h.h1,
    start: BigInt(start),
    w0: [...w0],
    x: steps.map((t) => batch.map((i) => [...d.x[at(t, i)]!])),
    y: steps.map((t) => batch.map((i) => d.y[at(t, i)]!)),
    siblings: steps.map((t) => batch.map((i) => d.tree.path(at(t, i)).siblings)),
  };
}

// ---------------------------------------------------------------------------------------------
// weights.json and the ONNX export

export interface WeightsFile {
  format: typeof WEIGHTS_FORMAT;
  model: TrainModel;
  features: number;
  /** A softmax's or an mlp's classes C (absent: one output). */
  classes?: number;
  /** An mlp's hidden units H. */
  hidden?: number;
  /** real ≈ q / 2^weightScale */
  weightScale: number;
  wbits: number;
  /** The scale of the inputs the model expects (the dataset's feature scale). */
  featureScale: number;
  /** One output (linear, logistic): w_0 … w_{F−1} and the bias b, decimal integers. */
  w?: string[];
  b?: string;
  /** Several (softmax, mlp): the trained ONNX's tensors in order, each row by row, decimal integers and reals. */
  tensors?: Array<{ name: string; shape: number[]; values: string[]; real: number[] }>;
  /** SignedCommit(n, wbits, headerIv(commitHeader)) of every weight in order (w..., b or the tensors'), decimal. */
  commitment: string;
  commitRule: string;
  /** What the commitment binds besides the integers: trainWeightsHeader (the ONNX tensors' shapes and scale). */
  commitHeader: CommitHeader;
  /** The same weights as reals (q / 2^weightScale), for people. */
  real?: { w: number[]; b: number };
}

/** h0 / h1 of the weights list (trainedTensors' order): SignedCommit(n, wbits, iv) with iv = headerIv(trainWeightsHeader(p)). */
export async function weightsCommitment(p: WeightsMeaning, w: readonly bigint[]): Promise<bigint> {
  if (w.length !== weightCount(p)) throw new ZkonnxError('INPUT_INVALID', `weights: expected ${weightsWanted(p)}, got ${w.length}`);
  return signedCommit(w, p.wbits, 'weight', { iv: headerIv(trainWeightsHeader(p)) });
}

export async function makeWeightsFile(plan: TrainPlan, w: readonly bigint[]): Promise<WeightsFile> {
  const p = plan.params;
  checkWeights(plan, w);
  const F = p.features;
  const head = { format: WEIGHTS_FORMAT, model: p.model, features: F } as const;
  const scales = { weightScale: p.weightScale, wbits: p.wbits, featureScale: p.featureScale };
  const commit = { commitment: String(await weightsCommitment(p, w)), commitRule: WEIGHTS_RULE, commitHeader: trainWeightsHeader(p) };
  if (classesOf(p) === 1) {
    return { ...head, ...scales, w: w.slice(0, F).map(String), b: String(w[F]), ...commit, real: { w: w.slice(0, F).map((q) => dequantize(q, p.weightScale)), b: dequantize(w[F]!, p.weightScale) } };
  }
  const values = splitTensors(p, w);
  return {
    ...head, classes: classesOf(p), ...(p.hidden !== undefined ? { hidden: p.hidden } : {}), ...scales,
    tensors: trainedTensors(p).map((t, i) => ({ name: t.name, shape: t.shape, values: values[i]!.map(String), real: values[i]!.map((q) => dequantize(q, p.weightScale)) })),
    ...commit,
  };
}

/** Reads weights.json and checks that it fits the plan (features, scale, width) and its commitment. */
export async function readWeightsFile(file: string, plan: TrainPlan): Promise<bigint[]> {
  if (!existsSync(file)) throw new ZkonnxError('ARTIFACT_MISSING', `weights file not found: ${file}`, { file });
  const f = JSON.parse(readFileSync(file, 'utf8')) as WeightsFile;
  const p = plan.params;
  if (f.format !== WEIGHTS_FORMAT) {
    const old = (f.format as string) === 'zkonnx-weights/1';
    throw new ZkonnxError('INPUT_INVALID', `${file}: format ${JSON.stringify(f.format)}, expected ${WEIGHTS_FORMAT}${old ? ' (its commitment binds the integers but not their scale)' : ''}`, {
      file, ...(old ? { hint: 'prove that training again with this zkonnx: h0 and h1 are now commitments under the weights header' } : {}),
    });
  }
  const hints = {
    features: 'the weights belong to another dataset', classes: 'the weights are another model\'s (a softmax has a column per class)', featureScale: 'the weights were trained on features at another scale',
    weightScale: `pass --weight-scale ${f.weightScale}`, wbits: `pass --wbits ${f.wbits}`,
  };
  const got = { ...f, classes: f.classes ?? 1, hidden: f.hidden ?? 0 };
  const wanted = [['features', p.features], ['classes', classesOf(p)], ['hidden', p.hidden ?? 0], ['featureScale', p.featureScale], ['weightScale', p.weightScale], ['wbits', p.wbits]] as const;
  for (const [k, want] of wanted) {
    if (got[k] !== want) throw new ZkonnxError('INPUT_INVALID', `${file}: ${k} is ${got[k]}, this training uses ${want}`, { file, hint: k === 'hidden' ? `pass --hidden ${f.hidden ?? '(none: the weights are not an mlp\'s)'}` : hints[k] });
  }
  const shapes = (f.tensors ?? []).map((t) => `${t.name}[${t.shape.join(',')}]`).join(' ');
  const want = trainedTensors(p).map((t) => `${t.name}[${t.shape.join(',')}]`).join(' ');
  if (f.tensors ? shapes !== want : classesOf(p) !== 1 || !f.w || f.b === undefined) {
    throw new ZkonnxError('INPUT_INVALID', `${file}: its weights are ${f.tensors ? shapes : 'w and b'}, this training's are ${classesOf(p) === 1 ? 'w and b' : want}`, { file });
  }
  const w = (f.tensors ? f.tensors.flatMap((t) => t.values) : [...f.w!, f.b!]).map(BigInt);
  checkWeights(plan, w, file);
  const c = await weightsCommitment(p, w);
  if (f.commitment !== undefined && f.commitment !== String(c)) throw new ZkonnxError('INPUT_INVALID', `${file}: the weights hash to ${c}, the file says ${f.commitment}`, { file });
  return w;
}

/**
 * Gemm(x[1,F], W[F,C], C[C]) (+ Sigmoid, or Softmax over the C classes), or an mlp's Gemm(x, W1,
 * B1) → Relu → Gemm(·, W2, B2) → Softmax: the trained model, float weights exactly q / 2^s_w.
 */
export function trainedOnnx(plan: TrainPlan, w: readonly bigint[]): Uint8Array {
  const p = plan.params;
  const F = p.features;
  const C = classesOf(p);
  const values = splitTensors(p, w);
  const initializers = trainedTensors(p).map((t, i) => ({ name: t.name, dims: t.shape, data: Float32Array.from(values[i]!, (q) => dequantize(q, t.scale)) }));
  const gemm = (name: string, inputs: string[], output: string) => ({ name, op: 'Gemm', inputs, outputs: [output], attrs: { alpha: attr.float(1), beta: attr.float(1) } });
  if (p.model === 'mlp') {
    return buildModel({
      graphName: 'zkonnx_mlp', producer: 'zkonnx train-proof', inputs: [{ name: 'input', shape: [1, F] }], outputs: [{ name: 'output', shape: [1, C] }], initializers,
      nodes: [
        gemm('/Gemm1', ['input', 'W1', 'B1'], 'h'), { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['a'] },
        gemm('/Gemm2', ['a', 'W2', 'B2'], 'logit'), { name: '/Softmax', op: 'Softmax', inputs: ['logit'], outputs: ['output'], attrs: { axis: attr.int(1) } },
      ],
      metadata: { weightScale: String(p.weightScale), featureScale: String(p.featureScale), wbits: String(p.wbits), classes: String(C), hidden: String(p.hidden) },
    });
  }
  const spec: ModelSpec = {
    graphName: `zkonnx_${p.model}_regression`,
    producer: 'zkonnx train-proof',
    inputs: [{ name: 'input', shape: [1, F] }],
    outputs: [{ name: 'output', shape: [1, C] }],
    // trainedTensors: the tensors (and order) the weights header lists
    initializers,
    nodes: [gemm('/Gemm', ['input', 'W', 'C'], p.model === 'linear' ? 'output' : 'logit')],
    metadata: { weightScale: String(p.weightScale), featureScale: String(p.featureScale), wbits: String(p.wbits), ...(C > 1 ? { classes: String(C) } : {}) },
  };
  if (p.model === 'logistic') spec.nodes.push({ name: '/Sigmoid', op: 'Sigmoid', inputs: ['logit'], outputs: ['output'] });
  if (p.model === 'softmax') spec.nodes.push({ name: '/Softmax', op: 'Softmax', inputs: ['logit'], outputs: ['output'], attrs: { axis: attr.int(1) } });
  return buildModel(spec);
}

// ---------------------------------------------------------------------------------------------
// trainProof / chainTraining

export interface TrainProofOptions {
  /** A committed dataset folder (manifest.json + samples.json). */
  dataDir: string;
  model: TrainModel;
  steps: number;
  batch: number;
  /** Position of the first sample (default 0). */
  start?: number;
  /** Initial weights: a weights.json file, integers in trainedTensors' order, or zeros (an mlp: seededWeights(seed), default). */
  init?: string | readonly bigint[];
  /** An mlp's hidden units (default 16). */
  hidden?: number;
  /** An mlp's initial weights without `init`: seededWeights(params, seed) (default seed 0). */
  seed?: number;
  /** Learning rate 2^−lrShift (default 4). */
  lrShift?: number;
  /** Weight width (default 16) and scale (default wbits − 4). */
  wbits?: number;
  weightScale?: number;
  /** Where proof.json, public.json, weights.json, model.onnx go (default <build>/proofs/start-<start>). */
  outDir?: string;
  /** Parent of the circuit folders (default build/train). */
  buildRoot?: string;
  ptau?: string;
  backend?: ProverBackend;
  progress?: Progress;
  /** An already loaded dataset (chainTraining loads it once). */
  dataset?: Dataset & { tree: MerkleTree };
}

export interface TrainProofResult {
  buildDir: string;
  outDir: string;
  constraints: number;
  proof: Groth16Proof;
  publicSignals: string[];
  verified: boolean;
  root: string;
  h0: string;
  h1: string;
  start: number;
  /** Where the next proof of a chain starts. */
  nextStart: number;
  weights: bigint[];
  weightsFile: string;
  onnxFile: string;
  trace: TrainResult['trace'];
  /** The float trainer from the same (dequantized) start on the same samples. */
  float: { weights: number[]; maxAbsDiff: number };
  sigmoidMaxError?: number;
  /** Softmax: the exp polynomial's largest error over its domain (real units). */
  expMaxError?: number;
  seconds: { build: number; witness: number; prove: number };
}

/** The training parameters of a committed dataset for the given options. */
export function trainParamsFor(d: Dataset, o: Pick<TrainProofOptions, 'model' | 'steps' | 'batch' | 'lrShift' | 'wbits' | 'weightScale' | 'hidden'>): TrainParams {
  const wbits = o.wbits ?? 16;
  const multi = o.model === 'softmax' || o.model === 'mlp';
  if (multi && d.manifest.labels !== 'class') {
    throw new ZkonnxError('INPUT_INVALID', `${o.model === 'mlp' ? 'the mlp' : 'softmax regression'} learns classes; this dataset's labels are values`, { hint: 'commit the dataset with --labels class' });
  }
  if (o.hidden !== undefined && o.model !== 'mlp') throw new ZkonnxError('BAD_ARGUMENT', `--hidden is for --model mlp, not ${o.model}`);
  return {
    model: o.model, ...(multi ? { classes: d.manifest.classes ?? maxOf(d.y.map(Number)) + 1 } : {}), ...(o.model === 'mlp' ? { hidden: o.hidden ?? 16 } : {}), features: d.manifest.features, batch: o.batch, steps: o.steps, depth: d.manifest.depth, dataBits: d.manifest.bits,
    featureScale: d.manifest.featureScale, labelScale: d.manifest.labelScale, labels: d.manifest.labels, weightScale: o.weightScale ?? wbits - 4, wbits, lrShift: o.lrShift ?? 4,
  };
}

/** k SGD steps on a committed dataset, proven: the proof, the new weights.json and model.onnx. */
export async function trainProof(o: TrainProofOptions): Promise<TrainProofResult> {
  const { progress } = o;
  const data = o.dataset ?? await loadDataset(o.dataDir);
  const plan = planTraining(trainParamsFor(data, o));
  const p = plan.params;
  const start = o.start ?? 0;
  const F = p.features;
  if (o.seed !== undefined && (p.model !== 'mlp' || o.init !== undefined)) {
    throw new ZkonnxError('BAD_ARGUMENT', p.model === 'mlp' ? '--seed and --init both give the initial weights: pass one' : `--seed gives an mlp's initial weights; ${p.model} regression starts from zeros or --init`);
  }
  const w0 = o.init === undefined ? (p.model === 'mlp' ? seededWeights(p, o.seed ?? 0) : new Array<bigint>(weightCount(p)).fill(0n)) : typeof o.init === 'string' ? await readWeightsFile(o.init, plan) : [...o.init];
  checkWeights(plan, w0, 'initial weights');
  if (p.model === 'logistic') {
    // not a circuit rule (the gradient is defined for any y), but anything else is a mistake
    const one = 1n << BigInt(p.labelScale);
    const used = Array.from({ length: p.steps * p.batch }, (_, i) => start + i).filter((i) => i < data.y.length);
    const odd = used.find((i) => data.y[i]! < 0n || data.y[i]! > one);
    if (odd !== undefined) {
      throw new ZkonnxError('INPUT_INVALID', `logistic regression needs labels in [0, 1]; sample ${odd} has ${dequantize(data.y[odd]!, p.labelScale)}`, { hint: 'commit a binary dataset (labels 0/1), e.g. one class against the rest' });
    }
  }
  const trained = trainSteps(plan, w0, data.x, data.y, start);
  const h0 = await weightsCommitment(p, w0);
  const h1 = await weightsCommitment(p, trained.weights);

  const t0 = performance.now();
  const { dir, info } = await buildTrainCircuit(plan, { buildRoot: o.buildRoot, ptau: o.ptau, progress });
  const buildSeconds = (performance.now() - t0) / 1000;
  const outDir = resolve(o.outDir ?? join(dir, 'proofs', `start-${start}`));
  mkdirSync(outDir, { recursive: true });
  const input = trainWitnessInput(plan, data, w0, start, { h0, h1 });
  writeFileSync(join(outDir, 'input.json'), JSON.stringify(input, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 1));
  progress?.step?.(`proving ${p.steps} step(s) of ${p.batch} (${info.constraints} constraints)`);
  const r = await proveStandalone(dir, normalizeInput(input), { outDir, backend: o.backend, progress });
  const expected = [data.tree.root, h0, h1, BigInt(start)].map(String);
  if (r.publicSignals.join() !== expected.join()) {
    throw new ZkonnxError('WITNESS_MISMATCH', `the proof's public signals [${r.publicSignals}] differ from the trainer's [${expected}]`, { hint: 'the build folder may be stale: delete it' });
  }
  const verified = await verifyStandalone(dir, r.proof, r.publicSignals);

  const wf = await makeWeightsFile(plan, trained.weights);
  const weightsFile = join(outDir, 'weights.json');
  writeFileSync(weightsFile, JSON.stringify(wf, null, 1));
  const onnxFile = join(outDir, 'model.onnx');
  writeFileSync(onnxFile, trainedOnnx(plan, trained.weights));

  // float reference: same schedule, dequantized data and start
  const xr = data.x.map((r) => r.map((v) => dequantize(v, p.featureScale)));
  const yr = data.y.map((v) => dequantize(v, p.labelScale));
  const fw = trainFloat(p, w0.map((q) => dequantize(q, p.weightScale)), xr, yr, start);
  const maxAbsDiff = maxOf(fw.map((v, j) => Math.abs(v - dequantize(trained.weights[j]!, p.weightScale))));
  writeFileSync(join(outDir, 'training.json'), JSON.stringify({
    params: p, ...(p.model === 'mlp' && o.init === undefined ? { seed: o.seed ?? 0 } : {}), root: String(data.tree.root), h0: String(h0), h1: String(h1), start, nextStart: start + p.steps * p.batch,
    publicSignals: r.publicSignals, verified, float: { weights: fw, maxAbsDiff }, sigmoidMaxError: plan.sigmoid?.maxError, expMaxError: plan.softmax?.maxError,
  }, null, 1));
  return {
    buildDir: dir, outDir, constraints: info.constraints, proof: r.proof, publicSignals: r.publicSignals, verified,
    root: String(data.tree.root), h0: String(h0), h1: String(h1), start, nextStart: start + p.steps * p.batch,
    weights: trained.weights, weightsFile, onnxFile, trace: trained.trace, float: { weights: fw, maxAbsDiff }, sigmoidMaxError: plan.sigmoid?.maxError,
    ...(plan.softmax ? { expMaxError: plan.softmax.maxError } : {}),
    seconds: { build: buildSeconds, ...r.seconds },
  };
}

export interface ChainResult {
  proofs: TrainProofResult[];
  /** Every proof verifies, shares the root, and link i's h0 = link i−1's h1 and its start follows. */
  linked: boolean;
  problems: string[];
}

/** Checks the links of a chain of training proofs, from their public signals alone. */
export function checkChain(publicSignals: readonly (readonly string[])[], stepSamples: number): string[] {
  const problems: string[] = [];
  publicSignals.forEach((s, i) => {
    if (s.length !== 4) problems.push(`proof ${i}: ${s.length} public signals, expected 4 [root, h0, h1, start]`);
    if (i === 0) return;
    const prev = publicSignals[i - 1]!;
    if (s[0] !== prev[0]) problems.push(`proof ${i}: root ${s[0]} differs from proof ${i - 1}'s ${prev[0]}`);
    if (s[1] !== prev[2]) problems.push(`proof ${i}: h0 ${s[1]} is not proof ${i - 1}'s h1 ${prev[2]}`);
    if (BigInt(s[3]!) !== BigInt(prev[3]!) + BigInt(stepSamples)) problems.push(`proof ${i}: start ${s[3]} does not follow proof ${i - 1}'s ${prev[3]} + ${stepSamples}`);
  });
  return problems;
}

/** `links` proofs in a row, each from the previous one's weights and next start; checks the links. */
export async function chainTraining(o: TrainProofOptions & { links: number }): Promise<ChainResult> {
  if (!Number.isInteger(o.links) || o.links < 1) throw new ZkonnxError('BAD_ARGUMENT', `a chain needs at least one proof, got ${o.links}`);
  const dataset = o.dataset ?? await loadDataset(o.dataDir);
  const base = o.outDir ? resolve(o.outDir) : undefined;
  const proofs: TrainProofResult[] = [];
  let init = o.init;
  let start = o.start ?? 0;
  for (let i = 0; i < o.links; i++) {
    // the seed gives the first link's initial weights; the others start from the previous link's
    const r = await trainProof({ ...o, dataset, init, start, seed: i === 0 ? o.seed : undefined, outDir: base ? join(base, `proof-${i}`) : undefined });
    proofs.push(r);
    init = r.weights;
    start = r.nextStart;
  }
  const problems = checkChain(proofs.map((r) => r.publicSignals), o.steps * o.batch);
  proofs.forEach((r, i) => { if (!r.verified) problems.push(`proof ${i} does not verify`); });
  return { proofs, linked: problems.length === 0, problems };
}
