// circom2 under a wall-clock limit, with its peak RSS, for bench:compile. compileCircom
// (src/circom/compile.ts) gives no handle on its child, so this spawns circom2 the same way (the
// CLI of the installed package in a child Node process, cwd at the filesystem root, the same
// arguments) and kills it on timeout.
//
// Peak RSS: the child Node process is started with `-r <preload>`, a hook that writes
// process.resourceUsage().maxRSS (the kernel's high-water mark of the whole process, wasm memory
// and threads included) to a file on exit; circom2 leaves through process.exit, so this is exact
// for every run that ends by itself. A process killed by a signal (the timeout, a segfault) runs
// no hook: then the figure is the last VmHWM read from /proc/<pid>/status (polled every 0.5 s),
// a lower bound, and `rssMeasured` says which of the two it is.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, parse, resolve } from 'node:path';
import { circomCliPath } from '../src/circom/compile.js';
import { readR1csHeader } from '../src/circom/r1cs.js';

export interface CircomRun {
  status: 'ok' | 'timeout' | 'crash';
  seconds: number;
  peakRssMB?: number;
  rssMeasured?: 'exit hook (maxRSS)' | 'polled /proc VmHWM (lower bound)';
  /** crash: the first line of circom's error */
  reason?: string;
  constraints?: number;
  wires?: number;
  r1csPath?: string;
  wasmPath?: string;
}

export interface CircomLimitedOptions {
  circuitPath: string;
  outDir: string;
  includePaths: string[];
  optimize: 0 | 1 | 2;
  timeoutS: number;
  /** a scratch folder for the preload hook and the RSS file */
  work: string;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const PRELOAD = `const fs = require('fs');
process.on('exit', () => { try { fs.writeFileSync(process.env.ZKONNX_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); } catch {} });
`;

/** The line of circom's output that says what went wrong (wasm stack frames left out). */
export function firstErrorLine(output: string): string {
  const lines = output.replace(ANSI, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^at .*wasm/.test(l));
  const line = lines.find((l) => /error|exceeded|panicked|RuntimeError|out of memory|abort/i.test(l)) ?? lines[0] ?? '(no output)';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function vmHWM(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function runCircomLimited(opts: CircomLimitedOptions): Promise<CircomRun> {
  const circuitPath = resolve(opts.circuitPath);
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const preload = join(opts.work, 'rss-preload.cjs');
  const rssFile = join(opts.work, 'circom-rss.txt');
  writeFileSync(preload, PRELOAD);
  rmSync(rssFile, { force: true });
  const name = basename(circuitPath).replace(/\.circom$/, '');
  // as compileCircom: circom2's WASI layer cannot follow '..', so run from the filesystem root
  const args = ['-r', preload, await circomCliPath(), circuitPath, '--r1cs', '--wasm', '--sym', `--O${opts.optimize}`, '-o', outDir,
    ...opts.includePaths.flatMap((p) => ['-l', resolve(p)])];

  const t0 = performance.now();
  let polled: number | undefined;
  let timedOut = false;
  const { code, signal, output, spawnError } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; spawnError?: string }>((res) => {
    const child = spawn(process.execPath, args, {
      cwd: parse(circuitPath).root, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ZKONNX_BENCH_RSS_FILE: rssFile },
    });
    let out = '';
    const keep = (c: Buffer) => { out = (out + c.toString('utf8')).slice(-65536); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const poll = setInterval(() => {
      const v = child.pid === undefined ? undefined : vmHWM(child.pid);
      if (v !== undefined) polled = Math.max(polled ?? 0, v);
    }, 500);
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutS * 1000);
    const done = (r: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }) => {
      clearInterval(poll);
      clearTimeout(timer);
      res({ ...r, output: out });
    };
    child.on('error', (e) => done({ code: null, signal: null, spawnError: e.message }));
    child.on('close', (c, s) => done({ code: c, signal: s }));
  });
  const seconds = (performance.now() - t0) / 1000;

  const hook = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : undefined;
  const rss: Pick<CircomRun, 'peakRssMB' | 'rssMeasured'> = hook !== undefined && Number.isFinite(hook)
    ? { peakRssMB: hook / 1024, rssMeasured: 'exit hook (maxRSS)' }
    : polled !== undefined ? { peakRssMB: polled / 1024, rssMeasured: 'polled /proc VmHWM (lower bound)' } : {};

  if (timedOut) return { status: 'timeout', seconds, ...rss, reason: `killed after ${opts.timeoutS} s` };
  if (spawnError !== undefined) return { status: 'crash', seconds, ...rss, reason: `cannot start circom: ${spawnError}` };
  if (code !== 0) return { status: 'crash', seconds, ...rss, reason: `${signal ? `signal ${signal}` : `exit code ${code}`}: ${firstErrorLine(output)}` };

  const r1csPath = join(outDir, `${name}.r1cs`);
  const wasmPath = join(outDir, `${name}_js`, `${name}.wasm`);
  for (const f of [r1csPath, wasmPath, join(outDir, `${name}.sym`)]) {
    if (!existsSync(f)) return { status: 'crash', seconds, ...rss, reason: `circom exited 0 but did not write ${f}` };
  }
  const h = await readR1csHeader(r1csPath);
  return { status: 'ok', seconds, ...rss, constraints: h.nConstraints, wires: h.nWires, r1csPath, wasmPath };
}
