/**
 * Zero-knowledge dataset membership: "I know a sample (x, y) and a Merkle path that put its leaf
 * under the public root R", for a committed dataset (src/commit/dataset-format.ts).
 *
 *   private: x[F], y, siblings[depth], index[depth]      public: root (and x, y with revealSample)
 *   leaf = SignedCommit(F+1, bits, leafIv)([x..., y])   — range-checks every value to signed `bits` bits
 *   MerkleRoot(depth)(leaf, siblings, index) === root   — index bits boolean-constrained
 *
 * leafIv is the digest of the dataset's sample header (its scales and label kind: dataset-format.ts
 * leafIv), a constant of the circuit: a circuit for one dataset's meaning proves nothing about the
 * same integers committed at another scale. One circuit per (depth, F, bits, leafIv, reveal), built
 * once and cached under build/membership/d<depth>-f<F>-b<bits>-iv<first 12 hex digits of leafIv>[-public]/
 * (src/commit/standalone.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Groth16Proof } from 'snarkjs';
import { BN254_R, fieldToSigned } from '../circom/r1cs.js';
import { ZkonnxError } from '../errors.js';
import type { Progress } from '../log.js';
import { BuildPaths, circuitsDir } from '../paths.js';
import type { ProverBackend } from '../prover/index.js';
import { checkManifest, leafHeader, leafIv, loadDataset, type DatasetManifest, type SampleMeaning } from './dataset-format.js';
import { buildStandalone, proveStandalone, readStandalone, verifyStandalone, type StandaloneInfo } from './standalone.js';

export interface MembershipShape {
  depth: number;
  /** Features per sample (F). */
  features: number;
  bits: number;
  /** The IV of every leaf: the digest of the dataset's sample header (dataset-format.ts leafIv). */
  leafIv: bigint;
  /** x and y are public inputs too. */
  reveal: boolean;
}

const KIND = 'dataset membership: a sample (x, y) whose leaf SignedCommit(F+1, bits, leafIv)([x..., y]) lies under the public Merkle root';

function checkShape(s: MembershipShape): void {
  const ok = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!ok(s.depth, 1, 32) || !ok(s.features, 1, 100_000) || !ok(s.bits, 2, 253)) {
    throw new ZkonnxError('BAD_ARGUMENT', `membership circuit: depth 1…32, features ≥ 1, bits 2…253; got depth ${s.depth}, features ${s.features}, bits ${s.bits}`);
  }
  if (typeof s.leafIv !== 'bigint' || s.leafIv < 0n || s.leafIv >= BN254_R) {
    throw new ZkonnxError('BAD_ARGUMENT', `membership circuit: leafIv must be a field element (a bigint in [0, r)), got ${String(s.leafIv)}`);
  }
}

/** The template and main component, without pragma and includes (CircuitTester adds its own). */
export function membershipTemplate(s: MembershipShape): string {
  checkShape(s);
  const pub = s.reveal ? 'root, x, y' : 'root';
  return `// ${KIND}
// Public: root${s.reveal ? ', x, y (revealSample)' : ''}. Private: ${s.reveal ? '' : 'x, y, '}siblings, index.
template DatasetMembership(depth, F, bits, leafIv) {
    // Declaration order is the public-signal order: root, then x[0..F-1], then y.
    signal input root;
    signal input x[F];
    signal input y;
    signal input siblings[depth];
    signal input index[depth];

    // The leaf, under the dataset's sample header (leafIv); SignedCommit range-checks every
    // value to [-2^(bits-1), 2^(bits-1)).
    component leaf = SignedCommit(F + 1, bits, leafIv);
    for (var i = 0; i < F; i++) leaf.in[i] <== x[i];
    leaf.in[F] <== y;

    // The path; MerkleRoot constrains every index bit to {0, 1}.
    component tree = MerkleRoot(depth);
    tree.leaf <== leaf.out;
    for (var d = 0; d < depth; d++) {
        tree.siblings[d] <== siblings[d];
        tree.index[d] <== index[d];
    }
    tree.root === root;
}

component main {public [${pub}]} = DatasetMembership(${s.depth}, ${s.features}, ${s.bits}, ${s.leafIv});
`;
}

/** The whole circuit file, as buildStandalone compiles it. */
export function membershipSource(s: MembershipShape): string {
  return `pragma circom 2.1.6;\ninclude "commit.circom";\n\n${membershipTemplate(s)}`;
}

/** Names of the public signals in snarkjs's order. */
export function membershipSignals(s: MembershipShape): string[] {
  return ['root', ...(s.reveal ? [...Array.from({ length: s.features }, (_, i) => `x[${i}]`), 'y'] : [])];
}

/**
 * build/membership/d<depth>-f<F>-b<bits>-iv<12 hex digits of leafIv>[-public] (relative to `root`,
 * default the working folder's build/): datasets at other scales get other circuits.
 */
export function membershipDir(s: MembershipShape, root = 'build'): string {
  const iv = s.leafIv.toString(16).padStart(62, '0').slice(0, 12);
  return resolve(root, 'membership', `d${s.depth}-f${s.features}-b${s.bits}-iv${iv}${s.reveal ? '-public' : ''}`);
}

/** The circuit shape of a dataset: its depth, F, bits, and the leaf IV its meaning gives (recomputed from the scales, not read). */
export function shapeOf(m: Pick<DatasetManifest, 'depth'> & SampleMeaning, reveal = false): MembershipShape {
  return { depth: m.depth, features: m.features, bits: m.bits, leafIv: leafIv(m), reveal };
}

function readManifest(dataDir: string): DatasetManifest {
  const f = join(dataDir, 'manifest.json');
  if (!existsSync(f)) throw new ZkonnxError('ARTIFACT_MISSING', `committed dataset file not found: ${f}`, { file: f, hint: 'run `zkonnx data commit` first' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(f, 'utf8'));
  } catch (cause) {
    throw new ZkonnxError('INPUT_INVALID', `${f} is not valid JSON`, { file: f, cause });
  }
  return checkManifest(raw, f);
}

/** True when `dir` holds a complete build of exactly this source with the current commit.circom. */
function cachedBuild(dir: string, s: MembershipShape): StandaloneInfo | undefined {
  const p = new BuildPaths(dir);
  try {
    if (![p.file('zkey'), p.file('vkey'), p.file('wasm'), join(dir, 'circuit.json')].every(existsSync)) return undefined;
    if (readFileSync(p.file('circuit'), 'utf8') !== membershipSource(s)) return undefined;
    if (readFileSync(join(dir, 'commit.circom'), 'utf8') !== readFileSync(join(circuitsDir(), 'commit.circom'), 'utf8')) return undefined;
    return readStandalone(dir);
  } catch {
    return undefined;
  }
}

export interface MembershipBuild {
  dir: string;
  shape: MembershipShape;
  info: StandaloneInfo;
  /** True when an existing build was reused. */
  cached: boolean;
}

/**
 * Compiles and sets up the membership circuit for a dataset's shape, or reuses the cached build.
 * Give `dataDir` (a committed dataset) or `manifest`; `dir` overrides the cache folder.
 */
export async function buildMembershipCircuit(opts: {
  dataDir?: string;
  manifest?: Pick<DatasetManifest, 'depth'> & SampleMeaning;
  reveal?: boolean;
  dir?: string;
  /** Rebuild even when a cached build exists (a new setup: old proofs stop verifying). */
  force?: boolean;
  ptau?: string;
  progress?: Progress;
}): Promise<MembershipBuild> {
  const m = opts.manifest ?? (opts.dataDir ? readManifest(opts.dataDir) : undefined);
  if (!m) throw new ZkonnxError('BAD_ARGUMENT', 'buildMembershipCircuit needs dataDir or manifest');
  const shape = shapeOf(m, opts.reveal ?? false);
  checkShape(shape);
  const dir = resolve(opts.dir ?? membershipDir(shape));
  if (!opts.force) {
    const info = cachedBuild(dir, shape);
    if (info) return { dir, shape, info, cached: true };
  }
  opts.progress?.step?.(`membership circuit d${shape.depth} f${shape.features} b${shape.bits}${shape.reveal ? ' (sample public)' : ''}`);
  const info = await buildStandalone({
    dir, source: membershipSource(shape), kind: KIND, publicSignals: membershipSignals(shape),
    params: { ...shape, leafIv: shape.leafIv.toString(), leafHeader: leafHeader(m) }, ptau: opts.ptau, progress: opts.progress,
  });
  return { dir, shape, info, cached: false };
}

const toField = (v: bigint): string => (((v % BN254_R) + BN254_R) % BN254_R).toString();

/** The circuit input for sample `index` of a loaded dataset, and the public signals it yields. */
export function membershipInput(
  d: Awaited<ReturnType<typeof loadDataset>>,
  index: number,
  reveal = false,
): { input: Record<string, string | string[]>; publicSignals: string[] } {
  const path = d.tree.path(index);
  const x = d.x[index]!.map(toField);
  const y = toField(d.y[index]!);
  return {
    input: { root: d.tree.root.toString(), x, y, siblings: path.siblings.map(String), index: path.bits.map(String) },
    publicSignals: [d.tree.root.toString(), ...(reveal ? [...x, y] : [])],
  };
}

const MEMBERSHIP_FILE = 'membership.json';

export interface MembershipProof {
  proofDir: string;
  circuitDir: string;
  root: string;
  index: number;
  reveal: boolean;
  proof: Groth16Proof;
  publicSignals: string[];
  constraints: number;
  seconds: { build: number; witness: number; prove: number };
}

/**
 * Proves that sample `index` of the committed dataset in `dataDir` is a leaf under its root.
 * Writes proof.json, public.json (snarkjs formats) and membership.json (what was proven) to outDir
 * (default build/membership/proofs/<dataset name>-<index>[-public]).
 */
export async function proveMembership(opts: {
  dataDir: string;
  index: number;
  outDir?: string;
  reveal?: boolean;
  circuitDir?: string;
  backend?: ProverBackend;
  progress?: Progress;
}): Promise<MembershipProof> {
  const reveal = opts.reveal ?? false;
  const d = await loadDataset(opts.dataDir); // re-checks samples.json against the manifest's root
  if (!Number.isInteger(opts.index) || opts.index < 0 || opts.index >= d.manifest.count) {
    throw new ZkonnxError('BAD_ARGUMENT', `sample index ${opts.index} is outside the dataset's ${d.manifest.count} samples (0…${d.manifest.count - 1})`, { file: opts.dataDir });
  }
  const t0 = performance.now();
  const build = await buildMembershipCircuit({ manifest: d.manifest, reveal, dir: opts.circuitDir, progress: opts.progress });
  const buildSeconds = (performance.now() - t0) / 1000;
  const { input, publicSignals: expected } = membershipInput(d, opts.index, reveal);
  const outDir = resolve(opts.outDir ?? join('build', 'membership', 'proofs', `${d.manifest.name}-${opts.index}${reveal ? '-public' : ''}`));
  mkdirSync(outDir, { recursive: true });
  opts.progress?.step?.(`proving membership of sample ${opts.index}`);
  const r = await proveStandalone(build.dir, input, { outDir, backend: opts.backend, progress: opts.progress });
  if (JSON.stringify(r.publicSignals) !== JSON.stringify(expected)) {
    throw new ZkonnxError('WITNESS_MISMATCH', `membership proof: public signals ${JSON.stringify(r.publicSignals.slice(0, 3))}… differ from the expected ${JSON.stringify(expected.slice(0, 3))}…`);
  }
  writeFileSync(join(outDir, MEMBERSHIP_FILE), JSON.stringify({
    statement: KIND, dataset: d.manifest.name, root: d.manifest.root, leafHeader: d.manifest.leafHeader, leafIv: d.manifest.leafIv, reveal, circuitDir: build.dir,
    publicSignals: membershipSignals(build.shape), ...(reveal ? { index: opts.index } : {}),
  }, null, 1));
  return {
    proofDir: outDir, circuitDir: build.dir, root: d.manifest.root, index: opts.index, reveal,
    proof: r.proof, publicSignals: r.publicSignals, constraints: build.info.constraints,
    seconds: { build: buildSeconds, witness: r.seconds.witness, prove: r.seconds.prove },
  };
}

export interface MembershipVerdict {
  verified: boolean;
  /** Why it failed, when it did. */
  reason?: string;
  root: string;
  reveal: boolean;
  /** The revealed sample (signed integers), for proofs made with revealSample. */
  sample?: { x: string[]; y: string };
  circuitDir: string;
}

/**
 * Verifies a membership proof (proofDir/proof.json + public.json) against the dataset in
 * `dataDir`: the proof's public root must be the manifest's root, and the Groth16 proof must
 * verify with the verification key of the circuit for the dataset's shape (the cached build, or
 * `circuitDir`). Nothing in the proof folder but proof.json and public.json is trusted.
 */
export async function verifyMembership(opts: { dataDir: string; proofDir: string; circuitDir?: string }): Promise<MembershipVerdict> {
  const m = readManifest(opts.dataDir);
  const read = <T>(f: string): T => {
    const p = join(opts.proofDir, f);
    if (!existsSync(p)) throw new ZkonnxError('ARTIFACT_MISSING', `${p} does not exist`, { file: p, hint: 'run `zkonnx data prove-membership` first' });
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch (cause) {
      throw new ZkonnxError('INPUT_INVALID', `${p} is not valid JSON`, { file: p, cause });
    }
  };
  const proof = read<Groth16Proof>('proof.json');
  const pub = read<unknown>('public.json');
  if (!Array.isArray(pub) || !pub.every((s) => typeof s === 'string' && /^\d+$/.test(s))) {
    throw new ZkonnxError('INPUT_INVALID', `${join(opts.proofDir, 'public.json')}: expected an array of decimal strings`);
  }
  const signals = pub as string[];
  // The shape of the proof: 1 public signal (root), or 1 + F + 1 (root, x, y).
  const reveal = signals.length === m.features + 2;
  const shape = shapeOf(m, reveal);
  const circuitDir = resolve(opts.circuitDir ?? membershipDir(shape));
  const verdict = (verified: boolean, reason?: string): MembershipVerdict => ({
    verified, ...(reason ? { reason } : {}), root: m.root, reveal, circuitDir,
    ...(reveal && verified ? { sample: { x: signals.slice(1, 1 + m.features).map((s) => fieldToSigned(BigInt(s), BN254_R).toString()), y: fieldToSigned(BigInt(signals[m.features + 1]!), BN254_R).toString() } } : {}),
  });
  if (signals.length !== 1 && !reveal) return verdict(false, `public.json has ${signals.length} signals; a membership proof for ${m.features} features has 1 (root) or ${m.features + 2} (root, x, y)`);
  if (signals[0] !== m.root) return verdict(false, `the proof's root ${signals[0]} is not the dataset's root ${m.root}`);
  if (!existsSync(new BuildPaths(circuitDir).file('vkey'))) {
    throw new ZkonnxError('ARTIFACT_MISSING', `no membership circuit build in ${circuitDir}`, {
      file: circuitDir, hint: 'verify with the verification key the proof was made for: the build folder of `data prove-membership`',
    });
  }
  // A build for another leaf header (the same shape at other scales) is not this dataset's circuit.
  const built = existsSync(join(circuitDir, 'circuit.json')) ? readStandalone(circuitDir).params : undefined;
  if (built && built.leafIv !== undefined && built.leafIv !== shape.leafIv.toString()) {
    return verdict(false, `the circuit in ${circuitDir} hashes leaves under IV ${String(built.leafIv)}, the dataset's leaf header gives ${shape.leafIv}`);
  }
  const ok = await verifyStandalone(circuitDir, proof, signals);
  return verdict(ok, ok ? undefined : 'the Groth16 proof does not verify');
}
