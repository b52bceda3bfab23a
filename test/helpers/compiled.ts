// A model written with our ONNX writer, compiled, and what circuit tests read back from its build.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compile, type CompileOptions, type Settings } from '../../src/api.js';
import { checkConstraints, readR1cs } from '../../src/circom/r1cs.js';
import { readSymbols, readWtns } from '../../src/circom/witness.js';
import { circuitWitness } from '../../src/compiler/circuit.js';
import { quantGraphFromJson } from '../../src/ir/serialize.js';
import { buildModel, type ModelSpec } from '../../src/onnx/write.js';
import { loadWeights } from '../../src/model-weights.js';
import { BuildPaths } from '../../src/paths.js';
import { quantizeInputs } from '../../src/qexec/exec.js';

export type Calibration = { input_data: (number[] | string[])[] }[];

/**
 * Compiles `m` into `dir` (its accuracy within tolerance; with checkCircom, circom's system the
 * same) and reads back the quantized graph, constraints and symbols.
 */
export async function compileSpec(m: ModelSpec, dir: string, calibration: Calibration, checkCircom = false, params?: CompileOptions['params']) {
  const file = join(dir, `${m.graphName}.onnx`);
  writeFileSync(file, buildModel(m));
  const { settings } = await compile({ model: file, outDir: join(dir, `build-${m.graphName}`), calibration, checkCircom, ...(params ? { params } : {}) });
  expect(settings.accuracy.maxAbsError).toBeLessThanOrEqual(settings.accuracy.tolerance);
  if (checkCircom) expect(settings.circuit.checkCircom?.same).toBe(true);
  const paths = new BuildPaths(join(dir, `build-${m.graphName}`));
  const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
  const [r1cs, sym] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym'))]);
  return { settings, paths, qg, r1cs, sym };
}

/**
 * Whether the witness still satisfies the constraints with the first value computed by node
 * `prefix…` replaced by 1 − itself (a 0/1 flag flipped, any other value changed).
 */
export async function satisfiedFlipped(c: Awaited<ReturnType<typeof compileSpec>>, w: bigint[], prefix: string): Promise<boolean> {
  const flag = c.qg.acts.find((a) => a.nodes.some((n) => n.startsWith(prefix)))!;
  const wire = c.sym.get(`main.v[${flag.offset}]`)!;
  expect(wire).toBeGreaterThan(0);
  const bad = w.slice();
  bad[wire] = 1n - bad[wire]!;
  return (await checkConstraints(c.r1cs, bad)).ok;
}

/**
 * A build with committed weights (--weights hashed): its witness on `sample` and the weights
 * it committed to (weights.json), with the r1cs and symbols to check and tamper with.
 */
export async function committedWitness(buildDir: string, settings: Settings, sample: ArrayLike<number>) {
  const paths = new BuildPaths(buildDir);
  const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
  const [r1cs, sym] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym'))]);
  const weights = loadWeights(paths, settings);
  const w = await circuitWitness(qg, settings.visibility, {}, { qin: quantizeInputs(qg, [Float64Array.from(sample), ...weights]) }, paths.file('r1cs'));
  return { qg, r1cs, sym, w };
}

/** Whether the constraints still hold with element `index` of committed weight tensor `tensor` one more. */
export async function holdsWithWeightChanged(c: Awaited<ReturnType<typeof committedWitness>>, tensor: string, index: number): Promise<boolean> {
  const wire = c.sym.get(`main.in${c.qg.inputs.findIndex((i) => i.name === tensor)}[${index}]`)!;
  expect(wire).toBeGreaterThan(0);
  const bad = c.w.slice();
  bad[wire] = bad[wire]! + 1n;
  return (await checkConstraints(c.r1cs, bad)).ok;
}

/** A proven build's quantized graph, constraints, symbols and the witness of proof `name`. */
export async function provenWitness(buildDir: string, name = 'default') {
  const paths = new BuildPaths(buildDir);
  const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
  const [r1cs, sym, w] = await Promise.all([readR1cs(paths.file('r1cs')), readSymbols(paths.file('sym')), readWtns(paths.proofFile(name, 'witness'))]);
  return { paths, qg, r1cs, sym, w };
}

/** Whether the witness still satisfies the constraints with `wire` set to any of `values` (each alone). */
export async function holdsWithAny(r1cs: Awaited<ReturnType<typeof readR1cs>>, w: bigint[], wire: number, values: readonly bigint[]): Promise<boolean> {
  for (const v of values) {
    const bad = w.slice();
    bad[wire] = v;
    if ((await checkConstraints(r1cs, bad)).ok) return true;
  }
  return false;
}
