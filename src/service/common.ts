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

/**
 * The API's connections: commands fail at once while Redis is down (no offline queue, no retry of
 * a command in flight), so that a request is answered 503 instead of hanging until Redis is back;
 * reconnection is tried every 0.1 s to 1 s, so that service resumes soon after Redis does.
 */
export const failFastOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 5000,
  retryStrategy: (times: number) => Math.min(100 * times, 1000),
} as const;

/** Whether an error means Redis cannot be reached now (ioredis's words for it), not a bad command. */
export function isRedisUnavailable(e: unknown): boolean {
  const err = e as { name?: string; message?: string; code?: string } | undefined;
  if (!err) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ConnectionClosedError') return true;
  if (err.code && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(err.code)) return true;
  return /Stream isn't writeable|Connection is closed|enableOfflineQueue|max retries per request|connect ETIMEDOUT|ECONNREFUSED/i.test(err.message ?? '');
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

/**
 * The data of a proof job. The input is not in it: it lives under inputKey(id), with a TTL, and is
 * deleted when the job ends (completed, failed, cancelled), so a job kept for its result holds no
 * private input. `ttl`: seconds the result is kept (the API's --result-ttl).
 */
export interface ProofJobData {
  model: string;
  submittedAt: number;
  ttl: number;
  /** Who asked: the id of the API key (not the key), or undefined when the API runs without keys. */
  owner?: string;
}

/**
 * A proof's input as the API accepted it, stored under inputKey(id): one list per model input,
 * numbers, or strings for a categorical input (settings.json inputs[].categories); for a salted
 * model (compile --salt) the salts the requester chose, decimal, by signal name (in0_salt, …).
 */
export type ProofInput = { input_data: (number | string)[][]; salts?: Record<string, string> };

/** The request's own salts as field elements (the API checked them), or undefined. */
export const givenSalts = (input: ProofInput): Record<string, bigint> | undefined =>
  input.salts ? Object.fromEntries(Object.entries(input.salts).map(([k, v]) => [k, BigInt(v)])) : undefined;

/** The data of a chunk job of a split model; the chunk's own circuit input is under inputKey(job id). */
export interface ChunkJobData {
  model: string;
  parent: string;
  index: number;
  ttl: number;
}

export interface ChunkResult {
  index: number;
  proof: Groth16Proof;
  publicSignals: string[];
  worker: string;
  /** When the worker started on the chunk (ms since the epoch). */
  startedAt: number;
  seconds: { witness: number; prove: number };
  /** A salted model's salts this chunk's input held (the first chunk's inputs', the last's outputs'), for the result. */
  salts?: Record<string, string>;
}

/** What a completed proof job returns (BullMQ keeps it in Redis as the job's return value). */
/** What a proof job returns to BullMQ: a pointer, not the result (which is under resultKey(id), with a TTL). */
export interface ProofJobReturn {
  id: string;
  stored: true;
}

export interface ProofResult {
  id: string;
  model: string;
  /** Unsplit models: the Groth16 proof and its public signals (snarkjs formats). */
  proof?: Groth16Proof;
  publicSignals?: string[];
  /** Split models: one proof per chunk, in chunk order, whose links verifySplit checked. */
  chunks?: { index: number; proof: Groth16Proof; publicSignals: string[]; worker: string }[];
  outputs: OutputTensor[];
  /**
   * A salted model's salts (decimal, by signal name) when the worker drew them: they open the
   * commitments, so they are as private as the input. Absent when the request gave its own.
   */
  salts?: Record<string, string>;
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

/** Where a worker keeps the result of a proof id: set once (SET NX), never overwritten; expires after the job's ttl. */
export const resultKey = (id: string) => `${KEY_PREFIX}:result:${id}`;
/** How many times a worker finished proving a proof id (the tests read it: exactly once); expires with the result. */
export const provedKey = (id: string) => `${KEY_PREFIX}:proved:${id}`;
/** The private input of a proof job or chunk job: written by the API (or the parent job), deleted when the job ends. */
export const inputKey = (jobId: string) => `${KEY_PREFIX}:input:${jobId}`;
/** Set by DELETE on an active proof: its worker discards the job at its next step. */
export const cancelKey = (id: string) => `${KEY_PREFIX}:cancel:${id}`;
/** A key's rate-limit state (see auth.ts). */
export const rateKey = (who: string) => `${KEY_PREFIX}:rate:${who}`;

/** How long results are kept unless --result-ttl says otherwise: 24 h. */
export const DEFAULT_RESULT_TTL_S = 24 * 3600;

/** The failedReason prefix of a proof cancelled by its client (GET shows such a job as 'cancelled'). */
export const CANCELLED = 'CANCELLED';

/** Proof ids are BullMQ job ids: letters, digits, '-' and '_' (no ':', which BullMQ reserves). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
