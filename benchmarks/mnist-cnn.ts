// npm run bench:cnn — the bundled CNN (circomlib-ml's MNIST architecture) against circomlib-ml's
// circuit for the same architecture: constraints (total and per op type), compile / setup /
// prove seconds, and the quantized executor's agreement with the float model on 1,000 held-out
// digits. Writes benchmarks/results/mnist-cnn.{json,md} and a chart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify } from '../src/api.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { BuildPaths, packageRoot } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { releaseCurves } from '../src/snark.js';
import { barChart, machine, table } from './chart.js';

// circomlib-ml's MNIST CNN circuit (Conv2D 3x3x4, BatchNorm, ReLU, AvgPool, Conv2D 3x3x8, BatchNorm,
// ReLU, AvgPool, Dense 200→10, ArgMax), as compiled by circom: each ReLU decomposed over 254 bits,
// weights as signals, and the rescaling remainder never range-checked (unsound).
const CIRCOMLIB_ML = { constraints: 2_045_276, nonLinear: 1_965_828, linear: 79_448 };

const root = packageRoot();
const dir = join(root, 'models', 'mnist-cnn');
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-cnn-'));
const test = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
const configs = [{ activationBits: 8, weightBits: 8 }, { activationBits: 12, weightBits: 12 }];
const rows: Record<string, unknown>[] = [];
const lines: string[] = [];

try {
  for (const params of configs) {
    const tag = `${params.activationBits}/${params.weightBits} bits`;
    const buildDir = join(work, `cnn-${params.activationBits}`);
    let t = performance.now();
    const { settings: s } = await compile({ model: join(dir, 'model.onnx'), outDir: buildDir, calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json'), params });
    const compileS = (performance.now() - t) / 1000;

    // agreement with the float model on the held-out digits (float: onnxruntime-web)
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
    let agree = 0, rightQ = 0, rightF = 0;
    for (let i = 0; i < test.inputs.length; i++) {
      const x = Float64Array.from(test.inputs[i]!);
      const f = (await runReference(join(dir, 'model.onnx'), [{ name: 'input', shape: [1, 1, 28, 28] }], [x], [{ name: 'digit', shape: [1] }]))[0]![0]!;
      const q = Number(execQuant(qg, quantizeInputs(qg, [x])).outputs[0]![0]!);
      agree += q === f ? 1 : 0; rightQ += q === test.labels[i] ? 1 : 0; rightF += f === test.labels[i] ? 1 : 0;
    }
    t = performance.now();
    const st = await setup({ buildDir });
    const setupS = (performance.now() - t) / 1000;
    t = performance.now();
    const p = await prove({ buildDir, input: join(dir, 'input.json') });
    const proveS = (performance.now() - t) / 1000;
    const ok = await verify({ buildDir });

    const byOp = new Map<string, number>([['input range checks', s.inputs.reduce((n, i) => n + i.constraints, 0)]]);
    for (const l of s.layers) byOp.set(l.op, (byOp.get(l.op) ?? 0) + l.constraints);
    const attributed = [...byOp.values()].reduce((a, b) => a + b, 0);
    byOp.set('other (linear leftovers)', s.circuit.constraints - attributed);
    const n = test.inputs.length;
    const row = {
      params: tag, constraints: s.circuit.constraints, ratio: CIRCOMLIB_ML.constraints / s.circuit.constraints,
      byOp: Object.fromEntries(byOp), layers: s.layers.map((l) => ({ name: l.name, op: l.op, size: l.size, constraints: l.constraints })),
      compileS, setupS, power: st.power, proveS, verified: ok, digitProved: p.outputs[0]!.values[0],
      agreement: agree / n, accuracyQuantized: rightQ / n, accuracyFloat: rightF / n, digits: n,
    };
    rows.push(row);
    console.log(`${tag}: ${s.circuit.constraints} constraints (${row.ratio.toFixed(1)}x fewer than circomlib-ml), agreement ${(100 * row.agreement).toFixed(1)}%, prove ${proveS.toFixed(2)} s`);
    lines.push(`### ${tag}`, '', table(['op type', 'constraints'], [...byOp.entries()].map(([k, v]) => [k, v])), '');
  }
  const m = await machine();
  const summary = table(
    ['circuit', 'constraints', 'vs circomlib-ml', 'compile s', 'setup s (2^k)', 'prove s', 'agreement', 'acc. quantized', 'acc. float'],
    [
      ['circomlib-ml (unsound: remainders unchecked)', CIRCOMLIB_ML.constraints, '1.0x', '', '', '', '', '', ''],
      ...rows.map((r) => [`zkonnx ${r.params}`, r.constraints as number, `${(r.ratio as number).toFixed(1)}x fewer`, (r.compileS as number).toFixed(1),
        `${(r.setupS as number).toFixed(1)} (2^${r.power})`, (r.proveS as number).toFixed(2), `${(100 * (r.agreement as number)).toFixed(1)}%`,
        `${(100 * (r.accuracyQuantized as number)).toFixed(1)}%`, `${(100 * (r.accuracyFloat as number)).toFixed(1)}%`]),
    ],
  );
  console.log(summary);
  writeFileSync(join(out, 'mnist-cnn.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), circomlibMl: CIRCOMLIB_ML, rows }, null, 2));
  writeFileSync(join(out, 'mnist-cnn.md'), [`# models/mnist-cnn vs circomlib-ml`, '', `Machine: ${m}`, '', '```', summary, '```', '', ...lines.map((l) => (l.startsWith('###') || l === '' ? l : '```\n' + l + '\n```'))].join('\n'));
  writeFileSync(join(out, 'mnist-cnn-constraints.svg'), barChart('MNIST CNN constraints (log scale)', 'constraints', [
    { label: 'circomlib-ml', value: CIRCOMLIB_ML.constraints },
    ...rows.map((r) => ({ label: `zkonnx ${r.params}`, value: r.constraints as number })),
  ], { log: true }));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
