/**
 * The committed-dataset format every data command shares (`zkonnx data commit` writes it; the
 * membership and training circuits read it):
 *
 *   <dir>/manifest.json  DatasetManifest: counts, scales, bits, tree depth, root, leaf rule
 *   <dir>/samples.json   the quantized samples: { x: string[][], y: string[] } (decimal integers)
 *
 * Sample i is the leaf SignedCommit(F + 1, bits)([x_i0, …, x_i(F−1), y_i]) (circuits/commit.circom)
 * at position i of a Poseidon Merkle tree of the stated depth, padded with 0 leaves.
 */
import { existsSync } from 'node:fs';
import { readJson } from '../inputs.js';
import { join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import { MerkleTree } from './merkle.js';
import { signedCommit } from './poseidon.js';

export const DATASET_FORMAT = 'zkonnx-dataset/1';
export const LEAF_RULE = 'leaf_i = SignedCommit(F+1, bits)([x_i..., y_i]); node = Poseidon(left, right); zero leaves pad to 2^depth';

export interface DatasetManifest {
  format: typeof DATASET_FORMAT;
  name: string;
  /** Where the samples came from (file path or package). */
  source: string;
  count: number;
  /** Features per sample (F); each sample is x[F] and one label y. */
  features: number;
  /** 'class': y is a class index (scale 0); 'value': y is a real number at labelScale. */
  labels: 'class' | 'value';
  classes?: number;
  /** real ≈ q / 2^scale */
  featureScale: number;
  labelScale: number;
  /** Every x and y is a signed integer in [−2^(bits−1), 2^(bits−1)). */
  bits: number;
  depth: number;
  /** Merkle root, decimal. */
  root: string;
  leafRule: string;
}

export interface Dataset {
  manifest: DatasetManifest;
  x: bigint[][];
  y: bigint[];
}

/** The leaf of one sample. */
export function leafHash(x: readonly bigint[], y: bigint, bits: number): Promise<bigint> {
  return signedCommit([...x, y], bits, 'sample value');
}

export async function buildTree(d: Pick<Dataset, 'x' | 'y'>, bits: number, depth?: number): Promise<MerkleTree> {
  const leaves: bigint[] = [];
  for (let i = 0; i < d.x.length; i++) leaves.push(await leafHash(d.x[i]!, d.y[i]!, bits));
  return MerkleTree.build(leaves, depth);
}

/** Reads a committed dataset and checks that its samples still hash to the manifest's root. */
export async function loadDataset(dir: string): Promise<Dataset & { tree: MerkleTree }> {
  const mPath = join(dir, 'manifest.json');
  const sPath = join(dir, 'samples.json');
  for (const p of [mPath, sPath]) {
    if (!existsSync(p)) throw new ZkonnxError('ARTIFACT_MISSING', `committed dataset file not found: ${p}`, { file: p, hint: 'run `zkonnx data commit` first' });
  }
  const manifest = readJson(mPath) as DatasetManifest;
  if (manifest.format !== DATASET_FORMAT) {
    throw new ZkonnxError('INPUT_INVALID', `${mPath}: format ${JSON.stringify(manifest.format)}, expected ${DATASET_FORMAT}`, { file: mPath });
  }
  const raw = readJson(sPath) as { x?: unknown; y?: unknown };
  const int = (v: unknown, where: string): bigint => {
    if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new ZkonnxError('INPUT_INVALID', `${sPath}: ${where} is ${JSON.stringify(v)}, not a decimal integer`, { file: sPath });
    return BigInt(v);
  };
  if (!Array.isArray(raw.x) || !Array.isArray(raw.y)) throw new ZkonnxError('INPUT_INVALID', `${sPath}: expected {"x": [[...]], "y": [...]}`, { file: sPath });
  const x = raw.x.map((r: unknown, i) => {
    if (!Array.isArray(r)) throw new ZkonnxError('INPUT_INVALID', `${sPath}: x[${i}] is not a list`, { file: sPath });
    return r.map((v: unknown, j) => int(v, `x[${i}][${j}]`));
  });
  const y = raw.y.map((v: unknown, i) => int(v, `y[${i}]`));
  if (x.length !== manifest.count || y.length !== manifest.count || x.some((r) => r.length !== manifest.features)) {
    throw new ZkonnxError('INPUT_INVALID', `${sPath}: expected ${manifest.count} samples of ${manifest.features} features and one label`, { file: sPath });
  }
  const tree = await buildTree({ x, y }, manifest.bits, manifest.depth);
  if (tree.root.toString() !== manifest.root) {
    throw new ZkonnxError('INPUT_INVALID', `${sPath}: samples hash to root ${tree.root}, but the manifest says ${manifest.root}`, { file: sPath, hint: 'the samples were edited after commit; commit again' });
  }
  return { manifest, x, y, tree };
}
