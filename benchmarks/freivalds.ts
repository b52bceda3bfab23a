// npm run bench:freivalds [-- --quick]
// Matrix products of two signals checked a block at a time (compiler/freivalds.ts) against each
// product its own constraint (compile's batchProducts: false), the same model in the same run:
// constraints and nonzeros, and for the small CNN setup and prove seconds both ways; for the
// larger models the baseline's constraint system is written from the same quantized graph
// without its blocks (its keys would not fit this machine).
// Models, all with committed weights (the only builds that check products by blocks): a small CNN
// written here (set up and proven both ways), the bundled MNIST CNN (whose convolutions are too
// thin for the check: the compiler keeps its products) and, where ../shared/realworld is there, the
// WinML CIFAR-10 CNN and the Burn MNIST CNN (--quick leaves those out).
// Writes benchmarks/results/freivalds.{json,md}.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { loadQuantGraph } from '../src/compiler/build.js';
import { writeCircuit } from '../src/compiler/circuit.js';
import type { CircuitVisibility } from '../src/compiler/emit.js';
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

/** Conv(3→16, 3×3, pad 1) → Relu → Conv(16→16, 3×3, stride 2, pad 1) → Relu → GlobalAveragePool → Gemm(16→10), on 12×12. */
function smallCnn() {
  const dir = join(work, 'cnn12');
  mkdirSync(dir, { recursive: true });
  const r = rng(3);
  const arr = (n: number, k: number) => Float32Array.from({ length: n }, () => (r() - 0.5) * k);
  writeFileSync(join(dir, 'model.onnx'), buildModel({
    graphName: 'cnn12', inputs: [{ name: 'x', shape: [1, 3, 12, 12] }], outputs: [{ name: 'y', shape: [1, 10] }],
    initializers: [
      { name: 'K1', dims: [16, 3, 3, 3], data: arr(432, 0.5) }, { name: 'B1', dims: [16], data: arr(16, 0.2) },
      { name: 'K2', dims: [16, 16, 3, 3], data: arr(2304, 0.2) }, { name: 'B2', dims: [16], data: arr(16, 0.2) },
      { name: 'W3', dims: [10, 16], data: arr(160, 0.5) },
    ],
    nodes: [
      { name: '/c1', op: 'Conv', inputs: ['x', 'K1', 'B1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { name: '/r1', op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { name: '/c2', op: 'Conv', inputs: ['r1', 'K2', 'B2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { name: '/r2', op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { name: '/gap', op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
      { name: '/flat', op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { name: '/fc', op: 'Gemm', inputs: ['f', 'W3'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  }));
  const sample = () => ({ input_data: [Array.from({ length: 432 }, () => r())] });
  writeFileSync(join(dir, 'input.json'), JSON.stringify(sample()));
  writeFileSync(join(dir, 'calibration.json'), JSON.stringify(Array.from({ length: 8 }, sample)));
  return { model: join(dir, 'model.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json') };
}

const cases: Case[] = [
  { name: 'cnn12 (3→16→16 channels, 12×12), --weights hashed', files: smallCnn, visibility: { weights: 'hashed' }, prove: true },
  { name: 'mnist-cnn, --weights hashed', files: () => ({ model: join(root, 'models/mnist-cnn/model.onnx'), calibration: join(root, 'models/mnist-cnn/calibration.json'), input: join(root, 'models/mnist-cnn/input.json') }), visibility: { weights: 'hashed' }, prove: false },
  ...(existsSync(realworld) && !quick ? ['cifar10-winml-cnn', 'mnist-burn-bn'].map((m) => ({ name: `${m}, --weights hashed`, files: () => prepareRealworld(join(realworld, m), join(work, m)), visibility: { weights: 'hashed' as const }, prove: false })) : []),
];

const rows: Record<string, number | string | boolean>[] = [];
try {
  for (const [k, c] of cases.entries()) {
    const files = c.files();
    const pair: typeof rows = [];
    for (const batch of [true, false]) {
      const buildDir = join(work, `m${k}-${batch}`);
      const row: Record<string, number | string | boolean> = { model: c.name, products: batch ? 'block checks' : 'one each' };
      if (!batch && !c.prove) {
        // the same quantized graph with each product its own constraint, its system written only
        // (the whole build would be refused here: its keys would not fit this machine)
        const qg = loadQuantGraph(join(work, `m${k}-true`));
        const w = writeCircuit({ ...qg, acts: qg.acts.map(({ mm: _, ...a }) => a) }, c.visibility as CircuitVisibility, {}, join(work, 'base.r1cs'), join(work, 'base.sym'));
        Object.assign(row, { constraints: w.constraints, nonzeros: w.nonzeros });
        rmSync(join(work, `m${k}-true`), { recursive: true, force: true });
      } else {
        let t = performance.now();
        const { settings: s } = await compile({ model: files.model, outDir: buildDir, calibration: files.calibration, input: files.input, visibility: c.visibility, batchProducts: batch });
        Object.assign(row, { constraints: s.circuit.constraints, nonzeros: s.circuit.nonzeros ?? NaN, compileS: (performance.now() - t) / 1000 });
        if (c.prove) {
          t = performance.now();
          const st = await setup({ buildDir });
          Object.assign(row, { setupS: (performance.now() - t) / 1000, power: st.power, ptauCreated: st.ptauCreated === true });
          // the better of two proofs: the first also loads the prover
          const ps = [await prove({ buildDir, input: files.input, name: 'a' }), await prove({ buildDir, input: files.input, name: 'b' })];
          Object.assign(row, { proveS: Math.min(...ps.map((p) => p.seconds.prove)), verified: await verify({ buildDir, name: 'b' }), maxAbsError: ps[1]!.reference?.maxAbsError ?? NaN });
          rmSync(buildDir, { recursive: true, force: true });
        }
      }
      pair.unshift(row);
      console.log(`${c.name}, products ${row.products}: ${row.constraints} constraints${c.prove ? `, setup ${(row.setupS as number).toFixed(1)} s, prove ${(row.proveS as number).toFixed(2)} s, verified ${row.verified}` : ''}`);
    }
    rows.push(...pair);
  }
  const m = await machine();
  const base = (r: (typeof rows)[number]) => rows.find((b) => b.model === r.model)!;
  const f = (x: unknown, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
  const summary = table(
    ['model', 'products', 'constraints', 'vs one each', 'nonzeros', 'compile s', 'setup s (2^k)', 'prove s', 'prove vs one each', 'max abs err'],
    rows.map((r) => [r.model as string, r.products as string, r.constraints as number, `${((r.constraints as number) / (base(r).constraints as number)).toFixed(2)}x`, r.nonzeros as number,
      f(r.compileS, 1), r.setupS === undefined ? '—' : `${f(r.setupS, 1)}${r.ptauCreated ? '*' : ''} (2^${r.power})`, f(r.proveS, 2),
      r.proveS === undefined ? '—' : `${((r.proveS as number) / (base(r).proveS as number)).toFixed(2)}x`, r.maxAbsError === undefined ? '—' : (r.maxAbsError as number).toExponential(2)]),
  );
  console.log(summary);
  writeFileSync(join(out, 'freivalds.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), rows }, null, 2));
  writeFileSync(join(out, 'freivalds.md'), [
    '# Matrix products of two signals: a block check (Freivalds, challenge drawn in the circuit) against one constraint per product (`npm run bench:freivalds`)', '',
    `Machine: ${m}. Run ${new Date().toISOString()}.`, '',
    'Committed weights (`--weights hashed`, 12 bits). cnn12: written by the benchmark (Conv 3→16 and 16→16, 3×3, 12×12, seeded weights), compiled twice in the same run (`batchProducts: false`: every product its own constraint; and the default), set up and proven both ways (the better of two proofs). The others compiled with the default, and the baseline\'s constraint system written from the same quantized graph without its blocks (the realworld baselines\' keys would not fit this machine): mnist-cnn (models/mnist-cnn: Conv 1→4 and 4→8, 3×3, 28×28, too thin for the check: its products stay), cifar10-winml-cnn and mnist-burn-bn (../shared/realworld, inputs as the conformance runner builds them).', '',
    '```', summary, '```', '',
    ...(rows.some((r) => r.ptauCreated) ? ['\\* setup time includes generating the powers-of-tau file for that power (cached afterwards).', ''] : []),
  ].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
