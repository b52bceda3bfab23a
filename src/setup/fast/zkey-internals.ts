// The snarkjs modules the fast zkey writer and phase2.ts use beyond those of snarkjs-internals.ts:
// the zkey header and MPC-parameter readers and writers (zkey_utils.js), hashToG2 (keypair.js),
// readPTauHeader (powersoftau_utils.js) and the contributions' random generators (misc.js). Loaded by file path from the installed snarkjs, like
// snarkjs-internals.ts, so that Node's module cache gives the very instances snarkjs runs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keepingCurve, type Blake2bHasher, type WasmCurve } from './snarkjs-internals.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface ZkeyHeader {
  q: bigint;
  r: bigint;
  nVars: number;
  nPublic: number;
  domainSize: number;
  vk_alpha_1: Uint8Array;
  vk_beta_1: Uint8Array;
  vk_beta_2: Uint8Array;
  vk_gamma_2: Uint8Array;
  vk_delta_1: Uint8Array;
  vk_delta_2: Uint8Array;
}

export interface ZkeyInternals {
  zkeyUtils: {
    writeHeader(fd: any, zkey: ZkeyHeader): Promise<void>;
    writeMPCParams(fd: any, curve: WasmCurve, mpcParams: { csHash: Uint8Array; contributions: unknown[] }): Promise<void>;
    hashG1(hasher: Blake2bHasher, curve: WasmCurve, p: Uint8Array): void;
    /** the header of a zkey being read (phase2.ts), with its protocol */
    readHeader(fd: any, sections: any): Promise<ZkeyHeader & { protocol: string }>;
    readMPCParams(fd: any, curve: WasmCurve, sections: any): Promise<{ csHash: Uint8Array; contributions: unknown[] }>;
    hashPubKey(hasher: Blake2bHasher, curve: WasmCurve, contribution: unknown): void;
  };
  /** the random generators of snarkjs's contribute (entropy mixed with the system's) and beacon */
  misc: {
    getRandomRng(entropy: string): Promise<unknown>;
    rngFromBeaconParams(beaconHash: Uint8Array, iterationsExp: number): Promise<unknown>;
    hex2ByteArray(hex: string): Uint8Array;
  };
  hashToG2(curve: WasmCurve, hash: Uint8Array): Uint8Array;
  readPTauHeader(fd: any, sections: any): Promise<{ curve: WasmCurve & { q: bigint; r: bigint }; power: number; ceremonyPower: number }>;
}

let cached: Promise<ZkeyInternals> | undefined;

export function zkeyInternals(): Promise<ZkeyInternals> {
  cached ??= keepingCurve(load);
  return cached;
}

async function load(): Promise<ZkeyInternals> {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('snarkjs')), '..');
  const src = (f: string) => pathToFileURL(join(root, 'src', f)).href;
  const [zkeyUtils, keyPair, ptauUtils, misc] = await Promise.all([import(src('zkey_utils.js')), import(src('keypair.js')), import(src('powersoftau_utils.js')), import(src('misc.js'))]);
  return { zkeyUtils, hashToG2: keyPair.hashToG2, readPTauHeader: ptauUtils.readPTauHeader, misc };
}
