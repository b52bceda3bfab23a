// Powers of tau: a cache of locally generated (single-party) files keyed by power, or a public
// ceremony file the user names. Files are made by our fast generator (fast-ptau.ts: Lagrange
// points straight from τ, no curve FFT) in snarkjs's prepared format, once per power.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { cacheDir } from '../paths.js';
import { FAST_PTAU_MAX_POWER, generatePreparedPtau } from './fast-ptau.js';
import type { R1csHeader } from '../circom/r1cs.js';

/** Smallest cached power: tiny circuits share one file instead of making one each. */
export const MIN_POWER = 8;
export const MAX_POWER = FAST_PTAU_MAX_POWER;

/** The power snarkjs needs: 2^power > constraints + public inputs + public outputs. */
export function requiredPower(h: R1csHeader): number {
  const n = h.nConstraints + h.nPubIn + h.nPubOut;
  return Math.floor(Math.log2(Math.max(1, n))) + 1;
}

export function cachedPtauPath(power: number, dir = cacheDir()): string {
  return join(dir, 'ptau', `local_${String(power).padStart(2, '0')}.ptau`);
}

/**
 * A prepared ptau of at least `power`: the smallest cached one that fits, or a new one.
 * A new file is written beside its final name and renamed when complete, so an interrupted run
 * never leaves a truncated file that looks good.
 */
export async function localPtau(power: number, progress?: Progress, dir = cacheDir()): Promise<{ path: string; power: number; created: boolean }> {
  if (power > MAX_POWER) throw new ZkonnxError('SETUP_FAILED', `the circuit needs powers of tau 2^${power}, above the supported 2^${MAX_POWER}`);
  const want = Math.max(power, MIN_POWER);
  for (let p = want; p <= MAX_POWER; p++) {
    const f = cachedPtauPath(p, dir);
    if (existsSync(f)) return { path: f, power: p, created: false };
  }
  const final = cachedPtauPath(want, dir);
  mkdirSync(join(dir, 'ptau'), { recursive: true });
  // One generator per power across processes (parallel test files, several CLIs): the others wait.
  const lock = `${final}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      if (existsSync(final)) return { path: final, power: want, created: false };
      if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true });
      else await sleep(1000);
    }
  }
  try {
    if (existsSync(final)) return { path: final, power: want, created: false };
    return await generate(want, final, progress);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A lock whose process is gone (killed while generating) is stale. */
function lockIsStale(lock: string): boolean {
  const pid = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
  if (!Number.isInteger(pid)) {
    // created but the pid not yet written: stale only if that was long ago
    return Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 60_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function generate(want: number, final: string, progress?: Progress): Promise<{ path: string; power: number; created: boolean }> {
  progress?.warn?.(`generating a powers-of-tau file of 2^${want} locally: this is a SINGLE-PARTY ceremony, fit for development only; pass --ptau with a public ceremony file (Hermez, perpetual powers of tau) for production`);
  progress?.step?.(`powers of tau 2^${want} (cached in ${final})`);
  await generatePreparedPtau(want, final, { progress });
  return { path: final, power: want, created: true };
}
