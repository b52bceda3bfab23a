// npm run bench:hashed — what hashed visibility costs on the bundled MNIST MLP (196→32→10):
// constraints (total, for the commitments, for the weight range checks and products), compile,
// setup and prove seconds, for baked weights with private/hashed input and output, and for
// --weights hashed at 8 and 12 bits. Writes benchmarks/results/hashed.{json,md}.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';

const root = packageRoot();
const dir = join(root, 'models', 'mnist-mlp');
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-hashed-'));

const configs: { label: string; visibility: CompileOptions['visibility']; params?: CompileOptions['params'] }[] = [
  { label: 'baked weights, private input, public output', visibility: {} },
  { label: 'baked weights, hashed input', visibility: { input: 'hashed' } },
  { label: 'baked weights, hashed input and output', visibility: { input: 'hashed', output: 'hashed' } },
  { label: 'hashed weights (8 bits), public output', visibility: { weights: 'hashed' }, params: { weightBits: 8 } },
  { label: 'hashed weights (12 bits), public output', visibility: { weights: 'hashed' }, params: { weightBits: 12 } },
  { label: 'hashed weights (12 bits), input and output', visibility: { input: 'hashed', output: 'hashed', weights: 'hashed' }, params: { weightBits: 12 } },
];
const rows: Record<string, number | string | boolean>[] = [];
try {
  for (const [k, c] of configs.entries()) {
    const buildDir = join(work, `m${k}`);
    let t = performance.now();
    const { settings: s } = await compile({ model: join(dir, 'model.onnx'), outDir: buildDir, calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), visibility: c.visibility, params: c.params });
    const compileS = (performance.now() - t) / 1000;
    t = performance.now();
    const st = await setup({ buildDir });
    const setupS = (performance.now() - t) / 1000;
    const p = await prove({ buildDir, input: join(dir, 'input.json') });
    const ok = await verify({ buildDir });
    const weightRc = s.inputs.filter((_, i) => s.weights && i >= 1).reduce((n, i) => n + i.constraints, 0);
    rows.push({
      config: c.label, constraints: s.circuit.constraints, public: s.circuit.publicInputs + s.circuit.publicOutputs,
      weightRangeChecks: weightRc, compileS, setupS, power: st.power, proveS: p.seconds.prove, verified: ok,
      maxAbsError: p.reference?.maxAbsError ?? NaN,
    });
    console.log(`${c.label}: ${s.circuit.constraints} constraints, prove ${p.seconds.prove.toFixed(2)} s, verified ${ok}`);
  }
  const m = await machine();
  const base = rows[0]!.constraints as number;
  const summary = table(
    ['configuration', 'constraints', 'vs baked', 'weight range checks', 'public signals', 'compile s', 'setup s (2^k)', 'prove s', 'max abs err'],
    rows.map((r) => [r.config as string, r.constraints as number, `${((r.constraints as number) / base).toFixed(2)}x`, r.weightRangeChecks as number, r.public as number,
      (r.compileS as number).toFixed(1), `${(r.setupS as number).toFixed(1)} (2^${r.power})`, (r.proveS as number).toFixed(2), (r.maxAbsError as number).toExponential(2)]),
  );
  console.log(summary);
  writeFileSync(join(out, 'hashed.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), model: 'models/mnist-mlp', rows }, null, 2));
  writeFileSync(join(out, 'hashed.md'), ['# Hashed visibility on models/mnist-mlp (196→32→10)', '', `Machine: ${m}`, '', '```', summary, '```', ''].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
