// npm run bench:service — the proving service under a fixed batch of requests: throughput
// (proofs per minute) and latency (p50 / p95, submit → result stored) against the number of
// worker processes (1, 2, 4 on this machine), and each worker's peak memory, for the MNIST MLP
// (models/mnist-mlp) unsplit and split into 2 chunks (chunk jobs fanned out by BullMQ flows).
// Real components: redis-server on 127.0.0.1 at a free port, `zkonnx serve` and `zkonnx worker`
// as processes. Writes benchmarks/results/service.{md,json}.
//
//   node dist/benchmarks/service.js [--batch N] (default 16 requests per configuration)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '../src/api.js';
import { packageRoot } from '../src/paths.js';
import type { ProofStatus } from '../src/service/server.js';
import { releaseCurves } from '../src/snark.js';
import { machine, table } from './chart.js';

const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const BATCH = Number(arg('--batch') ?? 16);
const root = packageRoot();
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-service-'));
const modelsDir = join(work, 'models');
const procs = new Set<ChildProcess>();

function start(cmd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { cwd: work, env: { ...process.env, TMPDIR: work }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(child);
  child.once('exit', () => procs.delete(child));
  return new Promise((resolve, reject) => {
    const log: string[] = [];
    const on = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        log.push(line);
        if (ready.test(line)) resolve({ child, line });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`${cmd} ${args[1] ?? ''} exited (${code}):\n${log.join('\n')}`)));
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await done;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

/** Peak resident memory (VmHWM) of a process, in MiB: its snarkjs worker threads included. */
function peakMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row { model: string; chunks: number; workers: number; batch: number; seconds: number; proofsPerMin: number; p50: number; p95: number; peakWorkerMiB: number; failed: number }

async function runConfig(redisUrl: string, model: string, nWorkers: number, chunks: number): Promise<Row> {
  const { child: apiChild, line } = await start(process.execPath, [cli, 'serve', '--redis', redisUrl, '--models', modelsDir, '--port', '0', '--rate', 'off'], /listening on /);
  const base = line.replace(/^.*listening on /, '').trim();
  const workers = await Promise.all(Array.from({ length: nWorkers }, () => start(process.execPath, [cli, 'worker', '--redis', redisUrl, '--models', modelsDir, '--quiet'], /: ready/)));
  const input = JSON.parse(readFileSync(join(root, 'models', 'mnist-mlp', 'input.json'), 'utf8')) as { input_data: number[][] };
  const submit = async () => {
    const r = await fetch(`${base}/v1/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input }) });
    if (r.status !== 202) throw new Error(`POST ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { id: string }).id;
  };
  const wait = async (ids: string[]) => {
    const out: ProofStatus[] = [];
    for (const id of ids) {
      for (;;) {
        const s = (await (await fetch(`${base}/v1/proofs/${id}`)).json()) as ProofStatus;
        if (s.status === 'completed' || s.status === 'failed') { out.push(s); break; }
        await sleep(50);
      }
    }
    return out;
  };
  // warm-up: every worker loads the model's artifacts on its first job; not counted
  await wait(await Promise.all(Array.from({ length: nWorkers * Math.max(1, chunks) }, submit)));
  const t0 = Date.now();
  const ids = await Promise.all(Array.from({ length: BATCH }, submit));
  const results = await wait(ids);
  const done = results.filter((s) => s.status === 'completed');
  const end = Math.max(...done.map((s) => s.result!.finishedAt));
  const latencies = done.map((s) => (s.result!.finishedAt - s.submittedAt) / 1000);
  const peak = Math.max(...workers.map((w) => peakMiB(w.child.pid!)));
  await Promise.all(workers.map((w) => stop(w.child)));
  await stop(apiChild);
  const seconds = (end - t0) / 1000;
  return {
    model, chunks, workers: nWorkers, batch: BATCH, seconds, proofsPerMin: (done.length / seconds) * 60,
    p50: pct(latencies, 50), p95: pct(latencies, 95), peakWorkerMiB: peak, failed: results.length - done.length,
  };
}

async function main(): Promise<void> {
  try {
    mkdirSync(modelsDir, { recursive: true });
    const dir = join(root, 'models', 'mnist-mlp');
    const common = { model: join(dir, 'model.onnx'), calibration: join(dir, 'calibration.json'), input: join(dir, 'input.json') };
    process.stderr.write('compile + setup models/mnist-mlp (unsplit and 2 chunks)\n');
    const whole = await api.compile({ ...common, outDir: join(modelsDir, 'mnist') });
    await api.setup({ buildDir: join(modelsDir, 'mnist') });
    const split = await api.compile({ ...common, outDir: join(modelsDir, 'mnist-split'), split: { chunks: 2 } });
    await api.setup({ buildDir: join(modelsDir, 'mnist-split') });
    await releaseCurves();

    const port = await freePort();
    mkdirSync(join(work, 'redis'));
    await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(work, 'redis'), '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
    const redisUrl = `redis://127.0.0.1:${port}`;

    const rows: Row[] = [];
    const load0 = (await import('node:os')).loadavg()[0]!;
    for (const [model, chunks, n] of [['mnist', 0, 1], ['mnist', 0, 2], ['mnist', 0, 4], ['mnist-split', 2, 1], ['mnist-split', 2, 2], ['mnist-split', 2, 4]] as const) {
      process.stderr.write(`${model}, ${n} worker(s), ${BATCH} requests\n`);
      const r = await runConfig(redisUrl, model, n, chunks);
      rows.push(r);
      process.stderr.write(`  ${r.proofsPerMin.toFixed(1)} proofs/min, p50 ${r.p50.toFixed(2)} s, p95 ${r.p95.toFixed(2)} s, peak ${r.peakWorkerMiB.toFixed(0)} MiB\n`);
    }

    const load1 = (await import('node:os')).loadavg()[0]!;
    const m = await machine();
    const constraints = { mnist: whole.settings.circuit.constraints, 'mnist-split': split.settings.split!.chunks.map((c) => c.constraints) };
    const t = table(
      ['model', 'chunks', 'workers', 'requests', 'seconds', 'proofs/min', 'p50 s', 'p95 s', 'peak MiB / worker', 'failed'],
      rows.map((r) => [r.model, r.chunks || 1, r.workers, r.batch, r.seconds.toFixed(1), r.proofsPerMin.toFixed(1), r.p50.toFixed(2), r.p95.toFixed(2), r.peakWorkerMiB.toFixed(0), r.failed]),
    );
    const md = [
      '# bench:service', '',
      `Machine: ${m}`, '',
      `The proving service (zkonnx serve + zkonnx worker processes, BullMQ on redis-server ${'on loopback'}) under a fixed batch of ${BATCH} requests submitted at once, after one warm-up job per worker (artifact loading) that is not counted.`,
      `Model: models/mnist-mlp, ${constraints.mnist} constraints unsplit; split into 2 chunks of ${constraints['mnist-split'].join(' + ')} constraints (each chunk a child job of a BullMQ flow).`,
      'Throughput: completed proofs / (last result stored − batch submitted). Latency: submit → result stored (server timestamps). Peak memory: VmHWM of each worker process (snarkjs\'s worker threads included), the largest worker.',
      `Every worker process runs snarkjs with a thread per core (${(await import('node:os')).cpus().length} here): more worker processes than cores share them.`,
      `Load average (1 min) when the runs began and ended: ${load0.toFixed(1)} and ${load1.toFixed(1)} (other jobs share this machine).`, '',
      '```', t, '```', '',
    ].join('\n');
    writeFileSync(join(root, 'benchmarks', 'results', 'service.md'), md);
    writeFileSync(join(root, 'benchmarks', 'results', 'service.json'), JSON.stringify({ machine: m, batch: BATCH, loadAverage: [load0, load1], constraints, rows }, null, 2));
    process.stdout.write(`${md}\n`);
  } finally {
    for (const c of [...procs]) await stop(c, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`${(e as Error).stack ?? e}\n`); process.exit(1); });
