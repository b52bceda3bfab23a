// npm run bench:setup-keys — Groth16 key generation (a cached powers-of-tau file given) on the
// circuits zkonnx builds whose r1cs coefficients are full field elements: Poseidon's MDS products
// in a committed model's weight hash, a dataset membership proof and a proof of training; and a
// chain of multiplications (coefficients ±1) as the control. Per circuit, in the same run, each in
// a child process of its own: ours (src/setup/fast-zkey.ts: the sparse sums by width-w NAF digits
// on odd multiples shared by the terms of each point, coefficients above 128 bits split by the
// endomorphism), ours with the plain NAF only and no split (the previous algorithm: the
// baseline), and snarkjs's zkey new (no contribution; ours includes one) where --snarkjs names
// the circuit. Prints a table and writes
// benchmarks/results/setup-keys.{json,md}.
//
//   node dist/benchmarks/setup-keys.js [--only chain16,train-linear-b16] [--snarkjs train-linear-b16]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/api.js';
import { compileCircom } from '../src/circom/compile.js';
import { readR1cs } from '../src/circom/r1cs.js';
import { leafFields } from '../src/commit/dataset-format.js';
import { membershipSource, shapeOf } from '../src/commit/membership.js';
import { planTraining } from '../src/commit/train.js';
import { trainCircuitSource } from '../src/commit/train-circuit.js';
import { BuildPaths, circomlibDir, circuitsDir } from '../src/paths.js';
import { localPtau, requiredPower } from '../src/setup/ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { sparseTuning } from '../src/setup/fast/sparse-msm.js';
import { readR1csHeader, releaseCurves, snarkjs } from '../src/snark.js';
import { writeChainR1cs } from './chain-r1cs.js';
import { machine, table } from './chart.js';
import { reportResult, runChild } from './child.js';

type Impl = 'ours' | 'plain-naf' | 'snarkjs';

interface Row {
  circuit: string;
  description: string;
  constraints: number;
  /** A and B terms whose |coefficient| needs more than 64 bits, and all A and B terms */
  wideTerms: number;
  terms: number;
  seconds: Partial<Record<Impl, number>>;
}

const self = fileURLToPath(import.meta.url);
const root = self.includes(join('dist', 'benchmarks')) ? resolve(dirname(self), '..', '..') : resolve(dirname(self), '..');
const arg = (name: string): string[] | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]!.split(',').filter(Boolean) : undefined;
};

/** circom source (with zkonnx's libraries beside it) to an r1cs, by circom2. */
async function circomR1cs(dir: string, source: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const paths = new BuildPaths(dir);
  writeFileSync(paths.file('circuit'), source);
  for (const lib of ['zkonnx.circom', 'commit.circom']) copyFileSync(join(circuitsDir(), lib), join(dir, lib));
  return (await compileCircom({ circuitPath: paths.file('circuit'), outDir: dir, includePaths: [circomlibDir()] })).r1csPath;
}

const CIRCUITS: Array<{ name: string; description: string; build(dir: string): Promise<string> }> = [
  { name: 'chain16', description: 'chain of 2^16 − 16 multiplications (coefficients ±1: the control)', build: async (dir) => writeChainR1cs(16, join(dir, 'chain16.r1cs')) },
  {
    name: 'mnist-mlp-hashed', description: 'models/mnist-mlp with --weights hashed (Poseidon over its 12-bit weights)',
    build: async (dir) => {
      const model = join(root, 'models', 'mnist-mlp', 'model.onnx');
      await compile({ model, input: join(root, 'models', 'mnist-mlp', 'input.json'), outDir: join(dir, 'mlp'), visibility: { weights: 'hashed' }, params: { activationBits: 12, weightBits: 12 } });
      return new BuildPaths(join(dir, 'mlp')).file('r1cs');
    },
  },
  {
    name: 'membership-d14-f784', description: 'dataset membership: an MNIST-sized sample (784 features, 16 bits), Merkle depth 14',
    build: (dir) => circomR1cs(join(dir, 'm'), membershipSource(shapeOf({ depth: 14, features: 784, bits: 16, featureScale: 8, labelScale: 0, labels: 'class' }))),
  },
  {
    name: 'train-linear-b16', description: 'proof of training: one SGD step of linear regression, 4 features, batch 16, depth 8',
    build: (dir) => circomR1cs(join(dir, 't'), trainCircuitSource(planTraining({
      model: 'linear', features: 4, batch: 16, steps: 1, depth: 8, dataBits: 16, featureScale: 8, labelScale: 8, labels: 'value', weightScale: 8, wbits: 16, lrShift: 2,
    }))),
  },
  {
    name: 'train-mlp-f64', description: 'proof of training: one SGD step of an mlp 64 → 32 → 10, batch 4, depth 8 (variables of few full-width terms each)',
    build: (dir) => circomR1cs(join(dir, 't'), trainCircuitSource(planTraining({
      model: 'mlp', features: 64, hidden: 32, classes: 10, batch: 4, steps: 1, depth: 8, dataBits: 16, featureScale: 8, labelScale: 0, labels: 'class', weightScale: 8, wbits: 16, lrShift: 2,
    }))),
  },
];

async function child(impl: Impl, r1csPath: string, ptauPath: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkonnx-bench-keys-'));
  try {
    if (impl === 'plain-naf') Object.assign(sparseTuning, { maxWindow: 2, glv: false });
    const t0 = performance.now();
    if (impl === 'snarkjs') await snarkjs.zKey.newZKey(r1csPath, ptauPath, join(dir, 'circuit_0000.zkey'));
    else await fastGroth16Keys({ r1csPath, ptauPath, zkeyPath: join(dir, 'circuit_final.zkey') });
    const seconds = (performance.now() - t0) / 1000;
    await releaseCurves();
    reportResult({ seconds });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function coefficientWidths(r1csPath: string): Promise<{ wide: number; terms: number }> {
  const r = await readR1cs(r1csPath);
  const p = r.header.prime;
  let wide = 0;
  let terms = 0;
  for (const c of r.constraints) {
    for (const lc of [c.a, c.b]) {
      for (const v of lc.values()) {
        terms++;
        const abs = v > p / 2n ? p - v : v;
        if (abs >= 1n << 64n) wide++;
      }
    }
  }
  return { wide, terms };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as Impl, process.argv[4]!, process.argv[5]!);
  process.exit(0);
} else {
  const only = arg('only');
  const withSnarkjs = new Set(arg('snarkjs') ?? ['train-linear-b16']);
  const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-setup-keys-'));
  const host = await machine();
  const rows: Row[] = [];
  try {
    for (const c of CIRCUITS.filter((x) => !only || only.includes(x.name))) {
      mkdirSync(join(work, c.name), { recursive: true });
      const r1cs = await c.build(join(work, c.name));
      const header = await readR1csHeader(r1cs);
      const ptau = (await localPtau(requiredPower(header))).path;
      const { wide, terms } = await coefficientWidths(r1cs);
      const row: Row = { circuit: c.name, description: c.description, constraints: header.nConstraints, wideTerms: wide, terms, seconds: {} };
      const impls: Impl[] = ['ours', 'plain-naf', ...(withSnarkjs.has(c.name) ? ['snarkjs' as const] : [])];
      for (const impl of impls) {
        row.seconds[impl] = runChild<{ seconds: number }>(self, [impl, r1cs, ptau], `${impl} ${c.name}`).seconds;
        console.error(`${c.name} ${impl}: ${row.seconds[impl]!.toFixed(2)} s`);
      }
      rows.push(row);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const ratio = (a?: number, b?: number) => (a && b ? `${(b / a).toFixed(2)}x` : '');
  const text = `machine: ${host}\n\n${table(
    ['circuit', 'constraints', 'A+B terms', 'wide terms', 'ours s', 'plain NAF s', 'plain / ours', 'snarkjs zkey new s', 'snarkjs / ours'],
    rows.map((r) => [r.circuit, r.constraints, r.terms, r.wideTerms, r.seconds.ours!.toFixed(2), r.seconds['plain-naf']!.toFixed(2), ratio(r.seconds.ours, r.seconds['plain-naf']), r.seconds.snarkjs?.toFixed(2) ?? '', ratio(r.seconds.ours, r.seconds.snarkjs)]),
  )}`;
  console.log(text);
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'setup-keys.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
  const legend = rows.map((r) => `- ${r.circuit}: ${r.description}`).join('\n');
  writeFileSync(join(out, 'setup-keys.md'), `# bench:setup-keys\n\nGroth16 keys from a cached powers-of-tau file, each run in a fresh Node process. ours: fast-zkey.ts (one phase-2 contribution included); plain NAF: the same with every sparse sum on plain NAF digits of whole coefficients (w = 2, no endomorphism split: the algorithm before both); snarkjs: zkey new alone (no contribution). Wide terms: A and B coefficients whose |c| needs more than 64 bits.\n\n${legend}\n\n\`\`\`\n${text}\n\`\`\`\n`);
}
