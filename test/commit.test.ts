/**
 * circuits/commit.circom against src/commit/: the same commitments and Merkle roots on random
 * data, and tampered witnesses (wrong path, wrong leaf, out-of-range values) rejected.
 */
import { describe, expect, it } from 'vitest';
import { MerkleTree, rootOf } from '../src/commit/merkle.js';
import { headerIv, pack, packedCommit, poseidon, signedCommit } from '../src/commit/poseidon.js';
import { circomlibDir } from '../src/paths.js';
import { CircuitTester } from './helpers/circuit-tester.js';
import { rng } from '../src/random.js';

const INCLUDE = { include: [`${circomlibDir()}/poseidon.circom`, 'circuits/commit.circom'] };

const randBits = (r: () => number, bits: number): bigint => {
  let x = 0n;
  for (let i = 0; i < bits; i += 16) x = (x << 16n) | BigInt(Math.floor(r() * 65536));
  return x & ((1n << BigInt(bits)) - 1n);
};

describe('Poseidon commitments (TypeScript)', () => {
  it('is circomlib Poseidon (the published test vector)', async () => {
    const h = await poseidon();
    expect(h([1n, 2n])).toBe(7853200120776062878684798364095072458815029376092732009249414926327459813530n);
  });
  it('packs little-endian and refuses values outside [0, 2^bits)', () => {
    expect(pack([1n, 2n, 3n], 8)).toEqual([0x030201n]);
    expect(pack(Array.from({ length: 32 }, () => 1n), 8).length).toBe(2); // 31 per element
    expect(() => pack([256n], 8)).toThrow(/outside \[0, 2\^8\)/);
    expect(() => pack([-1n], 8)).toThrow(/outside/);
  });
  it('length and width are part of the commitment', async () => {
    const a = await packedCommit([5n, 0n], 8);
    expect(await packedCommit([5n], 8)).not.toBe(a);
    expect(await packedCommit([5n, 0n], 9)).not.toBe(a);
  });
});

describe('PackedCommit / SignedCommit / MerkleRoot circuits', { timeout: 120_000 }, () => {
  // 40 values of 12 bits: 21 per element, 2 elements; 500 values of 8 bits: 17 elements, 2 runs.
  for (const [n, bits] of [[1, 1], [40, 12], [500, 8], [3, 253]] as const) {
    it(`PackedCommit(${n}, ${bits}) equals packedCommit on random data`, async () => {
      const t = await CircuitTester.fromSource(`packed_${n}_${bits}`, `component main = PackedCommit(${n}, ${bits}, ${n * 256 + bits});`, INCLUDE);
      const r = rng(n * 1000 + bits);
      for (let rep = 0; rep < 2; rep++) {
        const v = Array.from({ length: n }, () => randBits(r, bits));
        await t.expectPass({ in: v.map(String) }, { out: await packedCommit(v, bits) });
      }
    });
  }

  it('PoseidonHash(n) equals circomlibjs\'s Poseidon; a tampered S-box or output fails the constraints', async () => {
    const h = await poseidon();
    for (const n of [1, 2, 16]) {
      const t = await CircuitTester.fromSource(`poseidon_hash_${n}`, `component main = PoseidonHash(${n});`, INCLUDE);
      const r = rng(n);
      const x = Array.from({ length: n }, () => randBits(r, 200));
      const want = h(x);
      const w = await t.expectPass({ inputs: x.map(String) }, { out: want });
      expect(w.length).toBeGreaterThan(0);
      // three constraints per S-box (8 full rounds of t = n + 1, then the partial rounds) and out's
      // row, less the first S-box's square: state[0] starts as the constant C[0], so x2[0] is one
      const partial = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68][n - 1]!;
      t.expectConstraintCount(3 * (8 * (n + 1) + partial));
      await t.expectConstraintFailure({ inputs: x.map(String) }, { out: want + 1n });
      await t.expectConstraintFailure({ inputs: x.map(String) }, { 'x5[3]': t.read(w, 'x5[3]') + 1n });
      await t.expectConstraintFailure({ inputs: x.map(String) }, { 'x2[1]': 0n });
    }
  });

  it('a header binds meaning: the same integers under another scale, shape or kind commit differently', async () => {
    const v = Array.from({ length: 12 }, (_, i) => BigInt(i * 37 % 1024));
    const base = { kind: 'input', n: 12, bits: 10, name: 'x', shape: [3, 4], scale: 12, offset: '-512' };
    const iv = headerIv(base);
    expect(iv).toBeLessThan(1n << 248n);
    const t = await CircuitTester.fromSource('packed_header', `component main = PackedCommit(12, 10, ${iv});`, INCLUDE);
    const want = await packedCommit(v, 10, 'x', { iv });
    await t.expectPass({ in: v.map(String) }, { out: want });
    const others = [{ ...base, scale: 10 }, { ...base, shape: [4, 3] }, { ...base, kind: 'output' }, { ...base, offset: '0' }];
    const seen = new Set([want, await packedCommit(v, 10)]);
    for (const h of others) seen.add(await packedCommit(v, 10, 'x', { iv: headerIv(h) }));
    expect(seen.size).toBe(2 + others.length);
    // key order does not matter: the header is hashed in canonical form
    expect(headerIv({ offset: '-512', scale: 12, shape: [3, 4], name: 'x', bits: 10, n: 12, kind: 'input' })).toBe(iv);
    // a salt is one more Poseidon(commitment, salt)
    expect(await packedCommit(v, 10, 'x', { iv, salt: 5n })).toBe((await poseidon())([want, 5n]));
  });

  it('PackedCommit: a claimed commitment other than the hash fails', async () => {
    const t = await CircuitTester.fromSource('packed_40_12', 'component main = PackedCommit(40, 12, 10252);', INCLUDE);
    const v = Array.from({ length: 40 }, (_, i) => BigInt(i * 97 % 4096));
    const want = await packedCommit(v, 12);
    await t.expectPass({ in: v.map(String) }, { out: want });
    await t.expectConstraintFailure({ in: v.map(String) }, { out: want + 1n });
    await t.expectConstraintFailure({ in: v.map(String) }, { 'h[0].x5[0]': 1n });
  });

  it('SignedCommit range-checks each value and commits v + 2^(bits-1)', async () => {
    const t = await CircuitTester.fromSource('signed_6_8', 'component main = SignedCommit(6, 8, 1544);', INCLUDE);
    const v = [-128n, 127n, 0n, -1n, 5n, 100n];
    const w = await t.expectPass({ in: v.map(String) }, { out: await signedCommit(v, 8) });
    expect(w.length).toBeGreaterThan(0);
    await t.expectFail({ in: ['128', '0', '0', '0', '0', '0'] });
    await t.expectFail({ in: ['-129', '0', '0', '0', '0', '0'] });
    // A cheating prover keeps the honest bits but claims another value: the sum fails.
    await t.expectConstraintFailure({ in: v.map(String) }, { 'in[1]': 126n });
    // A non-boolean "bit" that would make 2^8 reachable is caught too.
    await t.expectConstraintFailure({ in: v.map(String) }, { 'b[0][0]': 2n });
  });

  it('MerkleRoot(4) equals the TypeScript tree for every leaf; tampered paths fail', async () => {
    const t = await CircuitTester.fromSource('merkle_4', 'component main = MerkleRoot(4);', INCLUDE);
    const r = rng(7);
    const leaves = Array.from({ length: 11 }, () => randBits(r, 250));
    const tree = await MerkleTree.build(leaves, 4);
    for (const i of [0, 5, 10]) {
      const p = tree.path(i);
      expect(await rootOf(leaves[i]!, p)).toBe(tree.root);
      const input = { leaf: String(leaves[i]), siblings: p.siblings.map(String), index: p.bits };
      await t.expectPass(input, { root: tree.root });
      // Wrong sibling, wrong position bit, wrong leaf: a different root comes out.
      const w1 = await t.witness({ ...input, siblings: [String(p.siblings[0]! + 1n), ...p.siblings.slice(1).map(String)] });
      expect(t.read(w1, 'root')).not.toBe(tree.root);
      const w2 = await t.witness({ ...input, index: p.bits.map((b, d) => (d === 2 ? 1 - b : b)) });
      expect(t.read(w2, 'root')).not.toBe(tree.root);
      // A cheating prover claims the honest root for the tampered input: constraints fail.
      await t.expectConstraintFailure(input, { leaf: leaves[i]! + 1n });
      await t.expectConstraintFailure(input, { 'index[1]': 2n });
    }
    // 11 leaves padded to 16 with zeros: the padding is part of the tree.
    expect((await MerkleTree.build(leaves, 4)).root).not.toBe((await MerkleTree.build([...leaves, 0n, 1n], 4)).root);
    expect(() => tree.path(11)).toThrow(/outside the tree's 11 leaves/);
  });
});
