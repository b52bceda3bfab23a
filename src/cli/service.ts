// `zkonnx serve` and `zkonnx worker`: the proving service (HTTP API + BullMQ workers on Redis).
// Both run until SIGTERM or SIGINT, then shut down gracefully: the API stops taking requests,
// a worker finishes the jobs in hand before it exits. A second signal exits at once.
// The service's modules (BullMQ, ioredis, Fastify: ~0.25 s to load) are imported by these verbs'
// actions, not by every `zkonnx` command.
import type { Command } from 'commander';
import { ZkonnxError } from '../errors.js';
import { DEFAULT_RATE } from '../service/defaults.js';

export const int = (what: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ZkonnxError('BAD_ARGUMENT', `${what} must be an integer ≥ ${min}, got '${v}'`);
  return n;
};

/** Runs a long-lived service until a signal; any start-up failure exits 1 with the message. */
export async function serveUntilSignal(start: () => Promise<{ close(): Promise<void>; ready: string }>): Promise<void> {
  let svc: { close(): Promise<void>; ready: string };
  try {
    svc = await start();
  } catch (e) {
    process.stderr.write(`error${e instanceof ZkonnxError ? ` [${e.code}]` : ''}: ${e instanceof ZkonnxError ? e.describe() : (e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${svc.ready}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    svc.close().then(() => process.exit(0), (e) => { process.stderr.write(`error while shutting down: ${(e as Error).message}\n`); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export function register(program: Command): void {
  program.command('serve')
    .description('the proving service\'s HTTP API: POST /v1/proofs, GET and DELETE /v1/proofs/:id, GET /v1/models (jobs go to BullMQ on Redis)')
    .requiredOption('--redis <url>', 'Redis URL shared with the workers (redis://host:port)')
    .requiredOption('--models <dir>', 'folder whose subfolders are compiled and set-up builds; the subfolder name is the model id')
    .option('--host <host>', 'address to listen on (other than loopback only with API keys)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', int('--port', 0), 8080)
    .option('--body-limit <bytes>', 'largest request body (413 above it)', int('--body-limit', 1), 1 << 20)
    .option('--api-keys <file>', 'API keys clients send as "Authorization: Bearer <key>": one per line, or JSON [{"key", "name", "rate"}]; also ZKONNX_API_KEYS=k1,k2')
    .option('--rate <n/period>', 'proof requests per key (per client address without keys), e.g. 60/min, 5/s; off: no limit', DEFAULT_RATE)
    .option('--result-ttl <duration>', 'how long results (and inputs still waiting) are kept, e.g. 24h, 30m, 3600s', '24h')
    .action((o) => serveUntilSignal(async () => {
      const [{ loadApiKeys, parseDuration, parseRate }, { startServer }] = await Promise.all([import('../service/auth.js'), import('../service/server.js')]);
      const keys = loadApiKeys({ file: o.apiKeys, env: process.env.ZKONNX_API_KEYS });
      const s = await startServer({
        redis: o.redis, models: o.models, host: o.host, port: o.port, bodyLimit: o.bodyLimit,
        keys, rate: parseRate(o.rate) ?? null, resultTtl: parseDuration(o.resultTtl),
        log: (line) => process.stderr.write(`zkonnx serve: ${line}\n`),
      });
      process.stderr.write(`zkonnx serve: ${keys.length ? `${keys.length} API key(s)` : 'no API keys (loopback only)'}, rate ${o.rate}, results kept ${o.resultTtl}\n`);
      return { close: () => s.close(), ready: `zkonnx serve: listening on ${s.url}` };
    }));

  program.command('worker')
    .description('a proving worker: takes jobs from the queue in Redis and proves them (run as many as you like, on any machine)')
    .requiredOption('--redis <url>', 'Redis URL shared with the API (redis://host:port)')
    .requiredOption('--models <dir>', 'the same model folder the API serves (each worker reads the artifacts once per model)')
    .option('--concurrency <n>', 'jobs this worker proves at once', int('--concurrency', 1), 1)
    .option('--lock-ms <ms>', 'lock on a job, renewed while proving; a dead worker\'s job is retried once it lapses', int('--lock-ms', 1000), 30_000)
    .option('--stalled-interval-ms <ms>', 'how often to look for jobs of dead workers', int('--stalled-interval-ms', 500), 15_000)
    .option('--max-stalled <n>', 'how many times a job may lose its worker before it fails', int('--max-stalled', 1), 2)
    .option('--quiet', 'no line per job on stderr')
    .action((o) => serveUntilSignal(async () => {
      const { startWorker } = await import('../service/worker.js');
      const w = await startWorker({
        redis: o.redis, models: o.models, concurrency: o.concurrency,
        lock: { lockMs: o.lockMs, stalledIntervalMs: o.stalledIntervalMs, maxStalled: o.maxStalled },
        log: o.quiet ? undefined : (line) => process.stderr.write(`worker ${process.pid}: ${line}\n`),
      });
      return { close: () => w.close(), ready: `zkonnx worker ${w.name}: ready` };
    }));
}
