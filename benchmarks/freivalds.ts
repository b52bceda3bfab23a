// npm run bench:freivalds [-- --quick]
// Matrix products of two signals checked a block at a time (compiler/freivalds.ts) against each
// product its own constraint (compile's batchProducts: false), the same model in the same run:
// constraints and nonzeros, and for the bundled CNN setup and prove seconds both ways; for the
// larger models the baseline's constraint system is written from the same quantized graph
// without its blocks (its keys would not fit this machine).
// Models, all with committed weights (the only builds that check products by blocks): the bundled
// MNIST CNN and, where ../shared/realworld is there, the WinML CIFAR-10 CNN and the Burn MNIST CNN
// (--quick leaves those out). Writes benchmarks/results/freivalds.{json,md}.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify, type CompileOptions } from '../src/api.js';
import { loadQuantGraph } from '../src/compiler/build.js';
import { writeCircuit } from '../src/compiler/circuit.js';
import type { CircuitVisibility } from '../src/compiler/emit.js';
import { packageRoot } from '../src/paths.js';
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

const cases: Case[] = [
  { name: 'mnist-cnn, --weights hashed', files: () => ({ model: join(root, 'models/mnist-cnn/model.onnx'), calibration: join(root, 'models/mnist-cnn/calibration.json'), input: join(root, 'models/mnist-cnn/input.json') }), visibility: { weights: 'hashed' }, prove: true },
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
    'Committed weights (`--weights hashed`, 12 bits). mnist-cnn: models/mnist-cnn (Conv 1→4, Conv 4→8, 3×3, BatchNorm, 28×28), compiled twice in the same run (`batchProducts: false`: every product its own constraint; and the default), set up and proven both ways (the better of two proofs). cifar10-winml-cnn and mnist-burn-bn (../shared/realworld, inputs as the conformance runner builds them): compiled with the default, and the baseline\'s constraint system written from the same quantized graph without its blocks (its keys would not fit this machine).', '',
    '```', summary, '```', '',
    ...(rows.some((r) => r.ptauCreated) ? ['\\* setup time includes generating the powers-of-tau file for that power (cached afterwards).', ''] : []),
  ].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
