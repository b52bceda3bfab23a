// The proving service as it runs: a real Redis (redis-server on 127.0.0.1 at a free port, in a
// temp folder), the HTTP API and two workers as separate processes of the built CLI. Shows:
// a proof through the queue verifies and equals a direct api.prove; requests that are wrong
// get a 4xx and never reach the queue; a worker killed in the middle of a job leaves exactly
// one verified proof, made by the other worker; results survive a restart of the API; a load
// of requests ends with every job completed exactly once; a split model proves through a flow
// of chunk jobs and its result equals the unsplit model's.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { buildModel, type ModelSpec } from '../src/onnx/write.js';
import { QUEUE, provedKey, type ProofResult } from '../src/service/common.js';
import type { ProofStatus } from '../src/service/server.js';
import { releaseCurves } from '../src/snark.js';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-service-'));
const modelsDir = join(work, 'models');
const holdFile = join(work, 'hold');
const hasSplit = existsSync(join(root, 'src', 'split.ts'));

// ---------------------------------------------------------------- processes

interface Proc { name: string; child: ChildProcess; log: string[]; exited: Promise<number | null> }
const procs = new Set<Proc>();

function start(name: string, cmd: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ proc: Proc; line: string }> {
  const child = spawn(cmd, args, { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { name, child, log: [], exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  procs.add(proc);
  return new Promise((resolve, reject) => {
    let found = false;
    const onData = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line) continue;
        proc.log.push(line);
        if (!found && ready.test(line)) { found = true; resolve({ proc, line }); }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    void proc.exited.then((code) => { if (!found) reject(new Error(`${name} exited (${code}) before it was ready:\n${proc.log.join('\n')}`)); });
  });
}

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  const code = await p.exited;
  procs.delete(p);
  return code;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- the service under test

let redisUrl = '';
let baseUrl = '';
let apiProc: Proc;
const workers: Proc[] = [];
let redis: Redis;
let queue: Queue;

const startApi = async () => {
  const { proc, line } = await start('api', process.execPath, [cli, 'serve', '--redis', redisUrl, '--models', modelsDir, '--port', '0', '--body-limit', '65536'], /listening on /);
  baseUrl = line.replace(/^.*listening on /, '').trim();
  return proc;
};
const startWorker = async (n: number) => (await start(`worker${n}`, process.execPath, [
  cli, 'worker', '--redis', redisUrl, '--models', modelsDir, '--lock-ms', '5000', '--stalled-interval-ms', '1000', '--max-stalled', '2',
], /zkonnx worker .*: ready/, { ZKONNX_SERVICE_HOLD_FILE: holdFile, TMPDIR: work })).proc;

async function http(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${baseUrl}${path}`, {
    method, headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a proof's status until `done` holds (the test's own timeout bounds the wait). */
async function waitFor(id: string, done: (s: ProofStatus) => boolean): Promise<ProofStatus> {
  for (;;) {
    const r = await http('GET', `/v1/proofs/${id}`);
    expect(r.status).toBe(200);
    if (done(r.json)) return r.json;
    if (r.json.status === 'failed' && !done(r.json)) throw new Error(`proof ${id} failed: ${r.json.error}`);
    await sleep(100);
  }
}
const completed = (id: string) => waitFor(id, (s) => s.status === 'completed');

async function submit(model: string, input: { input_data: number[][] }): Promise<string> {
  const r = await http('POST', '/v1/proofs', { model, input });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json.id as string;
}

/** 'completed' events of a job in the queue's event stream: exactly one per proof. */
async function completedEvents(id: string): Promise<number> {
  const entries = (await redis.xrange(`bull:${QUEUE}:events`, '-', '+')) as [string, string[]][];
  return entries.filter(([, f]) => {
    const m = new Map<string, string>();
    for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
    return m.get('event') === 'completed' && m.get('jobId') === id;
  }).length;
}

// ---------------------------------------------------------------- the model

const mlp: ModelSpec = {
  graphName: 'mlp', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 2] }],
  initializers: [
    { name: 'W1', dims: [4, 3], data: new Float32Array([0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.5, 0.3, -0.7, 0.9]) },
    { name: 'B1', dims: [3], data: new Float32Array([0.1, 0.2, -0.3]) },
    { name: 'W2', dims: [3, 2], data: new Float32Array([0.6, -0.4, 0.2, 0.8, -0.9, 0.1]) },
    { name: 'B2', dims: [2], data: new Float32Array([0.05, -0.05]) },
  ],
  nodes: [
    { name: '/fc1/Gemm', op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'] },
    { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
    { name: '/fc2/MatMul', op: 'MatMul', inputs: ['r', 'W2'], outputs: ['m'] },
    { name: '/fc2/Add', op: 'Add', inputs: ['m', 'B2'], outputs: ['y'] },
  ],
};
const input = { input_data: [[0.5, -0.25, 1, 0.75]] };
const calibration = [input, { input_data: [[-1, 1, -0.5, 0.25]] }, { input_data: [[1, 1, 1, -1]] }, { input_data: [[-1, -1, 0, 1]] }];
/** Inputs inside the calibrated range, different from one another. */
const inputOf = (k: number) => ({ input_data: [[((k % 5) - 2) / 2, (((k * 3) % 7) - 3) / 3, ((k % 3) - 1) / 2, (((k * 5) % 9) - 4) / 4]] });
const mlpBuild = join(modelsDir, 'mlp');
const splitBuild = join(modelsDir, 'mlp-split');
let vkey: api.VerificationKey;

const verifies = (r: ProofResult) => snarkjs.groth16.verify(vkey, r.publicSignals!, r.proof!);

beforeAll(async () => {
  if (!existsSync(cli)) await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root });
  mkdirSync(modelsDir, { recursive: true });
  const onnx = join(work, 'mlp.onnx');
  writeFileSync(onnx, buildModel(mlp));
  writeFileSync(join(work, 'calibration.json'), JSON.stringify(calibration));
  await api.compile({ model: onnx, outDir: mlpBuild, calibration: join(work, 'calibration.json') });
  await api.setup({ buildDir: mlpBuild });
  vkey = JSON.parse(readFileSync(join(mlpBuild, 'verification_key.json'), 'utf8'));
  if (hasSplit) {
    await api.compile({ model: onnx, outDir: splitBuild, calibration: join(work, 'calibration.json'), split: { chunks: 2 } } as api.CompileOptions);
    await api.setup({ buildDir: splitBuild });
  }

  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  mkdirSync(join(work, 'redis'));
  await start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(work, 'redis'), '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE, { connection: { url: redisUrl } });
  apiProc = await startApi();
  workers.push(await startWorker(1), await startWorker(2));
}, 180_000);

afterAll(async () => {
  await queue?.close().catch(() => {});
  redis?.disconnect();
  for (const p of [...procs].reverse()) {
    if (p.name === 'redis') continue;
    await stop(p, 'SIGKILL');
  }
  for (const p of [...procs]) await stop(p, 'SIGKILL');
  await releaseCurves();
  rmSync(work, { recursive: true, force: true });
}, 30_000);

// ---------------------------------------------------------------- the tests

describe('proving service (BullMQ on Redis, API and two workers as processes)', () => {
  it('lists the registered models with their input shapes', async () => {
    const r = await http('GET', '/v1/models');
    expect(r.status).toBe(200);
    const mlpModel = r.json.models.find((m: { id: string }) => m.id === 'mlp');
    expect(mlpModel.inputs).toEqual([{ name: 'x', shape: [1, 4] }]);
    if (hasSplit) expect(r.json.models.find((m: { id: string }) => m.id === 'mlp-split').chunks).toBe(2);
  }, 10_000);

  let firstId = '';
  let firstResult: ProofResult;
  it('proves through the queue: the proof verifies and equals a direct api.prove', async () => {
    firstId = await submit('mlp', input);
    const s = await completed(firstId);
    firstResult = s.result!;
    expect(firstResult.id).toBe(firstId);
    expect(firstResult.verified).toBe(true);
    expect(await verifies(firstResult)).toBe(true);
    const direct = await api.prove({ buildDir: mlpBuild, input, name: 'direct', backend: 'wasm' });
    expect(firstResult.outputs.map((o) => o.raw)).toEqual(direct.outputs.map((o) => o.raw));
    expect(firstResult.outputs.map((o) => o.values)).toEqual(direct.outputs.map((o) => o.values));
    expect(firstResult.publicSignals).toEqual(direct.publicSignals);
    expect(s.progress?.step).toBe('done');
  }, 60_000);

  it('answers 4xx with a clear message, and nothing wrong reaches the queue', async () => {
    const before = await queue.getJobCounts();
    let r = await http('POST', '/v1/proofs', { model: 'no-such-model', input });
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/model 'no-such-model' does not exist; known models: .*mlp/);

    r = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [[1, 2, 3]] } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/input\.input_data\[0\] has 3 number\(s\).*'x' has shape \[1,4\] \(4 numbers\)/);

    r = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [[1, 2, 3, 4], [5]] } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/2 list\(s\), model 'mlp' has 1 input/);

    r = await http('POST', '/v1/proofs', undefined, '{"model": "mlp", "input": {"input_data": [[1, 1e999, 0, 0]]}}');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/input\.input_data\[0\]\[1\] is .*not a finite number/);

    r = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [[1, '2', 0, 0]] } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/input\.input_data\[0\]\[1\] is "2", not a finite number/);

    r = await http('POST', '/v1/proofs', undefined, '{"model": "mlp", "input": ');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('MALFORMED_JSON');

    r = await http('POST', '/v1/proofs', { input });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/missing field "model"/);

    r = await http('POST', '/v1/proofs', { model: 'mlp' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/missing field "input"/);

    r = await http('POST', '/v1/proofs', [1, 2]);
    expect(r.status).toBe(400);

    r = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [Array(20_000).fill(0.5)] } });
    expect(r.status).toBe(413);
    expect(r.json.error.message).toMatch(/larger than the limit of 65536 bytes/);

    r = await http('GET', '/v1/proofs/does-not-exist');
    expect(r.status).toBe(404);

    expect(await queue.getJobCounts()).toEqual(before);
  }, 30_000);

  it('a worker killed (SIGKILL) in the middle of a job: the other worker proves it, exactly once', async () => {
    writeFileSync(holdFile, 'hold');
    const id = await submit('mlp', inputOf(7));
    // the worker that took the job waits while the hold file exists, its lock renewed
    const held = await waitFor(id, (s) => s.status === 'active' && s.progress?.step === 'hold');
    const victim = workers.find((w) => w.child.pid === held.progress!.pid)!;
    expect(victim).toBeDefined();
    const survivor = workers.find((w) => w !== victim)!;
    expect(await stop(victim, 'SIGKILL')).toBe(null);
    workers.splice(workers.indexOf(victim), 1);
    rmSync(holdFile);

    const s = await completed(id);
    expect(s.result!.worker).toMatch(new RegExp(`:${survivor.child.pid}$`));
    expect(s.attempts).toBeGreaterThanOrEqual(2); // taken again after the stall
    expect(await verifies(s.result!)).toBe(true);
    expect(await redis.hget(provedKey, id)).toBe('1');
    expect(await completedEvents(id)).toBe(1);
    expect(survivor.log.some((l) => l.includes(`completed proof ${id}`))).toBe(true);
    workers.push(await startWorker(3));
  }, 60_000);

  it('results survive a restart of the API process', async () => {
    expect(await stop(apiProc, 'SIGTERM')).toBe(0);
    apiProc = await startApi();
    const s = await completed(firstId);
    expect(s.result).toEqual(firstResult);
  }, 30_000);

  it('a bounded load (12 requests over about 3 s) ends with every job completed exactly once', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 12; k++) {
      ids.push(await submit('mlp', inputOf(k)));
      await sleep(250);
    }
    expect(new Set(ids).size).toBe(12);
    const results = await Promise.all(ids.map((id) => completed(id)));
    const counts = await queue.getJobCounts('failed');
    expect(counts.failed).toBe(0);
    for (const [k, s] of results.entries()) {
      const r = s.result!;
      expect(r.id).toBe(ids[k]);
      expect(await verifies(r)).toBe(true);
      expect(await redis.hget(provedKey, ids[k]!)).toBe('1');
      expect(await completedEvents(ids[k]!)).toBe(1);
      expect(r.artifactLoads).toBe(1); // each worker read the model's artifacts once and reused them
    }
  }, 90_000);

  it.skipIf(!hasSplit)('a split model proves through a flow of chunk jobs; its result equals the unsplit proof\'s output', async () => {
    const id = await submit('mlp-split', input);
    const s = await completed(id);
    const r = s.result!;
    expect(r.chunks).toHaveLength(2);
    const chunkJobs = await Promise.all([0, 1].map((k) => queue.getJob(`${id}-chunk-${k}`)));
    expect(chunkJobs.every((j) => j && j.parentKey?.endsWith(`:${id}`))).toBe(true);
    const split = await import('../src/split.js');
    const v = await split.verifySplit({ buildDir: splitBuild, proofs: r.chunks! });
    expect(v.ok, v.errors.join('; ')).toBe(true);
    expect(v.links).toEqual([true]);
    expect(r.outputs.map((o) => o.raw)).toEqual(firstResult.outputs.map((o) => o.raw));
    expect(v.outputValues).toEqual(firstResult.outputs.flatMap((o) => o.raw));
    expect(await redis.hget(provedKey, id)).toBe('1');
  }, 90_000);

  it.skipIf(!hasSplit)('a worker killed (SIGKILL) in the middle of a chunk job: the flow still ends with one verified, linked proof', async () => {
    writeFileSync(holdFile, 'hold');
    const id = await submit('mlp-split', inputOf(3));
    // both workers take a chunk job each and wait while the hold file exists
    const chunkHeld = async (k: number) => {
      for (;;) {
        const j = await queue.getJob(`${id}-chunk-${k}`);
        const p = j?.progress as { step?: string; pid?: number } | undefined;
        if (j && (await j.getState()) === 'active' && p?.step === 'hold') return p.pid!;
        await sleep(100);
      }
    };
    const pid0 = await chunkHeld(0);
    // the parent waits for its children: active, with the chunk count as its progress
    const parent = await waitFor(id, (p) => p.status === 'active' && p.progress?.step === 'chunks');
    expect(parent.progress).toMatchObject({ chunks: 2, chunksDone: 0 });
    const victim = workers.find((w) => w.child.pid === pid0)!;
    expect(victim).toBeDefined();
    expect(await stop(victim, 'SIGKILL')).toBe(null);
    workers.splice(workers.indexOf(victim), 1);
    rmSync(holdFile);

    const s = await completed(id);
    const r = s.result!;
    expect(r.chunks!.map((c) => c.worker)).not.toContain(`${r.worker.split(':')[0]}:${pid0}`);
    const split = await import('../src/split.js');
    const v = await split.verifySplit({ buildDir: splitBuild, proofs: r.chunks! });
    expect(v.ok, v.errors.join('; ')).toBe(true);
    expect((await queue.getJob(`${id}-chunk-0`))!.attemptsStarted).toBeGreaterThanOrEqual(2);
    expect(await redis.hget(provedKey, id)).toBe('1');
    expect(await completedEvents(id)).toBe(1);
    workers.push(await startWorker(4));
  }, 90_000);

  it('a worker or API that cannot reach Redis exits 1 at once, saying so', async () => {
    const port = await freePort(); // nothing listens there
    for (const verb of ['worker', 'serve']) {
      const r = await promisify(execFile)(process.execPath, [cli, verb, '--redis', `redis://127.0.0.1:${port}`, '--models', modelsDir], { cwd: work }).catch((e) => e);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED`));
    }
  }, 30_000);

  it('a worker shuts down gracefully on SIGTERM', async () => {
    const w = workers.pop()!;
    expect(await stop(w, 'SIGTERM')).toBe(0);
  }, 30_000);
});
