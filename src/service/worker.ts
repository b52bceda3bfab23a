// A proving worker: takes jobs off the BullMQ queue, proves them with artifacts it loaded once
// per model, and stores each result under its proof id. Any number of workers, on any machines
// that share the Redis, may run at once.
//
// Robustness comes from BullMQ: a worker holds a lock on its job and renews it while it works;
// when a worker dies its lock lapses, another worker's stalled-job check moves the job back to
// the queue, and the job is proved again. Results are idempotent: the job id is the proof id,
// the first result stored under it (SET NX) is the result, and a retried job that finds one
// returns it instead of proving again. A worker that lost its lock cannot complete the job
// (BullMQ refuses its token), so no result is ever written twice.
//
// Split models (settings.json `split.chunks`): the parent job fans out one child job per chunk
// through a FlowProducer, waits for its children (waiting-children), then joins their values,
// checks the links with verifySplit and stores the set of chunk proofs as the result.
//
// Privacy and expiry: a job's input is not in its data but under inputKey(job id), with a TTL; the
// worker deletes it when the job ends (completed, failed for good, cancelled). The result and the
// proved count expire after the job's ttl (the API's --result-ttl). A proof whose client sent
// DELETE while it was active (cancelKey) is discarded at the worker's next step, and fails as
// CANCELLED.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ZkonnxError } from '../errors.js';
import { releaseCurves } from '../snark.js';
import {
  CANCELLED, DEFAULT_LOCK, DEFAULT_RESULT_TTL_S, QUEUE, cancelKey, checkRedis, givenSalts, inputKey, isRedisUnavailable, provedKey, redisConnection, resultKey,
  type ChunkJobData, type ChunkResult, type JobProgress, type LockOptions, type ProofInput, type ProofJobData, type ProofJobReturn, type ProofResult,
} from './common.js';
import { ModelRegistry, type ModelInfo } from './models.js';
import { ArtifactCache } from './prover.js';
import { loadSplit, splitOutputs } from './split.js';

export interface WorkerOptions {
  redis: string;
  models: string;
  concurrency?: number;
  lock?: Partial<LockOptions>;
  /** Called with one line per job event (the CLI prints them). */
  log?: (line: string) => void;
}

export interface ProvingWorker {
  name: string;
  worker: Worker;
  cache: ArtifactCache;
  close(): Promise<void>;
}

/**
 * A test hook, off unless the environment names a file: while that file exists, a worker that
 * took a proof job waits (its lock still renewed) before proving, so a test can kill it in the
 * middle of a job without racing the proof.
 */
const HOLD_FILE = process.env.ZKONNX_SERVICE_HOLD_FILE;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startWorker(opts: WorkerOptions): Promise<ProvingWorker> {
  const registry = new ModelRegistry(opts.models);
  await checkRedis(opts.redis);
  const cache = new ArtifactCache();
  const connection = redisConnection(opts.redis);
  const redis = new Redis(opts.redis, { maxRetriesPerRequest: null });
  const log = opts.log ?? (() => {});
  // while Redis is down: one line when it goes, one when it is back (ioredis retries meanwhile)
  let redisDown = false;
  let stopping = false;
  const redisLost = (why: string) => {
    if (redisDown || stopping) return;
    redisDown = true;
    log(`Redis at ${opts.redis} is unreachable (${why}): waiting for it`);
  };
  redis.on('error', (e: Error) => redisLost(e.message));
  redis.on('close', () => redisLost('connection closed'));
  redis.on('ready', () => {
    if (redisDown) log(`Redis at ${opts.redis} is back`);
    redisDown = false;
  });
  const flow = new FlowProducer({ connection });
  flow.on('error', () => {}); // connection errors: reported once above
  const lock = { ...DEFAULT_LOCK, ...opts.lock };
  const name = `${hostname()}:${process.pid}`;
  // chunk proofs go through files (src/split.ts): a scratch folder, made on the first chunk
  let scratch: string | undefined;

  const ttlOf = (job: Job<{ ttl?: number }>) => (Number.isInteger(job.data.ttl) && job.data.ttl! > 0 ? job.data.ttl! : DEFAULT_RESULT_TTL_S);

  const modelOf = (id: string): ModelInfo => {
    const m = registry.get(id);
    if (!m) throw new UnrecoverableError(`model '${id}' does not exist in ${registry.dir} on worker ${name}`);
    return m;
  };

  /** Throws when the client cancelled the proof (DELETE while it was active): the job fails as CANCELLED. */
  async function checkCancelled(proofId: string): Promise<void> {
    if (await redis.exists(cancelKey(proofId))) throw new UnrecoverableError(`${CANCELLED}: proof ${proofId} was cancelled by its client`);
  }

  async function hold(job: Job, proofId: string): Promise<void> {
    while (HOLD_FILE && existsSync(HOLD_FILE)) {
      await checkCancelled(proofId);
      await job.updateProgress({ step: 'hold', worker: name, pid: process.pid } satisfies JobProgress);
      await sleep(100);
    }
  }

  /** A job's private input; gone means cancelled (DELETE) or expired (waited longer than its ttl). */
  async function readInput<T>(jobId: string, proofId: string): Promise<T> {
    const raw = await redis.get(inputKey(jobId));
    if (raw === null) {
      await checkCancelled(proofId);
      throw new UnrecoverableError(`INPUT_GONE: the input of ${jobId} is no longer in Redis (it expired before a worker took the job)`);
    }
    return JSON.parse(raw) as T;
  }

  /** The first stored result of a proof id wins; later ones get it back. It expires after the job's ttl. */
  async function store(result: ProofResult, ttl: number): Promise<ProofJobReturn> {
    await checkCancelled(result.id); // a cancelled proof is discarded, not stored
    await redis.set(resultKey(result.id), JSON.stringify(result), 'EX', ttl, 'NX');
    await redis.multi().incr(provedKey(result.id)).expire(provedKey(result.id), ttl).exec();
    await redis.del(inputKey(result.id));
    return { id: result.id, stored: true };
  }

  async function proveWhole(job: Job<ProofJobData, ProofJobReturn>, model: ModelInfo): Promise<ProofJobReturn> {
    const id = job.id!;
    const started = Date.now();
    const progress = (step: JobProgress['step']) => job.updateProgress({ step, worker: name, pid: process.pid } satisfies JobProgress);
    await progress('load');
    await hold(job, id);
    const input = await readInput<ProofInput>(id, id);
    const r = await cache.prove(model, input, async (step) => {
      await checkCancelled(id);
      await progress(step);
    });
    await progress('done');
    const now = Date.now();
    return store({
      id, model: model.id, proof: r.proof, publicSignals: r.publicSignals, outputs: r.outputs, ...(r.salts ? { salts: r.salts } : {}), verified: true, worker: name, artifactLoads: cache.loadsOf(model.id),
      seconds: { queued: (started - job.data.submittedAt) / 1000, witness: r.seconds.witness, prove: r.seconds.prove, total: (now - job.data.submittedAt) / 1000 },
      finishedAt: now,
    }, ttlOf(job));
  }

  async function proveSplit(job: Job<ProofJobData, ProofJobReturn>, model: ModelInfo, token: string): Promise<ProofJobReturn> {
    const id = job.id!;
    const split = await loadSplit();
    const n = model.chunks!;
    const ttl = ttlOf(job);
    const chunkId = (k: number) => `${id}-chunk-${k}`;
    await checkCancelled(id);
    const values = await job.getChildrenValues<ChunkResult>();
    const done = Object.values(values);
    if (done.length < n) {
      // fan out: child ids derive from the proof id, so a retried parent adds no duplicates
      await job.updateProgress({ step: 'fan-out', worker: name, pid: process.pid, chunks: n, chunksDone: done.length } satisfies JobProgress);
      const input = await readInput<ProofInput>(id, id);
      // a salted build: the request's model salts, or fresh ones drawn here (the links' always are)
      const chunks = await split.chunkInputs(model.buildDir, input, undefined, givenSalts(input));
      // each chunk's input (the model input, or the values crossing a cut) in a key of its own, with the proof's ttl
      const m = redis.multi();
      for (const c of chunks) m.set(inputKey(chunkId(c.index)), JSON.stringify(c.input), 'EX', ttl);
      await m.exec();
      await flow.addBulk(chunks.map((c) => ({
        name: 'chunk', queueName: QUEUE,
        data: { model: model.id, parent: id, index: c.index, ttl } satisfies ChunkJobData,
        opts: {
          jobId: chunkId(c.index), parent: { id, queue: job.queueQualifiedName },
          attempts: 3, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true, removeOnComplete: { age: ttl }, removeOnFail: { age: ttl },
        },
      })));
      await job.updateProgress({ step: 'chunks', worker: name, pid: process.pid, chunks: n, chunksDone: done.length } satisfies JobProgress);
      if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
    }
    // join: every child proved its chunk; the links between them must hold
    await job.updateProgress({ step: 'join', worker: name, pid: process.pid, chunks: n, chunksDone: n } satisfies JobProgress);
    const all = Object.values(await job.getChildrenValues<ChunkResult>()).sort((a, b) => a.index - b.index);
    if (all.length !== n) throw new Error(`split proof ${id}: ${all.length} chunk results for ${n} chunks`);
    const proofs = all.map((c) => ({ index: c.index, proof: c.proof, publicSignals: c.publicSignals }));
    const v = await split.verifySplit({ buildDir: model.buildDir, proofs });
    if (!v.ok) throw new UnrecoverableError(`split proof ${id}: the chunk proofs do not verify as a set: ${v.errors.join('; ')}`);
    const input = await readInput<ProofInput>(id, id);
    const outputs = await splitOutputs(model, input);
    // drawn model salts go back with the result (the first chunk had the inputs', the last the outputs')
    const drawn = Object.assign({}, ...all.map((c) => c.salts ?? {})) as Record<string, string>;
    const salts = input.salts || !Object.keys(drawn).length ? undefined : drawn;
    await redis.del(Array.from({ length: n }, (_, k) => inputKey(chunkId(k))));
    const now = Date.now();
    return store({
      id, model: model.id, chunks: all.map((c) => ({ index: c.index, proof: c.proof, publicSignals: c.publicSignals, worker: c.worker })),
      outputs, ...(salts ? { salts } : {}), verified: true, worker: name, artifactLoads: 0,
      seconds: {
        queued: (Math.min(...all.map((c) => c.startedAt)) - job.data.submittedAt) / 1000, // until a first chunk started
        witness: all.reduce((s, c) => s + c.seconds.witness, 0), prove: all.reduce((s, c) => s + c.seconds.prove, 0), // summed over the chunks
        total: (now - job.data.submittedAt) / 1000,
      },
      finishedAt: now,
    }, ttl);
  }

  async function proveChunkJob(job: Job<ChunkJobData, ChunkResult>): Promise<ChunkResult> {
    const split = await loadSplit();
    const model = modelOf(job.data.model);
    scratch ??= mkdtempSync(join(tmpdir(), 'zkonnx-worker-'));
    const outDir = join(scratch, job.id!);
    await checkCancelled(job.data.parent);
    await hold(job, job.data.parent);
    const input = await readInput<Record<string, string[]>>(job.id!, job.data.parent);
    const startedAt = Date.now();
    try {
      const r = await split.proveChunk({ buildDir: model.buildDir, index: job.data.index, input, outDir });
      await checkCancelled(job.data.parent);
      const salts = split.modelSaltsOf([{ input }]);
      return { index: job.data.index, proof: r.proof, publicSignals: r.publicSignals, worker: name, startedAt, seconds: r.seconds, ...(salts ? { salts } : {}) };
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }

  const worker = new Worker(QUEUE, async (job: Job, token?: string) => {
    try {
      if (job.name === 'chunk') return await proveChunkJob(job as Job<ChunkJobData, ChunkResult>);
      const pj = job as Job<ProofJobData, ProofJobReturn>;
      // proved before this worker took it (a retry after a stall): keep that result
      if (await redis.exists(resultKey(pj.id!))) {
        await redis.del(inputKey(pj.id!));
        return { id: pj.id!, stored: true } satisfies ProofJobReturn;
      }
      const model = modelOf(pj.data.model);
      return model.chunks !== undefined ? await proveSplit(pj, model, token!) : await proveWhole(pj, model);
    } catch (e) {
      // a bad input or a broken build fails the same way on every try: do not retry it
      if (e instanceof ZkonnxError) throw new UnrecoverableError(`${e.code}: ${e.message}`);
      throw e;
    }
  }, {
    connection, name, concurrency: opts.concurrency ?? 1, autorun: false,
    lockDuration: lock.lockMs, stalledInterval: lock.stalledIntervalMs, maxStalledCount: lock.maxStalled,
  });
  /** A job that ended holds no input any more: its own, and for a split proof that failed, its chunks' too. */
  const forget = async (job: Job, failed: boolean) => {
    const keys = [inputKey(job.id!)];
    if (job.name === 'chunk') {
      const { parent, model } = job.data as ChunkJobData;
      // a chunk failed for good fails its parent (failParentOnFailure): the whole proof's inputs go
      const n = failed ? registry.get(model)?.chunks ?? 0 : 0;
      if (n) keys.push(inputKey(parent), ...Array.from({ length: n }, (_, k) => inputKey(`${parent}-chunk-${k}`)));
    }
    await redis.del(keys).catch(() => {}); // still expires with its TTL if Redis is away now
  };
  worker.on('completed', (job) => {
    log(`completed ${job.name} ${job.id}`);
    void forget(job, false);
  });
  worker.on('failed', (job, err) => {
    log(`failed ${job?.name} ${job?.id}: ${err.message}`);
    // finishedOn is set once a job failed for good (no retry left, or unrecoverable)
    if (job?.finishedOn) void forget(job, true);
  });
  worker.on('stalled', (id) => log(`stalled job ${id} moved back to the queue`));
  worker.on('error', (err) => (isRedisUnavailable(err) ? redisLost(err.message) : log(`error: ${err.message}`)));
  void worker.run();
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    name, worker, cache,
    close() {
      closing ??= (async () => {
        stopping = true;
        await worker.close(); // lets the jobs in hand finish
        await flow.close();
        await redis.quit();
        await releaseCurves();
        if (scratch) rmSync(scratch, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
