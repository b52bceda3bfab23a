/**
 * Build, prove and verify a hand-generated circuit (membership, training steps) the way a model
 * is built: one folder with snarkjs's file names (BuildPaths), circuits/zkonnx.circom and
 * circuits/commit.circom beside the source, circomlib on the include path, our Groth16 setup.
 * The folder appears only when everything in it is good (built in a sibling, then renamed).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { compileCircom } from '../circom/compile.js';
import { ZkonnxError } from '../errors.js';
import { checkKeys } from '../setup/keys.js';
import type { Progress } from '../log.js';
import { BuildPaths, circomlibDir, circuitsDir } from '../paths.js';
import { computeWitness, getProver, type ProverBackend } from '../prover/index.js';
import { setupGroth16 } from '../setup/groth16.js';
import { verifyGroth16 } from '../verify-proof.js';

export interface StandaloneInfo {
  /** What the circuit proves, in a line (for people reading circuit.json). */
  kind: string;
  constraints: number;
  publicInputs: number;
  publicOutputs: number;
  /** Names of the public signals in snarkjs's order (outputs first, then public inputs). */
  publicSignals: string[];
  compileSeconds: number;
  setupSeconds: number;
  /** Anything the generator wants to keep (parameters, scales). */
  params: Record<string, unknown>;
}

const INFO = 'circuit.json';

/** Compiles `source` (a whole circom file, main component included) and runs the setup into `dir`. */
export async function buildStandalone(opts: {
  dir: string;
  source: string;
  kind: string;
  publicSignals: string[];
  params?: Record<string, unknown>;
  ptau?: string;
  progress?: Progress;
}): Promise<StandaloneInfo> {
  const dir = resolve(opts.dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const paths = new BuildPaths(tmp);
    writeFileSync(paths.file('circuit'), opts.source);
    for (const lib of ['zkonnx.circom', 'commit.circom']) copyFileSync(join(circuitsDir(), lib), join(tmp, lib));
    const c = await compileCircom({ circuitPath: paths.file('circuit'), outDir: tmp, includePaths: [circomlibDir()], progress: opts.progress });
    if (c.publicInputs + c.publicOutputs !== opts.publicSignals.length) {
      throw new ZkonnxError('CIRCOM_FAILED', `${opts.kind}: the circuit has ${c.publicInputs + c.publicOutputs} public signals, the generator named ${opts.publicSignals.length}`);
    }
    const s = await setupGroth16({ r1csPath: c.r1csPath, zkeyPath: paths.file('zkey'), vkeyPath: paths.file('vkey'), ptau: opts.ptau, progress: opts.progress });
    const info: StandaloneInfo = {
      kind: opts.kind, constraints: c.constraints, publicInputs: c.publicInputs, publicOutputs: c.publicOutputs,
      publicSignals: opts.publicSignals, compileSeconds: c.seconds, setupSeconds: s.seconds, params: opts.params ?? {},
    };
    writeFileSync(join(tmp, INFO), JSON.stringify(info, null, 1));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
    return info;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export function readStandalone(dir: string): StandaloneInfo {
  const f = join(dir, INFO);
  if (!existsSync(f)) throw new ZkonnxError('ARTIFACT_MISSING', `${f} does not exist`, { file: f, hint: 'build the circuit first' });
  return JSON.parse(readFileSync(f, 'utf8')) as StandaloneInfo;
}

export interface StandaloneProof {
  proof: Groth16Proof;
  publicSignals: string[];
  seconds: { witness: number; prove: number };
}

/** Witness + Groth16 proof for `input` (signal name → value(s)); writes proof.json/public.json to outDir if given. */
export async function proveStandalone(dir: string, input: Record<string, unknown>, opts: { outDir?: string; backend?: ProverBackend; allowSoftwareGpu?: boolean; progress?: Progress } = {}): Promise<StandaloneProof> {
  const paths = new BuildPaths(dir);
  const zkey = paths.require('zkey', 'setup');
  const wasm = paths.require('wasm', 'compile');
  checkKeys(zkey, paths.file('vkey'));
  const prover = await getProver(opts.backend, { allowSoftware: opts.allowSoftwareGpu });
  const work = opts.outDir ?? `${resolve(dir)}/.prove-${process.pid}`;
  mkdirSync(work, { recursive: true });
  const wtns = join(work, 'witness.wtns');
  try {
    const t0 = performance.now();
    await computeWitness(wasm, input, wtns);
    const t1 = performance.now();
    const { proof, publicSignals } = await prover.prove(zkey, wtns, opts.progress);
    const t2 = performance.now();
    if (opts.outDir) {
      writeFileSync(join(work, 'proof.json'), JSON.stringify(proof, null, 1));
      writeFileSync(join(work, 'public.json'), JSON.stringify(publicSignals, null, 1));
    }
    return { proof, publicSignals, seconds: { witness: (t1 - t0) / 1000, prove: (t2 - t1) / 1000 } };
  } finally {
    if (!opts.outDir) rmSync(work, { recursive: true, force: true });
  }
}

/** Off-chain verification with the folder's verification key; malformed proofs are invalid, not errors. */
export async function verifyStandalone(dir: string, proof: Groth16Proof, publicSignals: string[]): Promise<boolean> {
  const vk = JSON.parse(readFileSync(new BuildPaths(dir).require('vkey', 'setup'), 'utf8')) as VerificationKey;
  return verifyGroth16(vk, publicSignals, proof);
}
