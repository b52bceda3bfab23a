// `zkonnx app`: a local web server for the in-browser prover. It serves the page (dist/app/,
// bundled by scripts/bundle-app.mjs), the list of compiled and set-up models under a folder, and
// each model's artifacts. Artifacts stream with their length (the page shows download progress)
// and an ETag (the browser's cache revalidates instead of downloading a zkey again). The page is
// cross-origin isolated (COOP/COEP) so that it may use SharedArrayBuffer and workers freely.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readR1csWireMap } from '../circom/r1cs.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ZkonnxError } from '../errors.js';
import { BuildPaths } from '../paths.js';
import { ModelRegistry, type ModelInfo } from '../service/models.js';

export interface AppOptions {
  /** Folder whose subfolders are build folders (compile + setup). */
  models: string;
  host?: string;
  port?: number;
}

export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/** What the page may fetch from a model: name in the URL → build artifact. */
const ARTIFACTS = {
  'settings.json': (p: BuildPaths) => p.file('settings'),
  'qgraph.json': (p: BuildPaths) => p.file('qgraph'),
  'circuit_final.zkey': (p: BuildPaths) => p.file('zkey'),
  'verification_key.json': (p: BuildPaths) => p.file('vkey'),
} as const;
type ArtifactName = keyof typeof ARTIFACTS;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.zkey': 'application/octet-stream', '.png': 'image/png',
};
const typeOf = (f: string) => TYPES[f.slice(f.lastIndexOf('.'))] ?? 'application/octet-stream';

/** The bundled page: dist/app, beside dist/src/app when built, under the repository's dist/ when run from source (tests). */
export function pageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = resolve(here, '..', '..', 'app');
  return existsSync(join(built, 'index.html')) ? built : resolve(here, '..', '..', 'dist', 'app');
}

/** Sends a file with length and ETag; 304 when the browser's copy is current. */
function sendFile(reply: FastifyReply, file: string, ifNoneMatch: string | undefined): FastifyReply {
  const st = statSync(file);
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  reply.header('ETag', etag).header('Cache-Control', 'no-cache').type(typeOf(file));
  if (ifNoneMatch === etag) return reply.code(304).send();
  reply.header('Content-Length', String(st.size));
  return reply.send(createReadStream(file));
}

/**
 * Whether the page shows an argmax ("Prediction → k") for a model: only for a classifier, which we
 * take to be a model with exactly one output whose shape, leading 1s (the batch) aside, is one
 * dimension of C ≥ 2 classes: [C], [1, C], [1, 1, C]. Any other model (a single number, several
 * outputs, a grid such as [1, 2, 2]) shows its output values with no argmax.
 */
export function isClassifier(outputs: { shape: number[] }[]): boolean {
  if (outputs.length !== 1) return false;
  const dims = outputs[0]!.shape.slice(outputs[0]!.shape.findIndex((d) => d !== 1));
  return dims.length === 1 && dims[0]! >= 2;
}

/** The page's view of a model: what it needs to decide whether and how to prove it. */
function describe(m: ModelInfo) {
  const p = new BuildPaths(m.buildDir);
  const s = m.settings;
  return {
    id: m.id,
    inputs: m.inputs,
    outputs: s.outputs.map((o) => ({ name: o.name, shape: o.shape })),
    classifier: isClassifier(s.outputs),
    constraints: s.circuit.constraints,
    visibility: s.visibility,
    // MNIST-shaped models get the digit canvas: 28×28 pixels in [0, 1], or 2×2-average-pooled to 14×14
    digit: m.inputs.length === 1 ? ({ 784: 28, 196: 14 } as Record<number, number>)[m.inputs[0]!.size] : undefined,
    bytes: { zkey: statSync(p.file('zkey')).size },
  };
}

export async function startApp(opts: AppOptions): Promise<AppServer> {
  const page = pageDir();
  if (!existsSync(join(page, 'index.html'))) {
    throw new ZkonnxError('ARTIFACT_MISSING', `the page bundle is missing: ${join(page, 'index.html')}`, { hint: 'run `npm run build` (it bundles the page with esbuild)' });
  }
  const registry = new ModelRegistry(opts.models);
  // a browser keeps connections open (and may leave a download unread): close them on shutdown
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  // no internal detail (file paths, errno) in an error answer
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin').header('Cross-Origin-Embedder-Policy', 'require-corp');
  });

  // Only whole (unsplit) models with weights baked in and no hashed inputs or outputs: the page
  // proves one circuit and computes its witness without Poseidon's constants.
  const provable = (m: ModelInfo) => m.chunks === undefined && !m.settings.weights && m.settings.visibility.input !== 'hashed' && m.settings.visibility.output !== 'hashed';
  app.get('/api/models', async () => registry.list().filter(provable).map(describe));

  // The witness is computed in the page from qgraph.json; it needs circom's label of every wire:
  // the r1cs's wire map (u32 little-endian, one per wire), not the whole r1cs.
  const wireMaps = new Map<string, { etag: string; bytes: Buffer }>();
  app.get<{ Params: { id: string } }>('/models/:id/wires.bin', async (req, reply) => {
    const m = registry.get(req.params.id);
    if (!m || !provable(m)) return reply.code(404).send({ error: `no wires.bin for model '${req.params.id}'` });
    const r1cs = new BuildPaths(m.buildDir).file('r1cs');
    if (!existsSync(r1cs)) return reply.code(404).send({ error: `circuit.r1cs is missing in ${m.buildDir}` });
    const st = statSync(r1cs);
    const etag = `"w${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    let hit = wireMaps.get(r1cs);
    if (hit?.etag !== etag) {
      const { header, wireToLabel } = await readR1csWireMap(r1cs);
      const bytes = Buffer.alloc(4 * (1 + wireToLabel.length));
      bytes.writeUInt32LE(header.nLabels, 0);
      wireToLabel.forEach((l, i) => bytes.writeUInt32LE(l, 4 * (i + 1)));
      hit = { etag, bytes };
      wireMaps.set(r1cs, hit);
    }
    reply.header('ETag', etag).header('Cache-Control', 'no-cache').type('application/octet-stream');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('Content-Length', String(hit.bytes.length)).send(hit.bytes);
  });

  app.get<{ Params: { id: string; file: string } }>('/models/:id/:file', async (req, reply) => {
    const m = registry.get(req.params.id);
    // own names only: 'constructor' or '__proto__' are not artifacts
    const which = Object.hasOwn(ARTIFACTS, req.params.file) ? ARTIFACTS[req.params.file as ArtifactName] : undefined;
    if (!m || !provable(m) || !which) return reply.code(404).send({ error: `no ${req.params.file} for model '${req.params.id}'` });
    const file = which(new BuildPaths(m.buildDir));
    if (!existsSync(file)) return reply.code(404).send({ error: `${req.params.file} is missing in ${m.buildDir}` });
    return sendFile(reply, file, req.headers['if-none-match']);
  });

  // The page itself: the regular files directly in dist/app, nothing else. A name is one path
  // segment that does not start with a dot ('.', '..', also sent as %2e%2e, are refused), and what
  // it resolves to must be a file in the page folder itself.
  app.get<{ Params: { file?: string } }>('/:file?', async (req, reply) => {
    const name = req.params.file || 'index.html';
    const file = resolve(page, name);
    const ok = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) && dirname(file) === page && existsSync(file) && statSync(file).isFile();
    if (!ok) return reply.code(404).send({ error: `no page file ${JSON.stringify(name)}` });
    return sendFile(reply, file, req.headers['if-none-match']);
  });

  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8090 });
  return { url: address.replace('[::1]', 'localhost'), close: () => app.close() };
}
