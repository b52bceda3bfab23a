import { createHash } from 'node:crypto';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';

export interface CompiledContract {
  /** JSON ABI as solc emits it (ethers accepts it as is). */
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
  /** Runtime bytecode, 0x-prefixed (its length is what EIP-170's 24,576-byte limit applies to). */
  deployedBytecode: string;
}

export interface CompileOptions {
  /** Optimizer runs (default 200; the optimizer is always on). */
  optimizerRuns?: number;
  /** EVM version (e.g. "cancun"); default: solc's own default. */
  evmVersion?: string;
  progress?: Progress;
}

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  type: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: { file: string; start: number; end: number };
}

interface SolcOutput {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

interface Solc {
  version(): string;
  compile(input: string): string;
}

let solcPromise: Promise<Solc> | undefined;

/** solc-js loads a ~10 MB WebAssembly build at import: load it once, only when first needed. */
function loadSolc(): Promise<Solc> {
  solcPromise ??= import('solc').then((m) => ((m as { default?: unknown }).default ?? m) as Solc);
  return solcPromise;
}

const cache = new Map<string, Record<string, CompiledContract>>();

/** 1-based line and column of a byte offset (solc reports offsets in UTF-8 bytes). */
function lineCol(source: string, byteOffset: number): { line: number; column: number } {
  const prefix = Buffer.from(source, 'utf8').subarray(0, Math.max(0, byteOffset)).toString('utf8');
  const lines = prefix.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

function where(e: SolcError, sources: Record<string, string>): string {
  const loc = e.sourceLocation;
  if (!loc || sources[loc.file] === undefined) return loc?.file ?? '<solc>';
  const { line, column } = lineCol(sources[loc.file]!, loc.start);
  return `${loc.file}:${line}:${column}`;
}

/**
 * Compiles Solidity sources with solc-js (standard JSON, optimizer on). Returns every
 * contract keyed "file:Contract". Compile errors throw ONCHAIN_FAILED naming file:line:col;
 * warnings go to progress.warn. Results are cached per input within the process.
 */
export async function compileSolidity(sources: Record<string, string>, opts: CompileOptions = {}): Promise<Record<string, CompiledContract>> {
  const runs = opts.optimizerRuns ?? 200;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new ZkonnxError('BAD_ARGUMENT', `optimizerRuns: expected a positive integer, received ${runs}`);
  }
  const input = JSON.stringify({
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([file, content]) => [file, { content }])),
    settings: {
      optimizer: { enabled: true, runs },
      ...(opts.evmVersion ? { evmVersion: opts.evmVersion } : {}),
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  });
  const key = createHash('sha256').update(input).digest('hex');
  const hit = cache.get(key);
  if (hit) return hit;

  const solc = await loadSolc();
  opts.progress?.step?.(`solc ${solc.version()}: compiling ${Object.keys(sources).join(', ')}`);
  let output: SolcOutput;
  try {
    output = JSON.parse(solc.compile(input)) as SolcOutput;
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', `solc crashed: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }

  const problems = output.errors ?? [];
  for (const w of problems.filter((e) => e.severity === 'warning')) {
    opts.progress?.warn?.(`solc warning at ${where(w, sources)}: ${w.message}`);
  }
  const errors = problems.filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0]!;
    const at = where(first, sources);
    throw new ZkonnxError(
      'ONCHAIN_FAILED',
      `Solidity compile failed at ${at}: ${first.type}: ${first.message}` + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''),
      {
        file: first.sourceLocation?.file,
        errors: errors.map((e) => `${where(e, sources)}: ${e.type}: ${e.message}`),
        hint: 'the details list every error; solc version ' + solc.version(),
      },
    );
  }

  const result: Record<string, CompiledContract> = {};
  for (const [file, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(contracts)) {
      result[`${file}:${name}`] = {
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      };
    }
  }
  cache.set(key, result);
  return result;
}
