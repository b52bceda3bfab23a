// npm run bench:registry — gas of the on-chain registry (verifier-contracts/ZkonnxRegistry.sol):
// deploy, registerModel, submitInference (2 and 12 public signals), registerTrainingVerifier,
// linkTraining (a chain's first link and the next one), next to a plain call of the snarkjs verifier with the same proof. Every figure is
// the gasUsed of a mined transaction's receipt (21,000 base and calldata included); the plain
// verifier call is sent with an explicit gas limit, because eth_estimateGas under-reports it
// (DESIGN.md §7). Circuits: tiny SignedCommit weights commitments (as in test/registry.test.ts).
// Prints a table and writes benchmarks/results/registry-gas.{json,md}.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, type InterfaceAbi } from 'ethers';
import { signedCommit } from '../src/commit/poseidon.js';
import { buildStandalone, proveStandalone } from '../src/commit/standalone.js';
import { packageRoot } from '../src/paths.js';
import { releaseCurves } from '../src/snark.js';
import { startAnvil } from '../src/verifier/anvil.js';
import { compileSolidity } from '../src/verifier/compile-sol.js';
import { deployRegistry, type Registry } from '../src/verifier/registry.js';
import { exportSolidityVerifier, solidityCallArgs } from '../src/verifier/solidity.js';
import type { Groth16Proof } from '../src/verifier/types.js';
import { machine, table } from './chart.js';
import { inferenceSource, standInIv, trainingStandInSource } from './registry-circuits.js';

const BITS = 8;

const inference = (n: number, xPublic: boolean) => inferenceSource(n, xPublic, BITS);
const TRAINING = trainingStandInSource(BITS);

interface Row { operation: string; publicSignals: number | ''; gas: number; note: string }

const s = (xs: bigint[]) => xs.map(String);
const work = mkdtempSync(join(tmpdir(), 'zkonnx-bench-registry-'));
const rows: Row[] = [];
const anvil = await startAnvil();
let reg: Registry | undefined;

/** Gas of a plain verifyProof transaction (explicit gas limit: estimateGas under-reports it). */
async function plainVerifierGas(r: Registry, address: string, abi: unknown[], proof: Groth16Proof, publicSignals: string[]): Promise<number> {
  const v = new Contract(address, abi as InterfaceAbi, r.wallet);
  const a = solidityCallArgs(proof, publicSignals);
  const args = [a.pA, a.pB, a.pC, a.pubSignals];
  if (!(await v.getFunction('verifyProof').staticCall(...args))) throw new Error('the proof does not verify');
  const tx = await v.getFunction('verifyProof').send(...args, { gasLimit: 2_000_000 });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error('verifyProof transaction failed');
  return Number(receipt.gasUsed);
}

try {
  // circuits and proofs (not timed)
  const cases: { n: number; nPublic: number; dir: string }[] = [];
  for (const [n, xPublic] of [[3, false], [10, true]] as const) {
    const nPublic = xPublic ? n + 2 : 2;
    const dir = join(work, `inference${nPublic}`);
    await buildStandalone({ dir, source: inference(n, xPublic), kind: 'registry bench', publicSignals: Array.from({ length: nPublic }, (_, i) => `s${i}`) });
    cases.push({ n, nPublic, dir });
  }
  const tdir = join(work, 'training');
  await buildStandalone({ dir: tdir, source: TRAINING, kind: 'registry bench', publicSignals: ['root', 'h0', 'h1', 'start'] });

  const W = [[1n, 2n, 3n], [2n, 3n, 4n], [3n, 5n, 7n]]; // a training chain W0 -> W1 -> W2
  const H = await Promise.all(W.map((w) => signedCommit(w, BITS, 'w', { iv: standInIv(3, BITS) })));

  reg = await deployRegistry({ rpc: anvil.rpcUrl });
  rows.push({ operation: 'deploy ZkonnxRegistry', publicSignals: '', gas: reg.deployment!.gasUsed, note: 'once' });

  for (const c of cases) {
    const w = Array.from({ length: c.n }, (_, i) => BigInt((i % 7) - 3));
    const x = Array.from({ length: c.n }, (_, i) => BigInt(i + 1));
    const p = await proveStandalone(c.dir, { w: s(w), x: s(x) });
    const sol = await exportSolidityVerifier(join(c.dir, 'circuit_final.zkey'));
    const v = await reg.deployVerifier(sol);
    rows.push({ operation: 'deploy Groth16Verifier (snarkjs)', publicSignals: c.nPublic, gas: v.gasUsed, note: 'once per circuit' });
    const m = await reg.registerModel({
      verifier: v.address, nPublic: c.nPublic, weightsCommitment: await signedCommit(w, BITS, 'w', { iv: standInIv(c.n, BITS) }), weightsIndex: 0,
      datasetRoot: 123n, initialWeights: H[0]!, outputStart: 1, outputCount: 1, metadataURI: 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    });
    rows.push({ operation: 'registerModel', publicSignals: c.nPublic, gas: m.gasUsed, note: 'metadata URI of 66 bytes' });
    const compiled = (await compileSolidity({ 'Groth16Verifier.sol': sol }))['Groth16Verifier.sol:Groth16Verifier']!;
    const plain = await plainVerifierGas(reg, v.address, compiled.abi, p.proof, p.publicSignals);
    rows.push({ operation: 'verifyProof, plain verifier (tx)', publicSignals: c.nPublic, gas: plain, note: 'for comparison' });
    const sub = await reg.submitInference(m.modelId, p.proof, p.publicSignals);
    rows.push({ operation: 'submitInference', publicSignals: c.nPublic, gas: sub.gasUsed, note: `+${sub.gasUsed - plain} over the plain verifier` });
  }

  const tsol = await exportSolidityVerifier(join(tdir, 'circuit_final.zkey'));
  const tv = await reg.deployVerifier(tsol);
  const t = await reg.registerTrainingVerifier(tv.address, 4, 4); // the stand-in's links are 4 samples apart
  rows.push({ operation: 'registerTrainingVerifier', publicSignals: 4, gas: t.gasUsed, note: 'once per training circuit' });
  const proofs = [];
  for (let k = 0; k < 2; k++) {
    proofs.push(await proveStandalone(tdir, { root: '123', h0: String(H[k]), h1: String(H[k + 1]), start: String(4 * k), w0: s(W[k]!), w1: s(W[k + 1]!) }));
  }
  const tcompiled = (await compileSolidity({ 'Groth16Verifier.sol': tsol }))['Groth16Verifier.sol:Groth16Verifier']!;
  rows.push({ operation: 'verifyProof, plain verifier (tx)', publicSignals: 4, gas: await plainVerifierGas(reg, tv.address, tcompiled.abi, proofs[0]!.proof, proofs[0]!.publicSignals), note: 'for comparison' });
  const l1 = await reg.linkTraining(t.trainingVerifierId, proofs[0]!.proof, proofs[0]!.publicSignals);
  rows.push({ operation: 'linkTraining (first link)', publicSignals: 4, gas: l1.gasUsed, note: 'start 0, h0 = initial weights' });
  const l2 = await reg.linkTraining(t.trainingVerifierId, proofs[1]!.proof, proofs[1]!.publicSignals, { initialWeights: H[0]! });
  rows.push({ operation: 'linkTraining (next link)', publicSignals: 4, gas: l2.gasUsed, note: 'continues (h1, start 4) of the chain' });
} finally {
  reg?.close();
  await anvil.stop();
  await releaseCurves();
  rmSync(work, { recursive: true, force: true });
}

const host = await machine();
const text = table(['operation', 'public signals', 'gas', 'note'], rows.map((r) => [r.operation, r.publicSignals, r.gas, r.note]));
const foot = 'gasUsed of mined transactions on anvil (21,000 base and calldata included); solc-js 0.8, optimizer 200 runs.';
console.log(`machine: ${host}\n${text}\n${foot}`);
const out = join(packageRoot(), 'benchmarks', 'results');
writeFileSync(join(out, 'registry-gas.json'), JSON.stringify({ date: new Date().toISOString(), machine: host, rows }, null, 2));
writeFileSync(join(out, 'registry-gas.md'), `# bench:registry\n\nMachine: ${host}\n\n\`\`\`\n${text}\n\`\`\`\n\n${foot}\n`);
