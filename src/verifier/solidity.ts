import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Groth16Proof, PublicSignals, SolidityCallArgs } from './types.js';

import { snarkjs } from '../snark.js';

/**
 * Directory of the installed snarkjs package. Its `exports` map only exposes ".", so the
 * template cannot be resolved as a subpath: resolve the entry point and walk up to the
 * package.json named snarkjs (require resolves to build/main.cjs, import to main.js).
 */
function snarkjsRoot(): string {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('snarkjs'));
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', 'cannot resolve the snarkjs package', {
      hint: 'install it: npm i snarkjs',
      cause,
    });
  }
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'snarkjs') return dir;
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new ZkonnxError('ONCHAIN_FAILED', 'cannot find the snarkjs package root', { hint: 'reinstall snarkjs' });
    dir = up;
  }
}

/** Path of snarkjs's own Groth16 Solidity template (templates/verifier_groth16.sol.ejs). */
export function snarkjsGroth16TemplatePath(): string {
  return join(snarkjsRoot(), 'templates', 'verifier_groth16.sol.ejs');
}

/**
 * Groth16 verifier contract (Solidity source, contract `Groth16Verifier`) for a final .zkey,
 * rendered by snarkjs from its own template, so it is byte-for-byte what
 * `snarkjs zkey export solidityverifier` writes.
 */
export async function exportSolidityVerifier(zkeyPath: string): Promise<string> {
  const templatePath = snarkjsGroth16TemplatePath();
  let template: string;
  try {
    template = await readFile(templatePath, 'utf8');
  } catch (cause) {
    throw new ZkonnxError('ONCHAIN_FAILED', `cannot read snarkjs's Groth16 verifier template ${templatePath}`, {
      file: templatePath,
      hint: 'reinstall snarkjs (npm i snarkjs); the template ships in its templates/ folder',
      cause,
    });
  }
  let source: string;
  try {
    source = await snarkjs.zKey.exportSolidityVerifier(zkeyPath, { groth16: template });
  } catch (cause) {
    throw new ZkonnxError('BAD_ARGUMENT', `cannot export a Solidity verifier from ${zkeyPath}: ${String((cause as Error)?.message ?? cause)}`, {
      file: zkeyPath,
      hint: 'pass a Groth16 .zkey (e.g. circuit_final.zkey); PLONK/FFLONK keys have other verifiers',
      cause,
    });
  }
  // snarkjs picks the template by the key's protocol; only groth16 is provided, so anything else renders nothing.
  if (typeof source !== 'string' || !source.includes('contract Groth16Verifier')) {
    throw new ZkonnxError('BAD_ARGUMENT', `${zkeyPath} is not a Groth16 proving key`, {
      file: zkeyPath,
      hint: 'zkonnx verifies Groth16 proofs only',
    });
  }
  return source;
}

/**
 * Number of public signals the verifier takes, read from its `verifyProof` signature
 * (`uint[N] calldata _pubSignals`).
 */
export function verifierPublicCount(verifierSol: string): number {
  const m = /function\s+verifyProof\s*\([^)]*uint(?:256)?\s*\[\s*(\d+)\s*\]\s+calldata\s+_pubSignals/.exec(verifierSol);
  if (!m) {
    throw new ZkonnxError('BAD_ARGUMENT', 'verifier source has no snarkjs Groth16 `verifyProof(..., uint[N] calldata _pubSignals)` function', {
      hint: 'pass the Solidity source returned by exportSolidityVerifier (snarkjs Groth16 template)',
    });
  }
  return Number(m[1]);
}

const UINT256_MAX = (1n << 256n) - 1n;

/** Parses one proof / signal coordinate; values must fit a uint256 (range checks against the fields are the verifier's job). */
function toUint256(value: unknown, what: string): bigint {
  let v: bigint;
  try {
    if (typeof value !== 'string' && typeof value !== 'bigint' && typeof value !== 'number') throw new Error('not a string');
    v = BigInt(value);
  } catch {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: expected a decimal integer string, received ${JSON.stringify(String(value))}`, {
      signal: what,
    });
  }
  if (v < 0n || v > UINT256_MAX) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: ${v} does not fit in a uint256`, { signal: what });
  }
  return v;
}

function pair(arr: unknown, what: string, minLen: number): unknown[] {
  if (!Array.isArray(arr) || arr.length < minLen) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what}: expected an array of at least ${minLen} coordinates, received ${JSON.stringify(arr)}`, {
      signal: what,
      hint: 'pass snarkjs proof.json as parsed JSON',
    });
  }
  return arr;
}

/**
 * snarkjs proof.json + public.json → typed arguments of `verifyProof`. Same mapping as
 * `snarkjs zkey export soliditycalldata`: the projective z of A and C is dropped, and each
 * G2 coordinate of B is written (c1, c0), the order the bn256 pairing precompile (EIP-197) reads.
 */
export function solidityCallArgs(proof: Groth16Proof, publicSignals: PublicSignals): SolidityCallArgs {
  if (proof === null || typeof proof !== 'object') {
    throw new ZkonnxError('BAD_ARGUMENT', `proof: expected a snarkjs proof.json object, received ${typeof proof}`);
  }
  if (proof.protocol !== undefined && proof.protocol !== 'groth16') {
    throw new ZkonnxError('BAD_ARGUMENT', `proof: protocol "${proof.protocol}" is not groth16`);
  }
  if (proof.curve !== undefined && proof.curve !== 'bn128' && proof.curve !== 'bn254') {
    throw new ZkonnxError('BAD_ARGUMENT', `proof: curve "${proof.curve}" is not bn128; the EVM precompiles only support BN254`);
  }
  if (!Array.isArray(publicSignals)) {
    throw new ZkonnxError('BAD_ARGUMENT', `publicSignals: expected an array (public.json), received ${typeof publicSignals}`);
  }
  const a = pair(proof.pi_a, 'pi_a', 2);
  const b = pair(proof.pi_b, 'pi_b', 2);
  const b0 = pair(b[0], 'pi_b[0]', 2);
  const b1 = pair(b[1], 'pi_b[1]', 2);
  const c = pair(proof.pi_c, 'pi_c', 2);
  return {
    pA: [toUint256(a[0], 'pi_a[0]'), toUint256(a[1], 'pi_a[1]')],
    pB: [
      [toUint256(b0[1], 'pi_b[0][1]'), toUint256(b0[0], 'pi_b[0][0]')],
      [toUint256(b1[1], 'pi_b[1][1]'), toUint256(b1[0], 'pi_b[1][0]')],
    ],
    pC: [toUint256(c[0], 'pi_c[0]'), toUint256(c[1], 'pi_c[1]')],
    pubSignals: publicSignals.map((s, i) => toUint256(s, `publicSignals[${i}]`)),
  };
}
