// The HTTP API of the proving service (Fastify). It validates a request against the model's
// settings.json, puts a job on the BullMQ queue (job id = proof id) and reads jobs back; it
// holds no state of its own, so results survive its restart (they live in Redis).
import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { QUEUE, checkRedis, redisConnection, ID_PATTERN, type JobProgress, type ProofJobData, type ProofResult } from './common.js';
import { ModelRegistry, RequestError, validateRequest } from './models.js';

export interface ServerOptions {
  redis: string;
  models: string;
  host?: string;
  port?: number;
  /** Largest request body in bytes (413 above it); default 1 MiB. */
  bodyLimit?: number;
}

export interface ProofStatus {
  id: string;
  model: string;
  status: 'waiting' | 'active' | 'completed' | 'failed';
  progress: JobProgress | null;
  attempts: number;
  submittedAt: number;
  finishedAt?: number;
  error?: string;
  result?: ProofResult;
}

const STATES: Record<string, ProofStatus['status']> = {
  waiting: 'waiting', delayed: 'waiting', prioritized: 'waiting', 'waiting-children': 'active', active: 'active', completed: 'completed', failed: 'failed',
};

/**
 * A job's status. `state` must be read before the job itself: a job read first and completed
 * in between would show as completed without its return value.
 */
export async function jobStatus(job: Job<ProofJobData, ProofResult>, state: string): Promise<ProofStatus> {
  const status = STATES[state] ?? 'waiting';
  let p = job.progress as JobProgress | number | null;
  if (state === 'waiting-children' && p && typeof p === 'object') {
    // a split proof waits for its chunk jobs: count those done
    const d = await job.getDependenciesCount({ processed: true, unprocessed: true });
    p = { ...p, step: 'chunks', chunksDone: d.processed ?? 0, chunks: (d.processed ?? 0) + (d.unprocessed ?? 0) };
  }
  return {
    id: job.id!,
    model: job.data.model,
    status,
    progress: p && typeof p === 'object' ? (p as JobProgress) : null,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    submittedAt: job.data.submittedAt,
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
    ...(status === 'failed' ? { error: job.failedReason } : {}),
    ...(status === 'completed' ? { result: job.returnvalue } : {}),
  };
}

export interface Service {
  app: FastifyInstance;
  queue: Queue<ProofJobData, ProofResult>;
  url: string;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<Service> {
  const registry = new ModelRegistry(opts.models);
  await checkRedis(opts.redis);
  const queue = new Queue<ProofJobData, ProofResult>(QUEUE, { connection: redisConnection(opts.redis) });
  await queue.waitUntilReady();
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 1 << 20, logger: false });

  const fail = (status: number, code: string, message: string) => ({ statusCode: status, error: { code, message } });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof RequestError) return reply.status(err.status).send(fail(err.status, err.code, err.message));
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
  app.setNotFoundHandler((req, reply) => reply.status(404).send(fail(404, 'NOT_FOUND', `no route ${req.method} ${req.url}`)));

  app.get('/v1/models', async () => {
    registry.scan();
    return {
      models: registry.list().map((m) => ({
        id: m.id,
        inputs: m.inputs.map((i) => ({ name: i.name, shape: i.shape })),
        outputs: m.settings.outputs.map((o) => ({ name: o.name, shape: o.shape })),
        visibility: m.settings.visibility,
        constraints: m.settings.circuit?.constraints,
        ...(m.chunks !== undefined ? { chunks: m.chunks } : {}),
      })),
    };
  });

  app.post('/v1/proofs', async (req, reply) => {
    const { model, input } = validateRequest(req.body, registry);
    const id = randomUUID();
    const data: ProofJobData = { model: model.id, input, submittedAt: Date.now() };
    // results are kept (removeOnComplete: false): GET reads them from Redis after any restart
    await queue.add('proof', data, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
    return reply.status(202).header('location', `/v1/proofs/${id}`).send({ id, status: 'waiting', model: model.id });
  });

  app.get<{ Params: { id: string } }>('/v1/proofs/:id', async (req, reply) => {
    const { id } = req.params;
    if (!ID_PATTERN.test(id)) throw new RequestError(400, 'BAD_REQUEST', `'${id}' is not a proof id`);
    const state = await queue.getJobState(id);
    const job = state === 'unknown' ? undefined : ((await queue.getJob(id)) as Job<ProofJobData, ProofResult> | undefined);
    if (!job || job.name !== 'proof') return reply.status(404).send(fail(404, 'PROOF_NOT_FOUND', `no proof with id '${id}'`));
    return jobStatus(job, state);
  });

  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  return {
    app, queue, url: address,
    async close() {
      await app.close();
      await queue.close();
    },
  };
}
