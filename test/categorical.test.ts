// Categorical (string) inputs, the sklearn way: a string column one-hot encoded (OneHotEncoder
// cats_strings), looked up (LabelEncoder keys_strings, CategoryMapper), next to float columns, into
// a LinearClassifier. The circuit takes each string as its category code (the index in a table
// compile records, one more code for "unknown"); the executor must agree with onnxruntime-web fed
// the strings themselves, a proof must verify, and a witness with another code or another one-hot
// bit must fail the constraints. A OneHotEncoder with zeros=0 refuses an unknown category in the
// executor and in the circuit itself.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, prove, setup, verify } from '../src/api.js';
import { checkConstraints, readR1cs } from '../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../src/circom/witness.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { ZkonnxError } from '../src/errors.js';
import { checkSamples, loadSample, loadSamples, type InputData } from '../src/inputs.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { attr, buildModel, type ModelSpec } from '../src/onnx/write.js';
import { BuildPaths } from '../src/paths.js';
import { dequantize, execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { releaseCurves } from '../src/snark.js';
import { holdsWithAny, provenWitness } from './helpers/compiled.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-categorical-'));
afterAll(async () => { await releaseCurves(); });

const ML = 'ai.onnx.ml';
const coef = Array.from({ length: 3 * 7 }, (_, i) => Math.round(100 * Math.sin(1.3 * i + 0.4)) / 50);

/**
 * color (string) → (Identity →) OneHotEncoder [red, green, blue] and CategoryMapper {red: 3, purple: 7};
 * size (string) → LabelEncoder {S: 0.5, M: 1, L: 2, else −1}; x (2 floats): all concatenated into
 * a 3-class LinearClassifier (softmax). color's table is the union: red, green, blue, purple.
 */
const shop: ModelSpec = {
  graphName: 'shop',
  opsets: { [ML]: 2 },
  inputs: [{ name: 'color', shape: [1, 1], type: 'string' }, { name: 'size', shape: [1, 1], type: 'string' }, { name: 'x', shape: [1, 2] }],
  outputs: [{ name: 'label', shape: [1], type: 'int64' }, { name: 'probabilities', shape: [1, 3] }],
  initializers: [{ name: 'flat', dims: [2], data: BigInt64Array.from([1n, 3n]) }],
  nodes: [
    { name: 'same', op: 'Identity', inputs: ['color'], outputs: ['color2'] },
    { name: 'ohe', op: 'OneHotEncoder', domain: ML, inputs: ['color2'], outputs: ['hot3'], attrs: { cats_strings: ['red', 'green', 'blue'], zeros: 1 } },
    { name: 'flatten_hot', op: 'Reshape', inputs: ['hot3', 'flat'], outputs: ['hot'] },
    { name: 'sizes', op: 'LabelEncoder', domain: ML, inputs: ['size'], outputs: ['sizef'], attrs: { keys_strings: ['S', 'M', 'L'], values_floats: attr.floats([0.5, 1, 2]), default_float: attr.float(-1) } },
    { name: 'color_id', op: 'CategoryMapper', domain: ML, inputs: ['color'], outputs: ['cid'], attrs: { cats_strings: ['red', 'purple'], cats_int64s: [3, 7], default_int64: -1, default_string: '_' } },
    { name: 'cidf', op: 'Cast', inputs: ['cid'], outputs: ['cidf'], attrs: { to: 1 } },
    { name: 'features', op: 'Concat', inputs: ['hot', 'sizef', 'cidf', 'x'], outputs: ['f'], attrs: { axis: 1 } },
    {
      name: 'clf', op: 'LinearClassifier', domain: ML, inputs: ['f'], outputs: ['label', 'probabilities'],
      attrs: { coefficients: attr.floats(coef), intercepts: attr.floats([0.1, -0.2, 0.05]), classlabels_ints: [0, 1, 2], post_transform: 'SOFTMAX' },
    },
  ],
};

/** key (string, zeros=0 over [a, b]) and x (float) → y = onehot · [1.5, −2] + x. */
const strict: ModelSpec = {
  graphName: 'strict',
  inputs: [{ name: 'key', shape: [1], type: 'string' }, { name: 'x', shape: [1, 1] }],
  outputs: [{ name: 'y', shape: [1, 1] }],
  initializers: [{ name: 'w', dims: [2, 1], data: Float32Array.from([1.5, -2]) }],
  nodes: [
    { name: 'ohe', op: 'OneHotEncoder', domain: ML, inputs: ['key'], outputs: ['hot'], attrs: { cats_strings: ['a', 'b'], zeros: 0 } },
    { name: 'mm', op: 'MatMul', inputs: ['hot', 'w'], outputs: ['h'] },
    { name: 'add', op: 'Add', inputs: ['h', 'x'], outputs: ['y'] },
  ],
};

/**
 * Numbers as categories, as onnxruntime compares them: a float input truncated to int64
 * (OneHotEncoder cats_int64s with a repeated category: its last column wins), an int64 input
 * compared as it is, and an Imputer of a finite replaced value.
 */
const numeric: ModelSpec = {
  graphName: 'numeric',
  inputs: [{ name: 'n', shape: [1, 3] }, { name: 'k', shape: [1, 1], type: 'int64' }],
  outputs: [{ name: 'hot_n', shape: [1, 3, 5] }, { name: 'hot_k', shape: [1, 1, 3] }, { name: 'imputed', shape: [1, 3] }],
  initializers: [],
  nodes: [
    { name: 'ohe_n', op: 'OneHotEncoder', domain: ML, inputs: ['n'], outputs: ['hot_n'], attrs: { cats_int64s: [-2, 0, 1, 3, 1] } },
    { name: 'ohe_k', op: 'OneHotEncoder', domain: ML, inputs: ['k'], outputs: ['hot_k'], attrs: { cats_int64s: [4, 5, 6] } },
    { name: 'imp', op: 'Imputer', domain: ML, inputs: ['n'], outputs: ['imputed'], attrs: { imputed_value_floats: attr.floats([9, 8, 7]), replaced_value_float: attr.float(0.5) } },
  ],
};

const colors = ['red', 'green', 'blue', 'purple', 'black'];
const sizes = ['S', 'M', 'L', 'XL'];
const sample = (k: number): InputData => ({
  input_data: [[colors[k % colors.length]!], [sizes[(k * 3) % sizes.length]!], [Math.round(100 * Math.sin(k)) / 100, Math.round(100 * Math.cos(2 * k)) / 100]],
});
const samples = Array.from({ length: 12 }, (_, k) => sample(k));

function write(name: string, spec: ModelSpec): string {
  const f = join(work, `${name}.onnx`);
  writeFileSync(f, buildModel(spec));
  return f;
}

describe('categorical (string) inputs', () => {
  const model = write('shop', shop);
  const build = join(work, 'build-shop');

  it('gives each string input its table (every string the model compares it with, in order) and refuses other uses of strings, naming the node', () => {
    const g = inferAndFold(readOnnx(model));
    expect(g.inputs.map((i) => i.categories)).toEqual([['red', 'green', 'blue', 'purple'], ['S', 'M', 'L'], undefined]);
    const cast: ModelSpec = {
      graphName: 'cast', inputs: [{ name: 's', shape: [1, 1], type: 'string' }], outputs: [{ name: 'y', shape: [1, 1] }], initializers: [],
      nodes: [{ name: 'parse', op: 'Cast', inputs: ['s'], outputs: ['y'], attrs: { to: 1 } }],
    };
    const err = (() => { try { inferAndFold(readOnnx(write('cast', cast))); } catch (e) { return e as ZkonnxError; } throw new Error('accepted'); })();
    expect(err).toBeInstanceOf(ZkonnxError);
    expect(err.code).toBe('ONNX_UNSUPPORTED_OP');
    expect(err.message).toMatch(/node parse \(Cast\): input 's' holds strings \(the categorical input 's'\)/);
  });

  it('compiles, and the executor agrees with onnxruntime-web fed the strings, unknown ones included', async () => {
    const c = await compile({ model, outDir: build, calibration: samples });
    const color = c.settings.inputs.find((i) => i.name === 'color')!;
    expect(color.categories).toEqual(['red', 'green', 'blue', 'purple']);
    expect(color.scale).toBe(0);
    expect(BigInt(color.range[1])).toBeGreaterThanOrEqual(4n); // "unknown" (code 4) is admissible
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
    expect(qg.inputs[0]!.categories).toEqual(['red', 'green', 'blue', 'purple']);
    const ins = qg.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype }));
    const outs = qg.outputs.map((o) => ({ name: o.name, shape: o.shape }));
    const tests = [...samples, ...Array.from({ length: 8 }, (_, k) => sample(k + 40)), { input_data: [['never-seen'], ['XXL'], [0.3, -0.7]] }];
    for (const s of tests) {
      const raw = loadSample(s);
      const ref = await runReference(model, ins, raw, outs);
      const q = execQuant(qg, quantizeInputs(qg, raw));
      expect(Number(q.outputs[0]![0])).toBe(ref[0]![0]); // the label, exactly
      q.outputs[1]!.forEach((v, j) => expect(Math.abs(dequantize(v, qg.outputs[1]!.scale) - ref[1]![j]!)).toBeLessThan(0.01));
    }
  }, 60_000);

  it('proves and verifies on strings; another code or another one-hot bit in the witness fails the constraints', async () => {
    await setup({ buildDir: build });
    const input = { input_data: [['green'], ['L'], [0.25, -0.5]] };
    const p = await prove({ buildDir: build, input });
    expect(await verify({ buildDir: build })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThanOrEqual(p.reference!.tolerance);
    const { qg, r1cs, sym, w } = await provenWitness(build);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    // the color's code: green = 1
    const codeWire = sym.get('main.in0[0]') ?? sym.get(`main.v[${qg.inputs[0]!.offset}]`);
    expect(codeWire).toBeGreaterThan(0);
    expect(w[codeWire!]).toBe(1n);
    expect(await holdsWithAny(r1cs, w, codeWire!, [0n, 2n, 4n])).toBe(false);
    // every bit of the one-hot (the Equal values of OneHotEncoder 'ohe')
    const hot = qg.acts.find((a) => a.nodes.some((n) => n.startsWith('ohe/Equal')))!;
    expect(hot.size).toBe(3);
    for (let i = 0; i < hot.size; i++) {
      const wire = sym.get(`main.v[${hot.offset + i}]`)!;
      expect(wire).toBeGreaterThan(0);
      expect(w[wire]).toBe(i === 1 ? 1n : 0n);
      const bad = w.slice();
      bad[wire] = 1n - bad[wire]!;
      expect((await checkConstraints(r1cs, bad)).ok).toBe(false);
    }
  }, 120_000);

  it('input files: strings for string inputs, numbers for the others, each refused in the other place by name', async () => {
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
    const g = inferAndFold(readOnnx(model));
    const f = join(work, 'strings.json');
    writeFileSync(f, JSON.stringify({ input_data: [['red'], ['M'], [0.1, 0.2]] }));
    const s = loadSample(f);
    expect(s[0]).toEqual(['red']);
    expect(quantizeInputs(qg, s)[0]).toEqual([0n]);
    expect(quantizeInputs(qg, loadSample({ input_data: [['magenta'], ['M'], [0.1, 0.2]] }))[0]).toEqual([4n]);
    const bad: [InputData, RegExp][] = [
      [{ input_data: [[3], ['M'], [0.1, 0.2]] }, /input 'color' takes strings \(a categorical input: categories "red", "green", "blue", "purple"/],
      [{ input_data: [['red'], ['M'], ['0.1', '0.2']] }, /input 'x' takes numbers, input_data\[2\] holds strings \("0\.1"/],
    ];
    for (const [data, msg] of bad) {
      expect(() => quantizeInputs(qg, loadSample(data))).toThrow(msg);
      expect(() => checkSamples(g.inputs, loadSamples([data]), 'calib.json')).toThrow(msg);
    }
    expect(() => loadSample({ input_data: [['red', 3], ['M'], [0.1, 0.2]] })).toThrow(/input_data\[0\]\[1\] is 3, not a string like input_data\[0\]\[0\]/);
    expect(() => loadSample({ input_data: [['red'], ['M'], [0.1, 'x']] })).toThrow(/input_data\[2\]\[1\] is "x", not a finite number/);
  });

  it('numbers as categories: floats truncated as onnxruntime casts them, integers compared as they are; Imputer', async () => {
    const m = write('numeric', numeric);
    const values = [-2.5, -1.75, -0.25, 0, 0.5, 0.75, 1.25, 1, 3, 3.5, -2, 4.25];
    const data = (i: number): InputData => ({ input_data: [[values[i % 12]!, values[(i * 5 + 1) % 12]!, values[(i * 7 + 2) % 12]!], [3 + (i % 5)]] });
    const cal = Array.from({ length: 12 }, (_, i) => data(i));
    await compile({ model: m, outDir: join(work, 'build-numeric'), calibration: cal });
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(join(work, 'build-numeric')).file('qgraph'), 'utf8'));
    const ins = qg.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype }));
    const outs = qg.outputs.map((o) => ({ name: o.name, shape: o.shape }));
    for (const d of cal) {
      const raw = loadSample(d);
      const ref = await runReference(m, ins, raw, outs);
      const q = execQuant(qg, quantizeInputs(qg, raw));
      expect(q.outputs[0]!.map((v) => dequantize(v, qg.outputs[0]!.scale))).toEqual(Array.from(ref[0]!));
      expect(q.outputs[1]!.map((v) => dequantize(v, qg.outputs[1]!.scale))).toEqual(Array.from(ref[1]!));
      q.outputs[2]!.forEach((v, j) => expect(Math.abs(dequantize(v, qg.outputs[2]!.scale) - ref[2]![j]!)).toBeLessThan(0.01));
    }
  }, 60_000);

  it('zeros=0: an unknown category is refused by the executor with the node named, and by the circuit itself', async () => {
    const m = write('strict', strict);
    const b = join(work, 'build-strict');
    const cal = ['a', 'b', 'a', 'b'].map((k, i) => ({ input_data: [[k], [0.25 * i - 0.4]] }));
    const c = await compile({ model: m, outDir: b, calibration: cal });
    expect(c.settings.inputs[0]!.categories).toEqual(['a', 'b']);
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(b).file('qgraph'), 'utf8'));
    expect(() => quantizeInputs(qg, loadSample({ input_data: [['c'], [0.1]] }))).toThrow(/input 'key'\[0\] = "c" is not a category of node ohe \(OneHotEncoder with zeros=0, which refuses unknown categories\): one of "a", "b"/);
    // a prover that skips that check: the witness for code 2 ("unknown") satisfies every gadget
    // but the one that proves the one-hot sums to 1
    const r1cs = new BuildPaths(b).file('r1cs');
    const ok = await circuitWitness(qg, c.settings.visibility, {}, { qin: [[1n], quantizeInputs(qg, [['a'], [0.1]])[1]!] }, r1cs);
    expect((await checkConstraints(r1cs, ok)).ok).toBe(true);
    const err = await circuitWitness(qg, c.settings.visibility, {}, { qin: [[2n], [0n]] }, r1cs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkonnxError);
    const j = qg.acts.findIndex((x) => x.name.endsWith(':known_category'));
    expect(qg.acts[j]!.op.kind).toBe('sqrt');
    expect((err as ZkonnxError).message).toContain(`main.a${j}[0].re: the witness does not satisfy`);
  }, 60_000);
});
