/**
 * Poseidon Merkle trees, equal to circuits/commit.circom's MerkleRoot: node = Poseidon(left,
 * right), leaves padded with 0 up to 2^depth, path bits least significant first.
 */
import { ZkonnxError } from '../errors.js';
import { poseidon, type Hasher } from './poseidon.js';

export interface MerklePath {
  /** Leaf position. */
  index: number;
  /** Sibling at each level, bottom first. */
  siblings: bigint[];
  /** Position bits, bottom first (1: the running node is the right child). */
  bits: number[];
}

export class MerkleTree {
  private constructor(
    readonly depth: number,
    /** levels[0] = the leaves, levels[depth] = [root]; each level holds its filled prefix only. */
    private readonly levels: bigint[][],
    readonly size: number,
    private readonly zeros: bigint[],
  ) {}

  /** A tree of the given depth (default: the smallest that holds every leaf, at least 1). */
  static async build(leaves: readonly bigint[], depth?: number): Promise<MerkleTree> {
    const need = Math.max(1, Math.ceil(Math.log2(Math.max(1, leaves.length))));
    const d = depth ?? need;
    if (!Number.isInteger(d) || d < 1 || d > 32) throw new ZkonnxError('BAD_ARGUMENT', `Merkle depth must be 1…32, got ${d}`);
    if (leaves.length > 2 ** d) throw new ZkonnxError('BAD_ARGUMENT', `${leaves.length} leaves do not fit a tree of depth ${d} (at most ${2 ** d})`);
    const h: Hasher = await poseidon();
    // only the filled prefix of each level is stored; past it every node is the root of an
    // all-zero subtree of that height (zeros[l]), computed once
    const zeros = [0n];
    for (let l = 0; l < d; l++) zeros.push(h([zeros[l]!, zeros[l]!]));
    const levels: bigint[][] = [[...leaves]];
    for (let l = 0; l < d; l++) {
      const below = levels[l]!;
      const up: bigint[] = new Array(Math.max(1, Math.ceil(below.length / 2)));
      for (let i = 0; i < up.length; i++) up[i] = h([below[2 * i] ?? zeros[l]!, below[2 * i + 1] ?? zeros[l]!]);
      levels.push(up);
    }
    return new MerkleTree(d, levels, leaves.length, zeros);
  }

  get root(): bigint {
    return this.levels[this.depth]![0]!;
  }

  leaf(i: number): bigint {
    this.check(i);
    return this.levels[0]![i]!;
  }

  path(i: number): MerklePath {
    this.check(i);
    const siblings: bigint[] = [];
    const bits: number[] = [];
    for (let l = 0, j = i; l < this.depth; l++, j >>= 1) {
      siblings.push(this.levels[l]![j ^ 1] ?? this.zeros[l]!);
      bits.push(j & 1);
    }
    return { index: i, siblings, bits };
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new ZkonnxError('BAD_ARGUMENT', `leaf index ${i} is outside the tree's ${this.size} leaves`);
  }
}

/** The root MerkleRoot computes from a leaf and its path. */
export async function rootOf(leaf: bigint, path: Pick<MerklePath, 'siblings' | 'bits'>): Promise<bigint> {
  const h = await poseidon();
  let cur = leaf;
  path.siblings.forEach((s, d) => {
    cur = path.bits[d] ? h([s, cur]) : h([cur, s]);
  });
  return cur;
}
