// snarkjs modules that its package `exports` map does not expose (powers-of-tau file utils, the
// contribution key, the blake2b partial-hash trick), loaded by file path from the installed
// snarkjs so that the bytes we write are made by the very code that reads them. Node caches ES
// modules by URL, and snarkjs's main.js imports these same files, so there is one instance.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** ffjavascript's wasm curve, as far as this module uses it. Elements are Uint8Array (Montgomery). */
export interface WasmField {
  n8: number;
  one: Uint8Array;
  zero: Uint8Array;
  s: number;
  w: Uint8Array[];
  e(a: bigint | number | string): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  sub(a: Uint8Array, b: Uint8Array): Uint8Array;
  mul(a: Uint8Array, b: Uint8Array): Uint8Array;
  square(a: Uint8Array): Uint8Array;
  inv(a: Uint8Array): Uint8Array;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  isZero(a: Uint8Array): boolean;
  exp(a: Uint8Array, e: number | bigint): Uint8Array;
  fromRprLE(buff: Uint8Array, offset?: number): Uint8Array;
  batchInverse(buff: Uint8Array): Promise<Uint8Array>;
  batchApplyKey(buff: Uint8Array, first: Uint8Array, inc: Uint8Array): Promise<Uint8Array>;
}

export interface WasmGroup {
  F: { n8: number };
  g: Uint8Array;
  oneAffine: Uint8Array;
  zeroAffine: Uint8Array;
  timesFr(p: Uint8Array, s: Uint8Array): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  fromRng(rng: unknown): Uint8Array;
  fromRprLEM(buff: Uint8Array, pos?: number): Uint8Array;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  batchApplyKey(buff: Uint8Array, first: Uint8Array, inc: Uint8Array, inType?: string, outType?: string): Promise<Uint8Array>;
  batchLEMtoC(buff: Uint8Array): Promise<Uint8Array>;
  batchLEMtoU(buff: Uint8Array): Promise<Uint8Array>;
}

export interface ThreadManager {
  concurrency: number;
  queueAction(task: unknown[]): Promise<Uint8Array[]>;
}

export interface WasmCurve {
  name: string;
  Fr: WasmField;
  F1: { n8: number; n64: number };
  F2: { n8: number };
  G1: WasmGroup;
  G2: WasmGroup;
  tm: ThreadManager;
}

export interface Blake2bHasher {
  update(data: Uint8Array): Blake2bHasher;
  digest(): Uint8Array;
}

export interface SnarkjsInternals {
  ptauUtils: {
    writePTauHeader(fd: any, curve: WasmCurve, power: number, ceremonyPower?: number): Promise<void>;
    writeContributions(fd: any, curve: WasmCurve, contributions: unknown[]): Promise<void>;
    calculateFirstChallengeHash(curve: WasmCurve, power: number, logger?: unknown): Uint8Array;
    readPTauHeader(fd: any, sections: any): Promise<{ curve: WasmCurve; power: number; ceremonyPower: number }>;
    readContributions(fd: any, curve: WasmCurve, sections: any): Promise<any[]>;
    keyFromBeacon(curve: WasmCurve, challenge: Uint8Array, beaconHash: Uint8Array, numIterationsExp: number): Promise<any>;
    toPtauPubKeyRpr(buff: Uint8Array, pos: number, curve: WasmCurve, key: unknown, montgomery: boolean): Uint8Array;
  };
  misc: { toPartialHash(h: Blake2bHasher): Uint8Array };
  keyPair: { getG2sp(curve: WasmCurve, personalization: number, challenge: Uint8Array, g1s: Uint8Array, g1sx: Uint8Array): Uint8Array };
  binFileUtils: {
    createBinFile(fileName: string, type: string, version: number, nSections: number): Promise<any>;
    readBinFile(fileName: string, type: string, maxVersion: number): Promise<{ fd: any; sections: any }>;
    startWriteSection(fd: any, id: number): Promise<void>;
    endWriteSection(fd: any): Promise<void>;
    readSection(fd: any, sections: any, id: number): Promise<Uint8Array>;
    copySection(fdFrom: any, sections: any, fdTo: any, id: number): Promise<void>;
  };
  blake2b: { create(opts: { dkLen: number }): Blake2bHasher };
  ChaCha: new (seed: number[]) => unknown;
}

let cached: Promise<SnarkjsInternals> | undefined;

export function snarkjsInternals(): Promise<SnarkjsInternals> {
  cached ??= keepingCurve(load);
  return cached;
}

/**
 * Runs `fn` (which may import snarkjs's src/ modules for the first time) without losing the
 * process's bn128 curve. ffjavascript's ESM bn128.js sets `globalThis.curve_bn128 = null` when it
 * is first evaluated; if a curve was already built (its worker threads running) through another
 * copy of ffjavascript, that curve is orphaned: the next getCurveFromName builds a second one,
 * releaseCurves() ends only that one, and the orphan's workers keep the process alive forever.
 */
export async function keepingCurve<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as { curve_bn128?: unknown };
  const before = g.curve_bn128;
  try {
    return await fn();
  } finally {
    if (before && !g.curve_bn128) g.curve_bn128 = before;
  }
}


async function load(): Promise<SnarkjsInternals> {
  const require = createRequire(import.meta.url);
  // `require.resolve('snarkjs')` gives build/main.cjs; its src/ sits beside build/.
  const root = join(dirname(require.resolve('snarkjs')), '..');
  const src = (f: string) => pathToFileURL(join(root, 'src', f)).href;
  const fromSnarkjs = createRequire(join(root, 'src', 'misc.js'));
  const [ptauUtils, misc, keyPair, binFileUtils, ffjs] = await Promise.all([
    import(src('powersoftau_utils.js')),
    import(src('misc.js')),
    import(src('keypair.js')),
    import(pathToFileURL(fromSnarkjs.resolve('@iden3/binfileutils')).href),
    import(pathToFileURL(fromSnarkjs.resolve('ffjavascript')).href),
  ]);
  // The same @noble/hashes that snarkjs's misc.fromPartialHash reads the internals of.
  const { blake2b } = fromSnarkjs('@noble/hashes/blake2b') as { blake2b: SnarkjsInternals['blake2b'] };
  return { ptauUtils, misc, keyPair, binFileUtils, blake2b, ChaCha: (ffjs as any).ChaCha ?? (ffjs as any).default?.ChaCha };
}
