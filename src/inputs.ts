// Input files: EZKL's input.json format, {"input_data": [[...flat floats per model input...]]},
// and calibration files holding a list of such samples.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ZkonnxError } from './errors.js';

export type Sample = Float64Array[];

function parseSample(raw: unknown, where: string): Sample {
  const data = (raw as { input_data?: unknown })?.input_data;
  if (!Array.isArray(data) || data.length === 0) {
    throw new ZkonnxError('INPUT_INVALID', `${where}: expected {"input_data": [[numbers...], ...]}`, { file: where });
  }
  return data.map((arr, i) => {
    if (!Array.isArray(arr)) throw new ZkonnxError('INPUT_INVALID', `${where}: input_data[${i}] is not a list of numbers`, { file: where });
    const flat = (arr as unknown[]).flat(Infinity as 1) as unknown[];
    return Float64Array.from(flat, (x, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        // JSON.parse reads 1e400 as Infinity, which JSON.stringify would print as "null"
        const what = typeof x === 'number' ? `${x} (beyond a 64-bit float's range, e.g. 1e400)` : JSON.stringify(x);
        throw new ZkonnxError('INPUT_INVALID', `${where}: input_data[${i}][${j}] is ${what}, not a finite number`, { file: where });
      }
      return x;
    });
  });
}

export function readJson(path: string): unknown {
  if (!existsSync(path)) throw new ZkonnxError('ARTIFACT_MISSING', `${path} not found`, { file: path });
  if (statSync(path).isDirectory()) throw new ZkonnxError('INPUT_INVALID', `${path} is a folder, not a JSON file`, { file: path });
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ZkonnxError('INPUT_INVALID', `${path} is not valid JSON: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/** One sample: a file path or an already parsed {"input_data": ...} object. */
export function loadSample(src: string | { input_data: number[][] }): Sample {
  return typeof src === 'string' ? parseSample(readJson(src), src) : parseSample(src, '<input>');
}

/** Calibration samples: a JSON array of samples, or one sample, or {"input_data"} with several rows per input is not guessed. */
export function loadSamples(src: string | { input_data: number[][] }[]): Sample[] {
  if (typeof src !== 'string') return src.map((s, i) => parseSample(s, `<calibration ${i}>`));
  const raw = readJson(src);
  if (Array.isArray(raw)) return raw.map((s, i) => parseSample(s, `${src}[${i}]`));
  return [parseSample(raw, src)];
}

/**
 * Every sample holds one flat list per model input, of that input's size: checked before the
 * samples reach calibration or onnxruntime, so a wrong one is named here, not in a stack trace.
 */
export function checkSamples(inputs: readonly { name: string; shape: readonly number[] }[], samples: readonly Sample[], where: string): void {
  samples.forEach((s, k) => {
    const at = samples.length > 1 ? `${where}, sample ${k}` : where;
    if (s.length !== inputs.length) {
      throw new ZkonnxError('INPUT_INVALID', `${at}: the model has ${inputs.length} input(s) (${inputs.map((i) => i.name).join(', ')}), the sample has ${s.length} list(s) in input_data`, { file: where });
    }
    inputs.forEach((inp, i) => {
      const size = inp.shape.reduce((a, b) => a * b, 1);
      if (s[i]!.length !== size) {
        throw new ZkonnxError('INPUT_INVALID', `${at}: input '${inp.name}' of shape [${inp.shape}] needs ${size} values, input_data[${i}] has ${s[i]!.length}`, { file: where, signal: inp.name });
      }
    });
  });
}
