// End to end on the conformance models of issue 2 and the bundled MNIST model: compile, setup,
// prove, verify off-chain and on anvil; circuit output == integer executor, exactly; dequantized
// output within tolerance of onnxruntime-web; tampered proofs and public signals rejected.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BN254_R } from '../src/circom/r1cs.js';
import { compile, prove, readSettings, setup, verify, verifyOnChain, type ProveResult } from '../src/api.js';
import { loadSample } from '../src/inputs.js';
import { quantGraphFromJson, quantGraphToJson } from '../src/ir/serialize.js';
import { BuildPaths } from '../src/paths.js';
import { execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { groth16Problem, proofPointsProblem, verifyGroth16 } from '../src/verify-proof.js';
import { twistPoint } from './helpers/twist-point.js';
import { startAnvil } from '../src/verifier/anvil.js';
import { conformanceInput, conformanceModel, hasConformance } from './helpers/conformance.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const P = BN254_R;
const readJsonFile = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const signed = (s: string) => { const x = BigInt(s); return x > P / 2n ? x - P : x; };

const MODELS = ['1l_relu', '1l_mlp', '2l_relu_fc', '2l_relu_small', '1l_flatten', '1l_reshape', '1l_identity', 'linear_regression'];
const root = mkdtempSync(join(tmpdir(), 'zkonnx-e2e-'));
let anvil: Awaited<ReturnType<typeof startAnvil>>;

beforeAll(async () => { anvil = await startAnvil(); });
afterAll(async () => { await anvil?.stop(); await releaseCurves(); });

/** The checks every model must pass; returns the proof for tampering tests. */
async function endToEnd(model: string, input: string, calibration?: string): Promise<{ buildDir: string; proof: ProveResult }> {
  const buildDir = join(root, model.split('/').slice(-2, -1)[0]!);
  await compile({ model, outDir: buildDir, input, calibration });
  await setup({ buildDir });
  const p = await prove({ buildDir, input });

  // exactness: the circuit's public outputs are the executor's integers
  const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
  const q = execQuant(qg, quantizeInputs(qg, loadSample(input)));
  expect(p.publicSignals.map(signed)).toEqual(q.outputs.flat());

  // accuracy against onnxruntime-web
  const ref = p.reference!;
  const maxRef = Math.max(...ref.values.flat().map(Math.abs));
  expect(ref.maxAbsError).toBeLessThanOrEqual(Math.max(1e-2, 0.01 * maxRef));

  expect(await verify({ buildDir })).toBe(true);
  const onchain = await verifyOnChain({ buildDir, rpc: anvil.rpcUrl });
  expect(onchain.verified).toBe(true);
  expect(onchain.gasUsed).toBeGreaterThan(150_000);
  return { buildDir, proof: p };
}

describe.skipIf(!hasConformance)('conformance models, end to end', () => {
  for (const m of MODELS) {
    it(m, async () => { await endToEnd(conformanceModel(m), conformanceInput(m)); }, 180_000);
  }
});

describe('bundled MNIST model, end to end, and tampering', () => {
  const dir = join(__dirname, '..', 'models', 'mnist-mlp');
  let buildDir: string;
  let proof: ProveResult;

  beforeAll(async () => {
    ({ buildDir, proof } = await endToEnd(join(dir, 'model.onnx'), join(dir, 'input.json'), join(dir, 'calibration.json')));
  }, 900_000);

  it('predicts the labelled digit', () => {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    const logits = proof.outputs[0]!.values;
    expect(logits.indexOf(Math.max(...logits))).toBe(meta.input_json.label);
    expect(readSettings(buildDir).accuracy.maxAbsError).toBeLessThan(readSettings(buildDir).accuracy.tolerance);
  });

  it('rejects a tampered proof off-chain and on-chain', async () => {
    const bad = structuredClone(proof.proof);
    bad.pi_a[0] = (BigInt(bad.pi_a[0]!) + 1n).toString();
    expect(await verify({ buildDir, proof: bad, publicSignals: proof.publicSignals })).toBe(false);
    expect((await verifyOnChain({ buildDir, proof: bad, publicSignals: proof.publicSignals, rpc: anvil.rpcUrl })).verified).toBe(false);
    const swapped = structuredClone(proof.proof);
    swapped.pi_c = proof.proof.pi_a; // a valid curve point, the wrong one
    expect(await verify({ buildDir, proof: swapped, publicSignals: proof.publicSignals })).toBe(false);
  }, 120_000);

  it('refuses off-chain what the EVM refuses: a coordinate written as x + q (snarkjs reads it mod q), a B outside G2, a public signal list one short', async () => {
    const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
    for (const at of [0, 1]) {
      const wide = structuredClone(proof.proof);
      wide.pi_a[at] = (BigInt(wide.pi_a[at]!) + Q).toString(); // the same point to snarkjs
      expect(await snarkjs.groth16.verify(readJsonFile(new BuildPaths(buildDir).file('vkey')), proof.publicSignals, wide)).toBe(true);
      expect(await proofPointsProblem(wide)).toBe('pi_a has a coordinate that is not an integer below q');
      expect(await verify({ buildDir, proof: wide, publicSignals: proof.publicSignals })).toBe(false);
      expect((await verifyOnChain({ buildDir, proof: wide, publicSignals: proof.publicSignals, rpc: anvil.rpcUrl })).verified).toBe(false);
    }
    const curve: any = await snarkjs.curves.getCurveFromName('bn128');
    const twisted = structuredClone(proof.proof);
    twisted.pi_b = curve.G2.toObject(curve.G2.toAffine(await twistPoint())).map((c: bigint[]) => c.map(String));
    expect(await proofPointsProblem(twisted)).toBe('pi_b is on the twist but not in G2 (r·B ≠ 0)');
    expect(await verify({ buildDir, proof: twisted, publicSignals: proof.publicSignals })).toBe(false);
    expect((await verifyOnChain({ buildDir, proof: twisted, publicSignals: proof.publicSignals, rpc: anvil.rpcUrl })).verified).toBe(false);
    const projective = structuredClone(proof.proof);
    projective.pi_c[2] = '2';
    expect(await proofPointsProblem(projective)).toMatch(/pi_c is not affine/);
    expect(await proofPointsProblem(proof.proof)).toBeUndefined();
    // a statement with one more public signal, which is 0: snarkjs verifies the list one short
    const vk = readJsonFile(new BuildPaths(buildDir).file('vkey'));
    const longer = { ...vk, nPublic: vk.nPublic + 1, IC: [...vk.IC, vk.IC[1]] };
    expect(await snarkjs.groth16.verify(longer, proof.publicSignals, proof.proof)).toBe(true);
    expect(await verifyGroth16(longer, proof.publicSignals, proof.proof)).toBe(false);
    expect(await groth16Problem(longer, proof.publicSignals, proof.proof)).toBe(`${vk.nPublic} public signals, the key takes ${vk.nPublic + 1}`);
    expect(await verifyGroth16(longer, [...proof.publicSignals, '0'], proof.proof)).toBe(true);
  }, 120_000);

  it('rejects a tampered public signal (another predicted logit) off-chain and on-chain', async () => {
    const pub = [...proof.publicSignals];
    pub[0] = (BigInt(pub[0]!) + 1n).toString();
    expect(await verify({ buildDir, proof: proof.proof, publicSignals: pub })).toBe(false);
    expect((await verifyOnChain({ buildDir, proof: proof.proof, publicSignals: pub, rpc: anvil.rpcUrl })).verified).toBe(false);
    // the same value shifted by the field modulus is not accepted either
    const wrapped = [...proof.publicSignals];
    wrapped[1] = (BigInt(wrapped[1]!) + P).toString();
    expect((await verifyOnChain({ buildDir, proof: proof.proof, publicSignals: wrapped, rpc: anvil.rpcUrl })).verified).toBe(false);
  }, 120_000);
});

describe.skipIf(!hasConformance)('visibility and exactness guards', () => {
  it('output private, input public: public signals are the input only; verifies off-chain and on-chain', async () => {
    const buildDir = join(root, 'mlp-private-out');
    const input = conformanceInput('1l_mlp');
    await compile({ model: conformanceModel('1l_mlp'), outDir: buildDir, input, visibility: { input: 'public', output: 'private' } });
    await setup({ buildDir });
    const p = await prove({ buildDir, input });
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(buildDir).file('qgraph'), 'utf8'));
    expect(p.publicSignals.map(signed)).toEqual(quantizeInputs(qg, loadSample(input)).flat());
    expect(p.outputs[0]!.raw).toHaveLength(4); // the output is still computed and reported to the prover
    expect(await verify({ buildDir })).toBe(true);
    expect((await verifyOnChain({ buildDir, rpc: anvil.rpcUrl })).verified).toBe(true);
  }, 180_000);

  it('refuses to prove when the circuit and the integer executor disagree (a stale build)', async () => {
    const buildDir = join(root, 'mlp-stale');
    const input = conformanceInput('1l_mlp');
    await compile({ model: conformanceModel('1l_mlp'), outDir: buildDir, input });
    await setup({ buildDir });
    const file = new BuildPaths(buildDir).file('qgraph');
    const qg = quantGraphFromJson(readFileSync(file, 'utf8'));
    qg.acts[0]!.args.bias[1]! += 1n << BigInt(qg.acts[0]!.shift); // the executor now computes q + 1 there
    writeFileSync(file, quantGraphToJson(qg));
    await expect(prove({ buildDir, input })).rejects.toMatchObject({ code: 'WITNESS_MISMATCH' });
    expect(existsSync(new BuildPaths(buildDir).proofFile('default', 'proof'))).toBe(false);
  }, 180_000);
});
