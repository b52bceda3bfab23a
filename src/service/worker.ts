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
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ZkonnxError } from '../errors.js';
import { releaseCurves } from '../snark.js';
import {
  DEFAULT_LOCK, QUEUE, checkRedis, provedKey, redisConnection, resultKey,
  type ChunkJobData, type ChunkResult, type JobProgress, type LockOptions, type ProofJobData, type ProofResult,
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
  const flow = new FlowProducer({ connection });
  const lock = { ...DEFAULT_LOCK, ...opts.lock };
  const name = `${hostname()}:${process.pid}`;
  const log = opts.log ?? (() => {});
  // chunk proofs go through files (src/split.ts): a scratch folder, made on the first chunk
  let scratch: string | undefined;

  const modelOf = (id: string): ModelInfo => {
    const m = registry.get(id);
    if (!m) throw new UnrecoverableError(`model '${id}' does not exist in ${registry.dir} on worker ${name}`);
    return m;
  };

  async function hold(job: Job): Promise<void> {
    while (HOLD_FILE && existsSync(HOLD_FILE)) {
      await job.updateProgress({ step: 'hold', worker: name, pid: process.pid } satisfies JobProgress);
      await sleep(100);
    }
  }

  /** The first stored result of a proof id wins; later ones get it back. */
  async function store(result: ProofResult): Promise<ProofResult> {
    const ok = await redis.set(resultKey(result.id), JSON.stringify(result), 'NX');
    if (ok === 'OK') return result;
    return JSON.parse((await redis.get(resultKey(result.id)))!) as ProofResult;
  }

  async function proveWhole(job: Job<ProofJobData, ProofResult>, model: ModelInfo): Promise<ProofResult> {
    const id = job.id!;
    const started = Date.now();
    const progress = (step: JobProgress['step']) => job.updateProgress({ step, worker: name, pid: process.pid } satisfies JobProgress);
    await progress('load');
    await hold(job);
    const r = await cache.prove(model, job.data.input, (step) => progress(step));
    await redis.hincrby(provedKey, id, 1);
    await progress('done');
    const now = Date.now();
    return store({
      id, model: model.id, proof: r.proof, publicSignals: r.publicSignals, outputs: r.outputs, verified: true, worker: name, artifactLoads: cache.loadsOf(model.id),
      seconds: { queued: (started - job.data.submittedAt) / 1000, witness: r.seconds.witness, prove: r.seconds.prove, total: (now - job.data.submittedAt) / 1000 },
      finishedAt: now,
    });
  }

  async function proveSplit(job: Job<ProofJobData, ProofResult>, model: ModelInfo, token: string): Promise<ProofResult> {
    const id = job.id!;
    const split = await loadSplit();
    const n = model.chunks!;
    const values = await job.getChildrenValues<ChunkResult>();
    const done = Object.values(values);
    if (done.length < n) {
      // fan out: child ids derive from the proof id, so a retried parent adds no duplicates
      await job.updateProgress({ step: 'fan-out', worker: name, pid: process.pid, chunks: n, chunksDone: done.length } satisfies JobProgress);
      const chunks = await split.chunkInputs(model.buildDir, job.data.input);
      await flow.addBulk(chunks.map((c) => ({
        name: 'chunk', queueName: QUEUE,
        data: { model: model.id, parent: id, index: c.index, input: c.input } satisfies ChunkJobData,
        opts: {
          jobId: `${id}-chunk-${c.index}`, parent: { id, queue: job.queueQualifiedName },
          attempts: 3, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true, removeOnComplete: false, removeOnFail: false,
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
    await redis.hincrby(provedKey, id, 1);
    const now = Date.now();
    return store({
      id, model: model.id, chunks: all.map((c) => ({ index: c.index, proof: c.proof, publicSignals: c.publicSignals, worker: c.worker })),
      outputs: await splitOutputs(model, job.data.input), verified: true, worker: name, artifactLoads: 0,
      seconds: {
        queued: (Math.min(...all.map((c) => c.startedAt)) - job.data.submittedAt) / 1000, // until a first chunk started
        witness: all.reduce((s, c) => s + c.seconds.witness, 0), prove: all.reduce((s, c) => s + c.seconds.prove, 0), // summed over the chunks
        total: (now - job.data.submittedAt) / 1000,
      },
      finishedAt: now,
    });
  }

  async function proveChunkJob(job: Job<ChunkJobData, ChunkResult>): Promise<ChunkResult> {
    const split = await loadSplit();
    const model = modelOf(job.data.model);
    scratch ??= mkdtempSync(join(tmpdir(), 'zkonnx-worker-'));
    const outDir = join(scratch, job.id!);
    await hold(job);
    const startedAt = Date.now();
    try {
      const r = await split.proveChunk({ buildDir: model.buildDir, index: job.data.index, input: job.data.input, outDir });
      return { index: job.data.index, proof: r.proof, publicSignals: r.publicSignals, worker: name, startedAt, seconds: r.seconds };
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }

  const worker = new Worker(QUEUE, async (job: Job, token?: string) => {
    try {
      if (job.name === 'chunk') return await proveChunkJob(job as Job<ChunkJobData, ChunkResult>);
      const pj = job as Job<ProofJobData, ProofResult>;
      const stored = await redis.get(resultKey(pj.id!));
      if (stored) return JSON.parse(stored) as ProofResult; // proved before this worker took it: keep that result
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
  worker.on('completed', (job) => log(`completed ${job.name} ${job.id}`));
  worker.on('failed', (job, err) => log(`failed ${job?.name} ${job?.id}: ${err.message}`));
  worker.on('stalled', (id) => log(`stalled job ${id} moved back to the queue`));
  worker.on('error', (err) => log(`error: ${err.message}`));
  void worker.run();
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    name, worker, cache,
    close() {
      closing ??= (async () => {
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
