/**
 * Runs circom (the `circom2` npm package: circom 2.2.x compiled to WebAssembly/WASI) in a child
 * Node process and reads the counts from the .r1cs header it writes.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, parse, resolve } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { readR1csHeader } from './r1cs.js';

export interface CompileOptions {
  circuitPath: string;
  outDir: string;
  /** Extra include directories (circom `-l`). */
  includePaths?: string[];
  /** circom --O0 / --O1 / --O2. Default 2 (full linear simplification). */
  optimize?: 0 | 1 | 2;
  progress?: Progress;
  /**
   * Flags for the Node process that runs circom, e.g. ['--max-old-space-size=8192'].
   * Default DEFAULT_CIRCOM_NODE_FLAGS (none; see there why --stack-size does not help).
   */
  nodeFlags?: string[];
}

export interface CompiledCircuit {
  r1csPath: string;
  /** outDir/<name>_js/<name>.wasm, with witness_calculator.js beside it. */
  wasmPath: string;
  symPath: string;
  constraints: number;
  /** Witness length, wire 0 (the constant 1) included. */
  wires: number;
  publicInputs: number;
  publicOutputs: number;
  privateInputs: number;
  labels: number;
  seconds: number;
}

/**
 * No extra Node flags by default. Measured here (circom 2.2.3 in circom2 0.2.23, Node 20): a
 * single expression `out <== in[0]*c0 + … + in[n-1]*c(n-1)` compiles at n = 400 and fails at
 * n = 600 with "RuntimeError: memory access out of bounds" in circom's wasm. That is the
 * overflow of the 1 MB shadow stack that Rust keeps in the wasm linear memory, fixed when
 * circom.wasm was linked: --stack-size=4000 fails at the very same n, so no Node flag helps.
 * The cure is in the generated source: accumulate in a loop (`acc += in[i] * w[i]` over a var
 * array returned by a function), which compiled 10,000 terms (53 s at --O1, 61 s at --O2).
 * `nodeFlags` remains for other V8 limits (e.g. --max-old-space-size for huge circuits).
 */
export const DEFAULT_CIRCOM_NODE_FLAGS: readonly string[] = [];

let cliPath: string | undefined;

/** The circom2 CLI script, resolved from the installed package (not a fixed path). */
export async function circomCliPath(): Promise<string> {
  if (cliPath) return cliPath;
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve('circom2/package.json');
  } catch (cause) {
    throw new ZkonnxError('CIRCOM_FAILED', 'the circom2 package is not installed', { cause, hint: 'npm install circom2' });
  }
  const pkg = JSON.parse(await readFile(pkgJson, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.['circom2'] ?? 'cli.js');
  cliPath = join(dirname(pkgJson), bin);
  return cliPath;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** circom's diagnostic blocks (error[...] … up to the summary line), ANSI colours removed. */
function errorText(output: string): string {
  const clean = output.replace(ANSI, '').trim();
  // A wasm trap comes with hundreds of mangled stack frames: they say nothing to the user.
  const lines = clean.split(/\r?\n/).filter((l) => !/^\s+at .*wasm/.test(l));
  const first = lines.findIndex((l) => /error|exceeded|panicked|RuntimeError/i.test(l));
  const text = (first >= 0 ? lines.slice(first) : lines.slice(-20)).join('\n').trim();
  return text.length > 4000 ? `${text.slice(0, 4000)}\n…` : text;
}

/**
 * Compiles `circuitPath` to outDir/<name>.r1cs, <name>.sym and <name>_js/<name>.wasm and
 * returns the counts from the r1cs header. Throws ZkonnxError 'CIRCOM_FAILED' with circom's
 * error text and the circuit file when circom rejects the circuit.
 */
export async function compileCircom(opts: CompileOptions): Promise<CompiledCircuit> {
  const circuitPath = resolve(opts.circuitPath);
  const outDir = resolve(opts.outDir);
  const optimize = opts.optimize ?? 2;
  if (![0, 1, 2].includes(optimize)) {
    throw new ZkonnxError('BAD_ARGUMENT', `optimize must be 0, 1 or 2, got ${String(optimize)}`);
  }
  await stat(circuitPath).catch((cause: unknown) => {
    throw new ZkonnxError('ARTIFACT_MISSING', `circuit file not found: ${circuitPath}`, { file: circuitPath, cause });
  });
  const name = basename(circuitPath).replace(/\.circom$/, '');
  await mkdir(outDir, { recursive: true });

  const cli = await circomCliPath();
  // circom2's WASI layer cannot follow '..' out of its working directory (an include given as
  // ../x fails with P1014 "not found"), and its CLI rewrites every path relative to the cwd.
  // Running from the filesystem root makes every absolute path a plain descending one.
  const cwd = parse(circuitPath).root;
  const args = [
    ...(opts.nodeFlags ?? DEFAULT_CIRCOM_NODE_FLAGS),
    cli,
    circuitPath,
    '--r1cs',
    '--wasm',
    '--sym',
    `--O${optimize}`,
    '-o',
    outDir,
    ...(opts.includePaths ?? []).flatMap((p) => ['-l', resolve(p)]),
  ];

  opts.progress?.step?.(`circom ${basename(circuitPath)} (--O${optimize})`);
  const t0 = performance.now();
  const { code, signal, output } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((res, rej) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (cause) => rej(new ZkonnxError('CIRCOM_FAILED', `cannot start circom for ${circuitPath}: ${cause.message}`, { file: circuitPath, cause })));
    child.on('close', (c, s) => res({ code: c, signal: s, output: Buffer.concat(chunks).toString('utf8') }));
  });
  const seconds = (performance.now() - t0) / 1000;

  if (code !== 0) {
    const text = errorText(output);
    // circom-wasm's fixed shadow stack overflows as an out-of-bounds memory access.
    const overflow = /memory access out of bounds|Maximum call stack size exceeded/.test(output) || signal === 'SIGSEGV';
    throw new ZkonnxError('CIRCOM_FAILED', `circom failed on ${circuitPath} (${signal ? `signal ${signal}` : `exit code ${code}`}):\n${text}`, {
      file: circuitPath,
      output: output.replace(ANSI, ''),
      hint: overflow
        ? 'circom ran out of stack (its wasm stack is fixed at 1 MB; Node flags do not change it): write long sums as loops that accumulate over var arrays (measured: one expression of 600 terms overflows)'
        : 'fix the circuit source at the location circom names',
    });
  }

  const r1csPath = join(outDir, `${name}.r1cs`);
  const symPath = join(outDir, `${name}.sym`);
  const wasmPath = join(outDir, `${name}_js`, `${name}.wasm`);
  for (const f of [r1csPath, symPath, wasmPath]) {
    await stat(f).catch((cause: unknown) => {
      throw new ZkonnxError('CIRCOM_FAILED', `circom reported success on ${circuitPath} but did not write ${f}`, { file: circuitPath, cause, output });
    });
  }
  // The generated witness_calculator.js / generate_witness.js are CommonJS; this lets
  // `node <name>_js/generate_witness.js` work inside a "type": "module" package too.
  await writeFile(join(outDir, `${name}_js`, 'package.json'), '{ "type": "commonjs" }\n');

  const h = await readR1csHeader(r1csPath);
  const compiled: CompiledCircuit = {
    r1csPath,
    wasmPath,
    symPath,
    constraints: h.nConstraints,
    wires: h.nWires,
    publicInputs: h.nPubIn,
    publicOutputs: h.nPubOut,
    privateInputs: h.nPrvIn,
    labels: h.nLabels,
    seconds,
  };
  opts.progress?.info?.(
    `${name}: ${compiled.constraints} constraints, ${compiled.wires} wires, ` +
      `${compiled.publicInputs} public inputs, ${compiled.publicOutputs} public outputs, ${compiled.privateInputs} private inputs (${seconds.toFixed(2)} s)`,
  );
  return compiled;
}
