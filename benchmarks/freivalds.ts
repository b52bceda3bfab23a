// npm run bench:freivalds [-- --quick]
// Matrix products of two signals checked a block at a time (compiler/freivalds.ts) against each
// product its own constraint (compile's batchProducts: false), the same model in the same run:
// constraints, nonzeros and compile seconds; setup and prove seconds where both fit in minutes.
// Models: the bundled MNIST CNN with committed weights; the small GPT of models/gpt at 16 tokens
// (its attention: Q·Kᵀ and scores·V are products of two signals with baked weights too); and,
// where ../shared/realworld is there, the WinML CIFAR-10 CNN with committed weights (--quick
// leaves it out). Writes benchmarks/results/freivalds.{json,md}.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT_SMALL, gptSpec } from '../models/gpt/gpt.js';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { buildModel } from '../src/onnx/write.js';
import { packageRoot } from '../src/paths.js';
import { rng } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';
import { prepareRealworld } from './realworld-lib.js';

const root = packageRoot();
const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-freivalds-'));
const quick = process.argv.includes('--quick');
const realworld = join(root, '..', 'shared', 'realworld');

interface Case { name: string; files: () => { model: string; calibration: string; input: string }; visibility: CompileOptions['visibility']; prove: boolean }

function gptFiles(tokens: number) {
  const dir = join(work, `gpt-${tokens}`);
  mkdirSync(dir, { recursive: true });
  const cfg = { ...GPT_SMALL, tokens };
  writeFileSync(join(dir, 'model.onnx'), buildModel(gptSpec(cfg)));
  const r = rng(5);
  const sample = () => ({ input_data: [Array.from({ length: tokens }, () => Math.floor(r() * cfg.vocab))] });
  writeFileSync(join(dir, 'input.json'), JSON.stringify(sample()));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(Array.from({ length: 16 }, sample)));
  return { model: join(dir, 'model.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json') };
}

const cases: Case[] = [
  { name: 'mnist-cnn, --weights hashed', files: () => ({ model: join(root, 'models/mnist-cnn/model.onnx'), calibration: join(root, 'models/mnist-cnn/calibration.json'), input: join(root, 'models/mnist-cnn/input.json') }), visibility: { weights: 'hashed' }, prove: true },
  { name: 'gpt (4 blocks, d 64), 16 tokens', files: () => gptFiles(16), visibility: {}, prove: false },
  ...(existsSync(realworld) && !quick ? [{ name: 'cifar10-winml-cnn, --weights hashed', files: () => prepareRealworld(join(realworld, 'cifar10-winml-cnn'), join(work, 'cifar')), visibility: { weights: 'hashed' as const }, prove: false }] : []),
];

const rows: Record<string, number | string | boolean>[] = [];
try {
  for (const [k, c] of cases.entries()) {
    const files = c.files();
    for (const batch of [false, true]) {
      const buildDir = join(work, `m${k}-${batch}`);
      let t = performance.now();
      const { settings: s } = await compile({ model: files.model, outDir: buildDir, calibration: files.calibration, input: files.input, visibility: c.visibility, batchProducts: batch });
      const row: Record<string, number | string | boolean> = { model: c.name, products: batch ? 'block checks' : 'one each', constraints: s.circuit.constraints, nonzeros: s.circuit.nonzeros ?? NaN, compileS: (performance.now() - t) / 1000 };
      if (c.prove) {
        t = performance.now();
        const st = await setup({ buildDir });
        row.setupS = (performance.now() - t) / 1000;
        row.power = st.power;
        const p = await prove({ buildDir, input: files.input });
        row.proveS = p.seconds.prove;
        row.verified = await verify({ buildDir });
        row.maxAbsError = p.reference?.maxAbsError ?? NaN;
      }
      rows.push(row);
      console.log(`${c.name}, products ${row.products}: ${s.circuit.constraints} constraints${c.prove ? `, setup ${(row.setupS as number).toFixed(1)} s, prove ${(row.proveS as number).toFixed(2)} s, verified ${row.verified}` : ''}`);
      rmSync(buildDir, { recursive: true, force: true });
    }
  }
  const m = await machine();
  const base = (r: (typeof rows)[number]) => rows.find((b) => b.model === r.model)!;
  const f = (x: unknown, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
  const summary = table(
    ['model', 'products', 'constraints', 'vs one each', 'nonzeros', 'compile s', 'setup s (2^k)', 'prove s', 'prove vs one each', 'max abs err'],
    rows.map((r) => [r.model as string, r.products as string, r.constraints as number, `${((r.constraints as number) / (base(r).constraints as number)).toFixed(2)}x`, r.nonzeros as number,
      f(r.compileS, 1), r.setupS === undefined ? '—' : `${f(r.setupS, 1)} (2^${r.power})`, f(r.proveS, 2),
      r.proveS === undefined ? '—' : `${((r.proveS as number) / (base(r).proveS as number)).toFixed(2)}x`, r.maxAbsError === undefined ? '—' : (r.maxAbsError as number).toExponential(2)]),
  );
  console.log(summary);
  writeFileSync(join(out, 'freivalds.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), rows }, null, 2));
  writeFileSync(join(out, 'freivalds.md'), [
    '# Matrix products of two signals: a block check (Freivalds, challenge drawn in the circuit) against one constraint per product (`npm run bench:freivalds`)', '',
    `Machine: ${m}. Run ${new Date().toISOString()}.`, '',
    'Each model compiled twice in the same run: `batchProducts: false` (every product its own constraint) and the default. mnist-cnn: models/mnist-cnn (Conv 1→4, Conv 4→8, 3×3, BatchNorm, 28×28) with committed 12-bit weights; gpt: models/gpt at 16 tokens, baked weights (its attention products are of two signals); cifar10-winml-cnn: ../shared/realworld, committed weights.', '',
    '```', summary, '```', '',
  ].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
