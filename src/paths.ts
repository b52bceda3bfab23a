// The one owner of artifact paths: every file zkonnx writes or reads in a build folder is named
// here, from a closed set of kinds (after circomkit's pathing).
import { dirname, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ZkonnxError } from './errors.js';

export type BuildArtifact =
  | 'settings' | 'qgraph' | 'circuit' | 'library' | 'r1cs' | 'sym' | 'wasm'
  | 'zkey' | 'vkey' | 'verifierSol' | 'model' | 'commitLibrary' | 'weights' | 'chunk';

const BUILD_FILES: Record<BuildArtifact, string> = {
  settings: 'settings.json',
  qgraph: 'qgraph.json',
  circuit: 'circuit.circom',
  library: 'zkonnx.circom',
  r1cs: 'circuit.r1cs',
  sym: 'circuit.sym',
  wasm: join('circuit_js', 'circuit.wasm'),
  zkey: 'circuit_final.zkey',
  vkey: 'verification_key.json',
  verifierSol: 'Verifier.sol',
  model: 'model.onnx',
  commitLibrary: 'commit.circom',
  /** --weights hashed: the committed weights (private: the prover needs them, the verifier never). */
  weights: 'weights.json',
  /** In chunks/<k>/ of a split build: the chunk's value map and links (src/split.ts). */
  chunk: 'chunk.json',
};

export type ProofArtifact = 'input' | 'witness' | 'proof' | 'public' | 'output' | 'salts';

const PROOF_FILES: Record<ProofArtifact, string> = {
  input: 'input.json',
  witness: 'witness.wtns',
  proof: 'proof.json',
  public: 'public.json',
  output: 'output.json',
  /** compile --salt: the salts that open this proof's commitments (private, like input.json). */
  salts: 'salts.json',
};

/** A proof artifact's file in a proof folder (or its staging copy). */
export const proofFileIn = (dir: string, kind: ProofArtifact) => join(dir, PROOF_FILES[kind]);

export class BuildPaths {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }
  file(kind: BuildArtifact): string {
    return join(this.dir, BUILD_FILES[kind]);
  }
  /** Chunk k of a split build (compile --split): a build folder of its own, the same file names. */
  chunkDir(k: number): string {
    return join(this.dir, 'chunks', String(k));
  }
  /** proofs/<name>; a name is one path segment of letters, digits, '.', '_' and '-' (never '..'). */
  proofDir(name: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(name) || name.includes('..')) {
      throw new ZkonnxError('BAD_ARGUMENT', `proof name ${JSON.stringify(name)} is not a plain folder name`, {
        hint: 'use letters, digits, ".", "_" and "-" (the proof is written to <build>/proofs/<name>)',
      });
    }
    return join(this.dir, 'proofs', name);
  }
  proofFile(name: string, kind: ProofArtifact): string {
    return proofFileIn(this.proofDir(name), kind);
  }
  /** The file, or an error that says which step makes it. */
  require(kind: BuildArtifact, madeBy: string): string {
    const f = this.file(kind);
    if (!existsSync(f)) {
      throw new ZkonnxError('ARTIFACT_MISSING', `${f} does not exist`, { file: f, hint: `run \`zkonnx ${madeBy}\` first` });
    }
    return f;
  }
}

/** Default build folder of a model file: build/<model name>. */
export function defaultBuildDir(modelPath: string): string {
  const base = modelPath.replace(/\\/g, '/').split('/');
  const file = base.pop() ?? 'model';
  const stem = file.replace(/\.onnx$/, '');
  // models/<name>/model.onnx and conformance/<name>/network.onnx are named by their folder
  const name = (stem === 'model' || stem === 'network') && base.length ? base[base.length - 1]! : stem;
  return join('build', name);
}

/** The package root (where package.json names zkonnx), from src/ or from dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'zkonnx') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('zkonnx package root not found');
    dir = up;
  }
}

export const circuitsDir = () => join(packageRoot(), 'circuits');

/** circomlib's circuits/ folder (Poseidon for circuits/commit.circom), wherever npm put it. */
export const circomlibDir = () => join(dirname(createRequire(import.meta.url).resolve('circomlib/package.json')), 'circuits');

/** Cache of powers-of-tau files, shared by every model: $ZKONNX_CACHE or ~/.cache/zkonnx. */
export function cacheDir(): string {
  return process.env.ZKONNX_CACHE ? resolve(process.env.ZKONNX_CACHE) : join(homedir(), '.cache', 'zkonnx');
}
