// npm run conformance [-- DIR] [--suite ezkl|realworld] [--only a,b,c] [--timeout-s N] [--weights hashed]
// Every model folder of a conformance suite through compile, setup, prove and verify, with the
// dequantized output compared against onnxruntime-web. Suites: ezkl (default:
// ../shared/conformance/ezkl, or $ZKONNX_CONFORMANCE, or DIR: network.onnx and input.json per
// folder) and realworld (../shared/realworld: third-party exports, inputs built from each
// model's declared inputs, class agreement on 100 real digits for digit classifiers;
// benchmarks/realworld-lib.ts). Each model runs in a child process (this script,
// forked with an internal flag) so that a hanging model can be killed and its memory is freed.
// Writes benchmarks/results/conformance.{md,json} after every model, so a crash or a timeout
// keeps the rows so far. --weights hashed compiles every model with its weights committed
// (private) and writes conformance[-realworld]-hashed.{md,json} beside the baked tables.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { barChart, machine, table } from './chart.js';
import { listConformanceModels, runConformanceModel, type Row, type Stage } from './conformance-lib.js';
import { listRealworldModels, runRealworldModel, SEQUENCE_DIM, USER_OPTIONS } from './realworld-lib.js';

type Suite = 'ezkl' | 'realworld';

const CHILD_FLAG = '--conformance-child';
const DEFAULT_TIMEOUT_S = 600;

type ChildMessage = { type: 'stage'; stage: Stage; partial: Row } | { type: 'row'; row: Row };

// ---------------------------------------------------------------- child: one model, in-process

async function child(suite: Suite, dir: string, workDir: string, weights: string | undefined): Promise<never> {
  const send = (m: ChildMessage) => new Promise<void>((res) => { process.send ? process.send(m, () => res()) : res(); });
  const onStage = (stage: Stage, partial: Readonly<Row>) => { void send({ type: 'stage', stage, partial: { ...partial } }); };
  const opts = { onStage, ...(weights === 'hashed' ? { weights: 'hashed' as const } : {}) };
  const row = suite === 'realworld' ? await runRealworldModel(dir, workDir, opts) : await runConformanceModel(dir, workDir, opts);
  await send({ type: 'row', row });
  await releaseCurves().catch(() => undefined);
  process.exit(0);
}

// ---------------------------------------------------------------- parent

interface Args { suite: Suite; dir: string; only?: string[]; timeoutS: number; hashed: boolean }

function usage(msg: string): never {
  console.error(`conformance: ${msg}\nusage: node dist/benchmarks/conformance.js [DIR] [--suite ezkl|realworld] [--only a,b,c] [--timeout-s N] [--weights hashed]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  let dir: string | undefined;
  let only: string[] | undefined;
  let timeoutS = DEFAULT_TIMEOUT_S;
  let suite: Suite = 'ezkl';
  let hashed = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--only') only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--suite') {
      const v = value();
      if (v !== 'ezkl' && v !== 'realworld') usage(`--suite must be ezkl or realworld, got '${v}'`);
      suite = v;
    }
    else if (flag === '--weights') {
      const v = value();
      if (v !== 'baked' && v !== 'hashed') usage(`--weights must be baked or hashed, got '${v}'`);
      hashed = v === 'hashed';
    } else if (flag === '--timeout-s') {
      const v = value();
      timeoutS = Number(v);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage(`--timeout-s must be a positive number of seconds, got '${v}'`);
    } else if (flag === '--help' || flag === '-h') usage('help');
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else usage(`unexpected argument ${a}`);
  }
  const fallback = suite === 'realworld' ? join(packageRoot(), '..', 'shared', 'realworld') : join(packageRoot(), '..', 'shared', 'conformance', 'ezkl');
  return { suite, dir: resolve(dir ?? (suite === 'ezkl' ? process.env.ZKONNX_CONFORMANCE : undefined) ?? fallback), only, timeoutS, hashed };
}

let current: ChildProcess | undefined;

/** One model in a forked child; a timeout or a crash becomes an 'error' row. */
function runInChild(script: string, suite: Suite, model: string, dir: string, workDir: string, timeoutS: number, hashed: boolean): Promise<Row> {
  return new Promise((done) => {
    const t0 = performance.now();
    let partial: Row = { model, status: 'error', stage: 'compile', message: '' };
    let stage: Stage = 'compile';
    let row: Row | undefined;
    let timedOut = false;
    let errTail = '';
    let settled = false;
    const finish = (r: Row) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current = undefined;
      done({ ...r, wallS: (performance.now() - t0) / 1000 });
    };
    const cp = fork(script, [CHILD_FLAG, suite, dir, workDir, hashed ? 'hashed' : 'baked'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    current = cp;
    cp.stdout?.resume(); // the library prints nothing; drain whatever a dependency prints
    cp.stderr?.on('data', (b: Buffer) => { errTail = (errTail + b.toString()).slice(-4000); });
    const timer = setTimeout(() => { timedOut = true; cp.kill('SIGKILL'); }, timeoutS * 1000);
    cp.on('message', (m: ChildMessage) => {
      if (m.type === 'stage') { stage = m.stage; partial = m.partial; }
      else if (m.type === 'row') row = m.row;
    });
    const lost = (why: string, code: string): Row => ({ ...partial, model, status: 'error', stage, code, message: why });
    cp.on('error', (e) => { cp.kill('SIGKILL'); finish(lost(`child process failed: ${e.message}`, 'CRASH')); });
    cp.on('exit', (code, signal) => {
      if (row) return finish(row);
      if (timedOut) return finish(lost(`no result after ${timeoutS} s: killed during ${stage}`, 'TIMEOUT'));
      const last = errTail.trim().split('\n').filter(Boolean).slice(-3).join(' / ').slice(0, 500);
      finish(lost(`child process exited with ${signal ?? `code ${code}`} during ${stage}${last ? `: ${last}` : ''}`, 'CRASH'));
    });
  });
}

const num = (x: number | undefined, f: (x: number) => string) => (x === undefined ? '' : f(x));
const sec = (x: number) => x.toFixed(2);
const exp = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

function cells(r: Row): string[] {
  return [
    r.model, r.status, r.stage ?? '', num(r.constraints, String), num(r.compileS, sec),
    r.setupS === undefined ? '' : `${sec(r.setupS)}${r.ptauCreated ? '*' : ''}`, num(r.proveS, sec),
    num(r.maxAbsError, exp), num(r.tolerance, exp), r.agreement === undefined ? '' : `${(100 * r.agreement).toFixed(0)}% of ${r.digits}`,
    r.code ? `${r.code}: ${r.message}` : r.message,
  ];
}
const HEADER = ['model', 'status', 'stage', 'constraints', 'compile s', 'setup s', 'prove s', 'max abs error', 'tolerance', 'class agreement', 'message'];

function mdTable(header: string[], rows: string[][], right: Set<number>): string {
  const esc = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
  const line = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (right.has(i) ? '---:' : '---')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Errors grouped by the op they name (or by code where they name none). */
function errorGroups(rows: Row[]): { key: string; code: string; models: string[]; message: string }[] {
  const groups = new Map<string, { key: string; code: string; models: string[]; message: string }>();
  for (const r of rows) {
    if (r.status === 'pass') continue;
    const code = r.code ?? r.status.toUpperCase();
    const key = r.op ?? `(${r.stage ?? '-'}: ${code})`;
    const k = `${key}\u0000${code}`;
    const g = groups.get(k) ?? { key, code, models: [], message: r.message };
    g.models.push(r.model);
    groups.set(k, g);
  }
  return [...groups.values()].sort((a, b) => b.models.length - a.models.length || a.key.localeCompare(b.key));
}

function summary(rows: Row[], total: number): string {
  const n = (s: Row['status']) => rows.filter((r) => r.status === s).length;
  const ran = rows.length < total ? ` (${rows.length} of ${total} run so far)` : '';
  return `passed ${n('pass')} / ${total}${ran}: ${n('pass')} pass, ${n('fail')} fail, ${n('error')} error`;
}

/** The results' file name: conformance, conformance-realworld, with -hashed under --weights hashed. */
const baseName = (suite: Suite, hashed: boolean) => `${suite === 'realworld' ? 'conformance-realworld' : 'conformance'}${hashed ? '-hashed' : ''}`;

function writeResults(out: string, meta: { suite: Suite; date: string; machine: string; dir: string; timeoutS: number; only?: string[]; total: number; seconds: number; hashed: boolean }, rows: Row[]): void {
  const done = rows.length === meta.total;
  const passed = rows.filter((r) => r.status === 'pass').length;
  const base = baseName(meta.suite, meta.hashed);
  writeFileSync(join(out, `${base}.json`), JSON.stringify({ ...meta, complete: done, passed, rows }, null, 2));
  const right = new Set([3, 4, 5, 6, 7, 8, 9]);
  const groups = errorGroups(rows);
  const md = [
    (meta.suite === 'realworld' ? '# Conformance: models others trained and exported (../shared/realworld)' : '# Conformance: the EZKL example models') + (meta.hashed ? ', weights committed (--weights hashed)' : ''),
    '',
    `**${summary(rows, meta.total)}**${done ? '' : ' — incomplete: the run is in progress or was interrupted'}`,
    '',
    `Machine: ${meta.machine}`,
    '',
    `Run ${meta.date} on ${meta.dir}${meta.only ? ` (--only ${meta.only.join(',')})` : ''}, timeout ${meta.timeoutS} s per model, ${meta.seconds.toFixed(0)} s in all. `
      + 'Pass: the proof verifies and max |dequantized output − onnxruntime-web output| ≤ max(1e-2, 1% of max |reference output|). '
      + (meta.suite === 'realworld' ? `Digit classifiers also need the proven class to be the float model's class on ≥ 99% of 100 real MNIST digits. Inputs: real digits for 28×28 and 14×14 image inputs, seeded values otherwise; symbolic dimensions other than the batch are given size ${SEQUENCE_DIM} (compile --dim), except where a user must say more (USER_OPTIONS in benchmarks/realworld-lib.ts: ${Object.entries(USER_OPTIONS).map(([m, u]) => `${m} ${[...Object.entries(u.dims ?? {}).map(([k, v]) => `--dim ${k}=${v}`), ...Object.entries(u.fixed ?? {}).map(([k, v]) => `--fix-input ${k}=${v.join(',')}`)].join(' ')}`).join('; ')}). ` : '')
      + 'Fail: verified but too far off, or not verified. Error: an exception, with its code and the stage it happened in.',
    '',
    mdTable(HEADER, rows.map(cells), right),
    '',
    '\\* setup time includes generating the powers-of-tau file for that power (cached afterwards).',
    '',
    ...(groups.length ? [
      '## Failures and errors by op',
      '',
      mdTable(['op', 'code', 'models', 'n', 'first message'], groups.map((g) => [g.key, g.code, g.models.join(', '), String(g.models.length), g.message.slice(0, 200)]), new Set([3])),
      '',
    ] : []),
  ].join('\n');
  writeFileSync(join(out, `${base}.md`), md);
  const compiled = rows.filter((r) => r.constraints !== undefined);
  if (compiled.length) {
    writeFileSync(join(out, `${base}-constraints.svg`), barChart('Constraints per conformance model (compiled ones)', '', compiled.map((r) => ({ label: r.model, value: r.constraints! })), { log: meta.suite === 'realworld' }));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.dir)) {
    console.error(`conformance: models not found at ${args.dir}\n  hint: pass the folder as an argument or set ZKONNX_CONFORMANCE`);
    process.exit(1);
  }
  const all = args.suite === 'realworld' ? listRealworldModels(args.dir) : listConformanceModels(args.dir);
  if (args.only) {
    const unknown = args.only.filter((m) => !all.includes(m));
    if (unknown.length) usage(`--only names unknown model(s): ${unknown.join(', ')} (in ${args.dir})`);
  }
  const models = args.only ? all.filter((m) => args.only!.includes(m)) : all;
  const script = fileURLToPath(import.meta.url);
  const out = join(packageRoot(), 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'zkonnx-conformance-'));
  const cleanup = () => { current?.kill('SIGKILL'); rmSync(work, { recursive: true, force: true }); };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });

  const meta = { suite: args.suite, date: new Date().toISOString(), machine: await machine(), dir: args.dir, timeoutS: args.timeoutS, only: args.only, total: models.length, seconds: 0, hashed: args.hashed };
  const t0 = performance.now();
  const rows: Row[] = [];
  const width = Math.max(...models.map((m) => m.length), 5);
  console.error(`conformance: ${models.length} model(s) from ${args.dir}, timeout ${args.timeoutS} s each, builds in ${work}`);
  try {
    for (const [i, m] of models.entries()) {
      // each model builds under its own folder, so that everything a killed child left is removed
      const modelWork = join(work, m);
      const row = await runInChild(script, args.suite, m, join(args.dir, m), modelWork, args.timeoutS, args.hashed);
      rmSync(modelWork, { recursive: true, force: true });
      rows.push(row);
      meta.seconds = (performance.now() - t0) / 1000;
      writeResults(out, meta, rows);
      const what = row.status === 'pass'
        ? `${row.constraints} constraints, err ${exp(row.maxAbsError!)} ≤ ${exp(row.tolerance!)}`
        : `${row.stage ?? ''} ${row.code ? `${row.code}${row.op ? ` (${row.op})` : ''}: ` : ''}${row.message}`.slice(0, 160);
      const n = String(models.length);
      console.error(`[${String(i + 1).padStart(n.length)}/${n}] ${m.padEnd(width)} ${row.status.padEnd(5)} ${(row.wallS ?? 0).toFixed(1).padStart(6)} s  ${what}`);
    }
  } finally {
    cleanup();
  }
  console.log(`machine: ${meta.machine}\n${table([...HEADER.slice(0, -1), 'code'], rows.map((r) => [...cells(r).slice(0, -1), r.code ?? '']))}\n${summary(rows, models.length)} in ${meta.seconds.toFixed(0)} s`);
  const base = baseName(args.suite, args.hashed);
  console.log(`wrote ${join(out, `${base}.md`)} and ${base}.json`);
}

if (process.argv[2] === CHILD_FLAG) {
  await child(process.argv[3] as Suite, process.argv[4]!, process.argv[5]!, process.argv[6]);
} else {
  await main();
}
