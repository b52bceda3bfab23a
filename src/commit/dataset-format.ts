/**
 * The committed-dataset format every data command shares (`zkonnx data commit` writes it; the
 * membership and training circuits read it):
 *
 *   <dir>/manifest.json  DatasetManifest: counts, scales, bits, tree depth, root, leaf rule and header
 *   <dir>/samples.json   the quantized samples: { x: string[][], y: string[] } (decimal integers)
 *
 * Sample i is the leaf SignedCommit(F + 1, bits, iv)([x_i0, …, x_i(F−1), y_i]) (circuits/commit.circom)
 * at position i of a Poseidon Merkle tree of the stated depth, padded with 0 leaves. The IV is the
 * digest of the sample header (src/commit/headers.ts sampleHeader: F, bits, the feature and label
 * scales, the label kind), so the same integers read at another scale give another root.
 */
import { existsSync } from 'node:fs';
import { readJson } from '../inputs.js';
import { join } from 'node:path';
import { ZkonnxError } from '../errors.js';
import { sampleHeader } from './headers.js';
import { MerkleTree } from './merkle.js';
import { headerIv, signedCommit, type CommitHeader } from './poseidon.js';

export const DATASET_FORMAT = 'zkonnx-dataset/2';
export const LEAF_RULE = 'leaf_i = SignedCommit(F+1, bits, iv)([x_i..., y_i]), iv = headerIv(leafHeader) (sampleHeader: features, bits, featureScale, labelScale, labels); node = Poseidon(left, right); zero leaves pad to 2^depth';

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
  /** What a leaf's integers mean: sampleHeader of the fields above (recomputed and checked on read). */
  leafHeader: CommitHeader;
  /** headerIv(leafHeader), decimal: the IV of every leaf's SignedCommit and of the membership circuit. */
  leafIv: string;
}

/** The fields of a manifest that give a leaf's integers their meaning (the sample header's). */
export type SampleMeaning = Pick<DatasetManifest, 'features' | 'bits' | 'featureScale' | 'labelScale' | 'labels'>;

/** The header every leaf of a dataset with this meaning commits under. */
export function leafHeader(m: SampleMeaning): CommitHeader {
  return sampleHeader({ features: m.features, bits: m.bits, featureScale: m.featureScale, labelScale: m.labelScale, labels: m.labels });
}

/** The IV of every leaf: headerIv(leafHeader(m)). */
export function leafIv(m: SampleMeaning): bigint {
  return headerIv(leafHeader(m));
}

/** The manifest fields that record the leaf header: { leafHeader, leafIv } (leafIv decimal). */
export function leafFields(m: SampleMeaning): Pick<DatasetManifest, 'leafHeader' | 'leafIv'> {
  const h = leafHeader(m);
  return { leafHeader: h, leafIv: headerIv(h).toString() };
}

function leafOf(x: readonly bigint[], y: bigint, m: SampleMeaning, iv: bigint, at = ''): Promise<bigint> {
  if (x.length !== m.features) throw new ZkonnxError('INPUT_INVALID', `sample${at}: ${x.length} features, the dataset has ${m.features}`);
  return signedCommit([...x, y], m.bits, `sample${at} value`, { iv });
}

/** The leaf of one sample of a dataset with meaning `m` (its features, bits, scales and label kind). */
export function leafHash(x: readonly bigint[], y: bigint, m: SampleMeaning): Promise<bigint> {
  return leafOf(x, y, m, leafIv(m));
}

/** The Merkle tree of a dataset's samples under meaning `m` (the leaf header's fields). */
export async function buildTree(d: Pick<Dataset, 'x' | 'y'>, m: SampleMeaning, depth?: number): Promise<MerkleTree> {
  const iv = leafIv(m);
  const leaves: bigint[] = [];
  for (let i = 0; i < d.x.length; i++) leaves.push(await leafOf(d.x[i]!, d.y[i]!, m, iv, ` ${i}`));
  return MerkleTree.build(leaves, depth);
}

export interface Dataset {
  manifest: DatasetManifest;
  x: bigint[][];
  y: bigint[];
}

/**
 * Checks a manifest's format and that its recorded leaf header and IV are the ones its fields
 * give (a header that disagrees with the scales is an edited manifest). Returns it typed.
 */
export function checkManifest(raw: unknown, file: string): DatasetManifest {
  const format: unknown = (raw as { format?: unknown } | null)?.format;
  if (format !== DATASET_FORMAT) {
    const old = format === 'zkonnx-dataset/1';
    throw new ZkonnxError('INPUT_INVALID', old
      ? `${file}: format ${format}, whose root binds the integers but not their scales; this version reads ${DATASET_FORMAT}`
      : `${file}: format ${JSON.stringify(format)}, expected ${DATASET_FORMAT}`, {
      file, ...(old ? { hint: 'commit the dataset again (`zkonnx data commit`): the root changes, so proofs and registrations made for the old root must be made again' } : {}),
    });
  }
  const m = raw as DatasetManifest;
  for (const [k, ok] of [['features', Number.isInteger(m.features) && m.features >= 1], ['bits', Number.isInteger(m.bits) && m.bits >= 2 && m.bits <= 253],
    ['featureScale', Number.isInteger(m.featureScale)], ['labelScale', Number.isInteger(m.labelScale)], ['labels', m.labels === 'class' || m.labels === 'value']] as const) {
    if (!ok) throw new ZkonnxError('INPUT_INVALID', `${file}: ${k} is ${JSON.stringify(m[k])}`, { file });
  }
  const want = leafFields(m);
  if (m.leafIv !== want.leafIv || !sameJson(m.leafHeader, want.leafHeader)) {
    throw new ZkonnxError('INPUT_INVALID', `${file}: the leaf header (leafHeader, leafIv) does not match the manifest's features, bits, scales and labels`, {
      file, hint: 'the manifest was edited after commit; commit again',
    });
  }
  return m;
}

const canon = (x: unknown): string => (Array.isArray(x) ? `[${x.map(canon).join(',')}]`
  : x && typeof x === 'object' ? `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canon((x as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(x));
const sameJson = (a: unknown, b: unknown): boolean => canon(a) === canon(b);

/** Reads a committed dataset and checks that its samples, under its leaf header, still hash to the manifest's root. */
export async function loadDataset(dir: string): Promise<Dataset & { tree: MerkleTree }> {
  const mPath = join(dir, 'manifest.json');
  const sPath = join(dir, 'samples.json');
  for (const p of [mPath, sPath]) {
    if (!existsSync(p)) throw new ZkonnxError('ARTIFACT_MISSING', `committed dataset file not found: ${p}`, { file: p, hint: 'run `zkonnx data commit` first' });
  }
  const manifest = checkManifest(readJson(mPath), mPath);
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
  const tree = await buildTree({ x, y }, manifest, manifest.depth);
  if (tree.root.toString() !== manifest.root) {
    throw new ZkonnxError('INPUT_INVALID', `${sPath}: samples hash to root ${tree.root}, but the manifest says ${manifest.root}`, { file: sPath, hint: 'the samples (or the manifest\'s scales) were edited after commit; commit again' });
  }
  return { manifest, x, y, tree };
}
