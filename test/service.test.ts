// The proving service as it runs: a real Redis (redis-server on 127.0.0.1 at a free port, in a
// temp folder), the HTTP API and two workers as separate processes of the built CLI. Shows:
// a proof through the queue verifies and equals a direct api.prove; requests that are wrong
// get a 4xx and never reach the queue; a worker killed in the middle of a job leaves exactly
// one verified proof, made by the other worker; results survive a restart of the API; a load
// of requests ends with every job completed exactly once; a split model proves through a flow
// of chunk jobs and its result equals the unsplit model's. And (issue 18) the API's guards: bearer
// API keys (each key sees its own proofs), a per-key rate limit (429 + Retry-After), results and
// every key the service writes expire, no private input stays in Redis once its job ended,
// DELETE cancels or removes a proof, out-of-range inputs are a 400, a non-loopback API without
// keys refuses to start, and while Redis is down the API answers 503 at once, logging one line.
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
import { buildModel } from '../src/onnx/write.js';
import { tinyMlp } from './helpers/tiny-mlp.js';
import { QUEUE, inputKey, provedKey, resultKey, type ProofResult } from '../src/service/common.js';
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
  // a child that never started (spawn's 'error': redis-server not installed) has exited too, or
  // afterAll would wait on it until its hook timed out
  const proc: Proc = { name, child, log: [], exited: new Promise((r) => { child.once('exit', (code) => r(code)); child.once('error', () => r(null)); }) };
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
let redisPort = 0;
let baseUrl = '';
let apiProc: Proc;
const workers: Proc[] = [];
let redis: Redis;
let queue: Queue;

/** API keys: alice and bob from a JSON file (bob with a rate of his own), carol from the environment. */
const keys = { alice: 'alice-0123456789abcdef0123', bob: 'bob-0123456789abcdef01234567', carol: 'carol-0123456789abcdef012345' };
const keysFile = join(work, 'keys.json');
const RESULT_TTL = 3600;
const startApi = async () => {
  const { proc, line } = await start('api', process.execPath, [
    cli, 'serve', '--redis', redisUrl, '--models', modelsDir, '--port', '0', '--body-limit', '65536',
    '--api-keys', keysFile, '--rate', '600/min', '--result-ttl', `${RESULT_TTL}s`,
  ], /listening on /, { ZKONNX_API_KEYS: ` ${keys.carol} ,` });
  baseUrl = line.replace(/^.*listening on /, '').trim();
  return proc;
};
const startWorker = async (n: number) => (await start(`worker${n}`, process.execPath, [
  cli, 'worker', '--redis', redisUrl, '--models', modelsDir, '--lock-ms', '5000', '--stalled-interval-ms', '1000', '--max-stalled', '2',
], /zkonnx worker .*: ready/, { ZKONNX_SERVICE_HOLD_FILE: holdFile, TMPDIR: work })).proc;

const startRedis = () => start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', join(work, 'redis'), '--save', '', '--appendonly', 'no'], /Ready to accept connections/);

/** A request with alice's key unless `key` says otherwise (null: no Authorization header). */
async function http(method: string, path: string, body?: unknown, raw?: string, key: string | null = keys.alice): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}), ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000), // a request that hangs fails the test instead of stalling it
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
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

/** Every value in Redis, as text: strings, hashes, lists, sets, sorted sets and streams. */
async function redisDump(): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of batch) {
      const type = await redis.type(k);
      const v = type === 'string' ? await redis.get(k)
        : type === 'hash' ? await redis.hgetall(k)
        : type === 'list' ? await redis.lrange(k, 0, -1)
        : type === 'set' ? await redis.smembers(k)
        : type === 'zset' ? await redis.zrange(k, '0', '-1', 'WITHSCORES')
        : type === 'stream' ? await redis.xrange(k, '-', '+')
        : type;
      out.push(`${k} ${JSON.stringify(v)}`);
    }
  } while (cursor !== '0');
  return out.join('\n');
}

/** The keys under a pattern with their TTLs in seconds (-1: none, -2: gone). */
/**
 * Each key's time to live in milliseconds (PTTL: TTL's whole seconds read a key with under half
 * a second left as 0, as alice's rate counter is after one request at 600/min, 100 ms); a key
 * that expired between the listing and the reading (−2) is left out.
 */
async function pttls(pattern: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const k of await redis.keys(pattern)) {
    const v = await redis.pttl(k);
    if (v !== -2) m.set(k, v);
  }
  return m;
}

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

const mlp = tinyMlp;
const input = { input_data: [[0.5, -0.25, 1, 0.75]] };
const calibration = [input, { input_data: [[-1, 1, -0.5, 0.25]] }, { input_data: [[1, 1, 1, -1]] }, { input_data: [[-1, -1, 0, 1]] }];
/** Inputs inside the calibrated range, different from one another. */
const inputOf = (k: number) => ({ input_data: [[((k % 5) - 2) / 2, (((k * 3) % 7) - 3) / 3, ((k % 3) - 1) / 2, (((k * 5) % 9) - 4) / 4]] });
const mlpBuild = join(modelsDir, 'mlp');
const splitBuild = join(modelsDir, 'mlp-split');
const saltedBuild = join(modelsDir, 'mlp-salted');
const saltedSplitBuild = join(modelsDir, 'mlp-split-salted');
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
  // the same model with its input hashed under a salt drawn per proof (compile --salt)
  await api.compile({ model: onnx, outDir: saltedBuild, calibration: join(work, 'calibration.json'), visibility: { input: 'hashed' }, salt: true });
  await api.setup({ buildDir: saltedBuild });
  if (hasSplit) {
    await api.compile({ model: onnx, outDir: splitBuild, calibration: join(work, 'calibration.json'), split: { chunks: 2 } } as api.CompileOptions);
    await api.setup({ buildDir: splitBuild });
    await api.compile({ model: onnx, outDir: saltedSplitBuild, calibration: join(work, 'calibration.json'), split: { chunks: 2 }, visibility: { input: 'hashed' }, salt: true } as api.CompileOptions);
    await api.setup({ buildDir: saltedSplitBuild });
  }

  writeFileSync(keysFile, JSON.stringify({ keys: [{ name: 'alice', key: keys.alice }, { name: 'bob', key: keys.bob, rate: '2/min' }] }));
  redisPort = await freePort();
  redisUrl = `redis://127.0.0.1:${redisPort}`;
  mkdirSync(join(work, 'redis'));
  await startRedis();
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {}); // the last test stops Redis
  queue = new Queue(QUEUE, { connection: { url: redisUrl } });
  queue.on('error', () => {});
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
  it('keys come from a file (lines or JSON) and ZKONNX_API_KEYS and are compared by hash; rates and TTLs parse; bad ones are refused', async () => {
    const auth = await import('../src/service/auth.js');
    const lines = auth.parseKeysFile(`# keys\n${keys.alice}\n\n  ${keys.bob}  \n`, 'keys.txt');
    expect(lines.map((k) => k.name)).toEqual([expect.stringMatching(/^key-[0-9a-f]{12}$/), expect.stringMatching(/^key-/)]);
    const json = auth.parseKeysFile(JSON.stringify([keys.alice, { key: keys.bob, name: 'bob', rate: '5/s' }]), 'keys.json');
    expect(json[1]).toMatchObject({ name: 'bob', rate: { count: 5, periodMs: 1000 } });
    const all = auth.loadApiKeys({ file: keysFile, env: ` ${keys.carol}, ${keys.alice},` }); // alice twice: once
    expect(all.map((k) => k.name)).toEqual(['alice', 'bob', expect.stringMatching(/^key-/)]);
    const a = new auth.Authenticator(all);
    expect(a.check(`Bearer ${keys.carol}`)?.owner).toBe(all[2]!.owner);
    expect(a.check(`bearer ${keys.alice}`)?.name).toBe('alice');
    for (const h of [undefined, '', keys.alice, `Bearer ${keys.alice} x`, `Token ${keys.alice}`, `Bearer ${keys.alice.toUpperCase()}`]) expect(a.check(h), h).toBeUndefined();
    expect(JSON.stringify(all)).not.toContain(keys.alice); // only hashes are kept
    expect(() => auth.parseKeysFile('short\n', 'keys.txt')).toThrow(/at least 16 characters/);
    expect(() => auth.loadApiKeys({ file: join(work, 'no-keys.txt') })).toThrow(/does not exist/);
    expect(auth.parseRate('60/min')).toMatchObject({ count: 60, periodMs: 60_000 });
    expect(auth.parseRate('off')).toBeUndefined();
    expect(() => auth.parseRate('fast')).toThrow(/not a rate/);
    expect(['24h', '90', '30m'].map((d) => auth.parseDuration(d))).toEqual([86_400, 90, 1800]);
    expect(() => auth.parseDuration('0')).toThrow(/not a duration/);
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'].every((h) => auth.isLoopback(h))).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com'].some((h) => auth.isLoopback(h))).toBe(false);
  }, 10_000);

  it('lists the registered models with their input shapes', async () => {
    const r = await http('GET', '/v1/models');
    expect(r.status).toBe(200);
    const mlpModel = r.json.models.find((m: { id: string }) => m.id === 'mlp');
    expect(mlpModel.inputs).toEqual([{ name: 'x', shape: [1, 4], range: [expect.any(Number), expect.any(Number)] }]);
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

  it('a salted model: the worker draws fresh salts and returns them, or uses the request\'s own (not echoed); bad salts are refused', async () => {
    const svk = JSON.parse(readFileSync(join(saltedBuild, 'verification_key.json'), 'utf8'));
    const drawn = (await completed(await submit('mlp-salted', input))).result!;
    expect(Object.keys(drawn.salts!)).toEqual(['in0_salt']);
    expect(await snarkjs.groth16.verify(svk, drawn.publicSignals!, drawn.proof!)).toBe(true);
    // the returned salt opens the commitment: a direct proof with it gives the same public signals
    const direct = await api.prove({ buildDir: saltedBuild, input, name: 'salted', backend: 'wasm', salts: { in0_salt: BigInt(drawn.salts!.in0_salt!) } });
    expect(drawn.publicSignals).toEqual(direct.publicSignals);
    // another proof of the same input: another salt, an unlinkable commitment
    const again = (await completed(await submit('mlp-salted', input))).result!;
    expect(again.salts!.in0_salt).not.toBe(drawn.salts!.in0_salt);
    expect(again.publicSignals).not.toEqual(drawn.publicSignals);
    // the requester's own salt: used, and not stored with the result
    const own = await http('POST', '/v1/proofs', { model: 'mlp-salted', input: { ...input, salts: { in0_salt: drawn.salts!.in0_salt } } });
    expect(own.status).toBe(202);
    const mine = (await completed(own.json.id)).result!;
    expect(mine.salts).toBeUndefined();
    expect(mine.publicSignals).toEqual(drawn.publicSignals);
    // refused at the API: salts for an unsalted model, a value outside the field, a name that is no salt
    const bad = async (model: string, salts: unknown, msg: RegExp) => {
      const r = await http('POST', '/v1/proofs', { model, input: { ...input, salts } });
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(msg);
    };
    await bad('mlp', { in0_salt: '5' }, /salts no commitment/);
    await bad('mlp-salted', { in0_salt: '21888242871839275222246405745257275088548364400416034343698204186575808495617' }, /decimal string in \[0, r\)/);
    await bad('mlp-salted', { x: '5' }, /is no salt signal/);
    // a well-formed name the circuit does not have fails the job, naming it
    const odd = await http('POST', '/v1/proofs', { model: 'mlp-salted', input: { ...input, salts: { in0_salt: '5', out3_salt: '7' } } });
    const failed = await waitFor(odd.json.id, (st) => st.status === 'failed');
    expect(failed.error).toMatch(/unknown salt\(s\) out3_salt/);
    expect((await http('DELETE', `/v1/proofs/${odd.json.id}`)).status).toBe(200); // later tests count failed jobs
  }, 90_000);

  it('API keys: 401 without a valid bearer key; a proof is visible to the key that asked for it only', async () => {
    const before = await queue.getJobCounts();
    for (const authorization of [undefined, 'Bearer not-a-key', `Basic ${keys.alice}`, `Bearer ${keys.alice}x`, `Bearer ${keys.alice.slice(0, -1)}`, 'Bearer ']) {
      const r = await fetch(`${baseUrl}/v1/proofs`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ model: 'mlp', input }),
      });
      expect(r.status, String(authorization)).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="zkonnx"/);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    expect((await http('GET', '/v1/models', undefined, undefined, null)).status).toBe(401);
    expect((await http('GET', `/v1/proofs/${firstId}`, undefined, undefined, null)).status).toBe(401);
    expect((await http('DELETE', `/v1/proofs/${firstId}`, undefined, undefined, 'wrong')).status).toBe(401);
    // carol's key comes from ZKONNX_API_KEYS; bob's and carol's keys do not see alice's proof
    expect((await http('GET', '/v1/models', undefined, undefined, keys.carol)).status).toBe(200);
    for (const other of [keys.bob, keys.carol]) {
      expect((await http('GET', `/v1/proofs/${firstId}`, undefined, undefined, other)).status).toBe(404);
      expect((await http('DELETE', `/v1/proofs/${firstId}`, undefined, undefined, other)).status).toBe(404);
    }
    expect((await http('GET', `/v1/proofs/${firstId}`)).json.status).toBe('completed');
    expect(await queue.getJobCounts()).toEqual(before);
  }, 10_000);

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

  it('an input outside the compiled input range is a 400 at the API, before it reaches the queue', async () => {
    const before = await queue.getJobCounts();
    const far = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [[0.5, 100, 1, 0.75]] } });
    expect(far.status, JSON.stringify(far.json)).toBe(400);
    // GET /v1/models gives each input's range
    const models = (await http('GET', '/v1/models')).json.models as { id: string; inputs: { name: string; range: [number, number] }[] }[];
    const [lo, hi] = models.find((m) => m.id === 'mlp')!.inputs[0]!.range;
    expect(lo).toBeLessThanOrEqual(-1);
    expect(hi).toBeGreaterThanOrEqual(1);
    for (const model of hasSplit ? ['mlp', 'mlp-split'] : ['mlp']) {
      for (const [k, v] of [[1, 100], [3, hi + 1], [0, lo - 1]] as const) {
        const x = [0.5, -0.25, 1, 0.75];
        x[k] = v;
        const r = await http('POST', '/v1/proofs', { model, input: { input_data: [x] } });
        expect(r.status, JSON.stringify(r.json)).toBe(400);
        expect(r.json.error.code).toBe('INPUT_OUT_OF_RANGE');
        expect(r.json.error.message).toMatch(/^input\.input_data\[0\]: input 'x'/);
        expect(r.json.error.message).toContain(`'x'[${k}] = ${v} lies outside the range the circuit was calibrated for, [${lo}, ${hi}]`);
      }
    }
    // the edges of the range are inside it
    const r = await http('POST', '/v1/proofs', { model: 'mlp', input: { input_data: [[lo, hi, 0, 0]] } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect((await completed(r.json.id)).result!.verified).toBe(true);
    expect((await queue.getJobCounts()).failed).toBe(before.failed);
  }, 30_000);

  it('rate limit per key: over its rate a key gets 429 with Retry-After; other keys are not slowed', async () => {
    // bob's rate is 2 requests a minute (his entry in the keys file); a refused request counts too
    expect((await http('POST', '/v1/proofs', { model: 'mlp' }, undefined, keys.bob)).status).toBe(400);
    expect((await http('POST', '/v1/proofs', { model: 'mlp' }, undefined, keys.bob)).status).toBe(400);
    const r = await http('POST', '/v1/proofs', { model: 'mlp', input }, undefined, keys.bob);
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('RATE_LIMITED');
    const retry = Number(r.headers.get('retry-after'));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${r.headers.get('retry-after')}`).toBe(true);
    // reading is not limited; alice (600/min) is not slowed by bob
    expect((await http('GET', '/v1/models', undefined, undefined, keys.bob)).status).toBe(200);
    expect((await http('POST', '/v1/proofs', { model: 'mlp' })).status).toBe(400);
    // the counters live in Redis with a TTL of at most the period: bob's about a minute (two
    // requests at 2/min), alice's as little as 100 ms (it may be gone already)
    const t = await pttls('zkonnx:rate:*');
    expect([...t.values()].some((v) => v > 30_000), JSON.stringify([...t])).toBe(true);
    for (const [k, v] of t) expect(v > 0 && v <= 60_000, `${k}: PTTL ${v} ms`).toBe(true);
  }, 10_000);

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
    expect(await redis.get(provedKey(id))).toBe('1');
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
      expect(await redis.get(provedKey(ids[k]!))).toBe('1');
      expect(await completedEvents(ids[k]!)).toBe(1);
      expect(r.artifactLoads).toBe(1); // each worker read the model's artifacts once and reused them
    }
  }, 90_000);

  it('results and every key the service writes expire: TTLs set (not -1), jobs removed by age', async () => {
    const t = await pttls('zkonnx:*');
    expect([...t.keys()]).toEqual(expect.arrayContaining([resultKey(firstId), provedKey(firstId)]));
    for (const [k, v] of t) expect(v > 0 && v <= RESULT_TTL * 1000, `${k}: PTTL ${v} ms`).toBe(true);
    const job = (await queue.getJob(firstId))!;
    expect(job.opts.removeOnComplete).toEqual({ age: RESULT_TTL });
    expect(job.opts.removeOnFail).toEqual({ age: RESULT_TTL });
    // the result lives in one key with a TTL; the job's return value and the event stream hold none of it
    expect(job.returnvalue).not.toHaveProperty('proof');
    expect(JSON.stringify(await redis.xrange(`bull:${QUEUE}:events`, '-', '+'))).not.toContain('"pi_a"');
  }, 10_000);

  it('DELETE: a waiting job is removed, an active one discarded by its worker, a finished one deleted; no input stays in Redis', async () => {
    // inputs with a mark that nothing else in Redis contains
    const marked = (k: 1 | 2 | 3) => ({ input_data: [[[0, 0.1234567891, 0.1234567892, 0.1234567893][k]!, -0.25, 0.5, 0.75]] });
    writeFileSync(holdFile, 'hold');
    try {
      const a = await submit('mlp', marked(1));
      const b = await submit('mlp', marked(2));
      // both workers take one job each and wait; the third job waits in the queue
      await Promise.all([a, b].map((id) => waitFor(id, (s) => s.status === 'active' && s.progress?.step === 'hold')));
      const c = await submit('mlp', marked(3));
      expect((await http('GET', `/v1/proofs/${c}`)).json.status).toBe('waiting');
      // while the jobs live, each input is in Redis (the mark is found), in a key of its own with a TTL, not in the job's hash
      expect(await redisDump()).toContain('0.1234567893');
      for (const id of [a, b, c]) {
        expect(JSON.stringify(await redis.hgetall(`bull:${QUEUE}:${id}`))).not.toContain('0.123456789');
        const ttl = await redis.ttl(inputKey(id));
        expect(ttl > 0 && ttl <= RESULT_TTL, `TTL ${ttl}`).toBe(true);
      }

      let r = await http('DELETE', `/v1/proofs/${c}`);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ id: c, status: 'cancelled' });
      expect((await http('GET', `/v1/proofs/${c}`)).status).toBe(404);
      expect(await queue.getJob(c)).toBeUndefined();

      r = await http('DELETE', `/v1/proofs/${a}`);
      expect(r.status).toBe(202);
      expect(r.json).toEqual({ id: a, status: 'cancelling' });
      const sa = await waitFor(a, (s) => s.status === 'cancelled');
      expect(sa.result).toBeUndefined();
      rmSync(holdFile, { force: true });
      const sb = await completed(b);
      expect(await verifies(sb.result!)).toBe(true);
      expect(await redis.get(resultKey(a))).toBeNull();
      expect(await redis.get(provedKey(a))).toBeNull();

      // all three jobs ended: none of their inputs is anywhere in Redis
      expect(await redisDump()).not.toContain('0.123456789');

      r = await http('DELETE', `/v1/proofs/${b}`);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ id: b, status: 'deleted' });
      expect((await http('GET', `/v1/proofs/${b}`)).status).toBe(404);
      expect(await redis.get(resultKey(b))).toBeNull();
      expect((await http('DELETE', `/v1/proofs/${b}`)).status).toBe(404);
      expect((await http('DELETE', '/v1/proofs/no-such-proof')).status).toBe(404);
      expect((await http('DELETE', '/v1/proofs/bad:id')).status).toBe(400);
    } finally {
      rmSync(holdFile, { force: true });
    }
  }, 30_000);

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
    expect(await redis.get(provedKey(id))).toBe('1');
    // the chunk jobs' inputs (the model input and the activations between chunks) are gone too
    for (const k of [id, `${id}-chunk-0`, `${id}-chunk-1`]) expect(await redis.exists(inputKey(k)), k).toBe(0);
    for (const j of chunkJobs) expect((await queue.getJob(j!.id!))!.data).not.toHaveProperty('input');
  }, 90_000);

  it.skipIf(!hasSplit)('a salted split model: the flow returns the drawn model salts; the links are salted too', async () => {
    const r = (await completed(await submit('mlp-split-salted', input))).result!;
    expect(Object.keys(r.salts!)).toEqual(['in0_salt']);
    const split = await import('../src/split.js');
    const v = await split.verifySplit({ buildDir: saltedSplitBuild, proofs: r.chunks! });
    expect([v.ok, v.links]).toEqual([true, [true]]);
    // the returned salt opens the input commitment: a local proof set with it carries the same one, but other link commitments
    const local = await split.proveSplit(saltedSplitBuild, input, { name: 'local', salts: { in0_salt: BigInt(r.salts!.in0_salt!) } });
    expect(local.verification.inputs).toEqual(v.inputs);
    expect(local.chunks[0]!.publicSignals).not.toEqual(r.chunks![0]!.publicSignals);
    expect(r.outputs.map((o) => o.raw)).toEqual(firstResult.outputs.map((o) => o.raw));
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
    expect(await redis.get(provedKey(id))).toBe('1');
    expect(await completedEvents(id)).toBe(1);
    workers.push(await startWorker(4));
  }, 90_000);

  it('a worker or API that cannot reach Redis exits 1 at once, saying so; an API on a non-loopback address without keys refuses to start', async () => {
    const port = await freePort(); // nothing listens there
    const run = (args: string[], env: Record<string, string> = {}) => promisify(execFile)(process.execPath, [cli, ...args], { cwd: work, timeout: 15_000, env: { ...process.env, ...env } }).catch((e) => e);
    const [worker, serve, open] = await Promise.all([
      ...['worker', 'serve'].map((verb) => run([verb, '--redis', `redis://127.0.0.1:${port}`, '--models', modelsDir])),
      run(['serve', '--redis', redisUrl, '--models', modelsDir, '--host', '0.0.0.0', '--port', '0'], { ZKONNX_API_KEYS: '' }),
    ]);
    for (const r of [worker, serve]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED`));
    }
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
  }, 30_000);

  it('a worker shuts down gracefully on SIGTERM', async () => {
    const w = workers.pop()!;
    expect(await stop(w, 'SIGTERM')).toBe(0);
  }, 30_000);

  it('while Redis is down the API answers 503 at once and logs one line; it serves again once Redis is back', async () => {
    const mark = apiProc.log.length;
    const redisProc = [...procs].find((p) => p.name === 'redis')!;
    expect(await stop(redisProc, 'SIGKILL')).toBe(null);
    for (const [method, path, body] of [['POST', '/v1/proofs', { model: 'mlp', input }], ['GET', `/v1/proofs/${firstId}`], ['DELETE', `/v1/proofs/${firstId}`]] as const) {
      const t0 = Date.now();
      const r = await http(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(503);
      expect(r.json.error.code).toBe('REDIS_UNAVAILABLE');
      expect(Date.now() - t0).toBeLessThan(2000);
    }
    expect((await http('GET', '/v1/models')).status).toBe(200); // needs no Redis
    const lines = () => apiProc.log.slice(mark);
    await expect.poll(() => lines().some((l) => /Redis .* unreachable/.test(l))).toBe(true);
    await sleep(500); // ioredis retries meanwhile (every 0.1 s, 0.2 s, ...): still one line
    expect(lines().filter((l) => /redis/i.test(l)), lines().join('\n')).toHaveLength(1);
    expect(lines().join('\n')).not.toMatch(/^\s+at |ioredis|Unhandled/m);
    // Redis back on the same port (empty: it kept nothing): the API answers again, and says so once
    await startRedis();
    await expect.poll(async () => (await http('GET', `/v1/proofs/${firstId}`)).status, { timeout: 10_000, interval: 200 }).toBe(404);
    expect((await http('POST', '/v1/proofs', { model: 'mlp', input })).status).toBe(202);
    expect(lines().filter((l) => /redis/i.test(l)).map((l) => l.replace(/^.*Redis at \S+ /, ''))).toEqual([
      expect.stringMatching(/^is unreachable .*answering 503/), expect.stringMatching(/^is back/),
    ]);
  }, 30_000);
});
