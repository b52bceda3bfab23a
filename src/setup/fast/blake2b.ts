// BLAKE2b-512 from Node's OpenSSL: the digest snarkjs's @noble/hashes `blake2b({ dkLen: 64 })`
// makes (no key, salt or personalization), at ~20x its speed on this machine (noble's pure
// JavaScript hashes ~31 MB/s, and a 2^20 setup hashes ~1 GB of points). The one hash that stays
// noble's is a ptau contribution's response hash: its partial state goes into the file
// (snarkjs's misc.toPartialHash reads noble's internal state).
import { createHash } from 'node:crypto';
import type { Blake2bHasher } from './snarkjs-internals.js';

export function blake2b512(): Blake2bHasher {
  const h = createHash('blake2b512');
  const self: Blake2bHasher = {
    update(data: Uint8Array) {
      h.update(data);
      return self;
    },
    digest: () => new Uint8Array(h.digest()),
  };
  return self;
}

/**
 * The challenge hash of `powersoftau new`'s accumulator (every point the generator), as
 * snarkjs's calculateFirstChallengeHash computes it: the hash of an empty input, then the
 * uncompressed generator 2·2^power − 1 times (G1), 2^power times (G2, G1, G1), and once (G2).
 */
export function firstChallengeHash(g1Uncompressed: Uint8Array, g2Uncompressed: Uint8Array, power: number): Uint8Array {
  const hasher = blake2b512();
  hasher.update(blake2b512().digest());
  const block = (p: Uint8Array, n: number): void => {
    const per = Math.min(n, 1 << 14);
    const big = new Uint8Array(per * p.byteLength);
    for (let i = 0; i < per; i++) big.set(p, i * p.byteLength);
    for (let left = n; left > 0; left -= per) hasher.update(left >= per ? big : big.subarray(0, left * p.byteLength));
  };
  const n = 2 ** power;
  block(g1Uncompressed, 2 * n - 1);
  block(g2Uncompressed, n);
  block(g1Uncompressed, n);
  block(g1Uncompressed, n);
  hasher.update(g2Uncompressed);
  return hasher.digest();
}
