// Input files: EZKL's input.json format, {"input_data": [[...flat floats per model input...]]},
// and calibration files holding a list of such samples. A string (categorical) input's list holds
// strings, e.g. {"input_data": [["1"], ["male"], [29.0], [7.25], ["S"]]}: the circuit takes each as
// its category code (categoryCode), from the table compile records (settings.json inputs[].categories).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ZkonnxError } from './errors.js';
import type { TextSpec } from './ir/graph.js';
import { textCodes } from './tokenize.js';

/**
 * One list per model input: numbers, or strings for a categorical (string) input, whose strings
 * the circuit takes as category codes (categoryCode, with the table compile records).
 */
export type Sample = (Float64Array | string[])[];
/** A sample with category codes in place of strings: what calibration and the affine program take. */
export type NumericSample = Float64Array[];
/** An input file's contents: {"input_data": [[...], ...]}, one (nested) list of numbers or of strings per input. */
export interface InputData { input_data: (number | string | unknown[])[][] }

function parseSample(raw: unknown, where: string): Sample {
  const data = (raw as { input_data?: unknown })?.input_data;
  if (!Array.isArray(data) || data.length === 0) {
    throw new ZkonnxError('INPUT_INVALID', `${where}: expected {"input_data": [[numbers...], ...]}`, { file: where });
  }
  return data.map((arr, i) => {
    if (!Array.isArray(arr)) throw new ZkonnxError('INPUT_INVALID', `${where}: input_data[${i}] is not a list of numbers (or of strings, for a string input)`, { file: where });
    const flat = (arr as unknown[]).flat(Infinity as 1) as unknown[];
    // a string input's values are strings (its categories): all of them, or none
    if (flat.length && typeof flat[0] === 'string') {
      return flat.map((x, j) => {
        if (typeof x !== 'string') {
          throw new ZkonnxError('INPUT_INVALID', `${where}: input_data[${i}][${j}] is ${JSON.stringify(x)}, not a string like input_data[${i}][0] (a list holds the numbers of a numeric input or the strings of a string input)`, { file: where });
        }
        return x;
      });
    }
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

/** The code of a string in a category table: its index, or the table's length for any other string ("unknown"). */
export function categoryCode(categories: readonly string[], s: string): number {
  const i = categories.indexOf(s);
  return i < 0 ? categories.length : i;
}

/** What a model input is, for checking a sample's values against it. */
export interface InputKind { name: string; shape: readonly number[]; dtype?: number; categories?: readonly string[]; text?: TextSpec }

/** The shape of what the user gives for an input: a text input's strings, else the circuit's values. */
export const givenShape = (inp: InputKind): readonly number[] => inp.text?.shape ?? inp.shape;

/** A categorical input's strings as the circuit's codes: a text input's tokens (src/tokenize.ts), else each string's category code. */
export function stringCodes(inp: InputKind, values: readonly string[]): number[] {
  if (inp.text) return textCodes(inp.name, inp.text, inp.categories ?? [], values);
  return values.map((v) => categoryCode(inp.categories ?? [], v));
}

const isStrings = (x: ArrayLike<unknown>): x is string[] => Array.isArray(x) && x.length > 0 && typeof x[0] === 'string';

/**
 * Checks that input k of `at` has the kind its model input takes: strings for a categorical
 * (string) input, numbers for any other; the error names the input.
 */
export function checkKind(inp: InputKind, values: ArrayLike<unknown>, k: number, at?: string, file?: string): void {
  const categorical = inp.categories !== undefined || inp.dtype === 8;
  const where = at ? `${at}: ` : '';
  if (categorical && values.length > 0 && !isStrings(values)) {
    throw new ZkonnxError('INPUT_INVALID', `${where}input '${inp.name}' takes strings (a categorical input${inp.categories ? `: ${describeCategories(inp.categories)}` : ''}), input_data[${k}] holds numbers`, {
      ...(file ? { file } : {}), signal: inp.name, hint: 'give its values as JSON strings, e.g. ["male"]',
    });
  }
  if (!categorical && isStrings(values)) {
    throw new ZkonnxError('INPUT_INVALID', `${where}input '${inp.name}' takes numbers, input_data[${k}] holds strings (${JSON.stringify(values[0])}…)`, {
      ...(file ? { file } : {}), signal: inp.name,
    });
  }
}

/** `categories "a", "b", any other string being "unknown"`, shortened for long tables. */
export function describeCategories(c: readonly string[]): string {
  const shown = c.slice(0, 12).map((s) => JSON.stringify(s)).join(', ');
  return `categories ${shown}${c.length > 12 ? `, … (${c.length} in all)` : ''}, any other string being "unknown"`;
}

/** The sample with each categorical input's strings replaced by their codes (checked first: checkSamples). */
export function encodeSample(inputs: readonly InputKind[], s: Sample): NumericSample {
  return s.map((x, i) => {
    if (isStrings(x)) return Float64Array.from(stringCodes(inputs[i]!, x));
    return x instanceof Float64Array ? x : Float64Array.from(x as ArrayLike<number>);
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
export function loadSample(src: string | InputData): Sample {
  return typeof src === 'string' ? parseSample(readJson(src), src) : parseSample(src, '<input>');
}

/** Calibration samples: a JSON array of samples, or one sample, or {"input_data"} with several rows per input is not guessed. */
export function loadSamples(src: string | InputData[]): Sample[] {
  if (typeof src !== 'string') return src.map((s, i) => parseSample(s, `<calibration ${i}>`));
  const raw = readJson(src);
  if (Array.isArray(raw)) return raw.map((s, i) => parseSample(s, `${src}[${i}]`));
  return [parseSample(raw, src)];
}

/**
 * Every sample holds one flat list per model input, of that input's size: checked before the
 * samples reach calibration or onnxruntime, so a wrong one is named here, not in a stack trace.
 */
export function checkSamples(inputs: readonly InputKind[], samples: readonly Sample[], where: string): void {
  samples.forEach((s, k) => {
    const at = samples.length > 1 ? `${where}, sample ${k}` : where;
    if (s.length !== inputs.length) {
      throw new ZkonnxError('INPUT_INVALID', `${at}: the model has ${inputs.length} input(s) (${inputs.map((i) => i.name).join(', ')}), the sample has ${s.length} list(s) in input_data`, { file: where });
    }
    inputs.forEach((inp, i) => {
      const shape = givenShape(inp);
      const size = shape.reduce((a, b) => a * b, 1);
      if (s[i]!.length !== size) {
        throw new ZkonnxError('INPUT_INVALID', `${at}: input '${inp.name}' of shape [${shape}] needs ${size} ${inp.text ? 'string(s) (a text input)' : 'values'}, input_data[${i}] has ${s[i]!.length}`, { file: where, signal: inp.name });
      }
      checkKind(inp, s[i]!, i, at, where);
    });
  });
}
