// The models a service knows: each subfolder of --models that is a compiled and set-up build
// folder (settings.json, circuit_final.zkey, verification_key.json) is a model, named by the
// subfolder. The API checks requests against settings.json before anything reaches a worker.
import type { ProofInput } from './common.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSettings, type Settings } from '../settings.js';
import { ZkonnxError } from '../errors.js';
import type { QInput, QuantGraph } from '../ir/graph.js';
import { BuildPaths } from '../paths.js';
import { quantizeInputs } from '../qexec/exec.js';
import { BN254_R } from '../circom/r1cs.js';

export interface ModelInfo {
  id: string;
  buildDir: string;
  settings: Settings;
  /**
   * The inputs a request gives (the model's, without committed weights), with their sizes and the
   * range the circuit range-checks them to (settings.json `inputs[].range` at its scale), when recorded.
   */
  inputs: { name: string; shape: number[]; size: number; range?: [number, number] }[];
  /** The same inputs as the integer executor sees them: quantizeInputs checks a request against them. */
  quantInputs?: QInput[];
  /** Number of chunks of a split build (settings.split.chunks), or undefined. */
  chunks?: number;
  /** Changes when the build is compiled or set up again (caches of its artifacts are then stale). */
  version: string;
}

/** Modification times of the files that make a build what it is. */
function buildVersion(p: BuildPaths): string {
  return (['settings', 'zkey', 'vkey'] as const).map((k) => (existsSync(p.file(k)) ? statSync(p.file(k)).mtimeMs : 0)).join(':');
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A build folder as a model, or undefined when it is not compiled and set up. */
export function loadModel(id: string, buildDir: string): ModelInfo | undefined {
  const p = new BuildPaths(buildDir);
  if (!existsSync(p.file('settings'))) return undefined;
  let settings: Settings;
  try {
    settings = readSettings(buildDir);
  } catch {
    return undefined;
  }
  const split = (settings as Settings & { split?: { chunks?: unknown[] } }).split;
  const chunks = Array.isArray(split?.chunks) ? split.chunks.length : undefined;
  // a split build proves chunk by chunk: its keys live with the chunks, not at the top
  if (chunks === undefined && (!existsSync(p.file('zkey')) || !existsSync(p.file('vkey')) || !existsSync(p.file('r1cs')))) return undefined;
  const nWeights = settings.weights?.tensors.length ?? 0;
  const user = settings.inputs.slice(0, settings.inputs.length - nWeights);
  const quantInputs = quantInputsOf(user);
  return {
    id, buildDir: p.dir, settings, chunks, version: buildVersion(p), quantInputs,
    inputs: user.map((i) => ({
      name: i.name, shape: i.shape, size: size(i.shape),
      ...(quantInputs ? { range: [Number(BigInt(i.range[0])) / 2 ** i.scale, Number(BigInt(i.range[1])) / 2 ** i.scale] as [number, number] } : {}),
    })),
  };
}

/** settings.json's inputs as the executor's QInputs (lo and bits of the range check), or undefined for builds that did not record them. */
function quantInputsOf(inputs: Settings['inputs']): QInput[] | undefined {
  try {
    return inputs.map((i, k) => {
      const lo = BigInt(i.range[0]);
      const hi = BigInt(i.range[1]);
      if (!Number.isInteger(i.bits) || !Number.isInteger(i.scale) || hi - lo + 1n !== 1n << BigInt(i.bits)) throw new Error('inconsistent range');
      return { name: i.name, shape: i.shape, offset: k, size: size(i.shape), scale: i.scale, lo, bits: i.bits, calibrated: i.calibrated, ...(i.categories ? { categories: i.categories, dtype: 8 } : {}) };
    });
  } catch {
    return undefined;
  }
}

/** The models under a folder, read again when asked for one it does not know (new builds appear). */
export class ModelRegistry {
  readonly dir: string;
  private models = new Map<string, ModelInfo>();

  constructor(dir: string) {
    this.dir = resolve(dir);
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) {
      throw new ZkonnxError('BAD_ARGUMENT', `--models ${this.dir} is not a folder`, { hint: 'pass a folder whose subfolders are build folders (zkonnx compile + setup)' });
    }
    this.scan();
  }

  scan(): void {
    const next = new Map<string, ModelInfo>();
    for (const name of readdirSync(this.dir).sort()) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) continue;
      const dir = join(this.dir, name);
      if (!statSync(dir).isDirectory()) continue;
      const m = loadModel(name, dir);
      if (m) next.set(name, m);
    }
    this.models = next;
  }

  list(): ModelInfo[] {
    return [...this.models.values()];
  }

  get(id: string): ModelInfo | undefined {
    const m = this.models.get(id);
    // unknown, or compiled / set up again since it was read: read the folder again
    if (!m || !existsSync(m.buildDir) || buildVersion(new BuildPaths(m.buildDir)) !== m.version) this.scan();
    return this.models.get(id);
  }
}

export class RequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The model's input counts flattened; every leaf a finite number, or a string for a categorical input. */
function flatten(x: unknown, where: string, out: (number | string)[], categorical = false): void {
  if (Array.isArray(x)) {
    x.forEach((v, i) => flatten(v, `${where}[${i}]`, out, categorical));
    return;
  }
  if (categorical) {
    if (typeof x !== 'string') throw new RequestError(400, 'INPUT_INVALID', `${where} is ${JSON.stringify(x)}: this input is categorical, its values are strings`);
    out.push(x);
    return;
  }
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new RequestError(400, 'INPUT_INVALID', `${where} is ${JSON.stringify(x) ?? String(x)}, not a finite number`);
  }
  out.push(x);
}

/**
 * Checks a request body {model, input: {input_data: [[...], ...]}} against the registry: an
 * unknown model is 404, anything else wrong is 400 with a message that names it.
 */
export function validateRequest(body: unknown, registry: ModelRegistry): { model: ModelInfo; input: ProofInput } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestError(400, 'BAD_REQUEST', 'the body must be a JSON object {"model": "<id>", "input": {"input_data": [[...]]}}');
  }
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'model' && k !== 'input');
  if (extra.length) throw new RequestError(400, 'BAD_REQUEST', `unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}: the body has "model" and "input" only`);
  if (b.model === undefined) throw new RequestError(400, 'BAD_REQUEST', 'missing field "model" (a model id; GET /v1/models lists them)');
  if (typeof b.model !== 'string' || !b.model) throw new RequestError(400, 'BAD_REQUEST', `"model" must be a non-empty string, got ${JSON.stringify(b.model)}`);
  if (b.input === undefined) throw new RequestError(400, 'BAD_REQUEST', 'missing field "input" ({"input_data": [[numbers...], ...]})');
  const model = registry.get(b.model);
  if (!model) {
    const known = registry.list().map((m) => m.id);
    throw new RequestError(404, 'MODEL_NOT_FOUND', `model '${b.model}' does not exist; known models: ${known.length ? known.join(', ') : '(none)'}`);
  }
  const input = b.input as { input_data?: unknown; salts?: unknown };
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !Array.isArray(input.input_data)) {
    throw new RequestError(400, 'INPUT_INVALID', '"input" must be {"input_data": [[numbers...], ...]}, one list per model input');
  }
  const salts = checkSalts(model, input.salts);
  const data = input.input_data;
  if (data.length !== model.inputs.length) {
    throw new RequestError(400, 'INPUT_SHAPE', `"input.input_data" has ${data.length} list(s), model '${model.id}' has ${model.inputs.length} input(s): ${model.inputs.map((i) => `${i.name} [${i.shape}]`).join(', ')}`);
  }
  const flat = data.map((x, k) => {
    const out: (number | string)[] = [];
    flatten(x, `input.input_data[${k}]`, out, model.quantInputs?.[k]?.categories !== undefined);
    const want = model.inputs[k]!;
    if (out.length !== want.size) {
      throw new RequestError(400, 'INPUT_SHAPE', `input.input_data[${k}] has ${out.length} number(s), model '${model.id}' input '${want.name}' has shape [${want.shape}] (${want.size} numbers)`);
    }
    checkRange(model, k, out);
    return out;
  });
  return { model, input: { input_data: flat, ...(salts ? { salts } : {}) } };
}

/**
 * A salted model's salts, if the request gives them: {"in0_salt": "<decimal in [0, r)>", …}, one
 * per hashed input and output (the worker checks the names against the circuit); without them
 * the worker draws fresh ones and returns them with the proof.
 */
function checkSalts(model: ModelInfo, salts: unknown): Record<string, string> | undefined {
  if (salts === undefined) return undefined;
  if (!model.settings.visibility.salt) throw new RequestError(400, 'INPUT_INVALID', `"input.salts" given, but model '${model.id}' salts no commitment (compile --salt)`);
  if (salts === null || typeof salts !== 'object' || Array.isArray(salts)) throw new RequestError(400, 'INPUT_INVALID', '"input.salts" must be an object {"in0_salt": "<decimal>", …}');
  for (const [k, v] of Object.entries(salts)) {
    if (!/^(in|out)\d+_salt$/.test(k)) throw new RequestError(400, 'INPUT_INVALID', `"input.salts": ${JSON.stringify(k)} is no salt signal (in<i>_salt, out<j>_salt)`);
    if (typeof v !== 'string' || !/^\d{1,78}$/.test(v) || BigInt(v) >= BN254_R) throw new RequestError(400, 'INPUT_INVALID', `"input.salts.${k}" must be a decimal string in [0, r), got ${JSON.stringify(v)}`);
  }
  return salts as Record<string, string>;
}

/**
 * The circuit range-checks every input to the envelope it was compiled for (settings.json); a value
 * outside it cannot be proved. The check is the prover's own (quantizeInputs), on that one input.
 */
function checkRange(model: ModelInfo, k: number, values: (number | string)[]): void {
  const q = model.quantInputs?.[k];
  if (!q) return;
  try {
    quantizeInputs({ inputs: [q] } as Pick<QuantGraph, 'inputs'> as QuantGraph, [values.every((v) => typeof v === 'string') ? values as string[] : Float64Array.from(values as number[])]);
  } catch (e) {
    if (e instanceof ZkonnxError && e.code === 'INPUT_OUT_OF_RANGE') {
      throw new RequestError(400, 'INPUT_OUT_OF_RANGE', `input.input_data[${k}]: ${e.message} (model '${model.id}'; GET /v1/models lists each input's range)`);
    }
    throw e;
  }
}
