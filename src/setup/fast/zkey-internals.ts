// The snarkjs modules the fast zkey writer uses beyond those of snarkjs-internals.ts: the zkey
// header and MPC-parameter writers (zkey_utils.js), hashToG2 (keypair.js) and readPTauHeader
// (powersoftau_utils.js). Loaded by file path from the installed snarkjs, like
// snarkjs-internals.ts, so that Node's module cache gives the very instances snarkjs runs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keepingCurve, type Blake2bHasher, type WasmCurve } from './snarkjs-internals.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface ZkeyContribution {
  deltaAfter: Uint8Array;
  delta: { g1_s: Uint8Array; g1_sx: Uint8Array; g2_spx: Uint8Array };
  transcript: Uint8Array;
  type: 0;
  name?: string;
}

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
    writeMPCParams(fd: any, curve: WasmCurve, mpcParams: { csHash: Uint8Array; contributions: ZkeyContribution[] }): Promise<void>;
    hashG1(hasher: Blake2bHasher, curve: WasmCurve, p: Uint8Array): void;
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
  const [zkeyUtils, keyPair, ptauUtils] = await Promise.all([import(src('zkey_utils.js')), import(src('keypair.js')), import(src('powersoftau_utils.js'))]);
  return { zkeyUtils, hashToG2: keyPair.hashToG2, readPTauHeader: ptauUtils.readPTauHeader };
}
