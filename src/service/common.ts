// What the proving service's API and workers share: the queue's name, how to reach Redis, the
// shapes of jobs and results, and the knobs of BullMQ's stalled-job detection.
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Groth16Proof } from 'snarkjs';
import type { OutputTensor } from '../settings.js';
import { ZkonnxError } from '../errors.js';

/** One queue holds every job: whole proofs (name 'proof') and chunk proofs of split models (name 'chunk'). */
export const QUEUE = 'zkonnx-proofs';
/** Redis key prefix of everything the service writes besides BullMQ's own keys. */
export const KEY_PREFIX = 'zkonnx';

/** `redis://host:port[/db]` → BullMQ connection options (ioredis; retries forever, as BullMQ wants). */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ZkonnxError('BAD_ARGUMENT', `--redis '${url}' is not a URL`, { hint: 'pass --redis redis://127.0.0.1:6379' });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ZkonnxError('BAD_ARGUMENT', `--redis '${url}' is not a redis:// URL`, { hint: 'pass --redis redis://127.0.0.1:6379' });
  }
  return { url, maxRetriesPerRequest: null };
}

/** Fails at start-up, with a clear message, when Redis cannot be reached (instead of retrying forever). */
export async function checkRedis(url: string): Promise<void> {
  redisConnection(url);
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  r.on('error', (e: Error) => { cause ??= e; });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new ZkonnxError('BAD_ARGUMENT', `cannot reach Redis at ${url}: ${(cause ?? (e as Error)).message}`, { hint: 'start redis-server, or pass the right --redis URL' });
  } finally {
    r.disconnect();
  }
}

/** The data of a proof job: the model id and the input, exactly as the API accepted them. */
export interface ProofJobData {
  model: string;
  input: { input_data: number[][] };
  submittedAt: number;
}

/** The data of a chunk job of a split model: the chunk's own circuit input. */
export interface ChunkJobData {
  model: string;
  parent: string;
  index: number;
  input: Record<string, string[]>;
}

export interface ChunkResult {
  index: number;
  proof: Groth16Proof;
  publicSignals: string[];
  worker: string;
  /** When the worker started on the chunk (ms since the epoch). */
  startedAt: number;
  seconds: { witness: number; prove: number };
}

/** What a completed proof job returns (BullMQ keeps it in Redis as the job's return value). */
export interface ProofResult {
  id: string;
  model: string;
  /** Unsplit models: the Groth16 proof and its public signals (snarkjs formats). */
  proof?: Groth16Proof;
  publicSignals?: string[];
  /** Split models: one proof per chunk, in chunk order, whose links verifySplit checked. */
  chunks?: { index: number; proof: Groth16Proof; publicSignals: string[]; worker: string }[];
  outputs: OutputTensor[];
  /** Checked by the worker with the model's verification key before it stored the result. */
  verified: true;
  /** The worker that made the proof (host:pid). */
  worker: string;
  /** How many times that worker had read the model's artifacts from disk: 1 when it reuses them. */
  artifactLoads: number;
  seconds: { queued: number; witness: number; prove: number; total: number };
  finishedAt: number;
}

/** Progress as the API reports it: the step the job is in, and chunk counts for split models. */
export interface JobProgress {
  step: 'load' | 'witness' | 'prove' | 'verify' | 'hold' | 'fan-out' | 'chunks' | 'join' | 'done';
  worker?: string;
  pid?: number;
  chunksDone?: number;
  chunks?: number;
}

/** Stalled-job detection: a job whose worker stops renewing its lock goes back to the queue. */
export interface LockOptions {
  /** How long a worker's lock on a job lasts without renewal (BullMQ renews it at half this). */
  lockMs: number;
  /** How often each worker looks for stalled jobs. */
  stalledIntervalMs: number;
  /** How many times a job may stall before it is failed for good. */
  maxStalled: number;
}

export const DEFAULT_LOCK: LockOptions = { lockMs: 30_000, stalledIntervalMs: 15_000, maxStalled: 2 };

/** Where a worker keeps the result of a proof id: set once (SET NX), never overwritten. */
export const resultKey = (id: string) => `${KEY_PREFIX}:result:${id}`;
/** How many times a worker finished proving a proof id (the tests read it: exactly once). */
export const provedKey = `${KEY_PREFIX}:proved`;

/** Proof ids are BullMQ job ids: letters, digits, '-' and '_' (no ':', which BullMQ reserves). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
