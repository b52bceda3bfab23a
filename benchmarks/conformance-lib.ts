// One conformance model end to end, in-process, through the public API: compile, setup, prove,
// verify, and the dequantized output against onnxruntime-web's float output. Shared by the
// runner (benchmarks/conformance.ts, one child process per model) and the vitest suites.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compile, prove, setup, toleranceFor, verify } from '../src/api.js';
import { ZkonnxError } from '../src/errors.js';

export type Stage = 'compile' | 'setup' | 'prove' | 'verify';
export type Status = 'pass' | 'fail' | 'error';

export interface Row {
  model: string;
  status: Status;
  /** The stage that failed; null on pass. A tolerance failure counts against 'prove' (where the output comes from). */
  stage: Stage | null;
  /** ZkonnxError code, another error's own `code` or name, or the runner's TIMEOUT / CRASH. */
  code?: string;
  /** The ONNX op the error names, when it names one. */
  op?: string;
  constraints?: number;
  compileS?: number;
  setupS?: number;
  /** Setup time includes generating a powers-of-tau file (cached afterwards). */
  ptauCreated?: boolean;
  witnessS?: number;
  proveS?: number;
  verified?: boolean;
  maxAbsError?: number;
  /** max(1e-2, 0.01 · max |reference output|) */
  tolerance?: number;
  message: string;
  /** Wall seconds for the whole model (the runner fills it in, child process start included). */
  wallS?: number;
  /** Classifiers on real digits: the share whose proven (integer) class is the float model's class. */
  agreement?: number;
  /** How many digits the agreement was measured on. */
  digits?: number;
}

/** The model folders under `root` (each with network.onnx), sorted by name. */
export function listConformanceModels(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'network.onnx')))
    .map((d) => d.name)
    .sort();
}

/** The tolerance the conformance suite holds the error to. */
export function conformanceTolerance(reference: number[][]): number {
  let maxRef = 0;
  for (const r of reference) for (const x of r) maxRef = Math.max(maxRef, Math.abs(x));
  return toleranceFor(maxRef);
}

/** A row's fields from a thrown value. */
export function describeError(e: unknown): { code: string; op?: string; message: string } {
  if (e instanceof ZkonnxError) {
    const op = typeof e.details.op === 'string' ? e.details.op : undefined;
    return { code: e.code, op, message: e.message };
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : e.name, message: e.message };
  }
  return { code: 'THROWN', message: String(e) };
}

export interface RunOptions {
  /**
   * Called as each stage starts, with the row so far (the runner forwards both to its parent,
   * so that a timeout names its stage and keeps the timings of the stages before it).
   */
  onStage?: (stage: Stage, partial: Readonly<Row>) => void;
  /** The model's files where they are not dir/network.onnx and dir/input.json (realworld models). */
  files?: { model: string; input: string; calibration?: string; dims?: Record<string, number>; fixed?: Record<string, number[]> };
  /** Compile with --weights hashed (the weights committed private inputs). */
  weights?: 'hashed';
  /** After a pass: more checks on the build (class agreement on real digits), merged into the row. */
  after?: (buildDir: string, row: Readonly<Row>) => Promise<Partial<Row>>;
}

/**
 * Compiles, sets up (fast local setup, shared ptau cache), proves and verifies the model in
 * `dir` (network.onnx, input.json), building in `workDir/<model>`. Never throws: a failure is
 * a row with status 'fail' or 'error' and the stage it happened in.
 */
export async function runConformanceModel(dir: string, workDir: string, opts: RunOptions = {}): Promise<Row> {
  const model = basename(resolve(dir));
  const onnx = opts.files?.model ?? join(dir, 'network.onnx');
  const input = opts.files?.input ?? join(dir, 'input.json');
  const calibration = opts.files?.calibration;
  const buildDir = join(workDir, model);
  const row: Row = { model, status: 'error', stage: null, message: '' };
  let stage: Stage = 'compile';
  const enter = (s: Stage) => { stage = s; opts.onStage?.(s, row); };
  const lap = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const v = await fn();
    return [v, (performance.now() - t) / 1000];
  };
  try {
    enter('compile');
    const [c, compileS] = await lap(() => compile({ model: onnx, input, outDir: buildDir, ...(calibration ? { calibration } : {}), ...(opts.files?.dims ? { dims: opts.files.dims } : {}), ...(opts.files?.fixed ? { fixedInputs: opts.files.fixed } : {}), ...(opts.weights ? { visibility: { weights: opts.weights } } : {}) }));
    row.compileS = compileS;
    row.constraints = c.settings.circuit.constraints;

    enter('setup');
    const [s, setupS] = await lap(() => setup({ buildDir }));
    row.setupS = setupS;
    row.ptauCreated = s.ptauCreated;

    enter('prove');
    const p = await prove({ buildDir, input });
    row.witnessS = p.seconds.witness;
    row.proveS = p.seconds.prove;

    enter('verify');
    row.verified = await verify({ buildDir });

    if (p.reference) {
      row.maxAbsError = p.reference.maxAbsError;
      row.tolerance = conformanceTolerance(p.reference.values);
    }
    if (!row.verified) {
      Object.assign(row, { status: 'fail', stage: 'verify', message: 'the proof does not verify' });
    } else if (!p.reference) {
      Object.assign(row, { status: 'fail', stage: 'prove', message: 'no onnxruntime-web reference output' });
    } else if (!(row.maxAbsError! <= row.tolerance!)) { // NaN fails too
      Object.assign(row, { status: 'fail', stage: 'prove', message: `max abs error ${fmt(row.maxAbsError!)} > tolerance ${fmt(row.tolerance!)}` });
    } else {
      Object.assign(row, { status: 'pass', stage: null, message: '' });
      if (opts.after) Object.assign(row, await opts.after(buildDir, row));
    }
  } catch (e) {
    const d = describeError(e);
    Object.assign(row, { status: 'error', stage, code: d.code, message: d.message });
    if (d.op) row.op = d.op;
  }
  return row;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(3) : String(x));
