// The HTTP API of the proving service (Fastify). It validates a request against the model's
// settings.json, puts a job on the BullMQ queue (job id = proof id) and reads jobs back; it
// holds no state of its own, so results survive its restart (they live in Redis).
//
// Guards (issue 18): bearer API keys (auth.ts; each key sees its own proofs only), a per-key rate
// limit on submissions (429 + Retry-After), results and inputs that expire (--result-ttl), inputs
// deleted once their job ends, DELETE to cancel or remove a proof, and 503 at once while Redis is
// unreachable (commands fail fast instead of waiting for a reconnection).
import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { Authenticator, RateLimiter, checkExposure, parseRate, type ApiKey, type Rate } from './auth.js';
import {
  CANCELLED, DEFAULT_RESULT_TTL_S, QUEUE, cancelKey, checkRedis, failFastOptions, inputKey, isRedisUnavailable, provedKey, redisConnection, resultKey, ID_PATTERN,
  type JobProgress, type ProofJobData, type ProofJobReturn, type ProofResult,
} from './common.js';
import { ModelRegistry, RequestError, validateRequest } from './models.js';
import { DEFAULT_RATE } from './defaults.js';

export interface ServerOptions {
  redis: string;
  models: string;
  host?: string;
  port?: number;
  /** Largest request body in bytes (413 above it); default 1 MiB. */
  bodyLimit?: number;
  /** API keys (auth.ts loadApiKeys). None: no authentication, and the API listens on loopback addresses only. */
  keys?: ApiKey[];
  /** Proof submissions per key (per client address without keys); default 60/min; null: no limit. */
  rate?: Rate | null;
  /** Seconds results (and inputs still waiting) are kept; default 24 h. */
  resultTtl?: number;
  /** One line per event worth a line (Redis lost and back). */
  log?: (line: string) => void;
}

export interface ProofStatus {
  id: string;
  model: string;
  status: 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled';
  progress: JobProgress | null;
  attempts: number;
  submittedAt: number;
  finishedAt?: number;
  /** When the result (or the record of a failure) is deleted. */
  expiresAt?: number;
  error?: string;
  result?: ProofResult;
}

const STATES: Record<string, ProofStatus['status']> = {
  waiting: 'waiting', delayed: 'waiting', prioritized: 'waiting', 'waiting-children': 'active', active: 'active', completed: 'completed', failed: 'failed',
};
const WAITING = new Set(['waiting', 'delayed', 'prioritized', 'paused']);

/**
 * A job's status. `state` must be read before the job itself: a job read first and completed
 * in between would show as completed without its result.
 */
export async function jobStatus(job: Job<ProofJobData, ProofJobReturn | ProofResult>, state: string, stored: ProofResult | undefined, cancelled: boolean): Promise<ProofStatus> {
  let status = STATES[state] ?? 'waiting';
  if (status === 'failed' && (cancelled || job.failedReason?.startsWith(CANCELLED))) status = 'cancelled';
  let p = job.progress as JobProgress | number | null;
  if (state === 'waiting-children' && p && typeof p === 'object') {
    // a split proof waits for its chunk jobs: count those done
    const d = await job.getDependenciesCount({ processed: true, unprocessed: true });
    p = { ...p, step: 'chunks', chunksDone: d.processed ?? 0, chunks: (d.processed ?? 0) + (d.unprocessed ?? 0) };
  }
  // results of workers before issue 18 are the job's return value
  const legacy = job.returnvalue && typeof job.returnvalue === 'object' && 'verified' in job.returnvalue ? (job.returnvalue as ProofResult) : undefined;
  const result = stored ?? legacy;
  return {
    id: job.id!,
    model: job.data.model,
    status,
    progress: p && typeof p === 'object' ? (p as JobProgress) : null,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    submittedAt: job.data.submittedAt,
    ...(job.finishedOn ? { finishedAt: job.finishedOn, expiresAt: job.finishedOn + (job.data.ttl ?? DEFAULT_RESULT_TTL_S) * 1000 } : {}),
    ...(status === 'failed' || status === 'cancelled' ? { error: job.failedReason } : {}),
    ...(status === 'completed' && result ? { result } : {}),
  };
}

export interface Service {
  app: FastifyInstance;
  queue: Queue<ProofJobData, ProofJobReturn>;
  url: string;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The key the request came with (undefined when the API runs without keys). */
    apiKey?: ApiKey;
  }
}

export async function startServer(opts: ServerOptions): Promise<Service> {
  const host = opts.host ?? '127.0.0.1';
  const keys = opts.keys ?? [];
  checkExposure(host, keys);
  const auth = new Authenticator(keys);
  const rate = opts.rate === undefined ? parseRate(DEFAULT_RATE) : opts.rate ?? undefined;
  const ttl = opts.resultTtl ?? DEFAULT_RESULT_TTL_S;
  const log = opts.log ?? (() => {});
  const registry = new ModelRegistry(opts.models);
  await checkRedis(opts.redis);

  // Both connections fail fast while Redis is away: a request gets 503, not a wait.
  const connection = { ...(redisConnection(opts.redis) as object), ...failFastOptions };
  const queue = new Queue<ProofJobData, ProofJobReturn>(QUEUE, { connection });
  queue.on('error', () => {}); // reported once, below
  const redis = new Redis(opts.redis, failFastOptions);
  let closing = false;
  let redisDown = false;
  const lost = (why: string) => {
    if (redisDown || closing) return;
    redisDown = true;
    log(`Redis at ${opts.redis} is unreachable (${why}): answering 503 until it is back`);
  };
  redis.on('error', (e: Error) => lost(e.message));
  redis.on('close', () => lost('connection closed'));
  redis.on('ready', () => {
    if (redisDown && !closing) log(`Redis at ${opts.redis} is back`);
    redisDown = false;
  });
  await Promise.all([queue.waitUntilReady(), new Promise<void>((resolve, reject) => {
    if (redis.status === 'ready') return resolve();
    redis.once('ready', () => resolve());
    redis.once('end', () => reject(new Error(`cannot reach Redis at ${opts.redis}`)));
  })]);
  const limiter = new RateLimiter(redis);

  // Jobs finished more than ttl ago: BullMQ removes them by age when later jobs finish; this
  // sweep removes them on a quiet queue too (results and inputs expire by their own TTL).
  const sweep = setInterval(() => {
    if (redis.status !== 'ready') return;
    for (const state of ['completed', 'failed'] as const) queue.clean(ttl * 1000, 1000, state).catch(() => {});
  }, Math.min(ttl * 1000, 3_600_000));
  sweep.unref();

  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 1 << 20, logger: false });

  const fail = (status: number, code: string, message: string) => ({ statusCode: status, error: { code, message } });
  const unavailable = (reply: FastifyReply) => reply.status(503).header('retry-after', '5')
    .send(fail(503, 'REDIS_UNAVAILABLE', 'the proof store (Redis) cannot be reached; try again shortly'));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof RequestError) return reply.status(err.status).send(fail(err.status, err.code, err.message));
    if (isRedisUnavailable(err) || (redis.status !== 'ready' && !(err.statusCode && err.statusCode < 500))) return unavailable(reply);
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const code = status === 413 ? 'BODY_TOO_LARGE'
      : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'MALFORMED_JSON'
      : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'EMPTY_BODY'
      : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE'
      : status === 500 ? 'INTERNAL' : 'BAD_REQUEST';
    const message = status === 413 ? `the request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`
      : code === 'MALFORMED_JSON' ? `the body is not valid JSON: ${err.message}`
      : err.message;
    return reply.status(status).send(fail(status, code, message));
  });

  // Authentication comes first, before the body is read: a request without a valid key costs nothing.
  app.addHook('onRequest', async (req, reply) => {
    if (!auth.enabled) return;
    const key = auth.check(req.headers.authorization);
    if (!key) {
      const error = req.headers.authorization ? ', error="invalid_token"' : '';
      return reply.status(401).header('www-authenticate', `Bearer realm="zkonnx"${error}`)
        .send(fail(401, 'UNAUTHORIZED', 'this API needs a key: send the header "Authorization: Bearer <key>"'));
    }
    req.apiKey = key;
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(fail(404, 'NOT_FOUND', `no route ${req.method} ${req.url}`)));

  /** Routes that need Redis answer 503 at once while it is away. */
  const needsRedis = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (redis.status !== 'ready') return unavailable(reply);
  };
  /** Proof submissions per key (per client address without keys), counted before the body is parsed. */
  const limited = async (req: FastifyRequest, reply: FastifyReply) => {
    const r = req.apiKey?.rate ?? rate;
    if (!r) return;
    const waitMs = await limiter.take(req.apiKey ? req.apiKey.owner : `ip:${req.ip}`, r);
    if (waitMs > 0) {
      const s = Math.max(1, Math.ceil(waitMs / 1000));
      return reply.status(429).header('retry-after', String(s))
        .send(fail(429, 'RATE_LIMITED', `${req.apiKey ? `key '${req.apiKey.name}'` : 'this client'} is over its rate of ${r.text} proof requests; retry in ${s} s`));
    }
  };

  app.get('/v1/models', async () => {
    registry.scan();
    return {
      models: registry.list().map((m) => ({
        id: m.id,
        inputs: m.inputs.map((i) => ({ name: i.name, shape: i.shape, ...(i.range ? { range: i.range } : {}) })),
        outputs: m.settings.outputs.map((o) => ({ name: o.name, shape: o.shape, ...(o.categories ? { categories: o.categories } : {}) })),
        visibility: m.settings.visibility,
        constraints: m.settings.circuit?.constraints,
        ...(m.chunks !== undefined ? { chunks: m.chunks } : {}),
      })),
    };
  });

  app.post('/v1/proofs', { onRequest: [needsRedis, limited] }, async (req, reply) => {
    const { model, input } = validateRequest(req.body, registry);
    const id = randomUUID();
    const data: ProofJobData = { model: model.id, submittedAt: Date.now(), ttl, ...(req.apiKey ? { owner: req.apiKey.owner } : {}) };
    // the input goes in a key of its own (deleted when the job ends, expiring in any case), not in the job
    await redis.set(inputKey(id), JSON.stringify(input), 'EX', ttl);
    try {
      await queue.add('proof', data, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: ttl }, removeOnFail: { age: ttl } });
    } catch (e) {
      await redis.del(inputKey(id)).catch(() => {});
      throw e;
    }
    return reply.status(202).header('location', `/v1/proofs/${id}`).send({ id, status: 'waiting', model: model.id });
  });

  /** The proof job of an id, if it exists, has not expired and belongs to the request's key; else 404. */
  async function findProof(req: FastifyRequest<{ Params: { id: string } }>): Promise<{ job: Job<ProofJobData, ProofJobReturn>; state: string }> {
    const { id } = req.params;
    if (!ID_PATTERN.test(id)) throw new RequestError(400, 'BAD_REQUEST', `'${id}' is not a proof id`);
    const state = await queue.getJobState(id);
    const job = state === 'unknown' ? undefined : ((await queue.getJob(id)) as Job<ProofJobData, ProofJobReturn> | undefined);
    const mine = job && job.name === 'proof' && (!auth.enabled || job.data.owner === req.apiKey?.owner);
    const expired = job?.finishedOn !== undefined && Date.now() > job.finishedOn + (job.data.ttl ?? DEFAULT_RESULT_TTL_S) * 1000;
    if (!job || !mine || expired) throw new RequestError(404, 'PROOF_NOT_FOUND', `no proof with id '${id}'`);
    return { job, state };
  }

  app.get<{ Params: { id: string } }>('/v1/proofs/:id', { onRequest: needsRedis }, async (req) => {
    const { job, state } = await findProof(req);
    const [stored, cancelled] = await Promise.all([
      state === 'completed' ? redis.get(resultKey(job.id!)) : null,
      state === 'failed' ? redis.exists(cancelKey(job.id!)) : 0,
    ]);
    return jobStatus(job, state, stored ? (JSON.parse(stored) as ProofResult) : undefined, cancelled > 0);
  });

  // DELETE: a waiting proof is removed (200 cancelled); an active one is marked cancelled and its
  // input deleted at once, and its worker discards it at its next step (202 cancelling; GET then
  // shows 'cancelled'); a finished one is removed with its result (200 deleted).
  app.delete<{ Params: { id: string } }>('/v1/proofs/:id', { onRequest: needsRedis }, async (req, reply) => {
    const { job, state } = await findProof(req);
    const id = job.id!;
    if (WAITING.has(state)) {
      try {
        await job.remove();
        await redis.del(inputKey(id));
        return reply.status(200).send({ id, status: 'cancelled' });
      } catch (e) {
        if (!/locked/i.test((e as Error).message)) throw e; // a worker took it meanwhile: cancel it as an active one
      }
    }
    if (state === 'completed' || state === 'failed') {
      await job.remove();
      await redis.del(resultKey(id), provedKey(id), inputKey(id), cancelKey(id));
      return reply.status(200).send({ id, status: 'deleted' });
    }
    await redis.multi().set(cancelKey(id), '1', 'EX', ttl).del(inputKey(id)).exec();
    return reply.status(202).send({ id, status: 'cancelling' });
  });

  const address = await app.listen({ host, port: opts.port ?? 8080 });
  return {
    app, queue, url: address,
    async close() {
      closing = true;
      clearInterval(sweep);
      await app.close();
      await queue.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
