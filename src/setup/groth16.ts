// Groth16 keys for a compiled circuit: circuit_final.zkey (snarkjs format, one phase-2
// contribution on top of the ptau) and verification_key.json. The setup is a module of its own
// so that a faster implementation can replace it behind the same function.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { lock, removeStale } from '../fsafe.js';
import { recordKeys } from './keys.js';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { readR1csHeader, snarkjs, snarkLogger } from '../snark.js';
import { fastGroth16Keys } from './fast-zkey.js';
import { localPtau, requiredPower } from './ptau.js';

export interface SetupOptions {
  r1csPath: string;
  zkeyPath: string;
  vkeyPath: string;
  /** A public ceremony file; without it a cached local single-party ptau is used. */
  ptau?: string;
  cacheDir?: string;
  progress?: Progress;
}

export interface SetupResult {
  power: number;
  ptauPath: string;
  /** True when the keys rest on a locally generated (single-party) ceremony. */
  singleParty: boolean;
  ptauCreated: boolean;
  seconds: number;
}

export async function setupGroth16(opts: SetupOptions): Promise<SetupResult> {
  const t0 = performance.now();
  const { progress } = opts;
  const header = await readR1csHeader(opts.r1csPath);
  const power = requiredPower(header);
  let ptauPath: string;
  let created = false;
  let singleParty = true;
  if (opts.ptau) {
    if (!existsSync(opts.ptau)) throw new ZkonnxError('ARTIFACT_MISSING', `ptau file ${opts.ptau} not found`, { file: opts.ptau });
    ptauPath = opts.ptau;
    singleParty = false;
  } else {
    const local = await localPtau(power, progress, opts.cacheDir);
    ptauPath = local.path;
    created = local.created;
  }
  const tmp = `${opts.zkeyPath}.tmp-${process.pid}`;
  removeStale(opts.zkeyPath); // an interrupted setup's partial key
  const release = lock(opts.zkeyPath, `the keys ${opts.zkeyPath}`);
  try {
    progress?.step?.(`groth16 keys (${header.nConstraints} constraints, domain 2^${power})`);
    // our multi-threaded key generation with one phase-2 contribution (fresh δ), in snarkjs's format
    await fastGroth16Keys({ r1csPath: opts.r1csPath, ptauPath, zkeyPath: tmp, progress });
    const vkey = await snarkjs.zKey.exportVerificationKey(tmp, snarkLogger(progress));
    renameSync(tmp, opts.zkeyPath);
    writeFileSync(opts.vkeyPath, JSON.stringify(vkey, null, 1));
    recordKeys(opts.zkeyPath, opts.vkeyPath);
  } finally {
    rmSync(tmp, { force: true });
    release();
  }
  return { power, ptauPath, singleParty, ptauCreated: created, seconds: (performance.now() - t0) / 1000 };
}
