// What every `zkonnx` verb shares: how it runs (progress, output, exit code) and common options.
import { Option } from 'commander';
import { ZkonnxError } from '../errors.js';
import { defaultBuildDir } from '../paths.js';
import { cliProgress } from './progress.js';

export type Common = { json?: boolean; build?: string };

/** Runs one verb: progress on stderr, result on stdout (JSON with --json), exit code ≠ 0 on failure. */
export async function run<T>(opts: Common, body: (progress: ReturnType<typeof cliProgress>) => Promise<{ ok: boolean; text: string; json: T }>): Promise<void> {
  const progress = cliProgress({ json: opts.json === true });
  let code = 0;
  try {
    const r = await body(progress);
    progress.done();
    process.stdout.write(opts.json ? `${JSON.stringify(r.json, null, 2)}\n` : `${r.text}\n`);
    code = r.ok ? 0 : 1;
  } catch (caught) {
    progress.done();
    const e = fromSystemError(caught);
    if (opts.json) {
      const err = e instanceof ZkonnxError ? { code: e.code, message: e.message, hint: e.hint } : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
      process.stdout.write(`${JSON.stringify({ ok: false, error: err }, null, 2)}\n`);
    }
    process.stderr.write(`error${e instanceof ZkonnxError ? ` [${e.code}]` : ''}: ${e instanceof ZkonnxError ? e.describe() : (e as Error)?.stack ?? String(e)}\n`);
    code = 1;
  }
  // exit ends the threads (ours and ffjavascript's) as it is: releaseCurves would first wait out
  // ffjavascript's 200 ms terminate, on every command
  process.exit(code);
}

const SYSTEM: Record<string, string> = {
  ENOENT: 'does not exist', EISDIR: 'is a folder, not a file', ENOTDIR: 'has a file where a folder is expected',
  EACCES: 'is not accessible (permission denied)', EPERM: 'is not accessible (operation not permitted)',
  EEXIST: 'already exists', ENOSPC: 'cannot be written: the disk is full', EROFS: 'is on a read-only file system',
};

/** A file-system error that escaped the verbs' own checks: one line naming the path, no stack trace. */
function fromSystemError(e: unknown): unknown {
  const x = e as NodeJS.ErrnoException;
  if (e instanceof ZkonnxError || !x || typeof x.code !== 'string' || !(x.code in SYSTEM)) return e;
  const path = x.path ?? (x as { dest?: string }).dest ?? '';
  return new ZkonnxError(x.code === 'ENOENT' ? 'ARTIFACT_MISSING' : 'BAD_ARGUMENT', `${path || 'a file'} ${SYSTEM[x.code]} (${x.syscall ?? 'fs'} ${x.code})`, { file: path || undefined, cause: e });
}

/** --build: compile's has a default (build/<model name>); every later verb needs the folder compile wrote. */
export const buildOpt = (compile = false) => new Option('-b, --build <dir>', compile ? 'build folder (default: build/<model name>)' : 'the build folder `zkonnx compile` wrote');
export const jsonOpt = () => new Option('--json', 'machine-readable output on stdout');
export const visOpt = (what: string, dflt: string) => new Option(`--${what} <visibility>`, `${what} visibility (hashed: private, with a Poseidon commitment as a public signal)`).choices(['public', 'private', 'hashed']).default(dflt);

export function buildDirOf(opts: Common & { model?: string }): string {
  if (opts.build) return opts.build;
  if (opts.model) return defaultBuildDir(opts.model);
  throw new ZkonnxError('BAD_ARGUMENT', 'no build folder', { hint: 'pass --build DIR (the folder `zkonnx compile` wrote)' });
}
