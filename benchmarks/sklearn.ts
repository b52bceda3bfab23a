// npm run bench:sklearn — what scikit-learn models cost as circuits, written as sklearn-onnx
// writes them (benchmarks/sklearn-models.ts): an MLP classifier with string classes, k-NN
// classifiers and a regressor (cdist as a Scan over the training rows, TopK with indices), a Gaussian-process
// regressor, a binary SVC with Platt probabilities, and TF-IDF text classifiers (the tokenizer
// outside the circuit, the n-gram counts in it). Constraints, compile, setup and prove
// seconds, the verification, and the error against onnxruntime-web on the proving input.
// Writes benchmarks/results/sklearn.{json,md} and sklearn-constraints.svg.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, prove, setup, verify } from '../src/api.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { packageRoot } from '../src/paths.js';
import { rng } from '../src/random.js';
import { releaseCurves } from '../src/snark.js';
import { barChart, machine, table } from './chart.js';
import type { InputData } from '../src/inputs.js';
import { countNaiveBayes, gpRegressor, knnClassifier, knnRegressor, mlpClassifier, svcProbability, textTerms, tfidfClassifier } from './sklearn-models.js';

const out = join(packageRoot(), 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-sklearn-'));
const next = rng(2026);
const uniform = (n: number, scale = 1) => Array.from({ length: n }, () => (2 * next() - 1) * scale);
const IRIS = ['setosa', 'versicolor', 'virginica'];

/** T rows of F features around C cluster centres, and their cluster indices. */
function clusters(T: number, F: number, C: number): { rows: number[]; labels: number[]; centres: number[][] } {
  const centres = Array.from({ length: C }, () => uniform(F, 2));
  const labels = Array.from({ length: T }, (_, i) => i % C);
  const rows = labels.flatMap((c) => centres[c]!.map((v) => v + (2 * next() - 1) * 0.8));
  return { rows, labels, centres };
}
/** n inputs of one row near the centres (or anywhere). */
const samples = (n: number, F: number, centres?: number[][]) =>
  Array.from({ length: n }, (_, i) => ({ input_data: [centres ? centres[i % centres.length]!.map((v) => v + (2 * next() - 1)) : uniform(F, 2)] }));

interface Case { label: string; model: ModelSpec; F: number; centres?: number[][]; texts?: { calibration: InputData[]; input: InputData; maxTokens: number } }
const cases: Case[] = [];
{
  const F = 4, H = 100;
  cases.push({ label: 'MLP 4→100→3, string classes', F, model: mlpClassifier('mlp', 1, F, H, { w1: uniform(F * H, 0.6), b1: uniform(H, 0.1), w2: uniform(H * 3, 0.3), b2: uniform(3, 0.1) }, IRIS) });
}
for (const [T, F] of [[150, 4], [500, 8]] as const) {
  const d = clusters(T, F, 3);
  cases.push({ label: `k-NN k=5, ${T} training rows of ${F}`, F, centres: d.centres, model: knnClassifier(`knn${T}`, 1, F, 5, d.rows, d.labels, IRIS) });
}
{
  const F = 4, T = 150;
  const d = clusters(T, F, 3);
  cases.push({ label: `k-NN regressor k=5, ${T} rows of ${F}`, F, centres: d.centres, model: knnRegressor('knnr', 1, F, 5, d.rows, d.labels.map((c) => c + next())) });
}
{
  const F = 4, T = 100;
  cases.push({ label: `GP regressor, ${T} training rows of ${F}`, F, model: gpRegressor('gpr', 1, F, uniform(T * F, 2), 1.5, 0.8, uniform(T, 0.5), 0.25) });
}
for (const [F, V, k] of [[8, 60, 2], [4, 60, 3]] as const) {
  // support vectors grouped by class; a vector of class c has a coefficient in each of its k − 1
  // pairs (row o, or o − 1 past c, for the other class o), positive where c is the pair's first
  const d = clusters(V, F, k);
  const order = [...d.labels.keys()].sort((a, b) => d.labels[a]! - d.labels[b]!);
  const perClass = Array.from({ length: k }, (_, c) => d.labels.filter((l) => l === c).length);
  const coefficients = new Array<number>((k - 1) * V).fill(0);
  order.forEach((i, v) => {
    const c = d.labels[i]!;
    for (let o = 0; o < k; o++) if (o !== c) coefficients[(o < c ? o : o - 1) * V + v] = (c < o ? 1 : -1) * (0.2 + next());
  });
  const P = (k * (k - 1)) / 2;
  const platt: [number[], number[]] = [Array.from({ length: P }, () => -1.7 + 0.4 * next()), Array.from({ length: P }, () => 0.1 * next())];
  cases.push({
    label: k === 2 ? `binary SVC (RBF) + Platt, ${V} support vectors of ${F}` : `SVC (RBF), ${k} classes, coupled probabilities, ${V} SVs of ${F}`, F, centres: d.centres,
    model: svcProbability('svc', 1, F, 0.2, order.flatMap((i) => d.rows.slice(i * F, (i + 1) * F)), perClass, coefficients, Array.from({ length: P }, () => 0.1), platt, k === 2 ? ['benign', 'malignant'] : IRIS),
  });
}

// TF-IDF text classifiers: a vocabulary of made-up words (syllable pairs), documents of vocabulary
// words and others, up to the circuit's tokens (their own random stream: the other rows' data stay as they were)
const tnext = rng(2027);
const SYLLABLES = 'ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu'.split(' ');
for (const [U, B, T] of [[300, 100, 32], [2000, 1000, 64]] as const) {
  const word = (i: number) => `${SYLLABLES[i % 50]}${SYLLABLES[Math.floor(i / 50) % 50]}${i >= 2500 ? 'x' : ''}`;
  const words = Array.from({ length: U }, (_, i) => word(i));
  const bigrams = Array.from({ length: B }, (_, i) => [words[(i * 7) % U]!, words[(i * 13 + 5) % U]!] as const);
  const V = textTerms({ words, bigrams }).length;
  const doc = () => Array.from({ length: T - 4 - Math.floor(tnext() * 8) }, (_, k) => (k % 5 === 4 && tnext() < 0.5 ? bigrams[Math.floor(tnext() * B)]!.join(' ') : tnext() < 0.85 ? words[Math.floor(tnext() * U)]! : word(U + Math.floor(tnext() * 200)))).join(' ').split(' ').slice(0, T).join(' ');
  cases.push({
    label: `TF-IDF (1, 2)-grams + logistic regression: ${U} words, ${B} pairs, ${T} tokens`, F: 0,
    model: tfidfClassifier(`tfidf${U}`, { words, bigrams, idf: Array.from({ length: V }, () => 1 + 3 * tnext()), coefficients: Array.from({ length: 3 * V }, () => (2 * tnext() - 1) * 2), intercepts: Array.from({ length: 3 }, () => (2 * tnext() - 1) * 0.2), classes: ['ham', 'spam', 'work'] }),
    texts: { calibration: Array.from({ length: 32 }, () => ({ input_data: [[doc()]] })), input: { input_data: [[doc()]] }, maxTokens: T },
  });
  if (U > 300) continue;
  // the same vocabulary counted for a multinomial naive Bayes: log term distributions per class
  const featureLogProb = [0, 1, 2].flatMap(() => {
    const raw = Array.from({ length: V }, () => 0.1 + tnext());
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((x) => Math.log(x / total));
  });
  cases.push({
    label: `CountVectorizer (1, 2)-grams + multinomial NB: ${U} words, ${B} pairs, ${T} tokens`, F: 0,
    model: countNaiveBayes(`nb${U}`, { words, bigrams, featureLogProb, classLogPrior: [0.5, 0.3, 0.2].map(Math.log), classes: ['ham', 'spam', 'work'] }),
    texts: { calibration: Array.from({ length: 32 }, () => ({ input_data: [[doc()]] })), input: { input_data: [[doc()]] }, maxTokens: T },
  });
}

const rows: Record<string, number | string | boolean>[] = [];
try {
  for (const [k, c] of cases.entries()) {
    const dir = join(work, `m${k}`);
    mkdirSync(dir);
    const modelPath = join(dir, 'model.onnx');
    writeFileSync(modelPath, buildModel(c.model));
    const calibration = c.texts?.calibration ?? samples(32, c.F, c.centres);
    const input = c.texts?.input ?? samples(1, c.F, c.centres)[0]!;
    const buildDir = join(dir, 'build');
    let t = performance.now();
    const { settings: s } = await compile({ model: modelPath, outDir: buildDir, calibration, ...(c.texts ? { maxTokens: c.texts.maxTokens } : {}) });
    const compileS = (performance.now() - t) / 1000;
    t = performance.now();
    const st = await setup({ buildDir });
    const setupS = (performance.now() - t) / 1000;
    const p = await prove({ buildDir, input });
    const ok = await verify({ buildDir });
    const label = p.outputs.find((o) => o.labels)?.labels?.[0] ?? '';
    rows.push({
      model: c.label, constraints: s.circuit.constraints, compileS, setupS, power: st.power, proveS: p.seconds.prove, verified: ok,
      maxAbsError: p.reference?.maxAbsError ?? NaN, tolerance: p.reference?.tolerance ?? NaN, label,
    });
    console.log(`${c.label}: ${s.circuit.constraints} constraints, prove ${p.seconds.prove.toFixed(2)} s, verified ${ok}${label ? `, label "${label}"` : ''}`);
  }
  const m = await machine();
  const summary = table(
    ['model', 'constraints', 'compile s', 'setup s (2^k)', 'prove s', 'verified', 'max abs err', 'tolerance'],
    rows.map((r) => [r.model as string, r.constraints as number, (r.compileS as number).toFixed(1), `${(r.setupS as number).toFixed(1)} (2^${r.power})`,
      (r.proveS as number).toFixed(2), String(r.verified), (r.maxAbsError as number).toExponential(2), (r.tolerance as number).toExponential(2)]),
  );
  console.log(summary);
  writeFileSync(join(out, 'sklearn.json'), JSON.stringify({ machine: m, date: new Date().toISOString(), rows }, null, 2));
  writeFileSync(join(out, 'sklearn.md'), [
    '# scikit-learn models as circuits', '',
    'Written as sklearn-onnx writes them (`benchmarks/sklearn-models.ts`, seeded weights and data); each compiled with 32 calibration',
    'samples, set up with a local powers-of-tau file, proven on the wasm backend and verified; the error is against onnxruntime-web on the proving input.', '',
    `Machine: ${m}`, '', '```', summary, '```', '',
  ].join('\n'));
  writeFileSync(join(out, 'sklearn-constraints.svg'), barChart('Constraints per scikit-learn model', 'constraints', rows.map((r) => ({ label: (r.model as string).slice(0, 26), value: r.constraints as number })), { log: true }));
} finally {
  rmSync(work, { recursive: true, force: true });
  await releaseCurves();
}
