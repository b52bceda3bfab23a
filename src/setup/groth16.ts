// Groth16 keys for a compiled circuit: circuit_final.zkey (snarkjs format, one phase-2
// contribution on top of the ptau) and verification_key.json. The setup is a module of its own
// so that a faster implementation can replace it behind the same function.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { readR1csHeader, snarkjs, snarkLogger } from '../snark.js';
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
  const logger = snarkLogger(progress);
  const tmp0 = `${opts.zkeyPath}.0.tmp`;
  const tmp1 = `${opts.zkeyPath}.1.tmp`;
  try {
    progress?.step?.(`groth16 keys (${header.nConstraints} constraints, domain 2^${power})`);
    const errors: string[] = [];
    const collecting = { ...logger, error: (m: string) => { errors.push(m); logger.error(m); } };
    const r = await snarkjs.zKey.newZKey(opts.r1csPath, ptauPath, tmp0, collecting);
    if (r === -1 || !existsSync(tmp0)) {
      const tooSmall = errors.some((e) => /too big/.test(e));
      throw new ZkonnxError(tooSmall ? 'PTAU_TOO_SMALL' : 'SETUP_FAILED',
        tooSmall ? `${ptauPath} is too small: the circuit (${header.nConstraints} constraints) needs powers of tau 2^${power}` : `snarkjs could not make the zkey: ${errors.join('; ') || 'unknown error'}`,
        { file: ptauPath, hint: tooSmall ? `use a ptau file of power ${power} or more` : undefined });
    }
    await snarkjs.zKey.contribute(tmp0, tmp1, 'zkonnx phase-2 contribution', randomBytes(32).toString('hex'), logger);
    const vkey = await snarkjs.zKey.exportVerificationKey(tmp1, logger);
    renameSync(tmp1, opts.zkeyPath);
    writeFileSync(opts.vkeyPath, JSON.stringify(vkey, null, 1));
  } finally {
    rmSync(tmp0, { force: true });
    rmSync(tmp1, { force: true });
  }
  return { power, ptauPath, singleParty, ptauCreated: created, seconds: (performance.now() - t0) / 1000 };
}
