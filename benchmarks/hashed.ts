// npm run bench:hashed — what hashed visibility costs on the bundled MNIST MLP (196→32→10) and
// CNN (two 3×3 convolutions with BatchNorm, 28×28 input): constraints (total, for the weight
// range checks), compile, setup and prove seconds, for baked weights with private/hashed input
// and output, and for --weights hashed at 8 and 12 bits; and, where ../shared/realworld is
// there, baked against hashed on the tree ensembles and the SVM others exported.
// Writes benchmarks/results/hashed.{json,md}.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';
import { prepareRealworld } from './realworld-lib.js';

const root = packageRoot();
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-hashed-'));

const realworld = join(root, '..', 'shared', 'realworld');
const ML_MODELS = ['skl-rf-iris', 'xgb-regressor-onnxmltools', 'lgbm-pipeline-onnxmltools', 'skl-nusvc'];

/** The first configuration of each model is its baseline (the "vs baked" column). */
const configs: { model: string; label: string; visibility: CompileOptions['visibility']; params?: CompileOptions['params']; allowInaccurate?: boolean; realworld?: true }[] = [
  { model: 'mnist-mlp', label: 'baked weights, private input, public output', visibility: {} },
  { model: 'mnist-mlp', label: 'baked weights, hashed input', visibility: { input: 'hashed' } },
  { model: 'mnist-mlp', label: 'baked weights, hashed input and output', visibility: { input: 'hashed', output: 'hashed' } },
  // 8 bits at one shared scale are past the tolerance: kept to show what the width costs and buys
  { model: 'mnist-mlp', label: 'hashed weights (8 bits), public output', visibility: { weights: 'hashed' }, params: { weightBits: 8 }, allowInaccurate: true },
  { model: 'mnist-mlp', label: 'hashed weights (12 bits), public output', visibility: { weights: 'hashed' }, params: { weightBits: 12 } },
  { model: 'mnist-mlp', label: 'hashed weights (12 bits), input and output', visibility: { input: 'hashed', output: 'hashed', weights: 'hashed' }, params: { weightBits: 12 } },
  { model: 'mnist-cnn', label: 'baked weights, private input, public output', visibility: {} },
  { model: 'mnist-cnn', label: 'hashed weights (12 bits), public output', visibility: { weights: 'hashed' }, params: { weightBits: 12 } },
  ...(existsSync(realworld) ? ML_MODELS.flatMap((model) => [
    { model, label: 'baked weights, private input, public output', visibility: {}, realworld: true as const },
    { model, label: 'hashed weights (12 bits), public output', visibility: { weights: 'hashed' as const }, realworld: true as const },
  ]) : []),
];
const rows: Record<string, number | string | boolean>[] = [];
try {
  for (const [k, c] of configs.entries()) {
    const buildDir = join(work, `m${k}`);
    const dir = join(root, 'models', c.model);
    const files = c.realworld ? prepareRealworld(join(realworld, c.model), join(work, `inputs${k}`)) : { model: join(dir, 'model.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json') };
    let t = performance.now();
    const { settings: s } = await compile({ model: files.model, outDir: buildDir, calibration: files.calibration, input: files.input, visibility: c.visibility, params: c.params, allowInaccurate: c.allowInaccurate });
    const compileS = (performance.now() - t) / 1000;
    t = performance.now();
    const st = await setup({ buildDir });
    const setupS = (performance.now() - t) / 1000;
    const p = await prove({ buildDir, input: files.input });
    const ok = await verify({ buildDir });
    const weightRc = s.inputs.filter((i) => s.weights?.tensors.some((t) => t.name === i.name)).reduce((n, i) => n + i.constraints, 0);
    rows.push({
      model: c.model, config: c.label, constraints: s.circuit.constraints, public: s.circuit.publicInputs + s.circuit.publicOutputs,
      weightRangeChecks: weightRc, compileS, setupS, power: st.power, proveS: p.seconds.prove, verified: ok,
      maxAbsError: p.reference?.maxAbsError ?? NaN,
    });
    console.log(`${c.model}, ${c.label}: ${s.circuit.constraints} constraints, prove ${p.seconds.prove.toFixed(2)} s, verified ${ok}`);
  }
  const m = await machine();
  const base = (r: (typeof rows)[number]) => rows.find((b) => b.model === r.model)!.constraints as number;
  const summary = table(
    ['model', 'configuration', 'constraints', 'vs baked', 'weight range checks', 'public signals', 'compile s', 'setup s (2^k)', 'prove s', 'max abs err'],
    rows.map((r) => [r.model as string, r.config as string, r.constraints as number, `${((r.constraints as number) / base(r)).toFixed(2)}x`, r.weightRangeChecks as number, r.public as number,
      (r.compileS as number).toFixed(1), `${(r.setupS as number).toFixed(1)} (2^${r.power})`, (r.proveS as number).toFixed(2), (r.maxAbsError as number).toExponential(2)]),
  );
  console.log(summary);
  writeFileSync(join(out, 'hashed.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), rows }, null, 2));
  const ml = existsSync(realworld) ? `; ${ML_MODELS.join(', ')} from ../shared/realworld (tree ensembles and an RBF NuSVC; their inputs as the conformance runner builds them)` : '';
  writeFileSync(join(out, 'hashed.md'), [`# Hashed visibility on models/mnist-mlp (196→32→10) and models/mnist-cnn (Conv 1→4, Conv 4→8, 3×3, BatchNorm; 28×28)${ml}`, '', `Machine: ${m}`, '', '```', summary, '```', ''].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
