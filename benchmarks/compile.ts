// npm run bench:compile — the compiler at scale: the models of scaleSeries() (MLPs of ~10k,
// 100k, 1M and 4M weights, a 28×28 CNN, LeNet-5, a CIFAR-10-sized ResNet) and the bundled
// models/mnist-cnn. Per model: zkonnx compile() seconds, constraints, wires and nonzeros; the
// witness (circuitWitness) seconds; setup and prove (wasm backend) seconds where the domain is at
// most 2^--max-prove-power; peak RSS; and, side by side where it can, circom2 --O1 on the same
// circuit.circom (under --circom-timeout) with its witness calculator.
//
// Every model runs in a child process of its own (this script again, with --one NAME --work DIR),
// so that each peak RSS is that model's. A failed stage is recorded in its row, never fatal.
// Prints a table and writes benchmarks/results/compile.{json,md,svg}.
//
//   node dist/benchmarks/compile.js [--only mlp-10k,mlp-100k] [--keep] [--max-prove-power 18]
//                                   [--circom-timeout 600] [--circom-max-constraints 500000]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { circuitInputSignals, compile, prove, setup, type Settings } from '../src/api.js';
import { calculateWitness } from '../src/circom/witness.js';
import { circuitWitness } from '../src/compiler/circuit.js';
import { loadSample } from '../src/inputs.js';
import { sizeOf } from '../src/ir/graph.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { BuildPaths, circomlibDir, packageRoot } from '../src/paths.js';
import { quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves } from '../src/snark.js';
import { barChart, machine, table } from './chart.js';
import { runCircomLimited, type CircomRun } from './circom-limited.js';
import { scaleSeries } from './scale-models.js';

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  only?: string[];
  /** keep the rows of benchmarks/results/compile.json for the models not run now */
  keep: boolean;
  maxProvePower: number;
  circomTimeout: number;
  circomMaxConstraints: number;
  one?: string;
  work?: string;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const num = (flag: string, dflt: number): number => {
    const v = value(flag);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got ${v}`);
    return n;
  };
  const only = value('--only')?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    ...(only ? { only } : {}),
    keep: argv.includes('--keep'),
    maxProvePower: num('--max-prove-power', 18),
    circomTimeout: num('--circom-timeout', 600),
    circomMaxConstraints: num('--circom-max-constraints', 500_000),
    one: value('--one'),
    work: value('--work'),
  };
}

// ---------------------------------------------------------------------------------------------
// what a child is given, and what it reports

/** job.json in the model's work folder, written by the parent. */
interface Job {
  name: string;
  description: string;
  weights: number;
  model: string;
  input: string;
  calibration?: string;
  params?: { activationBits: number; weightBits: number };
}

/** A stage either ran (seconds), failed (error: the first line of the message) or was skipped (why). */
interface Stage {
  seconds?: number;
  error?: string;
  skipped?: string;
}

interface Row {
  model: string;
  description: string;
  weights: number;
  compile: Stage & {
    /** settings.circuit.compileSeconds: the constraint system and r1cs/sym writing part of compile() */
    circuitSeconds?: number;
    constraints?: number; wires?: number; nonzeros?: number; publicSignals?: number;
    /** the Groth16 domain 2^power: smallest power of two ≥ constraints + public signals + 1 */
    power?: number;
  };
  witness: Stage;
  setup: Stage & { power?: number; ptauCreated?: boolean };
  /** seconds: the whole prove() call; groth16Seconds: ProveResult.seconds.prove; witnessSeconds: ProveResult.seconds.witness */
  prove: Stage & { groth16Seconds?: number; witnessSeconds?: number };
  /** process.resourceUsage().maxRSS of the model's child process, MB: after compile(), after all zkonnx stages, at the end (circom's witness calculator loaded too) */
  peakRssMB?: { compile: number; zkonnx: number; end: number };
  circom: Partial<Omit<CircomRun, 'r1csPath' | 'wasmPath' | 'status'>> & { status: CircomRun['status'] | 'skipped' | 'error' };
  /** circom's witness calculator (one calculateWitness call, its wasm loaded in it); speedup = its seconds / zkonnx witness seconds */
  circomWitness: Stage & { speedup?: number; sameAsZkonnx?: boolean };
  /** the child process itself failed (crash, out of memory): the stages it did not report are missing */
  error?: string;
}

const MARK = '@@bench-compile-row ';

function message(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const first = String(err?.message ?? e).split('\n')[0]!.trim();
  return err?.code ? `${err.code}: ${first}` : first;
}

const since = (t0: number) => (performance.now() - t0) / 1000;
const mb = () => process.resourceUsage().maxRSS / 1024;

/** sha256 over the witness values, to compare two witnesses without keeping one in memory. */
function witnessHash(w: readonly bigint[]): string {
  const h = createHash('sha256');
  for (const v of w) h.update(`${v.toString(16)},`);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// child: one model

async function runOne(opts: Options, work: string): Promise<Row> {
  const job = JSON.parse(readFileSync(join(work, 'job.json'), 'utf8')) as Job;
  const log = (s: string) => process.stderr.write(`  ${job.name}: ${s}\n`);
  const row: Row = {
    model: job.name, description: job.description, weights: job.weights,
    compile: {}, witness: {}, setup: {}, prove: {}, circom: { status: 'skipped' }, circomWitness: {},
  };
  const buildDir = join(work, 'build');
  const paths = new BuildPaths(buildDir);

  // zkonnx compile
  let settings: Settings | undefined;
  try {
    const t0 = performance.now();
    ({ settings } = await compile({
      model: job.model, outDir: buildDir, input: job.input,
      ...(job.calibration ? { calibration: job.calibration } : {}), ...(job.params ? { params: job.params } : {}),
    }));
    const c = settings.circuit;
    const publicSignals = c.publicInputs + c.publicOutputs;
    row.compile = {
      seconds: since(t0), circuitSeconds: c.compileSeconds, constraints: c.constraints, wires: c.wires,
      ...(c.nonzeros !== undefined ? { nonzeros: c.nonzeros } : {}), publicSignals,
      power: Math.floor(Math.log2(Math.max(1, c.constraints + publicSignals))) + 1,
    };
    log(`compile ${row.compile.seconds!.toFixed(2)} s, ${c.constraints} constraints`);
  } catch (e) {
    row.compile = { error: message(e) };
    log(`compile failed: ${row.compile.error}`);
  }
  const rssCompile = mb();
  const circomWanted = settings !== undefined && settings.circuit.constraints <= opts.circomMaxConstraints;

  // zkonnx witness
  let qin: bigint[][] | undefined;
  let oursHash: string | undefined;
  if (settings) {
    try {
      const qg = quantGraphFromJson(readFileSync(paths.file('qgraph'), 'utf8'));
      qin = quantizeInputs(qg, loadSample(job.input));
      const t0 = performance.now();
      const w = await circuitWitness(qg, settings.visibility, {}, { qin }, paths.file('r1cs'));
      row.witness = { seconds: since(t0) };
      if (circomWanted) oursHash = witnessHash(w);
      log(`witness ${row.witness.seconds!.toFixed(3)} s`);
    } catch (e) {
      row.witness = { error: message(e) };
      log(`witness failed: ${row.witness.error}`);
    }
  } else row.witness = { skipped: 'compile failed' };

  // setup + prove (wasm)
  const power = row.compile.power;
  if (!settings || power === undefined) {
    row.setup = { skipped: 'compile failed' };
    row.prove = { skipped: 'compile failed' };
  } else if (power > opts.maxProvePower) {
    const why = `domain 2^${power} is above --max-prove-power ${opts.maxProvePower}`;
    row.setup = { skipped: why };
    row.prove = { skipped: why };
  } else {
    try {
      const t0 = performance.now();
      const st = await setup({ buildDir });
      row.setup = { seconds: since(t0), power: st.power, ptauCreated: st.ptauCreated };
      log(`setup ${row.setup.seconds!.toFixed(2)} s (2^${st.power}${st.ptauCreated ? ', ptau made' : ''})`);
    } catch (e) {
      row.setup = { error: message(e) };
      log(`setup failed: ${row.setup.error}`);
    }
    if (row.setup.error) row.prove = { skipped: 'setup failed' };
    else {
      try {
        const t0 = performance.now();
        const p = await prove({ buildDir, input: job.input, backend: 'wasm' });
        row.prove = { seconds: since(t0), groth16Seconds: p.seconds.prove, witnessSeconds: p.seconds.witness };
        log(`prove ${row.prove.seconds!.toFixed(2)} s (groth16 ${p.seconds.prove.toFixed(2)} s)`);
      } catch (e) {
        row.prove = { error: message(e) };
        log(`prove failed: ${row.prove.error}`);
      }
    }
  }
  await releaseCurves();
  const rssZkonnx = mb();

  // circom2 --O1 on the same circuit.circom, and its witness calculator
  if (!settings) row.circom = { status: 'skipped', reason: 'compile failed' };
  else if (!circomWanted) row.circom = { status: 'skipped', reason: `${settings.circuit.constraints} constraints is above --circom-max-constraints ${opts.circomMaxConstraints}` };
  else {
    let wasmPath: string | undefined;
    try {
      log(`circom (limit ${opts.circomTimeout} s)`);
      const r = await runCircomLimited({
        circuitPath: paths.file('circuit'), outDir: join(work, 'circom'), includePaths: [circomlibDir()], optimize: 1,
        timeoutS: opts.circomTimeout, work,
      });
      const { r1csPath: _r, wasmPath: w, ...rest } = r;
      row.circom = rest;
      wasmPath = w;
      log(`circom ${r.status} ${r.seconds.toFixed(1)} s${r.reason ? `: ${r.reason}` : ''}`);
    } catch (e) {
      row.circom = { status: 'error', reason: message(e) };
    }
    if (!wasmPath) row.circomWitness = { skipped: `circom ${row.circom.status}` };
    else if (!qin) row.circomWitness = { skipped: 'no quantized input (zkonnx witness failed)' };
    else {
      try {
        const t0 = performance.now();
        const w = await calculateWitness(wasmPath, circuitInputSignals({ qin }));
        const seconds = since(t0);
        row.circomWitness = {
          seconds,
          ...(row.witness.seconds !== undefined ? { speedup: seconds / row.witness.seconds } : {}),
          ...(oursHash !== undefined ? { sameAsZkonnx: witnessHash(w) === oursHash } : {}),
        };
        log(`circom witness ${seconds.toFixed(3)} s`);
      } catch (e) {
        row.circomWitness = { error: message(e) };
      }
    }
  }
  row.peakRssMB = { compile: rssCompile, zkonnx: rssZkonnx, end: mb() };
  return row;
}

// ---------------------------------------------------------------------------------------------
// parent

interface Child { row?: Row; error?: string }

function runChild(self: string, name: string, work: string, passOn: string[]): Promise<Child> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [...process.execArgv, self, '--one', name, '--work', work, ...passOn], { stdio: ['ignore', 'pipe', 'pipe'] });
    let row: Row | undefined;
    let buf = '';
    let errTail = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith(MARK)) row = JSON.parse(line.slice(MARK.length)) as Row;
        else process.stderr.write(`${line}\n`); // stray output of a library: not the table's
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      process.stderr.write(c);
      errTail = (errTail + c.toString('utf8')).slice(-4000);
    });
    child.on('error', (e) => res({ error: `cannot start the child: ${e.message}` }));
    child.on('close', (code, signal) => {
      if (row && code === 0) return res({ row });
      const last = errTail.split('\n').map((l) => l.trim()).filter(Boolean).filter((l) => !/^at /.test(l)).slice(-1)[0];
      res({ ...(row ? { row } : {}), error: `child ${signal ? `killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}` });
    });
  });
}

const fmtS = (s?: number) => (s === undefined ? '' : s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));
const cellS = (st: Stage) => (st.error !== undefined ? 'failed' : fmtS(st.seconds));

function renderTable(rows: Row[]): string {
  return table(
    ['model', 'weights', 'constraints', 'nonzeros', 'compile s', 'witness s', 'setup s (2^k)', 'prove s', 'prove() s', 'peak RSS MB', 'circom s', 'circom RSS MB', 'circom witness s', 'witness speed-up'],
    rows.map((r) => {
      const c = r.circom;
      const circomCell = c.status === 'ok' ? fmtS(c.seconds) : c.status === 'timeout' ? `timeout ${fmtS(c.seconds)}` : c.status;
      const circomRss = c.peakRssMB === undefined ? '' : `${c.rssMeasured?.startsWith('polled') ? '≥' : ''}${c.peakRssMB.toFixed(0)}`;
      return [
        r.model, r.weights, r.compile.constraints ?? (r.compile.error ? 'failed' : ''), r.compile.nonzeros ?? '',
        cellS(r.compile), cellS(r.witness),
        r.setup.seconds !== undefined ? `${fmtS(r.setup.seconds)}${r.setup.ptauCreated ? '*' : ''} (2^${r.setup.power})` : cellS(r.setup),
        r.prove.error !== undefined ? 'failed' : fmtS(r.prove.groth16Seconds), cellS(r.prove),
        r.peakRssMB ? r.peakRssMB.zkonnx.toFixed(0) : '', circomCell, circomRss, cellS(r.circomWitness),
        r.circomWitness.speedup === undefined ? '' : `${r.circomWitness.speedup.toFixed(1)}x`,
      ];
    }),
  );
}

function explanation(opts: Options): string {
  return [
    `Columns. weights: the model's initializer values. constraints, nonzeros: the r1cs that zkonnx compile() writes (nonzeros: coefficients in A, B and C). `,
    `compile s: the whole compile() call (ONNX import, calibration, quantization, the accuracy check against onnxruntime-web, circuit.circom, and circuit.r1cs/circuit.sym written by zkonnx itself). `,
    `witness s: one circuitWitness() call (reading the r1cs wire map, computing and checking every wire). `,
    `setup s (2^k): setup() with the cached local powers of tau (* = the ptau file was made in this run, included), k the domain power; `,
    `prove s: the Groth16 part of prove() with the wasm backend (ProveResult.seconds.prove); prove() s: the whole call (witness, .wtns, Groth16, verification, the onnxruntime-web reference). `,
    `Setup and prove run only where the domain is at most 2^${opts.maxProvePower} (--max-prove-power); empty cells are skips, with the reason in compile.json. `,
    `peak RSS MB: process.resourceUsage().maxRSS of the model's own child process (each model runs in a fresh Node process) once compile, witness, setup and prove are done, before any circom work; compile.json also has it right after compile() and at the end. `,
    `circom s: circom2 (circom 2.2 compiled to WebAssembly, the npm package) --O1 --r1cs --wasm --sym on the same circuit.circom, in a child Node process, wall clock, `,
    `only for circuits of at most ${opts.circomMaxConstraints} zkonnx constraints (--circom-max-constraints; "skipped" above), killed after ${opts.circomTimeout} s (--circom-timeout; "timeout"); "crash" is a non-zero exit, with circom's first error line in compile.json. `,
    `circom RSS MB: that process's maxRSS, written by a -r preload hook on its exit; for a killed process (timeout) the last VmHWM polled from /proc every 0.5 s, a lower bound (≥). `,
    `circom witness s: one calculateWitness() call with circom's generated calculator (its wasm loaded and compiled in that call); witness speed-up: circom witness s / witness s. `,
    `compile.json also says whether the two witnesses are the same values (sameAsZkonnx).`,
  ].join('');
}

async function runParent(opts: Options): Promise<void> {
  const root = packageRoot();
  const self = fileURLToPath(import.meta.url);
  const out = join(root, 'benchmarks', 'results');
  const cnnDir = join(root, 'models', 'mnist-cnn');
  const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-compile-'));
  const passOn = ['--max-prove-power', String(opts.maxProvePower), '--circom-timeout', String(opts.circomTimeout), '--circom-max-constraints', String(opts.circomMaxConstraints)];
  try {
    const series = scaleSeries();
    const known = [...series.map((m) => m.name), 'mnist-cnn'];
    const unknown = (opts.only ?? []).filter((n) => !known.includes(n));
    if (unknown.length) throw new Error(`--only: unknown model(s) ${unknown.join(', ')}; the models are ${known.join(', ')}`);
    // the models and their inputs as files, one folder each (the children read only their own)
    const jobs: Job[] = [];
    for (const m of series) {
      if (opts.only && !opts.only.includes(m.name)) continue;
      const dir = join(work, m.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'model.onnx'), m.onnx);
      writeFileSync(join(dir, 'input.json'), JSON.stringify(m.input));
      jobs.push({ name: m.name, description: m.description, weights: m.weights, model: join(dir, 'model.onnx'), input: join(dir, 'input.json') });
    }
    if (!opts.only || opts.only.includes('mnist-cnn')) {
      const model = join(cnnDir, 'model.onnx');
      const weights = [...readOnnx(model).constants.values()].reduce((n, t) => n + sizeOf(t.dims), 0);
      mkdirSync(join(work, 'mnist-cnn'), { recursive: true });
      jobs.push({
        name: 'mnist-cnn', description: 'models/mnist-cnn (circomlib-ml\'s MNIST CNN architecture), 8-bit activations and weights', weights, model,
        input: join(cnnDir, 'input.json'), calibration: join(cnnDir, 'calibration.json'), params: { activationBits: 8, weightBits: 8 },
      });
    }
    const host = await machine();
    const date = new Date().toISOString();
    // --keep: the rows of the last run stay, those measured now replace theirs (a partial re-run)
    const rows: Row[] = [];
    const kept: Row[] = opts.keep ? (() => { try { return (JSON.parse(readFileSync(join(out, 'compile.json'), 'utf8')) as { rows: Row[] }).rows; } catch { return []; } })() : [];
    const ordered = () => [...kept.filter((k) => !rows.some((r) => r.model === k.model)), ...rows].sort((a, b) => known.indexOf(a.model) - known.indexOf(b.model));
    const save = () => {
      mkdirSync(out, { recursive: true });
      const options = { only: opts.only ?? null, maxProvePower: opts.maxProvePower, circomTimeout: opts.circomTimeout, circomMaxConstraints: opts.circomMaxConstraints };
      writeFileSync(join(out, 'compile.json'), `${JSON.stringify({ machine: host, date, options, rows: ordered() }, null, 2)}\n`);
      writeFileSync(join(out, 'compile.md'), [
        '# bench:compile: zkonnx and circom2 at scale', '',
        `Machine: ${host}`, '',
        `Date: ${date}${opts.only ? `; ${opts.keep ? 're-measured in this run' : 'models'}: ${opts.only.join(', ')} (--only${opts.keep ? ' --keep: the other rows are from the run before' : ''})` : ''}`, '',
        '```', renderTable(ordered()), '```', '', explanation(opts), '',
      ].join('\n'));
    };
    console.error(`machine: ${host}\nwork folder: ${work}`);
    for (const [i, job] of jobs.entries()) {
      writeFileSync(join(work, job.name, 'job.json'), JSON.stringify(job));
      console.error(`[${i + 1}/${jobs.length}] ${job.name}: ${job.description}`);
      const r = await runChild(self, job.name, join(work, job.name), passOn);
      const row: Row = r.row ?? {
        model: job.name, description: job.description, weights: job.weights,
        compile: {}, witness: {}, setup: {}, prove: {}, circom: { status: 'skipped', reason: 'the child process failed' }, circomWitness: {},
      };
      if (r.error) row.error = r.error;
      if (r.error && !r.row) row.compile = { error: r.error };
      rows.push(row);
      rmSync(join(work, job.name, 'build'), { recursive: true, force: true }); // disk: big models' keys
      rmSync(join(work, job.name, 'circom'), { recursive: true, force: true });
      save();
    }
    writeFileSync(join(out, 'compile.svg'), barChart('compile seconds: zkonnx vs circom2 --O1', 's', ordered().flatMap((r) => [
      ...(r.compile.seconds !== undefined ? [{ label: `${r.model} zkonnx`, value: r.compile.seconds }] : []),
      ...(r.circom.status === 'ok' || r.circom.status === 'timeout'
        ? [{ label: `${r.model} circom${r.circom.status === 'timeout' ? ' (timeout)' : ''}`, value: r.circom.seconds! }] : []),
    ]), { log: true }));
    console.log(`machine: ${host}\n\n${renderTable(ordered())}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await releaseCurves();
  }
}

// ---------------------------------------------------------------------------------------------

const opts = parseOptions(process.argv.slice(2));
if (opts.one !== undefined) {
  if (!opts.work) throw new Error('--one needs --work DIR');
  const row = await runOne(opts, opts.work);
  await releaseCurves();
  row.peakRssMB = { ...row.peakRssMB!, end: mb() };
  writeSync(1, `${MARK}${JSON.stringify(row)}\n`);
  process.exit(0); // a library's stray handle must not keep the child (and the bench) waiting
} else {
  try {
    await runParent(opts);
  } catch (e) {
    console.error(`bench:compile: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  }
}
