// The library API that Node scripts use; the CLI is a thin layer over it. Each function reads
// and writes the artifacts of one build folder (see paths.ts) and reports through `progress`.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { writeWtns } from './circom/witness.js';
import { checkAgainstCircom, loadQuantGraph, writeModelCircuit, writeQuantGraph } from './compiler/build.js';
import type { CircomCheck } from './compiler/check-circom.js';
import { checkCircuitMemory, checkCompileMemory } from './compiler/size.js';
import { CHECK_SHARE, worthChecking } from './compiler/freivalds.js';
import { circuitWitness, type WrittenCircuit } from './compiler/circuit.js';
import { inputSignal, outputSignal, publicLayout } from './compiler/emit.js';
import { expectedPublicSignals, saltsFor, weightsCommitment, type Salts } from './commit/public.js';
import { fieldToSigned } from './circom/r1cs.js';
import { architectureOf, liftWeights, type LiftedWeight } from './ir/weights.js';
import { loadWeights } from './model-weights.js';
import { ZkonnxError } from './errors.js';
import { checkSamples, encodeSample, loadSample, loadSamples, readJson, type InputData, type NumericSample, type Sample } from './inputs.js';
import type { FixedInput, NonLinear, QuantGraph, QuantParams, ValueInfo, Visibility, WeightVisibility } from './ir/graph.js';
import { linearize } from './ir/linearize.js';
import type { Progress } from './log.js';
import { inferAndFold } from './onnx/fold.js';
import { readOnnx } from './onnx/decode.js';
import { removeStale, lock, swapInto } from './fsafe.js';
import { BuildPaths, defaultBuildDir, packageRoot, proofFileIn } from './paths.js';
import { getProver, type ProverBackend } from './prover/index.js';
import { openZkey, type OpenedZkey } from './prover/zkey.js';
import { dequantize, execQuant, outputTensor, quantizeInputs } from './qexec/exec.js';
import { calibrate } from './quantize/calibrate.js';
import { DEFAULT_PARAMS, NO_HEADROOM_CAP, quantize } from './quantize/quantize.js';
import { runReference } from './quantize/reference.js';
import { referenceRun, startReference } from './quantize/reference-thread.js';
import { contributePhase2 } from './setup/phase2.js';
import { setupGroth16, type SetupResult } from './setup/groth16.js';
import { verifyZkey, type Contribution, type KeyVerification } from './setup/verify-zkey.js';
import { verifyPtau as verifyPtauFile, type PtauVerification } from './setup/verify-ptau.js';
import { checkKeysAsync, checkVkey, recordKeys, sha256File } from './setup/keys.js';
import { snarkjs, snarkLogger } from './snark.js';
import { groth16Problem, verifyGroth16 } from './verify-proof.js';

export { groth16Problem, verifyGroth16 };
import { exportSolidityVerifier } from './verifier/solidity.js';
import { verifyOnChain as verifyOnChainRaw, type OnchainResult } from './verifier/onchain.js';
import { readSettings, writeSettings, type AccuracyReport, type OutputTensor, type Settings } from './settings.js';
import { compileSplit, estimateConstraints, type SplitOptions, type SplitSettings } from './split.js';
import { maxOf } from './arrays.js';

export type { Groth16Proof, VerificationKey } from 'snarkjs';
export { readSettings, type AccuracyReport, type OutputTensor, type Settings } from './settings.js';
export { checkAgainstCircom, circuitInputSignals, loadQuantGraph, writeModelCircuit } from './compiler/build.js';
export type { OnchainResult } from './verifier/onchain.js';
export type { SetupResult } from './setup/groth16.js';
export type { PtauVerification, PtauContribution } from './setup/verify-ptau.js';

const VERSION = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;

export const version = VERSION;

// ---------------------------------------------------------------- settings.json

function toolVersions(): Record<string, string> {
  const v = (pkg: string) => {
    try {
      const p = join(dirname(new URL(import.meta.resolve(`${pkg}/package.json`)).pathname), 'package.json');
      return JSON.parse(readFileSync(p, 'utf8')).version as string;
    } catch {
      return 'unknown';
    }
  };
  return { zkonnx: VERSION, circom2: v('circom2'), snarkjs: v('snarkjs'), 'onnxruntime-web': v('onnxruntime-web'), node: process.version };
}

/** Verbs that work on one circuit refuse a split build with a pointer to what does. */
function refuseSplit(buildDir: string, what: string, instead: string): void {
  if (existsSync(new BuildPaths(buildDir).file('settings')) && readSettings(buildDir).split) {
    throw new ZkonnxError('BAD_ARGUMENT', `${resolve(buildDir)} is a split build (compile --split): ${what} works on one circuit`, { hint: instead });
  }
}

/** The folders that hold one circuit each: a split build's chunks, else the build itself. */
function circuitDirs(buildDir: string): string[] {
  const root = new BuildPaths(buildDir);
  const split = readSettings(buildDir).split;
  return split ? split.chunks.map((ch) => join(root.dir, ch.dir)) : [root.dir];
}

// ---------------------------------------------------------------- compile

const opLabel = (op: NonLinear) => (op.kind === 'rescale' ? (op.relu ? 'relu' : 'rescale') : op.kind === 'fn' ? op.fn : op.kind === 'mul' && op.relu ? 'mul+relu' : op.kind);

export interface CompileOptions {
  /** Path of the .onnx file. */
  model: string;
  /** Build folder; default build/<model name>. */
  outDir?: string;
  /** Calibration samples (file path or parsed); default: the proving input. */
  calibration?: string | InputData[];
  /** The proving input; default: input.json next to the model, if present. */
  input?: string;
  visibility?: { input?: Visibility; output?: Visibility; weights?: WeightVisibility };
  /**
   * Salt the hashed input and output commitments: each becomes Poseidon(commitment, salt) with a
   * fresh random salt per proof (a private input), so a commitment to low-entropy data (a digit
   * from a known set, a yes/no feature) cannot be found by hashing candidates.
   */
  salt?: boolean;
  params?: Partial<QuantParams>;
  /**
   * Split into chunk circuits proven independently and linked by commitments (src/split.ts):
   * `{ chunks: N }` of about equal cost, or `{ maxConstraints: C }` (estimated) per chunk.
   */
  split?: SplitOptions;
  /**
   * Also compile circuit.circom with circom (circom2, --O1) and check that its constraint system,
   * signal map and witness (for the first sample) are the ones zkonnx wrote; fails otherwise.
   * Slow on large models: circom is the cross-check, not the compiler.
   */
  checkCircom?: boolean;
  /**
   * Keep a build whose quantized outputs miss onnxruntime-web's by more than the tolerance on some
   * calibration sample (compile refuses it otherwise: QUANT_INACCURATE); recorded in settings.
   */
  allowInaccurate?: boolean;
  /**
   * Matrix products of two signals in a build with committed weights (its convolutions, its
   * attention) checked a block at a time where the check costs at most this share of the
   * products (compiler/freivalds.ts; default CHECK_SHARE, 0.25; true: the default); false: every
   * product its own constraint, the baseline bench:freivalds compares against.
   */
  batchProducts?: boolean | number;
  /** Graph inputs fixed at compile time, by name (flat values), e.g. { sr: [16000] }: constants of the circuit, not part of any input file. */
  fixedInputs?: Record<string, number[]>;
  /** Sizes of the inputs' symbolic dimensions by name (e.g. { seq_len: 16 }); a symbolic batch dim is 1 by default. */
  dims?: Record<string, number>;
  /** Tokens per string of a text input (its Tokenizer's output, src/onnx/text.ts); default 64. */
  maxTokens?: number;
  progress?: Progress;
}

export interface CompileResult {
  buildDir: string;
  settings: Settings;
}

/** The inputs compile fixed (--fix-input), with their declared shapes and types, for the float reference. */
function fixedOf(settings: Settings): FixedInput[] {
  const f = settings.model.fixed;
  if (!f) return [];
  return readOnnx(settings.model.path, { dims: settings.model.dims, fixed: f, maxTokens: settings.model.maxTokens }).fixed ?? [];
}

/** Settings of committed weights: their tensors, scale, width and the commitment of these values. */
async function committedWeights(qg: QuantGraph, weights: LiftedWeight[], sample: Sample): Promise<NonNullable<Settings['weights']>> {
  const w = qg.inputs.filter((i) => i.role === 'weight');
  const qin = quantizeInputs(qg, [...sample, ...weights.map((x) => x.data)]);
  return {
    tensors: weights.map((x, k) => ({ name: x.name, shape: x.shape, scale: w[k]!.scale })),
    bits: w[0]!.bits, commitment: (await weightsCommitment(qg, qin))!.toString(),
  };
}

/** Dequantized qexec outputs against onnxruntime-web over the samples. */
async function measureAccuracy(modelPath: string, inputs: ValueInfo[], outputs: ValueInfo[], qg: QuantGraph, samples: Sample[], withWeights: (s: Sample) => Sample = (s) => s, fixed: FixedInput[] = []): Promise<AccuracyReport> {
  let maxAbsError = 0;
  let maxAbsReference = 0;
  let worst: AccuracyReport['worst'];
  for (const [k, s] of samples.entries()) {
    const ref = await runReference(modelPath, inputs, s, outputs, fixed);
    const q = execQuant(qg, quantizeInputs(qg, withWeights(s)));
    let err = 0;
    let top = 0;
    ref.forEach((r, i) => r.forEach((x, j) => {
      top = Math.max(top, Math.abs(x));
      err = Math.max(err, Math.abs(x - dequantize(q.outputs[i]![j]!, qg.outputs[i]!.scale)));
    }));
    maxAbsReference = Math.max(maxAbsReference, top);
    maxAbsError = Math.max(maxAbsError, err);
    // each sample against its own outputs' size: one huge sample must not excuse the others
    const tolerance = toleranceFor(top);
    if (!worst || err / tolerance > worst.maxAbsError / worst.tolerance) worst = { sample: k, maxAbsError: err, tolerance };
  }
  return { maxAbsError, maxAbsReference, tolerance: toleranceFor(maxAbsReference), samples: samples.length, ...(worst ? { worst } : {}) };
}

/** compile without --activation-bits/--weight-bits widens both up to this many bits to reach the tolerance. */
const AUTO_MAX_BITS = 24;

/** The error the float model's outputs allow: max(1e-2, 1% of their largest magnitude). */
export function toleranceFor(maxAbsReference: number): number {
  return Math.max(1e-2, 0.01 * maxAbsReference);
}

/**
 * compile refuses a build whose integers miss the float model on a calibration sample by more
 * than that sample's tolerance (unless allowInaccurate), naming the sample and what stretched
 * the input range: a far outlier among the calibration samples sets the scale for all of them.
 */
function refuseInaccurate(a: AccuracyReport, qg: QuantGraph, samples: NumericSample[], source: string): void {
  const bits = `${qg.params.activationBits}/${qg.params.weightBits}`;
  const w = a.worst;
  if (!w || w.maxAbsError <= w.tolerance) return;
  const stretch = qg.inputs.filter((i) => !i.role).map((inp, i) => {
    let at = 0;
    let big = 0;
    samples.forEach((s, k) => s[i]!.forEach((x) => { if (Math.abs(x) > big) { big = Math.abs(x); at = k; } }));
    return `'${inp.name}' at scale 2^${inp.scale} (largest |x| = ${big.toPrecision(3)}, in sample ${at})`;
  });
  throw new ZkonnxError('QUANT_INACCURATE', `${source}, calibration sample ${w.sample}: at ${bits} activation/weight bits the quantized model's outputs are off by ${w.maxAbsError.toPrecision(3)} from onnxruntime-web's, more than the tolerance ${w.tolerance.toPrecision(3)} (max(1e-2, 1% of the sample's largest output)); inputs: ${stretch.join(', ')}`, {
    file: source,
    hint: 'remove outliers from the calibration samples (one far-off sample sets the scale for every input), give wider --activation-bits/--weight-bits (without them compile tries up to 24/24 by itself), or pass --allow-inaccurate to keep this build',
  });
}

export async function compile(opts: CompileOptions): Promise<CompileResult> {
  const { progress } = opts;
  const modelPath = resolve(opts.model);
  const buildDir = resolve(opts.outDir ?? defaultBuildDir(opts.model));
  const visibility = { input: opts.visibility?.input ?? 'private', output: opts.visibility?.output ?? 'public', weights: opts.visibility?.weights ?? 'baked', ...(opts.salt ? { salt: true } : {}) } as const;
  for (const [k, v] of Object.entries(visibility)) {
    const ok = k === 'weights' ? ['baked', 'hashed'] : ['public', 'private', 'hashed'];
    if (k !== 'salt' && !ok.includes(v as string)) throw new ZkonnxError('BAD_ARGUMENT', `${k} visibility must be ${ok.join(', ')}, got ${JSON.stringify(v)}`);
  }
  // committed weights are swapped at prove time (--weights other.onnx) for weights calibration
  // never saw: their values get the whole interval, unless the user sets a headroom
  const headroom = visibility.weights === 'hashed' && opts.params?.headroomBits === undefined ? { headroomBits: NO_HEADROOM_CAP } : {};
  let params: QuantParams = { ...DEFAULT_PARAMS, ...headroom, ...opts.params };
  for (const [k, v] of Object.entries(params)) {
    if (k === 'weightScale') { if (!Number.isInteger(v) || Math.abs(v) > 64) throw new ZkonnxError('BAD_ARGUMENT', `weightScale must be an integer in [-64, 64], got ${v}`); continue; }
    if (!Number.isInteger(v) || v < 1 || v > 64) throw new ZkonnxError('BAD_ARGUMENT', `${k} must be an integer in [1, 64], got ${v}`);
  }

  if (opts.salt && visibility.input !== 'hashed' && visibility.output !== 'hashed') {
    throw new ZkonnxError('BAD_ARGUMENT', '--salt salts the hashed input and output commitments, and this build hashes neither', { hint: 'add --input hashed and/or --output hashed' });
  }
  progress?.step?.(`import ${opts.model}`);
  const dims = opts.dims && Object.keys(opts.dims).length ? opts.dims : undefined;
  const fixed = opts.fixedInputs && Object.keys(opts.fixedInputs).length ? opts.fixedInputs : undefined;
  const read = readOnnx(modelPath, { dims, fixed, ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}) });
  const maxTokens = read.inputs.find((i) => i.text?.tokens)?.text?.tokens;
  const graph = inferAndFold(read);
  checkCompileMemory(graph, undefined, visibility.weights === 'hashed'); // a model too large for this machine fails here, not after minutes
  const lifted = visibility.weights === 'hashed' ? liftWeights(graph) : undefined;
  if (lifted?.baked.length) {
    const n = lifted.baked.length;
    progress?.warn?.(`--weights hashed commits to ${lifted.weights.length} weight tensors; ${n} other tensor${n > 1 ? 's' : ''} of fractions stay${n > 1 ? '' : 's'} constants of the circuit, which the proving key publishes: ${lifted.baked.slice(0, 6).map((b) => `'${b}'`).join(', ')}${n > 6 ? `, … (${n - 6} more)` : ''}`);
  }
  const affine = linearize(lifted?.graph ?? graph);

  const defaultInput = join(dirname(modelPath), 'input.json');
  const inputFile = opts.input ?? (existsSync(defaultInput) ? defaultInput : undefined);
  const calibSource = opts.calibration ?? inputFile;
  if (!calibSource) {
    throw new ZkonnxError('BAD_ARGUMENT', `no calibration data for ${opts.model}`, { hint: 'pass --calibration FILE or --input-file FILE (input.json next to the model is used when present)' });
  }
  const samples = loadSamples(calibSource);
  const calibName = typeof calibSource === 'string' ? calibSource : '<calibration>';
  checkSamples(graph.inputs.filter((i) => !i.role), samples, calibName);
  // string (categorical) inputs as their category codes: what the affine program computes on
  const coded = samples.map((s) => encodeSample(graph.inputs, s));
  progress?.step?.(`calibrate on ${samples.length} sample(s)`);
  // committed weights are inputs of the circuit: every sample carries them
  const withWeights = <S extends Sample>(s: S): S => [...s, ...(lifted?.weights ?? []).map((w) => w.data)] as S;
  const ranges = calibrate(affine, coded.map(withWeights));
  let qg = quantize(affine, ranges, params);
  let accuracy = await measureAccuracy(modelPath, graph.inputs, graph.outputs, qg, samples.slice(0, 256), withWeights, graph.fixed);
  // Without explicit widths, a model whose integers miss the float model at the default widths
  // (a wide dynamic range: a spectrum, saturated LSTM gates) gets 4 more bits at a time, up to
  // AUTO_MAX_BITS: each try is a quantization and an accuracy run, no circuit.
  const auto = opts.params?.activationBits === undefined && opts.params?.weightBits === undefined;
  while (auto && accuracy.worst && accuracy.worst.maxAbsError > accuracy.worst.tolerance && params.activationBits < AUTO_MAX_BITS) {
    const wider = { ...params, activationBits: params.activationBits + 4, weightBits: params.weightBits + 4 };
    let next: QuantGraph;
    try {
      next = quantize(affine, ranges, wider);
    } catch (e) {
      if (e instanceof ZkonnxError && e.code === 'QUANT_OVERFLOW') break; // the field is the limit: keep the last widths
      throw e;
    }
    progress?.info?.(`off by ${accuracy.worst.maxAbsError.toPrecision(3)} (tolerance ${accuracy.worst.tolerance.toPrecision(3)}) at ${params.activationBits}/${params.weightBits} bits: trying ${wider.activationBits}/${wider.weightBits}`);
    params = wider;
    qg = next;
    accuracy = await measureAccuracy(modelPath, graph.inputs, graph.outputs, qg, samples.slice(0, 256), withWeights, graph.fixed);
  }
  // matrix blocks are kept where their check pays (the circuit checks every block qgraph has)
  const share = opts.batchProducts === false ? 0 : opts.batchProducts === undefined || opts.batchProducts === true ? CHECK_SHARE : opts.batchProducts;
  if (!(share >= 0 && share <= 1)) throw new ZkonnxError('BAD_ARGUMENT', `batchProducts must be a share in [0, 1], got ${opts.batchProducts}`);
  const committed = qg.inputs.some((i) => i.role === 'weight'); // a baked build checks none (freivaldsPlan)
  qg = { ...qg, acts: qg.acts.map(({ mm, ...a }) => (mm && committed && share > 0 && worthChecking({ ...a, mm }, share) ? { ...a, mm } : a)) };
  if (!opts.split) checkCircuitMemory(qg, modelPath);
  if (opts.allowInaccurate) accuracy.allowInaccurate = true;
  else refuseInaccurate(accuracy, qg, coded, calibName);
  const layout = publicLayout(qg, visibility);
  const architecture = lifted ? architectureOf(lifted.graph, lifted.weights) : undefined;
  const weightsInfo = lifted ? { ...await committedWeights(qg, lifted.weights, samples[0]!), architecture: architecture!.digest } : undefined;

  // Build into a fresh sibling folder and swap it in at the end: a failed compile never leaves
  // a half-written build that looks good, and stale keys of an older circuit never survive.
  refuseToReplace(buildDir);
  mkdirSync(dirname(buildDir), { recursive: true });
  removeStale(buildDir);
  const release = lock(buildDir, `build folder ${buildDir}`);
  const tmpDir = `${buildDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  try {
    const paths = new BuildPaths(tmpDir);
    const qgraphSha256 = writeQuantGraph(paths.file('qgraph'), qg);
    if (lifted) writeFileSync(paths.file('weights'), JSON.stringify({ weights: lifted.weights.map((w) => ({ name: w.name, shape: w.shape, values: Array.from(w.data) })), architecture: architecture!.nodes }));
    let c: Omit<WrittenCircuit, 'r1csPath' | 'symPath' | 'perComponent' | 'labels' | 'nonzeros'> & { nonzeros?: number; checkCircom?: CircomCheck };
    let perComponent: Map<string, number>;
    let split: SplitSettings | undefined;
    let chunkWeights: string[] | undefined;
    if (opts.split) {
      // the whole-model circuit is not built: only the chunks, under chunks/<k>/
      ({ circuit: c, perComponent, split, weightCommitments: chunkWeights } = await compileSplit(qg, visibility, tmpDir, opts.split, { progress, checkCircom: opts.checkCircom, sample: samples[0] && withWeights(samples[0]) }));
    } else {
      const w = await writeModelCircuit(paths, qg, visibility, {}, progress);
      const check = opts.checkCircom ? await checkAgainstCircom(paths, qg, visibility, {}, { qin: quantizeInputs(qg, withWeights(samples[0]!)), salts: saltsFor(qg, visibility) }, progress) : undefined;
      perComponent = w.perComponent;
      c = { ...w, checkCircom: check };
    }
    const settings: Settings = {
      zkonnx: VERSION,
      model: { name: qg.name, path: modelPath, sha256: sha256File(modelPath), ...(dims ? { dims } : {}), ...(fixed ? { fixed } : {}), ...(maxTokens ? { maxTokens } : {}) },
      visibility,
      params,
      publicSignals: layout,
      ...(weightsInfo ? { weights: { ...weightsInfo, ...(chunkWeights ? { chunks: chunkWeights } : {}) } } : {}),
      inputs: qg.inputs.map((i, k) => ({
        name: i.name, signal: inputSignal(k), shape: i.shape, scale: i.scale,
        range: [i.lo.toString(), (i.lo + (1n << BigInt(i.bits)) - 1n).toString()], bits: i.bits, calibrated: i.calibrated,
        constraints: perComponent.get(`rc${k}`) ?? 0, ...(i.categories ? { categories: i.categories } : {}), ...(i.text ? { text: i.text } : {}),
      })),
      outputs: qg.outputs.map((o, k) => ({ name: o.name, signal: outputSignal(k), shape: o.shape, scale: o.scale, bound: o.bound.toString(), ...(o.categories ? { categories: o.categories } : {}) })),
      layers: qg.acts.map((a, j) => ({
        name: a.name, nodes: a.nodes, op: opLabel(a.op), size: a.size, scale: a.scale, shift: a.shift,
        maxBits: Math.max(0, maxOf(a.bits), maxOf(a.aux)) + 1, accBound: a.accBound.toString(), maxError: a.poly?.maxError,
        // a plain product's constraints are main's own (no component); its estimate is exact
        constraints: a.plain ? Array.from({ length: a.size }, (_, i) => estimateConstraints(a, i)).reduce((t, n) => t + n, 0) : perComponent.get(`a${j}`) ?? 0,
      })),
      circuit: {
        constraints: c.constraints, wires: c.wires, publicInputs: c.publicInputs, publicOutputs: c.publicOutputs,
        privateInputs: c.privateInputs, ...(c.nonzeros !== undefined ? { nonzeros: c.nonzeros } : {}), compileSeconds: c.seconds, qgraphSha256,
        ...(c.checkCircom ? { checkCircom: { same: c.checkCircom.same, constraints: c.checkCircom.constraints, wires: c.checkCircom.wires, witnessCompared: c.checkCircom.witnessCompared, circomSeconds: c.checkCircom.circomSeconds } } : {}),
      },
      calibration: { source: typeof calibSource === 'string' ? resolve(calibSource) : '<api>', samples: samples.length },
      accuracy,
      ...(split ? { split } : {}),
      tools: toolVersions(),
    };
    writeSettings(tmpDir, settings);
    swapInto(tmpDir, buildDir);
    return { buildDir, settings };
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
    release();
  }
}

/**
 * compile replaces its build folder whole: only a zkonnx build (settings.json) or an empty folder,
 * never a folder of other files, nor the working directory or one above it.
 */
function refuseToReplace(buildDir: string): void {
  if (!existsSync(buildDir)) return;
  const cwd = process.cwd();
  if (cwd === buildDir || cwd.startsWith(`${buildDir}${sep}`)) {
    throw new ZkonnxError('BAD_ARGUMENT', `the build folder ${buildDir} is the working directory or holds it: compile replaces its build folder whole`, { hint: 'pass --build with a folder of its own, e.g. build/<model>' });
  }
  if (!statSync(buildDir).isDirectory()) {
    throw new ZkonnxError('BAD_ARGUMENT', `the build folder ${buildDir} is a file`, { file: buildDir, hint: 'pass --build with a new or empty folder' });
  }
  if (readdirSync(buildDir).length && !existsSync(new BuildPaths(buildDir).file('settings'))) {
    throw new ZkonnxError('BAD_ARGUMENT', `${buildDir} holds files but is not a zkonnx build folder (no settings.json): compile would replace it whole, so it refuses`, {
      file: buildDir, hint: 'pass --build with a new or empty folder, or the folder of an earlier `zkonnx compile`',
    });
  }
}

// ---------------------------------------------------------------- setup

export interface SetupOptions {
  buildDir: string;
  /** A public powers-of-tau file; default: a cached local single-party one. */
  ptau?: string;
  progress?: Progress;
}

export async function setup(opts: SetupOptions): Promise<SetupResult> {
  const root = new BuildPaths(opts.buildDir);
  const dirs = circuitDirs(opts.buildDir);
  // a split build: every chunk gets keys of its own (summed seconds, the largest power)
  let r: SetupResult | undefined;
  const ptaus: string[] = [];
  for (const dir of dirs) {
    const paths = new BuildPaths(dir);
    if (dirs.length > 1) opts.progress?.step?.(`setup of ${dir}`);
    const one = await setupGroth16({
      r1csPath: paths.require('r1cs', 'compile'), zkeyPath: paths.file('zkey'), vkeyPath: paths.file('vkey'),
      ptau: opts.ptau, progress: opts.progress,
    });
    ptaus.push(one.ptauPath);
    r = r ? { ...(one.power >= r.power ? one : r), seconds: r.seconds + one.seconds, ptauCreated: r.ptauCreated || one.ptauCreated } : one;
  }
  const paths = root;
  if (!r) throw new ZkonnxError('ARTIFACT_MISSING', `${root.dir} has no circuit to set up`);
  if (r.singleParty) {
    opts.progress?.warn?.(`the keys in ${paths.dir} rest on a SINGLE-PARTY ceremony made on this machine (${r.ptauPath}): fine for development, not for production; pass --ptau with a public powers-of-tau file (Hermez, perpetual powers of tau) instead`);
  } else {
    opts.progress?.info?.(`keys made from ${r.ptauPath} as it is: if you have not checked that file since downloading it, run \`zkonnx setup verify-ptau ${r.ptauPath}\``);
  }
  const s = readSettings(opts.buildDir);
  s.setup = { power: r.power, ptau: r.ptauPath, singleParty: r.singleParty, seconds: r.seconds, ...(dirs.length > 1 ? { chunkPtaus: ptaus } : {}) };
  writeSettings(opts.buildDir, s);
  return r;
}

/**
 * Replaces circuit_final.zkey by one with another phase-2 contribution on top (a team's own
 * ceremony: each member runs this in turn), and re-exports the verification key. The Solidity
 * verifier of the previous key is removed: it no longer matches. A split build: every chunk's
 * key, each with a δ of its own (a beacon's is the beacon's in every chunk).
 */
async function rekey(buildDir: string, apply: (oldZkey: string, newZkey: string) => Promise<Uint8Array>, progress?: Progress): Promise<Contributed> {
  const hashes: string[] = [];
  const dirs = circuitDirs(buildDir);
  for (const dir of dirs) {
    const paths = new BuildPaths(dir);
    if (dirs.length > 1) progress?.step?.(`contribution to ${dir}`);
    const zkey = paths.require('zkey', 'setup');
    const tmp = `${zkey}.tmp-${process.pid}`;
    removeStale(zkey);
    const release = lock(zkey, `the keys ${zkey}`);
    try {
      const hash = await apply(zkey, tmp);
      const vkey = await snarkjs.zKey.exportVerificationKey(tmp, snarkLogger(progress));
      renameSync(tmp, zkey);
      writeFileSync(paths.file('vkey'), JSON.stringify(vkey, null, 1));
      recordKeys(zkey, paths.file('vkey'));
      rmSync(paths.file('verifierSol'), { force: true });
      hashes.push(Buffer.from(hash).toString('hex'));
    } finally {
      rmSync(tmp, { force: true });
      release();
    }
  }
  return { contributionHash: hashes[0]!, ...(dirs.length > 1 ? { chunkHashes: hashes } : {}) };
}

export interface Contributed {
  /** snarkjs's contribution hash, hex (a split build: the first chunk's) */
  contributionHash: string;
  /** a split build: every chunk's, in chunk order */
  chunkHashes?: string[];
}

export async function contribute(opts: { buildDir: string; name?: string; entropy?: string; progress?: Progress }): Promise<Contributed> {
  opts.progress?.step?.('phase-2 contribution');
  const entropy = opts.entropy ?? randomBytes(32).toString('hex');
  return rekey(opts.buildDir, (a, b) => contributePhase2(a, b, opts.name ?? 'zkonnx contribution', { entropy }), opts.progress);
}

/** Final contribution from a public random beacon (hex), hashed 2^iterationsExp times. */
export async function beacon(opts: { buildDir: string; beaconHash: string; iterationsExp?: number; name?: string; progress?: Progress }): Promise<Contributed> {
  if (!/^(0x)?[0-9a-fA-F]{2,128}$/.test(opts.beaconHash) || opts.beaconHash.replace(/^0x/, '').length % 2) {
    throw new ZkonnxError('BAD_ARGUMENT', `beacon hash '${opts.beaconHash}' is not an even-length hex string`);
  }
  const exp = opts.iterationsExp ?? 10;
  if (!Number.isInteger(exp) || exp < 10 || exp > 63) throw new ZkonnxError('BAD_ARGUMENT', `beacon iterations exponent must be in [10, 63], got ${exp}`);
  opts.progress?.step?.('beacon contribution');
  return rekey(opts.buildDir, (a, b) => contributePhase2(a, b, opts.name ?? 'zkonnx beacon', { beaconHash: opts.beaconHash.replace(/^0x/, ''), iterationsExp: exp }), opts.progress);
}

/**
 * Checks a powers-of-tau file (snarkjs's powersoftau verify, on the CPU prover's MSM:
 * src/setup/verify-ptau.ts): every contribution's proofs, every power, the points' hash and the
 * prepared Lagrange sections. A public ceremony's file is worth checking once after download.
 */
export async function verifyPtau(opts: { ptau: string; progress?: Progress }): Promise<PtauVerification> {
  return verifyPtauFile(opts.ptau, opts.progress);
}

export interface SetupVerification {
  ok: boolean;
  /** What is wrong, each naming the key file and its section or contribution. */
  errors: string[];
  ptau: string;
  /** A split build: the ptau each chunk's keys were checked against, by chunk. */
  chunkPtaus?: string[];
  /** The key's phase-2 contributions, oldest first (a split build: its first chunk's). */
  contributions: Contribution[];
}

/**
 * Checks circuit_final.zkey against the circuit's r1cs and the ptau (snarkjs's zkey verify, on
 * our kernels: src/setup/verify-zkey.ts), and that verification_key.json is the key's. A split
 * build: every chunk's.
 */
export async function verifySetup(opts: { buildDir: string; ptau?: string; progress?: Progress }): Promise<SetupVerification> {
  const recorded = readSettings(opts.buildDir).setup;
  const ptau = opts.ptau ?? recorded?.ptau;
  if (!ptau) throw new ZkonnxError('BAD_ARGUMENT', 'no ptau file recorded for this build', { hint: 'pass --ptau FILE' });
  const errors: string[] = [];
  const used: string[] = [];
  let contributions: Contribution[] | undefined;
  const dirs = circuitDirs(opts.buildDir);
  for (const [i, dir] of dirs.entries()) {
    const paths = new BuildPaths(dir);
    // a split build's chunks may each have taken the cached ptau of their own power
    const ptauOf = opts.ptau ?? recorded?.chunkPtaus?.[i] ?? ptau;
    if (!existsSync(ptauOf)) throw new ZkonnxError('ARTIFACT_MISSING', `ptau file ${ptauOf} not found`, { file: ptauOf, hint: 'pass --ptau FILE' });
    used.push(ptauOf);
    opts.progress?.step?.(`verify keys of ${dir} against the r1cs and the ptau`);
    const zkey = paths.require('zkey', 'setup');
    let r: KeyVerification;
    try {
      r = await verifyZkey(paths.require('r1cs', 'compile'), ptauOf, zkey, opts.progress);
    } catch (e) {
      if (e instanceof ZkonnxError && e.code !== 'SETUP_FAILED') throw e;
      errors.push(`${zkey}: unreadable key or ptau: ${(e as Error).message}`);
      continue;
    }
    errors.push(...r.errors);
    // a split build set up before chunkPtaus was recorded: its chunks of other powers took other files
    if (!r.ok && dirs.length > 1 && !opts.ptau && !recorded?.chunkPtaus) {
      errors.push(`${zkey}: this split build's setup did not record each chunk's ptau (${ptau} is the largest chunk's): pass --ptau with this chunk's file, or run setup again`);
    }
    contributions ??= r.contributions;
    if (r.ok) {
      const vk = await snarkjs.zKey.exportVerificationKey(zkey);
      const onDisk = existsSync(paths.file('vkey')) ? readJson(paths.file('vkey')) : undefined;
      if (JSON.stringify(onDisk) !== JSON.stringify(JSON.parse(JSON.stringify(vk)))) errors.push(`${paths.file('vkey')} is not the verification key of ${zkey}`);
    }
  }
  if (!opts.ptau && recorded?.singleParty) {
    opts.progress?.warn?.(`the keys rest on a SINGLE-PARTY ceremony made on this machine (${ptau}): verified against it, they are as trustworthy as that machine`);
  } else {
    opts.progress?.info?.(`the keys were checked against ${ptau} as it is: check that file itself once with \`zkonnx setup verify-ptau ${ptau}\``);
  }
  return { ok: errors.length === 0, errors, ptau, ...(dirs.length > 1 ? { chunkPtaus: used } : {}), contributions: contributions ?? [] };
}

// ---------------------------------------------------------------- prove

export interface ProveOptions {
  buildDir: string;
  /** input.json path or parsed {"input_data": [[...]]} (strings for a string input). */
  input: string | InputData;
  /** Folder name under <build>/proofs; default 'default'. */
  name?: string;
  /**
   * With --weights hashed: prove with the weights of this ONNX file (same architecture) instead
   * of the compiled ones. The verification key is the same; the weights commitment differs.
   */
  weights?: string;
  backend?: ProverBackend;
  /** webgpu: accept a software adapter (llvmpipe, SwiftShader): correct, slower than wasm. */
  allowSoftwareGpu?: boolean;
  progress?: Progress;
  /** A salted build's salts by signal name (in0_salt, out0_salt, …); default: fresh random ones. */
  salts?: Salts;
}

export interface ProveResult {
  proof: Groth16Proof;
  publicSignals: string[];
  outputs: OutputTensor[];
  proofDir: string;
  backend: string;
  /** Comparison with onnxruntime-web when the model file is still where it was compiled from. */
  reference?: { values: number[][]; maxAbsError: number; tolerance: number };
  /** A salted build's salts (also in proofs/<name>/salts.json): keep them private, they open the commitments. */
  salts?: Salts;
  seconds: { witness: number; prove: number };
}



/**
 * What a proof's checks and result need of the quantized graph, taken before the proof runs: the
 * graph itself (its coefficients are millions of BigInts on a real model) is then garbage while
 * the prover works, and each of the proof's garbage collections (its large buffers start many)
 * marks a small heap instead of ~200 MB (mnist-burn-bn: 1.1 s of the main thread's time a proof).
 */
interface WitnessWritten {
  expected: string[];
  outputs: OutputTensor[];
  /** the float inputs, and the shapes onnxruntime-web is asked for (the reference run) */
  sample: Sample;
  refInputs: Array<{ name: string; shape: number[]; dtype?: ValueInfo['dtype']; text?: ValueInfo['text'] }>;
  refOutputs: Array<{ name: string; shape: number[]; categories?: string[] }>;
  salts?: Salts;
  seconds: number;
}

/** Computes the witness (every wire from the integer executor), writes it to `file`, and takes what the proof's checks need. */
async function writeWitness(opts: ProveOptions, paths: BuildPaths, settings: Settings, r1cs: string, file: string): Promise<WitnessWritten> {
  const qg = loadQuantGraph(opts.buildDir, settings.circuit.qgraphSha256);
  const sample = loadSample(opts.input);
  const weights = settings.weights ? loadWeights(paths, settings, opts.weights) : [];
  const qin = quantizeInputs(qg, [...sample, ...weights]);
  const q = execQuant(qg, qin);
  const salts = saltsFor(qg, settings.visibility, opts.salts);
  opts.progress?.step?.('witness');
  const t0 = performance.now();
  // every wire from the executor's integers and the templates' hints; each constraint is checked
  // as the values are computed, and every value must equal the executor's
  await writeWtns(file, await circuitWitness(qg, settings.visibility, {}, { qin, salts }, r1cs, q, opts.progress));
  const seconds = (performance.now() - t0) / 1000;
  return {
    expected: await expectedPublicSignals(qg, settings.publicSignals, qin, q, salts),
    outputs: qg.outputs.map((o, i) => outputTensor(o, q.outputs[i]!)),
    sample,
    refInputs: qg.inputs.filter((x) => !x.role).map((x) => ({ name: x.name, shape: x.shape, dtype: x.dtype, ...(x.text ? { text: x.text } : {}) })),
    refOutputs: qg.outputs.map((x) => ({ name: x.name, shape: x.shape, ...(x.categories ? { categories: x.categories } : {}) })),
    ...(salts ? { salts } : {}),
    seconds,
  };
}

export async function prove(opts: ProveOptions): Promise<ProveResult> {
  const { progress } = opts;
  refuseSplit(opts.buildDir, 'prove', 'use proveSplit, or chunkInputs and proveChunk (src/split.ts)');
  const paths = new BuildPaths(opts.buildDir);
  const settings = readSettings(opts.buildDir);
  const zkey = paths.require('zkey', 'setup');
  const r1cs = paths.require('r1cs', 'compile');
  // the float model these integers stand for (the compiled one, or the one whose weights were
  // used): onnxruntime-web runs it on a thread of its own, started first, beside everything below
  const refModel = opts.weights ? resolve(opts.weights) : existsSync(settings.model.path) && sha256File(settings.model.path) === settings.model.sha256 ? settings.model.path : undefined;
  if (refModel) startReference(refModel);
  const prover = await getProver(opts.backend, { allowSoftware: opts.allowSoftwareGpu }); // an unavailable backend fails before any work

  // proofs/<name> is replaced only by a complete, verified proof: written into a staging folder
  // beside it and renamed into place; one writer per name at a time (a lock file)
  const name = opts.name ?? 'default';
  const dir = paths.proofDir(name);
  mkdirSync(dirname(dir), { recursive: true });
  removeStale(dir);
  const release = lock(dir, `proof '${name}'`);
  const stage = `${dir}.tmp-${process.pid}`;
  let key: Promise<OpenedZkey> | undefined; // opened early, closed whatever happens (again: a no-op)
  try {
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage);
    writeFileSync(proofFileIn(stage, 'input'), JSON.stringify(typeof opts.input === 'string' ? readJson(opts.input) : opts.input));

    // the key is read while the witness is computed (the read's copies, ~0.25 s of CPU for a
    // 457 MB key, then take nothing from the proof's threads); the proof closes it
    key = openZkey(zkey);
    key.catch(() => {}); // a bad key fails the proof below
    const w = await writeWitness(opts, paths, settings, r1cs, proofFileIn(stage, 'witness'));
    const refRun = refModel ? referenceRun(refModel, w.refInputs, w.sample, w.refOutputs, fixedOf(settings)) : undefined;
    refRun?.values.catch(() => {}); // awaited after the proof
    const { expected, outputs, salts } = w;
    const t1 = performance.now();
    progress?.step?.(`prove (${prover.name})`);
    // the verification key is checked now and the proving key's hash only if the proof fails
    // (setup/keys.ts says why): a changed key is then named whatever the prover made of it
    checkVkey(zkey, paths.file('vkey'));
    const keyChanged = () => checkKeysAsync(zkey, paths.file('vkey'));
    const { proof, publicSignals } = await prover.prove(key, proofFileIn(stage, 'witness'), progress).catch(async (e: unknown) => {
      await keyChanged();
      throw e;
    });
    const t2 = performance.now();
    // a proof is written only once it verifies (a damaged key gives an invalid one: say so, exit ≠ 0)
    const vk = readJson(paths.require('vkey', 'setup')) as VerificationKey;
    if (!(await verifyGroth16(vk, publicSignals, proof))) {
      await keyChanged();
      throw new ZkonnxError('PROOF_INVALID', `the proof just made does not verify with ${paths.file('vkey')}`, {
        hint: 'circuit_final.zkey and verification_key.json do not belong together, or the key is damaged: run `zkonnx setup` again',
      });
    }

    // The circuit's public values must be exactly the executor's integers and their commitments.
    const mismatch = expected.findIndex((e, i) => e !== publicSignals[i]);
    if (mismatch >= 0 || expected.length !== publicSignals.length) {
      throw new ZkonnxError('WITNESS_MISMATCH', `public signal ${mismatch} is ${publicSignals[mismatch]} in the circuit but ${expected[mismatch]} in the integer executor`, {
        signal: String(mismatch), hint: 'the build folder may be stale: compile again',
      });
    }

    let reference: ProveResult['reference'];
    if (refRun) {
      const ref = await refRun.values;
      let maxAbsError = 0;
      let top = 0;
      ref.forEach((r, i) => r.forEach((x, j) => { top = Math.max(top, Math.abs(x)); maxAbsError = Math.max(maxAbsError, Math.abs(x - outputs[i]!.values[j]!)); }));
      reference = { values: ref.map((r) => Array.from(r)), maxAbsError, tolerance: toleranceFor(top) };
      // the proof is sound (it proves the quantized model's integers), but say when they are not the float model's
      if (maxAbsError > reference.tolerance) progress?.warn?.(`the proven outputs are off by ${maxAbsError.toPrecision(3)} from onnxruntime-web's on this input, more than the tolerance ${reference.tolerance.toPrecision(3)}: the build's calibration does not fit this input`);
    }
    writeFileSync(proofFileIn(stage, 'proof'), JSON.stringify(proof, null, 1));
    writeFileSync(proofFileIn(stage, 'public'), JSON.stringify(publicSignals, null, 1));
    writeFileSync(proofFileIn(stage, 'output'), JSON.stringify({ outputs, reference }, null, 1));
    if (salts) writeFileSync(proofFileIn(stage, 'salts'), JSON.stringify(Object.fromEntries(Object.entries(salts).map(([k, v]) => [k, v.toString()])), null, 1));
    swapInto(stage, dir);
    return { proof, publicSignals, outputs, proofDir: dir, backend: prover.description, reference, ...(salts ? { salts } : {}), seconds: { witness: w.seconds, prove: (t2 - t1) / 1000 } };
  } finally {
    await key?.then((o) => o.close(), () => {});
    rmSync(stage, { recursive: true, force: true });
    release();
  }
}

// ---------------------------------------------------------------- verify

export interface VerifyOptions {
  buildDir: string;
  /** Proof folder name under <build>/proofs (default 'default'), unless proof + publicSignals are given. */
  name?: string;
  proof?: Groth16Proof;
  publicSignals?: string[];
}

function loadProof(opts: VerifyOptions): { proof: Groth16Proof; publicSignals: string[] } {
  if (opts.proof && opts.publicSignals) return { proof: opts.proof, publicSignals: opts.publicSignals };
  const paths = new BuildPaths(opts.buildDir);
  const name = opts.name ?? 'default';
  return {
    proof: readJson(paths.proofFile(name, 'proof')) as Groth16Proof,
    publicSignals: readJson(paths.proofFile(name, 'public')) as string[],
  };
}

/** Off-chain Groth16 verification with the build's verification key. */
export async function verify(opts: VerifyOptions): Promise<boolean> {
  refuseSplit(opts.buildDir, 'verify', 'use verifySplit (src/split.ts)');
  const vk = readJson(new BuildPaths(opts.buildDir).require('vkey', 'setup')) as VerificationKey;
  const { proof, publicSignals } = loadProof(opts);
  return verifyGroth16(vk, publicSignals, proof);
}

/** Why `verify` refuses the proof (its points, its public signals, the pairing check), or undefined when it accepts it. */
export async function whyInvalid(opts: VerifyOptions): Promise<string | undefined> {
  const vk = readJson(new BuildPaths(opts.buildDir).require('vkey', 'setup')) as VerificationKey;
  const { proof, publicSignals } = loadProof(opts);
  return groth16Problem(vk, publicSignals, proof);
}

/**
 * The outputs a proof's public signals state (those the build makes public), as a user reads
 * them: dequantized, and as strings where they hold class labels. What a verified proof says.
 */
export function provenOutputs(opts: VerifyOptions): OutputTensor[] {
  const settings = readSettings(opts.buildDir);
  const { publicSignals } = loadProof(opts);
  return settings.publicSignals.filter((r) => r.kind === 'output').map((r) => {
    const raw = publicSignals.slice(r.start, r.start + r.count).map((x) => fieldToSigned(BigInt(x)));
    return outputTensor(settings.outputs[r.index]!, raw);
  });
}

// ---------------------------------------------------------------- on-chain

export async function exportVerifier(opts: { buildDir: string; out?: string }): Promise<string> {
  refuseSplit(opts.buildDir, 'export-verifier', 'deploy verifier-contracts/SplitVerifier.sol with deploySplitVerifier (src/verifier/split.ts)');
  const paths = new BuildPaths(opts.buildDir);
  const sol = await exportSolidityVerifier(paths.require('zkey', 'setup'));
  // --out may name a folder (Verifier.sol goes in it) or a file in a folder not made yet
  let out = opts.out ? resolve(opts.out) : paths.file('verifierSol');
  if (existsSync(out) && statSync(out).isDirectory()) out = join(out, 'Verifier.sol');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, sol);
  return out;
}

export interface VerifyOnChainOptions extends VerifyOptions {
  /** JSON-RPC URL; default: start anvil on 127.0.0.1 and stop it after. */
  rpc?: string;
  privateKey?: string;
  progress?: Progress;
}

export async function verifyOnChain(opts: VerifyOnChainOptions): Promise<OnchainResult> {
  const paths = new BuildPaths(opts.buildDir);
  const solPath = existsSync(paths.file('verifierSol')) ? paths.file('verifierSol') : await exportVerifier({ buildDir: opts.buildDir });
  const { proof, publicSignals } = loadProof(opts);
  return verifyOnChainRaw({ verifierSol: readFileSync(solPath, 'utf8'), proof, publicSignals, rpc: opts.rpc, privateKey: opts.privateKey, progress: opts.progress });
}

// ---------------------------------------------------------------- demo

export interface DemoResult {
  buildDir: string;
  digit: number;
  label?: number;
  constraints: number;
  maxAbsError?: number;
  verified: boolean;
  onchain: OnchainResult;
  seconds: Record<string, number>;
}

/** The whole pipeline on a bundled model folder (model.onnx, input.json, calibration.json). */
export async function demo(opts: { modelDir: string; buildDir?: string; rpc?: string; progress?: Progress }): Promise<DemoResult> {
  const { progress } = opts;
  const buildDir = resolve(opts.buildDir ?? join('build', 'mnist-mlp'));
  const file = (f: string) => join(opts.modelDir, f);
  const t = [performance.now()];
  const lap = () => { t.push(performance.now()); return (t[t.length - 1]! - t[t.length - 2]!) / 1000; };
  const c = await compile({ model: file('model.onnx'), outDir: buildDir, calibration: file('calibration.json'), input: file('input.json'), progress });
  const compileS = lap();
  await setup({ buildDir, progress });
  const setupS = lap();
  const p = await prove({ buildDir, input: file('input.json'), progress });
  const proveS = lap();
  progress?.step?.('verify');
  const verified = await verify({ buildDir });
  await exportVerifier({ buildDir });
  progress?.step?.('verify on-chain');
  const onchain = await verifyOnChain({ buildDir, rpc: opts.rpc, progress });
  const onchainS = lap();
  const logits = p.outputs[0]!.values;
  const digit = logits.indexOf(Math.max(...logits));
  const meta = existsSync(file('meta.json')) ? (readJson(file('meta.json')) as { input_json?: { label?: number } }) : {};
  return {
    buildDir, digit, label: meta.input_json?.label, constraints: c.settings.circuit.constraints,
    maxAbsError: p.reference?.maxAbsError, verified, onchain,
    seconds: { compile: compileS, setup: setupS, prove: proveS, verify: onchainS },
  };
}
