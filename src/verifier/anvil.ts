import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';

export interface StartAnvilOptions {
  /** Port to listen on (127.0.0.1); default: a free one. */
  port?: number;
  /** How long to wait for JSON-RPC to answer (default 30 s). */
  timeoutMs?: number;
  /** Extra anvil arguments (e.g. ['--code-size-limit', '0x10000']). */
  args?: string[];
  progress?: Progress;
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  pid: number;
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

const PLATFORM_PACKAGES: Record<string, string | undefined> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

/**
 * The anvil binary from the npm package. We spawn the platform binary directly rather than
 * the package's `bin.mjs` wrapper: the wrapper is an extra node process, and killing it
 * with SIGKILL would orphan the real anvil. ZKONNX_ANVIL overrides the path.
 */
export function anvilBinaryPath(): string {
  const override = process.env.ZKONNX_ANVIL;
  if (override) return override;
  const platformPkg = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platformPkg) {
    throw new ZkonnxError('ONCHAIN_FAILED', `anvil has no npm build for ${process.platform}-${process.arch}`, {
      hint: 'install foundry (https://getfoundry.sh) and set ZKONNX_ANVIL to the anvil binary, or pass an rpc URL',
    });
  }
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  // The platform package is an optional dependency of @foundry-rs/anvil: resolve it from there first.
  const bases: string[] = [];
  try {
    bases.push(require.resolve('@foundry-rs/anvil/package.json'));
  } catch {
    // not installed as such; try resolving the platform package from here
  }
  bases.push(import.meta.url);
  for (const base of bases) {
    try {
      const p = createRequire(base).resolve(`${platformPkg}/bin/${exe}`);
      if (existsSync(p)) return p;
      tried.push(p);
    } catch {
      tried.push(`${platformPkg}/bin/${exe} from ${base}`);
    }
  }
  if (bases.length > 1) {
    // The wrapper's own fallback location (see @foundry-rs/anvil bin.mjs).
    const dist = join(dirname(bases[0]!), '..', 'dist', exe);
    if (existsSync(dist)) return dist;
    tried.push(dist);
  }
  throw new ZkonnxError('ONCHAIN_FAILED', `anvil binary not found (tried ${tried.join(', ')})`, {
    hint: 'npm i @foundry-rs/anvil (its postinstall fetches the platform package), or set ZKONNX_ANVIL',
  });
}

/** A port that was free a moment ago (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

// ---- cleanup: never leave an anvil behind when this process goes away ----

const live = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  killAll();
  // If we were the only listener, adding ours suppressed Node's default (exit): restore it.
  if (process.listenerCount(sig) === 1) {
    uninstallHandlers();
    process.kill(process.pid, sig);
  }
}

let installed = false;
function installHandlers(): void {
  if (installed) return;
  installed = true;
  // 'exit' covers normal exit and process.exit() (e.g. a test runner worker shutting down).
  process.on('exit', killAll);
  for (const sig of SIGNALS) process.on(sig, onSignal);
}
function uninstallHandlers(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', killAll);
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

/** Keeps the last `max` characters of a stream (anvil logs every RPC call). */
function tail(max = 8192): { push(chunk: Buffer): void; text(): string } {
  let s = '';
  return {
    push(chunk) {
      s += chunk.toString('utf8');
      if (s.length > 2 * max) s = s.slice(-max);
    },
    text: () => s.slice(-max).trim(),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when `rpcUrl` answers eth_chainId. */
export async function rpcAnswers(rpcUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: unknown };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

async function startOnce(port: number, opts: StartAnvilOptions): Promise<AnvilInstance> {
  const bin = anvilBinaryPath();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const args = ['--host', '127.0.0.1', '--port', String(port), ...(opts.args ?? [])];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const out = tail();
  const err = tail();
  // Drain both pipes always: a full pipe would block anvil.
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      if (live.size === 0) uninstallHandlers();
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      live.delete(child);
      if (live.size === 0) uninstallHandlers();
      resolve();
    });
  });
  if (child.pid !== undefined) {
    live.add(child);
    installHandlers();
  }
  // A caller that forgets stop() must not hang its process; the 'exit' handler then kills anvil.
  child.unref();
  (child.stdout as unknown as { unref?(): void }).unref?.();
  (child.stderr as unknown as { unref?(): void }).unref?.();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo || spawnError) return;
      child.kill('SIGTERM');
      // This timer is ref'd: it also keeps the event loop alive until anvil has exited.
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
      });
      await Promise.race([exited, forced]);
      clearTimeout(timer);
      await exited;
    })();
    return stopping;
  };

  const diagnostics = () => {
    const e = err.text();
    const o = out.text();
    return [e && `stderr: ${e}`, !e && o && `stdout: ${o}`].filter(Boolean).join('\n') || '(anvil printed nothing)';
  };

  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      throw new ZkonnxError('ONCHAIN_FAILED', `cannot start anvil (${bin}): ${spawnError.message}`, {
        file: bin,
        hint: 'check that the binary exists and is executable, or set ZKONNX_ANVIL',
        cause: spawnError,
      });
    }
    if (exitInfo) {
      const how = exitInfo.signal ? `signal ${exitInfo.signal}` : `code ${exitInfo.code}`;
      throw new ZkonnxError('ONCHAIN_FAILED', `anvil exited with ${how} before answering JSON-RPC on ${rpcUrl}\n${diagnostics()}`, {
        file: bin,
        port,
        stderr: err.text(),
        hint: /in use/i.test(err.text() + out.text()) ? `port ${port} is taken: pick another or leave port unset` : undefined,
      });
    }
    if (await rpcAnswers(rpcUrl, 1000)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new ZkonnxError('ONCHAIN_FAILED', `anvil did not answer JSON-RPC on ${rpcUrl} within ${timeoutMs} ms\n${diagnostics()}`, {
        file: bin,
        port,
        stderr: err.text(),
        hint: 'the machine may be overloaded; raise timeoutMs',
      });
    }
    await sleep(50);
  }
  opts.progress?.info?.(`anvil ${child.pid} listening on ${rpcUrl}`);
  return { rpcUrl, port, pid: child.pid!, stop };
}

/**
 * Starts anvil (from the @foundry-rs/anvil npm package) on 127.0.0.1 and waits until its
 * JSON-RPC answers. Call stop() when done; anvil is also killed if this process exits.
 */
export async function startAnvil(opts: StartAnvilOptions = {}): Promise<AnvilInstance> {
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535)) {
    throw new ZkonnxError('BAD_ARGUMENT', `port: expected an integer in 1..65535, received ${opts.port}`);
  }
  opts.progress?.step?.('starting anvil');
  if (opts.port !== undefined) return startOnce(opts.port, opts);
  // Between freePort() releasing the port and anvil binding it, someone else may take it: retry.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort(), opts);
    } catch (e) {
      last = e;
      const text = e instanceof ZkonnxError ? `${e.message} ${String(e.details.stderr ?? '')}` : '';
      if (!/in use/i.test(text)) throw e;
    }
  }
  throw last;
}
