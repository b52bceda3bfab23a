// Input files: EZKL's input.json format, {"input_data": [[...flat floats per model input...]]},
// and calibration files holding a list of such samples.
import { existsSync, readFileSync } from 'node:fs';
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
        throw new ZkonnxError('INPUT_INVALID', `${where}: input_data[${i}][${j}] is ${JSON.stringify(x)}, not a finite number`, { file: where });
      }
      return x;
    });
  });
}

export function readJson(path: string): unknown {
  if (!existsSync(path)) throw new ZkonnxError('ARTIFACT_MISSING', `${path} not found`, { file: path });
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
